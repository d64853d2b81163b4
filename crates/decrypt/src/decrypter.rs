//! The per-direction record decrypter: the public [`RecordDecrypter`] and
//! what both protocol families share (sequence numbers, the sequence-number
//! search, failure counting). The record protection itself is in
//! [`tls12`] (TLS 1.0–1.2, RFC 5246 §6.2.3) and [`tls13`] (RFC 8446 §5).

mod tls12;
mod tls13;

use crate::keylog::{SecretLabel, Secrets};
use std::fmt;
use tls12::{Prot12, Tls12};
use tls13::{Phase13, Tls13};
use tlsclose_tls::{
    Alert, AlertDescription, AlertLevel, CipherSuite, ContentType, ProtocolVersion,
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
    /// TLS 1.3: a handshake record, and the key log has no handshake
    /// traffic secret for this side (only the application ones): expected
    /// to fail, not counted as a failure.
    HandshakeKeysNotLogged,
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
            RecordError::HandshakeKeysNotLogged => {
                f.write_str("a handshake record, and no handshake traffic secret was logged")
            }
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

    /// True for a TLS 1.3 connection.
    pub fn is_tls13(&self) -> bool {
        matches!(self.state, State::Tls13(_))
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
                if expected {
                    return Err(RecordError::HandshakeKeysNotLogged);
                }
                self.failures_in_a_row = self.failures_in_a_row.saturating_add(1);
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

/// The sequence-number search: tries `authenticates` at the expected
/// sequence number `seq` and at the next [`MAX_SKIP`] (records lost in a
/// capture gap), and returns the first that fits with how many were
/// passed over: `(sequence, skipped)`.
fn search_sequence(seq: u64, mut authenticates: impl FnMut(u64) -> bool) -> Option<(u64, u64)> {
    (0..=MAX_SKIP).find_map(|k| {
        let s = seq.saturating_add(k);
        authenticates(s).then_some((s, k))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keylog::Secret;

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
