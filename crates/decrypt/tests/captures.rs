//! Decryption of real captures with their real key logs: every cipher
//! suite family of the testdata corpus (`testdata/<case>/capture.pcap` +
//! `sslkeys.log`, expectations in `expected-keys.jsonl`), the extra OpenSSL
//! fixtures of `tests/data/` (MAC-then-encrypt, TLS 1.0 and 1.1; made by
//! `tests/data/make.sh`), a key log embedded as a pcapng Decryption
//! Secrets Block, wrong key logs, garbage lines, and records lost in a gap.
mod common;

use common::*;
use std::collections::BTreeMap;
use std::path::Path;
use tlsclose_decrypt::{
    KeyLog, KeyLogProblem, RecordDecrypter, RecordError, SessionInfo, Side, DSB_TLS_KEY_LOG,
};
use tlsclose_testkit::cli::expected_flows;
use tlsclose_testkit::paths::{cases_with, name_of};
use tlsclose_testkit::verdicts::keyed;
use tlsclose_tls::{ContentType, ProtocolVersion};

fn keylog_of(case: &str) -> KeyLog {
    let (log, warnings) = KeyLog::from_file(testdata(case).join("sslkeys.log")).expect("key log");
    assert!(warnings.is_empty(), "{case}: {warnings:?}");
    log
}

/// The single TLS connection of a case.
fn only_conn(path: &Path) -> Conn {
    let (mut conns, _) = read_capture(path);
    conns.retain(|c| !c.client.is_empty() || !c.server.is_empty());
    assert_eq!(conns.len(), 1, "{}", path.display());
    conns.remove(0)
}

fn app_data(side: &[(u64, Out)]) -> Vec<u8> {
    side.iter()
        .filter_map(|(_, o)| match o {
            Out::Read {
                content_type,
                data,
                encrypted: true,
                ..
            } if *content_type == ContentType::APPLICATION_DATA => Some(data.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

fn encrypted_types(side: &[(u64, Out)]) -> Vec<ContentType> {
    side.iter()
        .filter_map(|(_, o)| match o {
            Out::Read {
                content_type,
                encrypted: true,
                ..
            } => Some(*content_type),
            _ => None,
        })
        .collect()
}

/// (case, version, cipher suite, encrypt_then_mac) for each family.
const FAMILIES: &[(&str, u16, u16, bool)] = &[
    ("ossl-tls12-aes128-gcm", 0x0303, 0xc02b, false),
    ("ossl-tls12-aes256-gcm", 0x0303, 0xc02c, false),
    ("ossl-tls12-rsa-aes256-gcm", 0x0303, 0xc030, false),
    ("ossl-tls12-rsa-kx-aes128-gcm", 0x0303, 0x009c, false),
    ("ossl-tls12-chacha20", 0x0303, 0xcca9, false),
    ("ossl-tls12-dhe-rsa-chacha20", 0x0303, 0xccaa, false),
    ("ossl-tls12-aes128-ccm", 0x0303, 0xc0ac, false),
    ("ossl-tls12-aes128-ccm8", 0x0303, 0xc0ae, false),
    ("ossl-tls12-aes128-cbc-sha", 0x0303, 0xc009, true),
    ("ossl-tls12-rsa-aes128-cbc-sha", 0x0303, 0xc013, true),
    ("ossl-tls12-aes128-cbc-sha256", 0x0303, 0xc023, true),
    ("ossl-tls12-aes256-cbc-sha384", 0x0303, 0xc024, true),
    ("ossl-tls13-aes128-gcm", 0x0304, 0x1301, false),
    ("ossl-tls13-aes256-gcm", 0x0304, 0x1302, false),
    ("ossl-tls13-chacha20", 0x0304, 0x1303, false),
    ("ossl-tls13-aes128-ccm", 0x0304, 0x1304, false),
    ("ossl-tls13-aes128-ccm8", 0x0304, 0x1305, false),
];

#[test]
fn every_cipher_family_decrypts_to_the_expected_alerts() {
    for &(case, version, suite, etm) in FAMILIES {
        let conn = only_conn(&capture_of(case));
        let d = decrypt_conn(&conn, &keylog_of(case)).unwrap_or_else(|e| panic!("{case}: {e}"));
        assert_eq!(d.session.version, ProtocolVersion(version), "{case}");
        assert_eq!(d.session.cipher_suite.0, suite, "{case}");
        assert_eq!(d.session.encrypt_then_mac, etm, "{case}");
        assert_eq!(failures(&d.client), vec![], "{case} client");
        assert_eq!(failures(&d.server), vec![], "{case} server");
        let expected = expected_alerts(case);
        assert_eq!(expected.len(), 1);
        assert_eq!(alerts(&d.client), expected[0].0, "{case} client alerts");
        assert_eq!(alerts(&d.server), expected[0].1, "{case} server alerts");
        // the close_notify is the last encrypted record of each side
        for (name, side) in [("client", &d.client), ("server", &d.server)] {
            let types = encrypted_types(side);
            assert_eq!(types.last(), Some(&ContentType::ALERT), "{case} {name}");
            // each side's Finished was decrypted (TLS 1.3: inner type 22)
            assert_eq!(
                types.first(),
                Some(&ContentType::HANDSHAKE),
                "{case} {name}"
            );
        }
        // application data decrypts to its inner type, with content
        let data = [app_data(&d.client), app_data(&d.server)];
        assert!(
            data.iter().any(|d| !d.is_empty()),
            "{case}: no application data read"
        );
    }
}

#[test]
fn mac_then_encrypt_tls10_and_tls11_fixtures() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let cases: &[(&str, u16, u16, bool)] = &[
        ("tls12-mte-aes128-cbc-sha", 0x0303, 0xc009, false),
        ("tls12-mte-aes256-cbc-sha384", 0x0303, 0xc024, false),
        ("tls11-etm-aes128-cbc-sha", 0x0302, 0xc009, true),
        ("tls10-mte-aes256-cbc-sha", 0x0301, 0xc00a, false),
        ("tls10-etm-aes128-cbc-sha", 0x0301, 0xc009, true),
    ];
    for &(case, version, suite, etm) in cases {
        let conn = only_conn(&dir.join(case).join("capture.pcap"));
        let (log, w) = KeyLog::from_file(dir.join(case).join("sslkeys.log")).expect("key log");
        assert!(w.is_empty());
        let d = decrypt_conn(&conn, &log).unwrap_or_else(|e| panic!("{case}: {e}"));
        assert_eq!(d.session.version, ProtocolVersion(version), "{case}");
        assert_eq!(d.session.cipher_suite.0, suite, "{case}");
        assert_eq!(d.session.encrypt_then_mac, etm, "{case}");
        assert_eq!(failures(&d.client), vec![], "{case} client");
        assert_eq!(failures(&d.server), vec![], "{case} server");
        assert_eq!(alerts(&d.client), ["warning:close_notify"], "{case}");
        assert_eq!(alerts(&d.server), ["warning:close_notify"], "{case}");
        // what make.sh typed into s_client and s_server
        assert_eq!(
            String::from_utf8_lossy(&app_data(&d.client)),
            "one\ntwo two\nthree three three\n",
            "{case}"
        );
        assert_eq!(
            String::from_utf8_lossy(&app_data(&d.server)),
            "from the server\n",
            "{case}"
        );
    }
}

#[test]
fn tls13_key_update_moves_to_the_next_generation() {
    let case = "py-tls13-keyupdate";
    let conn = only_conn(&capture_of(case));
    let log = keylog_of(case);
    let session = session_of(&conn).expect("hellos");
    let secrets = log.lookup(&session.client_random).expect("secrets");
    let mut dec = RecordDecrypter::new(&session, secrets, Side::Client).expect("keys");
    assert_eq!(dec.key_generation(), None);
    let mut generations = Vec::new();
    let mut key_updates = 0;
    for r in &conn.client {
        let body = r.body.as_ref().expect("captured");
        let p = dec
            .decrypt(r.content_type, r.version, body)
            .unwrap_or_else(|e| panic!("frame {}: {e}", r.frame));
        if p.encrypted && p.content_type == ContentType::HANDSHAKE && p.data.first() == Some(&24) {
            key_updates += 1;
        }
        generations.push(dec.key_generation());
    }
    assert_eq!(key_updates, 1);
    assert!(generations.contains(&Some(0)));
    assert_eq!(generations.last(), Some(&Some(1)));
    // and the whole flow reads as expected-keys.jsonl says
    let d = decrypt_conn(&conn, &log).expect("decrypts");
    assert_eq!(
        (alerts(&d.client), alerts(&d.server)),
        expected_alerts(case)[0]
    );
}

#[test]
fn key_log_from_a_pcapng_decryption_secrets_block() {
    let case = "fmt-pcapng-dsb";
    assert!(!testdata(case).join("sslkeys.log").exists());
    let (conns, dsbs) = read_capture(&capture_of(case));
    assert_eq!(dsbs.len(), 1);
    let mut log = KeyLog::new();
    for (n, (kind, data)) in dsbs.iter().enumerate() {
        assert_eq!(*kind, DSB_TLS_KEY_LOG);
        let w = log.add_dsb(*kind, data, &format!("capture.pcapng (DSB {})", n + 1));
        assert!(w.is_empty(), "{w:?}");
    }
    assert_eq!(log.len(), 1);
    let conn = conns
        .iter()
        .find(|c| !c.client.is_empty())
        .expect("a TLS connection");
    let d = decrypt_conn(conn, &log).expect("decrypts with the DSB alone");
    assert_eq!(failures(&d.client), vec![]);
    assert_eq!(failures(&d.server), vec![]);
    assert_eq!(
        (alerts(&d.client), alerts(&d.server)),
        expected_alerts(case)[0]
    );
}

#[test]
fn wrong_key_logs_fail_cleanly() {
    // secrets for other connections only
    let conn = only_conn(&capture_of("ossl-tls12-aes128-gcm"));
    let other = keylog_of("ossl-tls13-aes128-gcm");
    assert_eq!(
        decrypt_conn(&conn, &other).err().as_deref(),
        Some("keys: none for this client random")
    );

    // the right client random, a corrupted secret: every encrypted record
    // fails, the decrypter gives up, nothing panics
    for case in [
        "ossl-tls12-aes128-gcm",
        "ossl-tls12-chacha20",
        "ossl-tls12-aes128-ccm8",
        "ossl-tls12-aes128-cbc-sha",
        "ossl-tls13-aes256-gcm",
        "ossl-tls13-aes128-ccm",
    ] {
        let text = std::fs::read_to_string(testdata(case).join("sslkeys.log")).expect("read");
        let corrupted: String = text
            .lines()
            .map(|l| {
                if l.starts_with('#') {
                    return format!("{l}\n");
                }
                // flip the last hex digit of the secret
                let mut s = l.trim_end().to_string();
                let last = s.pop().expect("non-empty");
                s.push(if last == '0' { '1' } else { '0' });
                format!("{s}\n")
            })
            .collect();
        let (log, w) = KeyLog::parse(&corrupted, "corrupted.log");
        assert!(w.is_empty());
        let conn = only_conn(&capture_of(case));
        let d = decrypt_conn(&conn, &log).unwrap_or_else(|e| panic!("{case}: {e}"));
        for side in [&d.client, &d.server] {
            let fails = failures(side);
            assert!(!fails.is_empty(), "{case}");
            assert!(
                fails.iter().all(|(_, e)| matches!(
                    e,
                    RecordError::BadRecordMac { .. } | RecordError::BadPadding
                )),
                "{case}: {fails:?}"
            );
            assert!(alerts(side).iter().all(|a| !a.contains("close_notify")));
        }
    }
}

#[test]
fn garbage_lines_are_skipped_and_named() {
    let case = "ossl-tls13-chacha20";
    let real = std::fs::read_to_string(testdata(case).join("sslkeys.log")).expect("read");
    let text = format!("not a key log line\n{real}\nCLIENT_RANDOM 1234 5678\n\u{1}\u{2}\n");
    let (log, warnings) = KeyLog::parse(&text, "mixed.log");
    let lines = real.lines().count();
    let got: Vec<String> = warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        got,
        vec![
            "mixed.log:1: unknown label \"not\", line skipped".to_string(),
            format!(
                "mixed.log:{}: client random is not 64 hex digits, line skipped",
                lines + 3
            ),
            format!(
                "mixed.log:{}: unknown label \"\\u{{1}}\\u{{2}}\", line skipped",
                lines + 4
            ),
        ]
    );
    assert!(matches!(
        warnings[0].problem,
        KeyLogProblem::UnknownLabel(_)
    ));
    // the good lines still decrypt the connection
    let conn = only_conn(&capture_of(case));
    let d = decrypt_conn(&conn, &log).expect("decrypts");
    assert_eq!(
        (alerts(&d.client), alerts(&d.server)),
        expected_alerts(case)[0]
    );
}

/// Drops encrypted records of the server (as a capture gap that loses
/// whole records would) and checks that later records still decrypt,
/// re-synchronised; returns the sequence numbers passed over.
fn check_resync(case: &str, drop: &[usize]) -> u64 {
    let keylog = keylog_of(case);
    let conn = only_conn(&capture_of(case));
    let session: SessionInfo = session_of(&conn).expect("hellos");
    let secrets = keylog.lookup(&session.client_random).expect("secrets");
    let tls13 = session.version == ProtocolVersion::TLS1_3;
    let mut dec = RecordDecrypter::new(&session, secrets, Side::Server).expect("keys");
    let mut encrypted_index = 0;
    let mut skipped = 0;
    let mut last = None;
    for r in &conn.server {
        let body = r.body.as_ref().expect("captured");
        let is_encrypted =
            dec.is_encrypting() && (!tls13 || r.content_type == ContentType::APPLICATION_DATA);
        if is_encrypted {
            encrypted_index += 1;
            if drop.contains(&(encrypted_index - 1)) {
                continue;
            }
        }
        let p = dec
            .decrypt(r.content_type, r.version, body)
            .unwrap_or_else(|e| panic!("{case} frame {}: {e}", r.frame));
        skipped += p.skipped;
        last = p.alert().map(|a| a.to_string());
        if !tls13 && r.content_type == ContentType::CHANGE_CIPHER_SPEC {
            dec.change_cipher_spec();
        }
    }
    assert_eq!(last.as_deref(), Some("warning:close_notify"), "{case}");
    skipped
}

#[test]
fn records_lost_in_a_gap_are_skipped() {
    // TLS 1.2 AES-GCM (explicit nonce): two bulk records lost
    assert_eq!(check_resync("py-tls12-bulk-then-cn", &[2, 3]), 2);
    // ChaCha20 (nonce from the sequence number), CBC + encrypt-then-MAC:
    // the server's Finished lost, its close_notify read at sequence 1
    assert_eq!(check_resync("ossl-tls12-chacha20", &[0]), 1);
    assert_eq!(check_resync("ossl-tls12-aes128-cbc-sha256", &[0]), 1);
    // TLS 1.3: a NewSessionTicket and a bulk record lost
    assert_eq!(check_resync("py-tls13-bulk-then-cn", &[5, 6]), 2);
    // TLS 1.3: the server's Finished lost (EncryptedExtensions,
    // Certificate, CertificateVerify, Finished are its first four records):
    // the switch to the application keys is found all the same
    assert_eq!(check_resync("ossl-tls13-aes128-gcm", &[3]), 0);
}

/// Every flow of every testdata case with keys: found by its endpoints,
/// decrypted when its hellos and secrets are there, with no record that
/// fails, and reading exactly the alerts its expected-keys.jsonl line
/// lists. A flow that cannot be decrypted (no hellos, no secrets) must
/// read, in plaintext, every alert its line lists that is not inferred.
#[test]
fn every_testdata_case_with_keys() {
    // records that do not decrypt on purpose: (case, failures per side)
    const FAILING: &[(&str, &str)] = &[
        // a proxy flipped a byte of the client's first application data
        (
            "keys-bad-record-mac-tls12",
            "[[(11, BadRecordMac { sequence: 1 })], []]",
        ),
        (
            "keys-bad-record-mac-tls13",
            "[[(12, BadRecordMac { sequence: 0 })], []]",
        ),
    ];
    // a bare decrypter reads up to a renegotiation; switching to the new
    // handshake's keys is the analysis crate's (tlsclose/tests/keys_damage.rs)
    const RENEGOTIATED: &[&str] = &["keys-renegotiation-tls12"];
    let mut decrypted = 0;
    let mut flows = 0;
    let mut problems = Vec::new();
    for dir in cases_with("expected-keys.jsonl", false) {
        let case = name_of(&dir);
        if RENEGOTIATED.contains(&case.as_str()) {
            continue;
        }
        let (conns, dsbs) = read_capture(&capture_of(&case));
        let mut log = KeyLog::new();
        if dir.join("sslkeys.log").exists() {
            log.add_file(dir.join("sslkeys.log")).expect("key log");
        }
        // cases whose key log has only a pre-master secret (the analysis
        // crate derives the master secret at the ClientKeyExchange) keep
        // the client's CLIENT_RANDOM log beside it
        if dir.join("client-random.log").exists() {
            log.add_file(dir.join("client-random.log"))
                .expect("key log");
        }
        for (t, d) in &dsbs {
            log.add_dsb(*t, d, "dsb");
        }
        let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
        let mut by_pair = BTreeMap::new();
        for c in conns
            .iter()
            .filter(|c| !c.client.is_empty() || !c.server.is_empty())
        {
            let pair = (c.client_addr.clone(), c.server_addr.clone());
            let n = seen.entry(pair.clone()).or_default();
            by_pair.insert((pair.0, pair.1, *n), c);
            *n += 1;
        }
        let expected = keyed(expected_flows(&dir.join("expected-keys.jsonl")));
        for k in by_pair.keys().filter(|k| !expected.contains_key(*k)) {
            problems.push(format!(
                "{case}: flow {} -> {} #{} not expected",
                k.0, k.1, k.2
            ));
        }
        for (k, e) in expected {
            flows += 1;
            let Some(conn) = by_pair.get(&k) else {
                problems.push(format!(
                    "{case}: flow {} -> {} #{} not found",
                    k.0, k.1, k.2
                ));
                continue;
            };
            let want = alerts_of_line(&e);
            match decrypt_conn(conn, &log) {
                Ok(d) => {
                    decrypted += 1;
                    let f = [failures(&d.client), failures(&d.server)];
                    let failing = FAILING.iter().find(|(c, _)| *c == case).map(|(_, f)| *f);
                    if failing.is_some_and(|want| format!("{f:?}") != want) {
                        problems.push(format!("{case}: failures {f:?}, not {failing:?}"));
                    } else if failing.is_none() && f.iter().any(|f| !f.is_empty()) {
                        problems.push(format!("{case} {}: failures {f:?}", k.0));
                    }
                    let got = (alerts(&d.client), alerts(&d.server));
                    if got != want {
                        problems.push(format!("{case} {}: alerts {got:?}, expected {want:?}", k.0));
                    }
                }
                Err(why) => {
                    // without keys: the plaintext alerts, and nothing the
                    // expected line says was read with keys
                    let readable = |a: &[String]| -> Vec<String> {
                        a.iter()
                            .filter(|x| !x.starts_with("inferred:"))
                            .cloned()
                            .collect()
                    };
                    let got = (plain_alerts(&conn.client), plain_alerts(&conn.server));
                    if got != (readable(&want.0), readable(&want.1)) {
                        problems.push(format!(
                            "{case} {}: not decrypted ({why}), plaintext alerts {got:?}, \
                             expected {want:?}",
                            k.0
                        ));
                    }
                }
            }
        }
    }
    println!("{decrypted} of {flows} expected flows decrypted");
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(
        flows >= 130 && decrypted >= 120,
        "{decrypted} of {flows} flows decrypted"
    );
}

#[test]
fn tls10_lost_record_costs_the_next_one_its_iv_only() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tls10-mte-aes256-cbc-sha");
    let conn = only_conn(&dir.join("capture.pcap"));
    let (log, _) = KeyLog::from_file(dir.join("sslkeys.log")).expect("key log");
    let session = session_of(&conn).expect("hellos");
    let secrets = log.lookup(&session.client_random).expect("secrets");
    let mut dec = RecordDecrypter::new(&session, secrets, Side::Client).expect("keys");
    let mut results = Vec::new();
    let mut encrypted = 0;
    for r in &conn.client {
        let body = r.body.as_ref().expect("captured");
        if dec.is_encrypting() {
            encrypted += 1;
            if encrypted == 2 {
                dec.record_lost(); // the first application data record
                continue;
            }
        }
        let res = dec
            .decrypt(r.content_type, r.version, body)
            .map(|p| (p.content_type, p.encrypted));
        if r.content_type == ContentType::CHANGE_CIPHER_SPEC {
            dec.change_cipher_spec();
        }
        results.push(res);
    }
    let after: Vec<_> = results.iter().rev().take(encrypted - 2).rev().collect();
    assert_eq!(after.first(), Some(&&Err(RecordError::IvLost)));
    assert!(after.iter().skip(1).all(|r| r.is_ok()), "{after:?}");
    assert_eq!(
        results.last(),
        Some(&Ok((ContentType::ALERT, true))),
        "the close_notify reads"
    );
}
