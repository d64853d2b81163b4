//! Where frames come from: a capture reader, or, for a live input (a pipe
//! from `tcpdump -w -`), the same reader on its own thread, so that a quiet
//! pipe is noticed: capture time does not advance without packets, so the
//! wall-clock time since the last one moves the clock on instead (a flow
//! waiting for its last packets, or idle, is then reported on time).
//! That thread hands on the frames it has read in batches, one batch each
//! time the next frame is not whole in the bytes read yet
//! (`CaptureReader::next_is_buffered`): a frame never waits for a later
//! one, and a fast pipe costs one hand-over per batch, not per frame.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};
use tlsclose_capture::{CaptureError, CaptureFormat, CaptureReader, Frame, LinkType, Timestamp};

/// How long a live input may be quiet before the clock is moved on.
const QUIET: Duration = Duration::from_millis(250);

pub enum Next<'a> {
    Frame(Frame<'a>),
    /// A live input has been quiet this long since its last frame.
    Quiet(Duration),
    End,
}

pub enum Source {
    Direct(CaptureReader),
    Live(Live),
}

impl Source {
    /// `live`: read `reader` on a thread of its own (see the module docs).
    pub fn new(reader: CaptureReader, live: bool) -> Source {
        if !live {
            return Source::Direct(reader);
        }
        let format = reader.format();
        let gzip = reader.is_gzip();
        // (a few batches ahead: each holds the frames read before a wait)
        let (tx, rx) = mpsc::sync_channel::<Msg>(4);
        let spawned = std::thread::Builder::new()
            .name("tlsclose-live".into())
            .spawn(move || {
                let mut reader = reader;
                loop {
                    // the frames the reader has at hand, handed on before a
                    // call that may wait for the input (one message per
                    // frame was a thread wake-up per frame: a pipe from a
                    // file was read 2.3 times slower than the file)
                    let mut batch = FrameBatch::default();
                    let end = loop {
                        let frames = batch.heads.len();
                        let (at, end) = match reader.next_frame() {
                            Ok(Some(f)) => {
                                batch.push(&f);
                                (frames, None)
                            }
                            Ok(None) => (frames, Some(Ok(()))),
                            Err(e) => (frames, Some(Err(e))),
                        };
                        // what the reader met up to this frame travels
                        // with it (or with the end)
                        let (warnings, secrets) =
                            (reader.take_warnings(), reader.take_decryption_secrets());
                        if !warnings.is_empty() || !secrets.is_empty() {
                            batch.side.push((at, warnings, secrets));
                        }
                        if end.is_some() || batch.full() || !reader.next_is_buffered() {
                            break end;
                        }
                    };
                    batch.stats = (reader.stats().bytes_read, reader.stats().skipped_bytes);
                    let last = end.is_some();
                    if tx.send(Msg { batch, end }).is_err() || last {
                        return;
                    }
                }
            });
        match spawned {
            Ok(_) => Source::Live(Live::receiving(rx, format, gzip)),
            // (the reader moved into the closure that failed to start)
            Err(e) => Source::Live(Live::failed(format, gzip, e)),
        }
    }

    pub fn next(&mut self) -> Result<Next<'_>, CaptureError> {
        match self {
            Source::Direct(r) => Ok(match r.next_frame()? {
                Some(f) => Next::Frame(f),
                None => Next::End,
            }),
            Source::Live(l) => l.next(),
        }
    }

    pub fn format(&self) -> CaptureFormat {
        match self {
            Source::Direct(r) => r.format(),
            Source::Live(l) => l.format,
        }
    }

    pub fn is_gzip(&self) -> bool {
        match self {
            Source::Direct(r) => r.is_gzip(),
            Source::Live(l) => l.gzip,
        }
    }

    pub fn take_warnings(&mut self) -> Vec<String> {
        match self {
            Source::Direct(r) => r.take_warnings(),
            Source::Live(l) => std::mem::take(&mut l.warnings),
        }
    }

    pub fn take_decryption_secrets(&mut self) -> Vec<(u32, Vec<u8>)> {
        match self {
            Source::Direct(r) => r.take_decryption_secrets(),
            Source::Live(l) => std::mem::take(&mut l.secrets),
        }
    }

    pub fn bytes_read(&self) -> u64 {
        match self {
            Source::Direct(r) => r.stats().bytes_read,
            Source::Live(l) => l.stats.0,
        }
    }

    pub fn skipped_bytes(&self) -> u64 {
        match self {
            Source::Direct(r) => r.stats().skipped_bytes,
            Source::Live(l) => l.stats.1,
        }
    }
}

/// A frame copied out of the reader's buffer (for the frames the capture
/// clock holds).
pub struct Owned {
    number: u64,
    ts: Timestamp,
    link: LinkType,
    data: Vec<u8>,
    orig_len: u32,
    file_offset: u64,
}

impl Owned {
    pub fn of(f: &Frame<'_>) -> Owned {
        Owned {
            number: f.number,
            ts: f.ts,
            link: f.link,
            data: f.data.to_vec(),
            orig_len: f.orig_len,
            file_offset: f.file_offset,
        }
    }

    pub fn frame(&self) -> Frame<'_> {
        Frame {
            number: self.number,
            ts: self.ts,
            link: self.link,
            data: &self.data,
            orig_len: self.orig_len,
            file_offset: self.file_offset,
        }
    }
}

/// One frame of a [`FrameBatch`]: its metadata and where its bytes are.
struct Head {
    number: u64,
    ts: Timestamp,
    link: LinkType,
    orig_len: u32,
    file_offset: u64,
    at: usize,
    len: usize,
}

/// Warnings and secrets the reader met: the frame they came with (the
/// number of frames when they came with the end), the warnings, the
/// secrets.
type Side = (usize, Vec<String>, Vec<(u32, Vec<u8>)>);

/// Frames copied out of the reader's buffer side by side, with the
/// warnings and secrets the reader met (each after the frames before it),
/// and its byte counts at the end.
#[derive(Default)]
struct FrameBatch {
    heads: Vec<Head>,
    bytes: Vec<u8>,
    side: Vec<Side>,
    stats: (u64, u64),
}

impl FrameBatch {
    /// Frames or bytes in a batch before it is handed on anyway.
    const FRAMES: usize = 256;
    const BYTES: usize = 256 << 10;

    fn push(&mut self, f: &Frame<'_>) {
        self.heads.push(Head {
            number: f.number,
            ts: f.ts,
            link: f.link,
            orig_len: f.orig_len,
            file_offset: f.file_offset,
            at: self.bytes.len(),
            len: f.data.len(),
        });
        self.bytes.extend_from_slice(f.data);
    }

    fn full(&self) -> bool {
        self.heads.len() >= Self::FRAMES || self.bytes.len() >= Self::BYTES
    }

    fn frame(&self, i: usize) -> Option<Frame<'_>> {
        let h = self.heads.get(i)?;
        Some(Frame {
            number: h.number,
            ts: h.ts,
            link: h.link,
            data: self.bytes.get(h.at..h.at.saturating_add(h.len))?,
            orig_len: h.orig_len,
            file_offset: h.file_offset,
        })
    }
}

/// Frames, and the end of the input (with how it ended) when it came.
struct Msg {
    batch: FrameBatch,
    end: Option<Result<(), CaptureError>>,
}

pub struct Live {
    rx: Receiver<Msg>,
    /// The batch being handed out, the next frame's index in it, and the
    /// end that came with it.
    current: FrameBatch,
    next: usize,
    side_next: usize,
    end: Option<Result<(), CaptureError>>,
    warnings: Vec<String>,
    secrets: Vec<(u32, Vec<u8>)>,
    stats: (u64, u64),
    format: CaptureFormat,
    gzip: bool,
    /// When the last frames came.
    last: Instant,
    done: bool,
}

impl Live {
    /// A live input whose frames come through `rx`.
    fn receiving(rx: Receiver<Msg>, format: CaptureFormat, gzip: bool) -> Live {
        Live {
            rx,
            current: FrameBatch::default(),
            next: 0,
            side_next: 0,
            end: None,
            warnings: Vec::new(),
            secrets: Vec::new(),
            stats: (0, 0),
            format,
            gzip,
            last: Instant::now(),
            done: false,
        }
    }

    fn failed(format: CaptureFormat, gzip: bool, e: std::io::Error) -> Live {
        let (tx, rx) = mpsc::sync_channel::<Msg>(1);
        let _ = tx.send(Msg {
            batch: FrameBatch::default(),
            end: Some(Err(CaptureError::Io {
                file: "<live input>".into(),
                source: e,
            })),
        });
        Live::receiving(rx, format, gzip)
    }

    /// The warnings and secrets that came with frames up to `upto` of the
    /// batch (all of them with `usize::MAX`), as the reader's own
    /// `take_warnings` would give them after that frame.
    fn side(&mut self, upto: usize) {
        while let Some((at, w, s)) = self.current.side.get_mut(self.side_next) {
            if *at > upto {
                break;
            }
            self.warnings.append(w);
            self.secrets.append(s);
            self.side_next += 1;
        }
    }

    fn next(&mut self) -> Result<Next<'_>, CaptureError> {
        loop {
            if self.done {
                return Ok(Next::End);
            }
            if self.next < self.current.heads.len() {
                let i = self.next;
                self.next += 1;
                // (what was met while reading frame i came with it)
                self.side(i);
                return Ok(self.current.frame(i).map_or(Next::End, Next::Frame));
            }
            self.side(usize::MAX);
            if let Some(end) = self.end.take() {
                self.done = true;
                return end.map(|()| Next::End);
            }
            match self.rx.recv_timeout(QUIET) {
                Ok(Msg { batch, end }) => {
                    self.stats = batch.stats;
                    self.current = batch;
                    self.next = 0;
                    self.side_next = 0;
                    self.end = end;
                    self.last = Instant::now();
                }
                Err(RecvTimeoutError::Timeout) => return Ok(Next::Quiet(self.last.elapsed())),
                Err(RecvTimeoutError::Disconnected) => {
                    self.done = true;
                    return Ok(Next::End);
                }
            }
        }
    }
}

/// Whether an input is live (standard input or a path that is a pipe, a
/// FIFO, a socket, not a regular file): then each flow's report is written
/// out as soon as the flow ends.
pub fn any_live(inputs: &[String]) -> bool {
    inputs.iter().any(|i| {
        if i == "-" {
            tlsclose_capture::stdin_is_live()
        } else {
            std::fs::metadata(i)
                .map(|m| tlsclose_capture::is_live_type(&m.file_type()))
                .unwrap_or(false)
        }
    })
}
