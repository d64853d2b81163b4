//! From the facts of a finished flow to its [`FlowReport`]
//! (spec/endings.md: "Reading encrypted alerts without keys" and "The
//! ending, first match wins").

use crate::flow::{AlertBody, DirFacts, FlowState};
use crate::keyed::{KeyedDir, KeyedFlow};
use crate::report::{
    AlertLabel, Alerts, CloseNotify, Closer, Confidence, Ending, FlowReport, LadderStep, Role,
    Teardown, TeardownKind,
};
use tlsclose_tcp::{Dir, EndReason, Finished, SegMeta};
use tlsclose_tls::{Alert, AlertLevel, ContentType};

mod closing;

/// TLS 1.3 alert record bodies: 2 bytes alert + 1 content type + 16-byte
/// AEAD tag; 8-byte tag with AES-CCM-8.
const TLS13_ALERT_LENGTHS: [u16; 2] = [19, 11];

/// An alert found for a side: which record, and whether it was read or deduced.
#[derive(Debug, Clone, Copy)]
struct Found {
    index: u64,
    at: SegMeta,
    how: CloseNotify,
}

/// What one side's records say.
#[derive(Debug, Default)]
struct SideVerdict {
    close_notify: Option<Found>,
    fatal: Option<Found>,
    /// Frame of application data this side sent after its own first alert.
    data_after_alert: Option<u64>,
    labels: Vec<AlertLabel>,
    inferred: bool,
    /// Record indexes that are alerts (excluded from "activity").
    alert_indexes: Vec<u64>,
}

fn side_verdict(d: &DirFacts, role: Role, tls13: bool) -> SideVerdict {
    let mut v = SideVerdict::default();
    let mut label_of_index: Vec<(u64, usize)> = Vec::new();
    for a in &d.alerts {
        v.alert_indexes.push(a.index);
        match a.body {
            AlertBody::Plain(al) => {
                v.labels.push(alert_label(al));
                let found = Found {
                    index: a.index,
                    at: a.at,
                    how: CloseNotify::Seen,
                };
                if al.description.0 == 0 && v.close_notify.is_none() {
                    v.close_notify = Some(found);
                }
                if al.level == AlertLevel::FATAL && v.fatal.is_none() {
                    v.fatal = Some(found);
                }
            }
            AlertBody::Encrypted => {
                label_of_index.push((a.index, v.labels.len()));
                v.labels.push(AlertLabel("encrypted".into()));
            }
        }
    }
    if v.close_notify.is_none() && v.fatal.is_none() && d.records > 0 {
        if !tls13 {
            // TLS ≤ 1.2: the alert's content type is visible.
            for (n, a) in d.alerts.iter().enumerate() {
                if a.body != AlertBody::Encrypted {
                    continue;
                }
                let label = label_of_index
                    .iter()
                    .find(|(i, _)| *i == a.index)
                    .map(|(_, l)| *l);
                let found = Found {
                    index: a.index,
                    at: a.at,
                    how: CloseNotify::Inferred,
                };
                if d.first_after_ccs == Some(a.index) {
                    // in place of this side's Finished: a handshake failure
                    v.fatal = Some(found);
                    set_label(&mut v.labels, label, "inferred:fatal");
                    v.inferred = true;
                    break;
                }
                if a.index + 1 == d.records || a.data_after.is_some() {
                    v.close_notify = Some(found);
                    set_label(&mut v.labels, label, "inferred:close_notify");
                    v.inferred = true;
                    break;
                }
                let _ = n;
            }
        } else if let Some(last) = d.recent.back() {
            // TLS 1.3: alerts travel as application_data; an alert-sized
            // last record of the direction is an alert.
            if last.content_type == ContentType::APPLICATION_DATA
                && last.index + 1 == d.records
                && TLS13_ALERT_LENGTHS.contains(&last.length)
            {
                let found = Found {
                    index: last.index,
                    at: last.at,
                    how: CloseNotify::Inferred,
                };
                v.inferred = true;
                v.alert_indexes.push(last.index);
                let encrypted_before = d.app_records > 1;
                if role == Role::Client && !encrypted_before {
                    v.fatal = Some(found);
                    v.labels.push(AlertLabel("inferred:fatal".into()));
                } else {
                    v.close_notify = Some(found);
                    v.labels.push(AlertLabel("inferred:close_notify".into()));
                }
            }
        }
    }
    if !tls13 {
        let first = [v.close_notify, v.fatal]
            .into_iter()
            .flatten()
            .min_by_key(|f| f.index);
        if let Some(first) = first {
            v.data_after_alert = d
                .alerts
                .iter()
                .find(|a| a.index == first.index)
                .and_then(|a| a.data_after);
        }
    }
    v
}

/// `level:description`, e.g. `warning:close_notify` (levels other than
/// fatal read as warning).
fn alert_label(al: Alert) -> AlertLabel {
    let level = if al.level == AlertLevel::FATAL {
        "fatal"
    } else {
        "warning"
    };
    let desc = al
        .description
        .name()
        .map(str::to_owned)
        .unwrap_or_else(|| al.description.0.to_string());
    AlertLabel(format!("{level}:{desc}"))
}

/// A side read with keys: its alerts are known, and so is whether
/// application data followed its own close_notify or fatal alert (TLS 1.3
/// included). When its last record could not be read (a gap), the keyless
/// inference speaks for it instead.
fn keyed_side_verdict(d: &DirFacts, k: &KeyedDir, role: Role, tls13: bool) -> SideVerdict {
    let mut v = SideVerdict::default();
    for a in &k.alerts {
        v.alert_indexes.push(a.index);
        v.labels.push(alert_label(a.alert));
        let found = Found {
            index: a.index,
            at: a.at,
            how: CloseNotify::Seen,
        };
        if a.alert.is_close_notify() && v.close_notify.is_none() {
            v.close_notify = Some(found);
        }
        if a.alert.level == AlertLevel::FATAL && v.fatal.is_none() {
            v.fatal = Some(found);
        }
    }
    if v.close_notify.is_none() && v.fatal.is_none() && k.lost_last {
        return side_verdict(d, role, tls13);
    }
    let first = [v.close_notify, v.fatal]
        .into_iter()
        .flatten()
        .min_by_key(|f| f.index);
    if let Some(first) = first {
        v.data_after_alert = k
            .alerts
            .iter()
            .find(|a| a.index == first.index)
            .and_then(|a| a.data_after);
    }
    v
}

/// `close_notify (warning)`, as the ladder words alerts.
fn alert_words(a: Alert) -> String {
    format!(
        "{} ({})",
        a.description
            .name()
            .map(str::to_owned)
            .unwrap_or_else(|| a.description.0.to_string()),
        if a.level == AlertLevel::FATAL {
            "fatal"
        } else {
            "warning"
        },
    )
}

fn set_label(labels: &mut [AlertLabel], at: Option<usize>, text: &str) {
    if let Some(l) = at.and_then(|i| labels.get_mut(i)) {
        *l = AlertLabel(text.to_owned());
    }
}

/// Which direction is the client's (spec: "Flow and direction").
fn client_dir(fin: &Finished<FlowState>) -> Dir {
    let f = &fin.consumer;
    if let Some(d) = f.syn_dir {
        return d;
    }
    if let Some(d) = f.hello.client_hello_dir {
        return d;
    }
    let key = fin.start.key;
    // the side with the higher port; on a tie, the first sender
    match key.a.port.cmp(&key.b.port) {
        std::cmp::Ordering::Greater => Dir::AtoB,
        std::cmp::Ordering::Less => Dir::BtoA,
        std::cmp::Ordering::Equal => fin.start.first_dir,
    }
}

/// The report of a finished flow, or `None` when it carried no TLS.
pub(crate) fn report(fin: &Finished<FlowState>, with_ladder: bool) -> Option<FlowReport> {
    let flow = &fin.consumer;
    if !flow.is_tls() {
        return None;
    }
    let cdir = client_dir(fin);
    let dir_of = |r: Role| {
        if r == Role::Client {
            cdir
        } else {
            cdir.other()
        }
    };
    let facts = |r: Role| &flow.dirs[dir_of(r).index()];
    // drafts and experiments too (ProtocolVersion::is_tls13)
    let tls13 = flow.hello.version.is_some_and(|v| v.is_tls13());

    // per side: its decrypted facts where its keys worked, otherwise
    // keyless inference
    let keyed: Option<&KeyedFlow> = flow
        .keyed
        .as_deref()
        .filter(|k| k.readable(cdir).is_some() || k.readable(cdir.other()).is_some());
    let side = |role: Role| match keyed.and_then(|k| k.readable(dir_of(role))) {
        Some(k) => keyed_side_verdict(facts(role), k, role, tls13),
        None => side_verdict(facts(role), role, tls13),
    };
    let client = side(Role::Client);
    let server = side(Role::Server);
    let verdict_of = |r: Role| if r == Role::Client { &client } else { &server };

    // the first teardown segment of the flow, in capture order
    let mut tear: Vec<(u64, TeardownKind, Role, SegMeta)> = Vec::new();
    for role in [Role::Client, Role::Server] {
        let t = facts(role).teardown;
        if let Some(m) = t.fin {
            tear.push((m.frame, TeardownKind::Fin, role, m));
        }
        if let Some(m) = t.rst {
            tear.push((m.frame, TeardownKind::Rst, role, m));
        }
    }
    tear.sort_by_key(|t| (t.0, t.1 == TeardownKind::Fin));
    let first = tear.first().copied();

    let dac = client.data_after_alert.is_some() || server.data_after_alert.is_some();
    let (ending, closer) = match first {
        _ if dac => (
            Ending::DataAfterAlert,
            first.map_or(Closer::None, |t| t.2.into()),
        ),
        None => (Ending::Open, Closer::None),
        Some((_, TeardownKind::Rst, by, _)) => (Ending::Rst, by.into()),
        Some((frame, TeardownKind::Fin, by, _)) => {
            let cn = verdict_of(by)
                .close_notify
                .is_some_and(|c| c.at.frame <= frame);
            (
                if cn {
                    Ending::CloseNotifyThenFin
                } else {
                    Ending::FinOnly
                },
                by.into(),
            )
        }
    };

    let mut confidence = if client.inferred || server.inferred {
        Confidence::Likely
    } else {
        Confidence::Certain
    };
    let gap = fin.reassembly.iter().any(|r| r.gaps > 0);
    if gap {
        confidence = confidence.weakened();
    }

    let cn_state = |v: &SideVerdict| v.close_notify.map_or(CloseNotify::None, |c| c.how);
    let closing = closing::closing(
        closing::Side {
            verdict: &client,
            facts: facts(Role::Client),
            keyed: keyed
                .and_then(|k| k.readable(dir_of(Role::Client)))
                .is_some(),
        },
        closing::Side {
            verdict: &server,
            facts: facts(Role::Server),
            keyed: keyed
                .and_then(|k| k.readable(dir_of(Role::Server)))
                .is_some(),
        },
        tls13,
    );

    // idle time: from the last non-alert record before the closing began
    // (the closer's close_notify, or else the first FIN/RST) to that moment
    let closing_at = match (ending, first) {
        (Ending::CloseNotifyThenFin, Some((_, _, by, _))) => {
            verdict_of(by).close_notify.map(|c| c.at)
        }
        (_, Some((_, _, _, m))) => Some(m),
        (_, None) => None,
    };
    let idle_before_close = closing_at.and_then(|at| {
        let mut last: Option<SegMeta> = None;
        for role in [Role::Client, Role::Server] {
            let v = verdict_of(role);
            for r in facts(role).recent.iter() {
                if r.at.frame < at.frame
                    && !v.alert_indexes.contains(&r.index)
                    && last.is_none_or(|l| r.at.ts > l.ts)
                {
                    last = Some(r.at);
                }
            }
        }
        last.map(|l| at.ts.secs_since(l.ts).max(0.0))
    });

    let mut notes = Vec::new();
    for role in [Role::Client, Role::Server] {
        let d = facts(role);
        let r = &fin.reassembly[dir_of(role).index()];
        if r.gaps > 0 {
            notes.push(format!(
                "{}: {} bytes never captured in {} gap(s)",
                role.as_str(),
                r.gap_bytes,
                r.gaps
            ));
        }
        if r.forced_gaps > 0 {
            notes.push(format!(
                "{}: out-of-order buffer limit hit {} time(s)",
                role.as_str(),
                r.forced_gaps
            ));
        }
        if r.shared_limit_gaps > 0 {
            notes.push(format!(
                "{}: limit on out-of-order bytes over all flows hit {} time(s)",
                role.as_str(),
                r.shared_limit_gaps
            ));
        }
        if d.resyncs > 0 {
            notes.push(format!(
                "{}: record layer resynchronised {} time(s)",
                role.as_str(),
                d.resyncs
            ));
        }
        if d.alerts_dropped > 0 {
            notes.push(format!(
                "{}: {} alerts beyond the first {} not kept",
                role.as_str(),
                d.alerts_dropped,
                d.alerts.len()
            ));
        }
    }
    if flow.truncated {
        notes.push("segments cut by the snapshot length".into());
    }
    if flow.names_cut {
        notes.push("server name or ALPN longer than the name limits: cut".into());
    }
    if flow.buffers_shed {
        notes.push(
            "partial hello and record bodies dropped: bytes held over all flows at their limit"
                .into(),
        );
    }
    if fin.reason == EndReason::Evicted {
        notes
            .push("ended early: the flow table was full and this flow was idle the longest".into());
    }
    if let Some(k) = flow.keyed.as_deref() {
        notes.extend(k.notes(cdir));
    }
    if let Some(note) = flow.keys_unused() {
        notes.push(note.into());
    }

    let ladder = if with_ladder {
        ladder(fin, &dir_of, [&client, &server], keyed, closing.race)
    } else {
        Vec::new()
    };
    let key = fin.start.key;
    Some(FlowReport {
        file: String::new(),
        client: key.src(cdir).to_string(),
        server: key.src(cdir.other()).to_string(),
        ending,
        closer,
        client_close_notify: cn_state(&client),
        server_close_notify: cn_state(&server),
        close_notify_answered: closing.close_notify_answered,
        initiator: closing.initiator,
        keepalive_race: closing.race.is_some(),
        race_window_s: closing.race.map(|r| r.window),
        race_frame: closing.race.map(|r| r.frame),
        idle_before_first_signal: closing.idle_before_first_signal,
        // no ServerHello read: an SSLv2-format ClientHello still says what
        // the flow was
        version: flow.hello.version.map(|v| v.to_string()).or_else(|| {
            flow.dirs
                .iter()
                .any(|d| d.sslv2_hello)
                .then(|| "SSL 2.0 ClientHello".to_string())
        }),
        sni: flow.hello.sni.clone(),
        alpn: flow.hello.alpn.clone(),
        cipher: flow.hello.cipher.map(|c| {
            c.name()
                .map_or_else(|| format!("0x{:04x}", c.0), str::to_owned)
        }),
        confidence,
        decrypted: keyed.is_some(),
        alerts: Alerts {
            client: client.labels,
            server: server.labels,
        },
        idle_before_close,
        teardown: first.map(|(frame, kind, by, m)| Teardown {
            kind,
            by,
            frame,
            time: m.ts.as_secs_f64(),
        }),
        teardown_frame: first.map(|t| t.0),
        first_frame: fin.start.first.frame,
        last_frame: fin.last.frame,
        first_time: fin.start.first.ts.as_secs_f64(),
        last_time: fin.last.ts.as_secs_f64(),
        packets: fin.segments,
        app_bytes: [facts(Role::Client).app_bytes, facts(Role::Server).app_bytes],
        gap,
        incomplete: flow.truncated,
        midstream: flow.syn_dir.is_none() && !flow.dirs.iter().any(|d| d.syn),
        notes,
        wireshark_filter: crate::report::wireshark_filter(
            key.src(cdir),
            key.src(cdir.other()),
            fin.start.first.frame,
            fin.last.frame,
        ),
        ladder,
    })
}

/// The last records and the FIN/RST of each side, in capture order, worded
/// for people: an alert deduced without keys says what it likely was.
fn ladder(
    fin: &Finished<FlowState>,
    dir_of: &dyn Fn(Role) -> Dir,
    verdicts: [&SideVerdict; 2],
    keyed: Option<&KeyedFlow>,
    race: Option<closing::Race>,
) -> Vec<LadderStep> {
    let flow = &fin.consumer;
    let mut steps: Vec<(u64, u8, LadderStep)> = Vec::new();
    for role in [Role::Client, Role::Server] {
        let d = &flow.dirs[dir_of(role).index()];
        let v = match role {
            Role::Client => verdicts[0],
            Role::Server => verdicts[1],
        };
        let keyed_alerts =
            keyed.map_or(&[][..], |k| k.dirs[dir_of(role).index()].alerts.as_slice());
        for r in d.recent.iter() {
            // an alert deduced without keys (spec: keyless inference)
            let is = |found: Option<Found>| {
                found.is_some_and(|f| f.how == CloseNotify::Inferred && f.index == r.index)
            };
            let read = keyed_alerts.iter().find(|a| a.index == r.index);
            let what = if let Some(a) = read {
                format!(
                    "TLS alert {}{}",
                    alert_words(a.alert),
                    if r.decrypted.is_some() {
                        " decrypted"
                    } else {
                        ""
                    }
                )
            } else if is(v.close_notify) {
                format!(
                    "TLS alert (encrypted, {} bytes, likely close_notify)",
                    r.length
                )
            } else if is(v.fatal) {
                format!("TLS alert (encrypted, {} bytes, likely fatal)", r.length)
            } else {
                match r.content_type {
                    ContentType::ALERT => {
                        match d.alerts.iter().find(|a| a.index == r.index).map(|a| a.body) {
                            Some(AlertBody::Plain(a)) => format!("TLS alert {}", alert_words(a)),
                            _ => format!("TLS alert (encrypted, {} bytes)", r.length),
                        }
                    }
                    ct => match r.decrypted {
                        Some(inner) if inner != ct => format!(
                            "TLS {} ({} bytes, decrypted)",
                            inner.name().unwrap_or("record"),
                            r.length
                        ),
                        _ => format!("TLS {} ({} bytes)", ct.name().unwrap_or("record"), r.length),
                    },
                }
            };
            let what = match race.filter(|x| x.by == role && x.frame == r.at.frame) {
                Some(x) => format!(
                    "{what}  ← keep-alive race: {:.3}s after the {}'s close, {}",
                    x.window,
                    role.peer().as_str(),
                    match x.rst_frame {
                        Some(f) => format!("answered by RST (frame {f})"),
                        None => "never answered".into(),
                    }
                ),
                None => what,
            };
            steps.push((
                r.at.frame,
                0,
                LadderStep {
                    from: role,
                    frame: r.at.frame,
                    time: r.at.ts.as_secs_f64(),
                    what,
                },
            ));
        }
        for (m, what) in [(d.teardown.fin, "TCP FIN"), (d.teardown.rst, "TCP RST")] {
            if let Some(m) = m {
                steps.push((
                    m.frame,
                    1,
                    LadderStep {
                        from: role,
                        frame: m.frame,
                        time: m.ts.as_secs_f64(),
                        what: what.into(),
                    },
                ));
            }
        }
    }
    steps.sort_by_key(|s| (s.0, s.1));
    steps.into_iter().map(|s| s.2).collect()
}
