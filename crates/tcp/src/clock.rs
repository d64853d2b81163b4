//! The capture clock: the time that idle timeouts are counted in, for a
//! sequence of frames whose timestamps misbehave.
//!
//! Real captures carry bad timestamps: one frame decades in the future (a
//! driver writing garbage), one at the epoch, interfaces merged out of
//! order, an NTP step backwards, and captures joined together across a
//! quiet spell. Fed raw, such a frame moves the flow table's idea of
//! "now": one SYN-ACK thirty years ahead ends every live flow as idle. The
//! [`CaptureClock`] sits on the reader side (it must see every frame of an
//! input, in order, whatever thread analyses them) and gives each frame a
//! *clock time* that only the flow table's bookkeeping (idle timeouts,
//! lingers) and in-flow durations use. What is printed is always the
//! frame's own timestamp ([`crate::SegMeta::ts`]).
//!
//! * A frame within the timeline (no more than [`ClockConfig::backward_ns`]
//!   before the clock, less than [`ClockConfig::jump_ns`] after it) is
//!   handled at once at its own time; the clock moves to it if it is later.
//!   The clock never goes backwards.
//! * A frame off the timeline is *held*, undecided, and so are the frames
//!   after it while they agree with it: no frame is handled before its
//!   clock time is known. If the timeline comes back, the held frames were
//!   outliers: they are handled at the clock's time (warned once, with the
//!   frame number). If [`ClockConfig::confirm`] consecutive frames agree on
//!   the new timeline, the step is real and the held frames are handled on
//!   it: *forward*, the clock follows (a step forward and a quiet period
//!   look alike; flows idle across it end by the idle timeout before any
//!   frame after it is handled, warned once when the jump is at least the
//!   idle timeout); *backward*, the clock counts on from where it was, the
//!   new timeline's first frame at the clock's time (warned once).
//! * The capture's first frames are held until the timeline is established
//!   the same way, so a capture that starts with an outlier is read on its
//!   real timeline.
//!
//! Because every frame after a step is handled only once the step is
//! decided, it is handled exactly as if the capture had started there: no
//! flow can be given a time it does not have and be ended by the step.
//!
//! The caller keeps the held frames (at most `confirm - 1` once the
//! timeline is known, and a bounded number at the start) and hands them on
//! when [`CaptureClock::tick`] or [`CaptureClock::finish`] releases them,
//! oldest first, with their clock times ([`CaptureClock::released`]).
//!
//! Cost: a few comparisons per frame on the timeline, no allocation.

use std::fmt;
use tlsclose_capture::Timestamp;

/// When a frame is off the capture's timeline, and how a step is confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockConfig {
    /// A frame this much (ns) or more after the clock is a forward jump to
    /// confirm. Jumps shorter than this are taken at once: no flow that
    /// was active just before can reach the idle timeout by them when this
    /// is at least the idle timeout (see [`ClockConfig::for_idle_timeout`]).
    pub jump_ns: i64,
    /// A frame more than this (ns) before the clock is a backward jump to
    /// confirm; less is ordinary reordering (it keeps its own time).
    pub backward_ns: i64,
    /// Consecutive frames agreeing on a new timeline that confirm a step
    /// (the first off-timeline frame included), at least 2.
    pub confirm: u32,
    /// The flow table's idle timeout (for the words of a warning).
    pub idle_timeout_ns: i64,
}

impl ClockConfig {
    /// The configuration that protects flows against the idle timeout
    /// `idle_timeout_ns`: forward jumps shorter than it (or than a minute)
    /// are taken at once, so a quiet period of less than the timeout keeps
    /// its real length in every figure; 2 s of reordering is tolerated; 3
    /// agreeing frames confirm a step.
    pub fn for_idle_timeout(idle_timeout_ns: i64) -> Self {
        ClockConfig {
            jump_ns: idle_timeout_ns.max(60 * NS),
            backward_ns: 2 * NS,
            confirm: 3,
            idle_timeout_ns,
        }
    }
}

impl Default for ClockConfig {
    fn default() -> Self {
        ClockConfig::for_idle_timeout(300 * NS)
    }
}

const NS: i64 = 1_000_000_000;

/// What the clock did, for the summary and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClockStats {
    /// Frames whose timestamps were off the timeline and not confirmed by
    /// the frames after them (their time was the clock's).
    pub outliers: u64,
    /// Confirmed steps forward (taken as elapsed time).
    pub forward_steps: u64,
    /// Confirmed steps backward (the clock held still).
    pub backward_steps: u64,
}

/// Something the user should know about the capture's timestamps (each
/// kind is reported once per clock, at its first occurrence).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockWarning {
    /// The frame's timestamp was `off_ns` away from the frames around it
    /// (positive: in the future); the clock gave it their time.
    Outlier { frame: u64, off_ns: i64 },
    /// From this frame on, timestamps were `by_ns` earlier than the clock;
    /// the clock counts on from where it was.
    StepBack { frame: u64, by_ns: i64 },
    /// From this frame on, timestamps were `by_ns` later than the clock
    /// (no frames for that long, or a clock step): the clock followed, so
    /// flows idle across it end by the idle timeout (`idle_timeout_ns`).
    StepForward {
        frame: u64,
        by_ns: i64,
        idle_timeout_ns: i64,
    },
}

impl fmt::Display for ClockWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ClockWarning::Outlier { frame, off_ns } => write!(
                f,
                "capture time: frame {frame}'s timestamp is {} {} the frames around it; it is \
                 shown as recorded, and idle timeouts and durations count it at their time",
                Duration(off_ns.unsigned_abs()),
                if off_ns > 0 { "after" } else { "before" },
            ),
            ClockWarning::StepForward {
                frame,
                by_ns,
                idle_timeout_ns,
            } => write!(
                f,
                "capture time jumps ahead by {} at frame {frame} (no frames in between, or a \
                 clock step); flows idle across it were ended by the flow timeout ({}; raise \
                 --flow-timeout if this was a clock step)",
                Duration(by_ns.unsigned_abs()),
                Duration(idle_timeout_ns.unsigned_abs()),
            ),
            ClockWarning::StepBack { frame, by_ns } => write!(
                f,
                "capture time runs backwards by {} at frame {frame}; times are shown as \
                 recorded, and idle timeouts and durations count on from the time before",
                Duration(by_ns.unsigned_abs()),
            ),
        }
    }
}

/// A duration in words: `1.5 s`, `12 min`, `3.0 h`, `30.2 years`.
struct Duration(u64);

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0 as f64 / 1e9;
        if s < 120.0 {
            write!(f, "{s:.1} s")
        } else if s < 7200.0 {
            write!(f, "{:.0} min", s / 60.0)
        } else if s < 172_800.0 {
            write!(f, "{:.1} h", s / 3600.0)
        } else if s < 2.0 * 31_557_600.0 {
            write!(f, "{:.0} days", s / 86_400.0)
        } else {
            write!(f, "{:.1} years", s / 31_557_600.0)
        }
    }
}

/// A run of consecutive frames agreeing on a timeline that is not (yet)
/// the clock's.
#[derive(Debug, Clone, Copy)]
struct Pending {
    /// First frame of the run and its (offset) time.
    frame: u64,
    first: i64,
    /// Time of the latest agreeing frame.
    last: i64,
    count: u32,
}

/// What to do with the frame just ticked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tick {
    /// Handle it now, at this clock time (nothing is held).
    Now(Timestamp),
    /// Keep it (with the frames held before it): its time is not decided.
    /// Then hand on the `released` oldest kept frames, this one possibly
    /// included, at the times [`CaptureClock::released`] gives.
    Hold { released: usize },
}

/// Frames held at the start before the timeline is taken as it stands.
const MAX_START_HOLD: usize = 64;

/// See the module docs.
#[derive(Debug, Clone)]
pub struct CaptureClock {
    config: ClockConfig,
    /// The clock (ns); None until the timeline is established.
    now: Option<i64>,
    /// Added to raw timestamps (changed by a confirmed backward step).
    offset: i64,
    /// Forward slack: time known to have passed without frames (a quiet
    /// live input), so a frame that far ahead is on the timeline.
    slack: i64,
    pending: Option<Pending>,
    /// Before the timeline is established: the runs held so far, oldest
    /// first (the last one is `pending`).
    start_runs: Vec<Pending>,
    /// The (offset) times of the held frames, oldest first.
    held: std::collections::VecDeque<i64>,
    released: Vec<Timestamp>,
    stats: ClockStats,
    warned_outlier: bool,
    warned_back: bool,
    warned_forward: bool,
    warnings: Vec<ClockWarning>,
}

impl Default for CaptureClock {
    fn default() -> Self {
        CaptureClock::new(ClockConfig::default())
    }
}

impl CaptureClock {
    pub fn new(config: ClockConfig) -> Self {
        CaptureClock {
            config: ClockConfig {
                confirm: config.confirm.max(2),
                idle_timeout_ns: config.idle_timeout_ns,
                jump_ns: config.jump_ns.max(1),
                backward_ns: config.backward_ns.max(0),
            },
            now: None,
            offset: 0,
            slack: 0,
            pending: None,
            start_runs: Vec::new(),
            held: std::collections::VecDeque::new(),
            released: Vec::new(),
            stats: ClockStats::default(),
            warned_outlier: false,
            warned_back: false,
            warned_forward: false,
            warnings: Vec::new(),
        }
    }

    fn in_line(&self, from: i64, t: i64, slack: i64) -> bool {
        let d = t.saturating_sub(from);
        d >= -self.config.backward_ns && d < self.config.jump_ns.saturating_add(slack)
    }

    /// The next frame (number, raw timestamp): handle it now, or hold it.
    pub fn tick(&mut self, frame: u64, raw: Timestamp) -> Tick {
        let t = raw.0.saturating_add(self.offset);
        self.released.clear();
        let Some(now) = self.now else {
            return self.starting(frame, t);
        };
        if self.pending.is_none() && self.in_line(now, t, self.slack) {
            self.now = Some(now.max(t));
            self.slack = 0;
            return Tick::Now(Timestamp(t));
        }
        self.held.push_back(t);
        let released = match self.pending {
            _ if self.in_line(now, t, self.slack) => {
                // back on the timeline: the held frames before this one
                // were outliers
                let held = self.held.len() - 1;
                if let Some(p) = self.pending.take() {
                    self.outliers(p, now);
                }
                self.release_at(held, now);
                self.now = Some(now.max(t));
                self.slack = 0;
                self.release_own(1);
                held + 1
            }
            Some(p) if self.in_line(p.last, t, 0) => {
                let p = Pending {
                    count: p.count + 1,
                    last: t,
                    ..p
                };
                self.pending = Some(p);
                if p.count < self.config.confirm {
                    return Tick::Hold { released: 0 };
                }
                self.confirmed(p, now)
            }
            _ => {
                // a new run: the one before it (if any) was outliers
                let before = self.held.len() - 1;
                if let Some(p) = self.pending.take() {
                    self.outliers(p, now);
                }
                self.release_at(before, now);
                self.pending = Some(Pending {
                    frame,
                    first: t,
                    last: t,
                    count: 1,
                });
                before
            }
        };
        Tick::Hold { released }
    }

    /// The capture's first frames: held until `confirm` consecutive frames
    /// agree (or too many are held).
    fn starting(&mut self, frame: u64, t: i64) -> Tick {
        self.held.push_back(t);
        let run = match self.pending {
            Some(p) if self.in_line(p.last, t, 0) => Pending {
                count: p.count + 1,
                last: t,
                ..p
            },
            _ => {
                if let Some(p) = self.pending {
                    self.start_runs.push(p);
                }
                Pending {
                    frame,
                    first: t,
                    last: t,
                    count: 1,
                }
            }
        };
        self.pending = Some(run);
        if run.count >= self.config.confirm {
            return Tick::Hold {
                released: self.establish(run.frame),
            };
        }
        if self.held.len() >= MAX_START_HOLD {
            return Tick::Hold {
                released: self.establish(self.best_start_run()),
            };
        }
        Tick::Hold { released: 0 }
    }

    /// No run confirmed a timeline at the start: the run whose first time
    /// most held frames agree with (the earliest of equals).
    fn best_start_run(&self) -> u64 {
        let score = |r: &Pending| {
            self.held
                .iter()
                .filter(|h| {
                    let d = h.saturating_sub(r.first);
                    d > -self.config.jump_ns && d < self.config.jump_ns
                })
                .count()
        };
        let mut best: Option<(usize, u64)> = None;
        for r in self.start_runs.iter().chain(self.pending.iter()) {
            let s = score(r);
            if best.is_none_or(|(b, _)| s > b) {
                best = Some((s, r.frame));
            }
        }
        best.map_or(0, |(_, f)| f)
    }

    /// The frames held at the start are decided, `chosen` being the first
    /// frame of the run that confirmed a timeline (or of the best one,
    /// when no run did). The
    /// held frames are replayed run by run as if the timeline had been
    /// known: a run of several frames, and the chosen one, is a timeline (the
    /// first one the clock's, a later one a step forward or backward from
    /// it); a lone frame is on the timeline when it agrees with the clock
    /// or with the next timeline's start, else an outlier at the clock's
    /// time.
    fn establish(&mut self, chosen: u64) -> usize {
        let mut runs = std::mem::take(&mut self.start_runs);
        runs.extend(self.pending.take());
        let held = std::mem::take(&mut self.held);
        let timeline = |r: &Pending| r.count >= 2 || r.frame == chosen;
        let mut now: Option<i64> = None;
        let mut frames = held.iter();
        for (i, r) in runs.iter().enumerate() {
            let first = r.first.saturating_add(self.offset);
            let at = if timeline(r) {
                if let Some(n) = now.filter(|&n| !self.in_line(n, first, 0)) {
                    self.step(*r, n);
                }
                None
            } else {
                let next = runs
                    .get(i + 1..)
                    .and_then(|rest| rest.iter().find(|r| timeline(r)))
                    .map(|r| r.first);
                let near_next = next.is_some_and(|f| {
                    let d = f.saturating_sub(r.first);
                    d > -self.config.backward_ns && d < self.config.jump_ns
                });
                match now {
                    Some(n) if self.in_line(n, first, 0) => None,
                    _ if near_next => None,
                    Some(n) => Some(n),
                    None => Some(next.map_or(first, |f| f.saturating_add(self.offset))),
                }
            };
            if let Some(at) = at {
                self.outliers(*r, at);
            }
            for h in frames.by_ref().take(r.count as usize) {
                let t = at.unwrap_or(h.saturating_add(self.offset));
                now = Some(now.map_or(t, |n| n.max(t)));
                self.released.push(Timestamp(t));
            }
        }
        self.now = now;
        self.slack = 0;
        held.len()
    }

    /// A confirmed step from the clock at `now` to the timeline of `p`
    /// (whose frames are then released at `raw + offset`).
    fn step(&mut self, p: Pending, now: i64) {
        let first = p.first.saturating_add(self.offset);
        if first > now {
            // a step forward (or a quiet period): real time
            self.stats.forward_steps += 1;
            if !self.warned_forward {
                self.warned_forward = true;
                self.warnings.push(ClockWarning::StepForward {
                    frame: p.frame,
                    by_ns: first.saturating_sub(now),
                    idle_timeout_ns: self.config.idle_timeout_ns,
                });
            }
        } else {
            // a step backward: the new timeline counts on from the clock,
            // its first frame at the clock's time
            self.stats.backward_steps += 1;
            let shift = now.saturating_sub(first);
            self.offset = self.offset.saturating_add(shift);
            if !self.warned_back {
                self.warned_back = true;
                self.warnings.push(ClockWarning::StepBack {
                    frame: p.frame,
                    by_ns: shift,
                });
            }
        }
    }

    /// A confirmed step after the timeline was established: the held
    /// frames (the run `p`) are released on the new timeline.
    fn confirmed(&mut self, p: Pending, now: i64) -> usize {
        self.pending = None;
        // held times carry the offset of when they were held
        let before = self.offset;
        self.step(
            Pending {
                first: p.first.saturating_sub(before),
                ..p
            },
            now,
        );
        let shift = self.offset.saturating_sub(before);
        let n = self.held.len();
        let mut last = now;
        for _ in 0..n {
            if let Some(h) = self.held.pop_front() {
                let t = h.saturating_add(shift);
                last = last.max(t);
                self.released.push(Timestamp(t));
            }
        }
        self.now = Some(last);
        self.slack = 0;
        n
    }

    /// Releases the `n` oldest held frames at time `at`.
    fn release_at(&mut self, n: usize, at: i64) {
        for _ in 0..n {
            if self.held.pop_front().is_some() {
                self.released.push(Timestamp(at));
            }
        }
    }

    /// Releases the `n` oldest held frames at their own (offset) times.
    fn release_own(&mut self, n: usize) {
        for _ in 0..n {
            if let Some(h) = self.held.pop_front() {
                self.released.push(Timestamp(h));
            }
        }
    }

    /// The input ends (or the frames held must be handed on now): every
    /// held frame is released. At the start, the longest run agreeing so
    /// far is the timeline; a step not confirmed was outliers.
    pub fn finish(&mut self) -> usize {
        self.released.clear();
        if self.held.is_empty() {
            return 0;
        }
        let Some(now) = self.now else {
            let chosen = self.best_start_run();
            return self.establish(chosen);
        };
        if let Some(p) = self.pending.take() {
            self.outliers(p, now);
        }
        let n = self.held.len();
        self.release_at(n, now);
        n
    }

    /// The clock times of the frames the last [`CaptureClock::tick`] or
    /// [`CaptureClock::finish`] released, oldest first.
    pub fn released(&self) -> &[Timestamp] {
        &self.released
    }

    /// A live input has been quiet for `ns` since its last frame: a frame
    /// up to that much later than usual is still on the timeline.
    pub fn quiet(&mut self, ns: i64) {
        self.slack = self.slack.max(ns);
    }

    /// Frames that did not start a new timeline were outliers.
    fn outliers(&mut self, p: Pending, now: i64) {
        self.stats.outliers += u64::from(p.count);
        if !self.warned_outlier {
            self.warned_outlier = true;
            self.warnings.push(ClockWarning::Outlier {
                frame: p.frame,
                off_ns: p.first.saturating_sub(now),
            });
        }
    }

    /// The clock: the latest time on the capture's timeline (None before
    /// the timeline is established).
    pub fn now(&self) -> Option<Timestamp> {
        self.now.map(Timestamp)
    }

    pub fn stats(&self) -> ClockStats {
        self.stats
    }

    /// Warnings since the last call (each kind at most once per clock).
    pub fn take_warnings(&mut self) -> Vec<ClockWarning> {
        std::mem::take(&mut self.warnings)
    }

    /// True when warnings are waiting (cheap: for the per-frame loop).
    pub fn has_warnings(&self) -> bool {
        !self.warnings.is_empty()
    }
}

#[cfg(test)]
mod tests;
