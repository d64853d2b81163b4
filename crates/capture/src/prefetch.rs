//! Reading ahead on a second thread.
//!
//! Copying a file out of the page cache (the `read` system call) is most of
//! the cost of a large capture once parsing skips what it does not need. A
//! [`Prefetch`] moves that work, and gzip decompression, to its own thread:
//! it reads the input in large chunks into a few recycled buffers and hands
//! them over a bounded channel, so memory stays at `depth × chunk` whatever
//! the input's size. The capture reader takes the buffers themselves
//! ([`Prefetch::next_chunk`]) and parses records where they are, giving each
//! buffer back when it is done with it; as a `Read`, a `Prefetch` copies
//! the chunks' bytes out instead.
//!
//! A live input (a pipe from `tcpdump -w -`, a FIFO, a socket) is read
//! [`Prefetch::live`]: each read's bytes are handed over at once, never
//! waiting to fill a chunk, so a packet reaches the parser as soon as it
//! was written.

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

    /// Starts reading a live input on a new thread: what each read returns
    /// is handed over at once (a chunk is sent as soon as it holds bytes).
    pub fn live(input: Box<dyn Read + Send>) -> io::Result<Prefetch> {
        Self::start(input, Self::CHUNK, Self::DEPTH, true)
    }

    pub fn with_sizes(
        input: Box<dyn Read + Send>,
        chunk: usize,
        depth: usize,
    ) -> io::Result<Prefetch> {
        Self::start(input, chunk, depth, false)
    }

    pub(crate) fn start(
        mut input: Box<dyn Read + Send>,
        chunk: usize,
        depth: usize,
        live: bool,
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
                            // zeroed by the allocator, not written here
                            vec![0; chunk]
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
                            Ok(n) => {
                                filled += n.min(chunk - filled);
                                if live {
                                    // hand over what came; the next read may wait long
                                    break;
                                }
                            }
                            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                            Err(e) => {
                                error = Some(e);
                                break;
                            }
                        }
                    }
                    // a live chunk is short after every read; only an empty read ends
                    let end = if live { filled == 0 } else { filled < chunk };
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

impl Prefetch {
    /// The next chunk in place of `buf`: `buf` becomes its buffer and the
    /// number of its bytes filled is returned (0: the input has ended, and
    /// `buf` is left as it was). The buffer given back in exchange goes to
    /// the reading thread to be filled again, so the caller must be done
    /// with it. The capture reader parses straight from these buffers.
    pub(crate) fn next_chunk(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
        if self.finished {
            return Ok(0);
        }
        match self.chunks.recv() {
            Ok(Ok((next, filled))) => {
                let used = std::mem::replace(buf, next);
                if used.capacity() > 0 {
                    let _ = self.spare.try_send(used);
                }
                Ok(filled)
            }
            Ok(Err(e)) => {
                self.finished = true;
                Err(e)
            }
            Err(_) => {
                self.finished = true;
                Ok(0)
            }
        }
    }
}

impl Read for Prefetch {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.filled {
            let mut current = std::mem::take(&mut self.current);
            let next = self.next_chunk(&mut current);
            self.current = current;
            match next {
                Ok(0) => return Ok(0),
                Ok(filled) => {
                    self.filled = filled;
                    self.pos = 0;
                }
                Err(e) => return Err(e),
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

/// Whether a file is a live stream (a pipe, FIFO, socket or terminal)
/// rather than a regular file or a block device: its bytes come as they are
/// written, so they are handed over as they come ([`Prefetch::live`]) and
/// reports are written out as flows end.
pub fn is_live(file: &std::fs::File) -> bool {
    file.metadata()
        .map_or(true, |m| is_live_type(&m.file_type()))
}

/// [`is_live`] by file type (from `std::fs::metadata`, which does not open
/// the file: opening a FIFO would wait for its writer).
pub fn is_live_type(t: &std::fs::FileType) -> bool {
    !(t.is_file() || is_block_device(t))
}

#[cfg(unix)]
fn is_block_device(t: &std::fs::FileType) -> bool {
    use std::os::unix::fs::FileTypeExt;
    t.is_block_device()
}

#[cfg(not(unix))]
fn is_block_device(_: &std::fs::FileType) -> bool {
    false
}

/// Whether standard input is a live stream (see [`is_live`]); true when it
/// cannot be told.
pub fn stdin_is_live() -> bool {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        match std::io::stdin().as_fd().try_clone_to_owned() {
            Ok(fd) => is_live(&std::fs::File::from(fd)),
            Err(_) => true,
        }
    }
    #[cfg(not(unix))]
    {
        true
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

    /// A pipe whose writer sends a few bytes, then waits for the reader to
    /// have them before it sends more.
    #[test]
    fn a_live_input_is_handed_over_as_it_comes_not_by_chunks() {
        let (reader, mut writer) = std::io::pipe().expect("pipe");
        let (ack_tx, ack_rx) = mpsc::channel::<()>();
        let feeder = thread::spawn(move || {
            use std::io::Write;
            for i in 0..5u8 {
                writer.write_all(&[i; 10]).expect("write");
                // waits for the reader: a prefetch that filled chunks would hang here
                if ack_rx
                    .recv_timeout(std::time::Duration::from_secs(10))
                    .is_err()
                {
                    return false;
                }
            }
            true
        });
        let mut p = Prefetch::live(Box::new(reader)).expect("thread");
        let mut got = Vec::new();
        for i in 0..5u8 {
            let mut buf = [0u8; 10];
            p.read_exact(&mut buf).expect("read");
            assert_eq!(buf, [i; 10]);
            got.extend_from_slice(&buf);
            ack_tx.send(()).expect("ack");
        }
        assert!(feeder.join().expect("feeder"), "the feeder timed out");
        let mut rest = Vec::new();
        p.read_to_end(&mut rest).expect("end");
        assert!(rest.is_empty());
        assert_eq!(got.len(), 50);
    }

    #[cfg(unix)]
    #[test]
    fn regular_files_are_not_live_pipes_are() {
        let f = std::fs::File::open(file!()).or_else(|_| std::fs::File::open("Cargo.toml"));
        if let Ok(f) = f {
            assert!(!is_live(&f));
        }
        let (r, _w) = std::io::pipe().expect("pipe");
        let fd: std::os::fd::OwnedFd = r.into();
        assert!(is_live(&std::fs::File::from(fd)));
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
