//! TLS 1.0–1.2 master secrets from a logged pre-master secret (the key
//! log's `PMS_CLIENT_RANDOM` and `RSA` lines): RFC 5246 §8.1, or RFC 7627
//! §4 when the hellos negotiated extended_master_secret, which needs the
//! hash of the handshake messages up to and including ClientKeyExchange.

use crate::decrypter::{KeyError, SessionInfo};
use crate::kdf::{prf_tls10, prf_tls12, HashAlg};
use crate::keylog::{Secret, SecretLabel};
use crate::suite::tls12_suite;
use hmac::digest::Digest;
use md5::Md5;
use sha1::Sha1;
use sha2::{Sha256, Sha384};
use tlsclose_tls::ProtocolVersion;

/// The hash of the handshake messages (`transcript`: ClientHello through
/// ClientKeyExchange, headers included) that an extended master secret is
/// derived from: the PRF hash in TLS 1.2, MD5 ‖ SHA-1 before.
pub fn session_hash(session: &SessionInfo, transcript: &[u8]) -> Result<Vec<u8>, KeyError> {
    match session.version {
        ProtocolVersion::TLS1_2 => {
            let suite = tls12_suite(session.cipher_suite)
                .ok_or(KeyError::UnsupportedCipherSuite(session.cipher_suite))?;
            Ok(match suite.prf {
                HashAlg::Sha256 => Sha256::digest(transcript).to_vec(),
                HashAlg::Sha384 => Sha384::digest(transcript).to_vec(),
            })
        }
        ProtocolVersion::TLS1_0 | ProtocolVersion::TLS1_1 => {
            let mut h = Md5::digest(transcript).to_vec();
            h.extend_from_slice(&Sha1::digest(transcript));
            Ok(h)
        }
        v => Err(KeyError::UnsupportedVersion(v)),
    }
}

/// The 48-byte master secret of a TLS ≤ 1.2 connection from its
/// pre-master secret. `session_hash` (see [`session_hash`]) when the
/// connection uses extended_master_secret, `None` otherwise.
pub fn master_secret(
    session: &SessionInfo,
    pre_master: &[u8],
    session_hash: Option<&[u8]>,
) -> Result<Secret, KeyError> {
    let mut random = [0u8; 64];
    for (d, s) in random
        .iter_mut()
        .zip(session.client_random.iter().chain(&session.server_random))
    {
        *d = *s;
    }
    let (label, seed): (&[u8], &[u8]) = match session_hash {
        Some(h) => (b"extended master secret", h),
        None => (b"master secret", &random),
    };
    let mut master = [0u8; 48];
    match session.version {
        ProtocolVersion::TLS1_2 => {
            let suite = tls12_suite(session.cipher_suite)
                .ok_or(KeyError::UnsupportedCipherSuite(session.cipher_suite))?;
            prf_tls12(suite.prf, pre_master, label, seed, &mut master);
        }
        ProtocolVersion::TLS1_0 | ProtocolVersion::TLS1_1 => {
            prf_tls10(pre_master, label, seed, &mut master);
        }
        v => return Err(KeyError::UnsupportedVersion(v)),
    }
    if pre_master.is_empty() {
        return Err(KeyError::BadSecretLength {
            label: SecretLabel::PreMasterSecret,
            len: 0,
        });
    }
    Ok(Secret::new(&master))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tlsclose_tls::CipherSuite;

    fn session(version: ProtocolVersion) -> SessionInfo {
        SessionInfo {
            version,
            cipher_suite: CipherSuite(0xc02f),
            client_random: [1; 32],
            server_random: [2; 32],
            encrypt_then_mac: false,
        }
    }

    #[test]
    fn master_secret_is_the_prf_of_the_pre_master_secret() {
        let s = session(ProtocolVersion::TLS1_2);
        let pms = [7u8; 48];
        let mut seed = [1u8; 64];
        seed[32..].fill(2);
        let mut want = [0u8; 48];
        prf_tls12(HashAlg::Sha256, &pms, b"master secret", &seed, &mut want);
        let got = master_secret(&s, &pms, None).expect("derived");
        assert_eq!(got.as_bytes(), want);
        // extended: the session hash replaces the randoms
        let h = session_hash(&s, b"transcript").expect("hash");
        assert_eq!(h, Sha256::digest(b"transcript").to_vec());
        prf_tls12(
            HashAlg::Sha256,
            &pms,
            b"extended master secret",
            &h,
            &mut want,
        );
        let got = master_secret(&s, &pms, Some(&h)).expect("derived");
        assert_eq!(got.as_bytes(), want);
        // TLS 1.0: MD5 ‖ SHA-1
        let s = session(ProtocolVersion::TLS1_0);
        assert_eq!(session_hash(&s, b"x").map(|h| h.len()), Ok(36));
        assert!(master_secret(&s, &pms, None).is_ok());
        let s = session(ProtocolVersion::TLS1_3);
        assert_eq!(
            master_secret(&s, &pms, None),
            Err(KeyError::UnsupportedVersion(ProtocolVersion::TLS1_3))
        );
        assert!(master_secret(&session(ProtocolVersion::TLS1_2), &[], None).is_err());
    }
}
