//! Frame → TCP segment decoding.
//!
//! A frame is decoded header by header down to the innermost TCP/IP:
//! the link layer ([`link`]: Ethernet, Linux cooked v1/v2, raw IP, BSD
//! NULL/LOOP, PPP, Cisco HDLC, PPPoE, NFLOG, ...), then any stack of
//! encapsulations ([`link`] and [`tunnel`]): VLAN tags (802.1Q, 802.1ad,
//! QinQ) at any level, MPLS label stacks (with or without a pseudowire
//! control word), PPPoE sessions, IP-in-IP (4in4, 6in4, 4in6, 6in6), GRE
//! (with key, sequence, checksum and routing fields; transparent Ethernet
//! bridging), ERSPAN types I, II and III, VXLAN (and VXLAN-GPE), Geneve
//! (with options), GTP-U (with extension headers), Teredo, AYIYA and
//! EtherIP. At most
//! [`MAX_LAYERS`] headers are followed per frame, against hostile nesting.
//!
//! Only the innermost IP and TCP headers make the segment: outer addresses,
//! tags, labels and tunnel ids (VNI, TEID, GRE key) are not part of the flow
//! (see docs/ARCHITECTURE.md for why).
//!
//! IPv4 / IPv6 (with extension headers) and TCP are sliced with
//! etherparse's lax slicer, so a frame cut by the snapshot length still
//! yields its TCP header and the captured part of the payload. Nothing is
//! allocated.

mod link;
#[cfg(test)]
mod tests;
mod tunnel;

use crate::types::{Endpoint, Frame, Segment, TcpFlags};
use etherparse::{ip_number, LaxIpSlice, TcpSlice};
use std::fmt;

/// Why a frame carries no usable TCP segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SkipReason {
    UnsupportedLinkType(u32),
    NotIp,
    NotTcp,
    IpFragment,
    Malformed,
    /// More nested headers than [`MAX_LAYERS`].
    TooDeep,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::UnsupportedLinkType(l) => write!(f, "unsupported link type {l}"),
            SkipReason::NotIp => f.write_str("not IP"),
            SkipReason::NotTcp => f.write_str("not TCP"),
            SkipReason::IpFragment => f.write_str("IP fragment"),
            SkipReason::Malformed => f.write_str("malformed or truncated headers"),
            SkipReason::TooDeep => write!(f, "more than {MAX_LAYERS} nested headers"),
        }
    }
}

/// Most headers (link, tags, label stacks, IP, tunnels) followed in one
/// frame: eight tunnels of three headers each.
pub const MAX_LAYERS: usize = 24;

/// Which IP version the layer below announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ip {
    V4,
    V6,
    /// Decide from the version nibble.
    Either,
}

/// The next header of a frame and the bytes from its start (clipped to
/// what the enclosing headers say it is, where they say).
#[derive(Debug, Clone, Copy)]
enum Next<'a> {
    /// An Ethernet II (or 802.3) header.
    Ethernet(&'a [u8]),
    /// The payload of this ethertype.
    EtherType(u16, &'a [u8]),
    /// An IP header.
    Ip(Ip, &'a [u8]),
    /// A PPP frame (optional address and control bytes, then the protocol).
    Ppp(&'a [u8]),
    /// An MPLS label stack.
    Mpls(&'a [u8]),
}

#[inline]
fn be16(b: &[u8], at: usize) -> Result<u16, SkipReason> {
    b.get(at..at.wrapping_add(2))
        .and_then(|s| s.try_into().ok())
        .map(u16::from_be_bytes)
        .ok_or(SkipReason::Malformed)
}

#[inline]
fn be32(b: &[u8], at: usize) -> Result<u32, SkipReason> {
    b.get(at..at.wrapping_add(4))
        .and_then(|s| s.try_into().ok())
        .map(u32::from_be_bytes)
        .ok_or(SkipReason::Malformed)
}

#[inline]
fn byte(b: &[u8], at: usize) -> Result<u8, SkipReason> {
    b.get(at).copied().ok_or(SkipReason::Malformed)
}

/// `b` from `at` on.
#[inline]
fn from(b: &[u8], at: usize) -> Result<&[u8], SkipReason> {
    b.get(at..).ok_or(SkipReason::Malformed)
}

/// `b` from `at` on, clipped to `len` bytes when that many were captured
/// (a length field of the enclosing header; a longer one is a cut frame).
#[inline]
fn clipped(b: &[u8], at: usize, len: usize) -> Result<&[u8], SkipReason> {
    let rest = from(b, at)?;
    Ok(rest.get(..len).unwrap_or(rest))
}

/// Decodes the headers of a frame down to its innermost TCP segment. An IP
/// fragment (at any depth) is [`SkipReason::IpFragment`]; see
/// [`crate::Defragmenter`] to reassemble them.
pub fn decode_segment<'a>(frame: &Frame<'a>) -> Result<Segment<'a>, SkipReason> {
    match decode(frame) {
        Ok(s) => Ok(s),
        Err(Stop::Skip(why)) => Err(why),
        Err(Stop::Fragment(_)) => Err(SkipReason::IpFragment),
    }
}

/// Why decoding stopped short of a segment.
pub(crate) enum Stop<'a> {
    Skip(SkipReason),
    /// An IP fragment: the IP header and what was captured of it.
    Fragment(&'a [u8]),
}

impl From<SkipReason> for Stop<'_> {
    fn from(why: SkipReason) -> Self {
        Stop::Skip(why)
    }
}

#[inline]
pub(crate) fn decode<'a>(frame: &Frame<'a>) -> Result<Segment<'a>, Stop<'a>> {
    let mut next = link::link_layer(frame.link, frame.data)?;
    for _ in 0..MAX_LAYERS {
        next = match next {
            Next::Ip(kind, b) => match ip(kind, b)? {
                Inner::Tcp(ip, ip_bytes, tcp) => return Ok(segment(frame, &ip, ip_bytes, &tcp)),
                Inner::Next(n) => n,
                Inner::Fragment(b) => return Err(Stop::Fragment(b)),
            },
            Next::Ethernet(b) => link::ethernet(b)?,
            Next::EtherType(t, b) => link::ethertype(t, b)?,
            Next::Ppp(b) => link::ppp(b)?,
            Next::Mpls(b) => link::mpls(b)?,
        };
    }
    Err(Stop::Skip(SkipReason::TooDeep))
}

/// What an IP header holds.
enum Inner<'a> {
    Tcp(LaxIpSlice<'a>, &'a [u8], TcpSlice<'a>),
    Next(Next<'a>),
    /// The IP datagram is a fragment.
    Fragment(&'a [u8]),
}

/// IP protocol numbers of encapsulations.
const IPPROTO_IPIP: u8 = 4;
const IPPROTO_IPV6: u8 = 41;
const IPPROTO_GRE: u8 = 47;
const IPPROTO_UDP: u8 = 17;
const IPPROTO_ETHERIP: u8 = 97;
const IPPROTO_MPLS: u8 = 137;

#[inline]
fn ip(kind: Ip, b: &[u8]) -> Result<Inner<'_>, SkipReason> {
    let version = byte(b, 0)? >> 4;
    match (kind, version) {
        (Ip::V4 | Ip::Either, 4) | (Ip::V6 | Ip::Either, 6) => {}
        (Ip::Either, _) => return Err(SkipReason::NotIp),
        _ => return Err(SkipReason::Malformed),
    }
    let (ip, stop) = LaxIpSlice::from_slice(b).map_err(|_| SkipReason::Malformed)?;
    let pl = ip.payload();
    if pl.fragmented {
        return Ok(Inner::Fragment(b));
    }
    if stop.is_some() {
        // An extension header is cut or invalid: the transport is unknown.
        return Err(SkipReason::Malformed);
    }
    let payload = pl.payload;
    let next = match pl.ip_number.0 {
        n if n == ip_number::TCP.0 => {
            let tcp = TcpSlice::from_slice(payload).map_err(|_| SkipReason::Malformed)?;
            return Ok(Inner::Tcp(ip, b, tcp));
        }
        IPPROTO_IPIP => Next::Ip(Ip::V4, payload),
        IPPROTO_IPV6 => Next::Ip(Ip::V6, payload),
        IPPROTO_UDP => tunnel::udp(payload)?,
        IPPROTO_GRE => tunnel::gre(payload)?,
        IPPROTO_MPLS => Next::Mpls(payload),
        IPPROTO_ETHERIP => tunnel::etherip(payload)?,
        _ => return Err(SkipReason::NotTcp),
    };
    Ok(Inner::Next(next))
}

/// The segment of the innermost IP header `ip` (whose bytes start at
/// `ip_bytes`) and its TCP header.
fn segment<'a>(
    frame: &Frame<'a>,
    ip: &LaxIpSlice<'a>,
    ip_bytes: &'a [u8],
    tcp: &TcpSlice<'a>,
) -> Segment<'a> {
    let d = frame.data;
    let ip_at = (ip_bytes.as_ptr() as usize).saturating_sub(d.as_ptr() as usize);
    let tcp_at = (tcp.slice().as_ptr() as usize).saturating_sub(ip_bytes.as_ptr() as usize);
    // Length of IP header + extension headers + TCP header.
    let headers = tcp_at.saturating_add(tcp.header_len());
    // The IP datagram's length from its header, if that field is usable
    // (0 is written for TSO/GSO super-packets and jumbograms).
    let ip_total: Option<usize> = match ip {
        LaxIpSlice::Ipv4(v4) => {
            let h = v4.header();
            let total = usize::from(h.total_len());
            (total >= h.slice().len()).then_some(total)
        }
        LaxIpSlice::Ipv6(v6) => {
            let pl = usize::from(v6.header().payload_length());
            (pl != 0).then_some(pl + 40)
        }
    };
    let wire_len = match ip_total {
        Some(total) => total.saturating_sub(headers),
        // Fall back to the frame's length on the wire.
        None => (frame.orig_len as usize)
            .max(d.len())
            .saturating_sub(ip_at)
            .saturating_sub(headers),
    };
    let wire_len = u32::try_from(wire_len).unwrap_or(u32::MAX);
    let payload = tcp.payload();
    let payload = payload
        .get(..payload.len().min(wire_len as usize))
        .unwrap_or(payload);

    Segment {
        src: Endpoint {
            ip: ip.source_addr(),
            port: tcp.source_port(),
        },
        dst: Endpoint {
            ip: ip.destination_addr(),
            port: tcp.destination_port(),
        },
        seq: tcp.sequence_number(),
        ack: tcp.acknowledgment_number(),
        flags: TcpFlags {
            syn: tcp.syn(),
            ack: tcp.ack(),
            fin: tcp.fin(),
            rst: tcp.rst(),
            psh: tcp.psh(),
        },
        payload,
        wire_len,
    }
}
