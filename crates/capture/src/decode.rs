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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Timestamp;
    use etherparse::{PacketBuilder, VlanId};
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    const PAYLOAD: &[u8] = b"\x17\x03\x03\x00\x05hello";
    const V4_SRC: [u8; 4] = [10, 0, 0, 1];
    const V4_DST: [u8; 4] = [10, 0, 0, 2];
    const V6_SRC: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    const V6_DST: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

    fn frame(link: LinkType, data: &[u8]) -> Frame<'_> {
        Frame {
            number: 1,
            ts: Timestamp(0),
            link,
            data,
            orig_len: data.len() as u32,
            file_offset: 0,
        }
    }

    /// Bare IPv4 + TCP (PSH|ACK) with `payload`.
    fn ipv4_tcp(payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        PacketBuilder::ipv4(V4_SRC, V4_DST, 64)
            .tcp(443, 51000, 1000, 512)
            .psh()
            .ack(2000)
            .write_to_vec(&mut v, payload)
            .expect("build");
        v
    }

    /// Bare IPv6 + TCP (FIN|ACK) with `payload`.
    fn ipv6_tcp(payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        PacketBuilder::ipv6(V6_SRC, V6_DST, 64)
            .tcp(51000, 443, 7, 512)
            .fin()
            .ack(9)
            .write_to_vec(&mut v, payload)
            .expect("build");
        v
    }

    fn ethernet(ethertype: u16, ip: &[u8]) -> Vec<u8> {
        let mut v = vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
        v.extend_from_slice(&ethertype.to_be_bytes());
        v.extend_from_slice(ip);
        v
    }

    fn check_v4(s: &Segment<'_>) {
        assert_eq!(s.src.ip, IpAddr::V4(Ipv4Addr::from(V4_SRC)));
        assert_eq!(s.dst.ip, IpAddr::V4(Ipv4Addr::from(V4_DST)));
        assert_eq!((s.src.port, s.dst.port), (443, 51000));
        assert_eq!((s.seq, s.ack), (1000, 2000));
        assert_eq!(
            s.flags,
            TcpFlags {
                syn: false,
                ack: true,
                fin: false,
                rst: false,
                psh: true
            }
        );
        assert_eq!(s.payload, PAYLOAD);
        assert_eq!(s.wire_len as usize, PAYLOAD.len());
        assert!(!s.is_truncated());
    }

    fn check_v6(s: &Segment<'_>) {
        assert_eq!(s.src.ip, IpAddr::V6(Ipv6Addr::from(V6_SRC)));
        assert_eq!(s.dst.ip, IpAddr::V6(Ipv6Addr::from(V6_DST)));
        assert_eq!((s.src.port, s.dst.port), (51000, 443));
        assert_eq!((s.seq, s.ack), (7, 9));
        assert!(s.flags.fin && s.flags.ack && !s.flags.syn && !s.flags.rst);
        assert_eq!(s.payload, PAYLOAD);
        assert_eq!(s.wire_len as usize, PAYLOAD.len());
    }

    fn decode(link: LinkType, data: &[u8]) -> Result<Segment<'_>, SkipReason> {
        decode_segment(&frame(link, data))
    }

    #[test]
    fn ethernet_ipv4_built_by_etherparse() {
        let mut v = Vec::new();
        PacketBuilder::ethernet2([1; 6], [2; 6])
            .ipv4(V4_SRC, V4_DST, 64)
            .tcp(443, 51000, 1000, 512)
            .psh()
            .ack(2000)
            .write_to_vec(&mut v, PAYLOAD)
            .expect("build");
        check_v4(&decode(LinkType::ETHERNET, &v).expect("decodes"));
    }

    #[test]
    fn ethernet_ipv6() {
        let v = ethernet(0x86dd, &ipv6_tcp(PAYLOAD));
        check_v6(&decode(LinkType::ETHERNET, &v).expect("decodes"));
    }

    #[test]
    fn ethernet_single_vlan() {
        let mut v = Vec::new();
        PacketBuilder::ethernet2([1; 6], [2; 6])
            .single_vlan(VlanId::try_new(42).expect("vid"))
            .ipv4(V4_SRC, V4_DST, 64)
            .tcp(443, 51000, 1000, 512)
            .psh()
            .ack(2000)
            .write_to_vec(&mut v, PAYLOAD)
            .expect("build");
        assert_eq!(&v[12..14], &[0x81, 0x00]);
        check_v4(&decode(LinkType::ETHERNET, &v).expect("decodes"));
    }

    #[test]
    fn ethernet_qinq_all_outer_tag_types() {
        for outer in [0x88a8u16, 0x9100, 0x9200, 0x8100] {
            let mut ip = Vec::new();
            ip.extend_from_slice(&[0x00, 0x07]); // outer TCI
            ip.extend_from_slice(&0x8100u16.to_be_bytes());
            ip.extend_from_slice(&[0x00, 0x2a]); // inner TCI
            ip.extend_from_slice(&0x0800u16.to_be_bytes());
            ip.extend_from_slice(&ipv4_tcp(PAYLOAD));
            let v = ethernet(outer, &ip);
            check_v4(&decode(LinkType::ETHERNET, &v).expect("decodes"));
        }
        // As etherparse writes a double tag.
        let mut v = Vec::new();
        PacketBuilder::ethernet2([1; 6], [2; 6])
            .double_vlan(
                VlanId::try_new(7).expect("vid"),
                VlanId::try_new(42).expect("vid"),
            )
            .ipv6(V6_SRC, V6_DST, 64)
            .tcp(51000, 443, 7, 512)
            .fin()
            .ack(9)
            .write_to_vec(&mut v, PAYLOAD)
            .expect("build");
        check_v6(&decode(LinkType::ETHERNET, &v).expect("decodes"));
    }

    #[test]
    fn too_many_vlan_tags_is_malformed() {
        let mut ip = Vec::new();
        for _ in 0..20 {
            ip.extend_from_slice(&[0, 1, 0x81, 0x00]);
        }
        ip.extend_from_slice(&ipv4_tcp(PAYLOAD));
        assert_eq!(
            decode(LinkType::ETHERNET, &ethernet(0x8100, &ip)).err(),
            Some(SkipReason::Malformed)
        );
    }

    #[test]
    fn linux_sll_v1() {
        let mut v = Vec::new();
        PacketBuilder::linux_sll(etherparse::LinuxSllPacketType::OUTGOING, 6, [1; 8])
            .ipv4(V4_SRC, V4_DST, 64)
            .tcp(443, 51000, 1000, 512)
            .psh()
            .ack(2000)
            .write_to_vec(&mut v, PAYLOAD)
            .expect("build");
        assert_eq!(&v[14..16], &[0x08, 0x00]);
        check_v4(&decode(LinkType::LINUX_SLL, &v).expect("decodes"));
        // By hand, IPv6.
        let mut h = vec![0, 4, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x86, 0xdd];
        h.extend_from_slice(&ipv6_tcp(PAYLOAD));
        check_v6(&decode(LinkType::LINUX_SLL, &h).expect("decodes"));
        // Netlink messages are not IP even with a matching protocol value.
        h[2..4].copy_from_slice(&824u16.to_be_bytes());
        assert_eq!(
            decode(LinkType::LINUX_SLL, &h).err(),
            Some(SkipReason::NotIp)
        );
    }

    fn sll2(proto: u16, ip: &[u8]) -> Vec<u8> {
        let mut v = proto.to_be_bytes().to_vec();
        v.extend_from_slice(&[0, 0]); // reserved
        v.extend_from_slice(&1u32.to_be_bytes()); // ifindex
        v.extend_from_slice(&1u16.to_be_bytes()); // ARPHRD_ETHER
        v.push(4); // outgoing
        v.push(6);
        v.extend_from_slice(&[1, 2, 3, 4, 5, 6, 0, 0]);
        assert_eq!(v.len(), 20);
        v.extend_from_slice(ip);
        v
    }

    #[test]
    fn linux_sll_v2() {
        check_v4(&decode(LinkType::LINUX_SLL2, &sll2(0x0800, &ipv4_tcp(PAYLOAD))).expect("v4"));
        check_v6(&decode(LinkType::LINUX_SLL2, &sll2(0x86dd, &ipv6_tcp(PAYLOAD))).expect("v6"));
        let mut tagged = vec![0, 42, 0x08, 0x00];
        tagged.extend_from_slice(&ipv4_tcp(PAYLOAD));
        check_v4(&decode(LinkType::LINUX_SLL2, &sll2(0x8100, &tagged)).expect("vlan"));
        assert_eq!(
            decode(LinkType::LINUX_SLL2, &sll2(0x0806, &[0; 28])).err(),
            Some(SkipReason::NotIp)
        );
        assert_eq!(
            decode(LinkType::LINUX_SLL2, &[0x08, 0x00, 0, 0]).err(),
            Some(SkipReason::Malformed)
        );
    }

    #[test]
    fn raw_ip_all_link_values() {
        for link in [LinkType::RAW, LinkType::RAW_12, LinkType::RAW_14] {
            check_v4(&decode(link, &ipv4_tcp(PAYLOAD)).expect("v4"));
            check_v6(&decode(link, &ipv6_tcp(PAYLOAD)).expect("v6"));
            assert_eq!(decode(link, &[0x50; 40]).err(), Some(SkipReason::NotIp));
        }
        check_v4(&decode(LinkType::IPV4, &ipv4_tcp(PAYLOAD)).expect("228"));
        check_v6(&decode(LinkType::IPV6, &ipv6_tcp(PAYLOAD)).expect("229"));
        assert_eq!(
            decode(LinkType::IPV4, &ipv6_tcp(PAYLOAD)).err(),
            Some(SkipReason::Malformed)
        );
        assert_eq!(
            decode(LinkType::IPV6, &ipv4_tcp(PAYLOAD)).err(),
            Some(SkipReason::Malformed)
        );
    }

    #[test]
    fn bsd_null_both_byte_orders_and_every_af_inet6() {
        for le in [true, false] {
            let fam = |f: u32| if le { f.to_le_bytes() } else { f.to_be_bytes() };
            let mut v = fam(2).to_vec();
            v.extend_from_slice(&ipv4_tcp(PAYLOAD));
            check_v4(&decode(LinkType::NULL, &v).expect("AF_INET"));
            for af6 in [24u32, 28, 30] {
                let mut v = fam(af6).to_vec();
                v.extend_from_slice(&ipv6_tcp(PAYLOAD));
                check_v6(&decode(LinkType::NULL, &v).expect("AF_INET6"));
            }
            let mut v = fam(7).to_vec();
            v.extend_from_slice(&ipv4_tcp(PAYLOAD));
            assert_eq!(decode(LinkType::NULL, &v).err(), Some(SkipReason::NotIp));
        }
        assert_eq!(
            decode(LinkType::NULL, &[2, 0]).err(),
            Some(SkipReason::Malformed)
        );
    }

    #[test]
    fn bsd_loop_network_order() {
        let mut v = 2u32.to_be_bytes().to_vec();
        v.extend_from_slice(&ipv4_tcp(PAYLOAD));
        check_v4(&decode(LinkType::LOOP, &v).expect("AF_INET"));
        let mut v = 24u32.to_be_bytes().to_vec();
        v.extend_from_slice(&ipv6_tcp(PAYLOAD));
        check_v6(&decode(LinkType::LOOP, &v).expect("AF_INET6"));
    }

    /// Inserts an 8-byte hop-by-hop options header after the IPv6 header.
    fn with_hop_by_hop(mut ip: Vec<u8>) -> Vec<u8> {
        let next = ip[6];
        ip[6] = 0; // hop-by-hop
        let pl = u16::from_be_bytes([ip[4], ip[5]]) + 8;
        ip[4..6].copy_from_slice(&pl.to_be_bytes());
        // next header, length 0 (8 bytes), PadN option of 4 bytes.
        let ext = [next, 0, 1, 4, 0, 0, 0, 0];
        ip.splice(40..40, ext);
        ip
    }

    #[test]
    fn ipv6_extension_header() {
        let ip = with_hop_by_hop(ipv6_tcp(PAYLOAD));
        let v = ethernet(0x86dd, &ip);
        check_v6(&decode(LinkType::ETHERNET, &v).expect("decodes"));
        // The extension header cut short.
        assert_eq!(
            decode(LinkType::RAW, &ip[..44]).err(),
            Some(SkipReason::Malformed)
        );
    }

    #[test]
    fn ipv6_fragment_header() {
        let mut ip = ipv6_tcp(PAYLOAD);
        ip[6] = 44;
        let pl = u16::from_be_bytes([ip[4], ip[5]]) + 8;
        ip[4..6].copy_from_slice(&pl.to_be_bytes());
        // next = TCP, offset 0, more fragments.
        ip.splice(40..40, [6, 0, 0, 1, 0, 0, 0, 9]);
        assert_eq!(
            decode(LinkType::RAW, &ip).err(),
            Some(SkipReason::IpFragment)
        );
    }

    fn set_ipv4_checksumless(ip: &mut [u8], flags_frag: u16) {
        ip[6..8].copy_from_slice(&flags_frag.to_be_bytes());
    }

    #[test]
    fn ipv4_fragments() {
        let mut ip = ipv4_tcp(PAYLOAD);
        set_ipv4_checksumless(&mut ip, 0x2000); // MF, offset 0
        assert_eq!(
            decode(LinkType::RAW, &ip).err(),
            Some(SkipReason::IpFragment)
        );
        set_ipv4_checksumless(&mut ip, 0x0010); // last fragment, offset 128
        assert_eq!(
            decode(LinkType::RAW, &ip).err(),
            Some(SkipReason::IpFragment)
        );
        set_ipv4_checksumless(&mut ip, 0x4000); // DF: not a fragment
        check_v4(&decode(LinkType::RAW, &ip).expect("DF"));
    }

    #[test]
    fn snaplen_cut_frame_keeps_tcp_header_and_partial_payload() {
        let big = vec![0xabu8; 1000];
        let mut v = Vec::new();
        PacketBuilder::ethernet2([1; 6], [2; 6])
            .ipv4(V4_SRC, V4_DST, 64)
            .tcp(443, 51000, 1000, 512)
            .ack(1)
            .write_to_vec(&mut v, &big)
            .expect("build");
        let orig_len = v.len() as u32;
        let cut = &v[..128];
        let f = Frame {
            orig_len,
            ..frame(LinkType::ETHERNET, cut)
        };
        let s = decode_segment(&f).expect("decodes");
        assert_eq!(s.wire_len, 1000);
        assert_eq!(s.payload.len(), 128 - 14 - 20 - 20);
        assert!(s.is_truncated());
        assert!(s.payload.iter().all(|&b| b == 0xab));
        // IPv6 likewise.
        let ip = ipv6_tcp(&big);
        let s = decode(LinkType::RAW, &ip[..100]).expect("decodes");
        assert_eq!(s.wire_len, 1000);
        assert_eq!(s.payload.len(), 100 - 40 - 20);
        // Cut inside the TCP header: nothing usable.
        assert_eq!(
            decode(LinkType::RAW, &ip[..50]).err(),
            Some(SkipReason::Malformed)
        );
        // Cut inside the IP header.
        assert_eq!(
            decode(LinkType::RAW, &ip[..30]).err(),
            Some(SkipReason::Malformed)
        );
    }

    #[test]
    fn ethernet_padding_is_trimmed() {
        for payload in [&b""[..], &b"ab"[..]] {
            let mut v = ethernet(0x0800, &ipv4_tcp(payload));
            v.resize(60, 0xee); // minimum frame size
            v.extend_from_slice(&[0xfc; 4]); // and an FCS
            let s = decode(LinkType::ETHERNET, &v).expect("decodes");
            assert_eq!(s.payload, payload);
            assert_eq!(s.wire_len as usize, payload.len());
        }
    }

    #[test]
    fn zero_ip_total_length_falls_back_to_frame_length() {
        // TSO/GSO super-packets are captured with an IPv4 total length of 0.
        let mut ip = ipv4_tcp(PAYLOAD);
        ip[2..4].copy_from_slice(&[0, 0]);
        let s = decode(LinkType::RAW, &ip).expect("decodes");
        assert_eq!(s.payload, PAYLOAD);
        assert_eq!(s.wire_len as usize, PAYLOAD.len());
    }

    #[test]
    fn udp_is_not_tcp() {
        let mut v = Vec::new();
        PacketBuilder::ethernet2([1; 6], [2; 6])
            .ipv4(V4_SRC, V4_DST, 64)
            .udp(53, 53)
            .write_to_vec(&mut v, b"dns")
            .expect("build");
        assert_eq!(
            decode(LinkType::ETHERNET, &v).err(),
            Some(SkipReason::NotTcp)
        );
        let mut v = Vec::new();
        PacketBuilder::ipv6(V6_SRC, V6_DST, 64)
            .udp(53, 53)
            .write_to_vec(&mut v, b"dns")
            .expect("build");
        assert_eq!(decode(LinkType::RAW, &v).err(), Some(SkipReason::NotTcp));
    }

    #[test]
    fn non_ip_ethertypes() {
        assert_eq!(
            decode(LinkType::ETHERNET, &ethernet(0x0806, &[0; 28])).err(),
            Some(SkipReason::NotIp)
        );
        // 802.3 length field.
        assert_eq!(
            decode(LinkType::ETHERNET, &ethernet(0x0040, &[0; 64])).err(),
            Some(SkipReason::NotIp)
        );
        assert_eq!(
            decode(LinkType::ETHERNET, &[0; 10]).err(),
            Some(SkipReason::Malformed)
        );
    }

    #[test]
    fn unknown_link_type() {
        assert_eq!(
            decode(LinkType(147), &ipv4_tcp(PAYLOAD)).err(),
            Some(SkipReason::UnsupportedLinkType(147))
        );
    }

    #[test]
    fn tcp_flags_syn_rst() {
        let mut v = Vec::new();
        PacketBuilder::ipv4(V4_SRC, V4_DST, 64)
            .tcp(1, 2, 3, 4)
            .syn()
            .rst()
            .write_to_vec(&mut v, &[])
            .expect("build");
        let s = decode(LinkType::RAW, &v).expect("decodes");
        assert!(s.flags.syn && s.flags.rst && !s.flags.ack && !s.flags.fin && !s.flags.psh);
        assert!(s.payload.is_empty());
        assert_eq!(s.wire_len, 0);
    }

    /// Random and mangled frames on every link type: no panic, and a payload
    /// never longer than `wire_len` nor outside the frame.
    #[test]
    fn never_panics_on_garbage() {
        let links = [0u32, 1, 12, 14, 101, 108, 113, 228, 229, 276, 9999];
        let mut seed = 0x1234_5678_9abc_def0u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let base = ethernet(0x0800, &ipv4_tcp(PAYLOAD));
        let base6 = ethernet(0x86dd, &with_hop_by_hop(ipv6_tcp(PAYLOAD)));
        for i in 0..20_000 {
            let mut v = if i % 2 == 0 {
                base.clone()
            } else {
                base6.clone()
            };
            let len = (next() as usize) % (v.len() + 1);
            v.truncate(len);
            for _ in 0..(next() % 4) {
                if !v.is_empty() {
                    let at = (next() as usize) % v.len();
                    v[at] = next() as u8;
                }
            }
            for &l in &links {
                let data = if l == 1 {
                    &v[..]
                } else {
                    &v[v.len().min(14)..]
                };
                if let Ok(s) = decode(LinkType(l), data) {
                    assert!(s.payload.len() <= s.wire_len as usize);
                    let start = data.as_ptr() as usize;
                    let p = s.payload.as_ptr() as usize;
                    assert!(p >= start && p + s.payload.len() <= start + data.len());
                }
            }
        }
    }
}
