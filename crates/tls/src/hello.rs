//! ClientHello / ServerHello: just the fields the verdict and reports need.
use crate::types::{CipherSuite, HandshakeType, ProtocolVersion};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHello {
    pub legacy_version: ProtocolVersion,
    pub random: [u8; 32],
    pub session_id: Vec<u8>,
    pub cipher_suites: Vec<CipherSuite>,
    /// server_name extension, host_name entry (lossy UTF-8, length-capped).
    pub sni: Option<String>,
    pub alpn: Vec<String>,
    /// supported_versions extension, GREASE values removed.
    pub supported_versions: Vec<ProtocolVersion>,
    pub extension_count: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello {
    pub legacy_version: ProtocolVersion,
    pub random: [u8; 32],
    pub cipher_suite: CipherSuite,
    /// supported_versions extension (TLS 1.3), if present.
    pub selected_version: Option<ProtocolVersion>,
    pub alpn: Option<String>,
    /// The random is the HelloRetryRequest magic (RFC 8446 §4.1.3).
    pub is_hello_retry_request: bool,
    pub extended_master_secret: bool,
    pub encrypt_then_mac: bool,
}

impl ServerHello {
    /// The negotiated version: supported_versions when present, else legacy_version.
    pub fn negotiated_version(&self) -> ProtocolVersion {
        self.selected_version.unwrap_or(self.legacy_version)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelloError {
    /// The body ends before a field it announces.
    Truncated,
    /// A length or value is impossible.
    Malformed(&'static str),
}

/// Parses a ClientHello handshake *body* (after the 4-byte handshake header).
pub fn parse_client_hello(_body: &[u8]) -> Result<ClientHello, HelloError> {
    todo!()
}

/// Parses a ServerHello handshake body.
pub fn parse_server_hello(_body: &[u8]) -> Result<ServerHello, HelloError> {
    todo!()
}

/// Joins plaintext handshake record bodies into whole handshake messages
/// (a message may span records; a record may hold several messages).
/// Bounded: a message announced longer than `max_message` is skipped.
#[derive(Debug)]
pub struct HandshakeAssembler {
    _private: (),
}

impl HandshakeAssembler {
    pub fn new(_max_message: usize) -> Self {
        todo!()
    }
    /// Adds a handshake record body; calls `f` for each message completed.
    pub fn push(&mut self, _body: &[u8], _f: &mut dyn FnMut(HandshakeType, &[u8])) {
        todo!()
    }
    /// Forget a partial message (after a gap or when the record layer lost sync).
    pub fn reset(&mut self) {
        todo!()
    }
}
