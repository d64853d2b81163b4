//! Per-direction record deframer: bytes and gaps in, records out.
//!
//! One [`Deframer`] follows one direction of a TCP connection. The
//! reassembler feeds it the in-order bytes ([`Deframer::push`], usually one
//! segment's payload, tagged with the caller's frame number and time) and
//! the holes ([`Deframer::gap`]); records and other events go to a sink.
//!
//! # Finding where TLS starts
//!
//! * [`StartMode::StreamStart`]: TLS starts at offset 0 when the stream opens
//!   with a handshake record header (type 22, version 3.0–3.4, length
//!   1..=[`MAX_RECORD_LEN`]) whose first body byte is client_hello or
//!   server_hello (the test waits for that byte, so a header alone in its
//!   segment decides nothing), with an SSLv2-format ClientHello (SSL 2.0
//!   itself, version 0x0002, or the SSLv2-compatible hello of RFC 5246
//!   appendix E.2), or with a plaintext alert record (type 21,
//!   length 2, level 1 or 2: a server refusing the ClientHello). Otherwise the
//!   stream is taken as a plaintext protocol first (STARTTLS): the same test
//!   runs at the start of every pushed chunk and right after every `\n`,
//!   for at most `scan_limit` bytes, after which [`DeframeEvent::GaveUp`].
//! * [`StartMode::MidStream`] and after [`DeframeEvent::LostSync`]: record
//!   headers are looked for at every position (see *Resynchronisation*).
//!
//! # In sync
//!
//! Headers are read one after the other; a header that is not
//! [`plausible`] ends sync ([`DeframeEvent::LostSync`]). Record bodies are
//! kept (see [`DeframerConfig`]) or counted down without copying. A kept
//! body lying entirely inside one push is lent straight from the pushed
//! slice; one that spans pushes is copied into a buffer bounded by the keep
//! limits.
//!
//! # Gaps
//!
//! A gap inside a record body keeps sync: the record is reported with
//! `damaged: true` and no body. A gap over (part of) a header, or before TLS
//! was found, loses sync (one `LostSync` until sync is found again).
//!
//! # Resynchronisation
//!
//! Every position whose 5 bytes form a plausible header of length ≥ 1 is a
//! candidate. A candidate is *verified* when it is a handshake record holding
//! a hello, when the header after its record is available and plausible, or
//! when it starts a pushed chunk and its record ends exactly at the chunk's
//! end. A candidate whose successor header is not available yet is
//! *tentative*: the deframer parses on from it but holds its record back
//! until the next header shows up. A plausible next header confirms it
//! (`Resync`, then the held record, then sync goes on); an implausible one
//! drops it silently and scanning resumes right after the failed header's
//! first byte. The end of the stream ([`Deframer::finish`]) or a gap right
//! after the held record releases it. `TlsStart` (the first time) and
//! `Resync` (after a `LostSync`) are emitted just before the first record of
//! the new sync, so a dropped candidate leaves no trace. The first sync of a
//! `MidStream` deframer gives `TlsStart` only (its offset is the number of
//! bytes skipped).
//!
//! # Memory
//!
//! Besides a few header bytes, the deframer holds at most one kept body
//! (current or held back), so its buffers never exceed
//! `max(keep_body_max, keep_handshake_max)` plus 9 bytes, whatever the
//! stream length. The deframer itself is 96 bytes (one lives in each
//! direction of every live flow): what only the search for sync needs (the
//! carried bytes, the scan budget, a tentative candidate with its held
//! record) is boxed while sync is looked for, and dropped once it is found
//! and verified (most streams: in their first bytes, with no box at all).
//!
//! # Code layout
//!
//! This file is the state machine (phases, records, gaps, the held
//! candidate); `state.rs` holds the state it works on (the record being
//! read, the boxed search state and its accessors); `interface.rs` holds
//! the start mode, the configuration and the events it emits; `probe.rs`
//! holds the tests it runs at candidate positions (start of TLS,
//! resynchronisation, where to look next).
use crate::record::header_prefix_ok;
#[cfg(doc)]
use crate::record::MAX_RECORD_LEN;
use crate::types::ContentType;

#[cfg(doc)]
use crate::record::plausible;

mod interface;
mod probe;
mod state;

pub use interface::{DeframeEvent, DeframerConfig, Record, StartMode};

use probe::{
    header_of, next_line_candidate, next_record_candidate, probe_resync, probe_start, Probe, Window,
};
use state::{limit, Candidate, Cur, Held, Kind, Limits, Phase, Search};

/// Bytes of a record header.
const HDR: usize = crate::record::RECORD_HEADER_LEN;

/// See the module docs. Compact (one lives in every flow direction): what
/// only the search for sync needs is boxed (`Search`, while it looks).
#[derive(Debug)]
pub struct Deframer<T> {
    config: Limits,
    want_handshake: bool,
    phase: Phase,
    tls_started: bool,
    /// A LostSync was emitted and no Resync since.
    lost: bool,
    /// Header bytes read so far (sync phase).
    hdr: [u8; HDR],
    hdr_fill: u8,
    /// Stream offset of the next byte (pushed + gaps).
    offset: u64,
    /// Stream offset of the header being read, or of the record whose body
    /// is being read (`cur`).
    rec_offset: u64,
    cur: Option<Cur>,
    /// A kept body that spans pushes.
    body_buf: Vec<u8>,
    /// While sync is looked for, or tentative.
    search: Option<Box<Search<T>>>,
}

impl<T: Copy> Deframer<T> {
    pub fn new(mode: StartMode, config: DeframerConfig) -> Self {
        Deframer {
            config: config.into(),
            want_handshake: true,
            phase: match mode {
                StartMode::StreamStart => Phase::Preamble,
                StartMode::MidStream => Phase::Scan,
            },
            tls_started: false,
            lost: false,
            hdr: [0; HDR],
            hdr_fill: 0,
            offset: 0,
            rec_offset: 0,
            cur: None,
            body_buf: Vec::new(),
            search: None,
        }
    }

    /// Feeds the next in-order bytes of the stream.
    pub fn push(&mut self, data: &[u8], tag: T, sink: &mut dyn FnMut(DeframeEvent<'_, T>)) {
        let base = self.offset;
        self.offset = base.saturating_add(data.len() as u64);
        let mut pos = 0usize;
        loop {
            match self.phase {
                Phase::GaveUp => return,
                Phase::Preamble | Phase::Scan => match self.scan(data, pos, base, tag, sink) {
                    Some(p) => pos = p,
                    None => return,
                },
                Phase::Sync => {
                    if pos >= data.len() {
                        return;
                    }
                    pos = self.sync(data, pos, base, tag, sink);
                }
            }
        }
    }

    /// `len` bytes of the stream are missing (never captured). A record
    /// whose body ends inside the gap is reported (damaged) with `tag`.
    pub fn gap(&mut self, len: u64, tag: T, sink: &mut dyn FnMut(DeframeEvent<'_, T>)) {
        if len == 0 {
            return;
        }
        let start = self.offset;
        self.offset = start.saturating_add(len);
        if self.phase == Phase::Preamble {
            self.start_before_gap(start, tag, sink);
        }
        match self.phase {
            Phase::GaveUp => {}
            Phase::Preamble => self.lose(start, sink),
            Phase::Scan => {
                self.clear_carry();
                self.mark_lost(start, sink);
            }
            Phase::Sync => {
                if let Some(mut cur) = self.cur {
                    self.body_buf.clear();
                    cur.damaged = true;
                    cur.keep = false;
                    let rem = u64::from(cur.remaining);
                    if len < rem {
                        // len < remaining: fits in u32
                        let len = len as u32;
                        cur.remaining -= len;
                        cur.got = cur.got.saturating_add(len);
                        self.cur = Some(cur);
                        return;
                    }
                    self.cur = None;
                    let end = start.saturating_add(rem);
                    if len > rem && self.tentative() {
                        // An unverified record whose end fell into a hole:
                        // no evidence left for it.
                        self.drop_cand();
                        self.mark_lost(start, sink);
                        self.enter_scan();
                        return;
                    }
                    cur.got = cur.got.saturating_add(cur.remaining);
                    cur.remaining = 0;
                    self.complete(cur, None, tag, sink);
                    if len > rem {
                        self.lose(end, sink);
                    }
                } else {
                    let at = if self.hdr_fill > 0 {
                        self.rec_offset
                    } else {
                        start
                    };
                    self.hdr_fill = 0;
                    // The stream broke right after the held record: evidence
                    // enough for it.
                    self.release_held(sink);
                    self.lose(at, sink);
                }
            }
        }
    }

    /// A hole right after a start-of-TLS header that waits for its first
    /// body byte: the header is all the evidence there will be, so it
    /// decides (the hole then falls inside that record's body).
    fn start_before_gap(&mut self, start: u64, tag: T, sink: &mut dyn FnMut(DeframeEvent<'_, T>)) {
        let Some(carry) = self
            .search
            .as_deref()
            .filter(|s| usize::from(s.carry_len) == HDR)
            .map(|s| s.carry)
        else {
            return;
        };
        let win = Window {
            carry: &carry,
            data: &[],
        };
        if let Probe::Record { header, .. } = probe_start(&win, 0, true) {
            let hdr_off = start.saturating_sub(HDR as u64);
            self.clear_carry();
            self.phase = Phase::Sync;
            self.hdr_fill = 0;
            self.drop_cand();
            self.sync_found(hdr_off, sink);
            self.searched();
            self.begin_record(Kind::Tls(header), hdr_off, header.length.into(), tag, sink);
        }
    }

    /// Advances over `len` bytes the caller did not copy because they lie in
    /// [`Deframer::skippable`]; a record completed by them carries `tag`.
    /// Bytes beyond `skippable()` are treated as a [`Deframer::gap`].
    pub fn skip(&mut self, len: u64, tag: T, sink: &mut dyn FnMut(DeframeEvent<'_, T>)) {
        let n = len.min(self.skippable());
        if n > 0 {
            if let Some(mut cur) = self.cur {
                self.offset = self.offset.saturating_add(n);
                // n <= skippable() = remaining: fits in u32
                let n = n as u32;
                cur.remaining -= n;
                cur.got = cur.got.saturating_add(n);
                if cur.remaining == 0 {
                    self.cur = None;
                    self.complete(cur, None, tag, sink);
                } else {
                    self.cur = Some(cur);
                }
            }
        }
        if len > n {
            self.gap(len - n, tag, sink);
        }
    }

    /// The stream ended (FIN, RST or end of capture): release any record
    /// held back for verification.
    pub fn finish(&mut self, sink: &mut dyn FnMut(DeframeEvent<'_, T>)) {
        if self.phase == Phase::Sync {
            if self.cand().is_some_and(|c| c.held.is_some()) {
                self.release_held(sink);
            } else if self.tentative() {
                // A tentative record cut short by the end: drop it.
                self.drop_cand();
                self.cur = None;
                self.body_buf.clear();
                self.enter_scan();
            }
        }
        self.clear_carry();
    }

    /// Stop keeping handshake bodies (the hellos were read).
    pub fn set_want_handshake(&mut self, want: bool) {
        self.want_handshake = want;
        if !want {
            let small = self.config.keep_body_max as usize;
            self.body_buf.shrink_to(small);
            if let Some(c) = self.cand_mut() {
                c.held_body.shrink_to(small);
            }
        }
    }

    /// Changes [`DeframerConfig::keep_body_max`] for the records whose
    /// header comes after this call (e.g. raised once keys are known for
    /// the connection, so that encrypted bodies reach a decrypter).
    pub fn set_keep_body_max(&mut self, max: usize) {
        self.config.keep_body_max = limit(max);
    }

    /// Stops keeping the body being read and the one held back (memory is
    /// short): their records are reported without a body.
    pub fn drop_kept_bodies(&mut self) {
        if let Some(cur) = self.cur.as_mut() {
            cur.keep = false;
        }
        if let Some(c) = self.cand_mut() {
            if let Some(h) = c.held.as_mut() {
                h.has_body = false;
            }
            c.held_body = Vec::new();
        }
        self.body_buf = Vec::new();
    }

    /// Bytes pushed so far (the stream offset of the next byte).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// True once TLS was found in this direction.
    pub fn is_tls(&self) -> bool {
        self.tls_started
    }

    /// True once the deframer gave up looking for TLS: it ignores the rest
    /// of the stream.
    pub fn gave_up(&self) -> bool {
        self.phase == Phase::GaveUp
    }

    /// True while the record layer is in sync (records are being read).
    pub fn in_sync(&self) -> bool {
        self.phase == Phase::Sync && !self.tentative()
    }

    /// Bytes the deframer will skip without looking at them (the rest of a
    /// record body it does not keep). Lets the reassembler avoid copying.
    pub fn skippable(&self) -> u64 {
        match (self.phase, self.cur) {
            (Phase::Sync, Some(cur)) if !cur.keep => u64::from(cur.remaining),
            _ => 0,
        }
    }

    /// Bytes held in internal buffers (carried candidate bytes, a partial
    /// header, a kept body spanning pushes, a record held back for
    /// verification). Bounded by the keep limits plus 9.
    pub fn buffered(&self) -> usize {
        let search = self.search.as_deref();
        search.map_or(0, |s| usize::from(s.carry_len))
            + usize::from(self.hdr_fill)
            + self.body_buf.len()
            + self.cand().map_or(0, |c| c.held_body.len())
    }

    // ---- scanning ------------------------------------------------------

    /// Scans `carry ++ data[p0..]` for the start of TLS / a record header.
    /// Returns the position in `data` where sync parsing goes on, or None
    /// when the whole push was used up.
    fn scan(
        &mut self,
        data: &[u8],
        p0: usize,
        base: u64,
        tag: T,
        sink: &mut dyn FnMut(DeframeEvent<'_, T>),
    ) -> Option<usize> {
        let (carry, clen) = self.search.as_deref().map_or(([0; HDR], 0), |s| {
            (s.carry, usize::from(s.carry_len).min(HDR))
        });
        let win = Window {
            carry: carry.get(..clen).unwrap_or(&[]),
            data: data.get(p0..).unwrap_or(&[]),
        };
        let wlen = win.len();
        let win_off = base.saturating_add(p0 as u64).saturating_sub(clen as u64);
        let chunk_start = (p0 == 0).then_some(clen);
        let preamble = self.phase == Phase::Preamble;
        let mut i = 0usize;
        loop {
            let cand = if preamble {
                next_line_candidate(&win, i, chunk_start)
            } else {
                next_record_candidate(&win, i)
            };
            let budget = self.config.scan_limit.saturating_sub(self.scanned());
            if cand.unwrap_or(wlen) as u64 >= budget {
                self.give_up(win_off.saturating_add(budget), sink);
                return None;
            }
            let Some(c) = cand else {
                self.set_scanned(self.scanned().saturating_add(wlen as u64));
                self.clear_carry();
                return None;
            };
            let probe = if preamble {
                probe_start(&win, c, false)
            } else {
                probe_resync(&win, c, chunk_start)
            };
            let hdr_off = win_off.saturating_add(c as u64);
            let resume = p0 + (c + HDR).saturating_sub(clen);
            match probe {
                Probe::No => i = c + 1,
                Probe::NeedMore => {
                    let (rest, n) = win.bytes::<HDR>(c);
                    let s = self.search();
                    s.carry = rest;
                    // n <= HDR
                    s.carry_len = n as u8;
                    s.scanned = s.scanned.saturating_add(c as u64);
                    return None;
                }
                Probe::Record { header, verified } => {
                    self.clear_carry();
                    self.phase = Phase::Sync;
                    self.hdr_fill = 0;
                    if verified {
                        self.drop_cand();
                        self.sync_found(hdr_off, sink);
                        self.searched();
                    } else {
                        let scanned = self.scanned().saturating_add(c as u64);
                        self.search().cand = Some(Candidate {
                            offset: hdr_off,
                            scanned,
                            held: None,
                            held_body: Vec::new(),
                        });
                    }
                    self.begin_record(Kind::Tls(header), hdr_off, header.length.into(), tag, sink);
                    return Some(resume);
                }
                Probe::Sslv2 { len, version } => {
                    self.clear_carry();
                    self.phase = Phase::Sync;
                    self.hdr_fill = 0;
                    self.drop_cand();
                    self.sync_found(hdr_off, sink);
                    self.searched();
                    // msg_type and version (3 of the `len` bytes) are read.
                    let rest = u32::try_from(len.saturating_sub(3)).unwrap_or(u32::MAX);
                    self.begin_record(Kind::Sslv2(version), hdr_off, rest, tag, sink);
                    return Some(resume);
                }
            }
        }
    }

    fn give_up(&mut self, at: u64, sink: &mut dyn FnMut(DeframeEvent<'_, T>)) {
        sink(DeframeEvent::GaveUp { offset: at });
        self.phase = Phase::GaveUp;
        self.hdr_fill = 0;
        self.cur = None;
        // nothing is looked for any more
        self.search = None;
        self.body_buf = Vec::new();
    }

    /// Emits `TlsStart` (first time) and `Resync` (after a LostSync) for
    /// sync found at `offset`.
    fn sync_found(&mut self, offset: u64, sink: &mut dyn FnMut(DeframeEvent<'_, T>)) {
        if !self.tls_started {
            self.tls_started = true;
            sink(DeframeEvent::TlsStart { offset });
        }
        if self.lost {
            self.lost = false;
            sink(DeframeEvent::Resync {
                offset,
                skipped: offset.saturating_sub(self.search.as_ref().map_or(0, |s| s.lost_offset)),
            });
        }
    }

    /// Emits `LostSync` unless already lost.
    fn mark_lost(&mut self, at: u64, sink: &mut dyn FnMut(DeframeEvent<'_, T>)) {
        if !self.lost {
            self.lost = true;
            self.search().lost_offset = at;
            sink(DeframeEvent::LostSync { offset: at });
        }
    }

    fn enter_scan(&mut self) {
        self.phase = Phase::Scan;
        self.clear_carry();
        self.hdr_fill = 0;
        self.cur = None;
        self.drop_cand();
        self.body_buf.clear();
    }

    /// Sync lost at `at`: scan for it again with a fresh budget.
    fn lose(&mut self, at: u64, sink: &mut dyn FnMut(DeframeEvent<'_, T>)) {
        self.mark_lost(at, sink);
        self.enter_scan();
        self.set_scanned(0);
    }

    // ---- records -------------------------------------------------------

    fn begin_record(
        &mut self,
        kind: Kind,
        offset: u64,
        body_len: u32,
        tag: T,
        sink: &mut dyn FnMut(DeframeEvent<'_, T>),
    ) {
        let keep = match kind {
            Kind::Tls(h) => {
                let len = u32::from(h.length);
                len <= self.config.keep_body_max
                    || (h.content_type == ContentType::HANDSHAKE
                        && self.want_handshake
                        && len <= self.config.keep_handshake_max)
            }
            Kind::Sslv2(_) => false,
        };
        self.rec_offset = offset;
        let cur = Cur {
            kind,
            remaining: body_len,
            got: 0,
            keep,
            damaged: false,
        };
        self.body_buf.clear();
        if body_len == 0 {
            self.cur = None;
            self.complete(cur, Some(&[]), tag, sink);
        } else {
            self.cur = Some(cur);
        }
    }

    /// Reads headers and bodies from `data[pos..]` while in sync.
    fn sync(
        &mut self,
        data: &[u8],
        mut pos: usize,
        base: u64,
        tag: T,
        sink: &mut dyn FnMut(DeframeEvent<'_, T>),
    ) -> usize {
        while self.phase == Phase::Sync {
            let avail = data.len().saturating_sub(pos);
            if avail == 0 {
                break;
            }
            if let Some(mut cur) = self.cur {
                let n = (cur.remaining as usize).min(avail);
                let chunk = data.get(pos..pos + n).unwrap_or(&[]);
                pos += n;
                // n <= remaining: fits in u32
                let n = n as u32;
                if cur.keep && cur.got == 0 && n == cur.remaining {
                    // The whole body is in this push: lend it, no copy.
                    self.cur = None;
                    cur.got = n;
                    cur.remaining = 0;
                    self.complete(cur, Some(chunk), tag, sink);
                    continue;
                }
                if cur.keep {
                    self.body_buf.extend_from_slice(chunk);
                }
                cur.got += n;
                cur.remaining -= n;
                if cur.remaining == 0 {
                    self.cur = None;
                    self.complete(cur, None, tag, sink);
                } else {
                    self.cur = Some(cur);
                }
            } else {
                let fill = usize::from(self.hdr_fill).min(HDR);
                if fill == 0 {
                    self.rec_offset = base.saturating_add(pos as u64);
                }
                let n = (HDR - fill).min(avail);
                if let (Some(dst), Some(src)) =
                    (self.hdr.get_mut(fill..fill + n), data.get(pos..pos + n))
                {
                    dst.copy_from_slice(src);
                }
                // fill + n <= HDR
                self.hdr_fill = (fill + n) as u8;
                pos += n;
                self.header_progress(tag, sink);
            }
        }
        pos
    }

    /// Judges the header bytes read so far.
    fn header_progress(&mut self, tag: T, sink: &mut dyn FnMut(DeframeEvent<'_, T>)) {
        let fill = usize::from(self.hdr_fill).min(HDR);
        let bytes = self.hdr;
        let got = bytes.get(..fill).unwrap_or(&[]);
        if !header_prefix_ok(got) {
            self.hdr_fill = 0;
            if let Some(c) = self.cand().filter(|c| c.held.is_some()) {
                // The record after the candidate's is no record: the
                // candidate was random bytes. Drop it without a trace.
                let passed = self.rec_offset.saturating_add(1).saturating_sub(c.offset);
                let scanned = c.scanned.saturating_add(passed);
                self.enter_scan();
                self.set_scanned(scanned);
            } else {
                self.lose(self.rec_offset, sink);
                // the failed header's first position is passed
                self.set_scanned(1);
            }
            // Scanning resumes right after the failed header's first byte.
            let rest = got.get(1..).unwrap_or(&[]);
            let s = self.search();
            let n = rest.len().min(s.carry.len());
            if let (Some(dst), Some(src)) = (s.carry.get_mut(..n), rest.get(..n)) {
                dst.copy_from_slice(src);
            }
            // n <= HDR
            s.carry_len = n as u8;
            return;
        }
        if fill < HDR {
            return;
        }
        self.hdr_fill = 0;
        let Some(header) = header_of(&bytes) else {
            return;
        };
        // A plausible header after a held record confirms it.
        self.release_held(sink);
        let offset = self.rec_offset;
        self.begin_record(Kind::Tls(header), offset, header.length.into(), tag, sink);
    }

    /// A record is complete: emit it, or hold it back when tentative.
    /// `lent` is the whole body when it lay in one push.
    fn complete(
        &mut self,
        cur: Cur,
        lent: Option<&[u8]>,
        tag: T,
        sink: &mut dyn FnMut(DeframeEvent<'_, T>),
    ) {
        match cur.kind {
            Kind::Sslv2(version) => sink(DeframeEvent::Sslv2ClientHello {
                offset: self.rec_offset,
                version,
                tag,
            }),
            Kind::Tls(header) => {
                let keep = cur.keep && !cur.damaged;
                if let Some(c) = self.search.as_deref_mut().and_then(|s| s.cand.as_mut()) {
                    c.held_body.clear();
                    if keep {
                        match lent {
                            Some(b) => c.held_body.extend_from_slice(b),
                            None => std::mem::swap(&mut c.held_body, &mut self.body_buf),
                        }
                    }
                    c.held = Some(Held {
                        header,
                        offset: self.rec_offset,
                        has_body: keep,
                        damaged: cur.damaged,
                        tag,
                    });
                } else {
                    let body = if keep {
                        Some(lent.unwrap_or(self.body_buf.as_slice()))
                    } else {
                        None
                    };
                    sink(DeframeEvent::Record(Record {
                        header,
                        offset: self.rec_offset,
                        body,
                        damaged: cur.damaged,
                        tag,
                    }));
                }
            }
        }
        self.body_buf.clear();
    }

    /// Emits the held record (confirmed or released) and ends the tentative
    /// state.
    fn release_held(&mut self, sink: &mut dyn FnMut(DeframeEvent<'_, T>)) {
        let Some(c) = self.search.as_deref_mut().and_then(|s| s.cand.take()) else {
            return;
        };
        if let Some(h) = c.held {
            self.sync_found(h.offset, sink);
            let body = if h.has_body {
                Some(c.held_body.as_slice())
            } else {
                None
            };
            sink(DeframeEvent::Record(Record {
                header: h.header,
                offset: h.offset,
                body,
                damaged: h.damaged,
                tag: h.tag,
            }));
        }
        self.searched();
    }
}
