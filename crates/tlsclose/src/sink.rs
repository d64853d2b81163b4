//! Report sinks: each output format consumes the same stream of flow
//! reports and a final summary.

use crate::summary::Summary;
use comfy_table::{presets, ContentArrangement, Table};
use serde::Serialize;
use std::io::{self, Write};
use tlsclose_analysis::{CloseNotify, FlowReport};

pub trait ReportSink {
    fn flow(&mut self, report: FlowReport) -> io::Result<()>;
    fn finish(&mut self, summary: &Summary) -> io::Result<()>;
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
struct SummaryLine<'a> {
    summary: bool,
    #[serde(flatten)]
    inner: &'a Summary,
}

impl<W: Write> ReportSink for JsonSink<W> {
    fn flow(&mut self, report: FlowReport) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, &report)?;
        self.out.write_all(b"\n")
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        serde_json::to_writer(
            &mut self.out,
            &SummaryLine {
                summary: true,
                inner: summary,
            },
        )?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}

/// A table for people, printed at the end in order of first packet.
pub struct TableSink<W: Write> {
    out: W,
    rows: Vec<FlowReport>,
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

fn cn(c: CloseNotify) -> &'static str {
    match c {
        CloseNotify::Seen => "seen",
        CloseNotify::Inferred => "inferred",
        CloseNotify::None => "-",
    }
}

fn alerts(r: &FlowReport) -> String {
    let side = |name: &str, v: &[tlsclose_analysis::AlertLabel]| {
        if v.is_empty() {
            None
        } else {
            Some(format!(
                "{name}: {}",
                v.iter()
                    .map(|a| a.0.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
    };
    [side("c", &r.alerts.client), side("s", &r.alerts.server)]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("\n")
}

impl<W: Write> ReportSink for TableSink<W> {
    fn flow(&mut self, report: FlowReport) -> io::Result<()> {
        self.rows.push(report);
        Ok(())
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        self.rows
            .sort_by(|a, b| a.file.cmp(&b.file).then(a.first_frame.cmp(&b.first_frame)));
        if !self.rows.is_empty() {
            let mut table = Table::new();
            table
                .load_preset(presets::UTF8_FULL_CONDENSED)
                .set_content_arrangement(ContentArrangement::Dynamic);
            let mut header = vec![];
            if self.show_file {
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
            table.set_header(header);
            for r in &self.rows {
                let mut row = vec![];
                if self.show_file {
                    row.push(r.file.clone());
                }
                row.extend([
                    r.client.clone(),
                    r.server.clone(),
                    r.version.clone().unwrap_or_else(|| "?".into()),
                    r.sni.clone().unwrap_or_else(|| "-".into()),
                    r.ending.to_string(),
                    r.closer.as_str().to_string(),
                    format!(
                        "{} / {}",
                        cn(r.client_close_notify),
                        cn(r.server_close_notify)
                    ),
                    alerts(r),
                    r.idle_before_close.map_or_else(|| "-".into(), format_secs),
                    r.teardown_frame
                        .map_or_else(|| "-".into(), |f| f.to_string()),
                    format!(
                        "{}{}",
                        r.confidence.as_str(),
                        if r.gap { " (gap)" } else { "" }
                    ),
                ]);
                table.add_row(row);
            }
            writeln!(self.out, "{table}")?;
        }
        writeln!(self.out, "{}", summary.line())?;
        self.out.flush()
    }
}

/// Seconds, with a precision that suits the magnitude.
pub fn format_secs(s: f64) -> String {
    if s >= 100.0 {
        format!("{s:.0}s")
    } else if s >= 1.0 {
        format!("{s:.1}s")
    } else {
        format!("{:.0}ms", s * 1000.0)
    }
}
