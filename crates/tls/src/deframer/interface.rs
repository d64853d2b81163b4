//! What a [`Deframer`](super::Deframer) is told (where the stream starts,
//! which bodies to keep) and what it tells its sink (events and records).
use crate::record::RecordHeader;
use crate::types::ProtocolVersion;

/// Where the byte stream starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartMode {
    /// The connection's first byte is the stream's first byte (a SYN was
    /// seen). TLS normally starts at offset 0, but a plaintext preamble
    /// (STARTTLS) may come first.
    StreamStart,
    /// The capture started mid-connection: the first byte may be anywhere
    /// inside a record, or inside a plaintext protocol.
    MidStream,
}

#[derive(Debug, Clone, Copy)]
pub struct DeframerConfig {
    /// Bodies of records up to this length are kept (any content type).
    pub keep_body_max: usize,
    /// Bodies of handshake records are kept up to this length while
    /// `want_handshake` is true (set false once the hellos are read).
    pub keep_handshake_max: usize,
    /// Give up looking for the start of TLS after this many bytes.
    pub scan_limit: u64,
}

impl Default for DeframerConfig {
    fn default() -> Self {
        DeframerConfig {
            keep_body_max: 64,
            keep_handshake_max: 16384 + 2048,
            scan_limit: 1 << 20,
        }
    }
}

/// One complete TLS record.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a, T> {
    pub header: RecordHeader,
    /// Stream offset of the record header's first byte.
    pub offset: u64,
    /// The body when kept (see [`DeframerConfig`]) and fully captured;
    /// `None` when skipped or when part of it fell into a gap.
    pub body: Option<&'a [u8]>,
    /// Part of the body fell into a gap.
    pub damaged: bool,
    /// The tag of the `push` call that delivered the record's last byte.
    pub tag: T,
}

#[derive(Debug, Clone, Copy)]
pub enum DeframeEvent<'a, T> {
    /// TLS starts at this stream offset (after `offset` bytes of plaintext).
    TlsStart {
        offset: u64,
    },
    Record(Record<'a, T>),
    /// An SSLv2-format ClientHello (SSL 2.0, or SSLv2-compatible: RFC 5246
    /// appendix E.2); `version` is the one it offers (0x0002: SSL 2.0).
    Sslv2ClientHello {
        offset: u64,
        version: ProtocolVersion,
        tag: T,
    },
    /// The record layer lost sync (gap over a header, or an impossible header).
    LostSync {
        offset: u64,
    },
    /// Sync found again at `offset` after skipping `skipped` bytes.
    Resync {
        offset: u64,
        skipped: u64,
    },
    /// No TLS found within the scan limit: the rest of the stream is ignored.
    GaveUp {
        offset: u64,
    },
}
