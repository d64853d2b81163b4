//! The flow table: which connection a segment belongs to, in which
//! direction, and when a connection is over.

use crate::reassembly::{Chunk, Reassembler, ReassemblyStats};
use rustc_hash::FxHashMap;
use tlsclose_capture::{Endpoint, Segment, Timestamp};

/// Direction relative to the [`FlowKey`]: `AtoB` is from `key.a` to `key.b`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dir {
    AtoB,
    BtoA,
}

impl Dir {
    pub fn index(self) -> usize {
        match self {
            Dir::AtoB => 0,
            Dir::BtoA => 1,
        }
    }
    pub fn other(self) -> Dir {
        match self {
            Dir::AtoB => Dir::BtoA,
            Dir::BtoA => Dir::AtoB,
        }
    }
}

/// A connection's 4-tuple, with its endpoints in a canonical order (`a < b`)
/// so that both directions find the same entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlowKey {
    pub a: Endpoint,
    pub b: Endpoint,
}

impl FlowKey {
    /// The key of a segment and the segment's direction.
    pub fn of(src: Endpoint, dst: Endpoint) -> (FlowKey, Dir) {
        if src <= dst {
            (FlowKey { a: src, b: dst }, Dir::AtoB)
        } else {
            (FlowKey { a: dst, b: src }, Dir::BtoA)
        }
    }
    /// The sender of a direction.
    pub fn src(&self, dir: Dir) -> Endpoint {
        match dir {
            Dir::AtoB => self.a,
            Dir::BtoA => self.b,
        }
    }
}

/// Where a segment came from in the capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SegMeta {
    /// 1-based frame number.
    pub frame: u64,
    pub ts: Timestamp,
}

/// What is known when a flow's first segment arrives.
#[derive(Debug, Clone, Copy)]
pub struct FlowStart {
    pub key: FlowKey,
    pub first: SegMeta,
    /// Direction of the first segment.
    pub first_dir: Dir,
    /// The first segment was a SYN without ACK (so its sender is the client).
    pub first_is_syn: bool,
}

/// Why a flow left the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// Both sides sent FIN or RST.
    Closed,
    /// One side sent RST and nothing more came for a while.
    Reset,
    /// No segment for the idle timeout.
    IdleTimeout,
    /// A new SYN on the same 4-tuple started another connection.
    PortReuse,
    /// The capture ended.
    EndOfCapture,
}

/// The per-flow consumer of in-order events. Calls arrive in capture order;
/// data within a direction arrives in stream order.
pub trait StreamConsumer {
    /// Every segment of the flow, before its payload is delivered.
    fn segment(&mut self, dir: Dir, seg: &Segment<'_>, meta: SegMeta);
    /// The next in-order bytes of a direction. `stream_start_known`: the
    /// direction's SYN was seen, so offset 0 is the first byte sent.
    fn data(&mut self, dir: Dir, stream_start_known: bool, data: &[u8], meta: SegMeta);
    /// `len` bytes of a direction were never captured.
    fn gap(&mut self, dir: Dir, len: u64, meta: SegMeta);
    /// The first FIN of a direction.
    fn fin(&mut self, dir: Dir, meta: SegMeta);
    /// The first RST of a direction.
    fn rst(&mut self, dir: Dir, meta: SegMeta);
}

/// A flow handed back when it ends.
#[derive(Debug)]
pub struct Finished<C> {
    pub start: FlowStart,
    pub consumer: C,
    pub reason: EndReason,
    pub last: SegMeta,
    pub segments: u64,
    /// Reassembly counters of both directions (indexed by [`Dir::index`]).
    pub reassembly: [ReassemblyStats; 2],
}

#[derive(Debug, Clone, Copy)]
pub struct FlowTableConfig {
    /// Capture-time nanoseconds without a segment after which a flow is ended as idle.
    pub idle_timeout_ns: i64,
    /// How long after a lone RST a flow is kept for in-flight segments.
    pub rst_linger_ns: i64,
    /// How long a finished 4-tuple is remembered, so that late
    /// retransmissions are not taken for a new connection.
    pub closed_ttl_ns: i64,
    /// Most live flows; segments of new flows beyond it are counted and dropped.
    pub max_flows: usize,
    /// Most bytes held for out-of-order segments per direction.
    pub reassembly_limit: usize,
}

impl Default for FlowTableConfig {
    fn default() -> Self {
        FlowTableConfig {
            idle_timeout_ns: 300 * 1_000_000_000,
            rst_linger_ns: 1_000_000_000,
            closed_ttl_ns: 120 * 1_000_000_000,
            max_flows: 1_000_000,
            reassembly_limit: 1 << 20,
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct FlowTableStats {
    pub segments: u64,
    pub flows: u64,
    /// Segments of a finished connection that came after it was reported.
    pub late_segments: u64,
    /// Segments dropped because the table was full.
    pub table_full_drops: u64,
    pub port_reuses: u64,
    pub peak_flows: usize,
}

struct DirState {
    reasm: Reassembler<SegMeta>,
    syn: Option<u32>,
    fin: bool,
    rst: bool,
}

impl DirState {
    fn new(limit: usize) -> Self {
        DirState {
            reasm: Reassembler::new(limit),
            syn: None,
            fin: false,
            rst: false,
        }
    }
    fn torn_down(&self) -> bool {
        self.fin || self.rst
    }
}

struct Live<C> {
    start: FlowStart,
    consumer: C,
    dirs: [DirState; 2],
    last: SegMeta,
    rst_at: Option<Timestamp>,
    segments: u64,
}

enum Slot<C> {
    Live(Box<Live<C>>),
    Closed { at: Timestamp },
}

/// How often (in capture time) idle flows are looked for.
const SWEEP_INTERVAL_NS: i64 = 1_000_000_000;

/// Connections by 4-tuple. See the crate docs.
pub struct FlowTable<C> {
    map: FxHashMap<FlowKey, Slot<C>>,
    live: usize,
    config: FlowTableConfig,
    stats: FlowTableStats,
    next_sweep: Option<Timestamp>,
}

impl<C: StreamConsumer> FlowTable<C> {
    pub fn new(config: FlowTableConfig) -> Self {
        FlowTable {
            map: FxHashMap::default(),
            live: 0,
            config,
            stats: FlowTableStats::default(),
            next_sweep: None,
        }
    }

    pub fn stats(&self) -> &FlowTableStats {
        &self.stats
    }

    /// Live flows now.
    pub fn live_flows(&self) -> usize {
        self.live
    }

    /// Feeds one segment. `make` creates the consumer of a new flow; `done`
    /// receives every flow that ends (this segment may end several: idle
    /// ones found by the periodic sweep, a flow replaced by port reuse, the
    /// segment's own flow).
    pub fn process(
        &mut self,
        seg: &Segment<'_>,
        meta: SegMeta,
        make: &mut dyn FnMut(&FlowStart) -> C,
        done: &mut dyn FnMut(Finished<C>),
    ) {
        self.stats.segments += 1;
        self.maybe_sweep(meta.ts, done);
        let (key, dir) = FlowKey::of(seg.src, seg.dst);
        let opening = seg.flags.syn && !seg.flags.ack;

        let replace = match self.map.get(&key) {
            None => true,
            Some(Slot::Closed { .. }) => {
                if !opening {
                    self.stats.late_segments += 1;
                    return;
                }
                true
            }
            Some(Slot::Live(live)) => {
                // a SYN with another initial sequence number: a new connection
                opening && live.dirs[dir.index()].syn != Some(seg.seq)
            }
        };
        if replace {
            if let Some(Slot::Live(_)) = self.map.get(&key) {
                self.stats.port_reuses += 1;
                self.end(key, EndReason::PortReuse, done);
            }
            if self.live >= self.config.max_flows {
                self.stats.table_full_drops += 1;
                return;
            }
            let start = FlowStart {
                key,
                first: meta,
                first_dir: dir,
                first_is_syn: opening,
            };
            let live = Live {
                consumer: make(&start),
                start,
                dirs: [
                    DirState::new(self.config.reassembly_limit),
                    DirState::new(self.config.reassembly_limit),
                ],
                last: meta,
                rst_at: None,
                segments: 0,
            };
            self.map.insert(key, Slot::Live(Box::new(live)));
            self.live += 1;
            self.stats.flows += 1;
            self.stats.peak_flows = self.stats.peak_flows.max(self.live);
        }
        let Some(Slot::Live(live)) = self.map.get_mut(&key) else {
            return;
        };
        if live.feed(dir, seg, meta) {
            self.end(key, EndReason::Closed, done);
        }
    }

    /// Ends a live flow, leaving a tombstone for late segments.
    fn end(&mut self, key: FlowKey, reason: EndReason, done: &mut dyn FnMut(Finished<C>)) {
        let Some(Slot::Live(live)) = self.map.remove(&key) else {
            return;
        };
        self.live -= 1;
        let at = live.last.ts;
        done((*live).finish(reason));
        if reason != EndReason::PortReuse {
            self.map.insert(key, Slot::Closed { at });
        }
    }

    fn maybe_sweep(&mut self, now: Timestamp, done: &mut dyn FnMut(Finished<C>)) {
        match self.next_sweep {
            None => self.next_sweep = Some(Timestamp(now.0.saturating_add(SWEEP_INTERVAL_NS))),
            Some(t) if now >= t => {
                self.next_sweep = Some(Timestamp(now.0.saturating_add(SWEEP_INTERVAL_NS)));
                self.sweep(now, done);
            }
            Some(_) => {}
        }
    }

    /// Ends flows idle for the timeout and reset flows past their linger;
    /// forgets old tombstones. Ended flows are handed out in order of their
    /// first frame, so output does not depend on hashing.
    pub fn sweep(&mut self, now: Timestamp, done: &mut dyn FnMut(Finished<C>)) {
        let cfg = self.config;
        let mut ending: Vec<(u64, FlowKey, EndReason)> = Vec::new();
        self.map.retain(|key, slot| match slot {
            Slot::Closed { at } => now.0.saturating_sub(at.0) < cfg.closed_ttl_ns,
            Slot::Live(live) => {
                if now.0.saturating_sub(live.last.ts.0) >= cfg.idle_timeout_ns {
                    ending.push((live.start.first.frame, *key, EndReason::IdleTimeout));
                } else if let Some(r) = live.rst_at {
                    if now.0.saturating_sub(r.0) >= cfg.rst_linger_ns {
                        ending.push((live.start.first.frame, *key, EndReason::Reset));
                    }
                }
                true
            }
        });
        ending.sort_unstable_by_key(|e| e.0);
        for (_, key, reason) in ending {
            self.end(key, reason, done);
        }
    }

    /// The capture is over: every live flow ends, in order of first frame.
    pub fn finish(&mut self, done: &mut dyn FnMut(Finished<C>)) {
        let mut rest: Vec<(u64, FlowKey, EndReason)> = self
            .map
            .iter()
            .filter_map(|(k, s)| match s {
                Slot::Live(l) => Some((
                    l.start.first.frame,
                    *k,
                    if l.rst_at.is_some() {
                        EndReason::Reset
                    } else {
                        EndReason::EndOfCapture
                    },
                )),
                Slot::Closed { .. } => None,
            })
            .collect();
        rest.sort_unstable_by_key(|e| e.0);
        for (_, key, reason) in rest {
            self.end(key, reason, done);
        }
        self.map.clear();
    }
}

impl<C: StreamConsumer> Live<C> {
    /// Applies a segment; true when both directions are now torn down.
    fn feed(&mut self, dir: Dir, seg: &Segment<'_>, meta: SegMeta) -> bool {
        self.last = meta;
        self.segments += 1;
        self.consumer.segment(dir, seg, meta);
        let d = dir.index();
        if seg.flags.syn {
            if self.dirs[d].syn.is_none() {
                self.dirs[d].syn = Some(seg.seq);
            }
            self.dirs[d].reasm.syn(seg.seq);
        }
        if seg.flags.rst {
            if !self.dirs[d].rst {
                self.dirs[d].rst = true;
                self.rst_at.get_or_insert(meta.ts);
                self.consumer.rst(dir, meta);
            }
        } else {
            let seq = if seg.flags.syn {
                seg.seq.wrapping_add(1)
            } else {
                seg.seq
            };
            let known = self.dirs[d].syn.is_some();
            let consumer = &mut self.consumer;
            let (payload, wire_len) = (seg.payload, seg.wire_len);
            self.dirs[d]
                .reasm
                .segment(seq, payload, wire_len, meta, &mut |c, m| {
                    deliver(consumer, dir, known, c, m)
                });
            if seg.flags.fin && !self.dirs[d].fin {
                self.dirs[d].fin = true;
                self.dirs[d].reasm.fin(seq.wrapping_add(seg.wire_len));
                self.consumer.fin(dir, meta);
            }
        }
        if seg.flags.ack {
            // the peer's holes that this segment acknowledges are gaps now
            let peer = dir.other();
            let known = self.dirs[peer.index()].syn.is_some();
            let consumer = &mut self.consumer;
            self.dirs[peer.index()]
                .reasm
                .acked(seg.ack, &mut |c, m| deliver(consumer, peer, known, c, m));
        }
        self.dirs[0].torn_down() && self.dirs[1].torn_down()
    }

    fn finish(mut self, reason: EndReason) -> Finished<C> {
        let meta = self.last;
        for dir in [Dir::AtoB, Dir::BtoA] {
            let known = self.dirs[dir.index()].syn.is_some();
            let consumer = &mut self.consumer;
            self.dirs[dir.index()]
                .reasm
                .flush(meta, &mut |c, m| deliver(consumer, dir, known, c, m));
        }
        Finished {
            start: self.start,
            last: self.last,
            segments: self.segments,
            reassembly: [*self.dirs[0].reasm.stats(), *self.dirs[1].reasm.stats()],
            reason,
            consumer: self.consumer,
        }
    }
}

fn deliver<C: StreamConsumer>(
    consumer: &mut C,
    dir: Dir,
    known: bool,
    chunk: Chunk<'_>,
    meta: SegMeta,
) {
    match chunk {
        Chunk::Data(b) => consumer.data(dir, known, b, meta),
        Chunk::Gap(n) => consumer.gap(dir, n, meta),
    }
}
