//! See fuzz/checks/keylog.rs.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/keylog.rs"]
mod check;

fuzz_target!(|data: &[u8]| check::check(data));
