//! Opening the input: gzip recognised by its magic bytes and decompressed
//! ahead on a second thread, a plain file read on the parsing thread in
//! small chunks, and either handed to the reader's window in chunks
//! ([`Chunks`]).

use flate2::read::MultiGzDecoder;
use std::io::{self, BufReader, Read};

/// Size of the buffer between the compressed file and the gzip decoder.
const GZ_BUF_SIZE: usize = 1 << 20;
/// Most decompressed bytes asked of the gzip decoder at once: when the
/// stream is corrupt, the decoder drops what it decompressed in the failing
/// call, so small calls keep all but the last few KiB before the damage.
const GZ_READ_SIZE: usize = 8 << 10;

/// Reads at most [`GZ_READ_SIZE`] bytes per call.
struct SmallReads<R>(R);

impl<R: Read> Read for SmallReads<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(GZ_READ_SIZE);
        match buf.get_mut(..n) {
            Some(b) => self.0.read(b),
            None => Ok(0),
        }
    }
}

/// How an input is read ahead on a second thread ([`crate::Prefetch`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReadAhead {
    No,
    /// A file: a plain one is read on the caller's thread in
    /// [`Chunks::DIRECT_CHUNK`]s (no second thread: see there why), a
    /// gzip one decompressed ahead in large chunks.
    Chunks,
    /// As the bytes come (a pipe: [`crate::Prefetch::live`]).
    Live,
}

impl ReadAhead {
    pub(crate) fn of(live: bool) -> Self {
        if live {
            ReadAhead::Live
        } else {
            ReadAhead::Chunks
        }
    }
}

/// Where the reader's window gets its bytes: whole buffers (chunks) that it
/// parses in place, so the bytes are not copied again on their way.
pub(crate) enum Chunks {
    /// Read (and decompressed) ahead on a second thread, whose buffers are
    /// handed over and given back ([`crate::Prefetch::next_chunk`]).
    Ahead(Box<crate::prefetch::Prefetch>),
    /// Read on the caller's thread: one `read` call per chunk, into the
    /// buffer given back, so each call's bytes are parsed as soon as they
    /// come (as from a pipe).
    Direct(Box<dyn Read + Send>),
}

impl Chunks {
    /// Size of a chunk read on the caller's thread: small, so that the
    /// buffer the kernel copies into is still in this core's cache from
    /// the last read. Measured on the bench's bulk 1 GB capture (2-core
    /// VM, page cache): the `read` calls cost 0.15 s of system time with
    /// 32 KiB, 0.53 s with 128 KiB, and 0.57 s with the read-ahead
    /// thread's 1 MiB chunks (copied on the other core into buffers that
    /// are cold by the time they come back), which also took a core the
    /// workers of `-j 2` need; wall time `-j 1` 0.95 → 0.93 s, `-j 2`
    /// 0.85 → 0.56 s.
    pub(crate) const DIRECT_CHUNK: usize = 32 << 10;

    /// The next chunk in place of `buf` (the buffer of the last one, which
    /// the caller is done with): the number of its bytes, 0 at the end of
    /// the input.
    pub(crate) fn next(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
        match self {
            Chunks::Ahead(p) => p.next_chunk(buf),
            Chunks::Direct(input) => {
                if buf.len() < Self::DIRECT_CHUNK {
                    // (zeroed by the allocator: no page is touched before
                    // it is read into)
                    *buf = vec![0; Self::DIRECT_CHUNK];
                }
                loop {
                    match input.read(buf) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        r => return r.map(|n| n.min(buf.len())),
                    }
                }
            }
        }
    }
}

/// The capture bytes of `input`: decompressed if it starts with the gzip
/// magic (then `true`), read ahead by [`crate::Prefetch`] as `ahead` says.
pub(crate) fn open_input(
    mut input: Box<dyn Read + Send>,
    ahead: ReadAhead,
) -> io::Result<(Chunks, bool)> {
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
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let gzip = got == 2 && head == [0x1f, 0x8b];
    let prefix = io::Cursor::new(head.get(..got).unwrap_or(&[]).to_vec());
    let chained = prefix.chain(input);
    let input: Box<dyn Read + Send> = if gzip {
        Box::new(SmallReads(MultiGzDecoder::new(BufReader::with_capacity(
            GZ_BUF_SIZE,
            chained,
        ))))
    } else {
        Box::new(chained)
    };
    let chunks = match ahead {
        ReadAhead::No => Chunks::Direct(input),
        // (decompressing is worth a thread of its own; a copy is not)
        ReadAhead::Chunks if !gzip => Chunks::Direct(input),
        ReadAhead::Chunks => Chunks::Ahead(Box::new(crate::prefetch::Prefetch::spawn(input)?)),
        ReadAhead::Live => Chunks::Ahead(Box::new(crate::prefetch::Prefetch::live(input)?)),
    };
    Ok((chunks, gzip))
}
