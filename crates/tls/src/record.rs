//! nom 8 parsers of the record layer (RFC 8446 §5.1, RFC 5246 §6.2).
use crate::types::{Alert, ContentType, HandshakeType, ProtocolVersion};
use nom::IResult;

/// Largest record length accepted: 2^14 + 2048 (TLSCiphertext, RFC 5246 §6.2.3).
pub const MAX_RECORD_LEN: u16 = 16384 + 2048;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecordHeader {
    pub content_type: ContentType,
    pub version: ProtocolVersion,
    pub length: u16,
}

/// Streaming: fewer than 5 bytes give `Err::Incomplete`.
pub fn record_header(_i: &[u8]) -> IResult<&[u8], RecordHeader> {
    todo!()
}

/// A plaintext alert body (exactly the 2 bytes level, description).
pub fn alert(_i: &[u8]) -> IResult<&[u8], Alert> {
    todo!()
}

/// A handshake message header: type and 24-bit length (streaming).
pub fn handshake_header(_i: &[u8]) -> IResult<&[u8], (HandshakeType, u32)> {
    todo!()
}
