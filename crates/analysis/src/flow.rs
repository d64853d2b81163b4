//! Per-flow state: a record deframer per direction and the bounded facts
//! the verdict is computed from.
//!
//! Laid out for the many live flows of a busy capture: one allocation per
//! flow (the flow table's box holds the [`FlowState`] inline), sized for
//! the common case. The deframers sit beside the facts, not in boxes of
//! their own: their events update the facts while they read (the borrow is
//! split, nothing is taken out and put back). What every flow of a run
//! shares (limits, deframer settings, the key store) is one pointer; what
//! few flows need (alert lists, a hello split over records, decryption) is
//! in one box made on first need ([`Rare`]). No allocation per packet:
//! names from the hellos are kept inline when short, and report strings
//! are made when the flow's line is written.

mod events;
mod facts;

use crate::keyed::{KeyStore, KeyedFlow};
use crate::report::KeyNote;
pub(crate) use facts::{AlertBody, DirFacts, DirView, HelloFacts, LateRecord, Rare, RecentRecord};
use std::sync::Arc;
use tlsclose_capture::Segment;
use tlsclose_tcp::{Dir, SegMeta, StreamConsumer};
use tlsclose_tls::{Deframer, DeframerConfig, HelloLimits, StartMode};

/// Most alerts kept per direction by default; more are counted, not kept.
pub const MAX_ALERTS: usize = 32;

/// What one flow keeps at most (hostile traffic may send thousands of
/// alerts or a hello with 64 KiB names); what is beyond is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowLimits {
    /// Alerts kept per direction.
    pub max_alerts: usize,
    /// Names kept from the hellos (SNI, ALPN).
    pub hello: HelloLimits,
}

impl Default for FlowLimits {
    fn default() -> Self {
        FlowLimits {
            max_alerts: MAX_ALERTS,
            hello: HelloLimits::default(),
        }
    }
}

/// What every flow of an analyzer shares: made once, one pointer per flow.
#[derive(Debug, Clone, Default)]
pub(crate) struct FlowSettings {
    pub deframer: DeframerConfig,
    pub limits: FlowLimits,
    /// The run's secrets; None when no keys were given (then nothing of
    /// decryption runs).
    pub keys: Option<KeyStore>,
}

/// The per-flow state machine (see the crate docs).
#[derive(Debug)]
pub struct FlowState {
    /// Made at a direction's first bytes (where its stream starts is
    /// known then).
    deframers: [Option<Deframer<SegMeta>>; 2],
    pub(crate) facts: FlowFacts,
}

/// Everything of a flow but its deframers: what their events update.
#[derive(Debug)]
pub(crate) struct FlowFacts {
    pub dirs: [DirFacts; 2],
    pub hello: HelloFacts,
    /// Direction of the first SYN without ACK.
    pub syn_dir: Option<Dir>,
    pub truncated: bool,
    /// A hello's SNI or ALPN was longer than the limits: what is kept was cut.
    pub names_cut: bool,
    /// The limit on bytes held over all flows made this flow drop its
    /// partial hello and record bodies.
    pub buffers_shed: bool,
    settings: Arc<FlowSettings>,
    /// What few flows need; None until one of them is needed.
    rare: Option<Box<Rare>>,
}

impl FlowFacts {
    pub fn rare(&self) -> Option<&Rare> {
        self.rare.as_deref()
    }

    /// The rare part, made on first need.
    fn rare_mut(&mut self) -> &mut Rare {
        self.rare.get_or_insert_with(Box::default)
    }

    /// Decryption of this flow (None when no keys were given, or before
    /// the hellos said whether they serve it).
    pub fn keyed(&self) -> Option<&KeyedFlow> {
        self.rare().and_then(|r| r.keyed.as_deref())
    }

    fn keyed_mut(&mut self) -> Option<&mut KeyedFlow> {
        self.rare
            .as_deref_mut()
            .and_then(|r| r.keyed.as_deref_mut())
    }

    /// A direction's facts, the common and the rare.
    pub fn view(&self, dir: Dir) -> DirView<'_> {
        DirView::new(dir.of(&self.dirs), self.rare().map(|r| dir.of(&r.dirs)))
    }

    /// Alerts counted and not kept, over both directions.
    pub fn alerts_dropped(&self) -> u64 {
        self.rare()
            .map_or(0, |r| r.dirs.iter().map(|d| d.alerts_dropped).sum())
    }

    /// Largest record body kept: as configured, or raised for a flow with
    /// keys.
    fn keep_body_max(&self) -> usize {
        self.rare()
            .and_then(|r| r.keep_body_max)
            .unwrap_or(self.settings.deframer.keep_body_max)
    }

    /// Keep whole record bodies from now on (keys were found for this
    /// flow), or go back to the configured limit. The deframers take it up
    /// at their next bytes ([`FlowState::with_deframer`]): until then they
    /// read nothing.
    fn keep_bodies(&mut self, keep: Option<usize>) {
        let configured = self.settings.deframer.keep_body_max;
        let max = keep.map_or(configured, |k| k.max(configured));
        self.rare_mut().keep_body_max = Some(max);
    }

    /// Why keys that were given did not serve this flow although its hellos
    /// were never read (a capture cut short, a snapshot length): a note.
    pub(crate) fn keys_unused(&self) -> Option<KeyNote> {
        match (&self.settings.keys, self.keyed()) {
            (Some(keys), None) if !keys.is_empty() && !self.hello.server_hello_keyed => {
                Some(KeyNote::HellosNotRead)
            }
            _ => None,
        }
    }

    /// True when either direction carried TLS records.
    pub fn is_tls(&self) -> bool {
        self.dirs
            .iter()
            .any(|d| d.tls && (d.records > 0 || d.sslv2_hello))
    }
}

impl FlowState {
    pub(crate) fn new(settings: Arc<FlowSettings>) -> Self {
        FlowState {
            deframers: [None, None],
            facts: FlowFacts {
                dirs: Default::default(),
                hello: HelloFacts::default(),
                syn_dir: None,
                truncated: false,
                names_cut: false,
                buffers_shed: false,
                settings,
                rare: None,
            },
        }
    }

    /// True when either direction carried TLS records.
    pub fn is_tls(&self) -> bool {
        self.facts.is_tls()
    }

    /// Runs `f` with the direction's deframer and the facts its events
    /// update.
    fn with_deframer(
        &mut self,
        dir: Dir,
        stream_start_known: bool,
        f: impl FnOnce(&mut Deframer<SegMeta>, &mut FlowFacts),
    ) {
        let facts = &mut self.facts;
        let keep = facts.keep_body_max();
        let df = dir.of_mut(&mut self.deframers).get_or_insert_with(|| {
            let mode = if stream_start_known {
                StartMode::StreamStart
            } else {
                StartMode::MidStream
            };
            let config = DeframerConfig {
                keep_body_max: keep,
                ..facts.settings.deframer
            };
            Deframer::new(mode, config)
        });
        // what keep_bodies set while this deframer was not reading
        df.set_keep_body_max(keep);
        f(df, facts);
        let keyed = facts.keyed();
        if keyed.is_some() {
            df.set_keep_body_max(facts.keep_body_max());
        }
        if dir.of(&facts.dirs).hello_done {
            // a flow read with keys keeps handshake bodies: a TLS 1.2
            // renegotiation's hellos come encrypted, after the first ones
            df.set_want_handshake(keyed.is_some_and(KeyedFlow::decrypted));
        }
    }

    /// Releases records the deframer held back for verification: the end
    /// of the stream is evidence enough.
    pub(crate) fn end_of_stream(&mut self, dir: Dir) {
        if dir.of(&self.deframers).is_some() {
            self.with_deframer(dir, false, |df, facts| {
                df.finish(&mut |ev| facts.on_event(dir, ev))
            });
        }
    }
}

impl StreamConsumer for FlowState {
    fn buffered(&self) -> usize {
        let deframers: usize = self.deframers.iter().flatten().map(|d| d.buffered()).sum();
        let hellos: usize = self.facts.rare().map_or(0, |r| {
            r.dirs
                .iter()
                .filter_map(|d| d.handshake.as_ref())
                .map(|h| h.buffered())
                .sum()
        });
        deframers + hellos
    }

    /// Drops partial hellos and kept record bodies; the hellos are not
    /// looked for any more. Flows read with keys keep what decryption
    /// needs (only a key log makes a flow keyed, not the traffic).
    fn shed(&mut self) {
        if self.facts.keyed().is_some() || self.buffered() == 0 {
            return;
        }
        self.facts.buffers_shed = true;
        for d in &mut self.facts.dirs {
            d.hello_done = true;
        }
        if let Some(r) = self.facts.rare.as_deref_mut() {
            for d in &mut r.dirs {
                d.handshake = None;
            }
        }
        for df in self.deframers.iter_mut().flatten() {
            df.set_want_handshake(false);
            df.drop_kept_bodies();
        }
    }

    fn segment(&mut self, dir: Dir, seg: &Segment<'_>, _meta: SegMeta) {
        let facts = &mut self.facts;
        if seg.flags.syn {
            dir.of_mut(&mut facts.dirs).syn = true;
            if !seg.flags.ack && facts.syn_dir.is_none() {
                facts.syn_dir = Some(dir);
            }
        }
        if seg.is_truncated() {
            facts.truncated = true;
        }
    }

    fn data(&mut self, dir: Dir, stream_start_known: bool, data: &[u8], meta: SegMeta) {
        self.with_deframer(dir, stream_start_known, |df, facts| {
            df.push(data, meta, &mut |ev| facts.on_event(dir, ev));
        });
    }

    fn gap(&mut self, dir: Dir, len: u64, meta: SegMeta) {
        // a gap before any byte of this direction: the stream start is unknown
        self.with_deframer(dir, false, |df, facts| {
            df.gap(len, meta, &mut |ev| facts.on_event(dir, ev));
        });
    }

    fn fin(&mut self, dir: Dir, meta: SegMeta) {
        self.end_of_stream(dir);
        dir.of_mut(&mut self.facts.dirs).set_fin(meta);
    }

    fn rst(&mut self, dir: Dir, meta: SegMeta) {
        self.end_of_stream(dir);
        dir.of_mut(&mut self.facts.dirs).set_rst(meta);
    }
}

#[cfg(test)]
mod tests;
