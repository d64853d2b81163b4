//! Streaming pcap / pcapng reader.
//!
//! The reader owns one byte buffer (2 MiB, grown only for a larger record and
//! shrunk back afterwards) that it refills with large sequential reads from
//! the input. Records and blocks are framed and parsed in place; a [`Frame`]
//! borrows its bytes from that buffer, so the hot path does not allocate.
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

use crate::types::{Frame, LinkType, Timestamp};
use flate2::read::MultiGzDecoder;
use std::fmt;
use std::io::{BufReader, Read};

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

/// Size of the reader's own buffer (and of each sequential read).
const BUF_SIZE: usize = 2 << 20;
/// Size of the buffer between the compressed file and the gzip decoder.
const GZ_BUF_SIZE: usize = 1 << 20;
/// Most decompressed bytes asked of the gzip decoder at once: when the
/// stream is corrupt, the decoder drops what it decompressed in the failing
/// call, so small calls keep all but the last few KiB before the damage.
const GZ_READ_SIZE: usize = 8 << 10;

/// Reads at most [`GZ_READ_SIZE`] bytes per call.
struct SmallReads<R>(R);

impl<R: Read> Read for SmallReads<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(GZ_READ_SIZE);
        match buf.get_mut(..n) {
            Some(b) => self.0.read(b),
            None => Ok(0),
        }
    }
}
/// Largest captured length accepted for one packet.
const MAX_PACKET_LEN: u32 = 256 << 20;
/// Largest pcapng block accepted (a maximal packet plus room for options).
const MAX_BLOCK_LEN: u32 = MAX_PACKET_LEN + (64 << 10);
/// Largest block a resynchronisation scan accepts as "the next valid block".
const RESYNC_MAX_BLOCK_LEN: u32 = 16 << 20;
/// Largest captured or original length of a pcap record that a
/// resynchronisation scan (or the check of a doubtful record) accepts.
const RESYNC_MAX_PACKET_LEN: u32 = 16 << 20;
/// How far (seconds) a record found by a resynchronisation scan may be
/// from the last good frame.
const RESYNC_MAX_TIME_JUMP: i64 = 86_400;
/// Warnings kept in memory until [`CaptureReader::take_warnings`] drains them.
const MAX_KEPT_WARNINGS: usize = 1000;
/// Interfaces per pcapng section.
const MAX_INTERFACES: usize = 1 << 16;

const PCAP_HEADER_LEN: usize = 24;
const PCAP_RECORD_HEADER_LEN: usize = 16;

const SHB_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
const BOM_BE: [u8; 4] = [0x1a, 0x2b, 0x3c, 0x4d];
const BOM_LE: [u8; 4] = [0x4d, 0x3c, 0x2b, 0x1a];

const BT_SHB: u32 = 0x0A0D_0D0A;
const BT_IDB: u32 = 1;
const BT_PB: u32 = 2;
const BT_SPB: u32 = 3;
const BT_NRB: u32 = 4;
const BT_ISB: u32 = 5;
const BT_EPB: u32 = 6;
const BT_SJE: u32 = 9;
const BT_DSB: u32 = 0x0A;
const BT_CB: u32 = 0x0BAD;
const BT_DCB: u32 = 0x4000_0BAD;

fn block_name(t: u32) -> &'static str {
    match t {
        BT_SHB => "section header block",
        BT_IDB => "interface description block",
        BT_PB => "packet block",
        BT_SPB => "simple packet block",
        BT_NRB => "name resolution block",
        BT_ISB => "interface statistics block",
        BT_EPB => "enhanced packet block",
        BT_SJE => "systemd journal export block",
        BT_DSB => "decryption secrets block",
        BT_CB | BT_DCB => "custom block",
        _ => "block",
    }
}

/// Smallest total length of a block of a known type.
fn block_min_len(t: u32) -> Option<u32> {
    Some(match t {
        BT_SHB => 28,
        BT_IDB => 20,
        BT_PB | BT_EPB => 32,
        BT_SPB => 16,
        BT_DSB => 20,
        BT_CB | BT_DCB => 16,
        BT_NRB | BT_ISB | BT_SJE => 12,
        _ => return None,
    })
}

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

/// A pcap file header, parsed.
#[derive(Debug, Clone, Copy)]
struct PcapHeader {
    be: bool,
    nsec: bool,
    major: u16,
    minor: u16,
    snaplen: u32,
    link: LinkType,
}

/// Endianness and resolution from a pcap magic number, if it is one.
fn pcap_magic(m: [u8; 4]) -> Option<(bool, bool)> {
    match m {
        [0xd4, 0xc3, 0xb2, 0xa1] => Some((false, false)),
        [0xa1, 0xb2, 0xc3, 0xd4] => Some((true, false)),
        [0x4d, 0x3c, 0xb2, 0xa1] => Some((false, true)),
        [0xa1, 0xb2, 0x3c, 0x4d] => Some((true, true)),
        _ => None,
    }
}

fn parse_pcap_header(w: &[u8]) -> Option<PcapHeader> {
    let (be, nsec) = pcap_magic(rd_4(w, 0)?)?;
    let major = rd_u16(w, 4, be)?;
    let minor = rd_u16(w, 6, be)?;
    let snaplen = rd_u32(w, 16, be)?;
    let network = rd_u32(w, 20, be)?;
    Some(PcapHeader {
        be,
        nsec,
        major,
        minor,
        snaplen,
        // The upper bits may carry FCS information (LT_LINKTYPE in libpcap).
        link: LinkType(network & 0x03FF_FFFF),
    })
}

/// The captured length of the pcap record header at `at` in `w`, if the
/// header is plausible: lengths within reason and consistent, sub-second
/// part in range, time within a day of `reference` (seconds) when given.
fn pcap_record_plausible(
    h: &PcapHeader,
    w: &[u8],
    at: usize,
    reference: Option<u32>,
) -> Option<u32> {
    let sec = rd_u32(w, at, h.be)?;
    let frac = rd_u32(w, at.checked_add(4)?, h.be)?;
    let incl = rd_u32(w, at.checked_add(8)?, h.be)?;
    let orig = rd_u32(w, at.checked_add(12)?, h.be)?;
    let unit = if h.nsec { 1_000_000_000 } else { 1_000_000 };
    let ok = frac < unit
        && (1..=RESYNC_MAX_PACKET_LEN).contains(&incl)
        && orig <= RESYNC_MAX_PACKET_LEN
        && (orig == 0 || incl <= orig)
        && reference.is_none_or(|r| (i64::from(sec) - i64::from(r)).abs() <= RESYNC_MAX_TIME_JUMP);
    ok.then_some(incl)
}

/// Conversion of pcapng timestamp units to nanoseconds.
#[derive(Debug, Clone, Copy)]
enum TsUnit {
    /// Units are 10^-n s with n <= 9: multiply.
    Mul(u64),
    /// Units are 10^-n s with n > 9: divide.
    Div(u64),
    /// Units are 2^-n s: units per second.
    Frac(u64),
}

impl TsUnit {
    const MICROS: TsUnit = TsUnit::Mul(1000);

    /// From an `if_tsresol` option value; `None` if out of range.
    fn from_tsresol(r: u8) -> Option<TsUnit> {
        let n = u32::from(r & 0x7f);
        if r & 0x80 == 0 {
            match n {
                0..=9 => Some(TsUnit::Mul(10u64.pow(9 - n))),
                10..=19 => Some(TsUnit::Div(10u64.pow(n - 9))),
                _ => None,
            }
        } else if n <= 63 {
            Some(TsUnit::Frac(1u64 << n))
        } else {
            None
        }
    }

    #[inline]
    fn to_nanos(self, t: u64) -> i64 {
        let ns: u128 = match self {
            TsUnit::Mul(k) => u128::from(t) * u128::from(k),
            TsUnit::Div(k) => u128::from(t / k.max(1)),
            TsUnit::Frac(u) => u128::from(t) * 1_000_000_000 / u128::from(u.max(1)),
        };
        i64::try_from(ns).unwrap_or(i64::MAX)
    }
}

/// A pcapng interface (from an IDB).
#[derive(Debug, Clone, Copy)]
struct Interface {
    link: LinkType,
    snaplen: u32,
    unit: TsUnit,
    /// `if_tsoffset`, in nanoseconds.
    offset_ns: i64,
}

#[derive(Debug)]
enum Mode {
    Pcap(PcapHeader),
    PcapNg { be: bool, ifaces: Vec<Interface> },
}

/// Where a frame's bytes are in the buffer, and its metadata.
#[derive(Debug, Clone, Copy)]
struct FrameMeta {
    start: usize,
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
    input: Box<dyn Read + Send>,
    gzip: bool,
    format: CaptureFormat,
    buf: Vec<u8>,
    /// Start of the unconsumed data in `buf`.
    pos: usize,
    /// End of the valid data in `buf`.
    end: usize,
    /// File offset (in the decompressed stream) of `buf[pos]`.
    pos_offset: u64,
    /// The input has no more bytes (or failed).
    eof: bool,
    /// A read error met (reported once the buffered data is used up).
    read_error: Option<std::io::Error>,
    /// The gzip stream ended before its trailer.
    gzip_cut: bool,
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
            .field("gzip", &self.gzip)
            .field("offset", &self.pos_offset)
            .field("frame", &self.frame_no)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl CaptureReader {
    /// Opens a file by path; `-` is standard input.
    ///
    /// The input is read (and decompressed) ahead on a second thread; see
    /// [`crate::Prefetch`].
    pub fn open(path: &str) -> Result<CaptureReader, CaptureError> {
        if path == "-" {
            return Self::open_reader("<stdin>", Box::new(std::io::stdin()), true);
        }
        let file = std::fs::File::open(path).map_err(|source| CaptureError::Io {
            file: path.to_string(),
            source,
        })?;
        Self::open_reader(path, Box::new(file), true)
    }

    /// Reads a capture from any byte stream; `name` is used in messages.
    pub fn from_reader(
        name: &str,
        input: Box<dyn Read + Send>,
    ) -> Result<CaptureReader, CaptureError> {
        Self::open_reader(name, input, false)
    }

    /// Like [`Self::from_reader`], with the input read (and decompressed)
    /// ahead on a second thread as [`Self::open`] does; for callers that
    /// wrap the file themselves (e.g. to count the bytes read from it).
    pub fn from_reader_prefetched(
        name: &str,
        input: Box<dyn Read + Send>,
    ) -> Result<CaptureReader, CaptureError> {
        Self::open_reader(name, input, true)
    }

    fn open_reader(
        name: &str,
        mut input: Box<dyn Read + Send>,
        prefetch: bool,
    ) -> Result<CaptureReader, CaptureError> {
        // Peek at the first bytes to recognise gzip, then put them back.
        let mut head = [0u8; 2];
        let mut got = 0usize;
        while got < head.len() {
            let Some(space) = head.get_mut(got..) else {
                break;
            };
            match input.read(space) {
                Ok(0) => break,
                Ok(k) => got = got.saturating_add(k),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(source) => {
                    return Err(CaptureError::Io {
                        file: name.to_string(),
                        source,
                    })
                }
            }
        }
        let gzip = got == 2 && head == [0x1f, 0x8b];
        let prefix = std::io::Cursor::new(head.get(..got).unwrap_or(&[]).to_vec());
        let chained = prefix.chain(input);
        let input: Box<dyn Read + Send> = if gzip {
            Box::new(SmallReads(MultiGzDecoder::new(BufReader::with_capacity(
                GZ_BUF_SIZE,
                chained,
            ))))
        } else {
            Box::new(chained)
        };
        let input: Box<dyn Read + Send> = if prefetch {
            Box::new(crate::prefetch::Prefetch::spawn(input).map_err(|source| {
                CaptureError::Io {
                    file: name.to_string(),
                    source,
                }
            })?)
        } else {
            input
        };
        let mut r = CaptureReader {
            name: name.to_string(),
            input,
            gzip,
            format: CaptureFormat::Pcap,
            buf: vec![0u8; BUF_SIZE],
            pos: 0,
            end: 0,
            pos_offset: 0,
            eof: false,
            read_error: None,
            gzip_cut: false,
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
        if let Some(source) = self.read_error.take() {
            return Err(self.read_failed(source));
        }
        let unzipped = if self.gzip_cut {
            " (after gzip decompression; the gzip stream ends early)"
        } else if self.gzip {
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
                if let Some(source) = self.read_error.take() {
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
            if let Some(source) = self.read_error.take() {
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
                    let range = m.start..m.start.saturating_add(m.len);
                    return match self.buf.get(range) {
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
        self.gzip
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

    /// True when warnings are waiting for [`Self::take_warnings`].
    pub fn has_warnings(&self) -> bool {
        !self.warnings.is_empty() || self.suppressed_warnings > 0
    }

    // ----- buffer management -------------------------------------------

    #[inline]
    fn avail(&self) -> usize {
        self.end.saturating_sub(self.pos)
    }

    #[inline]
    fn window(&self) -> &[u8] {
        self.buf.get(self.pos..self.end).unwrap_or(&[])
    }

    #[inline]
    fn consume(&mut self, n: usize) {
        let n = n.min(self.avail());
        self.pos += n;
        self.pos_offset = self.pos_offset.saturating_add(n as u64);
        self.stats.bytes_read = self.pos_offset;
    }

    /// Makes `n` bytes available from `pos`. `Ok(false)` when the input ends
    /// (or fails: see `read_error`) first; all that remains is buffered then.
    #[inline]
    fn ensure(&mut self, n: usize) -> Result<bool, CaptureError> {
        if self.avail() >= n {
            return Ok(true);
        }
        self.refill(n)
    }

    #[cold]
    fn refill(&mut self, n: usize) -> Result<bool, CaptureError> {
        if self.eof {
            return Ok(false);
        }
        // Move what is left to the front.
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.buf.len() > BUF_SIZE && n <= BUF_SIZE && self.end <= BUF_SIZE {
            // Back to the normal size after a large record.
            self.buf.truncate(BUF_SIZE);
            self.buf.shrink_to_fit();
        }
        while self.end < n {
            if self.end >= self.buf.len() {
                // A record larger than the buffer: grow as its bytes arrive
                // (doubling, up to the need plus some headroom), so that a
                // length field that lies costs no more than the data there is.
                let target = n.saturating_add(BUF_SIZE);
                let grown = self.buf.len().saturating_mul(2).clamp(BUF_SIZE, target);
                self.buf.resize(grown, 0);
            }
            let Some(space) = self.buf.get_mut(self.end..) else {
                return Ok(false);
            };
            match self.input.read(space) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(k) => self.end = self.end.saturating_add(k).min(self.buf.len()),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if self.gzip && e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    self.eof = true;
                    self.gzip_cut = true;
                    return Ok(false);
                }
                Err(e) => {
                    self.eof = true;
                    self.read_error = Some(e);
                    return Ok(false);
                }
            }
        }
        Ok(true)
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
            offset: self.pos_offset.saturating_add(self.avail() as u64),
            frame: self.frame_no,
            gzip: self.gzip,
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
        if let Some(source) = self.read_error.take() {
            return Err(self.read_failed(source));
        }
        let have = self.avail() as u64;
        let gz = if self.gzip_cut {
            " (the gzip stream ends early)"
        } else {
            ""
        };
        if have == 0 && offset == self.pos_offset {
            if self.gzip_cut {
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

    // ----- pcap --------------------------------------------------------

    fn step_pcap(&mut self, h: PcapHeader) -> Result<Step, CaptureError> {
        let off = self.pos_offset;
        if !self.ensure(PCAP_RECORD_HEADER_LEN)? {
            return self.at_end(off, PCAP_RECORD_HEADER_LEN as u64, "pcap record header");
        }
        let magic = rd_4(self.window(), 0).unwrap_or([0; 4]);
        if pcap_magic(magic).is_some() && self.ensure(PCAP_HEADER_LEN)? {
            if let Some(nh) = parse_pcap_header(self.window()).filter(|nh| nh.major == 2) {
                self.warn(
                    off,
                    format_args!(
                        "a second pcap file header follows (concatenated captures); \
                         continuing with its link type {} and {} timestamps",
                        nh.link,
                        if nh.nsec { "nanosecond" } else { "microsecond" }
                    ),
                );
                self.mode = Mode::Pcap(nh);
                self.consume(PCAP_HEADER_LEN);
                return Ok(Step::Again);
            }
        }
        if magic == SHB_MAGIC && self.ensure(12)? {
            let bom = rd_4(self.window(), 8);
            if bom == Some(BOM_BE) || bom == Some(BOM_LE) {
                self.warn(
                    off,
                    "a pcapng section follows the pcap records (concatenated captures); continuing",
                );
                self.format = CaptureFormat::PcapNg;
                self.mode = Mode::PcapNg {
                    be: false,
                    ifaces: Vec::new(),
                };
                return Ok(Step::Again);
            }
        }
        let w = self.window();
        let (Some(sec), Some(frac), Some(incl), Some(orig)) = (
            rd_u32(w, 0, h.be),
            rd_u32(w, 4, h.be),
            rd_u32(w, 8, h.be),
            rd_u32(w, 12, h.be),
        ) else {
            return Err(self.malformed(off, "unreadable pcap record header".to_string()));
        };
        if incl > MAX_PACKET_LEN {
            let what = format!(
                "pcap record of frame {} claims {incl} captured bytes (more than {MAX_PACKET_LEN})",
                self.frame_no + 1
            );
            return self.pcap_damaged(h, off, what);
        }
        if h.snaplen != 0 && incl > h.snaplen && incl > orig {
            let what = format!(
                "pcap record of frame {} claims {incl} captured bytes, more than the \
                 snapshot length {} and the original length {orig}",
                self.frame_no + 1,
                h.snaplen
            );
            return self.pcap_damaged(h, off, what);
        }
        let total = PCAP_RECORD_HEADER_LEN + incl as usize;
        let unit = if h.nsec { 1_000_000_000 } else { 1_000_000 };
        let doubtful =
            incl == 0 || incl > orig || frac >= unit || (h.snaplen != 0 && incl > h.snaplen);
        if doubtful && !self.ensure(total)? && self.read_error.is_none() {
            // A doubtful record running past the end: a cut, unless a
            // valid record follows its header (then its length lied).
            let what = format!(
                "pcap record of frame {} is implausible ({incl} captured bytes, original \
                 length {orig}, time {sec}.{frac}) and runs past the end",
                self.frame_no + 1
            );
            return match self.pcap_damaged(h, off, what) {
                Err(CaptureError::Malformed { .. }) => Err(self.truncated(
                    off,
                    format!(
                        "pcap record of frame {} needs {total} bytes, the file ends before",
                        self.frame_no + 1
                    ),
                )),
                other => other,
            };
        }
        if doubtful && self.ensure(total + PCAP_RECORD_HEADER_LEN)? {
            // A record with odd lengths or time is taken when a plausible
            // record follows it; else its length is a lie.
            let reference = self.reference_sec().or(Some(sec));
            let next_ok = pcap_record_plausible(&h, self.window(), total, reference).is_some()
                || self.window().get(total..total + 4).is_some_and(|m| {
                    let m: [u8; 4] = m.try_into().unwrap_or([0; 4]);
                    pcap_magic(m).is_some() || m == SHB_MAGIC
                });
            if !next_ok {
                let what = format!(
                    "pcap record of frame {} is implausible ({incl} captured bytes, original \
                     length {orig}, time {sec}.{frac}) and no record follows it",
                    self.frame_no + 1
                );
                return self.pcap_damaged(h, off, what);
            }
        }
        if h.snaplen != 0 && incl > h.snaplen && !self.snaplen_warned {
            self.snaplen_warned = true;
            self.warn(
                off,
                format_args!(
                    "frame {} has {incl} captured bytes, more than the file's snapshot \
                     length {}; reading it anyway",
                    self.frame_no + 1,
                    h.snaplen
                ),
            );
        }
        if !self.ensure(total)? {
            let what = format!("pcap record of frame {}", self.frame_no + 1);
            return self.at_end(off, total as u64, &what);
        }
        self.frame_no += 1;
        self.stats.frames = self.frame_no;
        let sub = if h.nsec {
            i64::from(frac)
        } else {
            i64::from(frac) * 1000
        };
        let ts = Timestamp(i64::from(sec) * 1_000_000_000 + sub);
        self.last_ts = ts;
        let meta = FrameMeta {
            start: self.pos + PCAP_RECORD_HEADER_LEN,
            len: incl as usize,
            ts,
            link: h.link,
            orig_len: orig,
            offset: off,
        };
        self.consume(total);
        Ok(Step::Frame(meta))
    }

    /// Seconds of the last good frame, if any.
    fn reference_sec(&self) -> Option<u32> {
        (self.frame_no > 0)
            .then(|| u32::try_from(self.last_ts.0.div_euclid(1_000_000_000)).ok())
            .flatten()
    }

    /// A pcap record header at `off` whose length is a lie: the record is
    /// lost (it counts as a frame), and reading goes on at the next record
    /// that is plausible and followed by another (or by the end), with a
    /// warning of the bytes skipped; `Malformed` when none follows.
    fn pcap_damaged(
        &mut self,
        h: PcapHeader,
        off: u64,
        what: String,
    ) -> Result<Step, CaptureError> {
        let reference = self.reference_sec();
        self.consume(1);
        loop {
            if !self.ensure(PCAP_RECORD_HEADER_LEN)? {
                if let Some(source) = self.read_error.take() {
                    return Err(self.read_failed(source));
                }
                let rest = self.avail();
                self.consume(rest);
                let skipped = self.pos_offset.saturating_sub(off);
                self.stats.skipped_bytes += skipped;
                return Err(self.malformed(
                    off,
                    format!("{what}; no valid record follows ({skipped} bytes to the end skipped)"),
                ));
            }
            if let Some(incl) = pcap_record_plausible(&h, self.window(), 0, reference) {
                let total = PCAP_RECORD_HEADER_LEN + incl as usize;
                let more = self.ensure(total + PCAP_RECORD_HEADER_LEN)?;
                let w = self.window();
                let chained = if more {
                    pcap_record_plausible(&h, w, total, reference).is_some()
                } else {
                    // the end of the input right after it (or inside the
                    // next header) vouches for it too
                    w.len() >= total
                };
                if chained {
                    break;
                }
            }
            self.consume(1);
        }
        let skipped = self.pos_offset.saturating_sub(off);
        self.stats.skipped_bytes += skipped;
        self.stats.skipped_records += 1;
        let next = self.pos_offset;
        let lost = self.frame_no + 1;
        self.warn(
            off,
            format_args!(
                "{what}; skipped {skipped} bytes to the next valid record at offset {next} \
                 (frame {lost} lost; later frame numbers may be off)"
            ),
        );
        self.frame_no += 1;
        self.stats.frames = self.frame_no;
        Ok(Step::Again)
    }

    // ----- pcapng ------------------------------------------------------

    fn section_be(&self) -> bool {
        match &self.mode {
            Mode::PcapNg { be, .. } => *be,
            Mode::Pcap(h) => h.be,
        }
    }

    fn step_ng(&mut self) -> Result<Step, CaptureError> {
        let off = self.pos_offset;
        if !self.ensure(8)? {
            return self.at_end(off, 8, "pcapng block header");
        }
        let magic = rd_4(self.window(), 0).unwrap_or([0; 4]);
        let mut be = self.section_be();
        if magic == SHB_MAGIC {
            if !self.ensure(12)? {
                return self.at_end(off, 12, "pcapng section header block");
            }
            match rd_4(self.window(), 8) {
                Some(BOM_BE) => be = true,
                Some(BOM_LE) => be = false,
                _ => {
                    return self.damaged(
                        off,
                        "section header block with an invalid byte-order magic".to_string(),
                    )
                }
            }
        } else if pcap_magic(magic).is_some() && self.ensure(PCAP_HEADER_LEN)? {
            if let Some(nh) = parse_pcap_header(self.window()).filter(|nh| nh.major == 2) {
                self.warn(
                    off,
                    format_args!(
                        "a pcap file header follows the pcapng blocks (concatenated captures); \
                         continuing with its link type {}",
                        nh.link
                    ),
                );
                self.format = CaptureFormat::Pcap;
                self.mode = Mode::Pcap(nh);
                self.consume(PCAP_HEADER_LEN);
                return Ok(Step::Again);
            }
        }
        let w = self.window();
        let (Some(btype), Some(len1)) = (rd_u32(w, 0, be), rd_u32(w, 4, be)) else {
            return Err(self.malformed(off, "unreadable pcapng block header".to_string()));
        };
        if len1 < 12 || len1 % 4 != 0 || len1 > MAX_BLOCK_LEN {
            return self.damaged(
                off,
                format!(
                    "{} (type 0x{btype:08x}) has an impossible length {len1}",
                    block_name(btype)
                ),
            );
        }
        let len = len1 as usize;
        if !self.ensure(len)? {
            // Everything left is buffered. A lying length in the middle of
            // the file is told from a cut by a valid block further on.
            let what = format!("{} (type 0x{btype:08x})", block_name(btype));
            return match self.resync()? {
                Some(skipped) => {
                    let next = self.pos_offset;
                    self.warn(
                        off,
                        format_args!(
                            "{what} claims {len1} bytes, more than remain in the file; \
                             skipped {skipped} bytes to the next valid block at offset {next}"
                        ),
                    );
                    Ok(Step::Again)
                }
                None => {
                    let gz = if self.gzip_cut {
                        " (the gzip stream ends early)"
                    } else {
                        ""
                    };
                    let have = self.pos_offset.saturating_sub(off);
                    if let Some(source) = self.read_error.take() {
                        return Err(self.read_failed(source));
                    }
                    Err(self.truncated(
                        off,
                        format!("{what} needs {len1} bytes, the file ends after {have}{gz}"),
                    ))
                }
            };
        }
        let len2 = rd_u32(self.window(), len - 4, be).unwrap_or(0);
        if len2 != len1 {
            return self.damaged(
                off,
                format!(
                    "{} (type 0x{btype:08x}): trailing length {len2} differs from leading length {len1}",
                    block_name(btype)
                ),
            );
        }
        self.process_block(off, btype, be, len)
    }

    /// Framing damage at `off`: scan for the next valid block; a warning if
    /// one is found, `Malformed` if not.
    fn damaged(&mut self, off: u64, what: String) -> Result<Step, CaptureError> {
        match self.resync()? {
            Some(skipped) => {
                let next = self.pos_offset;
                self.warn(
                    off,
                    format_args!(
                        "{what}; skipped {skipped} bytes to the next valid block at offset {next}"
                    ),
                );
                Ok(Step::Again)
            }
            None => {
                if let Some(source) = self.read_error.take() {
                    return Err(self.read_failed(source));
                }
                let skipped = self.pos_offset.saturating_sub(off);
                Err(self.malformed(
                    off,
                    format!("{what}; no valid block follows ({skipped} bytes to the end skipped)"),
                ))
            }
        }
    }

    /// Scans forward from one byte past the current position for a plausible
    /// pcapng block, consuming the bytes on the way. `Some(skipped)` if one
    /// was found (it is then at `pos`), `None` at the end of the input.
    fn resync(&mut self) -> Result<Option<u64>, CaptureError> {
        let start = self.pos_offset;
        self.consume(1);
        loop {
            if !self.ensure(12)? {
                let rest = self.avail();
                self.consume(rest);
                let skipped = self.pos_offset.saturating_sub(start);
                self.stats.skipped_bytes += skipped;
                return Ok(None);
            }
            if self.plausible_block_here()? {
                let skipped = self.pos_offset.saturating_sub(start);
                self.stats.skipped_bytes += skipped;
                return Ok(Some(skipped));
            }
            self.consume(1);
        }
    }

    /// Is there a complete, self-consistent block of a known type at `pos`?
    fn plausible_block_here(&mut self) -> Result<bool, CaptureError> {
        let w = self.window();
        let Some(magic) = rd_4(w, 0) else {
            return Ok(false);
        };
        let be = if magic == SHB_MAGIC {
            match rd_4(w, 8) {
                Some(BOM_BE) => true,
                Some(BOM_LE) => false,
                _ => return Ok(false),
            }
        } else {
            self.section_be()
        };
        let (Some(btype), Some(len1)) = (rd_u32(w, 0, be), rd_u32(w, 4, be)) else {
            return Ok(false);
        };
        let Some(min) = block_min_len(btype) else {
            return Ok(false);
        };
        if len1 < min || len1 % 4 != 0 || len1 > RESYNC_MAX_BLOCK_LEN {
            return Ok(false);
        }
        let len = len1 as usize;
        if !self.ensure(len)? {
            return Ok(false);
        }
        let Some(b) = self.window().get(..len) else {
            return Ok(false);
        };
        if rd_u32(b, len - 4, be) != Some(len1) {
            return Ok(false);
        }
        Ok(match btype {
            BT_SHB => rd_u16(b, 12, be) == Some(1),
            BT_EPB | BT_PB => rd_u32(b, 20, be)
                .and_then(pad4)
                .and_then(|c| c.checked_add(32))
                .is_some_and(|need| need <= len1),
            BT_DSB => rd_u32(b, 12, be)
                .and_then(pad4)
                .and_then(|c| c.checked_add(20))
                .is_some_and(|need| need <= len1),
            _ => true,
        })
    }

    /// Skips an unusable block whose framing is sound, with a warning.
    fn skip_block(&mut self, off: u64, len: usize, msg: impl fmt::Display) -> Step {
        self.warn(off, msg);
        self.stats.skipped_records += 1;
        self.stats.skipped_bytes += len as u64;
        self.consume(len);
        Step::Again
    }

    /// Handles a complete block of `len` bytes at `pos` (lengths checked).
    fn process_block(
        &mut self,
        off: u64,
        btype: u32,
        be: bool,
        len: usize,
    ) -> Result<Step, CaptureError> {
        let too_short = block_min_len(btype).is_some_and(|min| (len as u64) < u64::from(min));
        if too_short {
            if matches!(btype, BT_EPB | BT_PB | BT_SPB) {
                self.frame_no += 1;
                self.stats.frames = self.frame_no;
            }
            if btype == BT_SHB {
                return self.damaged(off, format!("section header block too short ({len} bytes)"));
            }
            return Ok(self.skip_block(
                off,
                len,
                format_args!("{} too short ({len} bytes); skipped", block_name(btype)),
            ));
        }
        match btype {
            BT_SHB => {
                let b = self.window();
                let major = rd_u16(b, 12, be).unwrap_or(0);
                let minor = rd_u16(b, 14, be).unwrap_or(0);
                if major != 1 {
                    return Err(self.malformed(
                        off,
                        format!("unsupported pcapng version {major}.{minor} (expected 1.x)"),
                    ));
                }
                self.mode = Mode::PcapNg {
                    be,
                    ifaces: Vec::new(),
                };
                self.format = CaptureFormat::PcapNg;
                self.consume(len);
                Ok(Step::Again)
            }
            BT_IDB => {
                let (iface, problem) = parse_idb(self.window().get(..len).unwrap_or(&[]), be);
                if let Some(p) = problem {
                    self.warn(off, format_args!("interface description block: {p}"));
                }
                let full = match &mut self.mode {
                    Mode::PcapNg { ifaces, .. } if ifaces.len() < MAX_INTERFACES => {
                        ifaces.push(iface);
                        false
                    }
                    _ => true,
                };
                if full {
                    return Ok(self.skip_block(
                        off,
                        len,
                        format_args!(
                            "more than {MAX_INTERFACES} interfaces in one section; \
                             interface description block skipped"
                        ),
                    ));
                }
                self.consume(len);
                Ok(Step::Again)
            }
            BT_EPB | BT_PB | BT_SPB => self.packet_block(off, btype, be, len),
            BT_DSB => {
                let b = self.window().get(..len).unwrap_or(&[]);
                let stype = rd_u32(b, 8, be).unwrap_or(0);
                let slen = rd_u32(b, 12, be).unwrap_or(u32::MAX);
                let data = (slen as usize)
                    .checked_add(16)
                    .filter(|&e| e.saturating_add(4) <= len)
                    .and_then(|e| b.get(16..e));
                match data {
                    Some(d) => {
                        self.secrets.push((stype, d.to_vec()));
                        self.consume(len);
                        Ok(Step::Again)
                    }
                    None => Ok(self.skip_block(
                        off,
                        len,
                        format_args!(
                            "decryption secrets block claims {slen} bytes of secrets, \
                             more than its length {len}; skipped"
                        ),
                    )),
                }
            }
            _ => {
                self.stats.other_blocks += 1;
                if block_min_len(btype).is_none() && !self.unknown_block_warned {
                    // Readers skip unknown blocks (RFC draft-ietf-opsawg-pcapng
                    // §3.1); said once, as the capture may come from a newer writer.
                    self.unknown_block_warned = true;
                    self.warn(
                        off,
                        format_args!(
                            "block of unknown type 0x{btype:08x} ({len} bytes) skipped; \
                             further unknown blocks are skipped silently"
                        ),
                    );
                }
                self.consume(len);
                Ok(Step::Again)
            }
        }
    }

    /// EPB, SPB or obsolete PB.
    #[inline]
    fn packet_block(
        &mut self,
        off: u64,
        btype: u32,
        be: bool,
        len: usize,
    ) -> Result<Step, CaptureError> {
        self.frame_no += 1;
        self.stats.frames = self.frame_no;
        let frame = self.frame_no;
        let b = self.window().get(..len).unwrap_or(&[]);
        let (if_id, ts_raw, caplen, orig, data_at) = if btype == BT_SPB {
            let orig = rd_u32(b, 8, be).unwrap_or(0);
            (0u32, None, orig.min((len - 16) as u32), orig, 12usize)
        } else {
            let if_id = if btype == BT_PB {
                rd_u16(b, 8, be).map(u32::from)
            } else {
                rd_u32(b, 8, be)
            };
            let hi = rd_u32(b, 12, be).unwrap_or(0);
            let lo = rd_u32(b, 16, be).unwrap_or(0);
            let caplen = rd_u32(b, 20, be).unwrap_or(u32::MAX);
            let orig = rd_u32(b, 24, be).unwrap_or(0);
            (
                if_id.unwrap_or(u32::MAX),
                Some((u64::from(hi) << 32) | u64::from(lo)),
                caplen,
                orig,
                28usize,
            )
        };
        let fits = pad4(caplen)
            .and_then(|c| c.checked_add(data_at as u32 + 4))
            .is_some_and(|need| need as usize <= len);
        if !fits {
            return Ok(self.skip_block(
                off,
                len,
                format_args!(
                    "frame {frame} skipped: {} claims {caplen} captured bytes, \
                     more than its length {len} allows",
                    block_name(btype)
                ),
            ));
        }
        let iface = match &self.mode {
            Mode::PcapNg { ifaces, .. } => ifaces.get(if_id as usize).copied(),
            Mode::Pcap(_) => None,
        };
        let Some(iface) = iface else {
            return Ok(self.skip_block(
                off,
                len,
                format_args!(
                    "frame {frame} skipped: {} on interface {if_id}, which no interface \
                     description block of this section defines",
                    block_name(btype)
                ),
            ));
        };
        let caplen = if btype == BT_SPB && iface.snaplen != 0 {
            caplen.min(iface.snaplen)
        } else {
            caplen
        };
        let ts = match ts_raw {
            Some(t) => Timestamp(iface.unit.to_nanos(t).saturating_add(iface.offset_ns)),
            None => self.last_ts,
        };
        self.last_ts = ts;
        let meta = FrameMeta {
            start: self.pos + data_at,
            len: caplen as usize,
            ts,
            link: iface.link,
            orig_len: orig,
            offset: off,
        };
        self.consume(len);
        Ok(Step::Frame(meta))
    }
}

/// Parses an interface description block (complete, at least 20 bytes).
/// Option problems are reported but do not lose the interface.
fn parse_idb(b: &[u8], be: bool) -> (Interface, Option<String>) {
    let mut iface = Interface {
        link: LinkType(u32::from(rd_u16(b, 8, be).unwrap_or(0))),
        snaplen: rd_u32(b, 12, be).unwrap_or(0),
        unit: TsUnit::MICROS,
        offset_ns: 0,
    };
    let mut problem = None;
    let end = b.len().saturating_sub(4);
    let mut at = 16usize;
    while at.saturating_add(4) <= end {
        let (Some(code), Some(olen)) = (rd_u16(b, at, be), rd_u16(b, at + 2, be)) else {
            break;
        };
        if code == 0 {
            break;
        }
        let vstart = at + 4;
        let vend = vstart + usize::from(olen);
        let Some(value) = b.get(vstart..vend).filter(|_| vend <= end) else {
            problem = Some(format!(
                "option {code} at block offset {at} runs past the end of the block"
            ));
            break;
        };
        match code {
            9 => match value.first().copied().and_then(TsUnit::from_tsresol) {
                Some(u) => iface.unit = u,
                None => {
                    problem = Some(format!(
                        "unusable if_tsresol {:?}; assuming microseconds",
                        value.first()
                    ))
                }
            },
            14 => {
                let v: Option<[u8; 8]> = value.get(..8).and_then(|s| s.try_into().ok());
                match v {
                    Some(a) => {
                        let secs = if be {
                            i64::from_be_bytes(a)
                        } else {
                            i64::from_le_bytes(a)
                        };
                        iface.offset_ns = secs.saturating_mul(1_000_000_000);
                    }
                    None => problem = Some("if_tsoffset shorter than 8 bytes; ignored".into()),
                }
            }
            _ => {}
        }
        at = vstart + ((usize::from(olen) + 3) & !3);
    }
    (iface, problem)
}
