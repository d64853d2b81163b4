//! Link layers, IP and TCP decoding.

use super::*;
use crate::types::{LinkType, Timestamp};
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
fn too_many_vlan_tags_is_too_deep() {
    let tagged = |n: usize| {
        let mut ip = Vec::new();
        for _ in 1..n {
            ip.extend_from_slice(&[0, 1, 0x81, 0x00]);
        }
        ip.extend_from_slice(&[0, 1, 0x08, 0x00]);
        ip.extend_from_slice(&ipv4_tcp(PAYLOAD));
        ethernet(0x8100, &ip)
    };
    // Ethernet, each tag, the inner ethertype and IPv4 count one step each.
    check_v4(&decode(LinkType::ETHERNET, &tagged(MAX_LAYERS - 3)).expect("decodes"));
    assert_eq!(
        decode(LinkType::ETHERNET, &tagged(MAX_LAYERS - 2)).err(),
        Some(SkipReason::TooDeep)
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
    let links = [
        0u32, 1, 9, 12, 14, 50, 51, 100, 101, 104, 108, 109, 113, 117, 204, 226, 228, 229, 239,
        240, 276, 9999,
    ];
    let mut rng = tlsclose_testkit::Prng::new(0x1234_5678_9abc_def0);
    let mut next = move || rng.next();
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

// ----- encapsulations: what is not a packet, and hostile nesting -------------

/// `ip` in an outer IPv4 header of protocol `proto`.
fn in_ipv4(proto: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![0x45, 0];
    v.extend_from_slice(&(20 + payload.len() as u16).to_be_bytes());
    v.extend_from_slice(&[0, 0, 0x40, 0, 64, proto, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2]);
    v.extend_from_slice(payload);
    v
}

fn in_udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut u = sport.to_be_bytes().to_vec();
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&(8 + payload.len() as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    in_ipv4(17, &u)
}

#[test]
fn ip_in_ip_nesting_is_bounded() {
    let mut p = ipv4_tcp(PAYLOAD);
    for _ in 0..(MAX_LAYERS - 1) {
        p = in_ipv4(4, &p);
    }
    check_v4(&decode(LinkType::RAW, &p).expect("within the bound"));
    let p = in_ipv4(4, &p);
    assert_eq!(decode(LinkType::RAW, &p).err(), Some(SkipReason::TooDeep));
}

#[test]
fn gtp_u_signalling_and_bad_extension_chains_are_not_packets() {
    let gtp = |flags: u8, msg: u8, body: &[u8]| {
        let mut g = vec![flags, msg];
        g.extend_from_slice(&(body.len() as u16).to_be_bytes());
        g.extend_from_slice(&[0, 0, 0, 1]);
        g.extend_from_slice(body);
        in_udp(2152, 2152, &g)
    };
    let ip = ipv4_tcp(PAYLOAD);
    check_v4(&decode(LinkType::RAW, &gtp(0x30, 0xff, &ip)).expect("G-PDU"));
    // Echo request (message type 1): signalling, not a user packet.
    assert_eq!(
        decode(LinkType::RAW, &gtp(0x30, 0x01, &ip)).err(),
        Some(SkipReason::NotTcp)
    );
    // GTP' / version 2 headers are not GTP-U.
    assert_eq!(
        decode(LinkType::RAW, &gtp(0x50, 0xff, &ip)).err(),
        Some(SkipReason::NotTcp)
    );
    // An extension header of length 0 would never end: not a packet.
    let mut body = vec![0, 0, 0, 0x85, 0, 0, 0, 0];
    body.extend_from_slice(&ip);
    assert_eq!(
        decode(LinkType::RAW, &gtp(0x34, 0xff, &body)).err(),
        Some(SkipReason::NotTcp)
    );
    // N-PDU number only (PN): the optional fields are there, no extension.
    let mut body = vec![0, 0, 7, 0x85];
    body.extend_from_slice(&ip);
    check_v4(&decode(LinkType::RAW, &gtp(0x31, 0xff, &body)).expect("PN"));
}

#[test]
fn udp_on_tunnel_ports_that_is_no_tunnel_is_not_tcp() {
    let ip = ipv4_tcp(PAYLOAD);
    // VXLAN without the I flag
    let mut x = vec![0, 0, 0, 0, 0, 0, 1, 0];
    x.extend_from_slice(&ethernet(0x0800, &ip));
    assert_eq!(
        decode(LinkType::RAW, &in_udp(1234, 4789, &x)).err(),
        Some(SkipReason::NotTcp)
    );
    x[0] = 0x08;
    check_v4(&decode(LinkType::RAW, &in_udp(1234, 4789, &x)).expect("VXLAN"));
    // the source port names the tunnel when the destination does not
    check_v4(&decode(LinkType::RAW, &in_udp(8472, 1234, &x)).expect("VXLAN by source port"));
    // Geneve of version 1
    let mut g = vec![0x40, 0, 0x65, 0x58, 0, 0, 1, 0];
    g.extend_from_slice(&ethernet(0x0800, &ip));
    assert_eq!(
        decode(LinkType::RAW, &in_udp(1, 6081, &g)).err(),
        Some(SkipReason::NotTcp)
    );
}

#[test]
fn pppoe_discovery_mpls_channels_and_lcp_are_not_ip() {
    let ip = ipv4_tcp(PAYLOAD);
    let mut disc = vec![0x11, 0x09, 0, 0, 0, 0];
    disc.extend_from_slice(&[0; 20]);
    assert_eq!(
        decode(LinkType::ETHERNET, &ethernet(0x8863, &disc)).err(),
        Some(SkipReason::NotIp)
    );
    let mut lcp = vec![0x11, 0, 0, 1, 0, 6, 0xc0, 0x21, 1, 1, 0, 4];
    assert_eq!(
        decode(LinkType::ETHERNET, &ethernet(0x8864, &lcp)).err(),
        Some(SkipReason::NotIp)
    );
    lcp.truncate(6);
    lcp.extend_from_slice(&[0x21]); // compressed protocol field
    lcp.extend_from_slice(&ip);
    let len = (1 + ip.len() as u16).to_be_bytes();
    lcp[4..6].copy_from_slice(&len);
    check_v4(&decode(LinkType::ETHERNET, &ethernet(0x8864, &lcp)).expect("PFC"));
    // MPLS associated channel (first nibble 1) after the bottom label
    let mut m = vec![0, 0x01, 0x01, 64, 0x10, 0, 0, 0x21];
    m.extend_from_slice(&[0; 20]);
    assert_eq!(
        decode(LinkType::ETHERNET, &ethernet(0x8847, &m)).err(),
        Some(SkipReason::NotIp)
    );
    // a label stack without a bottom is cut
    assert_eq!(
        decode(LinkType::ETHERNET, &ethernet(0x8847, &[0, 0x01, 0, 64])).err(),
        Some(SkipReason::Malformed)
    );
}

#[test]
fn pptp_enhanced_gre_carries_ppp() {
    let ip = ipv4_tcp(PAYLOAD);
    // version 1, K and S and A flags, protocol PPP, payload length and call
    // id, sequence, acknowledgment, then PPP in HDLC-like framing
    let mut g = vec![0x30, 0x81, 0x88, 0x0b, 0, 0, 0, 1, 0, 0, 0, 5, 0, 0, 0, 4];
    g.extend_from_slice(&[0xff, 0x03, 0x00, 0x21]);
    g.extend_from_slice(&ip);
    check_v4(&decode(LinkType::RAW, &in_ipv4(47, &g)).expect("PPTP"));
    g[0] = 0x10; // no key: not enhanced GRE
    assert_eq!(
        decode(LinkType::RAW, &in_ipv4(47, &g)).err(),
        Some(SkipReason::NotIp)
    );
}

#[test]
fn nflog_in_either_host_byte_order() {
    let ip = ipv6_tcp(PAYLOAD);
    for le in [true, false] {
        let w = |v: u16| if le { v.to_le_bytes() } else { v.to_be_bytes() };
        let mut n = vec![10, 0, 0, 1];
        n.extend_from_slice(&w(8));
        n.extend_from_slice(&w(1)); // packet header
        n.extend_from_slice(&[0x86, 0xdd, 0, 0]);
        n.extend_from_slice(&w(4 + ip.len() as u16));
        n.extend_from_slice(&w(9));
        n.extend_from_slice(&ip);
        check_v6(&decode(LinkType::NFLOG, &n).expect("payload TLV"));
        // no payload TLV
        assert_eq!(
            decode(LinkType::NFLOG, &n[..12]).err(),
            Some(SkipReason::NotIp)
        );
    }
}

#[test]
fn vn_tag_and_e_tag() {
    let ip = ipv4_tcp(PAYLOAD);
    let mut vn = vec![0x80, 0x01, 0x00, 0x02, 0x08, 0x00];
    vn.extend_from_slice(&ip);
    check_v4(&decode(LinkType::ETHERNET, &ethernet(0x8926, &vn)).expect("VN-Tag"));
    let mut e = vec![0, 0, 0x10, 0x01, 0, 0, 0x08, 0x00];
    e.extend_from_slice(&ip);
    check_v4(&decode(LinkType::ETHERNET, &ethernet(0x893f, &e)).expect("E-Tag"));
}

#[test]
fn teredo_and_ayiya() {
    let ip6 = ipv6_tcp(PAYLOAD);
    // Teredo with an origin indication
    let mut t = vec![0, 0, 0x12, 0x34, 1, 2, 3, 4];
    t.extend_from_slice(&ip6);
    check_v6(&decode(LinkType::RAW, &in_udp(3544, 40000, &t)).expect("Teredo"));
    // and with an authentication indicator (id 2 bytes, auth 0) before it
    let mut a = vec![0, 1, 2, 0, 9, 9, 1, 2, 3, 4, 5, 6, 7, 8, 0];
    a.extend_from_slice(&t);
    check_v6(&decode(LinkType::RAW, &in_udp(40000, 3544, &a)).expect("Teredo auth"));
    // a Teredo bubble (no payload) is not TCP
    assert_eq!(
        decode(LinkType::RAW, &in_udp(3544, 3544, &[0x60, 0, 0, 0])).err(),
        Some(SkipReason::Malformed)
    );
    // AYIYA: identity of 2^4 bytes, signature of 5 words, forward, IPv6
    let mut y = vec![0x41, 0x52, 0x11, 41, 0, 0, 0, 0];
    y.extend_from_slice(&[0xaa; 16 + 20]);
    y.extend_from_slice(&ip6);
    check_v6(&decode(LinkType::RAW, &in_udp(5072, 5072, &y)).expect("AYIYA"));
}
