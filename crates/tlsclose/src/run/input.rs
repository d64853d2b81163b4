//! Opening an input (through a byte counter for the progress line) and
//! loading the key logs.

use super::RunState;
use crate::run::progress::Progress;
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tlsclose_capture::{CaptureError, CaptureReader};
use tlsclose_decrypt::KeyLog;

/// A progress bar and the count of bytes read that it shows.
pub(super) type Counter = (Progress, Arc<AtomicU64>);

/// A file read through a byte counter, for the progress bar.
struct Counted<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Opens an input; with a progress bar, through a counter of the bytes
/// read from the file (compressed bytes for a gzip file: its size on disk
/// is the total).
pub(super) fn open(
    input: &str,
    show_progress: bool,
) -> Result<(CaptureReader, Option<Counter>), CaptureError> {
    if !show_progress {
        return Ok((CaptureReader::open(input)?, None));
    }
    let count = Arc::new(AtomicU64::new(0));
    let (reader, total) = if input == "-" {
        let counted = Counted {
            inner: io::stdin(),
            count: Arc::clone(&count),
        };
        let reader = if tlsclose_capture::stdin_is_live() {
            CaptureReader::from_live_reader("<stdin>", Box::new(counted))?
        } else {
            CaptureReader::from_reader_prefetched("<stdin>", Box::new(counted))?
        };
        (reader, None)
    } else {
        let file = std::fs::File::open(input).map_err(|source| CaptureError::Io {
            file: input.to_string(),
            source,
        })?;
        let live = tlsclose_capture::is_live(&file);
        let total = file.metadata().ok().filter(|_| !live).map(|m| m.len());
        let counted = Counted {
            inner: file,
            count: Arc::clone(&count),
        };
        let reader = if live {
            CaptureReader::from_live_reader(input, Box::new(counted))?
        } else {
            CaptureReader::from_reader_prefetched(input, Box::new(counted))?
        };
        (reader, total)
    };
    Ok((reader, Some((Progress::new(input, total), count))))
}

/// The key logs of `--keylog` and `$SSLKEYLOGFILE`; None when there are
/// none (decryption then costs nothing). A `--keylog` that cannot be read
/// is an error; an unreadable `$SSLKEYLOGFILE` only a warning (the variable
/// may be set for other programs). Skipped lines are warnings.
pub(super) fn load_keys(keylogs: &[String], out: &mut RunState<'_>) -> Result<Option<KeyLog>, ()> {
    let mut files: Vec<(String, bool)> = keylogs.iter().map(|p| (p.clone(), true)).collect();
    if let Some(env) = std::env::var_os("SSLKEYLOGFILE").filter(|v| !v.is_empty()) {
        files.push((env.to_string_lossy().into_owned(), false));
    }
    if files.is_empty() {
        return Ok(None);
    }
    let mut log = KeyLog::new();
    let names = files.iter().map(|(p, _)| p.clone()).collect();
    for (path, given) in files {
        if let Some(why) = crate::run::keylogs::not_a_key_log(&path) {
            if given {
                let _ = writeln!(io::stderr(), "tlsclose: error: {why}");
                return Err(());
            }
            out.warn(&format!("{why} (SSLKEYLOGFILE, not read)"));
            continue;
        }
        match log.add_file(&path) {
            Ok(warnings) => {
                for w in crate::run::keylogs::condense(&path, warnings) {
                    out.warn(&w);
                }
            }
            Err(e) if given => {
                let _ = writeln!(io::stderr(), "tlsclose: error: {e}");
                return Err(());
            }
            Err(e) => out.warn(&format!("{e} (SSLKEYLOGFILE)")),
        }
    }
    out.keys = Some((names, crate::run::keylogs::KeyTally::default()));
    Ok(Some(log))
}
