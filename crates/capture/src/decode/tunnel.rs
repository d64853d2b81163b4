//! Tunnels over IP: GRE (and ERSPAN inside it), UDP tunnels (VXLAN,
//! VXLAN-GPE, Geneve, GTP-U, GRE-in-UDP, Teredo, AYIYA) and EtherIP.

use super::link::{ETHERTYPE_ERSPAN_2, ETHERTYPE_ERSPAN_3, ETHERTYPE_PPP};
use super::{be16, byte, clipped, from, link, Ip, Next, SkipReason};

/// UDP ports of tunnels (IANA; 8472 is Linux's VXLAN default).
const PORT_VXLAN: u16 = 4789;
const PORT_VXLAN_LINUX: u16 = 8472;
const PORT_VXLAN_GPE: u16 = 4790;
const PORT_GENEVE: u16 = 6081;
const PORT_GTP_U: u16 = 2152;
const PORT_GRE_IN_UDP: u16 = 4754;
const PORT_TEREDO: u16 = 3544;
const PORT_AYIYA: u16 = 5072;

/// Most GRE source route entries, GTP-U extension headers.
const MAX_CHAIN: usize = 16;

/// A UDP datagram: a tunnel if one of its ports (destination first) is a
/// tunnel's and its header is one; else not TCP.
#[inline]
pub(super) fn udp(b: &[u8]) -> Result<Next<'_>, SkipReason> {
    let src = be16(b, 0)?;
    let dst = be16(b, 2)?;
    let len = usize::from(be16(b, 4)?);
    let payload = clipped(b, 8, len.saturating_sub(8))?;
    match udp_tunnel(dst, payload) {
        Some(next) => Ok(next),
        None if src != dst => udp_tunnel(src, payload).ok_or(SkipReason::NotTcp),
        None => Err(SkipReason::NotTcp),
    }
}

/// The tunnel of UDP port `port` in `b`, if `b` is one's header.
fn udp_tunnel(port: u16, b: &[u8]) -> Option<Next<'_>> {
    match port {
        PORT_VXLAN | PORT_VXLAN_LINUX => vxlan(b),
        PORT_VXLAN_GPE => vxlan_gpe(b),
        PORT_GENEVE => geneve(b),
        PORT_GTP_U => gtp_u(b),
        PORT_GRE_IN_UDP => gre(b).ok(),
        PORT_TEREDO => teredo(b),
        PORT_AYIYA => ayiya(b),
        _ => None,
    }
    .filter(|n| !matches!(n, Next::Ip(_, []) | Next::Ethernet([])))
}

/// Teredo (RFC 4380 §5.1.1): an optional authentication indicator (type 1,
/// client id and authentication value lengths, nonce, confirmation) and an
/// optional origin indication (type 0, 8 bytes), then IPv6.
fn teredo(b: &[u8]) -> Option<Next<'_>> {
    let mut at = 0usize;
    if be16(b, 0).ok()? == 1 {
        at = 4 + usize::from(*b.get(2)?) + usize::from(*b.get(3)?) + 9;
    }
    if be16(b, at).ok()? == 0 {
        at += 8;
    }
    let rest = b.get(at..)?;
    (*rest.first()? >> 4 == 6).then_some(Next::Ip(Ip::V6, rest))
}

/// AYIYA (draft-massar-v6ops-ayiya): identity length and type, signature
/// length and hash method, authentication method and operation (1:
/// forward), next header, epoch time; the identity (2^n bytes) and the
/// signature (4-byte words); then the packet.
fn ayiya(b: &[u8]) -> Option<Next<'_>> {
    if *b.get(2)? & 0x0f != 1 {
        return None;
    }
    let id = 1usize << (*b.first()? >> 4);
    let sig = usize::from(*b.get(1)? >> 4) * 4;
    let rest = b.get(8 + id + sig..)?;
    match *b.get(3)? {
        4 => Some(Next::Ip(Ip::V4, rest)),
        41 => Some(Next::Ip(Ip::V6, rest)),
        _ => None,
    }
}

/// VXLAN (RFC 7348 §5): flags with the I bit (a valid VNI), reserved, VNI,
/// reserved; then an Ethernet frame.
fn vxlan(b: &[u8]) -> Option<Next<'_>> {
    (*b.first()? & 0x08 != 0).then_some(())?;
    Some(Next::Ethernet(b.get(8..)?))
}

/// VXLAN-GPE (draft-ietf-nvo3-vxlan-gpe): the P bit and a next protocol.
fn vxlan_gpe(b: &[u8]) -> Option<Next<'_>> {
    let flags = *b.first()?;
    if flags & 0x04 == 0 {
        return vxlan(b);
    }
    let rest = b.get(8..)?;
    match b.get(3)? {
        1 => Some(Next::Ip(Ip::V4, rest)),
        2 => Some(Next::Ip(Ip::V6, rest)),
        3 => Some(Next::Ethernet(rest)),
        5 => Some(Next::Mpls(rest)),
        _ => None,
    }
}

/// Geneve (RFC 8926 §3.4): version 0, options length (4-byte words),
/// flags, protocol type (an ethertype), VNI; options; then the payload.
fn geneve(b: &[u8]) -> Option<Next<'_>> {
    let first = *b.first()?;
    if first >> 6 != 0 {
        return None;
    }
    let opts = usize::from(first & 0x3F) * 4;
    let proto = be16(b, 2).ok()?;
    Some(Next::EtherType(proto, b.get(8 + opts..)?))
}

/// GTP-U (3GPP TS 29.281 §5): version 1, protocol type GTP, message type
/// 255 (G-PDU, a user packet; others are signalling), length, TEID; with
/// any of the E, S, PN flags, sequence number, N-PDU number and the next
/// extension header type; extension headers chained by that type (each
/// its length in 4-byte words first, the next type last); then the packet.
fn gtp_u(b: &[u8]) -> Option<Next<'_>> {
    let flags = *b.first()?;
    if flags >> 5 != 1 || flags & 0x10 == 0 || *b.get(1)? != 0xFF {
        return None;
    }
    let len = usize::from(be16(b, 2).ok()?);
    let b = b.get(..len.saturating_add(8)).unwrap_or(b);
    let mut at = 8usize;
    if flags & 0x07 != 0 {
        let mut next_ext = *b.get(11)?;
        at = 12;
        if flags & 0x04 != 0 {
            let mut n = 0;
            while next_ext != 0 {
                n += 1;
                let words = usize::from(*b.get(at)?);
                if words == 0 || n > MAX_CHAIN {
                    return None;
                }
                at += words * 4;
                next_ext = *b.get(at - 1)?;
            }
        }
    }
    let rest = b.get(at..)?;
    match *rest.first()? >> 4 {
        4 | 6 => Some(Next::Ip(Ip::Either, rest)),
        _ => None,
    }
}

const GRE_C: u8 = 0x80;
const GRE_R: u8 = 0x40;
const GRE_K: u8 = 0x20;
const GRE_S: u8 = 0x10;
/// Enhanced GRE (version 1): acknowledgment number present.
const GRE_A: u8 = 0x80;

/// GRE (RFC 2784, 2890; RFC 1701 routing; RFC 2637 enhanced GRE):
/// checksum and offset when C or R, key when K, sequence number when S,
/// then with R a list of source route entries ending with an empty one;
/// then the payload of the protocol type.
pub(super) fn gre(b: &[u8]) -> Result<Next<'_>, SkipReason> {
    let flags = byte(b, 0)?;
    let ver = byte(b, 1)? & 0x07;
    let proto = be16(b, 2)?;
    let mut at = 4usize;
    match ver {
        0 => {
            if flags & (GRE_C | GRE_R) != 0 {
                at += 4;
            }
            if flags & GRE_K != 0 {
                at += 4;
            }
            if flags & GRE_S != 0 {
                at += 4;
            }
            if flags & GRE_R != 0 {
                let mut done = false;
                for _ in 0..MAX_CHAIN {
                    // address family, SRE offset, SRE length, routing info
                    let family = be16(b, at)?;
                    let len = usize::from(byte(b, at + 3)?);
                    at += 4 + len;
                    if family == 0 && len == 0 {
                        done = true;
                        break;
                    }
                }
                if !done {
                    return Err(SkipReason::TooDeep);
                }
            }
        }
        1 => {
            // PPTP: key (payload length, call id) always, sequence and
            // acknowledgment numbers when flagged; PPP inside.
            if flags & GRE_K == 0 || proto != ETHERTYPE_PPP {
                return Err(SkipReason::NotIp);
            }
            at += 4;
            if flags & GRE_S != 0 {
                at += 4;
            }
            if byte(b, 1)? & GRE_A != 0 {
                at += 4;
            }
        }
        _ => return Err(SkipReason::NotIp),
    }
    let payload = from(b, at)?;
    match proto {
        ETHERTYPE_ERSPAN_2 | ETHERTYPE_ERSPAN_3 => erspan(proto, flags & GRE_S != 0, payload),
        _ => link::ethertype(proto, payload),
    }
}

/// ERSPAN (draft-foschiano-erspan-03) of GRE protocol `proto`.
///
/// Type I (0x88BE without a GRE sequence number) has no header; type II
/// (0x88BE, version 1) has an 8-byte header; type III (0x22EB, version 2) a
/// 12-byte header, followed by an 8-byte platform-specific subheader when
/// its O bit is set, and a frame type (0 Ethernet, 2 IP). Then the frame.
pub(super) fn erspan(proto: u16, sequenced: bool, b: &[u8]) -> Result<Next<'_>, SkipReason> {
    if proto == ETHERTYPE_ERSPAN_2 && !sequenced {
        return Ok(Next::Ethernet(b));
    }
    let version = byte(b, 0)? >> 4;
    match (proto, version) {
        (ETHERTYPE_ERSPAN_2, 1) => Ok(Next::Ethernet(from(b, 8)?)),
        (ETHERTYPE_ERSPAN_3, 2) => {
            let ft = (byte(b, 10)? >> 2) & 0x1F;
            let sub = if byte(b, 11)? & 0x01 != 0 { 8 } else { 0 };
            let rest = from(b, 12 + sub)?;
            match ft {
                0 => Ok(Next::Ethernet(rest)),
                2 => Ok(Next::Ip(Ip::Either, rest)),
                _ => Err(SkipReason::NotIp),
            }
        }
        _ => Err(SkipReason::Malformed),
    }
}

/// EtherIP (RFC 3378): version 3 and reserved bits, then an Ethernet frame.
pub(super) fn etherip(b: &[u8]) -> Result<Next<'_>, SkipReason> {
    if byte(b, 0)? >> 4 != 3 {
        return Err(SkipReason::NotIp);
    }
    Ok(Next::Ethernet(from(b, 2)?))
}
