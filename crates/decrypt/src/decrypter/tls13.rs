//! TLS 1.3 record protection (RFC 8446 §5): the key schedule's traffic
//! secrets from the key log (handshake, application generations after
//! KeyUpdate, 0-RTT), followed by reading the decrypted handshake messages.

use super::{fill_scratch, search_sequence, xor_nonce, Hdr, Opened};
use super::{KeyError, RecordError, SessionInfo, Side};
use crate::cipher::AeadKey;
use crate::kdf::{hkdf_expand_label, HashAlg};
use crate::keylog::{Secret, SecretLabel, Secrets};
use crate::suite::{tls13_suite, AeadAlg};
use tlsclose_tls::{ContentType, HandshakeType};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase13 {
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
pub(super) struct Tls13 {
    alg: AeadAlg,
    hash: HashAlg,
    side: Side,
    early: Option<Secret>,
    pub(super) handshake: Option<Secret>,
    app0: Option<Secret>,
    pub(super) phase: Phase13,
    keys: Option<Keys13>,
    pub(super) hs: HandshakeScanner,
}

impl Tls13 {
    pub(super) fn new(
        session: &SessionInfo,
        secrets: &Secrets,
        side: Side,
    ) -> Result<Tls13, KeyError> {
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

    pub(super) fn open(
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
        let try_keys = |keys: &Keys13, first: u64, scratch: &mut Vec<u8>| {
            search_sequence(first, |s| {
                fill_scratch(scratch, ct);
                keys.aead.open(&xor_nonce(&keys.iv, s), &aad, scratch, tag)
            })
        };
        let mut hit = self.keys.as_ref().and_then(|k| try_keys(k, seq, scratch));
        if hit.is_none() {
            for (phase, keys) in self.alternatives() {
                if let Some(found) = try_keys(&keys, 0, scratch) {
                    self.phase = phase;
                    self.keys = Some(keys);
                    self.hs.reset();
                    hit = Some(found);
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
pub(super) struct HandshakeScanner {
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
    pub(super) fn reset(&mut self) {
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
}
