//! IP reassembly (RFC 791 §3.2, RFC 8200 §4.5), at any depth of a frame.
//!
//! Tunnels fragment: a GTP-U, ERSPAN or VXLAN packet that no longer fits
//! the path's MTU is sent as outer IP fragments, each carrying part of the
//! inner TCP segment. [`Defragmenter::decode`] decodes a frame like
//! [`crate::decode_segment`]; a fragment is held, and the frame that
//! completes its datagram is decoded from the reassembled datagram.
//!
//! Memory is bounded: at most [`MAX_PENDING`] datagrams and
//! [`MAX_HELD_BYTES`] bytes are held; the oldest datagram is dropped to make
//! room, and datagrams older than [`MAX_AGE_NS`] (capture time) are dropped.
//! A fragment cut by the snapshot length, or overlapping another with other
//! bytes, loses its datagram (it stays skipped as an IP fragment).

use crate::decode::{decode, Stop};
use crate::types::{Frame, LinkType, Segment};
use crate::SkipReason;
use std::collections::HashMap;

/// Datagrams being reassembled at once.
pub const MAX_PENDING: usize = 1024;
/// Bytes of fragments held at once.
pub const MAX_HELD_BYTES: usize = 16 << 20;
/// A datagram not completed within this capture time is dropped (the
/// Linux default `ipfrag_time`).
pub const MAX_AGE_NS: i64 = 30_000_000_000;
/// Largest reassembled payload (IPv4 and IPv6 without jumbograms).
const MAX_PAYLOAD: usize = 65_535;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    src: [u8; 16],
    dst: [u8; 16],
    id: u32,
    /// IPv4 protocol; 0 for IPv6 (whose key is addresses and id).
    proto: u8,
    v6: bool,
}

#[derive(Debug)]
struct Pending {
    first_ts: i64,
    /// The headers before the fragmentable part, from the fragment at
    /// offset 0 (IPv4 header; IPv6 header and unfragmentable extension
    /// headers, with the fragment header's next header in place).
    head: Option<Vec<u8>>,
    /// (offset, bytes) of the payload pieces, as they came.
    pieces: Vec<(usize, Vec<u8>)>,
    /// Payload length, known from the last fragment.
    total: Option<usize>,
    held: usize,
}

/// Counters of the reassembly.
#[derive(Debug, Clone, Default)]
pub struct DefragStats {
    /// Datagrams reassembled.
    pub reassembled: u64,
    /// Datagrams dropped unfinished (too old, no room, inconsistent).
    pub dropped: u64,
}

/// Reassembles IP fragments while decoding frames. See the module docs.
#[derive(Debug, Default)]
pub struct Defragmenter {
    pending: HashMap<Key, Pending>,
    held: usize,
    /// The last reassembled datagram.
    out: Vec<u8>,
    stats: DefragStats,
}

/// A fragment, parsed.
struct Piece<'a> {
    key: Key,
    /// Headers to rebuild the datagram with (for the fragment at offset 0).
    head: Vec<u8>,
    offset: usize,
    more: bool,
    payload: &'a [u8],
}

impl Defragmenter {
    pub fn new() -> Defragmenter {
        Defragmenter::default()
    }

    pub fn stats(&self) -> &DefragStats {
        &self.stats
    }

    /// Decodes `frame` to its TCP segment, reassembling IP fragments: a
    /// fragment is [`SkipReason::IpFragment`] until its datagram is whole;
    /// then the segment of the datagram is returned.
    #[inline]
    pub fn decode<'a>(&'a mut self, frame: &Frame<'a>) -> Result<Segment<'a>, SkipReason> {
        match decode(frame) {
            Ok(s) => Ok(s),
            Err(Stop::Skip(why)) => Err(why),
            Err(Stop::Fragment(ip)) => self.reassembled(frame, ip),
        }
    }

    /// Holds the fragment `ip` of `frame`; the segment of its datagram when
    /// it completes one.
    #[cold]
    fn reassembled<'a>(
        &'a mut self,
        frame: &Frame<'a>,
        ip: &[u8],
    ) -> Result<Segment<'a>, SkipReason> {
        if !self.add(ip, frame.ts.as_nanos()) {
            return Err(SkipReason::IpFragment);
        }
        let this: &'a Defragmenter = self;
        let whole = Frame {
            link: LinkType::RAW,
            data: &this.out,
            orig_len: u32::try_from(this.out.len()).unwrap_or(u32::MAX),
            ..*frame
        };
        match decode(&whole) {
            Ok(s) => Ok(s),
            Err(Stop::Skip(why)) => Err(why),
            // a fragment inside a reassembled datagram: not followed
            Err(Stop::Fragment(_)) => Err(SkipReason::IpFragment),
        }
    }

    /// Adds a fragment; true when it completed a datagram, now in `out`.
    fn add(&mut self, ip: &[u8], ts: i64) -> bool {
        let Some(piece) = parse(ip) else {
            return false;
        };
        self.expire(ts);
        let len = piece.payload.len();
        if !self.pending.contains_key(&piece.key) {
            while self.pending.len() >= MAX_PENDING || self.held + len > MAX_HELD_BYTES {
                if !self.drop_oldest() {
                    break;
                }
            }
            if self.held + len > MAX_HELD_BYTES {
                return false;
            }
        }
        let end = piece.offset + len;
        let p = self.pending.entry(piece.key).or_insert_with(|| Pending {
            first_ts: ts,
            head: None,
            pieces: Vec::new(),
            total: None,
            held: 0,
        });
        let consistent = end <= MAX_PAYLOAD
            && p.total.is_none_or(|t| end <= t && (piece.more || end == t))
            && (piece.more || p.pieces.iter().all(|(o, b)| o + b.len() <= end));
        if !consistent {
            let gone = self.pending.remove(&piece.key).map_or(0, |p| p.held);
            self.held -= gone;
            self.stats.dropped += 1;
            return false;
        }
        if !piece.more {
            p.total = Some(end);
        }
        if piece.offset == 0 {
            p.head = Some(piece.head);
        }
        p.pieces.push((piece.offset, piece.payload.to_vec()));
        p.held += len;
        self.held += len;
        let Some(total) = p.total else {
            return false;
        };
        // whole when the pieces cover 0..total
        p.pieces.sort_by_key(|(o, _)| *o);
        let mut covered = 0usize;
        for (o, b) in &p.pieces {
            if *o > covered {
                return false;
            }
            covered = covered.max(o + b.len());
        }
        if covered < total {
            return false;
        }
        let Some(p) = self.pending.remove(&piece.key) else {
            return false;
        };
        self.held -= p.held;
        let Some(head) = p.head else {
            return false;
        };
        let mut payload = vec![0u8; total];
        for (o, b) in &p.pieces {
            if let Some(dst) = payload.get_mut(*o..o + b.len()) {
                dst.copy_from_slice(b);
            }
        }
        self.out.clear();
        self.out.extend_from_slice(&head);
        self.out.extend_from_slice(&payload);
        fix_lengths(&mut self.out, piece.key.v6);
        self.stats.reassembled += 1;
        true
    }

    fn expire(&mut self, now: i64) {
        let before = self.pending.len();
        let mut freed = 0;
        self.pending.retain(|_, p| {
            let keep = now.saturating_sub(p.first_ts) <= MAX_AGE_NS;
            if !keep {
                freed += p.held;
            }
            keep
        });
        self.held -= freed;
        self.stats.dropped += (before - self.pending.len()) as u64;
    }

    fn drop_oldest(&mut self) -> bool {
        let Some(key) = self
            .pending
            .iter()
            .min_by_key(|(_, p)| p.first_ts)
            .map(|(k, _)| *k)
        else {
            return false;
        };
        let gone = self.pending.remove(&key).map_or(0, |p| p.held);
        self.held -= gone;
        self.stats.dropped += 1;
        true
    }
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

/// A fragment's key, offset, flag and payload, if it is whole (not cut by
/// the snapshot length) and well-formed.
fn parse(ip: &[u8]) -> Option<Piece<'_>> {
    match ip.first()? >> 4 {
        4 => {
            let ihl = usize::from(ip.first()? & 0x0f) * 4;
            let total = usize::from(be16(ip, 2)?);
            let frag = be16(ip, 6)?;
            if ihl < 20 || total < ihl || ip.len() < total {
                return None;
            }
            let mut src = [0u8; 16];
            let mut dst = [0u8; 16];
            src.get_mut(..4)?.copy_from_slice(ip.get(12..16)?);
            dst.get_mut(..4)?.copy_from_slice(ip.get(16..20)?);
            Some(Piece {
                key: Key {
                    src,
                    dst,
                    id: u32::from(be16(ip, 4)?),
                    proto: *ip.get(9)?,
                    v6: false,
                },
                head: ip.get(..ihl)?.to_vec(),
                offset: usize::from(frag & 0x1fff) * 8,
                more: frag & 0x2000 != 0,
                payload: ip.get(ihl..total)?,
            })
        }
        6 => {
            let total = 40 + usize::from(be16(ip, 4)?);
            if ip.len() < total {
                return None;
            }
            // the extension headers before the fragment header
            let mut next = *ip.get(6)?;
            let mut next_at = 6usize;
            let mut at = 40usize;
            for _ in 0..8 {
                match next {
                    0 | 43 | 60 => {
                        let len = (usize::from(*ip.get(at + 1)?) + 1) * 8;
                        next = *ip.get(at)?;
                        next_at = at;
                        at += len;
                    }
                    44 => {
                        let frag = be16(ip, at + 2)?;
                        let id = u32::from_be_bytes(ip.get(at + 4..at + 8)?.try_into().ok()?);
                        let mut head = ip.get(..at)?.to_vec();
                        // the datagram goes on with the fragment's next header
                        *head.get_mut(next_at)? = *ip.get(at)?;
                        return Some(Piece {
                            key: Key {
                                src: ip.get(8..24)?.try_into().ok()?,
                                dst: ip.get(24..40)?.try_into().ok()?,
                                id,
                                proto: 0,
                                v6: true,
                            },
                            head,
                            offset: usize::from(frag & 0xfff8),
                            more: frag & 1 != 0,
                            payload: ip.get(at + 8..total)?,
                        });
                    }
                    _ => return None,
                }
            }
            None
        }
        _ => None,
    }
}

/// Writes the reassembled datagram's length fields (IPv4: total length,
/// flags and offset cleared, checksum zeroed; IPv6: payload length).
fn fix_lengths(d: &mut [u8], v6: bool) {
    let len = d.len();
    if v6 {
        let pl = u16::try_from(len.saturating_sub(40)).unwrap_or(0);
        if let Some(f) = d.get_mut(4..6) {
            f.copy_from_slice(&pl.to_be_bytes());
        }
    } else {
        let total = u16::try_from(len).unwrap_or(0);
        if let Some(f) = d.get_mut(2..4) {
            f.copy_from_slice(&total.to_be_bytes());
        }
        if let Some(f) = d.get_mut(6..8) {
            f.copy_from_slice(&[0, 0]);
        }
        if let Some(f) = d.get_mut(10..12) {
            f.copy_from_slice(&[0, 0]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Timestamp;
    use etherparse::PacketBuilder;

    fn frame(data: &[u8], link: LinkType, ts: i64) -> Frame<'_> {
        Frame {
            number: 1,
            ts: Timestamp(ts),
            link,
            data,
            orig_len: data.len() as u32,
            file_offset: 0,
        }
    }

    /// An IPv4 datagram (protocol `proto`, id `id`) cut into fragments of
    /// `size` payload bytes.
    fn fragments_v4(payload: &[u8], proto: u8, id: u16, size: usize) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut at = 0;
        while at < payload.len() {
            let end = (at + size).min(payload.len());
            let more = end < payload.len();
            let mut h = vec![0x45, 0];
            h.extend_from_slice(&((20 + end - at) as u16).to_be_bytes());
            h.extend_from_slice(&id.to_be_bytes());
            let frag = ((at / 8) as u16) | if more { 0x2000 } else { 0 };
            h.extend_from_slice(&frag.to_be_bytes());
            h.extend_from_slice(&[64, proto, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2]);
            h.extend_from_slice(&payload[at..end]);
            out.push(h);
            at = end;
        }
        out
    }

    fn tcp_v4(payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .tcp(443, 50000, 7, 100)
            .ack(9)
            .write_to_vec(&mut v, payload)
            .expect("build");
        v
    }

    #[test]
    fn outer_fragments_of_a_tunnel_in_any_order() {
        let data = vec![0x5a; 3000];
        let inner = tcp_v4(&data);
        // IPv4 in IPv4, the outer datagram in 1200-byte fragments
        let frags = fragments_v4(&inner, 4, 77, 1200);
        assert_eq!(frags.len(), 3);
        for order in [[0usize, 1, 2], [2, 0, 1], [1, 2, 0]] {
            let mut d = Defragmenter::new();
            for (n, &i) in order.iter().enumerate() {
                let r = d
                    .decode(&frame(&frags[i], LinkType::RAW, 0))
                    .map(|s| s.payload.to_vec());
                if n < 2 {
                    assert_eq!(r, Err(SkipReason::IpFragment));
                } else {
                    assert_eq!(r, Ok(data.clone()));
                }
            }
            assert_eq!(d.stats().reassembled, 1);
            assert_eq!(d.held, 0);
        }
    }

    #[test]
    fn ipv6_fragments() {
        let data = vec![0x33; 2000];
        let inner = tcp_v4(&data);
        let cut = 1232;
        let mut frags = Vec::new();
        for (off, chunk, more) in [(0, &inner[..cut], true), (cut, &inner[cut..], false)] {
            let mut h = vec![0x60, 0, 0, 0];
            h.extend_from_slice(&((8 + chunk.len()) as u16).to_be_bytes());
            h.extend_from_slice(&[44, 64]);
            h.extend_from_slice(&[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
            h.extend_from_slice(&[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
            let fo = (off as u16) | u16::from(more);
            h.extend_from_slice(&[4, 0]);
            h.extend_from_slice(&fo.to_be_bytes());
            h.extend_from_slice(&9u32.to_be_bytes());
            h.extend_from_slice(chunk);
            frags.push(h);
        }
        let mut d = Defragmenter::new();
        assert_eq!(
            d.decode(&frame(&frags[0], LinkType::RAW, 0)).err(),
            Some(SkipReason::IpFragment)
        );
        let s = d
            .decode(&frame(&frags[1], LinkType::RAW, 0))
            .expect("whole");
        assert_eq!(s.payload, &data[..]);
    }

    #[test]
    fn old_and_excess_datagrams_are_dropped() {
        let inner = tcp_v4(&[1; 100]);
        let mut d = Defragmenter::new();
        let f = fragments_v4(&inner, 4, 1, 64);
        assert!(d.decode(&frame(&f[0], LinkType::RAW, 0)).is_err());
        // the rest comes too late
        assert!(d
            .decode(&frame(&f[1], LinkType::RAW, MAX_AGE_NS + 1))
            .is_err());
        assert_eq!(d.stats().reassembled, 0);
        assert!(d.stats().dropped >= 1);
        // many unfinished datagrams: bounded
        for id in 0..(MAX_PENDING as u16 + 50) {
            let f = fragments_v4(&inner, 4, id, 64);
            let _ = d.decode(&frame(&f[0], LinkType::RAW, 0));
        }
        assert!(d.pending.len() <= MAX_PENDING);
        assert!(d.held <= MAX_HELD_BYTES);
        // a fragment cut by the snapshot length is not held
        let f = fragments_v4(&inner, 4, 5000, 64);
        let cut = &f[0][..40];
        assert!(d.decode(&frame(cut, LinkType::RAW, 0)).is_err());
    }
}
