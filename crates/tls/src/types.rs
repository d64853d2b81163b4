//! Open newtypes for TLS protocol numbers: unknown values stay representable
//! and printable; known ones have names.
//!
//! Each type is declared once, by [`protocol_enum!`]: one table gives its
//! constants, their names ([`ContentType::name`] …) and `Display` (the name,
//! or the number for an unassigned value). Names follow the IANA "Transport
//! Layer Security (TLS) Parameters" registries (content types, alerts,
//! handshake types, cipher suites); versions also know the TLS 1.3 drafts
//! and experiments (see [`ProtocolVersion`]).

use std::fmt;

/// Declares an open newtype over an integer and its table of known values:
///
/// ```text
/// protocol_enum! {
///     /// docs
///     pub struct Name(u8), unknown "{}";
///     CONSTANT = 20 => "registry_name",
///     OTHER = 21,            // named after the constant itself
/// }
/// ```
///
/// gives `Name::CONSTANT`, `Name::name() -> Option<&'static str>`,
/// `Name::KNOWN` (every value of the table, in table order) and `Display`
/// (the name, else the number in the `unknown` format). With `unknown`
/// left out, the type writes its own `Display`. A value listed twice does
/// not compile (an unreachable pattern, denied).
macro_rules! protocol_enum {
    (
        $(#[$meta:meta])*
        pub struct $name:ident($int:ty) $(, unknown $fmt:literal)?;
        $( $(#[$cmeta:meta])* $konst:ident = $val:literal $(=> $text:literal)? ),+ $(,)?
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub $int);

        #[allow(missing_docs)]
        impl $name {
            $( $(#[$cmeta])* pub const $konst: $name = $name($val); )+

            /// Every value of the table, in table order.
            pub const KNOWN: &'static [$name] = &[$( $name($val) ),+];

            /// The registry name, None for a value not in the table.
            #[deny(unreachable_patterns)]
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $( $val => Some(protocol_enum!(@text $konst $(, $text)?)), )+
                    _ => None,
                }
            }
        }

        $(
            impl fmt::Display for $name {
                fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    match self.name() {
                        Some(n) => f.write_str(n),
                        None => write!(f, $fmt, self.0),
                    }
                }
            }
        )?
    };
    (@text $konst:ident, $text:literal) => { $text };
    (@text $konst:ident) => { stringify!($konst) };
}

/// True for the GREASE values of RFC 8701 (0x0a0a, 0x1a1a, … 0xfafa), which
/// clients scatter among versions, cipher suites and extensions.
pub fn is_grease(value: u16) -> bool {
    let [hi, lo] = value.to_be_bytes();
    hi == lo && lo & 0x0f == 0x0a
}

protocol_enum! {
    /// Record content type (RFC 8446 §5.1).
    pub struct ContentType(u8), unknown "{}";
    CHANGE_CIPHER_SPEC = 20 => "change_cipher_spec",
    ALERT = 21 => "alert",
    HANDSHAKE = 22 => "handshake",
    APPLICATION_DATA = 23 => "application_data",
    HEARTBEAT = 24 => "heartbeat",
}

protocol_enum! {
    /// Protocol version as carried on the wire (0x0303 = TLS 1.2).
    ///
    /// Besides the final versions, the TLS 1.3 drafts (0x7f00 + n, RFC 8446
    /// drafts 14 to 28 were deployed), BoringSSL's TLS 1.3 experiments
    /// (0x7e01 to 0x7e03) and Facebook's drafts (0xfb00 + n, seen as 0xfb17
    /// and 0xfb1a) are TLS 1.3: [`ProtocolVersion::is_tls13`] is true for
    /// all of them and `Display` says which (`TLS 1.3 (draft 14)`).
    /// 0x0002 is SSL 2.0 (only in SSLv2-format hellos, never in a record).
    pub struct ProtocolVersion(u16);
    SSL2 = 0x0002 => "SSL 2.0",
    SSL3 = 0x0300 => "SSL 3.0",
    TLS1_0 = 0x0301 => "TLS 1.0",
    TLS1_1 = 0x0302 => "TLS 1.1",
    TLS1_2 = 0x0303 => "TLS 1.2",
    TLS1_3 = 0x0304 => "TLS 1.3",
}

/// Which pre-standard TLS 1.3 a version number is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls13Draft {
    /// An IETF draft, 0x7f00 + n.
    Ietf(u8),
    /// Facebook's (Fizz) deployment of IETF draft n, 0xfb00 + n.
    Facebook(u8),
    /// BoringSSL's experiment n, 0x7e00 + n.
    Experiment(u8),
}

impl ProtocolVersion {
    /// A GREASE value (RFC 8701), never a real version.
    pub fn is_grease(self) -> bool {
        is_grease(self.0)
    }

    /// The pre-standard TLS 1.3 this number stands for, if any.
    pub fn tls13_draft(self) -> Option<Tls13Draft> {
        let [hi, lo] = self.0.to_be_bytes();
        match (hi, lo) {
            (0x7f, n) if n > 0 => Some(Tls13Draft::Ietf(n)),
            (0xfb, n) if n > 0 => Some(Tls13Draft::Facebook(n)),
            (0x7e, n @ 1..=3) => Some(Tls13Draft::Experiment(n)),
            _ => None,
        }
    }

    /// The IETF draft number the version follows (an experiment's is
    /// unknown: None), for the layout rules that changed between drafts.
    pub fn draft_number(self) -> Option<u8> {
        match self.tls13_draft()? {
            Tls13Draft::Ietf(n) | Tls13Draft::Facebook(n) => Some(n),
            Tls13Draft::Experiment(_) => None,
        }
    }

    /// TLS 1.3, final or any draft or experiment: every TLS 1.3 rule
    /// applies (encrypted alerts as application_data, the 19-byte
    /// close_notify, …).
    pub fn is_tls13(self) -> bool {
        self == ProtocolVersion::TLS1_3 || self.tls13_draft().is_some()
    }
}

/// `TLS 1.2`, `TLS 1.3 (draft 14)`, `TLS 1.3 (Facebook draft 23)`,
/// `TLS 1.3 (experiment 2)`, else the number (`0x0a0a`).
impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(n) = self.name() {
            return f.write_str(n);
        }
        match self.tls13_draft() {
            Some(Tls13Draft::Ietf(n)) => write!(f, "TLS 1.3 (draft {n})"),
            Some(Tls13Draft::Facebook(n)) => write!(f, "TLS 1.3 (Facebook draft {n})"),
            Some(Tls13Draft::Experiment(n)) => write!(f, "TLS 1.3 (experiment {n})"),
            None => write!(f, "0x{:04x}", self.0),
        }
    }
}

protocol_enum! {
    /// Alert level (RFC 5246 §7.2).
    pub struct AlertLevel(u8), unknown "{}";
    WARNING = 1 => "warning",
    FATAL = 2 => "fatal",
}

protocol_enum! {
    /// Alert description (RFC 8446 §6, IANA "TLS Alerts").
    pub struct AlertDescription(u8), unknown "{}";
    CLOSE_NOTIFY = 0 => "close_notify",
    UNEXPECTED_MESSAGE = 10 => "unexpected_message",
    BAD_RECORD_MAC = 20 => "bad_record_mac",
    DECRYPTION_FAILED = 21 => "decryption_failed",
    RECORD_OVERFLOW = 22 => "record_overflow",
    DECOMPRESSION_FAILURE = 30 => "decompression_failure",
    HANDSHAKE_FAILURE = 40 => "handshake_failure",
    NO_CERTIFICATE = 41 => "no_certificate",
    BAD_CERTIFICATE = 42 => "bad_certificate",
    UNSUPPORTED_CERTIFICATE = 43 => "unsupported_certificate",
    CERTIFICATE_REVOKED = 44 => "certificate_revoked",
    CERTIFICATE_EXPIRED = 45 => "certificate_expired",
    CERTIFICATE_UNKNOWN = 46 => "certificate_unknown",
    ILLEGAL_PARAMETER = 47 => "illegal_parameter",
    UNKNOWN_CA = 48 => "unknown_ca",
    ACCESS_DENIED = 49 => "access_denied",
    DECODE_ERROR = 50 => "decode_error",
    DECRYPT_ERROR = 51 => "decrypt_error",
    EXPORT_RESTRICTION = 60 => "export_restriction",
    PROTOCOL_VERSION = 70 => "protocol_version",
    INSUFFICIENT_SECURITY = 71 => "insufficient_security",
    INTERNAL_ERROR = 80 => "internal_error",
    INAPPROPRIATE_FALLBACK = 86 => "inappropriate_fallback",
    USER_CANCELED = 90 => "user_canceled",
    NO_RENEGOTIATION = 100 => "no_renegotiation",
    MISSING_EXTENSION = 109 => "missing_extension",
    UNSUPPORTED_EXTENSION = 110 => "unsupported_extension",
    CERTIFICATE_UNOBTAINABLE = 111 => "certificate_unobtainable",
    UNRECOGNIZED_NAME = 112 => "unrecognized_name",
    BAD_CERTIFICATE_STATUS_RESPONSE = 113 => "bad_certificate_status_response",
    BAD_CERTIFICATE_HASH_VALUE = 114 => "bad_certificate_hash_value",
    UNKNOWN_PSK_IDENTITY = 115 => "unknown_psk_identity",
    CERTIFICATE_REQUIRED = 116 => "certificate_required",
    GENERAL_ERROR = 117 => "general_error",
    NO_APPLICATION_PROTOCOL = 120 => "no_application_protocol",
    ECH_REQUIRED = 121 => "ech_required",
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

protocol_enum! {
    /// Handshake message type (RFC 8446 §4, IANA "TLS HandshakeType").
    pub struct HandshakeType(u8), unknown "{}";
    HELLO_REQUEST = 0 => "hello_request",
    CLIENT_HELLO = 1 => "client_hello",
    SERVER_HELLO = 2 => "server_hello",
    HELLO_VERIFY_REQUEST = 3 => "hello_verify_request",
    NEW_SESSION_TICKET = 4 => "new_session_ticket",
    END_OF_EARLY_DATA = 5 => "end_of_early_data",
    HELLO_RETRY_REQUEST = 6 => "hello_retry_request",
    ENCRYPTED_EXTENSIONS = 8 => "encrypted_extensions",
    REQUEST_CONNECTION_ID = 9 => "request_connection_id",
    NEW_CONNECTION_ID = 10 => "new_connection_id",
    CERTIFICATE = 11 => "certificate",
    SERVER_KEY_EXCHANGE = 12 => "server_key_exchange",
    CERTIFICATE_REQUEST = 13 => "certificate_request",
    SERVER_HELLO_DONE = 14 => "server_hello_done",
    CERTIFICATE_VERIFY = 15 => "certificate_verify",
    CLIENT_KEY_EXCHANGE = 16 => "client_key_exchange",
    CLIENT_CERTIFICATE_REQUEST = 17 => "client_certificate_request",
    FINISHED = 20 => "finished",
    CERTIFICATE_URL = 21 => "certificate_url",
    CERTIFICATE_STATUS = 22 => "certificate_status",
    SUPPLEMENTAL_DATA = 23 => "supplemental_data",
    KEY_UPDATE = 24 => "key_update",
    COMPRESSED_CERTIFICATE = 25 => "compressed_certificate",
    EKT_KEY = 26 => "ekt_key",
    MESSAGE_HASH = 254 => "message_hash",
}

protocol_enum! {
    /// Cipher suite (IANA "TLS Cipher Suites"): the common ones are named,
    /// each constant after its registry name.
    pub struct CipherSuite(u16), unknown "0x{:04x}";
    // TLS 1.3 (RFC 8446 §B.4)
    TLS_AES_128_GCM_SHA256 = 0x1301,
    TLS_AES_256_GCM_SHA384 = 0x1302,
    TLS_CHACHA20_POLY1305_SHA256 = 0x1303,
    TLS_AES_128_CCM_SHA256 = 0x1304,
    TLS_AES_128_CCM_8_SHA256 = 0x1305,
    // ECDHE AES-GCM (RFC 5289)
    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 = 0xc02b,
    TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 = 0xc02c,
    TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 = 0xc02f,
    TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 = 0xc030,
    // ChaCha20-Poly1305 (RFC 7905)
    TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 = 0xcca8,
    TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 = 0xcca9,
    TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256 = 0xccaa,
    // ECDHE CBC (RFC 4492, RFC 5289)
    TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA = 0xc009,
    TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA = 0xc00a,
    TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA = 0xc013,
    TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA = 0xc014,
    TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256 = 0xc023,
    TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384 = 0xc024,
    TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256 = 0xc027,
    TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384 = 0xc028,
    // CCM (RFC 6655, RFC 7251)
    TLS_RSA_WITH_AES_128_CCM = 0xc09c,
    TLS_RSA_WITH_AES_256_CCM = 0xc09d,
    TLS_DHE_RSA_WITH_AES_128_CCM = 0xc09e,
    TLS_DHE_RSA_WITH_AES_256_CCM = 0xc09f,
    TLS_RSA_WITH_AES_128_CCM_8 = 0xc0a0,
    TLS_RSA_WITH_AES_256_CCM_8 = 0xc0a1,
    TLS_DHE_RSA_WITH_AES_128_CCM_8 = 0xc0a2,
    TLS_DHE_RSA_WITH_AES_256_CCM_8 = 0xc0a3,
    TLS_ECDHE_ECDSA_WITH_AES_128_CCM = 0xc0ac,
    TLS_ECDHE_ECDSA_WITH_AES_256_CCM = 0xc0ad,
    TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 = 0xc0ae,
    TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8 = 0xc0af,
    // RSA key exchange
    TLS_RSA_WITH_3DES_EDE_CBC_SHA = 0x000a,
    TLS_RSA_WITH_AES_128_CBC_SHA = 0x002f,
    TLS_RSA_WITH_AES_256_CBC_SHA = 0x0035,
    TLS_RSA_WITH_AES_128_CBC_SHA256 = 0x003c,
    TLS_RSA_WITH_AES_256_CBC_SHA256 = 0x003d,
    TLS_RSA_WITH_AES_128_GCM_SHA256 = 0x009c,
    TLS_RSA_WITH_AES_256_GCM_SHA384 = 0x009d,
    // DHE-RSA
    TLS_DHE_RSA_WITH_AES_128_CBC_SHA = 0x0033,
    TLS_DHE_RSA_WITH_AES_256_CBC_SHA = 0x0039,
    TLS_DHE_RSA_WITH_AES_128_CBC_SHA256 = 0x0067,
    TLS_DHE_RSA_WITH_AES_256_CBC_SHA256 = 0x006b,
    TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 = 0x009e,
    TLS_DHE_RSA_WITH_AES_256_GCM_SHA384 = 0x009f,
    // Signalling values
    TLS_EMPTY_RENEGOTIATION_INFO_SCSV = 0x00ff,
    TLS_FALLBACK_SCSV = 0x5600,
}

impl CipherSuite {
    /// A GREASE value (RFC 8701).
    pub fn is_grease(self) -> bool {
        is_grease(self.0)
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
        assert_eq!(ProtocolVersion(0x0002).to_string(), "SSL 2.0");
        assert_eq!(ProtocolVersion(0x0a0a).to_string(), "0x0a0a");
        assert_eq!(ProtocolVersion(0x0305).to_string(), "0x0305");
        assert_eq!(ProtocolVersion(0x7f00).to_string(), "0x7f00");
        assert_eq!(ProtocolVersion(0x7e04).to_string(), "0x7e04");
    }

    #[test]
    fn tls13_drafts_are_tls13() {
        assert_eq!(ProtocolVersion(0x7f0e).to_string(), "TLS 1.3 (draft 14)");
        assert_eq!(ProtocolVersion(0x7f1c).to_string(), "TLS 1.3 (draft 28)");
        assert_eq!(
            ProtocolVersion(0xfb17).to_string(),
            "TLS 1.3 (Facebook draft 23)"
        );
        assert_eq!(
            ProtocolVersion(0x7e02).to_string(),
            "TLS 1.3 (experiment 2)"
        );
        for v in [
            0x0304u16, 0x7f0e, 0x7f12, 0x7f1c, 0xfb17, 0xfb1a, 0x7e01, 0x7e02,
        ] {
            assert!(ProtocolVersion(v).is_tls13(), "{v:04x}");
        }
        for v in [
            0x0002u16, 0x0300, 0x0301, 0x0303, 0x0305, 0x7f00, 0x7e04, 0x0a0a, 0xfb00,
        ] {
            assert!(!ProtocolVersion(v).is_tls13(), "{v:04x}");
        }
        assert_eq!(ProtocolVersion(0x7f0e).draft_number(), Some(14));
        assert_eq!(ProtocolVersion(0xfb1a).draft_number(), Some(26));
        assert_eq!(ProtocolVersion(0x7e01).draft_number(), None);
        assert_eq!(ProtocolVersion::TLS1_3.draft_number(), None);
        assert_eq!(
            ProtocolVersion(0x7e03).tls13_draft(),
            Some(Tls13Draft::Experiment(3))
        );
    }

    /// Every table entry round-trips: the constant's value has the name,
    /// Display prints it, and no two entries share a name.
    #[test]
    fn tables_are_consistent() {
        fn check<T: Copy + std::fmt::Display>(
            known: &[T],
            name: impl Fn(T) -> Option<&'static str>,
        ) {
            let mut names = std::collections::HashSet::new();
            for &k in known {
                let n = name(k).expect("a table entry has a name");
                assert_eq!(k.to_string(), n);
                assert!(names.insert(n), "{n} twice");
            }
        }
        check(ContentType::KNOWN, ContentType::name);
        check(ProtocolVersion::KNOWN, ProtocolVersion::name);
        check(AlertLevel::KNOWN, AlertLevel::name);
        check(AlertDescription::KNOWN, AlertDescription::name);
        check(HandshakeType::KNOWN, HandshakeType::name);
        check(CipherSuite::KNOWN, CipherSuite::name);
        assert_eq!(AlertDescription::KNOWN.len(), 36);
        assert_eq!(
            CipherSuite::TLS_AES_128_CCM_8_SHA256.name(),
            Some("TLS_AES_128_CCM_8_SHA256")
        );
        assert_eq!(CipherSuite::TLS_AES_128_CCM_8_SHA256, CipherSuite(0x1305));
        assert_eq!(AlertDescription::ECH_REQUIRED, AlertDescription(121));
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
