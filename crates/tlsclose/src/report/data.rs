//! What both `--report` formats (Markdown, [`crate::report::markdown`]; HTML,
//! [`crate::report::html`]) collect from the selected flows, and the facts of the
//! run they both print: the endings, the per-server counts, the audit's
//! evidence (the reports make the findings themselves, with or without
//! `--audit`), the flows described one by one, the inputs read and the
//! command line. Memory: per server and per client network (as `--audit`),
//! and the described flows kept.

use crate::output::sink::{Flow, RunEnd};
use crate::report::flows::Described;
use std::io;
use tlsclose_analysis::Ending;
use tlsclose_audit::group::{GroupBy, Groups};
use tlsclose_audit::units::{format_bytes, format_span, plural, utc};
use tlsclose_audit::{Auditor, Finding};

/// Flows kept for a report when `--report-flows` is not given: the HTML
/// report draws them all, the Markdown report as many as fit its budget.
pub const DEFAULT_FLOWS: usize = 100;

/// Inputs listed one by one; the others are counted.
const INPUTS_LISTED: usize = 20;

/// The command line is cut after this many characters (a run over
/// thousands of files).
const COMMAND_MAX: usize = 1000;

pub struct ReportData {
    pub selected: u64,
    pub servers: Groups,
    /// The flows described one by one.
    pub described: Described,
    audit: Auditor,
    pub command: String,
}

impl ReportData {
    /// `limit`: the described flows kept; `examples`: per finding.
    pub fn new(limit: usize, examples: usize) -> ReportData {
        ReportData {
            selected: 0,
            servers: Groups::new(GroupBy::Server),
            described: Described::new(limit),
            audit: Auditor::new(examples),
            command: command_line(),
        }
    }

    pub fn add(&mut self, flow: &Flow) -> io::Result<()> {
        let r = &flow.report;
        self.selected += 1;
        self.servers.add(r);
        self.described.offer(flow);
        self.audit.add(r, flow.id);
        Ok(())
    }

    /// The audit's findings, most severe first.
    pub fn findings(&self) -> Vec<Finding> {
        self.audit.findings()
    }

    /// Selected flows that ended `e` (over every server).
    pub fn count(&self, e: Ending) -> u64 {
        self.servers.count(e)
    }
}

/// One input as a report lists it.
pub struct InputFact {
    /// The path as given (None: standard input).
    pub name: Option<String>,
    /// `pcap, 136.7 KiB, 756 frames, 42 TLS flows`.
    pub what: String,
    /// `2026-12-03 00:28:19.067 UTC to 2026-12-03 00:28:22.572 UTC (3.5s)`.
    pub span: Option<String>,
}

/// The inputs, the first [`INPUTS_LISTED`], and a line counting the others.
pub fn input_facts(end: &RunEnd<'_>) -> (Vec<InputFact>, Option<String>) {
    let listed = end
        .inputs
        .iter()
        .take(INPUTS_LISTED)
        .map(|i| {
            let mut what = vec![];
            if let Some(f) = i.format {
                what.push(format!("{f}{}", if i.gzip { ", gzip" } else { "" }));
            }
            match i.size {
                Some(size) => what.push(format_bytes(size)),
                None => what.push(format!("{} read", format_bytes(i.bytes_read))),
            }
            what.push(format!("{} frame{}", i.frames, plural(i.frames)));
            what.push(format!("{} TLS flow{}", i.tls_flows, plural(i.tls_flows)));
            if i.failed {
                what.push("reading stopped at an error".into());
            }
            InputFact {
                name: (i.name != "-").then(|| i.name.clone()),
                what: what.join(", "),
                span: match (i.first_ts, i.last_ts) {
                    (Some(a), Some(b)) => Some(format!(
                        "{} to {} ({})",
                        utc(a.as_secs_f64()),
                        utc(b.as_secs_f64()),
                        format_span(b.secs_since(a))
                    )),
                    _ => None,
                },
            }
        })
        .collect();
    let rest = end.inputs.get(INPUTS_LISTED..).unwrap_or_default();
    let more = (!rest.is_empty()).then(|| {
        let frames: u64 = rest.iter().map(|i| i.frames).sum();
        format!(
            "{} more capture{} ({frames} frame{})",
            rest.len(),
            plural(rest.len() as u64),
            plural(frames)
        )
    });
    (listed, more)
}

/// The time span of the whole run (all inputs), when frames were read.
pub fn time_span(end: &RunEnd<'_>) -> Option<String> {
    let first = end.inputs.iter().filter_map(|i| i.first_ts).min()?;
    let last = end.inputs.iter().filter_map(|i| i.last_ts).max()?;
    Some(format!(
        "{} to {} ({})",
        utc(first.as_secs_f64()),
        utc(last.as_secs_f64()),
        format_span(last.secs_since(first))
    ))
}

/// This run's command line, quoted for a POSIX shell where needed, cut
/// after [`COMMAND_MAX`] characters.
fn command_line() -> String {
    let mut args = std::env::args();
    let _program = args.next();
    let words: Vec<String> = std::iter::once("tlsclose".to_string())
        .chain(args.map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./:,=@+%".contains(c))
            {
                a
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        }))
        .collect();
    let mut line = String::new();
    for (i, w) in words.iter().enumerate() {
        if line.chars().count() + w.chars().count() > COMMAND_MAX {
            let rest = words.len() - i;
            line.push_str(&format!(" … ({rest} more argument{})", plural(rest as u64)));
            break;
        }
        if i > 0 {
            line.push(' ');
        }
        line.push_str(w);
    }
    line
}
