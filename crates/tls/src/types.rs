//! Open newtypes for TLS protocol numbers: unknown values stay representable
//! and printable; known ones have names.
//!
//! Names follow the IANA "Transport Layer Security (TLS) Parameters"
//! registries (content types, alerts, handshake types, cipher suites).

use std::fmt;

/// True for the GREASE values of RFC 8701 (0x0a0a, 0x1a1a, … 0xfafa), which
/// clients scatter among versions, cipher suites and extensions.
pub fn is_grease(value: u16) -> bool {
    let [hi, lo] = value.to_be_bytes();
    hi == lo && lo & 0x0f == 0x0a
}

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
        Some(match self.0 {
            20 => "change_cipher_spec",
            21 => "alert",
            22 => "handshake",
            23 => "application_data",
            24 => "heartbeat",
            _ => return None,
        })
    }
}

impl fmt::Display for ContentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "{}", self.0),
        }
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
        Some(match self.0 {
            0x0300 => "SSL 3.0",
            0x0301 => "TLS 1.0",
            0x0302 => "TLS 1.1",
            0x0303 => "TLS 1.2",
            0x0304 => "TLS 1.3",
            _ => return None,
        })
    }

    /// A GREASE value (RFC 8701), never a real version.
    pub fn is_grease(self) -> bool {
        is_grease(self.0)
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "0x{:04x}", self.0),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AlertLevel(pub u8);
impl AlertLevel {
    pub const WARNING: AlertLevel = AlertLevel(1);
    pub const FATAL: AlertLevel = AlertLevel(2);

    /// "warning" or "fatal"; None for other values.
    pub fn name(self) -> Option<&'static str> {
        match self.0 {
            1 => Some("warning"),
            2 => Some("fatal"),
            _ => None,
        }
    }
}

impl fmt::Display for AlertLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "{}", self.0),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AlertDescription(pub u8);
impl AlertDescription {
    pub const CLOSE_NOTIFY: AlertDescription = AlertDescription(0);
    pub const UNEXPECTED_MESSAGE: AlertDescription = AlertDescription(10);
    pub const BAD_RECORD_MAC: AlertDescription = AlertDescription(20);
    pub const HANDSHAKE_FAILURE: AlertDescription = AlertDescription(40);
    pub const BAD_CERTIFICATE: AlertDescription = AlertDescription(42);
    pub const CERTIFICATE_UNKNOWN: AlertDescription = AlertDescription(46);
    pub const ILLEGAL_PARAMETER: AlertDescription = AlertDescription(47);
    pub const UNKNOWN_CA: AlertDescription = AlertDescription(48);
    pub const DECODE_ERROR: AlertDescription = AlertDescription(50);
    pub const DECRYPT_ERROR: AlertDescription = AlertDescription(51);
    pub const PROTOCOL_VERSION: AlertDescription = AlertDescription(70);
    pub const INTERNAL_ERROR: AlertDescription = AlertDescription(80);
    pub const USER_CANCELED: AlertDescription = AlertDescription(90);
    pub const NO_RENEGOTIATION: AlertDescription = AlertDescription(100);
    pub const CERTIFICATE_REQUIRED: AlertDescription = AlertDescription(116);
    pub const NO_APPLICATION_PROTOCOL: AlertDescription = AlertDescription(120);

    /// The registry name ("close_notify", "unknown_ca", …), None if unassigned.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "close_notify",
            10 => "unexpected_message",
            20 => "bad_record_mac",
            21 => "decryption_failed",
            22 => "record_overflow",
            30 => "decompression_failure",
            40 => "handshake_failure",
            41 => "no_certificate",
            42 => "bad_certificate",
            43 => "unsupported_certificate",
            44 => "certificate_revoked",
            45 => "certificate_expired",
            46 => "certificate_unknown",
            47 => "illegal_parameter",
            48 => "unknown_ca",
            49 => "access_denied",
            50 => "decode_error",
            51 => "decrypt_error",
            60 => "export_restriction",
            70 => "protocol_version",
            71 => "insufficient_security",
            80 => "internal_error",
            86 => "inappropriate_fallback",
            90 => "user_canceled",
            100 => "no_renegotiation",
            109 => "missing_extension",
            110 => "unsupported_extension",
            111 => "certificate_unobtainable",
            112 => "unrecognized_name",
            113 => "bad_certificate_status_response",
            114 => "bad_certificate_hash_value",
            115 => "unknown_psk_identity",
            116 => "certificate_required",
            117 => "general_error",
            120 => "no_application_protocol",
            121 => "ech_required",
            _ => return None,
        })
    }
}

impl fmt::Display for AlertDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "{}", self.0),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Alert {
    pub level: AlertLevel,
    pub description: AlertDescription,
}

impl Alert {
    pub fn is_close_notify(&self) -> bool {
        self.description == AlertDescription::CLOSE_NOTIFY
    }
}

/// `level:description`, e.g. `fatal:unknown_ca` or `warning:close_notify`.
impl fmt::Display for Alert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.level, self.description)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HandshakeType(pub u8);
impl HandshakeType {
    pub const HELLO_REQUEST: HandshakeType = HandshakeType(0);
    pub const CLIENT_HELLO: HandshakeType = HandshakeType(1);
    pub const SERVER_HELLO: HandshakeType = HandshakeType(2);
    pub const NEW_SESSION_TICKET: HandshakeType = HandshakeType(4);
    pub const END_OF_EARLY_DATA: HandshakeType = HandshakeType(5);
    pub const ENCRYPTED_EXTENSIONS: HandshakeType = HandshakeType(8);
    pub const CERTIFICATE: HandshakeType = HandshakeType(11);
    pub const SERVER_KEY_EXCHANGE: HandshakeType = HandshakeType(12);
    pub const CERTIFICATE_REQUEST: HandshakeType = HandshakeType(13);
    pub const SERVER_HELLO_DONE: HandshakeType = HandshakeType(14);
    pub const CERTIFICATE_VERIFY: HandshakeType = HandshakeType(15);
    pub const CLIENT_KEY_EXCHANGE: HandshakeType = HandshakeType(16);
    pub const FINISHED: HandshakeType = HandshakeType(20);
    pub const KEY_UPDATE: HandshakeType = HandshakeType(24);

    /// The registry name ("client_hello", …), None if unassigned.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "hello_request",
            1 => "client_hello",
            2 => "server_hello",
            3 => "hello_verify_request",
            4 => "new_session_ticket",
            5 => "end_of_early_data",
            6 => "hello_retry_request",
            8 => "encrypted_extensions",
            9 => "request_connection_id",
            10 => "new_connection_id",
            11 => "certificate",
            12 => "server_key_exchange",
            13 => "certificate_request",
            14 => "server_hello_done",
            15 => "certificate_verify",
            16 => "client_key_exchange",
            17 => "client_certificate_request",
            20 => "finished",
            21 => "certificate_url",
            22 => "certificate_status",
            23 => "supplemental_data",
            24 => "key_update",
            25 => "compressed_certificate",
            26 => "ekt_key",
            254 => "message_hash",
            _ => return None,
        })
    }
}

impl fmt::Display for HandshakeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "{}", self.0),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CipherSuite(pub u16);
impl CipherSuite {
    /// IANA name for common suites, None otherwise.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            // TLS 1.3 (RFC 8446 §B.4)
            0x1301 => "TLS_AES_128_GCM_SHA256",
            0x1302 => "TLS_AES_256_GCM_SHA384",
            0x1303 => "TLS_CHACHA20_POLY1305_SHA256",
            0x1304 => "TLS_AES_128_CCM_SHA256",
            0x1305 => "TLS_AES_128_CCM_8_SHA256",
            // ECDHE AES-GCM (RFC 5289)
            0xc02b => "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            0xc02c => "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            0xc02f => "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            0xc030 => "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            // ChaCha20-Poly1305 (RFC 7905)
            0xcca8 => "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
            0xcca9 => "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            0xccaa => "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
            // ECDHE CBC (RFC 4492, RFC 5289)
            0xc009 => "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
            0xc00a => "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
            0xc013 => "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
            0xc014 => "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
            0xc023 => "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
            0xc024 => "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
            0xc027 => "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
            0xc028 => "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
            // CCM (RFC 6655, RFC 7251)
            0xc09c => "TLS_RSA_WITH_AES_128_CCM",
            0xc09d => "TLS_RSA_WITH_AES_256_CCM",
            0xc09e => "TLS_DHE_RSA_WITH_AES_128_CCM",
            0xc09f => "TLS_DHE_RSA_WITH_AES_256_CCM",
            0xc0a0 => "TLS_RSA_WITH_AES_128_CCM_8",
            0xc0a1 => "TLS_RSA_WITH_AES_256_CCM_8",
            0xc0a2 => "TLS_DHE_RSA_WITH_AES_128_CCM_8",
            0xc0a3 => "TLS_DHE_RSA_WITH_AES_256_CCM_8",
            0xc0ac => "TLS_ECDHE_ECDSA_WITH_AES_128_CCM",
            0xc0ad => "TLS_ECDHE_ECDSA_WITH_AES_256_CCM",
            0xc0ae => "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8",
            0xc0af => "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8",
            // RSA key exchange
            0x000a => "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
            0x002f => "TLS_RSA_WITH_AES_128_CBC_SHA",
            0x0035 => "TLS_RSA_WITH_AES_256_CBC_SHA",
            0x003c => "TLS_RSA_WITH_AES_128_CBC_SHA256",
            0x003d => "TLS_RSA_WITH_AES_256_CBC_SHA256",
            0x009c => "TLS_RSA_WITH_AES_128_GCM_SHA256",
            0x009d => "TLS_RSA_WITH_AES_256_GCM_SHA384",
            // DHE-RSA
            0x0033 => "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
            0x0039 => "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
            0x0067 => "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256",
            0x006b => "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
            0x009e => "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
            0x009f => "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
            // Signalling values
            0x00ff => "TLS_EMPTY_RENEGOTIATION_INFO_SCSV",
            0x5600 => "TLS_FALLBACK_SCSV",
            _ => return None,
        })
    }

    /// A GREASE value (RFC 8701).
    pub fn is_grease(self) -> bool {
        is_grease(self.0)
    }
}

impl fmt::Display for CipherSuite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "0x{:04x}", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_names_and_display() {
        assert_eq!(AlertDescription(0).name(), Some("close_notify"));
        assert_eq!(AlertDescription(48).name(), Some("unknown_ca"));
        assert_eq!(AlertDescription(121).name(), Some("ech_required"));
        assert_eq!(AlertDescription(116).name(), Some("certificate_required"));
        assert_eq!(AlertDescription(1).name(), None);
        assert_eq!(AlertDescription(200).to_string(), "200");
        let a = Alert {
            level: AlertLevel::FATAL,
            description: AlertDescription::PROTOCOL_VERSION,
        };
        assert_eq!(a.to_string(), "fatal:protocol_version");
        let w = Alert {
            level: AlertLevel::WARNING,
            description: AlertDescription::CLOSE_NOTIFY,
        };
        assert_eq!(w.to_string(), "warning:close_notify");
        assert!(w.is_close_notify());
        assert_eq!(AlertLevel(7).to_string(), "7");
    }

    #[test]
    fn every_registry_alert_has_a_name() {
        let assigned = [
            0u8, 10, 20, 21, 22, 30, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 60, 70, 71,
            80, 86, 90, 100, 109, 110, 111, 112, 113, 114, 115, 116, 117, 120, 121,
        ];
        for d in 0..=255u8 {
            assert_eq!(
                AlertDescription(d).name().is_some(),
                assigned.contains(&d),
                "{d}"
            );
        }
    }

    #[test]
    fn versions() {
        assert_eq!(ProtocolVersion::TLS1_2.to_string(), "TLS 1.2");
        assert_eq!(ProtocolVersion(0x0300).to_string(), "SSL 3.0");
        assert_eq!(ProtocolVersion::TLS1_3.to_string(), "TLS 1.3");
        assert_eq!(ProtocolVersion(0x7f1c).to_string(), "0x7f1c");
        assert_eq!(ProtocolVersion(0x0a0a).to_string(), "0x0a0a");
    }

    #[test]
    fn grease() {
        for hi in 0..16u16 {
            let v = (hi << 12) | 0x0a00 | (hi << 4) | 0x0a;
            assert!(is_grease(v), "{v:04x}");
        }
        assert!(!is_grease(0x0303));
        assert!(!is_grease(0x0a1a));
        assert!(!is_grease(0x0b0b));
        assert!(ProtocolVersion(0xdada).is_grease());
    }

    #[test]
    fn other_names() {
        assert_eq!(ContentType(23).to_string(), "application_data");
        assert_eq!(ContentType(99).to_string(), "99");
        assert_eq!(HandshakeType::CLIENT_HELLO.to_string(), "client_hello");
        assert_eq!(HandshakeType(99).to_string(), "99");
        assert_eq!(CipherSuite(0x1302).to_string(), "TLS_AES_256_GCM_SHA384");
        assert_eq!(
            CipherSuite(0xc02c).name(),
            Some("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384")
        );
        assert_eq!(CipherSuite(0xabcd).to_string(), "0xabcd");
    }
}
