//! TLS 1.0–1.2 record protection (RFC 5246 §6.2.3): keys from the master
//! secret, AEAD (RFC 5288, RFC 6655, RFC 7905) and CBC with HMAC,
//! MAC-then-encrypt or encrypt-then-MAC (RFC 7366).

use super::{fill_scratch, search_sequence, seq_header, xor_nonce, Hdr, Opened};
use super::{KeyError, RecordError, SessionInfo, Side};
use crate::cipher::{AeadKey, CbcKey, MacKey};
use crate::kdf::{prf_tls10, prf_tls12};
use crate::keylog::{SecretLabel, Secrets};
use crate::suite::{tls12_suite, AeadAlg, MacAlg, Protection};
use tlsclose_tls::ProtocolVersion;

#[derive(Debug)]
pub(super) struct Tls12 {
    pub(super) prot: Prot12,
    pub(super) ccs_count: u32,
}

#[derive(Debug)]
pub(super) enum Prot12 {
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
    pub(super) fn new(
        session: &SessionInfo,
        secrets: &Secrets,
        side: Side,
    ) -> Result<Tls12, KeyError> {
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

    pub(super) fn open(
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
                let found = search_sequence(seq, |s| {
                    let n = if *explicit_nonce {
                        nonce
                    } else {
                        xor_nonce(&nonce, s)
                    };
                    fill_scratch(scratch, ct);
                    key.open(&n, &seq_header(s, hdr, ct.len()), scratch, tag)
                });
                let Some((sequence, skipped)) = found else {
                    return Err(RecordError::BadRecordMac { sequence: seq });
                };
                Ok(Opened {
                    content_type: hdr.content_type,
                    len: ct.len(),
                    sequence,
                    skipped,
                    next_phase: false,
                })
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
                    found = search_sequence(seq, |s| {
                        mac.verify(&[&seq_header(s, hdr, protected.len()), protected], wire_mac)
                    });
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
                    found = search_sequence(seq, |s| {
                        mac.verify(&[&seq_header(s, hdr, content_len), content], rec_mac)
                    });
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
