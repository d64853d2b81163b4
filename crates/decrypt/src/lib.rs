//! TLS record decryption with the secrets of an NSS key log, for reading
//! encrypted alerts and content types: which alert ended a connection, and
//! whether application data came after it.
//!
//! * [`KeyLog`]: secrets by client random, from `SSLKEYLOGFILE` files
//!   ([`KeyLog::from_file`], [`KeyLog::parse`]) and pcapng Decryption
//!   Secrets Blocks ([`KeyLog::add_dsb`]), merged; unreadable lines come
//!   back as [`KeyLogWarning`]s naming the source and line.
//! * [`master_secret`], [`session_hash`]: a TLS ≤ 1.2 master secret from a
//!   logged pre-master secret (`PMS_CLIENT_RANDOM`, `RSA`), extended master
//!   secret included.
//! * [`RecordDecrypter`]: one direction of one connection, built from the
//!   negotiated [`SessionInfo`] and the connection's [`Secrets`]; records
//!   in, [`Plaintext`] (real content type and content) out.
//!
//! Supported: TLS 1.3 (AES-128/256-GCM, ChaCha20-Poly1305, AES-128-CCM and
//! CCM-8; handshake and application keys, KeyUpdate generations, 0-RTT
//! keys when logged) and TLS 1.0–1.2 from the master secret (AES-GCM,
//! AES-CCM and CCM-8, ChaCha20-Poly1305, AES-CBC with HMAC-SHA1/SHA256/
//! SHA384, MAC-then-encrypt or encrypt-then-MAC), whatever the key
//! exchange. A record that does not authenticate is tried at the next
//! [`MAX_SKIP`] sequence numbers (and, in TLS 1.3, with the next keys of
//! the schedule), so records lost in a capture gap cost only themselves.
//!
//! The primitives are RustCrypto's (aes-gcm, chacha20poly1305, ccm, aes,
//! cbc, hkdf, hmac, sha1, sha2, md-5); this crate only implements the TLS
//! record layer around them.
//!
//! ```
//! use tlsclose_decrypt::{KeyLog, RecordDecrypter, SessionInfo, Side};
//! use tlsclose_tls::{CipherSuite, ContentType, ProtocolVersion};
//!
//! let cr = [0x11u8; 32];
//! let text = format!("CLIENT_RANDOM {} {}\n", "11".repeat(32), "22".repeat(48));
//! let (log, warnings) = KeyLog::parse(&text, "sslkeys.log");
//! assert!(warnings.is_empty());
//! let session = SessionInfo {
//!     version: ProtocolVersion::TLS1_2,
//!     cipher_suite: CipherSuite(0xc02f),
//!     client_random: cr,
//!     server_random: [0x33; 32],
//!     encrypt_then_mac: false,
//! };
//! let secrets = log.lookup(&cr).expect("logged");
//! let mut client = RecordDecrypter::new(&session, secrets, Side::Client).expect("supported");
//! client.change_cipher_spec();
//! // garbage does not authenticate: an error, never a panic
//! assert!(client
//!     .decrypt(ContentType::ALERT, ProtocolVersion::TLS1_2, &[0u8; 26])
//!     .is_err());
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::expect_used, clippy::indexing_slicing))]

mod cipher;
mod decrypter;
mod kdf;
mod keylog;
mod premaster;
mod suite;

pub use decrypter::{
    KeyError, Plaintext, RecordDecrypter, RecordError, SessionInfo, Side, MAX_FAILURES_IN_A_ROW,
    MAX_SKIP,
};
pub use keylog::{
    KeyLog, KeyLogError, KeyLogProblem, KeyLogWarning, Secret, SecretLabel, Secrets,
    DSB_TLS_KEY_LOG,
};
pub use premaster::{master_secret, session_hash};
