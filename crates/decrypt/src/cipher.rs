//! Keyed record ciphers over the RustCrypto crates: AEADs with a 12-byte
//! nonce, AES-CBC and the HMACs of CBC suites.
//!
//! Each is one generic implementation over the RustCrypto trait
//! ([`AeadInPlace`], [`BlockDecrypt`], [`Mac`]) behind a small object-safe
//! trait of ours; the suite tables only say which concrete type to key.

use crate::suite::{AeadAlg, MacAlg};
use aes::{Aes128, Aes256};
use aes_gcm::aead::generic_array::typenum::Unsigned;
use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use cbc::cipher::{BlockCipher, BlockDecrypt};
use ccm::consts::{U12, U16, U8};
use ccm::Ccm;
use chacha20poly1305::ChaCha20Poly1305;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Sha256, Sha384};

/// Opening a record with some AEAD whose nonce is 12 bytes.
trait RecordAead: Send + Sync {
    /// Decrypts `buf` in place and checks `tag`.
    fn open(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> bool;
}

impl<A: AeadInPlace<NonceSize = U12> + Send + Sync> RecordAead for A {
    fn open(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> bool {
        if tag.len() != A::TagSize::USIZE {
            return false;
        }
        let tag = GenericArray::<u8, A::TagSize>::from_slice(tag);
        self.decrypt_in_place_detached(&GenericArray::from(*nonce), aad, buf, tag)
            .is_ok()
    }
}

/// An AEAD with its key expanded.
pub(crate) struct AeadKey(Box<dyn RecordAead>);

impl std::fmt::Debug for AeadKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AeadKey")
    }
}

/// Keys an `A`; None when the key has the wrong length.
fn keyed_aead<A>(key: &[u8]) -> Option<AeadKey>
where
    A: AeadInPlace<NonceSize = U12> + KeyInit + Send + Sync + 'static,
{
    Some(AeadKey(Box::new(A::new_from_slice(key).ok()?)))
}

impl AeadKey {
    /// None when the key has the wrong length.
    pub(crate) fn new(alg: AeadAlg, key: &[u8]) -> Option<AeadKey> {
        match alg {
            AeadAlg::Aes128Gcm => keyed_aead::<Aes128Gcm>(key),
            AeadAlg::Aes256Gcm => keyed_aead::<Aes256Gcm>(key),
            AeadAlg::ChaCha20Poly1305 => keyed_aead::<ChaCha20Poly1305>(key),
            AeadAlg::Aes128Ccm => keyed_aead::<Ccm<Aes128, U16, U12>>(key),
            AeadAlg::Aes256Ccm => keyed_aead::<Ccm<Aes256, U16, U12>>(key),
            AeadAlg::Aes128Ccm8 => keyed_aead::<Ccm<Aes128, U8, U12>>(key),
            AeadAlg::Aes256Ccm8 => keyed_aead::<Ccm<Aes256, U8, U12>>(key),
        }
    }

    /// Decrypts `buf` in place and checks `tag`; false when it does not
    /// authenticate (then `buf` holds garbage).
    pub(crate) fn open(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> bool {
        self.0.open(nonce, aad, buf, tag)
    }
}

/// CBC decryption with some 16-byte block cipher.
trait RecordCbc: Send + Sync {
    /// CBC-decrypts `buf` (a whole number of blocks) in place.
    fn decrypt(&self, iv: &[u8; 16], buf: &mut [u8]) -> bool;
}

impl<C> RecordCbc for C
where
    C: BlockCipher + BlockDecrypt<BlockSize = U16> + Clone + Send + Sync,
{
    fn decrypt(&self, iv: &[u8; 16], buf: &mut [u8]) -> bool {
        use cbc::cipher::block_padding::NoPadding;
        use cbc::cipher::{BlockDecryptMut, InnerIvInit};
        if buf.len() % 16 != 0 {
            return false;
        }
        cbc::Decryptor::<C>::inner_iv_init(self.clone(), &GenericArray::from(*iv))
            .decrypt_padded_mut::<NoPadding>(buf)
            .is_ok()
    }
}

/// An AES key for CBC decryption, expanded once.
pub(crate) struct CbcKey(Box<dyn RecordCbc>);

impl std::fmt::Debug for CbcKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CbcKey")
    }
}

fn keyed_cbc<C>(key: &[u8]) -> Option<CbcKey>
where
    C: BlockCipher + BlockDecrypt<BlockSize = U16> + KeyInit + Clone + Send + Sync + 'static,
{
    Some(CbcKey(Box::new(C::new_from_slice(key).ok()?)))
}

impl CbcKey {
    /// AES-128 or AES-256 by the key's length.
    pub(crate) fn new(key: &[u8]) -> Option<CbcKey> {
        match key.len() {
            16 => keyed_cbc::<Aes128>(key),
            32 => keyed_cbc::<Aes256>(key),
            _ => None,
        }
    }

    /// CBC-decrypts `buf` (a whole number of 16-byte blocks) in place.
    pub(crate) fn decrypt(&self, iv: &[u8; 16], buf: &mut [u8]) -> bool {
        self.0.decrypt(iv, buf)
    }
}

/// Checking a record MAC with some keyed HMAC.
trait RecordMac: Send + Sync {
    /// True when HMAC(parts…) equals `expected`.
    fn verify(&self, parts: &[&[u8]], expected: &[u8]) -> bool;
}

impl<M: Mac + Clone + Send + Sync> RecordMac for M {
    fn verify(&self, parts: &[&[u8]], expected: &[u8]) -> bool {
        let mut m = self.clone();
        for p in parts {
            m.update(p);
        }
        m.verify_slice(expected).is_ok()
    }
}

/// A keyed HMAC of a CBC suite.
pub(crate) struct MacKey(Box<dyn RecordMac>);

impl std::fmt::Debug for MacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MacKey")
    }
}

fn keyed_mac<M>(key: &[u8]) -> Option<MacKey>
where
    M: Mac + hmac::digest::KeyInit + Clone + Send + Sync + 'static,
{
    Some(MacKey(Box::new(<M as Mac>::new_from_slice(key).ok()?)))
}

impl MacKey {
    pub(crate) fn new(alg: MacAlg, key: &[u8]) -> Option<MacKey> {
        match alg {
            MacAlg::Sha1 => keyed_mac::<Hmac<Sha1>>(key),
            MacAlg::Sha256 => keyed_mac::<Hmac<Sha256>>(key),
            MacAlg::Sha384 => keyed_mac::<Hmac<Sha384>>(key),
        }
    }

    /// True when HMAC(parts…) equals `expected`.
    pub(crate) fn verify(&self, parts: &[&[u8]], expected: &[u8]) -> bool {
        self.0.verify(parts, expected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_key_and_tag_lengths_are_refused_not_panics() {
        for alg in [
            AeadAlg::Aes128Gcm,
            AeadAlg::Aes256Gcm,
            AeadAlg::ChaCha20Poly1305,
            AeadAlg::Aes128Ccm,
            AeadAlg::Aes256Ccm,
            AeadAlg::Aes128Ccm8,
            AeadAlg::Aes256Ccm8,
        ] {
            assert!(AeadKey::new(alg, &[0; 15]).is_none(), "{alg:?}");
            let key = vec![1u8; alg.key_len()];
            let k = AeadKey::new(alg, &key).expect("right length");
            let mut buf = [0u8; 20];
            for tag_len in [0, 7, 8, 15, 16, 17] {
                assert!(!k.open(&[0; 12], b"", &mut buf, &vec![0; tag_len][..]));
            }
        }
        assert!(CbcKey::new(&[0; 24]).is_none());
        let cbc = CbcKey::new(&[0; 16]).expect("aes-128");
        assert!(!cbc.decrypt(&[0; 16], &mut [0; 15]));
        assert!(cbc.decrypt(&[0; 16], &mut [0; 32]));
    }

    #[test]
    fn aead_round_trip_with_each_tag_size() {
        use aes_gcm::aead::AeadInPlace;
        let key = [9u8; 16];
        let nonce = [3u8; 12];
        // an 8-byte tag (CCM-8) and a 16-byte one (GCM)
        let ccm8 = Ccm::<Aes128, U8, U12>::new_from_slice(&key).expect("key");
        let mut buf = *b"hello, records";
        let tag = ccm8
            .encrypt_in_place_detached(&GenericArray::from(nonce), b"ad", &mut buf)
            .expect("seal");
        let k = AeadKey::new(AeadAlg::Aes128Ccm8, &key).expect("key");
        let mut opened = buf;
        assert!(k.open(&nonce, b"ad", &mut opened, &tag));
        assert_eq!(&opened, b"hello, records");
        let mut opened = buf;
        assert!(!k.open(&nonce, b"AD", &mut opened, &tag));

        let gcm = Aes128Gcm::new_from_slice(&key).expect("key");
        let mut buf = *b"hello, records";
        let tag = gcm
            .encrypt_in_place_detached(&GenericArray::from(nonce), b"ad", &mut buf)
            .expect("seal");
        let k = AeadKey::new(AeadAlg::Aes128Gcm, &key).expect("key");
        assert!(k.open(&nonce, b"ad", &mut buf, &tag));
        assert_eq!(&buf, b"hello, records");
    }
}
