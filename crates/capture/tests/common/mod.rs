//! What the reader tests share: distinct packet bytes, and a reader run
//! to its end (frames, warnings, statistics, secrets) from bytes or from
//! any `Read`.
#![allow(dead_code)]

use std::io::{Cursor, Read};
use tlsclose_capture::{CaptureError, CaptureFormat, CaptureReader, LinkType, ReaderStats};
use tlsclose_testkit::capture::{epb, idb, shb};

/// Distinct packet bytes.
pub fn packet(tag: u8, len: usize) -> Vec<u8> {
    (0..len).map(|i| tag.wrapping_add(i as u8)).collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owned {
    pub number: u64,
    pub ts: i64,
    pub link: LinkType,
    pub data: Vec<u8>,
    pub orig_len: u32,
    pub offset: u64,
}

pub struct Outcome {
    pub frames: Vec<Owned>,
    pub end: Result<(), CaptureError>,
    pub warnings: Vec<String>,
    pub stats: ReaderStats,
    pub secrets: Vec<(u32, Vec<u8>)>,
    pub format: CaptureFormat,
    pub gzip: bool,
}

/// A reader that hands out at most `max` bytes per read call.
pub struct Trickle {
    pub inner: Cursor<Vec<u8>>,
    pub max: usize,
    pub calls: usize,
}

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.calls += 1;
        let n = buf.len().min(1 + self.calls % self.max);
        self.inner.read(&mut buf[..n])
    }
}

pub fn read_from(input: Box<dyn Read + Send>) -> Result<Outcome, CaptureError> {
    let mut r = CaptureReader::from_reader("test.cap", input)?;
    let mut frames = Vec::new();
    let mut warnings = Vec::new();
    let end = loop {
        match r.next_frame() {
            Ok(Some(f)) => frames.push(Owned {
                number: f.number,
                ts: f.ts.as_nanos(),
                link: f.link,
                data: f.data.to_vec(),
                orig_len: f.orig_len,
                offset: f.file_offset,
            }),
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
        warnings.extend(r.take_warnings());
    };
    warnings.extend(r.take_warnings());
    // After the end or an error: nothing more, ever.
    for _ in 0..3 {
        assert!(matches!(r.next_frame(), Ok(None)));
    }
    Ok(Outcome {
        frames,
        end,
        warnings,
        stats: r.stats().clone(),
        secrets: r.take_decryption_secrets(),
        format: r.format(),
        gzip: r.is_gzip(),
    })
}

pub fn read(bytes: &[u8]) -> Result<Outcome, CaptureError> {
    read_from(Box::new(Cursor::new(bytes.to_vec())))
}

pub fn read_ok(bytes: &[u8]) -> Outcome {
    let o = read(bytes).expect("opens");
    if let Err(e) = &o.end {
        panic!("unexpected error: {e}");
    }
    o
}

pub fn err_of(o: &Outcome) -> &CaptureError {
    o.end.as_ref().expect_err("an error")
}

/// A section with one interface and `n` EPBs; returns the bytes and the
/// start offset of each EPB.
pub fn ng_with_frames(n: u8) -> (Vec<u8>, Vec<usize>) {
    let mut f = shb(false);
    f.extend(idb(false, 1, 0, &[]));
    let mut starts = Vec::new();
    for i in 0..n {
        starts.push(f.len());
        f.extend(epb(
            false,
            0,
            u64::from(i),
            &packet(i, 50 + i as usize),
            1500,
        ));
    }
    (f, starts)
}

pub fn numbers(o: &Outcome) -> Vec<u64> {
    o.frames.iter().map(|f| f.number).collect()
}
