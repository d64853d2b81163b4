//! The TLS record layer, read from a reassembled TCP byte stream.
//!
//! * [`record`]: nom 8 parsers for the 5-byte record header, alerts and the
//!   handshake message header (streaming: `Incomplete` means "feed more").
//! * [`hello`]: ClientHello / ServerHello fields the verdict needs (version,
//!   SNI, ALPN, cipher suite, randoms).
//! * [`deframer`]: a per-direction state machine that turns byte chunks
//!   (and gaps) into records, finds where TLS starts (STARTTLS preambles),
//!   resynchronises after holes and skips record bodies it does not need.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::expect_used, clippy::indexing_slicing))]

pub mod deframer;
pub mod hello;
pub mod record;
pub mod types;

pub use deframer::{DeframeEvent, Deframer, DeframerConfig, Record, StartMode};
pub use hello::{
    parse_client_hello, parse_client_hello_with, parse_encrypted_extensions_alpn,
    parse_server_hello, parse_server_hello_with, ClientHello, HandshakeAssembler, HelloError,
    HelloLimits, ServerHello, HELLO_RETRY_REQUEST_RANDOM,
};
pub use record::{
    alert, handshake_header, header_prefix_ok, plausible, record_header, RecordHeader,
    MAX_RECORD_LEN, RECORD_HEADER_LEN,
};
pub use types::{
    is_grease, Alert, AlertDescription, AlertLevel, CipherSuite, ContentType, HandshakeType,
    ProtocolVersion, Tls13Draft,
};
