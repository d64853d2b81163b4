//! The per-direction record decrypter.

use crate::cipher::{AeadKey, CbcKey, MacKey};
use crate::kdf::{hkdf_expand_label, prf_tls10, prf_tls12, HashAlg};
use crate::keylog::{Secret, SecretLabel, Secrets};
use crate::suite::{tls12_suite, tls13_suite, AeadAlg, MacAlg, Protection};
use std::fmt;
use tlsclose_tls::{
    Alert, AlertDescription, AlertLevel, CipherSuite, ContentType, HandshakeType, ProtocolVersion,
};

/// How many sequence numbers past the expected one are tried when a record
/// does not authenticate (records lost in a capture gap).
pub const MAX_SKIP: u64 = 16;

/// After this many records in a row that could not be read, the decrypter
/// stops trying (wrong keys): further records fail at once.
pub const MAX_FAILURES_IN_A_ROW: u32 = 8;

/// Decryption buffers up to this size are kept between records.
const SMALL_BUFFER: usize = 1024;

/// Which side sent the records a decrypter reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Client,
    Server,
}

/// What the hellos negotiated: everything besides the secrets that the
/// record keys depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionInfo {
    /// The negotiated version (ServerHello, supported_versions included).
    pub version: ProtocolVersion,
    pub cipher_suite: CipherSuite,
    pub client_random: [u8; 32],
    pub server_random: [u8; 32],
    /// The ServerHello echoed encrypt_then_mac (RFC 7366; CBC suites only).
    pub encrypt_then_mac: bool,
}

/// Keys could not be set up for a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    UnsupportedVersion(ProtocolVersion),
    UnsupportedCipherSuite(CipherSuite),
    /// The key log has no secret of this label for the connection.
    MissingSecret(SecretLabel),
    /// The logged secret cannot belong to the negotiated cipher suite.
    BadSecretLength {
        label: SecretLabel,
        len: usize,
    },
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::UnsupportedVersion(v) => write!(f, "unsupported version {v}"),
            KeyError::UnsupportedCipherSuite(cs) => match cs.name() {
                Some(n) => write!(f, "unsupported cipher suite 0x{:04x} ({n})", cs.0),
                None => write!(f, "unsupported cipher suite 0x{:04x}", cs.0),
            },
            KeyError::MissingSecret(label) => {
                write!(f, "no {label} for this client random")
            }
            KeyError::BadSecretLength { label, len } => {
                write!(f, "{len}-byte {label} does not fit the cipher suite")
            }
        }
    }
}

impl std::error::Error for KeyError {}

/// A record could not be decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordError {
    /// The body is too short for the record protection.
    TooShort { len: usize, min: usize },
    /// A CBC body that is not a whole number of blocks.
    NotBlockAligned { len: usize },
    /// The record did not authenticate at the expected sequence number nor
    /// at the next [`MAX_SKIP`] (wrong keys, or damaged).
    BadRecordMac { sequence: u64 },
    /// CBC padding that cannot be right (wrong keys).
    BadPadding,
    /// TLS 1.3: the inner plaintext is all zeros (no content type).
    NoContentType,
    /// TLS 1.0 CBC: the record before was lost, and with it this record's IV.
    IvLost,
    /// A second ChangeCipherSpec (renegotiation) brought keys of another
    /// handshake.
    Renegotiated,
    /// [`MAX_FAILURES_IN_A_ROW`] records failed: no more attempts.
    GaveUp,
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordError::TooShort { len, min } => {
                write!(
                    f,
                    "{len}-byte record is shorter than its protection ({min})"
                )
            }
            RecordError::NotBlockAligned { len } => {
                write!(f, "{len}-byte CBC record is not a whole number of blocks")
            }
            RecordError::BadRecordMac { sequence } => write!(
                f,
                "bad record MAC (sequence numbers {sequence} to {} tried)",
                sequence.saturating_add(MAX_SKIP)
            ),
            RecordError::BadPadding => f.write_str("bad CBC padding"),
            RecordError::NoContentType => f.write_str("inner plaintext without content type"),
            RecordError::IvLost => f.write_str("CBC IV lost with the record before"),
            RecordError::Renegotiated => f.write_str("renegotiated: keys of another handshake"),
            RecordError::GaveUp => f.write_str("too many records failed: stopped decrypting"),
        }
    }
}

impl std::error::Error for RecordError {}

/// A decrypted record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plaintext<'a> {
    /// The real content type (TLS 1.3: the inner one).
    pub content_type: ContentType,
    /// The content (TLS 1.3: without the type byte and padding).
    pub data: &'a [u8],
    /// False when the record was not encrypted (TLS ≤ 1.2 before
    /// ChangeCipherSpec; TLS 1.3 records other than application_data).
    pub encrypted: bool,
    /// The record's sequence number (of its key generation).
    pub sequence: u64,
    /// Sequence numbers passed over to read this record (records lost in a
    /// gap), 0 normally.
    pub skipped: u64,
}

impl Plaintext<'_> {
    /// The alert, when this is an alert record of at least two bytes.
    pub fn alert(&self) -> Option<Alert> {
        if self.content_type != ContentType::ALERT {
            return None;
        }
        match self.data {
            [level, desc, ..] => Some(Alert {
                level: AlertLevel(*level),
                description: AlertDescription(*desc),
            }),
            _ => None,
        }
    }
}

/// Reads the records of one direction of a connection, in order.
///
/// Built from the negotiated [`SessionInfo`], the connection's [`Secrets`]
/// and the [`Side`] whose records it reads. Feed it every record of that
/// direction from the first encrypted one on:
///
/// * TLS ≤ 1.2: call [`change_cipher_spec`](Self::change_cipher_spec) at
///   that side's ChangeCipherSpec; records before it pass through as
///   plaintext.
/// * TLS 1.3: pass the application_data records sent after the
///   ServerHello. Other content types (ChangeCipherSpec, plaintext alerts)
///   pass through untouched and do not count as sequence numbers. The
///   decrypter follows the key schedule itself: handshake keys, then
///   application keys after that side's Finished, a new generation after
///   each KeyUpdate.
///
/// A record whose body was not captured still takes a sequence number:
/// call [`record_lost`](Self::record_lost).
#[derive(Debug)]
pub struct RecordDecrypter {
    side: Side,
    state: State,
    /// Sequence number of the next record.
    seq: u64,
    scratch: Vec<u8>,
    failures_in_a_row: u32,
    decrypted: u64,
}

#[derive(Debug)]
enum State {
    Tls12(Box<Tls12>),
    Tls13(Box<Tls13>),
}

impl RecordDecrypter {
    pub fn new(session: &SessionInfo, secrets: &Secrets, side: Side) -> Result<Self, KeyError> {
        let state = match session.version {
            ProtocolVersion::TLS1_3 => State::Tls13(Box::new(Tls13::new(session, secrets, side)?)),
            ProtocolVersion::TLS1_0 | ProtocolVersion::TLS1_1 | ProtocolVersion::TLS1_2 => {
                State::Tls12(Box::new(Tls12::new(session, secrets, side)?))
            }
            v => return Err(KeyError::UnsupportedVersion(v)),
        };
        Ok(RecordDecrypter {
            side,
            state,
            seq: 0,
            scratch: Vec::new(),
            failures_in_a_row: 0,
            decrypted: 0,
        })
    }

    pub fn side(&self) -> Side {
        self.side
    }

    /// TLS ≤ 1.2: this side sent ChangeCipherSpec; its next records are
    /// encrypted, numbered from 0. (TLS 1.3: nothing to do.)
    pub fn change_cipher_spec(&mut self) {
        if let State::Tls12(t) = &mut self.state {
            t.ccs_count = t.ccs_count.saturating_add(1);
            self.seq = 0;
        }
    }

    /// True when the next record of this side is expected encrypted.
    pub fn is_encrypting(&self) -> bool {
        match &self.state {
            State::Tls12(t) => t.ccs_count > 0,
            State::Tls13(_) => true,
        }
    }

    /// True when a record of this content type, sent now, is protected
    /// (TLS ≤ 1.2: any record after ChangeCipherSpec; TLS 1.3: the
    /// application_data records). Such a record still takes a sequence
    /// number when its body is lost: see [`record_lost`](Self::record_lost).
    pub fn is_protected(&self, content_type: ContentType) -> bool {
        match &self.state {
            State::Tls12(t) => t.ccs_count > 0,
            State::Tls13(_) => content_type == ContentType::APPLICATION_DATA,
        }
    }

    /// True when every protected record must be decrypted to follow the
    /// connection: TLS 1.3 (content types are hidden, keys change inside)
    /// and TLS 1.0 CBC (each record's IV is the last block of the one
    /// before). Otherwise [`skip_record`](Self::skip_record) can pass over
    /// records whose content is not needed.
    pub fn needs_every_body(&self) -> bool {
        match &self.state {
            State::Tls13(_) => true,
            State::Tls12(t) => matches!(
                t.prot,
                Prot12::Cbc {
                    explicit_iv: false,
                    ..
                }
            ),
        }
    }

    /// TLS 1.1 and 1.2: passes over a protected record whose content is not
    /// needed (application data: its type is on the wire), keeping the
    /// sequence numbers. False, and nothing done, where that cannot be
    /// done (see [`needs_every_body`](Self::needs_every_body)) or before
    /// ChangeCipherSpec.
    pub fn skip_record(&mut self) -> bool {
        if self.needs_every_body() || !self.is_encrypting() {
            return false;
        }
        self.seq = self.seq.saturating_add(1);
        true
    }

    /// The sequence number the next record should have.
    pub fn next_sequence(&self) -> u64 {
        self.seq
    }

    /// Records decrypted so far.
    pub fn decrypted(&self) -> u64 {
        self.decrypted
    }

    /// TLS 1.3: the application traffic key generation in use (0 until the
    /// first KeyUpdate); `None` before that side's Finished.
    pub fn key_generation(&self) -> Option<u64> {
        match &self.state {
            State::Tls13(t) => match t.phase {
                Phase13::App(n) => Some(n),
                _ => None,
            },
            State::Tls12(_) => None,
        }
    }

    /// Frees the buffer the last plaintext was in when it is large, so that
    /// many open connections do not each hold a record's worth of memory
    /// between their records. The next large record allocates it again.
    pub fn release_buffer(&mut self) {
        if self.scratch.capacity() > SMALL_BUFFER {
            self.scratch = Vec::new();
        }
    }

    /// True once [`MAX_FAILURES_IN_A_ROW`] records failed in a row.
    pub fn gave_up(&self) -> bool {
        self.failures_in_a_row >= MAX_FAILURES_IN_A_ROW
    }

    /// A record of this side was sent but its body is not available (a gap):
    /// it still used a sequence number.
    pub fn record_lost(&mut self) {
        if !self.is_encrypting() {
            return;
        }
        self.seq = self.seq.saturating_add(1);
        match &mut self.state {
            State::Tls12(t) => {
                if let Prot12::Cbc { chain_iv, .. } = &mut t.prot {
                    *chain_iv = None;
                }
            }
            State::Tls13(t) => t.hs.reset(),
        }
    }

    /// Decrypts the next record of this side (`content_type`, `version` and
    /// body as on the wire).
    pub fn decrypt<'a>(
        &'a mut self,
        content_type: ContentType,
        version: ProtocolVersion,
        body: &'a [u8],
    ) -> Result<Plaintext<'a>, RecordError> {
        let passthrough = Plaintext {
            content_type,
            data: body,
            encrypted: false,
            sequence: self.seq,
            skipped: 0,
        };
        let hdr = Hdr {
            content_type,
            version,
        };
        let outcome = match &mut self.state {
            State::Tls12(t) => {
                if t.ccs_count == 0 {
                    return Ok(passthrough);
                }
                if t.ccs_count > 1 {
                    return Err(RecordError::Renegotiated);
                }
                if self.failures_in_a_row >= MAX_FAILURES_IN_A_ROW {
                    return Err(RecordError::GaveUp);
                }
                t.open(self.seq, hdr, body, &mut self.scratch)
            }
            State::Tls13(t) => {
                if content_type != ContentType::APPLICATION_DATA {
                    return Ok(passthrough);
                }
                if self.failures_in_a_row >= MAX_FAILURES_IN_A_ROW {
                    return Err(RecordError::GaveUp);
                }
                t.open(self.seq, hdr, body, &mut self.scratch)
            }
        };
        match outcome {
            Ok(opened) => {
                self.failures_in_a_row = 0;
                self.decrypted = self.decrypted.saturating_add(1);
                let sequence = opened.sequence;
                self.seq = match opened.next_phase {
                    true => 0,
                    false => sequence.saturating_add(1),
                };
                Ok(Plaintext {
                    content_type: opened.content_type,
                    data: self.scratch.get(..opened.len).unwrap_or(&[]),
                    encrypted: true,
                    sequence,
                    skipped: opened.skipped,
                })
            }
            Err(e) => {
                // the record took its sequence number all the same
                self.seq = self.seq.saturating_add(1);
                let expected = match &self.state {
                    // TLS 1.3 without the handshake secret: handshake
                    // records are expected to fail until the switch
                    State::Tls13(t) => t.phase == Phase13::Handshake && t.handshake.is_none(),
                    State::Tls12(_) => false,
                };
                if !expected {
                    self.failures_in_a_row = self.failures_in_a_row.saturating_add(1);
                }
                Err(e)
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Hdr {
    content_type: ContentType,
    version: ProtocolVersion,
}

/// A record opened in `scratch[..len]`.
struct Opened {
    content_type: ContentType,
    len: usize,
    sequence: u64,
    skipped: u64,
    /// The keys changed after this record: numbering restarts at 0.
    next_phase: bool,
}

/// The 13 bytes of additional data (TLS ≤ 1.2 AEAD) or MAC header.
fn seq_header(seq: u64, hdr: Hdr, len: usize) -> [u8; 13] {
    let [s0, s1, s2, s3, s4, s5, s6, s7] = seq.to_be_bytes();
    let [v0, v1] = hdr.version.0.to_be_bytes();
    let [l0, l1] = (len.min(usize::from(u16::MAX)) as u16).to_be_bytes();
    [
        s0,
        s1,
        s2,
        s3,
        s4,
        s5,
        s6,
        s7,
        hdr.content_type.0,
        v0,
        v1,
        l0,
        l1,
    ]
}

/// `iv` XOR the sequence number, right-aligned (RFC 8446 §5.3, RFC 7905 §2).
fn xor_nonce(iv: &[u8; 12], seq: u64) -> [u8; 12] {
    let mut n = *iv;
    for (b, s) in n.iter_mut().skip(4).zip(seq.to_be_bytes()) {
        *b ^= s;
    }
    n
}

fn fill_scratch(scratch: &mut Vec<u8>, data: &[u8]) {
    scratch.clear();
    scratch.extend_from_slice(data);
}

// ---- TLS 1.0–1.2 ---------------------------------------------------------

#[derive(Debug)]
struct Tls12 {
    prot: Prot12,
    ccs_count: u32,
}

#[derive(Debug)]
enum Prot12 {
    Aead {
        key: AeadKey,
        alg: AeadAlg,
        /// GCM/CCM: the 4-byte salt in `iv[..4]`; ChaCha20: the whole IV.
        iv: [u8; 12],
        explicit_nonce: bool,
    },
    Cbc {
        key: CbcKey,
        mac: MacKey,
        mac_len: usize,
        encrypt_then_mac: bool,
        /// TLS 1.1+: each record starts with its IV.
        explicit_iv: bool,
        /// TLS 1.0: the last ciphertext block of the record before.
        chain_iv: Option<[u8; 16]>,
    },
}

impl Tls12 {
    fn new(session: &SessionInfo, secrets: &Secrets, side: Side) -> Result<Tls12, KeyError> {
        let suite = tls12_suite(session.cipher_suite)
            .ok_or(KeyError::UnsupportedCipherSuite(session.cipher_suite))?;
        let tls12 = session.version == ProtocolVersion::TLS1_2;
        if !tls12 && matches!(suite.protection, Protection::Aead(_)) {
            // AEAD suites exist only in TLS 1.2
            return Err(KeyError::UnsupportedCipherSuite(session.cipher_suite));
        }
        let master = secrets
            .master_secret
            .as_ref()
            .ok_or(KeyError::MissingSecret(SecretLabel::ClientRandom))?;
        let (mac_len, key_len, iv_len) = match suite.protection {
            Protection::Aead(AeadAlg::ChaCha20Poly1305) => (0, 32, 12),
            Protection::Aead(alg) => (0, alg.key_len(), 4),
            Protection::Cbc { key_len, mac } => (mac.len(), key_len, if tls12 { 0 } else { 16 }),
        };
        // RFC 5246 §6.3: client MAC, server MAC, client key, server key,
        // client IV, server IV
        let mut block = vec![0u8; 2 * (mac_len + key_len + iv_len)];
        let mut seed = [0u8; 64];
        for (d, s) in seed
            .iter_mut()
            .zip(session.server_random.iter().chain(&session.client_random))
        {
            *d = *s;
        }
        if tls12 {
            prf_tls12(
                suite.prf,
                master.as_bytes(),
                b"key expansion",
                &seed,
                &mut block,
            );
        } else {
            prf_tls10(master.as_bytes(), b"key expansion", &seed, &mut block);
        }
        let pick = |start: usize, len: usize| block.get(start..start + len).unwrap_or(&[]);
        let client = side == Side::Client;
        let mac_key = pick(if client { 0 } else { mac_len }, mac_len);
        let enc_key = pick(2 * mac_len + if client { 0 } else { key_len }, key_len);
        let iv = pick(
            2 * (mac_len + key_len) + if client { 0 } else { iv_len },
            iv_len,
        );
        let bad = KeyError::BadSecretLength {
            label: SecretLabel::ClientRandom,
            len: master.len(),
        };
        let prot = match suite.protection {
            Protection::Aead(alg) => {
                let mut fixed = [0u8; 12];
                for (d, s) in fixed.iter_mut().zip(iv) {
                    *d = *s;
                }
                Prot12::Aead {
                    key: AeadKey::new(alg, enc_key).ok_or(bad)?,
                    alg,
                    iv: fixed,
                    explicit_nonce: alg != AeadAlg::ChaCha20Poly1305,
                }
            }
            Protection::Cbc { mac, .. } => Prot12::Cbc {
                key: CbcKey::new(enc_key).ok_or(bad.clone())?,
                mac: MacKey::new(mac, mac_key).ok_or(bad)?,
                mac_len: MacAlg::len(mac),
                encrypt_then_mac: session.encrypt_then_mac,
                explicit_iv: tls12 || session.version == ProtocolVersion::TLS1_1,
                chain_iv: iv.try_into().ok(),
            },
        };
        Ok(Tls12 { prot, ccs_count: 0 })
    }

    fn open(
        &mut self,
        seq: u64,
        hdr: Hdr,
        body: &[u8],
        scratch: &mut Vec<u8>,
    ) -> Result<Opened, RecordError> {
        match &mut self.prot {
            Prot12::Aead {
                key,
                alg,
                iv,
                explicit_nonce,
            } => {
                let tag_len = alg.tag_len();
                let explicit = if *explicit_nonce { 8 } else { 0 };
                let min = explicit + tag_len;
                if body.len() < min {
                    return Err(RecordError::TooShort {
                        len: body.len(),
                        min,
                    });
                }
                let ct_end = body.len() - tag_len;
                let ct = body.get(explicit..ct_end).unwrap_or(&[]);
                let tag = body.get(ct_end..).unwrap_or(&[]);
                let mut nonce = *iv;
                if *explicit_nonce {
                    for (d, s) in nonce.iter_mut().skip(4).zip(body.iter().take(8)) {
                        *d = *s;
                    }
                }
                for k in 0..=MAX_SKIP {
                    let s = seq.saturating_add(k);
                    let n = if *explicit_nonce {
                        nonce
                    } else {
                        xor_nonce(&nonce, s)
                    };
                    let aad = seq_header(s, hdr, ct.len());
                    fill_scratch(scratch, ct);
                    if key.open(&n, &aad, scratch, tag) {
                        return Ok(Opened {
                            content_type: hdr.content_type,
                            len: ct.len(),
                            sequence: s,
                            skipped: k,
                            next_phase: false,
                        });
                    }
                }
                Err(RecordError::BadRecordMac { sequence: seq })
            }
            Prot12::Cbc {
                key,
                mac,
                mac_len,
                encrypt_then_mac,
                explicit_iv,
                chain_iv,
            } => {
                let mac_len = *mac_len;
                let etm = *encrypt_then_mac;
                let iv_len = if *explicit_iv { 16 } else { 0 };
                // at least one block of ciphertext, and room for the MAC
                let min = iv_len
                    + if etm {
                        16 + mac_len
                    } else {
                        (mac_len + 1).next_multiple_of(16)
                    };
                if body.len() < min {
                    return Err(RecordError::TooShort {
                        len: body.len(),
                        min,
                    });
                }
                let (protected, wire_mac) = if etm {
                    let end = body.len() - mac_len;
                    (
                        body.get(..end).unwrap_or(&[]),
                        body.get(end..).unwrap_or(&[]),
                    )
                } else {
                    (body, &[][..])
                };
                let ct = protected.get(iv_len..).unwrap_or(&[]);
                if ct.len() % 16 != 0 {
                    return Err(RecordError::NotBlockAligned { len: body.len() });
                }
                let iv: Option<[u8; 16]> = if *explicit_iv {
                    protected.get(..16).and_then(|b| b.try_into().ok())
                } else {
                    let prev = *chain_iv;
                    // the next record's IV, whatever happens to this one
                    *chain_iv = ct
                        .get(ct.len().saturating_sub(16)..)
                        .and_then(|b| b.try_into().ok());
                    prev
                };
                let Some(iv) = iv else {
                    return Err(RecordError::IvLost);
                };
                let mut found: Option<(u64, u64)> = None;
                if etm {
                    // RFC 7366 §3: MAC(seq ‖ type ‖ version ‖ length ‖ IV ‖ ciphertext)
                    for k in 0..=MAX_SKIP {
                        let s = seq.saturating_add(k);
                        let h = seq_header(s, hdr, protected.len());
                        if mac.verify(&[&h, protected], wire_mac) {
                            found = Some((s, k));
                            break;
                        }
                    }
                    if found.is_none() {
                        return Err(RecordError::BadRecordMac { sequence: seq });
                    }
                }
                fill_scratch(scratch, ct);
                if !key.decrypt(&iv, scratch) {
                    return Err(RecordError::NotBlockAligned { len: body.len() });
                }
                // padding: `pad` bytes of value `pad`, then the length byte
                let pad = usize::from(scratch.last().copied().unwrap_or(0));
                let need = pad + 1 + if etm { 0 } else { mac_len };
                if need > scratch.len() {
                    return Err(RecordError::BadPadding);
                }
                let unpadded = scratch.len() - pad - 1;
                let pad_ok = scratch
                    .get(unpadded..)
                    .is_some_and(|p| p.iter().all(|&b| usize::from(b) == pad));
                if !pad_ok {
                    return Err(RecordError::BadPadding);
                }
                let content_len = if etm { unpadded } else { unpadded - mac_len };
                if !etm {
                    // MAC(seq ‖ type ‖ version ‖ length ‖ content), then padding
                    let content = scratch.get(..content_len).unwrap_or(&[]);
                    let rec_mac = scratch.get(content_len..unpadded).unwrap_or(&[]);
                    for k in 0..=MAX_SKIP {
                        let s = seq.saturating_add(k);
                        let h = seq_header(s, hdr, content_len);
                        if mac.verify(&[&h, content], rec_mac) {
                            found = Some((s, k));
                            break;
                        }
                    }
                }
                let Some((sequence, skipped)) = found else {
                    return Err(RecordError::BadRecordMac { sequence: seq });
                };
                Ok(Opened {
                    content_type: hdr.content_type,
                    len: content_len,
                    sequence,
                    skipped,
                    next_phase: false,
                })
            }
        }
    }
}

// ---- TLS 1.3 -------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase13 {
    /// 0-RTT data (client only).
    Early,
    Handshake,
    /// Application traffic keys of this generation.
    App(u64),
}

#[derive(Debug)]
struct Keys13 {
    aead: AeadKey,
    iv: [u8; 12],
    /// The traffic secret these keys come from (for KeyUpdate).
    secret: Vec<u8>,
}

#[derive(Debug)]
struct Tls13 {
    alg: AeadAlg,
    hash: HashAlg,
    side: Side,
    early: Option<Secret>,
    handshake: Option<Secret>,
    app0: Option<Secret>,
    phase: Phase13,
    keys: Option<Keys13>,
    hs: HandshakeScanner,
}

impl Tls13 {
    fn new(session: &SessionInfo, secrets: &Secrets, side: Side) -> Result<Tls13, KeyError> {
        let (alg, hash) = tls13_suite(session.cipher_suite)
            .ok_or(KeyError::UnsupportedCipherSuite(session.cipher_suite))?;
        let (hs_label, app_label) = match side {
            Side::Client => (
                SecretLabel::ClientHandshakeTrafficSecret,
                SecretLabel::ClientTrafficSecret0,
            ),
            Side::Server => (
                SecretLabel::ServerHandshakeTrafficSecret,
                SecretLabel::ServerTrafficSecret0,
            ),
        };
        let check = |label: SecretLabel| -> Result<Option<Secret>, KeyError> {
            match secrets.get(label) {
                Some(s) if s.len() != hash.len() => Err(KeyError::BadSecretLength {
                    label,
                    len: s.len(),
                }),
                s => Ok(s.cloned()),
            }
        };
        let handshake = check(hs_label)?;
        let app0 = check(app_label)?;
        let early = match side {
            Side::Client => check(SecretLabel::ClientEarlyTrafficSecret).unwrap_or(None),
            Side::Server => None,
        };
        if handshake.is_none() && app0.is_none() {
            return Err(KeyError::MissingSecret(hs_label));
        }
        let keys = match &handshake {
            Some(s) => derive13(alg, hash, s.as_bytes()),
            None => None,
        };
        Ok(Tls13 {
            alg,
            hash,
            side,
            early,
            handshake,
            app0,
            phase: Phase13::Handshake,
            keys,
            hs: HandshakeScanner::default(),
        })
    }

    /// Keys to try when the current ones fail: the next phase's (a lost
    /// Finished, EndOfEarlyData or KeyUpdate), and early data keys before
    /// anything was read with the handshake keys.
    fn alternatives(&self) -> Vec<(Phase13, Keys13)> {
        let mut out = Vec::new();
        let derive = |s: &Secret| derive13(self.alg, self.hash, s.as_bytes());
        match self.phase {
            Phase13::Early => {
                if let Some(k) = self.handshake.as_ref().and_then(derive) {
                    out.push((Phase13::Handshake, k));
                }
            }
            Phase13::Handshake => {
                if let Some(k) = self.app0.as_ref().and_then(derive) {
                    out.push((Phase13::App(0), k));
                }
                if self.side == Side::Client && !self.hs.seen_any {
                    if let Some(k) = self.early.as_ref().and_then(derive) {
                        out.push((Phase13::Early, k));
                    }
                }
            }
            Phase13::App(n) => {
                if let Some(k) = self
                    .keys
                    .as_ref()
                    .and_then(|k| next_generation(self.alg, self.hash, &k.secret))
                {
                    out.push((Phase13::App(n.saturating_add(1)), k));
                }
            }
        }
        out
    }

    fn open(
        &mut self,
        seq: u64,
        hdr: Hdr,
        body: &[u8],
        scratch: &mut Vec<u8>,
    ) -> Result<Opened, RecordError> {
        let tag_len = self.alg.tag_len();
        if body.len() < tag_len + 1 {
            return Err(RecordError::TooShort {
                len: body.len(),
                min: tag_len + 1,
            });
        }
        // RFC 8446 §5.2: the additional data is the record header
        let [v0, v1] = hdr.version.0.to_be_bytes();
        let [l0, l1] = (body.len().min(usize::from(u16::MAX)) as u16).to_be_bytes();
        let aad = [hdr.content_type.0, v0, v1, l0, l1];
        let split = body.len() - tag_len;
        let ct = body.get(..split).unwrap_or(&[]);
        let tag = body.get(split..).unwrap_or(&[]);
        let try_keys = |keys: &Keys13, first: u64, scratch: &mut Vec<u8>| -> Option<u64> {
            (0..=MAX_SKIP).find(|k| {
                fill_scratch(scratch, ct);
                keys.aead.open(
                    &xor_nonce(&keys.iv, first.saturating_add(*k)),
                    &aad,
                    scratch,
                    tag,
                )
            })
        };
        let mut hit = self
            .keys
            .as_ref()
            .and_then(|k| try_keys(k, seq, scratch))
            .map(|k| (seq.saturating_add(k), k));
        if hit.is_none() {
            for (phase, keys) in self.alternatives() {
                if let Some(k) = try_keys(&keys, 0, scratch) {
                    self.phase = phase;
                    self.keys = Some(keys);
                    self.hs.reset();
                    hit = Some((k, k));
                    break;
                }
            }
        }
        let Some((sequence, skipped)) = hit else {
            self.hs.reset();
            return Err(RecordError::BadRecordMac { sequence: seq });
        };
        // RFC 8446 §5.4: the content type is the last non-zero byte
        let Some(type_at) = scratch.iter().rposition(|&b| b != 0) else {
            return Err(RecordError::NoContentType);
        };
        let content_type = ContentType(scratch.get(type_at).copied().unwrap_or(0));
        let mut next_phase = false;
        if content_type == ContentType::HANDSHAKE {
            let seen = self.hs.scan(scratch.get(..type_at).unwrap_or(&[]));
            let switch = match self.phase {
                Phase13::Early if seen.end_of_early_data => self
                    .handshake
                    .as_ref()
                    .map(|s| (Phase13::Handshake, s.as_bytes().to_vec())),
                Phase13::Handshake if seen.finished => self
                    .app0
                    .as_ref()
                    .map(|s| (Phase13::App(0), s.as_bytes().to_vec())),
                Phase13::App(n) if seen.key_update => self.keys.as_ref().and_then(|k| {
                    next_secret(self.hash, &k.secret)
                        .map(|s| (Phase13::App(n.saturating_add(1)), s))
                }),
                _ => None,
            };
            let leaving = seen.finished || seen.key_update || seen.end_of_early_data;
            if leaving {
                next_phase = true;
                self.hs.reset();
                match switch {
                    Some((phase, secret)) => {
                        self.phase = phase;
                        self.keys = derive13(self.alg, self.hash, &secret);
                    }
                    None => {
                        // the next secret is not in the key log: move on
                        // without keys (records fail until a fallback fits)
                        self.phase = match self.phase {
                            Phase13::Early => Phase13::Handshake,
                            Phase13::Handshake => Phase13::App(0),
                            Phase13::App(n) => Phase13::App(n.saturating_add(1)),
                        };
                        self.keys = None;
                    }
                }
            }
        }
        Ok(Opened {
            content_type,
            len: type_at,
            sequence,
            skipped,
            next_phase,
        })
    }
}

/// Traffic key and IV of a TLS 1.3 secret (RFC 8446 §7.3).
fn derive13(alg: AeadAlg, hash: HashAlg, secret: &[u8]) -> Option<Keys13> {
    let mut key = [0u8; 32];
    let key = key.get_mut(..alg.key_len())?;
    let mut iv = [0u8; 12];
    if !hkdf_expand_label(hash, secret, b"key", b"", key)
        || !hkdf_expand_label(hash, secret, b"iv", b"", &mut iv)
    {
        return None;
    }
    Some(Keys13 {
        aead: AeadKey::new(alg, key)?,
        iv,
        secret: secret.to_vec(),
    })
}

/// application_traffic_secret_N+1 (RFC 8446 §7.2).
fn next_secret(hash: HashAlg, secret: &[u8]) -> Option<Vec<u8>> {
    let mut next = vec![0u8; hash.len()];
    hkdf_expand_label(hash, secret, b"traffic upd", b"", &mut next).then_some(next)
}

fn next_generation(alg: AeadAlg, hash: HashAlg, secret: &[u8]) -> Option<Keys13> {
    derive13(alg, hash, &next_secret(hash, secret)?)
}

/// Follows handshake message boundaries across decrypted records, to see
/// which messages a record carries.
#[derive(Debug, Default)]
struct HandshakeScanner {
    hdr: [u8; 4],
    hdr_fill: usize,
    /// Body bytes of the current message still to come.
    remaining: usize,
    /// A message boundary was passed since the start (or last reset).
    seen_any: bool,
    /// Lost track (a record was lost mid-message).
    lost: bool,
}

#[derive(Debug, Default, Clone, Copy)]
struct SeenMessages {
    finished: bool,
    key_update: bool,
    end_of_early_data: bool,
}

impl HandshakeScanner {
    fn reset(&mut self) {
        self.hdr_fill = 0;
        self.remaining = 0;
        self.lost = false;
    }

    fn scan(&mut self, mut data: &[u8]) -> SeenMessages {
        let mut seen = SeenMessages::default();
        if self.lost {
            return seen;
        }
        while !data.is_empty() {
            if self.remaining > 0 {
                let n = self.remaining.min(data.len());
                self.remaining -= n;
                data = data.get(n..).unwrap_or(&[]);
                continue;
            }
            let fill = self.hdr_fill.min(4);
            let n = (4 - fill).min(data.len());
            if let (Some(d), Some(s)) = (self.hdr.get_mut(fill..fill + n), data.get(..n)) {
                d.copy_from_slice(s);
            }
            self.hdr_fill = fill + n;
            data = data.get(n..).unwrap_or(&[]);
            if self.hdr_fill == 4 {
                self.hdr_fill = 0;
                self.seen_any = true;
                let [t, l0, l1, l2] = self.hdr;
                self.remaining = usize::from(l0) << 16 | usize::from(l1) << 8 | usize::from(l2);
                match HandshakeType(t) {
                    HandshakeType::FINISHED => seen.finished = true,
                    HandshakeType::KEY_UPDATE => seen.key_update = true,
                    HandshakeType::END_OF_EARLY_DATA => seen.end_of_early_data = true,
                    _ => {}
                }
            }
        }
        seen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_and_header() {
        let iv = [1u8; 12];
        let n = xor_nonce(&iv, 0x0102);
        assert_eq!(n[..10], [1u8; 10]);
        assert_eq!(n[10..], [1 ^ 1, 1 ^ 2]);
        let h = seq_header(
            5,
            Hdr {
                content_type: ContentType::ALERT,
                version: ProtocolVersion::TLS1_2,
            },
            2,
        );
        assert_eq!(h, [0, 0, 0, 0, 0, 0, 0, 5, 21, 3, 3, 0, 2]);
    }

    #[test]
    fn handshake_scanner_follows_messages_across_records() {
        let mut s = HandshakeScanner::default();
        // NewSessionTicket of 5 bytes split, then Finished
        let a = s.scan(&[4, 0, 0, 5, 1, 2]);
        assert!(!a.finished);
        let b = s.scan(&[3, 4, 5, 20, 0, 0, 2, 9, 9]);
        assert!(b.finished);
        let c = s.scan(&[24, 0]);
        assert!(!c.key_update);
        let d = s.scan(&[0, 1, 0]);
        assert!(d.key_update);
    }

    #[test]
    fn unsupported_things_are_errors() {
        let secrets = Secrets::default();
        let mut session = SessionInfo {
            version: ProtocolVersion::TLS1_2,
            cipher_suite: CipherSuite(0x000a),
            client_random: [0; 32],
            server_random: [0; 32],
            encrypt_then_mac: false,
        };
        let e = RecordDecrypter::new(&session, &secrets, Side::Client).expect_err("3DES");
        assert_eq!(e, KeyError::UnsupportedCipherSuite(CipherSuite(0x000a)));
        assert_eq!(
            e.to_string(),
            "unsupported cipher suite 0x000a (TLS_RSA_WITH_3DES_EDE_CBC_SHA)"
        );
        session.cipher_suite = CipherSuite(0xc02f);
        let e = RecordDecrypter::new(&session, &secrets, Side::Client).expect_err("no secret");
        assert_eq!(e.to_string(), "no CLIENT_RANDOM for this client random");
        session.version = ProtocolVersion::SSL3;
        let e = RecordDecrypter::new(&session, &secrets, Side::Client).expect_err("ssl3");
        assert_eq!(e, KeyError::UnsupportedVersion(ProtocolVersion::SSL3));
        session.version = ProtocolVersion::TLS1_3;
        session.cipher_suite = CipherSuite(0x1301);
        let e = RecordDecrypter::new(&session, &secrets, Side::Server).expect_err("no secret");
        assert_eq!(
            e,
            KeyError::MissingSecret(SecretLabel::ServerHandshakeTrafficSecret)
        );
    }

    #[test]
    fn garbage_records_fail_cleanly_and_give_up() {
        let secrets = Secrets {
            master_secret: Some(Secret::new(&[7; 48])),
            client_handshake_traffic_secret: Some(Secret::new(&[1; 32])),
            client_traffic_secret_0: Some(Secret::new(&[2; 32])),
            ..Secrets::default()
        };
        for (version, suite, etm) in [
            (ProtocolVersion::TLS1_2, 0xc02f, false),
            (ProtocolVersion::TLS1_2, 0xcca8, false),
            (ProtocolVersion::TLS1_2, 0xc0ae, false),
            (ProtocolVersion::TLS1_2, 0xc013, false),
            (ProtocolVersion::TLS1_2, 0xc013, true),
            (ProtocolVersion::TLS1_2, 0xc028, true),
            (ProtocolVersion::TLS1_0, 0xc013, false),
            (ProtocolVersion::TLS1_1, 0x002f, true),
            (ProtocolVersion::TLS1_3, 0x1301, false),
            (ProtocolVersion::TLS1_3, 0x1305, false),
        ] {
            let session = SessionInfo {
                version,
                cipher_suite: CipherSuite(suite),
                client_random: [3; 32],
                server_random: [4; 32],
                encrypt_then_mac: etm,
            };
            let mut d = RecordDecrypter::new(&session, &secrets, Side::Client).expect("keys");
            d.change_cipher_spec();
            let mut x: u32 = 99;
            for len in (0..200).chain([16400, 0, 1, 15, 16, 17, 31, 32, 33, 48, 64, 80]) {
                let body: Vec<u8> = (0..len)
                    .map(|_| {
                        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                        (x >> 16) as u8
                    })
                    .collect();
                let r = d.decrypt(
                    ContentType::APPLICATION_DATA,
                    ProtocolVersion::TLS1_2,
                    &body,
                );
                assert!(r.is_err(), "{version} {suite:04x} {len}");
                d.record_lost();
            }
            assert!(d.gave_up());
            assert_eq!(
                d.decrypt(ContentType::ALERT, ProtocolVersion::TLS1_2, &[0; 26])
                    .map(|p| p.encrypted)
                    .map_err(|e| e.to_string()),
                if version == ProtocolVersion::TLS1_3 {
                    Ok(false)
                } else {
                    Err("too many records failed: stopped decrypting".into())
                }
            );
        }
    }
}
