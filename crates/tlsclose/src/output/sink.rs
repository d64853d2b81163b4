//! Report sinks: each output format consumes the same stream of flow
//! reports, then the end of the run (the summary, the flows' numbers, what
//! was read). JSON Lines and CSV write each flow as it ends; the table and
//! Markdown collect and print in order of first packet.

use crate::output::csv;
use crate::output::json::JsonLine;
use crate::output::listing::{Row, SortedRows};
use crate::output::table::{self, clean, fit, Align, BoxTable, Column, Short, Widths};
use crate::run::summary::Summary;
use crate::text::markdown;
use serde::Serialize;
use std::io::{self, Write};
use tlsclose_analysis::{AlertLabel, CloseNotify, FlowReport};
use tlsclose_audit::units::format_secs;
use tlsclose_audit::FlowId;
use tlsclose_capture::{CaptureFormat, Timestamp};

/// A selected flow, with the input it ended in (its index in the command
/// line) and its id.
#[derive(Debug, Clone)]
pub struct Flow {
    pub input: usize,
    /// Its first frame counted through every input of the run
    /// ([`FlowId`]): the table's `#`, JSON's `flow`, `--flow N`, and the
    /// order of the table.
    pub id: FlowId,
    pub report: FlowReport,
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

/// `--flow N`: the flow whose id is N, and the ids nearest to it (said
/// when none is).
#[derive(Debug, Clone, Copy)]
pub struct Pick {
    pub id: FlowId,
    /// A TLS flow starts at frame `id` (whether or not the filters pass it).
    pub found: bool,
    pub below: Option<FlowId>,
    pub above: Option<FlowId>,
}

impl Pick {
    pub fn see(&mut self, id: FlowId) {
        if id < self.id && self.below.is_none_or(|b| id > b) {
            self.below = Some(id);
        }
        if id > self.id && self.above.is_none_or(|a| id < a) {
            self.above = Some(id);
        }
    }
}

/// The end of a run, as the sinks see it.
pub struct RunEnd<'a> {
    pub summary: &'a Summary,
    /// `--flow N`, with the ids nearest to N.
    pub pick: Option<Pick>,
    pub inputs: &'a [InputInfo],
    /// Filters in effect, as written on the command line.
    pub filters: &'a [String],
    pub quiet: bool,
}

impl RunEnd<'_> {
    /// How many TLS flows the run had (filtered out ones too).
    pub fn tls_flows(&self) -> u64 {
        self.summary.tls_flows
    }
}

pub trait ReportSink {
    fn flow(&mut self, flow: &Flow) -> io::Result<()>;
    fn finish(&mut self, end: &RunEnd<'_>) -> io::Result<()>;
    /// What this sink found that should fail the run (exit status 1),
    /// known after `finish` (`--fail-on-finding`).
    fn failing(&self) -> u64 {
        0
    }
    /// Why `failing` is not 0, in words (for standard error).
    fn failing_why(&self) -> Option<String> {
        None
    }
}

/// JSON Lines, written as flows end (streaming).
pub struct JsonSink<W: Write> {
    out: W,
    /// The line being written, reused; the output gets one write per flow.
    line: JsonLine,
}

impl<W: Write> JsonSink<W> {
    /// `iso`: times as ISO 8601 (`--time-format iso`).
    pub fn new(out: W, iso: bool) -> Self {
        JsonSink {
            out,
            line: JsonLine::new(iso),
        }
    }
}

/// The run's summary as the last JSON line (`"summary": true` first).
#[derive(Serialize)]
struct SummaryLine<'a> {
    summary: bool,
    #[serde(flatten)]
    inner: &'a Summary,
}

/// Writes the summary's JSON line, the last line of every JSON output.
pub fn write_summary_line(out: &mut dyn Write, summary: &Summary) -> io::Result<()> {
    serde_json::to_writer(
        &mut *out,
        &SummaryLine {
            summary: true,
            inner: summary,
        },
    )?;
    out.write_all(b"\n")
}

impl<W: Write> ReportSink for JsonSink<W> {
    fn flow(&mut self, flow: &Flow) -> io::Result<()> {
        self.line.write(flow.id, &flow.report)?;
        self.line.bytes.push(b'\n');
        self.out.write_all(&self.line.bytes)
    }

    fn finish(&mut self, end: &RunEnd<'_>) -> io::Result<()> {
        write_summary_line(&mut self.out, end.summary)?;
        self.out.flush()
    }
}

/// CSV with a header row, written as flows end (streaming); the same
/// fields as JSON, nested ones flattened. The summary goes to standard
/// error so that the output stays one table.
pub struct CsvSink<W: Write> {
    out: W,
    header_done: bool,
    scratch: csv::Scratch,
    /// The row being written (the output gets one write per flow).
    line: Vec<u8>,
}

impl<W: Write> CsvSink<W> {
    pub fn new(out: W) -> Self {
        CsvSink {
            out,
            header_done: false,
            scratch: csv::Scratch::default(),
            line: Vec::with_capacity(1024),
        }
    }

    fn header(&mut self) -> io::Result<()> {
        if !self.header_done {
            self.header_done = true;
            csv::write_row(&mut self.out, csv::FLOW_COLUMNS.iter().map(|c| c.name))?;
        }
        Ok(())
    }
}

impl<W: Write> ReportSink for CsvSink<W> {
    fn flow(&mut self, flow: &Flow) -> io::Result<()> {
        self.header()?;
        self.line.clear();
        csv::write_flow(&mut self.line, &mut self.scratch, flow.id, &flow.report)?;
        self.out.write_all(&self.line)
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

/// `close_notify` as `cn`.
pub fn short_cn(c: &str) -> String {
    c.replace("close_notify", "cn")
}

/// `close_notify` as `cn` in a narrow terminal.
const CN: Short = Short {
    title: "ending",
    cell: short_cn,
    legend: "cn = close_notify",
};

/// The columns of the flow table (and of its Markdown twin), with the
/// order a narrow terminal drops them in (0: never; the highest first):
/// by information, the ending, who closed, the race and the idle time
/// last. In a terminal, a column with one value on every row is said
/// once above the table instead (`hoisted_as`).
pub fn listing_columns(show_file: bool) -> Vec<Column> {
    let mut columns = vec![Column::new("#", Align::Right, 0)
        .explained("# = the flow's first frame, what --flow takes")];
    if show_file {
        columns.push(Column::new("file", Align::Left, 8).hoisted_as(|c| format!("file {c}")));
    }
    columns.extend([
        Column::new("client", Align::Left, 0),
        Column::new("server", Align::Left, 0).hoisted_as(|c| format!("server {c}")),
        Column::new("version", Align::Left, 5).hoisted_as(|c| match c {
            "?" => "version unknown".into(),
            v => v.to_owned(),
        }),
        Column::new("SNI", Align::Left, 5).hoisted_as(|c| match c {
            "-" => "no SNI".into(),
            s => format!("SNI {s}"),
        }),
        Column::new("ending", Align::Left, 0).with_short(CN),
        Column::new("closer", Align::Left, 1).explained("closer = whose FIN or RST came first"),
        Column::new("started\nby", Align::Left, 4)
            .hoisted_as(|c| format!("close started by {c}"))
            .explained(
                "started by = who sent the first close signal of any kind (close_notify, fatal \
                 alert, FIN or RST)",
            ),
        Column::new("close_notify\nclient / server", Align::Left, 6)
            .with_short(Short {
                title: "cn\nc / s",
                cell: |c| c.replace("inferred", "inf"),
                // (the title's cn is the ending's legend)
                legend: "c / s = client / server, inf = inferred",
            })
            .hoisted_as(|c| match c {
                "- / -" => "no close_notify".into(),
                c => format!("close_notify client / server {c}"),
            }),
        Column::new("alerts", Align::Left, 6).hoisted_as(|c| match c {
            "" => "no alerts".into(),
            c => format!("alerts {}", c.replace('\n', ", ")),
        }),
        Column::new("idle\nbefore\nclose", Align::Right, 1).with_short(Short {
            title: "idle",
            cell: |c| c.to_owned(),
            legend: "idle = idle before close",
        }),
        // keep-alive race (the window is in --flow and the JSON)
        Column::new("race", Align::Left, 1).hoisted_as(|c| match c {
            "-" => "no keep-alive race".into(),
            _ => "every one a keep-alive race".into(),
        }),
        Column::new("teardown\nframe", Align::Right, 7),
        Column::new("confidence", Align::Left, 3).hoisted_as(|c| format!("confidence {c}")),
    ]);
    columns
}

/// The listing's cells of a flow, written into `row`'s reused Strings
/// (the first, the flow's number, stays empty until it is printed).
fn listing_cells(row: &mut Vec<String>, id: FlowId, r: &FlowReport, show_file: bool) {
    use std::fmt::Write as _;
    row.resize_with(if show_file { 15 } else { 14 }, String::new);
    row.iter_mut().for_each(String::clear);
    let mut cells = row.iter_mut();
    let mut cell = |v: &dyn std::fmt::Display| {
        if let Some(c) = cells.next() {
            let _ = write!(c, "{v}");
        }
    };
    cell(&id);
    if show_file {
        cell(&clean(&r.file));
    }
    cell(&r.client);
    cell(&r.server);
    match &r.version {
        Some(v) => cell(v),
        None => cell(&"?"),
    }
    match r.sni.as_deref() {
        Some(s) => cell(&clean(s)),
        None => cell(&"-"),
    }
    cell(&r.ending);
    cell(&r.closer.as_str());
    cell(&r.initiator.as_str());
    cell(&format_args!(
        "{} / {}",
        cn(r.client_close_notify),
        cn(r.server_close_notify)
    ));
    cell(&alerts(r, "\n"));
    match r.idle_before_close {
        Some(s) => cell(&format_secs(s)),
        None => cell(&"-"),
    }
    cell(&if r.keepalive_race { "yes" } else { "-" });
    match r.teardown_frame {
        Some(f) => cell(&f),
        None => cell(&"-"),
    }
    cell(&confidence(r));
}

/// The flow table's rows as they arrive: compact, sorted and spilled to
/// disk past a threshold ([`SortedRows`]); widths measured on the way.
struct Listing {
    columns: Vec<Column>,
    show_file: bool,
    rows: SortedRows,
    widths: Widths,
    flows: u64,
    /// The cells of the flow being added (reused).
    cells: Vec<String>,
}

impl Listing {
    fn new(show_file: bool) -> Listing {
        let columns = listing_columns(show_file);
        Listing {
            widths: Widths::of_titles(&columns),
            columns,
            show_file,
            rows: SortedRows::new(),
            flows: 0,
            cells: Vec::new(),
        }
    }

    fn flow(&mut self, flow: &Flow) -> io::Result<()> {
        listing_cells(&mut self.cells, flow.id, &flow.report, self.show_file);
        self.widths.add_row(&self.cells);
        self.flows += 1;
        self.rows.push(Row::new(flow.id, &self.cells))
    }

    /// Every row in order of first packet.
    fn drain(&mut self, mut each: impl FnMut(Vec<&str>) -> io::Result<()>) -> io::Result<()> {
        self.rows.drain(|row| each(row.cells().collect()))
    }
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

/// A table for people, printed at the end in order of first packet,
/// fitted to the terminal (`width`).
pub struct TableSink<W: Write> {
    out: W,
    listing: Listing,
    width: Option<usize>,
}

impl<W: Write> TableSink<W> {
    pub fn new(out: W, show_file: bool, width: Option<usize>) -> Self {
        TableSink {
            out,
            listing: Listing::new(show_file),
            width,
        }
    }
}

/// The columns a table may use: `--wide`, or output that is not a
/// terminal, has no limit; else `COLUMNS`, else the terminal's width.
pub fn terminal_width(wide: bool) -> Option<usize> {
    use std::io::IsTerminal;
    if wide {
        return None;
    }
    if let Some(n) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
    {
        return Some(n);
    }
    if !io::stdout().is_terminal() {
        return None;
    }
    comfy_table::Table::new().width().map(usize::from)
}

impl<W: Write> ReportSink for TableSink<W> {
    fn flow(&mut self, flow: &Flow) -> io::Result<()> {
        self.listing.flow(flow)
    }

    fn finish(&mut self, end: &RunEnd<'_>) -> io::Result<()> {
        let l = &mut self.listing;
        if l.flows > 0 {
            let widths = l.widths.clone();
            let shown = fit(&l.columns, &widths, self.width);
            let columns = l.columns.clone();
            let mut table = BoxTable::new(&columns, &widths, shown);
            let out = &mut self.out;
            if let Some(above) = table.above() {
                writeln!(out, "{}", table::wrapped(above, self.width))?;
            }
            table.head(out)?;
            l.drain(|cells| table.row(out, &cells))?;
            table.foot(out)?;
            for note in table.notes() {
                writeln!(out, "{}", table::wrapped(&note, self.width))?;
            }
        }
        writeln!(
            self.out,
            "{}",
            table::wrapped(&end.summary.line(), self.width)
        )?;
        self.out.flush()
    }
}

/// The flow table as GitHub-flavoured Markdown, then the summary.
pub struct MarkdownSink<W: Write> {
    out: W,
    listing: Listing,
}

impl<W: Write> MarkdownSink<W> {
    pub fn new(out: W, show_file: bool) -> Self {
        MarkdownSink {
            out,
            listing: Listing::new(show_file),
        }
    }
}

impl<W: Write> ReportSink for MarkdownSink<W> {
    fn flow(&mut self, flow: &Flow) -> io::Result<()> {
        self.listing.flow(flow)
    }

    fn finish(&mut self, end: &RunEnd<'_>) -> io::Result<()> {
        let l = &mut self.listing;
        if l.flows > 0 {
            let columns = l.columns.clone();
            let out = &mut self.out;
            table::md_head(out, &columns)?;
            l.drain(|cells| table::md_row(out, &columns, &cells))?;
            writeln!(out)?;
        }
        writeln!(self.out, "{}", markdown::escape(&end.summary.line()))?;
        self.out.flush()
    }
}
