//! Legacy pcap: the file header and the packet records, with resynchronisation
//! after a record whose length lies.

use super::magic::{BOM_BE, BOM_LE, SHB_MAGIC};
use super::{
    rd_4, rd_u32, CaptureError, CaptureFormat, CaptureReader, FrameMeta, Mode, Step, MAX_PACKET_LEN,
};
use crate::types::{LinkType, Timestamp};

/// Largest captured or original length of a pcap record that a
/// resynchronisation scan (or the check of a doubtful record) accepts.
pub(crate) const RESYNC_MAX_PACKET_LEN: u32 = 16 << 20;
/// How far (seconds) a record found by a resynchronisation scan may be
/// from the last good frame.
pub(crate) const RESYNC_MAX_TIME_JUMP: i64 = 86_400;

pub(crate) const PCAP_HEADER_LEN: usize = 24;
pub(crate) const PCAP_RECORD_HEADER_LEN: usize = 16;

/// A pcap file header, parsed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PcapHeader {
    pub(crate) be: bool,
    pub(crate) nsec: bool,
    pub(crate) major: u16,
    pub(crate) minor: u16,
    pub(crate) snaplen: u32,
    pub(crate) link: LinkType,
}

/// Endianness and resolution from a pcap magic number, if it is one.
pub(crate) fn pcap_magic(m: [u8; 4]) -> Option<(bool, bool)> {
    match m {
        [0xd4, 0xc3, 0xb2, 0xa1] => Some((false, false)),
        [0xa1, 0xb2, 0xc3, 0xd4] => Some((true, false)),
        [0x4d, 0x3c, 0xb2, 0xa1] => Some((false, true)),
        [0xa1, 0xb2, 0x3c, 0x4d] => Some((true, true)),
        _ => None,
    }
}

/// The pcap file header at the start of `w` (recognised by [`pcap_magic`]),
/// parsed by pcap-parser.
pub(crate) fn parse_pcap_header(w: &[u8]) -> Option<PcapHeader> {
    let (be, nsec) = pcap_magic(rd_4(w, 0)?)?;
    let (_, h) = pcap_parser::parse_pcap_header(w).ok()?;
    Some(PcapHeader {
        be,
        nsec,
        major: h.version_major,
        minor: h.version_minor,
        snaplen: h.snaplen,
        // The upper bits may carry FCS information (LT_LINKTYPE in libpcap).
        link: LinkType(h.network.0 as u32 & 0x03FF_FFFF),
    })
}

/// The captured length of the pcap record header at `at` in `w`, if the
/// header is plausible: lengths within reason and consistent, sub-second
/// part in range, time within a day of `reference` (seconds) when given.
pub(crate) fn pcap_record_plausible(
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

impl CaptureReader {
    pub(super) fn step_pcap(&mut self, h: PcapHeader) -> Result<Step, CaptureError> {
        let off = self.win.offset;
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
        if doubtful && !self.ensure(total)? && self.win.read_error.is_none() {
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
        // The record, whole in the window, read by pcap-parser.
        let w = self.window();
        let parsed = if h.be {
            pcap_parser::parse_pcap_frame_be(w)
        } else {
            pcap_parser::parse_pcap_frame(w)
        };
        let Ok((_, rec)) = parsed else {
            return Err(self.malformed(off, "unreadable pcap record".to_string()));
        };
        let start = (rec.data.as_ptr() as usize).saturating_sub(w.as_ptr() as usize);
        let (sec, frac, len, orig) = (rec.ts_sec, rec.ts_usec, rec.data.len(), rec.origlen);
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
            start: self.win.loc(start),
            len,
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
                if let Some(source) = self.win.read_error.take() {
                    return Err(self.read_failed(source));
                }
                let rest = self.avail();
                self.consume(rest);
                let skipped = self.win.offset.saturating_sub(off);
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
        let skipped = self.win.offset.saturating_sub(off);
        self.stats.skipped_bytes += skipped;
        self.stats.skipped_records += 1;
        let next = self.win.offset;
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
}
