//! `--audit`: a proxy's shutdown traffic as a short answer. Findings are
//! rolled up by kind: one finding per kind, with its counts, the servers
//! (or client networks, /24 or /64) it concerns most first, `--examples`
//! example flows (their `--flow` numbers and Wireshark filters) and what to
//! do about it. Most severe first.
//!
//! Kinds (`--fail-on-finding KIND`):
//! - `keepalive-race`: requests that raced a server's close of an idle
//!   connection: sent after it (answered by RST or never), or reaching the
//!   server just before it and never answered;
//! - `idle-reset`: a server that resets idle connections (RST, with no
//!   close_notify and no FIN);
//! - `truncation-risk`: bare FINs right after a side's own data, which
//!   nothing answered (the peer cannot tell a cut from an end); with keys
//!   (the HTTP read), only a server's bare FIN that cut a response short;
//! - `no-close-notify`: servers that closed connections themselves and
//!   never sent close_notify;
//! - `client-reset`: clients that reset connections instead of closing
//!   them, by network;
//! - `idle-timeout`: servers' idle timeouts, when nothing raced them.
//!
//! Memory: counts and idle-time sketches per server and per client
//! network, and at most `--examples` example flows per server and kind.

use crate::cli::Format;
use crate::evidence;
use crate::human::{format_secs, percent, plural};
use crate::idle::{tolerance, IdleCloses, IdleTimeout};
use crate::md;
use crate::sink::{Flow, ReportSink, RunEnd, SummaryLine};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::io::{self, Write};
use std::net::IpAddr;
use tlsclose_analysis::{CloseNotify, Closer, Ending, FlowReport};

/// Example flows per finding by default (`--examples`).
pub const EXAMPLES: u16 = 3;

/// Servers (or client networks) a finding names in the text before it
/// counts the others; the JSON lists them all.
const TOP: usize = 3;

/// The same in Markdown.
const TOP_MARKDOWN: usize = 10;

/// The kinds of finding, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum)]
pub enum FindingKind {
    /// requests that raced a server's close of an idle connection
    #[value(name = "keepalive-race")]
    KeepaliveRace,
    /// a server that resets idle connections (RST, no close_notify, no FIN)
    #[value(name = "idle-reset")]
    IdleReset,
    /// bare FIN right after a side's own data, without close_notify
    #[value(name = "truncation-risk")]
    TruncationRisk,
    /// a server that closes without ever sending close_notify
    #[value(name = "no-close-notify")]
    NoCloseNotify,
    /// clients that reset connections instead of closing them
    #[value(name = "client-reset")]
    ClientReset,
    /// a server's idle timeout (information)
    #[value(name = "idle-timeout")]
    IdleTimeout,
}

impl FindingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::KeepaliveRace => "keepalive-race",
            FindingKind::IdleReset => "idle-reset",
            FindingKind::TruncationRisk => "truncation-risk",
            FindingKind::NoCloseNotify => "no-close-notify",
            FindingKind::ClientReset => "client-reset",
            FindingKind::IdleTimeout => "idle-timeout",
        }
    }

    pub fn severity(self) -> &'static str {
        match self {
            FindingKind::KeepaliveRace
            | FindingKind::IdleReset
            | FindingKind::TruncationRisk
            | FindingKind::NoCloseNotify => "warning",
            FindingKind::ClientReset => "notice",
            FindingKind::IdleTimeout => "info",
        }
    }
}

/// A flow given as evidence: where it is and what it shows.
#[derive(Debug, Clone, Serialize)]
pub struct Example {
    /// Its `--flow` number (null when flows were not numbered).
    pub flow: Option<u64>,
    pub file: String,
    pub client: String,
    pub server: String,
    /// What this flow shows, in words.
    pub what: String,
    pub wireshark_filter: String,
    #[serde(skip)]
    key: (usize, u64),
    /// The idle time it shows (idle-timeout candidates).
    #[serde(skip)]
    idle: Option<f64>,
}

/// A server (or client network) a finding concerns, with its counts.
#[derive(Debug, Clone, Serialize)]
pub struct Subject {
    /// The server (`ip:port`) or the client network (`a.b.c.0/24`, `x:y::/64`).
    pub subject: String,
    /// Flows that show the finding.
    pub count: u64,
    /// Flows of this server or network.
    pub flows: u64,
    /// client-reset: the network's client addresses that reset, of how many.
    pub clients: Option<u64>,
    pub clients_seen: Option<u64>,
    /// truncation-risk: whose bare FIN (`server` or `client`).
    pub closer: Option<&'static str>,
    /// The server's idle timeout: the closes' median (exact), or the
    /// floor of a periodic sweep (see `server_idle_timeout_sweep_s`).
    pub server_idle_timeout_s: Option<f64>,
    /// A sweeping server's closes spread over [first, last] seconds after
    /// the last traffic (null: an exact timeout, or none).
    pub server_idle_timeout_sweep_s: Option<[f64; 2]>,
    /// Idle closes by the server that agree on it, of how many.
    pub server_idle_timeout_closes: Option<u64>,
    pub server_idle_closes: Option<u64>,
    /// The clients' idle timeout towards this server, seconds.
    pub client_idle_timeout_s: Option<f64>,
    /// keepalive-race: requests sent after the server's close, and
    /// requests that reached it before its close and were never answered.
    pub races_after_close: Option<u64>,
    pub unanswered_before_close: Option<u64>,
    /// keepalive-race: shortest and longest time from the close to a
    /// request sent after it, seconds.
    pub race_window_min_s: Option<f64>,
    pub race_window_max_s: Option<f64>,
    #[serde(skip)]
    examples: Vec<Example>,
    #[serde(skip)]
    timeout: Option<IdleTimeout>,
}

impl Subject {
    fn new(subject: String, count: u64, flows: u64) -> Subject {
        Subject {
            subject,
            count,
            flows,
            clients: None,
            clients_seen: None,
            closer: None,
            server_idle_timeout_s: None,
            server_idle_timeout_sweep_s: None,
            server_idle_timeout_closes: None,
            server_idle_closes: None,
            client_idle_timeout_s: None,
            races_after_close: None,
            unanswered_before_close: None,
            race_window_min_s: None,
            race_window_max_s: None,
            examples: Vec::new(),
            timeout: None,
        }
    }

    /// With a server's idle timeouts (`server` found on `closes` idle closes).
    fn with_timeouts(
        mut self,
        server: Option<IdleTimeout>,
        closes: usize,
        client: Option<IdleTimeout>,
    ) -> Subject {
        self.server_idle_timeout_s = server.map(|t| t.seconds);
        self.server_idle_timeout_sweep_s = server.and_then(|t| t.sweep.then_some([t.min, t.max]));
        self.server_idle_timeout_closes = server.map(|t| t.closes);
        self.server_idle_closes = Some(closes as u64);
        self.client_idle_timeout_s = client.map(|t| t.seconds);
        self.timeout = server;
        self
    }
}

/// One finding: a kind, rolled up over the servers or networks it concerns.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub finding: &'static str,
    pub severity: &'static str,
    /// `server` or `client network`: what `by_subject` lists.
    pub subject: &'static str,
    /// One sentence.
    pub title: String,
    /// The counts behind it, in words.
    pub evidence: String,
    /// What to do about it (null for information).
    pub fix: Option<String>,
    /// Flows that show it, of `flows` of the subjects.
    pub count: u64,
    pub flows: u64,
    /// Servers or networks it concerns (`by_subject` has each).
    pub subjects: u64,
    /// keepalive-race: shortest and longest time from a close to a request
    /// sent after it, seconds.
    pub race_window_min_s: Option<f64>,
    pub race_window_max_s: Option<f64>,
    /// Every server or network, most flows showing it first.
    pub by_subject: Vec<Subject>,
    /// At most `--examples`, from the first servers or networks.
    pub examples: Vec<Example>,
    #[serde(skip)]
    kind: FindingKind,
}

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

    fn offer(&mut self, f: &Flow, what: impl FnOnce() -> String) {
        self.offer_idle(f, None, what);
    }

    fn offer_idle(&mut self, f: &Flow, idle: Option<f64>, what: impl FnOnce() -> String) {
        let key = f.key();
        if self.cap == 0
            || (self.v.len() >= self.cap && self.v.last().is_some_and(|e| e.key <= key))
        {
            return;
        }
        let r = &f.report;
        self.v.push(Example {
            flow: None,
            file: r.file.clone(),
            client: r.client.to_string(),
            server: r.server.to_string(),
            what: what(),
            wireshark_filter: wireshark_filter(r),
            key,
            idle,
        });
        self.v.sort_by_key(|e| e.key);
        self.v.truncate(self.cap);
    }
}

fn wireshark_filter(r: &FlowReport) -> String {
    crate::words::WiresharkFilter::of(r).to_string()
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
    truncation: [u64; 2],
    truncation_examples: [Examples; 2],
    idle_examples: Examples,
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
            truncation: [0; 2],
            truncation_examples: [Examples::new(examples), Examples::new(examples)],
            idle_examples: Examples::new(IDLE_CANDIDATES),
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

/// Collects the evidence and writes the findings at the end of the run.
pub struct AuditSink {
    out: Box<dyn Write>,
    format: Format,
    servers: BTreeMap<String, ServerStats>,
    clients: BTreeMap<String, ClientStats>,
    flows: u64,
    /// Example flows per finding (`--examples`).
    examples: usize,
    fail_on: Vec<FindingKind>,
    /// Findings of a `--fail-on-finding` kind (known after `finish`).
    pub failing: u64,
    /// Why, in words (see [`ReportSink::failing_why`]).
    failing_why: Option<String>,
    /// The terminal's width: the text is wrapped at words to it.
    width: Option<usize>,
}

/// Seconds as the audit writes them: `2.00s`, `12.5s`, `350ms`.
pub fn secs(s: f64) -> String {
    if s >= 10.0 {
        format!("{s:.1}s")
    } else if s >= 1.0 {
        format!("{s:.2}s")
    } else {
        format_secs(s)
    }
}

/// A timeout in words: `2.00s`, or for a sweeping server `≈3s (closes
/// 3.1s to 4.7s after the last traffic: a periodic sweep)`; `short`
/// leaves the explanation out.
pub fn timeout_text(t: &IdleTimeout, short: bool) -> String {
    if !t.sweep {
        return secs(t.seconds);
    }
    let floor = format!("≈{}", crate::idle::round_secs(t.seconds));
    if short {
        format!("{floor} (sweep {}–{})", spread(t.min), spread(t.max))
    } else {
        format!(
            "{floor} (closes {} to {} after the last traffic: a periodic sweep)",
            spread(t.min),
            spread(t.max)
        )
    }
}

/// A sweep's bound: one decimal from a second up.
fn spread(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.1}s")
    } else {
        format_secs(s)
    }
}

impl AuditSink {
    pub fn new(
        out: Box<dyn Write>,
        format: Format,
        fail_on: Vec<FindingKind>,
        width: Option<usize>,
        examples: usize,
    ) -> Self {
        AuditSink {
            out,
            format,
            servers: BTreeMap::new(),
            clients: BTreeMap::new(),
            flows: 0,
            examples,
            fail_on,
            failing: 0,
            failing_why: None,
            width,
        }
    }

    fn add(&mut self, f: &Flow) {
        let r = &f.report;
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
                        s.idle_examples.offer_idle(f, Some(idle), || {
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
            s.race_examples.offer(f, || {
                format!(
                    "{what} {} after the close",
                    r.race_window_s.map_or_else(|| "-".into(), secs),
                )
            });
        } else if let Some(u) = evidence::unanswered_request(r) {
            s.unanswered.add(u.timer);
            s.unanswered_examples.offer_idle(f, Some(u.timer), || {
                format!(
                    "request {} before the close, no answer",
                    secs(u.before_close)
                )
            });
        }
        if let Some(idle) = evidence::idle_reset(r) {
            s.resets.add(idle);
            s.reset_examples
                .offer(f, || format!("the server's RST after {} idle", secs(idle)));
        }
        // the server's own closes without close_notify
        let server_closed = r.initiator == Closer::Server || r.closer == Closer::Server;
        if server_closed && !server_cn {
            if r.ending == Ending::Rst && r.closer == Closer::Server {
                s.own_closes_rst += 1;
            } else {
                s.own_closes_fin += 1;
            }
            s.own_close_examples.offer(f, || {
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
            if let (Some(n), Some(ex)) = (s.truncation.get_mut(1), s.truncation_examples.get_mut(1))
            {
                *n += 1;
                ex.offer(f, || {
                    "a response cut short by its bare FIN (read with keys)".into()
                });
            }
        } else if r.response_truncated.is_none()
            && r.ending == Ending::FinOnly
            && r.closer == r.initiator
        {
            let (i, cn, bytes) = match r.closer {
                Closer::Client => (0, r.client_close_notify, r.app_bytes[0]),
                Closer::Server => (1, r.server_close_notify, r.app_bytes[1]),
                Closer::None => (2, CloseNotify::None, 0),
            };
            if cn == CloseNotify::None && bytes > 0 && evidence::truncation_possible(r) {
                if let (Some(n), Some(ex)) =
                    (s.truncation.get_mut(i), s.truncation_examples.get_mut(i))
                {
                    *n += 1;
                    ex.offer(f, || format!("bare FIN right after its {bytes} bytes"));
                }
            }
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
            c.examples.offer(f, || {
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
        let mut truncations: [Vec<Subject>; 2] = [Vec::new(), Vec::new()];
        let mut no_cn = Vec::new();
        let mut timeouts = Vec::new();
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
                x.examples.sort_by_key(|e| e.key);
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
            for (i, who) in [(1usize, "server"), (0, "client")] {
                let count = s.truncation.get(i).copied().unwrap_or(0);
                if count == 0 {
                    continue;
                }
                let mut x = Subject::new(addr.clone(), count, s.flows);
                x.closer = Some(who);
                x.examples = s
                    .truncation_examples
                    .get(i)
                    .map(|e| e.v.clone())
                    .unwrap_or_default();
                if let Some(list) = truncations.get_mut(i) {
                    list.push(x);
                }
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
        let [client_fins, server_fins] = truncations;
        for (list, who) in [(server_fins, "server"), (client_fins, "client")] {
            if !list.is_empty() {
                v.push(truncation_finding(list, who, n));
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
            severity_rank(a.severity)
                .cmp(&severity_rank(b.severity))
                .then(a.kind.cmp(&b.kind))
                .then(b.count.cmp(&a.count))
        });
        v
    }
}

fn severity_rank(s: &str) -> u8 {
    match s {
        "warning" => 0,
        "notice" => 1,
        _ => 2,
    }
}

/// A finding of `kind` over `subjects` (sorted here, most flows first);
/// its examples are the first of each subject in turn, `n` in all.
fn rollup(
    kind: FindingKind,
    subject: &'static str,
    mut subjects: Vec<Subject>,
    n: usize,
    words: impl FnOnce(&[Subject]) -> (String, String, Option<String>),
) -> Finding {
    subjects.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.subject.cmp(&b.subject))
    });
    let mut examples = Vec::new();
    let most = subjects.iter().map(|s| s.examples.len()).max().unwrap_or(0);
    'pick: for round in 0..most {
        for s in &subjects {
            if examples.len() >= n {
                break 'pick;
            }
            if let Some(e) = s.examples.get(round) {
                examples.push(e.clone());
            }
        }
    }
    let (title, evidence, fix) = words(&subjects);
    let count = subjects.iter().map(|s| s.count).sum();
    let flows = subjects.iter().map(|s| s.flows).sum();
    let window = |f: fn(&Subject) -> Option<f64>, min: bool| {
        subjects
            .iter()
            .filter_map(f)
            .fold(None, |m: Option<f64>, w| {
                Some(m.map_or(w, |m| if min { m.min(w) } else { m.max(w) }))
            })
    };
    Finding {
        finding: kind.as_str(),
        severity: kind.severity(),
        subject,
        title,
        evidence,
        fix,
        count,
        flows,
        subjects: subjects.len() as u64,
        race_window_min_s: window(|s| s.race_window_min_s, true),
        race_window_max_s: window(|s| s.race_window_max_s, false),
        by_subject: subjects,
        examples,
        kind,
    }
}

fn total(s: &[Subject], f: fn(&Subject) -> Option<u64>) -> u64 {
    s.iter().filter_map(f).sum()
}

/// `2.00s (127.0.0.1:8443, 8 of 8 idle closes), 1.50s (3 servers, …) and
/// 2 more`: the timeouts found, servers with the same one together, in the
/// subjects' order, at most [`TOP`] named.
fn timeouts_named(s: &[Subject]) -> Option<String> {
    // servers with the same timeout (as written) together, in order
    let mut groups: Vec<(String, Vec<&Subject>, u64, u64)> = Vec::new();
    for x in s {
        let Some(t) = x.timeout.filter(|t| solid(t, s.len())) else {
            continue;
        };
        let text = timeout_text(&t, true);
        match groups.iter_mut().find(|g| g.0 == text) {
            Some(g) => {
                g.1.push(x);
                g.2 += t.closes;
                g.3 += t.of;
            }
            None => groups.push((text, vec![x], t.closes, t.of)),
        }
    }
    if groups.is_empty() {
        return None;
    }
    let more = groups.len().saturating_sub(TOP);
    let mut list: Vec<String> = groups
        .iter()
        .take(TOP)
        .map(|(text, servers, closes, of)| match servers.as_slice() {
            [one] => format!("{text} ({}, {closes} of {of} idle closes)", one.subject),
            _ => format!(
                "{text} ({} servers, {closes} of their {of} idle closes)",
                servers.len()
            ),
        })
        .collect();
    if more > 0 {
        list.push(format!("{more} more"));
    }
    Some(join_and(&list))
}

/// A timeout worth naming in a finding over `subjects` servers: any for
/// one server; over several, one that at least 3 closes agree on, not 1
/// or 2 closes at random moments.
fn solid(t: &IdleTimeout, subjects: usize) -> bool {
    subjects == 1 || t.closes >= 3
}

/// `a`, `a and b`, `a, b and c`.
pub fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The distinct timeouts of the subjects, shortest last: `2.00s, 1.50s and
/// 1.00s`.
fn timeout_values(s: &[Subject]) -> Vec<IdleTimeout> {
    let mut t: Vec<IdleTimeout> = s
        .iter()
        .filter_map(|x| x.timeout)
        .filter(|t| solid(t, s.len()))
        .collect();
    t.sort_by(|a, b| b.seconds.total_cmp(&a.seconds));
    t.dedup_by(|a, b| timeout_text(a, true) == timeout_text(b, true));
    t
}

fn race_finding(subjects: Vec<Subject>, n: usize) -> Finding {
    rollup(FindingKind::KeepaliveRace, "server", subjects, n, |s| {
        let count: u64 = s.iter().map(|x| x.count).sum();
        let flows: u64 = s.iter().map(|x| x.flows).sum();
        let after = total(s, |x| x.races_after_close);
        let before = total(s, |x| x.unanswered_before_close);
        let values = timeout_values(s);
        let listed: Vec<String> = values.iter().map(|t| timeout_text(t, true)).collect();
        let title = match s {
            [one] => format!(
                "{count} request{} raced server {}'s close of an idle connection{}",
                plural(count),
                one.subject,
                one.timeout.map_or_else(String::new, |t| format!(
                    " (its idle timeout: {})",
                    timeout_text(&t, true)
                )),
            ),
            _ => format!(
                "{count} request{} raced {} servers' closes of idle connections{}",
                plural(count),
                s.len(),
                if listed.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (idle timeout{} {})",
                        plural(listed.len() as u64),
                        join_and(&listed)
                    )
                }
            ),
        };
        let min = s
            .iter()
            .filter_map(|x| x.race_window_min_s)
            .reduce(f64::min);
        let max = s
            .iter()
            .filter_map(|x| x.race_window_max_s)
            .reduce(f64::max);
        let window = match (min, max) {
            (Some(a), Some(b)) if (b - a).abs() < 1e-9 => secs(a),
            (Some(a), Some(b)) => format!("{} to {}", secs(a), secs(b)),
            _ => "-".into(),
        };
        let mut e = format!(
            "{count} of {} {flows} flows ({}%):",
            if s.len() == 1 { "its" } else { "their" },
            percent(count, flows)
        );
        if after > 0 {
            e.push_str(&format!(
                " {after} request{} came {window} after the server had closed the connection \
                 (close_notify or FIN) and {} answered by RST or never",
                plural(after),
                if after == 1 { "was" } else { "were" }
            ));
        }
        if before > 0 {
            e.push_str(&format!(
                "{} {before} reached the server just before its close and {} never answered",
                if after > 0 { ";" } else { "" },
                if before == 1 { "was" } else { "were" }
            ));
        }
        e.push('.');
        match timeouts_named(s) {
            Some(t) => e.push_str(&format!(" Idle timeouts found: {t}.")),
            None if s.len() == 1 => e.push_str(&format!(
                " The server's {} idle closes do not agree on one timeout.",
                s.first().and_then(|x| x.server_idle_closes).unwrap_or(0)
            )),
            None => e.push_str(" No server's idle closes agree on a timeout."),
        }
        let shortest = values.last().copied();
        let longer: Vec<&Subject> = s
            .iter()
            .filter(|x| match (x.client_idle_timeout_s, x.timeout) {
                (Some(c), Some(t)) => c >= t.seconds,
                _ => false,
            })
            .collect();
        (title, e, Some(race_fix(shortest, &longer)))
    })
}

/// A client idle timeout comfortably below the server's: three quarters of
/// it (at most 5 s less), rounded down to 100 ms (whole seconds from 10 s).
pub fn suggested(server: f64) -> f64 {
    // a microsecond up: 1.999999 s of capture time is a 2 s timer
    let t = (server * 0.75).max(server - 5.0) + 1e-6;
    if t >= 10.0 {
        t.floor()
    } else {
        (t * 10.0).floor() / 10.0
    }
}

fn race_fix(shortest: Option<IdleTimeout>, longer: &[&Subject]) -> String {
    let mut fix = match shortest {
        Some(t) => format!(
            "Keep the clients' idle timeout below the servers' ({} for the shortest; e.g. {}), \
             so that they drop an idle connection before the server does",
            timeout_text(&t, true),
            secs(suggested(t.seconds))
        ),
        None => "Keep the clients' idle timeout below the servers'".into(),
    };
    fix.push_str(", or let them retry idempotent requests that fail on a reused connection.");
    if let Some(x) = longer.first() {
        fix.push_str(&format!(
            " The clients of {} close idle connections after about {} now{}.",
            x.subject,
            secs(x.client_idle_timeout_s.unwrap_or(0.0)),
            if longer.len() > 1 {
                format!(" ({} more servers alike)", longer.len() - 1)
            } else {
                String::new()
            }
        ));
    }
    fix
}

fn reset_finding(subjects: Vec<Subject>, n: usize) -> Finding {
    rollup(FindingKind::IdleReset, "server", subjects, n, |s| {
        let count: u64 = s.iter().map(|x| x.count).sum();
        let flows: u64 = s.iter().map(|x| x.flows).sum();
        let title = match s {
            [one] => format!(
                "server {} reset {count} idle connection{} instead of closing {}{}",
                one.subject,
                plural(count),
                if count == 1 { "it" } else { "them" },
                one.timeout.map_or_else(String::new, |t| format!(
                    " (after {} idle)",
                    timeout_text(&t, true)
                ))
            ),
            _ => format!(
                "{} servers reset {count} idle connections instead of closing them",
                s.len()
            ),
        };
        let mut e = format!(
            "{count} of {} {flows} flows ended with the server's RST after 100ms or more of \
             silence, with no close_notify and no FIN before it.",
            if s.len() == 1 { "its" } else { "their" },
        );
        match timeouts_named(s) {
            Some(t) => e.push_str(&format!(" Idle times the resets agree on: {t}.")),
            None if s.len() > 1 => e.push_str(" No server's resets agree on an idle time."),
            None => {}
        }
        e.push_str(
            " A client cannot tell it from a crash, and a request sent meanwhile is lost \
             (ECONNRESET).",
        );
        let fix = "Close idle connections with close_notify and FIN: look for SO_LINGER 0 on \
                   the idle timer, or a middlebox that resets idle flows."
            .to_string();
        (title, e, Some(fix))
    })
}

fn truncation_finding(subjects: Vec<Subject>, who: &'static str, n: usize) -> Finding {
    rollup(FindingKind::TruncationRisk, "server", subjects, n, |s| {
        let count: u64 = s.iter().map(|x| x.count).sum();
        let flows: u64 = s.iter().map(|x| x.flows).sum();
        let peer = if who == "server" { "client" } else { "server" };
        let to = match s {
            [one] => format!("server {}", one.subject),
            _ => format!("{} servers", s.len()),
        };
        let title = match (who, s) {
            ("server", [one]) => format!(
                "{count} bare FIN{} from server {} right after its own data",
                plural(count),
                one.subject
            ),
            ("server", _) => format!(
                "{count} bare FINs from {} servers right after their own data",
                s.len()
            ),
            _ => format!(
                "{count} bare FIN{} from clients of {to} right after their own data",
                plural(count)
            ),
        };
        let e = format!(
            "{count} of {} {flows} flows ({}%) ended with a FIN and no close_notify right after \
             the {who}'s own data, which nothing answered: the {peer} cannot tell its end from a \
             cut (OpenSSL 3: \"unexpected eof while reading\"). Unknown from the capture: \
             whether that data was length-delimited (a cut would show).",
            if s.len() == 1 { "its" } else { "their" },
            percent(count, flows),
        );
        let fix = format!(
            "Make the {who} send close_notify before closing (SSL_shutdown, unwrap(), \
             CloseWrite); meanwhile rely on the protocol's framing (Content-Length, chunked)."
        );
        (title, e, Some(fix))
    })
}

fn no_close_notify_finding(
    subjects: Vec<Subject>,
    own: u64,
    fin: u64,
    rst: u64,
    n: usize,
) -> Finding {
    rollup(FindingKind::NoCloseNotify, "server", subjects, n, |s| {
        let flows: u64 = s.iter().map(|x| x.flows).sum();
        let (title, e) = match s {
            [one] => (
                format!("server {} never sent close_notify", one.subject),
                format!(
                    "In none of its {flows} flows did the server send close_notify, and it \
                     closed {own} of them itself ({fin} with FIN, {rst} with RST)."
                ),
            ),
            _ => (
                format!("{} servers never sent close_notify", s.len()),
                format!(
                    "In none of their {flows} flows did these servers send close_notify, and \
                     they closed {own} of them themselves ({fin} with FIN, {rst} with RST)."
                ),
            ),
        };
        let fix = "Configure the server (or the proxy in front of it) to shut TLS down with \
                   close_notify before closing; clients that require it (OpenSSL 3, rustls, \
                   Go's strict readers) report these closes as errors."
            .to_string();
        (title, e, Some(fix))
    })
}

fn client_reset_finding(subjects: Vec<Subject>, after_cn: u64, n: usize) -> Finding {
    rollup(
        FindingKind::ClientReset,
        "client network",
        subjects,
        n,
        |s| {
            let count: u64 = s.iter().map(|x| x.count).sum();
            let flows: u64 = s.iter().map(|x| x.flows).sum();
            let clients = total(s, |x| x.clients);
            let who = match s {
                [one] if clients == 1 => format!(
                    "client {}",
                    one.examples
                        .first()
                        .map(|e| e.client.rsplit_once(':').map_or(e.client.as_str(), |c| c.0))
                        .map(|c| c.trim_start_matches('[').trim_end_matches(']'))
                        .unwrap_or(one.subject.as_str())
                ),
                [one] => format!("{clients} clients in {}", one.subject),
                _ => format!("{clients} clients in {} networks", s.len()),
            };
            let title = format!(
                "{who} reset {count} connection{} instead of closing",
                plural(count)
            );
            let e = format!(
                "{count} of {} {flows} flows ({}%) ended with an RST the client sent first{}.",
                if clients == 1 { "its" } else { "their" },
                percent(count, flows),
                if after_cn > 0 {
                    format!(" ({after_cn} after its own close_notify)")
                } else {
                    String::new()
                }
            );
            let fix =
                "Look for SO_LINGER 0, or sockets closed with unread data (an RST loses data \
                   in flight); close with close_notify and FIN."
                    .to_string();
            (title, e, Some(fix))
        },
    )
}

fn timeout_finding(subjects: Vec<Subject>, n: usize) -> Finding {
    rollup(FindingKind::IdleTimeout, "server", subjects, n, |s| {
        let values = timeout_values(s);
        let title = match s {
            [one] => format!(
                "server {} closes idle connections after {}",
                one.subject,
                one.timeout
                    .map_or_else(|| "-".into(), |t| timeout_text(&t, true))
            ),
            _ => format!(
                "{} servers close idle connections after a timeout ({})",
                s.len(),
                join_and(
                    &values
                        .iter()
                        .map(|t| timeout_text(t, true))
                        .collect::<Vec<_>>()
                )
            ),
        };
        let e = match s {
            [one] => one.timeout.map_or_else(String::new, |t| timeout_words(&t)),
            _ => format!(
                "Per server, the idle time most of its own closes of idle connections agree \
                 on: {}.",
                timeouts_named(s).unwrap_or_default()
            ),
        };
        let longer: Vec<&Subject> = s
            .iter()
            .filter(|x| match (x.client_idle_timeout_s, x.timeout) {
                (Some(c), Some(t)) => c >= t.seconds,
                _ => false,
            })
            .collect();
        let fix = longer.first().map(|x| {
            format!(
                "The clients of {} keep idle connections about {}, longer than the server{}: \
                 lower their idle timeout below {} before requests start to race it.",
                x.subject,
                secs(x.client_idle_timeout_s.unwrap_or(0.0)),
                if longer.len() > 1 {
                    format!(" ({} more servers alike)", longer.len() - 1)
                } else {
                    String::new()
                },
                x.timeout
                    .map_or_else(|| "-".into(), |t| timeout_text(&t, true))
            )
        });
        (title, e, fix)
    })
}

fn timeout_words(t: &IdleTimeout) -> String {
    if t.sweep {
        return format!(
            "{} of the server's {} closes of idle connections came {} to {} after the last \
             traffic: a timeout of about {} checked by a periodic sweep.",
            t.closes,
            t.of,
            spread(t.min),
            spread(t.max),
            crate::idle::round_secs(t.seconds)
        );
    }
    format!(
        "{} of the server's {} closes of idle connections came after {} of silence \
         ({} to {}).",
        t.closes,
        t.of,
        secs(t.seconds),
        secs(t.min),
        secs(t.max)
    )
}

impl ReportSink for AuditSink {
    fn flow(&mut self, flow: &Flow) -> io::Result<()> {
        self.add(flow);
        Ok(())
    }

    fn numbers_flows(&self) -> bool {
        true
    }

    fn failing(&self) -> u64 {
        self.failing
    }

    fn failing_why(&self) -> Option<String> {
        self.failing_why.clone()
    }

    fn finish(&mut self, end: &RunEnd<'_>) -> io::Result<()> {
        let mut findings = self.findings();
        for f in &mut findings {
            for e in &mut f.examples {
                e.flow = end.numbers.number(e.key);
            }
        }
        let matched: Vec<&Finding> = findings
            .iter()
            .filter(|f| self.fail_on.contains(&f.kind))
            .collect();
        self.failing = matched.len() as u64;
        if !matched.is_empty() {
            let parts: Vec<String> = matched
                .iter()
                .map(|f| {
                    format!(
                        "{} ({} flow{} of {} {}{})",
                        f.finding,
                        f.count,
                        plural(f.count),
                        f.subjects,
                        f.subject,
                        if f.subjects == 1 { "" } else { "s" }
                    )
                })
                .collect();
            let asked: Vec<&str> = self.fail_on.iter().map(|k| k.as_str()).collect();
            self.failing_why = Some(format!(
                "--fail-on-finding {} matched: {}",
                asked.join(","),
                parts.join(", ")
            ));
        }
        let inputs: Vec<&str> = end.inputs.iter().map(|i| i.name.as_str()).collect();
        match self.format {
            Format::Json => {
                for f in &findings {
                    serde_json::to_writer(&mut self.out, f)?;
                    self.out.write_all(b"\n")?;
                }
                serde_json::to_writer(
                    &mut self.out,
                    &SummaryLine {
                        summary: true,
                        inner: end.summary,
                    },
                )?;
                self.out.write_all(b"\n")?;
            }
            Format::Markdown => write_markdown(&mut self.out, &findings, &inputs, self.flows)?,
            Format::Table | Format::Csv => {
                let mut text = Vec::new();
                write_text(&mut text, &findings, &inputs, self.flows)?;
                if !end.quiet {
                    writeln!(text, "{}", end.summary.line())?;
                }
                self.out
                    .write_all(wrap_text(&String::from_utf8_lossy(&text), self.width).as_bytes())?;
            }
        }
        self.out.flush()
    }
}

fn example_words(e: &Example) -> String {
    match e.flow {
        Some(n) => format!("--flow {n} ({} → {}): {}", e.client, e.server, e.what),
        None => format!("{} → {}: {}", e.client, e.server, e.what),
    }
}

/// Each line of `text` wrapped at words to `width`, its continuation
/// lines indented as far as its own text starts (after `1. ` or
/// `   Examples: `).
fn wrap_text(text: &str, width: Option<usize>) -> String {
    let Some(width) = width else {
        return text.to_owned();
    };
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.lines() {
        if line.chars().count() <= width {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let lead = line.len() - line.trim_start().len();
        let body = line.trim_start();
        // hang after a list number or a label (`1. `, `Fix: `, `Examples: `)
        let hang = lead
            + ["Examples: ", "          ", "Fix: ", "Wireshark: "]
                .iter()
                .find(|p| body.starts_with(**p))
                .map_or_else(
                    || body.find(". ").filter(|&i| i <= 3).map_or(0, |i| i + 2),
                    |p| p.len(),
                );
        let hang = hang.min(width / 2);
        for (i, part) in
            crate::table::wrap(line.get(hang..).unwrap_or(line).trim_start(), width - hang)
                .into_iter()
                .enumerate()
        {
            if i == 0 {
                out.push_str(line.get(..hang).unwrap_or_default());
            } else {
                out.push_str(&" ".repeat(hang));
            }
            out.push_str(&part);
            out.push('\n');
        }
    }
    out
}

/// The columns of a finding's table of subjects: title and cell.
type Col = (&'static str, fn(&Subject) -> String);

fn columns(kind: FindingKind) -> Vec<Col> {
    let flows: Col = ("flows", |x| x.flows.to_string());
    let timeout: Col = ("idle timeout", |x| {
        x.timeout
            .map_or_else(|| "-".into(), |t| timeout_text(&t, true))
    });
    match kind {
        FindingKind::KeepaliveRace => vec![("requests", |x| x.count.to_string()), flows, timeout],
        FindingKind::IdleReset => vec![("resets", |x| x.count.to_string()), flows, timeout],
        FindingKind::TruncationRisk => vec![("bare FINs", |x| x.count.to_string()), flows],
        FindingKind::NoCloseNotify => vec![("own closes", |x| x.count.to_string()), flows],
        FindingKind::ClientReset => vec![
            ("clients", |x| x.clients.unwrap_or(0).to_string()),
            ("resets", |x| x.count.to_string()),
            flows,
        ],
        FindingKind::IdleTimeout => vec![
            ("closes", |x| {
                format!(
                    "{}/{}",
                    x.server_idle_timeout_closes.unwrap_or(0),
                    x.server_idle_closes.unwrap_or(0)
                )
            }),
            flows,
            timeout,
        ],
    }
}

/// The first `top` subjects as rows (name, cells), and a row counting the
/// others.
fn subject_rows(f: &Finding, top: usize) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let cols = columns(f.kind);
    let mut head = vec![f.subject];
    head.extend(cols.iter().map(|c| c.0));
    let mut rows: Vec<Vec<String>> = f
        .by_subject
        .iter()
        .take(top)
        .map(|x| {
            let mut row = vec![x.subject.clone()];
            row.extend(cols.iter().map(|c| (c.1)(x)));
            row
        })
        .collect();
    let rest = f.by_subject.get(top..).unwrap_or_default();
    if !rest.is_empty() {
        let mut row = vec![format!(
            "{} more {}{}",
            rest.len(),
            f.subject,
            if rest.len() == 1 { "" } else { "s" }
        )];
        for (title, _) in &cols {
            row.push(match *title {
                "flows" => rest.iter().map(|x| x.flows).sum::<u64>().to_string(),
                "clients" => rest
                    .iter()
                    .filter_map(|x| x.clients)
                    .sum::<u64>()
                    .to_string(),
                "idle timeout" | "closes" => String::new(),
                _ => rest.iter().map(|x| x.count).sum::<u64>().to_string(),
            });
        }
        rows.push(row);
    }
    (head, rows)
}

fn write_text(
    out: &mut dyn Write,
    findings: &[Finding],
    inputs: &[&str],
    flows: u64,
) -> io::Result<()> {
    writeln!(
        out,
        "Audit of {}: {flows} TLS flow{}, {} finding{}{}",
        inputs.join(", "),
        plural(flows),
        findings.len(),
        plural(findings.len() as u64),
        if findings.len() > 1 {
            " (most severe first)"
        } else {
            ""
        }
    )?;
    for (i, f) in findings.iter().enumerate() {
        writeln!(out)?;
        writeln!(
            out,
            "{}. [{}] {}: {}",
            i + 1,
            f.severity,
            f.finding,
            f.title
        )?;
        writeln!(out, "   {}", f.evidence)?;
        if let Some(fix) = &f.fix {
            writeln!(out, "   Fix: {fix}")?;
        }
        if f.by_subject.len() > 1 {
            let (head, rows) = subject_rows(f, TOP);
            let mut widths: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
            for row in &rows {
                for (w, c) in widths.iter_mut().zip(row) {
                    *w = (*w).max(c.chars().count());
                }
            }
            let line = |cells: Vec<String>| {
                let mut s = String::from(" ");
                for (k, (c, w)) in cells.iter().zip(&widths).enumerate() {
                    let pad = w.saturating_sub(c.chars().count());
                    s.push_str("  ");
                    if k == 0 {
                        s.push_str(c);
                        s.push_str(&" ".repeat(pad));
                    } else {
                        s.push_str(&" ".repeat(pad));
                        s.push_str(c);
                    }
                }
                s.trim_end().to_string()
            };
            writeln!(
                out,
                "{}",
                line(head.iter().map(|h| h.to_string()).collect())
            )?;
            for row in rows {
                writeln!(out, "{}", line(row))?;
            }
        }
        for (j, e) in f.examples.iter().enumerate() {
            writeln!(
                out,
                "   {} {}",
                if j == 0 { "Examples:" } else { "         " },
                example_words(e)
            )?;
        }
    }
    if findings.is_empty() {
        writeln!(out, "\nNothing to report.")?;
    } else {
        writeln!(
            out,
            "\n--flow N: a flow's Wireshark filter and ladder{}.",
            if findings.iter().any(|f| f.by_subject.len() > TOP) {
                "; --format json: every server and network"
            } else {
                ""
            }
        )?;
    }
    Ok(())
}

/// The findings as Markdown (`--audit --format markdown`, and the
/// Markdown report's findings section, whose headings start at `level`).
pub fn markdown_findings(out: &mut dyn Write, findings: &[Finding], level: &str) -> io::Result<()> {
    for (i, f) in findings.iter().enumerate() {
        writeln!(
            out,
            "\n{level} {}. {} ({}, {})\n",
            i + 1,
            md::escape(&f.title),
            md::code(f.finding),
            f.severity
        )?;
        writeln!(out, "{}\n", md::escape(&f.evidence))?;
        if let Some(fix) = &f.fix {
            writeln!(out, "**Fix:** {}\n", md::escape(fix))?;
        }
        if f.by_subject.len() > 1 {
            let (head, rows) = subject_rows(f, TOP_MARKDOWN);
            let mut columns = vec![crate::table::Column::new(
                head.first().copied().unwrap_or("server"),
                crate::table::Align::Left,
                0,
            )];
            columns.extend(
                head.iter()
                    .skip(1)
                    .map(|h| crate::table::Column::new(h, crate::table::Align::Right, 0)),
            );
            crate::table::Table { columns, rows }.to_markdown(out)?;
            writeln!(out)?;
        }
        for e in &f.examples {
            writeln!(
                out,
                "- {}{}, {}: {}",
                e.flow.map_or_else(String::new, |n| format!(
                    "{} ",
                    md::code(&format!("--flow {n}"))
                )),
                md::escape(&format!("{} → {}", e.client, e.server)),
                md::escape(&e.what),
                md::code(&e.wireshark_filter)
            )?;
        }
    }
    Ok(())
}

fn write_markdown(
    out: &mut dyn Write,
    findings: &[Finding],
    inputs: &[&str],
    flows: u64,
) -> io::Result<()> {
    writeln!(out, "# tlsclose audit\n")?;
    writeln!(
        out,
        "{}: {flows} TLS flow{}, {} finding{}.",
        inputs
            .iter()
            .map(|i| md::code(i))
            .collect::<Vec<_>>()
            .join(", "),
        plural(flows),
        findings.len(),
        plural(findings.len() as u64)
    )?;
    markdown_findings(out, findings, "##")?;
    if findings.is_empty() {
        writeln!(out, "\nNothing to report.")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn joined_with_and() {
        let s = |v: &[&str]| join_and(&v.iter().map(|x| x.to_string()).collect::<Vec<_>>());
        assert_eq!(s(&[]), "");
        assert_eq!(s(&["a"]), "a");
        assert_eq!(s(&["a", "b"]), "a and b");
        assert_eq!(s(&["a", "b", "c"]), "a, b and c");
    }

    #[test]
    fn a_suggested_client_timeout_is_below_the_servers() {
        assert_eq!(suggested(2.0), 1.5);
        assert_eq!(suggested(1.0), 0.7);
        assert_eq!(suggested(75.0), 70.0);
        assert_eq!(suggested(1.999_998), 1.5);
    }
}
