//! Where frames come from: a capture reader, or, for a live input (a pipe
//! from `tcpdump -w -`), the same reader on its own thread, so that a quiet
//! pipe is noticed: capture time does not advance without packets, so the
//! wall-clock time since the last one moves the clock on instead (a flow
//! waiting for its last packets, or idle, is then reported on time).

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
        // (32 frames ahead, as many as before a frame's side info had a
        // message of its own)
        let (tx, rx) = mpsc::sync_channel::<Msg>(32);
        let spawned = std::thread::Builder::new()
            .name("tlsclose-live".into())
            .spawn(move || {
                let mut reader = reader;
                loop {
                    let next = match reader.next_frame() {
                        Ok(Some(f)) => Ok(Owned::of(&f)),
                        Ok(None) => Err(Ok(())),
                        Err(e) => Err(Err(e)),
                    };
                    // what the reader met up to this frame travels with it
                    // (one message per frame)
                    let side = (
                        reader.take_warnings(),
                        reader.take_decryption_secrets(),
                        (reader.stats().bytes_read, reader.stats().skipped_bytes),
                    );
                    let (msg, end) = match next {
                        Ok(f) => (Msg::Frame(f, side), false),
                        Err(r) => (Msg::End(r, side), true),
                    };
                    if tx.send(msg).is_err() || end {
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

/// A frame copied out of the reader's buffer (for the live reader's
/// thread, and for the frames the capture clock holds).
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

type SideInfo = (Vec<String>, Vec<(u32, Vec<u8>)>, (u64, u64));

/// A frame, or the end of the input, each with the reader's warnings and
/// secrets met since the last message and its byte counts so far.
enum Msg {
    Frame(Owned, SideInfo),
    End(Result<(), CaptureError>, SideInfo),
}

pub struct Live {
    rx: Receiver<Msg>,
    current: Option<Owned>,
    warnings: Vec<String>,
    secrets: Vec<(u32, Vec<u8>)>,
    stats: (u64, u64),
    format: CaptureFormat,
    gzip: bool,
    /// When the last frame came.
    last: Instant,
    done: bool,
}

impl Live {
    /// A live input whose frames come through `rx`.
    fn receiving(rx: Receiver<Msg>, format: CaptureFormat, gzip: bool) -> Live {
        Live {
            rx,
            current: None,
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
        let _ = tx.send(Msg::End(
            Err(CaptureError::Io {
                file: "<live input>".into(),
                source: e,
            }),
            (Vec::new(), Vec::new(), (0, 0)),
        ));
        Live::receiving(rx, format, gzip)
    }

    fn side(&mut self, (mut w, mut s, stats): SideInfo) {
        self.warnings.append(&mut w);
        self.secrets.append(&mut s);
        self.stats = stats;
    }

    fn next(&mut self) -> Result<Next<'_>, CaptureError> {
        if self.done {
            return Ok(Next::End);
        }
        match self.rx.recv_timeout(QUIET) {
            Ok(Msg::Frame(f, side)) => {
                self.side(side);
                self.last = Instant::now();
                Ok(Next::Frame(self.current.insert(f).frame()))
            }
            Ok(Msg::End(r, side)) => {
                self.side(side);
                self.done = true;
                r.map(|()| Next::End)
            }
            Err(RecvTimeoutError::Timeout) => Ok(Next::Quiet(self.last.elapsed())),
            Err(RecvTimeoutError::Disconnected) => {
                self.done = true;
                Ok(Next::End)
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
