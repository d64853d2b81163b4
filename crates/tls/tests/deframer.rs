//! Deframer behaviour on hand-made streams.
mod common;

use common::*;
use tlsclose_tls::{DeframeEvent, Deframer, DeframerConfig, StartMode};

const SS: StartMode = StartMode::StreamStart;
const MS: StartMode = StartMode::MidStream;

fn cfg() -> DeframerConfig {
    DeframerConfig::default()
}

fn hello_record(len: usize) -> Vec<u8> {
    let mut body = vec![1u8, 0, 0, 0];
    body.resize(len, 0x41);
    record(22, 0x0301, &body)
}

fn appdata(len: usize, seed: u64) -> Vec<u8> {
    record(23, 0x0303, &Prng::new(seed).bytes(len))
}

#[test]
fn stream_start_records_and_tags() {
    let mut s = hello_record(300);
    s.extend(appdata(1000, 1));
    s.extend(record(21, 0x0303, &[1, 0]));
    let evs = run_cuts(SS, cfg(), &s, &[100, 305, 306, 1200]);
    assert_eq!(evs[0], Ev::Start(0));
    let recs = records(&evs);
    assert_eq!(recs.len(), 3);
    assert_eq!((recs[0].ty, recs[0].len, recs[0].offset), (22, 300, 0));
    assert_eq!(recs[0].body.as_ref().map(|b| b.len()), Some(300));
    assert_eq!(recs[0].tag, 1); // last byte 304 in push [100, 305)
    assert_eq!((recs[1].ty, recs[1].len, recs[1].offset), (23, 1000, 305));
    assert_eq!(recs[1].body, None);
    assert_eq!(recs[1].tag, 4); // last byte 1309 in push [1200, end)
    assert_eq!(recs[2].body, Some(vec![1, 0]));
    assert_eq!(recs[2].offset, 1310);
    assert_eq!(recs[2].tag, 4);
    assert_eq!(evs.len(), 4);
}

#[test]
fn kept_body_in_one_push_is_lent() {
    let mut s = hello_record(50);
    s.extend(record(21, 0x0303, &[1, 0]));
    let mut d = Deframer::new(SS, cfg());
    let range = s.as_ptr_range();
    let mut lent = 0;
    d.push(&s, 0u32, &mut |e| {
        if let DeframeEvent::Record(r) = e {
            let b = r.body.expect("kept");
            assert!(range.contains(&b.as_ptr()));
            lent += 1;
        }
    });
    assert_eq!(lent, 2);
    assert_eq!(d.buffered(), 0);
}

#[test]
fn sslv2_client_hello_then_records() {
    // RFC 5246 E.2: length 0x80|len, msg_type 1, version, cipher_spec_length,
    // session_id_length, challenge_length, then the lists.
    let mut v2 = vec![0x80, 0, 1, 3, 1, 0, 6, 0, 0, 0, 16];
    v2.extend_from_slice(&[0, 0, 0x2f, 0, 0, 0x35]);
    v2.extend_from_slice(&[0xab; 16]);
    v2[1] = (v2.len() - 2) as u8;
    let mut s = v2.clone();
    s.extend(record(20, 0x0301, &[1]));
    for cut in 0..s.len() {
        let evs = run_cuts(SS, cfg(), &s, &[cut]);
        let last_v2_push = usize::from(cut < v2.len());
        assert_eq!(
            evs,
            vec![
                Ev::Start(0),
                Ev::Sslv2 {
                    offset: 0,
                    version: 0x0301,
                    tag: last_v2_push
                },
                Ev::Rec(Rec {
                    ty: 20,
                    version: 0x0301,
                    len: 1,
                    offset: v2.len() as u64,
                    body: Some(vec![1]),
                    damaged: false,
                    tag: 1,
                })
            ],
            "cut {cut}"
        );
    }
    // The same hello found mid-stream (after garbage) by its full structure.
    let mut m = vec![0x55; 40];
    m.extend_from_slice(&s);
    let evs = run_cuts(MS, cfg(), &m, &[]);
    assert_eq!(evs[0], Ev::Start(40));
    assert!(matches!(evs[1], Ev::Sslv2 { offset: 40, .. }));
}

#[test]
fn server_alert_at_stream_start() {
    // s_server refusing a ClientHello: a plaintext fatal protocol_version.
    let s = [0x15, 3, 3, 0, 2, 2, 70];
    for cut in 0..=s.len() {
        let evs = run_cuts(SS, cfg(), &s, &[cut]);
        assert_eq!(evs[0], Ev::Start(0), "cut {cut}");
        assert_eq!(records(&evs)[0].body, Some(vec![2, 70]));
    }
}

#[test]
fn plaintext_gives_up_at_scan_limit() {
    let text = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".repeat(100);
    let config = DeframerConfig {
        scan_limit: 1000,
        ..cfg()
    };
    for cuts in [vec![], vec![999], vec![1000], vec![3, 500, 1500]] {
        let evs = run_cuts(SS, config, &text, &cuts);
        assert_eq!(evs, vec![Ev::GaveUp(1000)], "{cuts:?}");
    }
    let mut d = Deframer::new(SS, config);
    d.push(&text, 0usize, &mut |_| {});
    assert!(d.gave_up() && !d.is_tls());
    assert_eq!(d.offset(), text.len() as u64);
    let evs = run_cuts(MS, config, &text, &[]);
    assert_eq!(evs, vec![Ev::GaveUp(1000)]);
}

#[test]
fn starttls_header_split_at_candidate() {
    let pre = b"220 mx ESMTP\r\n250 STARTTLS\r\n220 go ahead\r\n".to_vec();
    let mut s = pre.clone();
    s.extend(hello_record(200));
    s.extend(appdata(100, 3));
    let p = pre.len();
    for cut in [p - 1, p, p + 1, p + 2, p + 3, p + 4, p + 5, p + 6] {
        let evs = run_cuts(SS, cfg(), &s, &[cut]);
        assert_eq!(evs[0], Ev::Start(p as u64), "cut {cut}");
        let recs = records(&evs);
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].offset, p as u64);
        assert_eq!(recs[1].offset, p as u64 + 205);
    }
    // 0x16 inside text that is not at a line start is not a candidate
    let mut t = b"220 a\x16\x03\x01\x00\x10\x01 b\r\n".to_vec();
    t.extend(hello_record(10));
    let evs = run_cuts(SS, cfg(), &t, &[]);
    assert_eq!(evs[0], Ev::Start(15));
}

#[test]
fn implausible_header_loses_sync_then_resyncs() {
    let mut s = hello_record(100);
    let bad_at = s.len() as u64;
    s.extend_from_slice(b"garbage that is no record at all");
    let r1 = s.len() as u64;
    s.extend(appdata(500, 5));
    s.extend(appdata(300, 6));
    s.extend(record(21, 0x0303, &[0; 26]));
    for cuts in [vec![], vec![110, 200], vec![140, 141, 142, 143, 144, 145]] {
        let evs = run_cuts(SS, cfg(), &s, &cuts);
        assert_eq!(evs[0], Ev::Start(0));
        assert_eq!(evs[2], Ev::Lost(bad_at), "{cuts:?}");
        assert_eq!(
            evs[3],
            Ev::Resync {
                offset: r1,
                skipped: r1 - bad_at
            }
        );
        let recs = records(&evs);
        assert_eq!(recs.len(), 4);
        assert_eq!(recs[1].offset, r1);
        assert_eq!(recs[3].body, Some(vec![0; 26]));
    }
}

#[test]
fn gap_over_header_loses_sync() {
    let mut s = hello_record(100);
    let a = s.len();
    s.extend(appdata(500, 7));
    let b = s.len();
    s.extend(appdata(700, 8));
    s.extend(appdata(40, 9));
    // gap from inside record 2's body into record 3
    let (g0, g1) = (a + 200, b + 50);
    let ops = vec![
        Op::Push(s[..g0].to_vec()),
        Op::Gap((g1 - g0) as u64),
        Op::Push(s[g1..].to_vec()),
        Op::Finish,
    ];
    let evs = run(SS, cfg(), &ops);
    let r4 = (b + 705) as u64;
    assert_eq!(
        evs,
        vec![
            Ev::Start(0),
            Ev::Rec(Rec {
                ty: 22,
                version: 0x0301,
                len: 100,
                offset: 0,
                body: Some(s[5..105].to_vec()),
                damaged: false,
                tag: 0
            }),
            Ev::Rec(Rec {
                ty: 23,
                version: 0x0303,
                len: 500,
                offset: a as u64,
                body: None,
                damaged: true,
                tag: 1
            }),
            Ev::Lost(b as u64),
            Ev::Resync {
                offset: r4,
                skipped: r4 - b as u64
            },
            Ev::Rec(Rec {
                ty: 23,
                version: 0x0303,
                len: 40,
                offset: r4,
                body: Some(s[r4 as usize + 5..].to_vec()),
                damaged: false,
                tag: 2 // its last byte's push, though released by finish
            }),
        ]
    );
}

#[test]
fn gap_inside_body_keeps_sync_and_can_end_the_record() {
    let mut s = hello_record(100);
    s.extend(appdata(500, 10));
    s.extend(record(21, 0x0303, &[1, 0]));
    // the gap ends exactly at the body's end: the gap completes the record
    let ops = vec![
        Op::Push(s[..300].to_vec()),
        Op::Gap(310),
        Op::Push(s[610..].to_vec()),
    ];
    let evs = run(SS, cfg(), &ops);
    let recs = records(&evs);
    assert_eq!(recs.len(), 3);
    assert!(recs[1].damaged && recs[1].body.is_none());
    assert_eq!(recs[1].tag, 1);
    assert_eq!(recs[2].body, Some(vec![1, 0]));
    assert!(!evs.iter().any(|e| matches!(e, Ev::Lost(_))));
}

#[test]
fn gap_before_tls_start_loses_sync() {
    let mut s = b"EHLO x\r\nSTARTTLS\r\n".to_vec();
    let n = s.len();
    s.extend(hello_record(100));
    s.extend(appdata(300, 11));
    s.extend(appdata(300, 12));
    let ops = vec![
        Op::Push(s[..4].to_vec()),
        Op::Gap(20),
        Op::Push(s[24..].to_vec()),
        Op::Finish,
    ];
    let evs = run(SS, cfg(), &ops);
    let r = (n + 105) as u64;
    assert_eq!(evs[0], Ev::Lost(4));
    assert_eq!(evs[1], Ev::Start(r));
    assert_eq!(
        evs[2],
        Ev::Resync {
            offset: r,
            skipped: r - 4
        }
    );
    assert_eq!(records(&evs).len(), 2);
}

#[test]
fn midstream_verified_by_chain() {
    let mut s = Prng::new(1).bytes(0);
    let first = appdata(2000, 13);
    s.extend_from_slice(&first[1234..]);
    let r = s.len() as u64;
    s.extend(appdata(400, 14));
    s.extend(appdata(30, 15));
    let mut d = Deframer::new(MS, cfg());
    let mut evs = Vec::new();
    d.push(&s, 0usize, &mut |e| evs.push(own(e)));
    // the first record is verified by the header after it; from then on
    // the deframer is in sync and nothing waits for finish()
    assert_eq!(evs[0], Ev::Start(r));
    assert_eq!(records(&evs).len(), 2);
    assert!(d.in_sync());
    d.finish(&mut |e| evs.push(own(e)));
    assert_eq!(evs.len(), 3);
}

#[test]
fn midstream_tentative_confirmed_or_dropped() {
    // candidate at 10, record ends beyond the first push
    let mut s = vec![0x61; 10];
    s.extend(appdata(400, 16));
    let after = s.len();
    let mut good = s.clone();
    good.extend(appdata(100, 17));
    let evs = run_cuts(MS, cfg(), &good, &[200, after + 2]);
    assert_eq!(evs[0], Ev::Start(10));
    let recs = records(&evs);
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0].tag, 1); // its own last byte, not the confirming push
    assert_eq!(recs[1].tag, 2);

    // the same candidate followed by garbage: dropped without a trace
    let mut bad = s.clone();
    bad.extend_from_slice(&[0x61; 600]);
    let evs = run_cuts(MS, cfg(), &bad, &[200, after + 2]);
    assert_eq!(evs, vec![]);

    // garbage then a real record later: found after the drop
    let mut late = bad.clone();
    let r = late.len() as u64;
    late.extend(appdata(50, 18));
    late.extend(appdata(60, 19));
    let evs = run_cuts(MS, cfg(), &late, &[200, after + 2]);
    assert_eq!(evs[0], Ev::Start(r));
    assert_eq!(records(&evs).len(), 2);
}

#[test]
fn finish_and_gap_release_a_held_record() {
    let mut s = vec![0x61; 7];
    s.extend(appdata(64, 20));
    let evs = run_cuts(MS, cfg(), &s, &[20]);
    assert_eq!(evs[0], Ev::Start(7));
    assert_eq!(records(&evs)[0].body.as_ref().map(|b| b.len()), Some(64));

    let ops = vec![
        Op::Push(s[..20].to_vec()),
        Op::Push(s[20..].to_vec()),
        Op::Gap(10),
    ];
    let evs = run(MS, cfg(), &ops);
    assert_eq!(evs[0], Ev::Start(7));
    assert_eq!(records(&evs).len(), 1);
    assert_eq!(records(&evs)[0].tag, 1);
    assert_eq!(evs[2], Ev::Lost(s.len() as u64));
}

#[test]
fn skippable_and_skip() {
    let mut s = hello_record(10);
    s.extend(appdata(1000, 21));
    s.extend(record(21, 0x0303, &[1, 0]));
    let mut d = Deframer::new(SS, cfg());
    let mut evs = Vec::new();
    d.push(&s[..20], 0usize, &mut |e| evs.push(own(e)));
    assert_eq!(d.skippable(), 1000);
    d.push(&s[20..500], 1, &mut |e| evs.push(own(e)));
    assert_eq!(d.skippable(), 1020 - 500);
    d.skip(520, 2, &mut |e| evs.push(own(e)));
    assert_eq!(d.skippable(), 0);
    assert_eq!(d.offset(), 1020);
    d.push(&s[1020..], 3, &mut |e| evs.push(own(e)));
    let recs = records(&evs);
    assert_eq!(recs.len(), 3);
    assert_eq!((recs[1].tag, recs[1].damaged), (2, false));
    assert_eq!(recs[2].body, Some(vec![1, 0]));
    // a kept (handshake) body is not skippable
    let mut d = Deframer::new(SS, cfg());
    d.push(&s[..8], 0usize, &mut |_| {});
    assert_eq!(d.skippable(), 0);
}

#[test]
fn want_handshake_false_stops_keeping_big_handshake_bodies() {
    let mut s = hello_record(3000);
    s.extend(record(22, 0x0303, &[9; 3000]));
    s.extend(record(22, 0x0303, &[9; 60]));
    let mut d = Deframer::new(SS, cfg());
    let mut kept = Vec::new();
    d.push(&s[..3005], 0usize, &mut |e| {
        if let DeframeEvent::Record(r) = e {
            kept.push(r.body.is_some());
        }
    });
    d.set_want_handshake(false);
    d.push(&s[3005..], 1, &mut |e| {
        if let DeframeEvent::Record(r) = e {
            kept.push(r.body.is_some());
        }
    });
    assert_eq!(kept, vec![true, false, true]);
}

#[test]
fn spanning_kept_body_is_copied_and_bounded() {
    let config = DeframerConfig {
        keep_body_max: 16,
        keep_handshake_max: 5000,
        scan_limit: 1 << 20,
    };
    let s = hello_record(5000);
    let cuts: Vec<usize> = (1..s.len()).step_by(7).collect();
    let evs = run_cuts(SS, config, &s, &cuts);
    let recs = records(&evs);
    assert_eq!(recs[0].body.as_deref(), Some(&s[5..]));
    let big = hello_record(5001);
    let evs = run_cuts(SS, config, &big, &cuts);
    assert_eq!(records(&evs)[0].body, None);
}

#[test]
fn zero_length_records_in_sync() {
    let mut s = hello_record(10);
    s.extend(record(23, 0x0303, &[]));
    s.extend(record(23, 0x0303, &[5]));
    for cut in 0..s.len() {
        let evs = run_cuts(SS, cfg(), &s, &[cut]);
        let recs = records(&evs);
        assert_eq!(recs.len(), 3, "cut {cut}");
        assert_eq!(recs[1].body, Some(vec![]));
        assert_eq!(recs[1].tag, usize::from(cut < 20));
    }
}

#[test]
fn midstream_hello_is_immediate_sync() {
    // a capture starting inside an SMTP dialogue: the ClientHello is found
    // at once, without waiting for the header after it
    let mut s = b"TLS\r\n".to_vec();
    s.extend(hello_record(300));
    let mut d = Deframer::new(MS, cfg());
    let mut evs = Vec::new();
    d.push(&s[..100], 0usize, &mut |e| evs.push(own(e)));
    assert_eq!(evs, vec![Ev::Start(5)]);
    assert!(d.in_sync() && d.is_tls());
}

#[test]
fn resync_gives_up_after_scan_limit() {
    let config = DeframerConfig {
        scan_limit: 500,
        ..cfg()
    };
    let mut s = hello_record(10);
    s.extend_from_slice(&[b'x'; 2000]);
    s.extend(appdata(100, 30));
    for cut in [12, 15, 16, 17, 19, 20, 300, 514, 515, 516, 700] {
        let evs = run_cuts(SS, config, &s, &[cut]);
        assert_eq!(
            &evs[2..],
            &[Ev::Lost(15), Ev::GaveUp(15 + 500)],
            "cut {cut}"
        );
    }
}

#[test]
fn midstream_gap_before_sync_gives_resync_with_skipped() {
    let mut s = vec![0x61; 30];
    s.extend(appdata(100, 31));
    s.extend(appdata(100, 32));
    let ops = vec![
        Op::Push(s[..10].to_vec()),
        Op::Gap(5),
        Op::Push(s[15..].to_vec()),
        Op::Finish,
    ];
    let evs = run(MS, cfg(), &ops);
    assert_eq!(
        &evs[..3],
        &[
            Ev::Lost(10),
            Ev::Start(30),
            Ev::Resync {
                offset: 30,
                skipped: 20
            }
        ]
    );
    assert_eq!(records(&evs).len(), 2);
}

#[test]
fn keep_body_max_can_be_raised_between_records() {
    // keys found after the hello: the bodies after it are kept whole, those
    // in one push lent, those spanning pushes copied
    let first = appdata(1000, 7);
    let second = appdata(3000, 8);
    let mut d = Deframer::new(MS, cfg());
    let mut bodies = Vec::new();
    let mut sink = |e: DeframeEvent<'_, u32>| {
        if let DeframeEvent::Record(r) = e {
            bodies.push(r.body.map(<[u8]>::len));
        }
    };
    d.push(&hello_record(100), 0, &mut sink);
    d.push(&first, 1, &mut sink);
    d.set_keep_body_max(16384 + 2048);
    d.push(&first, 2, &mut sink);
    d.push(&second[..1500], 3, &mut sink);
    d.push(&second[1500..], 4, &mut sink);
    d.set_keep_body_max(64);
    d.push(&first, 5, &mut sink);
    assert_eq!(
        bodies,
        vec![Some(100), None, Some(1000), Some(3000), None],
        "hello kept, then skipped, kept, kept across pushes, skipped again"
    );
}

#[test]
fn a_start_header_alone_in_its_segment_waits_for_the_first_body_byte() {
    // found by fuzz/deframer_split: with the header alone in the first
    // push, TLS was said to start whatever the body's first byte was
    let not_hello = vec![
        Op::Push(vec![0x16, 3, 0, 0x1a, 0xcf]),
        Op::Push(vec![0xdb; 40]),
        Op::Finish,
    ];
    let evs = run(SS, cfg(), &not_hello);
    assert!(!evs.contains(&Ev::Start(0)), "{evs:?}");

    let mut hello = hello_record(30);
    let rest = hello.split_off(5);
    let evs = run(SS, cfg(), &[Op::Push(hello), Op::Push(rest), Op::Finish]);
    assert_eq!(evs.first(), Some(&Ev::Start(0)), "{evs:?}");
    assert_eq!(records(&evs).len(), 1);

    // a hole right after the header: the header alone decides, and the
    // record is reported damaged
    let mut hello = hello_record(30);
    hello.truncate(5);
    let evs = run(SS, cfg(), &[Op::Push(hello), Op::Gap(30), Op::Finish]);
    assert_eq!(evs.first(), Some(&Ev::Start(0)), "{evs:?}");
    let recs = records(&evs);
    assert_eq!(recs.len(), 1);
    assert!(recs[0].damaged);
}

/// A deframer lives in every direction of every live flow: what only the
/// search for sync needs is boxed, so it stays small (232 bytes before it
/// was made compact, with a 24-byte tag like the flow table's).
#[test]
fn deframer_stays_compact() {
    let size = std::mem::size_of::<Deframer<[u64; 3]>>();
    eprintln!("Deframer<[u64; 3]>: {size} bytes");
    assert!(size <= 96, "Deframer<[u64; 3]> is {size} bytes");
}
