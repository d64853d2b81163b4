//! The flow table: which connection a segment belongs to, in which
//! direction, and when a connection is over.

use crate::reassembly::{Chunk, Reassembler, ReassemblyStats};
use rustc_hash::FxHashMap;
use tlsclose_capture::{Segment, Timestamp};

mod key;
pub use key::{Dir, FlowKey};

/// Where a segment came from in the capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SegMeta {
    /// 1-based frame number.
    pub frame: u64,
    /// The frame's own timestamp, as the capture recorded it: what is
    /// printed.
    pub ts: Timestamp,
    /// The capture clock's time for the frame ([`crate::CaptureClock`]):
    /// what idle timeouts and durations are counted in. The same as `ts`
    /// unless the capture's timestamps stepped back or a frame was an
    /// outlier.
    pub clock: Timestamp,
}

impl SegMeta {
    /// A frame whose own time is the clock's.
    pub fn at(frame: u64, ts: Timestamp) -> SegMeta {
        SegMeta {
            frame,
            ts,
            clock: ts,
        }
    }

    /// The frame's clock time is not its own (it was shifted by a step
    /// backwards, or it was an outlier).
    pub fn off_clock(&self) -> bool {
        self.ts != self.clock
    }
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
    /// The table was full: the flows idle the longest make room for new
    /// ones (see [`FlowTableConfig::max_flows`]).
    Evicted,
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
    /// Bytes the consumer holds for this flow (partial records and
    /// messages); they count with the out-of-order bytes against
    /// [`FlowTableConfig::reassembly_total_limit`].
    fn buffered(&self) -> usize {
        0
    }
    /// The bytes held over all flows are at their limit even after this
    /// flow gave up its out-of-order holes: drop what can be done without.
    fn shed(&mut self) {}
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
    /// Some segment's clock time stood differently to its own time than
    /// the first segment's did: the flow spans a step back of the
    /// capture's timestamps, or an outlier frame (its durations are counted
    /// on the clock, its printed times are the frames' own).
    pub clock_stepped: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct FlowTableConfig {
    /// Capture-time nanoseconds without a segment after which a flow is ended as idle.
    pub idle_timeout_ns: i64,
    /// How long after a lone RST a flow is kept for in-flight segments.
    pub rst_linger_ns: i64,
    /// How long a flow closed by FIN on both sides waits, after its last
    /// packet, for the final ACK of the last FIN; it ends at once when that
    /// ACK comes (or an RST, or a new SYN on its 4-tuple). Its last packets
    /// (the final ACK, retransmitted FINs) then fall in its frame range
    /// (and its `--extract`) instead of hitting its tombstone. 5 s: more
    /// than the first retransmission timeout of the FIN (200 ms on Linux,
    /// 1 s by RFC 6298, 3 s on older stacks) and its answer. A lost final
    /// ACK comes after the FIN is retransmitted, each retransmission after
    /// twice the wait before it, so the wait follows them: after a packet
    /// `t` after the second FIN it is at least 3 `t` (`FIN_BACKOFF`). It
    /// never goes past `closed_ttl_ns` after the second FIN (the tombstone
    /// then catches what still comes), nor past `idle_timeout_ns` without
    /// a packet. See [`FlowTableConfig::final_ack_deadline`].
    pub final_ack_wait_ns: i64,
    /// How long a finished 4-tuple is remembered, so that late
    /// retransmissions are not taken for a new connection.
    pub closed_ttl_ns: i64,
    /// Most live flows. When a new flow finds the table full, the flows
    /// idle the longest (a sixteenth of the table) are ended and reported
    /// as they are ([`EndReason::Evicted`]): under a flood of half-open
    /// connections the live ones stay and no new connection is turned
    /// away. Also the most finished 4-tuples remembered. A live flow costs
    /// about 1.4 KB of heap, data or not, map entry included (1,280 B in
    /// its box; 100 000 flows: about 135 MB of heap, 200 MB RSS at the
    /// peak).
    pub max_flows: usize,
    /// Most bytes held for out-of-order segments per direction (see
    /// [`Reassembler::new`]).
    pub reassembly_limit: usize,
    /// Most bytes held over all flows together for reassembly: out-of-order
    /// segments, and what consumers hold ([`StreamConsumer::buffered`]:
    /// records and messages spanning segments). A segment that takes the
    /// total over it makes its own flow give up holes, then shed its
    /// consumer's buffers, until the total is back under it.
    pub reassembly_total_limit: usize,
    /// Look for idle flows every second of capture time as segments come
    /// (true), or only when told ([`FlowTable::tick`], false): a reader
    /// that feeds several tables drives them all from its own clock, so
    /// that what ends when does not depend on how flows are spread.
    pub sweep_on_segments: bool,
}

impl Default for FlowTableConfig {
    fn default() -> Self {
        FlowTableConfig {
            idle_timeout_ns: 300 * 1_000_000_000,
            rst_linger_ns: 1_000_000_000,
            final_ack_wait_ns: 5 * 1_000_000_000,
            closed_ttl_ns: 120 * 1_000_000_000,
            max_flows: 100_000,
            reassembly_limit: 1 << 20,
            reassembly_total_limit: 64 << 20,
            sweep_on_segments: true,
        }
    }
}

/// How a flow waiting for its final ACK follows the retransmissions of its
/// last FIN (see [`FlowTableConfig::final_ack_wait_ns`]). The FIN's sender
/// retransmits it one RTO after it, then after twice the wait before each
/// time (exponential backoff): a retransmission `t` after the FIN is
/// followed by the next at `2t + RTO <= 3t`, whose answer (the final ACK)
/// comes a round trip later, less than an RTO. Waiting `3t` after a packet
/// `t` after the FIN (until `4t`) leaves that round trip `t >= RTO`.
const FIN_BACKOFF: i64 = 3;

impl FlowTableConfig {
    /// When a flow closed by FIN on both sides, its second FIN at `fin` and
    /// its last packet at `last` (capture clock), stops waiting for its
    /// final ACK (see [`FlowTableConfig::final_ack_wait_ns`]).
    pub fn final_ack_deadline(&self, fin: Timestamp, last: Timestamp) -> Timestamp {
        let since = last.0.saturating_sub(fin.0).max(0);
        let wait = self
            .final_ack_wait_ns
            .max(since.saturating_mul(FIN_BACKOFF))
            .min(self.idle_timeout_ns);
        Timestamp(
            last.0
                .saturating_add(wait)
                .min(fin.0.saturating_add(self.closed_ttl_ns)),
        )
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct FlowTableStats {
    pub segments: u64,
    pub flows: u64,
    /// Segments of a finished connection that came after it was reported.
    pub late_segments: u64,
    /// Segments dropped because the table was full (only with
    /// `max_flows` 0: otherwise idle flows are evicted).
    pub table_full_drops: u64,
    /// Flows ended early to make room ([`EndReason::Evicted`]).
    pub evicted_flows: u64,
    /// Finished 4-tuples not remembered because `max_flows` of them were
    /// (their late retransmissions may start a new, mid-stream flow).
    pub closed_not_remembered: u64,
    pub port_reuses: u64,
    pub peak_flows: usize,
    /// Segments that took the bytes held over all flows past
    /// `reassembly_total_limit` (their flow gave up holes).
    pub total_limit_hits: u64,
    /// Bytes held for out-of-order segments over all flows: now, and the most.
    pub held_bytes: usize,
    pub peak_held_bytes: usize,
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

/// Both directions' states, by direction.
fn dir_state(dirs: &mut [DirState; 2], dir: Dir) -> &mut DirState {
    let [a, b] = dirs;
    match dir {
        Dir::AtoB => a,
        Dir::BtoA => b,
    }
}

/// A live flow. In this order (`repr(C)`): what every segment reads and
/// writes first, so that a segment touches few cache lines of a flow that
/// is usually not in the cache; the consumer's large state last.
#[repr(C)]
struct Live<C> {
    /// Both sides sent FIN: the flow is over and waits for its final ACK
    /// (see [`FlowTableConfig::final_ack_wait_ns`]).
    closing: Option<Closing>,
    /// What [`Live::held`] said after the last segment (so it is counted
    /// once per segment, not twice: it reaches into both directions).
    held: usize,
    segments: u64,
    last: SegMeta,
    /// See [`Finished::clock_stepped`].
    clock_stepped: bool,
    rst_at: Option<Timestamp>,
    dirs: [DirState; 2],
    start: FlowStart,
    consumer: C,
}

/// A flow closed by FIN on both sides, kept for its final ACK.
#[derive(Clone, Copy)]
struct Closing {
    /// When the second FIN came.
    at: Timestamp,
    /// The final ACK: a segment from this direction acknowledging this
    /// sequence number (the last FIN's end, plus one).
    ack_from: Dir,
    ack: u32,
}

/// What a segment did to its flow.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fed {
    Open,
    /// Both sides sent FIN; the final ACK is still to come.
    Closing,
    /// The flow is over: report it now.
    Closed,
}

enum Slot<C> {
    /// A live flow, and the earliest capture time a sweep could end it
    /// ([`Live::due`]), kept beside the box so that a sweep reads the map
    /// alone and touches only the boxes of flows that are due (a flow's
    /// box is seldom in the cache, and most flows a sweep looks at are
    /// not due).
    Live(Box<Live<C>>, Timestamp),
    Closed {
        at: Timestamp,
    },
}

/// How often (in capture time) idle flows are looked for.
pub const SWEEP_INTERVAL_NS: i64 = 1_000_000_000;

/// Connections by 4-tuple. See the crate docs.
pub struct FlowTable<C> {
    map: FxHashMap<FlowKey, Slot<C>>,
    live: usize,
    /// Tombstones in `map`.
    closed: usize,
    config: FlowTableConfig,
    stats: FlowTableStats,
    next_sweep: Option<Timestamp>,
    /// No sweep before this capture time can end a flow or forget a
    /// tombstone: at most the earliest [`Live::due`] and tombstone expiry
    /// in the map (lowered as they are set, made exact by each sweep), so
    /// that sweeps of a table of long-idle flows cost nothing.
    next_due: Timestamp,
}

impl<C: StreamConsumer> FlowTable<C> {
    pub fn new(config: FlowTableConfig) -> Self {
        FlowTable {
            map: FxHashMap::default(),
            live: 0,
            closed: 0,
            config,
            stats: FlowTableStats::default(),
            next_sweep: None,
            next_due: Timestamp(i64::MAX),
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
        if self.config.sweep_on_segments {
            self.maybe_sweep(meta.clock, done);
        }
        let (key, dir) = FlowKey::of(seg.src, seg.dst);
        let opening = seg.flags.syn && !seg.flags.ack;

        // The common case, one lookup: a segment of a live connection.
        if let Some(Slot::Live(live, due)) = self.map.get_mut(&key) {
            let [a, b] = &live.dirs;
            let d = if dir == Dir::AtoB { a } else { b };
            if !(opening && d.syn != Some(seg.seq)) {
                if Self::apply(live, &mut self.stats, &self.config, dir, seg, meta) {
                    self.end(key, EndReason::Closed, done);
                } else {
                    *due = live.due(&self.config);
                    self.next_due = self.next_due.min(*due);
                }
                return;
            }
            if live.closing.is_some() {
                // a new connection on the 4-tuple of one that is over: the
                // old one ends as closed, not replaced
                self.end(key, EndReason::Closed, done);
            }
        }

        let replace = match self.map.get(&key) {
            None => true,
            Some(Slot::Closed { .. }) => {
                if !opening {
                    self.stats.late_segments += 1;
                    return;
                }
                true
            }
            Some(Slot::Live(live, _)) => {
                // a SYN with another initial sequence number: a new connection
                let [a, b] = &live.dirs;
                let d = if dir == Dir::AtoB { a } else { b };
                opening && d.syn != Some(seg.seq)
            }
        };
        if replace {
            match self.map.get(&key) {
                Some(Slot::Live(..)) => {
                    self.stats.port_reuses += 1;
                    self.end(key, EndReason::PortReuse, done);
                }
                Some(Slot::Closed { .. }) => {
                    // the tombstone is replaced below
                    self.map.remove(&key);
                    self.closed = self.closed.saturating_sub(1);
                }
                None => {}
            }
            if self.live >= self.config.max_flows {
                self.evict(done);
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
                clock_stepped: false,
                rst_at: None,
                segments: 0,
                held: 0,
                closing: None,
            };
            let due = live.due(&self.config);
            self.next_due = self.next_due.min(due);
            self.map.insert(key, Slot::Live(Box::new(live), due));
            self.live += 1;
            self.stats.flows += 1;
            self.stats.peak_flows = self.stats.peak_flows.max(self.live);
        }
        let Some(Slot::Live(live, due)) = self.map.get_mut(&key) else {
            return;
        };
        if Self::apply(live, &mut self.stats, &self.config, dir, seg, meta) {
            self.end(key, EndReason::Closed, done);
        } else {
            *due = live.due(&self.config);
            self.next_due = self.next_due.min(*due);
        }
    }

    /// Feeds a segment to its live flow and keeps the count of bytes held
    /// over all flows; true when the flow is now closed.
    fn apply(
        live: &mut Live<C>,
        stats: &mut FlowTableStats,
        config: &FlowTableConfig,
        dir: Dir,
        seg: &Segment<'_>,
        meta: SegMeta,
    ) -> bool {
        if let Some(c) = live.closing {
            // after both FINs: the segment is the flow's, nothing more
            live.last = meta;
            live.segments += 1;
            let final_ack =
                dir == c.ack_from && seg.flags.ack && seg.ack.wrapping_sub(c.ack) as i32 >= 0;
            return final_ack || seg.flags.rst;
        }
        let before = live.held;
        let closed = live.feed(dir, seg, meta) == Fed::Closed;
        let mut after = live.held();
        let others = stats.held_bytes.saturating_sub(before);
        let limit = config.reassembly_total_limit;
        if others.saturating_add(after) > limit {
            // This segment took the total over: its flow gives up holes
            // (the earliest first) until the total is back under.
            stats.total_limit_hits += 1;
            live.shed(dir, limit.saturating_sub(others));
            after = live.held();
        }
        live.held = after;
        stats.held_bytes = others.saturating_add(after);
        stats.peak_held_bytes = stats.peak_held_bytes.max(stats.held_bytes);
        closed
    }

    /// Ends a live flow, leaving a tombstone for late segments (not after
    /// port reuse, where the new flow takes the key, nor after eviction,
    /// where the connection may well go on).
    fn end(&mut self, key: FlowKey, reason: EndReason, done: &mut dyn FnMut(Finished<C>)) {
        let Some(Slot::Live(live, _)) = self.map.remove(&key) else {
            return;
        };
        // a flow over but for its last packets ends as closed, whatever
        // took it out of the table
        let reason = if live.closing.is_some() {
            EndReason::Closed
        } else {
            reason
        };
        if reason == EndReason::Evicted {
            self.stats.evicted_flows += 1;
        }
        self.live -= 1;
        self.stats.held_bytes = self.stats.held_bytes.saturating_sub(live.held());
        let at = live.last.clock;
        done((*live).finish(reason));
        // a flow that was over is remembered, so that its late packets do
        // not start a mid-stream flow; one given up (idle, evicted,
        // replaced) is not: its next packet is read as if the capture
        // started there
        let over = matches!(reason, EndReason::Closed | EndReason::Reset);
        if over {
            if self.closed < self.config.max_flows {
                let forget = Timestamp(at.0.saturating_add(self.config.closed_ttl_ns));
                self.next_due = self.next_due.min(forget);
                self.map.insert(key, Slot::Closed { at });
                self.closed += 1;
            } else {
                self.stats.closed_not_remembered += 1;
            }
        }
    }

    /// The table is full: ends the flows idle the longest, a sixteenth of
    /// the table at once (so that a flood costs amortised constant time
    /// per new flow), reported in order of their first frame.
    fn evict(&mut self, done: &mut dyn FnMut(Finished<C>)) {
        let n = (self.live / 16).max(1);
        let mut last_seen: Vec<(i64, u64)> = self
            .map
            .values()
            .filter_map(|s| match s {
                Slot::Live(l, _) => Some((l.last.clock.0, l.start.first.frame)),
                Slot::Closed { .. } => None,
            })
            .collect();
        if last_seen.is_empty() {
            return;
        }
        let k = n.min(last_seen.len()) - 1;
        let (_, &mut threshold, _) = last_seen.select_nth_unstable(k);
        drop(last_seen);
        let mut victims: Vec<(u64, FlowKey)> = self
            .map
            .iter()
            .filter_map(|(key, s)| match s {
                Slot::Live(l, _) if (l.last.clock.0, l.start.first.frame) <= threshold => {
                    Some((l.start.first.frame, *key))
                }
                _ => None,
            })
            .collect();
        victims.sort_unstable_by_key(|v| v.0);
        for (_, key) in victims {
            self.end(key, EndReason::Evicted, done);
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

    /// The capture clock says `now`: the periodic look for idle flows
    /// when [`FlowTableConfig::sweep_on_segments`] is off (see
    /// [`SWEEP_INTERVAL_NS`]; the caller decides when, this does it).
    pub fn tick(&mut self, now: Timestamp, done: &mut dyn FnMut(Finished<C>)) {
        self.sweep(now, done);
    }

    /// Ends flows idle for the timeout, reset flows past their linger and
    /// flows closed by FINs past their wait for the final ACK; forgets old
    /// tombstones. Ended flows are handed out in order of their
    /// first frame, so output does not depend on hashing.
    pub fn sweep(&mut self, now: Timestamp, done: &mut dyn FnMut(Finished<C>)) {
        if now < self.next_due {
            return;
        }
        let cfg = self.config;
        let mut ending: Vec<(u64, FlowKey, EndReason)> = Vec::new();
        let mut forgotten = 0usize;
        // the earliest due of what stays (the flows ended below leave
        // tombstones, which lower it again)
        let mut next_due = Timestamp(i64::MAX);
        self.map.retain(|key, slot| match slot {
            Slot::Closed { at } => {
                let keep = now.0.saturating_sub(at.0) < cfg.closed_ttl_ns;
                if keep {
                    next_due = next_due.min(Timestamp(at.0.saturating_add(cfg.closed_ttl_ns)));
                } else {
                    forgotten += 1;
                }
                keep
            }
            // not due: nothing below could end it (Live::due)
            Slot::Live(_, due) if now < *due => {
                next_due = next_due.min(*due);
                true
            }
            Slot::Live(live, due) => {
                let reason = if let Some(c) = live.closing {
                    (now >= cfg.final_ack_deadline(c.at, live.last.clock))
                        .then_some(EndReason::Closed)
                } else if now.0.saturating_sub(live.last.clock.0) >= cfg.idle_timeout_ns {
                    Some(EndReason::IdleTimeout)
                } else if let Some(r) = live.rst_at {
                    (now.0.saturating_sub(r.0) >= cfg.rst_linger_ns).then_some(EndReason::Reset)
                } else {
                    None
                };
                match reason {
                    Some(reason) => ending.push((live.start.first.frame, *key, reason)),
                    None => next_due = next_due.min(*due),
                }
                true
            }
        });
        self.next_due = next_due;
        self.closed = self.closed.saturating_sub(forgotten);
        ending.sort_unstable_by_key(|e| e.0);
        for (_, key, reason) in ending {
            self.end(key, reason, done);
        }
    }

    /// The capture is over: every live flow ends, in order of first frame.
    pub fn finish(&mut self, done: &mut dyn FnMut(Finished<C>)) {
        for (_, key, reason) in self.finish_order() {
            self.end(key, reason, done);
        }
        self.clear();
    }

    /// The live flows in the order the end of the capture ends them (by
    /// first frame), each with the reason it ends for: for a caller that
    /// merges several tables' ends ([`FlowTable::end_at_finish`] each, then
    /// [`FlowTable::clear`]) as [`FlowTable::finish`] does for one.
    pub fn finish_order(&self) -> Vec<(u64, FlowKey, EndReason)> {
        let mut rest: Vec<(u64, FlowKey, EndReason)> = self
            .map
            .iter()
            .filter_map(|(k, s)| match s {
                Slot::Live(l, _) => Some((
                    l.start.first.frame,
                    *k,
                    if l.closing.is_some() {
                        EndReason::Closed
                    } else if l.rst_at.is_some() {
                        EndReason::Reset
                    } else {
                        EndReason::EndOfCapture
                    },
                )),
                Slot::Closed { .. } => None,
            })
            .collect();
        rest.sort_unstable_by_key(|e| e.0);
        rest
    }

    /// Ends one flow of [`FlowTable::finish_order`].
    pub fn end_at_finish(
        &mut self,
        key: FlowKey,
        reason: EndReason,
        done: &mut dyn FnMut(Finished<C>),
    ) {
        self.end(key, reason, done);
    }

    /// Forgets every flow and tombstone (after the end of a capture).
    pub fn clear(&mut self) {
        self.map.clear();
        self.closed = 0;
        self.next_due = Timestamp(i64::MAX);
    }
}

impl<C> Live<C> {
    /// The earliest capture time at which [`FlowTable::sweep`] could end
    /// the flow: its final-ACK deadline while closing, else the first of
    /// its idle timeout and the end of its linger after an RST. A sweep
    /// before it ends nothing (the comparisons there saturate as these
    /// sums do, so none is true earlier).
    fn due(&self, cfg: &FlowTableConfig) -> Timestamp {
        match self.closing {
            Some(c) => cfg.final_ack_deadline(c.at, self.last.clock),
            None => {
                let idle = self.last.clock.0.saturating_add(cfg.idle_timeout_ns);
                let rst = self
                    .rst_at
                    .map_or(i64::MAX, |r| r.0.saturating_add(cfg.rst_linger_ns));
                Timestamp(idle.min(rst))
            }
        }
    }
}

impl<C: StreamConsumer> Live<C> {
    /// Applies a segment: the flow is over when both directions are torn
    /// down, at once when one was by RST, else after the final ACK.
    fn feed(&mut self, dir: Dir, seg: &Segment<'_>, meta: SegMeta) -> Fed {
        self.last = meta;
        let first = self.start.first;
        self.clock_stepped |=
            meta.clock.0.wrapping_sub(meta.ts.0) != first.clock.0.wrapping_sub(first.ts.0);
        self.segments += 1;
        self.consumer.segment(dir, seg, meta);
        let consumer = &mut self.consumer;
        let d = dir_state(&mut self.dirs, dir);
        if seg.flags.syn {
            if d.syn.is_none() {
                d.syn = Some(seg.seq);
            }
            d.reasm.syn(seg.seq);
        }
        if seg.flags.rst {
            if !d.rst {
                d.rst = true;
                self.rst_at.get_or_insert(meta.clock);
                consumer.rst(dir, meta);
            }
        } else {
            let seq = if seg.flags.syn {
                seg.seq.wrapping_add(1)
            } else {
                seg.seq
            };
            let known = d.syn.is_some();
            let (payload, wire_len) = (seg.payload, seg.wire_len);
            d.reasm.segment(seq, payload, wire_len, meta, &mut |c, m| {
                deliver(consumer, dir, known, c, m)
            });
            if seg.flags.fin && !d.fin {
                d.fin = true;
                d.reasm.fin(seq.wrapping_add(seg.wire_len));
                consumer.fin(dir, meta);
            }
        }
        if seg.flags.ack {
            // the peer's holes that this segment acknowledges are gaps now
            let peer = dir.other();
            let p = dir_state(&mut self.dirs, peer);
            let known = p.syn.is_some();
            p.reasm
                .acked(seg.ack, &mut |c, m| deliver(consumer, peer, known, c, m));
        }
        let [a, b] = &self.dirs;
        if !(a.torn_down() && b.torn_down()) {
            return Fed::Open;
        }
        if a.rst || b.rst || seg.flags.rst || !seg.flags.fin {
            return Fed::Closed;
        }
        // this segment's FIN closed the flow: wait for its ACK
        let seq = if seg.flags.syn {
            seg.seq.wrapping_add(1)
        } else {
            seg.seq
        };
        self.closing = Some(Closing {
            at: meta.clock,
            ack_from: dir.other(),
            ack: seq.wrapping_add(seg.wire_len).wrapping_add(1),
        });
        Fed::Closing
    }

    /// Bytes held for out-of-order segments in both directions, and by
    /// the consumer.
    fn held(&self) -> usize {
        let [a, b] = &self.dirs;
        a.reasm
            .pending_bytes()
            .saturating_add(b.reasm.pending_bytes())
            .saturating_add(self.consumer.buffered())
    }

    /// Gives up holes until at most `max` bytes are held: first in `dir`
    /// (whose segment just came), then in the other direction.
    fn shed(&mut self, dir: Dir, max: usize) {
        for d in [dir, dir.other()] {
            let other = dir_state(&mut self.dirs, d.other()).reasm.pending_bytes();
            let s = dir_state(&mut self.dirs, d);
            let known = s.syn.is_some();
            let consumer = &mut self.consumer;
            s.reasm
                .give_up_until(max.saturating_sub(other), &mut |c, m| {
                    deliver(consumer, d, known, c, m)
                });
            if self.held() <= max {
                return;
            }
        }
        self.consumer.shed();
    }

    fn finish(mut self, reason: EndReason) -> Finished<C> {
        let meta = self.last;
        for dir in [Dir::AtoB, Dir::BtoA] {
            let s = dir_state(&mut self.dirs, dir);
            let known = s.syn.is_some();
            let consumer = &mut self.consumer;
            s.reasm
                .flush(meta, &mut |c, m| deliver(consumer, dir, known, c, m));
        }
        let [a, b] = &self.dirs;
        Finished {
            start: self.start,
            last: self.last,
            segments: self.segments,
            reassembly: [*a.reasm.stats(), *b.reasm.stats()],
            clock_stepped: self.clock_stepped,
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

#[cfg(test)]
mod tests;
