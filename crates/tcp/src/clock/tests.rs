//! Unit tests of `clock.rs`.

use super::*;

const S: i64 = NS;
const YEAR: i64 = 31_557_600 * S;
const T0: i64 = 1_700_000_000 * S;

/// Ticks frames (numbered from 1 in each call) with these
/// raw times as a caller would, holding what the clock holds, then
/// ends the input: the clock time of every frame, in frame order.
fn run(clock: &mut CaptureClock, raws: &[i64]) -> Vec<i64> {
    let mut out = Vec::new();
    let mut held = 0usize;
    for (i, &r) in raws.iter().enumerate() {
        match clock.tick(i as u64 + 1, Timestamp(r)) {
            Tick::Now(t) => {
                assert_eq!(held, 0, "a frame handled before the held ones");
                out.push(t.0);
            }
            Tick::Hold { released } => {
                held += 1;
                assert_eq!(clock.released().len(), released);
                held -= released;
                out.extend(clock.released().iter().map(|t| t.0));
            }
        }
    }
    let n = clock.finish();
    assert_eq!(n, held);
    out.extend(clock.released().iter().map(|t| t.0));
    out
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
/// it, the clock follows; every frame keeps its own time.
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
    assert_eq!(adj, raws);
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
        text.contains("jumps ahead by 60 min at frame 3") && text.contains("flow timeout (5 min;"),
        "{text}"
    );
}

/// An NTP step backward: the clock counts on from where it was (the new
/// timeline's first frame at the clock's time), warned once.
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
        [T0, T0 + 10 * S, T0 + 10 * S, T0 + 11 * S, T0 + 12 * S]
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
    let third = S / 3;
    let adj = run(
        &mut c,
        &[T0, T0 + third, T0 + 2 * third, T0 + y, T0 + y + S, T0 + S],
    );
    assert_eq!(
        adj,
        [
            T0,
            T0 + third,
            T0 + 2 * third,
            T0 + 2 * third,
            T0 + 2 * third,
            T0 + S
        ]
    );
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
    assert_eq!(adj, [T0, T0, T0 + S, T0 + 2 * S, T0 + 3 * S]);
    assert_eq!(c.now(), Some(Timestamp(T0 + 3 * S)));
    assert_eq!(c.stats().backward_steps, 0);
    assert_eq!(c.stats().outliers, 1);
    assert_eq!(
        c.take_warnings(),
        [ClockWarning::Outlier {
            frame: 1,
            off_ns: y
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
    assert_eq!(adj, [T0, T0, T0, T0 + S, T0 + S]);
    assert_eq!(c.stats().outliers, 3);
}
