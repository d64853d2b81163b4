//! The secrets of a run: the key logs given and what a capture's
//! Decryption Secrets Blocks add, shared by the analyzer and its flows.

use std::sync::{Arc, PoisonError, RwLock};
use tlsclose_decrypt::{KeyLog, KeyLogWarning, Secret, Secrets};

/// The secrets of a run, shared by the analyzer and its flows: a
/// Decryption Secrets Block met halfway through a capture serves the flows
/// that are already open too. The key logs given are shared by every
/// store made from the same `Arc` (every worker thread, every capture)
/// and copied only when a Decryption Secrets Block adds to them.
#[derive(Debug, Clone, Default)]
pub struct KeyStore(Arc<RwLock<Arc<KeyLog>>>);

impl KeyStore {
    pub fn new(log: KeyLog) -> KeyStore {
        KeyStore::shared(Arc::new(log))
    }

    /// A store that reads `log` without copying it (until a Decryption
    /// Secrets Block adds to it: then this store gets its own copy, so
    /// that what one thread meets in a capture never reaches another
    /// earlier than its own reading of the capture would).
    pub fn shared(log: Arc<KeyLog>) -> KeyStore {
        KeyStore(Arc::new(RwLock::new(log)))
    }

    /// Adds the secrets of a pcapng Decryption Secrets Block.
    pub fn add_dsb(&self, secrets_type: u32, data: &[u8], source: &str) -> Vec<KeyLogWarning> {
        let mut log = self.0.write().unwrap_or_else(PoisonError::into_inner);
        Arc::make_mut(&mut log).add_dsb(secrets_type, data, source)
    }

    /// Connections (client randoms) with secrets.
    pub fn len(&self) -> usize {
        self.0.read().unwrap_or_else(PoisonError::into_inner).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when secrets for this ClientHello.random are known, or `RSA`
    /// lines may serve it (known at its ClientKeyExchange).
    pub fn has(&self, client_random: &[u8; 32]) -> bool {
        let log = self.0.read().unwrap_or_else(PoisonError::into_inner);
        log.lookup(client_random).is_some() || log.has_rsa()
    }

    pub(super) fn has_rsa(&self) -> bool {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .has_rsa()
    }

    pub(super) fn lookup_rsa(&self, encrypted_pre_master: &[u8]) -> Option<Secret> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .lookup_rsa(encrypted_pre_master)
            .cloned()
    }

    pub(super) fn lookup(&self, client_random: &[u8; 32]) -> Option<Secrets> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .lookup(client_random)
            .cloned()
    }
}

#[cfg(test)]
mod store_tests {
    use super::*;
    use tlsclose_decrypt::DSB_TLS_KEY_LOG;

    fn line(random: u8, secret: u8) -> String {
        format!(
            "CLIENT_RANDOM {} {}\n",
            format!("{random:02x}").repeat(32),
            format!("{secret:02x}").repeat(48)
        )
    }

    #[test]
    fn stores_share_the_key_logs_until_a_secrets_block_adds_to_one() {
        let (log, warnings) = KeyLog::parse(&line(1, 0xaa), "given");
        assert!(warnings.is_empty(), "{warnings:?}");
        let log = Arc::new(log);
        let (a, b) = (
            KeyStore::shared(Arc::clone(&log)),
            KeyStore::shared(Arc::clone(&log)),
        );
        // no copy: three owners of one key log
        assert_eq!(Arc::strong_count(&log), 3);
        assert!(a.has(&[1; 32]) && b.has(&[1; 32]));
        // a secrets block read by one thread reaches only its store
        let w = a.add_dsb(DSB_TLS_KEY_LOG, line(2, 0xbb).as_bytes(), "dsb");
        assert!(w.is_empty(), "{w:?}");
        assert!(a.has(&[2; 32]));
        assert!(!b.has(&[2; 32]));
        assert!(a.has(&[1; 32]) && b.has(&[1; 32]));
        assert_eq!((a.len(), b.len(), log.len()), (2, 1, 1));
        // a clone of a store is the same store (the analyzer and its flows)
        let a2 = a.clone();
        assert!(a2.has(&[2; 32]));
    }
}
