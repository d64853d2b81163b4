//! pcapng: blocks, sections of either byte order, interfaces and their
//! time units, packets, decryption secrets, and resynchronisation after a
//! block whose framing is damaged.

use super::pcap::{parse_pcap_header, pcap_magic, PCAP_HEADER_LEN};
use super::{
    pad4, rd_4, rd_u16, rd_u32, CaptureError, CaptureFormat, CaptureReader, FrameMeta, Mode, Step,
    MAX_PACKET_LEN, RESYNC_MAX_BLOCK_LEN,
};
use crate::types::{LinkType, Timestamp};
use std::fmt;

/// Largest pcapng block accepted (a maximal packet plus room for options).
pub(crate) const MAX_BLOCK_LEN: u32 = MAX_PACKET_LEN + (64 << 10);
/// Interfaces per pcapng section.
pub(crate) const MAX_INTERFACES: usize = 1 << 16;

pub(crate) use super::magic::{BOM_BE, BOM_LE, SHB_MAGIC};

/// pcapng block types (draft-ietf-opsawg-pcapng §10.1).
pub mod block {
    pub const SECTION_HEADER: u32 = 0x0A0D_0D0A;
    pub const INTERFACE_DESCRIPTION: u32 = 1;
    /// Obsolete; written by old tools.
    pub const PACKET: u32 = 2;
    pub const SIMPLE_PACKET: u32 = 3;
    pub const NAME_RESOLUTION: u32 = 4;
    pub const INTERFACE_STATISTICS: u32 = 5;
    pub const ENHANCED_PACKET: u32 = 6;
    pub const SYSTEMD_JOURNAL_EXPORT: u32 = 9;
    pub const DECRYPTION_SECRETS: u32 = 0x0A;
    pub const CUSTOM: u32 = 0x0BAD;
    pub const CUSTOM_NO_COPY: u32 = 0x4000_0BAD;
}

use block::{
    CUSTOM as BT_CB, CUSTOM_NO_COPY as BT_DCB, DECRYPTION_SECRETS as BT_DSB,
    ENHANCED_PACKET as BT_EPB, INTERFACE_DESCRIPTION as BT_IDB, INTERFACE_STATISTICS as BT_ISB,
    NAME_RESOLUTION as BT_NRB, PACKET as BT_PB, SECTION_HEADER as BT_SHB, SIMPLE_PACKET as BT_SPB,
    SYSTEMD_JOURNAL_EXPORT as BT_SJE,
};

pub(crate) fn block_name(t: u32) -> &'static str {
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
pub(crate) fn block_min_len(t: u32) -> Option<u32> {
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

/// Conversion of pcapng timestamp units to nanoseconds.
#[derive(Debug, Clone, Copy)]
pub(crate) enum TsUnit {
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
pub(crate) struct Interface {
    pub(crate) link: LinkType,
    pub(crate) snaplen: u32,
    pub(crate) unit: TsUnit,
    /// `if_tsoffset`, in nanoseconds.
    pub(crate) offset_ns: i64,
}

impl CaptureReader {
    fn section_be(&self) -> bool {
        match &self.mode {
            Mode::PcapNg { be, .. } => *be,
            Mode::Pcap(h) => h.be,
        }
    }

    pub(super) fn step_ng(&mut self) -> Result<Step, CaptureError> {
        let off = self.win.offset;
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
                    let next = self.win.offset;
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
                    let gz = if self.win.gzip_cut {
                        " (the gzip stream ends early)"
                    } else {
                        ""
                    };
                    let have = self.win.offset.saturating_sub(off);
                    if let Some(source) = self.win.read_error.take() {
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
                let next = self.win.offset;
                self.warn(
                    off,
                    format_args!(
                        "{what}; skipped {skipped} bytes to the next valid block at offset {next}"
                    ),
                );
                Ok(Step::Again)
            }
            None => {
                if let Some(source) = self.win.read_error.take() {
                    return Err(self.read_failed(source));
                }
                let skipped = self.win.offset.saturating_sub(off);
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
        let start = self.win.offset;
        self.consume(1);
        loop {
            if !self.ensure(12)? {
                let rest = self.avail();
                self.consume(rest);
                let skipped = self.win.offset.saturating_sub(start);
                self.stats.skipped_bytes += skipped;
                return Ok(None);
            }
            if self.plausible_block_here()? {
                let skipped = self.win.offset.saturating_sub(start);
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
        // The block's content, as pcap-parser reads it (the obsolete Packet
        // Block, which it does not know, by our own code).
        let b = self.window().get(..len).unwrap_or(&[]);
        let parsed = match btype {
            BT_EPB => parse_epb(b, be),
            BT_PB => Parsed::Other,
            _ => parse_block(b, be),
        };
        match (btype, parsed) {
            (BT_SHB, parsed) => {
                let (major, minor) = match parsed {
                    Parsed::Section { major, minor } => (major, minor),
                    _ => {
                        let b = self.window();
                        (
                            rd_u16(b, 12, be).unwrap_or(0),
                            rd_u16(b, 14, be).unwrap_or(0),
                        )
                    }
                };
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
            (BT_IDB, parsed) => {
                // Link type and snapshot length from pcap-parser when it could
                // read the block; time resolution and offset always from the
                // raw options (pcap-parser rejects every power-of-two
                // if_tsresol and reads if_tsoffset as little-endian in
                // big-endian sections).
                let (mut iface, problem) = parse_idb(self.window().get(..len).unwrap_or(&[]), be);
                if let Parsed::Interface { link, snaplen } = parsed {
                    iface.link = LinkType(u32::from(link));
                    iface.snaplen = snaplen;
                }
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
            (BT_EPB | BT_PB | BT_SPB, parsed) => self.packet_block(off, btype, be, len, parsed),
            (BT_DSB, parsed) => {
                let b = self.window().get(..len).unwrap_or(&[]);
                let slen = rd_u32(b, 12, be).unwrap_or(u32::MAX);
                let data = match parsed {
                    Parsed::Secrets { stype, data_at } => (slen as usize)
                        .checked_add(data_at)
                        .and_then(|e| b.get(data_at..e))
                        .map(|d| (stype, d)),
                    _ => None,
                };
                match data {
                    Some((stype, d)) => {
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

    /// EPB, SPB (read by pcap-parser) or obsolete PB (read here).
    #[inline]
    fn packet_block(
        &mut self,
        off: u64,
        btype: u32,
        be: bool,
        len: usize,
        parsed: Parsed,
    ) -> Result<Step, CaptureError> {
        self.frame_no += 1;
        self.stats.frames = self.frame_no;
        let frame = self.frame_no;
        let b = self.window().get(..len).unwrap_or(&[]);
        let fields = match (btype, parsed) {
            (
                BT_EPB,
                Parsed::Enhanced {
                    if_id,
                    ts,
                    caplen,
                    orig,
                    data_at,
                },
            ) => Some((if_id, Some(ts), caplen, orig, data_at)),
            (BT_SPB, Parsed::Simple { orig, data_at }) => {
                Some((0u32, None, orig.min((len - 16) as u32), orig, data_at))
            }
            (BT_PB, _) => {
                // The obsolete Packet Block (pcapng draft §B.2): a 16-bit
                // interface id and a 16-bit drops count, then as an EPB.
                let if_id = rd_u16(b, 8, be).map_or(u32::MAX, u32::from);
                let hi = rd_u32(b, 12, be).unwrap_or(0);
                let lo = rd_u32(b, 16, be).unwrap_or(0);
                let caplen = rd_u32(b, 20, be).unwrap_or(u32::MAX);
                let orig = rd_u32(b, 24, be).unwrap_or(0);
                let ts = (u64::from(hi) << 32) | u64::from(lo);
                Some((if_id, Some(ts), caplen, orig, 28usize))
            }
            _ => None,
        };
        // pcap-parser fails on a block whose captured length runs past it.
        let Some((if_id, ts_raw, caplen, orig, data_at)) = fields.filter(|f| {
            pad4(f.2)
                .and_then(|c| c.checked_add(f.4 as u32 + 4))
                .is_some_and(|need| need as usize <= len)
        }) else {
            let caplen = rd_u32(b, 20, be).unwrap_or(u32::MAX);
            return Ok(self.skip_block(
                off,
                len,
                format_args!(
                    "frame {frame} skipped: {} claims {caplen} captured bytes, \
                     more than its length {len} allows",
                    block_name(btype)
                ),
            ));
        };
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
            start: self.win.loc(data_at),
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

/// What pcap-parser read from a complete block (offsets are into the block).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Parsed {
    Section {
        major: u16,
        minor: u16,
    },
    Interface {
        link: u16,
        snaplen: u32,
    },
    Enhanced {
        if_id: u32,
        ts: u64,
        caplen: u32,
        orig: u32,
        data_at: usize,
    },
    Simple {
        orig: u32,
        data_at: usize,
    },
    Secrets {
        stype: u32,
        data_at: usize,
    },
    /// Another block type, or one pcap-parser could not read.
    Other,
}

/// Reads a complete Enhanced Packet Block `b` (framing checked) with
/// pcap-parser's EPB parser: the packets, straight to it, without the type
/// dispatch of [`parse_block`].
#[inline]
fn parse_epb(b: &[u8], be: bool) -> Parsed {
    let parsed = if be {
        pcap_parser::pcapng::parse_enhancedpacketblock_be(b)
    } else {
        pcap_parser::pcapng::parse_enhancedpacketblock_le(b)
    };
    match parsed {
        Ok((_, epb)) => Parsed::Enhanced {
            if_id: epb.if_id,
            ts: (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low),
            caplen: epb.caplen,
            orig: epb.origlen,
            data_at: (epb.data.as_ptr() as usize).saturating_sub(b.as_ptr() as usize),
        },
        Err(_) => Parsed::Other,
    }
}

/// Reads a complete block `b` (framing checked) with pcap-parser's
/// `parse_block_le` / `parse_block_be`.
#[inline]
fn parse_block(b: &[u8], be: bool) -> Parsed {
    use pcap_parser::Block;
    let parsed = if be {
        pcap_parser::parse_block_be(b)
    } else {
        pcap_parser::parse_block_le(b)
    };
    let at = |s: &[u8]| (s.as_ptr() as usize).saturating_sub(b.as_ptr() as usize);
    match parsed {
        Ok((_, Block::SectionHeader(shb))) => Parsed::Section {
            major: shb.major_version,
            minor: shb.minor_version,
        },
        Ok((_, Block::InterfaceDescription(idb))) => Parsed::Interface {
            link: idb.linktype.0 as u16,
            snaplen: idb.snaplen,
        },
        Ok((_, Block::EnhancedPacket(epb))) => Parsed::Enhanced {
            if_id: epb.if_id,
            ts: (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low),
            caplen: epb.caplen,
            orig: epb.origlen,
            data_at: at(epb.data),
        },
        Ok((_, Block::SimplePacket(spb))) => Parsed::Simple {
            orig: spb.origlen,
            data_at: at(spb.data),
        },
        Ok((_, Block::DecryptionSecrets(dsb))) => Parsed::Secrets {
            stype: dsb.secrets_type.0,
            data_at: at(dsb.data),
        },
        _ => Parsed::Other,
    }
}

/// Parses an interface description block (complete, at least 20 bytes).
/// Option problems are reported but do not lose the interface.
pub(crate) fn parse_idb(b: &[u8], be: bool) -> (Interface, Option<String>) {
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
