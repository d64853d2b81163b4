//! Replays every input in testdata/regressions/capture_reader/ (each once made the
//! `capture_reader` fuzz target fail, or stands guard for it) through the
//! target's own checks; a missing or empty folder fails.

#[path = "../../../fuzz/checks/capture_reader.rs"]
mod check;

#[test]
fn capture_reader_regressions_pass() {
    tlsclose_testkit::regressions::replay("capture_reader", check::check);
}
