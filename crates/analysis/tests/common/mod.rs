//! Hostile traffic made in the test: packets are written as a pcap stream
//! on the fly (nothing large in memory or on disk) and read back through
//! the whole pipeline (reader, decoder, flow table, analysis).
#![allow(dead_code)]

use std::io::Read;
use std::net::Ipv4Addr;
use tlsclose_analysis::{Analyzer, AnalyzerConfig, AnalyzerStats, FlowReport};
use tlsclose_capture::{decode_segment, CaptureReader};
use tlsclose_tcp::SegMeta;

pub const SYN: u8 = 0x02;
pub const ACK: u8 = 0x10;
pub const FIN: u8 = 0x01;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;

/// One TCP segment to write.
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

/// An Ethernet / IPv4 / TCP frame.
pub fn frame(p: &Pkt) -> Vec<u8> {
    let mut f = Vec::with_capacity(54 + p.payload.len());
    f.extend_from_slice(&[0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 0x08, 0x00]);
    let total = (20 + 20 + p.payload.len()) as u16;
    f.extend_from_slice(&[
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0,
        0,
        0x40,
        0,
        64,
        6,
        0,
        0,
    ]);
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

/// A pcap file produced on the fly from a packet iterator.
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
                    .extend_from_slice(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]);
                self.buf.extend_from_slice(&[0; 8]);
                self.buf.extend_from_slice(&262_144u32.to_le_bytes());
                self.buf.extend_from_slice(&1u32.to_le_bytes());
                continue;
            }
            // a batch of records per refill
            for _ in 0..256 {
                let Some(p) = self.packets.next() else { break };
                let f = frame(&p);
                self.buf
                    .extend_from_slice(&((p.ts_us / 1_000_000) as u32).to_le_bytes());
                self.buf
                    .extend_from_slice(&((p.ts_us % 1_000_000) as u32).to_le_bytes());
                self.buf.extend_from_slice(&(f.len() as u32).to_le_bytes());
                self.buf.extend_from_slice(&(f.len() as u32).to_le_bytes());
                self.buf.extend_from_slice(&f);
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

/// What a run through the pipeline gave.
pub struct Run {
    pub reports: Vec<FlowReport>,
    pub stats: AnalyzerStats,
    pub frames: u64,
    pub peak_live_flows: usize,
    /// Seconds taken by the first quarter of the frames, and by all.
    pub quarter_secs: f64,
    pub secs: f64,
}

/// Reads the packets as a pcap through the whole pipeline. `expected`:
/// the number of packets, for the time of the first quarter.
pub fn run_timed<I: Iterator<Item = Pkt> + Send + 'static>(
    packets: I,
    config: AnalyzerConfig,
    expected: u64,
) -> Run {
    let start = std::time::Instant::now();
    let mut quarter_secs = 0.0;
    let mut reader = CaptureReader::from_reader("generated", Box::new(PcapStream::new(packets)))
        .expect("generated capture opens");
    let mut analyzer = Analyzer::new(config);
    let mut reports = Vec::new();
    let mut frames = 0u64;
    let mut peak = 0usize;
    while let Some(frame) = reader.next_frame().expect("generated capture reads") {
        frames += 1;
        let seg = decode_segment(&frame).expect("generated frames decode");
        let meta = SegMeta {
            frame: frame.number,
            ts: frame.ts,
        };
        analyzer.segment(&seg, meta, &mut |r| reports.push(r));
        peak = peak.max(analyzer.live_flows());
        if frames == expected / 4 {
            quarter_secs = start.elapsed().as_secs_f64();
        }
    }
    analyzer.finish(&mut |r| reports.push(r));
    Run {
        stats: analyzer.stats(),
        reports,
        frames,
        peak_live_flows: peak,
        quarter_secs,
        secs: start.elapsed().as_secs_f64(),
    }
}

/// Reads the packets as a pcap through the whole pipeline.
pub fn run<I: Iterator<Item = Pkt> + Send + 'static>(packets: I, config: AnalyzerConfig) -> Run {
    run_timed(packets, config, 0)
}

/// Peak resident set size of this process so far, in KiB (VmHWM).
pub fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Runs `scenario` in a child process (this test binary again, only this
/// test) so that its peak RSS is its own; returns (peak RSS KiB, seconds,
/// the scenario's own output line) to the parent. In the child it runs
/// the scenario, prints the line and returns `None`.
pub fn isolated(name: &str, scenario: impl FnOnce() -> String) -> Option<(u64, f64, String)> {
    const VAR: &str = "TLSCLOSE_HOSTILE_CHILD";
    if std::env::var(VAR).as_deref() == Ok(name) {
        let t = std::time::Instant::now();
        let line = scenario();
        let secs = t.elapsed().as_secs_f64();
        println!("HOSTILE {} {secs} {line}", peak_rss_kib());
        return None;
    }
    let exe = std::env::current_exe().expect("test binary path");
    let out = std::process::Command::new(exe)
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(VAR, name)
        .output()
        .expect("run the scenario in a child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "scenario {name} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("HOSTILE ").map(|(_, rest)| rest))
        .unwrap_or_else(|| panic!("scenario {name} printed no result:\n{stdout}"));
    let mut parts = line.splitn(3, ' ');
    let rss = parts
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(u64::MAX);
    let secs = parts
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::MAX);
    let rest = parts.next().unwrap_or("").to_string();
    eprintln!("{name}: peak RSS {} MiB, {secs:.2} s, {rest}", rss / 1024);
    Some((rss, secs, rest))
}

/// A TLS record.
pub fn record(ty: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![ty, 3, 3];
    v.extend_from_slice(&(body.len() as u16).to_be_bytes());
    v.extend_from_slice(body);
    v
}

/// A handshake message (type, body).
pub fn handshake(ty: u8, body: &[u8]) -> Vec<u8> {
    let n = body.len() as u32;
    let mut v = vec![ty, (n >> 16) as u8, (n >> 8) as u8, n as u8];
    v.extend_from_slice(body);
    v
}

/// A ClientHello body with the given extensions (type, data).
pub fn client_hello(exts: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend_from_slice(&[7; 32]);
    b.push(0); // session id
    b.extend_from_slice(&[0, 2, 0x13, 0x01]); // one suite
    b.extend_from_slice(&[1, 0]); // null compression
    let mut e = Vec::new();
    for (ty, data) in exts {
        e.extend_from_slice(&ty.to_be_bytes());
        e.extend_from_slice(&(data.len() as u16).to_be_bytes());
        e.extend_from_slice(data);
    }
    b.extend_from_slice(&(e.len() as u16).to_be_bytes());
    b.extend_from_slice(&e);
    b
}

/// A server_name extension body with one host name.
pub fn sni_ext(name: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&((name.len() + 3) as u16).to_be_bytes());
    v.push(0);
    v.extend_from_slice(&(name.len() as u16).to_be_bytes());
    v.extend_from_slice(name);
    v
}

/// A client and a server endpoint.
pub fn endpoints(n: u32) -> ((Ipv4Addr, u16), (Ipv4Addr, u16)) {
    let c = Ipv4Addr::from(0x0a00_0000 | (n >> 14));
    let port = 1024 + (n & 0x3fff) as u16;
    ((c, port), (Ipv4Addr::new(192, 0, 2, 1), 443))
}

/// A whole TLS-looking connection: handshake, the client's and the
/// server's records as given, then FIN from the client, FIN from the
/// server. Packet times start at `t0` µs, 1 ms apart.
pub fn connection(n: u32, t0: u64, client: &[Vec<u8>], server: &[Vec<u8>]) -> Vec<Pkt> {
    let (c, s) = endpoints(n);
    let (mut cs, mut ss) = (1000u32, 5000u32);
    let mut t = t0;
    let mut v = Vec::new();
    let mut push =
        |v: &mut Vec<Pkt>, from_client: bool, seq: u32, ack: u32, flags: u8, payload: Vec<u8>| {
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
    push(&mut v, true, cs - 1, 0, SYN, vec![]);
    push(&mut v, false, ss - 1, cs, SYN | ACK, vec![]);
    push(&mut v, true, cs, ss, ACK, vec![]);
    let rounds = client.len().max(server.len());
    for i in 0..rounds {
        if let Some(r) = client.get(i) {
            push(&mut v, true, cs, ss, ACK | PSH, r.clone());
            cs = cs.wrapping_add(r.len() as u32);
        }
        if let Some(r) = server.get(i) {
            push(&mut v, false, ss, cs, ACK | PSH, r.clone());
            ss = ss.wrapping_add(r.len() as u32);
        }
    }
    push(&mut v, true, cs, ss, FIN | ACK, vec![]);
    push(&mut v, false, ss, cs + 1, FIN | ACK, vec![]);
    push(&mut v, true, cs + 1, ss + 1, ACK, vec![]);
    v
}
