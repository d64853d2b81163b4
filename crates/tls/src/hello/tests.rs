//! Unit tests of `hello.rs`.

use super::*;
use std::time::Duration;

fn unhex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|b| b.is_ascii_hexdigit()).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).expect("ascii"), 16).expect("hex"))
        .collect()
}

/// The handshake body inside a one-message handshake record.
fn body_of(record: &[u8]) -> Vec<u8> {
    record[9..].to_vec()
}

// Real hellos from the corpus captures (curl 8 / nginx / OpenSSL 3).
const CH_CURL: &str = include_str!("../../testdata/client_hello_curl.hex");
const CH_OPENSSL_TLS12: &str = include_str!("../../testdata/client_hello_openssl_tls12.hex");
const SH_TLS13_NGINX: &str = include_str!("../../testdata/server_hello_tls13_nginx.hex");
const SH_TLS12_NGINX_H2: &str = include_str!("../../testdata/server_hello_tls12_nginx_h2.hex");
const SH_OPENSSL_TLS12: &str = include_str!("../../testdata/server_hello_openssl_tls12.hex");

#[test]
fn curl_client_hello() {
    let rec = unhex(CH_CURL);
    assert_eq!(&rec[..6], &[0x16, 3, 1, 2, 0, 1]);
    let ch = parse_client_hello(&body_of(&rec)).expect("parses");
    assert_eq!(ch.legacy_version, ProtocolVersion::TLS1_2);
    assert_eq!(ch.sni.as_deref(), Some("server.test"));
    assert_eq!(ch.alpn, vec!["h2".to_string(), "http/1.1".to_string()]);
    assert_eq!(
        ch.supported_versions,
        vec![
            ProtocolVersion::TLS1_3,
            ProtocolVersion::TLS1_2,
            ProtocolVersion::TLS1_1,
            ProtocolVersion::TLS1_0
        ]
    );
    assert_eq!(ch.cipher_suites.len(), 31);
    assert_eq!(ch.cipher_suites[0], CipherSuite(0x1302));
    assert_eq!(ch.cipher_suites[30], CipherSuite(0x00ff));
    assert_eq!(ch.session_id.len(), 32);
    assert_eq!(ch.extension_count, 12);
}

#[test]
fn openssl_tls12_client_hello() {
    let ch = parse_client_hello(&body_of(&unhex(CH_OPENSSL_TLS12))).expect("parses");
    assert_eq!(ch.legacy_version, ProtocolVersion::TLS1_2);
    assert_eq!(ch.sni.as_deref(), Some("server.test"));
    assert!(ch.alpn.is_empty());
    assert!(ch.supported_versions.is_empty());
    assert_eq!(
        ch.cipher_suites,
        vec![CipherSuite(0xc02b), CipherSuite(0x00ff)]
    );
    assert_eq!(ch.extension_count, 7);
}

#[test]
fn tls13_server_hello() {
    let sh = parse_server_hello(&body_of(&unhex(SH_TLS13_NGINX))).expect("parses");
    assert_eq!(sh.legacy_version, ProtocolVersion::TLS1_2);
    assert_eq!(sh.selected_version, Some(ProtocolVersion::TLS1_3));
    assert_eq!(sh.negotiated_version(), ProtocolVersion::TLS1_3);
    assert_eq!(sh.cipher_suite, CipherSuite(0x1302));
    assert_eq!(sh.random[..4], [0x88, 0x20, 0x17, 0x2a]);
    assert!(!sh.is_hello_retry_request);
    assert_eq!(sh.alpn, None);
}

#[test]
fn tls12_server_hellos() {
    let sh = parse_server_hello(&body_of(&unhex(SH_TLS12_NGINX_H2))).expect("parses");
    assert_eq!(sh.negotiated_version(), ProtocolVersion::TLS1_2);
    assert_eq!(sh.selected_version, None);
    assert_eq!(sh.cipher_suite, CipherSuite(0xc02c));
    assert_eq!(sh.alpn.as_deref(), Some("h2"));
    assert!(sh.extended_master_secret);
    assert!(!sh.encrypt_then_mac);

    let sh = parse_server_hello(&body_of(&unhex(SH_OPENSSL_TLS12))).expect("parses");
    assert_eq!(sh.negotiated_version(), ProtocolVersion::TLS1_2);
    assert_eq!(sh.cipher_suite, CipherSuite(0xc02b));
    assert_eq!(sh.random[..4], [0xa3, 0x28, 0x2a, 0xfd]);
    assert!(sh.extended_master_secret);
    assert!(!sh.encrypt_then_mac);
}

/// A ServerHello body with the given random and extensions.
fn server_hello(random: [u8; 32], exts: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend_from_slice(&random);
    b.push(0);
    b.extend_from_slice(&[0x13, 0x01, 0]);
    let e: Vec<u8> = exts.iter().flat_map(|(t, d)| ext(*t, d)).collect();
    b.extend_from_slice(&(e.len() as u16).to_be_bytes());
    b.extend_from_slice(&e);
    b
}

/// A ClientHello body with the given extensions block contents.
fn client_hello(ext_block: &[u8]) -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend_from_slice(&[7; 32]);
    b.push(0);
    b.extend_from_slice(&[0, 2, 0x13, 0x01, 1, 0]);
    b.extend_from_slice(&(ext_block.len() as u16).to_be_bytes());
    b.extend_from_slice(ext_block);
    b
}

fn ext(t: u16, d: &[u8]) -> Vec<u8> {
    let mut e = t.to_be_bytes().to_vec();
    e.extend_from_slice(&(d.len() as u16).to_be_bytes());
    e.extend_from_slice(d);
    e
}

#[test]
fn hello_retry_request() {
    let hrr = server_hello(
        HELLO_RETRY_REQUEST_RANDOM,
        &[(43, vec![3, 4]), (51, vec![0, 0x1d])],
    );
    let sh = parse_server_hello(&hrr).expect("parses");
    assert!(sh.is_hello_retry_request);
    assert_eq!(sh.negotiated_version(), ProtocolVersion::TLS1_3);
    let mut r = HELLO_RETRY_REQUEST_RANDOM;
    r[31] ^= 1;
    assert!(
        !parse_server_hello(&server_hello(r, &[]))
            .expect("parses")
            .is_hello_retry_request
    );
}

/// A draft-14 ServerHello as draft-ietf-tls-tls13-14 §6.3.1.2 lays it
/// out: version 0x7f0e, random, cipher suite, extensions (key_share,
/// then numbered 40, with an x25519 share); no session id, no
/// compression method.
fn draft14_server_hello() -> Vec<u8> {
    let mut b = vec![0x7f, 0x0e];
    b.extend_from_slice(&[0x5a; 32]);
    b.extend_from_slice(&[0x13, 0x01]);
    let mut share = vec![0x00, 0x1d, 0x00, 0x20];
    share.extend_from_slice(&[0x42; 32]);
    let exts = ext(40, &share);
    b.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    b.extend_from_slice(&exts);
    b
}

#[test]
fn early_draft_server_hello_has_no_session_id() {
    let sh = parse_server_hello(&draft14_server_hello()).expect("parses");
    assert_eq!(sh.negotiated_version(), ProtocolVersion(0x7f0e));
    assert!(sh.negotiated_version().is_tls13());
    assert_eq!(sh.negotiated_version().to_string(), "TLS 1.3 (draft 14)");
    assert_eq!(sh.cipher_suite, CipherSuite::TLS_AES_128_GCM_SHA256);
    assert_eq!(sh.random, [0x5a; 32]);
    assert_eq!(sh.selected_version, None);
    // read with the TLS 1.2 layout, the random's next byte (0x13) would
    // be a session id length and the rest garbage
    assert!(!matches!(
        server_hello_layout(&draft14_server_hello(), &HelloLimits::default(), false),
        Ok((_, true))
    ));
}

#[test]
fn late_draft_and_experiment_server_hellos_use_the_tls12_layout() {
    // draft 23 as Facebook deployed it (0xfb17) and BoringSSL's
    // experiment 2: legacy_version 0x0303, the version in
    // supported_versions
    for v in [0xfb17u16, 0x7e02, 0x7f1c] {
        let sh = parse_server_hello(&server_hello([3; 32], &[(43, v.to_be_bytes().to_vec())]))
            .expect("parses");
        assert_eq!(sh.negotiated_version(), ProtocolVersion(v));
        assert!(sh.negotiated_version().is_tls13());
    }
    // a draft-22+ number in legacy_version itself with the TLS 1.2 layout
    let mut b = server_hello([3; 32], &[]);
    b[..2].copy_from_slice(&[0x7f, 0x16]);
    let sh = parse_server_hello(&b).expect("parses");
    assert_eq!(sh.negotiated_version().to_string(), "TLS 1.3 (draft 22)");
    // an early draft number with the TLS 1.2 layout (the layout that
    // fits wins)
    b[..2].copy_from_slice(&[0x7f, 0x12]);
    let sh = parse_server_hello(&b).expect("parses");
    assert_eq!(sh.cipher_suite, CipherSuite(0x1301));
    // and a late draft number with the early layout
    let mut d = draft14_server_hello();
    d[..2].copy_from_slice(&[0x7f, 0x17]);
    let sh = parse_server_hello(&d).expect("parses");
    assert_eq!(sh.cipher_suite, CipherSuite(0x1301));
    assert_eq!(sh.random, [0x5a; 32]);
}

#[test]
fn early_draft_server_hello_truncated_is_an_error() {
    let d = draft14_server_hello();
    for cut in [1, 10, 34, 35] {
        assert!(parse_server_hello(&d[..cut]).is_err(), "{cut}");
    }
}

#[test]
fn server_hello_flags_and_no_extensions() {
    let sh =
        parse_server_hello(&server_hello([1; 32], &[(22, vec![]), (23, vec![])])).expect("parses");
    assert!(sh.encrypt_then_mac && sh.extended_master_secret);
    // No extensions block at all is legal (RFC 5246 §7.4.1.3).
    let mut bare = server_hello([1; 32], &[]);
    bare.truncate(bare.len() - 2);
    let sh = parse_server_hello(&bare).expect("parses");
    assert!(!sh.encrypt_then_mac && sh.selected_version.is_none());
}

#[test]
fn grease_versions_removed_and_names_capped() {
    let mut block = ext(43, &[8, 0x7a, 0x7a, 3, 4, 3, 3, 0xfa, 0xfa]);
    let long = vec![b'a'; 1000];
    let mut sni = vec![0u8];
    sni.extend_from_slice(&(long.len() as u16).to_be_bytes());
    sni.extend_from_slice(&long);
    let mut sni_list = (sni.len() as u16).to_be_bytes().to_vec();
    sni_list.extend_from_slice(&sni);
    block.extend(ext(0, &sni_list));
    // 40 ALPN names, one with invalid UTF-8
    let mut names = vec![2, 0xff, b'x'];
    for k in 0..39u8 {
        names.extend_from_slice(&[3, b'p', b'0' + k / 10, b'0' + k % 10]);
    }
    let mut alpn = (names.len() as u16).to_be_bytes().to_vec();
    alpn.extend_from_slice(&names);
    block.extend(ext(16, &alpn));
    let ch = parse_client_hello(&client_hello(&block)).expect("parses");
    assert_eq!(
        ch.supported_versions,
        vec![ProtocolVersion::TLS1_3, ProtocolVersion::TLS1_2]
    );
    assert_eq!(ch.sni.as_ref().map(|s| s.len()), Some(255));
    assert_eq!(ch.alpn.len(), MAX_ALPN_NAMES);
    assert_eq!(ch.alpn[0], "\u{fffd}x");
    assert_eq!(ch.alpn[1], "p00");
    assert_eq!(ch.extension_count, 3);
    assert!(ch.names_cut);

    // other limits
    let limits = HelloLimits {
        max_name_len: 10,
        max_alpn_names: 2,
    };
    let ch = parse_client_hello_with(&client_hello(&block), &limits).expect("parses");
    assert_eq!(ch.sni.as_deref(), Some("aaaaaaaaaa"));
    assert_eq!(ch.alpn, vec!["\u{fffd}x".to_string(), "p00".to_string()]);
    assert!(ch.names_cut);

    // within the limits nothing is cut
    let ch = parse_client_hello(&client_hello(&ext(43, &[2, 3, 4]))).expect("parses");
    assert!(!ch.names_cut);
}

#[test]
fn truncated_hellos_are_errors() {
    for fixture in [CH_CURL, CH_OPENSSL_TLS12] {
        let body = body_of(&unhex(fixture));
        for n in 0..body.len() {
            match parse_client_hello(&body[..n]) {
                Err(HelloError::Truncated) => {}
                // Cut exactly before the extensions block: a legal hello.
                Ok(ch) => assert_eq!(ch.extension_count, 0, "prefix {n}"),
                Err(e) => panic!("prefix {n}: {e:?}"),
            }
        }
    }
    for fixture in [SH_TLS13_NGINX, SH_TLS12_NGINX_H2, SH_OPENSSL_TLS12] {
        let body = body_of(&unhex(fixture));
        for n in 0..body.len() {
            match parse_server_hello(&body[..n]) {
                Err(HelloError::Truncated) => {}
                Ok(sh) => assert!(sh.selected_version.is_none(), "prefix {n}"),
                Err(e) => panic!("prefix {n}: {e:?}"),
            }
        }
    }
}

#[test]
fn malformed_hellos() {
    let mut b = client_hello(&[]);
    b[34] = 33; // session_id length
    assert_eq!(
        parse_client_hello(&b),
        Err(HelloError::Malformed("session_id longer than 32 bytes"))
    );
    let mut b = client_hello(&[]);
    b[36] = 3; // odd cipher_suites length
    assert!(matches!(
        parse_client_hello(&b),
        Err(HelloError::Malformed(_))
    ));
    // an extension overrunning the block
    let b = client_hello(&[0, 0, 0, 9, 1]);
    assert!(matches!(
        parse_client_hello(&b),
        Err(HelloError::Malformed(_))
    ));
    // garbage inside an extension is ignored, not fatal
    let b = client_hello(&ext(0, &[0, 9, 0]));
    assert_eq!(parse_client_hello(&b).expect("parses").sni, None);
}

#[test]
fn many_extensions_in_linear_time() {
    let build = |n: usize| {
        let mut block = Vec::new();
        for k in 0..n {
            block.extend(ext(1000 + (k % 50) as u16, &[]));
        }
        block.extend(ext(16, &[0, 3, 2, b'h', b'2']));
        client_hello(&block)
    };
    let small = build(500);
    let big = build(5000);
    // CPU time of this thread, the least of 5 tries: it holds on a
    // loaded machine
    let time = |b: &[u8]| {
        (0..5)
            .map(|_| {
                let t = tlsclose_testkit::rss::thread_cpu_secs();
                for _ in 0..20 {
                    let ch = parse_client_hello(b).expect("parses");
                    assert_eq!(ch.alpn, vec!["h2".to_string()]);
                }
                Duration::from_secs_f64(tlsclose_testkit::rss::thread_cpu_secs() - t)
            })
            .min()
            .unwrap_or_default()
    };
    let ch = parse_client_hello(&big).expect("parses");
    assert_eq!(ch.extension_count, 5001);
    let (ts, tb) = (time(&small), time(&big));
    assert!(tb < Duration::from_secs(2), "{tb:?}");
    // 10x the extensions, far less than 100x the time
    assert!(tb < ts * 40 + Duration::from_millis(20), "{ts:?} {tb:?}");
}

fn collect(asm: &mut HandshakeAssembler, body: &[u8], out: &mut Vec<(u8, Vec<u8>)>) {
    asm.push(body, &mut |t, m| out.push((t.0, m.to_vec())));
}

#[test]
fn assembler_joins_and_splits() {
    let mut stream = Vec::new();
    let msgs: Vec<(u8, Vec<u8>)> = vec![
        (2, vec![1; 70]),
        (11, vec![2; 1500]),
        (12, vec![]),
        (14, vec![3; 5]),
    ];
    for (t, m) in &msgs {
        stream.push(*t);
        stream.extend_from_slice(&(m.len() as u32).to_be_bytes()[1..]);
        stream.extend_from_slice(m);
    }
    for chunk in [1usize, 3, 4, 7, 100, 5000] {
        let mut asm = HandshakeAssembler::new(4096);
        let mut out = Vec::new();
        for c in stream.chunks(chunk) {
            collect(&mut asm, c, &mut out);
        }
        assert_eq!(out, msgs, "chunk {chunk}");
        assert!(!asm.has_partial());
    }
}

#[test]
fn assembler_skips_oversized_and_resets() {
    let mut stream = vec![11, 0, 0x10, 0];
    stream.extend(vec![9; 4096]);
    stream.extend_from_slice(&[20, 0, 0, 2, 0xaa, 0xbb]);
    for chunk in [1usize, 5, 4100, 9000] {
        let mut asm = HandshakeAssembler::new(1000);
        let mut out = Vec::new();
        for c in stream.chunks(chunk) {
            collect(&mut asm, c, &mut out);
            assert!(asm.buffered() <= 1004);
        }
        assert_eq!(out, vec![(20, vec![0xaa, 0xbb])]);
        assert_eq!(asm.skipped(), 1);
    }
    let mut asm = HandshakeAssembler::new(1000);
    let mut out = Vec::new();
    collect(&mut asm, &[1, 0, 0, 10, 1, 2], &mut out);
    assert!(asm.has_partial());
    asm.reset();
    collect(&mut asm, &[20, 0, 0, 1, 7], &mut out);
    assert_eq!(out, vec![(20, vec![7])]);
}

#[test]
fn whole_messages_then_an_assembler_for_the_rest_is_an_assembler() {
    // whole, oversized, partial messages: an assembler made only for what
    // whole_messages leaves gives what one assembler for everything gives
    let mut stream = vec![2, 0, 0, 3, 1, 2, 3, 11, 0, 0x10, 0];
    stream.extend(vec![9; 4096]);
    stream.extend_from_slice(&[20, 0, 0, 2, 0xaa, 0xbb, 14, 0, 0, 0]);
    for chunk in [1usize, 2, 3, 5, 7, 11, 4100, 9000] {
        let mut one = HandshakeAssembler::new(1000);
        let mut want = Vec::new();
        let mut lazy: Option<HandshakeAssembler> = None;
        let mut got = Vec::new();
        for c in stream.chunks(chunk) {
            collect(&mut one, c, &mut want);
            let rest = match lazy.as_mut() {
                Some(asm) => {
                    collect(asm, c, &mut got);
                    continue;
                }
                None => HandshakeAssembler::whole_messages(c, 1000, &mut |t, m| {
                    got.push((t.0, m.to_vec()))
                }),
            };
            if !rest.is_empty() {
                let mut asm = HandshakeAssembler::new(1000);
                collect(&mut asm, rest, &mut got);
                lazy = Some(asm);
            }
        }
        assert_eq!(got, want, "chunk {chunk}");
        assert_eq!(want.len(), 3);
    }
}

#[test]
fn encrypted_extensions_alpn() {
    // extensions block: supported_groups-like filler (type 10), then ALPN
    // (type 16) with one protocol name, "h2"
    let mut block = ext(10, &[0x00, 0x1d]);
    block.extend(ext(16, &[0x00, 0x03, 0x02, b'h', b'2']));
    let mut body = (block.len() as u16).to_be_bytes().to_vec();
    body.extend_from_slice(&block);
    assert_eq!(
        parse_encrypted_extensions_alpn(&body),
        Some("h2".to_string())
    );
    // no ALPN, an empty block, and a block that overruns the message
    assert_eq!(parse_encrypted_extensions_alpn(&[0, 0]), None);
    assert_eq!(
        parse_encrypted_extensions_alpn(&[0, 6, 0, 0x0a, 0, 2, 0, 0x1d]),
        None
    );
    assert_eq!(
        parse_encrypted_extensions_alpn(&body[..body.len() - 1]),
        None
    );
}
