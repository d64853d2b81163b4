//! Streaming pcap / pcapng reader.
//!
//! The input comes in chunks (32 KiB `read` calls of a file, or the
//! read-ahead thread's buffers of a gzip file or a pipe, see
//! [`crate::Prefetch`]), and records and blocks are framed and parsed in the
//! chunk they arrived in, with pcap-parser's block and record parsers (our
//! own code reads only what it gets wrong: IDB time resolution and offset,
//! the obsolete Packet Block, and resynchronises after damage;
//! tests/pcap_parser_gaps.rs). Only a record or block that straddles two
//! chunks is copied, into a small carry buffer (`window.rs`). A [`Frame`]
//! borrows its bytes from the chunk (or the carry), so the hot path neither
//! allocates nor copies.
//!
//! Damage handling:
//! * the input ends inside a header, record or block: every complete frame
//!   before it is returned, then [`CaptureError::Truncated`];
//! * an impossible length (or, in pcap, a record with odd lengths or time
//!   that no plausible record follows): the reader scans forward for the
//!   next plausible block (pcapng) or record (pcap: sane lengths, within a
//!   day of the last good frame, followed by another or the end) and, when
//!   it finds one, only records a warning with the bytes skipped (see
//!   [`CaptureReader::take_warnings`]); else [`CaptureError::Malformed`];
//! * a read error part way (a corrupt gzip stream): every complete frame
//!   before it, then [`CaptureError::ReadFailed`] with the offset;
//! * a block whose framing is sound but whose content is unusable (a packet
//!   on an unknown interface, a captured length larger than the block, ...)
//!   is skipped with a warning.
//!
//! After the first `Err`, [`CaptureReader::next_frame`] returns `Ok(None)`.

mod error;
pub(crate) mod input;
pub(crate) mod magic;
pub(crate) use input::{open_input, Chunks, ReadAhead};
pub(crate) mod pcap;
pub(crate) mod pcapng;
pub(crate) mod window;

#[cfg(test)]
mod chunk_tests;

pub use error::{CaptureError, CaptureFormat, ReaderStats};

use crate::types::{Frame, LinkType, Timestamp};
use pcap::{parse_pcap_header, pcap_magic, PcapHeader, PCAP_HEADER_LEN};
use pcapng::{Interface, BOM_BE, SHB_MAGIC};
use std::fmt;
use std::io::Read;
use window::Window;

/// Warnings kept in memory until [`CaptureReader::take_warnings`] drains them.
const MAX_KEPT_WARNINGS: usize = 1000;
/// Largest captured length accepted for one packet.
const MAX_PACKET_LEN: u32 = 256 << 20;
/// Largest block a resynchronisation scan accepts as "the next valid block".
const RESYNC_MAX_BLOCK_LEN: u32 = 16 << 20;

#[inline]
fn rd_u16(b: &[u8], at: usize, be: bool) -> Option<u16> {
    let a: [u8; 2] = b.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(if be {
        u16::from_be_bytes(a)
    } else {
        u16::from_le_bytes(a)
    })
}

#[inline]
fn rd_u32(b: &[u8], at: usize, be: bool) -> Option<u32> {
    let a: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(if be {
        u32::from_be_bytes(a)
    } else {
        u32::from_le_bytes(a)
    })
}

#[inline]
fn rd_4(b: &[u8], at: usize) -> Option<[u8; 4]> {
    b.get(at..at.checked_add(4)?)?.try_into().ok()
}

/// `n` rounded up to a multiple of 4, checked.
#[inline]
fn pad4(n: u32) -> Option<u32> {
    n.checked_add(3).map(|v| v & !3)
}

#[derive(Debug)]
enum Mode {
    Pcap(PcapHeader),
    PcapNg { be: bool, ifaces: Vec<Interface> },
}

/// Where a frame's bytes are in the window, and its metadata.
#[derive(Debug, Clone, Copy)]
struct FrameMeta {
    start: window::Loc,
    len: usize,
    ts: Timestamp,
    link: LinkType,
    orig_len: u32,
    offset: u64,
}

enum Step {
    Frame(FrameMeta),
    Again,
    End,
}

/// Reads frames from a capture. See the crate docs.
pub struct CaptureReader {
    name: String,
    /// The input bytes, framed in place.
    win: Window,
    format: CaptureFormat,
    mode: Mode,
    /// Number of the last packet record/block met.
    frame_no: u64,
    last_ts: Timestamp,
    stats: ReaderStats,
    warnings: Vec<String>,
    suppressed_warnings: u64,
    secrets: Vec<(u32, Vec<u8>)>,
    snaplen_warned: bool,
    unknown_block_warned: bool,
    done: bool,
}

impl fmt::Debug for CaptureReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaptureReader")
            .field("name", &self.name)
            .field("format", &self.format)
            .field("gzip", &self.win.gzip)
            .field("offset", &self.win.offset)
            .field("frame", &self.frame_no)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl CaptureReader {
    /// Opens a file by path; `-` is standard input.
    ///
    /// A gzip file is decompressed ahead on a second thread (see
    /// [`crate::Prefetch`]); a plain file is read on this one, in small
    /// chunks that stay in its cache.
    /// A live input (a pipe, a FIFO: see [`crate::is_live`]) is handed to
    /// the parser as its bytes come.
    pub fn open(path: &str) -> Result<CaptureReader, CaptureError> {
        if path == "-" {
            let ahead = ReadAhead::of(crate::stdin_is_live());
            return Self::open_reader("<stdin>", Box::new(std::io::stdin()), ahead);
        }
        let file = std::fs::File::open(path).map_err(|source| CaptureError::Io {
            file: path.to_string(),
            source,
        })?;
        let ahead = ReadAhead::of(crate::is_live(&file));
        Self::open_reader(path, Box::new(file), ahead)
    }

    /// Reads a capture from any byte stream; `name` is used in messages.
    pub fn from_reader(
        name: &str,
        input: Box<dyn Read + Send>,
    ) -> Result<CaptureReader, CaptureError> {
        Self::open_reader(name, input, ReadAhead::No)
    }

    /// Like [`Self::from_reader`], read as [`Self::open`] reads a file
    /// (a gzip one decompressed ahead on a second thread); for callers
    /// that wrap the file themselves (e.g. to count the bytes read from
    /// it).
    pub fn from_reader_prefetched(
        name: &str,
        input: Box<dyn Read + Send>,
    ) -> Result<CaptureReader, CaptureError> {
        Self::open_reader(name, input, ReadAhead::Chunks)
    }

    /// Like [`Self::from_reader_prefetched`] for a live input (a pipe):
    /// its bytes are handed to the parser as they come.
    pub fn from_live_reader(
        name: &str,
        input: Box<dyn Read + Send>,
    ) -> Result<CaptureReader, CaptureError> {
        Self::open_reader(name, input, ReadAhead::Live)
    }

    fn open_reader(
        name: &str,
        input: Box<dyn Read + Send>,
        ahead: ReadAhead,
    ) -> Result<CaptureReader, CaptureError> {
        let (input, gzip) = input::open_input(input, ahead).map_err(|source| CaptureError::Io {
            file: name.to_string(),
            source,
        })?;
        Self::over_chunks(name, input, gzip)
    }

    /// A reader of the capture whose bytes come in `input`'s chunks.
    fn over_chunks(name: &str, input: Chunks, gzip: bool) -> Result<CaptureReader, CaptureError> {
        let mut r = CaptureReader {
            name: name.to_string(),
            win: Window::new(input, gzip),
            format: CaptureFormat::Pcap,
            mode: Mode::PcapNg {
                be: false,
                ifaces: Vec::new(),
            },
            frame_no: 0,
            last_ts: Timestamp::default(),
            stats: ReaderStats::default(),
            warnings: Vec::new(),
            suppressed_warnings: 0,
            secrets: Vec::new(),
            snaplen_warned: false,
            unknown_block_warned: false,
            done: false,
        };
        r.start()?;
        Ok(r)
    }

    /// Recognises the format and reads a pcap file header.
    fn start(&mut self) -> Result<(), CaptureError> {
        let ok = self.ensure(4)?;
        if let Some(source) = self.win.read_error.take() {
            return Err(self.read_failed(source));
        }
        let unzipped = if self.win.gzip_cut {
            " (after gzip decompression; the gzip stream ends early)"
        } else if self.win.gzip {
            " (after gzip decompression)"
        } else {
            ""
        };
        if !ok {
            let have = self.avail();
            let what = if have == 0 {
                format!("empty file{unzipped}: no capture file header")
            } else {
                format!(
                    "file{unzipped} is only {have} bytes long, too short for a capture file header"
                )
            };
            return Err(self.truncated(0, what));
        }
        let magic = rd_4(self.window(), 0).unwrap_or([0; 4]);
        if magic == SHB_MAGIC {
            // The section header block is the file header: it must be whole.
            let be = self.ensure(12)? && rd_4(self.window(), 8) == Some(BOM_BE);
            let len = if self.ensure(8)? {
                rd_u32(self.window(), 4, be).unwrap_or(0)
            } else {
                0
            };
            let need = (len as usize).clamp(28, RESYNC_MAX_BLOCK_LEN as usize);
            if !self.ensure(need)? {
                if let Some(source) = self.win.read_error.take() {
                    return Err(self.read_failed(source));
                }
                let have = self.avail();
                return Err(self.truncated(
                    0,
                    format!(
                        "pcapng section header block{unzipped} needs {need} bytes, the file has only {have}"
                    ),
                ));
            }
            self.format = CaptureFormat::PcapNg;
            self.mode = Mode::PcapNg {
                be: false,
                ifaces: Vec::new(),
            };
            return Ok(());
        }
        if pcap_magic(magic).is_none() {
            return Err(CaptureError::UnknownFormat {
                file: format!("{}{unzipped}", self.name),
                magic,
            });
        }
        if !self.ensure(PCAP_HEADER_LEN)? {
            if let Some(source) = self.win.read_error.take() {
                return Err(self.read_failed(source));
            }
            let have = self.avail();
            return Err(self.truncated(
                0,
                format!("pcap file header needs {PCAP_HEADER_LEN} bytes, the file has only {have}"),
            ));
        }
        let Some(h) = parse_pcap_header(self.window()) else {
            return Err(self.malformed(0, "unreadable pcap file header".to_string()));
        };
        if h.major != 2 {
            self.warn(
                0,
                format_args!(
                    "unexpected pcap version {}.{} (expected 2.4); reading it as 2.4",
                    h.major, h.minor
                ),
            );
        }
        self.format = CaptureFormat::Pcap;
        self.mode = Mode::Pcap(h);
        self.consume(PCAP_HEADER_LEN);
        Ok(())
    }

    /// The next frame, `Ok(None)` at the clean end of the file.
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, CaptureError> {
        if self.done {
            return Ok(None);
        }
        loop {
            let step = match self.mode {
                Mode::Pcap(h) => self.step_pcap(h),
                Mode::PcapNg { .. } => self.step_ng(),
            };
            match step {
                Ok(Step::Again) => {}
                Ok(Step::End) => {
                    self.done = true;
                    return Ok(None);
                }
                Ok(Step::Frame(m)) => {
                    return match self.win.at(m.start, m.len) {
                        Some(data) => Ok(Some(Frame {
                            number: self.frame_no,
                            ts: m.ts,
                            link: m.link,
                            data,
                            orig_len: m.orig_len,
                            file_offset: m.offset,
                        })),
                        None => {
                            self.done = true;
                            Err(self.malformed(
                                m.offset,
                                "internal error: frame outside the read buffer".to_string(),
                            ))
                        }
                    };
                }
                Err(e) => {
                    self.done = true;
                    return Err(e);
                }
            }
        }
    }

    pub fn format(&self) -> CaptureFormat {
        self.format
    }

    pub fn is_gzip(&self) -> bool {
        self.win.gzip
    }

    pub fn stats(&self) -> &ReaderStats {
        &self.stats
    }

    /// The name used in messages (the path, or `<stdin>`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Decryption Secrets Blocks met so far: (secrets type, data).
    pub fn take_decryption_secrets(&mut self) -> Vec<(u32, Vec<u8>)> {
        std::mem::take(&mut self.secrets)
    }

    /// Non-fatal problems met since the last call: damage the reader skipped
    /// or worked around (each names the file, byte offset and frame). Drain
    /// it after each frame, or now and then: at most 1000 are kept between
    /// calls, the rest are counted and summed up in one last line.
    pub fn take_warnings(&mut self) -> Vec<String> {
        let mut w = std::mem::take(&mut self.warnings);
        if self.suppressed_warnings > 0 {
            w.push(format!(
                "{}: {} more warnings not shown",
                self.name, self.suppressed_warnings
            ));
            self.suppressed_warnings = 0;
        }
        w
    }

    /// Whether the next frame is whole in the bytes read so far, so that
    /// [`Self::next_frame`] will not wait for the input to give it (or the
    /// reader is done). False when unsure: a record whose lengths or time
    /// look odd (its check reads the next record's header too), a new file
    /// header or section, more than a few blocks that are not packets. A
    /// reader of a live input hands on the frames it has before a call
    /// that may wait.
    pub fn next_is_buffered(&self) -> bool {
        if self.done {
            return true;
        }
        let w = self.win.bytes();
        match &self.mode {
            Mode::Pcap(h) => {
                let (Some(magic), Some(frac), Some(incl), Some(orig)) = (
                    rd_4(w, 0),
                    rd_u32(w, 4, h.be),
                    rd_u32(w, 8, h.be),
                    rd_u32(w, 12, h.be),
                ) else {
                    return false;
                };
                if pcap_magic(magic).is_some() || magic == SHB_MAGIC {
                    return false;
                }
                let unit = if h.nsec { 1_000_000_000 } else { 1_000_000 };
                let doubtful = incl == 0
                    || incl > orig
                    || frac >= unit
                    || (h.snaplen != 0 && incl > h.snaplen);
                let need = pcap::PCAP_RECORD_HEADER_LEN
                    .saturating_add(incl as usize)
                    .saturating_add(if doubtful {
                        pcap::PCAP_RECORD_HEADER_LEN
                    } else {
                        0
                    });
                w.len() >= need
            }
            Mode::PcapNg { be, ifaces } => {
                // past whole blocks that are not packets, to a whole packet
                let mut at = 0usize;
                for _ in 0..16 {
                    let (Some(t), Some(len)) = (rd_u32(w, at, *be), rd_u32(w, at + 4, *be)) else {
                        return false;
                    };
                    let len = len as usize;
                    let end = at.saturating_add(len);
                    if t == pcapng::block::SECTION_HEADER || len < 12 || end > w.len() {
                        return false;
                    }
                    // a packet of an interface described (else it is
                    // skipped, and the reader goes on)
                    let iface = match t {
                        pcapng::block::ENHANCED_PACKET => rd_u32(w, at + 8, *be),
                        pcapng::block::PACKET => rd_4(w, at + 8).map(|b| {
                            u32::from(if *be {
                                u16::from_be_bytes([b[0], b[1]])
                            } else {
                                u16::from_le_bytes([b[0], b[1]])
                            })
                        }),
                        pcapng::block::SIMPLE_PACKET => Some(0),
                        _ => None,
                    };
                    if let Some(i) = iface {
                        return (i as usize) < ifaces.len();
                    }
                    at = end;
                }
                false
            }
        }
    }

    /// True when warnings are waiting for [`Self::take_warnings`].
    pub fn has_warnings(&self) -> bool {
        !self.warnings.is_empty() || self.suppressed_warnings > 0
    }

    // ----- the buffer window -----------------------------------------

    #[inline]
    fn avail(&self) -> usize {
        self.win.avail()
    }

    #[inline]
    fn window(&self) -> &[u8] {
        self.win.bytes()
    }

    #[inline]
    fn consume(&mut self, n: usize) {
        self.win.consume(n);
        self.stats.bytes_read = self.win.offset;
    }

    /// Makes `n` bytes available from `pos`. `Ok(false)` when the input ends
    /// (or fails: see `read_error`) first; all that remains is buffered then.
    #[inline]
    fn ensure(&mut self, n: usize) -> Result<bool, CaptureError> {
        Ok(self.win.ensure(n))
    }

    // ----- messages ----------------------------------------------------

    fn warn(&mut self, offset: u64, msg: impl fmt::Display) {
        self.stats.warnings += 1;
        if self.warnings.len() < MAX_KEPT_WARNINGS {
            self.warnings.push(format!(
                "{}: byte offset {offset} (after frame {}): {msg}",
                self.name, self.frame_no
            ));
        } else {
            self.suppressed_warnings += 1;
        }
    }

    fn truncated(&self, offset: u64, what: String) -> CaptureError {
        CaptureError::Truncated {
            file: self.name.clone(),
            offset,
            frame: self.frame_no,
            what,
        }
    }

    /// The pending read error, at the end of what was read.
    fn read_failed(&self, source: std::io::Error) -> CaptureError {
        CaptureError::ReadFailed {
            file: self.name.clone(),
            offset: self.win.offset.saturating_add(self.avail() as u64),
            frame: self.frame_no,
            gzip: self.win.gzip,
            source,
        }
    }

    fn malformed(&self, offset: u64, what: String) -> CaptureError {
        CaptureError::Malformed {
            file: self.name.clone(),
            offset,
            frame: self.frame_no,
            what,
        }
    }

    /// The input ended with fewer than `need` bytes for `what` at `offset`
    /// (everything left is in the buffer): clean end, truncation or the
    /// pending read error.
    fn at_end(&mut self, offset: u64, need: u64, what: &str) -> Result<Step, CaptureError> {
        if let Some(source) = self.win.read_error.take() {
            return Err(self.read_failed(source));
        }
        let have = self.avail() as u64;
        let gz = if self.win.gzip_cut {
            " (the gzip stream ends early)"
        } else {
            ""
        };
        if have == 0 && offset == self.win.offset {
            if self.win.gzip_cut {
                return Err(self.truncated(
                    offset,
                    "the gzip stream ends early (no gzip trailer)".to_string(),
                ));
            }
            return Ok(Step::End);
        }
        Err(self.truncated(
            offset,
            format!("{what} needs {need} bytes, the file ends after {have}{gz}"),
        ))
    }
}
