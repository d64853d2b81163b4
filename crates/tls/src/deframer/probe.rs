//! Where a record can start: the probes the [`Deframer`](super::Deframer)
//! runs at candidate positions, over the bytes carried from earlier pushes
//! and the pushed chunk (a [`Window`]).
//!
//! * [`probe_start`]: the start-of-TLS test (offset 0 and STARTTLS
//!   candidates): a hello-carrying handshake header, a plaintext alert, or
//!   an SSLv2-format ClientHello.
//! * [`probe_resync`]: the resynchronisation test at any position, which
//!   also says whether the candidate is verified.
//! * [`next_line_candidate`] / [`next_record_candidate`]: where to look next.
//!
//! The rules themselves are described in the parent module's docs.
use super::HDR;
use crate::record::{header_prefix_ok, record_header, RecordHeader};
use crate::types::{ContentType, ProtocolVersion};

/// What a candidate position holds.
#[derive(Debug, Clone, Copy)]
pub(super) enum Probe {
    No,
    /// Too few bytes to decide: keep them and look again with more.
    NeedMore,
    Record {
        header: RecordHeader,
        verified: bool,
    },
    /// SSLv2-compatible ClientHello; `len` counts the bytes after the
    /// 2-byte length.
    Sslv2 {
        len: usize,
        version: ProtocolVersion,
    },
}

/// The bytes carried over from earlier pushes followed by the new ones.
pub(super) struct Window<'a> {
    pub(super) carry: &'a [u8],
    pub(super) data: &'a [u8],
}

impl Window<'_> {
    pub(super) fn len(&self) -> usize {
        self.carry.len() + self.data.len()
    }

    fn get(&self, i: usize) -> Option<u8> {
        match i.checked_sub(self.carry.len()) {
            None => self.carry.get(i).copied(),
            Some(j) => self.data.get(j).copied(),
        }
    }

    /// Up to N bytes from `i`, and how many there were.
    pub(super) fn bytes<const N: usize>(&self, i: usize) -> ([u8; N], usize) {
        let mut out = [0u8; N];
        let mut n = 0;
        for slot in out.iter_mut() {
            match i.checked_add(n).and_then(|j| self.get(j)) {
                Some(b) => {
                    *slot = b;
                    n += 1;
                }
                None => break,
            }
        }
        (out, n)
    }

    /// First index ≥ `from` whose byte satisfies `pred`.
    fn find_from(&self, from: usize, pred: impl Fn(u8) -> bool) -> Option<usize> {
        let clen = self.carry.len();
        if from < clen {
            if let Some(k) = self
                .carry
                .get(from..)
                .and_then(|c| c.iter().position(|&b| pred(b)))
            {
                return Some(from + k);
            }
        }
        let dfrom = from.saturating_sub(clen);
        self.data
            .get(dfrom..)
            .and_then(|d| d.iter().position(|&b| pred(b)))
            .map(|k| clen + dfrom + k)
    }
}

pub(super) fn header_of(b: &[u8]) -> Option<RecordHeader> {
    record_header(b).ok().map(|(_, h)| h)
}

/// Start-of-TLS test (StreamStart and STARTTLS candidates): a hello-carrying
/// handshake header, a plaintext alert, or an SSLv2-compatible ClientHello.
/// `last`: no more bytes will come for this candidate (a hole follows),
/// so a header alone decides.
pub(super) fn probe_start(win: &Window<'_>, i: usize, last: bool) -> Probe {
    let (b, n) = win.bytes::<6>(i);
    let Some(&b0) = b.get(..n).and_then(|s| s.first()) else {
        return Probe::NeedMore;
    };
    match b0 {
        21 | 22 => {
            if !header_prefix_ok(b.get(..n.min(HDR)).unwrap_or(&[])) {
                return Probe::No;
            }
            let Some(header) = b.get(..n).and_then(header_of) else {
                return Probe::NeedMore;
            };
            if n == HDR && header.length >= 1 && !last {
                // Decide on the first body byte, whatever the segmentation.
                return Probe::NeedMore;
            }
            let next = if n > HDR { b.get(HDR).copied() } else { None };
            let ok = if b0 == 22 {
                // A handshake record opening TLS holds a ClientHello or a
                // ServerHello.
                header.length >= 1 && matches!(next, None | Some(1 | 2))
            } else {
                // A plaintext alert: exactly level + description.
                header.length == 2 && matches!(next, None | Some(1 | 2))
            };
            if ok {
                Probe::Record {
                    header,
                    verified: true,
                }
            } else {
                Probe::No
            }
        }
        _ if b0 & 0x80 != 0 => probe_sslv2_prefix(&b, n),
        _ => Probe::No,
    }
}

/// The version an SSLv2-format ClientHello may offer: SSL 2.0 itself
/// (0x0002) or SSL 3.0 to TLS 1.3 (the SSLv2-compatible hello of RFC 5246
/// appendix E.2).
fn sslv2_version(major: u8, minor: u8) -> bool {
    (major == 3 && minor <= 4) || (major == 0 && minor == 2)
}

/// SSLv2-format ClientHello, from its first 5 bytes: 2-byte length with
/// the high bit set, msg_type 1, a version [`sslv2_version`] accepts.
fn probe_sslv2_prefix(b: &[u8; 6], n: usize) -> Probe {
    let [b0, b1, b2, b3, b4, _] = *b;
    if n >= 2 && (usize::from(b0 & 0x7f) << 8 | usize::from(b1)) < 9 {
        return Probe::No;
    }
    if (n >= 3 && b2 != 1) || (n >= 4 && b3 != 3 && b3 != 0) || (n >= 5 && !sslv2_version(b3, b4)) {
        return Probe::No;
    }
    if n < 5 {
        return Probe::NeedMore;
    }
    Probe::Sslv2 {
        len: usize::from(b0 & 0x7f) << 8 | usize::from(b1),
        version: ProtocolVersion(u16::from_be_bytes([b3, b4])),
    }
}

/// SSLv2-compatible ClientHello with its whole fixed part checked (the
/// lengths must add up): used where any position is a candidate.
fn probe_sslv2_full(b: &[u8; 11]) -> Probe {
    let [b0, b1, b2, b3, b4, c0, c1, s0, s1, h0, h1] = *b;
    let len = usize::from(b0 & 0x7f) << 8 | usize::from(b1);
    let cs = usize::from(u16::from_be_bytes([c0, c1]));
    let sid = usize::from(u16::from_be_bytes([s0, s1]));
    let chal = usize::from(u16::from_be_bytes([h0, h1]));
    let ok = b0 & 0x80 != 0
        && b2 == 1
        && sslv2_version(b3, b4)
        && cs > 0
        && cs % 3 == 0
        && (sid == 0 || sid == 16)
        && (16..=32).contains(&chal)
        && len == 9 + cs + sid + chal;
    if ok {
        Probe::Sslv2 {
            len,
            version: ProtocolVersion(u16::from_be_bytes([b3, b4])),
        }
    } else {
        Probe::No
    }
}

/// Resynchronisation test at any position.
pub(super) fn probe_resync(win: &Window<'_>, i: usize, chunk_start: Option<usize>) -> Probe {
    // Cheap early rejection (most positions of ciphertext end here).
    let at = |k: usize| i.checked_add(k).and_then(|j| win.get(j));
    match (at(0), at(1), at(2), at(3)) {
        (Some(b0), _, Some(b2), Some(b3))
            if b0 & 0x80 != 0 && (b2 != 1 || (b3 != 3 && b3 != 0)) =>
        {
            return Probe::No
        }
        (Some(b0), Some(b1), _, _) if b0 & 0x80 == 0 && b1 != 3 => return Probe::No,
        _ => {}
    }
    let (b, n) = win.bytes::<11>(i);
    let Some(&b0) = b.get(..n).and_then(|s| s.first()) else {
        return Probe::NeedMore;
    };
    if b0 & 0x80 != 0 {
        return if n == b.len() {
            probe_sslv2_full(&b)
        } else {
            Probe::No
        };
    }
    if !header_prefix_ok(b.get(..n.min(HDR)).unwrap_or(&[])) {
        return Probe::No;
    }
    let Some(header) = b.get(..n).and_then(header_of) else {
        return Probe::NeedMore;
    };
    if header.length == 0 {
        return Probe::No;
    }
    let record = |verified| Probe::Record { header, verified };
    if header.content_type == ContentType::HANDSHAKE && n > HDR && matches!(b.get(HDR), Some(1 | 2))
    {
        return record(true);
    }
    let next = i + HDR + usize::from(header.length);
    let (nb, nn) = win.bytes::<HDR>(next);
    if !header_prefix_ok(nb.get(..nn).unwrap_or(&[])) {
        return Probe::No;
    }
    if nn == HDR {
        return record(true);
    }
    if next == win.len() && chunk_start == Some(i) {
        return record(true);
    }
    record(false)
}

/// Next STARTTLS candidate at or after `i`: the start of the carried bytes
/// (always a pending candidate), the start of the pushed chunk, or right
/// after a `\n`.
pub(super) fn next_line_candidate(
    win: &Window<'_>,
    i: usize,
    chunk_start: Option<usize>,
) -> Option<usize> {
    let wlen = win.len();
    if i == 0 && !win.carry.is_empty() {
        return Some(0);
    }
    let at_chunk = chunk_start.filter(|&c| c >= i && c < wlen);
    let after_nl = win
        .find_from(i.saturating_sub(1), |b| b == b'\n')
        .map(|k| k + 1)
        .filter(|&c| c >= i && c < wlen);
    match (at_chunk, after_nl) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Next position that can start a record header or an SSLv2 hello. Carried
/// bytes are all returned (a handful); in the pushed data a quick look at
/// the first bytes skips most positions of ciphertext or text.
pub(super) fn next_record_candidate(win: &Window<'_>, i: usize) -> Option<usize> {
    let clen = win.carry.len();
    if i < clen {
        return Some(i);
    }
    let d = win.data;
    let from = i - clen;
    let rest = d.get(from..)?;
    rest.iter()
        .enumerate()
        .position(|(k, &b0)| {
            let j = from + k;
            let at = |o: usize| d.get(j + o).copied();
            if (20..=24).contains(&b0) {
                matches!(at(1), None | Some(3)) && matches!(at(2), None | Some(0..=4))
            } else if b0 & 0x80 != 0 {
                matches!(at(2), None | Some(1)) && matches!(at(3), None | Some(0 | 3))
            } else {
                false
            }
        })
        .map(|k| clen + from + k)
}
