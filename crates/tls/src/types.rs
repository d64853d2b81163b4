//! Open newtypes for TLS protocol numbers: unknown values stay representable
//! and printable; known ones have names.

use std::fmt;

/// Record content type (RFC 8446 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContentType(pub u8);

impl ContentType {
    pub const CHANGE_CIPHER_SPEC: ContentType = ContentType(20);
    pub const ALERT: ContentType = ContentType(21);
    pub const HANDSHAKE: ContentType = ContentType(22);
    pub const APPLICATION_DATA: ContentType = ContentType(23);
    pub const HEARTBEAT: ContentType = ContentType(24);

    pub fn name(self) -> Option<&'static str> {
        todo!()
    }
}

/// Protocol version as carried on the wire (0x0303 = TLS 1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProtocolVersion(pub u16);

impl ProtocolVersion {
    pub const SSL3: ProtocolVersion = ProtocolVersion(0x0300);
    pub const TLS1_0: ProtocolVersion = ProtocolVersion(0x0301);
    pub const TLS1_1: ProtocolVersion = ProtocolVersion(0x0302);
    pub const TLS1_2: ProtocolVersion = ProtocolVersion(0x0303);
    pub const TLS1_3: ProtocolVersion = ProtocolVersion(0x0304);

    /// "SSL 3.0", "TLS 1.0" … "TLS 1.3"; None for other values (GREASE, drafts).
    pub fn name(self) -> Option<&'static str> {
        todo!()
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        todo!()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AlertLevel(pub u8);
impl AlertLevel {
    pub const WARNING: AlertLevel = AlertLevel(1);
    pub const FATAL: AlertLevel = AlertLevel(2);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AlertDescription(pub u8);
impl AlertDescription {
    pub const CLOSE_NOTIFY: AlertDescription = AlertDescription(0);
    /// The registry name ("close_notify", "unknown_ca", …), None if unassigned.
    pub fn name(self) -> Option<&'static str> {
        todo!()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Alert {
    pub level: AlertLevel,
    pub description: AlertDescription,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HandshakeType(pub u8);
impl HandshakeType {
    pub const CLIENT_HELLO: HandshakeType = HandshakeType(1);
    pub const SERVER_HELLO: HandshakeType = HandshakeType(2);
    pub const NEW_SESSION_TICKET: HandshakeType = HandshakeType(4);
    pub const FINISHED: HandshakeType = HandshakeType(20);
    pub const KEY_UPDATE: HandshakeType = HandshakeType(24);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CipherSuite(pub u16);
impl CipherSuite {
    /// IANA name for common suites, None otherwise.
    pub fn name(self) -> Option<&'static str> {
        todo!()
    }
}
