//! The TCP reassembler on structured segment sequences.
//!
//! Every byte's value is a function of its position in the stream, so the
//! oracle can check what comes out: bytes are delivered in order and never
//! twice (each chunk starts where the last one ended and matches the
//! stream there), data is only delivered for bytes some segment carried,
//! a gap never covers bytes that were captured and are still held, the
//! bytes held for out-of-order segments stay under the limit after every
//! call, and after `flush` nothing is held.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;
use tlsclose_tcp::{Chunk, Reassembler};

#[derive(Arbitrary, Debug)]
enum Op {
    /// A segment at a stream position (relative to the first byte), `len`
    /// bytes on the wire of which the last `cut` were not captured.
    Seg { pos: u16, len: u8, cut: u8 },
    /// A segment far away (still within 2^30 of the start).
    Far { pos: u32, len: u16 },
    /// The peer acknowledges up to a position.
    Ack { pos: u16 },
    /// This direction's FIN at a position.
    Fin { pos: u16 },
}

#[derive(Arbitrary, Debug)]
struct Input {
    isn: u32,
    /// The SYN was seen (else the first segment fixes the start).
    syn: bool,
    limit: u16,
    ops: Vec<Op>,
}

fn byte_at(pos: u64) -> u8 {
    (pos.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as u8
}

/// Captured positions, as disjoint intervals start -> end.
#[derive(Default)]
struct Covered(BTreeMap<u64, u64>);

impl Covered {
    fn add(&mut self, s: u64, e: u64) {
        if s < e {
            let (mut s, mut e) = (s, e);
            let overlapping: Vec<(u64, u64)> = self
                .0
                .range(..=e)
                .filter(|(_, &ie)| ie >= s)
                .map(|(&a, &b)| (a, b))
                .collect();
            for (a, b) in overlapping {
                self.0.remove(&a);
                s = s.min(a);
                e = e.max(b);
            }
            self.0.insert(s, e);
        }
    }
    fn touches(&self, s: u64, e: u64) -> bool {
        self.0.range(..e).next_back().is_some_and(|(_, &ie)| ie > s)
    }
    fn contains_all(&self, s: u64, e: u64) -> bool {
        s >= e
            || self
                .0
                .range(..=s)
                .next_back()
                .is_some_and(|(_, &ie)| ie >= e)
    }
}

struct Oracle {
    /// Stream position of delivered offset 0.
    base: Option<u64>,
    /// Delivered offset so far.
    cursor: u64,
    covered: Covered,
}

impl Oracle {
    fn take(&mut self, c: Chunk<'_>) {
        let base = self.base.unwrap_or(0);
        match c {
            Chunk::Data(d) => {
                assert!(!d.is_empty(), "empty data chunk");
                let start = base + self.cursor;
                for (k, &b) in d.iter().enumerate() {
                    assert_eq!(
                        b,
                        byte_at(start + k as u64),
                        "byte at offset {}",
                        self.cursor + k as u64
                    );
                }
                let end = start + d.len() as u64;
                assert!(
                    self.covered.contains_all(start, end),
                    "data never sent at {start}..{end}"
                );
                self.cursor += d.len() as u64;
            }
            Chunk::Gap(n) => {
                assert!(n > 0, "empty gap");
                let start = base + self.cursor;
                assert!(
                    !self.covered.touches(start, start + n),
                    "gap over captured bytes at {start}..{}",
                    start + n
                );
                self.cursor += n;
            }
        }
    }
}

fuzz_target!(|input: Input| {
    let limit = usize::from(input.limit);
    let mut r: Reassembler<u32> = Reassembler::new(limit);
    let start_seq = input.isn.wrapping_add(1);
    if input.syn {
        r.syn(input.isn);
    }
    let mut o = Oracle {
        base: input.syn.then_some(0),
        cursor: 0,
        covered: Covered::default(),
    };
    let seq_of = |pos: u64| start_seq.wrapping_add(pos as u32);
    for (i, op) in input.ops.iter().enumerate() {
        let tag = i as u32;
        match *op {
            Op::Seg { .. } | Op::Far { .. } => {
                let (pos, len, cut) = match *op {
                    Op::Seg { pos, len, cut } => (u64::from(pos), u64::from(len), u64::from(cut)),
                    Op::Far { pos, len } => (u64::from(pos & 0x3FFF_FFFF), u64::from(len), 0),
                    _ => unreachable!(),
                };
                let captured_len = len.saturating_sub(cut);
                let payload: Vec<u8> = (pos..pos + captured_len).map(byte_at).collect();
                if o.base.is_none() {
                    o.base = Some(pos);
                }
                // mid-stream: bytes before the first segment are not part
                // of the stream, and stay far from 2^31 away
                o.covered.add(pos, pos + captured_len);
                r.segment(seq_of(pos), &payload, len as u32, tag, &mut |c, _| {
                    o.take(c)
                });
            }
            Op::Ack { pos } => {
                r.acked(seq_of(u64::from(pos)), &mut |c, _| o.take(c));
            }
            Op::Fin { pos } => r.fin(seq_of(u64::from(pos))),
        }
        assert!(
            r.pending_bytes() <= limit,
            "held {} > limit {limit}",
            r.pending_bytes()
        );
        assert_eq!(r.offset(), o.cursor, "reassembler offset vs delivered");
    }
    r.flush(u32::MAX, &mut |c, _| o.take(c));
    assert_eq!(r.pending_bytes(), 0, "flush leaves nothing held");
    assert_eq!(r.offset(), o.cursor);
});
