//! `--report FILE.md`: a self-contained Markdown report to paste into a bug
//! ticket: what was read, how the flows ended, per server, and each flow
//! that did not end close_notify-then-fin or had a keep-alive race
//! ([`crate::report::flows`]) with its Wireshark filter and how it ended.

use crate::output::flow_detail;
use crate::output::sink::{Flow, ReportSink, RunEnd};
use crate::output::table::{Align, Column, Table};
use crate::report::flows::Described;
use crate::text::markdown;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use tlsclose_analysis::Ending;
use tlsclose_audit::group::GroupBy;
use tlsclose_audit::group::Groups;
use tlsclose_audit::units::{format_bytes, format_span, percent, plural, utc};

pub struct TicketSink {
    path: PathBuf,
    out: Option<BufWriter<File>>,
    endings: [u64; 5],
    selected: u64,
    servers: Groups,
    /// The flows described one by one.
    described: Described,
    command: String,
}

impl TicketSink {
    /// Creates the file now, so that a path that cannot be written is an
    /// error before a long read.
    pub fn create(path: &Path, limit: usize) -> io::Result<TicketSink> {
        let file = File::create(path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        Ok(TicketSink {
            path: path.to_owned(),
            out: Some(BufWriter::new(file)),
            endings: [0; 5],
            selected: 0,
            servers: Groups::new(GroupBy::Server),
            described: Described::new(limit),
            command: command_line(),
        })
    }

    /// The report, section by section.
    fn write(&mut self, end: &RunEnd<'_>) -> io::Result<()> {
        let Some(mut out) = self.out.take() else {
            return Ok(());
        };
        self.title(&mut out, end)?;
        self.what_was_read(&mut out, end)?;
        self.endings(&mut out)?;
        self.per_server(&mut out)?;
        self.unclean_flows(&mut out, end)?;
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

    /// Each capture (format, size, frames, time span), the flows, the filters, the warnings and the command.
    fn what_was_read(&self, out: &mut dyn Write, end: &RunEnd<'_>) -> io::Result<()> {
        for i in end.inputs {
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
            let name = if i.name == "-" {
                "standard input".to_string()
            } else {
                markdown::code(&i.name)
            };
            writeln!(out, "- Capture: {name} ({})", what.join(", "))?;
            if let (Some(a), Some(b)) = (i.first_ts, i.last_ts) {
                writeln!(
                    out,
                    "  - time span: {} to {} ({})",
                    utc(a.as_secs_f64()),
                    utc(b.as_secs_f64()),
                    format_span(b.secs_since(a))
                )?;
            }
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
                self.selected,
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
            markdown::code(&self.command)
        )?;
        Ok(())
    }

    /// How many flows ended each way.
    fn endings(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "\n## Endings\n")?;
        let rows: Vec<Vec<String>> = Ending::ALL
            .iter()
            .zip(self.endings)
            .map(|(e, n)| {
                vec![
                    e.as_str().to_string(),
                    n.to_string(),
                    format!("{}%", percent(n, self.selected)),
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
            self.endings[0],
            self.selected,
            plural(self.selected)
        )?;
        Ok(())
    }

    /// The flows of each server (the `--group-by server` table).
    fn per_server(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "\n## Per server\n")?;
        if self.servers.is_empty() {
            writeln!(out, "No TLS flows.")?;
        } else {
            write!(out, "{}", crate::output::group_by::markdown(&self.servers))?;
        }
        Ok(())
    }

    /// Each described flow ([`crate::report::flows`]), in detail (the first
    /// `--report-flows`).
    fn unclean_flows(&mut self, out: &mut dyn Write, end: &RunEnd<'_>) -> io::Result<()> {
        writeln!(
            out,
            "\n## Flows that did not end with close_notify then FIN, or raced the close\n"
        )?;
        let kept = self.described.take();
        if self.described.total == 0 {
            writeln!(out, "None.")?;
        } else {
            writeln!(
                out,
                "{} flow{}{}. Each has a Wireshark display filter for its frames (addresses, ports and frame range), and how it ended: the last TLS records and the FIN/RST of each side, with times relative to the first line.",
                self.described.total,
                plural(self.described.total),
                if self.described.total > kept.len() as u64 {
                    format!(
                        "; the first {} are described (raise --report-flows for more)",
                        kept.len()
                    )
                } else {
                    String::new()
                }
            )?;
        }
        for k in &kept {
            writeln!(out)?;
            write!(out, "{}", flow_detail::markdown(&end.number(k), k, "###"))?;
        }
        Ok(())
    }
}

impl ReportSink for TicketSink {
    fn flow(&mut self, flow: &Flow) -> io::Result<()> {
        let r = &flow.report;
        self.selected += 1;
        if let Some(i) = Ending::ALL.iter().position(|&e| e == r.ending) {
            if let Some(n) = self.endings.get_mut(i) {
                *n += 1;
            }
        }
        self.servers.add(r);
        self.described.offer(flow);
        Ok(())
    }

    fn numbers_flows(&self) -> bool {
        true
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

/// This run's command line, quoted for a POSIX shell where needed.
fn command_line() -> String {
    let mut args = std::env::args();
    let _program = args.next();
    std::iter::once("tlsclose".to_string())
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
        .collect::<Vec<_>>()
        .join(" ")
}
