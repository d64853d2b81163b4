//! `--audit` output: the audit crate's findings (rolled up by kind, most
//! severe first, with counts, the servers or client networks concerned
//! and example flows) as wrapped text, Markdown or JSON lines, and the
//! `--fail-on-finding` check. The rules are in `tlsclose_audit`; see
//! docs/AUDIT.md.

use crate::cli::Format;
use crate::output::sink::write_summary_line;
use crate::output::sink::{Flow, ReportSink, RunEnd};
use crate::text::markdown;
use std::io::{self, Write};
use tlsclose_audit::units::plural;
use tlsclose_audit::{timeout_text, Auditor, Example, Finding, FindingKind, Subject, TOP};

/// The same as [`TOP`] in Markdown.
const TOP_MARKDOWN: usize = 10;

pub struct AuditSink {
    out: Box<dyn Write>,
    format: Format,
    auditor: Auditor,
    fail_on: Vec<FindingKind>,
    /// Findings of a `--fail-on-finding` kind (known after `finish`).
    pub failing: u64,
    /// Why, in words (see [`ReportSink::failing_why`]).
    failing_why: Option<String>,
    /// The terminal's width: the text is wrapped at words to it.
    width: Option<usize>,
}

impl AuditSink {
    pub fn new(
        out: Box<dyn Write>,
        format: Format,
        fail_on: Vec<FindingKind>,
        width: Option<usize>,
        examples: usize,
    ) -> Self {
        AuditSink {
            out,
            format,
            auditor: Auditor::new(examples),
            fail_on,
            failing: 0,
            failing_why: None,
            width,
        }
    }
}

impl ReportSink for AuditSink {
    fn flow(&mut self, flow: &Flow) -> io::Result<()> {
        self.auditor.add(&flow.report, flow.id);
        Ok(())
    }

    fn failing(&self) -> u64 {
        self.failing
    }

    fn failing_why(&self) -> Option<String> {
        self.failing_why.clone()
    }

    fn finish(&mut self, end: &RunEnd<'_>) -> io::Result<()> {
        let findings = self.auditor.findings();
        let matched: Vec<&Finding> = findings
            .iter()
            .filter(|f| self.fail_on.contains(&f.finding))
            .collect();
        self.failing = matched.len() as u64;
        if !matched.is_empty() {
            let parts: Vec<String> = matched
                .iter()
                .map(|f| {
                    format!(
                        "{} ({} flow{} of {} {}{})",
                        f.finding,
                        f.count,
                        plural(f.count),
                        f.subjects,
                        f.subject,
                        if f.subjects == 1 { "" } else { "s" }
                    )
                })
                .collect();
            let asked: Vec<&str> = self.fail_on.iter().map(|k| k.as_str()).collect();
            self.failing_why = Some(format!(
                "--fail-on-finding {} matched: {}",
                asked.join(","),
                parts.join(", ")
            ));
        }
        let inputs: Vec<&str> = end.inputs.iter().map(|i| i.name.as_str()).collect();
        match self.format {
            Format::Json => {
                for f in &findings {
                    serde_json::to_writer(&mut self.out, f)?;
                    self.out.write_all(b"\n")?;
                }
                write_summary_line(&mut self.out, end.summary)?;
            }
            Format::Markdown => {
                write_markdown(&mut self.out, &findings, &inputs, self.auditor.flows())?
            }
            Format::Table | Format::Csv => {
                let mut text = Vec::new();
                write_text(&mut text, &findings, &inputs, self.auditor.flows())?;
                if !end.quiet {
                    writeln!(text, "{}", end.summary.line())?;
                }
                self.out
                    .write_all(wrap_text(&String::from_utf8_lossy(&text), self.width).as_bytes())?;
            }
        }
        self.out.flush()
    }
}

fn example_words(e: &Example) -> String {
    format!(
        "--flow {} ({} → {}): {}",
        e.flow, e.client, e.server, e.what
    )
}

/// Each line of `text` wrapped at words to `width`, its continuation
/// lines indented as far as its own text starts (after `1. ` or
/// `   Examples: `).
fn wrap_text(text: &str, width: Option<usize>) -> String {
    let Some(width) = width else {
        return text.to_owned();
    };
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.lines() {
        if line.chars().count() <= width {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let lead = line.len() - line.trim_start().len();
        let body = line.trim_start();
        // hang after a list number or a label (`1. `, `Fix: `, `Examples: `)
        let hang = lead
            + ["Examples: ", "          ", "Fix: ", "Wireshark: "]
                .iter()
                .find(|p| body.starts_with(**p))
                .map_or_else(
                    || body.find(". ").filter(|&i| i <= 3).map_or(0, |i| i + 2),
                    |p| p.len(),
                );
        let hang = hang.min(width / 2);
        for (i, part) in
            crate::output::table::wrap(line.get(hang..).unwrap_or(line).trim_start(), width - hang)
                .into_iter()
                .enumerate()
        {
            if i == 0 {
                out.push_str(line.get(..hang).unwrap_or_default());
            } else {
                out.push_str(&" ".repeat(hang));
            }
            out.push_str(&part);
            out.push('\n');
        }
    }
    out
}

/// The columns of a finding's table of subjects: title and cell.
type Col = (&'static str, fn(&Subject) -> String);

fn columns(kind: FindingKind) -> Vec<Col> {
    let flows: Col = ("flows", |x| x.flows.to_string());
    let timeout: Col = ("idle timeout", |x| {
        x.timeout
            .map_or_else(|| "-".into(), |t| timeout_text(&t, true))
    });
    match kind {
        FindingKind::KeepaliveRace => vec![("requests", |x| x.count.to_string()), flows, timeout],
        FindingKind::IdleReset => vec![("resets", |x| x.count.to_string()), flows, timeout],
        FindingKind::TruncationRisk => vec![("bare FINs", |x| x.count.to_string()), flows],
        FindingKind::NoCloseNotify => vec![("own closes", |x| x.count.to_string()), flows],
        FindingKind::AbruptClose => vec![
            ("abrupt closes", |x| x.count.to_string()),
            ("shows", |x| {
                x.abrupt_closes.map_or_else(String::new, |a| {
                    a.shapes()
                        .iter()
                        .map(|(n, w)| format!("{w} ({n})"))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
            }),
            flows,
        ],
        FindingKind::ClientReset => vec![
            ("clients", |x| x.clients.unwrap_or(0).to_string()),
            ("resets", |x| x.count.to_string()),
            flows,
        ],
        FindingKind::IdleTimeout => vec![
            ("closes", |x| {
                format!(
                    "{}/{}",
                    x.server_idle_timeout_closes.unwrap_or(0),
                    x.server_idle_closes.unwrap_or(0)
                )
            }),
            flows,
            timeout,
        ],
    }
}

/// The first `top` subjects as rows (name, cells), and a row counting the
/// others.
pub fn subject_rows(f: &Finding, top: usize) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let cols = columns(f.finding);
    let mut head = vec![f.subject.as_str()];
    head.extend(cols.iter().map(|c| c.0));
    let mut rows: Vec<Vec<String>> = f
        .by_subject
        .iter()
        .take(top)
        .map(|x| {
            let mut row = vec![x.subject.clone()];
            row.extend(cols.iter().map(|c| (c.1)(x)));
            row
        })
        .collect();
    let rest = f.by_subject.get(top..).unwrap_or_default();
    if !rest.is_empty() {
        let mut row = vec![format!(
            "{} more {}{}",
            rest.len(),
            f.subject,
            if rest.len() == 1 { "" } else { "s" }
        )];
        for (title, _) in &cols {
            row.push(match *title {
                "flows" => rest.iter().map(|x| x.flows).sum::<u64>().to_string(),
                "clients" => rest
                    .iter()
                    .filter_map(|x| x.clients)
                    .sum::<u64>()
                    .to_string(),
                "idle timeout" | "closes" | "shows" => String::new(),
                _ => rest.iter().map(|x| x.count).sum::<u64>().to_string(),
            });
        }
        rows.push(row);
    }
    (head, rows)
}

fn write_text(
    out: &mut dyn Write,
    findings: &[Finding],
    inputs: &[&str],
    flows: u64,
) -> io::Result<()> {
    writeln!(
        out,
        "Audit of {}: {flows} TLS flow{}, {} finding{}{}",
        inputs.join(", "),
        plural(flows),
        findings.len(),
        plural(findings.len() as u64),
        if findings.len() > 1 {
            " (most severe first)"
        } else {
            ""
        }
    )?;
    for (i, f) in findings.iter().enumerate() {
        writeln!(out)?;
        writeln!(
            out,
            "{}. [{}] {}: {}",
            i + 1,
            f.severity,
            f.finding,
            f.title
        )?;
        writeln!(out, "   {}", f.evidence)?;
        if let Some(fix) = &f.fix {
            writeln!(out, "   Fix: {fix}")?;
        }
        if f.by_subject.len() > 1 {
            let (head, rows) = subject_rows(f, TOP);
            let mut widths: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
            for row in &rows {
                for (w, c) in widths.iter_mut().zip(row) {
                    *w = (*w).max(c.chars().count());
                }
            }
            let line = |cells: Vec<String>| {
                let mut s = String::from(" ");
                for (k, (c, w)) in cells.iter().zip(&widths).enumerate() {
                    let pad = w.saturating_sub(c.chars().count());
                    s.push_str("  ");
                    if k == 0 {
                        s.push_str(c);
                        s.push_str(&" ".repeat(pad));
                    } else {
                        s.push_str(&" ".repeat(pad));
                        s.push_str(c);
                    }
                }
                s.trim_end().to_string()
            };
            writeln!(
                out,
                "{}",
                line(head.iter().map(|h| h.to_string()).collect())
            )?;
            for row in rows {
                writeln!(out, "{}", line(row))?;
            }
        }
        for (j, e) in f.examples.iter().enumerate() {
            writeln!(
                out,
                "   {} {}",
                if j == 0 { "Examples:" } else { "         " },
                example_words(e)
            )?;
        }
    }
    if findings.is_empty() {
        writeln!(out, "\nNothing to report.")?;
    } else {
        writeln!(
            out,
            "\n--flow N: a flow's Wireshark filter and ladder{}.",
            if findings.iter().any(|f| f.by_subject.len() > TOP) {
                "; --format json: every server and network"
            } else {
                ""
            }
        )?;
    }
    Ok(())
}

/// The findings as Markdown (`--audit --format markdown`, and the
/// Markdown report's findings section, whose headings start at `level`).
pub fn markdown_findings(out: &mut dyn Write, findings: &[Finding], level: &str) -> io::Result<()> {
    for (i, f) in findings.iter().enumerate() {
        writeln!(
            out,
            "\n{level} {}. {} ({}, {})\n",
            i + 1,
            markdown::escape(&f.title),
            markdown::code(f.finding.as_str()),
            f.severity
        )?;
        writeln!(out, "{}\n", markdown::escape(&f.evidence))?;
        if let Some(fix) = &f.fix {
            writeln!(out, "**Fix:** {}\n", markdown::escape(fix))?;
        }
        if f.by_subject.len() > 1 {
            let (head, rows) = subject_rows(f, TOP_MARKDOWN);
            let mut columns = vec![crate::output::table::Column::new(
                head.first().copied().unwrap_or("server"),
                crate::output::table::Align::Left,
                0,
            )];
            columns.extend(head.iter().skip(1).map(|h| {
                crate::output::table::Column::new(h, crate::output::table::Align::Right, 0)
            }));
            crate::output::table::Table { columns, rows }.to_markdown(out)?;
            writeln!(out)?;
        }
        for e in &f.examples {
            writeln!(
                out,
                "- {} {}, {}: {}",
                markdown::code(&format!("--flow {}", e.flow)),
                markdown::escape(&format!("{} → {}", e.client, e.server)),
                markdown::escape(&e.what),
                markdown::code(&e.wireshark_filter)
            )?;
        }
    }
    Ok(())
}

fn write_markdown(
    out: &mut dyn Write,
    findings: &[Finding],
    inputs: &[&str],
    flows: u64,
) -> io::Result<()> {
    writeln!(out, "# tlsclose audit\n")?;
    writeln!(
        out,
        "{}: {flows} TLS flow{}, {} finding{}.",
        inputs
            .iter()
            .map(|i| markdown::code(i))
            .collect::<Vec<_>>()
            .join(", "),
        plural(flows),
        findings.len(),
        plural(findings.len() as u64)
    )?;
    markdown_findings(out, findings, "##")?;
    if findings.is_empty() {
        writeln!(out, "\nNothing to report.")?;
    }
    Ok(())
}
