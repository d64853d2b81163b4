//! An HTTP/2 connection followed by its frame headers (RFC 9113): the
//! client's preface, the requests (HEADERS on a new client stream), the
//! end of each response (END_STREAM from the server, or the stream
//! reset), and the GOAWAY frames of either side. No HPACK: header blocks
//! are passed over.

use crate::h2frame::{flag, kind, Frame, FrameReader, GoawayFields};

/// The client connection preface (RFC 9113 §3.4).
pub const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Client streams followed at once; past this many open streams the
/// outstanding requests are no longer known.
const MAX_OPEN_STREAMS: usize = 256;

/// A client stream whose response has not ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Open {
    id: u32,
    /// The server sent HEADERS or DATA on it.
    response_started: bool,
}

/// A GOAWAY as read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GoawaySeen {
    pub client: bool,
    pub fields: Option<GoawayFields>,
}

/// What one push showed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct H2Pushed {
    /// The client's HEADERS opened a new stream in these bytes.
    pub request_started: bool,
    /// The first GOAWAY of these bytes.
    pub goaway: Option<GoawaySeen>,
    /// GOAWAY frames in these bytes.
    pub goaways: u32,
}

/// Both directions of an HTTP/2 connection.
#[derive(Debug, Clone)]
pub struct H2 {
    /// Preface bytes of the client still expected (0: read).
    preface_left: usize,
    client: FrameReader,
    server: FrameReader,
    client_stopped: bool,
    open: Vec<Open>,
    /// More streams were open at once than are followed.
    pub overflow: bool,
    max_client_stream: u32,
    pub requests: u64,
    pub responses_complete: u64,
}

impl Default for H2 {
    fn default() -> Self {
        H2::new()
    }
}

impl H2 {
    pub fn new() -> H2 {
        H2 {
            preface_left: PREFACE.len(),
            client: FrameReader::new(),
            server: FrameReader::new(),
            client_stopped: false,
            open: Vec::new(),
            overflow: false,
            max_client_stream: 0,
            requests: 0,
            responses_complete: 0,
        }
    }

    /// The client's direction is still read (its preface was right).
    pub fn reading(&self, client: bool) -> bool {
        !(client && self.client_stopped)
    }

    /// Requests whose response has not ended (None: too many to follow).
    pub fn outstanding(&self) -> Option<u64> {
        (!self.overflow).then_some(self.open.len() as u64)
    }

    /// A response began and has not ended.
    pub fn response_open(&self) -> bool {
        self.open.iter().any(|o| o.response_started)
    }

    pub fn push(&mut self, client: bool, mut data: &[u8]) -> H2Pushed {
        let mut out = H2Pushed::default();
        if client {
            if self.client_stopped {
                return out;
            }
            if self.preface_left > 0 {
                let at = PREFACE.len() - self.preface_left;
                let take = self.preface_left.min(data.len());
                if PREFACE.get(at..at + take) != data.get(..take) {
                    self.client_stopped = true;
                    return out;
                }
                self.preface_left -= take;
                data = data.get(take..).unwrap_or_default();
            }
        }
        let mut frames: Vec<Frame> = Vec::new();
        let reader = if client {
            &mut self.client
        } else {
            &mut self.server
        };
        reader.push(data, &mut |f| frames.push(f));
        for f in frames {
            self.frame(client, f, &mut out);
        }
        out
    }

    fn frame(&mut self, client: bool, f: Frame, out: &mut H2Pushed) {
        let h = f.header;
        match h.kind {
            kind::GOAWAY => {
                out.goaways += 1;
                out.goaway.get_or_insert(GoawaySeen {
                    client,
                    fields: f.goaway,
                });
            }
            kind::RST_STREAM => self.open.retain(|o| o.id != h.stream),
            // a new client stream (odd, above the last one) is a request;
            // HEADERS on an open stream are trailers
            kind::HEADERS if client && h.stream % 2 == 1 && h.stream > self.max_client_stream => {
                self.max_client_stream = h.stream;
                self.requests += 1;
                out.request_started = true;
                if self.open.len() < MAX_OPEN_STREAMS {
                    self.open.push(Open {
                        id: h.stream,
                        response_started: false,
                    });
                } else {
                    self.overflow = true;
                }
            }
            kind::HEADERS | kind::DATA if !client => {
                if let Some(i) = self.open.iter().position(|o| o.id == h.stream) {
                    if h.flags & flag::END_STREAM != 0 {
                        self.open.swap_remove(i);
                        self.responses_complete += 1;
                    } else if let Some(o) = self.open.get_mut(i) {
                        o.response_started = true;
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let len = (payload.len() as u32).to_be_bytes();
        let mut v = vec![len[1], len[2], len[3], kind, flags];
        v.extend_from_slice(&stream.to_be_bytes());
        v.extend_from_slice(payload);
        v
    }

    fn client_bytes() -> Vec<u8> {
        [
            PREFACE.to_vec(),
            frame(kind::SETTINGS, 0, 0, &[]),
            frame(kind::HEADERS, 0x5, 1, &[0x82]),
            frame(kind::HEADERS, 0x5, 3, &[0x82]),
        ]
        .concat()
    }

    #[test]
    fn requests_and_responses_are_followed_at_every_split() {
        let c = client_bytes();
        let s = [
            frame(kind::SETTINGS, 0, 0, &[]),
            frame(kind::HEADERS, 0x4, 1, &[0x88]),
            frame(kind::DATA, flag::END_STREAM, 1, b"ok"),
            frame(kind::HEADERS, 0x4, 3, &[0x88]),
            frame(kind::DATA, 0, 3, b"half"),
        ]
        .concat();
        for split in 0..=c.len().max(s.len()) {
            let mut h = H2::new();
            let mut started = false;
            for part in [&c[..split.min(c.len())], &c[split.min(c.len())..]] {
                started |= h.push(true, part).request_started;
            }
            for part in [&s[..split.min(s.len())], &s[split.min(s.len())..]] {
                h.push(false, part);
            }
            assert!(started && h.reading(true), "split {split}");
            assert_eq!((h.requests, h.responses_complete), (2, 1), "split {split}");
            assert_eq!(h.outstanding(), Some(1));
            assert!(h.response_open(), "stream 3's response was cut");
        }
    }

    #[test]
    fn a_goaway_or_ping_ack_starts_no_request() {
        let mut h = H2::new();
        h.push(true, &client_bytes());
        let p = h.push(true, &frame(kind::PING, flag::ACK, 0, &[0; 8]));
        assert_eq!(p, H2Pushed::default());
        let mut ga = 3u32.to_be_bytes().to_vec();
        ga.extend_from_slice(&0u32.to_be_bytes());
        let p = h.push(true, &frame(kind::GOAWAY, 0, 0, &ga));
        assert!(!p.request_started);
        assert_eq!(p.goaways, 1);
        assert_eq!(p.goaway.map(|g| g.client), Some(true));
        assert_eq!(
            p.goaway.and_then(|g| g.fields).map(|f| f.last_stream_id),
            Some(3)
        );
        // trailers on an open stream are no request; a new stream is
        let p = h.push(true, &frame(kind::HEADERS, 0x5, 3, &[]));
        assert!(!p.request_started);
        assert!(
            h.push(true, &frame(kind::HEADERS, 0x5, 5, &[]))
                .request_started
        );
    }

    #[test]
    fn a_reset_stream_is_no_longer_outstanding() {
        let mut h = H2::new();
        h.push(true, &client_bytes());
        h.push(false, &frame(kind::RST_STREAM, 0, 1, &[0, 0, 0, 8]));
        h.push(true, &frame(kind::RST_STREAM, 0, 3, &[0, 0, 0, 8]));
        assert_eq!(h.outstanding(), Some(0));
        assert!(!h.response_open());
    }

    #[test]
    fn a_client_without_the_preface_is_not_read() {
        let mut h = H2::new();
        h.push(true, b"GET / HTTP/1.1\r\n\r\n");
        assert!(!h.reading(true));
        assert!(!h.push(true, &client_bytes()).request_started);
    }
}
