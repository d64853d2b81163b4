//! Unit tests of `keylog.rs`.

use super::*;

const CR: &str = "f12cf97033e26929810e3665cdffd6bc48f00c8f0156985471179759fc286d78";
const MS: &str = "1ec7dacfac0e98ca3c3d11ff566bbec6cc4d725e6d9fac023e220c5bb57b46ecbab2e07c35cde79928e9ede3f9739a64";

fn random() -> [u8; 32] {
    let mut r = [0u8; 32];
    assert!(decode_hex(CR.as_bytes(), &mut r));
    r
}

#[test]
fn parses_client_random_and_tls13_labels() {
    let s32 = "ab".repeat(32);
    let s48 = "cd".repeat(48);
    let text = format!(
        "# comment\n\nCLIENT_RANDOM {CR} {MS}\r\n\
         CLIENT_HANDSHAKE_TRAFFIC_SECRET {CR} {s32}\n\
         SERVER_HANDSHAKE_TRAFFIC_SECRET {CR} {s48}\n\
         CLIENT_TRAFFIC_SECRET_0 {CR} {s32}\n\
         SERVER_TRAFFIC_SECRET_0 {CR} {s32}\n\
         CLIENT_EARLY_TRAFFIC_SECRET {CR} {s32}\n\
         EXPORTER_SECRET {CR} {s32}\n\
         PMS_CLIENT_RANDOM {CR} {s32}\n"
    );
    let (log, w) = KeyLog::parse(&text, "k.log");
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(log.len(), 1);
    let s = log.lookup(&random()).expect("found");
    assert_eq!(s.master_secret.as_ref().map(Secret::len), Some(48));
    assert_eq!(
        s.server_handshake_traffic_secret.as_ref().map(Secret::len),
        Some(48)
    );
    for l in SecretLabel::ALL {
        assert!(s.get(l).is_some(), "{l}");
    }
    assert!(log.lookup(&[0; 32]).is_none());
    assert_eq!(format!("{:?}", s.master_secret), "Some(Secret(48 bytes))");
}

#[test]
fn garbage_lines_are_skipped_with_their_line_numbers() {
    let text = format!(
        "CLIENT_RANDOM {CR} {MS}\n\
         hello world\n\
         CLIENT_RANDOM {CR}\n\
         CLIENT_RANDOM zz{} {MS}\n\
         CLIENT_RANDOM {CR} {}\n\
         CLIENT_RANDOM {CR} abc\n\
         CLIENT_RANDOM {CR} {}\n\
         CLIENT_TRAFFIC_SECRET_0 {CR} {}\n\
         CLIENT_RANDOM {CR} {MS}\n",
        &CR[2..],
        "ab".repeat(47),
        "xy".repeat(48),
        "ab".repeat(20),
    );
    let (log, w) = KeyLog::parse(&text, "keys.txt");
    assert_eq!(log.len(), 1);
    let got: Vec<(Option<usize>, KeyLogProblem)> =
        w.iter().map(|w| (w.line, w.problem.clone())).collect();
    assert_eq!(
        got,
        vec![
            (Some(2), KeyLogProblem::UnknownLabel("hello".into())),
            (Some(3), KeyLogProblem::FieldCount(2)),
            (Some(4), KeyLogProblem::BadClientRandom),
            (
                Some(5),
                KeyLogProblem::BadSecretLength {
                    label: SecretLabel::ClientRandom,
                    len: 47
                }
            ),
            (Some(6), KeyLogProblem::BadSecretHex),
            (Some(7), KeyLogProblem::BadSecretHex),
            (
                Some(8),
                KeyLogProblem::BadSecretLength {
                    label: SecretLabel::ClientTrafficSecret0,
                    len: 20
                }
            ),
        ]
    );
    assert_eq!(
        w[0].to_string(),
        "keys.txt:2: unknown label \"hello\", line skipped"
    );
}

#[test]
fn conflicting_secret_keeps_the_first() {
    let other = "11".repeat(48);
    let text = format!("CLIENT_RANDOM {CR} {MS}\nCLIENT_RANDOM {CR} {other}\n");
    let (log, w) = KeyLog::parse(&text, "k");
    assert_eq!(w.len(), 1);
    assert_eq!(
        w[0].problem,
        KeyLogProblem::Conflicting {
            label: SecretLabel::ClientRandom
        }
    );
    let ms = log.lookup(&random()).and_then(|s| s.master_secret.clone());
    assert_eq!(ms.map(|s| s.as_bytes()[0]), Some(0x1e));
}

#[test]
fn dsb_and_merge() {
    let mut log = KeyLog::new();
    let w = log.add_dsb(0x5747_4b4c, b"whatever", "c.pcapng (DSB 1)");
    assert_eq!(w.len(), 1);
    assert_eq!(
        w[0].to_string(),
        "c.pcapng (DSB 1): Decryption Secrets Block of type 0x57474b4c is not a TLS key log, skipped"
    );
    assert!(log.is_empty());
    let mut data = format!("CLIENT_RANDOM {CR} {MS}\n").into_bytes();
    data.extend_from_slice(&[0, 0, 0]);
    assert!(log.add_dsb(DSB_TLS_KEY_LOG, &data, "dsb").is_empty());
    assert_eq!(log.len(), 1);

    let s32 = "ab".repeat(32);
    let (other, _) = KeyLog::parse(
        &format!(
            "CLIENT_TRAFFIC_SECRET_0 {CR} {s32}\nCLIENT_TRAFFIC_SECRET_0 {} {s32}\n",
            "00".repeat(32)
        ),
        "b",
    );
    log.merge(&other);
    assert_eq!(log.len(), 2);
    let s = log.lookup(&random()).expect("merged");
    assert!(s.master_secret.is_some() && s.client_traffic_secret_0.is_some());
}

#[test]
fn warnings_are_bounded() {
    let text = "junk\n".repeat(1000);
    let (_, w) = KeyLog::parse(&text, "j");
    assert_eq!(w.len(), MAX_WARNINGS_PER_SOURCE + 1);
    assert_eq!(
        w.last().map(|w| w.problem.clone()),
        Some(KeyLogProblem::MoreSkipped(900))
    );
}

#[test]
fn arbitrary_bytes_are_harmless() {
    let mut rng = tlsclose_testkit::Prng::new(0x1234_5678);
    let mut data = Vec::new();
    for _ in 0..20_000 {
        let x = rng.next();
        data.push(match x % 5 {
            0 => b'\n',
            1 => b' ',
            _ => (x >> 8) as u8,
        });
    }
    let mut log = KeyLog::new();
    let _ = log.add_bytes(&data, "noise");
    let _ = log.add_dsb(DSB_TLS_KEY_LOG, &data, "noise");
}

#[test]
fn missing_file_is_an_error() {
    let e = KeyLog::from_file("/nonexistent/keys.log").expect_err("no file");
    assert!(e
        .to_string()
        .starts_with("cannot read key log /nonexistent/keys.log"));
}

#[test]
fn rsa_and_pms_lines_are_taken_and_unused_labels_counted() {
    let pms = "03".repeat(48);
    let text = format!(
        "RSA 0102030405060708 {pms}\n\
         RSA 01020304 {pms}\n\
         RSA 0102030405060708 {}\n\
         EARLY_EXPORTER_SECRET {CR} {}\n\
         CLIENT_TRAFFIC_SECRET_N {CR} {}\n\
         EARLY_EXPORTER_SECRET {CR} {}\n\
         PMS_CLIENT_RANDOM {CR} {}\n",
        "04".repeat(48),
        "ab".repeat(32),
        "ab".repeat(32),
        "cd".repeat(32),
        "05".repeat(256),
    );
    let (log, w) = KeyLog::parse(&text, "k.log");
    let shown: Vec<String> = w.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "k.log:2: RSA line without the 16 hex digits of the encrypted pre-master \
             secret's first 8 bytes, line skipped",
            "k.log:3: a different PMS_CLIENT_RANDOM for this client random came earlier \
             (kept), line skipped",
            "k.log: 2 EARLY_EXPORTER_SECRET line(s) skipped (line 4, 6): an exporter \
             secret protects no record",
        ]
    );
    assert!(log.has_rsa());
    assert_eq!(
        log.lookup_rsa(&[1, 2, 3, 4, 5, 6, 7, 8, 9])
            .map(Secret::as_bytes),
        Some(&[3u8; 48][..])
    );
    assert!(log.lookup_rsa(&[1, 2, 3]).is_none());
    // a finite-field DH pre-master secret is as long as its prime
    let s = log.lookup(&random()).expect("PMS by client random");
    assert_eq!(s.pre_master_secret.as_ref().map(Secret::len), Some(256));
    assert_eq!(log.len(), 2);
    let mut merged = KeyLog::new();
    merged.merge(&log);
    assert!(merged.has_rsa());
}
