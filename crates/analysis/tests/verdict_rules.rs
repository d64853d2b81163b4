//! The spec's rules, one scripted connection each, driven through the
//! analyzer with hand-made segments (no capture file).

mod common;

use common::script::*;
use tlsclose_analysis::{CloseNotify, Closer, Confidence, Ending};

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
