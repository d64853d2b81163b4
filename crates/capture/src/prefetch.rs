//! Reading ahead on a second thread.
//!
//! Copying a file out of the page cache (the `read` system call) is most of
//! the cost of a large capture once parsing skips what it does not need. A
//! [`Prefetch`] moves that work, and gzip decompression, to its own thread:
//! it reads the input in large chunks into a few recycled buffers and hands
//! them over a bounded channel, so memory stays at `depth × chunk` whatever
//! the input's size.

use std::io::{self, Read};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError};
use std::thread;

/// A chunk from the reading thread: a buffer and how many of its bytes
/// are filled, or the error that ended reading.
type Chunk = io::Result<(Vec<u8>, usize)>;

/// A `Read` whose bytes are read ahead by a background thread.
pub struct Prefetch {
    chunks: Receiver<Chunk>,
    spare: SyncSender<Vec<u8>>,
    current: Vec<u8>,
    filled: usize,
    pos: usize,
    finished: bool,
}

impl Prefetch {
    /// Chunk size of the default reader: large sequential reads.
    pub const CHUNK: usize = 1 << 20;
    /// Chunks in flight (and so the most memory held: `DEPTH × CHUNK`).
    pub const DEPTH: usize = 4;

    /// Starts reading `input` on a new thread.
    pub fn spawn(input: Box<dyn Read + Send>) -> io::Result<Prefetch> {
        Self::with_sizes(input, Self::CHUNK, Self::DEPTH)
    }

    pub fn with_sizes(
        mut input: Box<dyn Read + Send>,
        chunk: usize,
        depth: usize,
    ) -> io::Result<Prefetch> {
        let depth = depth.max(1);
        let chunk = chunk.max(1);
        let (tx, chunks) = mpsc::sync_channel::<Chunk>(depth);
        let (spare, spares) = mpsc::sync_channel::<Vec<u8>>(depth + 1);
        thread::Builder::new()
            .name("tlsclose-read".into())
            .spawn(move || {
                let mut allocated = 0usize;
                loop {
                    // reuse a buffer the reader gave back; allocate up to depth + 2
                    let mut buf = match spares.try_recv() {
                        Ok(b) => b,
                        Err(TryRecvError::Empty) if allocated < depth + 2 => {
                            allocated += 1;
                            Vec::with_capacity(chunk)
                        }
                        Err(TryRecvError::Empty) => match spares.recv() {
                            Ok(b) => b,
                            Err(_) => return,
                        },
                        Err(TryRecvError::Disconnected) => return,
                    };
                    buf.resize(chunk, 0);
                    let mut filled = 0;
                    let mut error = None;
                    while filled < chunk {
                        let Some(space) = buf.get_mut(filled..) else {
                            break;
                        };
                        match input.read(space) {
                            Ok(0) => break,
                            Ok(n) => filled += n.min(chunk - filled),
                            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                            Err(e) => {
                                error = Some(e);
                                break;
                            }
                        }
                    }
                    let end = filled < chunk;
                    if filled > 0 && tx.send(Ok((buf, filled))).is_err() {
                        return;
                    }
                    if let Some(e) = error {
                        let _ = tx.send(Err(e));
                        return;
                    }
                    if end {
                        return;
                    }
                }
            })?;
        Ok(Prefetch {
            chunks,
            spare,
            current: Vec::new(),
            filled: 0,
            pos: 0,
            finished: false,
        })
    }
}

impl Read for Prefetch {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.filled {
            if self.finished {
                return Ok(0);
            }
            match self.chunks.recv() {
                Ok(Ok((next, filled))) => {
                    let used = std::mem::replace(&mut self.current, next);
                    self.filled = filled;
                    self.pos = 0;
                    let _ = self.spare.try_send(used);
                }
                Ok(Err(e)) => {
                    self.finished = true;
                    return Err(e);
                }
                Err(_) => {
                    self.finished = true;
                    return Ok(0);
                }
            }
        }
        let rest = self.current.get(self.pos..self.filled).unwrap_or(&[]);
        let n = rest.len().min(out.len());
        if let (Some(dst), Some(src)) = (out.get_mut(..n), rest.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gives_back_every_byte_in_order_whatever_the_sizes() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
        for (chunk, depth, read) in [(1, 1, 1), (7, 2, 3), (4096, 4, 1000), (1 << 20, 4, 65536)] {
            let mut p =
                Prefetch::with_sizes(Box::new(std::io::Cursor::new(data.clone())), chunk, depth)
                    .expect("thread");
            let mut got = Vec::new();
            let mut buf = vec![0u8; read];
            loop {
                let n = p.read(&mut buf).expect("read");
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            assert_eq!(got, data, "chunk {chunk} depth {depth} read {read}");
        }
    }

    struct Failing(usize);
    impl Read for Failing {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if self.0 == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "cut"));
            }
            let n = self.0.min(out.len());
            out[..n].fill(1);
            self.0 -= n;
            Ok(n)
        }
    }

    #[test]
    fn an_error_comes_after_the_bytes_before_it() {
        let mut p = Prefetch::with_sizes(Box::new(Failing(10)), 4, 2).expect("thread");
        let mut got = Vec::new();
        let err = loop {
            let mut buf = [0u8; 3];
            match p.read(&mut buf) {
                Ok(0) => panic!("error expected"),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => break e,
            }
        };
        assert_eq!(got, vec![1; 10]);
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }
}
