//! A flow's ladder in the HTML report: an SVG in a collapsible `<details>`
//! under the flow's title, with its Wireshark filter.
use super::{esc, flow_id, text_width};
use crate::output::sink::Flow;
use crate::text::words::{direction, EventText};
use std::fmt::Write as _;
use tlsclose_analysis::{LadderEvent, Role};
use tlsclose_audit::units::plural;
use tlsclose_audit::WiresharkFilter;

/// `#5 · close_notify-then-fin · client → server · keep-alive race`.
fn flow_title(number: &str, f: &Flow) -> String {
    let r = &f.report;
    format!(
        "#{number} · {} · {} → {}{}",
        r.ending.as_str(),
        r.client,
        r.server,
        if r.keepalive_race {
            " · keep-alive race"
        } else {
            ""
        }
    )
}

/// A flow's ladder as SVG in a `<details>`: two lifelines, an arrow per
/// step the text ladder shows ([`crate::output::ladder::shown_steps`]), times relative to
/// the first; a race's explanation on a line of its own under its arrow.
/// The lifelines are as far apart as the longest label needs.
pub(super) fn ladder(number: &str, f: &Flow, i: usize) -> String {
    let r = &f.report;
    let (hidden, steps) = crate::output::ladder::shown_steps(r);
    let t0 = steps.first().map_or(0.0, |st| st.time);
    let labels: Vec<(String, Option<String>)> = steps
        .iter()
        .map(|st| {
            let main = format!(
                "+{:.3}s · frame {} · {}",
                st.time - t0,
                st.frame,
                EventText(st.event)
            );
            let race = st.race.map(|race| {
                format!(
                    "keep-alive race: {:.3}s after the {}'s close, {}",
                    race.window,
                    st.from.peer().as_str(),
                    race.rst_frame.map_or_else(
                        || "never answered".to_string(),
                        |f| format!("answered by RST (frame {f})")
                    )
                )
            });
            (main, race)
        })
        .collect();
    let widest = labels
        .iter()
        .flat_map(|(m, r)| std::iter::once(m).chain(r))
        .map(|l| text_width(l, 11.0))
        .fold(0.0, f64::max);
    let gap = (widest + 40.0).max(440.0).ceil();
    let cx = 70.0;
    let sx = cx + gap;
    let w = sx + cx;
    let mut s = format!(
        "<details class=\"flow\" id=\"{}\"><summary>{}</summary>\n<p>closed by {}, started by {}{}; \
         Wireshark filter: <code>{}</code></p>\n",
        flow_id(number),
        esc(&flow_title(number, f)),
        r.closer.as_str(),
        r.initiator.as_str(),
        if hidden > 0 {
            format!(
                "; from frame {}, {hidden} earlier record{} not shown",
                steps.first().map_or(0, |st| st.frame),
                plural(hidden as u64)
            )
        } else {
            String::new()
        },
        esc(&WiresharkFilter::of(r).to_string())
    );
    let mut rows = Vec::with_capacity(steps.len());
    let mut y: f64 = 40.0;
    for (_, race) in &labels {
        rows.push(y);
        y += if race.is_some() { 40.0 } else { 24.0 };
    }
    let h = y.max(64.0);
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
    if steps.is_empty() {
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"44\" text-anchor=\"middle\" class=\"small\">no records, FIN or RST were seen</text>",
            (cx + sx) / 2.0
        );
    }
    for ((st, (main, race)), y) in steps.iter().zip(&labels).zip(rows) {
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
        let mid = (cx + sx) / 2.0;
        let _ = writeln!(
            s,
            "<line x1=\"{x1}\" y1=\"{y}\" x2=\"{tip}\" y2=\"{y}\" class=\"arrow {class}\"/>\
             <polygon points=\"{x2},{y} {tip},{} {tip},{}\" class=\"head {class}\"/>\
             <text x=\"{mid}\" y=\"{}\" text-anchor=\"middle\" class=\"small\">{}<title>{}</title></text>",
            y - 4.0,
            y + 4.0,
            y - 4.0,
            esc(main),
            direction(st.from)
        );
        if let Some(race) = race {
            let _ = writeln!(
                s,
                "<text x=\"{mid}\" y=\"{}\" text-anchor=\"middle\" class=\"small race-label\">{}</text>",
                y + 14.0,
                esc(race)
            );
        }
    }
    s.push_str("</svg></details>\n");
    s
}
