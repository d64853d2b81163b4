//! Flow reports for the unit tests: a server's idle close by default,
//! changed field by field.

use std::net::{IpAddr, Ipv4Addr};
use tlsclose_analysis::{
    Alerts, CloseKind, CloseNotify, Closer, Confidence, Ending, Endpoint, FlowReport, HttpClose,
    HttpCloseKind, HttpProtocol, HttpReport, Role, Teardown, TeardownKind,
};

fn ep(last: u8, port: u16) -> Endpoint {
    Endpoint {
        ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, last)),
        port,
    }
}

/// A flow from client port `port` to 10.0.0.1:`server`, closed by the
/// server's FIN at frame 20 without close_notify, read without keys.
pub(crate) fn flow(server: u16, port: u16) -> FlowReport {
    FlowReport {
        file: String::new(),
        client: ep(2, port),
        server: ep(1, server),
        ending: Ending::FinOnly,
        closer: Closer::Server,
        client_close_notify: CloseNotify::None,
        server_close_notify: CloseNotify::None,
        close_notify_answered: false,
        initiator: Closer::Server,
        keepalive_race: false,
        race_window_s: None,
        race_frame: None,
        idle_before_first_signal: None,
        version: None,
        sni: None,
        alpn: None,
        cipher: None,
        confidence: Confidence::Certain,
        decrypted: false,
        alerts: Alerts::default(),
        idle_before_close: None,
        teardown: Some(Teardown {
            kind: TeardownKind::Fin,
            by: Role::Server,
            frame: 20,
            time: 5.0,
        }),
        teardown_frame: Some(20),
        first_frame: u64::from(port),
        last_frame: 22,
        first_time: 0.0,
        last_time: 5.0,
        packets: 20,
        app_bytes: [500, 5000],
        gap: false,
        incomplete: false,
        midstream: false,
        notes: Vec::new(),
        ladder: Vec::new(),
        http: None,
        close_kind: CloseKind::Unknown,
        response_truncated: None,
        race_request: None,
    }
}

/// The same flow read with keys as HTTP/2, `kind` its close; `goaway`: the
/// GOAWAY's sender, at frame 19 (before the close).
pub(crate) fn keyed(mut r: FlowReport, kind: CloseKind, goaway: Option<Role>) -> FlowReport {
    r.decrypted = true;
    r.close_kind = kind;
    r.response_truncated = Some(false);
    r.http = Some(HttpReport {
        protocol: HttpProtocol::H2,
        close: goaway.map(|by| HttpClose {
            kind: HttpCloseKind::Goaway,
            by,
            frame: 19,
            error_code: Some(0),
            last_stream_id: Some(1),
        }),
        goaways: u32::from(goaway.is_some()),
        requests: 1,
        response_complete: Some(true),
    });
    r
}

/// The flow ended by `by`'s RST at frame 20 instead.
pub(crate) fn reset_by(mut r: FlowReport, by: Closer) -> FlowReport {
    r.ending = Ending::Rst;
    r.closer = by;
    r.initiator = by;
    if let Some(t) = &mut r.teardown {
        t.kind = TeardownKind::Rst;
        t.by = match by {
            Closer::Client => Role::Client,
            _ => Role::Server,
        };
    }
    r
}
