//! See fuzz/checks/deframer_split.rs.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/deframer_split.rs"]
mod check;

fuzz_target!(|data: &[u8]| check::check(data));
