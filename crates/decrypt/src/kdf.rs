//! Key derivation: the TLS 1.0–1.2 PRF (RFC 2246 §5, RFC 5246 §5) and
//! TLS 1.3 HKDF-Expand-Label (RFC 8446 §7.1).

use hkdf::Hkdf;
use hmac::digest::core_api::BlockSizeUser;
use hmac::digest::Digest;
use hmac::{Mac, SimpleHmac};
use md5::Md5;
use sha1::Sha1;
use sha2::{Sha256, Sha384};

/// The hash of a TLS 1.2 PRF or a TLS 1.3 key schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HashAlg {
    Sha256,
    Sha384,
}

impl HashAlg {
    pub(crate) fn len(self) -> usize {
        match self {
            HashAlg::Sha256 => 32,
            HashAlg::Sha384 => 48,
        }
    }
}

/// P_hash(secret, seed) (RFC 5246 §5), XORed into `out`.
fn p_hash_xor<D: Digest + BlockSizeUser + Clone>(secret: &[u8], seed: &[&[u8]], out: &mut [u8]) {
    let Ok(key) = SimpleHmac::<D>::new_from_slice(secret) else {
        // HMAC takes keys of any length: unreachable
        return;
    };
    // A(1) = HMAC(secret, seed)
    let mut a = {
        let mut m = key.clone();
        for s in seed {
            m.update(s);
        }
        m.finalize().into_bytes()
    };
    let mut filled = 0;
    while filled < out.len() {
        let mut m = key.clone();
        m.update(&a);
        for s in seed {
            m.update(s);
        }
        let block = m.finalize().into_bytes();
        for (o, b) in out.iter_mut().skip(filled).zip(block.iter()) {
            *o ^= b;
        }
        filled += block.len();
        let mut m = key.clone();
        m.update(&a);
        a = m.finalize().into_bytes();
    }
}

/// The TLS 1.2 PRF: P_SHA256 (or P_SHA384 for *_SHA384 suites).
pub(crate) fn prf_tls12(hash: HashAlg, secret: &[u8], label: &[u8], seed: &[u8], out: &mut [u8]) {
    out.fill(0);
    match hash {
        HashAlg::Sha256 => p_hash_xor::<Sha256>(secret, &[label, seed], out),
        HashAlg::Sha384 => p_hash_xor::<Sha384>(secret, &[label, seed], out),
    }
}

/// The TLS 1.0/1.1 PRF: P_MD5 over the first half of the secret XOR
/// P_SHA1 over the second half (the halves share a byte when odd).
pub(crate) fn prf_tls10(secret: &[u8], label: &[u8], seed: &[u8], out: &mut [u8]) {
    out.fill(0);
    let half = secret.len().div_ceil(2);
    let s1 = secret.get(..half).unwrap_or(secret);
    let s2 = secret.get(secret.len() - half..).unwrap_or(secret);
    p_hash_xor::<Md5>(s1, &[label, seed], out);
    p_hash_xor::<Sha1>(s2, &[label, seed], out);
}

/// HKDF-Expand-Label(secret, label, context, out.len()) (RFC 8446 §7.1).
/// False when the secret is shorter than the hash or `out` is too long.
pub(crate) fn hkdf_expand_label(
    hash: HashAlg,
    secret: &[u8],
    label: &[u8],
    context: &[u8],
    out: &mut [u8],
) -> bool {
    let (Ok(len), Ok(label_len), Ok(ctx_len)) = (
        u16::try_from(out.len()),
        u8::try_from(label.len() + 6),
        u8::try_from(context.len()),
    ) else {
        return false;
    };
    let len = len.to_be_bytes();
    let info: [&[u8]; 6] = [&len, &[label_len], b"tls13 ", label, &[ctx_len], context];
    match hash {
        HashAlg::Sha256 => Hkdf::<Sha256>::from_prk(secret)
            .ok()
            .and_then(|h| h.expand_multi_info(&info, out).ok())
            .is_some(),
        HashAlg::Sha384 => Hkdf::<Sha384>::from_prk(secret)
            .ok()
            .and_then(|h| h.expand_multi_info(&info, out).ok())
            .is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
            .collect()
    }

    #[test]
    fn tls12_prf_sha256_known_answer() {
        // The widely used TLS 1.2 PRF test vector (SHA-256), as published
        // on the IETF TLS list and used by many implementations' tests.
        let secret = unhex("9bbe436ba940f017b17652849a71db35");
        let seed = unhex("a0ba9f936cda311827a6f796ffd5198c");
        let mut out = [0u8; 100];
        prf_tls12(HashAlg::Sha256, &secret, b"test label", &seed, &mut out);
        let want = unhex(
            "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a\
             6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab\
             4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701\
             87347b66",
        );
        assert_eq!(out.to_vec(), want);
    }

    #[test]
    fn tls12_prf_sha384_known_answer() {
        let secret = unhex("b80b733d6ceefcdc71566ea48e5567df");
        let seed = unhex("cd665cf6a8447dd6ff8b27555edb7465");
        let mut out = [0u8; 148];
        prf_tls12(HashAlg::Sha384, &secret, b"test label", &seed, &mut out);
        let want = unhex(
            "7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cd\
             e9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd\
             8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d918425\
             9b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee6\
             91c8f3a26854308d5eaa3be85e0990703d73e56f",
        );
        assert_eq!(out.to_vec(), want);
    }

    #[test]
    fn hkdf_expand_label_rfc8448() {
        // RFC 8448 §3 (simple 1-RTT handshake): server handshake traffic
        // secret -> write key and IV.
        let secret = unhex("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38");
        let mut key = [0u8; 16];
        let mut iv = [0u8; 12];
        assert!(hkdf_expand_label(
            HashAlg::Sha256,
            &secret,
            b"key",
            b"",
            &mut key
        ));
        assert!(hkdf_expand_label(
            HashAlg::Sha256,
            &secret,
            b"iv",
            b"",
            &mut iv
        ));
        assert_eq!(key.to_vec(), unhex("3fce516009c21727d0f2e4e86ee403bc"));
        assert_eq!(iv.to_vec(), unhex("5d313eb2671276ee13000b30"));
        // a secret shorter than the hash is refused, not a panic
        assert!(!hkdf_expand_label(
            HashAlg::Sha384,
            &secret,
            b"key",
            b"",
            &mut key
        ));
    }

    #[test]
    fn tls10_prf_is_deterministic_and_splits_the_secret() {
        let mut a = [0u8; 40];
        let mut b = [0u8; 40];
        prf_tls10(&[1, 2, 3], b"x", b"y", &mut a);
        prf_tls10(&[1, 2, 3], b"x", b"y", &mut b);
        assert_eq!(a, b);
        prf_tls10(&[1, 2, 4], b"x", b"y", &mut b);
        assert_ne!(a, b);
        prf_tls10(&[], b"x", b"y", &mut b);
    }
}
