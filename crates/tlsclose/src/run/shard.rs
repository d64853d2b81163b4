//! The flow table split in shares, and the threads that own them.
//!
//! Flows are spread over a fixed number of shares (by a symmetric hash of
//! their addresses and ports), each an [`Analyzer`] with its own flow
//! table and its part of the global limits. The number of shares depends
//! only on the options, never on the number of threads, and every share
//! is driven by the reader's clock (ticks, not its own segments): what
//! each share decides is the same whichever thread runs it. Reports carry
//! an [`OrderKey`] (the event that ended the flow) and are written in key
//! order, so the output is the same, byte for byte, for every `--threads`.

use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use tlsclose_analysis::{
    Analyzer, AnalyzerConfig, AnalyzerStats, FinishTicket, FlowReport, KeyStore,
};
use tlsclose_capture::{Endpoint, Segment, TcpFlags, Timestamp};
use tlsclose_decrypt::{KeyLog, KeyLogWarning};
use tlsclose_tcp::SegMeta;

/// Most shares of the flow table (and so the most threads that help).
pub const MAX_SHARES: usize = 16;

/// The number of shares for these limits: 16, fewer only when
/// `--max-flows` is smaller (each share holds at least one flow).
pub fn shares(config: &AnalyzerConfig) -> usize {
    config.table.max_flows.clamp(1, MAX_SHARES)
}

/// The configuration of one share: `max_flows` and
/// `reassembly_total_limit` divided among the shares.
pub fn share_config(config: &AnalyzerConfig, shares: usize) -> AnalyzerConfig {
    let mut c = *config;
    let n = shares.max(1);
    c.table.max_flows = config.table.max_flows.div_ceil(n).max(1);
    c.table.reassembly_total_limit = config.table.reassembly_total_limit / n;
    c.table.sweep_on_segments = false;
    c
}

/// The share of a segment: the same for both directions of a connection.
pub fn share_of(src: &Endpoint, dst: &Endpoint, shares: usize) -> usize {
    let h = pair_hash(src, dst);
    let n = shares.max(1) as u64;
    // `h % n`, by a mask when it can be (16 shares, unless --max-flows is
    // tiny): a division is some 40 cycles on every segment
    (if n.is_power_of_two() {
        h & (n - 1)
    } else {
        h % n
    }) as usize
}

/// A hash of a connection's unordered pair of endpoints.
fn pair_hash(src: &Endpoint, dst: &Endpoint) -> u64 {
    fn word(e: &Endpoint) -> u64 {
        let ip = match e.ip {
            std::net::IpAddr::V4(a) => u64::from(u32::from(a)),
            std::net::IpAddr::V6(a) => {
                let v = u128::from(a);
                (v as u64) ^ ((v >> 64) as u64)
            }
        };
        ip.rotate_left(16) ^ u64::from(e.port)
    }
    let (a, b) = (word(src), word(dst));
    // symmetric: a function of the unordered pair
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let mut h = lo.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ hi;
    h = (h ^ (h >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^ (h >> 32)
}

/// Where a report goes in the output: after every report of an earlier
/// event. `event` counts the reader's events (segments, clock ticks, ends
/// of a capture); `rank` orders the flows one event ended: by first frame
/// for a tick or an end (several shares end flows), in the order they
/// ended for a segment (only its own share sees it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct OrderKey {
    pub event: u64,
    pub rank: u64,
}

/// A report, where it goes, and the input it ended in.
pub struct OrderedReport {
    pub key: OrderKey,
    pub input: usize,
    pub report: FlowReport,
}

impl OrderedReport {
    /// A report of a tick or an end of capture: flows ended by the same
    /// event go out in order of their first frame.
    fn by_first_frame(event: u64, input: usize, report: FlowReport) -> OrderedReport {
        OrderedReport {
            key: OrderKey {
                event,
                rank: report.first_frame,
            },
            input,
            report,
        }
    }
}

/// Puts `out[from..]` (the flows a tick ended) in key order by sorting
/// the keys and then moving the reports into place (each moved about
/// once, by swaps along the permutation's cycles), in place: a report is
/// large, a sort moves its elements about log n times (on the tiny bench
/// the sort of the flows a tick or the end of a capture ended was 2 % of
/// the instructions), and a tick that idles out many flows at once would
/// need a second vector of their reports. (The end of a capture merges
/// the shares' orders instead: [`Shard::finish_each`].)
fn sort_from(out: &mut [OrderedReport], from: usize) {
    sort_tail_by_key(out, from, |r| r.key);
}

/// Sorts `v[from..]` by `key` (stable), in place, moving each element
/// about once.
fn sort_tail_by_key<T, K: Ord + Copy>(v: &mut [T], from: usize, key: impl Fn(&T) -> K) {
    let Some(part) = v.get_mut(from..) else {
        return;
    };
    if part
        .windows(2)
        .all(|w| matches!(w, [a, b] if key(a) <= key(b)))
    {
        return;
    }
    let mut order: Vec<(K, usize)> = part.iter().enumerate().map(|(i, r)| (key(r), i)).collect();
    // (the index keeps equal keys in their order)
    order.sort_unstable();
    // place p takes the element at order[p].1: follow each cycle once
    let mut placed = vec![false; order.len()];
    for start in 0..order.len() {
        let mut at = start;
        while placed.get(at) == Some(&false) {
            if let Some(p) = placed.get_mut(at) {
                *p = true;
            }
            let Some(&(_, src)) = order.get(at) else {
                break;
            };
            if src == start {
                break;
            }
            part.swap(at, src);
            at = src;
        }
    }
}

/// A segment copied out of its frame: the fields the flow table reads and
/// where its payload sits in the batch's bytes.
#[derive(Clone, Copy)]
struct SegRec {
    share: u16,
    src: Endpoint,
    dst: Endpoint,
    seq: u32,
    ack: u32,
    flags: TcpFlags,
    wire_len: u32,
    meta: SegMeta,
    at: u32,
    len: u32,
}

/// What the reader tells the shares, in capture order.
enum Item {
    Seg(SegRec),
    Tick(Timestamp),
    /// The next segments come from this input.
    Input(usize),
    /// A pcapng Decryption Secrets Block.
    Secrets(u32, Arc<Vec<u8>>, Arc<str>),
    /// The end of a capture (of a group of files read as one): every flow
    /// ends.
    Finish,
    /// A new capture starts; `true`: a pcapng (secrets may come in it).
    Start(bool),
}

/// Items with the event number of each, and the payload bytes of the
/// segments among them.
#[derive(Default)]
pub struct Batch {
    items: Vec<(u64, Item)>,
    bytes: Vec<u8>,
}

impl Batch {
    fn clear(&mut self) {
        self.items.clear();
        self.bytes.clear();
    }
}

/// The shares one thread owns (all of them with one thread).
pub struct Shard {
    /// By share number; `None` for the shares of other threads.
    analyzers: Vec<Option<Analyzer>>,
    config: AnalyzerConfig,
    keys: Option<Arc<KeyLog>>,
    /// The store this thread's analyzers share: a pcapng's Decryption
    /// Secrets Blocks go there, in capture order.
    store: Option<KeyStore>,
    input: usize,
    owned: Vec<usize>,
}

impl Shard {
    /// The shares `owned` of `shares`, each with `config` divided
    /// ([`share_config`]); `keys`: the key logs given, shared by every
    /// thread (each thread's store copies them only if a pcapng's secrets
    /// add to them, so that secrets met in a capture reach each thread at
    /// the same point of the capture).
    pub fn new(
        config: &AnalyzerConfig,
        shares: usize,
        owned: Vec<usize>,
        keys: Option<Arc<KeyLog>>,
    ) -> Self {
        let mut s = Shard {
            analyzers: (0..shares).map(|_| None).collect(),
            config: share_config(config, shares),
            keys,
            store: None,
            input: 0,
            owned,
        };
        s.reset(false);
        s
    }

    /// New analyzers (a new capture); `pcapng`: secrets may come in it.
    pub fn reset(&mut self, pcapng: bool) {
        let store = match (&self.keys, pcapng) {
            (Some(k), _) => Some(KeyStore::shared(Arc::clone(k))),
            (None, true) => Some(KeyStore::default()),
            (None, false) => None,
        };
        for &i in &self.owned {
            if let Some(slot) = self.analyzers.get_mut(i) {
                *slot = Some(match &store {
                    Some(k) => Analyzer::with_keys(self.config, k.clone()),
                    None => Analyzer::new(self.config),
                });
            }
        }
        self.store = store;
    }

    pub fn set_input(&mut self, input: usize) {
        self.input = input;
    }

    /// One segment of share `share`, event `event`.
    pub fn segment(
        &mut self,
        share: usize,
        event: u64,
        seg: &Segment<'_>,
        meta: SegMeta,
        out: &mut Vec<OrderedReport>,
    ) {
        let input = self.input;
        let Some(Some(a)) = self.analyzers.get_mut(share) else {
            return;
        };
        let mut rank = 0;
        a.segment(seg, meta, &mut |report| {
            out.push(OrderedReport {
                key: OrderKey { event, rank },
                input,
                report,
            });
            rank += 1;
        });
    }

    /// The reader's clock: idle flows, and flows past their linger after an
    /// RST or their wait for a final ACK, end.
    pub fn tick(&mut self, event: u64, now: Timestamp, out: &mut Vec<OrderedReport>) {
        let input = self.input;
        let from = out.len();
        for a in self.analyzers.iter_mut().flatten() {
            a.tick(now, &mut |report| {
                out.push(OrderedReport::by_first_frame(event, input, report))
            });
        }
        sort_from(out, from);
    }

    /// Secrets from a pcapng; the warnings about them.
    pub fn secrets(&mut self, kind: u32, data: &[u8], source: &str) -> Vec<KeyLogWarning> {
        if let Some(store) = &self.store {
            // the analyzers share it
            return store.add_dsb(kind, data, source);
        }
        let mut warnings = Vec::new();
        for a in self.analyzers.iter_mut().flatten() {
            warnings = a.add_decryption_secrets(kind, data, source);
        }
        warnings
    }

    /// The capture is over: every flow ends, its report handed to `out` as
    /// it ends, in key order (by first frame, merged over the shares), so
    /// that the reports of a million flows still open are not all held at
    /// once. Returns the counts of the capture's analyzers.
    pub fn finish_each(&mut self, event: u64, out: &mut dyn FnMut(OrderedReport)) -> AnalyzerStats {
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;
        let input = self.input;
        // each share's flows by first frame; a heap of each share's next
        let mut orders: Vec<std::iter::Peekable<std::vec::IntoIter<(u64, FinishTicket)>>> = self
            .analyzers
            .iter()
            .map(|a| {
                a.as_ref()
                    .map(Analyzer::finish_order)
                    .unwrap_or_default()
                    .into_iter()
                    .peekable()
            })
            .collect();
        let mut next: BinaryHeap<Reverse<(u64, usize)>> = orders
            .iter_mut()
            .enumerate()
            .filter_map(|(share, order)| Some(Reverse((order.peek()?.0, share))))
            .collect();
        while let Some(Reverse((_, share))) = next.pop() {
            let Some(order) = orders.get_mut(share) else {
                continue;
            };
            if let (Some((_, t)), Some(Some(a))) = (order.next(), self.analyzers.get_mut(share)) {
                a.finish_one(t, &mut |report| {
                    out(OrderedReport::by_first_frame(event, input, report))
                });
            }
            if let Some(&(frame, _)) = order.peek() {
                next.push(Reverse((frame, share)));
            }
        }
        let mut stats = AnalyzerStats::default();
        for a in self.analyzers.iter_mut().flatten() {
            a.finished();
            stats.add(&a.stats());
        }
        stats
    }

    /// TLS flows reported so far (for the progress bar).
    pub fn tls_flows(&self) -> u64 {
        self.analyzers
            .iter()
            .flatten()
            .map(|a| a.stats().tls_flows)
            .sum()
    }

    /// The batch's items in order; reports go to `out`, and when the end
    /// of a capture ends many flows, `out` is handed to `part` every
    /// [`PART`] reports (in key order, before what follows).
    fn run(
        &mut self,
        batch: &Batch,
        out: &mut Vec<OrderedReport>,
        done: &mut Done,
        part: &mut dyn FnMut(Vec<OrderedReport>),
    ) {
        for (event, item) in &batch.items {
            match item {
                Item::Seg(r) => {
                    let end = r.at.saturating_add(r.len) as usize;
                    let payload = batch.bytes.get(r.at as usize..end).unwrap_or(&[]);
                    let seg = Segment {
                        src: r.src,
                        dst: r.dst,
                        seq: r.seq,
                        ack: r.ack,
                        flags: r.flags,
                        payload,
                        wire_len: r.wire_len,
                    };
                    self.segment(usize::from(r.share), *event, &seg, r.meta, out);
                }
                Item::Tick(now) => self.tick(*event, *now, out),
                Item::Input(i) => self.set_input(*i),
                Item::Secrets(kind, data, source) => {
                    let w = self.secrets(*kind, data, source);
                    done.warnings.extend(w.iter().map(|w| w.to_string()));
                }
                Item::Finish => {
                    let stats = self.finish_each(*event, &mut |r| {
                        out.push(r);
                        if out.len() >= PART {
                            part(std::mem::take(out));
                        }
                    });
                    done.stats
                        .get_or_insert_with(AnalyzerStats::default)
                        .add(&stats);
                }
                Item::Start(pcapng) => self.reset(*pcapng),
            }
        }
    }
}

/// What a worker hands back for a batch, besides the reports.
#[derive(Default)]
pub struct Done {
    /// The counts of a capture that ended in this batch.
    pub stats: Option<AnalyzerStats>,
    pub warnings: Vec<String>,
}

/// A worker hands a batch's reports back in parts of this many when the
/// end of a capture ends many flows, so that they are not all held at once.
#[cfg(not(test))]
const PART: usize = 4096;
/// (Parts of a few reports in the unit tests' small captures.)
#[cfg(test)]
const PART: usize = 7;

/// A worker's answer to a batch: its reports in key order, after those of
/// the answers before; `batch` (to be filled again) and `done` come with
/// the last answer to a batch, the parts before it have `more`.
struct Answer {
    reports: Vec<OrderedReport>,
    batch: Option<Batch>,
    done: Done,
    more: bool,
}

struct Worker {
    to: SyncSender<Batch>,
    from: Receiver<Answer>,
    handle: Option<JoinHandle<()>>,
}

/// Batches in flight per worker before the reader waits for answers.
const IN_FLIGHT: usize = 4;
/// Segments per batch (over all workers) before it is handed over.
const BATCH_SEGMENTS: usize = 4096;
/// Payload bytes per batch before it is handed over.
const BATCH_BYTES: usize = 1 << 20;

/// The reader's side of N worker threads, each owning some shares.
pub struct Workers {
    workers: Vec<Worker>,
    shares: usize,
    /// The batch being filled for each worker.
    filling: Vec<Batch>,
    spare: Vec<Batch>,
    segments: usize,
    bytes: usize,
    /// Batches handed over and not answered yet (each went to every worker).
    pending: usize,
}

impl Workers {
    /// `threads` workers (at least 2 make sense; 1 works) over the shares.
    pub fn start(
        threads: usize,
        config: &AnalyzerConfig,
        keys: Option<&Arc<KeyLog>>,
    ) -> std::io::Result<Workers> {
        let shares = shares(config);
        let n = threads.clamp(1, shares);
        let mut workers = Vec::with_capacity(n);
        for w in 0..n {
            let owned: Vec<usize> = (0..shares).filter(|s| s % n == w).collect();
            let mut shard = Shard::new(config, shares, owned, keys.cloned());
            let (to, rx) = mpsc::sync_channel::<Batch>(IN_FLIGHT);
            // answers bounded too (each batch's, and the parts of a long
            // end of capture): the reader never waits to hand a batch over
            // (it keeps fewer than IN_FLIGHT pending), so a worker waiting
            // here only waits for the reader to read
            let (tx, from) = mpsc::sync_channel::<Answer>(IN_FLIGHT + 1);
            let handle = thread::Builder::new()
                .name(format!("tlsclose-shard-{w}"))
                .spawn(move || {
                    while let Ok(batch) = rx.recv() {
                        let mut reports = Vec::new();
                        let mut done = Done::default();
                        let mut gone = false;
                        shard.run(&batch, &mut reports, &mut done, &mut |part| {
                            gone |= tx
                                .send(Answer {
                                    reports: part,
                                    batch: None,
                                    done: Done::default(),
                                    more: true,
                                })
                                .is_err();
                        });
                        if gone
                            || tx
                                .send(Answer {
                                    reports,
                                    batch: Some(batch),
                                    done,
                                    more: false,
                                })
                                .is_err()
                        {
                            return;
                        }
                    }
                })?;
            workers.push(Worker {
                to,
                from,
                handle: Some(handle),
            });
        }
        Ok(Workers {
            filling: (0..n).map(|_| Batch::default()).collect(),
            workers,
            shares,
            spare: Vec::new(),
            segments: 0,
            bytes: 0,
            pending: 0,
        })
    }

    fn worker_of(&self, share: usize) -> usize {
        share % self.workers.len().max(1)
    }

    /// Copies a segment into its worker's batch; true when the batch is
    /// full and should be handed over ([`Workers::flush`]).
    pub fn segment(&mut self, event: u64, seg: &Segment<'_>, meta: SegMeta) -> bool {
        let share = share_of(&seg.src, &seg.dst, self.shares);
        let w = self.worker_of(share);
        let Some(b) = self.filling.get_mut(w) else {
            return false;
        };
        let at = b.bytes.len();
        b.bytes.extend_from_slice(seg.payload);
        b.items.push((
            event,
            Item::Seg(SegRec {
                share: share as u16,
                src: seg.src,
                dst: seg.dst,
                seq: seg.seq,
                ack: seg.ack,
                flags: seg.flags,
                wire_len: seg.wire_len,
                meta,
                at: at as u32,
                len: seg.payload.len() as u32,
            }),
        ));
        self.segments += 1;
        self.bytes += seg.payload.len();
        self.segments >= BATCH_SEGMENTS || self.bytes >= BATCH_BYTES
    }

    fn broadcast(&mut self, event: u64, item: impl Fn() -> Item) {
        for b in &mut self.filling {
            b.items.push((event, item()));
        }
    }

    pub fn tick(&mut self, event: u64, now: Timestamp) {
        self.broadcast(event, || Item::Tick(now));
    }

    pub fn input(&mut self, event: u64, input: usize) {
        self.broadcast(event, || Item::Input(input));
    }

    pub fn secrets(&mut self, event: u64, kind: u32, data: Vec<u8>, source: &str) {
        let (data, source): (Arc<Vec<u8>>, Arc<str>) = (Arc::new(data), Arc::from(source));
        self.broadcast(event, || {
            Item::Secrets(kind, Arc::clone(&data), Arc::clone(&source))
        });
    }

    /// Ends the capture: the next [`Workers::flush`] hands back every flow
    /// and the capture's counts.
    pub fn finish(&mut self, event: u64) {
        self.broadcast(event, || Item::Finish);
    }

    /// A new capture starts (`pcapng`: its analyzers get a key store for
    /// its secrets).
    pub fn begin(&mut self, event: u64, pcapng: bool) {
        self.broadcast(event, || Item::Start(pcapng));
    }

    /// Hands the batches over (one to each worker, even empty, so that
    /// answers come in lockstep), and answers what the workers have done,
    /// in output order, once at most [`IN_FLIGHT`] batches are pending
    /// (all of them when `all`).
    pub fn flush(
        &mut self,
        all: bool,
        out: &mut dyn FnMut(OrderedReport),
        done: &mut Done,
    ) -> Result<(), WorkerGone> {
        for (w, worker) in self.workers.iter().enumerate() {
            let next = self.spare.pop().unwrap_or_default();
            let Some(slot) = self.filling.get_mut(w) else {
                continue;
            };
            let batch = std::mem::replace(slot, next);
            worker.to.send(batch).map_err(|_| WorkerGone)?;
        }
        self.pending += 1;
        self.segments = 0;
        self.bytes = 0;
        let keep = if all { 0 } else { IN_FLIGHT - 1 };
        while self.pending > keep {
            self.collect(out, done)?;
        }
        Ok(())
    }

    /// The oldest pending batch's answers from every worker, merged (a
    /// worker's answer may come in parts: the next is read when the last
    /// is used up).
    fn collect(
        &mut self,
        out: &mut dyn FnMut(OrderedReport),
        done: &mut Done,
    ) -> Result<(), WorkerGone> {
        let mut lists = Vec::with_capacity(self.workers.len());
        for w in 0..self.workers.len() {
            lists.push(self.answer(w, done)?);
        }
        self.pending = self.pending.saturating_sub(1);
        // each list is in key order: merge them
        loop {
            for (w, l) in lists.iter_mut().enumerate() {
                while l.1 && l.0.peek().is_none() {
                    *l = self.answer(w, done)?;
                }
            }
            let mut best: Option<(usize, OrderKey)> = None;
            for (i, (l, _)) in lists.iter_mut().enumerate() {
                if let Some(k) = l.peek() {
                    if best.is_none_or(|(_, b)| k.key < b) {
                        best = Some((i, k.key));
                    }
                }
            }
            let Some((i, _)) = best else {
                break;
            };
            if let Some(k) = lists.get_mut(i).and_then(|(l, _)| l.next()) {
                out(k);
            }
        }
        Ok(())
    }

    /// Worker `w`'s next answer: its reports, and whether more parts of
    /// the batch's answer follow. The last part's counts and warnings go
    /// to `done` (every worker read the same secrets: their warnings
    /// once), its batch back to the spares.
    fn answer(
        &mut self,
        w: usize,
        done: &mut Done,
    ) -> Result<(std::iter::Peekable<std::vec::IntoIter<OrderedReport>>, bool), WorkerGone> {
        let worker = self.workers.get(w).ok_or(WorkerGone)?;
        let mut a = worker.from.recv().map_err(|_| WorkerGone)?;
        if let Some(s) = a.done.stats {
            done.stats
                .get_or_insert_with(AnalyzerStats::default)
                .add(&s);
        }
        if w == 0 {
            done.warnings.append(&mut a.done.warnings);
        }
        if let Some(mut batch) = a.batch {
            batch.clear();
            self.spare.push(batch);
        }
        Ok((a.reports.into_iter().peekable(), a.more))
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        // closing the channels ends the threads
        let handles: Vec<_> = self
            .workers
            .iter_mut()
            .filter_map(|w| w.handle.take())
            .collect();
        self.workers.clear();
        for h in handles {
            let _ = h.join();
        }
    }
}

/// A worker thread ended unexpectedly (it panicked).
#[derive(Debug)]
pub struct WorkerGone;

#[cfg(test)]
mod tests {
    use super::{pair_hash, share_of, shares, sort_tail_by_key, OrderedReport, Shard};
    use proptest::prelude::*;
    use tlsclose_analysis::{AnalyzerConfig, Endpoint};

    /// Client `i`'s ClientHello (`hello`) to the server, as frame `i + 1`
    /// (a flow without its SYN, still open after it).
    fn hello_from(i: u16, hello: &[u8]) -> (tlsclose_capture::Segment<'_>, tlsclose_tcp::SegMeta) {
        let frame = u64::from(i) + 1;
        let ts = tlsclose_capture::Timestamp(1_000_000 * frame as i64);
        let seg = tlsclose_capture::Segment {
            src: Endpoint {
                ip: std::net::IpAddr::V4([10, 1, (i >> 8) as u8, i as u8].into()),
                port: 40000 + i,
            },
            dst: Endpoint {
                ip: std::net::IpAddr::V4([10, 0, 0, 1].into()),
                port: 443,
            },
            seq: 1,
            ack: 1,
            flags: tlsclose_capture::TcpFlags {
                ack: true,
                psh: true,
                ..Default::default()
            },
            payload: hello,
            wire_len: hello.len() as u32,
        };
        (seg, tlsclose_tcp::SegMeta::at(frame, ts))
    }

    /// A shard of every share, fed a ClientHello from each of `n` clients
    /// (one frame each, in frame order), all still open.
    fn open_flows(n: u16) -> Shard {
        let config = AnalyzerConfig::default();
        let shares = shares(&config);
        let mut shard = Shard::new(&config, shares, (0..shares).collect(), None);
        let hello = tlsclose_testkit::tls::client_hello_record(b"a.test");
        let mut ended = Vec::new();
        for i in 0..n {
            let (seg, meta) = hello_from(i, &hello);
            let share = share_of(&seg.src, &seg.dst, shares);
            shard.segment(share, meta.frame, &seg, meta, &mut ended);
        }
        assert!(ended.is_empty(), "every flow is still open");
        shard
    }

    /// The end of a capture hands each flow's report out as it ends, in
    /// first-frame order merged over the shares: the order sorting all of
    /// them would give, from flows spread over every share.
    #[test]
    fn the_end_of_a_capture_hands_reports_out_in_first_frame_order() {
        let mut shard = open_flows(500);
        let mut got: Vec<OrderedReport> = Vec::new();
        let stats = shard.finish_each(501, &mut |r| got.push(r));
        assert_eq!(stats.tls_flows, 500);
        let frames: Vec<u64> = got.iter().map(|r| r.report.first_frame).collect();
        assert_eq!(frames, (1..=500).collect::<Vec<u64>>());
        assert!(got
            .iter()
            .all(|r| r.key.event == 501 && r.key.rank == r.report.first_frame));
        let shares_used: std::collections::HashSet<usize> = got
            .iter()
            .map(|r| share_of(&r.report.client, &r.report.server, 16))
            .collect();
        assert_eq!(
            shares_used.len(),
            16,
            "the flows are spread over every share"
        );
        // and the shard is empty after it
        let mut again = Vec::new();
        shard.finish_each(502, &mut |r| again.push(r));
        assert!(again.is_empty());
    }

    /// With worker threads the end of a capture comes back in parts (of
    /// 7 reports in these tests) merged as they come: the same reports in
    /// the same order as on one thread, for 1 to 4 workers.
    #[test]
    fn workers_hand_the_end_of_a_capture_back_in_parts_in_order() {
        let mut one = open_flows(300);
        let mut want = Vec::new();
        one.finish_each(301, &mut |r| want.push(r.report.first_frame));
        let config = AnalyzerConfig::default();
        let hello = tlsclose_testkit::tls::client_hello_record(b"a.test");
        for threads in 1..=4 {
            let Ok(mut w) = super::Workers::start(threads, &config, None) else {
                panic!("workers start");
            };
            let mut got = Vec::new();
            let mut done = super::Done::default();
            for i in 0..300u16 {
                let (seg, meta) = hello_from(i, &hello);
                if w.segment(meta.frame, &seg, meta) {
                    assert!(w
                        .flush(false, &mut |r| got.push(r.report.first_frame), &mut done)
                        .is_ok());
                }
            }
            w.finish(301);
            assert!(w
                .flush(true, &mut |r| got.push(r.report.first_frame), &mut done)
                .is_ok());
            assert_eq!(got, want, "{threads} workers");
            assert_eq!(done.stats.map(|s| s.tls_flows), Some(300));
        }
    }

    proptest! {
        /// A segment's share is the pair's hash modulo the shares, for
        /// every number of shares, and the same both ways.
        #[test]
        fn shares_are_the_hash_modulo_their_number(
            a: u32, b: u128, pa: u16, pb: u16, six: bool, shares in 1usize..=16,
        ) {
            let ip_b = if six {
                std::net::IpAddr::V6(b.into())
            } else {
                std::net::IpAddr::V4((b as u32).into())
            };
            let x = Endpoint { ip: std::net::IpAddr::V4(a.into()), port: pa };
            let y = Endpoint { ip: ip_b, port: pb };
            let want = (pair_hash(&x, &y) % shares as u64) as usize;
            prop_assert_eq!(share_of(&x, &y, shares), want);
            prop_assert_eq!(share_of(&y, &x, shares), want);
        }

        /// The tail comes out as a stable sort orders it; the head stays.
        #[test]
        fn the_tail_is_sorted_stably(
            v in proptest::collection::vec((0u8..6, any::<u16>()), 0..60),
            from in 0usize..70,
        ) {
            let mut got = v.clone();
            sort_tail_by_key(&mut got, from, |e| e.0);
            let mut want = v.clone();
            if let Some(tail) = want.get_mut(from..) {
                tail.sort_by_key(|e| e.0);
            }
            prop_assert_eq!(got, want);
        }
    }
}
