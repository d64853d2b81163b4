//! `--report FILE.html`: a self-contained HTML report (inline CSS and SVG,
//! nothing fetched), conclusion first: a few sentences built from the
//! audit's findings ([`crate::report::conclusion`]), the findings, the per-server
//! table, the charts (the endings per server as stacked bars; the idle
//! time before each close as a histogram on round ticks, the idle
//! timeouts found dashed on top of the bars), then the flows that did not
//! end close_notify-then-fin, or raced, with a table of contents and each
//! ladder in a collapsible `<details>`, and last what was read and how the
//! report was made.
//!
//! Nothing is clipped: every SVG is as wide as its longest label, measured
//! with [`text_width`] (an upper bound of the rendered width), which
//! `tests/pictures.rs` checks in headless Chromium.

use crate::output::audit::subject_rows;
use crate::output::sink::{Flow, ReportSink, RunEnd};
use crate::report::data::{input_facts, time_span, ReportData, DEFAULT_FLOWS};
use std::collections::HashSet;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use tlsclose_analysis::Ending;
use tlsclose_audit::units::{format_secs, plural};
use tlsclose_audit::{timeout_text, Finding};

mod ladder;
use ladder::ladder;

/// Colours of the endings, in [`Ending::ALL`] order.
const COLOURS: [&str; 5] = ["#2e7d32", "#f9a825", "#c62828", "#6a1b9a", "#78909c"];

/// Servers in the per-server table and the bar chart; the others are
/// counted.
const SERVERS_LISTED: usize = 40;

/// Servers or networks listed in a finding's table.
const FINDING_ROWS: usize = 10;

/// Idle timeouts marked on the histogram (those most closes agree on).
const TIMEOUTS_MARKED: usize = 10;

pub struct HtmlSink {
    path: PathBuf,
    out: Option<BufWriter<File>>,
    data: ReportData,
}

/// Text safe in HTML.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// An upper bound of the width, in pixels, of `s` in a sans-serif font of
/// `size` pixels: the widest Latin letters (m, W) are about 0.9 em, digits
/// and most lower case 0.5–0.6 em, so 0.64 em per character, plus a little,
/// covers the labels written here (numbers, addresses, words).
fn text_width(s: &str, size: f64) -> f64 {
    let em: f64 = s
        .chars()
        .map(|c| match c {
            'm' | 'w' | 'M' | 'W' | '@' | '%' | '—' => 0.95,
            'A'..='Z' | '#' | '&' | '←' | '→' => 0.75,
            'i' | 'l' | 'j' | '.' | ',' | ':' | ';' | '\'' | '|' | '!' | ' ' | '(' | ')' => 0.4,
            _ => 0.64,
        })
        .sum();
    em * size + 4.0
}

/// A `<section>`'s anchor for flow `number`.
fn flow_id(number: &str) -> String {
    format!("flow-{}", number.trim_start_matches('#'))
}

impl HtmlSink {
    pub fn create(path: &Path, asked: Option<usize>, examples: usize) -> io::Result<HtmlSink> {
        let file = File::create(path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        Ok(HtmlSink {
            path: path.to_owned(),
            out: Some(BufWriter::new(file)),
            data: ReportData::new(asked.unwrap_or(DEFAULT_FLOWS), examples),
        })
    }

    fn write(&mut self, end: &RunEnd<'_>) -> String {
        let mut h = String::new();
        let files: Vec<&str> = end.inputs.iter().map(|i| i.name.as_str()).collect();
        let title = match files.as_slice() {
            [one] => format!("TLS connection endings in {}", file_name(one)),
            many => format!("TLS connection endings in {} captures", many.len()),
        };
        let _ = write!(
            h,
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>{t}</title>\n<style>{CSS}</style></head><body>\n<h1>{t}</h1>\n",
            t = esc(&title)
        );
        let findings = self.data.findings();
        let sentences = crate::report::conclusion::sentences(&self.data, &findings);
        let _ = writeln!(
            h,
            "<section id=\"conclusion\"><p class=\"conclusion\">{}</p>\n<p class=\"what\">{}</p></section>",
            esc(&sentences.join(" ")),
            esc(&end.summary.line())
        );
        let kept = self.data.described.take();
        let drawn: HashSet<String> = kept.iter().map(|k| k.id.to_string()).collect();
        h.push_str(&findings_html(&findings, &drawn));
        h.push_str(&self.per_server());
        h.push_str("<h2 id=\"charts\">Charts</h2>\n<h3>Endings per server</h3>\n");
        h.push_str(&self.bar_chart());
        h.push_str("<h3>Idle time before the close</h3>\n");
        h.push_str(&self.histogram());
        h.push_str(&self.flows(&kept));
        h.push_str(&self.about(end));
        h.push_str("</body></html>\n");
        h
    }

    /// The per-server table (what `--group-by server` shows), the first
    /// [`SERVERS_LISTED`].
    fn per_server(&self) -> String {
        let mut s = String::from("<h2 id=\"servers\">Per server</h2>\n");
        if self.data.servers.is_empty() {
            s.push_str("<p>No TLS flows.</p>\n");
            return s;
        }
        let table = crate::output::group_by::table(&self.data.servers);
        s.push_str("<div class=\"wide\"><table id=\"per-server\"><thead><tr>");
        for c in &table.columns {
            let _ = write!(s, "<th>{}</th>", esc(c.title).replace('\n', "<br>"));
        }
        s.push_str("</tr></thead><tbody>\n");
        for row in table.rows.iter().take(SERVERS_LISTED) {
            s.push_str("<tr>");
            for (i, cell) in row.iter().enumerate() {
                let class = if i == 0 { "" } else { " class=\"num\"" };
                let _ = write!(s, "<td{class}>{}</td>", esc(cell));
            }
            s.push_str("</tr>\n");
        }
        s.push_str("</tbody></table></div>\n");
        let more = table.rows.len().saturating_sub(SERVERS_LISTED);
        if more > 0 {
            let flows: u64 = self
                .data
                .servers
                .sorted()
                .iter()
                .skip(SERVERS_LISTED)
                .map(|(_, st)| st.flows)
                .sum();
            let _ = writeln!(
                s,
                "<p>{more} more server{} ({flows} flow{}): <code>--group-by server</code> lists every one.</p>",
                plural(more as u64),
                plural(flows)
            );
        }
        s
    }

    /// One stacked bar per server (most flows first, at most
    /// [`SERVERS_LISTED`]).
    fn bar_chart(&self) -> String {
        let groups = self.data.servers.sorted();
        if groups.is_empty() {
            return "<p id=\"endings-chart\">No TLS flows.</p>\n".into();
        }
        let rows = groups.len().min(SERVERS_LISTED);
        let labels: Vec<String> = groups
            .iter()
            .take(rows)
            .map(|(server, st)| format!("{server} ({})", st.flows))
            .collect();
        let label_w = labels
            .iter()
            .map(|l| text_width(l, 12.0))
            .fold(120.0, f64::max)
            + 16.0;
        let (bar_w, row_h): (f64, f64) = (520.0, 26.0);
        let legend_w: f64 = Ending::ALL
            .iter()
            .map(|e| 28.0 + text_width(e.as_str(), 11.0))
            .sum();
        let w = (label_w + bar_w.max(legend_w) + 20.0).ceil();
        let height = 40.0 + row_h * rows as f64;
        let mut s = format!(
            "<svg id=\"endings-chart\" class=\"chart\" width=\"{w}\" height=\"{height}\" \
             viewBox=\"0 0 {w} {height}\" role=\"img\" aria-label=\"endings per server\">\n",
        );
        let mut x = label_w;
        for (e, c) in Ending::ALL.iter().zip(COLOURS) {
            let _ = writeln!(
                s,
                "<rect x=\"{x:.1}\" y=\"6\" width=\"12\" height=\"12\" fill=\"{c}\"/>\
                 <text x=\"{:.1}\" y=\"16\" class=\"small\">{}</text>",
                x + 16.0,
                e.as_str()
            );
            x += 28.0 + text_width(e.as_str(), 11.0);
        }
        for (i, ((_, st), label)) in groups.iter().zip(&labels).enumerate() {
            let y = 30.0 + row_h * i as f64;
            let _ = writeln!(
                s,
                "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"end\">{}</text>",
                label_w - 8.0,
                y + 15.0,
                esc(label)
            );
            let mut x = label_w;
            for (e, c) in Ending::ALL.iter().zip(COLOURS) {
                let n = st.count(*e);
                if n == 0 || st.flows == 0 {
                    continue;
                }
                let bw = bar_w * n as f64 / st.flows as f64;
                let _ = writeln!(
                    s,
                    "<rect class=\"bar\" x=\"{x:.1}\" y=\"{y}\" width=\"{bw:.1}\" height=\"{}\" \
                     fill=\"{c}\"><title>{}: {} {}</title></rect>",
                    row_h - 6.0,
                    esc(label),
                    n,
                    e.as_str()
                );
                x += bw;
            }
        }
        s.push_str("</svg>\n");
        if groups.len() > rows {
            let _ = writeln!(s, "<p>{} more servers not drawn.</p>", groups.len() - rows);
        }
        s
    }

    /// The idle time before each close started by the server (and by the
    /// client, stacked), in bins that fall on round ticks; the servers'
    /// idle timeouts found are dashed, drawn after (on top of) the bars.
    fn histogram(&self) -> String {
        let groups = self.data.servers.sorted();
        let mut server: Vec<(f64, u64)> = Vec::new();
        let mut client: Vec<(f64, u64)> = Vec::new();
        // distinct timeouts (as written), with their servers and closes
        let mut timeouts: Vec<(String, f64, Vec<String>, u64)> = Vec::new();
        for (name, st) in &groups {
            server.extend(st.server_idle.points());
            client.extend(st.client_idle.points());
            if let Some(t) = st.server_idle.timeout() {
                if t.closes < 3 && groups.len() > 1 {
                    continue; // one or two closes at random moments
                }
                let text = timeout_text(&t, true);
                match timeouts.iter_mut().find(|x| x.0 == text) {
                    Some(x) => {
                        x.2.push(name.to_string());
                        x.3 += t.closes;
                    }
                    None => timeouts.push((text, t.seconds, vec![name.to_string()], t.closes)),
                }
            }
        }
        timeouts.sort_by_key(|t| std::cmp::Reverse(t.3));
        timeouts.truncate(TIMEOUTS_MARKED);
        timeouts.sort_by(|a, b| a.1.total_cmp(&b.1));
        let max = server
            .iter()
            .chain(&client)
            .map(|p| p.0)
            .chain(timeouts.iter().map(|t| t.1))
            .fold(0.0f64, f64::max);
        if max <= 0.0 {
            return "<p id=\"idle-histogram\">No closes after an idle time (100 ms or more).</p>\n"
                .into();
        }
        let axis = Axis::new(max);
        let bins = axis.bins();
        let width = axis.top / bins as f64;
        let mut counts = vec![[0u64; 2]; bins];
        for (k, v) in [(0usize, &server), (1, &client)] {
            for &(t, n) in v.iter() {
                let b = ((t / width) as usize).min(bins - 1);
                if let Some(c) = counts.get_mut(b).and_then(|c| c.get_mut(k)) {
                    *c += n;
                }
            }
        }
        let most = counts.iter().map(|c| c[0] + c[1]).max().unwrap_or(1).max(1);
        let (left, plot_w, plot_h, top_pad) = (50.0, 660.0, 220.0, 30.0);
        let bar = plot_w / bins as f64;
        let w = left + plot_w + 40.0;
        let h = top_pad + plot_h + 50.0;
        let mut s = format!(
            "<svg id=\"idle-histogram\" class=\"chart\" width=\"{w}\" height=\"{h}\" \
             viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"idle time before the close\">\n",
        );
        let server_label = "closed by the server";
        let client_x = left + 28.0 + text_width(server_label, 11.0);
        let _ = writeln!(
            s,
            "<rect x=\"{left}\" y=\"8\" width=\"12\" height=\"12\" fill=\"#1565c0\"/>\
             <text x=\"{}\" y=\"18\" class=\"small\">{server_label}</text>\
             <rect x=\"{client_x:.1}\" y=\"8\" width=\"12\" height=\"12\" fill=\"#90caf9\"/>\
             <text x=\"{:.1}\" y=\"18\" class=\"small\">closed by the client</text>",
            left + 16.0,
            client_x + 16.0
        );
        let base = top_pad + plot_h;
        for (i, c) in counts.iter().enumerate() {
            let x = left + bar * i as f64;
            let mut y = base;
            for (k, colour) in [(0usize, "#1565c0"), (1, "#90caf9")] {
                let n = c.get(k).copied().unwrap_or(0);
                if n == 0 {
                    continue;
                }
                let hgt = plot_h * n as f64 / most as f64;
                y -= hgt;
                let _ = writeln!(
                    s,
                    "<rect class=\"bin\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{hgt:.1}\" \
                     fill=\"{colour}\"><title>{} to {}: {n}</title></rect>",
                    (bar - 1.0).max(1.0),
                    format_secs(width * i as f64),
                    format_secs(width * (i + 1) as f64)
                );
            }
        }
        let _ = writeln!(
            s,
            "<line x1=\"{left}\" y1=\"{base}\" x2=\"{}\" y2=\"{base}\" stroke=\"#333\"/>",
            left + plot_w
        );
        for k in 0..=axis.ticks {
            let v = axis.step * k as f64;
            let x = left + plot_w * v / axis.top;
            let _ = writeln!(
                s,
                "<line x1=\"{x:.1}\" y1=\"{base}\" x2=\"{x:.1}\" y2=\"{}\" stroke=\"#333\"/>\
                 <text x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\" class=\"small tick\">{}</text>",
                base + 4.0,
                base + 16.0,
                tick_label(v)
            );
        }
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" class=\"small\">idle time before \
             the first close signal (most in one bin: {most})</text>",
            left + plot_w / 2.0,
            base + 36.0
        );
        // the timeouts last: on top of the bars; labels staggered where
        // they would overlap, turned left near the right edge
        let mut row_end: Vec<f64> = Vec::new();
        for (text, t, names, closes) in &timeouts {
            let x = left + plot_w * t / axis.top;
            let label_w = text_width(text, 11.0);
            let (anchor, x0, x1) = if x + 3.0 + label_w > w - 2.0 {
                ("end", x - 3.0 - label_w, x - 3.0)
            } else {
                ("start", x + 3.0, x + 3.0 + label_w)
            };
            let row = row_end
                .iter()
                .position(|&e| e < x0)
                .unwrap_or(row_end.len());
            match row_end.get_mut(row) {
                Some(e) => *e = x1 + 4.0,
                None => row_end.push(x1 + 4.0),
            }
            let lx = if anchor == "end" { x1 } else { x0 };
            let _ = writeln!(
                s,
                "<line class=\"timeout-halo\" x1=\"{x:.1}\" y1=\"{top_pad}\" x2=\"{x:.1}\" y2=\"{base}\"/>\
                 <line class=\"timeout\" x1=\"{x:.1}\" y1=\"{top_pad}\" x2=\"{x:.1}\" y2=\"{base}\">\
                 <title>{}: idle timeout {} ({closes} closes)</title></line>\
                 <text x=\"{lx:.1}\" y=\"{}\" text-anchor=\"{anchor}\" class=\"small timeout-label\">{}</text>",
                esc(&names.join(", ")),
                esc(text),
                top_pad + 10.0 + 13.0 * row as f64,
                esc(text)
            );
        }
        s.push_str("</svg>\n");
        if !timeouts.is_empty() {
            let list: Vec<String> = timeouts
                .iter()
                .map(|(text, _, names, _)| {
                    let who = match names.as_slice() {
                        [one] => one.clone(),
                        many => format!("{} servers", many.len()),
                    };
                    format!("{} {}", esc(&who), esc(text))
                })
                .collect();
            let _ = writeln!(
                s,
                "<p>Idle timeouts found (dashed): {}.</p>",
                list.join(", ")
            );
        }
        s
    }

    /// The described flows: a table of contents, then each as a
    /// collapsible ladder.
    fn flows(&mut self, kept: &[Flow]) -> String {
        let total = self.data.described.total;
        let mut h =
            String::from("<h2 id=\"flows\">Flows that did not end cleanly, or raced</h2>\n");
        let _ = writeln!(
            h,
            "<p>{total} flow{}{}. Each ladder shows the last TLS records and the FIN/RST of each \
             side (<code>--flow N</code> prints the same as text); click to open.</p>",
            plural(total),
            if total > kept.len() as u64 {
                format!(
                    "; the first {} are drawn (<code>--report-flows {total}</code> draws them all)",
                    kept.len()
                )
            } else {
                String::new()
            }
        );
        if kept.is_empty() {
            return h;
        }
        h.push_str(
            "<nav id=\"toc\"><table><thead><tr><th>flow</th><th>ending</th><th>client → server</th>\
             <th>closed by</th><th>keep-alive race</th></tr></thead><tbody>\n",
        );
        for k in kept {
            let n = k.id.to_string();
            let r = &k.report;
            let _ = writeln!(
                h,
                "<tr><td><a href=\"#{}\">#{}</a></td><td>{}</td><td>{} → {}</td><td>{}</td><td>{}</td></tr>",
                flow_id(&n),
                esc(&n),
                esc(r.ending.as_str()),
                esc(&r.client.to_string()),
                esc(&r.server.to_string()),
                r.closer.as_str(),
                match r.race_window_s {
                    Some(w) if r.keepalive_race => format!("{} after the close", format_secs(w)),
                    _ => "-".into(),
                }
            );
        }
        h.push_str("</tbody></table></nav>\n");
        for (i, k) in kept.iter().enumerate() {
            h.push_str(&ladder(&k.id.to_string(), k, i));
        }
        h
    }

    /// What was read and how the report was made.
    fn about(&self, end: &RunEnd<'_>) -> String {
        let mut s = String::from("<h2 id=\"about\">About this report</h2>\n<ul>\n");
        let (inputs, more) = input_facts(end);
        for i in inputs {
            let name = i.name.as_deref().map_or("standard input".into(), |n| {
                format!("<code>{}</code>", esc(n))
            });
            let _ = writeln!(
                s,
                "<li>Capture: {name} ({}){}</li>",
                esc(&i.what),
                i.span
                    .map(|t| format!("; time span {}", esc(&t)))
                    .unwrap_or_default()
            );
        }
        if let Some(more) = more {
            let _ = writeln!(s, "<li>And {}</li>", esc(&more));
        }
        if end.inputs.len() > 1 {
            if let Some(span) = time_span(end) {
                let _ = writeln!(s, "<li>Time span: {}</li>", esc(&span));
            }
        }
        let sm = end.summary;
        let _ = writeln!(
            s,
            "<li>Flows: {} TLS, {} other TCP; {} packet{}</li>",
            sm.tls_flows,
            sm.non_tls_flows,
            sm.frames,
            plural(sm.frames)
        );
        if !end.filters.is_empty() {
            let _ = writeln!(
                s,
                "<li>Selected: {} of {} TLS flows, by <code>{}</code></li>",
                self.data.selected,
                sm.tls_flows,
                esc(&end.filters.join(" "))
            );
        }
        if sm.warnings > 0 {
            let _ = writeln!(
                s,
                "<li>Warnings about the input: {} (see the tool's standard error)</li>",
                sm.warnings
            );
        }
        let _ = writeln!(
            s,
            "<li id=\"made-with\">Made with: tlsclose {}, <code>{}</code></li>\n</ul>",
            env!("CARGO_PKG_VERSION"),
            esc(&self.data.command)
        );
        s
    }
}

/// The findings, most severe first: title, evidence, fix, the servers or
/// networks concerned most, example flows (linked when drawn below).
fn findings_html(findings: &[Finding], drawn: &HashSet<String>) -> String {
    let mut s = String::from("<h2 id=\"findings\">Findings</h2>\n");
    if findings.is_empty() {
        s.push_str(
            "<p>Nothing to report: no race, reset, truncation risk or missing close_notify.</p>\n",
        );
        return s;
    }
    for (i, f) in findings.iter().enumerate() {
        let _ = writeln!(
            s,
            "<section class=\"finding {sev}\"><h3>{}. {} <span class=\"kind\">{} · {sev}</span></h3>\n<p>{}</p>",
            i + 1,
            esc(&f.title),
            esc(f.finding.as_str()),
            esc(&f.evidence),
            sev = esc(f.severity.as_str()),
        );
        if let Some(fix) = &f.fix {
            let _ = writeln!(s, "<p><b>Fix:</b> {}</p>", esc(fix));
        }
        if f.by_subject.len() > 1 {
            let (head, rows) = subject_rows(f, FINDING_ROWS);
            s.push_str("<table class=\"subjects\"><thead><tr>");
            for c in &head {
                let _ = write!(s, "<th>{}</th>", esc(c));
            }
            s.push_str("</tr></thead><tbody>\n");
            for row in rows {
                s.push_str("<tr>");
                for (k, cell) in row.iter().enumerate() {
                    let class = if k == 0 { "" } else { " class=\"num\"" };
                    let _ = write!(s, "<td{class}>{}</td>", esc(cell));
                }
                s.push_str("</tr>\n");
            }
            s.push_str("</tbody></table>\n");
        }
        if !f.examples.is_empty() {
            s.push_str("<ul class=\"examples\">\n");
            for e in &f.examples {
                let n = e.flow.to_string();
                let flow = if drawn.contains(&n) {
                    format!("<a href=\"#{}\">--flow {n}</a> ", flow_id(&n))
                } else {
                    format!("<code>--flow {n}</code> ")
                };
                let _ = writeln!(
                    s,
                    "<li>{flow}{} → {}: {}; <code>{}</code></li>",
                    esc(&e.client),
                    esc(&e.server),
                    esc(&e.what),
                    esc(&e.wireshark_filter)
                );
            }
            s.push_str("</ul>\n");
        }
        s.push_str("</section>\n");
    }
    s
}

/// The histogram's axis: ticks at round values (1, 2 or 5 × 10^k seconds)
/// from 0 to `top`, the first tick above every value.
struct Axis {
    step: f64,
    ticks: usize,
    top: f64,
}

impl Axis {
    fn new(max: f64) -> Axis {
        let raw = max / 5.0;
        let mag = 10f64.powf(raw.log10().floor());
        let step = [1.0, 2.0, 5.0, 10.0]
            .iter()
            .map(|m| m * mag)
            .find(|s| *s >= raw)
            .unwrap_or(10.0 * mag);
        // a value on a tick still gets a bin below the top
        let ticks = ((max / step).floor() as usize + 1).max(1);
        Axis {
            step,
            ticks,
            top: step * ticks as f64,
        }
    }

    /// Bins: ten per tick (at most 60 in all), so that bins end on ticks.
    fn bins(&self) -> usize {
        let per = if self.ticks > 6 { 5 } else { 10 };
        self.ticks * per
    }
}

/// A tick's value: `0`, `500 ms`, `1 s`, `1.5 s`, `20 µs`.
fn tick_label(v: f64) -> String {
    fn trim(x: f64) -> String {
        let s = format!("{x:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
    if v <= 0.0 {
        "0".into()
    } else if v >= 1.0 {
        format!("{} s", trim(v))
    } else if v >= 0.001 - 1e-12 {
        format!("{} ms", trim(v * 1e3))
    } else {
        format!("{} µs", trim(v * 1e6))
    }
}

fn file_name(path: &str) -> String {
    Path::new(path)
        .file_name()
        .map_or_else(|| path.to_owned(), |n| n.to_string_lossy().into_owned())
}

const CSS: &str = "body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;\
margin:2em;color:#222;max-width:1000px}h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.5em}\
h3{font-size:1em}svg{display:block;margin:.5em 0;background:#fafafa;\
border:1px solid #ddd;max-width:100%;height:auto}text{font-size:12px;fill:#222}.small{font-size:11px}\
code{font-size:11px;background:#f3f3f3;padding:1px 3px}.life{stroke:#999;stroke-width:1}\
.arrow{stroke-width:2}.arrow.data{stroke:#1565c0}.head.data{fill:#1565c0}\
.arrow.alert{stroke:#2e7d32}.head.alert{fill:#2e7d32}.arrow.fin{stroke:#555}.head.fin{fill:#555}\
.arrow.rst{stroke:#c62828}.head.rst{fill:#c62828}.arrow.race{stroke:#ef6c00;stroke-dasharray:6 3}\
.head.race{fill:#ef6c00}.race-label{fill:#bf360c}.what{color:#555}\
.conclusion{font-size:1.1em;line-height:1.5;border-left:4px solid #1565c0;padding:.2em 0 .2em .8em}\
.finding{border-left:4px solid #999;padding-left:.8em;margin:1em 0}.finding.warning{border-color:#c62828}\
.finding.notice{border-color:#f9a825}.kind{font-weight:normal;color:#666;font-size:.85em}\
table{border-collapse:collapse;font-size:12px;margin:.5em 0}th,td{border:1px solid #ddd;padding:2px 6px;\
vertical-align:top}th{background:#f3f3f3}td.num{text-align:right}.wide{overflow-x:auto}\
.timeout{stroke:#c62828;stroke-width:2;stroke-dasharray:5 3}.timeout-halo{stroke:#fff;stroke-width:4}\
.timeout-label{fill:#c62828}details.flow{margin:.4em 0}details.flow summary{cursor:pointer;\
font-family:monospace}#toc td{font-family:monospace}";

impl ReportSink for HtmlSink {
    fn flow(&mut self, flow: &Flow) -> io::Result<()> {
        self.data.add(flow)
    }

    fn finish(&mut self, end: &RunEnd<'_>) -> io::Result<()> {
        let html = self.write(end);
        if let Some(mut out) = self.out.take() {
            out.write_all(html.as_bytes())
                .and_then(|()| out.flush())
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", self.path.display())))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_fall_on_round_values() {
        let labels = |max: f64| {
            let a = Axis::new(max);
            (0..=a.ticks)
                .map(|k| tick_label(a.step * k as f64))
                .collect::<Vec<_>>()
        };
        assert_eq!(labels(2.1), ["0", "500 ms", "1 s", "1.5 s", "2 s", "2.5 s"]);
        assert_eq!(labels(2.0), ["0", "500 ms", "1 s", "1.5 s", "2 s", "2.5 s"]);
        assert_eq!(
            labels(0.43),
            ["0", "100 ms", "200 ms", "300 ms", "400 ms", "500 ms"]
        );
        assert_eq!(labels(15.0), ["0", "5 s", "10 s", "15 s", "20 s"]);
        assert_eq!(
            labels(0.00009),
            ["0", "20 µs", "40 µs", "60 µs", "80 µs", "100 µs"]
        );
        let a = Axis::new(2.1);
        assert_eq!(a.bins() % a.ticks, 0);
        assert!(a.top > 2.1);
    }

    #[test]
    fn text_width_is_generous() {
        // about 6.4 px per digit at 11 px (rendered: 6.1 or less)
        assert!(text_width("1.108", 11.0) >= 5.0 * 6.1);
        assert!(text_width("", 11.0) > 0.0);
    }
}
