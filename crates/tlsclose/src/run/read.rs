//! The reading loop: frames from each input through the capture clock
//! (held until their time is known) to the flow table, on this thread or
//! the workers' shards, and their reports back to the run's state.

use super::input::open;
use super::source::any_live;
use super::RunState;
use crate::cli::Join;
use crate::output::extract::Placement;
use crate::run::shard::{self, Done, Shard, Workers};
use crate::run::source::{Next, Owned, Source};
use std::io::{self, Write};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tlsclose_analysis::{AnalyzerConfig, AnalyzerStats};
use tlsclose_capture::{CaptureError, CaptureFormat, Defragmenter, Frame, Timestamp};
use tlsclose_decrypt::KeyLog;
use tlsclose_tcp::{CaptureClock, ClockConfig, SegMeta, Tick, SWEEP_INTERVAL_NS};

/// Where segments go: the shares of the flow table on this thread, or on
/// worker threads. Either way reports come out in the same order.
pub(super) enum Engine {
    Inline { shard: Shard, shares: usize },
    Threads(Workers),
}

impl Engine {
    pub(super) fn inline(config: &AnalyzerConfig, keys: Option<&Arc<KeyLog>>) -> Engine {
        let shares = shard::shares(config);
        Engine::Inline {
            shard: Shard::new(config, shares, (0..shares).collect(), keys.cloned()),
            shares,
        }
    }
}

/// The capture being read: one file, or several whose times follow one
/// another (`--join`).
struct JoinedCapture {
    clock: CaptureClock,
    /// When the shares look for idle flows next (capture time).
    next_sweep: Option<Timestamp>,
    /// Frames of the group's earlier files: a frame's number in the group.
    offset: u64,
    /// Frames of the run before the group's first: a flow's id is this
    /// plus its first frame.
    base: u64,
    /// The last frame's time (as recorded) and its input.
    last_ts: Option<Timestamp>,
    last_input: usize,
}

/// The reader's side, across inputs.
pub(super) struct Reading<'e> {
    engine: &'e mut Engine,
    config: AnalyzerConfig,
    join: Join,
    /// Counts events (segments, clock ticks, ends of a capture): the order
    /// of the output.
    event: u64,
    group: Option<JoinedCapture>,
    /// Captures started.
    groups: u64,
    /// Frames of the inputs read so far.
    frames: u64,
    /// Each input's capture and frame offset in it (for `--extract`).
    placement: Vec<Placement>,
}

impl<'e> Reading<'e> {
    pub(super) fn new(
        engine: &'e mut Engine,
        config: AnalyzerConfig,
        join: Join,
        inputs: usize,
    ) -> Reading<'e> {
        Reading {
            engine,
            config,
            join,
            event: 0,
            group: None,
            groups: 0,
            frames: 0,
            placement: vec![Placement::default(); inputs],
        }
    }

    /// Each input's capture and frame offset in it (for `--extract`).
    pub(super) fn take_placement(&mut self) -> Vec<Placement> {
        std::mem::take(&mut self.placement)
    }

    /// Hands what the workers have done to the output (`all`: wait for
    /// everything handed over).
    fn drain(
        &mut self,
        all: bool,
        out: &mut RunState<'_>,
    ) -> Result<Option<AnalyzerStats>, Failure> {
        if let Engine::Threads(w) = &mut *self.engine {
            let mut done = Done::default();
            let r = w.flush(all, &mut |k| out.emit(k), &mut done);
            for m in done.warnings {
                out.warn(&m);
            }
            if r.is_err() {
                return Err(Failure::Output(io::Error::other("a worker thread failed")));
            }
            if let Some(stats) = done.stats {
                out.check().map_err(Failure::Output)?;
                return Ok(Some(stats));
            }
        }
        out.check().map_err(Failure::Output)?;
        Ok(None)
    }

    /// The counts of a capture that ended in input `input`.
    fn group_stats(&mut self, stats: AnalyzerStats, input: usize, out: &mut RunState<'_>) {
        out.summary.tls_flows += stats.tls_flows;
        out.summary.non_tls_flows += stats.non_tls_flows;
        let name = out.names.get(input).cloned().unwrap_or_default();
        limit_warnings(&name, &self.config, &stats, out);
    }

    /// Starts a capture (unless `input`'s first frame at `first` continues
    /// the one being read, see `--join`).
    fn begin(
        &mut self,
        input: usize,
        first: Timestamp,
        pcapng: bool,
        out: &mut RunState<'_>,
    ) -> Result<(), Failure> {
        if let Some(g) = &self.group {
            let join = match self.join {
                Join::Always => true,
                Join::Never => false,
                // rotated files follow one another; files of several
                // sensors overlap in time
                Join::Auto => g.last_ts.is_none_or(|last| first >= last),
            };
            if !join {
                self.end_group(out)?;
            }
        }
        if self.group.is_none() {
            self.groups += 1;
            self.event += 1;
            match &mut *self.engine {
                Engine::Inline { shard, .. } => shard.reset(pcapng),
                Engine::Threads(w) => w.begin(self.event, pcapng),
            }
            self.group = Some(JoinedCapture {
                clock: CaptureClock::new(ClockConfig::for_idle_timeout(
                    self.config.table.idle_timeout_ns,
                )),
                next_sweep: None,
                offset: 0,
                base: self.frames,
                last_ts: None,
                last_input: input,
            });
        }
        self.event += 1;
        match &mut *self.engine {
            Engine::Inline { shard, .. } => shard.set_input(input),
            Engine::Threads(w) => w.input(self.event, input),
        }
        if let Some(g) = &mut self.group {
            g.last_input = input;
            out.pipeline.set_base(input, g.base);
            if let Some(p) = self.placement.get_mut(input) {
                *p = Placement {
                    group: self.groups,
                    offset: g.offset,
                };
            }
        }
        Ok(())
    }

    /// The capture is over: every flow still open is reported.
    pub(super) fn end_group(&mut self, out: &mut RunState<'_>) -> Result<(), Failure> {
        let Some(group) = self.group.take() else {
            return Ok(());
        };
        self.event += 1;
        let stats = match &mut *self.engine {
            Engine::Inline { shard, .. } => {
                // each report written as its flow ends, none held
                Some(shard.finish_each(self.event, &mut |k| out.emit(k)))
            }
            Engine::Threads(w) => {
                w.finish(self.event);
                self.drain(true, out)?
            }
        };
        if let Some(stats) = stats {
            self.group_stats(stats, group.last_input, out);
        }
        out.check().map_err(Failure::Output)
    }

    /// One frame, at the capture clock's time `clock`: its segment to the
    /// analysis, or the reason it was skipped.
    fn frame(
        &mut self,
        defrag: &mut Defragmenter,
        frame: &Frame<'_>,
        clock: Timestamp,
        out: &mut RunState<'_>,
    ) -> Result<(), Failure> {
        match defrag.decode(frame) {
            Ok(seg) => self.segment(&seg, frame.number, frame.ts, clock, out),
            Err(why) => {
                *out.summary
                    .skipped_frames
                    .entry(why.to_string())
                    .or_default() += 1;
                Ok(())
            }
        }
    }

    /// The frames the capture clock released (the `n` oldest held), at
    /// the times it gave them.
    fn release(
        &mut self,
        defrag: &mut Defragmenter,
        held: &mut std::collections::VecDeque<Owned>,
        n: usize,
        out: &mut RunState<'_>,
    ) -> Result<(), Failure> {
        if n == 0 {
            return Ok(());
        }
        let times: Vec<Timestamp> = match &self.group {
            Some(g) => g.clock.released().to_vec(),
            None => return Ok(()),
        };
        for clock in times {
            let Some(h) = held.pop_front() else { break };
            self.frame(defrag, &h.frame(), clock, out)?;
        }
        Ok(())
    }

    /// The input ends (or a live one is quiet): the frames the clock still
    /// holds are decided and handled.
    fn release_all(
        &mut self,
        defrag: &mut Defragmenter,
        held: &mut std::collections::VecDeque<Owned>,
        out: &mut RunState<'_>,
    ) -> Result<(), Failure> {
        let n = match &mut self.group {
            Some(g) => g.clock.finish(),
            None => 0,
        };
        self.release(defrag, held, n, out)
    }

    /// One segment: `ts` the frame's own time, `clock` the capture clock's.
    fn segment(
        &mut self,
        seg: &tlsclose_capture::Segment<'_>,
        frame: u64,
        ts: Timestamp,
        clock: Timestamp,
        out: &mut RunState<'_>,
    ) -> Result<(), Failure> {
        let Some(g) = &mut self.group else {
            return Ok(());
        };
        let meta = SegMeta {
            frame: g.offset + frame,
            ts,
            clock,
        };
        let ts = clock;
        // idle flows are looked for every second of the reader's clock, in
        // every share at once
        let tick = match g.next_sweep {
            None => {
                g.next_sweep = Some(Timestamp(ts.0.saturating_add(SWEEP_INTERVAL_NS)));
                false
            }
            Some(t) if ts >= t => {
                g.next_sweep = Some(Timestamp(ts.0.saturating_add(SWEEP_INTERVAL_NS)));
                true
            }
            Some(_) => false,
        };
        match &mut *self.engine {
            Engine::Inline { shard, shares } => {
                let mut reports = Vec::new();
                if tick {
                    self.event += 1;
                    shard.tick(self.event, ts, &mut reports);
                }
                self.event += 1;
                let share = shard::share_of(&seg.src, &seg.dst, *shares);
                shard.segment(share, self.event, seg, meta, &mut reports);
                for k in reports {
                    out.emit(k);
                }
                Ok(())
            }
            Engine::Threads(w) => {
                if tick {
                    self.event += 1;
                    w.tick(self.event, ts);
                }
                self.event += 1;
                if w.segment(self.event, seg, meta) {
                    if let Some(stats) = self.drain(false, out)? {
                        // (a capture's end is always drained at once)
                        self.group_stats(stats, out.input, out);
                    }
                }
                Ok(())
            }
        }
    }

    /// Decryption Secrets Blocks read so far go to every share.
    fn secrets(
        &mut self,
        reader: &mut Source,
        dsbs: &mut usize,
        input: &str,
        out: &mut RunState<'_>,
    ) {
        for (kind, data) in reader.take_decryption_secrets() {
            *dsbs += 1;
            let source = format!("{input} (Decryption Secrets Block {dsbs})");
            self.event += 1;
            match &mut *self.engine {
                Engine::Inline { shard, .. } => {
                    for w in shard.secrets(kind, &data, &source) {
                        out.warn(&w.to_string());
                    }
                }
                Engine::Threads(w) => w.secrets(self.event, kind, data, &source),
            }
        }
    }

    /// A live input has been quiet for `quiet` (wall-clock time) since its
    /// last frame: the clock moves on by as much, so that flows waiting for
    /// their last packets, or idle, end on time.
    fn quiet(&mut self, quiet: std::time::Duration, out: &mut RunState<'_>) -> Result<(), Failure> {
        let Some(g) = &mut self.group else {
            return Ok(());
        };
        let Some(clock) = g.clock.now() else {
            return Ok(());
        };
        let ns = i64::try_from(quiet.as_nanos()).unwrap_or(i64::MAX);
        g.clock.quiet(ns);
        let now = Timestamp(clock.0.saturating_add(ns));
        if g.next_sweep.is_none_or(|t| now < t) {
            return Ok(());
        }
        g.next_sweep = Some(Timestamp(now.0.saturating_add(SWEEP_INTERVAL_NS)));
        self.event += 1;
        match &mut *self.engine {
            Engine::Inline { shard, .. } => {
                let mut reports = Vec::new();
                shard.tick(self.event, now, &mut reports);
                for k in reports {
                    out.emit(k);
                }
            }
            Engine::Threads(w) => w.tick(self.event, now),
        }
        out.check().map_err(Failure::Output)
    }

    fn tls_flows(&self) -> u64 {
        match &*self.engine {
            Engine::Inline { shard, .. } => shard.tls_flows(),
            Engine::Threads(_) => 0,
        }
    }
}

pub(super) enum Failure {
    /// The input could not be read (wholly or from some point on).
    Input,
    /// Writing the reports failed.
    Output(io::Error),
}

pub(super) fn read_one(
    input: &str,
    reading: &mut Reading<'_>,
    out: &mut RunState<'_>,
    show_progress: bool,
) -> Result<(), Failure> {
    let (reader, counter) = open(input, show_progress).map_err(|e| {
        let _ = writeln!(io::stderr(), "tlsclose: error: {e}");
        Failure::Input
    })?;
    // a live input is read on a thread of its own, so that a quiet pipe
    // still moves the clock on (source.rs)
    let live = matches!(reading.engine, Engine::Inline { .. }) && any_live(&[input.to_owned()]);
    let mut reader = Source::new(reader, live);
    let counter = counter.map(|(bar, count)| {
        out.progress = Some(bar);
        count
    });
    if let Some(i) = out.info() {
        i.format = Some(reader.format());
        i.gzip = reader.is_gzip();
        if input != "-" {
            i.size = std::fs::metadata(input).ok().map(|m| m.len());
        }
    }
    let pcapng = reader.format() == CaptureFormat::PcapNg;
    let mut dsbs = 0usize;
    let frames_before = out.summary.frames;
    let mut cut = false;
    let mut result = Ok(());
    let mut begun = false;
    let mut last_frame = 0u64;
    let mut last_ts = None;
    // IP fragments (of a tunnel, mostly) are held until their datagram is
    // whole (capture/src/defrag.rs)
    let mut defrag = Defragmenter::new();
    // frames the capture clock holds until their time is decided
    let mut held = std::collections::VecDeque::new();
    loop {
        // Ctrl-C: what was read is reported (a live input wakes this loop
        // every quarter of a second)
        if crate::run::interrupt::caught() {
            break;
        }
        match reader.next() {
            Ok(Next::Quiet(quiet)) => {
                // a quiet live input: what the clock holds is decided now
                // (nothing more is coming to confirm it), and time moves on
                reading.release_all(&mut defrag, &mut held, out)?;
                reading.quiet(quiet, out)?
            }
            Ok(Next::Frame(frame)) => {
                out.summary.frames += 1;
                if let Some(i) = out.pipeline.inputs.get_mut(out.input) {
                    i.saw(frame.ts);
                }
                if !begun {
                    begun = true;
                    reading.begin(out.input, frame.ts, pcapng, out)?;
                }
                last_frame = frame.number;
                last_ts = Some(frame.ts);
                if frame.number & 0x3ff == 0 {
                    let flows = out.emitted + reading.tls_flows();
                    if let (Some(bar), Some(count)) = (&mut out.progress, &counter) {
                        bar.tick(count.load(Ordering::Relaxed), flows);
                    }
                }
                let Some(group) = &mut reading.group else {
                    break;
                };
                let tick = group.clock.tick(group.offset + frame.number, frame.ts);
                if group.clock.has_warnings() {
                    for w in group.clock.take_warnings() {
                        out.warn(&format!("{input}: {w}"));
                    }
                }
                match tick {
                    Tick::Now(clock) => reading.frame(&mut defrag, &frame, clock, out)?,
                    Tick::Hold { released } => {
                        held.push_back(Owned::of(&frame));
                        reading.release(&mut defrag, &mut held, released, out)?;
                    }
                }
            }
            Ok(Next::End) => break,
            Err(e) => {
                if let CaptureError::Truncated { .. } = e {
                    cut = true;
                    out.warn(&e.to_string());
                } else {
                    let _ = writeln!(io::stderr(), "tlsclose: error: {e}");
                    result = Err(Failure::Input);
                }
                break;
            }
        }
        for w in reader.take_warnings() {
            out.warn(&w);
        }
        if pcapng && begun {
            reading.secrets(&mut reader, &mut dsbs, input, out);
        }
        out.check().map_err(Failure::Output)?;
    }
    reading.release_all(&mut defrag, &mut held, out)?;
    if let Some(g) = &mut reading.group {
        for w in g.clock.take_warnings() {
            out.warn(&format!("{input}: {w}"));
        }
    }
    for w in reader.take_warnings() {
        out.warn(&w);
    }
    if begun {
        reading.secrets(&mut reader, &mut dsbs, input, out);
    }
    if let Some(p) = &mut out.progress {
        p.clear();
    }
    let bytes_read = reader.bytes_read();
    if let Some(i) = out.info() {
        i.bytes_read = bytes_read;
    }
    if let Some(g) = &mut reading.group {
        if begun {
            g.offset += last_frame;
            g.last_ts = last_ts;
            reading.frames += last_frame;
        }
    }
    if reading.join == Join::Never || result.is_err() {
        // flows read before any damage are still reported
        reading.end_group(out)?;
    }
    let skipped = reader.skipped_bytes();
    out.summary.input_skipped_bytes += skipped;
    if out.summary.frames == frames_before && result.is_ok() && !cut {
        out.warn(&format!(
            "{input}: no packets after the file header ({bytes_read} bytes read)"
        ));
    }
    result
}

/// One warning per limit the input reached, and the counts in the summary.
fn limit_warnings(
    input: &str,
    config: &AnalyzerConfig,
    stats: &AnalyzerStats,
    out: &mut RunState<'_>,
) {
    let (t, l) = (&stats.table, &stats.limits);
    let counts = &mut out.summary.limits;
    counts.flows_evicted += t.evicted_flows;
    counts.reassembly_limit_gaps += l.reassembly_limit_gaps;
    counts.reassembly_total_limit_gaps += l.reassembly_total_limit_gaps;
    counts.alert_capped_flows += l.alert_capped_flows;
    counts.alerts_not_kept += l.alerts_not_kept;
    counts.names_cut_flows += l.names_cut_flows;
    counts.buffers_shed_flows += l.buffers_shed_flows;
    let mut warnings = Vec::new();
    if t.evicted_flows > 0 {
        warnings.push(format!(
            "flow table full (--max-flows {}): {} flows idle the longest were ended early and \
             reported as they were",
            config.table.max_flows, t.evicted_flows
        ));
    }
    if t.table_full_drops > 0 {
        warnings.push(format!(
            "flow table full (--max-flows {}): {} segments of further connections were dropped",
            config.table.max_flows, t.table_full_drops
        ));
    }
    if l.reassembly_limit_gaps > 0 {
        warnings.push(format!(
            "out-of-order buffer of a direction full (--reassembly-limit {}): {} holes given up \
             as gaps",
            config.table.reassembly_limit, l.reassembly_limit_gaps
        ));
    }
    if l.reassembly_total_limit_gaps > 0 {
        warnings.push(format!(
            "out-of-order bytes over all flows at their limit (--reassembly-total-limit {}): {} \
             holes given up as gaps",
            config.table.reassembly_total_limit, l.reassembly_total_limit_gaps
        ));
    }
    if l.buffers_shed_flows > 0 {
        warnings.push(format!(
            "bytes held over all flows at their limit (--reassembly-total-limit {}): {} flows \
             dropped a partial hello or record body",
            config.table.reassembly_total_limit, l.buffers_shed_flows
        ));
    }
    if l.alert_capped_flows > 0 {
        warnings.push(format!(
            "{} flows sent more alerts than kept (--max-alerts {}): {} alerts counted, not kept",
            l.alert_capped_flows, config.limits.max_alerts, l.alerts_not_kept
        ));
    }
    if l.names_cut_flows > 0 {
        warnings.push(format!(
            "{} flows had a server name or ALPN name longer than kept (--max-name-len {}): cut",
            l.names_cut_flows, config.limits.hello.max_name_len
        ));
    }
    for w in warnings {
        out.warn(&format!("{input}: {w}"));
    }
}
