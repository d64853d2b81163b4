//! Replays every input in testdata/regressions/pipeline/ (each once made the
//! `pipeline` fuzz target fail, or stands guard for it) through the
//! target's own checks; a missing or empty folder fails.

#[path = "../../../fuzz/checks/pipeline.rs"]
mod check;

#[test]
fn pipeline_regressions_pass() {
    tlsclose_testkit::regressions::replay("pipeline", check::check);
}
