//! Raw records of a capture file, to copy them out unchanged (extracting
//! some flows into a new capture).
//!
//! [`RawRecords`] walks a pcap or pcapng file (gzip-compressed or not) record
//! by record: the pcap file header, then each packet record; or each pcapng
//! block (section headers, interfaces, packets, decryption secrets, …). It
//! only frames records, it does not parse them: pair it with a
//! [`crate::CaptureReader`] over the same file, whose [`crate::Frame`]s carry
//! the `file_offset` of their record, to choose which records to copy.

use crate::reader::magic::{BOM_BE, BOM_LE, SHB_MAGIC};
use crate::reader::pcap::{pcap_magic, PCAP_HEADER_LEN, PCAP_RECORD_HEADER_LEN};
use crate::reader::window::Window;
use crate::reader::CaptureFormat;
use std::io::{self, Read};

pub use crate::reader::pcapng::block;

/// Larger records are taken for damage.
const MAX_RECORD_LEN: usize = 512 << 20;

/// What a raw record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawKind {
    /// The 24-byte pcap file header.
    PcapHeader,
    /// A pcap packet record (header and data).
    PcapPacket,
    /// A pcapng block of this type (see [`block`]).
    Block(u32),
}

impl RawKind {
    /// A packet record or block (one frame).
    pub fn is_packet(self) -> bool {
        matches!(
            self,
            RawKind::PcapPacket
                | RawKind::Block(block::PACKET | block::SIMPLE_PACKET | block::ENHANCED_PACKET)
        )
    }
}

/// One record, borrowed from the walker's buffer.
#[derive(Debug, Clone, Copy)]
pub struct RawRecord<'a> {
    /// Byte offset of the record in the (decompressed) file.
    pub offset: u64,
    pub kind: RawKind,
    /// The whole record: header, data, trailer.
    pub bytes: &'a [u8],
}

/// Walks the records of a capture file. See the module docs.
pub struct RawRecords {
    /// The same input opening (gzip) and buffer window as the capture reader.
    win: Window,
    format: CaptureFormat,
    /// Byte order of the pcap file or of the current pcapng section.
    big_endian: bool,
    started: bool,
}

fn damaged(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

impl RawRecords {
    /// Opens a capture file by path (gzip recognised by its magic bytes).
    pub fn open(path: &str) -> io::Result<RawRecords> {
        let file = std::fs::File::open(path)?;
        Self::from_reader(Box::new(file))
    }

    /// Walks a capture from any byte stream.
    pub fn from_reader(input: Box<dyn Read + Send>) -> io::Result<RawRecords> {
        let (input, gzip) = crate::reader::open_input(input, crate::reader::ReadAhead::No)?;
        let mut r = RawRecords {
            win: Window::new(input, gzip),
            format: CaptureFormat::Pcap,
            big_endian: false,
            started: false,
        };
        if !r.fill(4)? {
            return Err(damaged("too short for a capture file header".into()));
        }
        let magic = r.peek(0);
        r.format = if magic == SHB_MAGIC {
            CaptureFormat::PcapNg
        } else if let Some((be, _nsec)) = pcap_magic(magic) {
            r.big_endian = be;
            CaptureFormat::Pcap
        } else {
            return Err(damaged("not a pcap or pcapng capture".into()));
        };
        Ok(r)
    }

    pub fn format(&self) -> CaptureFormat {
        self.format
    }

    /// File offset of the next record.
    pub fn offset(&self) -> u64 {
        self.win.offset
    }

    fn peek(&self, at: usize) -> [u8; 4] {
        self.win
            .bytes()
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .unwrap_or([0; 4])
    }

    fn u32_at(&self, at: usize) -> u32 {
        let b = self.peek(at);
        if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    }

    /// Makes `n` bytes available; false when the input ends first, the
    /// read error when it fails.
    fn fill(&mut self, n: usize) -> io::Result<bool> {
        if self.win.ensure(n) {
            return Ok(true);
        }
        match self.win.read_error.take() {
            Some(e) => Err(e),
            None => Ok(false),
        }
    }

    /// Skips forward to file offset `to` (after damage, to the next record
    /// the capture reader found). False when `to` is behind, or past the end.
    pub fn skip_to(&mut self, to: u64) -> io::Result<bool> {
        if to > 0 {
            // past the pcap file header
            self.started = true;
        }
        while self.win.offset < to {
            if self.win.avail() == 0 && !self.fill(1)? {
                return Ok(false);
            }
            let step = usize::try_from(to - self.win.offset)
                .unwrap_or(usize::MAX)
                .min(self.win.avail());
            self.win.consume(step);
        }
        Ok(self.win.offset == to)
    }

    /// The next record, `None` at the end of the file. A record cut short
    /// by the end of the file, or with an impossible length, is an error.
    pub fn next_record(&mut self) -> io::Result<Option<RawRecord<'_>>> {
        let offset = self.win.offset;
        let (kind, len) = match self.format {
            CaptureFormat::Pcap if !self.started => (RawKind::PcapHeader, PCAP_HEADER_LEN),
            CaptureFormat::Pcap => {
                if !self.fill(PCAP_RECORD_HEADER_LEN)? {
                    return self.at_end();
                }
                let incl = self.u32_at(8) as usize;
                (
                    RawKind::PcapPacket,
                    PCAP_RECORD_HEADER_LEN.saturating_add(incl),
                )
            }
            CaptureFormat::PcapNg => {
                if !self.fill(12)? {
                    return self.at_end();
                }
                if self.peek(0) == SHB_MAGIC {
                    // a new section, maybe of the other byte order
                    self.big_endian = match self.peek(8) {
                        BOM_BE => true,
                        BOM_LE => false,
                        _ => {
                            return Err(damaged(format!(
                            "section header block at byte offset {offset} has no byte-order magic"
                        )))
                        }
                    };
                }
                let ty = self.u32_at(0);
                let len = self.u32_at(4) as usize;
                if len < 12 {
                    return Err(damaged(format!(
                        "pcapng block at byte offset {offset} claims {len} bytes"
                    )));
                }
                (RawKind::Block(ty), len)
            }
        };
        if len > MAX_RECORD_LEN {
            return Err(damaged(format!(
                "record at byte offset {offset} claims {len} bytes"
            )));
        }
        if !self.fill(len)? {
            return Err(damaged(format!(
                "the file ends inside the record at byte offset {offset}{}",
                self.gzip_cut()
            )));
        }
        self.started = true;
        let start = self.win.loc(0);
        self.win.consume(len);
        let bytes = self.win.at(start, len).unwrap_or(&[]);
        Ok(Some(RawRecord {
            offset,
            kind,
            bytes,
        }))
    }

    fn gzip_cut(&self) -> &'static str {
        if self.win.gzip_cut {
            " (the gzip stream ends early)"
        } else {
            ""
        }
    }

    fn at_end(&self) -> io::Result<Option<RawRecord<'_>>> {
        if self.win.avail() == 0 && !self.win.gzip_cut {
            Ok(None)
        } else if self.win.avail() == 0 {
            Err(damaged(format!(
                "the gzip stream ends early at byte offset {}",
                self.win.offset
            )))
        } else {
            Err(damaged(format!(
                "the file ends inside a record header at byte offset {}{}",
                self.win.offset,
                self.gzip_cut()
            )))
        }
    }
}

/// A pcapng Section Header Block made fit to start a new file: the section
/// length becomes "not specified" (-1), since the records copied after it
/// are not the original section's.
pub fn shb_without_section_length(shb: &[u8]) -> Vec<u8> {
    let mut b = shb.to_vec();
    if let Some(len) = b.get_mut(16..24) {
        len.fill(0xff);
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pcap(be: bool, records: &[&[u8]]) -> Vec<u8> {
        let w32 = |v: u32| if be { v.to_be_bytes() } else { v.to_le_bytes() };
        let w16 = |v: u16| if be { v.to_be_bytes() } else { v.to_le_bytes() };
        let mut f = Vec::new();
        f.extend(w32(0xa1b2_c3d4));
        f.extend(w16(2));
        f.extend(w16(4));
        f.extend([0; 8]);
        f.extend(w32(65535));
        f.extend(w32(1));
        for r in records {
            f.extend(w32(1));
            f.extend(w32(2));
            f.extend(w32(r.len() as u32));
            f.extend(w32(r.len() as u32));
            f.extend(*r);
        }
        f
    }

    fn walk(data: Vec<u8>) -> io::Result<Vec<(u64, RawKind, usize)>> {
        let mut r = RawRecords::from_reader(Box::new(io::Cursor::new(data)))?;
        let mut out = Vec::new();
        while let Some(rec) = r.next_record()? {
            out.push((rec.offset, rec.kind, rec.bytes.len()));
        }
        Ok(out)
    }

    #[test]
    fn pcap_of_either_byte_order() {
        for be in [false, true] {
            let got = walk(pcap(be, &[b"abc", b"", b"defgh"])).ok();
            assert_eq!(
                got,
                Some(vec![
                    (0, RawKind::PcapHeader, 24),
                    (24, RawKind::PcapPacket, 19),
                    (43, RawKind::PcapPacket, 16),
                    (59, RawKind::PcapPacket, 21),
                ])
            );
        }
    }

    #[test]
    fn pcapng_sections_of_both_byte_orders() {
        let block = |be: bool, ty: u32, body: &[u8]| {
            let w = |v: u32| if be { v.to_be_bytes() } else { v.to_le_bytes() };
            let len = 12 + body.len() as u32;
            let mut b = Vec::new();
            b.extend(w(ty));
            b.extend(w(len));
            b.extend(body);
            b.extend(w(len));
            b
        };
        let shb_body = |be: bool| {
            let mut v = if be {
                vec![0x1a, 0x2b, 0x3c, 0x4d, 0, 1, 0, 0]
            } else {
                vec![0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0]
            };
            v.extend([0x12; 8]);
            v
        };
        let mut f = block(false, block::SECTION_HEADER, &shb_body(false));
        f.extend(block(false, 1, &[1, 0, 0, 0, 0, 0, 0, 0]));
        f.extend(block(false, 6, &[0; 20]));
        f.extend(block(true, block::SECTION_HEADER, &shb_body(true)));
        f.extend(block(true, 10, &[0; 12]));
        let got = walk(f.clone()).ok().unwrap_or_default();
        let kinds: Vec<RawKind> = got.iter().map(|g| g.1).collect();
        assert_eq!(
            kinds,
            [
                RawKind::Block(block::SECTION_HEADER),
                RawKind::Block(1),
                RawKind::Block(6),
                RawKind::Block(block::SECTION_HEADER),
                RawKind::Block(block::DECRYPTION_SECRETS),
            ]
        );
        assert!(RawKind::Block(6).is_packet());
        let shb = shb_without_section_length(f.get(..28).unwrap_or_default());
        assert_eq!(shb.get(16..24), Some(&[0xff; 8][..]));
        // cut inside the last block: an error after the complete ones
        f.truncate(f.len() - 3);
        assert!(walk(f).is_err());
    }

    #[test]
    fn a_lying_length_is_an_error_not_an_allocation() {
        let mut f = pcap(false, &[b"abc"]);
        // the record claims 400 MB of the few bytes there are
        if let Some(len) = f.get_mut(32..36) {
            len.copy_from_slice(&(400u32 << 20).to_le_bytes());
        }
        assert!(walk(f).is_err());
    }

    #[test]
    fn skip_to_jumps_forward_only() -> io::Result<()> {
        let mut r =
            RawRecords::from_reader(Box::new(io::Cursor::new(pcap(false, &[b"abc", b"defgh"]))))?;
        assert!(r.skip_to(43)?);
        let rec = r.next_record()?.map(|x| (x.offset, x.kind));
        assert_eq!(rec, Some((43, RawKind::PcapPacket)));
        assert!(!r.skip_to(10)?);
        assert!(!r.skip_to(1000)?);
        Ok(())
    }
}
