//! The buffer window: the unconsumed bytes of the input, from which records
//! and blocks are framed in place.
//!
//! The bytes come in chunks ([`Chunks`]: one `read` call each, or the
//! read-ahead thread's 1 MiB buffers of a gzip file or a pipe) and are
//! parsed where they arrived, in the chunk itself: they are not copied
//! again on their way to the parser. Only a record or block that straddles the end of a chunk needs
//! its bytes side by side: what is left of the chunk, and as much of the
//! next chunks as [`Window::ensure`] asks for, are copied into a carry
//! buffer, and the window stays there until it reaches the bytes of the
//! current chunk that were not copied (then it is back in the chunk).
//!
//! The carry grows only for a record larger than what is left of a chunk
//! (as its bytes arrive, so that a length field that lies costs no more
//! than the data there is) and is shrunk back the next time it is used.
//! Memory is the chunks in flight (the read-ahead's depth × chunk, or one
//! chunk) plus the carry.

use super::input::Chunks;
use std::io;

/// Capacity the carry keeps between uses (more is given back).
const CARRY_KEEP: usize = 1 << 20;

/// Where bytes are in the window's buffers ([`Window::loc`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Loc {
    carry: bool,
    at: usize,
}

/// The unconsumed bytes of an input, at file offset `offset`: `pos..end`
/// of the carry while `carrying`, else of the chunk.
pub(crate) struct Window {
    input: Chunks,
    /// The input is gzip-decompressed: an unexpected end of the stream is a
    /// cut (`gzip_cut`), not a read error.
    pub(crate) gzip: bool,
    /// The current chunk; its first `filled` bytes are data.
    chunk: Vec<u8>,
    filled: usize,
    /// Copies of bytes that straddle chunks, and the window while
    /// `carrying`.
    carry: Vec<u8>,
    carrying: bool,
    /// While carrying: `carry[resume..]` is a copy of the current chunk's
    /// first bytes, and the chunk's bytes after those follow the carry.
    resume: usize,
    /// Start of the unconsumed data in the current buffer.
    pos: usize,
    /// End of the data in the current buffer.
    end: usize,
    /// File offset (in the decompressed stream) of the byte at `pos`.
    pub(crate) offset: u64,
    /// The input has no more bytes (or failed).
    eof: bool,
    /// A read error met (reported once the buffered data is used up).
    pub(crate) read_error: Option<io::Error>,
    /// The gzip stream ended before its trailer.
    pub(crate) gzip_cut: bool,
}

impl Window {
    pub(crate) fn new(input: Chunks, gzip: bool) -> Window {
        Window {
            input,
            gzip,
            chunk: Vec::new(),
            filled: 0,
            carry: Vec::new(),
            carrying: false,
            resume: 0,
            pos: 0,
            end: 0,
            offset: 0,
            eof: false,
            read_error: None,
            gzip_cut: false,
        }
    }

    /// The buffer the window is in.
    #[inline]
    fn buf(&self) -> &[u8] {
        if self.carrying {
            &self.carry
        } else {
            &self.chunk
        }
    }

    /// Bytes available from `pos`.
    #[inline]
    pub(crate) fn avail(&self) -> usize {
        self.end.saturating_sub(self.pos)
    }

    /// The available bytes.
    #[inline]
    pub(crate) fn bytes(&self) -> &[u8] {
        self.buf().get(self.pos..self.end).unwrap_or(&[])
    }

    /// Where the byte `rel` bytes into the window is: a location for
    /// [`Self::at`], valid across `consume` until the next `ensure`.
    #[inline]
    pub(crate) fn loc(&self, rel: usize) -> Loc {
        Loc {
            carry: self.carrying,
            at: self.pos.saturating_add(rel),
        }
    }

    /// `len` bytes at `loc`.
    #[inline]
    pub(crate) fn at(&self, loc: Loc, len: usize) -> Option<&[u8]> {
        let buf = if loc.carry { &self.carry } else { &self.chunk };
        buf.get(loc.at..loc.at.checked_add(len)?)
    }

    #[inline]
    pub(crate) fn consume(&mut self, n: usize) {
        let n = n.min(self.avail());
        self.pos += n;
        self.offset = self.offset.saturating_add(n as u64);
        if self.carrying && self.pos >= self.resume {
            // past the copies: on in the chunk (the carry is left as it
            // is, for a location taken before)
            self.carrying = false;
            self.pos -= self.resume;
            self.end = self.filled;
        }
    }

    /// Makes `n` bytes available from `pos`, side by side. False when the
    /// input ends (or fails: see `read_error`) first; all that remains is
    /// in the window then.
    #[inline]
    pub(crate) fn ensure(&mut self, n: usize) -> bool {
        if self.avail() >= n {
            return true;
        }
        self.refill(n)
    }

    #[cold]
    fn refill(&mut self, n: usize) -> bool {
        while self.avail() < n {
            if !self.carrying {
                if self.avail() > 0 {
                    self.start_carry();
                } else {
                    // a record that starts with a chunk is parsed in it
                    self.pos = 0;
                    self.end = 0;
                    self.filled = 0;
                    if !self.next_chunk() {
                        return false;
                    }
                    self.end = self.filled;
                }
                continue;
            }
            let copied = self.carry.len().saturating_sub(self.resume);
            if copied >= self.filled {
                // the chunk is all in the carry: the next one follows it
                self.resume = self.carry.len();
                self.filled = 0;
                if !self.next_chunk() {
                    return false;
                }
                continue;
            }
            self.compact();
            let want = n.saturating_sub(self.avail());
            let upto = copied.saturating_add(want).min(self.filled);
            let Some(more) = self.chunk.get(copied..upto) else {
                return false;
            };
            self.carry.extend_from_slice(more);
            self.end = self.carry.len();
        }
        true
    }

    /// Copies what is left of the chunk into the carry, and moves the
    /// window there; the chunk is used up.
    fn start_carry(&mut self) {
        self.carry.clear();
        if self.carry.capacity() > CARRY_KEEP {
            // back to the usual size after a large record
            self.carry.shrink_to(CARRY_KEEP);
        }
        let rest = self.chunk.get(self.pos..self.end).unwrap_or(&[]);
        self.carry.extend_from_slice(rest);
        self.carrying = true;
        self.pos = 0;
        self.end = self.carry.len();
        self.resume = self.carry.len();
        self.filled = 0;
    }

    /// Drops the consumed front of the carry once it is at least half of
    /// it (so that a scan byte by byte through a large carry moves each
    /// byte a bounded number of times).
    fn compact(&mut self) {
        if self.pos > 0 && self.pos >= self.carry.len() / 2 {
            self.carry.drain(..self.pos);
            self.resume = self.resume.saturating_sub(self.pos);
            self.end = self.end.saturating_sub(self.pos);
            self.pos = 0;
        }
    }

    /// The next chunk in place of the current one, whose bytes are used up
    /// or copied (its buffer is given back, or read into). False at the end
    /// of the input or when it fails (`read_error`, `gzip_cut`).
    fn next_chunk(&mut self) -> bool {
        if self.eof {
            return false;
        }
        match self.input.next(&mut self.chunk) {
            Ok(0) => {
                self.eof = true;
                false
            }
            Ok(k) => {
                self.filled = k;
                true
            }
            Err(e) if self.gzip && e.kind() == io::ErrorKind::UnexpectedEof => {
                self.eof = true;
                self.gzip_cut = true;
                false
            }
            Err(e) => {
                self.eof = true;
                self.read_error = Some(e);
                false
            }
        }
    }
}
