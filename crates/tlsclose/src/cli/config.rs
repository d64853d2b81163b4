//! The command line resolved once: [`Config::new`] takes the parsed
//! [`Args`], checks the combinations the parser cannot see, and settles
//! every choice the run and the outputs depend on (which output, the
//! terminal's width, the threads, the analysis limits, the filters).
//! Downstream code reads a [`Config`], never the raw arguments.

use crate::cli::report::Generate;
use crate::cli::{Args, Format, Join, TimeFormat};
use std::path::PathBuf;
use tlsclose_analysis::{AnalyzerConfig, Ending, FlowLimits};
use tlsclose_audit::group::GroupBy;
use tlsclose_audit::select::{FlowSel, Selection};
use tlsclose_audit::FindingKind;
use tlsclose_tcp::FlowTableConfig;
use tlsclose_tls::HelloLimits;

/// What goes to standard output.
#[derive(Debug, Clone)]
pub enum Output {
    /// One line or row per flow (the table, JSON Lines, CSV, Markdown).
    Flows(Format),
    /// `--flow`: one flow in detail.
    Detail(FlowSel, Format),
    /// `--group-by`.
    Groups(GroupBy, Format),
    /// `--audit`, failing on these finding kinds.
    Audit(Format, Vec<FindingKind>),
}

/// `--report FILE`.
#[derive(Debug, Clone)]
pub struct ReportFile {
    pub path: PathBuf,
    /// HTML for a `.html` or `.htm` name, else Markdown.
    pub html: bool,
    /// `--report-flows`: flows described one by one.
    pub flows: Option<usize>,
}

/// The run as the command line asks for it.
#[derive(Debug, Clone)]
pub struct Config {
    pub inputs: Vec<String>,
    /// Whether an input is live (a pipe, a FIFO, standard input from one).
    pub live: bool,
    /// Analysis threads (1 for a live input).
    pub threads: usize,
    pub join: Join,
    pub quiet: bool,
    /// A progress line on standard error.
    pub progress: bool,
    /// `--keylog` files (SSLKEYLOGFILE is read beside them).
    pub keylogs: Vec<String>,
    pub analyzer: AnalyzerConfig,
    pub output: Output,
    /// Columns a table may use (`None`: as wide as it takes).
    pub width: Option<usize>,
    /// JSON times as ISO 8601.
    pub iso: bool,
    /// Show each flow's file (several inputs).
    pub show_file: bool,
    pub selection: Selection,
    pub fail_on: Vec<Ending>,
    pub report: Option<ReportFile>,
    /// Example flows per finding.
    pub examples: usize,
    pub extract: Option<PathBuf>,
    pub generate: Option<Generate>,
    /// A note to print before the run (a short `--flow-timeout`).
    pub note: Option<String>,
}

impl Config {
    /// The arguments resolved; `Err`: a combination they cannot have (a
    /// command line error).
    pub fn new(args: Args) -> Result<Config, String> {
        args.check()?;
        let r = &args.report;
        let live = crate::run::source::any_live(&args.inputs);
        let output = match (r.flow, r.group_by, args.format) {
            (None, None, format) if r.audit => {
                Output::Audit(format, r.fail_on_finding.iter().map(|k| k.0).collect())
            }
            (Some(sel), _, format) => Output::Detail(sel, format),
            (None, Some(by), format) => Output::Groups(by.0, format),
            (None, None, format) => Output::Flows(format),
        };
        let report = r.report.as_ref().map(|path| ReportFile {
            html: path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm")),
            path: path.clone(),
            flows: r.report_flows,
        });
        let analyzer = AnalyzerConfig {
            table: FlowTableConfig {
                idle_timeout_ns: (args.flow_timeout.max(0.0) * 1e9) as i64,
                max_flows: args.max_flows.max(1),
                reassembly_limit: args.reassembly_limit,
                reassembly_total_limit: args.reassembly_total_limit,
                ..FlowTableConfig::default()
            },
            limits: FlowLimits {
                max_alerts: args.max_alerts,
                hello: HelloLimits {
                    max_name_len: args.max_name_len,
                    ..HelloLimits::default()
                },
            },
            // the table and JSON Lines do not show ladders; outputs that do
            // (a report, one flow's details, the audit) turn this on
            ladder: r.wants_ladder(),
            ..AnalyzerConfig::default()
        };
        Ok(Config {
            // a live input comes at a network's pace, and each flow's line
            // goes out as it ends: one thread
            threads: if live { 1 } else { args.threads() },
            live,
            join: args.join,
            quiet: args.quiet,
            progress: crate::run::progress::wanted(args.quiet || r.no_progress),
            keylogs: args.keylog.clone(),
            analyzer,
            output,
            width: crate::output::sink::terminal_width(r.wide),
            iso: args.time_format == TimeFormat::Iso,
            show_file: args.inputs.len() > 1,
            selection: r.selection(),
            fail_on: r.fail_on(),
            report,
            examples: usize::from(r.examples),
            extract: r.extract.clone(),
            generate: r.generate,
            note: args.flow_timeout_note().filter(|_| !args.quiet),
            inputs: args.inputs,
        })
    }

    /// `--flow N`: the flow whose first frame is N.
    pub fn pick(&self) -> Option<u64> {
        match self.output {
            Output::Detail(FlowSel::Number(n), _) => Some(n),
            _ => None,
        }
    }

    /// Whether the output is the flow table (collected, printed at the end).
    pub fn table_listing(&self) -> bool {
        matches!(self.output, Output::Flows(Format::Table))
    }
}
