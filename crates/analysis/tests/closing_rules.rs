//! Who started the close (`initiator`), whether a close_notify was answered
//! (`close_notify_answered`) and keep-alive races (`keepalive_race`,
//! `race_window_s`), one scripted connection each (docs/ENDINGS.md, "Who
//! started the close, and keep-alive races"), driven through the analyzer with
//! hand-made segments and a settable clock.

mod common;

use common::script::*;
use tlsclose_analysis::{Closer, Ending};

/// An HTTP/1.1 request and its response, as TLS application data.
fn exchange(c: &mut Conn) -> &mut Conn {
    c.send(Side::C, &[opaque(23, 60)])
        .send(Side::S, &[opaque(23, 180)])
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
        .send(Side::S, &[opaque(23, 19)])
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
        .send(Side::S, &[opaque(23, 19)])
        .fin(Side::S)
        .idle(249)
        .send(Side::C, &[opaque(23, 60)])
        .rst(Side::S);
    let r = c.report();
    assert_eq!(r.ending, Ending::CloseNotifyThenFin);
    assert_eq!((r.closer, r.initiator), (Closer::Server, Closer::Server));
    assert!(r.keepalive_race);
    // close_notify at t, FIN at t+1ms, request at t+1+249+1 ms
    assert!(close_to(r.race_window_s, 0.251), "{:?}", r.race_window_s);
    let race_step = r.ladder.iter().find_map(|s| s.race);
    assert!(
        race_step.is_some_and(|m| m.rst_frame.is_some()),
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
        .send(Side::C, &[opaque(23, 90)])
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
        .send(Side::S, &[opaque(21, 26)])
        .fin(Side::S)
        .idle(10)
        .send(Side::C, &[opaque(23, 90)]);
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
        .send(Side::C, &[opaque(23, 90)])
        .send(Side::S, &[opaque(21, 26)])
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
        .send(Side::S, &[opaque(23, 19)])
        .fin(Side::S)
        .idle(40)
        .send(Side::C, &[opaque(23, 19)])
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
        .send(Side::S, &[opaque(23, 19)])
        .fin(Side::S)
        .send(Side::C, &[opaque(23, 19)])
        .send(Side::C, &[opaque(23, 300)])
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
        .send(Side::C, &[opaque(21, 26)])
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
        .send(Side::C, &[opaque(21, 26)])
        .send(Side::S, &[opaque(21, 26)])
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
        .send(Side::C, &[opaque(21, 26)])
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
        .send(Side::C, &[opaque(23, 90)]);
    let r = c.report();
    assert_eq!(r.initiator, Closer::Server);
    assert!(!r.keepalive_race);
}

#[test]
fn tls13_rest_of_a_response_after_the_clients_close_is_no_race() {
    // half-close: the client sent close_notify + FIN, the server finishes
    let mut c = Conn::new();
    c.tls13();
    c.send(Side::C, &[opaque(23, 60)])
        .send(Side::C, &[opaque(23, 19)])
        .fin(Side::C)
        .send(Side::S, &[opaque(23, 1000)])
        .send(Side::S, &[opaque(23, 19)])
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
        .send(Side::S, &[opaque(23, 300)])
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
    c.send(Side::C, &[opaque(23, 19)])
        .fin(Side::C)
        .send(Side::S, &[opaque(23, 250), opaque(23, 250)])
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
        .send(Side::S, &[opaque(21, 26)])
        .send(Side::C, &[opaque(23, 60)])
        .send(Side::S, &[opaque(23, 60)])
        .fin(Side::S);
    let r = c.report();
    assert_eq!(r.ending, Ending::DataAfterAlert);
    assert!(!r.keepalive_race);
}

#[test]
fn an_http2_goaway_just_before_the_close_notify_does_not_hide_the_idle_time() {
    // nginx and Envoy close an idle HTTP/2 connection with GOAWAY (a small
    // application-data record), then close_notify, in the same millisecond
    for tls13 in [true, false] {
        let mut c = Conn::new();
        let (goaway, alert) = if tls13 {
            c.tls13();
            (opaque(23, 34), opaque(23, 19))
        } else {
            c.tls12();
            (opaque(23, 41), opaque(21, 26))
        };
        exchange(&mut c)
            .idle(1200)
            .send(Side::S, &[goaway])
            .send(Side::S, &[alert])
            .fin(Side::S)
            .idle(30)
            .fin(Side::C);
        let r = c.report();
        assert_eq!(r.ending, Ending::CloseNotifyThenFin, "TLS 1.3: {tls13}");
        assert_eq!(r.initiator, Closer::Server);
        for idle in [r.idle_before_first_signal, r.idle_before_close] {
            let idle = idle.unwrap_or_default();
            assert!((idle - 1.2).abs() < 0.005, "TLS 1.3: {tls13}: {idle}");
        }
    }
}

#[test]
fn a_response_just_before_the_close_notify_is_traffic() {
    // a server that answers and closes at once (Connection: close) closed
    // after 0 s of idleness: a record larger than a preamble counts
    let mut c = Conn::new();
    c.tls13();
    c.send(Side::C, &[opaque(23, 60)])
        .idle(1200)
        .send(Side::S, &[opaque(23, 180)])
        .send(Side::S, &[opaque(23, 19)])
        .fin(Side::S)
        .idle(30)
        .fin(Side::C);
    let r = c.report();
    assert_eq!(r.initiator, Closer::Server);
    let idle = r.idle_before_first_signal.unwrap_or_default();
    assert!(idle < 0.005, "{idle}");
}

#[test]
fn data_after_the_closers_own_alert_is_no_preamble() {
    // what a side sends after its own close_notify is data after the alert:
    // the idle time before its FIN is measured from it
    let mut c = Conn::new();
    c.tls12();
    exchange(&mut c)
        .idle(40)
        .send(Side::S, &[opaque(21, 26)])
        .send(Side::S, &[opaque(23, 40)])
        .idle(160)
        .fin(Side::S)
        .fin(Side::C);
    let r = c.report();
    assert_eq!(r.ending, Ending::DataAfterAlert);
    let idle = r.idle_before_close.unwrap_or_default();
    assert!((idle - 0.16).abs() < 0.005, "{idle}");
}
