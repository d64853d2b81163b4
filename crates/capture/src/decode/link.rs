//! Link layers and the layer-2 encapsulations found under and inside
//! tunnels: Ethernet (II, 802.3 LLC/SNAP), VLAN tags, 802.1ah, MPLS, PPP,
//! PPPoE, Cisco HDLC; and the capture link types.

use super::{be16, be32, byte, clipped, from, tunnel, Ip, Next, SkipReason};
use crate::types::LinkType;

pub(super) const ETHERTYPE_IPV4: u16 = 0x0800;
pub(super) const ETHERTYPE_IPV6: u16 = 0x86DD;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88A8;
const ETHERTYPE_QINQ_OLD: u16 = 0x9100;
const ETHERTYPE_QINQ_OLD2: u16 = 0x9200;
const ETHERTYPE_MPLS: u16 = 0x8847;
const ETHERTYPE_MPLS_MULTICAST: u16 = 0x8848;
const ETHERTYPE_PPPOE_SESSION: u16 = 0x8864;
/// PPP, as GRE version 1 (PPTP) carries it.
pub(super) const ETHERTYPE_PPP: u16 = 0x880B;
/// Transparent Ethernet bridging (an Ethernet frame; GRE, Geneve).
pub(super) const ETHERTYPE_TEB: u16 = 0x6558;
/// Cisco VN-Tag and IEEE 802.1BR E-Tag: a 4- or 6-byte tag, then the next
/// ethertype.
const ETHERTYPE_VNTAG: u16 = 0x8926;
const ETHERTYPE_ETAG: u16 = 0x893F;
/// 802.1ah provider backbone bridging: an I-TAG, then an Ethernet frame.
const ETHERTYPE_PBB: u16 = 0x88E7;
pub(super) const ETHERTYPE_ERSPAN_2: u16 = 0x88BE;
pub(super) const ETHERTYPE_ERSPAN_3: u16 = 0x22EB;
/// ARPHRD_NETLINK: SLL / SLL2 frames carrying netlink messages, not IP.
const ARPHRD_NETLINK: u16 = 824;

const PPP_IPV4: u16 = 0x0021;
const PPP_IPV6: u16 = 0x0057;
const PPP_MPLS: u16 = 0x0281;
const PPP_MPLS_MULTICAST: u16 = 0x0283;

/// Most MPLS labels in one stack.
const MAX_MPLS_LABELS: usize = 16;
/// Most NFLOG TLVs looked at for the payload.
const MAX_NFLOG_TLVS: usize = 64;
/// The NFLOG attribute that holds the packet.
const NFULA_PAYLOAD: u16 = 9;

/// BSD address family of NULL / LOOP headers, in either byte order.
#[inline]
fn bsd_family(d: &[u8], network_order: bool) -> Result<Next<'_>, SkipReason> {
    let a = be32(d, 0)?;
    let mut fam = if network_order { a } else { a.swap_bytes() };
    // Families are small: a value with high bits set was written in the
    // other byte order.
    if fam & 0xFFFF_0000 != 0 {
        fam = fam.swap_bytes();
    }
    match fam {
        2 => Ok(Next::Ip(Ip::V4, from(d, 4)?)),
        // AF_INET6 on NetBSD/OpenBSD, FreeBSD, Darwin.
        24 | 28 | 30 => Ok(Next::Ip(Ip::V6, from(d, 4)?)),
        _ => Err(SkipReason::NotIp),
    }
}

/// The first header of a frame of link type `link`.
#[inline]
pub(super) fn link_layer(link: LinkType, d: &[u8]) -> Result<Next<'_>, SkipReason> {
    match link {
        LinkType::ETHERNET => Ok(Next::Ethernet(d)),
        LinkType::LINUX_SLL => {
            // 16 bytes: packet type, ARPHRD type, address length, address
            // (8), protocol.
            if be16(d, 2) == Ok(ARPHRD_NETLINK) {
                return Err(SkipReason::NotIp);
            }
            Ok(Next::EtherType(be16(d, 14)?, from(d, 16)?))
        }
        LinkType::LINUX_SLL2 => {
            // 20 bytes: protocol, reserved, interface index, ARPHRD type,
            // packet type, address length, address (8).
            if d.len() < 20 {
                return Err(SkipReason::Malformed);
            }
            if be16(d, 8) == Ok(ARPHRD_NETLINK) {
                return Err(SkipReason::NotIp);
            }
            Ok(Next::EtherType(be16(d, 0)?, from(d, 20)?))
        }
        LinkType::RAW | LinkType::RAW_12 | LinkType::RAW_14 => Ok(Next::Ip(Ip::Either, d)),
        LinkType::IPV4 => Ok(Next::Ip(Ip::V4, d)),
        LinkType::IPV6 => Ok(Next::Ip(Ip::V6, d)),
        LinkType::NULL => bsd_family(d, false),
        LinkType::LOOP => bsd_family(d, true),
        LinkType::PPP | LinkType::PPP_HDLC => match byte(d, 0)? {
            // Cisco HDLC framing under a PPP link type (as pppd and some
            // routers write it).
            0x0F | 0x8F => c_hdlc(d),
            _ => Ok(Next::Ppp(d)),
        },
        LinkType::PPP_WITH_DIR => Ok(Next::Ppp(from(d, 1)?)),
        LinkType::PPP_ETHER => pppoe(d),
        LinkType::C_HDLC => c_hdlc(d),
        LinkType::ATM_RFC1483 => llc_snap(d),
        LinkType::NFLOG => nflog(d),
        // OpenBSD pflog: header length (padded to 4), then IP.
        LinkType::PFLOG => {
            let len = usize::from(byte(d, 0)?);
            Ok(Next::Ip(Ip::Either, from(d, (len + 3) & !3)?))
        }
        // OpenBSD enc: address family, SPI and flags, then IP.
        LinkType::ENC => Ok(Next::Ip(Ip::Either, from(d, 12)?)),
        // Solaris ipnet: a 24-byte header, then IP.
        LinkType::IPNET => Ok(Next::Ip(Ip::Either, from(d, 24)?)),
        // Hilscher netANALYZER: a 4-byte header, then Ethernet.
        LinkType::NETANALYZER => Ok(Next::Ethernet(from(d, 4)?)),
        LinkType(other) => Err(SkipReason::UnsupportedLinkType(other)),
    }
}

/// An Ethernet header: the ethertype and what follows; an 802.3 length
/// field is followed by LLC (SNAP carries an ethertype).
#[inline]
pub(super) fn ethernet(b: &[u8]) -> Result<Next<'_>, SkipReason> {
    let t = be16(b, 12)?;
    let rest = from(b, 14)?;
    if t <= 1500 {
        return llc_snap(rest.get(..usize::from(t)).unwrap_or(rest));
    }
    Ok(Next::EtherType(t, rest))
}

/// 802.2 LLC with a SNAP header of ethertype OUI 0: the ethertype.
fn llc_snap(b: &[u8]) -> Result<Next<'_>, SkipReason> {
    match b.get(..6) {
        Some([0xAA, 0xAA, 0x03, 0, 0, 0]) => Ok(Next::EtherType(be16(b, 6)?, from(b, 8)?)),
        Some(_) => Err(SkipReason::NotIp),
        None => Err(SkipReason::Malformed),
    }
}

/// Cisco HDLC: address, control, then an ethertype.
fn c_hdlc(b: &[u8]) -> Result<Next<'_>, SkipReason> {
    Ok(Next::EtherType(be16(b, 2)?, from(b, 4)?))
}

/// The payload `b` of ethertype `t`.
#[inline]
pub(super) fn ethertype(t: u16, b: &[u8]) -> Result<Next<'_>, SkipReason> {
    Ok(match t {
        ETHERTYPE_IPV4 => Next::Ip(Ip::V4, b),
        ETHERTYPE_IPV6 => Next::Ip(Ip::V6, b),
        // A tag: 2 bytes TCI, then the next ethertype.
        ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD | ETHERTYPE_QINQ_OLD2 => {
            Next::EtherType(be16(b, 2)?, from(b, 4)?)
        }
        ETHERTYPE_VNTAG => Next::EtherType(be16(b, 4)?, from(b, 6)?),
        ETHERTYPE_ETAG => Next::EtherType(be16(b, 6)?, from(b, 8)?),
        ETHERTYPE_MPLS | ETHERTYPE_MPLS_MULTICAST => Next::Mpls(b),
        ETHERTYPE_PPPOE_SESSION => return pppoe(b),
        ETHERTYPE_PPP => Next::Ppp(b),
        ETHERTYPE_TEB => Next::Ethernet(b),
        // The 4-byte I-TAG, then the customer's Ethernet frame.
        ETHERTYPE_PBB => Next::Ethernet(from(b, 4)?),
        ETHERTYPE_ERSPAN_2 | ETHERTYPE_ERSPAN_3 => return tunnel::erspan(t, true, b),
        _ => return Err(SkipReason::NotIp),
    })
}

/// A PPPoE session header (RFC 2516 §4): version and type 0x11, code 0,
/// session id, length, then a PPP frame. Discovery packets are not IP.
fn pppoe(b: &[u8]) -> Result<Next<'_>, SkipReason> {
    if byte(b, 0)? != 0x11 || byte(b, 1)? != 0 {
        return Err(SkipReason::NotIp);
    }
    let len = usize::from(be16(b, 4)?);
    Ok(Next::Ppp(clipped(b, 6, len)?))
}

/// A PPP frame: optional address and control bytes (0xFF 0x03), then the
/// protocol, one byte when compressed (odd), else two.
#[inline]
pub(super) fn ppp(b: &[u8]) -> Result<Next<'_>, SkipReason> {
    let b = match b.get(..2) {
        Some([0xFF, 0x03]) => from(b, 2)?,
        _ => b,
    };
    let (proto, at) = match byte(b, 0)? {
        p if p & 1 == 1 => (u16::from(p), 1),
        _ => (be16(b, 0)?, 2),
    };
    let rest = from(b, at)?;
    match proto {
        PPP_IPV4 => Ok(Next::Ip(Ip::V4, rest)),
        PPP_IPV6 => Ok(Next::Ip(Ip::V6, rest)),
        PPP_MPLS | PPP_MPLS_MULTICAST => Ok(Next::Mpls(rest)),
        _ => Err(SkipReason::NotIp),
    }
}

/// An MPLS label stack (RFC 3032) down to its bottom, then what it carries,
/// told by the first nibble as there is no protocol field: 4 IPv4, 6 IPv6,
/// 0 a pseudowire control word (RFC 4385) then Ethernet (RFC 4448), 1 an
/// associated channel (not data); else an Ethernet pseudowire without a
/// control word.
#[inline]
pub(super) fn mpls(b: &[u8]) -> Result<Next<'_>, SkipReason> {
    let mut at = 0usize;
    for _ in 0..MAX_MPLS_LABELS {
        let entry = be32(b, at)?;
        at += 4;
        if entry & 0x100 != 0 {
            let rest = from(b, at)?;
            return match byte(rest, 0)? >> 4 {
                4 => Ok(Next::Ip(Ip::V4, rest)),
                6 => Ok(Next::Ip(Ip::V6, rest)),
                0 => Ok(Next::Ethernet(from(rest, 4)?)),
                1 => Err(SkipReason::NotIp),
                _ => Ok(Next::Ethernet(rest)),
            };
        }
    }
    Err(SkipReason::TooDeep)
}

/// Linux NFLOG (LINKTYPE_NFLOG): family, version, resource id, then TLVs
/// whose length (including the 4-byte TLV header) and type are in the
/// byte order of the capturing host; the payload TLV holds the packet.
fn nflog(d: &[u8]) -> Result<Next<'_>, SkipReason> {
    let kind = match byte(d, 0)? {
        2 => Ip::V4,
        10 => Ip::V6,
        _ => Ip::Either,
    };
    // The byte order: the one in which the first TLV's type is small (the
    // types are below 0x100; the top bit may flag a nested attribute).
    let le = be16(d, 6)?.swap_bytes() & 0x7FFF < 0x100;
    let rd = |at: usize| -> Result<u16, SkipReason> {
        let v = be16(d, at)?;
        Ok(if le { v.swap_bytes() } else { v })
    };
    let mut at = 4usize;
    for _ in 0..MAX_NFLOG_TLVS {
        let len = usize::from(rd(at)?);
        let ty = rd(at + 2)? & 0x7FFF;
        if len < 4 {
            return Err(SkipReason::Malformed);
        }
        if ty == NFULA_PAYLOAD {
            return Ok(Next::Ip(kind, clipped(d, at + 4, len - 4)?));
        }
        at = at.saturating_add((len + 3) & !3);
        if at >= d.len() {
            return Err(SkipReason::NotIp);
        }
    }
    Err(SkipReason::TooDeep)
}
