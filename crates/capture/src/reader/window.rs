//! The buffer window: one byte buffer refilled with large sequential reads
//! from the input, from which records and blocks are framed in place.
//!
//! The buffer is [`BUF_SIZE`] bytes, grown only for a larger record (as its
//! bytes arrive, so that a length field that lies costs no more than the
//! data there is) and shrunk back afterwards.

use std::io::{self, Read};

/// Size of the buffer (and of each sequential read).
pub(crate) const BUF_SIZE: usize = 2 << 20;

/// The unconsumed bytes of an input, `buf[pos..end]`, at file offset `offset`.
pub(crate) struct Window {
    input: Box<dyn Read + Send>,
    /// The input is gzip-decompressed: an unexpected end of the stream is a
    /// cut (`gzip_cut`), not a read error.
    pub(crate) gzip: bool,
    buf: Vec<u8>,
    /// Start of the unconsumed data in `buf`.
    pub(crate) pos: usize,
    /// End of the valid data in `buf`.
    end: usize,
    /// File offset (in the decompressed stream) of `buf[pos]`.
    pub(crate) offset: u64,
    /// The input has no more bytes (or failed).
    eof: bool,
    /// A read error met (reported once the buffered data is used up).
    pub(crate) read_error: Option<io::Error>,
    /// The gzip stream ended before its trailer.
    pub(crate) gzip_cut: bool,
}

impl Window {
    pub(crate) fn new(input: Box<dyn Read + Send>, gzip: bool) -> Window {
        Window {
            input,
            gzip,
            buf: vec![0u8; BUF_SIZE],
            pos: 0,
            end: 0,
            offset: 0,
            eof: false,
            read_error: None,
            gzip_cut: false,
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
        self.buf.get(self.pos..self.end).unwrap_or(&[])
    }

    /// `len` bytes at buffer index `start` (an index taken from `pos` before
    /// a `consume`, valid until the next `ensure`).
    #[inline]
    pub(crate) fn at(&self, start: usize, len: usize) -> Option<&[u8]> {
        self.buf.get(start..start.checked_add(len)?)
    }

    #[inline]
    pub(crate) fn consume(&mut self, n: usize) {
        let n = n.min(self.avail());
        self.pos += n;
        self.offset = self.offset.saturating_add(n as u64);
    }

    /// Makes `n` bytes available from `pos`. False when the input ends (or
    /// fails: see `read_error`) first; all that remains is buffered then.
    #[inline]
    pub(crate) fn ensure(&mut self, n: usize) -> bool {
        if self.avail() >= n {
            return true;
        }
        self.refill(n)
    }

    #[cold]
    fn refill(&mut self, n: usize) -> bool {
        if self.eof {
            return false;
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
                return false;
            };
            match self.input.read(space) {
                Ok(0) => {
                    self.eof = true;
                    return false;
                }
                Ok(k) => self.end = self.end.saturating_add(k).min(self.buf.len()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if self.gzip && e.kind() == io::ErrorKind::UnexpectedEof => {
                    self.eof = true;
                    self.gzip_cut = true;
                    return false;
                }
                Err(e) => {
                    self.eof = true;
                    self.read_error = Some(e);
                    return false;
                }
            }
        }
        true
    }
}
