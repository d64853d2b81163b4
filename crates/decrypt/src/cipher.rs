//! Keyed record ciphers over the RustCrypto crates: AEADs with a 12-byte
//! nonce, AES-CBC and the HMACs of CBC suites.

use crate::suite::{AeadAlg, MacAlg};
use aes::{Aes128, Aes256};
use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use ccm::consts::{U12, U16, U8};
use ccm::Ccm;
use chacha20poly1305::ChaCha20Poly1305;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Sha256, Sha384};

type Aes128Ccm = Ccm<Aes128, U16, U12>;
type Aes256Ccm = Ccm<Aes256, U16, U12>;
type Aes128Ccm8 = Ccm<Aes128, U8, U12>;
type Aes256Ccm8 = Ccm<Aes256, U8, U12>;

/// An AEAD with its key expanded.
pub(crate) enum AeadKey {
    Aes128Gcm(Box<Aes128Gcm>),
    Aes256Gcm(Box<Aes256Gcm>),
    ChaCha20Poly1305(Box<ChaCha20Poly1305>),
    Aes128Ccm(Box<Aes128Ccm>),
    Aes256Ccm(Box<Aes256Ccm>),
    Aes128Ccm8(Box<Aes128Ccm8>),
    Aes256Ccm8(Box<Aes256Ccm8>),
}

impl std::fmt::Debug for AeadKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AeadKey")
    }
}

/// Opens `buf` in place with a 16-byte tag.
fn open16<A: AeadInPlace<NonceSize = U12, TagSize = U16>>(
    a: &A,
    nonce: &[u8; 12],
    aad: &[u8],
    buf: &mut [u8],
    tag: &[u8],
) -> bool {
    let Ok(tag): Result<[u8; 16], _> = tag.try_into() else {
        return false;
    };
    a.decrypt_in_place_detached(
        &GenericArray::from(*nonce),
        aad,
        buf,
        &GenericArray::from(tag),
    )
    .is_ok()
}

/// Opens `buf` in place with an 8-byte tag.
fn open8<A: AeadInPlace<NonceSize = U12, TagSize = U8>>(
    a: &A,
    nonce: &[u8; 12],
    aad: &[u8],
    buf: &mut [u8],
    tag: &[u8],
) -> bool {
    let Ok(tag): Result<[u8; 8], _> = tag.try_into() else {
        return false;
    };
    a.decrypt_in_place_detached(
        &GenericArray::from(*nonce),
        aad,
        buf,
        &GenericArray::from(tag),
    )
    .is_ok()
}

impl AeadKey {
    /// None when the key has the wrong length.
    pub(crate) fn new(alg: AeadAlg, key: &[u8]) -> Option<AeadKey> {
        Some(match alg {
            AeadAlg::Aes128Gcm => {
                AeadKey::Aes128Gcm(Box::new(Aes128Gcm::new_from_slice(key).ok()?))
            }
            AeadAlg::Aes256Gcm => {
                AeadKey::Aes256Gcm(Box::new(Aes256Gcm::new_from_slice(key).ok()?))
            }
            AeadAlg::ChaCha20Poly1305 => {
                AeadKey::ChaCha20Poly1305(Box::new(ChaCha20Poly1305::new_from_slice(key).ok()?))
            }
            AeadAlg::Aes128Ccm => {
                AeadKey::Aes128Ccm(Box::new(Aes128Ccm::new_from_slice(key).ok()?))
            }
            AeadAlg::Aes256Ccm => {
                AeadKey::Aes256Ccm(Box::new(Aes256Ccm::new_from_slice(key).ok()?))
            }
            AeadAlg::Aes128Ccm8 => {
                AeadKey::Aes128Ccm8(Box::new(Aes128Ccm8::new_from_slice(key).ok()?))
            }
            AeadAlg::Aes256Ccm8 => {
                AeadKey::Aes256Ccm8(Box::new(Aes256Ccm8::new_from_slice(key).ok()?))
            }
        })
    }

    /// Decrypts `buf` in place and checks `tag`; false when it does not
    /// authenticate (then `buf` holds garbage).
    pub(crate) fn open(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> bool {
        match self {
            AeadKey::Aes128Gcm(a) => open16(a.as_ref(), nonce, aad, buf, tag),
            AeadKey::Aes256Gcm(a) => open16(a.as_ref(), nonce, aad, buf, tag),
            AeadKey::ChaCha20Poly1305(a) => open16(a.as_ref(), nonce, aad, buf, tag),
            AeadKey::Aes128Ccm(a) => open16(a.as_ref(), nonce, aad, buf, tag),
            AeadKey::Aes256Ccm(a) => open16(a.as_ref(), nonce, aad, buf, tag),
            AeadKey::Aes128Ccm8(a) => open8(a.as_ref(), nonce, aad, buf, tag),
            AeadKey::Aes256Ccm8(a) => open8(a.as_ref(), nonce, aad, buf, tag),
        }
    }
}

/// An AES key for CBC decryption, expanded once.
#[derive(Clone)]
pub(crate) enum CbcKey {
    Aes128(Box<Aes128>),
    Aes256(Box<Aes256>),
}

impl std::fmt::Debug for CbcKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CbcKey")
    }
}

impl CbcKey {
    pub(crate) fn new(key: &[u8]) -> Option<CbcKey> {
        match key.len() {
            16 => Some(CbcKey::Aes128(Box::new(Aes128::new_from_slice(key).ok()?))),
            32 => Some(CbcKey::Aes256(Box::new(Aes256::new_from_slice(key).ok()?))),
            _ => None,
        }
    }

    /// CBC-decrypts `buf` (a whole number of 16-byte blocks) in place.
    pub(crate) fn decrypt(&self, iv: &[u8; 16], buf: &mut [u8]) -> bool {
        use cbc::cipher::block_padding::NoPadding;
        use cbc::cipher::{BlockDecryptMut, InnerIvInit};
        if buf.len() % 16 != 0 {
            return false;
        }
        let iv = GenericArray::from(*iv);
        match self {
            CbcKey::Aes128(k) => cbc::Decryptor::<Aes128>::inner_iv_init((**k).clone(), &iv)
                .decrypt_padded_mut::<NoPadding>(buf)
                .is_ok(),
            CbcKey::Aes256(k) => cbc::Decryptor::<Aes256>::inner_iv_init((**k).clone(), &iv)
                .decrypt_padded_mut::<NoPadding>(buf)
                .is_ok(),
        }
    }
}

/// A keyed HMAC of a CBC suite.
#[derive(Clone)]
pub(crate) enum MacKey {
    Sha1(Box<Hmac<Sha1>>),
    Sha256(Box<Hmac<Sha256>>),
    Sha384(Box<Hmac<Sha384>>),
}

impl std::fmt::Debug for MacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MacKey")
    }
}

impl MacKey {
    pub(crate) fn new(alg: MacAlg, key: &[u8]) -> Option<MacKey> {
        Some(match alg {
            MacAlg::Sha1 => MacKey::Sha1(Box::new(<Hmac<Sha1> as Mac>::new_from_slice(key).ok()?)),
            MacAlg::Sha256 => {
                MacKey::Sha256(Box::new(<Hmac<Sha256> as Mac>::new_from_slice(key).ok()?))
            }
            MacAlg::Sha384 => {
                MacKey::Sha384(Box::new(<Hmac<Sha384> as Mac>::new_from_slice(key).ok()?))
            }
        })
    }

    /// True when HMAC(parts…) equals `expected`.
    pub(crate) fn verify(&self, parts: &[&[u8]], expected: &[u8]) -> bool {
        fn run<M: Mac + Clone>(m: &M, parts: &[&[u8]], expected: &[u8]) -> bool {
            let mut m = m.clone();
            for p in parts {
                m.update(p);
            }
            m.verify_slice(expected).is_ok()
        }
        match self {
            MacKey::Sha1(m) => run(m.as_ref(), parts, expected),
            MacKey::Sha256(m) => run(m.as_ref(), parts, expected),
            MacKey::Sha384(m) => run(m.as_ref(), parts, expected),
        }
    }
}
