//! Findings as data: their kinds and severities, the servers or client
//! networks they concern, and example flows.

use crate::idle::IdleTimeout;
use serde::Serialize;
use std::fmt;
use std::str::FromStr;
use tlsclose_analysis::Closer;

/// A flow's id in a run: the number of its first frame, counted through
/// every input in the order given (for one capture, its own frame number,
/// as Wireshark shows it). The table's `#`, JSON's `flow`, `--flow N`.
pub type FlowId = u64;

/// The kinds of finding, most severe first; serialised as their names
/// (`keepalive-race`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    /// requests that raced a server's close of an idle connection
    KeepaliveRace,
    /// a server that resets idle connections (RST, no close_notify, no FIN)
    IdleReset,
    /// bare FIN right after a side's own data, without close_notify
    TruncationRisk,
    /// a server that closes without ever sending close_notify
    NoCloseNotify,
    /// a server that closes abruptly after announcing the close (GOAWAY
    /// then a bare FIN), or resets with a request outstanding (with keys)
    AbruptClose,
    /// clients that reset connections instead of closing them
    ClientReset,
    /// a server's idle timeout (information)
    IdleTimeout,
}

impl FindingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::KeepaliveRace => "keepalive-race",
            FindingKind::IdleReset => "idle-reset",
            FindingKind::TruncationRisk => "truncation-risk",
            FindingKind::NoCloseNotify => "no-close-notify",
            FindingKind::AbruptClose => "abrupt-close",
            FindingKind::ClientReset => "client-reset",
            FindingKind::IdleTimeout => "idle-timeout",
        }
    }

    /// Every kind, most severe first.
    pub const ALL: [FindingKind; 7] = [
        FindingKind::KeepaliveRace,
        FindingKind::IdleReset,
        FindingKind::TruncationRisk,
        FindingKind::NoCloseNotify,
        FindingKind::AbruptClose,
        FindingKind::ClientReset,
        FindingKind::IdleTimeout,
    ];

    /// What a finding of this kind is about, in a few words (`--help`).
    pub fn about(self) -> &'static str {
        match self {
            FindingKind::KeepaliveRace => {
                "requests that raced a server's close of an idle connection"
            }
            FindingKind::IdleReset => {
                "a server that resets idle connections (RST, no close_notify, no FIN)"
            }
            FindingKind::TruncationRisk => {
                "bare FIN right after a side's own data, without close_notify"
            }
            FindingKind::NoCloseNotify => "a server that closes without ever sending close_notify",
            FindingKind::AbruptClose => {
                "a server that closes abruptly (with keys: GOAWAY then a bare FIN, or RST)"
            }
            FindingKind::ClientReset => "clients that reset connections instead of closing them",
            FindingKind::IdleTimeout => "a server's idle timeout (information)",
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            FindingKind::KeepaliveRace
            | FindingKind::IdleReset
            | FindingKind::TruncationRisk
            | FindingKind::NoCloseNotify
            | FindingKind::AbruptClose => Severity::Warning,
            FindingKind::ClientReset => Severity::Notice,
            FindingKind::IdleTimeout => Severity::Info,
        }
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FindingKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        FindingKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("no finding kind {s:?}"))
    }
}

/// How much a finding matters; orders most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Notice,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Notice => "notice",
            Severity::Info => "info",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One value per side of a connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PerSide<T> {
    pub client: T,
    pub server: T,
}

impl<T> PerSide<T> {
    pub fn new(client: T, server: T) -> PerSide<T> {
        PerSide { client, server }
    }

    /// The side's value; `None` for [`Side`]-less closers.
    pub fn get(&self, side: Side) -> &T {
        match side {
            Side::Client => &self.client,
            Side::Server => &self.server,
        }
    }

    pub fn get_mut(&mut self, side: Side) -> &mut T {
        match side {
            Side::Client => &mut self.client,
            Side::Server => &mut self.server,
        }
    }
}

/// A side of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Client,
    Server,
}

impl Side {
    /// The side that closed, when one did.
    pub fn of(c: Closer) -> Option<Side> {
        match c {
            Closer::Client => Some(Side::Client),
            Closer::Server => Some(Side::Server),
            Closer::None => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Server => "server",
        }
    }

    pub fn peer(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }
}

/// A flow given as evidence: where it is and what it shows.
#[derive(Debug, Clone, Serialize)]
pub struct Example {
    /// Its id (`--flow N`).
    pub flow: FlowId,
    pub file: String,
    pub client: String,
    pub server: String,
    /// What this flow shows, in words.
    pub what: String,
    pub wireshark_filter: String,
    /// The idle time it shows (idle-timeout candidates).
    #[serde(skip)]
    pub(crate) idle: Option<f64>,
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
    /// truncation-risk: whose bare FIN.
    pub closer: Option<Side>,
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
    /// abrupt-close: the server's abrupt closes by what they show (left
    /// out of the JSON for the other kinds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abrupt_closes: Option<AbruptCloses>,
    /// Its example flows, first in capture order (the finding picks from them).
    #[serde(skip)]
    pub examples: Vec<Example>,
    /// The server's idle timeout, as found.
    #[serde(skip)]
    pub timeout: Option<IdleTimeout>,
}

impl Subject {
    pub(crate) fn new(subject: String, count: u64, flows: u64) -> Subject {
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
            abrupt_closes: None,
            examples: Vec::new(),
            timeout: None,
        }
    }

    /// With a server's idle timeouts (`server` found on `closes` idle closes).
    pub(crate) fn with_timeouts(
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

/// A server's abrupt closes, read with keys (the `abrupt-close` finding),
/// by what each shows: an HTTP-level announcement of the close (GOAWAY,
/// `Connection: close`) then the server's bare FIN or RST with no
/// close_notify, or the server's RST with a request outstanding and
/// nothing announced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AbruptCloses {
    pub goaway_then_fin: u64,
    pub goaway_then_rst: u64,
    pub connection_close_then_fin: u64,
    pub connection_close_then_rst: u64,
    pub rst_request_outstanding: u64,
}

impl AbruptCloses {
    /// Closes counted.
    pub fn total(&self) -> u64 {
        self.announced() + self.rst_request_outstanding
    }

    /// Closes after an announcement.
    pub fn announced(&self) -> u64 {
        self.goaway_then_fin
            + self.goaway_then_rst
            + self.connection_close_then_fin
            + self.connection_close_then_rst
    }

    /// Each shape seen with its count, most first: `(2, "GOAWAY then a
    /// bare FIN")`, `(1, "an RST with a request outstanding")`.
    pub fn shapes(&self) -> Vec<(u64, &'static str)> {
        let mut v: Vec<(u64, &'static str)> = [
            (self.goaway_then_fin, "GOAWAY then a bare FIN"),
            (self.goaway_then_rst, "GOAWAY then an RST"),
            (
                self.connection_close_then_fin,
                "Connection: close then a bare FIN",
            ),
            (
                self.connection_close_then_rst,
                "Connection: close then an RST",
            ),
            (
                self.rst_request_outstanding,
                "an RST with a request outstanding",
            ),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .collect();
        v.sort_by_key(|x| std::cmp::Reverse(x.0));
        v
    }

    pub(crate) fn add(&mut self, o: &AbruptCloses) {
        self.goaway_then_fin += o.goaway_then_fin;
        self.goaway_then_rst += o.goaway_then_rst;
        self.connection_close_then_fin += o.connection_close_then_fin;
        self.connection_close_then_rst += o.connection_close_then_rst;
        self.rst_request_outstanding += o.rst_request_outstanding;
    }
}

/// One finding: a kind, rolled up over the servers or networks it concerns.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub finding: FindingKind,
    pub severity: Severity,
    /// What `by_subject` lists.
    pub subject: SubjectKind,
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
}

/// What a finding's subjects are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SubjectKind {
    #[serde(rename = "server")]
    Server,
    /// A client's /24 (IPv4) or /64 (IPv6).
    #[serde(rename = "client network")]
    ClientNetwork,
}

impl SubjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::Server => "server",
            SubjectKind::ClientNetwork => "client network",
        }
    }
}

impl fmt::Display for SubjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
