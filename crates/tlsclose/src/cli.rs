//! Command-line arguments.

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
#[command(name = "tlsclose", version, about, long_about = None, after_help = EXIT_CODES)]
pub struct Args {
    /// Capture files (pcap or pcapng, optionally gzip-compressed); `-` reads standard input.
    #[arg(required_unless_present = "generate", value_name = "CAPTURE")]
    pub inputs: Vec<String>,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// End a flow as `open` after this many seconds of capture time without a segment.
    #[arg(long, value_name = "SECONDS", default_value_t = 300.0)]
    pub idle_timeout: f64,

    /// Most connections tracked at once (about 1.5 KB each). When a new one finds the table full,
    /// the flows idle the longest are ended early and reported as they are (evicted), so a flood of
    /// half-open connections never turns a real one away.
    #[arg(long, value_name = "N", default_value_t = 100_000, help_heading = LIMITS)]
    pub max_flows: usize,

    /// Most bytes held per direction for out-of-order segments (each held segment counts 128 bytes
    /// more) before the earliest hole is given up as a gap.
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20, help_heading = LIMITS)]
    pub reassembly_limit: usize,

    /// Most bytes held over all flows together for reassembly (out-of-order segments, records and
    /// hellos spanning segments); the flow whose segment goes over gives up its earliest holes as
    /// gaps, then its partial hello.
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 20, help_heading = LIMITS)]
    pub reassembly_total_limit: usize,

    /// Most alerts kept per direction of a flow; more are counted, not kept.
    #[arg(long, value_name = "N", default_value_t = tlsclose_analysis::MAX_ALERTS, help_heading = LIMITS)]
    pub max_alerts: usize,

    /// Longest server name (SNI) or ALPN name kept, in bytes; longer ones are cut (and at most 16
    /// ALPN names are kept).
    #[arg(long, value_name = "BYTES", default_value_t = 255, help_heading = LIMITS)]
    pub max_name_len: usize,

    /// NSS key log (SSLKEYLOGFILE format) to read encrypted alerts with; repeatable. The file
    /// named by the SSLKEYLOGFILE environment variable is read too, and so are key logs embedded
    /// in a pcapng (Decryption Secrets Blocks).
    #[arg(long, value_name = "FILE")]
    pub keylog: Vec<String>,

    /// Threads that analyse flows (default: the available cores). Flows are spread over them
    /// by their addresses and ports; the output is the same whatever the number.
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,

    /// Read several files as one capture, so that connections carry over from one file to
    /// the next (rotated captures), or not. Frame numbers then count through the joined
    /// files (as in `mergecap -a` of them); `file` names the file where a flow ended.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = Join::Auto)]
    pub join: Join,

    /// Do not print warnings about the input on standard error.
    #[arg(long, short = 'q')]
    pub quiet: bool,

    #[command(flatten)]
    pub report: crate::report_args::ReportArgs,
}

impl Args {
    /// The number of analysis threads: `--threads`, else the available cores.
    pub fn threads(&self) -> usize {
        match self.threads {
            Some(n) if n > 0 => n,
            _ => std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// Help heading of the resource limits.
const LIMITS: &str =
    "Limits (huge or hostile captures; reaching one warns and is counted in the summary)";

const EXIT_CODES: &str = "\
Exit status:
  0  every input was read (a capture cut short in its last packet still counts as read; a warning says so)
  1  all was read, but a selected flow has an ending listed in --fail-on, or --flow matched no flow
  2  an input could not be read at all, or reading stopped at damage (flows read before it are still
     reported), an output could not be written, or the command line is wrong; 2 wins over 1";
