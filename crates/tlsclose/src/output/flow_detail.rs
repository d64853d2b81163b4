//! One flow in detail: `--flow`, and each flow of a `--report`. The
//! "ladder" is how the connection ended: the last records and the FIN/RST
//! of each side, with times relative to the first of them and frame
//! numbers to find them in Wireshark.

use crate::cli::Format;
use crate::output::csv;
use crate::output::json::LadderLine;
use crate::output::sink::{alerts, cn, Flow, ReportSink, RunEnd};
use crate::text::markdown;
use crate::text::words::{direction, NoteText, StepText};
use std::io::{self, Write};
use tlsclose_analysis::FlowReport;
use tlsclose_audit::units::{format_secs, utc};
use tlsclose_audit::{FlowId, WiresharkFilter};

/// The ladder as aligned lines, the last few records of each side and
/// every FIN/RST ([`shown_steps`](crate::output::ladder::shown_steps)):
/// `client → server  +0.000s  frame 812  TLS alert (encrypted, 19 bytes, likely close_notify)`.
pub fn ladder_lines(r: &FlowReport) -> Vec<String> {
    let (hidden, shown) = crate::output::ladder::shown_steps(r);
    let Some(first) = shown.first() else {
        return Vec::new();
    };
    let t0 = first.time;
    let rel: Vec<String> = shown
        .iter()
        .map(|s| format!("{:+.3}s", s.time - t0))
        .collect();
    let rel_w = rel.iter().map(String::len).max().unwrap_or(0);
    let frame_w = shown
        .iter()
        .map(|s| s.frame.to_string().len())
        .max()
        .unwrap_or(0);
    let mut lines = Vec::with_capacity(shown.len() + 1);
    if hidden > 0 {
        lines.push(format!(
            "({hidden} earlier record{} not shown)",
            if hidden == 1 { "" } else { "s" }
        ));
    }
    lines.extend(shown.iter().zip(rel).map(|(s, rel)| {
        format!(
            "{}  {rel:>rel_w$}  frame {:<frame_w$}  {}",
            direction(s.from),
            s.frame,
            StepText(s)
        )
    }));
    lines
}

/// The facts of one flow as (label, value) pairs, for people.
pub fn facts(r: &FlowReport) -> Vec<(&'static str, String)> {
    let mut v = vec![
        ("client", r.client.to_string()),
        ("server", r.server.to_string()),
        ("SNI", r.sni.clone().unwrap_or_else(|| "-".into())),
        (
            "TLS",
            [
                r.version
                    .map_or_else(|| "version unknown".into(), |v| v.to_string()),
                r.cipher
                    .map_or_else(|| "cipher unknown".into(), |c| c.to_string()),
                format!("ALPN {}", r.alpn.as_deref().unwrap_or("-")),
            ]
            .join(", "),
        ),
        (
            "ending",
            format!(
                "{} (closed by {}, started by {}; confidence {}{}{})",
                r.ending,
                r.closer.as_str(),
                r.initiator.as_str(),
                r.confidence.as_str(),
                if r.decrypted { ", decrypted" } else { "" },
                if r.gap { ", bytes missing" } else { "" }
            ),
        ),
        (
            "close_notify",
            format!(
                "client {}, server {}{}",
                cn(r.client_close_notify),
                cn(r.server_close_notify),
                if r.close_notify_answered {
                    " (answered)"
                } else {
                    ""
                }
            ),
        ),
        (
            "keep-alive race",
            match r.race_window_s {
                Some(w) if r.keepalive_race => format!(
                    "yes: application data {} after the {}'s close (frame {})",
                    format_secs(w),
                    r.initiator.as_str(),
                    r.race_frame.map_or_else(|| "-".into(), |f| f.to_string())
                ),
                _ => "no".into(),
            },
        ),
        ("alerts", {
            let a = alerts(r, "; ");
            if a.is_empty() {
                "-".into()
            } else {
                a
            }
        }),
        (
            "idle before close",
            r.idle_before_close.map_or_else(|| "-".into(), format_secs),
        ),
        (
            "frames",
            format!(
                "{} to {} ({} packets), {} to {} ({})",
                r.first_frame,
                r.last_frame,
                r.packets,
                utc(r.first_time),
                utc(r.last_time),
                format_secs((r.last_time - r.first_time).max(0.0))
            ),
        ),
        (
            "application data",
            format!(
                "client → server {} bytes, server → client {} bytes",
                r.app_bytes[0], r.app_bytes[1]
            ),
        ),
    ];
    let mut flags = Vec::new();
    if r.midstream {
        flags.push("capture starts mid-connection");
    }
    if r.incomplete {
        flags.push("packets cut by the snapshot length");
    }
    if !flags.is_empty() || !r.notes.is_empty() {
        let mut n: Vec<String> = flags.into_iter().map(String::from).collect();
        n.extend(r.notes.iter().map(|n| NoteText(n).to_string()));
        v.push(("notes", n.join("; ")));
    }
    v.push(("Wireshark filter", WiresharkFilter::of(r).to_string()));
    v
}

/// One flow for a terminal (`total`: TLS flows in the run).
pub fn text(id: FlowId, total: u64, f: &Flow) -> String {
    let r = &f.report;
    let file = if r.file == "-" {
        "standard input"
    } else {
        &r.file
    };
    let mut s = format!(
        "Flow #{id} in {file}, one of {total} TLS flow{}\n",
        tlsclose_audit::units::plural(total)
    );
    let facts = facts(r);
    let w = facts
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    for (k, v) in facts {
        s.push_str(&format!("  {k:<w$}  {v}\n"));
    }
    s.push_str("\nHow it ended:\n");
    let lines = ladder_lines(r);
    if lines.is_empty() {
        s.push_str("  (no records, FIN or RST were seen)\n");
    }
    for l in lines {
        s.push_str(&format!("  {l}\n"));
    }
    s
}

/// One flow as a Markdown section (a heading, a list of facts, the ladder
/// in a code block).
pub fn markdown(number: &str, f: &Flow, heading: &str) -> String {
    let r = &f.report;
    let mut s = format!(
        "{heading} #{number} · {} · {} → {}\n\n",
        markdown::escape(r.ending.as_str()),
        markdown::escape(&r.client.to_string()),
        markdown::escape(&r.server.to_string())
    );
    for (k, v) in facts(r) {
        let value = if k == "Wireshark filter" {
            markdown::code(&v)
        } else {
            markdown::escape(&v)
        };
        s.push_str(&format!("- {}: {value}\n", markdown::escape(k)));
    }
    s.push_str("\nHow it ended:\n\n```text\n");
    let lines = ladder_lines(r);
    if lines.is_empty() {
        s.push_str("(no records, FIN or RST were seen)\n");
    }
    for l in lines {
        // nothing in a ladder can close the fence: it holds no backticks
        s.push_str(&l.replace('`', "'"));
        s.push('\n');
    }
    s.push_str("```\n");
    // the same as a picture (GitHub and GitLab draw Mermaid)
    s.push('\n');
    s.push_str(&crate::report::mermaid::block(r));
    s
}

/// `--flow`: the chosen flow(s) in detail.
pub struct DetailSink<W: Write> {
    out: W,
    format: Format,
    flows: Vec<Flow>,
    /// What was asked for, for the message when nothing matched.
    asked: String,
    /// JSON times as ISO 8601.
    iso: bool,
}

impl<W: Write> DetailSink<W> {
    pub fn new(out: W, format: Format, asked: String, iso: bool) -> Self {
        DetailSink {
            out,
            format,
            flows: Vec::new(),
            asked,
            iso,
        }
    }
}

impl<W: Write> DetailSink<W> {
    /// Why nothing is shown: `--flow N` names a flow by its first frame,
    /// so the ids nearest to N are named; else the flows and filters.
    fn not_found(&self, end: &RunEnd<'_>) -> String {
        let total = end.tls_flows();
        let flows = format!("{total} TLS flow{}", tlsclose_audit::units::plural(total));
        let filters = end.filters.join(" ");
        match end.pick {
            Some(pick) if pick.found => {
                format!("flow #{} did not pass the filters {filters}", pick.id)
            }
            Some(pick) => {
                let near: Vec<String> = [pick.below, pick.above]
                    .into_iter()
                    .flatten()
                    .map(|n| format!("#{n}"))
                    .collect();
                format!(
                    "no TLS flow starts at frame {} (a flow's number, the table's #, is its first frame; {})",
                    pick.id,
                    if near.is_empty() {
                        format!("the input has {flows}")
                    } else {
                        format!("the nearest are {}", near.join(" and "))
                    }
                )
            }
            None if filters.is_empty() => {
                format!(
                    "no flow matched --flow {} ({flows} in the input)",
                    self.asked
                )
            }
            None => format!(
                "no flow matched --flow {} ({flows} in the input, filters {filters})",
                self.asked
            ),
        }
    }
}

impl<W: Write> ReportSink for DetailSink<W> {
    fn flow(&mut self, flow: &Flow) -> io::Result<()> {
        self.flows.push(flow.clone());
        Ok(())
    }

    fn finish(&mut self, end: &RunEnd<'_>) -> io::Result<()> {
        self.flows.sort_by_key(|f| f.id);
        // said even with -q: it is why the exit status is 1
        if self.flows.is_empty() {
            let _ = writeln!(io::stderr(), "tlsclose: {}", self.not_found(end));
        }
        let total = end.tls_flows();
        match self.format {
            Format::Table => {
                for (i, f) in self.flows.iter().enumerate() {
                    if i > 0 {
                        writeln!(self.out)?;
                    }
                    write!(self.out, "{}", text(f.id, total, f))?;
                }
            }
            Format::Markdown => {
                for f in &self.flows {
                    writeln!(self.out, "{}", markdown(&f.id.to_string(), f, "###"))?;
                }
            }
            Format::Json => {
                // the stream's line, in its key order, then the ladder
                let mut line = crate::output::json::JsonLine::new(self.iso);
                for f in &self.flows {
                    let ladder: Vec<LadderLine> = f
                        .report
                        .ladder
                        .iter()
                        .map(|s| LadderLine {
                            from: s.from,
                            frame: s.frame,
                            time: if self.iso {
                                crate::output::json::Iso(s.time).to_string().into()
                            } else {
                                s.time.into()
                            },
                            what: StepText(s).to_string(),
                        })
                        .collect();
                    let more = [("ladder", serde_json::to_vec(&ladder)?)];
                    line.write_with(f.id, &f.report, &more)?;
                    line.bytes.push(b'\n');
                    self.out.write_all(&line.bytes)?;
                }
            }
            Format::Csv => {
                csv::write_row(&mut self.out, csv::FLOW_COLUMNS.iter().map(|c| c.name))?;
                let mut scratch = csv::Scratch::default();
                for f in &self.flows {
                    csv::write_flow(&mut self.out, &mut scratch, f.id, &f.report)?;
                }
            }
        }
        self.out.flush()
    }
}
