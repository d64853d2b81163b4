//! `--report FILE.html`: a self-contained HTML report (inline CSS and SVG,
//! nothing fetched): the endings per server as a stacked bar chart, the
//! idle time before each close as a histogram that shows the idle-timeout
//! clusters (the timeouts found are marked), and each flow that did not end
//! close_notify-then-fin, or raced, drawn as a ladder.

use crate::output::sink::{Flow, ReportSink, RunEnd};
use crate::report::flows::Described;
use crate::text::words::{direction, StepText};
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use tlsclose_analysis::{Ending, LadderEvent, Role};
use tlsclose_audit::group::GroupBy;
use tlsclose_audit::group::Groups;
use tlsclose_audit::units::{format_secs, plural};
use tlsclose_audit::WiresharkFilter;

/// Colours of the endings, in [`Ending::ALL`] order.
const COLOURS: [&str; 5] = ["#2e7d32", "#f9a825", "#c62828", "#6a1b9a", "#78909c"];

pub struct HtmlSink {
    path: PathBuf,
    out: Option<BufWriter<File>>,
    servers: Groups,
    flows: u64,
    /// The flows drawn as ladders.
    described: Described,
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

impl HtmlSink {
    pub fn create(path: &Path, limit: usize) -> io::Result<HtmlSink> {
        let file = File::create(path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        Ok(HtmlSink {
            path: path.to_owned(),
            out: Some(BufWriter::new(file)),
            servers: Groups::new(GroupBy::Server),
            flows: 0,
            described: Described::new(limit),
        })
    }

    fn write(&mut self, end: &RunEnd<'_>) -> io::Result<String> {
        let mut h = String::new();
        let files: Vec<&str> = end.inputs.iter().map(|i| i.name.as_str()).collect();
        let _ = write!(
            h,
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>TLS connection endings: {}</title>\n<style>{CSS}</style></head><body>\n\
             <h1>TLS connection endings</h1>\n<p class=\"what\">{}: {}</p>\n",
            esc(&files.join(", ")),
            esc(&files.join(", ")),
            esc(&end.summary.line())
        );
        h.push_str("<h2>Endings per server</h2>\n");
        h.push_str(&self.bar_chart());
        h.push_str("<h2>Idle time before the close</h2>\n");
        h.push_str(&self.histogram());
        let kept = self.described.take();
        let _ = writeln!(
            h,
            "<h2>Flows that did not end cleanly, or raced</h2>\n<p>{} flow{}{}.</p>",
            self.described.total,
            plural(self.described.total),
            if self.described.total > kept.len() as u64 {
                format!(
                    "; the first {} are drawn (raise --report-flows for more)",
                    kept.len()
                )
            } else {
                String::new()
            }
        );
        for (i, k) in kept.iter().enumerate() {
            h.push_str(&ladder(&end.number(k), k, i));
        }
        h.push_str("</body></html>\n");
        Ok(h)
    }

    /// One stacked bar per server (most flows first, at most 40).
    fn bar_chart(&self) -> String {
        let groups = self.servers.sorted();
        let rows = groups.len().min(40);
        let (label_w, bar_w, row_h) = (190.0, 560.0, 26.0);
        let height = 40.0 + row_h * rows as f64;
        let mut s = format!(
            "<svg id=\"endings-chart\" class=\"chart\" width=\"{w}\" height=\"{height}\" \
             viewBox=\"0 0 {w} {height}\" role=\"img\" aria-label=\"endings per server\">\n",
            w = label_w + bar_w + 20.0
        );
        // legend
        let mut x = label_w;
        for (e, c) in Ending::ALL.iter().zip(COLOURS) {
            let _ = writeln!(
                s,
                "<rect x=\"{x}\" y=\"6\" width=\"12\" height=\"12\" fill=\"{c}\"/>\
                 <text x=\"{}\" y=\"16\" class=\"small\">{}</text>",
                x + 16.0,
                e.as_str()
            );
            x += 24.0 + 7.0 * e.as_str().len() as f64;
        }
        for (i, (server, st)) in groups.iter().take(rows).enumerate() {
            let y = 30.0 + row_h * i as f64;
            let _ = writeln!(
                s,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{} ({})</text>",
                label_w - 8.0,
                y + 15.0,
                esc(server),
                st.flows
            );
            let mut x = label_w;
            for (e, c) in Ending::ALL.iter().zip(COLOURS) {
                let n = st.count(*e);
                if n == 0 || st.flows == 0 {
                    continue;
                }
                let w = bar_w * n as f64 / st.flows as f64;
                let _ = writeln!(
                    s,
                    "<rect class=\"bar\" x=\"{x:.1}\" y=\"{y}\" width=\"{w:.1}\" height=\"{}\" \
                     fill=\"{c}\"><title>{}: {} {}</title></rect>",
                    row_h - 6.0,
                    esc(server),
                    n,
                    e.as_str()
                );
                x += w;
            }
        }
        s.push_str("</svg>\n");
        if groups.len() > rows {
            let _ = writeln!(s, "<p>{} more servers not drawn.</p>", groups.len() - rows);
        }
        s
    }

    /// The idle time before each close started by the server (and by the
    /// client, stacked), in bins; the servers' timeouts found are marked.
    fn histogram(&self) -> String {
        let groups = self.servers.sorted();
        let mut server: Vec<(f64, u64)> = Vec::new();
        let mut client: Vec<(f64, u64)> = Vec::new();
        let mut timeouts: Vec<(String, f64)> = Vec::new();
        for (name, st) in &groups {
            server.extend(st.server_idle.points());
            client.extend(st.client_idle.points());
            if let Some(t) = st.server_idle.timeout() {
                timeouts.push((name.to_string(), t.seconds));
            }
        }
        let max = server
            .iter()
            .chain(&client)
            .map(|p| p.0)
            .fold(0.0f64, f64::max);
        if max <= 0.0 {
            return "<p id=\"idle-histogram\">No closes after an idle time (100 ms or more).</p>\n"
                .into();
        }
        let bins = 60usize;
        let top = max * 1.05;
        let width = top / bins as f64;
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
        let mut s = format!(
            "<svg id=\"idle-histogram\" class=\"chart\" width=\"{w}\" height=\"{h}\" \
             viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"idle time before the close\">\n",
            w = left + plot_w + 20.0,
            h = top_pad + plot_h + 50.0
        );
        let _ = writeln!(
            s,
            "<rect x=\"{left}\" y=\"8\" width=\"12\" height=\"12\" fill=\"#1565c0\"/>\
             <text x=\"{}\" y=\"18\" class=\"small\">closed by the server</text>\
             <rect x=\"{}\" y=\"8\" width=\"12\" height=\"12\" fill=\"#90caf9\"/>\
             <text x=\"{}\" y=\"18\" class=\"small\">closed by the client</text>",
            left + 16.0,
            left + 170.0,
            left + 186.0
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
        // axis
        let _ = writeln!(
            s,
            "<line x1=\"{left}\" y1=\"{base}\" x2=\"{}\" y2=\"{base}\" stroke=\"#333\"/>",
            left + plot_w
        );
        for k in 0..=5 {
            let v = top * k as f64 / 5.0;
            let x = left + plot_w * k as f64 / 5.0;
            let _ = writeln!(
                s,
                "<text x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\" class=\"small\">{}</text>",
                base + 16.0,
                format_secs(v)
            );
        }
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" class=\"small\">idle seconds before \
             the first close signal (most in one bin: {most})</text>",
            left + plot_w / 2.0,
            base + 36.0
        );
        for (name, t) in &timeouts {
            let x = left + plot_w * t / top;
            let _ = writeln!(
                s,
                "<line class=\"timeout\" x1=\"{x:.1}\" y1=\"{top_pad}\" x2=\"{x:.1}\" y2=\"{base}\" \
                 stroke=\"#c62828\" stroke-dasharray=\"4 3\"><title>{}: idle timeout {}</title></line>\
                 <text x=\"{:.1}\" y=\"{}\" class=\"small timeout-label\">{}</text>",
                esc(name),
                format_secs(*t),
                x + 3.0,
                top_pad + 10.0,
                format_secs(*t)
            );
        }
        s.push_str("</svg>\n");
        if !timeouts.is_empty() {
            s.push_str("<p>Idle timeouts found (dashed): ");
            let list: Vec<String> = timeouts
                .iter()
                .map(|(n, t)| format!("{} {}", esc(n), format_secs(*t)))
                .collect();
            s.push_str(&list.join(", "));
            s.push_str(".</p>\n");
        }
        s
    }
}

/// A flow's ladder as SVG: two lifelines, an arrow per late record or
/// FIN/RST, times relative to the first.
fn ladder(number: &str, f: &Flow, i: usize) -> String {
    let r = &f.report;
    let steps = &r.ladder;
    let row = 24.0;
    let (cx, sx, w) = (120.0, 600.0, 720.0);
    let h = 50.0 + row * steps.len().max(1) as f64;
    let mut s = format!(
        "<section class=\"flow\"><h3>#{} · {} · {} → {}</h3>\n<p>closed by {}, started by {}{}; \
         Wireshark filter: <code>{}</code></p>\n",
        esc(number),
        esc(r.ending.as_str()),
        esc(&r.client.to_string()),
        esc(&r.server.to_string()),
        r.closer.as_str(),
        r.initiator.as_str(),
        if r.keepalive_race {
            "; keep-alive race"
        } else {
            ""
        },
        esc(&WiresharkFilter::of(r).to_string())
    );
    let _ = writeln!(
        s,
        "<svg id=\"ladder-{i}\" class=\"ladder\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" \
         role=\"img\" aria-label=\"how flow {} ended\">\
         <text x=\"{cx}\" y=\"16\" text-anchor=\"middle\">client</text>\
         <text x=\"{sx}\" y=\"16\" text-anchor=\"middle\">server</text>\
         <line x1=\"{cx}\" y1=\"22\" x2=\"{cx}\" y2=\"{h}\" class=\"life\"/>\
         <line x1=\"{sx}\" y1=\"22\" x2=\"{sx}\" y2=\"{h}\" class=\"life\"/>",
        esc(number)
    );
    let t0 = steps.first().map_or(0.0, |st| st.time);
    for (k, st) in steps.iter().enumerate() {
        let y = 40.0 + row * k as f64;
        let (x1, x2) = match st.from {
            Role::Client => (cx, sx),
            Role::Server => (sx, cx),
        };
        let class = match (st.event, st.race.is_some()) {
            (_, true) => "race",
            (LadderEvent::Rst, _) => "rst",
            (LadderEvent::Fin, _) => "fin",
            (LadderEvent::Alert { .. } | LadderEvent::EncryptedAlert { .. }, _) => "alert",
            _ => "data",
        };
        let tip = if x2 > x1 { x2 - 8.0 } else { x2 + 8.0 };
        let _ = writeln!(
            s,
            "<line x1=\"{x1}\" y1=\"{y}\" x2=\"{tip}\" y2=\"{y}\" class=\"arrow {class}\"/>\
             <polygon points=\"{x2},{y} {tip},{} {tip},{}\" class=\"head {class}\"/>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"middle\" class=\"small\">+{:.3}s · frame {} · {}</text>\
             <title>{}</title>",
            y - 4.0,
            y + 4.0,
            (cx + sx) / 2.0,
            y - 4.0,
            st.time - t0,
            st.frame,
            esc(&StepText(st).to_string()),
            direction(st.from)
        );
    }
    s.push_str("</svg></section>\n");
    s
}

const CSS: &str = "body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;\
margin:2em;color:#222;max-width:1000px}h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.5em}\
h3{font-size:1em;font-family:monospace}svg{display:block;margin:.5em 0;background:#fafafa;\
border:1px solid #ddd}text{font-size:12px;fill:#222}.small{font-size:11px}\
code{font-size:11px;background:#f3f3f3;padding:1px 3px}.life{stroke:#999;stroke-width:1}\
.arrow{stroke-width:2}.arrow.data{stroke:#1565c0}.head.data{fill:#1565c0}\
.arrow.alert{stroke:#2e7d32}.head.alert{fill:#2e7d32}.arrow.fin{stroke:#555}.head.fin{fill:#555}\
.arrow.rst{stroke:#c62828}.head.rst{fill:#c62828}.arrow.race{stroke:#ef6c00;stroke-dasharray:6 3}\
.head.race{fill:#ef6c00}.what{color:#555}";

impl ReportSink for HtmlSink {
    fn flow(&mut self, flow: &Flow) -> io::Result<()> {
        let r = &flow.report;
        self.flows += 1;
        self.servers.add(r);
        self.described.offer(flow);
        Ok(())
    }

    fn numbers_flows(&self) -> bool {
        true
    }

    fn finish(&mut self, end: &RunEnd<'_>) -> io::Result<()> {
        let html = self.write(end)?;
        if let Some(mut out) = self.out.take() {
            out.write_all(html.as_bytes())
                .and_then(|()| out.flush())
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", self.path.display())))?;
        }
        Ok(())
    }
}
