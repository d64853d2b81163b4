//! Old and pre-standard versions at the start of a stream: an SSL 2.0
//! ClientHello (version 0x0002) and SSL 3.0 records start TLS like any
//! other hello.
mod common;

use common::*;
use tlsclose_tls::{DeframerConfig, StartMode};

/// An SSL 2.0 CLIENT-HELLO (SSL 2.0 spec, "Client Only Protocol
/// Messages"): length 0x80|len, msg_type 1, version 0x0002,
/// cipher_specs_length, session_id_length, challenge_length, then three
/// 3-byte cipher specs (SSL_CK_RC4_128_WITH_MD5, SSL_CK_DES_192_EDE3_CBC_WITH_MD5,
/// and TLS_RSA_WITH_AES_128_CBC_SHA) and a 16-byte challenge.
fn ssl2_client_hello() -> Vec<u8> {
    let mut v = vec![0x80, 0, 1, 0, 2, 0, 9, 0, 0, 0, 16];
    v.extend_from_slice(&[0x01, 0x00, 0x80, 0x07, 0x00, 0xc0, 0x00, 0x00, 0x2f]);
    v.extend_from_slice(&[0x5c; 16]);
    v[1] = (v.len() - 2) as u8;
    v
}

#[test]
fn an_ssl2_client_hello_starts_tls_at_every_split() {
    let hello = ssl2_client_hello();
    for cut in 0..=hello.len() {
        let evs = run_cuts(
            StartMode::StreamStart,
            DeframerConfig::default(),
            &hello,
            &[cut],
        );
        assert_eq!(evs.first(), Some(&Ev::Start(0)), "cut {cut}: {evs:?}");
        assert!(
            matches!(
                evs.get(1),
                Some(Ev::Sslv2 {
                    offset: 0,
                    version: 0x0002,
                    ..
                })
            ),
            "cut {cut}: {evs:?}"
        );
        assert_eq!(evs.len(), 2, "cut {cut}: {evs:?}");
    }
}

#[test]
fn an_ssl2_client_hello_is_found_mid_stream_too() {
    let mut s = vec![0x33; 57];
    s.extend(ssl2_client_hello());
    let evs = run_cuts(StartMode::MidStream, DeframerConfig::default(), &s, &[20]);
    assert_eq!(evs.first(), Some(&Ev::Start(57)), "{evs:?}");
    assert!(matches!(
        evs.get(1),
        Some(Ev::Sslv2 {
            offset: 57,
            version: 0x0002,
            ..
        })
    ));
}

#[test]
fn an_ssl2_header_with_another_version_is_not_tls() {
    // SSL 2.0's version is 0x0002; 0x0001 or 0x0202 are no hello
    for version in [[0u8, 1], [2, 2], [0, 3]] {
        let mut h = ssl2_client_hello();
        h[3..5].copy_from_slice(&version);
        let evs = run_cuts(StartMode::StreamStart, DeframerConfig::default(), &h, &[]);
        assert!(
            !evs.iter()
                .any(|e| matches!(e, Ev::Start(_) | Ev::Sslv2 { .. })),
            "{version:?}: {evs:?}"
        );
    }
}

#[test]
fn ssl3_records_start_tls() {
    let mut hello = vec![1u8, 0, 0, 40, 3, 0];
    hello.resize(44, 0x11);
    let mut s = record(22, 0x0300, &hello);
    s.extend(record(20, 0x0300, &[1]));
    s.extend(record(21, 0x0300, &[0x9d; 24]));
    for cut in 0..s.len() {
        let evs = run_cuts(
            StartMode::StreamStart,
            DeframerConfig::default(),
            &s,
            &[cut],
        );
        assert_eq!(evs.first(), Some(&Ev::Start(0)), "cut {cut}");
        let recs = records(&evs);
        let got: Vec<(u8, u16, u16)> = recs.iter().map(|r| (r.ty, r.version, r.len)).collect();
        assert_eq!(
            got,
            [(22, 0x0300, 44), (20, 0x0300, 1), (21, 0x0300, 24)],
            "cut {cut}"
        );
    }
}
