//! Property: wrapping the frames of a real capture in any stack of the
//! supported encapsulations (VLAN tags, VXLAN, Geneve, GRE, ERSPAN I/II/III,
//! IP-in-IP, MPLS with and without a pseudowire control word, PPPoE, GTP-U,
//! EtherIP) and any link layer decodes to the same TCP segments as the plain
//! frames, so every verdict is the same. The wrappers are written here from
//! the RFCs, independently of the decoder (and of scripts/make-tunnels.py,
//! which builds the testdata/tunnel-* cases checked against tshark).

use proptest::prelude::*;
use tlsclose_capture::{
    decode_segment, CaptureReader, Defragmenter, Frame, LinkType, Segment, SkipReason, Timestamp,
};

/// The plain captures whose frames are wrapped: IPv4 and IPv6, and frames
/// cut by the snapshot length.
const SOURCES: [&str; 3] = ["sample", "fmt-ipv6", "fmt-snaplen-128"];

struct Plain {
    frames: Vec<(Vec<u8>, u32)>,
}

fn load(case: &str) -> Plain {
    let path = tlsclose_testkit::case(case).join("capture.pcap");
    let mut r = CaptureReader::from_reader(
        case,
        Box::new(std::fs::File::open(&path).expect("testdata capture")),
    )
    .expect("opens");
    let mut frames = Vec::new();
    while let Some(f) = r.next_frame().expect("reads") {
        assert_eq!(f.link, LinkType::ETHERNET, "{case}: Ethernet sources only");
        frames.push((f.data.to_vec(), f.orig_len));
    }
    assert!(!frames.is_empty(), "{case}: no frames");
    Plain { frames }
}

#[derive(Debug, Clone, Copy)]
enum Encap {
    Vlan(u16),
    Vxlan {
        v6: bool,
        port: u16,
    },
    Geneve {
        v6: bool,
        option_words: u8,
    },
    Gre {
        v6: bool,
        csum: bool,
        key: bool,
        seq: bool,
        routing: bool,
    },
    Erspan1,
    Erspan2,
    Erspan3 {
        platform: bool,
        ip_frame: bool,
    },
    IpIp {
        v6: bool,
    },
    Mpls {
        labels: u8,
    },
    MplsPw {
        labels: u8,
    },
    Pppoe {
        compressed: bool,
    },
    Gtpu {
        seq: bool,
        exts: u8,
    },
    EtherIp,
}

fn encap() -> impl Strategy<Value = Encap> {
    prop_oneof![
        prop::sample::select(vec![0x8100u16, 0x88a8, 0x9100]).prop_map(Encap::Vlan),
        (any::<bool>(), prop::sample::select(vec![4789u16, 8472]))
            .prop_map(|(v6, port)| Encap::Vxlan { v6, port }),
        (any::<bool>(), 0u8..6).prop_map(|(v6, option_words)| Encap::Geneve { v6, option_words }),
        (
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>()
        )
            .prop_map(|(v6, csum, key, seq, routing)| Encap::Gre {
                v6,
                csum,
                key,
                seq,
                routing
            }),
        Just(Encap::Erspan1),
        Just(Encap::Erspan2),
        (any::<bool>(), any::<bool>())
            .prop_map(|(platform, ip_frame)| Encap::Erspan3 { platform, ip_frame }),
        any::<bool>().prop_map(|v6| Encap::IpIp { v6 }),
        (1u8..4).prop_map(|labels| Encap::Mpls { labels }),
        (1u8..4).prop_map(|labels| Encap::MplsPw { labels }),
        any::<bool>().prop_map(|compressed| Encap::Pppoe { compressed }),
        (any::<bool>(), 0u8..3).prop_map(|(seq, exts)| Encap::Gtpu { seq, exts }),
        Just(Encap::EtherIp),
    ]
}

/// The last link layer under the stack.
#[derive(Debug, Clone, Copy)]
enum Link {
    Ethernet,
    Raw,
    IpvN,
    Null,
    Ppp,
    Nflog,
    CHdlc,
    Sll2,
}

enum Pkt {
    L2(Vec<u8>),
    L3(Vec<u8>),
}

impl Pkt {
    fn into_l3(self) -> Vec<u8> {
        to_l3(self)
    }
}

fn ethertype_of(ip: &[u8]) -> u16 {
    if ip.first().map(|b| b >> 4) == Some(6) {
        0x86dd
    } else {
        0x0800
    }
}

fn eth(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
    v.extend_from_slice(&ethertype.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

fn ip(v6: bool, proto: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = if v6 {
        let mut h = vec![0x60, 0, 0, 0];
        h.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        h.extend_from_slice(&[proto, 64]);
        h.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        h.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        h
    } else {
        let mut h = vec![0x45, 0];
        h.extend_from_slice(&(20 + payload.len() as u16).to_be_bytes());
        h.extend_from_slice(&[
            0, 0, 0x40, 0, 64, proto, 0, 0, 198, 51, 100, 1, 198, 51, 100, 2,
        ]);
        h
    };
    v.extend_from_slice(payload);
    v
}

fn udp(v6: bool, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut u = sport.to_be_bytes().to_vec();
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&(8 + payload.len() as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    ip(v6, 17, &u)
}

fn gre(proto: u16, payload: &[u8], csum: bool, key: bool, seq: bool, routing: bool) -> Vec<u8> {
    let mut flags = 0u8;
    let mut rest = Vec::new();
    if csum || routing {
        flags |= if csum { 0x80 } else { 0 } | if routing { 0x40 } else { 0 };
        rest.extend_from_slice(&[0x12, 0x34, 0, 0]);
    }
    if key {
        flags |= 0x20;
        rest.extend_from_slice(&[0, 0, 0x10, 0x01]);
    }
    if seq {
        flags |= 0x10;
        rest.extend_from_slice(&[0, 0, 0, 9]);
    }
    if routing {
        // one IPv4 source route entry of 8 bytes, then the empty one
        rest.extend_from_slice(&[0x08, 0x00, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0]);
    }
    let mut g = vec![flags, 0];
    g.extend_from_slice(&proto.to_be_bytes());
    g.extend_from_slice(&rest);
    g.extend_from_slice(payload);
    g
}

fn to_l2(p: Pkt) -> Vec<u8> {
    match p {
        Pkt::L2(v) => v,
        Pkt::L3(v) => eth(ethertype_of(&v), &v),
    }
}

fn to_l3(p: Pkt) -> Vec<u8> {
    match p {
        Pkt::L3(v) => v,
        Pkt::L2(v) => {
            let t = v.get(12..14).map(|t| u16::from_be_bytes([t[0], t[1]]));
            match (t, v.get(14..)) {
                (Some(0x0800 | 0x86dd), Some(ipb)) => ipb.to_vec(),
                // a tagged or tunnelled frame: carry it in VXLAN
                _ => udp(
                    false,
                    50000,
                    4789,
                    &[&[8, 0, 0, 0, 0, 0, 1, 0][..], &v].concat(),
                ),
            }
        }
    }
}

fn mpls_stack(labels: u8) -> Vec<u8> {
    let mut v = Vec::new();
    for i in 0..labels {
        let bos = if i + 1 == labels { 0x100 } else { 0 };
        v.extend_from_slice(&((u32::from(16 + i) << 12) | bos | 64).to_be_bytes());
    }
    v
}

fn apply(e: Encap, p: Pkt) -> Pkt {
    match e {
        Encap::Vlan(tpid) => {
            let mut v = to_l2(p);
            let mut tag = tpid.to_be_bytes().to_vec();
            tag.extend_from_slice(&[0, 42]);
            v.splice(12..12, tag);
            Pkt::L2(v)
        }
        Encap::Vxlan { v6, port } => {
            let inner = to_l2(p);
            let mut x = vec![0x08, 0, 0, 0, 0, 0x13, 0x89, 0];
            x.extend_from_slice(&inner);
            Pkt::L3(udp(v6, 51234, port, &x))
        }
        Encap::Geneve { v6, option_words } => {
            let (proto, inner) = match p {
                Pkt::L2(v) => (0x6558u16, v),
                Pkt::L3(v) => (ethertype_of(&v), v),
            };
            let mut g = vec![option_words & 0x3f, 0];
            g.extend_from_slice(&proto.to_be_bytes());
            g.extend_from_slice(&[0, 0, 7, 0]);
            if option_words > 0 {
                // one option filling the words: class, type, length
                g.extend_from_slice(&[0x01, 0x08, 0x01, option_words - 1]);
                g.resize(g.len() + 4 * usize::from(option_words - 1), 0xaa);
            }
            g.extend_from_slice(&inner);
            Pkt::L3(udp(v6, 40000, 6081, &g))
        }
        Encap::Gre {
            v6,
            csum,
            key,
            seq,
            routing,
        } => {
            let (proto, inner) = match p {
                Pkt::L2(v) => (0x6558u16, v),
                Pkt::L3(v) => (ethertype_of(&v), v),
            };
            Pkt::L3(ip(v6, 47, &gre(proto, &inner, csum, key, seq, routing)))
        }
        Encap::Erspan1 => Pkt::L3(ip(
            false,
            47,
            &gre(0x88be, &to_l2(p), false, false, false, false),
        )),
        Encap::Erspan2 => {
            let mut h = vec![0x10, 0x2a, 0, 5, 0, 0, 0, 7];
            h.extend_from_slice(&to_l2(p));
            Pkt::L3(ip(false, 47, &gre(0x88be, &h, false, false, true, false)))
        }
        Encap::Erspan3 { platform, ip_frame } => {
            let (ft, inner) = if ip_frame {
                (2u8, to_l3(p))
            } else {
                (0u8, to_l2(p))
            };
            let mut h = vec![0x20, 0, 0, 5, 1, 2, 3, 4, 0, 0];
            h.push(ft << 2);
            h.push(0x06 | u8::from(platform));
            if platform {
                h.extend_from_slice(&[0x0c, 0, 0, 42, 0, 0, 0, 1]);
            }
            h.extend_from_slice(&inner);
            Pkt::L3(ip(false, 47, &gre(0x22eb, &h, false, false, true, false)))
        }
        Encap::IpIp { v6 } => {
            let inner = to_l3(p);
            let proto = if ethertype_of(&inner) == 0x86dd {
                41
            } else {
                4
            };
            Pkt::L3(ip(v6, proto, &inner))
        }
        Encap::Mpls { labels } => {
            let mut v = mpls_stack(labels);
            v.extend_from_slice(&to_l3(p));
            Pkt::L2(eth(0x8847, &v))
        }
        Encap::MplsPw { labels } => {
            let mut v = mpls_stack(labels);
            v.extend_from_slice(&[0, 0, 0, 1]); // control word
            v.extend_from_slice(&to_l2(p));
            Pkt::L2(eth(0x8847, &v))
        }
        Encap::Pppoe { compressed } => {
            let inner = to_l3(p);
            let v6 = ethertype_of(&inner) == 0x86dd;
            let mut ppp = match (compressed, v6) {
                (true, false) => vec![0x21],
                (true, true) => vec![0x57],
                (false, false) => vec![0, 0x21],
                (false, true) => vec![0, 0x57],
            };
            ppp.extend_from_slice(&inner);
            let mut h = vec![0x11, 0, 0x12, 0x34];
            h.extend_from_slice(&(ppp.len() as u16).to_be_bytes());
            h.extend_from_slice(&ppp);
            Pkt::L2(eth(0x8864, &h))
        }
        Encap::Gtpu { seq, exts } => {
            let inner = to_l3(p);
            let e = exts > 0;
            let mut body = Vec::new();
            if seq || e {
                body.extend_from_slice(&[0, 1, 0, if e { 0x85 } else { 0 }]);
                for i in 0..exts {
                    let next = if i + 1 == exts { 0 } else { 0x85 };
                    body.extend_from_slice(&[2, 0x10, 9, 0, 0, 0, 0, next]);
                }
            }
            body.extend_from_slice(&inner);
            let flags = 0x30 | if e { 0x04 } else { 0 } | if seq { 0x02 } else { 0 };
            let mut g = vec![flags, 0xff];
            g.extend_from_slice(&(body.len() as u16).to_be_bytes());
            g.extend_from_slice(&[0, 0, 0x10, 0]);
            g.extend_from_slice(&body);
            Pkt::L3(udp(false, 2152, 2152, &g))
        }
        Encap::EtherIp => {
            let mut v = vec![0x30, 0];
            v.extend_from_slice(&to_l2(p));
            Pkt::L3(ip(false, 97, &v))
        }
    }
}

/// The frame bytes and link type of `p` under link layer `link`.
fn frame_of(p: Pkt, link: Link) -> (Vec<u8>, LinkType) {
    match link {
        Link::Ethernet => (to_l2(p), LinkType::ETHERNET),
        Link::Raw => (to_l3(p), LinkType::RAW),
        Link::IpvN => {
            let v = to_l3(p);
            let l = if ethertype_of(&v) == 0x86dd {
                LinkType::IPV6
            } else {
                LinkType::IPV4
            };
            (v, l)
        }
        Link::Null => {
            let v = to_l3(p);
            let af: u32 = if ethertype_of(&v) == 0x86dd { 30 } else { 2 };
            ([&af.to_le_bytes()[..], &v].concat(), LinkType::NULL)
        }
        Link::Ppp => {
            let v = to_l3(p);
            let proto: &[u8] = if ethertype_of(&v) == 0x86dd {
                &[0, 0x57]
            } else {
                &[0, 0x21]
            };
            ([&[0xff, 0x03][..], proto, &v].concat(), LinkType(9))
        }
        Link::Nflog => {
            let v = to_l3(p);
            let fam = if ethertype_of(&v) == 0x86dd { 10 } else { 2 };
            let mut n = vec![fam, 0, 0, 1];
            // a prefix TLV, then the payload TLV (little-endian host)
            n.extend_from_slice(&[8, 0, 10, 0, b'a', b'b', b'c', 0]);
            n.extend_from_slice(&(4 + v.len() as u16).to_le_bytes());
            n.extend_from_slice(&[9, 0]);
            n.extend_from_slice(&v);
            (n, LinkType(239))
        }
        Link::CHdlc => {
            let v = to_l3(p);
            let t = ethertype_of(&v).to_be_bytes();
            ([&[0x0f, 0][..], &t, &v].concat(), LinkType(104))
        }
        Link::Sll2 => {
            let v = to_l2(p);
            let t = [
                v.get(12).copied().unwrap_or(0),
                v.get(13).copied().unwrap_or(0),
            ];
            let mut h = t.to_vec();
            h.extend_from_slice(&[0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
            h.extend_from_slice(v.get(14..).unwrap_or(&[]));
            (h, LinkType::LINUX_SLL2)
        }
    }
}

/// The outermost IPv4 datagram `ip` in fragments of `size` payload bytes.
fn fragments(ip: &[u8], size: usize) -> Vec<Vec<u8>> {
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    let payload = &ip[ihl..];
    let mut out = Vec::new();
    let mut at = 0;
    while at < payload.len() {
        let end = (at + size).min(payload.len());
        let mut h = ip[..ihl].to_vec();
        h[2..4].copy_from_slice(&((ihl + end - at) as u16).to_be_bytes());
        h[4..6].copy_from_slice(&0x4242u16.to_be_bytes());
        let more = if end < payload.len() { 0x2000 } else { 0 };
        h[6..8].copy_from_slice(&((at / 8) as u16 | more).to_be_bytes());
        h.extend_from_slice(&payload[at..end]);
        out.push(h);
        at = end;
    }
    out
}

fn link() -> impl Strategy<Value = Link> {
    prop::sample::select(vec![
        Link::Ethernet,
        Link::Raw,
        Link::IpvN,
        Link::Null,
        Link::Ppp,
        Link::Nflog,
        Link::CHdlc,
        Link::Sll2,
    ])
}

fn frame(data: &[u8], link: LinkType, orig_len: u32) -> Frame<'_> {
    Frame {
        number: 1,
        ts: Timestamp(0),
        link,
        data,
        orig_len,
        file_offset: 0,
    }
}

/// The fields of a segment that a verdict depends on.
fn key(s: &Segment<'_>) -> impl PartialEq + std::fmt::Debug {
    (
        s.src,
        s.dst,
        s.seq,
        s.ack,
        s.flags,
        s.payload.to_vec(),
        s.wire_len,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The same with the outermost IPv4 datagram fragmented, the fragments
    /// in any order, through the reassembly.
    #[test]
    fn any_fragmented_stack_gives_the_plain_segments(
        source in 0..SOURCES.len(),
        stack in prop::collection::vec(encap(), 1..=4),
        words in 1usize..40,
        reverse in any::<bool>(),
    ) {
        let plain = load(SOURCES[source]);
        let mut defrag = Defragmenter::new();
        for (i, (data, orig)) in plain.frames.iter().enumerate() {
            let want = decode_segment(&frame(data, LinkType::ETHERNET, *orig))
                .map(|s| format!("{:?}", key(&s)));
            let mut p = Pkt::L2(data.clone());
            for e in &stack {
                p = apply(*e, p);
            }
            // an IPv4 datagram outermost: IPv4-in-IPv4 if need be
            let ip = to_l3(p);
            let ip = if ip[0] >> 4 == 4 { ip } else { apply(Encap::IpIp { v6: false }, Pkt::L3(ip)).into_l3() };
            let missing = orig.saturating_sub(data.len() as u32);
            if missing > 0 {
                continue; // a cut datagram cannot be reassembled
            }
            let mut frags = fragments(&ip, words * 8);
            if reverse {
                frags.reverse();
            }
            let last = frags.len() - 1;
            for (n, f) in frags.iter().enumerate() {
                let got = defrag
                    .decode(&frame(f, LinkType::RAW, f.len() as u32))
                    .map(|s| format!("{:?}", key(&s)));
                if n < last {
                    prop_assert_eq!(got, Err(SkipReason::IpFragment), "frame {} piece {}", i + 1, n);
                } else {
                    match (&want, &got) {
                        (Ok(w), Ok(g)) => prop_assert_eq!(w, g, "frame {}", i + 1),
                        (Err(_), Err(_)) => {}
                        _ => prop_assert!(false, "frame {}: {:?} plain, {:?} reassembled", i + 1, want, got),
                    }
                }
            }
        }
    }

    #[test]
    fn any_stack_gives_the_plain_segments(
        source in 0..SOURCES.len(),
        stack in prop::collection::vec(encap(), 1..=5),
        last in link(),
    ) {
        let plain = load(SOURCES[source]);
        let mut decoded = 0;
        for (i, (data, orig)) in plain.frames.iter().enumerate() {
            let want = decode_segment(&frame(data, LinkType::ETHERNET, *orig));
            let mut p = Pkt::L2(data.clone());
            for e in &stack {
                p = apply(*e, p);
            }
            let (wrapped, link) = frame_of(p, last);
            // what the frame lacks on the wire stays lacking
            let missing = orig.saturating_sub(data.len() as u32);
            let wrapped_orig = wrapped.len() as u32 + missing;
            let got = decode_segment(&frame(&wrapped, link, wrapped_orig));
            match (&want, &got) {
                (Ok(w), Ok(g)) => {
                    prop_assert_eq!(key(w), key(g), "frame {} under {:?} / {:?}", i + 1, stack, last);
                    decoded += 1;
                }
                (Err(_), Err(_)) => {}
                _ => prop_assert!(false, "frame {}: {:?} plain, {:?} under {:?} / {:?}",
                    i + 1, want.err(), got.err(), stack, last),
            }
        }
        prop_assert!(decoded > 0);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Damaged tunnels: any bytes changed and any cut, never a panic, and a
    /// payload that lies inside the frame and within its wire length.
    #[test]
    fn mangled_stacks_never_panic(
        stack in prop::collection::vec(encap(), 1..=6),
        last in link(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let plain = load(SOURCES[0]);
        for (data, _) in plain.frames.iter().take(20) {
            let mut p = Pkt::L2(data.clone());
            for e in &stack {
                p = apply(*e, p);
            }
            let (mut wrapped, link) = frame_of(p, last);
            for (at, b) in &edits {
                let i = at.index(wrapped.len());
                wrapped[i] = *b;
            }
            wrapped.truncate(cut.index(wrapped.len() + 1));
            if let Ok(s) = decode_segment(&frame(&wrapped, link, wrapped.len() as u32)) {
                prop_assert!(s.payload.len() <= s.wire_len as usize);
                let start = wrapped.as_ptr() as usize;
                let at = s.payload.as_ptr() as usize;
                prop_assert!(at >= start && at + s.payload.len() <= start + wrapped.len());
            }
        }
    }
}
