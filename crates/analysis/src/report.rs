//! What is reported per TLS flow.

use serde::Serialize;
use std::fmt;
use std::net::IpAddr;
use tlsclose_capture::Endpoint;

/// How a TLS connection ended (spec/endings.md, "The ending, first match wins").
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

/// An alert as reported: `warning:close_notify`, `fatal:unknown_ca`,
/// `encrypted`, `inferred:close_notify`, `inferred:fatal`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct AlertLabel(pub String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TeardownKind {
    Fin,
    Rst,
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

/// One line of a flow's ending "ladder": a late record or a FIN/RST.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LadderStep {
    pub from: Role,
    pub frame: u64,
    pub time: f64,
    pub what: String,
}

/// The verdict and its evidence for one TLS flow.
#[derive(Debug, Clone, Serialize)]
pub struct FlowReport {
    /// Set by the caller (the capture's name) when several inputs are read.
    pub file: String,
    pub client: String,
    pub server: String,
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
    pub version: Option<String>,
    pub sni: Option<String>,
    pub alpn: Option<String>,
    pub cipher: Option<String>,
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
    /// Short remarks on how the verdict was reached (resync, limits hit…).
    pub notes: Vec<String>,
    /// A Wireshark display filter for exactly this flow's frames in its
    /// capture file: addresses, ports and the frame range (which pins it
    /// even when tools number `tcp.stream` differently, or a 4-tuple was
    /// reused).
    pub wireshark_filter: String,
    /// The last records and the FIN/RST of each side, in capture order
    /// (for people: ladders in reports; not part of the JSON line).
    #[serde(skip)]
    pub ladder: Vec<LadderStep>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Alerts {
    pub client: Vec<AlertLabel>,
    pub server: Vec<AlertLabel>,
}

/// A Wireshark display filter for the frames of the connection between `a`
/// and `b` numbered `first_frame..=last_frame` (1-based, as Wireshark).
///
/// `ip.addr` / `ipv6.addr` and `tcp.port` match either direction; the frame
/// range tells apart connections that reused the same 4-tuple.
pub fn wireshark_filter(a: Endpoint, b: Endpoint, first_frame: u64, last_frame: u64) -> String {
    let mut parts: Vec<String> = Vec::with_capacity(6);
    for ip in [a.ip, b.ip] {
        let part = match ip {
            IpAddr::V4(v4) => format!("ip.addr=={v4}"),
            IpAddr::V6(v6) => format!("ipv6.addr=={v6}"),
        };
        if !parts.contains(&part) {
            parts.push(part);
        }
    }
    for port in [a.port, b.port] {
        let part = format!("tcp.port=={port}");
        if !parts.contains(&part) {
            parts.push(part);
        }
    }
    parts.push(format!("frame.number>={first_frame}"));
    parts.push(format!("frame.number<={last_frame}"));
    parts.join(" && ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(s: &str) -> Endpoint {
        let sa: std::net::SocketAddr = s.parse().unwrap_or_else(|_| panic!("{s}"));
        Endpoint {
            ip: sa.ip(),
            port: sa.port(),
        }
    }

    #[test]
    fn wireshark_filter_names_both_ends_and_the_frame_range() {
        assert_eq!(
            wireshark_filter(ep("10.0.0.1:50000"), ep("10.0.0.2:443"), 12, 40),
            "ip.addr==10.0.0.1 && ip.addr==10.0.0.2 && tcp.port==50000 && tcp.port==443 \
             && frame.number>=12 && frame.number<=40"
        );
        // the same address (loopback) or port once
        assert_eq!(
            wireshark_filter(ep("[::1]:443"), ep("[::1]:443"), 1, 2),
            "ipv6.addr==::1 && tcp.port==443 && frame.number>=1 && frame.number<=2"
        );
    }
}
