//! Replays every input in testdata/regressions/keylog/ (each once made the
//! `keylog` fuzz target fail, or stands guard for it) through the
//! target's own checks; a missing or empty folder fails.

#[path = "../../../fuzz/checks/keylog.rs"]
mod check;

#[test]
fn keylog_regressions_pass() {
    tlsclose_testkit::regressions::replay("keylog", check::check);
}
