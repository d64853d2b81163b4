//! The capture clock: one monotonic "now" for a sequence of frames whose
//! timestamps misbehave.
//!
//! Real captures carry bad timestamps: one frame decades in the future (a
//! driver writing garbage), one at the epoch, interfaces merged out of
//! order, an NTP step backwards. Fed raw, such a frame moves the flow
//! table's idea of "now": one SYN-ACK thirty years ahead ends every live
//! flow as idle, and a flow's idle-before-close computed across it is
//! nonsense. The [`CaptureClock`] sits on the reader side (it must see
//! every frame of an input, in order, whatever thread analyses them) and
//! gives each frame an *adjusted* time that the flow table and the
//! per-flow facts use instead:
//!
//! * A frame within the timeline (no more than [`ClockConfig::backward_ns`]
//!   before the clock, less than [`ClockConfig::jump_ns`] after it) keeps
//!   its own time; the clock moves to it if it is later. The clock never
//!   goes backwards, small reorderings keep their real times.
//! * A frame off the timeline is held at the clock's time, and the clock
//!   waits: if the frames after it return to the timeline, it was an
//!   outlier (ignored, warned once with its frame number). If
//!   [`ClockConfig::confirm`] consecutive frames agree on the new
//!   timeline, the step is real: *forward*, the clock follows (a step
//!   forward and a quiet period look alike, and the idle timeout must
//!   still end flows after a real quiet period; a jump of at least the
//!   idle timeout is warned once, as it ends the flows idle across it);
//!   *backward*, the clock
//!   holds still and the new timeline is shifted to continue from it
//!   (warned once), so time never runs backwards for the flows.
//!
//! The frames held while a step is being confirmed (at most `confirm - 1`)
//! get the clock's time: a flow's figures are never computed across a
//! timestamp that was not confirmed. A capture whose very first frame is
//! the outlier is set right once the real timeline is confirmed: that frame
//! is the outlier (warned as such) and the clock takes the real timeline's
//! time, backwards this once.
//!
//! Cost: a few comparisons per frame, no allocation (a warning is built
//! once per kind).

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
    /// (positive: in the future); its time was taken as the clock's.
    Outlier { frame: u64, off_ns: i64 },
    /// From this frame on, timestamps were `by_ns` earlier than the clock;
    /// they were shifted to continue from it.
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
                "capture time: frame {frame}'s timestamp is {} {} the frames around it; \
                 it was given their time (idle timeouts and per-flow times ignore it)",
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
                 clock step); flows idle across it were ended by the idle timeout ({}; raise \
                 --idle-timeout if this was a clock step)",
                Duration(by_ns.unsigned_abs()),
                Duration(idle_timeout_ns.unsigned_abs()),
            ),
            ClockWarning::StepBack { frame, by_ns } => write!(
                f,
                "capture time runs backwards by {} at frame {frame}; the frames from there \
                 on were shifted to continue from the time before",
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

/// Frames off the timeline that may start a new one.
#[derive(Debug, Clone, Copy)]
struct Pending {
    /// First frame off the timeline and its (offset) time.
    frame: u64,
    first: i64,
    /// Time of the latest agreeing frame.
    last: i64,
    count: u32,
}

/// See the module docs.
#[derive(Debug, Clone)]
pub struct CaptureClock {
    config: ClockConfig,
    /// The clock (adjusted ns); None before the first frame.
    now: Option<i64>,
    /// Added to raw timestamps (changed by a confirmed backward step).
    offset: i64,
    pending: Option<Pending>,
    /// Frames on the clock's timeline so far (saturating): while only the
    /// first frame is on it, a confirmed other timeline replaces it (the
    /// capture started with an outlier).
    on_timeline: u64,
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
            pending: None,
            on_timeline: 0,
            stats: ClockStats::default(),
            warned_outlier: false,
            warned_back: false,
            warned_forward: false,
            warnings: Vec::new(),
        }
    }

    /// The next frame (1-based number, raw timestamp): its adjusted time.
    /// Never earlier than the clock by more than the reordering tolerance,
    /// and the clock itself never goes backwards.
    pub fn tick(&mut self, frame: u64, raw: Timestamp) -> Timestamp {
        let t = raw.0.saturating_add(self.offset);
        let Some(now) = self.now else {
            self.now = Some(t);
            self.on_timeline = 1;
            return Timestamp(t);
        };
        let cfg = self.config;
        let in_line = |from: i64, t: i64| {
            let d = t.saturating_sub(from);
            d >= -cfg.backward_ns && d < cfg.jump_ns
        };
        if in_line(now, t) {
            if let Some(p) = self.pending.take() {
                self.outliers(p, now);
            }
            self.now = Some(now.max(t));
            self.on_timeline = self.on_timeline.saturating_add(1);
            return Timestamp(t);
        }
        match self.pending.as_mut() {
            Some(p) if in_line(p.last, t) => {
                p.count += 1;
                p.last = t;
                if p.count < cfg.confirm {
                    return Timestamp(now);
                }
                let p = *p;
                self.pending = None;
                if self.on_timeline <= 1 {
                    // the capture began off the timeline: its first frames
                    // were the outliers, the new timeline is the capture's
                    let first = Pending {
                        frame: 1,
                        first: now,
                        last: now,
                        count: 1,
                    };
                    self.outliers(first, t);
                    self.on_timeline = u64::from(p.count);
                    self.now = Some(t);
                    return Timestamp(t);
                }
                self.on_timeline = u64::from(p.count);
                if t > now {
                    // a step forward (or a quiet period): real time
                    self.stats.forward_steps += 1;
                    if !self.warned_forward {
                        self.warned_forward = true;
                        self.warnings.push(ClockWarning::StepForward {
                            frame: p.frame,
                            by_ns: p.first.saturating_sub(now),
                            idle_timeout_ns: cfg.idle_timeout_ns,
                        });
                    }
                    self.now = Some(t);
                    Timestamp(t)
                } else {
                    // a step backward: the new timeline continues from now
                    self.stats.backward_steps += 1;
                    self.offset = self.offset.saturating_add(now.saturating_sub(t));
                    if !self.warned_back {
                        self.warned_back = true;
                        self.warnings.push(ClockWarning::StepBack {
                            frame: p.frame,
                            by_ns: now.saturating_sub(p.first),
                        });
                    }
                    Timestamp(now)
                }
            }
            _ => {
                if let Some(p) = self.pending.take() {
                    self.outliers(p, now);
                }
                self.pending = Some(Pending {
                    frame,
                    first: t,
                    last: t,
                    count: 1,
                });
                Timestamp(now)
            }
        }
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
    /// the first frame).
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
mod tests {
    use super::*;

    const S: i64 = NS;
    const YEAR: i64 = 31_557_600 * S;
    const T0: i64 = 1_700_000_000 * S;

    /// Ticks frames 1.. with these raw times; the adjusted times.
    fn run(clock: &mut CaptureClock, raws: &[i64]) -> Vec<i64> {
        raws.iter()
            .enumerate()
            .map(|(i, &r)| clock.tick(i as u64 + 1, Timestamp(r)).0)
            .collect()
    }

    fn monotonic(v: &[i64]) -> bool {
        v.windows(2).all(|w| w[0] <= w[1])
    }

    #[test]
    fn ordinary_times_pass_through() {
        let mut c = CaptureClock::default();
        let raws: Vec<i64> = (0..100).map(|i| T0 + i * 7 * S / 3).collect();
        assert_eq!(run(&mut c, &raws), raws);
        assert_eq!(c.stats(), ClockStats::default());
        assert!(c.take_warnings().is_empty());
        assert_eq!(c.now(), Some(Timestamp(*raws.last().expect("frames"))));
    }

    #[test]
    fn small_reordering_keeps_real_times_and_the_clock_does_not_go_back() {
        let mut c = CaptureClock::default();
        let raws = [T0, T0 + S, T0 + S / 2, T0 + 2 * S];
        assert_eq!(run(&mut c, &raws), raws);
        assert_eq!(c.now(), Some(Timestamp(T0 + 2 * S)));
        c.tick(5, Timestamp(T0 + S));
        assert_eq!(c.now(), Some(Timestamp(T0 + 2 * S)));
        assert!(c.take_warnings().is_empty());
    }

    #[test]
    fn a_quiet_period_shorter_than_the_jump_is_real_time() {
        let mut c = CaptureClock::new(ClockConfig::for_idle_timeout(300 * S));
        let raws = [T0, T0 + 299 * S, T0 + 300 * S];
        assert_eq!(run(&mut c, &raws), raws);
        assert_eq!(c.stats(), ClockStats::default());
    }

    /// The STARTTLS case: one SYN-ACK decades ahead.
    #[test]
    fn a_single_future_outlier_is_ignored() {
        let mut c = CaptureClock::default();
        let raws = [T0, T0 + 30 * YEAR, T0 + S, T0 + 2 * S];
        let adj = run(&mut c, &raws);
        assert_eq!(adj, [T0, T0, T0 + S, T0 + 2 * S]);
        assert_eq!(c.now(), Some(Timestamp(T0 + 2 * S)));
        assert_eq!(c.stats().outliers, 1);
        let w = c.take_warnings();
        assert_eq!(
            w,
            [ClockWarning::Outlier {
                frame: 2,
                off_ns: 30 * YEAR
            }]
        );
        let text = w[0].to_string();
        assert!(text.contains("frame 2"), "{text}");
        assert!(text.contains("30.0 years after"), "{text}");
        // once per kind
        run(&mut c, &[T0 + 40 * YEAR, T0 + 3 * S]);
        assert_eq!(c.stats().outliers, 2);
        assert!(c.take_warnings().is_empty());
    }

    #[test]
    fn a_single_past_outlier_is_ignored() {
        let mut c = CaptureClock::default();
        let raws = [T0, T0 + S, 0, T0 + 2 * S];
        let adj = run(&mut c, &raws);
        assert_eq!(adj, [T0, T0 + S, T0 + S, T0 + 2 * S]);
        assert_eq!(c.stats().outliers, 1);
        let w = c.take_warnings();
        assert!(matches!(w[..], [ClockWarning::Outlier { frame: 3, off_ns }] if off_ns < 0));
        assert!(w[0].to_string().contains("before the frames around it"));
    }

    /// Two different wild timestamps in a row do not agree: both outliers.
    #[test]
    fn consecutive_disagreeing_outliers_are_each_ignored() {
        let mut c = CaptureClock::default();
        let raws = [T0, T0 + 30 * YEAR, T0 + 5 * YEAR, T0 - 3 * YEAR, T0 + S];
        let adj = run(&mut c, &raws);
        assert_eq!(adj, [T0, T0, T0, T0, T0 + S]);
        assert_eq!(c.stats().outliers, 3);
        assert_eq!(c.take_warnings().len(), 1);
    }

    /// An NTP step forward (or a quiet hour): confirmed by the frames after
    /// it, the clock follows; the frames before confirmation keep the
    /// clock's time.
    #[test]
    fn a_persistent_forward_jump_is_followed_once_confirmed() {
        let mut c = CaptureClock::default();
        let h = 3600 * S;
        let raws = [
            T0,
            T0 + S,
            T0 + h,
            T0 + h + S,
            T0 + h + 2 * S,
            T0 + h + 3 * S,
        ];
        let adj = run(&mut c, &raws);
        assert_eq!(
            adj,
            [T0, T0 + S, T0 + S, T0 + S, T0 + h + 2 * S, T0 + h + 3 * S]
        );
        assert!(monotonic(&adj));
        assert_eq!(c.stats().forward_steps, 1);
        assert_eq!(c.stats().outliers, 0);
        let w = c.take_warnings();
        assert_eq!(
            w,
            [ClockWarning::StepForward {
                frame: 3,
                by_ns: h - S,
                idle_timeout_ns: 300 * S
            }]
        );
        let text = w[0].to_string();
        assert!(
            text.contains("jumps ahead by 60 min at frame 3")
                && text.contains("idle timeout (5 min;"),
            "{text}"
        );
    }

    /// An NTP step backward: the clock holds, the new timeline is shifted
    /// to continue from it, and it is warned once.
    #[test]
    fn a_persistent_backward_jump_never_runs_time_backwards() {
        let mut c = CaptureClock::default();
        let h = 3600 * S;
        let raws = [
            T0,
            T0 + 10 * S,
            T0 - h,
            T0 - h + S,
            T0 - h + 2 * S,
            T0 - h + 3 * S,
            T0 - h + 10 * S,
        ];
        let adj = run(&mut c, &raws);
        assert!(monotonic(&adj), "{adj:?}");
        assert_eq!(
            adj[..5],
            [T0, T0 + 10 * S, T0 + 10 * S, T0 + 10 * S, T0 + 10 * S]
        );
        // after the step, spacing is kept
        assert_eq!(adj[5] - adj[4], S);
        assert_eq!(adj[6] - adj[4], 8 * S);
        assert_eq!(c.stats().backward_steps, 1);
        let w = c.take_warnings();
        assert_eq!(
            w,
            [ClockWarning::StepBack {
                frame: 3,
                by_ns: h + 10 * S
            }]
        );
        assert!(w[0]
            .to_string()
            .contains("runs backwards by 60 min at frame 3"));
    }

    #[test]
    fn a_pending_step_interrupted_by_the_timeline_is_an_outlier() {
        let mut c = CaptureClock::default();
        let y = 30 * YEAR;
        // two agreeing future frames, then back: not confirmed (confirm 3)
        let adj = run(&mut c, &[T0, T0 + y, T0 + y + S, T0 + S]);
        assert_eq!(adj, [T0, T0, T0, T0 + S]);
        assert_eq!(c.stats().outliers, 2);
        assert_eq!(c.stats().forward_steps, 0);
    }

    /// The first frame is the outlier: the timeline after it is the
    /// capture's (not shifted decades ahead).
    #[test]
    fn an_outlier_first_frame_does_not_shift_the_capture() {
        let mut c = CaptureClock::default();
        let y = 30 * YEAR;
        let adj = run(&mut c, &[T0 + y, T0, T0 + S, T0 + 2 * S, T0 + 3 * S]);
        assert_eq!(adj, [T0 + y, T0 + y, T0 + y, T0 + 2 * S, T0 + 3 * S]);
        assert_eq!(c.now(), Some(Timestamp(T0 + 3 * S)));
        assert_eq!(c.stats().backward_steps, 0);
        assert_eq!(c.stats().outliers, 1);
        assert_eq!(
            c.take_warnings(),
            [ClockWarning::Outlier {
                frame: 1,
                off_ns: y - 2 * S
            }]
        );
        // later on, a step back is a step back again
        let h = 3600 * S;
        run(
            &mut c,
            &[T0 - h, T0 - h + S, T0 - h + 2 * S, T0 - h + 3 * S],
        );
        assert_eq!(c.stats().backward_steps, 1);
    }

    #[test]
    fn durations_in_words() {
        assert_eq!(Duration(1_500_000_000).to_string(), "1.5 s");
        assert_eq!(Duration(600 * NS as u64).to_string(), "10 min");
        assert_eq!(Duration(3 * 3600 * NS as u64).to_string(), "3.0 h");
        assert_eq!(Duration(10 * 86_400 * NS as u64).to_string(), "10 days");
    }

    #[test]
    fn extreme_timestamps_do_not_overflow() {
        let mut c = CaptureClock::default();
        let adj = run(&mut c, &[T0, i64::MAX, i64::MIN, T0 + S, i64::MAX]);
        assert!(monotonic(&adj));
        assert_eq!(c.stats().outliers, 2);
    }
}
