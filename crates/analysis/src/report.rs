//! What is reported per TLS flow.

use serde::Serialize;
use std::fmt;
pub use tlsclose_capture::{write_ip, Endpoint, Text};
use tlsclose_decrypt::{KeyError, RecordError};
pub use tlsclose_http::{h2_error_name, Protocol as HttpProtocol};
use tlsclose_tls::{Alert, AlertLevel, CipherSuite, ContentType, ProtocolVersion};

/// How a TLS connection ended (docs/ENDINGS.md, "The ending, first match wins").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
pub enum Ending {
    #[serde(rename = "close_notify-then-fin")]
    CloseNotifyThenFin,
    #[serde(rename = "fin-only")]
    FinOnly,
    #[serde(rename = "rst")]
    Rst,
    #[serde(rename = "data-after-alert")]
    DataAfterAlert,
    #[serde(rename = "open")]
    Open,
}

impl Ending {
    pub const ALL: [Ending; 5] = [
        Ending::CloseNotifyThenFin,
        Ending::FinOnly,
        Ending::Rst,
        Ending::DataAfterAlert,
        Ending::Open,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Ending::CloseNotifyThenFin => "close_notify-then-fin",
            Ending::FinOnly => "fin-only",
            Ending::Rst => "rst",
            Ending::DataAfterAlert => "data-after-alert",
            Ending::Open => "open",
        }
    }
    pub fn parse(s: &str) -> Option<Ending> {
        Ending::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

impl fmt::Display for Ending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Client or server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Client,
    Server,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Client => "client",
            Role::Server => "server",
        }
    }
    pub fn peer(self) -> Role {
        match self {
            Role::Client => Role::Server,
            Role::Server => Role::Client,
        }
    }
}

/// Who sent the first teardown segment (FIN or RST).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Closer {
    Client,
    Server,
    None,
}

impl Closer {
    pub fn as_str(self) -> &'static str {
        match self {
            Closer::Client => "client",
            Closer::Server => "server",
            Closer::None => "none",
        }
    }
}

impl From<Role> for Closer {
    fn from(r: Role) -> Closer {
        match r {
            Role::Client => Closer::Client,
            Role::Server => Closer::Server,
        }
    }
}

/// Whether a side's close_notify was read, deduced, or not there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CloseNotify {
    Seen,
    Inferred,
    None,
}

impl CloseNotify {
    pub fn as_str(self) -> &'static str {
        match self {
            CloseNotify::Seen => "seen",
            CloseNotify::Inferred => "inferred",
            CloseNotify::None => "none",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Certain,
    Likely,
    Unknown,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Certain => "certain",
            Confidence::Likely => "likely",
            Confidence::Unknown => "unknown",
        }
    }
    /// One step less sure (a gap in the evidence).
    pub fn weakened(self) -> Confidence {
        match self {
            Confidence::Certain => Confidence::Likely,
            _ => Confidence::Unknown,
        }
    }
}

/// An alert as reported. Its JSON form (and `Display`) is a token:
/// `warning:close_notify`, `fatal:unknown_ca`, `fatal:200` (a description
/// without a name), `encrypted`, `inferred:close_notify`, `inferred:fatal`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertLabel {
    /// Read in plaintext or with keys (levels other than fatal read as
    /// warning).
    Read(Alert),
    /// An encrypted alert nothing could be deduced from.
    Encrypted,
    /// Deduced without keys (docs/ENDINGS.md, "Without keys").
    InferredCloseNotify,
    InferredFatal,
}

impl AlertLabel {
    /// The label's text (`warning:close_notify`, `fatal:40`, `encrypted`,
    /// `inferred:close_notify`) into `out`; it needs no JSON escaping
    /// (registry names are ASCII words).
    pub fn write_to(&self, out: &mut impl Text) -> fmt::Result {
        match self {
            AlertLabel::Read(a) => {
                out.put(if a.level == AlertLevel::FATAL {
                    "fatal:"
                } else {
                    "warning:"
                })?;
                match a.description.name() {
                    Some(name) => out.put(name),
                    None => out.put(itoa::Buffer::new().format(a.description.0)),
                }
            }
            AlertLabel::Encrypted => out.put("encrypted"),
            AlertLabel::InferredCloseNotify => out.put("inferred:close_notify"),
            AlertLabel::InferredFatal => out.put("inferred:fatal"),
        }
    }
}

impl fmt::Display for AlertLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_to(f)
    }
}

impl Serialize for AlertLabel {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The flow's protocol version. Serialises as the tls crate names it
/// (`TLS 1.2`, `TLS 1.3 (draft 14)`, `0x0305`), or `SSL 2.0 ClientHello`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// The ServerHello's (or its supported_versions extension's).
    Negotiated(ProtocolVersion),
    /// No ServerHello was read, but the client sent an SSLv2-format
    /// ClientHello.
    Sslv2ClientHello,
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Version::Negotiated(v) => v.fmt(f),
            Version::Sslv2ClientHello => f.write_str("SSL 2.0 ClientHello"),
        }
    }
}

impl Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The cipher suite the server chose. Serialises as its IANA name, or
/// `0x%04x` when it has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cipher(pub CipherSuite);

impl fmt::Display for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // the tls crate's name, or 0x%04x
        self.0.fmt(f)
    }
}

impl Serialize for Cipher {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TeardownKind {
    Fin,
    Rst,
}

impl TeardownKind {
    /// Its serde name.
    pub fn as_str(self) -> &'static str {
        match self {
            TeardownKind::Fin => "fin",
            TeardownKind::Rst => "rst",
        }
    }
}

/// The first FIN or RST of the flow.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Teardown {
    pub kind: TeardownKind,
    pub by: Role,
    pub frame: u64,
    /// Seconds since the Unix epoch.
    pub time: f64,
}

/// What kind of HTTP-level announcement of the close came first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HttpCloseKind {
    /// `Connection: close` in a request (the client's) or a response.
    ConnectionClose,
    /// An HTTP/2 GOAWAY frame.
    Goaway,
}

impl HttpCloseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HttpCloseKind::ConnectionClose => "connection-close",
            HttpCloseKind::Goaway => "goaway",
        }
    }
}

/// The first HTTP-level announcement of the close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpClose {
    pub kind: HttpCloseKind,
    pub by: Role,
    /// The frame that completed the record carrying it.
    pub frame: u64,
    /// GOAWAY: its error code (None: its payload was too short).
    pub error_code: Option<u32>,
    /// GOAWAY: its last stream id.
    pub last_stream_id: Option<u32>,
}

/// What was read of the flow's HTTP with keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpReport {
    pub protocol: HttpProtocol,
    pub close: Option<HttpClose>,
    /// GOAWAY frames, both sides (0 for HTTP/1.1).
    pub goaways: u32,
    /// Requests begun.
    pub requests: u64,
    /// The last response ended (Content-Length, last chunk, END_STREAM;
    /// a response delimited by the close: the server's close_notify);
    /// None when no response began or its end was not read.
    pub response_complete: Option<bool>,
}

/// Whether the close was meant (docs/ENDINGS.md, "Why it closed").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CloseKind {
    /// An HTTP-level close was announced, then the closer sent close_notify.
    Graceful,
    /// An announcement followed by a bare FIN or RST, or a close with a
    /// request outstanding or a response cut short and no close_notify.
    Abrupt,
    /// Nothing was announced and nothing was cut: an idle close.
    Idle,
    /// Not read with keys, not HTTP, or not closed.
    Unknown,
}

impl CloseKind {
    pub const ALL: [CloseKind; 4] = [
        CloseKind::Graceful,
        CloseKind::Abrupt,
        CloseKind::Idle,
        CloseKind::Unknown,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            CloseKind::Graceful => "graceful",
            CloseKind::Abrupt => "abrupt",
            CloseKind::Idle => "idle",
            CloseKind::Unknown => "unknown",
        }
    }
}

impl fmt::Display for CloseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an alert deduced without keys likely was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Likely {
    CloseNotify,
    Fatal,
}

/// What one line of a ladder shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LadderEvent {
    /// An alert whose level and description were read (in plaintext, or
    /// with keys: `decrypted`).
    Alert {
        alert: Alert,
        decrypted: bool,
    },
    /// An encrypted alert record; `likely` when the keyless inference
    /// read it as one.
    EncryptedAlert {
        length: u16,
        likely: Option<Likely>,
    },
    /// Another record; `decrypted` is its inner content type when keys
    /// read it as something else than its outer type.
    Record {
        content_type: ContentType,
        length: u16,
        decrypted: Option<ContentType>,
    },
    Fin,
    Rst,
}

impl LadderEvent {
    pub fn is_teardown(self) -> bool {
        matches!(self, LadderEvent::Fin | LadderEvent::Rst)
    }
}

/// A ladder line that is the peer's data in a keep-alive race.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RaceMark {
    /// Seconds after the other side's first close signal.
    pub window: f64,
    /// The other side's RST that answered it (None: never answered).
    pub rst_frame: Option<u64>,
}

/// One line of a flow's ending "ladder": a late record or a FIN/RST.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LadderStep {
    pub from: Role,
    pub frame: u64,
    pub time: f64,
    pub event: LadderEvent,
    /// This record is the data of a keep-alive race.
    pub race: Option<RaceMark>,
    /// This record carried the flow's first HTTP-level announcement of
    /// the close (a GOAWAY, `Connection: close`), read with keys.
    pub http_close: Option<HttpClose>,
}

/// Why the keys could not be used for a flow at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyUnusable {
    /// No ClientHello: the capture started mid-connection.
    NoClientHello,
    /// The key logs have no secrets for this client random.
    NoSecrets,
    /// The secrets could not be turned into keys.
    Setup(KeyError),
    /// The extended master secret needs the handshake hashed, and it was
    /// not all read.
    EmsTranscriptNotRead,
    /// A pre-master secret was logged, but the ClientKeyExchange was not
    /// read.
    KeyExchangeNotRead,
}

/// Why a direction stopped being read with keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlindWhy {
    /// A renegotiation brought keys the key log does not have.
    RenegotiatedUnknownKeys,
    /// This many records in a row did not decrypt.
    FailuresInARow(u32),
    /// Renegotiated, and the key log has no secrets for the new client
    /// random.
    RenegotiatedNoSecrets,
    /// Renegotiated, and its secrets could not be turned into keys.
    RenegotiatedSetup(KeyError),
    /// Renegotiated, and the new handshake's hellos were not read.
    RenegotiatedHellosNotRead,
}

/// What became of a direction after a record failed to decrypt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterFailure {
    /// It was read without keys from `frame` on.
    Blind { frame: u64, why: BlindWhy },
    /// It was read without keys: no record decrypted.
    NothingDecrypted,
    /// Its other records were read.
    OthersRead,
}

/// Why keys did not serve a flow, or part of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyNote {
    Unusable(KeyUnusable),
    /// A record of `side` did not decrypt at `frame` (and `more` after it).
    Failed {
        side: Role,
        frame: u64,
        error: RecordError,
        more: u64,
        then: AfterFailure,
    },
    /// `side` was read without keys from `frame` on.
    Blind {
        side: Role,
        frame: u64,
        why: BlindWhy,
    },
    /// Keys were given but the hellos were never read (a capture cut
    /// short, a snapshot length).
    HellosNotRead,
    /// TLS 1.3: `records` handshake records of `side` not read, the key
    /// log having only the application traffic secrets.
    HandshakeUnkeyed {
        side: Role,
        records: u64,
    },
}

/// A remark on how a verdict was reached (resynchronisation, limits
/// reached, keys that did not serve…). `side` is whose direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// Bytes never captured, in `gaps` holes.
    Gap {
        side: Role,
        bytes: u64,
        gaps: u64,
    },
    /// The direction's out-of-order buffer limit forced a hole.
    ReassemblyLimit {
        side: Role,
        times: u64,
    },
    /// The limit on out-of-order bytes over all flows forced a hole.
    TotalLimit {
        side: Role,
        times: u64,
    },
    /// The record layer lost and found its place again.
    Resynced {
        side: Role,
        times: u64,
    },
    /// Alerts beyond the first `kept` were counted, not kept.
    AlertsDropped {
        side: Role,
        dropped: u64,
        kept: usize,
    },
    /// Segments cut by the snapshot length.
    Truncated,
    /// The server name or ALPN was longer than the name limits.
    NamesCut,
    /// The partial hello and record bodies were dropped: the bytes held
    /// over all flows were at their limit.
    BuffersShed,
    /// Ended early: the flow table was full and this flow idle the longest.
    Evicted,
    /// The capture's timestamps stepped back, or a frame's was an outlier,
    /// within the flow: its times are the frames' own, its durations are
    /// counted on the capture clock.
    ClockStep,
    Keys(KeyNote),
}

/// The verdict and its evidence for one TLS flow: data only. The binary
/// words it (notes, ladders, the Wireshark filter) and writes every
/// format; the JSON form of each field is documented in
/// `docs/schema.json`.
#[derive(Debug, Clone)]
pub struct FlowReport {
    /// Set by the caller (the capture's name) when several inputs are read.
    pub file: String,
    pub client: Endpoint,
    pub server: Endpoint,
    pub ending: Ending,
    pub closer: Closer,
    pub client_close_notify: CloseNotify,
    pub server_close_notify: CloseNotify,
    /// The side that did not send the first close_notify sent its own
    /// after it.
    pub close_notify_answered: bool,
    /// Who sent the first close signal of any kind (close_notify, fatal
    /// alert, FIN or RST).
    pub initiator: Closer,
    /// The initiator had sent close_notify or FIN, and afterwards its peer
    /// sent application data that was answered by RST or never answered.
    pub keepalive_race: bool,
    /// Seconds from the initiator's first close signal to the peer's data
    /// (null when no race).
    pub race_window_s: Option<f64>,
    /// Frame of the peer's data in a keep-alive race.
    pub race_frame: Option<u64>,
    /// Seconds without records before the initiator's first close signal
    /// (what an idle timeout measures).
    pub idle_before_first_signal: Option<f64>,
    pub version: Option<Version>,
    pub sni: Option<String>,
    pub alpn: Option<String>,
    pub cipher: Option<Cipher>,
    pub confidence: Confidence,
    /// The flow's records were read with keys (a key log or a pcapng
    /// Decryption Secrets Block) from the hellos to the end.
    pub decrypted: bool,
    pub alerts: Alerts,
    /// Seconds without application traffic before the closing began.
    pub idle_before_close: Option<f64>,
    pub teardown: Option<Teardown>,
    pub teardown_frame: Option<u64>,
    pub first_frame: u64,
    pub last_frame: u64,
    pub first_time: f64,
    pub last_time: f64,
    pub packets: u64,
    /// Application-data bytes (record bodies) client→server and server→client.
    pub app_bytes: [u64; 2],
    /// Some bytes were never captured (a hole in the TCP stream).
    pub gap: bool,
    /// Some segments were cut by the snapshot length.
    pub incomplete: bool,
    /// The capture started after the connection did (no SYN).
    pub midstream: bool,
    /// How the verdict was reached (resync, limits hit…).
    pub notes: Vec<Note>,
    /// The last records and the FIN/RST of each side, in capture order
    /// (for people: ladders in reports; not part of the JSON line). Empty
    /// unless the analyzer was asked for ladders.
    pub ladder: Vec<LadderStep>,
    /// The HTTP read with keys (None: no keys, or not HTTP).
    pub http: Option<HttpReport>,
    /// Whether the close was meant (`unknown` without keys).
    pub close_kind: CloseKind,
    /// Read with keys: a response was cut short by a FIN or RST whose
    /// sender had sent no close_notify (None: no HTTP read).
    pub response_truncated: Option<bool>,
    /// The keep-alive race's data was read with keys: whether it began a
    /// request (None: no race, or read without keys, when any application
    /// data counts and a GOAWAY or PING ACK may be taken for a request).
    pub race_request: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Alerts {
    pub client: Vec<AlertLabel>,
    pub server: Vec<AlertLabel>,
}
