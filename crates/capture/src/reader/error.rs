//! What the reader reports: the container format, its counters, its errors.

use std::fmt;

/// The container format of a capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureFormat {
    Pcap,
    PcapNg,
}

impl fmt::Display for CaptureFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CaptureFormat::Pcap => "pcap",
            CaptureFormat::PcapNg => "pcapng",
        })
    }
}

/// Counters a reader keeps while it goes.
#[derive(Debug, Clone, Default)]
pub struct ReaderStats {
    /// Bytes of (decompressed) capture consumed so far.
    pub bytes_read: u64,
    /// Packet records / packet blocks met (including skipped ones): the
    /// number of the last frame.
    pub frames: u64,
    /// pcapng blocks that are not packets (and not SHB/IDB/DSB), skipped.
    pub other_blocks: u64,
    /// Bytes skipped because of damage: while resynchronising, and the whole
    /// length of unusable blocks.
    pub skipped_bytes: u64,
    /// Records / blocks skipped because their content was unusable (a packet
    /// on an unknown interface, a DSB longer than its block, ...).
    pub skipped_records: u64,
    /// Warnings raised so far (including any not kept in memory).
    pub warnings: u64,
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
    /// Reading failed part way (a disk error, a corrupt gzip stream):
    /// `offset` bytes (of the decompressed data for gzip) were read.
    ReadFailed {
        file: String,
        offset: u64,
        frame: u64,
        gzip: bool,
        source: std::io::Error,
    },
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaptureError::Io { file, source } => write!(f, "{file}: {source}"),
            CaptureError::UnknownFormat { file, magic } => write!(
                f,
                "{file}: not a pcap or pcapng capture (first bytes, at byte offset 0: {:02x} {:02x} {:02x} {:02x})",
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
            CaptureError::ReadFailed {
                file,
                offset,
                frame,
                gzip,
                source,
            } => {
                let of = if *gzip {
                    " of the decompressed data"
                } else {
                    ""
                };
                write!(
                    f,
                    "{file}: read error after byte offset {offset}{of} (after frame {frame}): {source}"
                )
            }
        }
    }
}

impl std::error::Error for CaptureError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CaptureError::Io { source, .. } | CaptureError::ReadFailed { source, .. } => {
                Some(source)
            }
            _ => None,
        }
    }
}
