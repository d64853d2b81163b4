//! Replays every input in testdata/regressions/keyed_pipeline/ (each once
//! made the `keyed_pipeline` fuzz target fail, or stands guard for it)
//! through the target's own checks; a missing or empty folder fails. (A
//! file of its own: the target's checks include `pipeline`'s, which
//! fuzz_regressions.rs loads too.)

#[path = "../../../fuzz/checks/keyed_pipeline.rs"]
mod keyed;

#[test]
fn keyed_pipeline_regressions_pass() {
    tlsclose_testkit::regressions::replay("keyed_pipeline", keyed::check);
}

/// The guard input reaches decryption: its key log opens the connection's
/// records (so the fuzzer, seeded the same way, starts past the keys);
/// without its key log the same capture decrypts nothing.
#[test]
fn keyed_pipeline_guard_decrypts() {
    let path = tlsclose_testkit::paths::testdata()
        .join("regressions/keyed_pipeline/curl-h1-nginx-tls13-with-keys.bin");
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(keyed::run(&data), 1);
    let (_, capture) = keyed::split(&data).unwrap_or_else(|| panic!("too short"));
    assert_eq!(keyed::run(&[&[0, 0][..], capture].concat()), 0);
    // the secrets in a capture's Decryption Secrets Block are read too
    let path = tlsclose_testkit::paths::testdata()
        .join("regressions/keyed_pipeline/fmt-pcapng-dsb-no-key-log.bin");
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(keyed::run(&data), 1);
}
