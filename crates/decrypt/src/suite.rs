//! What each supported cipher suite means for the record layer.
//!
//! Sources: RFC 8446 §B.4 (TLS 1.3), RFC 5288/5289 (GCM), RFC 7905
//! (ChaCha20-Poly1305), RFC 6655/7251 (CCM), RFC 5246 appendix C and RFC
//! 4492/5289/5487 (CBC suites), RFC 4279/5487/5489 (PSK variants).

use crate::kdf::HashAlg;
use tlsclose_tls::CipherSuite;

/// An AEAD algorithm of the record layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AeadAlg {
    Aes128Gcm,
    Aes256Gcm,
    ChaCha20Poly1305,
    Aes128Ccm,
    Aes256Ccm,
    Aes128Ccm8,
    Aes256Ccm8,
}

impl AeadAlg {
    pub(crate) fn key_len(self) -> usize {
        match self {
            AeadAlg::Aes128Gcm | AeadAlg::Aes128Ccm | AeadAlg::Aes128Ccm8 => 16,
            AeadAlg::Aes256Gcm
            | AeadAlg::Aes256Ccm
            | AeadAlg::Aes256Ccm8
            | AeadAlg::ChaCha20Poly1305 => 32,
        }
    }

    pub(crate) fn tag_len(self) -> usize {
        match self {
            AeadAlg::Aes128Ccm8 | AeadAlg::Aes256Ccm8 => 8,
            _ => 16,
        }
    }
}

/// The MAC of a CBC suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MacAlg {
    Sha1,
    Sha256,
    Sha384,
}

impl MacAlg {
    pub(crate) fn len(self) -> usize {
        match self {
            MacAlg::Sha1 => 20,
            MacAlg::Sha256 => 32,
            MacAlg::Sha384 => 48,
        }
    }
}

/// Record protection of a TLS ≤ 1.2 suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protection {
    /// AES-GCM / AES-CCM: 4-byte implicit salt + 8-byte explicit nonce
    /// (RFC 5288 §3, RFC 6655 §3); ChaCha20-Poly1305: 12-byte IV XOR the
    /// sequence number, no explicit nonce (RFC 7905 §2).
    Aead(AeadAlg),
    /// AES-CBC with HMAC (key length 16 or 32).
    Cbc { key_len: usize, mac: MacAlg },
}

/// A TLS ≤ 1.2 suite: its protection and the hash of its TLS 1.2 PRF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tls12Suite {
    pub protection: Protection,
    pub prf: HashAlg,
}

/// TLS 1.3 suites: AEAD and key schedule hash.
pub(crate) fn tls13_suite(cs: CipherSuite) -> Option<(AeadAlg, HashAlg)> {
    Some(match cs.0 {
        0x1301 => (AeadAlg::Aes128Gcm, HashAlg::Sha256),
        0x1302 => (AeadAlg::Aes256Gcm, HashAlg::Sha384),
        0x1303 => (AeadAlg::ChaCha20Poly1305, HashAlg::Sha256),
        0x1304 => (AeadAlg::Aes128Ccm, HashAlg::Sha256),
        0x1305 => (AeadAlg::Aes128Ccm8, HashAlg::Sha256),
        _ => return None,
    })
}

/// TLS 1.0–1.2 suites with AES or ChaCha20 (any key exchange: the master
/// secret comes from the key log).
pub(crate) fn tls12_suite(cs: CipherSuite) -> Option<Tls12Suite> {
    use AeadAlg::*;
    use HashAlg::{Sha256 as P256, Sha384 as P384};
    let aead = |alg, prf| Tls12Suite {
        protection: Protection::Aead(alg),
        prf,
    };
    let cbc = |key_len, mac, prf| Tls12Suite {
        protection: Protection::Cbc { key_len, mac },
        prf,
    };
    Some(match cs.0 {
        // AES-GCM, SHA-256 PRF
        0x009c | 0x009e | 0x00a0 | 0x00a2 | 0x00a4 | 0x00a6 | 0x00a8 | 0x00aa | 0x00ac | 0xc02b
        | 0xc02d | 0xc02f | 0xc031 | 0xd001 => aead(Aes128Gcm, P256),
        // AES-GCM, SHA-384 PRF
        0x009d | 0x009f | 0x00a1 | 0x00a3 | 0x00a5 | 0x00a7 | 0x00a9 | 0x00ab | 0x00ad | 0xc02c
        | 0xc02e | 0xc030 | 0xc032 | 0xd002 => aead(Aes256Gcm, P384),
        // ChaCha20-Poly1305
        0xcca8..=0xccae => aead(ChaCha20Poly1305, P256),
        // AES-CCM (all with the SHA-256 PRF)
        0xc09c | 0xc09e | 0xc0a4 | 0xc0a6 | 0xc0ac | 0xd005 => aead(Aes128Ccm, P256),
        0xc09d | 0xc09f | 0xc0a5 | 0xc0a7 | 0xc0ad => aead(Aes256Ccm, P256),
        0xc0a0 | 0xc0a2 | 0xc0a8 | 0xc0aa | 0xc0ae | 0xd003 => aead(Aes128Ccm8, P256),
        0xc0a1 | 0xc0a3 | 0xc0a9 | 0xc0ab | 0xc0af => aead(Aes256Ccm8, P256),
        // AES-CBC with HMAC-SHA1
        0x002f..=0x0034
        | 0x008c
        | 0x0090
        | 0x0094
        | 0xc004
        | 0xc009
        | 0xc00e
        | 0xc013
        | 0xc018
        | 0xc035 => cbc(16, MacAlg::Sha1, P256),
        0x0035..=0x003a
        | 0x008d
        | 0x0091
        | 0x0095
        | 0xc005
        | 0xc00a
        | 0xc00f
        | 0xc014
        | 0xc019
        | 0xc036 => cbc(32, MacAlg::Sha1, P256),
        // AES-CBC with HMAC-SHA256
        0x003c | 0x003e | 0x003f | 0x0040 | 0x0067 | 0x006c | 0x00ae | 0x00b2 | 0x00b6 | 0xc023
        | 0xc025 | 0xc027 | 0xc029 | 0xc037 => cbc(16, MacAlg::Sha256, P256),
        0x003d | 0x0068 | 0x0069 | 0x006a | 0x006b | 0x006d => cbc(32, MacAlg::Sha256, P256),
        // AES-CBC with HMAC-SHA384 (SHA-384 PRF)
        0x00af | 0x00b3 | 0x00b7 | 0xc024 | 0xc026 | 0xc028 | 0xc02a | 0xc038 => {
            cbc(32, MacAlg::Sha384, P384)
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_suites() {
        let s = |v| tls12_suite(CipherSuite(v));
        assert_eq!(
            s(0xc02f),
            Some(Tls12Suite {
                protection: Protection::Aead(AeadAlg::Aes128Gcm),
                prf: HashAlg::Sha256
            })
        );
        assert_eq!(s(0xc030).map(|x| x.prf), Some(HashAlg::Sha384));
        assert_eq!(
            s(0x002f).map(|x| x.protection),
            Some(Protection::Cbc {
                key_len: 16,
                mac: MacAlg::Sha1
            })
        );
        assert_eq!(
            s(0xc028),
            Some(Tls12Suite {
                protection: Protection::Cbc {
                    key_len: 32,
                    mac: MacAlg::Sha384
                },
                prf: HashAlg::Sha384
            })
        );
        assert_eq!(
            s(0xc0ae).map(|x| x.protection),
            Some(Protection::Aead(AeadAlg::Aes128Ccm8))
        );
        assert_eq!(
            s(0xccaa).map(|x| x.protection),
            Some(Protection::Aead(AeadAlg::ChaCha20Poly1305))
        );
        // 3DES, RC4, NULL: not supported
        assert_eq!(s(0x000a), None);
        assert_eq!(s(0x0005), None);
        assert_eq!(s(0x0002), None);
        assert_eq!(
            tls13_suite(CipherSuite(0x1305)).map(|x| x.0.tag_len()),
            Some(8)
        );
        assert_eq!(tls13_suite(CipherSuite(0xc02f)), None);
    }
}
