//! Capture reading: pcap / pcapng files (optionally gzip-compressed) as a
//! stream of [`Frame`]s, and the decoding of a frame into a TCP [`Segment`].
//!
//! Nothing here reads a whole file into memory: the reader parses the input
//! in the bounded chunks it is read in (from any `std::io::Read`), and
//! frames borrow from those chunks.
//!
//! ```no_run
//! use tlsclose_capture::{decode_segment, CaptureReader};
//!
//! # fn main() -> Result<(), tlsclose_capture::CaptureError> {
//! let mut reader = CaptureReader::open("capture.pcapng.gz")?; // "-" = stdin
//! loop {
//!     let frame = match reader.next_frame() {
//!         Ok(Some(frame)) => frame,
//!         Ok(None) => break,
//!         // Every complete frame before the damage has been returned.
//!         Err(e) => { eprintln!("{e}"); break; }
//!     };
//!     match decode_segment(&frame) {
//!         Ok(segment) => { /* segment.payload borrows the frame */ }
//!         Err(_skip_reason) => {}
//!     }
//!     // Damage the reader skipped or worked around, without stopping.
//!     for warning in reader.take_warnings() {
//!         eprintln!("warning: {warning}");
//!     }
//! }
//! for warning in reader.take_warnings() {
//!     eprintln!("warning: {warning}");
//! }
//! let _secrets = reader.take_decryption_secrets(); // pcapng DSBs
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::expect_used, clippy::indexing_slicing))]

mod decode;
mod defrag;
mod prefetch;
pub mod raw;
mod reader;
mod types;

pub use decode::{decode_segment, SkipReason, MAX_LAYERS};
pub use defrag::{DefragStats, Defragmenter};
pub use prefetch::{is_live, is_live_type, stdin_is_live, Prefetch};
pub use reader::{CaptureError, CaptureFormat, CaptureReader, ReaderStats};
pub use types::{write_ip, Endpoint, Frame, LinkType, Segment, TcpFlags, Text, Timestamp};
