//! HTTP/1.1 messages from the two byte streams of a connection (RFC 9112):
//! each head read with `httparse` from a bounded buffer, each body counted
//! down (Content-Length) or followed chunk by chunk (chunked coding,
//! §7.1), never kept. What is read: where each request starts, the
//! `Connection: close` of a request or response, and whether each response
//! was complete.

use std::collections::VecDeque;

/// Longest head read (request or status line and header fields); a longer
/// one stops the reading of its direction.
pub const MAX_HEAD: usize = 32 * 1024;
/// Most header fields in a head.
const MAX_HEADERS: usize = 128;
/// Longest chunk-size or trailer line.
const MAX_CHUNK_LINE: usize = 1024;
/// Requests remembered while their responses have not begun (pipelining).
const MAX_PENDING: usize = 64;

/// How a body is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Body {
    Length(u64),
    Chunked(Chunked),
    /// A response without Content-Length or chunked coding: it ends with
    /// the connection.
    UntilClose,
}

/// Where the chunked decoder stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunked {
    /// Reading a chunk-size line (`len` bytes of it so far; `size` its
    /// hex digits read, `digits_done` once a non-digit was met).
    Size {
        size: u64,
        digits: u32,
        digits_done: bool,
        len: usize,
    },
    /// Chunk data still to pass over.
    Data(u64),
    /// The CRLF after chunk data.
    DataEnd,
    /// Trailer lines after the last chunk; `empty`: the line so far has
    /// nothing but CR.
    Trailer { empty: bool, len: usize },
}

impl Chunked {
    fn start() -> Chunked {
        Chunked::Size {
            size: 0,
            digits: 0,
            digits_done: false,
            len: 0,
        }
    }
}

/// A direction's reader.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Msg {
    /// Between messages, or inside a head (`buf` holds it so far).
    Head(Vec<u8>),
    Body(Body),
    /// The stream is no longer HTTP/1.1 (upgrade, CONNECT), or it could
    /// not be read (malformed, a head over [`MAX_HEAD`]).
    Stopped,
}

/// What the head of a request was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pending {
    head: bool,
    connect: bool,
}

/// What one push of a direction's bytes showed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct H1Pushed {
    /// A request began in these bytes.
    pub request_started: bool,
    /// A head with `Connection: close` completed in these bytes.
    pub connection_close: bool,
}

/// Both directions of an HTTP/1.1 connection.
#[derive(Debug, Clone)]
pub struct H1 {
    client: Msg,
    server: Msg,
    pending: VecDeque<Pending>,
    pub requests: u64,
    /// Final responses whose body ended.
    pub responses_complete: u64,
    /// A final response's head was read and its body has not ended.
    pub response_open: bool,
    /// That open response is delimited by the connection's end.
    pub response_until_close: bool,
    /// Some response's head was read.
    pub any_response: bool,
}

impl Default for H1 {
    fn default() -> Self {
        H1::new()
    }
}

impl H1 {
    pub fn new() -> H1 {
        H1 {
            client: Msg::Head(Vec::new()),
            server: Msg::Head(Vec::new()),
            pending: VecDeque::new(),
            requests: 0,
            responses_complete: 0,
            response_open: false,
            response_until_close: false,
            any_response: false,
        }
    }

    /// The direction is still read.
    pub fn reading(&self, client: bool) -> bool {
        let m = if client { &self.client } else { &self.server };
        *m != Msg::Stopped
    }

    /// Reads bytes of the client's (`client`) or the server's direction.
    pub fn push(&mut self, client: bool, mut data: &[u8]) -> H1Pushed {
        let mut out = H1Pushed::default();
        while !data.is_empty() {
            let msg = if client {
                &mut self.client
            } else {
                &mut self.server
            };
            match msg {
                Msg::Stopped => return out,
                Msg::Head(buf) => {
                    if buf.is_empty() {
                        // empty lines before a message are ignored (§2.2)
                        let skip = data.iter().take_while(|&&b| b == b'\r' || b == b'\n');
                        data = data.get(skip.count()..).unwrap_or_default();
                        if data.is_empty() {
                            return out;
                        }
                        if client {
                            out.request_started = true;
                        }
                    }
                    let old = buf.len();
                    let take = MAX_HEAD.saturating_sub(old).min(data.len());
                    let (head, rest) = data.split_at(take);
                    buf.extend_from_slice(head);
                    let parsed = if client {
                        parse_request(buf)
                    } else {
                        parse_response(buf)
                    };
                    match parsed {
                        Parsed::Partial if buf.len() >= MAX_HEAD => *msg = Msg::Stopped,
                        Parsed::Partial => data = rest,
                        Parsed::Bad => *msg = Msg::Stopped,
                        // the head ended in this piece: `r.len > old`
                        Parsed::Request(r) => {
                            data = data.get(r.len.saturating_sub(old)..).unwrap_or_default();
                            out.connection_close |= r.close;
                            self.request(r);
                        }
                        Parsed::Response(r) => {
                            data = data.get(r.len.saturating_sub(old)..).unwrap_or_default();
                            out.connection_close |= r.close;
                            self.response(r);
                        }
                    }
                }
                Msg::Body(body) => {
                    let (used, ended) = body_bytes(body, data);
                    data = data.get(used..).unwrap_or_default();
                    match ended {
                        Some(true) => {
                            *msg = Msg::Head(Vec::new());
                            if !client {
                                self.response_ended();
                            }
                        }
                        Some(false) => *msg = Msg::Stopped,
                        None => {}
                    }
                }
            }
        }
        out
    }

    fn request(&mut self, r: Head) {
        self.requests += 1;
        if self.pending.len() < MAX_PENDING {
            self.pending.push_back(Pending {
                head: r.method_head,
                connect: r.method_connect,
            });
        }
        self.client = match r.body {
            _ if r.method_connect => Msg::Stopped,
            Some(Body::UntilClose) | None => Msg::Head(Vec::new()),
            Some(b) => Msg::Body(b),
        };
    }

    fn response(&mut self, r: Head) {
        let status = r.status;
        if (100..200).contains(&status) {
            // 101: the connection is no longer HTTP/1.1; other 1xx are
            // interim, the final response follows
            self.server = if status == 101 {
                Msg::Stopped
            } else {
                Msg::Head(Vec::new())
            };
            if status == 101 {
                self.client = Msg::Stopped;
            }
            return;
        }
        self.any_response = true;
        let req = self.pending.pop_front();
        if req.is_some_and(|p| p.connect) && (200..300).contains(&status) {
            // a tunnel
            self.server = Msg::Stopped;
            self.client = Msg::Stopped;
            return;
        }
        let no_body = req.is_some_and(|p| p.head) || status == 204 || status == 304;
        let body = if no_body { None } else { r.body };
        match body {
            None | Some(Body::Length(0)) => {
                self.server = Msg::Head(Vec::new());
                self.response_open = true;
                self.response_ended();
            }
            Some(b) => {
                self.response_open = true;
                self.response_until_close = b == Body::UntilClose;
                self.server = Msg::Body(b);
            }
        }
    }

    fn response_ended(&mut self) {
        self.response_open = false;
        self.response_until_close = false;
        self.responses_complete += 1;
    }
}

/// A head read whole.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Head {
    /// Its length in bytes.
    len: usize,
    close: bool,
    /// How its body is delimited; `None`: no body.
    body: Option<Body>,
    method_head: bool,
    method_connect: bool,
    status: u16,
}

enum Parsed {
    Partial,
    Bad,
    Request(Head),
    Response(Head),
}

fn parse_request(buf: &[u8]) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(buf) {
        Ok(httparse::Status::Partial) => Parsed::Partial,
        Err(_) => Parsed::Bad,
        Ok(httparse::Status::Complete(len)) => {
            let method = req.method.unwrap_or("");
            let fields = Fields::of(req.headers);
            let body = match fields.framing() {
                Some(Ok(b)) => Some(b),
                Some(Err(())) => return Parsed::Bad,
                // a request without framing has no body (§6.3, 7)
                None => None,
            };
            Parsed::Request(Head {
                len,
                close: fields.close,
                body,
                method_head: method == "HEAD",
                method_connect: method == "CONNECT",
                status: 0,
            })
        }
    }
}

fn parse_response(buf: &[u8]) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(buf) {
        Ok(httparse::Status::Partial) => Parsed::Partial,
        Err(_) => Parsed::Bad,
        Ok(httparse::Status::Complete(len)) => {
            let fields = Fields::of(resp.headers);
            let body = match fields.framing() {
                Some(Ok(b)) => b,
                Some(Err(())) => return Parsed::Bad,
                None => Body::UntilClose,
            };
            Parsed::Response(Head {
                len,
                close: fields.close,
                body: Some(body),
                method_head: false,
                method_connect: false,
                status: resp.code.unwrap_or(0),
            })
        }
    }
}

/// The header fields that matter here.
#[derive(Debug, Default)]
struct Fields {
    close: bool,
    content_length: Option<Result<u64, ()>>,
    /// Transfer-Encoding was present; whether chunked is its last coding.
    chunked: Option<bool>,
}

impl Fields {
    fn of(headers: &[httparse::Header<'_>]) -> Fields {
        let mut f = Fields::default();
        for h in headers {
            let value = String::from_utf8_lossy(h.value);
            let tokens = || value.split(',').map(|t| t.trim().to_ascii_lowercase());
            if h.name.eq_ignore_ascii_case("connection") {
                f.close |= tokens().any(|t| t == "close");
            } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                f.chunked = Some(tokens().next_back().is_some_and(|t| t == "chunked"));
            } else if h.name.eq_ignore_ascii_case("content-length") {
                let n = value.trim().parse::<u64>().map_err(|_| ());
                // two different lengths are an error (§6.3, 5)
                f.content_length = match f.content_length {
                    Some(Ok(old)) if n != Ok(old) => Some(Err(())),
                    Some(Err(())) => Some(Err(())),
                    _ => Some(n),
                };
            }
        }
        f
    }

    /// The body's framing: Transfer-Encoding over Content-Length (§6.3);
    /// `None`: neither.
    fn framing(&self) -> Option<Result<Body, ()>> {
        match (self.chunked, self.content_length) {
            (Some(true), _) => Some(Ok(Body::Chunked(Chunked::start()))),
            (Some(false), _) => Some(Ok(Body::UntilClose)),
            (None, Some(Ok(n))) => Some(Ok(Body::Length(n))),
            (None, Some(Err(()))) => Some(Err(())),
            (None, None) => None,
        }
    }
}

/// Passes over body bytes: how many of `data` were used, and
/// `Some(true)` when the body ended, `Some(false)` when it is malformed.
fn body_bytes(body: &mut Body, data: &[u8]) -> (usize, Option<bool>) {
    match body {
        Body::UntilClose => (data.len(), None),
        Body::Length(n) => {
            let take = usize::try_from(*n).unwrap_or(usize::MAX).min(data.len());
            *n -= take as u64;
            (take, (*n == 0).then_some(true))
        }
        Body::Chunked(c) => chunked_bytes(c, data),
    }
}

fn chunked_bytes(c: &mut Chunked, data: &[u8]) -> (usize, Option<bool>) {
    let mut i = 0;
    while i < data.len() {
        match c {
            Chunked::Data(n) => {
                let take = usize::try_from(*n)
                    .unwrap_or(usize::MAX)
                    .min(data.len() - i);
                *n -= take as u64;
                i += take;
                if *n == 0 {
                    *c = Chunked::DataEnd;
                }
            }
            Chunked::DataEnd => {
                let Some(&b) = data.get(i) else { break };
                i += 1;
                match b {
                    b'\r' => {}
                    b'\n' => *c = Chunked::start(),
                    _ => return (i, Some(false)),
                }
            }
            Chunked::Size {
                size,
                digits,
                digits_done,
                len,
            } => {
                let Some(&b) = data.get(i) else { break };
                i += 1;
                *len += 1;
                if *len > MAX_CHUNK_LINE {
                    return (i, Some(false));
                }
                if b == b'\n' {
                    if *digits == 0 {
                        return (i, Some(false));
                    }
                    *c = if *size == 0 {
                        Chunked::Trailer {
                            empty: true,
                            len: 0,
                        }
                    } else {
                        Chunked::Data(*size)
                    };
                    continue;
                }
                match (char::from(b).to_digit(16), *digits_done) {
                    (Some(d), false) => {
                        *digits += 1;
                        if *digits > 16 {
                            return (i, Some(false));
                        }
                        *size = *size << 4 | u64::from(d);
                    }
                    // extensions, whitespace, CR: passed over
                    _ => *digits_done = true,
                }
            }
            Chunked::Trailer { empty, len } => {
                let Some(&b) = data.get(i) else { break };
                i += 1;
                *len += 1;
                if *len > MAX_CHUNK_LINE {
                    return (i, Some(false));
                }
                match b {
                    b'\n' if *empty => return (i, Some(true)),
                    b'\n' => {
                        *empty = true;
                        *len = 0;
                    }
                    b'\r' => {}
                    _ => *empty = false,
                }
            }
        }
    }
    (i, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pushes the client's then the server's bytes, each split at `split`.
    fn run(req: &[u8], resp: &[u8], split: usize) -> (H1, H1Pushed, H1Pushed) {
        let mut h = H1::new();
        let mut c = H1Pushed::default();
        let mut s = H1Pushed::default();
        for part in [&req[..split.min(req.len())], &req[split.min(req.len())..]] {
            let p = h.push(true, part);
            c.request_started |= p.request_started;
            c.connection_close |= p.connection_close;
        }
        for part in [
            &resp[..split.min(resp.len())],
            &resp[split.min(resp.len())..],
        ] {
            let p = h.push(false, part);
            s.connection_close |= p.connection_close;
        }
        (h, c, s)
    }

    const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";

    #[test]
    fn a_content_length_response_is_complete_at_every_split() {
        let resp = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";
        for split in 0..=resp.len() {
            let (h, c, s) = run(GET, resp, split);
            assert!(c.request_started && !c.connection_close, "split {split}");
            assert!(s.connection_close, "split {split}");
            assert_eq!((h.requests, h.responses_complete), (1, 1), "split {split}");
            assert!(!h.response_open, "split {split}");
        }
    }

    #[test]
    fn a_response_cut_short_is_open() {
        let resp = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello";
        let (h, _, _) = run(GET, resp, 3);
        assert!(h.response_open);
        assert!(!h.response_until_close);
        assert_eq!(h.responses_complete, 0);
    }

    #[test]
    fn a_chunked_response_ends_at_its_last_chunk_at_every_split() {
        let resp = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\nhello\r\n\
                     A\r\n0123456789\r\n0\r\nTrailer: t\r\n\r\n";
        for split in 0..=resp.len() {
            let (h, _, _) = run(GET, resp, split);
            assert_eq!(h.responses_complete, 1, "split {split}");
            assert!(!h.response_open, "split {split}");
        }
        // one byte short: not complete
        let (h, _, _) = run(GET, &resp[..resp.len() - 1], 7);
        assert!(h.response_open);
    }

    #[test]
    fn two_pipelined_requests_and_a_head_response() {
        let reqs = b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
        // the HEAD response's Content-Length announces no body here
        let resps = b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n\
                      HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n";
        for split in 0..=resps.len() {
            let (h, c, s) = run(reqs, resps, split);
            assert!(c.connection_close);
            assert!(!s.connection_close);
            assert_eq!((h.requests, h.responses_complete), (2, 2), "split {split}");
        }
    }

    #[test]
    fn a_response_without_length_lasts_until_the_close() {
        let (h, _, _) = run(GET, b"HTTP/1.0 200 OK\r\n\r\nsome bytes", 4);
        assert!(h.response_open && h.response_until_close);
    }

    #[test]
    fn a_request_body_is_passed_over_and_the_next_request_found() {
        let reqs = b"POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nGET GET / HTTP/1.1\r\n\r\n";
        let mut h = H1::new();
        let first = h.push(true, &reqs[..30]);
        assert!(first.request_started);
        let rest = h.push(true, &reqs[30..]);
        assert_eq!(h.requests, 2);
        assert!(
            rest.request_started,
            "the second request begins in the second push"
        );
        // body bytes alone start nothing
        let mut h = H1::new();
        h.push(true, b"POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\n");
        assert!(!h.push(true, b"GET ").request_started);
    }

    #[test]
    fn an_upgrade_or_garbage_stops_the_reading() {
        let mut h = H1::new();
        h.push(
            true,
            b"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
        );
        h.push(
            false,
            b"HTTP/1.1 101 Switching Protocols\r\n\r\n\x81\x05hello",
        );
        assert!(!h.reading(true) && !h.reading(false));
        let mut h = H1::new();
        h.push(false, b"\x16\x03\x01garbage\r\n\r\n");
        assert!(!h.reading(false));
        assert!(h.reading(true));
    }

    #[test]
    fn a_head_over_the_limit_stops_its_direction() {
        let mut h = H1::new();
        h.push(true, b"GET / HTTP/1.1\r\n");
        let line = b"X-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
        for _ in 0..(MAX_HEAD / line.len() + 1) {
            h.push(true, line);
        }
        assert!(!h.reading(true));
        assert_eq!(h.requests, 0);
    }

    #[test]
    fn malformed_chunks_stop_the_reading() {
        let mut h = H1::new();
        h.push(true, GET);
        h.push(
            false,
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        );
        assert!(!h.reading(false));
    }
}
