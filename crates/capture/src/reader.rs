//! Streaming pcap / pcapng reader (STUB: to be implemented).

use crate::types::Frame;
use std::fmt;
use std::io::Read;

/// The container format of a capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureFormat {
    Pcap,
    PcapNg,
}

/// Counters a reader keeps while it goes.
#[derive(Debug, Clone, Default)]
pub struct ReaderStats {
    /// Bytes of (decompressed) capture consumed so far.
    pub bytes_read: u64,
    pub frames: u64,
    /// pcapng blocks that are not packets (and not SHB/IDB/DSB), skipped.
    pub other_blocks: u64,
    /// Bytes skipped while resynchronising after damage.
    pub skipped_bytes: u64,
}

/// Why a capture could not be read (further).
#[derive(Debug)]
pub enum CaptureError {
    Io {
        file: String,
        source: std::io::Error,
    },
    /// Not a pcap or pcapng file (nor gzip of one).
    UnknownFormat { file: String, magic: [u8; 4] },
    /// The file ends inside a record or block.
    Truncated {
        file: String,
        offset: u64,
        frame: u64,
        what: String,
    },
    /// A length or field is impossible.
    Malformed {
        file: String,
        offset: u64,
        frame: u64,
        what: String,
    },
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaptureError::Io { file, source } => write!(f, "{file}: {source}"),
            CaptureError::UnknownFormat { file, magic } => write!(
                f,
                "{file}: not a pcap or pcapng capture (first bytes {:02x} {:02x} {:02x} {:02x})",
                magic[0], magic[1], magic[2], magic[3]
            ),
            CaptureError::Truncated {
                file,
                offset,
                frame,
                what,
            } => write!(
                f,
                "{file}: capture is cut short at byte offset {offset} (after frame {frame}): {what}"
            ),
            CaptureError::Malformed {
                file,
                offset,
                frame,
                what,
            } => write!(
                f,
                "{file}: damaged capture at byte offset {offset} (after frame {frame}): {what}"
            ),
        }
    }
}

impl std::error::Error for CaptureError {}

/// Reads frames from a capture. See the crate docs.
pub struct CaptureReader {
    _private: (),
}

impl CaptureReader {
    /// Opens a file by path; `-` is standard input.
    pub fn open(_path: &str) -> Result<CaptureReader, CaptureError> {
        todo!()
    }
    /// Reads a capture from any byte stream; `name` is used in messages.
    pub fn from_reader(
        _name: &str,
        _input: Box<dyn Read + Send>,
    ) -> Result<CaptureReader, CaptureError> {
        todo!()
    }
    /// The next frame, `Ok(None)` at the clean end of the file.
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, CaptureError> {
        todo!()
    }
    pub fn format(&self) -> CaptureFormat {
        todo!()
    }
    pub fn is_gzip(&self) -> bool {
        todo!()
    }
    pub fn stats(&self) -> &ReaderStats {
        todo!()
    }
    /// Decryption Secrets Blocks met so far: (secrets type, data).
    pub fn take_decryption_secrets(&mut self) -> Vec<(u32, Vec<u8>)> {
        todo!()
    }
}
