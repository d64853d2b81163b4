//! Per-direction record deframer: bytes and gaps in, records out.
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
    /// An SSLv2-compatible ClientHello (RFC 5246 appendix E.2).
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

/// See the module docs.
#[derive(Debug)]
pub struct Deframer<T> {
    _tag: Option<T>,
}

impl<T: Copy> Deframer<T> {
    pub fn new(_mode: StartMode, _config: DeframerConfig) -> Self {
        todo!()
    }
    /// Feeds the next in-order bytes of the stream.
    pub fn push(&mut self, _data: &[u8], _tag: T, _sink: &mut dyn FnMut(DeframeEvent<'_, T>)) {
        todo!()
    }
    /// `len` bytes of the stream are missing (never captured).
    pub fn gap(&mut self, _len: u64, _tag: T, _sink: &mut dyn FnMut(DeframeEvent<'_, T>)) {
        todo!()
    }
    /// The stream ended (FIN, RST or end of capture): release any record
    /// held back for verification.
    pub fn finish(&mut self, _sink: &mut dyn FnMut(DeframeEvent<'_, T>)) {
        todo!()
    }
    /// Stop keeping handshake bodies (the hellos were read).
    pub fn set_want_handshake(&mut self, _want: bool) {
        todo!()
    }
    /// Bytes pushed so far (the stream offset of the next byte).
    pub fn offset(&self) -> u64 {
        todo!()
    }
    /// True once TLS was found in this direction.
    pub fn is_tls(&self) -> bool {
        todo!()
    }
    /// Bytes the deframer will skip without looking at them (the rest of a
    /// record body it does not keep). Lets the reassembler avoid copying.
    pub fn skippable(&self) -> u64 {
        todo!()
    }
}
