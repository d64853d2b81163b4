//! The spec's rules, one scripted connection each, driven through the
//! analyzer with hand-made segments (no capture file).

mod common;

use common::script::*;
use tlsclose_analysis::{
    AlertLabel, AnalyzerConfig, CloseNotify, Closer, Confidence, Ending, FlowReport,
};
use tlsclose_capture::{Endpoint, Segment, Timestamp};
use tlsclose_tcp::{FlowTableConfig, SegMeta};

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
    assert_eq!(r.version.map(|v| v.to_string()).as_deref(), Some("TLS 1.2"));
    assert_eq!(r.sni.as_deref(), Some("example.test"));
    assert_eq!(r.client.to_string(), "10.0.0.1:50000");
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
    assert_eq!(r.alerts.server[0], AlertLabel::InferredFatal);
}

#[test]
fn plaintext_fatal_alert_is_seen_and_not_close_notify() {
    let r = Conn::new()
        .send(Side::C, &[client_hello_record(b"example.test")])
        .send(Side::S, &[plain_alert(2, 70)])
        .fin(Side::S)
        .report();
    assert_eq!(r.ending, Ending::FinOnly);
    assert_eq!(r.alerts.server[0].to_string(), "fatal:protocol_version");
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
    assert_eq!(r.version.map(|v| v.to_string()).as_deref(), Some("TLS 1.3"));
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
    assert_eq!(r.alerts.client[0], AlertLabel::InferredFatal);
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

// ----- coverage: idle timeout, gaps, alerts, teardown order, roles ----------

/// A configuration whose flows end after `secs` without a segment.
fn idle_timeout(secs: i64) -> AnalyzerConfig {
    AnalyzerConfig {
        table: FlowTableConfig {
            idle_timeout_ns: secs * 1_000_000_000,
            ..FlowTableConfig::default()
        },
        ..AnalyzerConfig::default()
    }
}

#[test]
fn the_idle_timeout_ends_a_quiet_flow_as_open() {
    let mut c = Conn::with_config(idle_timeout(5));
    c.tls12()
        .send(Side::C, &[opaque(23, 100)])
        .send(Side::S, &[opaque(23, 300)]);
    // 10 s of silence, then any other segment makes the table look
    c.idle(10_000);
    let other = Segment {
        src: Endpoint {
            port: 50001,
            ..CLIENT
        },
        dst: SERVER,
        seq: 1,
        ack: 0,
        flags: flags(|f| f.syn = true),
        payload: &[],
        wire_len: 0,
    };
    let meta = SegMeta::at(
        c.frame + 1,
        Timestamp(1_700_000_000_000_000_000 + 20_000 * 1_000_000),
    );
    let reports = &mut c.reports;
    c.an.segment(&other, meta, &mut |r| reports.push(r));
    assert_eq!(c.reports.len(), 1, "reported when the timeout expired");
    let r = &c.reports[0];
    assert_eq!(r.ending, Ending::Open);
    assert_eq!(r.closer, Closer::None);
    assert_eq!(r.teardown_frame, None);
    // the same flow without the timeout is still open at the end of the
    // capture, and is reported only then
    let mut c = Conn::new();
    c.tls12().idle(10_000).send(Side::C, &[opaque(23, 100)]);
    assert!(c.reports.is_empty());
    assert_eq!(c.report().ending, Ending::Open);
}

/// A TLS 1.2 flow closed by the server's (encrypted) close_notify and FINs;
/// `hole`: 100 bytes of the client's data never captured.
fn tls12_closed_by_server(hole: bool) -> FlowReport {
    let mut c = Conn::new();
    c.tls12().send(Side::C, &[opaque(23, 100)]);
    if hole {
        c.lose(Side::C, 100);
    }
    c.send(Side::C, &[opaque(23, 100)])
        .send(Side::S, &[opaque(23, 300)])
        .send(Side::S, &[opaque(21, 26)])
        .fin(Side::S)
        .fin(Side::C);
    c.report()
}

#[test]
fn a_gap_lowers_confidence_one_step() {
    let whole = tls12_closed_by_server(false);
    let gapped = tls12_closed_by_server(true);
    assert!(!whole.gap);
    assert!(gapped.gap);
    assert_eq!(whole.ending, Ending::CloseNotifyThenFin);
    assert_eq!(gapped.ending, Ending::CloseNotifyThenFin);
    assert_eq!(gapped.server_close_notify, CloseNotify::Inferred);
    assert_eq!(whole.confidence, Confidence::Likely);
    assert_eq!(gapped.confidence, Confidence::Unknown);
    // a flow read for certain drops to likely
    let certain = |hole: bool| {
        let mut c = Conn::new();
        c.tls12().send(Side::C, &[opaque(23, 100)]);
        if hole {
            c.lose(Side::C, 50);
        }
        c.send(Side::C, &[opaque(23, 100)])
            .send(Side::S, &[opaque(23, 300)])
            .fin(Side::S)
            .fin(Side::C);
        c.report()
    };
    assert_eq!(certain(false).confidence, Confidence::Certain);
    let r = certain(true);
    assert!(r.gap);
    assert_eq!(
        (r.ending, r.confidence),
        (Ending::FinOnly, Confidence::Likely)
    );
}

#[test]
fn data_after_a_fatal_alert_is_data_after_alert() {
    let mut c = Conn::new();
    c.send(Side::C, &[client_hello()])
        .send(Side::S, &[server_hello_record(false)])
        // the server refuses in plaintext, then sends data anyway
        .send(Side::S, &[plain_alert(2, 40)])
        .send(Side::S, &[record(23, TLS1_2, &[0xcd; 50])])
        .fin(Side::S)
        .fin(Side::C);
    let r = c.report();
    assert_eq!(r.ending, Ending::DataAfterAlert);
    assert_eq!(r.closer, Closer::Server);
    assert_eq!(r.server_close_notify, CloseNotify::None);
}

#[test]
fn data_after_alert_without_fin_or_rst_has_no_closer() {
    let mut c = Conn::new();
    c.tls12()
        .send(Side::C, &[opaque(23, 100)])
        // the server's encrypted alert, then more data from it: the alert
        // was close_notify, and data followed it
        .send(Side::S, &[opaque(21, 26)])
        .send(Side::S, &[opaque(23, 300)]);
    let r = c.report();
    assert_eq!(r.ending, Ending::DataAfterAlert);
    assert_eq!(r.closer, Closer::None);
    assert_eq!(r.teardown_frame, None);
    assert_eq!(r.server_close_notify, CloseNotify::Inferred);
}

#[test]
fn records_after_a_sides_own_fin_do_not_count() {
    // the client's FIN, then an alert-looking record from it: after its own
    // teardown, so no close_notify; the server's records after the client's
    // FIN still count (its close_notify makes the second FIN clean, but the
    // first teardown, the client's bare FIN, decides)
    let mut c = Conn::new();
    c.tls12()
        .send(Side::C, &[opaque(23, 100)])
        .fin(Side::C)
        .send(Side::C, &[opaque(21, 26)])
        .send(Side::S, &[opaque(21, 26)])
        .fin(Side::S);
    let r = c.report();
    assert_eq!(r.ending, Ending::FinOnly);
    assert_eq!(r.closer, Closer::Client);
    assert_eq!(r.client_close_notify, CloseNotify::None);
    assert_eq!(r.server_close_notify, CloseNotify::Inferred);

    // the same record before the FIN counts
    let mut c = Conn::new();
    c.tls12()
        .send(Side::C, &[opaque(23, 100)])
        .send(Side::C, &[opaque(21, 26)])
        .fin(Side::C)
        .fin(Side::S);
    let r = c.report();
    assert_eq!(r.ending, Ending::CloseNotifyThenFin);
    assert_eq!(r.client_close_notify, CloseNotify::Inferred);
}

#[test]
fn without_a_syn_the_client_hello_sender_is_the_client() {
    // the capture starts mid-handshake with a segment from 10.0.0.1:50000;
    // the ClientHello comes from 10.0.0.2:443 (the lower port, and not the
    // first sender): it is the client all the same
    let mut c = Conn::without_handshake(AnalyzerConfig::default());
    c.seg(Side::C, flags(|f| f.ack = true), &[])
        .send(Side::S, &[client_hello()])
        .send(Side::C, &[server_hello_record(false)])
        .send(Side::S, &[ccs(), opaque(22, 40)])
        .send(Side::C, &[ccs(), opaque(22, 40)])
        .fin(Side::S)
        .fin(Side::C);
    let r = c.report();
    assert_eq!(r.client, SERVER);
    assert_eq!(r.server, CLIENT);
    assert_eq!(r.closer, Closer::Client);
    assert_eq!(r.sni.as_deref(), Some("example.test"));
}

/// A TLS 1.3 flow whose server's last record has a `len`-byte body, then FINs.
fn tls13_server_last_record(len: usize) -> FlowReport {
    let mut c = Conn::new();
    c.tls13()
        .send(Side::C, &[opaque(23, 120)])
        .send(Side::S, &[opaque(23, 800)])
        .send(Side::S, &[opaque(23, len)])
        .fin(Side::S)
        .fin(Side::C);
    c.report()
}

#[test]
fn tls13_eleven_byte_last_record_is_close_notify_as_with_ccm8() {
    // AES-CCM-8: 2 alert bytes + 1 content type + an 8-byte tag
    let r = tls13_server_last_record(11);
    assert_eq!(r.ending, Ending::CloseNotifyThenFin);
    assert_eq!(r.server_close_notify, CloseNotify::Inferred);
    assert_eq!(r.confidence, Confidence::Likely);
    // one byte more or less is data, not an alert
    for len in [10, 12] {
        let r = tls13_server_last_record(len);
        assert_eq!(r.ending, Ending::FinOnly, "{len} bytes");
        assert_eq!(r.server_close_notify, CloseNotify::None, "{len} bytes");
    }
    // the client's first encrypted record of 11 bytes, in place of its
    // Finished, is an inferred fatal alert
    let mut c = Conn::new();
    c.send(Side::C, &[client_hello()])
        .send(
            Side::S,
            &[server_hello_record(true), ccs(), opaque(23, 500)],
        )
        .send(Side::C, &[ccs(), opaque(23, 11)])
        .fin(Side::C)
        .fin(Side::S);
    let r = c.report();
    assert_eq!(r.client_close_notify, CloseNotify::None);
    assert_eq!(
        r.alerts.client.first().copied(),
        Some(AlertLabel::InferredFatal)
    );
}
