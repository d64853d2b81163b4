//! The capture reader on arbitrary bytes (pcap, pcapng, gzip of either).
//!
//! Differential on read granularity: the same bytes read in one piece and
//! in tiny pieces must give the same frames, warnings and error (the
//! reader's decisions may not depend on how the input arrives). Frames
//! are checked for the reader's own invariants, and every frame goes
//! through the TCP decoder.
//!
//! Shared by the fuzz target (fuzz/fuzz_targets/) and the regression test
//! that replays testdata/regressions/capture_reader/ under `cargo test`.
use std::io::{Cursor, Read};
use tlsclose_capture::{decode_segment, CaptureReader};

/// Hands out at most `step` bytes per read call.
struct Trickle {
    data: Vec<u8>,
    pos: usize,
    step: usize,
}

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let rest = self.data.get(self.pos..).unwrap_or(&[]);
        let n = rest.len().min(buf.len()).min(self.step);
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), rest.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.pos += n;
        Ok(n)
    }
}

#[derive(Debug, PartialEq, Eq)]
struct Seen {
    number: u64,
    ts: i64,
    link: u32,
    data: Vec<u8>,
    orig_len: u32,
    file_offset: u64,
    decoded: bool,
}

#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    open_error: Option<String>,
    frames: Vec<Seen>,
    warnings: Vec<String>,
    error: Option<String>,
    bytes_read: u64,
}

fn read(input: Box<dyn Read + Send>) -> Outcome {
    let mut out = Outcome {
        open_error: None,
        frames: Vec::new(),
        warnings: Vec::new(),
        error: None,
        bytes_read: 0,
    };
    let mut r = match CaptureReader::from_reader("fuzz", input) {
        Ok(r) => r,
        Err(e) => {
            out.open_error = Some(e.to_string());
            return out;
        }
    };
    let mut last_number = 0u64;
    let mut last_offset: Option<u64> = None;
    loop {
        match r.next_frame() {
            Ok(Some(f)) => {
                assert!(f.number > last_number, "frame numbers go up");
                assert!(
                    last_offset.is_none_or(|o| f.file_offset > o),
                    "frame offsets go up"
                );
                last_number = f.number;
                last_offset = Some(f.file_offset);
                let decoded = decode_segment(&f).is_ok();
                out.frames.push(Seen {
                    number: f.number,
                    ts: f.ts.0,
                    link: f.link.0,
                    data: f.data.to_vec(),
                    orig_len: f.orig_len,
                    file_offset: f.file_offset,
                    decoded,
                });
            }
            Ok(None) => break,
            Err(e) => {
                let msg = e.to_string();
                assert!(msg.starts_with("fuzz"), "errors name the file: {msg}");
                out.error = Some(msg);
                break;
            }
        }
        out.warnings.extend(r.take_warnings());
    }
    // after the end (or an error) the reader stays finished
    assert!(matches!(r.next_frame(), Ok(None)));
    out.warnings.extend(r.take_warnings());
    for w in &out.warnings {
        assert!(w.starts_with("fuzz"), "warnings name the file: {w}");
    }
    let _ = r.take_decryption_secrets();
    out.bytes_read = r.stats().bytes_read;
    out
}

/// Panics when the input breaks a property (see the module docs).
pub fn check(data: &[u8]) {
    let whole = read(Box::new(Cursor::new(data.to_vec())));
    let step = 1 + data.len() % 7;
    let trickled = read(Box::new(Trickle {
        data: data.to_vec(),
        pos: 0,
        step,
    }));
    if data.starts_with(&[0x1f, 0x8b])
        && (whole.error.is_some()
            || trickled.error.is_some()
            || whole.open_error.is_some()
            || trickled.open_error.is_some())
    {
        // A corrupt deflate stream: how much is decompressed before the
        // decoder notices depends on how the compressed bytes arrive (the
        // decoder drops what it produced in the failing call), so only
        // the frames both got must agree, and not the last one the shorter
        // read got: whether a record with odd lengths or time is taken, or
        // where reading resumes after damage, looks at the record header
        // after it, which the shorter read does not have (its bytes end
        // there) and the longer read does.
        let n = whole.frames.len().min(trickled.frames.len());
        let agreed = n.saturating_sub(1);
        assert_eq!(
            whole.frames.get(..agreed),
            trickled.frames.get(..agreed),
            "gzip, read in pieces of {step} bytes"
        );
        return;
    }
    assert_eq!(whole, trickled, "read in pieces of {step} bytes");
}
