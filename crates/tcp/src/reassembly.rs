//! One direction of a TCP connection: segments in, ordered bytes out.
//!
//! Sequence numbers are compared with wrap-around arithmetic (RFC 9293
//! §3.4: comparisons are modulo 2^32); internally every byte gets a 64-bit
//! stream offset so that streams longer than 4 GiB keep their order.

use std::collections::BTreeMap;

/// A piece of the ordered stream, handed out in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunk<'a> {
    /// The next bytes of the stream.
    Data(&'a [u8]),
    /// This many bytes of the stream were never captured (a hole that was
    /// never filled, or the part of a segment cut by the snapshot length).
    Gap(u64),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReassemblyStats {
    /// Segments (or parts) that repeated bytes already delivered.
    pub retransmitted_segments: u64,
    /// Segments that arrived before the bytes preceding them.
    pub out_of_order_segments: u64,
    /// Holes (bytes sent but never captured) reported as [`Chunk::Gap`].
    pub gaps: u64,
    pub gap_bytes: u64,
    /// Holes forced because the out-of-order buffer reached its limit.
    pub forced_gaps: u64,
    /// Holes forced because the bytes held across all flows reached their
    /// limit (see [`Reassembler::give_up_until`]).
    pub shared_limit_gaps: u64,
    /// Segments cut by the snapshot length, and the bytes they lack.
    pub truncated_segments: u64,
    pub truncated_bytes: u64,
}

/// What holding a segment costs beyond its bytes: its entry in the map and
/// the allocation of its copy. Counted against the limit, so that a flood
/// of tiny out-of-order segments is bounded as well as a few large ones.
pub const HELD_SEGMENT_OVERHEAD: usize = 128;

/// Bytes a held segment of `len` captured bytes counts for.
#[inline]
fn held_cost(len: usize) -> usize {
    len.saturating_add(HELD_SEGMENT_OVERHEAD)
}

/// A segment waiting for the bytes before it.
#[derive(Debug)]
struct Pending<T> {
    /// Where the segment was captured.
    tag: T,
    /// The captured bytes (a prefix of the segment when it was truncated).
    data: Vec<u8>,
    /// The segment's length on the wire.
    wire_len: u64,
}

/// Reassembles one direction. See the module docs.
///
/// Every segment carries a tag `T` (where it was captured: frame number and
/// time). Bytes delivered because a segment arrived carry that segment's
/// tag, also held bytes it releases (the capture point saw them complete
/// then). Bytes released because a hole was given up (at the end, at the
/// buffer limit, or when the peer acknowledged bytes never captured) carry
/// their own segment's tag.
#[derive(Debug)]
pub struct Reassembler<T> {
    /// Sequence number of the next expected byte (unknown before the first segment).
    next_seq: Option<u32>,
    /// Stream offset of the next expected byte.
    offset: u64,
    pending: BTreeMap<u64, Pending<T>>,
    /// Stream offset of the FIN, once seen.
    fin_offset: Option<u64>,
    /// Bytes up to this offset were sent but not captured (the tail of a
    /// segment cut by the snapshot length), with that segment's tag. They
    /// become a gap as the stream reaches them, except where a held
    /// segment did capture them.
    lost_to: Option<(u64, T)>,
    pending_bytes: usize,
    limit: usize,
    stats: ReassemblyStats,
}

impl<T: Copy> Reassembler<T> {
    /// `limit`: most bytes held for out-of-order segments (each counting
    /// [`HELD_SEGMENT_OVERHEAD`] more); past it the earliest hole is given
    /// up as a gap.
    pub fn new(limit: usize) -> Self {
        Reassembler {
            next_seq: None,
            offset: 0,
            pending: BTreeMap::new(),
            fin_offset: None,
            lost_to: None,
            pending_bytes: 0,
            limit,
            stats: ReassemblyStats::default(),
        }
    }

    /// A SYN with this sequence number: the stream starts at `isn + 1`.
    pub fn syn(&mut self, isn: u32) {
        if self.next_seq.is_none() {
            self.next_seq = Some(isn.wrapping_add(1));
        }
    }

    /// True once the first byte's sequence number is known.
    pub fn started(&self) -> bool {
        self.next_seq.is_some()
    }

    /// Stream offset of the next byte to be delivered.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Bytes held for out-of-order segments, each segment counting
    /// [`HELD_SEGMENT_OVERHEAD`] more than its captured bytes.
    pub fn pending_bytes(&self) -> usize {
        self.pending_bytes
    }

    pub fn stats(&self) -> &ReassemblyStats {
        &self.stats
    }

    /// Where a sequence number falls relative to the next expected byte:
    /// negative for bytes already delivered. Without a known start, the
    /// first segment defines it.
    fn relative(&mut self, seq: u32) -> i64 {
        let next = *self.next_seq.get_or_insert(seq);
        i64::from(seq.wrapping_sub(next) as i32)
    }

    /// Feeds a segment: `payload` are the captured bytes, `wire_len` the
    /// segment's payload length on the wire (≥ `payload.len()`).
    pub fn segment(
        &mut self,
        seq: u32,
        payload: &[u8],
        wire_len: u32,
        tag: T,
        out: &mut dyn FnMut(Chunk<'_>, T),
    ) {
        let wire_len = u64::from(wire_len).max(payload.len() as u64);
        if wire_len == 0 {
            // still fixes the start of a mid-stream capture
            self.relative(seq);
            return;
        }
        let rel = self.relative(seq);
        if rel <= 0 {
            let skip = rel.unsigned_abs();
            if skip >= wire_len {
                self.stats.retransmitted_segments += 1;
                return;
            }
            if skip > 0 {
                self.stats.retransmitted_segments += 1;
            }
            self.deliver_piece(skip, payload, wire_len, tag, out);
            self.drain(Some(tag), out);
        } else {
            self.stats.out_of_order_segments += 1;
            let at = self.offset + rel.unsigned_abs();
            self.hold(at, payload, wire_len, tag);
            if self.pending_bytes > self.limit {
                self.give_up_first_hole(out);
            }
        }
    }

    /// Delivers a piece that starts `skip` bytes before the next expected byte.
    fn deliver_piece(
        &mut self,
        skip: u64,
        captured: &[u8],
        wire_len: u64,
        tag: T,
        out: &mut dyn FnMut(Chunk<'_>, T),
    ) {
        if skip >= wire_len {
            return;
        }
        let end = self.offset + (wire_len - skip);
        let cap = captured.len() as u64;
        if skip < cap {
            let from = usize::try_from(skip).unwrap_or(usize::MAX);
            if let Some(bytes) = captured.get(from..) {
                out(Chunk::Data(bytes), tag);
            }
            self.advance_to(self.offset + (cap - skip));
        }
        if skip.max(cap) < wire_len {
            // The uncaptured tail is lost, but a held segment may have
            // captured part of it: `drain` gives the gaps around those.
            self.stats.truncated_segments += 1;
            let to = match self.lost_to {
                Some((t, _)) => t.max(end),
                None => end,
            };
            self.lost_to = Some((to, tag));
        }
    }

    fn advance_to(&mut self, end: u64) {
        if end > self.offset {
            let delta = end - self.offset;
            self.offset = end;
            if let Some(n) = self.next_seq.as_mut() {
                *n = n.wrapping_add(delta as u32);
            }
        }
    }

    fn hold(&mut self, at: u64, payload: &[u8], wire_len: u64, tag: T) {
        match self.pending.get_mut(&at) {
            Some(p) if p.wire_len >= wire_len && p.data.len() >= payload.len() => {
                self.stats.retransmitted_segments += 1;
            }
            Some(p) if p.data.len() >= payload.len() => {
                // Longer on the wire but captured no further (snaplen):
                // keep the captured bytes held, take the length.
                self.stats.retransmitted_segments += 1;
                p.wire_len = wire_len;
            }
            Some(p) if p.wire_len > wire_len => {
                // Captured further but shorter on the wire: keep the length.
                self.stats.retransmitted_segments += 1;
                let extra = payload.len() - p.data.len();
                p.data = payload.to_vec();
                p.tag = tag;
                self.pending_bytes = self.pending_bytes.saturating_add(extra);
            }
            _ => {
                let old = self.pending.insert(
                    at,
                    Pending {
                        tag,
                        data: payload.to_vec(),
                        wire_len,
                    },
                );
                self.pending_bytes = self.pending_bytes.saturating_add(held_cost(payload.len()));
                if let Some(old) = old {
                    self.pending_bytes =
                        self.pending_bytes.saturating_sub(held_cost(old.data.len()));
                }
            }
        }
    }

    /// Delivers every held segment that now starts at or before the offset,
    /// with `tag` when given, else with its own. Known-lost bytes (a cut
    /// segment's tail) up to the next held segment become a gap on the way.
    fn drain(&mut self, tag: Option<T>, out: &mut dyn FnMut(Chunk<'_>, T)) {
        loop {
            let next_held = self.pending.first_key_value().map(|(&at, _)| at);
            if let Some(entry) = self
                .pending
                .first_entry()
                .filter(|e| *e.key() <= self.offset)
            {
                let at = *entry.key();
                let p = entry.remove();
                self.pending_bytes = self.pending_bytes.saturating_sub(held_cost(p.data.len()));
                self.deliver_piece(
                    self.offset - at,
                    &p.data,
                    p.wire_len,
                    tag.unwrap_or(p.tag),
                    out,
                );
                continue;
            }
            match self.lost_to {
                Some((to, lost_tag)) if to > self.offset => {
                    let stop = next_held.map_or(to, |at| at.min(to));
                    let missing = stop - self.offset;
                    self.stats.truncated_bytes += missing;
                    out(Chunk::Gap(missing), lost_tag);
                    self.advance_to(stop);
                }
                _ => {
                    self.lost_to = None;
                    break;
                }
            }
        }
    }

    /// The out-of-order buffer is full: give up the first hole as a gap.
    fn give_up_first_hole(&mut self, out: &mut dyn FnMut(Chunk<'_>, T)) {
        let holes = self.shed(self.limit, out);
        self.stats.forced_gaps += holes;
    }

    /// Gives up holes, earliest first, until at most `max` bytes are held
    /// (the caller's share of a limit over many reassemblers); the held
    /// bytes after each hole are delivered. Returns the holes given up.
    pub fn give_up_until(&mut self, max: usize, out: &mut dyn FnMut(Chunk<'_>, T)) -> u64 {
        let holes = self.shed(max, out);
        self.stats.shared_limit_gaps += holes;
        holes
    }

    fn shed(&mut self, max: usize, out: &mut dyn FnMut(Chunk<'_>, T)) -> u64 {
        let mut holes = 0;
        while self.pending_bytes > max {
            let Some((&at, p)) = self.pending.first_key_value() else {
                break;
            };
            let tag = p.tag;
            holes += 1;
            self.gap_to(at, tag, out);
            self.drain(None, out);
        }
        holes
    }

    fn gap_to(&mut self, at: u64, tag: T, out: &mut dyn FnMut(Chunk<'_>, T)) {
        if at > self.offset {
            let missing = at - self.offset;
            self.stats.gaps += 1;
            self.stats.gap_bytes += missing;
            out(Chunk::Gap(missing), tag);
            self.advance_to(at);
        }
    }

    /// This direction's FIN, with its sequence number: the stream ends there.
    pub fn fin(&mut self, seq: u32) {
        if self.next_seq.is_some() && self.fin_offset.is_none() {
            let rel = self.relative(seq);
            self.fin_offset = Some(self.offset.saturating_add_signed(rel));
        }
    }

    /// The peer acknowledged up to `ack`: held bytes after a hole before
    /// that point will not be completed any more (RFC 9293 §3.10.7.4: an
    /// ACK covers every byte before it), so those holes are gaps now.
    pub fn acked(&mut self, ack: u32, out: &mut dyn FnMut(Chunk<'_>, T)) {
        if self.next_seq.is_none() || self.pending.is_empty() {
            return;
        }
        let rel = self.relative(ack);
        if rel <= 0 {
            return;
        }
        let mut acked_to = self.offset + rel.unsigned_abs();
        if let Some(fin) = self.fin_offset {
            acked_to = acked_to.min(fin);
        }
        while let Some((&at, p)) = self.pending.first_key_value() {
            if at >= acked_to {
                break;
            }
            let own = p.tag;
            self.gap_to(at, own, out);
            self.drain(None, out);
        }
    }

    /// The stream is over: every hole still open is a gap (including one
    /// before the FIN); held bytes after a hole are delivered with their
    /// own tags, a gap with nothing after it with `tag`.
    pub fn flush(&mut self, tag: T, out: &mut dyn FnMut(Chunk<'_>, T)) {
        self.drain(None, out);
        while let Some((&at, p)) = self.pending.first_key_value() {
            let own = p.tag;
            self.gap_to(at, own, out);
            self.drain(None, out);
        }
        if let Some(fin) = self.fin_offset {
            self.gap_to(fin, tag, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(r: &mut Reassembler<()>, segs: &[(u32, &[u8], u32)]) -> Vec<Chunk<'static>> {
        let mut out = Vec::new();
        for &(seq, data, wire) in segs {
            r.segment(seq, data, wire, (), &mut |c, _| out.push(own(c)));
        }
        r.flush((), &mut |c, _| out.push(own(c)));
        out
    }

    fn own(c: Chunk<'_>) -> Chunk<'static> {
        match c {
            Chunk::Data(d) => Chunk::Data(Box::leak(d.to_vec().into_boxed_slice())),
            Chunk::Gap(n) => Chunk::Gap(n),
        }
    }

    #[test]
    fn in_order_after_syn() {
        let mut r = Reassembler::<()>::new(1 << 20);
        r.syn(999);
        let out = collect(&mut r, &[(1000, b"abc", 3), (1003, b"def", 3)]);
        assert_eq!(out, vec![Chunk::Data(b"abc"), Chunk::Data(b"def")]);
        assert_eq!(r.offset(), 6);
    }

    #[test]
    fn retransmission_and_overlap_give_bytes_once() {
        let mut r = Reassembler::<()>::new(1 << 20);
        r.syn(0);
        let out = collect(&mut r, &[(1, b"abcd", 4), (1, b"abcd", 4), (3, b"cdef", 4)]);
        assert_eq!(out, vec![Chunk::Data(b"abcd"), Chunk::Data(b"ef")]);
        assert_eq!(r.stats().retransmitted_segments, 2);
    }

    #[test]
    fn out_of_order_waits_for_the_hole() {
        let mut r = Reassembler::<()>::new(1 << 20);
        r.syn(0);
        let out = collect(&mut r, &[(4, b"def", 3), (1, b"abc", 3)]);
        assert_eq!(out, vec![Chunk::Data(b"abc"), Chunk::Data(b"def")]);
        assert_eq!(r.stats().out_of_order_segments, 1);
    }

    #[test]
    fn hole_never_filled_is_a_gap_at_flush() {
        let mut r = Reassembler::<()>::new(1 << 20);
        r.syn(0);
        let out = collect(&mut r, &[(1, b"abc", 3), (10, b"xyz", 3)]);
        assert_eq!(
            out,
            vec![Chunk::Data(b"abc"), Chunk::Gap(6), Chunk::Data(b"xyz")]
        );
        assert_eq!(r.stats().gaps, 1);
    }

    #[test]
    fn truncated_segment_gives_data_then_gap() {
        let mut r = Reassembler::<()>::new(1 << 20);
        r.syn(0);
        let out = collect(&mut r, &[(1, b"ab", 5), (6, b"fg", 2)]);
        assert_eq!(
            out,
            vec![Chunk::Data(b"ab"), Chunk::Gap(3), Chunk::Data(b"fg")]
        );
    }

    #[test]
    fn cut_segment_does_not_hide_held_bytes() {
        // found by fuzz/reassembler: the uncaptured tail of a cut segment
        // was given as one gap over bytes a held segment had captured
        let mut r = Reassembler::<()>::new(1 << 20);
        r.syn(0);
        let out = collect(&mut r, &[(6, b"fgh", 3), (1, b"ab", 9)]);
        assert_eq!(
            out,
            vec![
                Chunk::Data(b"ab"),
                Chunk::Gap(3),
                Chunk::Data(b"fgh"),
                Chunk::Gap(1)
            ]
        );
        assert_eq!(r.stats().truncated_bytes, 4);
    }

    #[test]
    fn repeated_held_segment_keeps_the_most_captured() {
        let mut r = Reassembler::<()>::new(1 << 20);
        r.syn(0);
        // held at offset 3: first cut to 1 byte of 3, then whole
        let out = collect(&mut r, &[(4, b"d", 3), (4, b"def", 3), (1, b"abc", 3)]);
        assert_eq!(out, vec![Chunk::Data(b"abc"), Chunk::Data(b"def")]);
    }

    #[test]
    fn sequence_wraps_around() {
        let mut r = Reassembler::<()>::new(1 << 20);
        r.syn(u32::MAX - 2);
        let out = collect(
            &mut r,
            &[(u32::MAX - 1, b"ab", 2), (0, b"cd", 2), (2, b"ef", 2)],
        );
        assert_eq!(
            out,
            vec![Chunk::Data(b"ab"), Chunk::Data(b"cd"), Chunk::Data(b"ef")]
        );
    }

    #[test]
    fn mid_stream_start_takes_first_segment() {
        let mut r = Reassembler::<()>::new(1 << 20);
        let out = collect(&mut r, &[(5000, b"abc", 3), (5003, b"d", 1)]);
        assert_eq!(out, vec![Chunk::Data(b"abc"), Chunk::Data(b"d")]);
    }

    #[test]
    fn limit_forces_gap_and_bounds_memory() {
        // room for one held segment of 3 bytes, not two
        let limit = 2 * HELD_SEGMENT_OVERHEAD;
        let mut r = Reassembler::<()>::new(limit);
        r.syn(0);
        let mut out = Vec::new();
        r.segment(11, b"abc", 3, (), &mut |c, _| out.push(own(c)));
        assert_eq!(r.pending_bytes(), 3 + HELD_SEGMENT_OVERHEAD);
        r.segment(21, b"def", 3, (), &mut |c, _| out.push(own(c)));
        assert!(r.pending_bytes() <= limit);
        assert_eq!(out, vec![Chunk::Gap(10), Chunk::Data(b"abc")]);
        assert_eq!(r.stats().forced_gaps, 1);
    }

    #[test]
    fn tiny_segments_count_their_bookkeeping() {
        // a million one-byte segments in reverse order hold at most
        // limit / (1 + overhead) of them at a time
        let limit = 64 << 10;
        let mut r = Reassembler::<()>::new(limit);
        r.syn(0);
        let n = 100_000u32;
        let mut delivered = 0u64;
        let mut gaps = 0u64;
        for i in (0..n).rev() {
            r.segment(1 + i, &[i as u8], 1, (), &mut |c, _| match c {
                Chunk::Data(d) => delivered += d.len() as u64,
                Chunk::Gap(g) => gaps += g,
            });
            assert!(r.pending_bytes() <= limit);
        }
        r.flush((), &mut |c, _| match c {
            Chunk::Data(d) => delivered += d.len() as u64,
            Chunk::Gap(g) => gaps += g,
        });
        assert_eq!(delivered + gaps, u64::from(n));
        assert!(delivered > 0 && r.stats().forced_gaps > 0);
    }

    #[test]
    fn give_up_until_sheds_the_earliest_holes() {
        let mut r = Reassembler::<()>::new(1 << 20);
        r.syn(0);
        let mut out = Vec::new();
        r.segment(11, b"abc", 3, (), &mut |c, _| out.push(own(c)));
        r.segment(21, b"def", 3, (), &mut |c, _| out.push(own(c)));
        assert!(out.is_empty());
        let holes = r.give_up_until(3 + HELD_SEGMENT_OVERHEAD, &mut |c, _| out.push(own(c)));
        assert_eq!(holes, 1);
        assert_eq!(out, vec![Chunk::Gap(10), Chunk::Data(b"abc")]);
        assert_eq!(r.stats().shared_limit_gaps, 1);
        assert_eq!(r.stats().forced_gaps, 0);
    }

    #[test]
    fn huge_sequence_jump_is_bounded() {
        let mut r = Reassembler::<()>::new(1 << 10);
        r.syn(0);
        let mut out = Vec::new();
        r.segment(1, b"a", 1, (), &mut |c, _| out.push(own(c)));
        r.segment(1 + (1 << 31) - 10, &[0u8; 2000], 2000, (), &mut |c, _| {
            out.push(own(c))
        });
        assert_eq!(out.len(), 3);
        assert!(matches!(out[1], Chunk::Gap(n) if n > 1 << 30));
    }
}
