//! Command-line options of the report side: what to show (`--group-by`,
//! `--report`, `--flow`), which flows (`--ending`, `--server`, …), what to
//! write (`--extract`), when to fail (`--fail-on`), and the generated shell
//! completions and man page. Flattened into [`crate::cli::Args`].

use clap::builder::PossibleValue;
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use tlsclose_analysis::Ending;
use tlsclose_audit::group::GroupBy;
use tlsclose_audit::select::{AddrPattern, FlowSel, Glob, Selection};
use tlsclose_audit::FindingKind;

/// An ending, as written in the reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EndingArg {
    /// close_notify, then FIN (a clean close)
    #[value(name = "close_notify-then-fin", alias = "close-notify-then-fin")]
    CloseNotifyThenFin,
    /// FIN without close_notify before it
    #[value(name = "fin-only")]
    FinOnly,
    /// RST came first
    #[value(name = "rst")]
    Rst,
    /// application data after a close_notify or fatal alert
    #[value(name = "data-after-alert")]
    DataAfterAlert,
    /// no FIN or RST by the end of the capture
    #[value(name = "open")]
    Open,
}

impl From<EndingArg> for Ending {
    fn from(e: EndingArg) -> Ending {
        match e {
            EndingArg::CloseNotifyThenFin => Ending::CloseNotifyThenFin,
            EndingArg::FinOnly => Ending::FinOnly,
            EndingArg::Rst => Ending::Rst,
            EndingArg::DataAfterAlert => Ending::DataAfterAlert,
            EndingArg::Open => Ending::Open,
        }
    }
}

/// A `--group-by` value: what the audit crate's [`GroupBy`] groups by,
/// named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupArg(pub GroupBy);

impl ValueEnum for GroupArg {
    fn value_variants<'a>() -> &'a [Self] {
        &[
            GroupArg(GroupBy::Server),
            GroupArg(GroupBy::Client),
            GroupArg(GroupBy::Sni),
            GroupArg(GroupBy::Ending),
        ]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.0.as_str()).help(self.0.about()))
    }
}

/// A `--fail-on-finding` value: a [`FindingKind`] by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FindingArg(pub FindingKind);

impl ValueEnum for FindingArg {
    fn value_variants<'a>() -> &'a [Self] {
        &[
            FindingArg(FindingKind::KeepaliveRace),
            FindingArg(FindingKind::IdleReset),
            FindingArg(FindingKind::TruncationRisk),
            FindingArg(FindingKind::NoCloseNotify),
            FindingArg(FindingKind::AbruptClose),
            FindingArg(FindingKind::ClientReset),
            FindingArg(FindingKind::IdleTimeout),
        ]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.0.as_str()).help(self.0.about()))
    }
}

/// What `--generate` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Generate {
    Bash,
    Zsh,
    Fish,
    Elvish,
    Powershell,
    /// the man page (roff), e.g. `tlsclose --generate man > tlsclose.1`
    Man,
}

#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// Show every column of a table.
    ///
    /// By default a table printed on a terminal (or with the
    /// COLUMNS environment variable set) fits its width: the least important columns are
    /// left out, and a line under the table names them.
    #[arg(long, help_heading = "Reports")]
    pub wide: bool,

    /// One row per group instead of per flow, with each server's idle timeout.
    ///
    /// Per group: flows, each ending's count and share, who
    /// closed, how often each side sent close_notify, median and longest idle time before
    /// the close, keep-alive races, and the server's and the clients' idle timeouts (the
    /// idle time most of their own closes agree on); with keys, the closes by close_kind
    /// (graceful, abrupt, idle, unknown). Works with every --format.
    #[arg(long, value_enum, value_name = "KEY", help_heading = "Reports")]
    pub group_by: Option<GroupArg>,

    /// Also write a report for a bug ticket (Markdown, or HTML for a .html name).
    ///
    /// Conclusion first: a few sentences from the audit's findings, what was read (files,
    /// time span, command line), the findings, the endings and the per-server table, then each
    /// flow that did not end close_notify-then-fin or raced the close, with its Wireshark filter
    /// and a diagram of how it ended (Mermaid in Markdown, which GitHub draws). The Markdown
    /// stays under 60,000 characters (a GitHub comment holds 65,536) unless --report-flows asks
    /// for more. A name ending in .html writes an HTML page instead (inline SVG charts, a table
    /// of contents and collapsible ladders).
    #[arg(long, value_name = "FILE.md", help_heading = "Reports")]
    pub report: Option<PathBuf>,

    /// Flows described one by one in --report (the others are counted).
    ///
    /// By default, in Markdown as many as fit in 60,000 characters, in HTML 100. A number
    /// describes that many (the first in the capture), whatever the size.
    #[arg(
        long,
        value_name = "N",
        help_heading = "Reports",
        hide_short_help = true
    )]
    pub report_flows: Option<usize>,

    /// Show one flow in detail: its number (the table's #), or CLIENT-SERVER.
    ///
    /// Its facts and how it ended, packet by packet: its number (the table's #, JSON's flow:
    /// the flow's first frame, counted through the inputs in the order given), or
    /// CLIENT-SERVER as ip:port-ip:port ([addr]:port for IPv6).
    #[arg(
        long,
        value_name = "N|CLIENT-SERVER",
        conflicts_with = "group_by",
        help_heading = "Reports"
    )]
    pub flow: Option<FlowSel>,

    /// Write the packets of the selected flows to a new capture (use with a filter).
    ///
    /// The selected flows are those left by the filters (--ending, --server, …); the capture is
    /// in the input's format and link type (pcapng keeps its interfaces and decryption secrets).
    /// Reads the input a second time, so not for standard input.
    #[arg(long, value_name = "OUT", help_heading = "Reports")]
    pub extract: Option<PathBuf>,

    /// Only flows with one of these endings (comma-separated).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        value_name = "ENDINGS",
        help_heading = "Selecting flows"
    )]
    pub ending: Vec<EndingArg>,

    /// Only flows to this server (ADDR[:PORT], ADDR/PREFIX, [IPv6]:PORT; repeatable).
    ///
    /// Written as ADDR, ADDR:PORT, ADDR/PREFIX[:PORT] or [IPv6]:PORT.
    #[arg(long, value_name = "ADDR[:PORT]", help_heading = "Selecting flows")]
    pub server: Vec<AddrPattern>,

    /// Only flows from this client, written as for --server (repeatable).
    #[arg(long, value_name = "ADDR[:PORT]", help_heading = "Selecting flows")]
    pub client: Vec<AddrPattern>,

    /// Only flows whose SNI matches this pattern (`*`, `?`; any case; repeatable).
    ///
    /// `*` matches any characters, `?` one; case does not matter.
    #[arg(long, value_name = "PATTERN", help_heading = "Selecting flows")]
    pub sni: Vec<Glob>,

    /// Only flows with this port on either side (comma-separated).
    #[arg(
        long,
        value_name = "N",
        value_delimiter = ',',
        help_heading = "Selecting flows"
    )]
    pub port: Vec<u16>,

    /// Instead of the flows, findings in plain words: idle timeouts, races, truncation risks.
    ///
    /// One finding per kind, most severe first, rolled up over the servers (or client
    /// networks, /24 or /64) it concerns, with counts, the servers most concerned, example
    /// flows (--examples) and what to do: requests that raced servers' idle timeouts, servers
    /// that reset idle connections, truncation risks, servers that never send close_notify,
    /// servers that close abruptly (with keys: GOAWAY then a bare FIN), clients that reset,
    /// servers' idle timeouts. Table, JSON or Markdown (--format).
    #[arg(long, conflicts_with_all = ["group_by", "flow"], help_heading = "Reports")]
    pub audit: bool,

    /// With --audit: example flows per finding (their --flow numbers and Wireshark filters).
    #[arg(
        long,
        value_name = "N",
        default_value_t = tlsclose_audit::EXAMPLES,
        value_parser = clap::value_parser!(u16).range(0..=100),
        requires = "audit",
        help_heading = "Reports",
        hide_short_help = true
    )]
    pub examples: u16,

    /// With --audit: exit with status 1 when a finding of one of these kinds is made.
    ///
    /// Comma-separated kinds, e.g. --fail-on-finding keepalive-race,truncation-risk in CI.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        value_name = "KINDS",
        requires = "audit",
        help_heading = "CI"
    )]
    pub fail_on_finding: Vec<FindingArg>,

    /// Exit with status 1 when a selected flow has one of these endings.
    ///
    /// Comma-separated endings, e.g. --fail-on fin-only,rst in CI.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        value_name = "ENDINGS",
        help_heading = "CI"
    )]
    pub fail_on: Vec<EndingArg>,

    /// No progress bar (it is shown on standard error only when that is a terminal).
    #[arg(long, hide_short_help = true)]
    pub no_progress: bool,

    /// Print a shell completion script or the man page, and exit.
    #[arg(
        long,
        value_enum,
        value_name = "WHAT",
        exclusive = true,
        hide_short_help = true
    )]
    pub generate: Option<Generate>,
}

impl ReportArgs {
    pub fn selection(&self) -> Selection {
        Selection {
            endings: self.ending.iter().map(|&e| e.into()).collect(),
            servers: self.server.clone(),
            clients: self.client.clone(),
            snis: self.sni.clone(),
            ports: self.port.clone(),
            tuple: match self.flow {
                Some(FlowSel::Tuple(a, b)) => Some((a, b)),
                _ => None,
            },
        }
    }

    pub fn fail_on(&self) -> Vec<Ending> {
        self.fail_on.iter().map(|&e| e.into()).collect()
    }

    /// Whether some output shows ladders (the analysis skips them otherwise).
    /// `--audit` reads whose data came last from them.
    pub fn wants_ladder(&self) -> bool {
        self.report.is_some() || self.flow.is_some() || self.audit
    }
}
