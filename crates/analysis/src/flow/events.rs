//! What a deframer's events make of a flow's facts: records counted and
//! remembered, alerts, the hellos, and (with keys) decryption.

use super::facts::{AlertBody, AlertEntry, LateRecord, Name};
use super::FlowFacts;
use crate::keyed::KeyedFlow;
use tlsclose_decrypt::SessionInfo;
use tlsclose_tcp::{Dir, SegMeta};
use tlsclose_tls::{
    alert, parse_client_hello_with, parse_server_hello_with, ContentType, DeframeEvent,
    HandshakeAssembler, HandshakeType, Record, MAX_RECORD_LEN,
};

/// Largest handshake message assembled (ClientHello / ServerHello).
const MAX_HANDSHAKE_MESSAGE: usize = 1 << 16;

impl FlowFacts {
    pub(super) fn on_event(&mut self, dir: Dir, ev: DeframeEvent<'_, SegMeta>) {
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
                let h = self.rare.as_deref_mut().map(|r| dir.of_mut(&mut r.dirs));
                if let Some(h) = h.and_then(|d| d.handshake.as_mut()) {
                    h.reset();
                }
            }
            DeframeEvent::Resync { .. } => {
                dir.of_mut(&mut self.rare_mut().dirs).resyncs += 1;
                dir.of_mut(&mut self.dirs).tls = true;
            }
            DeframeEvent::GaveUp { .. } => {}
        }
    }

    fn on_record(&mut self, dir: Dir, rec: Record<'_, SegMeta>) {
        let index = self.on_record_facts(dir, rec);
        if self.keyed().is_some() {
            self.on_record_keyed(dir, &rec, index);
        }
    }

    /// The record read with keys (`index`: as counted by the keyless facts).
    #[inline(never)]
    fn on_record_keyed(&mut self, dir: Dir, rec: &Record<'_, SegMeta>, index: Option<u64>) {
        let max_alerts = self.settings.limits.max_alerts;
        let Some(k) = self.keyed_mut() else {
            return;
        };
        let was = k.keep_bodies();
        let inner = k.record(dir, rec, index, max_alerts);
        let http = k.last_http.filter(|p| p.read);
        let client = k.is_client(dir);
        let now = k.keep_bodies();
        if let (Some(inner), Some(i)) = (inner, index) {
            let d = dir.of_mut(&mut self.dirs);
            d.set_decrypted(i, inner);
            let mut none = None;
            let fin = self
                .rare
                .as_deref_mut()
                .map_or(&mut none, |r| &mut dir.of_mut(&mut r.dirs).after_peer_fin);
            for slot in [&mut d.after_peer_record, fin] {
                if let Some(p) = http {
                    // read as HTTP: a client's record that begins no
                    // request (a GOAWAY, a PING ACK, the rest of a body)
                    // is no race (docs/ENDINGS.md)
                    if let Some(l) = slot.as_mut().filter(|l| l.index == i) {
                        l.request = Some(p.request_started);
                        if client && !p.request_started {
                            *slot = None;
                        }
                    }
                }
                // an alert or a handshake message (a TLS 1.3 ticket) read
                // with keys: not a request
                if inner != ContentType::APPLICATION_DATA && slot.is_some_and(|l| l.index == i) {
                    *slot = None;
                }
            }
        }
        if was != now {
            // keys found at the ClientKeyExchange, or failed: keep what is
            // needed from now on
            self.keep_bodies(now);
        }
    }

    /// The keyless facts of a record; its index among the records counted
    /// for its direction (None after that side's own FIN/RST).
    fn on_record_facts(&mut self, dir: Dir, rec: Record<'_, SegMeta>) -> Option<u64> {
        // drafts and experiments too (ProtocolVersion::is_tls13)
        let tls13 = self.hello.version.is_some_and(|v| v.is_tls13());
        let max_alerts = self.settings.limits.max_alerts;
        if dir.of(&self.dirs).closed_before(rec.tag) {
            dir.of_mut(&mut self.dirs).tls = true;
            return None;
        }
        let peer = dir.other().of_mut(&mut self.dirs);
        let peer_fin = peer.fin().is_some();
        // a record of this side: the peer's data is no longer "after it"
        peer.after_peer_record = None;
        let d = dir.of_mut(&mut self.dirs);
        d.tls = true;
        let index = d.records;
        d.records += 1;
        let ct = rec.header.content_type;
        let len = rec.header.length;
        if d.ccs && d.first_after_ccs().is_none() && ct != ContentType::CHANGE_CIPHER_SPEC {
            d.set_first_after_ccs(index);
        }
        d.push_record(ct, len, index, rec.tag);

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
                let r = dir.of_mut(&mut self.rare_mut().dirs);
                crate::kept::keep_alert(
                    &mut r.alerts,
                    &mut r.alerts_dropped,
                    max_alerts,
                    AlertEntry {
                        body,
                        index,
                        at: rec.tag,
                        data_after: None,
                    },
                );
            }
            ContentType::HANDSHAKE if !d.ccs && !d.hello_done => {
                self.on_handshake_record(dir, rec);
            }
            ContentType::APPLICATION_DATA => {
                d.app_records += 1;
                d.app_bytes += u64::from(len);
                let late = LateRecord {
                    at: rec.tag.into(),
                    index,
                    length: len,
                    request: None,
                };
                d.after_peer_record.get_or_insert(late);
                if peer_fin {
                    dir.of_mut(&mut self.rare_mut().dirs)
                        .after_peer_fin
                        .get_or_insert(late);
                }
                if let Some(r) = self.rare.as_deref_mut() {
                    let r = dir.of_mut(&mut r.dirs);
                    for a in r.alerts.iter_mut().skip(r.alerts_followed) {
                        a.data_after = Some(rec.tag.frame);
                    }
                    r.alerts_followed = r.alerts.len();
                }
            }
            _ => {}
        }
        Some(index)
    }

    /// A plaintext handshake record before this side's hello was read.
    /// Its messages are read where they lie; a message that spans records
    /// is joined in the rare part.
    fn on_handshake_record(&mut self, dir: Dir, rec: Record<'_, SegMeta>) {
        let joining = self
            .rare
            .as_deref_mut()
            .and_then(|r| dir.of_mut(&mut r.dirs).handshake.take());
        let Some(body) = rec.body else {
            if let Some(mut h) = joining {
                h.reset();
                dir.of_mut(&mut self.rare_mut().dirs).handshake = Some(h);
            }
            return;
        };
        let mut on_message = |t: HandshakeType, m: &[u8]| {
            if t == HandshakeType::CLIENT_HELLO || t == HandshakeType::SERVER_HELLO {
                self.on_hello(dir, t, m);
            }
        };
        let joining = match joining {
            Some(mut h) => {
                h.push(body, &mut on_message);
                Some(h)
            }
            None => {
                let rest = HandshakeAssembler::whole_messages(
                    body,
                    MAX_HANDSHAKE_MESSAGE,
                    &mut on_message,
                );
                (!rest.is_empty()).then(|| {
                    let mut h = Box::new(HandshakeAssembler::new(MAX_HANDSHAKE_MESSAGE));
                    h.push(rest, &mut on_message);
                    h
                })
            }
        };
        // a read hello ends the joining (see on_hello)
        if let Some(h) = joining.filter(|_| !dir.of(&self.dirs).hello_done) {
            dir.of_mut(&mut self.rare_mut().dirs).handshake = Some(h);
        }
    }

    /// A hello of `dir` (called while its handshake record is read: the
    /// caller drops the direction's joined message once `hello_done`).
    fn on_hello(&mut self, dir: Dir, t: HandshakeType, body: &[u8]) {
        let d = dir.of_mut(&mut self.dirs);
        if t == HandshakeType::CLIENT_HELLO {
            d.sent_client_hello = true;
            d.hello_done = true;
            if self.hello.client_hello_dir.is_none() {
                self.hello.client_hello_dir = Some(dir);
                if let Ok(ch) = parse_client_hello_with(body, &self.settings.limits.hello) {
                    self.names_cut |= ch.names_cut;
                    self.hello.sni = ch.sni.map(Name::new);
                    let Some(keys) = self.settings.keys.clone() else {
                        return;
                    };
                    self.rare_mut().client_random = Some(ch.random);
                    // keys for this connection: keep the bodies to come
                    if keys.has(&ch.random) {
                        self.rare_mut().keyed = Some(Box::new(KeyedFlow::new(keys)));
                        self.keep_bodies(Some(usize::from(MAX_RECORD_LEN)));
                    }
                }
            }
        } else {
            d.sent_server_hello = true;
            if let Ok(sh) = parse_server_hello_with(body, &self.settings.limits.hello) {
                self.names_cut |= sh.names_cut;
                // a HelloRetryRequest is followed by the real ServerHello
                if !sh.is_hello_retry_request {
                    d.hello_done = true;
                }
                self.hello.version = Some(sh.negotiated_version());
                self.hello.cipher = Some(sh.cipher_suite);
                if !sh.is_hello_retry_request && self.settings.keys.is_some() {
                    self.hello.server_hello_keyed = true;
                    self.start_keys(dir, &sh);
                }
                if let Some(alpn) = sh.alpn {
                    self.hello.alpn = Some(Name::new(alpn));
                }
            }
        }
    }

    /// The ServerHello (sent in `server_dir`) is read: set up decryption
    /// when keys were given.
    fn start_keys(&mut self, server_dir: Dir, sh: &tlsclose_tls::ServerHello) {
        if self.keyed().is_none() {
            // no secrets at the ClientHello: say why, unless there are no
            // keys at all (a pcapng whose Decryption Secrets Blocks may
            // still come)
            match self.settings.keys.clone() {
                Some(keys) if !keys.is_empty() => {
                    self.rare_mut().keyed = Some(Box::new(KeyedFlow::new(keys)))
                }
                _ => return,
            }
        }
        let client_random = self.rare().and_then(|r| r.client_random);
        let client_dir = self.hello.client_hello_dir.unwrap_or(server_dir.other());
        let Some(k) = self.keyed_mut() else {
            return;
        };
        let session = client_random.map(|client_random| SessionInfo {
            version: sh.negotiated_version(),
            cipher_suite: sh.cipher_suite,
            client_random,
            server_random: sh.random,
            encrypt_then_mac: sh.encrypt_then_mac,
        });
        k.hello_alpn.clone_from(&sh.alpn);
        k.start(session, client_dir, sh.extended_master_secret);
        // keep what the decrypters need from now on
        let keep = k.keep_bodies();
        self.keep_bodies(keep);
    }
}
