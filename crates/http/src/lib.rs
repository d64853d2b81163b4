//! Why a connection closed, at the HTTP level: read from the decrypted
//! application data of a TLS connection (tlsclose, docs/ENDINGS.md "Why it
//! closed").
//!
//! [`HttpReader`] is fed each direction's plaintext as records are
//! decrypted, in any pieces, and keeps only what these facts need: the
//! protocol (`http/1.1` or `h2`, from ALPN or from the first bytes), the
//! first close announcement (`Connection: close` in a request or a
//! response, or an HTTP/2 GOAWAY with its error code and last stream id),
//! the number of GOAWAY frames, the requests and whether the last response
//! was complete. Memory is bounded whatever the traffic: an HTTP/1.1 head
//! of at most [`h1::MAX_HEAD`] bytes, 9 bytes of an HTTP/2 frame header,
//! the open streams (at most 256). Bodies are counted, never kept; HPACK is
//! not decoded (the `:status` of a response is not read).
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::expect_used, clippy::indexing_slicing))]

pub mod h1;
pub mod h2;
pub mod h2frame;

use h1::H1;
use h2::H2;

pub use h2frame::error_name as h2_error_name;

/// Which side of the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Client,
    Server,
}

/// The HTTP version spoken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    Http11,
    H2,
}

impl Protocol {
    /// As ALPN names it (`http/1.1`, `h2`).
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Http11 => "http/1.1",
            Protocol::H2 => "h2",
        }
    }
}

/// An HTTP-level announcement that the connection will close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Announcement {
    /// `Connection: close` in a request (`by` the client) or a response
    /// (the server).
    ConnectionClose { by: Side, frame: u64 },
    /// An HTTP/2 GOAWAY; its error code and last stream id are None when
    /// its payload was shorter than 8 bytes.
    Goaway {
        by: Side,
        frame: u64,
        error_code: Option<u32>,
        last_stream_id: Option<u32>,
    },
}

impl Announcement {
    pub fn by(self) -> Side {
        match self {
            Announcement::ConnectionClose { by, .. } | Announcement::Goaway { by, .. } => by,
        }
    }
    pub fn frame(self) -> u64 {
        match self {
            Announcement::ConnectionClose { frame, .. } | Announcement::Goaway { frame, .. } => {
                frame
            }
        }
    }
}

/// Where the last response stood when the reading ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastResponse {
    /// Every response begun was ended (Content-Length, the last chunk,
    /// END_STREAM) or its stream reset.
    Complete,
    /// A response began and did not end.
    Incomplete,
    /// An HTTP/1.1 response without Content-Length or chunked coding: it
    /// ends with the connection, so only a close_notify says it was whole.
    UntilClose,
}

/// What was read of a connection's HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpFacts {
    pub protocol: Protocol,
    /// The first announcement of a close (either side).
    pub announcement: Option<Announcement>,
    /// GOAWAY frames, both sides.
    pub goaways: u32,
    pub requests: u64,
    /// None when no response began.
    pub last_response: Option<LastResponse>,
    /// Requests whose response had not ended (None: not known, too many
    /// HTTP/2 streams open at once).
    pub outstanding: Option<u64>,
    /// A direction whose bytes stopped being read (malformed, a head too
    /// long, an upgrade to another protocol): the facts after it are not
    /// known.
    pub stopped: Option<Side>,
}

/// What one piece of a direction's plaintext showed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pushed {
    /// A request began in it: an HTTP/1.1 request line, or HEADERS on a
    /// new HTTP/2 stream.
    pub request_started: bool,
    /// The bytes were read as HTTP (the protocol is known and the
    /// direction is still read).
    pub read: bool,
}

/// Bytes kept while the protocol is not known yet (enough for the HTTP/2
/// preface, or the first frame header of a server).
const SNIFF: usize = 32;

#[derive(Debug, Clone)]
enum Conn {
    /// No ALPN said it: the first bytes will (`bytes` of each side kept).
    Unknown {
        bytes: [Vec<u8>; 2],
    },
    Http11(Box<H1>),
    H2(Box<H2>),
    /// Another protocol.
    NotHttp,
}

/// Reads a connection's HTTP from its decrypted application data.
#[derive(Debug, Clone)]
pub struct HttpReader {
    conn: Conn,
    /// A direction whose stream broke (a record lost in a gap, or not
    /// decrypted): its bytes are no longer in order, so it is not read.
    broken: [bool; 2],
    announcement: Option<Announcement>,
    goaways: u32,
}

impl HttpReader {
    /// A reader for a connection whose ALPN protocol is `alpn` (None: none
    /// was negotiated, and the first bytes tell).
    pub fn new(alpn: Option<&str>) -> HttpReader {
        let conn = match alpn {
            Some("h2") => Conn::H2(Box::default()),
            Some("http/1.1") | Some("http/1.0") => Conn::Http11(Box::default()),
            Some(_) => Conn::NotHttp,
            None => Conn::Unknown {
                bytes: [Vec::new(), Vec::new()],
            },
        };
        HttpReader {
            conn,
            broken: [false; 2],
            announcement: None,
            goaways: 0,
        }
    }

    /// True while `side`'s bytes are still of use (the protocol may be
    /// HTTP and the direction is read).
    pub fn wants(&self, side: Side) -> bool {
        let client = side == Side::Client;
        if *side_of(&self.broken, client) {
            return false;
        }
        match &self.conn {
            Conn::Unknown { .. } => true,
            Conn::Http11(h) => h.reading(client),
            Conn::H2(h) => h.reading(client),
            Conn::NotHttp => false,
        }
    }

    /// The facts read, when the connection is HTTP.
    pub fn facts(&self) -> Option<HttpFacts> {
        let stopped = [Side::Client, Side::Server]
            .into_iter()
            .find(|&s| !self.wants(s));
        let (protocol, requests, last_response, outstanding) = match &self.conn {
            Conn::Unknown { .. } | Conn::NotHttp => return None,
            Conn::Http11(h) => {
                let last = if h.response_open && h.response_until_close {
                    Some(LastResponse::UntilClose)
                } else if h.response_open {
                    Some(LastResponse::Incomplete)
                } else {
                    h.any_response.then_some(LastResponse::Complete)
                };
                let outstanding = h.requests.saturating_sub(h.responses_complete);
                (Protocol::Http11, h.requests, last, Some(outstanding))
            }
            Conn::H2(h) => {
                let last = if h.response_open() {
                    Some(LastResponse::Incomplete)
                } else {
                    (h.responses_complete > 0).then_some(LastResponse::Complete)
                };
                (Protocol::H2, h.requests, last, h.outstanding())
            }
        };
        Some(HttpFacts {
            protocol,
            announcement: self.announcement,
            goaways: self.goaways,
            requests,
            last_response,
            outstanding,
            stopped,
        })
    }

    /// `side` lost bytes (a record in a gap, or one that did not
    /// decrypt): its stream is read no further.
    pub fn lost(&mut self, side: Side) {
        *side_of_mut(&mut self.broken, side == Side::Client) = true;
    }

    /// Reads a piece of `side`'s plaintext, carried by a record completed
    /// at `frame`.
    pub fn push(&mut self, side: Side, data: &[u8], frame: u64) -> Pushed {
        let client = side == Side::Client;
        if !self.wants(side) {
            return Pushed::default();
        }
        if let Conn::Unknown { bytes } = &mut self.conn {
            let kept = side_of_mut(bytes, client);
            let take = SNIFF.saturating_sub(kept.len()).min(data.len());
            let (head, rest) = data.split_at(take);
            kept.extend_from_slice(head);
            let Some(protocol) = sniff(client, kept) else {
                return Pushed::default();
            };
            let [c, s] = std::mem::take(bytes);
            self.conn = match protocol {
                Some(Protocol::H2) => Conn::H2(Box::default()),
                Some(Protocol::Http11) => Conn::Http11(Box::default()),
                None => Conn::NotHttp,
            };
            // the kept bytes of both sides, then the rest of this piece
            let mut out = Pushed::default();
            for (kept_client, bytes) in [(true, c), (false, s)] {
                if !bytes.is_empty() {
                    let s = if kept_client {
                        Side::Client
                    } else {
                        Side::Server
                    };
                    let p = self.read(s, &bytes, frame);
                    if kept_client == client {
                        out = p;
                    }
                }
            }
            let rest = self.read(side, rest, frame);
            out.request_started |= rest.request_started;
            out.read |= rest.read;
            return out;
        }
        self.read(side, data, frame)
    }

    fn read(&mut self, side: Side, data: &[u8], frame: u64) -> Pushed {
        let client = side == Side::Client;
        let mut out = Pushed::default();
        if *side_of(&self.broken, client) {
            return out;
        }
        match &mut self.conn {
            Conn::Unknown { .. } | Conn::NotHttp => return out,
            Conn::Http11(h) => {
                if !h.reading(client) {
                    return out;
                }
                let p = h.push(client, data);
                out.request_started = p.request_started;
                if p.connection_close && self.announcement.is_none() {
                    self.announcement = Some(Announcement::ConnectionClose { by: side, frame });
                }
            }
            Conn::H2(h) => {
                if !h.reading(client) {
                    return out;
                }
                let p = h.push(client, data);
                out.request_started = p.request_started;
                self.goaways = self.goaways.saturating_add(p.goaways);
                if let (Some(g), None) = (p.goaway, self.announcement) {
                    self.announcement = Some(Announcement::Goaway {
                        by: side,
                        frame,
                        error_code: g.fields.map(|f| f.error_code),
                        last_stream_id: g.fields.map(|f| f.last_stream_id),
                    });
                }
            }
        }
        out.read = self.wants(side);
        out
    }
}

/// The protocol told by a side's first bytes: `Some(Some(p))` known,
/// `Some(None)` not HTTP, `None` not enough bytes yet.
fn sniff(client: bool, b: &[u8]) -> Option<Option<Protocol>> {
    if client {
        if agree(b, h2::PREFACE) {
            return (b.len() >= h2::PREFACE.len()).then_some(Some(Protocol::H2));
        }
        // a request line: a method of RFC 9110 §9 (or PATCH), a space
        let methods: [&[u8]; 9] = [
            b"GET ",
            b"HEAD ",
            b"POST ",
            b"PUT ",
            b"DELETE ",
            b"CONNECT ",
            b"OPTIONS ",
            b"TRACE ",
            b"PATCH ",
        ];
        let mut undecided = false;
        for m in methods {
            if agree(b, m) {
                if b.len() >= m.len() {
                    return Some(Some(Protocol::Http11));
                }
                undecided = true;
            }
        }
        return if undecided { None } else { Some(None) };
    }
    // a server speaks first only in HTTP/2 (its SETTINGS) or answers with
    // a status line
    if agree(b, b"HTTP/") {
        return (b.len() >= 5).then_some(Some(Protocol::Http11));
    }
    // a SETTINGS frame on stream 0
    match b {
        [_, _, _, kind, _, stream @ ..] if stream.len() >= 4 => {
            let settings = *kind == h2frame::kind::SETTINGS && stream.starts_with(&[0, 0, 0, 0]);
            Some(settings.then_some(Protocol::H2))
        }
        _ => None,
    }
}

/// True when `b` and `p` agree on their common length (one is a prefix of
/// the other).
fn agree(b: &[u8], p: &[u8]) -> bool {
    b.iter().zip(p).all(|(x, y)| x == y)
}

/// The client's or the server's entry of a per-direction pair.
pub(crate) fn side_of<T>(pair: &[T; 2], client: bool) -> &T {
    let [c, s] = pair;
    if client {
        c
    } else {
        s
    }
}

/// [`side_of`], mutably.
pub(crate) fn side_of_mut<T>(pair: &mut [T; 2], client: bool) -> &mut T {
    let [c, s] = pair;
    if client {
        c
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniff_decides_only_on_enough_bytes() {
        let h2 = Some(Some(Protocol::H2));
        let h1 = Some(Some(Protocol::Http11));
        let not_http = Some(None);
        // the client: the preface whole, or a method and its space
        assert_eq!(sniff(true, h2::PREFACE), h2);
        assert_eq!(sniff(true, &h2::PREFACE[..10]), None);
        assert_eq!(sniff(true, b"PRI * HTTP/1.0"), not_http);
        assert_eq!(sniff(true, b"GET / HTTP/1.1\r\n"), h1);
        assert_eq!(sniff(true, b"P"), None); // PRI, POST, PUT or PATCH
        assert_eq!(sniff(true, b"POS"), None);
        assert_eq!(sniff(true, b"POSX"), not_http);
        assert_eq!(sniff(true, b""), None);
        // the server: a status line, or a SETTINGS frame on stream 0 (its
        // 9-byte header whole)
        assert_eq!(sniff(false, b"HTTP/1.1 200"), h1);
        assert_eq!(sniff(false, b"HTT"), None);
        let settings = [0, 0, 6, h2frame::kind::SETTINGS, 0, 0, 0, 0, 0];
        assert_eq!(sniff(false, &settings), h2);
        assert_eq!(sniff(false, &settings[..8]), None);
        let mut on_stream_1 = settings;
        on_stream_1[8] = 1;
        assert_eq!(sniff(false, &on_stream_1), not_http);
        assert_eq!(
            sniff(false, b"\x16\x03\x03\x00\x10\x00\x00\x00\x00"),
            not_http
        );
    }

    #[test]
    fn alpn_names_the_protocol() {
        let r = HttpReader::new(Some("h2"));
        assert!(r.wants(Side::Client));
        assert!(HttpReader::new(Some("smtp")).facts().is_none());
        assert!(!HttpReader::new(Some("imap")).wants(Side::Server));
    }

    #[test]
    fn without_alpn_the_first_bytes_tell_at_every_split() {
        let cases: [(&[u8], Option<Protocol>); 3] = [
            (
                b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00",
                Some(Protocol::H2),
            ),
            (
                b"GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n",
                Some(Protocol::Http11),
            ),
            (b"EHLO mail.example.org\r\n", None),
        ];
        for (bytes, want) in cases {
            for split in 0..=bytes.len() {
                let mut r = HttpReader::new(None);
                let a = r.push(Side::Client, &bytes[..split], 1);
                let b = r.push(Side::Client, &bytes[split..], 2);
                assert_eq!(r.facts().map(|f| f.protocol), want, "split {split}");
                if want == Some(Protocol::Http11) {
                    assert!(a.request_started || b.request_started, "split {split}");
                    assert_eq!(r.facts().map(|f| f.requests), Some(1));
                }
            }
        }
    }

    #[test]
    fn a_server_speaking_first_tells_too() {
        let mut r = HttpReader::new(None);
        r.push(Side::Server, b"\x00\x00\x00\x04\x00\x00\x00\x00\x00", 1);
        assert_eq!(r.facts().map(|f| f.protocol), Some(Protocol::H2));
        let mut r = HttpReader::new(None);
        r.push(
            Side::Server,
            b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n",
            1,
        );
        r.push(Side::Server, b"Content-Length: 0\r\n\r\n", 2);
        let f = r.facts();
        assert_eq!(f.map(|f| f.protocol), Some(Protocol::Http11));
        assert_eq!(
            f.and_then(|f| f.announcement),
            Some(Announcement::ConnectionClose {
                by: Side::Server,
                frame: 2
            })
        );
    }

    #[test]
    fn the_first_goaway_counts_and_all_are_counted() {
        let mut r = HttpReader::new(Some("h2"));
        let goaway = |last: u32, code: u32| {
            let mut v = vec![0, 0, 8, 7, 0, 0, 0, 0, 0];
            v.extend_from_slice(&last.to_be_bytes());
            v.extend_from_slice(&code.to_be_bytes());
            v
        };
        r.push(Side::Server, &goaway(0x7fff_ffff, 0), 10);
        r.push(Side::Server, &goaway(1, 0), 11);
        r.push(Side::Client, h2::PREFACE, 12);
        r.push(Side::Client, &goaway(0, 2), 12);
        let f = r.facts();
        assert_eq!(f.map(|f| f.goaways), Some(3));
        assert_eq!(
            f.and_then(|f| f.announcement),
            Some(Announcement::Goaway {
                by: Side::Server,
                frame: 10,
                error_code: Some(0),
                last_stream_id: Some(0x7fff_ffff),
            })
        );
    }

    #[test]
    fn a_lost_record_stops_its_direction_only() {
        let mut r = HttpReader::new(Some("h2"));
        r.push(Side::Client, h2::PREFACE, 1);
        r.lost(Side::Client);
        assert!(!r.wants(Side::Client) && r.wants(Side::Server));
        let p = r.push(Side::Client, b"\x00\x00\x00\x01\x05\x00\x00\x00\x01", 2);
        assert!(!p.request_started && !p.read);
        assert_eq!(r.facts().and_then(|f| f.stopped), Some(Side::Client));
    }

    #[test]
    fn a_connection_close_request_is_announced_by_the_client() {
        let mut r = HttpReader::new(Some("http/1.1"));
        let p = r.push(
            Side::Client,
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Close\r\n\r\n",
            4,
        );
        assert!(p.request_started && p.read);
        r.push(
            Side::Server,
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            5,
        );
        let f = r.facts();
        assert_eq!(
            f.and_then(|f| f.announcement).map(|a| a.by()),
            Some(Side::Client)
        );
        assert_eq!(
            f.and_then(|f| f.last_response),
            Some(LastResponse::Complete)
        );
        assert_eq!(f.and_then(|f| f.outstanding), Some(0));
    }
}
