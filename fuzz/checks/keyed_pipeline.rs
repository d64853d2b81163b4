//! The whole pipeline with keys: the input is a key log and a capture
//! (the first 2 bytes, little-endian, give the key log's length; the
//! capture is the rest), and flows whose secrets the key log (or a
//! Decryption Secrets Block of the capture) holds are decrypted. The same
//! properties as the `pipeline` target hold, under the same small limits.
//!
//! Shared by the fuzz target (fuzz/fuzz_targets/) and the regression test
//! that replays testdata/regressions/keyed_pipeline/ under `cargo test`.
use tlsclose_analysis::KeyStore;
use tlsclose_decrypt::KeyLog;

#[path = "pipeline.rs"]
mod pipeline;

/// Splits `data` into a key log and a capture: None when shorter than
/// the 2-byte length.
pub fn split(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, rest) = data.split_first_chunk::<2>()?;
    let len = usize::from(u16::from_le_bytes(*len)).min(rest.len());
    Some(rest.split_at(len))
}

/// Panics when the input breaks a property (see the module docs).
pub fn check(data: &[u8]) {
    run(data);
}

/// [`check`], returning how many flows were decrypted.
pub fn run(data: &[u8]) -> u64 {
    let Some((keylog, capture)) = split(data) else {
        return 0;
    };
    let mut log = KeyLog::new();
    let _ = log.add_bytes(keylog, "fuzz");
    pipeline::run(capture, Some(KeyStore::new(log)))
}
