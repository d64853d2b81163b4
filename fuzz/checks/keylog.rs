//! The key-log parser: arbitrary bytes as a key log file (any bytes, a
//! line that is not UTF-8 included) and as the data of a pcapng
//! Decryption Secrets Block. A key log is untrusted input: no panic, and
//! the warnings stay bounded whatever the lines.
//!
//! Shared by the fuzz target (fuzz/fuzz_targets/) and the regression test
//! that replays testdata/regressions/keylog/ under `cargo test`.
use tlsclose_decrypt::{KeyLog, DSB_TLS_KEY_LOG};

/// Panics when the input breaks a property (see the module docs).
pub fn check(data: &[u8]) {
    let mut log = KeyLog::new();
    let warnings = log.add_bytes(data, "fuzz");
    let lines = data.split(|&b| b == b'\n').count();
    // a secret line adds at most one connection
    assert!(
        log.len() <= lines,
        "{} connections from {lines} lines",
        log.len()
    );
    // warnings are capped per source: 100 lines named, a count of the
    // rest, one per unused label (3) — never one per line of a long file
    assert!(warnings.len() <= 104, "{} warnings", warnings.len());
    for w in &warnings {
        assert!(!w.to_string().is_empty());
    }

    // text that is UTF-8 reads the same through parse()
    if let Ok(text) = std::str::from_utf8(data) {
        let (parsed, again) = KeyLog::parse(text, "fuzz");
        assert_eq!(parsed.len(), log.len());
        assert_eq!(again.len(), warnings.len());
    }

    // the same bytes in a Decryption Secrets Block padded with NULs: the
    // padding is not read
    if data.last() != Some(&0) {
        let mut padded = data.to_vec();
        padded.extend_from_slice(&[0; 3]);
        let mut dsb = KeyLog::new();
        let dsb_warnings = dsb.add_dsb(DSB_TLS_KEY_LOG, &padded, "fuzz");
        assert_eq!(dsb.len(), log.len());
        assert_eq!(dsb_warnings.len(), warnings.len());
    }
    // a block of another type is one warning, whatever its data
    let mut other = KeyLog::new();
    assert_eq!(other.add_dsb(0x5753_4b4c, data, "fuzz").len(), 1);
    assert!(other.is_empty());

    // merging into an empty log keeps every connection
    let mut merged = KeyLog::new();
    merged.merge(&log);
    assert_eq!(merged.len(), log.len());
    // lookups by any 32 bytes of the input do not panic
    if let Some(random) = data.get(..32).and_then(|b| <[u8; 32]>::try_from(b).ok()) {
        let _ = log.lookup(&random);
    }
    let _ = log.lookup_rsa(data);
}
