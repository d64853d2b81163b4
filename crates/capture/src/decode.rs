//! Frame → TCP segment decoding.
//!
//! The link layer is handled here (Ethernet with any number of 802.1Q /
//! 802.1ad / QinQ tags, Linux cooked v1 and v2, raw IP, BSD NULL and LOOP);
//! IPv4 / IPv6 (with extension headers) and TCP are sliced with etherparse's
//! lax slicer, so a frame cut by the snapshot length still yields its TCP
//! header and the captured part of the payload. Nothing is allocated.

use crate::types::{Endpoint, Frame, LinkType, Segment, TcpFlags};
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
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::UnsupportedLinkType(l) => write!(f, "unsupported link type {l}"),
            SkipReason::NotIp => f.write_str("not IP"),
            SkipReason::NotTcp => f.write_str("not TCP"),
            SkipReason::IpFragment => f.write_str("IP fragment"),
            SkipReason::Malformed => f.write_str("malformed or truncated headers"),
        }
    }
}

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86DD;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88A8;
const ETHERTYPE_QINQ_OLD: u16 = 0x9100;
const ETHERTYPE_QINQ_OLD2: u16 = 0x9200;
/// ARPHRD_NETLINK: SLL / SLL2 frames carrying netlink messages, not IP.
const ARPHRD_NETLINK: u16 = 824;
/// More tags than this on one frame is not a real frame.
const MAX_VLAN_TAGS: usize = 8;

/// Which IP version the link layer announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ip {
    V4,
    V6,
    /// Raw IP: decide from the version nibble.
    Either,
}

#[inline]
fn be16(b: &[u8], at: usize) -> Option<u16> {
    let a: [u8; 2] = b.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(u16::from_be_bytes(a))
}

/// Follows VLAN tags from ethertype `t`, whose field ends at `at`; returns
/// the IP version and the offset of the IP header.
#[inline]
fn ethertype_chain(d: &[u8], mut t: u16, mut at: usize) -> Result<(Ip, usize), SkipReason> {
    for _ in 0..=MAX_VLAN_TAGS {
        match t {
            ETHERTYPE_IPV4 => return Ok((Ip::V4, at)),
            ETHERTYPE_IPV6 => return Ok((Ip::V6, at)),
            // A tag: 2 bytes TCI, then the next ethertype.
            ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD | ETHERTYPE_QINQ_OLD2 => {
                t = be16(d, at + 2).ok_or(SkipReason::Malformed)?;
                at += 4;
            }
            _ => return Err(SkipReason::NotIp),
        }
    }
    Err(SkipReason::Malformed)
}

/// BSD address family of NULL / LOOP headers, in either byte order.
#[inline]
fn bsd_family(d: &[u8], network_order: bool) -> Result<(Ip, usize), SkipReason> {
    let a: [u8; 4] = d
        .get(..4)
        .and_then(|s| s.try_into().ok())
        .ok_or(SkipReason::Malformed)?;
    let mut fam = if network_order {
        u32::from_be_bytes(a)
    } else {
        u32::from_le_bytes(a)
    };
    // Families are small: a value with high bits set was written in the
    // other byte order.
    if fam & 0xFFFF_0000 != 0 {
        fam = fam.swap_bytes();
    }
    match fam {
        2 => Ok((Ip::V4, 4)),
        // AF_INET6 on NetBSD/OpenBSD, FreeBSD, Darwin.
        24 | 28 | 30 => Ok((Ip::V6, 4)),
        _ => Err(SkipReason::NotIp),
    }
}

/// The IP version and the offset of the IP header in a frame.
#[inline]
fn link_layer(link: LinkType, d: &[u8]) -> Result<(Ip, usize), SkipReason> {
    match link {
        LinkType::ETHERNET => {
            let t = be16(d, 12).ok_or(SkipReason::Malformed)?;
            ethertype_chain(d, t, 14)
        }
        LinkType::LINUX_SLL => {
            // 16 bytes: packet type, ARPHRD type, address length, address
            // (8), protocol.
            if be16(d, 2) == Some(ARPHRD_NETLINK) {
                return Err(SkipReason::NotIp);
            }
            let t = be16(d, 14).ok_or(SkipReason::Malformed)?;
            ethertype_chain(d, t, 16)
        }
        LinkType::LINUX_SLL2 => {
            // 20 bytes: protocol, reserved, interface index, ARPHRD type,
            // packet type, address length, address (8).
            if d.len() < 20 {
                return Err(SkipReason::Malformed);
            }
            if be16(d, 8) == Some(ARPHRD_NETLINK) {
                return Err(SkipReason::NotIp);
            }
            let t = be16(d, 0).ok_or(SkipReason::Malformed)?;
            ethertype_chain(d, t, 20)
        }
        LinkType::RAW | LinkType::RAW_12 | LinkType::RAW_14 => Ok((Ip::Either, 0)),
        LinkType::IPV4 => Ok((Ip::V4, 0)),
        LinkType::IPV6 => Ok((Ip::V6, 0)),
        LinkType::NULL => bsd_family(d, false),
        LinkType::LOOP => bsd_family(d, true),
        LinkType(other) => Err(SkipReason::UnsupportedLinkType(other)),
    }
}

/// Decodes the link, IP and TCP headers of a frame.
pub fn decode_segment<'a>(frame: &Frame<'a>) -> Result<Segment<'a>, SkipReason> {
    let d: &'a [u8] = frame.data;
    let (ip_kind, ip_at) = link_layer(frame.link, d)?;
    let ip_bytes = d.get(ip_at..).ok_or(SkipReason::Malformed)?;
    let version = ip_bytes.first().ok_or(SkipReason::Malformed)? >> 4;
    match (ip_kind, version) {
        (Ip::V4 | Ip::Either, 4) | (Ip::V6 | Ip::Either, 6) => {}
        (Ip::Either, _) => return Err(SkipReason::NotIp),
        _ => return Err(SkipReason::Malformed),
    }
    let (ip, stop) = LaxIpSlice::from_slice(ip_bytes).map_err(|_| SkipReason::Malformed)?;
    let ip_payload = ip.payload();
    if ip_payload.fragmented {
        return Err(SkipReason::IpFragment);
    }
    if stop.is_some() {
        // An extension header is cut or invalid: the transport is unknown.
        return Err(SkipReason::Malformed);
    }
    if ip_payload.ip_number != ip_number::TCP {
        return Err(SkipReason::NotTcp);
    }
    let tcp = TcpSlice::from_slice(ip_payload.payload).map_err(|_| SkipReason::Malformed)?;

    // Length of IP header + extension headers + TCP header.
    let headers = (ip_payload.payload.as_ptr() as usize)
        .saturating_sub(ip_bytes.as_ptr() as usize)
        .saturating_add(tcp.header_len());
    // The IP datagram's length from its header, if that field is usable
    // (0 is written for TSO/GSO super-packets and jumbograms).
    let ip_total: Option<usize> = match &ip {
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

    Ok(Segment {
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
    })
}
