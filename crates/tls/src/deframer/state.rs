//! The deframer's state apart from its machine: the phases, the record
//! being read, and what only the search for sync needs ([`Search`], boxed
//! while the deframer looks for sync), with the accessors of the latter.
use super::{Deframer, DeframerConfig, HDR};
use crate::record::RecordHeader;
use crate::types::ProtocolVersion;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// StreamStart: looking for TLS in a plaintext preamble.
    Preamble,
    /// Looking for record-layer sync at every position.
    Scan,
    /// Reading records (possibly from a tentative candidate).
    Sync,
    /// No TLS found within the scan limit: everything is ignored.
    GaveUp,
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Kind {
    Tls(RecordHeader),
    /// An SSLv2-compatible ClientHello; counts down the message.
    Sslv2(ProtocolVersion),
}

/// The record whose body is being read. Its header's stream offset is
/// [`Deframer::rec_offset`].
#[derive(Debug, Clone, Copy)]
pub(super) struct Cur {
    pub(super) kind: Kind,
    /// Body bytes still to come (a record body is at most 2^14 + 2048
    /// bytes, an SSLv2 hello 2^15).
    pub(super) remaining: u32,
    /// Body bytes already passed (pushed, skipped or lost in a gap).
    pub(super) got: u32,
    pub(super) keep: bool,
    pub(super) damaged: bool,
}

/// A complete record from a tentative candidate, waiting for the header
/// after it. Its body (if kept) is in [`Candidate::held_body`].
#[derive(Debug, Clone, Copy)]
pub(super) struct Held<T> {
    pub(super) header: RecordHeader,
    pub(super) offset: u64,
    pub(super) has_body: bool,
    pub(super) damaged: bool,
    pub(super) tag: T,
}

/// Sync found at an unverified candidate (resynchronisation only), until
/// it is decided.
#[derive(Debug)]
pub(super) struct Candidate<T> {
    /// Stream offset of the candidate's header.
    pub(super) offset: u64,
    /// `scanned` at the candidate (to resume the budget if it fails).
    pub(super) scanned: u64,
    pub(super) held: Option<Held<T>>,
    pub(super) held_body: Vec<u8>,
}

/// What only a deframer that looks for sync needs (in a preamble, after a
/// loss of sync, from a tentative candidate): boxed while it looks, and
/// dropped once sync is found and verified. Most deframers find TLS in
/// their first bytes and never make one.
#[derive(Debug)]
pub(super) struct Search<T> {
    /// Undecided candidate bytes at the end of the last push (scan phases).
    pub(super) carry: [u8; HDR],
    pub(super) carry_len: u8,
    /// Where the LostSync was (while `Deframer::lost`).
    pub(super) lost_offset: u64,
    /// Positions passed while scanning (against `scan_limit`).
    pub(super) scanned: u64,
    /// Sync was found at an unverified candidate (tentative).
    pub(super) cand: Option<Candidate<T>>,
}

impl<T> Default for Search<T> {
    fn default() -> Self {
        Search {
            carry: [0; HDR],
            carry_len: 0,
            lost_offset: 0,
            scanned: 0,
            cand: None,
        }
    }
}

/// [`DeframerConfig`] as kept by each deframer: the keep limits compare
/// with record lengths (at most 2^16), so 32 bits hold them (a larger limit
/// is kept as `u32::MAX`, which no length reaches either).
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    pub(super) keep_body_max: u32,
    pub(super) keep_handshake_max: u32,
    pub(super) scan_limit: u64,
}

pub(super) fn limit(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl From<DeframerConfig> for Limits {
    fn from(c: DeframerConfig) -> Limits {
        Limits {
            keep_body_max: limit(c.keep_body_max),
            keep_handshake_max: limit(c.keep_handshake_max),
            scan_limit: c.scan_limit,
        }
    }
}

impl<T> Deframer<T> {
    pub(super) fn search(&mut self) -> &mut Search<T> {
        self.search.get_or_insert_with(Box::default)
    }

    pub(super) fn scanned(&self) -> u64 {
        self.search.as_ref().map_or(0, |s| s.scanned)
    }

    pub(super) fn set_scanned(&mut self, n: u64) {
        if n != 0 || self.search.is_some() {
            self.search().scanned = n;
        }
    }

    pub(super) fn clear_carry(&mut self) {
        if let Some(s) = self.search.as_deref_mut() {
            s.carry_len = 0;
        }
    }

    pub(super) fn cand(&self) -> Option<&Candidate<T>> {
        self.search.as_deref().and_then(|s| s.cand.as_ref())
    }

    pub(super) fn cand_mut(&mut self) -> Option<&mut Candidate<T>> {
        self.search.as_deref_mut().and_then(|s| s.cand.as_mut())
    }

    /// Sync was found at an unverified candidate.
    pub(super) fn tentative(&self) -> bool {
        self.cand().is_some()
    }

    pub(super) fn drop_cand(&mut self) {
        if let Some(s) = self.search.as_deref_mut() {
            s.cand = None;
        }
    }

    /// Sync is found and verified: what the search kept is dead (no carry
    /// in sync, no candidate, a loss restarts the budget, and where sync
    /// was lost matters only until the Resync).
    pub(super) fn searched(&mut self) {
        if !self.lost && !self.tentative() {
            self.search = None;
        }
    }
}
