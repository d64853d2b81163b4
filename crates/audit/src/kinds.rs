//! One function per kind of finding: its title, evidence and fix in
//! words, rolled up over the servers or client networks it concerns.

use crate::finding::{AbruptCloses, Finding, FindingKind, Side, Subject, SubjectKind};
use crate::idle::{round_secs, IdleTimeout};
use crate::units::{percent, plural, secs, spread};

/// Servers (or client networks) a finding names in its words before it
/// counts the others; the JSON lists them all.
pub const TOP: usize = 3;

/// A timeout in words: `2.00s`, or for a sweeping server `≈3s (closes
/// 3.1s to 4.7s after the last traffic: a periodic sweep)`; `short`
/// leaves the explanation out.
pub fn timeout_text(t: &IdleTimeout, short: bool) -> String {
    if !t.sweep {
        return secs(t.seconds);
    }
    let floor = format!("≈{}", round_secs(t.seconds));
    if short {
        format!("{floor} (sweep {}–{})", spread(t.min), spread(t.max))
    } else {
        format!(
            "{floor} (closes {} to {} after the last traffic: a periodic sweep)",
            spread(t.min),
            spread(t.max)
        )
    }
}

/// A finding of `kind` over `subjects` (sorted here, most flows first);
/// its examples are the first of each subject in turn, `n` in all.
fn rollup(
    kind: FindingKind,
    subject: SubjectKind,
    mut subjects: Vec<Subject>,
    n: usize,
    words: impl FnOnce(&[Subject]) -> (String, String, Option<String>),
) -> Finding {
    subjects.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.subject.cmp(&b.subject))
    });
    let mut examples = Vec::new();
    let most = subjects.iter().map(|s| s.examples.len()).max().unwrap_or(0);
    'pick: for round in 0..most {
        for s in &subjects {
            if examples.len() >= n {
                break 'pick;
            }
            if let Some(e) = s.examples.get(round) {
                examples.push(e.clone());
            }
        }
    }
    let (title, evidence, fix) = words(&subjects);
    let (count, flows) = counts(&subjects);
    let window = |f: fn(&Subject) -> Option<f64>, min: bool| {
        subjects
            .iter()
            .filter_map(f)
            .fold(None, |m: Option<f64>, w| {
                Some(m.map_or(w, |m| if min { m.min(w) } else { m.max(w) }))
            })
    };
    Finding {
        finding: kind,
        severity: kind.severity(),
        subject,
        title,
        evidence,
        fix,
        count,
        flows,
        subjects: subjects.len() as u64,
        race_window_min_s: window(|s| s.race_window_min_s, true),
        race_window_max_s: window(|s| s.race_window_max_s, false),
        by_subject: subjects,
        examples,
    }
}

/// Flows that show a finding, and flows of its subjects, in all.
fn counts(s: &[Subject]) -> (u64, u64) {
    (
        s.iter().map(|x| x.count).sum(),
        s.iter().map(|x| x.flows).sum(),
    )
}

fn total(s: &[Subject], f: fn(&Subject) -> Option<u64>) -> u64 {
    s.iter().filter_map(f).sum()
}

/// `2.00s (127.0.0.1:8443, 8 of 8 idle closes), 1.50s (3 servers, …) and
/// 2 more`: the timeouts found, servers with the same one together, in the
/// subjects' order, at most [`TOP`] named.
fn timeouts_named(s: &[Subject]) -> Option<String> {
    // servers with the same timeout (as written) together, in order
    let mut groups: Vec<(String, Vec<&Subject>, u64, u64)> = Vec::new();
    for x in s {
        let Some(t) = x.timeout.filter(|t| solid(t, s.len())) else {
            continue;
        };
        let text = timeout_text(&t, true);
        match groups.iter_mut().find(|g| g.0 == text) {
            Some(g) => {
                g.1.push(x);
                g.2 += t.closes;
                g.3 += t.of;
            }
            None => groups.push((text, vec![x], t.closes, t.of)),
        }
    }
    if groups.is_empty() {
        return None;
    }
    let more = groups.len().saturating_sub(TOP);
    let mut list: Vec<String> = groups
        .iter()
        .take(TOP)
        .map(|(text, servers, closes, of)| match servers.as_slice() {
            [one] => format!("{text} ({}, {closes} of {of} idle closes)", one.subject),
            _ => format!(
                "{text} ({} servers, {closes} of their {of} idle closes)",
                servers.len()
            ),
        })
        .collect();
    if more > 0 {
        list.push(format!("{more} more"));
    }
    Some(join_and(&list))
}

/// A timeout worth naming in a finding over `subjects` servers: any for
/// one server; over several, one that at least 3 closes agree on, not 1
/// or 2 closes at random moments.
fn solid(t: &IdleTimeout, subjects: usize) -> bool {
    subjects == 1 || t.closes >= 3
}

/// `a`, `a and b`, `a, b and c`.
pub fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The distinct timeouts of the subjects, shortest last: `2.00s, 1.50s and
/// 1.00s`.
pub fn timeout_values(s: &[Subject]) -> Vec<IdleTimeout> {
    let mut t: Vec<IdleTimeout> = s
        .iter()
        .filter_map(|x| x.timeout)
        .filter(|t| solid(t, s.len()))
        .collect();
    t.sort_by(|a, b| b.seconds.total_cmp(&a.seconds));
    t.dedup_by(|a, b| timeout_text(a, true) == timeout_text(b, true));
    t
}

pub(crate) fn race_finding(subjects: Vec<Subject>, n: usize) -> Finding {
    rollup(
        FindingKind::KeepaliveRace,
        SubjectKind::Server,
        subjects,
        n,
        |s| {
            let (count, flows) = counts(s);
            let after = total(s, |x| x.races_after_close);
            let before = total(s, |x| x.unanswered_before_close);
            let values = timeout_values(s);
            let listed: Vec<String> = values.iter().map(|t| timeout_text(t, true)).collect();
            let title = match s {
                [one] => format!(
                    "{count} request{} raced server {}'s close of an idle connection{}",
                    plural(count),
                    one.subject,
                    one.timeout.map_or_else(String::new, |t| format!(
                        " (its idle timeout: {})",
                        timeout_text(&t, true)
                    )),
                ),
                _ => format!(
                    "{count} request{} raced {} servers' closes of idle connections{}",
                    plural(count),
                    s.len(),
                    if listed.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " (idle timeout{} {})",
                            plural(listed.len() as u64),
                            join_and(&listed)
                        )
                    }
                ),
            };
            let min = s
                .iter()
                .filter_map(|x| x.race_window_min_s)
                .reduce(f64::min);
            let max = s
                .iter()
                .filter_map(|x| x.race_window_max_s)
                .reduce(f64::max);
            let window = match (min, max) {
                (Some(a), Some(b)) if (b - a).abs() < 1e-9 => secs(a),
                (Some(a), Some(b)) => format!("{} to {}", secs(a), secs(b)),
                _ => "-".into(),
            };
            let mut e = format!(
                "{count} of {} {flows} flows ({}%):",
                if s.len() == 1 { "its" } else { "their" },
                percent(count, flows)
            );
            if after > 0 {
                e.push_str(&format!(
                    " {after} request{} came {window} after the server had closed the connection \
                 (close_notify or FIN) and {} answered by RST or never",
                    plural(after),
                    if after == 1 { "was" } else { "were" }
                ));
            }
            if before > 0 {
                e.push_str(&format!(
                    "{} {before} reached the server just before its close and {} never answered",
                    if after > 0 { ";" } else { "" },
                    if before == 1 { "was" } else { "were" }
                ));
            }
            e.push('.');
            match timeouts_named(s) {
                Some(t) => e.push_str(&format!(" Idle timeouts found: {t}.")),
                None if s.len() == 1 => e.push_str(&format!(
                    " The server's {} idle closes do not agree on one timeout.",
                    s.first().and_then(|x| x.server_idle_closes).unwrap_or(0)
                )),
                None => e.push_str(" No server's idle closes agree on a timeout."),
            }
            let shortest = values.last().copied();
            let longer: Vec<&Subject> = s
                .iter()
                .filter(|x| match (x.client_idle_timeout_s, x.timeout) {
                    (Some(c), Some(t)) => c >= t.seconds,
                    _ => false,
                })
                .collect();
            (title, e, Some(race_fix(shortest, &longer)))
        },
    )
}

/// A client idle timeout comfortably below the server's: three quarters of
/// it (at most 5 s less), rounded down to 100 ms (whole seconds from 10 s).
pub fn suggested(server: f64) -> f64 {
    // the timer as set, to the 10 µs: 1.999998 s of capture time is a 2 s
    // timer seen a little early
    let server = (server * 1e5).round() / 1e5;
    let t = (server * 0.75).max(server - 5.0) + 1e-9;
    if t >= 10.0 {
        t.floor()
    } else {
        (t * 10.0).floor() / 10.0
    }
}

fn race_fix(shortest: Option<IdleTimeout>, longer: &[&Subject]) -> String {
    let mut fix = match shortest {
        Some(t) => format!(
            "Keep the clients' idle timeout below the servers' ({} for the shortest; e.g. {}), \
             so that they drop an idle connection before the server does",
            timeout_text(&t, true),
            secs(suggested(t.seconds))
        ),
        None => "Keep the clients' idle timeout below the servers'".into(),
    };
    fix.push_str(", or let them retry idempotent requests that fail on a reused connection.");
    if let Some(x) = longer.first() {
        fix.push_str(&format!(
            " The clients of {} close idle connections after about {} now{}.",
            x.subject,
            secs(x.client_idle_timeout_s.unwrap_or(0.0)),
            if longer.len() > 1 {
                format!(" ({} more servers alike)", longer.len() - 1)
            } else {
                String::new()
            }
        ));
    }
    fix
}

pub(crate) fn reset_finding(subjects: Vec<Subject>, n: usize) -> Finding {
    rollup(
        FindingKind::IdleReset,
        SubjectKind::Server,
        subjects,
        n,
        |s| {
            let (count, flows) = counts(s);
            let title = match s {
                [one] => format!(
                    "server {} reset {count} idle connection{} instead of closing {}{}",
                    one.subject,
                    plural(count),
                    if count == 1 { "it" } else { "them" },
                    one.timeout.map_or_else(String::new, |t| format!(
                        " (after {} idle)",
                        timeout_text(&t, true)
                    ))
                ),
                _ => format!(
                    "{} servers reset {count} idle connections instead of closing them",
                    s.len()
                ),
            };
            let mut e = format!(
                "{count} of {} {flows} flows ended with the server's RST after 100ms or more of \
             silence, with no close_notify and no FIN before it.",
                if s.len() == 1 { "its" } else { "their" },
            );
            match timeouts_named(s) {
                Some(t) => e.push_str(&format!(" Idle times the resets agree on: {t}.")),
                None if s.len() > 1 => e.push_str(" No server's resets agree on an idle time."),
                None => {}
            }
            e.push_str(
                " A client cannot tell it from a crash, and a request sent meanwhile is lost \
             (ECONNRESET).",
            );
            let fix = "Close idle connections with close_notify and FIN: look for SO_LINGER 0 on \
                   the idle timer, or a middlebox that resets idle flows."
                .to_string();
            (title, e, Some(fix))
        },
    )
}

pub(crate) fn truncation_finding(subjects: Vec<Subject>, side: Side, n: usize) -> Finding {
    rollup(
        FindingKind::TruncationRisk,
        SubjectKind::Server,
        subjects,
        n,
        |s| {
            let (count, flows) = counts(s);
            let (who, peer) = (side.as_str(), side.peer().as_str());
            let to = match s {
                [one] => format!("server {}", one.subject),
                _ => format!("{} servers", s.len()),
            };
            let title = match (side, s) {
                (Side::Server, [one]) => format!(
                    "{count} bare FIN{} from server {} right after its own data",
                    plural(count),
                    one.subject
                ),
                (Side::Server, _) => format!(
                    "{count} bare FINs from {} servers right after their own data",
                    s.len()
                ),
                _ => format!(
                    "{count} bare FIN{} from clients of {to} right after their own data",
                    plural(count)
                ),
            };
            let e = format!(
            "{count} of {} {flows} flows ({}%) ended with a FIN and no close_notify right after \
             the {who}'s own data, which nothing answered: the {peer} cannot tell its end from a \
             cut (OpenSSL 3: \"unexpected eof while reading\"). Unknown from the capture: \
             whether that data was length-delimited (a cut would show).",
            if s.len() == 1 { "its" } else { "their" },
            percent(count, flows),
        );
            let fix = format!(
                "Make the {who} send close_notify before closing (SSL_shutdown, unwrap(), \
             CloseWrite); meanwhile rely on the protocol's framing (Content-Length, chunked)."
            );
            (title, e, Some(fix))
        },
    )
}

pub(crate) fn no_close_notify_finding(
    subjects: Vec<Subject>,
    own: u64,
    fin: u64,
    rst: u64,
    n: usize,
) -> Finding {
    rollup(
        FindingKind::NoCloseNotify,
        SubjectKind::Server,
        subjects,
        n,
        |s| {
            let flows: u64 = s.iter().map(|x| x.flows).sum();
            let (title, e) = match s {
                [one] => (
                    format!("server {} never sent close_notify", one.subject),
                    format!(
                        "In none of its {flows} flows did the server send close_notify, and it \
                     closed {own} of them itself ({fin} with FIN, {rst} with RST)."
                    ),
                ),
                _ => (
                    format!("{} servers never sent close_notify", s.len()),
                    format!(
                        "In none of their {flows} flows did these servers send close_notify, and \
                     they closed {own} of them themselves ({fin} with FIN, {rst} with RST)."
                    ),
                ),
            };
            let fix = "Configure the server (or the proxy in front of it) to shut TLS down with \
                   close_notify before closing; clients that require it (OpenSSL 3, rustls, \
                   Go's strict readers) report these closes as errors."
                .to_string();
            (title, e, Some(fix))
        },
    )
}

pub(crate) fn abrupt_finding(subjects: Vec<Subject>, n: usize) -> Finding {
    rollup(
        FindingKind::AbruptClose,
        SubjectKind::Server,
        subjects,
        n,
        |s| {
            let (count, flows) = counts(s);
            let mut all = AbruptCloses::default();
            for x in s {
                if let Some(a) = &x.abrupt_closes {
                    all.add(a);
                }
            }
            let shapes = |a: &AbruptCloses| {
                join_and(
                    &a.shapes()
                        .iter()
                        .map(|(k, w)| format!("{w} ({k})"))
                        .collect::<Vec<_>>(),
                )
            };
            let fin = all.goaway_then_fin + all.connection_close_then_fin;
            let rst =
                all.goaway_then_rst + all.connection_close_then_rst + all.rst_request_outstanding;
            let title = match s {
                [one] => format!("server {} {}", one.subject, abrupt_title(&all)),
                _ => format!(
                    "{} servers closed {count} connections abruptly ({})",
                    s.len(),
                    join_and(
                        &all.shapes()
                            .iter()
                            .map(|(_, w)| (*w).to_string())
                            .collect::<Vec<_>>()
                    )
                ),
            };
            let mut e = format!(
                "Read with keys, {count} of {} {flows} flows ({}%) ended abruptly by the \
                 server: ",
                if s.len() == 1 { "its" } else { "their" },
                percent(count, flows),
            );
            match s {
                [one] => e.push_str(&one.abrupt_closes.as_ref().map_or_else(String::new, shapes)),
                _ => {
                    let mut per: Vec<String> = s
                        .iter()
                        .take(TOP)
                        .map(|x| {
                            format!(
                                "{} shows {}",
                                x.subject,
                                x.abrupt_closes.as_ref().map_or_else(String::new, shapes)
                            )
                        })
                        .collect();
                    if s.len() > TOP {
                        per.push(format!("{} more servers", s.len() - TOP));
                    }
                    e.push_str(&per.join("; "));
                }
            }
            e.push_str(", with no close_notify.");
            if fin > 0 {
                e.push_str(
                    " After a bare FIN a client cannot tell the end from a cut: it sees an \
                     unexpected EOF (OpenSSL 3: \"unexpected eof while reading\"; some answer \
                     with a fatal alert).",
                );
            }
            if rst > 0 {
                e.push_str(
                    " An RST drops the data in flight: a request outstanding fails with \
                     ECONNRESET.",
                );
            }
            e.push_str(" Flows read without keys are not judged.");
            let mut fix = Vec::new();
            if all.announced() > 0 {
                fix.push(
                    "After GOAWAY or Connection: close, shut TLS down with close_notify before \
                     the FIN (SSL_shutdown before close), as nginx and haproxy do",
                );
            }
            if rst > 0 {
                fix.push(
                    "answer or refuse the requests outstanding (GOAWAY's last stream id, a 503 \
                     with Connection: close) before closing, and close with close_notify and FIN, \
                     not an RST (look for SO_LINGER 0, or a socket closed with unread data)",
                );
            }
            let mut fix = fix.join("; ");
            if let Some(first) = fix.get(..1) {
                fix = format!(
                    "{}{}.",
                    first.to_uppercase(),
                    fix.get(1..).unwrap_or_default()
                );
            }
            (title, e, Some(fix))
        },
    )
}

/// One server's abrupt closes in a title, by what most of them show.
fn abrupt_title(a: &AbruptCloses) -> String {
    let most = a.shapes().first().map_or("", |x| x.1);
    let lead = match most {
        "GOAWAY then a bare FIN" => {
            "sends GOAWAY then a bare FIN (no close_notify): clients see an unexpected EOF"
        }
        "Connection: close then a bare FIN" => {
            "closes after Connection: close with a bare FIN (no close_notify): clients see an \
             unexpected EOF"
        }
        "GOAWAY then an RST" => {
            "resets connections after GOAWAY (no close_notify): clients see ECONNRESET"
        }
        "Connection: close then an RST" => {
            "resets connections after Connection: close (no close_notify): clients see \
             ECONNRESET"
        }
        _ => "resets connections with a request outstanding: clients see ECONNRESET",
    };
    let total = a.total();
    let others = total - a.shapes().first().map_or(0, |x| x.0);
    if others > 0 {
        format!("{lead} ({others} of its {total} abrupt closes show something else)")
    } else {
        lead.to_string()
    }
}

pub(crate) fn client_reset_finding(subjects: Vec<Subject>, after_cn: u64, n: usize) -> Finding {
    rollup(
        FindingKind::ClientReset,
        SubjectKind::ClientNetwork,
        subjects,
        n,
        |s| {
            let (count, flows) = counts(s);
            let clients = total(s, |x| x.clients);
            let who = match s {
                [one] if clients == 1 => format!(
                    "client {}",
                    one.examples
                        .first()
                        .map(|e| e.client.rsplit_once(':').map_or(e.client.as_str(), |c| c.0))
                        .map(|c| c.trim_start_matches('[').trim_end_matches(']'))
                        .unwrap_or(one.subject.as_str())
                ),
                [one] => format!("{clients} clients in {}", one.subject),
                _ => format!("{clients} clients in {} networks", s.len()),
            };
            let title = format!(
                "{who} reset {count} connection{} instead of closing",
                plural(count)
            );
            let e = format!(
                "{count} of {} {flows} flows ({}%) ended with an RST the client sent first{}.",
                if clients == 1 { "its" } else { "their" },
                percent(count, flows),
                if after_cn > 0 {
                    format!(" ({after_cn} after its own close_notify)")
                } else {
                    String::new()
                }
            );
            let fix =
                "Look for SO_LINGER 0, or sockets closed with unread data (an RST loses data \
                   in flight); close with close_notify and FIN."
                    .to_string();
            (title, e, Some(fix))
        },
    )
}

pub(crate) fn timeout_finding(subjects: Vec<Subject>, n: usize) -> Finding {
    rollup(
        FindingKind::IdleTimeout,
        SubjectKind::Server,
        subjects,
        n,
        |s| {
            let values = timeout_values(s);
            let title = match s {
                [one] => format!(
                    "server {} closes idle connections after {}",
                    one.subject,
                    one.timeout
                        .map_or_else(|| "-".into(), |t| timeout_text(&t, true))
                ),
                _ if values.is_empty() => format!(
                    "{} servers closed idle connections, each too few times to tell its timeout",
                    s.len()
                ),
                _ => format!(
                    "{} servers close idle connections after a timeout ({})",
                    s.len(),
                    join_and(
                        &values
                            .iter()
                            .map(|t| timeout_text(t, true))
                            .collect::<Vec<_>>()
                    )
                ),
            };
            let e = match s {
                [one] => one.timeout.map_or_else(String::new, |t| timeout_words(&t)),
                _ => match timeouts_named(s) {
                    Some(named) => format!(
                        "Per server, the idle time most of its own closes of idle connections \
                         agree on: {named}."
                    ),
                    None => {
                        let most = s
                            .iter()
                            .filter_map(|x| x.timeout.map(|t| t.closes))
                            .max()
                            .unwrap_or(0);
                        format!(
                            "Each closed at most {most} idle connection{} after the same idle \
                             time: with several servers, a timeout is named when at least 3 \
                             closes agree.",
                            plural(most)
                        )
                    }
                },
            };
            // a client timeout compared with a server timeout the closes show
            let longer: Vec<&Subject> = s
                .iter()
                .filter(|x| match (x.client_idle_timeout_s, x.timeout) {
                    (Some(c), Some(t)) => solid(&t, s.len()) && c >= t.seconds,
                    _ => false,
                })
                .collect();
            let fix = longer.first().map(|x| {
                format!(
                    "The clients of {} keep idle connections about {}, longer than the server{}: \
                 lower their idle timeout below {} before requests start to race it.",
                    x.subject,
                    secs(x.client_idle_timeout_s.unwrap_or(0.0)),
                    if longer.len() > 1 {
                        format!(" ({} more servers alike)", longer.len() - 1)
                    } else {
                        String::new()
                    },
                    x.timeout
                        .map_or_else(|| "-".into(), |t| timeout_text(&t, true))
                )
            });
            (title, e, fix)
        },
    )
}

fn timeout_words(t: &IdleTimeout) -> String {
    if t.sweep {
        return format!(
            "{} of the server's {} closes of idle connections came {} to {} after the last \
             traffic: a timeout of about {} checked by a periodic sweep.",
            t.closes,
            t.of,
            spread(t.min),
            spread(t.max),
            round_secs(t.seconds)
        );
    }
    format!(
        "{} of the server's {} closes of idle connections came after {} of silence \
         ({} to {}).",
        t.closes,
        t.of,
        secs(t.seconds),
        secs(t.min),
        secs(t.max)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joined_with_and() {
        let s = |v: &[&str]| join_and(&v.iter().map(|x| x.to_string()).collect::<Vec<_>>());
        assert_eq!(s(&[]), "");
        assert_eq!(s(&["a"]), "a");
        assert_eq!(s(&["a", "b"]), "a and b");
        assert_eq!(s(&["a", "b", "c"]), "a, b and c");
    }

    #[test]
    fn a_suggested_client_timeout_is_below_the_servers() {
        assert_eq!(suggested(2.0), 1.5);
        assert_eq!(suggested(1.0), 0.7);
        assert_eq!(suggested(75.0), 70.0);
        assert_eq!(suggested(1.999_998), 1.5);
    }
}
