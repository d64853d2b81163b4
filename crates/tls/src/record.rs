//! nom 8 parsers of the record layer (RFC 8446 §5.1, RFC 5246 §6.2).
use crate::types::{
    Alert, AlertDescription, AlertLevel, ContentType, HandshakeType, ProtocolVersion,
};
use nom::number::streaming::{be_u16, be_u24, be_u8};
use nom::{IResult, Parser};

/// Largest record length accepted: 2^14 + 2048 (TLSCiphertext, RFC 5246 §6.2.3).
pub const MAX_RECORD_LEN: u16 = 16384 + 2048;

/// Length of a record header on the wire.
pub const RECORD_HEADER_LEN: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecordHeader {
    pub content_type: ContentType,
    pub version: ProtocolVersion,
    pub length: u16,
}

impl RecordHeader {
    /// The header as it appears on the wire.
    pub fn to_bytes(&self) -> [u8; RECORD_HEADER_LEN] {
        let [v0, v1] = self.version.0.to_be_bytes();
        let [l0, l1] = self.length.to_be_bytes();
        [self.content_type.0, v0, v1, l0, l1]
    }
}

/// Streaming: fewer than 5 bytes give `Err::Incomplete`.
///
/// Does not validate anything; see [`plausible`].
pub fn record_header(i: &[u8]) -> IResult<&[u8], RecordHeader> {
    let (i, (content_type, version, length)) = (be_u8, be_u16, be_u16).parse(i)?;
    Ok((
        i,
        RecordHeader {
            content_type: ContentType(content_type),
            version: ProtocolVersion(version),
            length,
        },
    ))
}

/// True when a header could be a real TLS record header: content type
/// 20..=24, version 3.0 to 3.4 (SSL 3.0 … TLS 1.3; TLS 1.3 records carry
/// 0x0303, ClientHellos sometimes 0x0301) and length at most
/// [`MAX_RECORD_LEN`]. A zero length is allowed here.
pub fn plausible(h: &RecordHeader) -> bool {
    header_prefix_ok(&h.to_bytes())
}

/// [`plausible`] for the first `bytes.len()` (0..=5) bytes of a header:
/// false as soon as one available byte rules a real header out.
pub fn header_prefix_ok(bytes: &[u8]) -> bool {
    if let Some(&t) = bytes.first() {
        if !(20..=24).contains(&t) {
            return false;
        }
    }
    if let Some(&major) = bytes.get(1) {
        if major != 3 {
            return false;
        }
    }
    if let Some(&minor) = bytes.get(2) {
        if minor > 4 {
            return false;
        }
    }
    if let (Some(&l0), Some(&l1)) = (bytes.get(3), bytes.get(4)) {
        if u16::from_be_bytes([l0, l1]) > MAX_RECORD_LEN {
            return false;
        }
    } else if let Some(&l0) = bytes.get(3) {
        if u16::from(l0) << 8 > MAX_RECORD_LEN {
            return false;
        }
    }
    true
}

/// A plaintext alert body (exactly the 2 bytes level, description).
///
/// Streaming: fewer than 2 bytes give `Err::Incomplete`; bytes after the
/// first two are returned as the remainder.
pub fn alert(i: &[u8]) -> IResult<&[u8], Alert> {
    let (i, (level, description)) = (be_u8, be_u8).parse(i)?;
    Ok((
        i,
        Alert {
            level: AlertLevel(level),
            description: AlertDescription(description),
        },
    ))
}

/// A handshake message header: type and 24-bit length (streaming).
pub fn handshake_header(i: &[u8]) -> IResult<&[u8], (HandshakeType, u32)> {
    let (i, (t, len)) = (be_u8, be_u24).parse(i)?;
    Ok((i, (HandshakeType(t), len)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nom::Err;

    #[test]
    fn header_parses() {
        let (rest, h) = record_header(&[0x17, 0x03, 0x03, 0x00, 0x13, 0xaa]).expect("parses");
        assert_eq!(rest, &[0xaa]);
        assert_eq!(h.content_type, ContentType::APPLICATION_DATA);
        assert_eq!(h.version, ProtocolVersion::TLS1_2);
        assert_eq!(h.length, 19);
        assert!(plausible(&h));
        assert_eq!(h.to_bytes(), [0x17, 0x03, 0x03, 0x00, 0x13]);
    }

    #[test]
    fn header_incomplete() {
        for n in 0..5 {
            let b = [0x16, 0x03, 0x01, 0x02, 0x00];
            match record_header(&b[..n]) {
                Err(Err::Incomplete(_)) => {}
                other => panic!("{n}: {other:?}"),
            }
        }
    }

    #[test]
    fn implausible_headers() {
        let cases: [[u8; 5]; 6] = [
            [0x19, 3, 3, 0, 1],       // content type 25
            [0x13, 3, 3, 0, 1],       // content type 19
            [0x17, 2, 0, 0, 1],       // SSL 2
            [0x17, 3, 5, 0, 1],       // 3.5
            [0x17, 3, 3, 0x48, 0x01], // 18433 > max
            [b'G', b'E', b'T', b' ', b'/'],
        ];
        for c in cases {
            let (_, h) = record_header(&c).expect("parses");
            assert!(!plausible(&h), "{c:?}");
            // some prefix of an implausible header is already ruled out,
            // and header_prefix_ok agrees with plausible on full headers
            assert!(!header_prefix_ok(&c));
        }
        let (_, max) = record_header(&[0x17, 3, 3, 0x48, 0x00]).expect("parses");
        assert!(plausible(&max));
        let (_, zero) = record_header(&[0x15, 3, 0, 0, 0]).expect("parses");
        assert!(plausible(&zero));
        assert!(header_prefix_ok(&[]));
        assert!(header_prefix_ok(&[0x16, 3, 1, 0x48]));
        assert!(!header_prefix_ok(&[0x16, 3, 1, 0x49]));
    }

    #[test]
    fn alerts() {
        let (rest, a) = alert(&[2, 48]).expect("parses");
        assert!(rest.is_empty());
        assert_eq!(a.level, AlertLevel::FATAL);
        assert_eq!(a.description.name(), Some("unknown_ca"));
        assert!(matches!(alert(&[1]), Err(Err::Incomplete(_))));
    }

    #[test]
    fn handshake_headers() {
        let (rest, (t, len)) = handshake_header(&[1, 0, 1, 0xfc, 3]).expect("parses");
        assert_eq!(t, HandshakeType::CLIENT_HELLO);
        assert_eq!(len, 508);
        assert_eq!(rest, &[3]);
        assert!(matches!(
            handshake_header(&[1, 0, 1]),
            Err(Err::Incomplete(_))
        ));
    }
}
