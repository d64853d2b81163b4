//! Who started the close, whether a close_notify was answered, and the
//! keep-alive race (docs/ENDINGS.md, "Who started the close, and keep-alive
//! races").
//!
//! A keep-alive race: the side that closed first (the initiator) had sent
//! its close_notify or FIN, and afterwards, as seen at the capture point,
//! its peer sent application data that the initiator answered with RST or
//! never answered: a request on a connection the other side had closed.
//! Not data: the peer's own alert (TLS 1.3 without keys: an alert-sized
//! last record; with keys: its decrypted type), a TLS 1.3 ticket read with
//! keys. A server's data after the client's close is the rest of a response
//! (TLS 1.3 half-close) unless the client answered it with RST, and
//! without keys it is a possible session ticket while the client had sent
//! nothing but its Finished.

use super::{Found, Reading, SideVerdict, TLS13_ALERT_LENGTHS};
use crate::flow::{DirView, LateRecord, RecentRecord};
use crate::report::{Closer, Role};
use tlsclose_tcp::SegMeta;
use tlsclose_tls::ContentType;

/// Largest record body of a closing preamble: an HTTP/2 GOAWAY or PING
/// (17 bytes of frame) under any cipher suite, CBC with its IV and MAC
/// included, fits; a response with a body does not.
const PREAMBLE_MAX_BODY: u16 = 96;

/// A small application-data record: what a closing preamble is made of.
fn small_data(r: &RecentRecord) -> bool {
    r.length <= PREAMBLE_MAX_BODY
        && r.content_type == ContentType::APPLICATION_DATA
        && r.decrypted
            .is_none_or(|d| d == ContentType::APPLICATION_DATA)
}

/// Seconds without records before `at` (the `closing` side's close
/// signal): from the latest record of either side before it, alerts left
/// out, to `at`.
///
/// The closing side's own small application-data records just before
/// `at` are left out too, back to the latest record that is the peer's or
/// larger: they are a closing preamble, not traffic. An HTTP/2 server
/// closing an idle connection sends GOAWAY and then close_notify in the
/// same millisecond (nginx, Envoy); counted as traffic, that GOAWAY would
/// make every idle close look like a close after 0 s of idleness, and hide
/// the server's idle timeout. What is left out can only lengthen the idle
/// time by the peer's request-to-response time when a tiny response
/// preceded the close.
pub(super) fn idle_before(
    client: &Side<'_>,
    server: &Side<'_>,
    closing: Role,
    at: SegMeta,
) -> Option<f64> {
    let mut newest: Option<SegMeta> = None;
    let mut traffic: Option<SegMeta> = None;
    for (role, s) in [(Role::Client, client), (Role::Server, server)] {
        // a preamble comes before the side's first alert: what it sent
        // after its own close_notify is data after the alert, not a preamble
        let first_alert = [s.verdict.close_notify, s.verdict.fatal]
            .into_iter()
            .flatten()
            .map(|f| f.at.frame)
            .min();
        for r in s.facts.recent_records() {
            if r.at.frame >= at.frame || s.verdict.alert_indexes.contains(&r.index) {
                continue;
            }
            if newest.is_none_or(|l| r.at.clock > l.clock) {
                newest = Some(r.at);
            }
            let preamble =
                role == closing && small_data(&r) && first_alert.is_none_or(|a| r.at.frame < a);
            if !preamble && traffic.is_none_or(|l| r.at.clock > l.clock) {
                traffic = Some(r.at);
            }
        }
    }
    // a preamble only when traffic came before it (else as before)
    let last = traffic.or(newest)?;
    Some(at.clock.secs_since(last.clock).max(0.0))
}

/// A peer's application data after the initiator's close.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Race {
    /// The side that sent the data (the initiator's peer).
    pub by: Role,
    /// Its frame.
    pub frame: u64,
    /// Seconds from the initiator's first close signal to the data.
    pub window: f64,
    /// The initiator's RST after the data, if any (else never answered).
    pub rst_frame: Option<u64>,
    /// Read with keys as HTTP: whether the data began a request.
    pub request: Option<bool>,
}

/// The attributes about how the close was started.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Closing {
    pub initiator: Closer,
    pub close_notify_answered: bool,
    pub race: Option<Race>,
    /// Seconds without records before the initiator's first close signal.
    pub idle_before_first_signal: Option<f64>,
}

/// What kind of close signal came first from a side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    CloseNotify,
    Fatal,
    Fin,
    Rst,
}

/// A side's first close signal of any kind (an alert before a FIN in the
/// same segment comes first).
fn first_signal(v: &SideVerdict, d: DirView<'_>) -> Option<(SegMeta, Signal)> {
    let alert = |f: Option<Found>, s: Signal| f.map(|f| (f.at.frame, 0u8, f.at, s));
    let all = [
        alert(v.close_notify, Signal::CloseNotify),
        alert(v.fatal, Signal::Fatal),
        d.fin().map(|m| (m.frame, 1, m, Signal::Fin)),
        d.rst().map(|m| (m.frame, 1, m, Signal::Rst)),
    ];
    all.into_iter()
        .flatten()
        .min_by_key(|a| (a.0, a.1))
        .map(|a| (a.2, a.3))
}

/// Inputs for one side.
pub(super) struct Side<'a> {
    pub verdict: &'a SideVerdict,
    pub facts: DirView<'a>,
    /// This side's records were read with keys.
    pub keyed: bool,
}

pub(super) fn closing(client: Side<'_>, server: Side<'_>, reading: Reading) -> Closing {
    let side = |r: Role| if r == Role::Client { &client } else { &server };
    let signals =
        [Role::Client, Role::Server].map(|r| (r, first_signal(side(r).verdict, side(r).facts)));
    let first = signals
        .iter()
        .filter_map(|(r, s)| s.map(|s| (*r, s)))
        .min_by_key(|(_, (m, _))| m.frame);
    let initiator = first.map_or(Closer::None, |(r, _)| r.into());

    // the first close_notify, and the other side's after it
    let cn = |r: Role| side(r).verdict.close_notify.map(|c| c.at.frame);
    let close_notify_answered = match (cn(Role::Client), cn(Role::Server)) {
        (Some(c), Some(s)) => c != s,
        _ => false,
    };

    let idle_before_first_signal =
        first.and_then(|(by, (at, _))| idle_before(&client, &server, by, at));

    let race = first.and_then(|(by, (at, signal))| {
        // a reset connection is not one the peer could race
        if signal == Signal::Rst {
            return None;
        }
        race(side(by), side(by.peer()), by.peer(), at, reading)
    });
    Closing {
        initiator,
        close_notify_answered,
        race,
        idle_before_first_signal,
    }
}

/// The peer's application data after the initiator's first close signal
/// (`at`), when it is a race.
fn race(
    init: &Side<'_>,
    peer: &Side<'_>,
    peer_role: Role,
    at: SegMeta,
    reading: Reading,
) -> Option<Race> {
    let i = init.facts;
    let p = peer.facts;
    // the initiator's close_notify is its last record: the peer's first
    // data since then; otherwise the peer's first data after its FIN
    let after_cn = init
        .verdict
        .close_notify
        .filter(|c| c.index + 1 == i.records)
        .and(p.after_peer_record);
    let after_fin = i.fin().and(p.rare.after_peer_fin);
    let data: LateRecord = after_cn.or(after_fin)?;
    if data.at.frame <= at.frame {
        return None;
    }
    // the peer's own alert, deduced without keys (TLS 1.3, or the
    // version unknown)
    if !peer.keyed
        && reading.alerts_in_app_data()
        && data.index + 1 == p.records
        && TLS13_ALERT_LENGTHS.contains(&data.length)
    {
        return None;
    }
    // answered: the initiator sent application data after it
    if i.last_record().is_some_and(|r| r.at.frame > data.at.frame) {
        return None;
    }
    let rst_frame = i.rst().map(|m| m.frame).filter(|&f| f > data.at.frame);
    if peer_role == Role::Server {
        // the rest of a response after the client's close: a race only
        // when the client had closed for good (RST)
        rst_frame?;
        if !peer.keyed && reading == Reading::Tls13 {
            // possibly session tickets: the client sent nothing but its
            // Finished (and its close_notify)
            let cn_record = usize::from(init.verdict.close_notify.is_some());
            if i.app_records < 2 + cn_record as u64 {
                return None;
            }
        }
    }
    Some(Race {
        by: peer_role,
        frame: data.at.frame,
        window: data.at.clock.secs_since(at.clock).max(0.0),
        rst_frame,
        request: data.request,
    })
}
