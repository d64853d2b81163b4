//! `--report FILE.md`: a self-contained Markdown report to paste into a bug
//! ticket, conclusion first: a few sentences built from the findings
//! ([`crate::report::conclusion`]), what was read, the audit's findings, the
//! endings, the per-server table, then a Mermaid diagram of each flow that
//! did not end close_notify-then-fin or had a keep-alive race
//! ([`crate::report::flows`]), as many as fit in [`BUDGET`] characters (a
//! GitHub comment holds 65,536), unless `--report-flows` asks for a number.

use crate::output::audit::markdown_findings;
use crate::output::flow_detail;
use crate::output::sink::{Flow, ReportSink, RunEnd};
use crate::output::table::{Align, Column, Table};
use crate::report::data::{input_facts, ReportData, DEFAULT_FLOWS};
use crate::text::markdown;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use tlsclose_analysis::Ending;
use tlsclose_audit::units::plural;
use tlsclose_audit::Finding;

/// Characters the report stays under when `--report-flows` is not given.
pub const BUDGET: usize = 60_000;

/// Characters kept for the flows' heading and the sentence that counts
/// them.
const FLOWS_INTRO: usize = 800;

/// Servers in the per-server table; the others are counted.
const SERVERS_LISTED: usize = 20;

pub struct TicketSink {
    path: PathBuf,
    out: Option<BufWriter<File>>,
    data: ReportData,
    /// `--report-flows`, when given: that many flows, whatever the size.
    asked: Option<usize>,
}

impl TicketSink {
    /// Creates the file now, so that a path that cannot be written is an
    /// error before a long read.
    pub fn create(path: &Path, asked: Option<usize>, examples: usize) -> io::Result<TicketSink> {
        let file = File::create(path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        Ok(TicketSink {
            path: path.to_owned(),
            out: Some(BufWriter::new(file)),
            data: ReportData::new(asked.unwrap_or(DEFAULT_FLOWS), examples),
            asked,
        })
    }

    /// The report, section by section.
    fn write(&mut self, end: &RunEnd<'_>) -> io::Result<()> {
        let Some(mut out) = self.out.take() else {
            return Ok(());
        };
        let mut head: Vec<u8> = Vec::new();
        self.title(&mut head, end)?;
        let findings = self.data.findings();
        self.summary(&mut head, &findings)?;
        self.what_was_read(&mut head, end)?;
        self.findings(&mut head, &findings)?;
        self.endings(&mut head)?;
        self.per_server(&mut head)?;
        let head = String::from_utf8_lossy(&head).into_owned();
        let flows = self.flows(head.chars().count());
        out.write_all(head.as_bytes())?;
        out.write_all(flows.as_bytes())?;
        out.flush()
    }

    /// `# TLS connection endings in …`.
    fn title(&self, out: &mut dyn Write, end: &RunEnd<'_>) -> io::Result<()> {
        let title = match end.inputs {
            [one] if one.name == "-" => {
                "TLS connection endings in a capture from standard input".into()
            }
            [one] => format!(
                "TLS connection endings in {}",
                markdown::code(&file_name(&one.name))
            ),
            _ => format!("TLS connection endings in {} captures", end.inputs.len()),
        };
        writeln!(out, "# {title}\n")?;
        Ok(())
    }

    /// The conclusion: a few sentences from the endings and the findings.
    fn summary(&self, out: &mut dyn Write, findings: &[Finding]) -> io::Result<()> {
        let text = crate::report::conclusion::sentences(&self.data, findings).join(" ");
        writeln!(out, "{}\n", markdown::escape(&text))
    }

    /// Each capture (format, size, frames, time span), the flows, the filters, the warnings and the command.
    fn what_was_read(&self, out: &mut dyn Write, end: &RunEnd<'_>) -> io::Result<()> {
        let (inputs, more) = input_facts(end);
        for i in inputs {
            let name = i
                .name
                .as_deref()
                .map_or("standard input".into(), markdown::code);
            writeln!(out, "- Capture: {name} ({})", i.what)?;
            if let Some(span) = i.span {
                writeln!(out, "  - time span: {span}")?;
            }
        }
        if let Some(more) = more {
            writeln!(out, "- And {more}")?;
        }
        let s = end.summary;
        writeln!(
            out,
            "- Flows: {} TLS, {} other TCP; {} packet{}",
            s.tls_flows,
            s.non_tls_flows,
            s.frames,
            plural(s.frames)
        )?;
        if !end.filters.is_empty() {
            writeln!(
                out,
                "- Selected: {} of {} TLS flows, by {}",
                self.data.selected,
                s.tls_flows,
                markdown::code(&end.filters.join(" "))
            )?;
        }
        if s.warnings > 0 {
            writeln!(
                out,
                "- Warnings about the input: {} (see the tool's standard error)",
                s.warnings
            )?;
        }
        writeln!(
            out,
            "- Made with: tlsclose {}, {}",
            env!("CARGO_PKG_VERSION"),
            markdown::code(&self.data.command)
        )?;
        Ok(())
    }

    /// The audit's findings (as `--audit --format markdown` writes them).
    fn findings(&self, out: &mut dyn Write, findings: &[Finding]) -> io::Result<()> {
        writeln!(out, "\n## Findings")?;
        if findings.is_empty() {
            writeln!(
                out,
                "\nNothing to report: no race, reset, truncation risk or missing close_notify."
            )?;
        } else {
            markdown_findings(out, findings, "###")?;
        }
        Ok(())
    }

    /// How many flows ended each way.
    fn endings(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "\n## Endings\n")?;
        let selected = self.data.selected;
        let rows: Vec<Vec<String>> = Ending::ALL
            .iter()
            .map(|&e| {
                let n = self.data.count(e);
                vec![
                    e.as_str().to_string(),
                    n.to_string(),
                    format!("{}%", tlsclose_audit::units::percent(n, selected)),
                ]
            })
            .collect();
        let table = Table {
            columns: vec![
                Column::new("ending", Align::Left, 0),
                Column::new("flows", Align::Right, 0),
                Column::new("share", Align::Right, 0),
            ],
            rows,
        };
        table.to_markdown(out)?;
        writeln!(
            out,
            "\n{} of {} flow{} ended cleanly (close_notify, then FIN).",
            self.data.count(Ending::CloseNotifyThenFin),
            selected,
            plural(selected)
        )?;
        Ok(())
    }

    /// The flows of each server (the `--group-by server` table), the first
    /// [`SERVERS_LISTED`].
    fn per_server(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "\n## Per server\n")?;
        if self.data.servers.is_empty() {
            return writeln!(out, "No TLS flows.");
        }
        let mut table = crate::output::group_by::table(&self.data.servers);
        let more = table.rows.len().saturating_sub(SERVERS_LISTED);
        let rest_flows: u64 = self
            .data
            .servers
            .sorted()
            .iter()
            .skip(SERVERS_LISTED)
            .map(|(_, s)| s.flows)
            .sum();
        table.rows.truncate(SERVERS_LISTED);
        table.to_markdown(out)?;
        if more > 0 {
            writeln!(
                out,
                "\n{more} more server{} ({rest_flows} flow{}): {} lists every one.",
                plural(more as u64),
                plural(rest_flows),
                markdown::code("--group-by server")
            )?;
        }
        Ok(())
    }

    /// The described flows ([`crate::report::flows`]), one diagram each: all
    /// those kept when `--report-flows` was given, else as many as fit in
    /// [`BUDGET`] after `used` characters.
    fn flows(&mut self, used: usize) -> String {
        let kept = self.data.described.take();
        let total = self.data.described.total;
        let sections: Vec<String> = kept
            .iter()
            .map(|k| flow_section(&k.id.to_string(), k))
            .collect();
        let shown = match self.asked {
            Some(_) => sections.len(),
            None => {
                let mut room = BUDGET.saturating_sub(used + FLOWS_INTRO);
                sections
                    .iter()
                    .take_while(|s| {
                        let n = s.chars().count();
                        let fits = n <= room;
                        room = room.saturating_sub(n);
                        fits
                    })
                    .count()
            }
        };
        let mut s = String::from(
            "\n## Flows that did not end with close_notify then FIN, or raced the close\n\n",
        );
        if total == 0 {
            s.push_str("None.\n");
            return s;
        }
        s.push_str(&format!(
            "{total} flow{}{}. Each has its facts, a Wireshark display filter for its frames \
             (addresses, ports and frame range) and a diagram of how it ended: the last TLS \
             records and the FIN/RST of each side, with times from the first shown \
             ({} prints the same as text).\n",
            plural(total),
            left_out(total, shown as u64, self.asked),
            markdown::code("--flow N")
        ));
        for section in sections.iter().take(shown) {
            s.push('\n');
            s.push_str(section);
        }
        s
    }
}

/// Why some described flows are not drawn, and how to draw them.
fn left_out(total: u64, shown: u64, asked: Option<usize>) -> String {
    if shown >= total {
        return String::new();
    }
    let flag = |n: u64| markdown::code(&format!("--report-flows {n}"));
    match asked {
        Some(n) => format!(
            "; the first {shown} are drawn ({} asked for {n}; {} draws them all)",
            markdown::code("--report-flows"),
            flag(total)
        ),
        None => format!(
            "; the first {shown} are drawn, as many as fit in 60,000 characters (a GitHub \
             comment holds 65,536); the other {} are left out ({} draws them all, past that size)",
            total - shown,
            flag(total)
        ),
    }
}

/// One flow: a heading, its facts, and a Mermaid diagram of how it ended
/// (from the frame the text ladder of `--flow` starts at).
fn flow_section(number: &str, f: &Flow) -> String {
    let r = &f.report;
    let mut s = format!(
        "### #{number} · {} · {} → {}\n\n",
        markdown::escape(r.ending.as_str()),
        markdown::escape(&r.client.to_string()),
        markdown::escape(&r.server.to_string())
    );
    for (k, v) in flow_detail::facts(r) {
        if matches!(k, "client" | "server") {
            continue; // in the heading
        }
        let value = if k == "Wireshark filter" {
            markdown::code(&v)
        } else {
            markdown::escape(&v)
        };
        s.push_str(&format!("- {}: {value}\n", markdown::escape(k)));
    }
    let (hidden, shown) = crate::output::ladder::shown_steps(r);
    match shown.first() {
        Some(first) => s.push_str(&format!(
            "\nHow it ended, from frame {}{}:\n\n",
            first.frame,
            if hidden > 0 {
                format!(
                    " ({hidden} earlier record{} not shown)",
                    plural(hidden as u64)
                )
            } else {
                String::new()
            }
        )),
        None => s.push_str("\nNo records, FIN or RST were seen.\n\n"),
    }
    s.push_str(&crate::report::mermaid::block(r));
    s
}

impl ReportSink for TicketSink {
    fn flow(&mut self, flow: &Flow) -> io::Result<()> {
        self.data.add(flow)
    }

    fn finish(&mut self, end: &RunEnd<'_>) -> io::Result<()> {
        let path = self.path.display().to_string();
        self.write(end)
            .map_err(|e| io::Error::new(e.kind(), format!("{path}: {e}")))
    }
}

fn file_name(path: &str) -> String {
    Path::new(path)
        .file_name()
        .map_or_else(|| path.to_owned(), |n| n.to_string_lossy().into_owned())
}
