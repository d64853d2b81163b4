//! The audit's bookkeeping: per server and per client network, counts,
//! idle-time sketches and a few example flows, turned into findings at the
//! end. Memory grows with servers and networks, never with flows.

use crate::evidence::{self, AbruptClose};
use crate::finding::{AbruptCloses, Example, Finding, FlowId, PerSide, Side, Subject};
use crate::idle::{tolerance, IdleCloses};
use crate::kinds::{
    abrupt_finding, client_reset_finding, no_close_notify_finding, race_finding, reset_finding,
    timeout_finding, truncation_finding,
};
use crate::units::secs;
use crate::wireshark::WiresharkFilter;
use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;
use tlsclose_analysis::{
    h2_error_name, AlertLabel, CloseNotify, Closer, Ending, FlowReport, HttpCloseKind, Role,
};

/// Example flows per finding by default (`--examples`).
pub const EXAMPLES: u16 = 3;

/// Example flows, the first `cap` in capture order.
#[derive(Debug)]
struct Examples {
    cap: usize,
    v: Vec<Example>,
}

/// Idle closes kept as candidate examples of a server's idle timeout; the
/// finding shows the first ones inside the timeout's cluster.
const IDLE_CANDIDATES: usize = 32;

impl Examples {
    fn new(cap: usize) -> Examples {
        Examples { cap, v: Vec::new() }
    }

    /// The first `n` candidates whose idle time is in `min..=max`.
    fn within(&self, min: f64, max: f64, n: usize) -> Vec<Example> {
        self.v
            .iter()
            .filter(|e| e.idle.is_some_and(|i| (min..=max).contains(&i)))
            .take(n)
            .cloned()
            .collect()
    }

    fn offer(&mut self, r: &FlowReport, key: FlowId, what: impl FnOnce() -> String) {
        self.offer_idle(r, key, None, what);
    }

    fn offer_idle(
        &mut self,
        r: &FlowReport,
        key: FlowId,
        idle: Option<f64>,
        what: impl FnOnce() -> String,
    ) {
        if self.cap == 0
            || (self.v.len() >= self.cap && self.v.last().is_some_and(|e| e.flow <= key))
        {
            return;
        }
        self.v.push(Example {
            flow: key,
            file: r.file.clone(),
            client: r.client.to_string(),
            server: r.server.to_string(),
            what: what(),
            wireshark_filter: wireshark_filter(r),
            idle,
        });
        self.v.sort_by_key(|e| e.flow);
        self.v.truncate(self.cap);
    }
}

fn wireshark_filter(r: &FlowReport) -> String {
    WiresharkFilter::of(r).to_string()
}

/// The client's network: its /24 (IPv4) or /64 (IPv6).
pub fn client_network(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(a) => {
            let [x, y, z, _] = a.octets();
            format!("{x}.{y}.{z}.0/24")
        }
        IpAddr::V6(a) => {
            let s = a.segments();
            let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
            format!("{net}/64")
        }
    }
}

/// Per server.
#[derive(Debug)]
struct ServerStats {
    flows: u64,
    server_idle: IdleCloses,
    client_idle: IdleCloses,
    /// Requests sent after the server's close.
    races: u64,
    race_min: Option<f64>,
    race_max: Option<f64>,
    /// Requests that reached the server just before it closed, never
    /// answered: the idle time its timer saw (from the traffic before the
    /// request to its close); a race when that is its idle timeout.
    unanswered: IdleCloses,
    unanswered_examples: Examples,
    race_examples: Examples,
    /// Idle connections the server reset.
    resets: IdleCloses,
    reset_examples: Examples,
    /// Flows with a close_notify from the server.
    server_close_notify: u64,
    /// Closes the server started or made without close_notify: FIN, RST.
    own_closes_fin: u64,
    own_closes_rst: u64,
    own_close_examples: Examples,
    /// Bare FIN right after the sender's own data, no close_notify from
    /// it; by sender: client, server.
    truncation: PerSide<u64>,
    truncation_examples: PerSide<Examples>,
    idle_examples: Examples,
    /// The server's abrupt closes, read with keys.
    abrupt: AbruptCloses,
    abrupt_examples: Examples,
}

impl ServerStats {
    fn new(examples: usize) -> ServerStats {
        ServerStats {
            flows: 0,
            server_idle: IdleCloses::default(),
            client_idle: IdleCloses::default(),
            races: 0,
            race_min: None,
            race_max: None,
            unanswered: IdleCloses::default(),
            unanswered_examples: Examples::new(IDLE_CANDIDATES),
            race_examples: Examples::new(examples),
            resets: IdleCloses::default(),
            reset_examples: Examples::new(examples),
            server_close_notify: 0,
            own_closes_fin: 0,
            own_closes_rst: 0,
            own_close_examples: Examples::new(examples),
            truncation: PerSide::default(),
            truncation_examples: PerSide::new(Examples::new(examples), Examples::new(examples)),
            idle_examples: Examples::new(IDLE_CANDIDATES),
            abrupt: AbruptCloses::default(),
            abrupt_examples: Examples::new(examples),
        }
    }
}

/// Per client network.
#[derive(Debug)]
struct ClientStats {
    flows: u64,
    resets: u64,
    resets_after_close_notify: u64,
    /// Client addresses seen, and those that reset.
    seen: HashSet<IpAddr>,
    resetting: HashSet<IpAddr>,
    examples: Examples,
}

/// Collects the evidence flow by flow; [`Auditor::findings`] rolls it up.
#[derive(Debug)]
pub struct Auditor {
    servers: BTreeMap<String, ServerStats>,
    clients: BTreeMap<String, ClientStats>,
    flows: u64,
    /// Example flows per finding (`--examples`).
    examples: usize,
}

impl Auditor {
    pub fn new(examples: usize) -> Auditor {
        Auditor {
            servers: BTreeMap::new(),
            clients: BTreeMap::new(),
            flows: 0,
            examples,
        }
    }

    /// Flows counted.
    pub fn flows(&self) -> u64 {
        self.flows
    }

    /// Counts one flow (`key`: its id, `--flow N`).
    pub fn add(&mut self, r: &FlowReport, key: FlowId) {
        self.flows += 1;
        let n = self.examples;
        let s = self
            .servers
            .entry(r.server.to_string())
            .or_insert_with(|| ServerStats::new(n));
        s.flows += 1;
        let server_cn = r.server_close_notify != CloseNotify::None;
        s.server_close_notify += u64::from(server_cn);
        if let Some(idle) = r.idle_before_first_signal {
            match r.initiator {
                Closer::Server => {
                    s.server_idle.add(idle);
                    if !r.keepalive_race {
                        s.idle_examples.offer_idle(r, key, Some(idle), || {
                            format!("the server closed after {} idle", secs(idle))
                        });
                    }
                }
                Closer::Client => s.client_idle.add(idle),
                Closer::None => {}
            }
        }
        if r.keepalive_race {
            s.races += 1;
            if let Some(w) = r.race_window_s {
                s.race_min = Some(s.race_min.map_or(w, |m: f64| m.min(w)));
                s.race_max = Some(s.race_max.map_or(w, |m: f64| m.max(w)));
            }
            let what = match r.initiator {
                Closer::Client => "data",
                _ => "request",
            };
            s.race_examples.offer(r, key, || {
                format!(
                    "{what} {} after the close",
                    r.race_window_s.map_or_else(|| "-".into(), secs),
                )
            });
        } else if let Some(u) = evidence::unanswered_request(r) {
            s.unanswered.add(u.timer);
            s.unanswered_examples.offer_idle(r, key, Some(u.timer), || {
                format!(
                    "request {} before the close, no answer",
                    secs(u.before_close)
                )
            });
        }
        if let Some(idle) = evidence::idle_reset(r) {
            s.resets.add(idle);
            s.reset_examples.offer(r, key, || {
                format!("the server's RST after {} idle", secs(idle))
            });
        }
        // the server's own closes without close_notify
        let server_closed = r.initiator == Closer::Server || r.closer == Closer::Server;
        if server_closed && !server_cn {
            if r.ending == Ending::Rst && r.closer == Closer::Server {
                s.own_closes_rst += 1;
            } else {
                s.own_closes_fin += 1;
            }
            s.own_close_examples.offer(r, key, || {
                format!(
                    "{} by the server, no close_notify from it",
                    if r.ending == Ending::Rst {
                        "RST"
                    } else {
                        "closed"
                    }
                )
            });
        }
        // truncation risk: a bare FIN from a side that never sent
        // close_notify, that started the close itself (a FIN answering the
        // peer's close_notify cuts nothing), right after its own data that
        // nothing answered (after the peer's answer it cuts nothing either)
        if r.response_truncated == Some(true)
            && r.ending == Ending::FinOnly
            && r.closer == Closer::Server
        {
            // read with keys: the server's bare FIN cut a response short
            // (docs/ENDINGS.md, "Why it closed"); a client that gave up on
            // a response cut nothing it wanted
            *s.truncation.get_mut(Side::Server) += 1;
            s.truncation_examples
                .get_mut(Side::Server)
                .offer(r, key, || {
                    "a response cut short by its bare FIN (read with keys)".into()
                });
        } else if r.response_truncated.is_none()
            && r.ending == Ending::FinOnly
            && r.closer == r.initiator
        {
            if let Some(side) = Side::of(r.closer) {
                let (cn, bytes) = match side {
                    Side::Client => (r.client_close_notify, r.app_bytes[0]),
                    Side::Server => (r.server_close_notify, r.app_bytes[1]),
                };
                if cn == CloseNotify::None && bytes > 0 && evidence::truncation_possible(r) {
                    *s.truncation.get_mut(side) += 1;
                    s.truncation_examples
                        .get_mut(side)
                        .offer(r, key, || format!("bare FIN right after its {bytes} bytes"));
                }
            }
        }
        // the server's abrupt closes, read with keys (without, none)
        if let Some(a) = evidence::abrupt_close(r) {
            *match a {
                AbruptClose::Announced { close, rst } => match (close.kind, rst) {
                    (HttpCloseKind::Goaway, false) => &mut s.abrupt.goaway_then_fin,
                    (HttpCloseKind::Goaway, true) => &mut s.abrupt.goaway_then_rst,
                    (HttpCloseKind::ConnectionClose, false) => {
                        &mut s.abrupt.connection_close_then_fin
                    }
                    (HttpCloseKind::ConnectionClose, true) => {
                        &mut s.abrupt.connection_close_then_rst
                    }
                },
                AbruptClose::RstOutstanding => &mut s.abrupt.rst_request_outstanding,
            } += 1;
            s.abrupt_examples.offer(r, key, || abrupt_words(r, a));
        }
        let c = self
            .clients
            .entry(client_network(r.client.ip))
            .or_insert_with(|| ClientStats {
                flows: 0,
                resets: 0,
                resets_after_close_notify: 0,
                seen: HashSet::new(),
                resetting: HashSet::new(),
                examples: Examples::new(n),
            });
        c.flows += 1;
        c.seen.insert(r.client.ip);
        if r.ending == Ending::Rst && r.closer == Closer::Client && r.initiator == Closer::Client {
            c.resets += 1;
            c.resetting.insert(r.client.ip);
            let after_cn = r.client_close_notify != CloseNotify::None;
            c.resets_after_close_notify += u64::from(after_cn);
            c.examples.offer(r, key, || {
                format!(
                    "RST {}",
                    if after_cn {
                        "after its close_notify"
                    } else {
                        "instead of a FIN"
                    }
                )
            });
        }
    }

    /// The findings, most serious first.
    pub fn findings(&self) -> Vec<Finding> {
        let mut v = Vec::new();
        let n = self.examples;
        // per server: what it shows
        let mut races = Vec::new();
        let mut resets = Vec::new();
        let mut truncations: PerSide<Vec<Subject>> = PerSide::default();
        let mut no_cn = Vec::new();
        let mut timeouts = Vec::new();
        let mut abrupt = Vec::new();
        for (addr, s) in &self.servers {
            let timeout = s.server_idle.timeout();
            let client_timeout = s.client_idle.timeout();
            let subject = |count: u64| {
                Subject::new(addr.clone(), count, s.flows).with_timeouts(
                    timeout,
                    s.server_idle.len(),
                    client_timeout,
                )
            };
            // unanswered requests race the timer when its close came at the
            // idle timeout, as if the request had not been seen
            let (lo, hi) = timeout.map_or((1.0, 0.0), |t| {
                if t.sweep {
                    (t.min, t.max)
                } else {
                    (t.min - tolerance(t.min), t.max + tolerance(t.max))
                }
            });
            let unanswered = s.unanswered.count_within(lo, hi);
            let raced = s.races + unanswered;
            if raced > 0 {
                let mut x = subject(raced);
                x.races_after_close = Some(s.races);
                x.unanswered_before_close = Some(unanswered);
                x.race_window_min_s = s.race_min;
                x.race_window_max_s = s.race_max;
                x.examples = s.race_examples.v.clone();
                x.examples.extend(s.unanswered_examples.within(lo, hi, n));
                x.examples.sort_by_key(|e| e.flow);
                x.examples.truncate(n);
                races.push(x);
            }
            if !s.resets.is_empty() {
                let reset_timeout = s.resets.timeout();
                let mut x = Subject::new(addr.clone(), s.resets.len() as u64, s.flows)
                    .with_timeouts(reset_timeout, s.server_idle.len(), client_timeout);
                x.examples = s.reset_examples.v.clone();
                resets.push(x);
            } else if raced == 0 {
                if let Some(t) = timeout {
                    let mut x = subject(t.closes);
                    x.examples = s.idle_examples.within(t.min, t.max, n);
                    timeouts.push(x);
                }
            }
            for side in [Side::Server, Side::Client] {
                let count = *s.truncation.get(side);
                if count == 0 {
                    continue;
                }
                let mut x = Subject::new(addr.clone(), count, s.flows);
                x.closer = Some(side);
                x.examples = s.truncation_examples.get(side).v.clone();
                truncations.get_mut(side).push(x);
            }
            if s.abrupt.total() > 0 {
                let mut x = Subject::new(addr.clone(), s.abrupt.total(), s.flows);
                x.abrupt_closes = Some(s.abrupt);
                x.examples = s.abrupt_examples.v.clone();
                abrupt.push(x);
            }
            let own = s.own_closes_fin + s.own_closes_rst;
            if s.server_close_notify == 0 && own > 0 {
                let mut x = Subject::new(addr.clone(), own, s.flows);
                x.examples = s.own_close_examples.v.clone();
                no_cn.push(x);
            }
        }
        if !races.is_empty() {
            v.push(race_finding(races, n));
        }
        if !resets.is_empty() {
            v.push(reset_finding(resets, n));
        }
        let PerSide {
            client: client_fins,
            server: server_fins,
        } = truncations;
        for (list, side) in [(server_fins, Side::Server), (client_fins, Side::Client)] {
            if !list.is_empty() {
                v.push(truncation_finding(list, side, n));
            }
        }
        if !no_cn.is_empty() {
            let own: u64 = no_cn.iter().map(|x| x.count).sum();
            let (fin, rst) = self
                .servers
                .iter()
                .filter(|(a, _)| no_cn.iter().any(|x| &x.subject == *a))
                .fold((0, 0), |(f, r), (_, s)| {
                    (f + s.own_closes_fin, r + s.own_closes_rst)
                });
            v.push(no_close_notify_finding(no_cn, own, fin, rst, n));
        }
        if !abrupt.is_empty() {
            v.push(abrupt_finding(abrupt, n));
        }
        let mut nets = Vec::new();
        let mut after_cn = 0;
        for (net, c) in &self.clients {
            if c.resets == 0 {
                continue;
            }
            after_cn += c.resets_after_close_notify;
            let mut x = Subject::new(net.clone(), c.resets, c.flows);
            x.clients = Some(c.resetting.len() as u64);
            x.clients_seen = Some(c.seen.len() as u64);
            x.examples = c.examples.v.clone();
            nets.push(x);
        }
        if !nets.is_empty() {
            v.push(client_reset_finding(nets, after_cn, n));
        }
        if !timeouts.is_empty() {
            v.push(timeout_finding(timeouts, n));
        }
        v.sort_by(|a, b| {
            a.severity
                .cmp(&b.severity)
                .then(a.finding.cmp(&b.finding))
                .then(b.count.cmp(&a.count))
        });
        v
    }
}

/// What an abrupt close shows, for its example: `GOAWAY (NO_ERROR, last
/// stream 1) at frame 125, then the server's bare FIN at frame 126 with no
/// close_notify; the client answered fatal:decode_error`.
fn abrupt_words(r: &FlowReport, a: AbruptClose) -> String {
    let end = match r.teardown {
        Some(t) if t.kind == tlsclose_analysis::TeardownKind::Rst => {
            format!("the server's RST at frame {}", t.frame)
        }
        Some(t) => format!("the server's bare FIN at frame {}", t.frame),
        None => "the server's close".into(),
    };
    let mut w = match a {
        AbruptClose::Announced { close, .. } => {
            let by = match close.by {
                Role::Client => "the client's ",
                Role::Server => "",
            };
            let what = match close.kind {
                HttpCloseKind::Goaway => {
                    let error = close.error_code.map(|c| {
                        h2_error_name(c).map_or_else(|| format!("0x{c:x}"), str::to_string)
                    });
                    let detail: Vec<String> = error
                        .into_iter()
                        .chain(close.last_stream_id.map(|l| format!("last stream {l}")))
                        .collect();
                    if detail.is_empty() {
                        "GOAWAY".to_string()
                    } else {
                        format!("GOAWAY ({})", detail.join(", "))
                    }
                }
                HttpCloseKind::ConnectionClose => "Connection: close".to_string(),
            };
            format!(
                "{by}{what} at frame {}, then {end} with no close_notify",
                close.frame
            )
        }
        AbruptClose::RstOutstanding => {
            format!("{end} with a request outstanding, nothing announced")
        }
    };
    let fatal =
        r.alerts.client.iter().find(
            |a| matches!(a, AlertLabel::Read(x) if x.level == tlsclose_tls::AlertLevel::FATAL),
        );
    if let Some(f) = fatal {
        w.push_str(&format!("; the client answered {f}"));
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::FindingKind;
    use crate::fixture::{flow, keyed, reset_by};
    use tlsclose_analysis::CloseKind;

    fn abrupt_of(a: &Auditor) -> Option<Finding> {
        a.findings()
            .into_iter()
            .find(|f| f.finding == FindingKind::AbruptClose)
    }

    #[test]
    fn abrupt_closes_counted_per_server_by_what_they_show() {
        let mut a = Auditor::new(EXAMPLES.into());
        let mut port = 0;
        let mut add = |a: &mut Auditor, r: FlowReport| {
            port += 1;
            a.add(&r, port);
        };
        // server 443: GOAWAY then its bare FIN, twice; GOAWAY then its RST
        for p in [1, 2] {
            add(
                &mut a,
                keyed(flow(443, p), CloseKind::Abrupt, Some(Role::Server)),
            );
        }
        add(
            &mut a,
            reset_by(
                keyed(flow(443, 3), CloseKind::Abrupt, Some(Role::Server)),
                Closer::Server,
            ),
        );
        // a graceful and an idle close: not abrupt
        add(
            &mut a,
            keyed(flow(443, 4), CloseKind::Graceful, Some(Role::Server)),
        );
        add(&mut a, keyed(flow(443, 5), CloseKind::Idle, None));
        // server 8443: its RST with a request outstanding, nothing announced
        add(
            &mut a,
            reset_by(
                keyed(flow(8443, 6), CloseKind::Abrupt, None),
                Closer::Server,
            ),
        );
        // not the servers': a client that gave up on a response (its RST)
        add(
            &mut a,
            reset_by(
                keyed(flow(8443, 7), CloseKind::Abrupt, None),
                Closer::Client,
            ),
        );
        // the server's bare FIN cutting a response, nothing announced
        // (truncation-risk's), and a GOAWAY after the close
        add(&mut a, keyed(flow(8443, 8), CloseKind::Abrupt, None));
        let mut late = keyed(flow(8443, 9), CloseKind::Abrupt, Some(Role::Server));
        if let Some(c) = late.http.as_mut().and_then(|h| h.close.as_mut()) {
            c.frame = 21;
        }
        add(&mut a, late);
        let f = abrupt_of(&a).expect("an abrupt-close finding");
        assert_eq!(f.severity, crate::Severity::Warning);
        assert_eq!((f.count, f.subjects, f.flows), (4, 2, 9));
        let s443 = &f.by_subject[0];
        assert_eq!(s443.subject, "10.0.0.1:443");
        assert_eq!((s443.count, s443.flows), (3, 5));
        assert_eq!(
            s443.abrupt_closes,
            Some(AbruptCloses {
                goaway_then_fin: 2,
                goaway_then_rst: 1,
                ..AbruptCloses::default()
            })
        );
        assert_eq!(s443.examples.len(), 3);
        assert!(
            s443.examples[0]
                .what
                .starts_with("GOAWAY (NO_ERROR, last stream 1) at frame 19, then the server's bare FIN at frame 20"),
            "{:?}",
            s443.examples[0]
        );
        let s8443 = &f.by_subject[1];
        assert_eq!((s8443.count, s8443.flows), (1, 4));
        assert_eq!(
            s8443.abrupt_closes,
            Some(AbruptCloses {
                rst_request_outstanding: 1,
                ..AbruptCloses::default()
            })
        );
        assert!(
            f.title
                .starts_with("2 servers closed 4 connections abruptly"),
            "{}",
            f.title
        );
        assert!(
            f.evidence.contains(
                "10.0.0.1:443 shows GOAWAY then a bare FIN (2) and GOAWAY then an RST (1); \
                 10.0.0.1:8443 shows an RST with a request outstanding (1), with no close_notify"
            ),
            "{}",
            f.evidence
        );
        assert!(f.fix.as_deref().is_some_and(|x| x.contains("SO_LINGER 0")));
    }

    #[test]
    fn without_keys_no_abrupt_close_is_claimed() {
        let mut a = Auditor::new(EXAMPLES.into());
        // a server's bare FIN and a server's RST, read without keys
        a.add(&flow(443, 1), 1);
        a.add(&reset_by(flow(443, 2), Closer::Server), 2);
        assert!(abrupt_of(&a).is_none());
        // read with keys, one server that shows one shape: named in the title
        a.add(
            &keyed(flow(443, 3), CloseKind::Abrupt, Some(Role::Server)),
            3,
        );
        let f = abrupt_of(&a).expect("an abrupt-close finding");
        assert_eq!(
            f.title,
            "server 10.0.0.1:443 sends GOAWAY then a bare FIN (no close_notify): clients see an \
             unexpected EOF"
        );
        assert_eq!((f.count, f.flows), (1, 3));
    }

    #[test]
    fn client_networks_are_24s_and_64s() {
        assert_eq!(
            client_network("10.1.2.3".parse().unwrap_or(IpAddr::from([0u8; 4]))),
            "10.1.2.0/24"
        );
        assert_eq!(
            client_network(
                "2001:db8:1:2:3::4"
                    .parse()
                    .unwrap_or(IpAddr::from([0u8; 4]))
            ),
            "2001:db8:1:2::/64"
        );
    }
}
