//! See fuzz/checks/keyed_pipeline.rs.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/keyed_pipeline.rs"]
mod check;

fuzz_target!(|data: &[u8]| check::check(data));
