//! Property tests of the deframer: chunking never changes what comes out,
//! STARTTLS preambles, gaps inside bodies, mid-stream resynchronisation,
//! and arbitrary input (no panic, bounded memory).
mod common;

use common::*;
use proptest::prelude::*;
use tlsclose_tls::{DeframerConfig, StartMode};

const SS: StartMode = StartMode::StreamStart;
const MS: StartMode = StartMode::MidStream;

/// The default number of cases, or PROPTEST_CASES when set (for long runs).
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn cfg() -> DeframerConfig {
    DeframerConfig::default()
}

/// A record of any type/version with a body of a length drawn from `len`.
fn spec(len: impl Strategy<Value = usize>) -> impl Strategy<Value = Spec> {
    (20u8..=24, 0u8..=4, len, any::<u64>()).prop_map(|(ty, minor, len, seed)| Spec {
        ty,
        version: 0x0300 | u16::from(minor),
        body: Prng::new(seed).bytes(len),
    })
}

/// A TLS stream: a hello-carrying handshake record, then anything.
fn tls_stream(
    len: impl Strategy<Value = usize> + Clone,
    max_records: usize,
) -> impl Strategy<Value = Vec<Spec>> {
    (
        (1usize..400, 1u8..=2, any::<u64>()),
        prop::collection::vec(spec(len), 0..max_records),
    )
        .prop_map(|((hl, hello, seed), rest)| {
            let mut body = Prng::new(seed).bytes(hl);
            body[0] = hello;
            let mut v = vec![Spec {
                ty: 22,
                version: 0x0301,
                body,
            }];
            v.extend(rest);
            v
        })
}

fn small_len() -> impl Strategy<Value = usize> + Clone {
    prop_oneof![0usize..70, 60usize..200]
}

fn any_len() -> impl Strategy<Value = usize> + Clone {
    prop_oneof![0usize..70, 60usize..3000, 15000usize..=18432]
}

/// Sorted cut points inside `0..=len`, from fractions.
fn cuts_from(fracs: &[f64], len: usize) -> Vec<usize> {
    let mut c: Vec<usize> = fracs.iter().map(|f| (f * len as f64) as usize).collect();
    c.sort_unstable();
    c
}

fn with_tags(expect: &[Rec], cuts: &[usize]) -> Vec<Rec> {
    expect
        .iter()
        .map(|r| Rec {
            tag: push_index(cuts, r.end() - 1),
            ..r.clone()
        })
        .collect()
}

fn is_sync_trouble(e: &Ev) -> bool {
    matches!(e, Ev::Lost(_) | Ev::Resync { .. })
}

fn is_other(e: &Ev) -> bool {
    matches!(e, Ev::GaveUp(_) | Ev::Sslv2 { .. })
}

/// Invariants any event sequence must keep.
fn check_events(evs: &[Ev], end: u64) {
    let mut starts = 0;
    let mut lost = false;
    let mut last_end = 0u64;
    let mut gave_up = false;
    for e in evs {
        assert!(!gave_up, "event after GaveUp: {e:?}");
        match e {
            Ev::Start(o) => {
                starts += 1;
                assert!(*o <= end);
            }
            Ev::Rec(r) => {
                assert!(r.offset >= last_end, "overlapping records");
                assert!(r.end() <= end, "record beyond the stream");
                assert!(!(r.damaged && r.body.is_some()));
                if let Some(b) = &r.body {
                    assert_eq!(b.len(), usize::from(r.len));
                }
                last_end = r.end();
            }
            Ev::Sslv2 { offset, .. } => {
                assert!(*offset >= last_end);
                last_end = *offset + 2;
            }
            Ev::Lost(o) => {
                assert!(!lost, "LostSync twice");
                assert!(*o >= last_end);
                lost = true;
            }
            Ev::Resync { offset, skipped } => {
                assert!(lost, "Resync without LostSync");
                assert!(*skipped <= *offset);
                lost = false;
            }
            Ev::GaveUp(_) => gave_up = true,
        }
    }
    assert!(starts <= 1);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(48)))]

    /// (a) Every single split point gives the same records as one push.
    #[test]
    fn every_split_point_gives_the_same_records(specs in tls_stream(small_len(), 8)) {
        let (stream, expect) = build(&specs, 0, &cfg());
        let whole = run_cuts(SS, cfg(), &stream, &[]);
        prop_assert_eq!(&whole[0], &Ev::Start(0));
        prop_assert_eq!(whole.len(), expect.len() + 1);
        prop_assert_eq!(untagged(&whole), expect.clone());
        for s in 0..=stream.len() {
            let evs = run_cuts(SS, cfg(), &stream, &[s]);
            prop_assert_eq!(&evs[0], &Ev::Start(0));
            prop_assert_eq!(evs.len(), expect.len() + 1);
            prop_assert_eq!(records(&evs), with_tags(&expect, &[s]), "split {}", s);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(128)))]

    /// (a) Any chunking gives the same records, each tagged with the push
    /// that delivered its last byte.
    #[test]
    fn any_chunking_gives_the_same_records(
        specs in tls_stream(any_len(), 10),
        fracs in prop::collection::vec(0.0f64..=1.0, 0..60),
    ) {
        let (stream, expect) = build(&specs, 0, &cfg());
        let cuts = cuts_from(&fracs, stream.len());
        let evs = run_cuts(SS, cfg(), &stream, &cuts);
        check_events(&evs, stream.len() as u64);
        prop_assert_eq!(&evs[0], &Ev::Start(0));
        prop_assert_eq!(evs.len(), expect.len() + 1);
        prop_assert_eq!(records(&evs), with_tags(&expect, &cuts));
    }

    /// (b) A STARTTLS preamble: TLS starts right after it, same records.
    #[test]
    fn starttls_preamble_then_records(
        lines in prop::collection::vec("[ -~]{0,60}", 0..8),
        specs in tls_stream(any_len(), 6),
        fracs in prop::collection::vec(0.0f64..=1.0, 0..40),
    ) {
        let mut pre = b"220 mx.example ESMTP ready\r\nEHLO x\r\n250-mx.example\r\n".to_vec();
        for l in &lines {
            pre.extend_from_slice(l.as_bytes());
            pre.extend_from_slice(b"\r\n");
        }
        pre.extend_from_slice(b"250 STARTTLS\r\nSTARTTLS\r\n220 go\r\n");
        let (tls, expect) = build(&specs, pre.len() as u64, &cfg());
        let mut stream = pre.clone();
        stream.extend_from_slice(&tls);
        let cuts = cuts_from(&fracs, stream.len());
        let evs = run_cuts(SS, cfg(), &stream, &cuts);
        check_events(&evs, stream.len() as u64);
        prop_assert_eq!(&evs[0], &Ev::Start(pre.len() as u64));
        prop_assert_eq!(evs.len(), expect.len() + 1);
        prop_assert_eq!(records(&evs), with_tags(&expect, &cuts));
    }

    /// (c) A gap inside one record's body keeps sync: that record is
    /// damaged, all others identical.
    #[test]
    fn gap_inside_a_body_keeps_sync(
        specs in tls_stream(any_len(), 8),
        pick in any::<prop::sample::Index>(),
        g in (0.0f64..1.0, 0.0f64..=1.0),
        fracs in prop::collection::vec(0.0f64..=1.0, 0..30),
    ) {
        let (stream, mut expect) = build(&specs, 0, &cfg());
        let with_body: Vec<usize> = (0..expect.len()).filter(|&k| expect[k].len > 0).collect();
        let k = with_body[pick.index(with_body.len())];
        let body_start = expect[k].offset as usize + 5;
        let body_len = usize::from(expect[k].len);
        let gap_at = body_start + (g.0 * body_len as f64) as usize;
        let room = body_start + body_len - gap_at;
        let gap_len = 1 + ((g.1 * (room - 1) as f64) as usize).min(room - 1);
        expect[k].damaged = true;
        expect[k].body = None;

        let before = cuts_from(&fracs, gap_at);
        let after: Vec<usize> = cuts_from(&fracs, stream.len() - gap_at - gap_len)
            .into_iter().map(|c| c + gap_at + gap_len).collect();
        let mut ops = Vec::new();
        let mut prev = 0;
        let mut tag_of = Vec::new(); // (first byte, op index) per op
        for &c in before.iter().chain([gap_at].iter()) {
            tag_of.push((prev, ops.len()));
            ops.push(Op::Push(stream[prev..c].to_vec()));
            prev = c;
        }
        tag_of.push((prev, ops.len()));
        ops.push(Op::Gap(gap_len as u64));
        prev = gap_at + gap_len;
        for &c in after.iter().chain([stream.len()].iter()) {
            tag_of.push((prev, ops.len()));
            ops.push(Op::Push(stream[prev..c].to_vec()));
            prev = c;
        }
        ops.push(Op::Finish);
        let evs = run(SS, cfg(), &ops);
        check_events(&evs, stream.len() as u64);
        prop_assert!(!evs.iter().any(is_sync_trouble));
        prop_assert_eq!(untagged(&evs), expect.clone());
        // tags: the op holding the record's last byte
        for r in records(&evs) {
            let last = r.end() - 1;
            // empty pushes never deliver bytes; the gap op delivers its range
            let expected = tag_of.iter().rev().find(|(first, i)| {
                (*first as u64) <= last && match &ops[*i] {
                    Op::Push(b) => (*first + b.len()) as u64 > last,
                    Op::Gap(n) => *first as u64 + n > last,
                    Op::Finish => false,
                }
            }).map(|&(_, i)| i);
            prop_assert_eq!(Some(r.tag), expected);
        }
    }

    /// (d) Mid-stream start inside a stream of application data records:
    /// sync is found at a record boundary and exactly the records from there
    /// on come out, nothing bogus.
    #[test]
    fn midstream_yields_exactly_a_suffix(
        lens in prop::collection::vec(100usize..16401, 1..8),
        seed in any::<u64>(),
        cut in 0.0f64..1.0,
        fracs in prop::collection::vec(0.0f64..=1.0, 0..40),
    ) {
        let mut rng = Prng::new(seed);
        let mut specs: Vec<Spec> = lens.iter().map(|&l| Spec {
            ty: 23, version: 0x0303, body: rng.bytes(l),
        }).collect();
        specs.push(Spec { ty: 21, version: 0x0303, body: rng.bytes(26) });
        let (stream, expect) = build(&specs, 0, &cfg());
        let c = (cut * stream.len() as f64) as usize;
        let tail = &stream[c..];
        let cuts = cuts_from(&fracs, tail.len());
        let evs = run_cuts(MS, cfg(), tail, &cuts);
        check_events(&evs, tail.len() as u64);

        // true records after the cut, offsets relative to it
        let suffix: Vec<Rec> = expect.iter().filter(|r| r.offset as usize >= c)
            .map(|r| Rec { offset: r.offset - c as u64, ..r.clone() }).collect();
        let bounds: Vec<u64> = suffix.iter().map(|r| r.offset).collect();
        // positions where random body bytes happen to look like a header
        let false_cands = (0..tail.len().saturating_sub(4)).filter(|&p| {
            !bounds.contains(&(p as u64))
                && (20..=24).contains(&tail[p]) && tail[p + 1] == 3 && tail[p + 2] <= 4
                && (1..=18432).contains(&u16::from_be_bytes([tail[p + 3], tail[p + 4]]))
        }).count();

        prop_assert!(!evs.iter().any(|e| is_sync_trouble(e) || is_other(e)));
        let got = untagged(&evs);
        match evs.first() {
            None => {
                prop_assert!(suffix.is_empty() || false_cands > 0, "no sync found");
            }
            Some(Ev::Start(r)) => {
                prop_assert!(bounds.contains(r), "sync at {} is no record boundary", r);
                let want: Vec<Rec> = suffix.iter().filter(|x| x.offset >= *r).cloned().collect();
                prop_assert_eq!(&got, &want);
                if false_cands == 0 {
                    prop_assert_eq!(Some(*r), bounds.first().copied());
                }
            }
            Some(other) => prop_assert!(false, "first event {:?}", other),
        }
        prop_assert_eq!(records(&evs).len(), got.len());
        let tagged = with_tags(&got, &cuts);
        prop_assert_eq!(records(&evs), tagged);
    }

    /// (e) Arbitrary bytes, gaps and finishes never panic; memory stays
    /// bounded (checked after every op by `run`), events stay consistent.
    #[test]
    fn arbitrary_input_is_harmless(
        ops in prop::collection::vec(prop_oneof![
            8 => prop::collection::vec(any::<u8>(), 0..700).prop_map(Op::Push),
            2 => prop::collection::vec(prop_oneof![Just(0x16u8), Just(0x17), Just(3), Just(0), Just(1), Just(b'\n'), Just(0x80)], 0..50).prop_map(Op::Push),
            1 => (0u64..3000).prop_map(Op::Gap),
            1 => Just(Op::Finish),
        ], 0..40),
        midstream in any::<bool>(),
        keep in (0usize..100, 0usize..3000, 0u64..5000),
    ) {
        let config = DeframerConfig { keep_body_max: keep.0, keep_handshake_max: keep.1, scan_limit: keep.2 };
        let mode = if midstream { MS } else { SS };
        let total: u64 = ops.iter().map(|o| match o { Op::Push(b) => b.len() as u64, Op::Gap(n) => *n, Op::Finish => 0 }).sum();
        let evs = run(mode, config, &ops);
        check_events(&evs, total);
    }

    /// (e) Real records mixed with junk, cut anywhere and with holes: no
    /// panic, bounded memory, consistent events.
    #[test]
    fn records_mixed_with_junk_and_holes(
        parts in prop::collection::vec(prop_oneof![
            3 => spec(any_len()).prop_map(|s| record(s.ty, s.version, &s.body)),
            1 => prop::collection::vec(any::<u8>(), 0..300),
            1 => Just(b"EHLO x\r\nSTARTTLS\r\n".to_vec()),
            1 => Just(vec![0x80, 0x2e, 1, 3, 1, 0, 21, 0, 0, 0, 16]),
        ], 1..12),
        fracs in prop::collection::vec(0.0f64..=1.0, 0..30),
        holes in prop::collection::vec((any::<prop::sample::Index>(), 1u64..2000), 0..3),
        midstream in any::<bool>(),
        small in any::<bool>(),
    ) {
        let stream: Vec<u8> = parts.concat();
        let cuts = cuts_from(&fracs, stream.len());
        let mut ops = Vec::new();
        let mut prev = 0;
        for &c in cuts.iter().chain([stream.len()].iter()) {
            ops.push(Op::Push(stream[prev..c].to_vec()));
            prev = c;
        }
        for (i, n) in &holes {
            let at = i.index(ops.len() + 1);
            ops.insert(at, Op::Gap(*n));
        }
        ops.push(Op::Finish);
        let config = if small {
            DeframerConfig { keep_body_max: 10, keep_handshake_max: 500, scan_limit: 4000 }
        } else {
            cfg()
        };
        let total = stream.len() as u64 + holes.iter().map(|h| h.1).sum::<u64>();
        let evs = run(if midstream { MS } else { SS }, config, &ops);
        check_events(&evs, total);
    }
}
