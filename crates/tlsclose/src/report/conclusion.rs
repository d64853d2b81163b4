//! The two to four sentences a `--report` opens with, built from the
//! endings and the audit's findings (most severe first, docs/AUDIT.md):
//! how the connections ended, then what went wrong, to how many, and what
//! to do. Every number and name comes from the findings' data.

use crate::report::data::ReportData;
use tlsclose_analysis::Ending;
use tlsclose_audit::units::{plural, secs};
use tlsclose_audit::{
    join_and, suggested, timeout_text, timeout_values, Finding, FindingKind, Side,
};

/// Finding sentences after the first, about the endings.
const FINDING_SENTENCES: usize = 3;

/// The opening sentences: the endings, then one per finding, most severe
/// first (the first two, and a sentence naming the others, when there are
/// more than three).
pub fn sentences(d: &ReportData, findings: &[Finding]) -> Vec<String> {
    let mut v = vec![endings(d)];
    let said: Vec<(usize, String)> = findings
        .iter()
        .enumerate()
        .filter_map(|(i, f)| sentence(f).map(|s| (i, s)))
        .collect();
    let room = if findings.len() > FINDING_SENTENCES {
        FINDING_SENTENCES - 1
    } else {
        FINDING_SENTENCES
    };
    let told: Vec<&(usize, String)> = said.iter().take(room).collect();
    v.extend(told.iter().map(|(_, s)| s.clone()));
    let rest: Vec<String> = findings
        .iter()
        .enumerate()
        .filter(|(i, _)| !told.iter().any(|(k, _)| k == i))
        .map(|(_, f)| f.finding.to_string())
        .collect();
    if !rest.is_empty() {
        v.push(format!(
            "{} {}finding{} below: {}.",
            rest.len(),
            if told.is_empty() { "" } else { "more " },
            plural(rest.len() as u64),
            join_and(&rest)
        ));
    }
    v
}

/// `26 of 42 TLS connections ended cleanly (close_notify, then FIN); 16
/// ended with a FIN alone.`
fn endings(d: &ReportData) -> String {
    let n = d.selected;
    if n == 0 {
        return "No TLS connection was read (or the filters left none).".into();
    }
    let clean = d.count(Ending::CloseNotifyThenFin);
    if clean == n {
        return format!(
            "{} TLS connection{} ended cleanly (close_notify, then FIN).",
            if n == 1 {
                "The".to_string()
            } else {
                format!("All {n}")
            },
            plural(n)
        );
    }
    let mut parts = Vec::new();
    for (e, what) in [
        (Ending::FinOnly, "with a FIN alone"),
        (Ending::Rst, "with an RST"),
        (Ending::DataAfterAlert, "with data after an alert"),
    ] {
        let k = d.count(e);
        if k > 0 {
            let verb = if parts.is_empty() { "ended " } else { "" };
            parts.push(format!("{k} {verb}{what}"));
        }
    }
    let open = d.count(Ending::Open);
    if open > 0 {
        parts.push(format!(
            "{open} {} still open when the capture ended",
            if open == 1 { "was" } else { "were" }
        ));
    }
    format!(
        "{} of {n} TLS connection{} ended cleanly (close_notify, then FIN); {}.",
        if clean == 0 {
            "None".to_string()
        } else {
            clean.to_string()
        },
        plural(n),
        join_and(&parts)
    )
}

/// The one server a finding concerns, when it concerns one.
fn one_server(f: &Finding) -> Option<&str> {
    match f.by_subject.as_slice() {
        [one] => Some(one.subject.as_str()),
        _ => None,
    }
}

/// One finding in one sentence (None: nothing worth opening with).
fn sentence(f: &Finding) -> Option<String> {
    let count = f.count;
    let values = timeout_values(&f.by_subject);
    let listed: Vec<String> = values.iter().map(|t| timeout_text(t, true)).collect();
    Some(match f.finding {
        FindingKind::KeepaliveRace => {
            let (whose, servers) = match one_server(f) {
                Some(s) => (format!("server {s}'s"), "the server does"),
                None => ("the servers'".to_string(), "the servers do"),
            };
            let raced = if listed.is_empty() {
                format!("{whose} closes of idle connections")
            } else {
                format!(
                    "{whose} idle timeout{} ({})",
                    plural(listed.len() as u64),
                    join_and(&listed)
                )
            };
            let fix = match values.last() {
                Some(t) => format!(
                    "keep the clients' idle timeout under {} (e.g. {})",
                    secs(t.seconds),
                    secs(suggested(t.seconds))
                ),
                None => "keep the clients' idle timeout under the servers'".into(),
            };
            format!(
                "{count} request{} raced {raced}: the clients keep idle connections longer than \
                 {servers}, and a request sent as the server closes gets an RST or no answer; \
                 {fix}, or retry idempotent requests.",
                plural(count)
            )
        }
        FindingKind::IdleReset => {
            let who = match one_server(f) {
                Some(s) => format!("Server {s} resets"),
                None => format!("{} servers reset", f.subjects),
            };
            format!(
                "{who} idle connections{} instead of closing them ({count} RST{} with no \
                 close_notify or FIN before): a request sent meanwhile fails with ECONNRESET; \
                 close idle connections with close_notify and FIN.",
                if listed.is_empty() {
                    String::new()
                } else {
                    format!(" after {}", join_and(&listed))
                },
                plural(count)
            )
        }
        FindingKind::TruncationRisk => {
            let who = f
                .by_subject
                .first()
                .and_then(|x| x.closer)
                .unwrap_or(Side::Server);
            let (who, peer) = (who.as_str(), who.peer().as_str());
            let servers = match one_server(f) {
                Some(s) => format!("server {s}"),
                None => format!("{} servers", f.subjects),
            };
            format!(
                "{count} connection{} ended with a bare FIN right after the {who}'s own data \
                 ({servers}): the {peer} cannot tell that end from a cut; the {who} should send \
                 close_notify first.",
                plural(count)
            )
        }
        FindingKind::NoCloseNotify => {
            let (who, whose) = match one_server(f) {
                Some(s) => (format!("Server {s} never sends"), "its"),
                None => (format!("{} servers never send", f.subjects), "their"),
            };
            format!(
                "{who} close_notify ({count} close{} of {whose} own with a bare FIN or RST): \
                 clients that require it (OpenSSL 3, rustls) report those closes as errors.",
                plural(count)
            )
        }
        FindingKind::AbruptClose => {
            let who = match one_server(f) {
                Some(s) => format!("Server {s}"),
                None => format!("{} servers", f.subjects),
            };
            let mut shapes: Vec<(u64, &str)> = Vec::new();
            for a in f.by_subject.iter().filter_map(|x| x.abrupt_closes) {
                for (n, w) in a.shapes() {
                    match shapes.iter_mut().find(|s| s.1 == w) {
                        Some(s) => s.0 += n,
                        None => shapes.push((n, w)),
                    }
                }
            }
            shapes.sort_by_key(|x| std::cmp::Reverse(x.0));
            let listed: Vec<String> = match shapes.as_slice() {
                [(_, w)] => vec![(*w).to_string()],
                _ => shapes.iter().map(|(n, w)| format!("{w} ({n})")).collect(),
            };
            let fin = shapes.iter().any(|s| s.1.ends_with("bare FIN"));
            format!(
                "{who} closed {count} connection{} abruptly, read with keys: {} with no \
                 close_notify, so clients see {}; the server should send close_notify before its \
                 FIN{}.",
                plural(count),
                join_and(&listed),
                if fin {
                    "an unexpected EOF"
                } else {
                    "ECONNRESET"
                },
                if shapes.iter().any(|s| s.1.contains("RST")) {
                    ", and answer the requests outstanding before closing instead of resetting"
                } else {
                    ""
                }
            )
        }
        FindingKind::ClientReset => {
            let clients: u64 = f.by_subject.iter().filter_map(|x| x.clients).sum();
            format!(
                "{clients} client{} in {} network{} reset {count} connection{} instead of \
                 closing {}.",
                plural(clients),
                f.subjects,
                plural(f.subjects),
                plural(count),
                if count == 1 { "it" } else { "them" },
            )
        }
        FindingKind::IdleTimeout => {
            if listed.is_empty() {
                return None;
            }
            let (who, raced) = match one_server(f) {
                Some(s) => (format!("Server {s} closes"), "it"),
                None => ("The servers close".to_string(), "them"),
            };
            let longer = f.by_subject.iter().find_map(|x| {
                let t = x.timeout?;
                let c = x.client_idle_timeout_s.filter(|c| *c >= t.seconds)?;
                Some(format!(
                    "; but the clients of {} keep theirs about {}: lower that below {} before \
                     requests start to race it",
                    x.subject,
                    secs(c),
                    secs(t.seconds)
                ))
            });
            format!(
                "{who} idle connections after {}, and no request raced {raced}{}.",
                join_and(&listed),
                longer.unwrap_or_default()
            )
        }
    })
}
