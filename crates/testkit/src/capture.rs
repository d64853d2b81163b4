//! Capture writers. Byte by byte: pcap headers and records, pcapng blocks
//! (either byte order: `be`), gzip. Packet by packet: IPv4/TCP segments
//! ([`Pkt`]) framed as Ethernet or raw IP, whole scripted connections
//! ([`connection`]), and a pcap made on the fly from a packet iterator
//! ([`PcapStream`]: nothing large in memory or on disk).
use std::io::{Read, Write};
use std::net::Ipv4Addr;
use std::path::Path;

// ---- byte order --------------------------------------------------------------

pub fn u16b(be: bool, v: u16) -> [u8; 2] {
    if be {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    }
}

pub fn u32b(be: bool, v: u32) -> [u8; 4] {
    if be {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    }
}

// ---- pcap --------------------------------------------------------------------

/// Link types used by the tests.
pub const LINK_ETHERNET: u32 = 1;
pub const LINK_RAW: u32 = 101;

/// A pcap file header (µs or ns timestamps).
pub fn pcap_header(be: bool, nsec: bool, network: u32, snaplen: u32) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&u32b(be, if nsec { 0xa1b2_3c4d } else { 0xa1b2_c3d4 }));
    v.extend_from_slice(&u16b(be, 2));
    v.extend_from_slice(&u16b(be, 4));
    v.extend_from_slice(&[0; 8]); // thiszone, sigfigs
    v.extend_from_slice(&u32b(be, snaplen));
    v.extend_from_slice(&u32b(be, network));
    v
}

/// A pcap record: time (seconds, fraction), captured bytes, length on the wire.
pub fn pcap_record(be: bool, sec: u32, frac: u32, data: &[u8], orig: u32) -> Vec<u8> {
    let mut v = Vec::new();
    for x in [sec, frac, data.len() as u32, orig] {
        v.extend_from_slice(&u32b(be, x));
    }
    v.extend_from_slice(data);
    v
}

/// A little-endian µs pcap of whole frames, `(time in µs, frame)`.
pub fn pcap_file(network: u32, frames: &[(u64, Vec<u8>)]) -> Vec<u8> {
    let mut v = pcap_header(false, false, network, 262_144);
    for (us, f) in frames {
        v.extend(pcap_record(
            false,
            (us / 1_000_000) as u32,
            (us % 1_000_000) as u32,
            f,
            f.len() as u32,
        ));
    }
    v
}

/// Where each record (16-byte header and data) of a classic pcap (either
/// byte order, µs or ns) lies; the file header is `data[..24]`. Stops at
/// the first record that does not fit; panics on another magic.
pub fn pcap_records(data: &[u8]) -> Vec<std::ops::Range<usize>> {
    let be = match data.get(..4) {
        Some([0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1]) => false,
        Some([0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d]) => true,
        other => panic!("not a classic pcap: magic {other:02x?}"),
    };
    let mut records = Vec::new();
    let mut at = 24;
    while let Some(b) = data.get(at + 8..at + 12) {
        let b = [b[0], b[1], b[2], b[3]];
        let incl = if be {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        } as usize;
        let end = at + 16 + incl;
        if end > data.len() {
            break;
        }
        records.push(at..end);
        at = end;
    }
    records
}

/// Each record's own timestamp in a classic pcap (either byte order, µs
/// or ns), as nanoseconds since the epoch: what the capture recorded,
/// read here independently of the tool's reader.
pub fn pcap_times(data: &[u8]) -> Vec<i64> {
    let (be, nsec) = match data.get(..4) {
        Some([0xd4, 0xc3, 0xb2, 0xa1]) => (false, false),
        Some([0x4d, 0x3c, 0xb2, 0xa1]) => (false, true),
        Some([0xa1, 0xb2, 0xc3, 0xd4]) => (true, false),
        Some([0xa1, 0xb2, 0x3c, 0x4d]) => (true, true),
        other => panic!("not a classic pcap: magic {other:02x?}"),
    };
    let word = |b: &[u8]| {
        let b = [b[0], b[1], b[2], b[3]];
        i64::from(if be {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    pcap_records(data)
        .into_iter()
        .map(|r| {
            let h = &data[r.start..r.start + 8];
            let (sec, frac) = (word(&h[..4]), word(&h[4..8]));
            sec * 1_000_000_000 + if nsec { frac } else { frac * 1000 }
        })
        .collect()
}

// ---- pcapng ------------------------------------------------------------------

/// Block type of a Decryption Secrets Block holding an NSS key log.
pub const TLS_KEY_LOG: u32 = 0x544c_534b;

/// A pcapng block: type, length, body padded to 4 bytes, length again.
pub fn block(be: bool, btype: u32, body: &[u8]) -> Vec<u8> {
    let padded = (body.len() + 3) & !3;
    let len = (12 + padded) as u32;
    let mut v = Vec::new();
    v.extend_from_slice(&u32b(be, btype));
    v.extend_from_slice(&u32b(be, len));
    v.extend_from_slice(body);
    v.resize(8 + padded, 0);
    v.extend_from_slice(&u32b(be, len));
    v
}

/// A Section Header Block (version 1.0, section length unknown).
pub fn shb(be: bool) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&u32b(be, 0x1a2b_3c4d));
    body.extend_from_slice(&u16b(be, 1));
    body.extend_from_slice(&u16b(be, 0));
    body.extend_from_slice(&[0xff; 8]); // section length: unknown
    block(be, 0x0a0d_0d0a, &body)
}

/// Options `(code, value)`, padded, with opt_endofopt; nothing for none.
pub fn options(be: bool, opts: &[(u16, &[u8])]) -> Vec<u8> {
    let mut v = Vec::new();
    if opts.is_empty() {
        return v;
    }
    for (code, value) in opts {
        v.extend_from_slice(&u16b(be, *code));
        v.extend_from_slice(&u16b(be, value.len() as u16));
        v.extend_from_slice(value);
        v.resize((v.len() + 3) & !3, 0);
    }
    v.extend_from_slice(&[0; 4]); // opt_endofopt
    v
}

/// An Interface Description Block.
pub fn idb(be: bool, link: u16, snaplen: u32, opts: &[(u16, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&u16b(be, link));
    body.extend_from_slice(&[0, 0]);
    body.extend_from_slice(&u32b(be, snaplen));
    body.extend_from_slice(&options(be, opts));
    block(be, 1, &body)
}

/// An Enhanced Packet Block (`ts` in the interface's units, µs by default).
pub fn epb(be: bool, if_id: u32, ts: u64, data: &[u8], orig: u32) -> Vec<u8> {
    let mut body = Vec::new();
    for x in [if_id, (ts >> 32) as u32, ts as u32, data.len() as u32, orig] {
        body.extend_from_slice(&u32b(be, x));
    }
    body.extend_from_slice(data);
    block(be, 6, &body)
}

/// A Simple Packet Block.
pub fn spb(be: bool, data: &[u8], orig: u32) -> Vec<u8> {
    let mut body = u32b(be, orig).to_vec();
    body.extend_from_slice(data);
    block(be, 3, &body)
}

/// An (obsolete) Packet Block.
pub fn pb(be: bool, if_id: u16, ts: u64, data: &[u8], orig: u32) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&u16b(be, if_id));
    body.extend_from_slice(&u16b(be, 0)); // drops
    for x in [(ts >> 32) as u32, ts as u32, data.len() as u32, orig] {
        body.extend_from_slice(&u32b(be, x));
    }
    body.extend_from_slice(data);
    block(be, 2, &body)
}

/// A Decryption Secrets Block.
pub fn dsb(be: bool, stype: u32, data: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&u32b(be, stype));
    body.extend_from_slice(&u32b(be, data.len() as u32));
    body.extend_from_slice(data);
    block(be, 0x0a, &body)
}

/// The block types of a pcapng file, in order (each section in its own
/// byte order); panics unless the file is whole blocks.
pub fn pcapng_blocks(data: &[u8]) -> Vec<u32> {
    let mut types = Vec::new();
    let mut at = 0usize;
    let mut be = false;
    while at + 12 <= data.len() {
        if data[at..at + 4] == [0x0a, 0x0d, 0x0d, 0x0a] {
            be = data[at + 8..at + 12] == [0x1a, 0x2b, 0x3c, 0x4d];
        }
        let word = |o: usize| {
            let b: [u8; 4] = data[o..o + 4].try_into().expect("4 bytes");
            if be {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        types.push(word(at));
        let len = word(at + 4) as usize;
        assert!(len >= 12 && at + len <= data.len(), "block at {at}");
        at += len;
    }
    assert_eq!(at, data.len(), "whole blocks");
    types
}

// ---- gzip --------------------------------------------------------------------

/// `data` gzip-compressed (flate2).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("gzip into memory");
    e.finish().expect("gzip into memory")
}

// ---- packets -----------------------------------------------------------------

pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;

/// One IPv4 TCP segment to write.
#[derive(Debug, Clone)]
pub struct Pkt {
    /// Capture time in microseconds.
    pub ts_us: u64,
    pub src: (Ipv4Addr, u16),
    pub dst: (Ipv4Addr, u16),
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub payload: Vec<u8>,
}

/// The IPv4 and TCP headers and payload of a segment (link type RAW).
pub fn ipv4_tcp(p: &Pkt) -> Vec<u8> {
    let total = (20 + 20 + p.payload.len()) as u16;
    let mut f = Vec::with_capacity(40 + p.payload.len());
    f.extend_from_slice(&[0x45, 0]);
    f.extend_from_slice(&total.to_be_bytes());
    f.extend_from_slice(&[0, 0, 0x40, 0, 64, 6, 0, 0]);
    f.extend_from_slice(&p.src.0.octets());
    f.extend_from_slice(&p.dst.0.octets());
    f.extend_from_slice(&p.src.1.to_be_bytes());
    f.extend_from_slice(&p.dst.1.to_be_bytes());
    f.extend_from_slice(&p.seq.to_be_bytes());
    f.extend_from_slice(&p.ack.to_be_bytes());
    f.extend_from_slice(&[0x50, p.flags, 0xff, 0xff, 0, 0, 0, 0]);
    f.extend_from_slice(&p.payload);
    f
}

/// An Ethernet frame of a segment (link type ETHERNET).
pub fn ethernet(p: &Pkt) -> Vec<u8> {
    let mut f = vec![0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 0x08, 0x00];
    f.extend(ipv4_tcp(p));
    f
}

/// A pcap (Ethernet) of the packets.
pub fn pcap_of(pkts: &[Pkt]) -> Vec<u8> {
    let frames: Vec<(u64, Vec<u8>)> = pkts.iter().map(|p| (p.ts_us, ethernet(p))).collect();
    pcap_file(LINK_ETHERNET, &frames)
}

/// Writes `bytes` to `path`, panicking with the path on failure.
pub fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// A pcap (Ethernet) produced on the fly from a packet iterator.
pub struct PcapStream<I> {
    packets: I,
    buf: Vec<u8>,
    at: usize,
    header_done: bool,
}

impl<I: Iterator<Item = Pkt>> PcapStream<I> {
    pub fn new(packets: I) -> Self {
        PcapStream {
            packets,
            buf: Vec::new(),
            at: 0,
            header_done: false,
        }
    }
}

impl<I: Iterator<Item = Pkt>> Read for PcapStream<I> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.at >= self.buf.len() {
            self.buf.clear();
            self.at = 0;
            if !self.header_done {
                self.header_done = true;
                self.buf
                    .extend(pcap_header(false, false, LINK_ETHERNET, 262_144));
                continue;
            }
            // a batch of records per refill
            for p in self.packets.by_ref().take(256) {
                let f = ethernet(&p);
                let (sec, us) = ((p.ts_us / 1_000_000) as u32, (p.ts_us % 1_000_000) as u32);
                self.buf
                    .extend(pcap_record(false, sec, us, &f, f.len() as u32));
            }
            if self.buf.is_empty() {
                return Ok(0);
            }
        }
        let rest = &self.buf[self.at..];
        let n = rest.len().min(out.len());
        out[..n].copy_from_slice(&rest[..n]);
        self.at += n;
        Ok(n)
    }
}

/// Client and server endpoints of connection `n`: many distinct clients
/// (address and port from `n`), one server 192.0.2.1:443.
pub fn endpoints(n: u32) -> ((Ipv4Addr, u16), (Ipv4Addr, u16)) {
    let c = Ipv4Addr::from(0x0a00_0000 | (n >> 14));
    let port = 1024 + (n & 0x3fff) as u16;
    ((c, port), (Ipv4Addr::new(192, 0, 2, 1), 443))
}

/// A whole connection `n` ([`endpoints`]): handshake, then round by round
/// the client's and the server's payloads as given, then FIN from the
/// client, FIN from the server, the last ACK. Packet times start at `t0`
/// µs, 1 ms apart.
pub fn connection(n: u32, t0: u64, client: &[Vec<u8>], server: &[Vec<u8>]) -> Vec<Pkt> {
    let (c, s) = endpoints(n);
    let (mut cs, mut ss) = (1000u32, 5000u32);
    let mut t = t0;
    let mut v = Vec::new();
    let mut push = |from_client: bool, seq: u32, ack: u32, flags: u8, payload: Vec<u8>| {
        t += 1000;
        let (src, dst) = if from_client { (c, s) } else { (s, c) };
        v.push(Pkt {
            ts_us: t,
            src,
            dst,
            seq,
            ack,
            flags,
            payload,
        });
    };
    push(true, cs - 1, 0, SYN, vec![]);
    push(false, ss - 1, cs, SYN | ACK, vec![]);
    push(true, cs, ss, ACK, vec![]);
    for i in 0..client.len().max(server.len()) {
        if let Some(r) = client.get(i) {
            push(true, cs, ss, ACK | PSH, r.clone());
            cs = cs.wrapping_add(r.len() as u32);
        }
        if let Some(r) = server.get(i) {
            push(false, ss, cs, ACK | PSH, r.clone());
            ss = ss.wrapping_add(r.len() as u32);
        }
    }
    push(true, cs, ss, FIN | ACK, vec![]);
    push(false, ss, cs + 1, FIN | ACK, vec![]);
    push(true, cs + 1, ss + 1, ACK, vec![]);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_padded_and_listed() {
        let mut f = shb(false);
        f.extend(idb(false, 1, 0, &[(9, &[6])]));
        f.extend(epb(false, 0, 1, &[1, 2, 3], 3));
        f.extend(dsb(false, TLS_KEY_LOG, b"k"));
        assert_eq!(f.len() % 4, 0);
        assert_eq!(pcapng_blocks(&f), [0x0a0d_0d0a, 1, 6, 0x0a]);
    }

    #[test]
    fn the_stream_and_the_file_agree() {
        let pkts = connection(3, 1_700_000_000_000_000, &[vec![22; 10]], &[vec![23; 5]]);
        let mut streamed = Vec::new();
        PcapStream::new(pkts.clone().into_iter())
            .read_to_end(&mut streamed)
            .expect("in memory");
        assert_eq!(streamed, pcap_of(&pkts));
        assert_eq!(pkts.len(), 8);
        let records = pcap_records(&streamed);
        assert_eq!(records.len(), 8);
        assert_eq!(records[7].end, streamed.len());
        // 24-byte header, then 16 + 54 + payload per packet
        assert_eq!(streamed.len(), 24 + 8 * (16 + 54) + 15);
    }
}
