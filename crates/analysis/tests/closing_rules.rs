//! Who started the close (`initiator`), whether a close_notify was answered
//! (`close_notify_answered`) and keep-alive races (`keepalive_race`,
//! `race_window_s`), one scripted connection each (spec/endings.md, the
//! attributes beside the ending), driven through the analyzer with
//! hand-made segments and a settable clock.

use std::net::{IpAddr, Ipv4Addr};
use tlsclose_analysis::{Analyzer, AnalyzerConfig, Closer, Ending, FlowReport};
use tlsclose_capture::{Endpoint, Segment, TcpFlags, Timestamp};
use tlsclose_tcp::SegMeta;

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
    /// Capture time of the next segment, in ms.
    now_ms: i64,
    reports: Vec<FlowReport>,
}

fn tls_record(ct: u8, version: u16, body: &[u8]) -> Vec<u8> {
    let mut r = vec![ct];
    r.extend_from_slice(&version.to_be_bytes());
    r.extend_from_slice(&(body.len() as u16).to_be_bytes());
    r.extend_from_slice(body);
    r
}

/// A minimal ClientHello handshake record (SNI `example.test`).
fn client_hello() -> Vec<u8> {
    let sni = b"example.test";
    let mut ext = Vec::new();
    // server_name
    let mut sn = vec![0u8];
    sn.extend_from_slice(&(sni.len() as u16).to_be_bytes());
    sn.extend_from_slice(sni);
    let mut list = (sn.len() as u16).to_be_bytes().to_vec();
    list.extend_from_slice(&sn);
    ext.extend_from_slice(&0u16.to_be_bytes());
    ext.extend_from_slice(&(list.len() as u16).to_be_bytes());
    ext.extend_from_slice(&list);
    let mut body = vec![3, 3];
    body.extend_from_slice(&[7; 32]);
    body.push(0); // session id
    body.extend_from_slice(&[0, 2, 0x13, 0x01]); // one suite
    body.extend_from_slice(&[1, 0]); // compression
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext);
    handshake(1, &body)
}

/// A ServerHello handshake record; `tls13` adds supported_versions.
fn server_hello(tls13: bool) -> Vec<u8> {
    let mut body = vec![3, 3];
    body.extend_from_slice(&[9; 32]);
    body.push(0);
    body.extend_from_slice(&[0x13, 0x01, 0]);
    if tls13 {
        body.extend_from_slice(&[0, 6, 0, 43, 0, 2, 3, 4]);
    } else {
        body.extend_from_slice(&[0, 0]);
    }
    handshake(2, &body)
}

fn handshake(t: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![t, 0];
    m.extend_from_slice(&(body.len() as u16).to_be_bytes());
    m.extend_from_slice(body);
    tls_record(22, 0x0301, &m)
}

fn ccs() -> Vec<u8> {
    tls_record(20, 0x0303, &[1])
}
fn encrypted(ct: u8, len: usize) -> Vec<u8> {
    tls_record(ct, 0x0303, &vec![0xab; len])
}
fn plain_alert(level: u8, desc: u8) -> Vec<u8> {
    tls_record(21, 0x0303, &[level, desc])
}

impl Conn {
    fn new() -> Self {
        let mut c = Conn {
            an: Analyzer::new(AnalyzerConfig::default()),
            seq: [1000, 5000],
            frame: 0,
            now_ms: 0,
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
        let meta = SegMeta {
            frame: self.frame,
            ts: Timestamp(1_700_000_000_000_000_000 + self.now_ms * 1_000_000),
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
        self.send(Side::C, &[client_hello()])
            .send(Side::S, &[server_hello(false)])
            .send(Side::C, &[ccs(), encrypted(22, 40)])
            .send(Side::S, &[ccs(), encrypted(22, 40)])
    }
    /// A TLS 1.3 handshake through the client's Finished.
    fn tls13(&mut self) -> &mut Self {
        self.send(Side::C, &[client_hello()])
            .send(
                Side::S,
                &[
                    server_hello(true),
                    ccs(),
                    encrypted(23, 500),
                    encrypted(23, 69),
                ],
            )
            .send(Side::C, &[ccs(), encrypted(23, 69)])
    }
    /// Nothing is sent for `ms` milliseconds.
    fn idle(&mut self, ms: i64) -> &mut Self {
        self.now_ms += ms;
        self
    }
    fn report(&mut self) -> FlowReport {
        let reports = &mut self.reports;
        self.an.finish(&mut |r| reports.push(r));
        assert_eq!(self.reports.len(), 1, "one TLS flow");
        self.reports.remove(0)
    }
}

/// An HTTP/1.1 request and its response, as TLS application data.
fn exchange(c: &mut Conn) -> &mut Conn {
    c.send(Side::C, &[encrypted(23, 60)])
        .send(Side::S, &[encrypted(23, 180)])
}

fn close_to(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-6)
}

#[test]
fn tls13_idle_timeout_close_is_started_by_the_server_and_no_race() {
    let mut c = Conn::new();
    c.tls13();
    exchange(&mut c)
        .idle(2000)
        .send(Side::S, &[encrypted(23, 19)])
        .fin(Side::S)
        .idle(30)
        .fin(Side::C);
    let r = c.report();
    assert_eq!(r.ending, Ending::CloseNotifyThenFin);
    assert_eq!(r.initiator, Closer::Server);
    assert!(!r.close_notify_answered);
    assert!(!r.keepalive_race);
    assert_eq!(r.race_window_s, None);
    // the idle timer: from the response to the server's close_notify
    assert!(close_to(r.idle_before_first_signal, 2.001));
}

#[test]
fn tls13_request_after_the_servers_close_notify_and_fin_answered_by_rst_is_a_race() {
    let mut c = Conn::new();
    c.tls13();
    exchange(&mut c)
        .idle(2000)
        .send(Side::S, &[encrypted(23, 19)])
        .fin(Side::S)
        .idle(249)
        .send(Side::C, &[encrypted(23, 60)])
        .rst(Side::S);
    let r = c.report();
    assert_eq!(r.ending, Ending::CloseNotifyThenFin);
    assert_eq!((r.closer, r.initiator), (Closer::Server, Closer::Server));
    assert!(r.keepalive_race);
    // close_notify at t, FIN at t+1ms, request at t+1+249+1 ms
    assert!(close_to(r.race_window_s, 0.251), "{:?}", r.race_window_s);
    let race_step = r
        .ladder
        .iter()
        .find(|s| s.what.contains("keep-alive race"))
        .map(|s| s.what.clone());
    assert!(
        race_step.is_some_and(|w| w.contains("answered by RST")),
        "{:?}",
        r.ladder
    );
}

#[test]
fn tls12_request_after_a_bare_fin_is_a_race() {
    let mut c = Conn::new();
    c.tls12();
    exchange(&mut c)
        .idle(1500)
        .fin(Side::S)
        .idle(40)
        .send(Side::C, &[encrypted(23, 90)])
        .rst(Side::S);
    let r = c.report();
    assert_eq!(r.ending, Ending::FinOnly);
    assert_eq!(r.initiator, Closer::Server);
    assert!(r.keepalive_race);
    assert!(close_to(r.race_window_s, 0.041));
}

#[test]
fn a_request_never_answered_is_a_race_too() {
    // the server read and dropped it (lingering close), or the capture ended
    let mut c = Conn::new();
    c.tls12();
    exchange(&mut c)
        .idle(1000)
        .send(Side::S, &[encrypted(21, 26)])
        .fin(Side::S)
        .idle(10)
        .send(Side::C, &[encrypted(23, 90)]);
    let r = c.report();
    assert!(r.keepalive_race);
    assert!(close_to(r.race_window_s, 0.012));
}

#[test]
fn a_request_before_the_close_at_the_capture_point_is_no_race() {
    let mut c = Conn::new();
    c.tls12();
    exchange(&mut c)
        .idle(1000)
        .send(Side::C, &[encrypted(23, 90)])
        .send(Side::S, &[encrypted(21, 26)])
        .fin(Side::S)
        .rst(Side::S);
    let r = c.report();
    assert_eq!(r.initiator, Closer::Server);
    assert!(!r.keepalive_race);
}

#[test]
fn tls13_peer_close_notify_answered_with_rst_is_no_race() {
    // a patient client answers the server's close_notify with its own
    // (a 19-byte record, its last); the closed server answers with RST
    let mut c = Conn::new();
    c.tls13();
    exchange(&mut c)
        .idle(2000)
        .send(Side::S, &[encrypted(23, 19)])
        .fin(Side::S)
        .idle(40)
        .send(Side::C, &[encrypted(23, 19)])
        .rst(Side::S);
    let r = c.report();
    assert_eq!(r.initiator, Closer::Server);
    assert!(r.close_notify_answered);
    assert!(!r.keepalive_race);
}

#[test]
fn tls13_nineteen_byte_request_followed_by_more_data_is_a_race() {
    let mut c = Conn::new();
    c.tls13();
    exchange(&mut c)
        .idle(2000)
        .send(Side::S, &[encrypted(23, 19)])
        .fin(Side::S)
        .send(Side::C, &[encrypted(23, 19)])
        .send(Side::C, &[encrypted(23, 300)])
        .rst(Side::S);
    let r = c.report();
    assert!(r.keepalive_race);
}

#[test]
fn nginx_answers_a_client_close_notify_with_a_bare_fin() {
    // the client started the close; the server closed first on the wire
    let mut c = Conn::new();
    c.tls12();
    exchange(&mut c)
        .idle(300)
        .send(Side::C, &[encrypted(21, 26)])
        .fin(Side::S)
        .fin(Side::C);
    let r = c.report();
    assert_eq!(r.ending, Ending::FinOnly);
    assert_eq!(r.closer, Closer::Server);
    assert_eq!(r.initiator, Closer::Client);
    assert!(!r.close_notify_answered, "a bare FIN answers nothing");
    assert!(!r.keepalive_race);
    assert!(close_to(r.idle_before_first_signal, 0.301));
}

#[test]
fn a_close_notify_after_the_first_one_answers_it() {
    let mut c = Conn::new();
    c.tls12();
    exchange(&mut c)
        .send(Side::C, &[encrypted(21, 26)])
        .send(Side::S, &[encrypted(21, 26)])
        .fin(Side::S)
        .fin(Side::C);
    let r = c.report();
    assert_eq!(r.initiator, Closer::Client);
    assert_eq!(r.closer, Closer::Server);
    assert!(r.close_notify_answered);
}

#[test]
fn a_close_notify_sent_before_the_peers_close_is_no_answer() {
    // the client's close_notify comes first and the server never sends
    // one: unanswered, whoever sent the first FIN
    let mut c = Conn::new();
    c.tls12();
    exchange(&mut c)
        .send(Side::C, &[encrypted(21, 26)])
        .fin(Side::C)
        .fin(Side::S);
    let r = c.report();
    assert_eq!(r.initiator, Closer::Client);
    assert!(!r.close_notify_answered);
}

#[test]
fn initiator_is_the_first_signal_of_any_kind() {
    // a fatal alert before the peer's FIN
    let mut c = Conn::new();
    c.send(Side::C, &[client_hello()])
        .send(Side::S, &[plain_alert(2, 40)])
        .fin(Side::C)
        .fin(Side::S);
    let r = c.report();
    assert_eq!(r.closer, Closer::Client);
    assert_eq!(r.initiator, Closer::Server);
    // an RST
    let mut c = Conn::new();
    c.tls12();
    exchange(&mut c).rst(Side::C);
    let r = c.report();
    assert_eq!(r.initiator, Closer::Client);
    assert!(!r.keepalive_race);
    // nothing
    let mut c = Conn::new();
    c.tls12();
    let r = exchange(&mut c).report();
    assert_eq!(r.initiator, Closer::None);
    assert!(!r.keepalive_race);
    assert_eq!(r.idle_before_first_signal, None);
}

#[test]
fn data_after_a_reset_is_no_race() {
    let mut c = Conn::new();
    c.tls12();
    exchange(&mut c)
        .rst(Side::S)
        .send(Side::C, &[encrypted(23, 90)]);
    let r = c.report();
    assert_eq!(r.initiator, Closer::Server);
    assert!(!r.keepalive_race);
}

#[test]
fn tls13_rest_of_a_response_after_the_clients_close_is_no_race() {
    // half-close: the client sent close_notify + FIN, the server finishes
    let mut c = Conn::new();
    c.tls13();
    c.send(Side::C, &[encrypted(23, 60)])
        .send(Side::C, &[encrypted(23, 19)])
        .fin(Side::C)
        .send(Side::S, &[encrypted(23, 1000)])
        .send(Side::S, &[encrypted(23, 19)])
        .fin(Side::S);
    let r = c.report();
    assert_eq!(r.initiator, Closer::Client);
    assert!(r.close_notify_answered);
    assert!(!r.keepalive_race);
}

#[test]
fn server_data_the_closed_client_answers_with_rst_is_a_race() {
    let mut c = Conn::new();
    c.tls12();
    exchange(&mut c)
        .idle(500)
        .fin(Side::C)
        .idle(20)
        .send(Side::S, &[encrypted(23, 300)])
        .rst(Side::C);
    let r = c.report();
    assert_eq!(r.initiator, Closer::Client);
    assert!(r.keepalive_race);
    assert!(close_to(r.race_window_s, 0.021));
}

#[test]
fn tls13_tickets_after_a_client_closing_right_after_the_handshake_are_no_race() {
    // without keys, a session ticket is application data; a client that
    // sent nothing but its Finished cannot have been sent a response
    let mut c = Conn::new();
    c.tls13();
    c.send(Side::C, &[encrypted(23, 19)])
        .fin(Side::C)
        .send(Side::S, &[encrypted(23, 250), encrypted(23, 250)])
        .rst(Side::C);
    let r = c.report();
    assert_eq!(r.initiator, Closer::Client);
    assert!(!r.keepalive_race);
}

#[test]
fn data_after_the_initiators_own_close_notify_answering_the_peer_is_no_race() {
    // the initiator sent data after the peer's data: it was answered
    // (and the flow is data-after-alert)
    let mut c = Conn::new();
    c.tls12();
    exchange(&mut c)
        .send(Side::S, &[encrypted(21, 26)])
        .send(Side::C, &[encrypted(23, 60)])
        .send(Side::S, &[encrypted(23, 60)])
        .fin(Side::S);
    let r = c.report();
    assert_eq!(r.ending, Ending::DataAfterAlert);
    assert!(!r.keepalive_race);
}
