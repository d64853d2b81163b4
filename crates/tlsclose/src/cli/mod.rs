//! The command line: the arguments ([`Args`], with the report side in
//! [`report`]), resolved once into a [`config::Config`] that the run and
//! the outputs read, and the shell completions and man page generated from
//! them (`generate`).

pub mod config;
pub mod generate;
pub mod report;

use clap::{Parser, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table for people, one row per TLS flow, then a summary.
    Table,
    /// JSON Lines: one object per TLS flow, then one summary object.
    Json,
    /// CSV with a header row: the fields of the JSON lines, nested ones flattened
    /// (the summary goes to standard error).
    Csv,
    /// GitHub-flavoured Markdown tables.
    Markdown,
}

/// How JSON writes the capture's times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TimeFormat {
    /// Seconds since the Unix epoch, a number (1795505858.267995).
    Epoch,
    /// ISO 8601 in UTC, a string (2026-11-23T10:17:38.267995Z).
    Iso,
}

/// Whether several capture files are read as one capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Join {
    /// Files whose times follow one another (tcpdump -C/-G, dumpcap ring
    /// buffers) are one capture; a file that starts before the previous
    /// one ended (another sensor) starts a new one.
    Auto,
    /// Every file continues the previous one.
    Always,
    /// Every file is a capture of its own.
    Never,
}

/// Tells, for every TLS connection in packet captures, how it ended:
/// close_notify then FIN, FIN only, RST, data after an alert, or still open.
#[derive(Debug, Parser)]
#[command(
    name = "tlsclose",
    version,
    about,
    long_about = None,
    max_term_width = 100,
    after_help = SHORT_AFTER,
    after_long_help = LONG_AFTER.as_str()
)]
pub struct Args {
    /// Capture files (pcap or pcapng, optionally gzip-compressed); `-` reads standard input.
    #[arg(required_unless_present = "generate", value_name = "CAPTURE")]
    pub inputs: Vec<String>,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// How JSON writes the capture's times (first_time, last_time, teardown.time).
    #[arg(
        long,
        value_enum,
        value_name = "FORM",
        default_value_t = TimeFormat::Epoch,
        hide_short_help = true
    )]
    pub time_format: TimeFormat,

    /// Seconds of silence after which tlsclose gives up on a flow (not a server idle timeout).
    ///
    /// Give up on a flow (report it as `open`) after this many seconds of capture time without
    /// a segment. This is tlsclose's own limit, not a server's idle timeout: the idle timeouts
    /// that servers and clients close connections after are what --group-by and --audit report.
    /// Keep it well above them (1 to 604800; the old name --idle-timeout works too).
    #[arg(
        long,
        alias = "idle-timeout",
        value_name = "SECONDS",
        default_value_t = 300.0,
        value_parser = flow_timeout
    )]
    pub flow_timeout: f64,

    /// Most connections tracked at once (about 1.4 KB each, 2.1 KB of RSS).
    ///
    /// When a new one finds the table full,
    /// the flows idle the longest are ended early and reported as they are (evicted), so a flood of
    /// half-open connections never turns a real one away.
    #[arg(long, value_name = "N", default_value_t = 100_000, help_heading = LIMITS, hide_short_help = true)]
    pub max_flows: usize,

    /// Most bytes held per direction for out-of-order segments (each held segment counts 128 bytes
    /// more) before the earliest hole is given up as a gap.
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20, help_heading = LIMITS, hide_short_help = true)]
    pub reassembly_limit: usize,

    /// Most bytes held over all flows together for reassembly (out-of-order segments, records and
    /// hellos spanning segments); the flow whose segment goes over gives up its earliest holes as
    /// gaps, then its partial hello.
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 20, help_heading = LIMITS, hide_short_help = true)]
    pub reassembly_total_limit: usize,

    /// Most alerts kept per direction of a flow; more are counted, not kept.
    #[arg(long, value_name = "N", default_value_t = tlsclose_analysis::MAX_ALERTS, help_heading = LIMITS, hide_short_help = true)]
    pub max_alerts: usize,

    /// Longest server name (SNI) or ALPN name kept, in bytes; longer ones are cut (and at most 16
    /// ALPN names are kept).
    #[arg(long, value_name = "BYTES", default_value_t = 255, help_heading = LIMITS, hide_short_help = true)]
    pub max_name_len: usize,

    /// NSS key log (SSLKEYLOGFILE format) to read encrypted alerts with; repeatable.
    ///
    /// The file
    /// named by the SSLKEYLOGFILE environment variable is read too, and so are key logs embedded
    /// in a pcapng (Decryption Secrets Blocks).
    #[arg(long, value_name = "FILE")]
    pub keylog: Vec<String>,

    /// Threads that analyse flows (default: the available cores).
    ///
    /// Flows are spread over them
    /// by their addresses and ports; the output is the same whatever the number.
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,

    /// Read several files as one capture (rotated captures), or not.
    ///
    /// Joined, connections carry over from one file to the next. Frame numbers then count through the joined
    /// files (as in `mergecap -a` of them); `file` names the file where a flow ended.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = Join::Auto)]
    pub join: Join,

    /// Do not print warnings about the input on standard error.
    #[arg(long, short = 'q')]
    pub quiet: bool,

    #[command(flatten)]
    pub report: crate::cli::report::ReportArgs,
}

impl Args {
    /// The number of analysis threads: `--threads`, else the available cores.
    pub fn threads(&self) -> usize {
        match self.threads {
            Some(n) if n > 0 => usize::from(n),
            _ => std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }

    /// Combinations the parser cannot see: a message for the command line
    /// error (exit status 2).
    pub fn check(&self) -> Result<(), String> {
        if self.report.audit && self.format == Format::Csv {
            return Err(
                "--audit writes a table, JSON or Markdown (--format table|json|markdown), \
                        not CSV"
                    .into(),
            );
        }
        if self.time_format == TimeFormat::Iso && self.format != Format::Json {
            return Err(
                "--time-format iso is for --format json (the other formats write no times)".into(),
            );
        }
        Ok(())
    }

    /// A note for a --flow-timeout shorter than the idle timeouts servers
    /// commonly use (nginx's keepalive_timeout is 75 s): their quiet
    /// keep-alive connections are then given up as `open`.
    pub fn flow_timeout_note(&self) -> Option<String> {
        (self.flow_timeout < SHORT_FLOW_TIMEOUT).then(|| {
            format!(
                "--flow-timeout {} s is shorter than the idle timeouts servers commonly use \
                 (60 to 75 s): a connection quiet that long is given up and reported as `open` \
                 (or not recognised as TLS) before its close is seen. It is tlsclose's own \
                 limit; the servers' idle timeouts are what --group-by and --audit report",
                self.flow_timeout
            )
        })
    }
}

/// Below this, `--flow-timeout` gets a note (seconds).
const SHORT_FLOW_TIMEOUT: f64 = 60.0;

/// Most seconds `--flow-timeout` takes: a week.
pub const MAX_FLOW_TIMEOUT: f64 = 604_800.0;

/// `--flow-timeout`: seconds, 1 to a week.
fn flow_timeout(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number of seconds"))?;
    if !(1.0..=MAX_FLOW_TIMEOUT).contains(&v) {
        return Err(format!(
            "{s} s is out of range: 1 to {MAX_FLOW_TIMEOUT} seconds (default 300; it must stay \
             above the idle timeouts of the servers in the capture, or their idle connections \
             are given up as `open`)"
        ));
    }
    Ok(v)
}

/// Help heading of the resource limits.
const LIMITS: &str =
    "Limits (huge or hostile captures; reaching one warns and is counted in the summary)";

/// The exit status, as --help, the man page and the README give it: (status, meaning).
pub const EXIT_STATUS: &[(&str, &str)] = &[
    (
        "0",
        "every input was read (a capture cut short in its last packet counts as read; a warning \
         says so)",
    ),
    (
        "1",
        "all was read, but a selected flow has an ending named in --fail-on, --audit made a \
         finding of a kind named in --fail-on-finding, or --flow matched no flow; standard \
         error says which, and how many flows",
    ),
    (
        "2",
        "an input could not be read, or reading stopped at damage (the flows read before are \
         still reported), an output could not be written, or the command line is wrong; 2 wins \
         over 1",
    ),
    (
        "130",
        "interrupted by SIGINT (Ctrl-C); 143 for SIGTERM: the flows read so far, those still \
         open too, and the summary are written first",
    ),
];

/// The examples of --help and the man page: (what it does, command).
pub const EXAMPLES: &[(&str, &str)] = &[
    (
        "How each connection of a capture ended:",
        "tlsclose capture.pcap",
    ),
    (
        "Findings in plain words (idle timeouts, keep-alive races, truncation risks); fail CI on \
         races:",
        "tlsclose --audit --fail-on-finding keepalive-race capture.pcapng",
    ),
    (
        "A report for a bug ticket, and the packets of the flows that did not close cleanly:",
        "tlsclose --report ticket.md --ending fin-only,rst --extract bad.pcap capture.pcap",
    ),
    (
        "A live capture: a JSON line per flow as it ends (Ctrl-C reports the open flows too):",
        "tcpdump -i any -U -w - 'tcp port 443' | tlsclose -f json -",
    ),
    (
        "A fleet's captures into DuckDB (docs/SCALE.md):",
        "for f in *.pcap; do tlsclose -f json -q \"$f\" > \"out/$f.jsonl\"; done\n\
         duckdb -c \"SELECT server, ending, count(*) AS flows\n  \
         FROM read_json('out/*.jsonl', union_by_name = true)\n  \
         WHERE ending IS NOT NULL GROUP BY ALL ORDER BY ALL\"",
    ),
];

/// `text` wrapped at word boundaries to `width` columns, each line after
/// `indent` spaces.
pub fn wrap_indent(text: &str, width: usize, indent: usize) -> String {
    let mut out = String::new();
    for line in crate::output::table::wrap(text, width.saturating_sub(indent).max(20)) {
        out.push_str(&" ".repeat(indent));
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The exit status as plain text (--help).
fn exit_status_text() -> String {
    let mut s = String::from("Exit status:\n");
    for (code, what) in EXIT_STATUS {
        let body = wrap_indent(what, 98, 7);
        s.push_str(&format!("  {code:<4}{}", body.get(6..).unwrap_or_default()));
    }
    s
}

const SHORT_AFTER: &str = "\
Exit status: 0 all read; 1 --fail-on, --fail-on-finding or --flow (stderr says why); 2 an input
or the command line is wrong; 130 interrupted. --help: the limits, details, examples.";

static LONG_AFTER: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let mut s = exit_status_text();
    s.push_str("\nExamples:\n");
    for (what, cmd) in EXAMPLES {
        s.push_str(&wrap_indent(what, 98, 2));
        for line in cmd.lines() {
            s.push_str(&format!("    {line}\n"));
        }
    }
    s.push_str("\nSee also: tshark(1), tcpdump(8), editcap(1); docs/ in the source: ENDINGS.md, AUDIT.md, \
SCALE.md.");
    s
});
