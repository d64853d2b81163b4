//! From the facts of a finished flow to its [`FlowReport`]
//! (docs/ENDINGS.md: "Without keys" and "The ending, first match wins").

use crate::flow::{AlertBody, DirView, FlowFacts, FlowState, RecentRecord};
use crate::keyed::{KeyedDir, KeyedFlow};
use crate::report::{
    AlertLabel, Alerts, Cipher, CloseNotify, Closer, Confidence, Ending, FlowReport, HttpClose,
    LadderEvent, LadderStep, Likely, Note, RaceMark, Role, Teardown, TeardownKind, Version,
};
use tlsclose_tcp::{Dir, EndReason, Finished, SegMeta};
use tlsclose_tls::{AlertLevel, ContentType};

mod closing;
mod intent;

/// TLS 1.3 alert record bodies: 2 bytes alert + 1 content type + 16-byte
/// AEAD tag; 8-byte tag with AES-CCM-8.
const TLS13_ALERT_LENGTHS: [u16; 2] = [19, 11];

/// How keyless inference reads a flow's encrypted records: by its
/// negotiated version, or by both rules when the version is unknown (the
/// capture starts mid-connection, or the hellos were lost or unreadable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reading {
    /// TLS ≤ 1.2: encrypted alerts are alert records (content type 21).
    Tls12,
    /// TLS 1.3 (drafts too): alerts travel as application data.
    Tls13,
    /// Version unknown: application data by the TLS 1.3 rule, alert
    /// records by the TLS ≤ 1.2 rule.
    Unknown,
}

impl Reading {
    fn of(flow: &FlowFacts) -> Reading {
        match flow.hello.version {
            // drafts and experiments too (ProtocolVersion::is_tls13)
            Some(v) if v.is_tls13() => Reading::Tls13,
            Some(_) => Reading::Tls12,
            None => Reading::Unknown,
        }
    }

    /// An alert-sized last application-data record may be an alert.
    pub(super) fn alerts_in_app_data(self) -> bool {
        self != Reading::Tls12
    }

    /// Alert records (content type 21) may be encrypted alerts.
    fn alert_records(self) -> bool {
        self != Reading::Tls13
    }
}

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

fn side_verdict(d: DirView<'_>, role: Role, reading: Reading) -> SideVerdict {
    let mut v = SideVerdict::default();
    let mut label_of_index: Vec<(u64, usize)> = Vec::new();
    for a in &d.rare.alerts {
        v.alert_indexes.push(a.index);
        match a.body {
            AlertBody::Plain(al) => {
                v.labels.push(AlertLabel::Read(al));
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
                v.labels.push(AlertLabel::Encrypted);
            }
        }
    }
    if v.close_notify.is_none() && v.fatal.is_none() && d.records > 0 && reading.alert_records() {
        // TLS ≤ 1.2: the alert's content type is visible.
        for a in &d.rare.alerts {
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
            if d.first_after_ccs() == Some(a.index) {
                // in place of this side's Finished: a handshake failure
                v.fatal = Some(found);
                set_label(&mut v.labels, label, AlertLabel::InferredFatal);
                v.inferred = true;
                break;
            }
            if a.index + 1 == d.records || a.data_after.is_some() {
                v.close_notify = Some(found);
                set_label(&mut v.labels, label, AlertLabel::InferredCloseNotify);
                v.inferred = true;
                break;
            }
        }
    }
    if v.close_notify.is_none() && v.fatal.is_none() && reading.alerts_in_app_data() {
        if let Some(last) = d.last_record() {
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
                // in place of the client's Finished: only where the
                // handshake was read (the version is known)
                let encrypted_before = d.app_records > 1;
                if role == Role::Client && !encrypted_before && reading == Reading::Tls13 {
                    v.fatal = Some(found);
                    v.labels.push(AlertLabel::InferredFatal);
                } else {
                    v.close_notify = Some(found);
                    v.labels.push(AlertLabel::InferredCloseNotify);
                }
            }
        }
    }
    if reading.alert_records() {
        let first = [v.close_notify, v.fatal]
            .into_iter()
            .flatten()
            .min_by_key(|f| f.index);
        if let Some(first) = first {
            v.data_after_alert = d
                .rare
                .alerts
                .iter()
                .find(|a| a.index == first.index)
                .and_then(|a| a.data_after);
        }
    }
    v
}

/// A side read with keys: its alerts are known, and so is whether
/// application data followed its own close_notify or fatal alert (TLS 1.3
/// included). When its last record could not be read (a gap), the keyless
/// inference speaks for it instead.
fn keyed_side_verdict(d: DirView<'_>, k: &KeyedDir, role: Role, reading: Reading) -> SideVerdict {
    let mut v = SideVerdict::default();
    for a in &k.alerts {
        v.alert_indexes.push(a.index);
        v.labels.push(AlertLabel::Read(a.alert));
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
        return side_verdict(d, role, reading);
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

fn set_label(labels: &mut [AlertLabel], at: Option<usize>, label: AlertLabel) {
    if let Some(l) = at.and_then(|i| labels.get_mut(i)) {
        *l = label;
    }
}

/// Which direction is the client's (docs/ENDINGS.md, "Roles").
fn client_dir(fin: &Finished<FlowState>) -> Dir {
    let f = &fin.consumer.facts;
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

/// A finished TLS flow and what each side's records say: the facts the
/// steps of [`report`] read.
struct Judged<'a> {
    fin: &'a Finished<FlowState>,
    /// The client's direction.
    cdir: Dir,
    /// The decrypted facts, when some side was read with keys.
    keyed: Option<&'a KeyedFlow>,
    /// The client's and the server's verdicts.
    sides: [SideVerdict; 2],
    reading: Reading,
}

/// The first FIN or RST of a flow, in capture order.
#[derive(Debug, Clone, Copy)]
struct FirstTeardown {
    kind: TeardownKind,
    by: Role,
    at: SegMeta,
}

const ROLES: [Role; 2] = [Role::Client, Role::Server];

impl<'a> Judged<'a> {
    /// Reads each side's records: its decrypted facts where its keys
    /// worked, otherwise keyless inference.
    fn new(fin: &'a Finished<FlowState>) -> Judged<'a> {
        let flow = &fin.consumer.facts;
        let cdir = client_dir(fin);
        let reading = Reading::of(flow);
        let keyed: Option<&KeyedFlow> = flow
            .keyed()
            .filter(|k| k.readable(cdir).is_some() || k.readable(cdir.other()).is_some());
        let mut j = Judged {
            fin,
            cdir,
            keyed,
            sides: Default::default(),
            reading,
        };
        j.sides = ROLES.map(|role| {
            let d = j.facts(role);
            match keyed.and_then(|k| k.readable(j.dir(role))) {
                Some(k) => keyed_side_verdict(d, k, role, reading),
                None => side_verdict(d, role, reading),
            }
        });
        j
    }

    fn dir(&self, role: Role) -> Dir {
        match role {
            Role::Client => self.cdir,
            Role::Server => self.cdir.other(),
        }
    }

    fn facts(&self, role: Role) -> DirView<'a> {
        self.fin.consumer.facts.view(self.dir(role))
    }

    fn side(&self, role: Role) -> &SideVerdict {
        match role {
            Role::Client => &self.sides[0],
            Role::Server => &self.sides[1],
        }
    }

    /// The first teardown segment of the flow; a RST before a FIN of the
    /// same frame.
    fn first_teardown(&self) -> Option<FirstTeardown> {
        let mut first: Option<FirstTeardown> = None;
        for by in ROLES {
            let t = self.facts(by);
            for (kind, at) in [(TeardownKind::Rst, t.rst()), (TeardownKind::Fin, t.fin())] {
                let Some(at) = at else { continue };
                let earlier = |f: &FirstTeardown| {
                    (at.frame, kind == TeardownKind::Fin)
                        < (f.at.frame, f.kind == TeardownKind::Fin)
                };
                if first.as_ref().is_none_or(earlier) {
                    first = Some(FirstTeardown { kind, by, at });
                }
            }
        }
        first
    }

    /// The ending and who closed (docs/ENDINGS.md, "The ending, first match wins").
    fn ending(&self, first: Option<FirstTeardown>) -> (Ending, Closer) {
        let dac = self.sides.iter().any(|s| s.data_after_alert.is_some());
        match first {
            _ if dac => (
                Ending::DataAfterAlert,
                first.map_or(Closer::None, |t| t.by.into()),
            ),
            None => (Ending::Open, Closer::None),
            Some(t) if t.kind == TeardownKind::Rst => (Ending::Rst, t.by.into()),
            Some(t) => {
                let cn = self
                    .side(t.by)
                    .close_notify
                    .is_some_and(|c| c.at.frame <= t.at.frame);
                let ending = if cn {
                    Ending::CloseNotifyThenFin
                } else {
                    Ending::FinOnly
                };
                (ending, t.by.into())
            }
        }
    }

    /// Certain unless an alert was deduced; a gap weakens it one step.
    fn confidence(&self, gap: bool) -> Confidence {
        let confidence = if self.sides.iter().any(|s| s.inferred) || self.unsure_of_none() {
            Confidence::Likely
        } else {
            Confidence::Certain
        };
        if gap {
            confidence.weakened()
        } else {
            confidence
        }
    }

    /// The version is unknown and a side without keys whose records end in
    /// an encrypted one is said to have sent no close_notify: that record
    /// may have been one under a rule that could not be applied (an alert
    /// of another length, or of another version), so "none" is not certain.
    fn unsure_of_none(&self) -> bool {
        self.reading == Reading::Unknown
            && ROLES.into_iter().any(|role| {
                let keyed = self
                    .keyed
                    .and_then(|k| k.readable(self.dir(role)))
                    .is_some();
                let v = self.side(role);
                let last = self.facts(role).last_record();
                !keyed
                    && v.close_notify.is_none()
                    && v.fatal.is_none()
                    && last.is_some_and(|r| {
                        r.content_type == ContentType::APPLICATION_DATA
                            || (r.content_type == ContentType::ALERT
                                && v.labels.contains(&AlertLabel::Encrypted))
                    })
            })
    }

    /// From the last non-alert record before the closing began (the
    /// closer's close_notify, or else the first FIN/RST) to that moment,
    /// the closer's closing preamble left out ([`closing::idle_before`]).
    fn idle_before_close(&self, ending: Ending, first: Option<FirstTeardown>) -> Option<f64> {
        let first = first?;
        let closing_at = if ending == Ending::CloseNotifyThenFin {
            self.side(first.by).close_notify.map(|c| c.at)?
        } else {
            first.at
        };
        closing::idle_before(
            &self.closing_side(Role::Client),
            &self.closing_side(Role::Server),
            first.by,
            closing_at,
        )
    }

    /// Why it closed ([`intent`]): from the HTTP read with keys, when some
    /// side was read with them.
    fn intent(&self, first: Option<FirstTeardown>) -> intent::Intent {
        let facts = self
            .keyed
            .and_then(|k| k.http.as_deref())
            .and_then(|h| h.facts());
        let close = first.map(|t| intent::Close {
            kind: t.kind,
            frame: t.at.frame,
            closer_close_notify: self
                .side(t.by)
                .close_notify
                .is_some_and(|c| c.at.frame <= t.at.frame),
            close_notifies: ROLES.map(|r| self.side(r).close_notify.map(|c| c.at.frame)),
        });
        let server_cn = self.side(Role::Server).close_notify.is_some();
        intent::intent(facts, close, server_cn)
    }

    /// A side as [`closing`] reads it.
    fn closing_side(&self, role: Role) -> closing::Side<'_> {
        closing::Side {
            verdict: self.side(role),
            facts: self.facts(role),
            keyed: self
                .keyed
                .and_then(|k| k.readable(self.dir(role)))
                .is_some(),
        }
    }

    /// Remarks on how the verdict was reached: per side, then per flow.
    fn notes(&self) -> Vec<Note> {
        let fin = self.fin;
        let flow = &fin.consumer.facts;
        let mut notes = Vec::new();
        for side in ROLES {
            let d = self.facts(side);
            let r = self.dir(side).of(&fin.reassembly);
            let counted = [
                (r.gaps > 0).then_some(Note::Gap {
                    side,
                    bytes: r.gap_bytes,
                    gaps: r.gaps,
                }),
                (r.forced_gaps > 0).then_some(Note::ReassemblyLimit {
                    side,
                    times: r.forced_gaps,
                }),
                (r.shared_limit_gaps > 0).then_some(Note::TotalLimit {
                    side,
                    times: r.shared_limit_gaps,
                }),
                (d.rare.resyncs > 0).then_some(Note::Resynced {
                    side,
                    times: d.rare.resyncs,
                }),
                (d.rare.alerts_dropped > 0).then_some(Note::AlertsDropped {
                    side,
                    dropped: d.rare.alerts_dropped,
                    kept: d.rare.alerts.len(),
                }),
            ];
            notes.extend(counted.into_iter().flatten());
        }
        let flags = [
            (flow.truncated, Note::Truncated),
            (flow.names_cut, Note::NamesCut),
            (flow.buffers_shed, Note::BuffersShed),
            (fin.reason == EndReason::Evicted, Note::Evicted),
            (fin.clock_stepped, Note::ClockStep),
        ];
        notes.extend(flags.into_iter().filter(|f| f.0).map(|f| f.1));
        if let Some(k) = flow.keyed() {
            notes.extend(k.notes(self.cdir).into_iter().map(Note::Keys));
        }
        if let Some(note) = flow.keys_unused() {
            notes.push(Note::Keys(note));
        }
        notes
    }

    /// The last records and the FIN/RST of each side, in capture order: an
    /// alert deduced without keys says what it likely was.
    fn ladder(
        &self,
        race: Option<closing::Race>,
        http_close: Option<HttpClose>,
    ) -> Vec<LadderStep> {
        let mut steps: Vec<(u64, u8, LadderStep)> = Vec::new();
        let mut announcement = http_close;
        for role in ROLES {
            let d = self.facts(role);
            for r in d.recent_records() {
                let event = self.record_event(role, &r);
                // the announcement's record: its side's application data
                // completed in its frame (a close_notify may share it)
                let carried = announcement
                    .filter(|c| c.by == role && c.frame == r.at.frame)
                    .filter(|_| matches!(event, LadderEvent::Record { .. }));
                if carried.is_some() {
                    announcement = None;
                }
                let step = LadderStep {
                    from: role,
                    frame: r.at.frame,
                    time: r.at.ts.as_secs_f64(),
                    event,
                    http_close: carried,
                    race: race
                        .filter(|x| x.by == role && x.frame == r.at.frame)
                        .map(|x| RaceMark {
                            window: x.window,
                            rst_frame: x.rst_frame,
                        }),
                };
                steps.push((r.at.frame, 0, step));
            }
            let t = d;
            for (m, event) in [(t.fin(), LadderEvent::Fin), (t.rst(), LadderEvent::Rst)] {
                if let Some(m) = m {
                    let step = LadderStep {
                        from: role,
                        frame: m.frame,
                        time: m.ts.as_secs_f64(),
                        event,
                        race: None,
                        http_close: None,
                    };
                    steps.push((m.frame, 1, step));
                }
            }
        }
        steps.sort_by_key(|s| (s.0, s.1));
        steps.into_iter().map(|s| s.2).collect()
    }

    /// What a remembered record of `role` was, as far as it is known.
    fn record_event(&self, role: Role, r: &RecentRecord) -> LadderEvent {
        let v = self.side(role);
        let keyed_alerts = self
            .keyed
            .map_or(&[][..], |k| self.dir(role).of(&k.dirs).alerts.as_slice());
        if let Some(a) = keyed_alerts.iter().find(|a| a.index == r.index) {
            return LadderEvent::Alert {
                alert: a.alert,
                decrypted: r.decrypted.is_some(),
            };
        }
        // an alert deduced without keys (docs/ENDINGS.md, "Without keys")
        let inferred = |found: Option<Found>| {
            found.is_some_and(|f| f.how == CloseNotify::Inferred && f.index == r.index)
        };
        let likely = if inferred(v.close_notify) {
            Some(Likely::CloseNotify)
        } else if inferred(v.fatal) {
            Some(Likely::Fatal)
        } else {
            None
        };
        if likely.is_some() {
            return LadderEvent::EncryptedAlert {
                length: r.length,
                likely,
            };
        }
        if r.content_type == ContentType::ALERT {
            let body = self
                .facts(role)
                .rare
                .alerts
                .iter()
                .find(|a| a.index == r.index)
                .map(|a| a.body);
            return match body {
                Some(AlertBody::Plain(alert)) => LadderEvent::Alert {
                    alert,
                    decrypted: false,
                },
                _ => LadderEvent::EncryptedAlert {
                    length: r.length,
                    likely: None,
                },
            };
        }
        LadderEvent::Record {
            content_type: r.content_type,
            length: r.length,
            decrypted: r.decrypted.filter(|&inner| inner != r.content_type),
        }
    }
}

/// The report of a finished flow, or `None` when it carried no TLS.
pub(crate) fn report(fin: &Finished<FlowState>, with_ladder: bool) -> Option<FlowReport> {
    let flow = &fin.consumer.facts;
    if !flow.is_tls() {
        return None;
    }
    let j = Judged::new(fin);
    let first = j.first_teardown();
    let (ending, closer) = j.ending(first);
    let gap = fin.reassembly.iter().any(|r| r.gaps > 0);
    let [client, server] = &j.sides;
    let closing = closing::closing(
        j.closing_side(Role::Client),
        j.closing_side(Role::Server),
        j.reading,
    );
    let cn_state = |v: &SideVerdict| v.close_notify.map_or(CloseNotify::None, |c| c.how);
    let intent = j.intent(first);
    let key = fin.start.key;
    Some(FlowReport {
        file: String::new(),
        client: key.src(j.cdir),
        server: key.src(j.cdir.other()),
        ending,
        closer,
        client_close_notify: cn_state(client),
        server_close_notify: cn_state(server),
        close_notify_answered: closing.close_notify_answered,
        initiator: closing.initiator,
        keepalive_race: closing.race.is_some(),
        race_window_s: closing.race.map(|r| r.window),
        race_frame: closing.race.map(|r| r.frame),
        idle_before_first_signal: closing.idle_before_first_signal,
        // no ServerHello read: an SSLv2-format ClientHello still says what
        // the flow was
        version: flow.hello.version.map(Version::Negotiated).or_else(|| {
            flow.dirs
                .iter()
                .any(|d| d.sslv2_hello)
                .then_some(Version::Sslv2ClientHello)
        }),
        sni: flow.hello.sni.as_ref().map(|n| n.as_str().to_owned()),
        alpn: flow
            .hello
            .alpn
            .as_ref()
            .map(|n| n.as_str().to_owned())
            .or_else(|| flow.keyed().and_then(|k| k.alpn.clone())),
        cipher: flow.hello.cipher.map(Cipher),
        confidence: j.confidence(gap),
        decrypted: j.keyed.is_some(),
        alerts: Alerts {
            client: client.labels.clone(),
            server: server.labels.clone(),
        },
        idle_before_close: j.idle_before_close(ending, first),
        teardown: first.map(|t| Teardown {
            kind: t.kind,
            by: t.by,
            frame: t.at.frame,
            time: t.at.ts.as_secs_f64(),
        }),
        teardown_frame: first.map(|t| t.at.frame),
        first_frame: fin.start.first.frame,
        last_frame: fin.last.frame,
        first_time: fin.start.first.ts.as_secs_f64(),
        last_time: fin.last.ts.as_secs_f64(),
        packets: fin.segments,
        app_bytes: [
            j.facts(Role::Client).app_bytes,
            j.facts(Role::Server).app_bytes,
        ],
        gap,
        incomplete: flow.truncated,
        midstream: flow.syn_dir.is_none() && !flow.dirs.iter().any(|d| d.syn),
        notes: j.notes(),
        ladder: if with_ladder {
            j.ladder(closing.race, intent.http.and_then(|h| h.close))
        } else {
            Vec::new()
        },
        http: intent.http,
        close_kind: intent.close_kind,
        response_truncated: intent.response_truncated,
        race_request: closing.race.and_then(|r| r.request),
    })
}
