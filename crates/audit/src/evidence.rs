//! What a flow's ladder (its last records and FIN/RST per side, in
//! capture order) says beyond the verdict, for `--audit`: whose data came
//! last (could a bare FIN have cut anything?), a request that reached the
//! server before its close and was never answered, a server that reset an
//! idle connection. Facts of one `FlowReport` only: nothing is kept.

use crate::idle::MIN_IDLE;
use tlsclose_analysis::{
    CloseKind, CloseNotify, Closer, Ending, FlowReport, HttpClose, LadderEvent, LadderStep, Role,
    TeardownKind, Version,
};
use tlsclose_tls::ContentType;

/// Longest time from a request to the server's close for the request to
/// count as having raced the close (a server that closes later without an
/// answer timed the request out, or failed).
pub const RACE_BEFORE_CLOSE_MAX: f64 = 1.0;

/// An application-data record (with keys: one that decrypted as such).
pub fn is_data(s: &LadderStep) -> bool {
    matches!(
        s.event,
        LadderEvent::Record { content_type, decrypted, .. }
            if content_type == ContentType::APPLICATION_DATA
                && decrypted.is_none_or(|d| d == ContentType::APPLICATION_DATA)
    )
}

/// A close signal: an alert (read, or encrypted), FIN or RST.
fn is_signal(s: &LadderStep) -> bool {
    matches!(
        s.event,
        LadderEvent::Alert { .. }
            | LadderEvent::EncryptedAlert { .. }
            | LadderEvent::Fin
            | LadderEvent::Rst
    )
}

/// The last application-data record `role` sent, as far as the ladder
/// shows it.
pub fn last_data(r: &FlowReport, role: Role) -> Option<&LadderStep> {
    r.ladder.iter().rev().find(|s| s.from == role && is_data(s))
}

/// `role`'s first close signal in the ladder.
fn first_signal(r: &FlowReport, role: Role) -> Option<&LadderStep> {
    r.ladder.iter().find(|s| s.from == role && is_signal(s))
}

fn role_of(c: Closer) -> Option<Role> {
    match c {
        Closer::Client => Some(Role::Client),
        Closer::Server => Some(Role::Server),
        Closer::None => None,
    }
}

fn tls13(r: &FlowReport) -> bool {
    matches!(r.version, Some(Version::Negotiated(v)) if v.is_tls13())
}

/// Largest record body of a closing preamble (an HTTP/2 GOAWAY under any
/// cipher suite), as in the analysis's idle times.
const PREAMBLE_MAX_BODY: u16 = 96;

/// How soon before its close signal a side's small records are a closing
/// preamble (GOAWAY is written with the close, in the same millisecond).
const PREAMBLE_WITHIN: f64 = 0.01;

/// A bare FIN could have cut data: the closer's last application data came
/// after the peer's last (nothing answered it, so the peer may have been
/// reading a message that only the close delimits). When the peer answered
/// the closer's data (an HTTP/1.1 client closing after its response), the
/// closer's FIN cuts nothing; neither does a closing preamble: small
/// records written with the close (an HTTP/2 GOAWAY), from a client, or
/// from a server after [`MIN_IDLE`] of silence (a small record right after
/// the client's request is a response, which the FIN may have cut).
/// Without a ladder (not asked for), as before: possible.
pub fn truncation_possible(r: &FlowReport) -> bool {
    let Some(closer) = role_of(r.closer) else {
        return false;
    };
    if r.ladder.is_empty() {
        return true;
    }
    let Some(signal) = first_signal(r, closer) else {
        return false;
    };
    let answered = last_data(r, closer.peer()).map_or(0, |s| s.frame);
    let mine: Vec<&LadderStep> = r
        .ladder
        .iter()
        .filter(|s| s.from == closer && is_data(s) && s.frame > answered && s.frame <= signal.frame)
        .collect();
    let peer_last = r
        .ladder
        .iter()
        .filter(|s| s.from == closer.peer() && !is_signal(s))
        .map(|s| s.time)
        .fold(f64::NEG_INFINITY, f64::max);
    let preamble = mine.iter().all(|s| {
        matches!(s.event, LadderEvent::Record { length, .. } if length <= PREAMBLE_MAX_BODY)
            && signal.time - s.time <= PREAMBLE_WITHIN
            && (closer == Role::Client || s.time - peer_last >= MIN_IDLE)
    });
    !mine.is_empty() && !preamble
}

/// A request that reached the server before its close and was never
/// answered: the server started the close (close_notify, FIN or RST)
/// within [`RACE_BEFORE_CLOSE_MAX`] of the client's last application data,
/// which came after at least [`MIN_IDLE`] of silence (the server's idle
/// timer was running) and sooner after it than that silence lasted, and
/// the server sent no application data after it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UnansweredRequest {
    /// The request's frame.
    pub frame: u64,
    /// Seconds from the request to the server's first close signal.
    pub before_close: f64,
    /// Seconds from the traffic before the request to the server's close:
    /// what the server's idle timer measured if the request came too late
    /// for it (the audit counts a race when this is the server's idle
    /// timeout; a client's GOAWAY answered at once is not one).
    pub timer: f64,
}

pub fn unanswered_request(r: &FlowReport) -> Option<UnansweredRequest> {
    if r.initiator != Closer::Server || r.keepalive_race {
        return None;
    }
    let request = last_data(r, Role::Client)?;
    let close = first_signal(r, Role::Server)?;
    if request.frame >= close.frame {
        return None;
    }
    // TLS 1.3 without keys: the client's Finished is an application-data
    // record too; its only one is no request
    if tls13(r) && !r.decrypted && r.app_bytes[0] <= record_length(request) {
        return None;
    }
    if r.ladder
        .iter()
        .any(|s| s.from == Role::Server && is_data(s) && s.frame > request.frame)
    {
        return None;
    }
    let before = r
        .ladder
        .iter()
        .filter(|s| s.frame < request.frame && !is_signal(s))
        .map(|s| s.time)
        .fold(None, |m: Option<f64>, t| Some(m.map_or(t, |m| m.max(t))))?;
    let silence = request.time - before;
    let before_close = (close.time - request.time).max(0.0);
    (silence >= MIN_IDLE && before_close < silence && before_close <= RACE_BEFORE_CLOSE_MAX)
        .then_some(UnansweredRequest {
            frame: request.frame,
            before_close,
            timer: silence + before_close,
        })
}

fn record_length(s: &LadderStep) -> u64 {
    match s.event {
        LadderEvent::Record { length, .. } => u64::from(length),
        _ => 0,
    }
}

/// A server that reset an idle connection: it started the close with RST
/// (no close_notify, no alert, no FIN before it) after at least
/// [`MIN_IDLE`] without records. The idle time, if so.
pub fn idle_reset(r: &FlowReport) -> Option<f64> {
    let idle = r.idle_before_first_signal?;
    (r.initiator == Closer::Server
        && r.closer == Closer::Server
        && r.ending == Ending::Rst
        && r.server_close_notify == CloseNotify::None
        && r.alerts.server.is_empty()
        && idle.is_finite()
        && idle >= MIN_IDLE)
        .then_some(idle)
}

/// How a server closed abruptly, read with keys (docs/ENDINGS.md, "Why it
/// closed"; the `abrupt-close` finding).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AbruptClose {
    /// An HTTP-level close announced (GOAWAY, `Connection: close`; by
    /// either side), then the server's bare FIN (`rst`: its RST), with no
    /// close_notify from either side in between.
    Announced { close: HttpClose, rst: bool },
    /// The server's RST with a request outstanding (or a response cut
    /// short), nothing announced.
    RstOutstanding,
}

/// The server's abrupt close, when the flow's HTTP was read with keys and
/// its `close_kind` is abrupt with the server's FIN or RST first. A
/// client's abrupt close (it gave up on a response) is not the server's;
/// the server's bare FIN cutting a response with nothing announced is
/// `truncation-risk`'s. Without keys: None, nothing is claimed.
pub fn abrupt_close(r: &FlowReport) -> Option<AbruptClose> {
    if r.close_kind != CloseKind::Abrupt {
        return None;
    }
    let h = r.http?;
    let t = r.teardown.filter(|t| t.by == Role::Server)?;
    let rst = t.kind == TeardownKind::Rst;
    match h.close.filter(|a| a.frame <= t.frame) {
        Some(close) => Some(AbruptClose::Announced { close, rst }),
        None if rst => Some(AbruptClose::RstOutstanding),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tlsclose_tls::ProtocolVersion;

    /// The fixture's flow with no teardown, its ladder `ladder`.
    fn report(ladder: Vec<LadderStep>) -> FlowReport {
        FlowReport {
            idle_before_first_signal: Some(2.0),
            version: Some(Version::Negotiated(ProtocolVersion::TLS1_2)),
            idle_before_close: Some(2.0),
            teardown: None,
            teardown_frame: None,
            first_frame: 1,
            last_frame: 20,
            ladder,
            ..crate::fixture::flow(443, 40000)
        }
    }

    fn data(from: Role, frame: u64, time: f64) -> LadderStep {
        LadderStep {
            http_close: None,
            from,
            frame,
            time,
            event: LadderEvent::Record {
                content_type: ContentType::APPLICATION_DATA,
                length: 100,
                decrypted: None,
            },
            race: None,
        }
    }

    fn step(from: Role, frame: u64, time: f64, event: LadderEvent) -> LadderStep {
        LadderStep {
            http_close: None,
            from,
            frame,
            time,
            event,
            race: None,
        }
    }

    use Role::{Client as C, Server as S};

    #[test]
    fn a_fin_after_the_peers_answer_cuts_nothing() {
        // client request, server response, client's bare FIN: nothing cut
        let mut r = report(vec![
            data(C, 5, 0.1),
            data(S, 6, 0.2),
            step(C, 7, 0.3, LadderEvent::Fin),
            step(S, 8, 0.3, LadderEvent::Fin),
        ]);
        r.closer = Closer::Client;
        r.initiator = Closer::Client;
        assert!(!truncation_possible(&r));
        // the server's response, then its bare FIN: the client may have
        // been reading a response only the close delimits
        let mut r = report(vec![
            data(C, 5, 0.1),
            data(S, 6, 0.2),
            step(S, 7, 0.3, LadderEvent::Fin),
        ]);
        r.closer = Closer::Server;
        assert!(truncation_possible(&r));
        r.ladder.clear();
        assert!(truncation_possible(&r), "no ladder: as before");
        // an HTTP/2 client's GOAWAY written with its FIN is no data cut
        let mut goaway = data(C, 7, 0.3);
        if let LadderEvent::Record { length, .. } = &mut goaway.event {
            *length = 26;
        }
        let mut r = report(vec![
            data(C, 5, 0.1),
            data(S, 6, 0.2),
            goaway,
            step(C, 8, 0.3, LadderEvent::Fin),
        ]);
        r.closer = Closer::Client;
        r.initiator = Closer::Client;
        assert!(!truncation_possible(&r));
        // an upload the client closed right after: possible
        r.ladder[2] = data(C, 7, 0.3);
        assert!(truncation_possible(&r));
        // a server's small response right after the request, then its FIN:
        // possible; its GOAWAY after a second of silence, the client's data
        // answered: a preamble
        let small = |frame, time| {
            let mut d = data(S, frame, time);
            if let LadderEvent::Record { length, .. } = &mut d.event {
                *length = 34;
            }
            d
        };
        let r = report(vec![
            data(C, 5, 0.1),
            small(6, 0.1005),
            step(S, 7, 0.101, LadderEvent::Fin),
        ]);
        assert!(truncation_possible(&r));
        let r = report(vec![
            data(C, 5, 0.1),
            data(S, 6, 0.2),
            data(C, 7, 0.25),
            small(8, 1.25),
            step(S, 9, 1.2505, LadderEvent::Fin),
        ]);
        assert!(!truncation_possible(&r));
    }

    #[test]
    fn a_request_just_before_the_servers_idle_close_is_unanswered() {
        let r = report(vec![
            data(C, 5, 0.1),
            data(S, 6, 0.2),
            data(C, 9, 2.15),
            step(S, 10, 2.2, LadderEvent::Fin),
            step(C, 11, 2.3, LadderEvent::Rst),
        ]);
        let u = unanswered_request(&r).unwrap_or_else(|| panic!("none"));
        assert_eq!(u.frame, 9);
        assert!((u.before_close - 0.05).abs() < 1e-9);
        // answered: no
        let answered = report(vec![
            data(C, 5, 0.1),
            data(S, 6, 0.2),
            data(C, 9, 2.15),
            data(S, 10, 2.16),
            step(S, 11, 2.2, LadderEvent::Fin),
        ]);
        assert_eq!(unanswered_request(&answered), None);
        // a request timeout: the server closed long after the request
        let mut late = r.clone();
        late.ladder[3].time = 4.0;
        assert_eq!(unanswered_request(&late), None);
        // right after a response (no silence before it): no
        let mut busy = r.clone();
        busy.ladder[2].time = 0.21;
        busy.ladder[3].time = 0.25;
        assert_eq!(unanswered_request(&busy), None);
        // a client's close: no
        let mut client = r.clone();
        client.initiator = Closer::Client;
        assert_eq!(unanswered_request(&client), None);
    }

    #[test]
    fn a_tls13_clients_only_record_is_its_finished_not_a_request() {
        let mut r = report(vec![
            data(S, 6, 0.2),
            data(C, 9, 2.15),
            step(S, 10, 2.2, LadderEvent::Fin),
        ]);
        r.version = Some(Version::Negotiated(ProtocolVersion::TLS1_3));
        r.app_bytes = [100, 3000];
        assert_eq!(unanswered_request(&r), None);
        r.app_bytes = [153, 3000];
        assert!(unanswered_request(&r).is_some());
    }

    #[test]
    fn an_idle_reset_is_a_servers_rst_after_silence_without_alert() {
        let mut r = report(vec![]);
        r.ending = Ending::Rst;
        assert_eq!(idle_reset(&r), Some(2.0));
        r.idle_before_first_signal = Some(0.01);
        assert_eq!(idle_reset(&r), None, "right after a response");
        r.idle_before_first_signal = Some(2.0);
        r.server_close_notify = CloseNotify::Inferred;
        assert_eq!(idle_reset(&r), None);
        r.server_close_notify = CloseNotify::None;
        r.initiator = Closer::Client;
        assert_eq!(idle_reset(&r), None);
    }
}
