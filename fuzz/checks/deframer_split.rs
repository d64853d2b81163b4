//! The TLS record deframer on arbitrary byte streams, differentially: the
//! same stream (with the same holes) fed in as few pushes as possible and
//! split at arbitrary points must give the same records, the same
//! LostSync / GaveUp, and each record must carry the tag of the push that
//! delivered its last byte.
//!
//! Where the deframer looks for TLS in a plaintext preamble or after lost
//! sync, the start of a pushed chunk is a candidate position by design
//! (a segment boundary is evidence), so there the comparison stops at the
//! first LostSync; from then on both runs are held to the invariants any
//! event sequence must keep, and to the memory bound.
//!
//! Input layout: flags (bit 0 mid-stream, bit 1 small keep limits, bits
//! 4-5 number of holes), a cut count, cuts (u16 each), holes (u16
//! position, u8 length each), then the stream.
//!
//! Shared by the fuzz target (fuzz/fuzz_targets/) and the regression test
//! that replays testdata/regressions/deframer_split/ under `cargo test`.
use tlsclose_tls::{DeframeEvent, Deframer, DeframerConfig, StartMode};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Ev {
    Start(u64),
    Rec {
        ty: u8,
        version: u16,
        len: u16,
        offset: u64,
        body: Option<Vec<u8>>,
        damaged: bool,
        tag: usize,
    },
    Sslv2 {
        offset: u64,
        version: u16,
    },
    Lost(u64),
    Resync {
        offset: u64,
        skipped: u64,
    },
    GaveUp(u64),
}

impl Ev {
    fn untagged(&self) -> Ev {
        match self {
            Ev::Rec {
                ty,
                version,
                len,
                offset,
                body,
                damaged,
                ..
            } => Ev::Rec {
                ty: *ty,
                version: *version,
                len: *len,
                offset: *offset,
                body: body.clone(),
                damaged: *damaged,
                tag: 0,
            },
            e => e.clone(),
        }
    }
}

fn own(e: DeframeEvent<'_, usize>) -> Ev {
    match e {
        DeframeEvent::TlsStart { offset } => Ev::Start(offset),
        DeframeEvent::Record(r) => Ev::Rec {
            ty: r.header.content_type.0,
            version: r.header.version.0,
            len: r.header.length,
            offset: r.offset,
            body: r.body.map(<[u8]>::to_vec),
            damaged: r.damaged,
            tag: r.tag,
        },
        DeframeEvent::Sslv2ClientHello {
            offset, version, ..
        } => Ev::Sslv2 {
            offset,
            version: version.0,
        },
        DeframeEvent::LostSync { offset } => Ev::Lost(offset),
        DeframeEvent::Resync { offset, skipped } => Ev::Resync { offset, skipped },
        DeframeEvent::GaveUp { offset } => Ev::GaveUp(offset),
    }
}

#[derive(Debug, Clone)]
enum Op {
    /// Stream bytes `start..end`.
    Push(usize, usize),
    /// A hole of this many bytes.
    Gap(u64),
}

/// Runs the ops; returns the events and, per op, the stream range it covered.
fn run(
    mode: StartMode,
    config: DeframerConfig,
    stream: &[u8],
    ops: &[Op],
) -> (Vec<Ev>, Vec<(u64, u64)>) {
    let mut d = Deframer::new(mode, config);
    let mut evs = Vec::new();
    let mut ranges = Vec::new();
    let bound = config.keep_body_max.max(config.keep_handshake_max) + 9;
    let mut at = 0u64;
    for (tag, op) in ops.iter().enumerate() {
        let mut sink = |e: DeframeEvent<'_, usize>| evs.push(own(e));
        match op {
            Op::Push(s, e) => {
                d.push(stream.get(*s..*e).unwrap_or(&[]), tag, &mut sink);
                ranges.push((at, at + (e - s) as u64));
                at += (e - s) as u64;
            }
            Op::Gap(n) => {
                d.gap(*n, tag, &mut sink);
                ranges.push((at, at + n));
                at += n;
            }
        }
        assert!(d.buffered() <= bound, "buffered {} > {bound}", d.buffered());
        assert_eq!(d.offset(), at);
    }
    d.finish(&mut |e| evs.push(own(e)));
    (evs, ranges)
}

/// Invariants any event sequence keeps (as in crates/tls/tests/deframer_props.rs).
fn check_events(evs: &[Ev], ranges: &[(u64, u64)], end: u64) {
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
            Ev::Rec {
                len,
                offset,
                body,
                damaged,
                tag,
                ..
            } => {
                let rend = offset + 5 + u64::from(*len);
                assert!(*offset >= last_end, "overlapping records {e:?}");
                assert!(rend <= end, "record beyond the stream {e:?}");
                assert!(!(*damaged && body.is_some()));
                if let Some(b) = body {
                    assert_eq!(b.len(), usize::from(*len));
                }
                // the tag is the op that delivered the record's last byte
                let (s, t) = ranges.get(*tag).copied().unwrap_or((0, 0));
                assert!(
                    s < rend && rend <= t,
                    "{e:?} tagged with op covering {s}..{t}"
                );
                last_end = rend;
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

fn u16_at(b: &[u8], i: usize) -> usize {
    match b.get(i..i + 2) {
        Some(&[x, y]) => usize::from(u16::from_le_bytes([x, y])),
        _ => 0,
    }
}

/// Panics when the input breaks a property (see the module docs).
pub fn check(data: &[u8]) {
    let (&flags, rest) = data.split_first().unwrap_or((&0, &[]));
    let (&ncuts, rest) = rest.split_first().unwrap_or((&0, &[]));
    let ncuts = usize::from(ncuts % 33);
    let nholes = usize::from((flags >> 4) & 3);
    let head = 2 * ncuts + 3 * nholes;
    if rest.len() < head {
        return;
    }
    let (ctl, stream) = rest.split_at(head);
    let len = stream.len();
    let mode = if flags & 1 == 1 {
        StartMode::MidStream
    } else {
        StartMode::StreamStart
    };
    let config = if flags & 2 == 2 {
        DeframerConfig {
            keep_body_max: 10,
            keep_handshake_max: 500,
            scan_limit: 4000,
        }
    } else {
        DeframerConfig::default()
    };
    let mut cuts: Vec<usize> = (0..ncuts).map(|k| u16_at(ctl, 2 * k) % (len + 1)).collect();
    cuts.sort_unstable();
    // holes: (position in the stream, length), applied in both runs
    let mut holes: Vec<(usize, u64)> = (0..nholes)
        .map(|k| {
            let at = 2 * ncuts + 3 * k;
            let pos = u16_at(ctl, at) % (len + 1);
            let n = u64::from(ctl.get(at + 2).copied().unwrap_or(1)) + 1;
            (pos, n)
        })
        .collect();
    holes.sort_unstable();

    // The same stream as ops: pushes broken only at holes (whole), or also
    // at every cut (split).
    let ops = |with_cuts: bool| -> Vec<Op> {
        let mut points: Vec<(usize, Option<u64>)> =
            holes.iter().map(|&(p, n)| (p, Some(n))).collect();
        if with_cuts {
            points.extend(cuts.iter().map(|&c| (c, None)));
        }
        points.sort_by_key(|p| (p.0, p.1.is_some()));
        let mut v = Vec::new();
        let mut prev = 0;
        for (p, hole) in points {
            if p > prev || (with_cuts && hole.is_none()) {
                v.push(Op::Push(prev, p));
                prev = p;
            }
            if let Some(n) = hole {
                v.push(Op::Gap(n));
            }
        }
        v.push(Op::Push(prev, len));
        v
    };
    let whole_ops = ops(false);
    let split_ops = ops(true);
    let total = len as u64 + holes.iter().map(|h| h.1).sum::<u64>();

    let (whole, wr) = run(mode, config, stream, &whole_ops);
    let (split, sr) = run(mode, config, stream, &split_ops);
    check_events(&whole, &wr, total);
    check_events(&split, &sr, total);

    // TLS found at offset 0 of a connection's stream (by either run): the
    // chunking must not matter up to the first loss of sync (inclusive).
    let at0 = |evs: &[Ev]| evs.first() == Some(&Ev::Start(0));
    if mode == StartMode::StreamStart && (at0(&whole) || at0(&split)) {
        let first_loss = |evs: &[Ev]| {
            evs.iter()
                .position(|e| matches!(e, Ev::Lost(_) | Ev::GaveUp(_)))
                .map_or(evs.len(), |k| k + 1)
        };
        let upto = first_loss(&whole).min(first_loss(&split)).max(1);
        let a: Vec<Ev> = whole.iter().take(upto).map(Ev::untagged).collect();
        let b: Vec<Ev> = split.iter().take(upto).map(Ev::untagged).collect();
        assert_eq!(a, b, "whole {whole_ops:?} vs split {split_ops:?}");
    }
}
