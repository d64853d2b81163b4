//! `--group-by` output: the audit crate's [`Groups`] as a table, Markdown,
//! JSON lines or CSV.

use crate::cli::Format;
use crate::output::csv;
use crate::output::sink::short_cn;
use crate::output::sink::write_summary_line;
use crate::output::sink::{Flow, ReportSink, RunEnd};
use crate::output::table::{clean, Align, Column, Short, Table};
use crate::text::markdown;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};
use tlsclose_analysis::Ending;
use tlsclose_audit::group::{CloseKinds, Closers, GroupBy, Groups};
use tlsclose_audit::idle::IdleTimeout;
use tlsclose_audit::units::{format_secs, percent};

fn key_title(g: &Groups) -> &'static str {
    match g.by {
        GroupBy::Server => "server",
        GroupBy::Client => "client",
        GroupBy::Sni => "SNI",
        GroupBy::Ending => "ending",
    }
}

/// Header and rows for people (table and Markdown), cells unescaped.
pub fn table(g: &Groups) -> Table {
    // what a narrow terminal drops first: the higher drop order
    let mut columns = vec![
        Column::new(key_title(g), Align::Left, 0),
        Column::new("flows", Align::Right, 0),
    ];
    columns.extend(Ending::ALL.iter().map(|e| {
        let drop_order = match e {
            Ending::CloseNotifyThenFin => 0,
            Ending::FinOnly | Ending::Rst => 1,
            Ending::DataAfterAlert | Ending::Open => 2,
        };
        let column = Column::new(e.as_str(), Align::Right, drop_order);
        if *e == Ending::CloseNotifyThenFin {
            column.with_short(Short {
                title: "cn-then-fin",
                cell: short_cn,
                legend: "cn = close_notify",
            })
        } else {
            column
        }
    }));
    columns.extend([
        Column::new("closed by\nclient / server / none", Align::Right, 3),
        Column::new("close_notify\nfrom client", Align::Right, 4).with_short(Short {
            title: "cn\nfrom client",
            cell: short_cn,
            legend: "cn = close_notify",
        }),
        Column::new("close_notify\nfrom server", Align::Right, 4).with_short(Short {
            title: "cn\nfrom server",
            cell: short_cn,
            legend: "cn = close_notify",
        }),
        Column::new("idle before close\nmedian / max", Align::Right, 5),
        Column::new("keep-alive\nraces", Align::Right, 3),
        Column::new("idle timeout (closes)\nserver / client", Align::Right, 5),
    ]);
    // read with keys: whether the closes were meant (the first to go in a
    // narrow terminal)
    let intent = g.close_intent_read();
    if intent {
        columns.push(Column::new(
            "close kind (keys)\ngraceful / abrupt / idle / unknown",
            Align::Right,
            6,
        ));
    }
    let share = |n: u64, of: u64| {
        if n == 0 {
            "0".to_string()
        } else {
            format!("{n} ({}%)", percent(n, of))
        }
    };
    let rows = g
        .sorted()
        .into_iter()
        .map(|(k, s)| {
            let mut row = vec![clean(k), s.flows.to_string()];
            row.extend(Ending::ALL.iter().map(|&e| share(s.count(e), s.flows)));
            row.push(format!(
                "{} / {} / {}",
                s.closer.client, s.closer.server, s.closer.none
            ));
            row.push(format!("{}%", percent(s.client_close_notify, s.flows)));
            row.push(format!("{}%", percent(s.server_close_notify, s.flows)));
            row.push(match s.idle_median_max() {
                Some((median, max)) => {
                    format!("{} / {}", format_secs(median), format_secs(max))
                }
                None => "-".into(),
            });
            row.push(s.races.to_string());
            row.push(format!(
                "{} / {}",
                timeout_cell(s.server_idle.timeout()),
                timeout_cell(s.client_idle.timeout())
            ));
            if intent {
                let k = s.close_kinds;
                row.push(format!(
                    "{} / {} / {} / {}",
                    k.graceful, k.abrupt, k.idle, k.unknown
                ));
            }
            row
        })
        .collect();
    Table { columns, rows }
}

/// The groups as a GitHub-flavoured table.
pub fn markdown(g: &Groups) -> String {
    let mut out = Vec::new();
    // writing to memory cannot fail
    let _ = table(g).to_markdown(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn machine_rows(g: &Groups) -> Vec<GroupLine<'_>> {
    let intent = g.close_intent_read();
    g.sorted()
        .into_iter()
        .map(|(k, s)| {
            let of = |n: u64| Share {
                count: n,
                percent: percent(n, s.flows),
            };
            let idle = s.idle_median_max();
            let server = s.server_idle.timeout();
            let client = s.client_idle.timeout();
            GroupLine {
                group_by: g.by.as_str(),
                group: k,
                flows: s.flows,
                endings: Ending::ALL
                    .iter()
                    .map(|&e| (e.as_str(), of(s.count(e))))
                    .collect(),
                closer: s.closer,
                client_close_notify: of(s.client_close_notify),
                server_close_notify: of(s.server_close_notify),
                idle_before_close: Idle {
                    median: idle.map(|i| nanos(i.0)),
                    max: idle.map(|i| nanos(i.1)),
                },
                keepalive_races: s.races,
                server_idle_timeout_s: server.map(|t| nanos(t.seconds)),
                server_idle_timeout_sweep_s: sweep_of(server),
                server_idle_timeout_closes: server.map_or(0, |t| t.closes),
                server_idle_closes: s.server_idle.len() as u64,
                client_idle_timeout_s: client.map(|t| nanos(t.seconds)),
                client_idle_timeout_sweep_s: sweep_of(client),
                client_idle_timeout_closes: client.map_or(0, |t| t.closes),
                client_idle_closes: s.client_idle.len() as u64,
                close_kinds: intent.then_some(s.close_kinds),
            }
        })
        .collect()
}

/// `2.00s (8/9)`: a timeout and how many of the side's idle closes agree;
/// a periodic sweep as its floor and spread, `≈3s (sweep 3.1s–4.7s) (8/9)`.
fn timeout_cell(t: Option<IdleTimeout>) -> String {
    match t {
        Some(t) if t.sweep => format!(
            "{} ({}/{})",
            tlsclose_audit::timeout_text(&t, true),
            t.closes,
            t.of
        ),
        Some(t) => {
            let secs = if t.seconds >= 1.0 && t.seconds < 10.0 {
                format!("{:.2}s", t.seconds)
            } else {
                format_secs(t.seconds)
            };
            format!("{secs} ({}/{})", t.closes, t.of)
        }
        None => "-".into(),
    }
}

/// A sweep's spread, `[first, last]` seconds (null for an exact timeout).
fn sweep_of(t: Option<IdleTimeout>) -> Option<[f64; 2]> {
    t.filter(|t| t.sweep).map(|t| [nanos(t.min), nanos(t.max)])
}

/// Seconds rounded to the nanosecond (a median of two times is exact
/// there, without float noise in JSON and CSV).
fn nanos(s: f64) -> f64 {
    (s * 1e9).round() / 1e9
}

#[derive(Serialize)]
struct Share {
    count: u64,
    percent: f64,
}

#[derive(Serialize)]
struct Idle {
    median: Option<f64>,
    max: Option<f64>,
}

/// One group as a JSON line.
#[derive(Serialize)]
struct GroupLine<'a> {
    group_by: &'static str,
    group: &'a str,
    flows: u64,
    endings: BTreeMap<&'static str, Share>,
    closer: Closers,
    client_close_notify: Share,
    server_close_notify: Share,
    idle_before_close: Idle,
    /// Flows with a keep-alive race.
    keepalive_races: u64,
    /// The idle timeout most of the server's own idle closes agree on
    /// (null when they do not; a periodic sweep's floor), how many agree,
    /// and of how many.
    server_idle_timeout_s: Option<f64>,
    /// A sweeping server's closes spread over [first, last] seconds.
    server_idle_timeout_sweep_s: Option<[f64; 2]>,
    server_idle_timeout_closes: u64,
    server_idle_closes: u64,
    /// The same over the closes the clients started (their pools).
    client_idle_timeout_s: Option<f64>,
    client_idle_timeout_sweep_s: Option<[f64; 2]>,
    client_idle_timeout_closes: u64,
    client_idle_closes: u64,
    /// Flows by `close_kind` (graceful, abrupt, idle, unknown); only when
    /// some flow's HTTP was read with keys (without, all are unknown).
    #[serde(skip_serializing_if = "Option::is_none")]
    close_kinds: Option<CloseKinds>,
}

/// The CSV columns of the close kinds (read with keys only).
const CSV_CLOSE_KINDS: [&str; 4] = [
    "close_graceful",
    "close_abrupt",
    "close_idle",
    "close_unknown",
];

/// The CSV header of group rows; `intent`: with the close kinds' columns
/// (some flow's HTTP was read with keys).
pub fn csv_header(intent: bool) -> Vec<String> {
    let mut h: Vec<String> = vec!["group_by".into(), "group".into(), "flows".into()];
    for e in Ending::ALL {
        h.push(e.to_string());
        h.push(format!("{e}_pct"));
    }
    h.extend(
        [
            "closed_by_client",
            "closed_by_server",
            "closed_by_none",
            "client_close_notify",
            "client_close_notify_pct",
            "server_close_notify",
            "server_close_notify_pct",
            "idle_median",
            "idle_max",
            "keepalive_races",
            "server_idle_timeout_s",
            "server_idle_timeout_sweep_max_s",
            "server_idle_timeout_closes",
            "server_idle_closes",
            "client_idle_timeout_s",
            "client_idle_timeout_sweep_max_s",
            "client_idle_timeout_closes",
            "client_idle_closes",
        ]
        .map(String::from),
    );
    if intent {
        h.extend(CSV_CLOSE_KINDS.map(String::from));
    }
    h
}

fn csv_row(g: &GroupLine<'_>) -> Vec<String> {
    let mut row = vec![
        g.group_by.to_string(),
        g.group.to_string(),
        g.flows.to_string(),
    ];
    for e in Ending::ALL {
        let s = g.endings.get(e.as_str());
        row.push(s.map_or(0, |s| s.count).to_string());
        row.push(s.map_or(0.0, |s| s.percent).to_string());
    }
    let opt = |v: Option<f64>| v.map_or_else(String::new, |v| v.to_string());
    row.extend([
        g.closer.client.to_string(),
        g.closer.server.to_string(),
        g.closer.none.to_string(),
        g.client_close_notify.count.to_string(),
        g.client_close_notify.percent.to_string(),
        g.server_close_notify.count.to_string(),
        g.server_close_notify.percent.to_string(),
        opt(g.idle_before_close.median),
        opt(g.idle_before_close.max),
        g.keepalive_races.to_string(),
        opt(g.server_idle_timeout_s),
        opt(g.server_idle_timeout_sweep_s.map(|s| s[1])),
        g.server_idle_timeout_closes.to_string(),
        g.server_idle_closes.to_string(),
        opt(g.client_idle_timeout_s),
        opt(g.client_idle_timeout_sweep_s.map(|s| s[1])),
        g.client_idle_timeout_closes.to_string(),
        g.client_idle_closes.to_string(),
    ]);
    if let Some(k) = g.close_kinds {
        row.extend([k.graceful, k.abrupt, k.idle, k.unknown].map(|n| n.to_string()));
    }
    row
}

/// `--group-by` output in any format.
pub struct GroupSink<W: Write> {
    out: W,
    format: Format,
    groups: Groups,
    /// Columns of the terminal the table must fit (None: any width).
    width: Option<usize>,
}

impl<W: Write> GroupSink<W> {
    pub fn new(out: W, format: Format, by: GroupBy, width: Option<usize>) -> Self {
        GroupSink {
            out,
            format,
            groups: Groups::new(by),
            width,
        }
    }
}

impl<W: Write> ReportSink for GroupSink<W> {
    fn flow(&mut self, flow: &Flow) -> io::Result<()> {
        self.groups.add(&flow.report);
        Ok(())
    }

    fn finish(&mut self, end: &RunEnd<'_>) -> io::Result<()> {
        match self.format {
            Format::Table => {
                if !self.groups.is_empty() {
                    table(&self.groups).to_terminal(&mut self.out, self.width)?;
                }
                writeln!(self.out, "{}", end.summary.line())?;
            }
            Format::Markdown => {
                if !self.groups.is_empty() {
                    writeln!(self.out, "{}", markdown(&self.groups))?;
                }
                writeln!(self.out, "{}", markdown::escape(&end.summary.line()))?;
            }
            Format::Json => {
                for g in machine_rows(&self.groups) {
                    serde_json::to_writer(&mut self.out, &g)?;
                    self.out.write_all(b"\n")?;
                }
                write_summary_line(&mut self.out, end.summary)?;
            }
            Format::Csv => {
                let intent = self.groups.close_intent_read();
                csv::write_row(&mut self.out, csv_header(intent))?;
                for g in machine_rows(&self.groups) {
                    csv::write_row(&mut self.out, csv_row(&g))?;
                }
                if !end.quiet {
                    let _ = writeln!(io::stderr(), "{}", end.summary.line());
                }
            }
        }
        self.out.flush()
    }
}
