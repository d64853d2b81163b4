//! Reading a flow's records with keys (SSLKEYLOGFILE key logs, pcapng
//! Decryption Secrets Blocks): the facts the keyed verdict is computed
//! from, kept beside the keyless ones so that a flow whose keys fail falls
//! back to keyless inference whole.
//!
//! Nothing here runs when no keys were given: a flow then has no
//! [`KeyedFlow`] at all.

use std::sync::{Arc, PoisonError, RwLock};
use tlsclose_decrypt::{
    KeyLog, KeyLogWarning, RecordDecrypter, RecordError, Secrets, SessionInfo, Side,
};
use tlsclose_tcp::{Dir, SegMeta};
use tlsclose_tls::{Alert, ContentType, Record, MAX_RECORD_LEN};

/// Bodies kept for TLS 1.1/1.2 flows with keys: enough for any alert or
/// Finished record, whatever the protection.
const KEEP_SMALL_RECORDS: usize = 512;

/// The secrets of a run, shared by the analyzer and its flows: a
/// Decryption Secrets Block met halfway through a capture serves the flows
/// that are already open too.
#[derive(Debug, Clone, Default)]
pub struct KeyStore(Arc<RwLock<KeyLog>>);

impl KeyStore {
    pub fn new(log: KeyLog) -> KeyStore {
        KeyStore(Arc::new(RwLock::new(log)))
    }

    /// Adds the secrets of a pcapng Decryption Secrets Block.
    pub fn add_dsb(&self, secrets_type: u32, data: &[u8], source: &str) -> Vec<KeyLogWarning> {
        let mut log = self.0.write().unwrap_or_else(PoisonError::into_inner);
        log.add_dsb(secrets_type, data, source)
    }

    /// Connections (client randoms) with secrets.
    pub fn len(&self) -> usize {
        self.0.read().unwrap_or_else(PoisonError::into_inner).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when secrets for this ClientHello.random are known.
    pub fn has(&self, client_random: &[u8; 32]) -> bool {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .lookup(client_random)
            .is_some()
    }

    fn lookup(&self, client_random: &[u8; 32]) -> Option<Secrets> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .lookup(client_random)
            .cloned()
    }
}

/// Where decryption of a flow stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyStatus {
    /// The hellos were not both seen yet.
    Waiting,
    /// Both directions are read with keys.
    Decrypting,
    /// The keys cannot be used for this flow: why, as a report note.
    Unusable(String),
    /// A record did not decrypt.
    Failed { frame: u64, error: RecordError },
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
    /// The last counted record of this direction was such a lost one.
    pub lost_last: bool,
    pub decrypted: u64,
}

impl KeyedDir {
    /// Application data of this direction: it follows the alerts before it.
    fn data_seen(&mut self, frame: u64) {
        for a in self.alerts.iter_mut().skip(self.alerts_followed) {
            a.data_after = Some(frame);
        }
        self.alerts_followed = self.alerts.len();
    }
}

/// Decryption state of one flow.
#[derive(Debug)]
pub(crate) struct KeyedFlow {
    store: KeyStore,
    pub status: KeyStatus,
    /// Indexed by [`Dir::index`].
    pub dirs: [KeyedDir; 2],
}

impl KeyedFlow {
    pub fn new(store: KeyStore) -> KeyedFlow {
        KeyedFlow {
            store,
            status: KeyStatus::Waiting,
            dirs: [KeyedDir::default(), KeyedDir::default()],
        }
    }

    /// The hellos are read: set up a decrypter per direction (or say why not).
    pub fn start(&mut self, session: Option<SessionInfo>, client_dir: Dir) {
        if self.status != KeyStatus::Waiting {
            return;
        }
        let Some(session) = session else {
            self.status = KeyStatus::Unusable(
                "keys: no ClientHello seen (the capture started mid-connection)".into(),
            );
            return;
        };
        let Some(secrets) = self.store.lookup(&session.client_random) else {
            self.status = KeyStatus::Unusable("keys: none for this client random".into());
            return;
        };
        let make = |side| RecordDecrypter::new(&session, &secrets, side);
        match (make(Side::Client), make(Side::Server)) {
            (Ok(client), Ok(server)) => {
                self.dirs[client_dir.index()].decrypter = Some(client);
                self.dirs[client_dir.other().index()].decrypter = Some(server);
                self.status = KeyStatus::Decrypting;
            }
            (Err(e), _) | (_, Err(e)) => self.status = KeyStatus::Unusable(format!("keys: {e}")),
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
        if self.status != KeyStatus::Decrypting {
            return None;
        }
        let d = &mut self.dirs[dir.index()];
        let dec = d.decrypter.as_mut()?;
        let ct = rec.header.content_type;
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
            }
            if ct == ContentType::CHANGE_CIPHER_SPEC {
                dec.change_cipher_spec();
            }
            if lost {
                d.lost += 1;
            }
            if index.is_some() && (lost || skipped) {
                d.lost_last = lost;
                if skipped {
                    d.data_seen(rec.tag.frame);
                }
            }
            return None;
        };
        let read = dec
            .decrypt(ct, rec.header.version, body)
            .map(|p| (p.content_type, p.encrypted, p.alert()));
        dec.release_buffer();
        if ct == ContentType::CHANGE_CIPHER_SPEC {
            dec.change_cipher_spec();
        }
        match read {
            Err(error) => {
                self.status = KeyStatus::Failed {
                    frame: rec.tag.frame,
                    error,
                };
                for d in &mut self.dirs {
                    d.decrypter = None;
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
                            if d.alerts.len() < max_alerts {
                                d.alerts.push(KeyedAlert {
                                    alert,
                                    index,
                                    at: rec.tag,
                                    data_after: None,
                                });
                            } else {
                                d.alerts_dropped += 1;
                            }
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
        if every {
            usize::from(MAX_RECORD_LEN)
        } else {
            // an alert or Finished: IV + content + up to 256 bytes of CBC
            // padding + the longest MAC
            KEEP_SMALL_RECORDS
        }
    }

    /// The flow was read with keys from start to end.
    pub fn decrypted(&self) -> bool {
        self.status == KeyStatus::Decrypting
    }

    /// Why the keys were not used, for the report's notes.
    pub fn note(&self) -> Option<String> {
        match &self.status {
            KeyStatus::Waiting | KeyStatus::Decrypting => None,
            KeyStatus::Unusable(why) => Some(why.clone()),
            KeyStatus::Failed { frame, error } => {
                Some(format!("keys: decrypt failed at frame {frame} ({error})"))
            }
        }
    }
}
