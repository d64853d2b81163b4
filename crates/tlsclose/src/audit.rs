//! `--audit`: a proxy's shutdown traffic in a few findings, each in plain
//! words with its evidence (counts, example flows with their `--flow`
//! numbers and Wireshark filters) and what to do about it.
//!
//! Findings (`--fail-on-finding KIND`):
//! - `keepalive-race`: requests sent on connections a server had already
//!   closed, with the server's idle timeout when its closes agree on one;
//! - `idle-timeout`: a server's idle timeout, when nothing raced it;
//! - `truncation-risk`: bare FINs after application data from a side that
//!   never sent close_notify (the peer cannot tell a cut from an end);
//! - `no-close-notify`: a server that closed connections itself and never
//!   sent close_notify;
//! - `client-reset`: clients that reset connections instead of closing them.
//!
//! Memory: counts and idle times per server and per client address, and
//! at most [`EXAMPLES`] example flows per finding.

use crate::cli::Format;
use crate::human::{format_secs, percent, plural};
use crate::idle::{IdleCloses, IdleTimeout};
use crate::md;
use crate::sink::{Flow, ReportSink, RunEnd, SummaryLine};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};
use tlsclose_analysis::{CloseNotify, Closer, Ending, FlowReport};

/// Example flows kept per finding.
pub const EXAMPLES: usize = 3;

/// The kinds of finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum)]
pub enum FindingKind {
    /// requests sent on connections the server had already closed
    #[value(name = "keepalive-race")]
    KeepaliveRace,
    /// bare FIN after application data without close_notify
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
            FindingKind::TruncationRisk => "truncation-risk",
            FindingKind::NoCloseNotify => "no-close-notify",
            FindingKind::ClientReset => "client-reset",
            FindingKind::IdleTimeout => "idle-timeout",
        }
    }

    pub fn severity(self) -> &'static str {
        match self {
            FindingKind::KeepaliveRace
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

/// One finding.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub finding: &'static str,
    pub severity: &'static str,
    /// `server` or `client`, and which one.
    pub subject: &'static str,
    pub subject_addr: String,
    /// One sentence.
    pub title: String,
    /// The counts behind it, in words.
    pub evidence: String,
    /// What to do about it (null for information).
    pub fix: Option<String>,
    /// Flows that show it, of `flows` of the subject.
    pub count: u64,
    pub flows: u64,
    /// The server's idle timeout (keepalive-race, idle-timeout), seconds.
    pub server_idle_timeout_s: Option<f64>,
    /// Idle closes by the server that agree on it, of how many.
    pub server_idle_timeout_closes: Option<u64>,
    pub server_idle_closes: Option<u64>,
    /// The clients' idle timeout towards this server, seconds.
    pub client_idle_timeout_s: Option<f64>,
    /// keepalive-race: shortest and longest time from the close to the
    /// request, seconds.
    pub race_window_min_s: Option<f64>,
    pub race_window_max_s: Option<f64>,
    pub examples: Vec<Example>,
    #[serde(skip)]
    kind: FindingKind,
}

/// Example flows of one kind, the first `N` in order.
#[derive(Debug, Default)]
struct Examples<const N: usize = EXAMPLES>(Vec<Example>);

/// Idle closes kept as candidate examples of a server's idle timeout; the
/// finding shows the first [`EXAMPLES`] inside the timeout's cluster.
const IDLE_CANDIDATES: usize = 32;

impl Examples<IDLE_CANDIDATES> {
    /// The first [`EXAMPLES`] candidates whose idle time is in `min..=max`.
    fn within(&self, min: f64, max: f64) -> Vec<Example> {
        self.0
            .iter()
            .filter(|e| e.idle.is_some_and(|i| (min..=max).contains(&i)))
            .take(EXAMPLES)
            .cloned()
            .collect()
    }
}

impl<const N: usize> Examples<N> {
    fn offer(&mut self, f: &Flow, what: impl FnOnce() -> String) {
        self.offer_idle(f, None, what);
    }

    fn offer_idle(&mut self, f: &Flow, idle: Option<f64>, what: impl FnOnce() -> String) {
        let key = f.key();
        if self.0.len() >= N && self.0.last().is_some_and(|e| e.key <= key) {
            return;
        }
        let r = &f.report;
        self.0.push(Example {
            flow: None,
            file: r.file.clone(),
            client: r.client.to_string(),
            server: r.server.to_string(),
            what: what(),
            wireshark_filter: wireshark_filter(r),
            key,
            idle,
        });
        self.0.sort_by_key(|e| e.key);
        self.0.truncate(N);
    }
}

fn wireshark_filter(r: &FlowReport) -> String {
    crate::words::WiresharkFilter::of(r).to_string()
}

/// The client's address without its port (its pool).
fn client_addr(r: &FlowReport) -> String {
    r.client.ip.to_string()
}

/// Per server.
#[derive(Debug, Default)]
struct ServerStats {
    flows: u64,
    server_idle: IdleCloses,
    client_idle: IdleCloses,
    races: u64,
    race_min: Option<f64>,
    race_max: Option<f64>,
    race_examples: Examples,
    /// Flows with a close_notify from the server.
    server_close_notify: u64,
    /// Closes the server started or made without close_notify: FIN, RST.
    own_closes_fin: u64,
    own_closes_rst: u64,
    own_close_examples: Examples,
    /// Bare FIN after application data, no close_notify from its sender;
    /// by sender: client, server.
    truncation: [u64; 2],
    truncation_examples: [Examples; 2],
    idle_examples: Examples<IDLE_CANDIDATES>,
}

/// Per client address.
#[derive(Debug, Default)]
struct ClientStats {
    flows: u64,
    resets: u64,
    resets_after_close_notify: u64,
    examples: Examples,
}

/// Collects the evidence and writes the findings at the end of the run.
pub struct AuditSink {
    out: Box<dyn Write>,
    format: Format,
    servers: BTreeMap<String, ServerStats>,
    clients: BTreeMap<String, ClientStats>,
    flows: u64,
    fail_on: Vec<FindingKind>,
    /// Findings of a `--fail-on-finding` kind (known after `finish`).
    pub failing: u64,
    /// Why, in words (see [`ReportSink::failing_why`]).
    failing_why: Option<String>,
    /// The terminal's width: the text is wrapped at words to it.
    width: Option<usize>,
}

fn secs(s: f64) -> String {
    if s >= 10.0 {
        format!("{s:.1}s")
    } else if s >= 1.0 {
        format!("{s:.2}s")
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
    ) -> Self {
        AuditSink {
            out,
            format,
            servers: BTreeMap::new(),
            clients: BTreeMap::new(),
            flows: 0,
            fail_on,
            failing: 0,
            failing_why: None,
            width,
        }
    }

    fn add(&mut self, f: &Flow) {
        let r = &f.report;
        self.flows += 1;
        let s = self.servers.entry(r.server.to_string()).or_default();
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
            let (by, peer) = match r.initiator {
                Closer::Client => ("client", "server"),
                _ => ("server", "client"),
            };
            s.race_examples.offer(f, || {
                format!(
                    "the {peer} sent data {} after the {by}'s close{}",
                    r.race_window_s.map_or_else(|| "-".into(), secs),
                    r.race_frame
                        .map_or_else(String::new, |fr| format!(" (frame {fr})"))
                )
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
        // truncation risk: a bare FIN after application data from a side
        // that never sent close_notify, and that started the close itself
        // (a FIN answering the peer's close_notify cuts nothing)
        if r.ending == Ending::FinOnly && r.closer == r.initiator {
            let (i, cn, bytes) = match r.closer {
                Closer::Client => (0, r.client_close_notify, r.app_bytes[0]),
                Closer::Server => (1, r.server_close_notify, r.app_bytes[1]),
                Closer::None => (2, CloseNotify::None, 0),
            };
            if cn == CloseNotify::None && bytes > 0 {
                if let (Some(n), Some(ex)) =
                    (s.truncation.get_mut(i), s.truncation_examples.get_mut(i))
                {
                    *n += 1;
                    ex.offer(f, || {
                        format!(
                            "bare FIN from the {} after {bytes} bytes of application data",
                            r.closer.as_str()
                        )
                    });
                }
            }
        }
        let c = self.clients.entry(client_addr(r)).or_default();
        c.flows += 1;
        if r.ending == Ending::Rst && r.closer == Closer::Client && r.initiator == Closer::Client {
            c.resets += 1;
            let after_cn = r.client_close_notify != CloseNotify::None;
            c.resets_after_close_notify += u64::from(after_cn);
            c.examples.offer(f, || {
                format!(
                    "RST from the client{}",
                    if after_cn {
                        " after its close_notify"
                    } else {
                        " instead of a FIN"
                    }
                )
            });
        }
    }

    /// The findings, most serious first.
    pub fn findings(&self) -> Vec<Finding> {
        let mut v = Vec::new();
        for (addr, s) in &self.servers {
            let timeout = s.server_idle.timeout();
            let client_timeout = s.client_idle.timeout();
            let base = |kind: FindingKind, count: u64, title: String, evidence: String| Finding {
                finding: kind.as_str(),
                severity: kind.severity(),
                subject: "server",
                subject_addr: addr.clone(),
                title,
                evidence,
                fix: None,
                count,
                flows: s.flows,
                server_idle_timeout_s: timeout.map(|t| t.seconds),
                server_idle_timeout_closes: timeout.map(|t| t.closes),
                server_idle_closes: Some(s.server_idle.len() as u64),
                client_idle_timeout_s: client_timeout.map(|t| t.seconds),
                race_window_min_s: None,
                race_window_max_s: None,
                examples: Vec::new(),
                kind,
            };
            if s.races > 0 {
                let mut f = base(
                    FindingKind::KeepaliveRace,
                    s.races,
                    format!(
                        "{} request{} raced server {addr}'s close of an idle connection{}",
                        s.races,
                        plural(s.races),
                        timeout.map_or_else(String::new, |t| format!(
                            " (its idle timeout: {})",
                            secs(t.seconds)
                        )),
                    ),
                    race_evidence(s, timeout),
                );
                f.fix = Some(race_fix(timeout, client_timeout));
                f.race_window_min_s = s.race_min;
                f.race_window_max_s = s.race_max;
                f.examples = s.race_examples.0.clone();
                v.push(f);
            } else if let Some(t) = timeout {
                let mut f = base(
                    FindingKind::IdleTimeout,
                    t.closes,
                    format!(
                        "server {addr} closes idle connections after {}",
                        secs(t.seconds)
                    ),
                    timeout_words(&t),
                );
                f.fix = client_timeout.filter(|c| c.seconds >= t.seconds).map(|c| {
                    format!(
                        "Its clients keep idle connections about {}, longer than the server: \
                         lower their idle timeout below {} before requests start to race it.",
                        secs(c.seconds),
                        secs(t.seconds)
                    )
                });
                f.examples = s.idle_examples.within(t.min, t.max);
                v.push(f);
            }
            for (i, who) in [(1usize, "server"), (0, "client")] {
                let n = s.truncation.get(i).copied().unwrap_or(0);
                if n == 0 {
                    continue;
                }
                let mut f = base(
                    FindingKind::TruncationRisk,
                    n,
                    format!(
                        "{n} connection{} to server {addr} ended with a bare FIN from the {who} \
                         after application data",
                        plural(n)
                    ),
                    format!(
                        "{n} of {} flows ({}%) ended fin-only: the {who} started the close with a \
                         FIN after sending application data and sent no close_notify, so the \
                         {} cannot tell the end of the data from a cut (a truncation attack \
                         looks the same; OpenSSL 3 reports \"unexpected eof while reading\").",
                        s.flows,
                        percent(n, s.flows),
                        if who == "server" { "client" } else { "server" },
                    ),
                );
                f.fix = Some(format!(
                    "Make the {who} send close_notify before closing (SSL_shutdown, \
                     unwrap(), CloseWrite); until then rely on the protocol's own framing \
                     (Content-Length, chunked) and treat an EOF inside a message as an error."
                ));
                f.examples = s
                    .truncation_examples
                    .get(i)
                    .map(|e| e.0.clone())
                    .unwrap_or_default();
                v.push(f);
            }
            let own = s.own_closes_fin + s.own_closes_rst;
            if s.server_close_notify == 0 && own > 0 {
                let mut f = base(
                    FindingKind::NoCloseNotify,
                    own,
                    format!("server {addr} never sent close_notify"),
                    format!(
                        "In none of its {} flows did the server send close_notify, and it closed \
                         {own} of them itself ({} with FIN, {} with RST).",
                        s.flows, s.own_closes_fin, s.own_closes_rst
                    ),
                );
                f.fix = Some(
                    "Configure the server (or the proxy in front of it) to shut TLS down with \
                     close_notify before closing; clients that require it (OpenSSL 3, rustls, \
                     Go's strict readers) report these closes as errors."
                        .into(),
                );
                f.examples = s.own_close_examples.0.clone();
                v.push(f);
            }
        }
        for (addr, c) in &self.clients {
            if c.resets == 0 {
                continue;
            }
            v.push(Finding {
                finding: FindingKind::ClientReset.as_str(),
                severity: FindingKind::ClientReset.severity(),
                subject: "client",
                subject_addr: addr.clone(),
                title: format!(
                    "client {addr} reset {} connection{} instead of closing",
                    c.resets,
                    plural(c.resets)
                ),
                evidence: format!(
                    "{} of its {} flows ({}%) ended with an RST it sent first{}.",
                    c.resets,
                    c.flows,
                    percent(c.resets, c.flows),
                    if c.resets_after_close_notify > 0 {
                        format!(
                            " ({} after its own close_notify)",
                            c.resets_after_close_notify
                        )
                    } else {
                        String::new()
                    }
                ),
                fix: Some(
                    "An RST throws away data still in flight and hides whether the close was \
                     clean: look for SO_LINGER 0, or sockets closed with unread data (Linux \
                     answers those with RST); close with close_notify and FIN instead."
                        .into(),
                ),
                count: c.resets,
                flows: c.flows,
                server_idle_timeout_s: None,
                server_idle_timeout_closes: None,
                server_idle_closes: None,
                client_idle_timeout_s: None,
                race_window_min_s: None,
                race_window_max_s: None,
                examples: c.examples.0.clone(),
                kind: FindingKind::ClientReset,
            });
        }
        v.sort_by(|a, b| {
            severity_rank(a.severity)
                .cmp(&severity_rank(b.severity))
                .then(a.kind.cmp(&b.kind))
                .then(b.count.cmp(&a.count))
                .then_with(|| a.subject_addr.cmp(&b.subject_addr))
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

fn timeout_words(t: &IdleTimeout) -> String {
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

fn race_evidence(s: &ServerStats, timeout: Option<IdleTimeout>) -> String {
    let window = match (s.race_min, s.race_max) {
        (Some(a), Some(b)) if (b - a).abs() < 1e-9 => secs(a),
        (Some(a), Some(b)) => format!("{} to {}", secs(a), secs(b)),
        _ => "-".into(),
    };
    let mut e = format!(
        "In {} of {} flows ({}%) a request came {window} after the other side had closed the \
         connection (close_notify or FIN), and was answered by RST or never.",
        s.races,
        s.flows,
        percent(s.races, s.flows),
    );
    match timeout {
        Some(t) => {
            e.push(' ');
            e.push_str(&timeout_words(&t));
        }
        None if !s.server_idle.is_empty() => e.push_str(&format!(
            " The server's {} idle closes do not agree on one timeout.",
            s.server_idle.len()
        )),
        None => {}
    }
    e
}

/// A client idle timeout comfortably below the server's: three quarters of
/// it (at most 5 s less), rounded down to 100 ms (whole seconds from 10 s).
fn suggested(server: f64) -> f64 {
    let t = (server * 0.75).max(server - 5.0);
    if t >= 10.0 {
        t.floor()
    } else {
        (t * 10.0).floor() / 10.0
    }
}

fn race_fix(timeout: Option<IdleTimeout>, client: Option<IdleTimeout>) -> String {
    let mut fix = match timeout {
        Some(t) => format!(
            "Keep the clients' idle timeout for this server below {} (e.g. {}), so that they \
             drop an idle connection before the server does",
            secs(t.seconds),
            secs(suggested(t.seconds))
        ),
        None => "Keep the clients' idle timeout below the server's".into(),
    };
    fix.push_str(
        ", or let them retry idempotent requests that fail with a reset or EOF on a reused \
         connection.",
    );
    if let (Some(c), Some(t)) = (client, timeout) {
        if c.seconds >= t.seconds {
            fix.push_str(&format!(
                " Its clients close idle connections after about {} now.",
                secs(c.seconds)
            ));
        }
    }
    fix
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
            // per kind: findings, and the flows that show them
            let mut kinds: Vec<(&str, u64, u64)> = Vec::new();
            for f in &matched {
                match kinds.iter_mut().find(|k| k.0 == f.finding) {
                    Some(k) => {
                        k.1 += 1;
                        k.2 += f.count;
                    }
                    None => kinds.push((f.finding, 1, f.count)),
                }
            }
            let parts: Vec<String> = kinds
                .iter()
                .map(|(kind, n, flows)| {
                    format!(
                        "{n} {kind} finding{} ({flows} flow{})",
                        crate::human::plural(*n),
                        crate::human::plural(*flows)
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
        Some(n) => format!("--flow {n}: {} → {}, {}", e.client, e.server, e.what),
        None => format!("{} → {}, {}", e.client, e.server, e.what),
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

fn write_text(
    out: &mut dyn Write,
    findings: &[Finding],
    inputs: &[&str],
    flows: u64,
) -> io::Result<()> {
    writeln!(
        out,
        "Audit of {}: {flows} TLS flow{}, {} finding{}",
        inputs.join(", "),
        plural(flows),
        findings.len(),
        plural(findings.len() as u64)
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
        for (j, e) in f.examples.iter().enumerate() {
            writeln!(
                out,
                "   {} {}",
                if j == 0 { "Examples:" } else { "         " },
                example_words(e)
            )?;
        }
        if let Some(e) = f.examples.first() {
            writeln!(out, "   Wireshark: {}", e.wireshark_filter)?;
        }
    }
    if findings.is_empty() {
        writeln!(out, "\nNothing to report.")?;
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
    for (i, f) in findings.iter().enumerate() {
        writeln!(
            out,
            "\n## {}. {} ({}, {})\n",
            i + 1,
            md::escape(&f.title),
            md::code(f.finding),
            f.severity
        )?;
        writeln!(out, "{}\n", md::escape(&f.evidence))?;
        if let Some(fix) = &f.fix {
            writeln!(out, "**Fix:** {}\n", md::escape(fix))?;
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
    if findings.is_empty() {
        writeln!(out, "\nNothing to report.")?;
    }
    Ok(())
}
