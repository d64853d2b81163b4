//! Replays every input in testdata/regressions/deframer_split/ (each once made the
//! `deframer_split` fuzz target fail, or stands guard for it) through the
//! target's own checks; a missing or empty folder fails.

#[path = "../../../fuzz/checks/deframer_split.rs"]
mod check;

#[test]
fn deframer_split_regressions_pass() {
    tlsclose_testkit::regressions::replay("deframer_split", check::check);
}
