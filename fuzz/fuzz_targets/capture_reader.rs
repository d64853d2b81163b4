//! See fuzz/checks/capture_reader.rs.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/capture_reader.rs"]
mod check;

fuzz_target!(|data: &[u8]| check::check(data));
