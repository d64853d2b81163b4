//! HTTP/2 frame headers from a byte stream, with a bounded buffer (RFC 9113
//! §4.1): 9 bytes of header, and of a payload only the 8 bytes a GOAWAY
//! starts with (last stream id, error code, §6.8). Every other payload is
//! counted down, not kept, so a frame of 16 MiB costs nothing more than one
//! of 9 bytes. A frame split across records (or pushes) at any byte is
//! normal.

/// Frame types this reader looks at (RFC 9113 §6).
pub mod kind {
    pub const DATA: u8 = 0x0;
    pub const HEADERS: u8 = 0x1;
    pub const RST_STREAM: u8 = 0x3;
    pub const SETTINGS: u8 = 0x4;
    pub const PUSH_PROMISE: u8 = 0x5;
    pub const PING: u8 = 0x6;
    pub const GOAWAY: u8 = 0x7;
}

/// Flags (RFC 9113 §6.1, §6.2).
pub mod flag {
    pub const END_STREAM: u8 = 0x1;
    pub const ACK: u8 = 0x1;
}

/// A frame's 9-byte header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    pub length: u32,
    pub kind: u8,
    pub flags: u8,
    /// The stream identifier, its reserved bit cleared.
    pub stream: u32,
}

impl FrameHeader {
    pub fn parse(b: &[u8; 9]) -> FrameHeader {
        FrameHeader {
            length: u32::from_be_bytes([0, b[0], b[1], b[2]]),
            kind: b[3],
            flags: b[4],
            stream: u32::from_be_bytes([b[5], b[6], b[7], b[8]]) & 0x7fff_ffff,
        }
    }
}

/// A GOAWAY's fixed fields (RFC 9113 §6.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GoawayFields {
    pub last_stream_id: u32,
    pub error_code: u32,
}

/// What the reader hands out per frame: its header, once read, and for a
/// GOAWAY its fields (None when its payload is shorter than 8 bytes, a
/// FRAME_SIZE_ERROR the peer would answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    pub header: FrameHeader,
    pub goaway: Option<GoawayFields>,
}

/// Where the reader stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// `have` bytes of a header in `hdr`.
    Header,
    /// A GOAWAY's first `have` payload bytes in `fixed`.
    GoawayFields { header: FrameHeader },
    /// Payload bytes still to pass over.
    Payload,
}

/// Splits a byte stream into HTTP/2 frames, handing out each header
/// (GOAWAY: with its fields) as soon as its bytes are in. Holds at most 9
/// bytes between pushes.
#[derive(Debug, Clone)]
pub struct FrameReader {
    state: State,
    hdr: [u8; 9],
    fixed: [u8; 8],
    have: usize,
    /// Payload bytes of the current frame not read yet.
    remaining: u32,
    frames: u64,
}

impl Default for FrameReader {
    fn default() -> Self {
        FrameReader::new()
    }
}

impl FrameReader {
    pub fn new() -> FrameReader {
        FrameReader {
            state: State::Header,
            hdr: [0; 9],
            fixed: [0; 8],
            have: 0,
            remaining: 0,
            frames: 0,
        }
    }

    /// Frames handed out so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// True when the stream ended between two frames (no frame cut short).
    pub fn at_frame_boundary(&self) -> bool {
        self.state == State::Header && self.have == 0
    }

    /// Reads `data`, calling `on` for each frame whose header (and GOAWAY
    /// fields) it completes.
    pub fn push(&mut self, mut data: &[u8], on: &mut impl FnMut(Frame)) {
        while !data.is_empty() {
            match self.state {
                State::Header => {
                    let take = fill(&mut self.hdr, self.have, data);
                    self.have += take;
                    data = data.get(take..).unwrap_or_default();
                    if self.have == 9 {
                        self.have = 0;
                        let header = FrameHeader::parse(&self.hdr);
                        self.remaining = header.length;
                        if header.kind == kind::GOAWAY && header.length >= 8 {
                            self.state = State::GoawayFields { header };
                        } else {
                            self.emit(header, None, on);
                        }
                    }
                }
                State::GoawayFields { header } => {
                    let take = fill(&mut self.fixed, self.have, data);
                    self.have += take;
                    self.remaining -= take as u32;
                    data = data.get(take..).unwrap_or_default();
                    if self.have == 8 {
                        self.have = 0;
                        let f = &self.fixed;
                        let fields = GoawayFields {
                            last_stream_id: u32::from_be_bytes([f[0], f[1], f[2], f[3]])
                                & 0x7fff_ffff,
                            error_code: u32::from_be_bytes([f[4], f[5], f[6], f[7]]),
                        };
                        self.emit(header, Some(fields), on);
                    }
                }
                State::Payload => {
                    let take = (self.remaining as usize).min(data.len());
                    self.remaining -= take as u32;
                    data = data.get(take..).unwrap_or_default();
                    if self.remaining == 0 {
                        self.state = State::Header;
                    }
                }
            }
        }
    }

    fn emit(
        &mut self,
        header: FrameHeader,
        goaway: Option<GoawayFields>,
        on: &mut impl FnMut(Frame),
    ) {
        self.frames += 1;
        self.state = if self.remaining == 0 {
            State::Header
        } else {
            State::Payload
        };
        on(Frame { header, goaway });
    }
}

/// The name of an HTTP/2 error code (RFC 9113 §7), or None.
pub fn error_name(code: u32) -> Option<&'static str> {
    const NAMES: [&str; 14] = [
        "NO_ERROR",
        "PROTOCOL_ERROR",
        "INTERNAL_ERROR",
        "FLOW_CONTROL_ERROR",
        "SETTINGS_TIMEOUT",
        "STREAM_CLOSED",
        "FRAME_SIZE_ERROR",
        "REFUSED_STREAM",
        "CANCEL",
        "COMPRESSION_ERROR",
        "CONNECT_ERROR",
        "ENHANCE_YOUR_CALM",
        "INADEQUATE_SECURITY",
        "HTTP_1_1_REQUIRED",
    ];
    NAMES.get(usize::try_from(code).ok()?).copied()
}

/// Copies the start of `data` into `buf` from `have` on, as much as fits;
/// returns how many bytes were copied.
fn fill(buf: &mut [u8], have: usize, data: &[u8]) -> usize {
    let mut n = 0;
    for (to, from) in buf.iter_mut().skip(have).zip(data) {
        *to = *from;
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let len = (payload.len() as u32).to_be_bytes();
        let mut v = vec![len[1], len[2], len[3], kind, flags];
        v.extend_from_slice(&stream.to_be_bytes());
        v.extend_from_slice(payload);
        v
    }

    fn goaway(last: u32, code: u32, debug: &[u8]) -> Vec<u8> {
        let mut p = last.to_be_bytes().to_vec();
        p.extend_from_slice(&code.to_be_bytes());
        p.extend_from_slice(debug);
        frame(kind::GOAWAY, 0, 0, &p)
    }

    /// A connection's worth of frames: settings, headers, a long DATA,
    /// an empty frame, a GOAWAY with debug data, a short (malformed)
    /// GOAWAY, a PING.
    fn stream() -> (Vec<u8>, Vec<Frame>) {
        let parts = [
            frame(kind::SETTINGS, 0, 0, &[0, 3, 0, 0, 0, 100]),
            frame(kind::HEADERS, 0x4, 1, &[0x82, 0x87]),
            frame(kind::DATA, flag::END_STREAM, 1, &[7u8; 300]),
            frame(kind::SETTINGS, flag::ACK, 0, &[]),
            goaway(3, 0, b"idle"),
            frame(kind::GOAWAY, 0, 0, &[0, 0, 0]),
            frame(kind::PING, flag::ACK, 0, &[1; 8]),
            goaway(0x8000_0005, 0xb, b""),
        ];
        let bytes: Vec<u8> = parts.concat();
        let mut expected = Vec::new();
        for p in &parts {
            let mut h = [0u8; 9];
            h.copy_from_slice(&p[..9]);
            let header = FrameHeader::parse(&h);
            let goaway =
                (header.kind == kind::GOAWAY && header.length >= 8).then(|| GoawayFields {
                    last_stream_id: u32::from_be_bytes([p[9], p[10], p[11], p[12]]) & 0x7fff_ffff,
                    error_code: u32::from_be_bytes([p[13], p[14], p[15], p[16]]),
                });
            expected.push(Frame { header, goaway });
        }
        (bytes, expected)
    }

    fn read(pieces: &[&[u8]]) -> (Vec<Frame>, bool) {
        let mut r = FrameReader::new();
        let mut out = Vec::new();
        for p in pieces {
            r.push(p, &mut |f| out.push(f));
        }
        assert_eq!(r.frames(), out.len() as u64);
        (out, r.at_frame_boundary())
    }

    #[test]
    fn the_frames_are_read_whole() {
        let (bytes, expected) = stream();
        let (got, boundary) = read(&[&bytes]);
        assert_eq!(got, expected);
        assert!(boundary);
        assert_eq!(got[4].goaway.map(|g| g.error_code), Some(0));
        assert_eq!(got[4].goaway.map(|g| g.last_stream_id), Some(3));
        // the reserved bit is not part of the stream id
        assert_eq!(got[7].goaway.map(|g| g.last_stream_id), Some(5));
        assert_eq!(got[5].goaway, None, "a 3-byte GOAWAY has no fields");
    }

    #[test]
    fn every_split_point_gives_the_same_frames() {
        let (bytes, expected) = stream();
        for s in 0..=bytes.len() {
            let (a, b) = bytes.split_at(s);
            let (got, boundary) = read(&[a, b]);
            assert_eq!(got, expected, "split at {s}");
            assert!(boundary, "split at {s}");
        }
    }

    #[test]
    fn every_pair_of_split_points_gives_the_same_frames() {
        let (bytes, expected) = stream();
        // every pair within the first 80 bytes (headers, a GOAWAY's
        // fields), then a coarser grid
        for s in 0..=bytes.len() {
            for t in s..=bytes.len() {
                if t > 80 && t % 7 != 0 {
                    continue;
                }
                let (got, _) = read(&[&bytes[..s], &bytes[s..t], &bytes[t..]]);
                assert_eq!(got, expected, "splits at {s} and {t}");
            }
        }
    }

    #[test]
    fn byte_at_a_time_gives_the_same_frames() {
        let (bytes, expected) = stream();
        let pieces: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(read(&pieces).0, expected);
    }

    #[test]
    fn a_stream_cut_inside_a_frame_is_not_at_a_boundary() {
        let (bytes, _) = stream();
        let (got, boundary) = read(&[&bytes[..25]]);
        assert_eq!(got.len(), 2, "settings and the headers frame's header");
        assert!(!boundary);
        let (_, boundary) = read(&[&bytes[..4]]);
        assert!(!boundary, "inside a header");
    }

    #[test]
    fn a_frame_of_the_largest_length_is_counted_not_kept() {
        let mut big = frame(kind::DATA, 0, 1, &[]);
        big[0..3].copy_from_slice(&[0xff, 0xff, 0xff]);
        let mut r = FrameReader::new();
        let mut n = 0;
        r.push(&big, &mut |_| n += 1);
        let chunk = vec![0u8; 1 << 16];
        for _ in 0..255 {
            r.push(&chunk, &mut |_| n += 1);
        }
        // 2^24 - 1 bytes of payload in all
        r.push(&chunk[1..], &mut |_| n += 1);
        assert_eq!(n, 1);
        assert!(r.at_frame_boundary());
        let mut after = Vec::new();
        r.push(&frame(kind::PING, flag::ACK, 0, &[0; 8]), &mut |f| {
            after.push(f)
        });
        assert_eq!(after.len(), 1);
        assert_eq!(after[0].header.kind, kind::PING);
        // the reader holds a header's worth, whatever the frame's length
        assert!(std::mem::size_of::<FrameReader>() <= 64);
    }

    #[test]
    fn error_codes_have_their_names() {
        assert_eq!(error_name(0), Some("NO_ERROR"));
        assert_eq!(error_name(0xd), Some("HTTP_1_1_REQUIRED"));
        assert_eq!(error_name(0xe), None);
    }
}
