//! Per-flow state: a record deframer per direction and the bounded facts
//! the verdict is computed from.

use std::collections::VecDeque;
use tlsclose_capture::Segment;
use tlsclose_tcp::{Dir, SegMeta, StreamConsumer};
use tlsclose_tls::{
    alert, parse_client_hello, parse_server_hello, Alert, CipherSuite, ContentType, DeframeEvent,
    Deframer, DeframerConfig, HandshakeAssembler, HandshakeType, ProtocolVersion, Record,
    StartMode,
};

/// Most alerts kept per direction; more are counted, not kept.
pub(crate) const MAX_ALERTS: usize = 32;
/// Records remembered per direction for the ending ladder and idle time.
pub(crate) const RECENT_RECORDS: usize = 6;
/// Largest handshake message assembled (ClientHello / ServerHello).
const MAX_HANDSHAKE_MESSAGE: usize = 1 << 16;

/// What an alert record held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AlertBody {
    /// Read in plaintext.
    Plain(Alert),
    /// Encrypted (TLS ≤ 1.2 after ChangeCipherSpec, or unreadable).
    Encrypted,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct AlertEntry {
    pub body: AlertBody,
    /// Index of the record among this direction's records.
    pub index: u64,
    pub at: SegMeta,
    /// Frame of the first application_data record of the same direction after it.
    pub data_after: Option<u64>,
}

/// A record remembered for the ladder and the idle time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RecentRecord {
    pub content_type: ContentType,
    pub length: u16,
    pub index: u64,
    pub at: SegMeta,
}

/// The first FIN / RST of a direction.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct DirTeardown {
    pub fin: Option<SegMeta>,
    pub rst: Option<SegMeta>,
}

impl DirTeardown {
    /// The earlier of the two.
    pub fn first(&self) -> Option<SegMeta> {
        match (self.fin, self.rst) {
            (Some(f), Some(r)) => Some(if r.frame < f.frame { r } else { f }),
            (f, r) => f.or(r),
        }
    }
}

/// Facts about one direction.
#[derive(Debug)]
pub(crate) struct DirFacts {
    /// Boxed: it is taken out and put back for every segment.
    deframer: Option<Box<Deframer<SegMeta>>>,
    handshake: Option<HandshakeAssembler>,
    pub tls: bool,
    /// Records counted up to this direction's own first FIN/RST.
    pub records: u64,
    pub app_records: u64,
    pub app_bytes: u64,
    pub ccs: bool,
    /// Index of the first record after this direction's ChangeCipherSpec.
    pub first_after_ccs: Option<u64>,
    pub alerts: Vec<AlertEntry>,
    pub alerts_dropped: u64,
    /// Alerts before this index already know application data follows them.
    alerts_followed: usize,
    pub recent: VecDeque<RecentRecord>,
    pub teardown: DirTeardown,
    pub syn: bool,
    pub lost_sync: u64,
    pub resyncs: u64,
    pub sent_client_hello: bool,
    pub sent_server_hello: bool,
    pub sslv2_hello: bool,
    /// This direction's hello was read: stop keeping handshake bodies.
    hello_done: bool,
}

impl DirFacts {
    fn new() -> Self {
        DirFacts {
            deframer: None,
            handshake: None,
            tls: false,
            records: 0,
            app_records: 0,
            app_bytes: 0,
            ccs: false,
            first_after_ccs: None,
            alerts: Vec::new(),
            alerts_dropped: 0,
            alerts_followed: 0,
            recent: VecDeque::new(),
            teardown: DirTeardown::default(),
            syn: false,
            lost_sync: 0,
            resyncs: 0,
            sent_client_hello: false,
            sent_server_hello: false,
            sslv2_hello: false,
            hello_done: false,
        }
    }

    /// Records after this direction's first FIN/RST do not count (a side
    /// cannot send after its FIN; what comes later is reordering).
    fn closed_before(&self, meta: SegMeta) -> bool {
        self.teardown.first().is_some_and(|t| t.frame < meta.frame)
    }
}

/// Handshake facts of the flow.
#[derive(Debug, Default, Clone)]
pub(crate) struct HelloFacts {
    pub sni: Option<String>,
    pub alpn_offered: Vec<String>,
    pub version: Option<ProtocolVersion>,
    pub alpn: Option<String>,
    pub cipher: Option<CipherSuite>,
    /// Direction that sent the first ClientHello.
    pub client_hello_dir: Option<Dir>,
}

/// The per-flow state machine (see the crate docs).
#[derive(Debug)]
pub struct FlowState {
    pub(crate) dirs: [DirFacts; 2],
    pub(crate) hello: HelloFacts,
    /// Direction of the first SYN without ACK.
    pub(crate) syn_dir: Option<Dir>,
    pub(crate) truncated: bool,
    config: DeframerConfig,
}

impl FlowState {
    pub fn new(config: DeframerConfig) -> Self {
        FlowState {
            dirs: [DirFacts::new(), DirFacts::new()],
            hello: HelloFacts::default(),
            syn_dir: None,
            truncated: false,
            config,
        }
    }

    /// True when either direction carried TLS records.
    pub fn is_tls(&self) -> bool {
        self.dirs
            .iter()
            .any(|d| d.tls && (d.records > 0 || d.sslv2_hello))
    }

    fn on_event(&mut self, dir: Dir, ev: DeframeEvent<'_, SegMeta>) {
        match ev {
            DeframeEvent::TlsStart { .. } => self.dirs[dir.index()].tls = true,
            DeframeEvent::Record(rec) => self.on_record(dir, rec),
            DeframeEvent::Sslv2ClientHello { tag, .. } => {
                let d = &mut self.dirs[dir.index()];
                d.tls = true;
                d.sslv2_hello = true;
                d.sent_client_hello = true;
                if !d.closed_before(tag) {
                    d.records += 1;
                }
                self.hello.client_hello_dir.get_or_insert(dir);
            }
            DeframeEvent::LostSync { .. } => {
                let d = &mut self.dirs[dir.index()];
                d.lost_sync += 1;
                if let Some(h) = d.handshake.as_mut() {
                    h.reset();
                }
            }
            DeframeEvent::Resync { .. } => {
                let d = &mut self.dirs[dir.index()];
                d.resyncs += 1;
                d.tls = true;
            }
            DeframeEvent::GaveUp { .. } => {}
        }
    }

    fn on_record(&mut self, dir: Dir, rec: Record<'_, SegMeta>) {
        let tls13 = self.hello.version == Some(ProtocolVersion::TLS1_3);
        let d = &mut self.dirs[dir.index()];
        d.tls = true;
        if d.closed_before(rec.tag) {
            return;
        }
        let index = d.records;
        d.records += 1;
        let ct = rec.header.content_type;
        let len = rec.header.length;
        if d.ccs && d.first_after_ccs.is_none() && ct != ContentType::CHANGE_CIPHER_SPEC {
            d.first_after_ccs = Some(index);
        }
        if d.recent.len() == RECENT_RECORDS {
            d.recent.pop_front();
        }
        d.recent.push_back(RecentRecord {
            content_type: ct,
            length: len,
            index,
            at: rec.tag,
        });

        match ct {
            ContentType::CHANGE_CIPHER_SPEC => d.ccs = true,
            ContentType::ALERT => {
                // A 2-byte alert is plaintext unless this side already
                // switched to encryption (TLS ≤ 1.2: after its CCS; TLS 1.3
                // encrypts alerts as application_data, so a type-21 record
                // is always plaintext there).
                let plaintext = len == 2 && (tls13 || !d.ccs);
                let body = match (plaintext, rec.body) {
                    (true, Some(b)) => match alert(b) {
                        Ok((_, a)) => AlertBody::Plain(a),
                        Err(_) => AlertBody::Encrypted,
                    },
                    _ => AlertBody::Encrypted,
                };
                if d.alerts.len() < MAX_ALERTS {
                    d.alerts.push(AlertEntry {
                        body,
                        index,
                        at: rec.tag,
                        data_after: None,
                    });
                } else {
                    d.alerts_dropped += 1;
                }
            }
            ContentType::HANDSHAKE if !d.ccs && !d.hello_done => {
                self.on_handshake_record(dir, rec);
            }
            ContentType::APPLICATION_DATA => {
                d.app_records += 1;
                d.app_bytes += u64::from(len);
                for a in &mut d.alerts[d.alerts_followed..] {
                    a.data_after = Some(rec.tag.frame);
                }
                d.alerts_followed = d.alerts.len();
            }
            _ => {}
        }
    }

    fn on_handshake_record(&mut self, dir: Dir, rec: Record<'_, SegMeta>) {
        let d = &mut self.dirs[dir.index()];
        let Some(body) = rec.body else {
            if let Some(h) = d.handshake.as_mut() {
                h.reset();
            }
            return;
        };
        let mut messages: Vec<(HandshakeType, Vec<u8>)> = Vec::new();
        d.handshake
            .get_or_insert_with(|| HandshakeAssembler::new(MAX_HANDSHAKE_MESSAGE))
            .push(body, &mut |t, m| {
                if t == HandshakeType::CLIENT_HELLO || t == HandshakeType::SERVER_HELLO {
                    messages.push((t, m.to_vec()));
                }
            });
        for (t, m) in messages {
            self.on_hello(dir, t, &m);
        }
    }

    fn on_hello(&mut self, dir: Dir, t: HandshakeType, body: &[u8]) {
        let d = &mut self.dirs[dir.index()];
        if t == HandshakeType::CLIENT_HELLO {
            d.sent_client_hello = true;
            d.hello_done = true;
            d.handshake = None;
            if self.hello.client_hello_dir.is_none() {
                self.hello.client_hello_dir = Some(dir);
                if let Ok(ch) = parse_client_hello(body) {
                    self.hello.sni = ch.sni;
                    self.hello.alpn_offered = ch.alpn;
                }
            }
        } else {
            d.sent_server_hello = true;
            if let Ok(sh) = parse_server_hello(body) {
                // a HelloRetryRequest is followed by the real ServerHello
                if !sh.is_hello_retry_request {
                    d.hello_done = true;
                    d.handshake = None;
                }
                self.hello.version = Some(sh.negotiated_version());
                self.hello.cipher = Some(sh.cipher_suite);
                if sh.alpn.is_some() {
                    self.hello.alpn = sh.alpn;
                }
            }
        }
    }
}

impl StreamConsumer for FlowState {
    fn segment(&mut self, dir: Dir, seg: &Segment<'_>, _meta: SegMeta) {
        if seg.flags.syn {
            self.dirs[dir.index()].syn = true;
            if !seg.flags.ack && self.syn_dir.is_none() {
                self.syn_dir = Some(dir);
            }
        }
        if seg.is_truncated() {
            self.truncated = true;
        }
    }

    fn data(&mut self, dir: Dir, stream_start_known: bool, data: &[u8], meta: SegMeta) {
        self.with_deframer(dir, stream_start_known, |df, flow| {
            df.push(data, meta, &mut |ev| flow.on_event(dir, ev));
        });
    }

    fn gap(&mut self, dir: Dir, len: u64, meta: SegMeta) {
        // a gap before any byte of this direction: the stream start is unknown
        self.with_deframer(dir, false, |df, flow| {
            df.gap(len, meta, &mut |ev| flow.on_event(dir, ev));
        });
    }

    fn fin(&mut self, dir: Dir, meta: SegMeta) {
        self.end_of_stream(dir);
        self.dirs[dir.index()].teardown.fin.get_or_insert(meta);
    }

    fn rst(&mut self, dir: Dir, meta: SegMeta) {
        self.end_of_stream(dir);
        self.dirs[dir.index()].teardown.rst.get_or_insert(meta);
    }
}

impl FlowState {
    /// Runs `f` with the direction's deframer taken out of the state, so
    /// that its events can update the rest of the flow without copies.
    fn with_deframer(
        &mut self,
        dir: Dir,
        stream_start_known: bool,
        f: impl FnOnce(&mut Deframer<SegMeta>, &mut FlowState),
    ) {
        let i = dir.index();
        let config = self.config;
        let mut df = self.dirs[i].deframer.take().unwrap_or_else(|| {
            let mode = if stream_start_known {
                StartMode::StreamStart
            } else {
                StartMode::MidStream
            };
            Box::new(Deframer::new(mode, config))
        });
        f(&mut df, self);
        if self.dirs[i].hello_done {
            df.set_want_handshake(false);
        }
        self.dirs[i].deframer = Some(df);
    }

    /// Releases records the deframer held back for verification: the end
    /// of the stream is evidence enough.
    pub(crate) fn end_of_stream(&mut self, dir: Dir) {
        if self.dirs[dir.index()].deframer.is_some() {
            self.with_deframer(dir, false, |df, flow| {
                df.finish(&mut |ev| flow.on_event(dir, ev))
            });
        }
    }
}
