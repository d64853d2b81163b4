//! A scripted TCP connection driven through the analyzer with hand-made
//! segments (no capture file): it keeps sequence numbers, frame numbers
//! and a settable clock, so a test states only what each side sends.

use std::net::{IpAddr, Ipv4Addr};
use tlsclose_analysis::{Analyzer, AnalyzerConfig, FlowReport};
use tlsclose_capture::{Endpoint, Segment, TcpFlags, Timestamp};
use tlsclose_tcp::SegMeta;
pub use tlsclose_testkit::tls::{
    ccs, client_hello_record, opaque, plain_alert, record, server_hello_record, TLS1_2,
};

pub const CLIENT: Endpoint = Endpoint {
    ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
    port: 50000,
};
pub const SERVER: Endpoint = Endpoint {
    ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
    port: 443,
};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Side {
    C,
    S,
}

/// The ClientHello every script sends (SNI `example.test`).
pub fn client_hello() -> Vec<u8> {
    client_hello_record(b"example.test")
}

/// A scripted connection between [`CLIENT`] and [`SERVER`].
pub struct Conn {
    pub an: Analyzer,
    seq: [u32; 2],
    pub frame: u64,
    /// Capture time of the next segment, in ms.
    now_ms: i64,
    pub reports: Vec<FlowReport>,
}

impl Conn {
    /// After a three-way handshake, default configuration.
    pub fn new() -> Self {
        Conn::with_config(AnalyzerConfig::default())
    }

    /// After a three-way handshake.
    pub fn with_config(config: AnalyzerConfig) -> Self {
        let mut c = Conn::without_handshake(config);
        c.flags(Side::C, flags(|f| f.syn = true));
        c.flags(
            Side::S,
            flags(|f| {
                f.syn = true;
                f.ack = true
            }),
        );
        c.flags(Side::C, flags(|f| f.ack = true));
        c
    }

    /// No segment yet (a capture that starts mid-connection).
    pub fn without_handshake(config: AnalyzerConfig) -> Self {
        Conn {
            an: Analyzer::new(config),
            seq: [1000, 5000],
            frame: 0,
            now_ms: 0,
            reports: Vec::new(),
        }
    }

    /// One segment from `side`, acknowledging all the peer sent.
    pub fn seg(&mut self, side: Side, flags: TcpFlags, payload: &[u8]) -> &mut Self {
        let (src, dst, i) = match side {
            Side::C => (CLIENT, SERVER, 0),
            Side::S => (SERVER, CLIENT, 1),
        };
        self.frame += 1;
        self.now_ms += 1;
        let seg = Segment {
            src,
            dst,
            seq: self.seq[i],
            ack: self.seq[1 - i],
            flags,
            payload,
            wire_len: payload.len() as u32,
        };
        let meta = SegMeta::at(
            self.frame,
            Timestamp(1_700_000_000_000_000_000 + self.now_ms * 1_000_000),
        );
        let reports = &mut self.reports;
        self.an.segment(&seg, meta, &mut |r| reports.push(r));
        self.seq[i] =
            self.seq[i].wrapping_add(payload.len() as u32 + u32::from(flags.syn || flags.fin));
        self
    }

    fn flags(&mut self, side: Side, flags: TcpFlags) -> &mut Self {
        self.seg(side, flags, &[])
    }

    /// Records in one segment (ACK, PSH).
    pub fn send(&mut self, side: Side, records: &[Vec<u8>]) -> &mut Self {
        let payload: Vec<u8> = records.concat();
        self.seg(
            side,
            flags(|f| {
                f.ack = true;
                f.psh = true
            }),
            &payload,
        )
    }

    /// `len` bytes of `side` that the capture never saw (a hole before
    /// what it sends next).
    pub fn lose(&mut self, side: Side, len: u32) -> &mut Self {
        let i = usize::from(side == Side::S);
        self.seq[i] = self.seq[i].wrapping_add(len);
        self
    }

    pub fn fin(&mut self, side: Side) -> &mut Self {
        self.flags(
            side,
            flags(|f| {
                f.ack = true;
                f.fin = true
            }),
        )
    }

    pub fn rst(&mut self, side: Side) -> &mut Self {
        self.flags(side, flags(|f| f.rst = true))
    }

    /// A TLS 1.2 handshake through both Finished messages.
    pub fn tls12(&mut self) -> &mut Self {
        self.send(Side::C, &[client_hello()])
            .send(Side::S, &[server_hello_record(false)])
            .send(Side::C, &[ccs(), opaque(22, 40)])
            .send(Side::S, &[ccs(), opaque(22, 40)])
    }

    /// A TLS 1.3 handshake through the client's Finished.
    pub fn tls13(&mut self) -> &mut Self {
        self.send(Side::C, &[client_hello()])
            .send(
                Side::S,
                &[
                    server_hello_record(true),
                    ccs(),
                    opaque(23, 500),
                    opaque(23, 69),
                ],
            )
            .send(Side::C, &[ccs(), opaque(23, 69)])
    }

    /// Nothing is sent for `ms` milliseconds.
    pub fn idle(&mut self, ms: i64) -> &mut Self {
        self.now_ms += ms;
        self
    }

    /// The end of the capture: the one TLS flow's report.
    pub fn report(&mut self) -> FlowReport {
        let reports = &mut self.reports;
        self.an.finish(&mut |r| reports.push(r));
        assert_eq!(self.reports.len(), 1, "one TLS flow");
        self.reports.remove(0)
    }
}

/// TCP flags set by `set`.
pub fn flags(set: impl FnOnce(&mut TcpFlags)) -> TcpFlags {
    let mut f = TcpFlags::default();
    set(&mut f);
    f
}
