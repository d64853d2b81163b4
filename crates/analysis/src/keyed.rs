//! Reading a flow's records with keys (SSLKEYLOGFILE key logs, pcapng
//! Decryption Secrets Blocks): the facts the keyed verdict is computed
//! from, kept beside the keyless ones.
//!
//! Each direction stands on its own. A record that does not decrypt (a
//! middlebox corrupted it; the peer then answers bad_record_mac) costs that
//! record only: it is reported as a note with its frame, and the records
//! after it are read at the next sequence numbers. A direction whose keys
//! never fit (a wrong key log), that fails [`MAX_FAILURES_IN_A_ROW`] records
//! in a row, or that changes keys without the key log knowing the new ones
//! (a renegotiation whose client random was not logged) goes back to
//! keyless inference; the other direction keeps its decrypted facts.
//!
//! TLS 1.2 renegotiation: the second handshake travels encrypted under the
//! first keys. Its ClientHello and ServerHello are read from the decrypted
//! handshake records; the keys of the new client random take over at each
//! side's next ChangeCipherSpec.
//!
//! Nothing here runs when no keys were given: a flow then has no
//! [`KeyedFlow`] at all.

use crate::report::{AfterFailure, BlindWhy, KeyNote, KeyUnusable, Role};
use tlsclose_decrypt::{
    master_secret, session_hash, RecordDecrypter, RecordError, Secret, Secrets, SessionInfo, Side,
    MAX_FAILURES_IN_A_ROW,
};
use tlsclose_http::{HttpReader, Pushed, Side as HttpSide};
use tlsclose_tcp::{Dir, SegMeta};
use tlsclose_tls::{
    Alert, ContentType, HandshakeAssembler, HandshakeType, ProtocolVersion, Record, MAX_RECORD_LEN,
};

mod handshake;
mod store;
use handshake::{decrypted_handshake, encrypted_extensions, RenegotiationHello};
pub use store::KeyStore;

/// Most handshake bytes kept to hash for an extended master secret (from a
/// logged pre-master secret): ClientHello through ClientKeyExchange.
const MAX_TRANSCRIPT: usize = 1 << 16;

/// Bodies kept for TLS 1.1/1.2 flows with keys: enough for any alert or
/// Finished record, whatever the protection.
const KEEP_SMALL_RECORDS: usize = 512;

/// Where decryption of a flow stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyStatus {
    /// The hellos were not both seen yet.
    Waiting,
    /// TLS ≤ 1.2 with a pre-master secret (`PMS_CLIENT_RANDOM`, or an
    /// `RSA` line to match): the master secret is derived at the
    /// ClientKeyExchange.
    AwaitingKeyExchange(Box<Pending>),
    /// Decrypters were set up; each direction says how far they got.
    Decrypting,
    /// The keys cannot be used for this flow: why, as a report note.
    Unusable(KeyUnusable),
}

/// What a master secret from a pre-master secret waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pending {
    session: SessionInfo,
    client_dir: Dir,
    extended_master_secret: bool,
    /// From `PMS_CLIENT_RANDOM`; else an `RSA` line is looked for.
    pre_master: Option<Secret>,
}

/// A record that did not decrypt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub frame: u64,
    pub error: RecordError,
}

/// Why a direction is no longer read with keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Blind {
    /// Too many records in a row did not decrypt, or a renegotiation
    /// brought keys the key log does not have: from this frame on.
    Since { frame: u64, why: BlindWhy },
}

/// An alert read with keys (or in plaintext, once keys were set up).
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyedAlert {
    pub alert: Alert,
    /// Index of the record among this direction's records.
    pub index: u64,
    pub at: SegMeta,
    /// Frame of the first application data of the same direction after it.
    pub data_after: Option<u64>,
}

/// What one direction's decrypted records say.
#[derive(Debug, Default)]
pub(crate) struct KeyedDir {
    decrypter: Option<RecordDecrypter>,
    pub alerts: Vec<KeyedAlert>,
    pub alerts_dropped: u64,
    alerts_followed: usize,
    /// Records that should have been decrypted but whose body was not
    /// captured (a gap): they may have been anything.
    pub lost: u64,
    /// The last counted record of this direction was such a lost one, or
    /// one that did not decrypt.
    pub lost_last: bool,
    pub decrypted: u64,
    /// TLS 1.3 handshake records not read because the key log has only
    /// the application traffic secrets.
    pub handshake_unkeyed: u64,
    /// Records that did not decrypt, and the first of them.
    pub failed: u64,
    pub first_failure: Option<Failure>,
    /// Set when this direction stopped being read with keys.
    pub blind: Option<Blind>,
    /// Decrypted handshake messages: TLS ≤ 1.2, a renegotiation's hellos;
    /// TLS 1.3, up to the EncryptedExtensions (or this side's Finished).
    handshake: Option<Box<HandshakeAssembler>>,
    /// TLS 1.3: this side's EncryptedExtensions or Finished was read; its
    /// handshake is no longer joined.
    handshake_read: bool,
    /// Keys of a renegotiated handshake, for this side's next
    /// ChangeCipherSpec.
    next: Option<RecordDecrypter>,
    /// Why a renegotiation's keys are not there, for this side's next
    /// ChangeCipherSpec.
    next_missing: Option<BlindWhy>,
    /// Handshakes renegotiated with keys from the key log.
    pub renegotiations: u64,
}

impl KeyedDir {
    /// Application data of this direction: it follows the alerts before it.
    fn data_seen(&mut self, frame: u64) {
        for a in self.alerts.iter_mut().skip(self.alerts_followed) {
            a.data_after = Some(frame);
        }
        self.alerts_followed = self.alerts.len();
    }

    /// The verdict can use this direction's decrypted facts: it was read
    /// with keys to the end, and the keys fitted at least once (a direction
    /// where every record failed had the wrong keys).
    pub fn readable(&self) -> bool {
        self.blind.is_none() && self.decrypter.is_some() && (self.decrypted > 0 || self.failed == 0)
    }

    /// Stop reading this direction with keys.
    fn go_blind(&mut self, frame: u64, why: BlindWhy) {
        self.decrypter = None;
        self.next = None;
        self.handshake = None;
        if self.blind.is_none() {
            self.blind = Some(Blind::Since { frame, why });
        }
    }

    /// A record of this side did not decrypt (`counted`: it is among the
    /// records the verdict looks at).
    fn failed_record(&mut self, frame: u64, error: RecordError, counted: bool) {
        if counted {
            self.lost_last = true;
        }
        if error == RecordError::HandshakeKeysNotLogged {
            self.handshake_unkeyed += 1;
            return;
        }
        self.failed += 1;
        if let Some(h) = self.handshake.as_mut() {
            h.reset();
        }
        let gave_up = self
            .decrypter
            .as_ref()
            .is_some_and(RecordDecrypter::gave_up);
        let why = match &error {
            RecordError::Renegotiated => Some(BlindWhy::RenegotiatedUnknownKeys),
            _ if gave_up => Some(BlindWhy::FailuresInARow(MAX_FAILURES_IN_A_ROW)),
            _ => None,
        };
        if self.first_failure.is_none() {
            self.first_failure = Some(Failure { frame, error });
        }
        if let Some(why) = why {
            self.go_blind(frame, why);
        }
    }
}

/// Decryption state of one flow.
#[derive(Debug)]
pub(crate) struct KeyedFlow {
    store: KeyStore,
    pub status: KeyStatus,
    /// Indexed by [`Dir::index`].
    pub dirs: [KeyedDir; 2],
    /// The random of a renegotiation's ClientHello, until its ServerHello.
    pending_client_random: Option<[u8; 32]>,
    /// The handshake messages so far (ClientHello on), while a master
    /// secret may have to be derived from a pre-master secret; `None` once
    /// not needed or too long.
    transcript: Option<Vec<u8>>,
    /// Bytes of `transcript` already walked message by message.
    transcript_walked: usize,
    /// TLS 1.3: the ALPN protocol of the server's EncryptedExtensions
    /// (read with keys; TLS ≤ 1.2 has it in the plaintext ServerHello).
    pub alpn: Option<String>,
    /// The ServerHello's ALPN protocol (TLS ≤ 1.2).
    pub hello_alpn: Option<String>,
    /// The client's direction, once the decrypters are set up.
    client_dir: Option<Dir>,
    /// The HTTP read from the decrypted application data (docs/ENDINGS.md,
    /// "Why it closed"); made at the first application data.
    pub http: Option<Box<HttpReader>>,
    /// What the HTTP reader made of the last record given to
    /// [`record`](Self::record) (None: it read nothing of it).
    pub last_http: Option<Pushed>,
}

impl KeyedFlow {
    pub fn new(store: KeyStore) -> KeyedFlow {
        KeyedFlow {
            store,
            status: KeyStatus::Waiting,
            dirs: [KeyedDir::default(), KeyedDir::default()],
            pending_client_random: None,
            transcript: Some(Vec::new()),
            transcript_walked: 0,
            alpn: None,
            hello_alpn: None,
            client_dir: None,
            http: None,
            last_http: None,
        }
    }

    /// The hellos are read: set up a decrypter per direction (or say why
    /// not, or wait for the ClientKeyExchange when only a pre-master secret
    /// is known).
    pub fn start(
        &mut self,
        session: Option<SessionInfo>,
        client_dir: Dir,
        extended_master_secret: bool,
    ) {
        if self.status != KeyStatus::Waiting {
            return;
        }
        let Some(session) = session else {
            self.transcript = None;
            self.status = KeyStatus::Unusable(KeyUnusable::NoClientHello);
            return;
        };
        let secrets = self.store.lookup(&session.client_random);
        let tls12 = session.version != ProtocolVersion::TLS1_3;
        let master = secrets.as_ref().is_some_and(|s| s.master_secret.is_some());
        let pre_master = secrets.as_ref().and_then(|s| s.pre_master_secret.clone());
        if tls12 && !master && (pre_master.is_some() || self.store.has_rsa()) {
            // the transcript is walked for the ClientKeyExchange (and
            // hashed with extended_master_secret)
            self.status = KeyStatus::AwaitingKeyExchange(Box::new(Pending {
                session,
                client_dir,
                extended_master_secret,
                pre_master,
            }));
            return;
        }
        self.transcript = None;
        let Some(secrets) = secrets else {
            self.status = KeyStatus::Unusable(KeyUnusable::NoSecrets);
            return;
        };
        self.set_up(&session, &secrets, client_dir);
    }

    fn set_up(&mut self, session: &SessionInfo, secrets: &Secrets, client_dir: Dir) {
        let make = |side| RecordDecrypter::new(session, secrets, side);
        match (make(Side::Client), make(Side::Server)) {
            (Ok(client), Ok(server)) => {
                client_dir.of_mut(&mut self.dirs).decrypter = Some(client);
                client_dir.other().of_mut(&mut self.dirs).decrypter = Some(server);
                self.status = KeyStatus::Decrypting;
                self.client_dir = Some(client_dir);
            }
            (Err(e), _) | (_, Err(e)) => self.status = KeyStatus::Unusable(KeyUnusable::Setup(e)),
        }
    }

    /// A plaintext handshake record before the keys are known: kept for the
    /// extended master secret's hash, and walked for the ClientKeyExchange.
    fn handshake_before_keys(&mut self, body: &[u8]) {
        let Some(t) = self.transcript.as_mut() else {
            return;
        };
        if t.len() + body.len() > MAX_TRANSCRIPT {
            self.transcript = None;
            return;
        }
        t.extend_from_slice(body);
        if !matches!(self.status, KeyStatus::AwaitingKeyExchange(_)) {
            return;
        }
        // walk whole messages: type, 24-bit length, body
        while let Some(&[ty, l0, l1, l2]) =
            t.get(self.transcript_walked..self.transcript_walked + 4)
        {
            let len = usize::from(l0) << 16 | usize::from(l1) << 8 | usize::from(l2);
            let start = self.transcript_walked + 4;
            let Some(msg) = t.get(start..start + len) else {
                return;
            };
            self.transcript_walked = start + len;
            if HandshakeType(ty) == HandshakeType::CLIENT_KEY_EXCHANGE {
                let msg = msg.to_vec();
                let end = self.transcript_walked;
                self.key_exchange(&msg, end);
                return;
            }
        }
    }

    /// The ClientKeyExchange (its body; the transcript's first `end` bytes
    /// run through it): derive the master secret.
    fn key_exchange(&mut self, cke: &[u8], end: usize) {
        let KeyStatus::AwaitingKeyExchange(p) = &self.status else {
            return;
        };
        let p = (**p).clone();
        let transcript = self.transcript.take();
        // RSA: the encrypted pre-master secret, after its 2-byte length
        let pre_master = p
            .pre_master
            .clone()
            .or_else(|| self.store.lookup_rsa(cke.get(2..).unwrap_or(&[])));
        let Some(pre_master) = pre_master else {
            self.status = KeyStatus::Unusable(KeyUnusable::NoSecrets);
            return;
        };
        let hash = match (p.extended_master_secret, transcript) {
            (false, _) => None,
            (true, Some(t)) => match session_hash(&p.session, t.get(..end).unwrap_or(&t)) {
                Ok(h) => Some(h),
                Err(e) => {
                    self.status = KeyStatus::Unusable(KeyUnusable::Setup(e));
                    return;
                }
            },
            (true, None) => {
                self.status = KeyStatus::Unusable(KeyUnusable::EmsTranscriptNotRead);
                return;
            }
        };
        match master_secret(&p.session, pre_master.as_bytes(), hash.as_deref()) {
            Ok(master) => {
                let secrets = Secrets {
                    master_secret: Some(master),
                    ..Secrets::default()
                };
                self.set_up(&p.session, &secrets, p.client_dir);
            }
            Err(e) => self.status = KeyStatus::Unusable(KeyUnusable::Setup(e)),
        }
    }

    /// Largest record body to keep now: while decrypting, what the
    /// decrypters need; while waiting for the ClientKeyExchange, every
    /// body; otherwise `None` (the configured limit).
    pub fn keep_bodies(&self) -> Option<usize> {
        match self.status {
            KeyStatus::Decrypting if self.decrypted() => Some(self.keep_body_max()),
            KeyStatus::Waiting | KeyStatus::AwaitingKeyExchange(_) => {
                Some(usize::from(MAX_RECORD_LEN))
            }
            _ => None,
        }
    }

    /// The next record of `dir` (`index`: its place among the direction's
    /// counted records; None for records after that side's FIN/RST, which
    /// are read only to keep the sequence numbers). Returns the content
    /// type it was read as, when it was decrypted.
    pub fn record(
        &mut self,
        dir: Dir,
        rec: &Record<'_, SegMeta>,
        index: Option<u64>,
        max_alerts: usize,
    ) -> Option<ContentType> {
        let ct = rec.header.content_type;
        self.last_http = None;
        if self.status != KeyStatus::Decrypting {
            match (ct, rec.body) {
                (ContentType::HANDSHAKE, Some(body)) => self.handshake_before_keys(body),
                (ContentType::HANDSHAKE, None) => self.transcript = None,
                (ContentType::CHANGE_CIPHER_SPEC, _)
                    if matches!(self.status, KeyStatus::AwaitingKeyExchange(_)) =>
                {
                    self.transcript = None;
                    self.status = KeyStatus::Unusable(KeyUnusable::KeyExchangeNotRead);
                }
                _ => {}
            }
            return None;
        }
        let d = dir.of_mut(&mut self.dirs);
        let dec = d.decrypter.as_mut()?;
        let Some(body) = rec.body else {
            let protected = dec.is_protected(ct);
            // TLS ≤ 1.2 application data whose body was not kept: its type
            // is on the wire, its content is not needed
            let skipped = protected
                && !rec.damaged
                && ct == ContentType::APPLICATION_DATA
                && dec.skip_record();
            // a body not captured (a gap) still took its sequence number
            let lost = protected && !skipped;
            if lost {
                dec.record_lost();
                d.lost += 1;
            }
            if lost || (skipped && ct == ContentType::APPLICATION_DATA) {
                // a hole in the plaintext: its HTTP is read no further (a
                // record is skipped only once the reader wants no more)
                let side = self.http_side(dir);
                if let (Some(h), Some(side)) = (self.http.as_mut(), side) {
                    h.lost(side);
                }
            }
            let d = dir.of_mut(&mut self.dirs);
            if index.is_some() && (lost || skipped) {
                d.lost_last = lost;
                if skipped {
                    d.data_seen(rec.tag.frame);
                }
            }
            if ct == ContentType::CHANGE_CIPHER_SPEC {
                d.change_cipher_spec(rec.tag.frame);
            }
            return None;
        };
        let mut hello = None;
        let mut alpn = None;
        let tls13 = dec.is_tls13();
        let http_side = match self.client_dir {
            Some(c) if c == dir => Some(HttpSide::Client),
            Some(_) => Some(HttpSide::Server),
            None => None,
        };
        let read = match dec.decrypt(ct, rec.header.version, body) {
            Ok(p) => {
                if p.encrypted && p.content_type == ContentType::APPLICATION_DATA && index.is_some()
                {
                    if let Some(side) = http_side {
                        let h = self.http.get_or_insert_with(|| {
                            let alpn = self.alpn.as_deref().or(self.hello_alpn.as_deref());
                            Box::new(HttpReader::new(alpn))
                        });
                        self.last_http = Some(h.push(side, p.data, rec.tag.frame));
                    }
                }
                if p.encrypted && p.content_type == ContentType::HANDSHAKE {
                    if !tls13 {
                        hello = decrypted_handshake(&mut d.handshake, p.data);
                    } else if !d.handshake_read {
                        alpn =
                            encrypted_extensions(&mut d.handshake, p.data, &mut d.handshake_read);
                    }
                }
                Ok((p.content_type, p.encrypted, p.alert()))
            }
            Err(e) => Err(e),
        };
        if let Some(dec) = d.decrypter.as_mut() {
            dec.release_buffer();
        }
        if ct == ContentType::CHANGE_CIPHER_SPEC {
            d.change_cipher_spec(rec.tag.frame);
        }
        if let Some(hello) = hello {
            self.renegotiation_hello(dir, hello);
        }
        if self.alpn.is_none() {
            self.alpn = alpn;
        }
        let d = dir.of_mut(&mut self.dirs);
        match read {
            Err(error) => {
                d.failed_record(rec.tag.frame, error, index.is_some());
                if let (Some(h), Some(side)) = (self.http.as_mut(), http_side) {
                    h.lost(side);
                }
                None
            }
            Ok((inner, encrypted, alert)) => {
                if encrypted {
                    d.decrypted += 1;
                }
                let index = index?;
                d.lost_last = false;
                match inner {
                    ContentType::ALERT => {
                        if let Some(alert) = alert {
                            crate::kept::keep_alert(
                                &mut d.alerts,
                                &mut d.alerts_dropped,
                                max_alerts,
                                KeyedAlert {
                                    alert,
                                    index,
                                    at: rec.tag,
                                    data_after: None,
                                },
                            );
                        }
                    }
                    ContentType::APPLICATION_DATA => d.data_seen(rec.tag.frame),
                    _ => {}
                }
                encrypted.then_some(inner)
            }
        }
    }

    /// Largest record body worth keeping for this flow: every body when
    /// each record must be decrypted (TLS 1.3, TLS 1.0 CBC), otherwise only
    /// bodies that can be alerts or Finished (application data of TLS 1.1
    /// and 1.2 is known by its type on the wire).
    pub fn keep_body_max(&self) -> usize {
        let every = self
            .dirs
            .iter()
            .filter_map(|d| d.decrypter.as_ref())
            .any(RecordDecrypter::needs_every_body);
        if every || self.http_wants() {
            usize::from(MAX_RECORD_LEN)
        } else {
            // an alert or Finished: IV + content + up to 256 bytes of CBC
            // padding + the longest MAC
            KEEP_SMALL_RECORDS
        }
    }

    /// The HTTP reader still wants application data (TLS 1.1/1.2 then
    /// keeps and decrypts it; once it wants no more, the records are
    /// skipped again): before the first application data, or while a
    /// direction is read as HTTP.
    fn http_wants(&self) -> bool {
        match &self.http {
            None => self.client_dir.is_some(),
            Some(h) => h.wants(HttpSide::Client) || h.wants(HttpSide::Server),
        }
    }

    /// `dir` is the client's (once the decrypters are set up).
    pub fn is_client(&self, dir: Dir) -> bool {
        self.client_dir == Some(dir)
    }

    /// `dir` as the HTTP reader names it.
    fn http_side(&self, dir: Dir) -> Option<HttpSide> {
        self.client_dir.map(|c| {
            if c == dir {
                HttpSide::Client
            } else {
                HttpSide::Server
            }
        })
    }

    /// Some direction is still read with keys (so record bodies are kept).
    pub fn decrypted(&self) -> bool {
        self.status == KeyStatus::Decrypting && self.dirs.iter().any(|d| d.decrypter.is_some())
    }

    /// The decrypted facts of `dir`, when the verdict can use them (see
    /// [`KeyedDir::readable`]).
    pub fn readable(&self, dir: Dir) -> Option<&KeyedDir> {
        let d = dir.of(&self.dirs);
        (self.status == KeyStatus::Decrypting && d.readable()).then_some(d)
    }

    /// What went wrong with the keys, for the report's notes: why they were
    /// not used, or per direction (`client_dir` names them) the records
    /// that did not decrypt and what became of the direction.
    pub fn notes(&self, client_dir: Dir) -> Vec<KeyNote> {
        let mut out = Vec::new();
        if let KeyStatus::Unusable(why) = &self.status {
            out.push(KeyNote::Unusable(why.clone()));
        }
        for dir in [client_dir, client_dir.other()] {
            let d = dir.of(&self.dirs);
            let side = if dir == client_dir {
                Role::Client
            } else {
                Role::Server
            };
            if let Some(Failure { frame, error }) = &d.first_failure {
                let then = match (&d.blind, d.readable()) {
                    (Some(Blind::Since { frame, why }), _) => AfterFailure::Blind {
                        frame: *frame,
                        why: why.clone(),
                    },
                    (None, false) => AfterFailure::NothingDecrypted,
                    (None, true) => AfterFailure::OthersRead,
                };
                out.push(KeyNote::Failed {
                    side,
                    frame: *frame,
                    error: error.clone(),
                    more: d.failed.saturating_sub(1),
                    then,
                });
            } else if let Some(Blind::Since { frame, why }) = &d.blind {
                out.push(KeyNote::Blind {
                    side,
                    frame: *frame,
                    why: why.clone(),
                });
            }
            if d.handshake_unkeyed > 0 {
                out.push(KeyNote::HandshakeUnkeyed {
                    side,
                    records: d.handshake_unkeyed,
                });
            }
        }
        out
    }

    /// A renegotiation's hello was read in `dir`'s decrypted handshake.
    fn renegotiation_hello(&mut self, dir: Dir, hello: RenegotiationHello) {
        match hello {
            RenegotiationHello::Client(random) => self.pending_client_random = Some(random),
            RenegotiationHello::Server(session) => {
                let Some(client_random) = self.pending_client_random.take() else {
                    return;
                };
                let session = SessionInfo {
                    client_random,
                    ..session
                };
                let server_dir = dir;
                let keys = match self.store.lookup(&client_random) {
                    None => Err(BlindWhy::RenegotiatedNoSecrets),
                    Some(secrets) => {
                        let make = |side| RecordDecrypter::new(&session, &secrets, side);
                        match (make(Side::Client), make(Side::Server)) {
                            (Ok(client), Ok(server)) => Ok((client, server)),
                            (Err(e), _) | (_, Err(e)) => Err(BlindWhy::RenegotiatedSetup(e)),
                        }
                    }
                };
                // each side switches (or goes blind) at its ChangeCipherSpec
                let (c, s) = (server_dir.other(), server_dir);
                match keys {
                    Ok((client, server)) => {
                        c.of_mut(&mut self.dirs).next = Some(client);
                        s.of_mut(&mut self.dirs).next = Some(server);
                    }
                    Err(why) => {
                        c.of_mut(&mut self.dirs).next_missing = Some(why.clone());
                        s.of_mut(&mut self.dirs).next_missing = Some(why);
                    }
                }
            }
        }
    }
}

impl KeyedDir {
    /// This side sent ChangeCipherSpec: its next records are encrypted
    /// (again, after a renegotiation: with the new handshake's keys).
    fn change_cipher_spec(&mut self, frame: u64) {
        let Some(dec) = self.decrypter.as_mut() else {
            return;
        };
        // TLS 1.3: a compatibility ChangeCipherSpec means nothing
        if dec.is_tls13() {
            return;
        }
        if !dec.is_encrypting() {
            dec.change_cipher_spec();
            return;
        }
        if let Some(mut next) = self.next.take() {
            next.change_cipher_spec();
            *dec = next;
            self.renegotiations += 1;
            if let Some(h) = self.handshake.as_mut() {
                h.reset();
            }
        } else {
            let why = self
                .next_missing
                .take()
                .unwrap_or(BlindWhy::RenegotiatedHellosNotRead);
            self.go_blind(frame, why);
        }
    }
}
