//! The spec's rules, one scripted connection each, driven through the
//! analyzer with hand-made segments (no capture file).

use std::net::{IpAddr, Ipv4Addr};
use tlsclose_analysis::{
    Analyzer, AnalyzerConfig, CloseNotify, Closer, Confidence, Ending, FlowReport,
};
use tlsclose_capture::{Endpoint, Segment, TcpFlags, Timestamp};
use tlsclose_tcp::SegMeta;
use tlsclose_testkit::tls::{ccs, client_hello_record, opaque, plain_alert, server_hello_record};

const CLIENT: Endpoint = Endpoint {
    ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
    port: 50000,
};
const SERVER: Endpoint = Endpoint {
    ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
    port: 443,
};

#[derive(Clone, Copy, PartialEq)]
enum Side {
    C,
    S,
}

/// A scripted TCP connection: tracks sequence numbers, frame numbers, time.
struct Conn {
    an: Analyzer,
    seq: [u32; 2],
    frame: u64,
    reports: Vec<FlowReport>,
}

impl Conn {
    fn new() -> Self {
        let mut c = Conn {
            an: Analyzer::new(AnalyzerConfig::default()),
            seq: [1000, 5000],
            frame: 0,
            reports: Vec::new(),
        };
        c.seg(
            Side::C,
            TcpFlags {
                syn: true,
                ..TcpFlags::default()
            },
            &[],
        );
        c.seg(
            Side::S,
            TcpFlags {
                syn: true,
                ack: true,
                ..TcpFlags::default()
            },
            &[],
        );
        c.seg(
            Side::C,
            TcpFlags {
                ack: true,
                ..TcpFlags::default()
            },
            &[],
        );
        c
    }

    fn seg(&mut self, side: Side, flags: TcpFlags, payload: &[u8]) -> &mut Self {
        let (src, dst, i) = match side {
            Side::C => (CLIENT, SERVER, 0),
            Side::S => (SERVER, CLIENT, 1),
        };
        self.frame += 1;
        let seg = Segment {
            src,
            dst,
            seq: self.seq[i],
            ack: self.seq[1 - i],
            flags,
            payload,
            wire_len: payload.len() as u32,
        };
        let meta = SegMeta {
            frame: self.frame,
            ts: Timestamp(1_700_000_000_000_000_000 + self.frame as i64 * 1_000_000),
        };
        let reports = &mut self.reports;
        self.an.segment(&seg, meta, &mut |r| reports.push(r));
        self.seq[i] =
            self.seq[i].wrapping_add(payload.len() as u32 + u32::from(flags.syn || flags.fin));
        self
    }

    fn send(&mut self, side: Side, records: &[Vec<u8>]) -> &mut Self {
        let payload: Vec<u8> = records.concat();
        self.seg(
            side,
            TcpFlags {
                ack: true,
                psh: true,
                ..TcpFlags::default()
            },
            &payload,
        )
    }
    fn fin(&mut self, side: Side) -> &mut Self {
        self.seg(
            side,
            TcpFlags {
                ack: true,
                fin: true,
                ..TcpFlags::default()
            },
            &[],
        )
    }
    fn rst(&mut self, side: Side) -> &mut Self {
        self.seg(
            side,
            TcpFlags {
                rst: true,
                ..TcpFlags::default()
            },
            &[],
        )
    }
    /// A TLS 1.2 handshake through both Finished messages.
    fn tls12(&mut self) -> &mut Self {
        self.send(Side::C, &[client_hello_record(b"example.test")])
            .send(Side::S, &[server_hello_record(false)])
            .send(Side::C, &[ccs(), opaque(22, 40)])
            .send(Side::S, &[ccs(), opaque(22, 40)])
    }
    /// A TLS 1.3 handshake through the client's Finished.
    fn tls13(&mut self) -> &mut Self {
        self.send(Side::C, &[client_hello_record(b"example.test")])
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
    fn report(&mut self) -> FlowReport {
        let reports = &mut self.reports;
        self.an.finish(&mut |r| reports.push(r));
        assert_eq!(self.reports.len(), 1, "one TLS flow");
        self.reports.remove(0)
    }
}

#[test]
fn tls12_close_notify_then_fin_both_ways() {
    let r = Conn::new()
        .tls12()
        .send(Side::C, &[opaque(23, 100)])
        .send(Side::S, &[opaque(23, 300)])
        .send(Side::S, &[opaque(21, 26)])
        .fin(Side::S)
        .send(Side::C, &[opaque(21, 26)])
        .fin(Side::C)
        .report();
    assert_eq!(r.ending, Ending::CloseNotifyThenFin);
    assert_eq!(r.closer, Closer::Server);
    assert_eq!(
        (r.client_close_notify, r.server_close_notify),
        (CloseNotify::Inferred, CloseNotify::Inferred)
    );
    assert!(r.close_notify_answered);
    assert_eq!(r.confidence, Confidence::Likely);
    assert_eq!(r.version.as_deref(), Some("TLS 1.2"));
    assert_eq!(r.sni.as_deref(), Some("example.test"));
    assert_eq!(r.client, "10.0.0.1:50000");
}

#[test]
fn bare_fin_is_fin_only_and_a_later_peer_alert_does_not_change_it() {
    let r = Conn::new()
        .tls12()
        .send(Side::C, &[opaque(23, 100)])
        .fin(Side::C)
        .send(Side::S, &[opaque(21, 26)])
        .rst(Side::C)
        .report();
    assert_eq!(r.ending, Ending::FinOnly);
    assert_eq!(r.closer, Closer::Client);
    assert_eq!(r.client_close_notify, CloseNotify::None);
    assert_eq!(r.server_close_notify, CloseNotify::Inferred);
}

#[test]
fn first_teardown_rst_is_rst_even_after_close_notify() {
    let r = Conn::new()
        .tls12()
        .send(Side::C, &[opaque(21, 26)])
        .rst(Side::C)
        .report();
    assert_eq!(r.ending, Ending::Rst);
    assert_eq!(r.closer, Closer::Client);
    assert_eq!(r.client_close_notify, CloseNotify::Inferred);
}

#[test]
fn tls12_data_after_own_close_notify() {
    let r = Conn::new()
        .tls12()
        .send(Side::S, &[opaque(21, 26)])
        .send(Side::S, &[opaque(23, 50)])
        .fin(Side::S)
        .fin(Side::C)
        .report();
    assert_eq!(r.ending, Ending::DataAfterAlert);
    assert_eq!(r.closer, Closer::Server);
    assert_eq!(r.server_close_notify, CloseNotify::Inferred);
}

#[test]
fn peer_data_after_an_alert_is_not_data_after_alert() {
    let r = Conn::new()
        .tls12()
        .send(Side::C, &[opaque(21, 26)])
        .send(Side::S, &[opaque(23, 500)])
        .send(Side::S, &[opaque(21, 26)])
        .fin(Side::S)
        .fin(Side::C)
        .report();
    assert_eq!(r.ending, Ending::CloseNotifyThenFin);
    assert_eq!(r.closer, Closer::Server);
}

#[test]
fn tls12_encrypted_alert_in_place_of_finished_is_fatal() {
    let r = Conn::new()
        .send(Side::C, &[client_hello_record(b"example.test")])
        .send(Side::S, &[server_hello_record(false)])
        .send(Side::C, &[ccs(), opaque(22, 40)])
        .send(Side::S, &[ccs(), opaque(21, 26)])
        .fin(Side::S)
        .report();
    assert_eq!(r.ending, Ending::FinOnly);
    assert_eq!(r.server_close_notify, CloseNotify::None);
    assert_eq!(r.alerts.server[0].0, "inferred:fatal");
}

#[test]
fn plaintext_fatal_alert_is_seen_and_not_close_notify() {
    let r = Conn::new()
        .send(Side::C, &[client_hello_record(b"example.test")])
        .send(Side::S, &[plain_alert(2, 70)])
        .fin(Side::S)
        .report();
    assert_eq!(r.ending, Ending::FinOnly);
    assert_eq!(r.alerts.server[0].0, "fatal:protocol_version");
    assert_eq!(r.confidence, Confidence::Certain);
}

#[test]
fn tls13_nineteen_byte_last_record_is_close_notify() {
    let r = Conn::new()
        .tls13()
        .send(Side::C, &[opaque(23, 120)])
        .send(Side::S, &[opaque(23, 800)])
        .send(Side::S, &[opaque(23, 19)])
        .fin(Side::S)
        .fin(Side::C)
        .report();
    assert_eq!(r.ending, Ending::CloseNotifyThenFin);
    assert_eq!(r.server_close_notify, CloseNotify::Inferred);
    assert_eq!(r.client_close_notify, CloseNotify::None);
    assert_eq!(r.version.as_deref(), Some("TLS 1.3"));
}

#[test]
fn tls13_nineteen_byte_record_followed_by_data_proves_nothing() {
    let r = Conn::new()
        .tls13()
        .send(Side::S, &[opaque(23, 19)])
        .send(Side::S, &[opaque(23, 800)])
        .fin(Side::S)
        .report();
    assert_eq!(r.ending, Ending::FinOnly);
    assert_eq!(r.server_close_notify, CloseNotify::None);
}

#[test]
fn tls13_client_alert_in_place_of_finished_is_fatal() {
    let r = Conn::new()
        .send(Side::C, &[client_hello_record(b"example.test")])
        .send(
            Side::S,
            &[server_hello_record(true), ccs(), opaque(23, 500)],
        )
        .send(Side::C, &[ccs(), opaque(23, 19)])
        .fin(Side::C)
        .report();
    assert_eq!(r.ending, Ending::FinOnly);
    assert_eq!(r.client_close_notify, CloseNotify::None);
    assert_eq!(r.alerts.client[0].0, "inferred:fatal");
}

#[test]
fn no_teardown_is_open() {
    let r = Conn::new()
        .tls13()
        .send(Side::C, &[opaque(23, 120)])
        .report();
    assert_eq!(r.ending, Ending::Open);
    assert_eq!(r.closer, Closer::None);
    assert!(r.teardown_frame.is_none());
}

#[test]
fn a_record_split_over_many_segments_counts_once_at_its_last_segment() {
    let mut c = Conn::new();
    c.tls12();
    let alert = opaque(21, 26);
    for b in alert.chunks(3) {
        c.send(Side::S, &[b.to_vec()]);
    }
    let last_frame = c.frame;
    c.fin(Side::S);
    let r = c.report();
    assert_eq!(r.ending, Ending::CloseNotifyThenFin);
    assert_eq!(r.teardown_frame, Some(last_frame + 1));
}

#[test]
fn a_flow_without_tls_is_not_reported() {
    let mut c = Conn::new();
    c.send(Side::C, &[b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()])
        .fin(Side::C)
        .fin(Side::S);
    let reports = &mut c.reports;
    c.an.finish(&mut |r| reports.push(r));
    assert!(c.reports.is_empty());
    assert_eq!(c.an.stats().non_tls_flows, 1);
}
