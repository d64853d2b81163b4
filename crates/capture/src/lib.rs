//! Capture reading: pcap / pcapng files (optionally gzip-compressed) as a
//! stream of [`Frame`]s, and the decoding of a frame into a TCP [`Segment`].
//!
//! Nothing here reads a whole file into memory: the reader refills a bounded
//! buffer from any `std::io::Read`, and frames borrow from that buffer.
#![forbid(unsafe_code)]

mod decode;
mod reader;
mod types;

pub use decode::{decode_segment, SkipReason};
pub use reader::{CaptureError, CaptureFormat, CaptureReader, ReaderStats};
pub use types::{Endpoint, Frame, LinkType, Segment, TcpFlags, Timestamp};
