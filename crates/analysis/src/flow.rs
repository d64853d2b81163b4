//! Per-flow state: a record deframer per direction and the bounded facts
//! the verdict is computed from.

use crate::keyed::{KeyStore, KeyedFlow};
use crate::report::KeyNote;
use tlsclose_capture::Segment;
use tlsclose_decrypt::SessionInfo;
use tlsclose_tcp::{Dir, SegMeta, StreamConsumer};
use tlsclose_tls::{
    alert, parse_client_hello_with, parse_server_hello_with, Alert, CipherSuite, ContentType,
    DeframeEvent, Deframer, DeframerConfig, HandshakeAssembler, HandshakeType, HelloLimits,
    ProtocolVersion, Record, StartMode, MAX_RECORD_LEN,
};

/// Most alerts kept per direction by default; more are counted, not kept.
pub const MAX_ALERTS: usize = 32;

/// What one flow keeps at most (hostile traffic may send thousands of
/// alerts or a hello with 64 KiB names); what is beyond is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowLimits {
    /// Alerts kept per direction.
    pub max_alerts: usize,
    /// Names kept from the hellos (SNI, ALPN).
    pub hello: HelloLimits,
}

impl Default for FlowLimits {
    fn default() -> Self {
        FlowLimits {
            max_alerts: MAX_ALERTS,
            hello: HelloLimits::default(),
        }
    }
}
/// Records remembered per direction for the ending ladder and idle time.
pub(crate) const RECENT_RECORDS: usize = 4;
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
    /// The content type read with keys (TLS 1.3: the inner one).
    pub decrypted: Option<ContentType>,
    pub length: u16,
    pub index: u64,
    pub at: SegMeta,
}

/// The last [`RECENT_RECORDS`] records of a direction, oldest first, kept
/// inline: one of these lives in every flow, idle ones included, so it
/// costs no allocation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Recent {
    ring: [RecentRecord; RECENT_RECORDS],
    /// Records pushed so far (the newest is at `(pushed - 1) % N`).
    pushed: u64,
}

impl Default for Recent {
    fn default() -> Self {
        let empty = RecentRecord {
            content_type: ContentType(0),
            decrypted: None,
            length: 0,
            index: 0,
            at: SegMeta::default(),
        };
        Recent {
            ring: [empty; RECENT_RECORDS],
            pushed: 0,
        }
    }
}

impl Recent {
    fn slot(i: u64) -> usize {
        (i % RECENT_RECORDS as u64) as usize
    }

    pub fn push(&mut self, r: RecentRecord) {
        if let Some(s) = self.ring.get_mut(Self::slot(self.pushed)) {
            *s = r;
        }
        self.pushed += 1;
    }

    pub fn back(&self) -> Option<&RecentRecord> {
        self.pushed
            .checked_sub(1)
            .and_then(|i| self.ring.get(Self::slot(i)))
    }

    pub fn back_mut(&mut self) -> Option<&mut RecentRecord> {
        self.pushed
            .checked_sub(1)
            .and_then(|i| self.ring.get_mut(Self::slot(i)))
    }

    /// Oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &RecentRecord> + '_ {
        let first = self.pushed.saturating_sub(RECENT_RECORDS as u64);
        (first..self.pushed).filter_map(|i| self.ring.get(Self::slot(i)))
    }
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

/// An application-data record remembered for the keep-alive race.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LateRecord {
    pub at: SegMeta,
    pub index: u64,
    pub length: u16,
    /// Read with keys as HTTP: whether it began a request (None: not read).
    pub request: Option<bool>,
}

/// Application data a direction sent while the peer was silent or closed:
/// what a keep-alive race is made of (a request on a connection the peer
/// had already closed). Two slots, so it costs no allocation.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct LateData {
    /// The first application-data record of this direction since the
    /// peer's latest record (a peer record empties it).
    pub after_peer_record: Option<LateRecord>,
    /// The first application-data record of this direction after the
    /// peer's first FIN.
    pub after_peer_fin: Option<LateRecord>,
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
    pub recent: Recent,
    pub late: LateData,
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
            recent: Recent::default(),
            late: LateData::default(),
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
    /// What the record keys depend on (read only when keys were given).
    pub client_random: Option<[u8; 32]>,
    pub server_random: Option<[u8; 32]>,
    pub encrypt_then_mac: bool,
}

/// The per-flow state machine (see the crate docs).
#[derive(Debug)]
pub struct FlowState {
    pub(crate) dirs: [DirFacts; 2],
    pub(crate) hello: HelloFacts,
    /// Direction of the first SYN without ACK.
    pub(crate) syn_dir: Option<Dir>,
    pub(crate) truncated: bool,
    /// A hello's SNI or ALPN was longer than the limits: what is kept was cut.
    pub(crate) names_cut: bool,
    /// The limit on bytes held over all flows made this flow drop its
    /// partial hello and record bodies.
    pub(crate) buffers_shed: bool,
    config: DeframerConfig,
    /// `keep_body_max` as configured (raised for flows with keys).
    configured_keep: usize,
    /// The run's secrets; None when no keys were given (then nothing of
    /// decryption runs).
    keys: Option<KeyStore>,
    /// Decryption of this flow, set up once the key log has something for
    /// it (or at the ServerHello, to say that it has not).
    pub(crate) keyed: Option<Box<KeyedFlow>>,
    limits: FlowLimits,
}

impl FlowState {
    pub fn new(config: DeframerConfig) -> Self {
        Self::with_limits(config, FlowLimits::default())
    }

    pub fn with_limits(config: DeframerConfig, limits: FlowLimits) -> Self {
        FlowState {
            dirs: [DirFacts::new(), DirFacts::new()],
            hello: HelloFacts::default(),
            syn_dir: None,
            truncated: false,
            names_cut: false,
            buffers_shed: false,
            config,
            configured_keep: config.keep_body_max,
            keys: None,
            keyed: None,
            limits,
        }
    }

    /// The same flow with other limits on what it keeps.
    pub fn limited(mut self, limits: FlowLimits) -> Self {
        self.limits = limits;
        self
    }

    /// A flow whose records are read with `keys` when they hold its secrets.
    pub fn with_keys(config: DeframerConfig, keys: Option<KeyStore>) -> Self {
        FlowState {
            keys,
            ..FlowState::new(config)
        }
    }

    /// Why keys that were given did not serve this flow although its hellos
    /// were never read (a capture cut short, a snapshot length): a note.
    pub(crate) fn keys_unused(&self) -> Option<KeyNote> {
        match (&self.keys, &self.keyed) {
            (Some(keys), None) if !keys.is_empty() && self.hello.server_random.is_none() => {
                Some(KeyNote::HellosNotRead)
            }
            _ => None,
        }
    }

    /// Keep whole record bodies from now on (keys were found for this
    /// flow), or go back to the configured limit.
    fn keep_bodies(&mut self, keep: Option<usize>) {
        let configured = self.configured_keep;
        let max = keep.map_or(configured, |k| k.max(configured));
        self.config.keep_body_max = max;
        for d in &mut self.dirs {
            if let Some(df) = d.deframer.as_mut() {
                df.set_keep_body_max(max);
            }
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
            DeframeEvent::TlsStart { .. } => dir.of_mut(&mut self.dirs).tls = true,
            DeframeEvent::Record(rec) => self.on_record(dir, rec),
            DeframeEvent::Sslv2ClientHello { tag, .. } => {
                let d = dir.of_mut(&mut self.dirs);
                d.tls = true;
                d.sslv2_hello = true;
                d.sent_client_hello = true;
                if !d.closed_before(tag) {
                    d.records += 1;
                }
                self.hello.client_hello_dir.get_or_insert(dir);
            }
            DeframeEvent::LostSync { .. } => {
                let d = dir.of_mut(&mut self.dirs);
                d.lost_sync += 1;
                if let Some(h) = d.handshake.as_mut() {
                    h.reset();
                }
            }
            DeframeEvent::Resync { .. } => {
                let d = dir.of_mut(&mut self.dirs);
                d.resyncs += 1;
                d.tls = true;
            }
            DeframeEvent::GaveUp { .. } => {}
        }
    }

    fn on_record(&mut self, dir: Dir, rec: Record<'_, SegMeta>) {
        let index = self.on_record_facts(dir, rec);
        if self.keyed.is_some() {
            self.on_record_keyed(dir, &rec, index);
        }
    }

    /// The record read with keys (`index`: as counted by the keyless facts).
    #[inline(never)]
    fn on_record_keyed(&mut self, dir: Dir, rec: &Record<'_, SegMeta>, index: Option<u64>) {
        let max_alerts = self.limits.max_alerts;
        if let Some(k) = self.keyed.as_mut() {
            let was = k.keep_bodies();
            let inner = k.record(dir, rec, index, max_alerts);
            let http = k.last_http.filter(|p| p.read);
            let client = k.is_client(dir);
            if let (Some(inner), Some(i)) = (inner, index) {
                let d = dir.of_mut(&mut self.dirs);
                if let Some(r) = d.recent.back_mut().filter(|r| r.index == i) {
                    r.decrypted = Some(inner);
                }
                if let Some(p) = http {
                    // read as HTTP: a client's record that begins no
                    // request (a GOAWAY, a PING ACK, the rest of a body)
                    // is no race (docs/ENDINGS.md)
                    for slot in [&mut d.late.after_peer_record, &mut d.late.after_peer_fin] {
                        if let Some(l) = slot.as_mut().filter(|l| l.index == i) {
                            l.request = Some(p.request_started);
                            if client && !p.request_started {
                                *slot = None;
                            }
                        }
                    }
                }
                if inner != ContentType::APPLICATION_DATA {
                    // an alert or a handshake message (a TLS 1.3 ticket)
                    // read with keys: not a request
                    for slot in [&mut d.late.after_peer_record, &mut d.late.after_peer_fin] {
                        if slot.is_some_and(|l| l.index == i) {
                            *slot = None;
                        }
                    }
                }
            }
            let now = k.keep_bodies();
            if was != now {
                // keys found at the ClientKeyExchange, or failed: keep
                // what is needed from now on
                self.keep_bodies(now);
            }
        }
    }

    /// The keyless facts of a record; its index among the records counted
    /// for its direction (None after that side's own FIN/RST).
    fn on_record_facts(&mut self, dir: Dir, rec: Record<'_, SegMeta>) -> Option<u64> {
        // drafts and experiments too (ProtocolVersion::is_tls13)
        let tls13 = self.hello.version.is_some_and(|v| v.is_tls13());
        let max_alerts = self.limits.max_alerts;
        if dir.of(&self.dirs).closed_before(rec.tag) {
            dir.of_mut(&mut self.dirs).tls = true;
            return None;
        }
        let peer_fin = dir.other().of(&self.dirs).teardown.fin.is_some();
        // a record of this side: the peer's data is no longer "after it"
        dir.other().of_mut(&mut self.dirs).late.after_peer_record = None;
        let d = dir.of_mut(&mut self.dirs);
        d.tls = true;
        let index = d.records;
        d.records += 1;
        let ct = rec.header.content_type;
        let len = rec.header.length;
        if d.ccs && d.first_after_ccs.is_none() && ct != ContentType::CHANGE_CIPHER_SPEC {
            d.first_after_ccs = Some(index);
        }
        d.recent.push(RecentRecord {
            content_type: ct,
            decrypted: None,
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
                if d.alerts.len() < max_alerts {
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
                let late = LateRecord {
                    at: rec.tag,
                    index,
                    length: len,
                    request: None,
                };
                d.late.after_peer_record.get_or_insert(late);
                if peer_fin {
                    d.late.after_peer_fin.get_or_insert(late);
                }
                for a in d.alerts.iter_mut().skip(d.alerts_followed) {
                    a.data_after = Some(rec.tag.frame);
                }
                d.alerts_followed = d.alerts.len();
            }
            _ => {}
        }
        Some(index)
    }

    fn on_handshake_record(&mut self, dir: Dir, rec: Record<'_, SegMeta>) {
        let d = dir.of_mut(&mut self.dirs);
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
        let d = dir.of_mut(&mut self.dirs);
        if t == HandshakeType::CLIENT_HELLO {
            d.sent_client_hello = true;
            d.hello_done = true;
            d.handshake = None;
            if self.hello.client_hello_dir.is_none() {
                self.hello.client_hello_dir = Some(dir);
                if let Ok(ch) = parse_client_hello_with(body, &self.limits.hello) {
                    self.names_cut |= ch.names_cut;
                    self.hello.sni = ch.sni;
                    self.hello.alpn_offered = ch.alpn;
                    if self.keys.is_some() {
                        self.hello.client_random = Some(ch.random);
                    }
                    // keys for this connection: keep the bodies to come
                    if let Some(keys) = self.keys.as_ref().filter(|k| k.has(&ch.random)) {
                        self.keyed = Some(Box::new(KeyedFlow::new(keys.clone())));
                        self.keep_bodies(Some(usize::from(MAX_RECORD_LEN)));
                    }
                }
            }
        } else {
            d.sent_server_hello = true;
            if let Ok(sh) = parse_server_hello_with(body, &self.limits.hello) {
                self.names_cut |= sh.names_cut;
                // a HelloRetryRequest is followed by the real ServerHello
                if !sh.is_hello_retry_request {
                    d.hello_done = true;
                    d.handshake = None;
                }
                self.hello.version = Some(sh.negotiated_version());
                self.hello.cipher = Some(sh.cipher_suite);
                if !sh.is_hello_retry_request && self.keys.is_some() {
                    self.hello.server_random = Some(sh.random);
                    self.hello.encrypt_then_mac = sh.encrypt_then_mac;
                    self.start_keys(dir, &sh);
                }
                if sh.alpn.is_some() {
                    self.hello.alpn = sh.alpn;
                }
            }
        }
    }
}

impl FlowState {
    /// The ServerHello (sent in `server_dir`) is read: set up decryption
    /// when keys were given.
    fn start_keys(&mut self, server_dir: Dir, sh: &tlsclose_tls::ServerHello) {
        if self.keyed.is_none() {
            // no secrets at the ClientHello: say why, unless there are no
            // keys at all (a pcapng whose Decryption Secrets Blocks may
            // still come)
            match self.keys.as_ref() {
                Some(keys) if !keys.is_empty() => {
                    self.keyed = Some(Box::new(KeyedFlow::new(keys.clone())))
                }
                _ => return,
            }
        }
        let Some(k) = self.keyed.as_mut() else {
            return;
        };
        let session = self.hello.client_random.map(|client_random| SessionInfo {
            version: sh.negotiated_version(),
            cipher_suite: sh.cipher_suite,
            client_random,
            server_random: sh.random,
            encrypt_then_mac: sh.encrypt_then_mac,
        });
        let client_dir = self.hello.client_hello_dir.unwrap_or(server_dir.other());
        k.hello_alpn.clone_from(&sh.alpn);
        k.start(session, client_dir, sh.extended_master_secret);
        // keep what the decrypters need from now on
        let keep = k.keep_bodies();
        self.keep_bodies(keep);
    }
}

impl StreamConsumer for FlowState {
    fn buffered(&self) -> usize {
        self.dirs
            .iter()
            .map(|d| {
                d.deframer.as_ref().map_or(0, |df| df.buffered())
                    + d.handshake.as_ref().map_or(0, |h| h.buffered())
            })
            .sum()
    }

    /// Drops partial hellos and kept record bodies; the hellos are not
    /// looked for any more. Flows read with keys keep what decryption
    /// needs (only a key log makes a flow keyed, not the traffic).
    fn shed(&mut self) {
        if self.keyed.is_some() || self.buffered() == 0 {
            return;
        }
        self.buffers_shed = true;
        for d in &mut self.dirs {
            d.handshake = None;
            d.hello_done = true;
            if let Some(df) = d.deframer.as_mut() {
                df.set_want_handshake(false);
                df.drop_kept_bodies();
            }
        }
    }

    fn segment(&mut self, dir: Dir, seg: &Segment<'_>, _meta: SegMeta) {
        if seg.flags.syn {
            dir.of_mut(&mut self.dirs).syn = true;
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
        dir.of_mut(&mut self.dirs).teardown.fin.get_or_insert(meta);
    }

    fn rst(&mut self, dir: Dir, meta: SegMeta) {
        self.end_of_stream(dir);
        dir.of_mut(&mut self.dirs).teardown.rst.get_or_insert(meta);
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
        let config = self.config;
        let mut df = dir
            .of_mut(&mut self.dirs)
            .deframer
            .take()
            .unwrap_or_else(|| {
                let mode = if stream_start_known {
                    StartMode::StreamStart
                } else {
                    StartMode::MidStream
                };
                Box::new(Deframer::new(mode, config))
            });
        f(&mut df, self);
        if self.keyed.is_some() {
            df.set_keep_body_max(self.config.keep_body_max);
        }
        if dir.of(&self.dirs).hello_done {
            // a flow read with keys keeps handshake bodies: a TLS 1.2
            // renegotiation's hellos come encrypted, after the first ones
            df.set_want_handshake(self.keyed.as_deref().is_some_and(KeyedFlow::decrypted));
        }
        dir.of_mut(&mut self.dirs).deframer = Some(df);
    }

    /// Releases records the deframer held back for verification: the end
    /// of the stream is evidence enough.
    pub(crate) fn end_of_stream(&mut self, dir: Dir) {
        if dir.of(&self.dirs).deframer.is_some() {
            self.with_deframer(dir, false, |df, flow| {
                df.finish(&mut |ev| flow.on_event(dir, ev))
            });
        }
    }
}
