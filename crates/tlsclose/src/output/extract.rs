//! `--extract OUT`: the packets of the selected flows, copied unchanged into
//! a new capture of the input's format and link type.
//!
//! A second pass over each input: a [`CaptureReader`] says which frames
//! belong to a selected flow (its 4-tuple, within its frame range) and where
//! their records are; a [`RawRecords`] walker over the same file copies those
//! records byte for byte, with the file header (pcap) or the section
//! headers, interface descriptions, name resolution and decryption secrets
//! blocks met on the way (pcapng).

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::net::SocketAddr;
use std::path::Path;
use tlsclose_capture::raw::{block, shb_without_section_length, RawKind, RawRecords};
use tlsclose_capture::{decode_segment, CaptureFormat, CaptureReader};

/// A selected flow: where it is, for the second pass.
#[derive(Debug, Clone, Copy)]
pub struct ExtractFlow {
    pub input: usize,
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub first_frame: u64,
    pub last_frame: u64,
}

/// What was written.
#[derive(Debug, Default)]
pub struct Extracted {
    pub packets: u64,
    pub flows: usize,
}

fn canonical(a: SocketAddr, b: SocketAddr) -> (SocketAddr, SocketAddr) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

fn err(msg: String) -> io::Error {
    io::Error::other(msg)
}

/// Checks that can fail before a long first pass.
pub fn check(out: &Path, inputs: &[String]) -> Result<(), String> {
    if inputs.iter().any(|i| i == "-") {
        return Err(
            "--extract reads the capture a second time, which standard input (-) cannot do: save the capture to a file and give its name"
                .into(),
        );
    }
    let out_id = std::fs::canonicalize(out).ok();
    for i in inputs {
        if out_id.is_some() && std::fs::canonicalize(i).ok() == out_id {
            return Err(format!(
                "--extract {} would overwrite the input {i}",
                out.display()
            ));
        }
    }
    Ok(())
}

/// Where an input's frames are in the capture it belongs to: several
/// files read as one (`--join`) number their frames through; `group`
/// tells the captures apart, `offset` is the frames of the capture's
/// earlier files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Placement {
    pub group: u64,
    pub offset: u64,
}

/// Writes the selected flows' packets to `out`. `placement`: by input
/// (missing: a capture of its own).
pub fn extract(
    out: &Path,
    inputs: &[String],
    flows: &[ExtractFlow],
    placement: &[Placement],
) -> io::Result<Extracted> {
    let place = |i: usize| {
        placement.get(i).copied().unwrap_or(Placement {
            group: u64::MAX - i as u64,
            offset: 0,
        })
    };
    let file = File::create(out).map_err(|e| err(format!("{}: {e}", out.display())))?;
    let mut w = BufWriter::with_capacity(1 << 16, file);
    let mut done = Extracted {
        flows: flows.len(),
        ..Extracted::default()
    };
    // the output's format: the first input's, and its pcap header
    let mut pcap_header: Option<Vec<u8>> = None;
    let mut format: Option<CaptureFormat> = None;
    for (index, path) in inputs.iter().enumerate() {
        // the flows of this input's capture, in this file's frame numbers
        let here = place(index);
        let mine: Vec<ExtractFlow> = flows
            .iter()
            .filter(|f| place(f.input).group == here.group && f.last_frame > here.offset)
            .map(|f| ExtractFlow {
                first_frame: f.first_frame.saturating_sub(here.offset).max(1),
                last_frame: f.last_frame - here.offset,
                ..*f
            })
            .collect();
        let mine: Vec<&ExtractFlow> = mine.iter().collect();
        if mine.is_empty() {
            continue;
        }
        let n = copy_input(path, &mine, &mut w, &mut format, &mut pcap_header)
            .map_err(|e| err(format!("{path}: {e}")))?;
        done.packets += n;
    }
    if format.is_none() {
        // nothing selected: an empty capture, with the headers of the
        // first input that can be read
        for path in inputs {
            // (damage after the headers only ends the copy)
            let _ = copy_input(path, &[], &mut w, &mut format, &mut pcap_header);
            if format.is_some() {
                break;
            }
        }
    }
    w.flush()
        .map_err(|e| err(format!("{}: {e}", out.display())))?;
    Ok(done)
}

fn copy_input(
    path: &str,
    flows: &[&ExtractFlow],
    w: &mut impl Write,
    format: &mut Option<CaptureFormat>,
    pcap_header: &mut Option<Vec<u8>>,
) -> io::Result<u64> {
    let mut ranges: HashMap<(SocketAddr, SocketAddr), Vec<(u64, u64)>> = HashMap::new();
    for f in flows {
        ranges
            .entry(canonical(f.client, f.server))
            .or_default()
            .push((f.first_frame, f.last_frame));
    }
    let mut reader = CaptureReader::open(path).map_err(|e| err(e.to_string()))?;
    let raw = RawRecords::open(path)?;
    match (*format, raw.format()) {
        (None, f) => *format = Some(f),
        (Some(a), b) if a != b => {
            return Err(err(format!(
                "is {b} while the extract is {a}: extract from one format at a time"
            )))
        }
        _ => {}
    }
    let mut copier = Copier {
        raw,
        pcap_header,
        header_seen: false,
    };
    let mut packets = 0u64;
    // damage was reported by the first pass; copy what was read before it
    while let Ok(Some(frame)) = reader.next_frame() {
        let Ok(seg) = decode_segment(&frame) else {
            continue;
        };
        let key = canonical(
            SocketAddr::new(seg.src.ip, seg.src.port),
            SocketAddr::new(seg.dst.ip, seg.dst.port),
        );
        let wanted = ranges
            .get(&key)
            .is_some_and(|rs| rs.iter().any(|&(a, b)| (a..=b).contains(&frame.number)));
        let offset = frame.file_offset;
        if wanted && copier.copy_packet_at(offset, w)? {
            packets += 1;
        }
        // (warnings were shown by the first pass)
        if reader.has_warnings() {
            let _ = reader.take_warnings();
        }
    }
    // headers after the last packet (an empty extract still needs its
    // file header; late decryption secrets are kept)
    copier.copy_headers_until(u64::MAX, w)?;
    Ok(packets)
}

struct Copier<'a> {
    raw: RawRecords,
    /// The pcap header written first (later pcap inputs must match it).
    pcap_header: &'a mut Option<Vec<u8>>,
    header_seen: bool,
}

impl Copier<'_> {
    /// Copies the header records before `offset`, skipping packets.
    fn copy_headers_until(&mut self, offset: u64, w: &mut impl Write) -> io::Result<()> {
        while self.raw.offset() < offset {
            let rec = match self.raw.next_record() {
                Ok(Some(rec)) => rec,
                Ok(None) => return Ok(()),
                // damage: the capture reader resynchronised past it (or,
                // at the end, stopped there; the first pass warned)
                Err(_) => {
                    if offset != u64::MAX {
                        self.raw.skip_to(offset)?;
                    }
                    return Ok(());
                }
            };
            match rec.kind {
                RawKind::PcapHeader => {
                    self.header_seen = true;
                    match self.pcap_header.as_deref() {
                        None => {
                            w.write_all(rec.bytes)?;
                            *self.pcap_header = Some(rec.bytes.to_vec());
                        }
                        // magic (byte order, time unit) and link type must agree
                        Some(first)
                            if first.get(..4) == rec.bytes.get(..4)
                                && first.get(20..24) == rec.bytes.get(20..24) => {}
                        Some(_) => {
                            return Err(err(
                                "has another byte order, time unit or link type than the first input: extract it on its own"
                                    .into(),
                            ))
                        }
                    }
                }
                RawKind::Block(block::SECTION_HEADER) => {
                    self.header_seen = true;
                    w.write_all(&shb_without_section_length(rec.bytes))?;
                }
                RawKind::Block(
                    block::INTERFACE_DESCRIPTION
                    | block::NAME_RESOLUTION
                    | block::DECRYPTION_SECRETS,
                ) => w.write_all(rec.bytes)?,
                _ => {}
            }
        }
        Ok(())
    }

    /// Copies the packet record at `offset` (and the headers before it).
    fn copy_packet_at(&mut self, offset: u64, w: &mut impl Write) -> io::Result<bool> {
        self.copy_headers_until(offset, w)?;
        if self.raw.offset() != offset && !self.raw.skip_to(offset)? {
            return Ok(false);
        }
        match self.raw.next_record() {
            Ok(Some(rec)) if rec.kind.is_packet() && self.header_seen => {
                w.write_all(rec.bytes)?;
                Ok(true)
            }
            Ok(_) => Ok(false),
            Err(e) => Err(e),
        }
    }
}
