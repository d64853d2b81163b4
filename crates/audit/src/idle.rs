//! Idle timeouts from a capture: when most of a side's own closes of idle
//! connections happen after the same idle time, that time is its timer.
//!
//! The method (docs/AUDIT.md): take the idle time before each close the
//! side started (`idle_before_first_signal` of flows whose `initiator` is
//! that side; closes after less than [`MIN_IDLE`] are closes after a
//! response, not of idle connections). Sort them; find the window
//! `[x, x + tolerance(x)]` starting at one of them that holds the most
//! (capture jitter: a timer fires a little late, never early, so the window
//! reaches upward). When that window holds more than half of the closes,
//! its median is the timeout and its size says how many closes support it.
//!
//! A server that checks its idle connections periodically (lighttpd every
//! second) closes them anywhere from its timeout to a sweep period or two
//! later: no tight window holds most closes, but a wider one
//! ([`SWEEP_WIDTH`] above a floor of at least a second) does, and no tight
//! cluster dominates it. Its floor, rounded down, is the configured timeout
//! (`≈3s`, closes 3.1 to 4.7 s after the last request).
//!
//! Memory: the idle times are kept exactly up to [`EXACT`] of them, then
//! counted in logarithmic bins of 0.2 % ([`Sketch`], each at the mean of
//! its times, so a timer's closes keep their value): a group costs at most
//! a few thousand counters, however many flows it has.

use std::collections::BTreeMap;

/// Closes after less idle time than this are not idle closes (a server
/// closing right after its response, `Connection: close`).
pub const MIN_IDLE: f64 = 0.1;

/// How far apart closes of one timer may be: 50 ms of scheduling and
/// capture jitter, or 2 % of the timeout for long ones.
pub fn tolerance(x: f64) -> f64 {
    (0.02 * x).max(0.05)
}

/// How far above its floor a periodic sweep's closes may spread: two
/// sweep periods of a second, plus the jitter of a long timeout.
pub const SWEEP_WIDTH: f64 = 2.0;

/// Fewest closes that can show a sweep (fewer spread closes are as well
/// explained by chance).
pub const SWEEP_MIN: u64 = 5;

/// Times kept exactly per sketch; past this they are binned.
pub const EXACT: usize = 64;

/// Relative width of a bin (0.2 %: its mean is within 0.2 % of every time
/// in it).
const BIN: f64 = 0.002;

/// Times at or under a microsecond share bin [`ZERO_BIN`].
const FLOOR: f64 = 1e-6;
const ZERO_BIN: i32 = -1;

/// A timeout found, and its evidence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IdleTimeout {
    /// Seconds: the median idle time of the closes in the cluster; for a
    /// sweep, its floor (the earliest close).
    pub seconds: f64,
    /// Closes in the cluster.
    pub closes: u64,
    /// Idle closes considered (the cluster holds more than half of them).
    pub of: u64,
    /// The cluster's range (seconds).
    pub min: f64,
    pub max: f64,
    /// A periodic sweep: the closes spread over `min..max` above a floor
    /// (`seconds`), rather than agreeing on one time.
    pub sweep: bool,
}

/// A sweep's floor as people write a configured timeout: whole seconds
/// from a second up (`3s`), else tenths (`0.5s`).
pub fn round_secs(s: f64) -> String {
    if s >= 1.0 {
        format!("{:.0}s", s.floor())
    } else {
        format!("{:.1}s", (s * 10.0).floor() / 10.0)
    }
}

/// Times in bounded memory: exact up to [`EXACT`], then binned.
#[derive(Debug, Clone, Default)]
pub struct Sketch {
    exact: Vec<f64>,
    /// Per bin: how many times, and their sum (a bin stands at their mean).
    bins: BTreeMap<i32, (u64, f64)>,
    n: u64,
    max: Option<f64>,
}

fn bin_of(x: f64) -> i32 {
    if x <= FLOOR {
        ZERO_BIN
    } else {
        ((x / FLOOR).ln() / BIN.ln_1p()).floor() as i32
    }
}

impl Sketch {
    /// Adds a time (ignored unless finite and not negative).
    pub fn add(&mut self, x: f64) {
        if !x.is_finite() || x < 0.0 {
            return;
        }
        self.n += 1;
        self.max = Some(self.max.map_or(x, |m| m.max(x)));
        if self.bins.is_empty() && self.exact.len() < EXACT {
            self.exact.push(x);
            return;
        }
        for v in std::mem::take(&mut self.exact).into_iter().chain([x]) {
            let b = self.bins.entry(bin_of(v)).or_insert((0, 0.0));
            b.0 += 1;
            b.1 += v;
        }
    }

    pub fn len(&self) -> u64 {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The longest time added (exact).
    pub fn max(&self) -> Option<f64> {
        self.max
    }

    /// The times, sorted, each with how many it stands for (one for exact
    /// times; a bin's count at the mean of its times).
    pub fn points(&self) -> Vec<(f64, u64)> {
        if self.bins.is_empty() {
            let mut v: Vec<(f64, u64)> = self.exact.iter().map(|&x| (x, 1)).collect();
            v.sort_by(|a, b| a.0.total_cmp(&b.0));
            v
        } else {
            self.bins
                .values()
                .map(|&(n, sum)| (sum / n.max(1) as f64, n))
                .collect()
        }
    }

    /// The median (exact while the times are).
    pub fn median(&self) -> Option<f64> {
        median(&self.points())
    }

    /// How many times lie in `min..=max`.
    pub fn count_within(&self, min: f64, max: f64) -> u64 {
        self.points()
            .iter()
            .filter(|p| (min..=max).contains(&p.0))
            .map(|p| p.1)
            .sum()
    }
}

/// The weighted median of sorted points: the middle one, or the mean of
/// the two middle ones.
fn median(points: &[(f64, u64)]) -> Option<f64> {
    let n: u64 = points.iter().map(|p| p.1).sum();
    if n == 0 {
        return None;
    }
    // the values at ranks k and k2 (0-based)
    let at = |k: u64| {
        let mut seen = 0;
        for p in points {
            seen += p.1;
            if seen > k {
                return Some(p.0);
            }
        }
        None
    };
    if n % 2 == 1 {
        at(n / 2)
    } else {
        Some((at(n / 2 - 1)? + at(n / 2)?) / 2.0)
    }
}

/// The idle times of one side's closes, kept for clustering.
#[derive(Debug, Clone, Default)]
pub struct IdleCloses {
    times: Sketch,
}

impl IdleCloses {
    /// Adds one close the side started after `idle` seconds without
    /// records (ignored when shorter than [`MIN_IDLE`] or not finite).
    pub fn add(&mut self, idle: f64) {
        if idle.is_finite() && idle >= MIN_IDLE {
            self.times.add(idle);
        }
    }

    pub fn len(&self) -> usize {
        usize::try_from(self.times.len()).unwrap_or(usize::MAX)
    }

    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// The idle times, sorted, with their weights ([`Sketch::points`]).
    pub fn points(&self) -> Vec<(f64, u64)> {
        self.times.points()
    }

    /// How many closes lie in `min..=max`.
    pub fn count_within(&self, min: f64, max: f64) -> u64 {
        self.times.count_within(min, max)
    }

    /// The timeout most closes agree on, if they do.
    pub fn timeout(&self) -> Option<IdleTimeout> {
        cluster_points(&self.points())
    }
}

/// The densest window of `times` (see the module docs), when it holds more
/// than half of them.
#[cfg(test)]
pub fn cluster(times: &[f64]) -> Option<IdleTimeout> {
    let mut v: Vec<(f64, u64)> = times
        .iter()
        .copied()
        .filter(|t| t.is_finite())
        .map(|t| (t, 1))
        .collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    cluster_points(&v)
}

/// The densest window `[x, x + width(x)]` over sorted weighted points:
/// (weight held, first index, end index).
fn densest(v: &[(f64, u64)], width: impl Fn(f64) -> f64) -> (u64, usize, usize) {
    let mut best = (0u64, 0usize, 0usize);
    let mut end = 0usize;
    let mut held = 0u64;
    for (start, &(x, _)) in v.iter().enumerate() {
        if end < start {
            end = start;
            held = 0;
        }
        let top = x + width(x);
        while let Some(&(y, w)) = v.get(end) {
            if y > top {
                break;
            }
            held += w;
            end += 1;
        }
        if held > best.0 {
            best = (held, start, end);
        }
        held -= v.get(start).map_or(0, |p| p.1);
    }
    best
}

/// [`cluster`] over sorted points with weights: a tight cluster holding
/// most closes, else a periodic sweep.
pub fn cluster_points(v: &[(f64, u64)]) -> Option<IdleTimeout> {
    let n: u64 = v.iter().map(|p| p.1).sum();
    if n == 0 {
        return None;
    }
    let (count, start, end) = densest(v, tolerance);
    let members = v.get(start..end)?;
    if count * 2 > n {
        return Some(IdleTimeout {
            seconds: median(members)?,
            closes: count,
            of: n,
            min: members.first()?.0,
            max: members.last()?.0,
            sweep: false,
        });
    }
    sweep(v, n)
}

/// A periodic sweep: a window of [`SWEEP_WIDTH`] above a floor of at least
/// a second holds most closes, at least [`SWEEP_MIN`] of them, and no tight
/// cluster holds half of those (that would be a timer, or two).
fn sweep(v: &[(f64, u64)], n: u64) -> Option<IdleTimeout> {
    let (count, start, end) = densest(v, |x| SWEEP_WIDTH + tolerance(x));
    let members = v.get(start..end)?;
    let floor = members.first()?.0;
    if count * 2 <= n || count < SWEEP_MIN || floor < 1.0 {
        return None;
    }
    let (tight, _, _) = densest(members, tolerance);
    if tight * 2 >= count {
        return None;
    }
    Some(IdleTimeout {
        seconds: floor,
        closes: count,
        of: n,
        min: floor,
        max: members.last()?.0,
        sweep: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timer_with_jitter_is_found_and_its_support_counted() {
        let t = [2.0004, 2.0011, 1.9996, 2.0302, 2.0008, 0.35, 0.8];
        let c = cluster(&t).unwrap_or_else(|| panic!("no cluster"));
        assert!((c.seconds - 2.0008).abs() < 1e-9, "{c:?}");
        assert_eq!((c.closes, c.of), (5, 7));
        assert!((c.min - 1.9996).abs() < 1e-9 && (c.max - 2.0302).abs() < 1e-9);
        assert!(!c.sweep);
    }

    #[test]
    fn no_majority_is_no_timeout() {
        // two timers, neither has most of the closes
        assert_eq!(cluster(&[1.0, 1.01, 5.0, 5.02]), None);
        // spread out: client closes at random moments
        assert_eq!(cluster(&[0.2, 0.45, 0.7, 0.95, 1.2]), None);
        assert_eq!(cluster(&[]), None);
    }

    #[test]
    fn one_close_is_its_own_timeout_with_support_one() {
        let c = cluster(&[60.0]).unwrap_or_else(|| panic!("no cluster"));
        assert_eq!((c.seconds, c.closes, c.of), (60.0, 1, 1));
    }

    #[test]
    fn tolerance_grows_with_long_timeouts() {
        assert_eq!(tolerance(1.0), 0.05);
        assert!((tolerance(75.0) - 1.5).abs() < 1e-12);
        // 75 s with 1 s of jitter is one timer
        let c = cluster(&[75.0, 75.4, 75.9, 10.0]).unwrap_or_else(|| panic!("no cluster"));
        assert_eq!(c.closes, 3);
        // 1 s with 80 ms of spread is not (nor, with 4 closes, a sweep)
        assert_eq!(cluster(&[1.0, 1.08, 1.16, 3.0]).map(|c| c.closes), None);
    }

    #[test]
    fn closes_right_after_a_response_are_not_idle_closes() {
        let mut s = IdleCloses::default();
        for t in [0.0001, 0.002, 0.003, 2.0, 2.001, f64::NAN] {
            s.add(t);
        }
        assert_eq!(s.len(), 2);
        assert_eq!(s.timeout().map(|c| c.closes), Some(2));
    }

    #[test]
    fn the_window_reaches_up_from_each_close() {
        // 1.00 .. 1.05 is one window of 4; 1.04 .. 1.09 another of 3
        let c = cluster(&[1.0, 1.02, 1.04, 1.05, 1.07, 1.09]).unwrap_or_else(|| panic!("none"));
        assert_eq!(c.closes, 4);
        assert!((c.seconds - 1.03).abs() < 1e-9);
    }

    #[test]
    fn a_periodic_sweep_has_a_floor_and_a_spread() {
        // lighttpd, 3 s: closes 3.1 .. 4.7 s after the last request
        let t = [3.1, 3.35, 3.6, 3.8, 4.05, 4.3, 4.5, 4.7, 0.4];
        let c = cluster(&t).unwrap_or_else(|| panic!("no sweep"));
        assert!(c.sweep, "{c:?}");
        assert_eq!((c.seconds, c.closes, c.of), (3.1, 8, 9));
        assert_eq!((c.min, c.max), (3.1, 4.7));
        assert_eq!(round_secs(c.seconds), "3s");
        // two timers are not a sweep
        assert_eq!(cluster(&[1.0, 1.01, 1.02, 2.5, 2.51, 2.52]), None);
        // nor are random closes under a second (clients), nor too few
        assert_eq!(cluster(&[0.2, 0.45, 0.7, 0.95, 1.2]), None);
        assert_eq!(cluster(&[3.1, 3.5, 3.9, 4.6]), None);
        // a tight timer stays exact
        let c = cluster(&[3.0, 3.01, 3.02, 4.5]).unwrap_or_else(|| panic!("none"));
        assert!(!c.sweep && (c.seconds - 3.01).abs() < 1e-9);
    }

    #[test]
    fn a_sketch_is_exact_while_small_and_bounded_when_large() {
        let mut s = Sketch::default();
        for x in [3.0, 1.0, 2.0] {
            s.add(x);
        }
        assert_eq!(s.median(), Some(2.0));
        s.add(4.0);
        assert_eq!(s.median(), Some(2.5));
        assert_eq!(s.max(), Some(4.0));
        // a million times in a few thousand bins, the median within 0.1 %
        let mut big = Sketch::default();
        let mut closes = IdleCloses::default();
        for i in 0..1_000_000u64 {
            let x = 0.001 * (i % 5000) as f64;
            big.add(x);
            // a 2 s timer with 30 ms of jitter, and a few random closes
            closes.add(if i % 10 == 0 {
                0.5 + (i % 700) as f64 / 100.0
            } else {
                2.0 + (i % 31) as f64 / 1000.0
            });
        }
        assert!(big.points().len() < 5000, "{}", big.points().len());
        let m = big.median().unwrap_or(0.0);
        assert!((m - 2.4995).abs() < 0.003, "{m}");
        assert_eq!(big.max(), Some(4.999));
        assert_eq!(big.len(), 1_000_000);
        let t = closes.timeout().unwrap_or_else(|| panic!("no timeout"));
        assert!((t.seconds - 2.015).abs() < 0.01, "{t:?}");
        assert!(t.closes >= 900_000 && t.of == 1_000_000, "{t:?}");
        assert!(closes.points().len() < 2000);
    }
}
