//! Report sinks: each output format consumes the same stream of flow
//! reports, then the end of the run (the summary, the flows' numbers, what
//! was read). JSON Lines and CSV write each flow as it ends; the table and
//! Markdown collect and print in order of first packet.

use crate::csvfmt;
use crate::human::format_secs;
use crate::json::JsonFlow;
use crate::md;
use crate::summary::Summary;
use comfy_table::{presets, ContentArrangement, Table};
use serde::Serialize;
use std::io::{self, Write};
use tlsclose_analysis::{AlertLabel, CloseNotify, FlowReport};
use tlsclose_capture::{CaptureFormat, Timestamp};

/// A selected flow, with the input it came from (its index in the
/// command line).
#[derive(Debug, Clone)]
pub struct Flow {
    pub input: usize,
    pub report: FlowReport,
}

impl Flow {
    /// The order of the table: input, then first packet.
    pub fn key(&self) -> (usize, u64) {
        (self.input, self.report.first_frame)
    }
}

/// What was read from one input.
#[derive(Debug, Clone, Default)]
pub struct InputInfo {
    pub name: String,
    /// Size on disk (not known for standard input).
    pub size: Option<u64>,
    /// Bytes of capture read (after decompression).
    pub bytes_read: u64,
    pub format: Option<CaptureFormat>,
    pub gzip: bool,
    pub frames: u64,
    pub first_ts: Option<Timestamp>,
    pub last_ts: Option<Timestamp>,
    pub tls_flows: u64,
    /// Reading stopped at an error (or the input could not be opened).
    pub failed: bool,
}

impl InputInfo {
    #[inline]
    pub fn saw(&mut self, ts: Timestamp) {
        self.frames += 1;
        if self.first_ts.is_none_or(|f| ts < f) {
            self.first_ts = Some(ts);
        }
        if self.last_ts.is_none_or(|l| ts > l) {
            self.last_ts = Some(ts);
        }
    }
}

/// The number of every TLS flow of the run (1-based, in order of input and
/// first packet), whether or not the filters selected it: `#` in the table,
/// `--flow N`.
#[derive(Debug, Default)]
pub struct FlowNumbers {
    keys: Vec<(usize, u64)>,
    sorted: bool,
}

impl FlowNumbers {
    pub fn note(&mut self, input: usize, first_frame: u64) {
        self.keys.push((input, first_frame));
        self.sorted = false;
    }

    pub fn seal(&mut self) {
        if !self.sorted {
            self.keys.sort_unstable();
            self.sorted = true;
        }
    }

    pub fn number(&self, key: (usize, u64)) -> Option<u64> {
        if !self.sorted {
            return None;
        }
        self.keys.binary_search(&key).ok().map(|i| i as u64 + 1)
    }

    pub fn len(&self) -> u64 {
        self.keys.len() as u64
    }
}

/// The end of a run, as the sinks see it.
pub struct RunEnd<'a> {
    pub summary: &'a Summary,
    /// Numbers of flows (kept only when some output shows them).
    pub numbers: &'a FlowNumbers,
    pub inputs: &'a [InputInfo],
    /// Filters in effect, as written on the command line.
    pub filters: &'a [String],
    pub quiet: bool,
}

impl RunEnd<'_> {
    /// `#N` of a flow, or `-` when flows are not numbered in this run.
    pub fn number(&self, f: &Flow) -> String {
        self.numbers
            .number(f.key())
            .map_or_else(|| "-".into(), |n| n.to_string())
    }
}

pub trait ReportSink {
    fn flow(&mut self, flow: &Flow) -> io::Result<()>;
    fn finish(&mut self, end: &RunEnd<'_>) -> io::Result<()>;
    /// Whether this sink shows flow numbers (then they are kept).
    fn numbers_flows(&self) -> bool {
        false
    }
    /// What this sink found that should fail the run (exit status 1),
    /// known after `finish` (`--fail-on-finding`).
    fn failing(&self) -> u64 {
        0
    }
}

/// JSON Lines, written as flows end (streaming).
pub struct JsonSink<W: Write> {
    out: W,
}

impl<W: Write> JsonSink<W> {
    pub fn new(out: W) -> Self {
        JsonSink { out }
    }
}

#[derive(Serialize)]
pub struct SummaryLine<'a> {
    pub summary: bool,
    #[serde(flatten)]
    pub inner: &'a Summary,
}

impl<W: Write> ReportSink for JsonSink<W> {
    fn flow(&mut self, flow: &Flow) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, &JsonFlow(&flow.report))?;
        self.out.write_all(b"\n")
    }

    fn finish(&mut self, end: &RunEnd<'_>) -> io::Result<()> {
        serde_json::to_writer(
            &mut self.out,
            &SummaryLine {
                summary: true,
                inner: end.summary,
            },
        )?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}

/// CSV with a header row, written as flows end (streaming); the same
/// fields as JSON, nested ones flattened. The summary goes to standard
/// error so that the output stays one table.
pub struct CsvSink<W: Write> {
    out: W,
    header_done: bool,
    scratch: csvfmt::Scratch,
}

impl<W: Write> CsvSink<W> {
    pub fn new(out: W) -> Self {
        CsvSink {
            out,
            header_done: false,
            scratch: csvfmt::Scratch::default(),
        }
    }

    fn header(&mut self) -> io::Result<()> {
        if !self.header_done {
            self.header_done = true;
            csvfmt::write_row(&mut self.out, csvfmt::FLOW_COLUMNS.iter().map(|c| c.name))?;
        }
        Ok(())
    }
}

impl<W: Write> ReportSink for CsvSink<W> {
    fn flow(&mut self, flow: &Flow) -> io::Result<()> {
        self.header()?;
        csvfmt::write_flow(&mut self.out, &mut self.scratch, &flow.report)
    }

    fn finish(&mut self, end: &RunEnd<'_>) -> io::Result<()> {
        self.header()?;
        self.out.flush()?;
        if !end.quiet {
            let _ = writeln!(io::stderr(), "{}", end.summary.line());
        }
        Ok(())
    }
}

pub fn cn(c: CloseNotify) -> &'static str {
    match c {
        CloseNotify::Seen => "seen",
        CloseNotify::Inferred => "inferred",
        CloseNotify::None => "-",
    }
}

/// Alerts of both sides, `c: …` / `s: …`, joined by `sep`.
pub fn alerts(r: &FlowReport, sep: &str) -> String {
    let side = |name: &str, v: &[AlertLabel]| {
        if v.is_empty() {
            None
        } else {
            Some(format!(
                "{name}: {}",
                v.iter()
                    .map(|a| a.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
    };
    [side("c", &r.alerts.client), side("s", &r.alerts.server)]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(sep)
}

/// The columns of the flow table (and of its Markdown twin).
fn listing_header(show_file: bool) -> Vec<&'static str> {
    let mut header = vec!["#"];
    if show_file {
        header.push("file");
    }
    header.extend([
        "client",
        "server",
        "version",
        "SNI",
        "ending",
        "closer",
        "close_notify\nclient / server",
        "alerts",
        "idle before\nclose",
        "teardown\nframe",
        "confidence",
    ]);
    header
}

fn listing_row(number: String, r: &FlowReport, show_file: bool, sep: &str) -> Vec<String> {
    let mut row = vec![number];
    if show_file {
        row.push(r.file.clone());
    }
    row.extend([
        r.client.to_string(),
        r.server.to_string(),
        r.version.map_or_else(|| "?".into(), |v| v.to_string()),
        r.sni.clone().unwrap_or_else(|| "-".into()),
        r.ending.to_string(),
        r.closer.as_str().to_string(),
        format!(
            "{} / {}",
            cn(r.client_close_notify),
            cn(r.server_close_notify)
        ),
        alerts(r, sep),
        r.idle_before_close.map_or_else(|| "-".into(), format_secs),
        r.teardown_frame
            .map_or_else(|| "-".into(), |f| f.to_string()),
        confidence(r),
    ]);
    row
}

/// `certain`, `certain (decrypted)`, `likely (gap)`…
fn confidence(r: &FlowReport) -> String {
    let marks: Vec<&str> = [(r.decrypted, "decrypted"), (r.gap, "gap")]
        .into_iter()
        .filter_map(|(on, m)| on.then_some(m))
        .collect();
    if marks.is_empty() {
        r.confidence.as_str().to_owned()
    } else {
        format!("{} ({})", r.confidence.as_str(), marks.join(", "))
    }
}

/// A table for people, printed at the end in order of first packet.
pub struct TableSink<W: Write> {
    out: W,
    rows: Vec<Flow>,
    show_file: bool,
}

impl<W: Write> TableSink<W> {
    pub fn new(out: W, show_file: bool) -> Self {
        TableSink {
            out,
            rows: Vec::new(),
            show_file,
        }
    }
}

/// A comfy table with the project's look.
pub fn new_table() -> Table {
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    table
}

impl<W: Write> ReportSink for TableSink<W> {
    fn flow(&mut self, flow: &Flow) -> io::Result<()> {
        self.rows.push(flow.clone());
        Ok(())
    }

    fn numbers_flows(&self) -> bool {
        true
    }

    fn finish(&mut self, end: &RunEnd<'_>) -> io::Result<()> {
        self.rows.sort_by_key(Flow::key);
        if !self.rows.is_empty() {
            let mut table = new_table();
            table.set_header(listing_header(self.show_file));
            for f in &self.rows {
                table.add_row(listing_row(end.number(f), &f.report, self.show_file, "\n"));
            }
            writeln!(self.out, "{table}")?;
        }
        writeln!(self.out, "{}", end.summary.line())?;
        self.out.flush()
    }
}

/// The flow table as GitHub-flavoured Markdown, then the summary.
pub struct MarkdownSink<W: Write> {
    out: W,
    rows: Vec<Flow>,
    show_file: bool,
}

impl<W: Write> MarkdownSink<W> {
    pub fn new(out: W, show_file: bool) -> Self {
        MarkdownSink {
            out,
            rows: Vec::new(),
            show_file,
        }
    }
}

/// The header of a listing as Markdown columns (numbers right-aligned).
pub fn md_listing_header(show_file: bool) -> Vec<(String, md::Align)> {
    listing_header(show_file)
        .into_iter()
        .map(|h| {
            let align = match h {
                "#" | "teardown\nframe" | "idle before\nclose" => md::Align::Right,
                _ => md::Align::Left,
            };
            (h.replace('\n', " "), align)
        })
        .collect()
}

/// The listing rows of `flows` as escaped Markdown cells.
pub fn md_listing_rows(flows: &[Flow], end: &RunEnd<'_>, show_file: bool) -> Vec<Vec<String>> {
    flows
        .iter()
        .map(|f| {
            listing_row(end.number(f), &f.report, show_file, "; ")
                .iter()
                .map(|c| md::escape(c))
                .collect()
        })
        .collect()
}

impl<W: Write> ReportSink for MarkdownSink<W> {
    fn flow(&mut self, flow: &Flow) -> io::Result<()> {
        self.rows.push(flow.clone());
        Ok(())
    }

    fn numbers_flows(&self) -> bool {
        true
    }

    fn finish(&mut self, end: &RunEnd<'_>) -> io::Result<()> {
        self.rows.sort_by_key(Flow::key);
        if !self.rows.is_empty() {
            let header = md_listing_header(self.show_file);
            let header: Vec<(&str, md::Align)> =
                header.iter().map(|(h, a)| (h.as_str(), *a)).collect();
            let rows = md_listing_rows(&self.rows, end, self.show_file);
            writeln!(self.out, "{}", md::table(&header, &rows))?;
        }
        writeln!(self.out, "{}", md::escape(&end.summary.line()))?;
        self.out.flush()
    }
}
