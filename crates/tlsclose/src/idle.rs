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

/// Closes after less idle time than this are not idle closes (a server
/// closing right after its response, `Connection: close`).
pub const MIN_IDLE: f64 = 0.1;

/// How far apart closes of one timer may be: 50 ms of scheduling and
/// capture jitter, or 2 % of the timeout for long ones.
pub fn tolerance(x: f64) -> f64 {
    (0.02 * x).max(0.05)
}

/// A timeout found, and its evidence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IdleTimeout {
    /// Seconds: the median idle time of the closes in the cluster.
    pub seconds: f64,
    /// Closes in the cluster.
    pub closes: u64,
    /// Idle closes considered (the cluster holds more than half of them).
    pub of: u64,
    /// The cluster's range (seconds).
    pub min: f64,
    pub max: f64,
}

/// The idle times of one side's closes, kept for clustering (one `f64` per
/// idle close of the group).
#[derive(Debug, Clone, Default)]
pub struct IdleCloses {
    times: Vec<f64>,
}

impl IdleCloses {
    /// Adds one close the side started after `idle` seconds without
    /// records (ignored when shorter than [`MIN_IDLE`] or not finite).
    pub fn add(&mut self, idle: f64) {
        if idle.is_finite() && idle >= MIN_IDLE {
            self.times.push(idle);
        }
    }

    pub fn len(&self) -> usize {
        self.times.len()
    }

    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// The idle times, unsorted.
    pub fn times(&self) -> &[f64] {
        &self.times
    }

    /// The timeout most closes agree on, if they do.
    pub fn timeout(&self) -> Option<IdleTimeout> {
        cluster(&self.times)
    }
}

/// The densest window of `times` (see the module docs), when it holds more
/// than half of them.
pub fn cluster(times: &[f64]) -> Option<IdleTimeout> {
    let mut v: Vec<f64> = times.iter().copied().filter(|t| t.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    // (count, start index); the first densest window wins a tie
    let mut best = (0usize, 0usize);
    let mut end = 0usize;
    for (start, &x) in v.iter().enumerate() {
        end = end.max(start);
        let top = x + tolerance(x);
        while v.get(end).is_some_and(|&y| y <= top) {
            end += 1;
        }
        let count = end - start;
        if count > best.0 {
            best = (count, start);
        }
    }
    let (count, start) = best;
    if count * 2 <= n {
        return None;
    }
    let members = v.get(start..start + count)?;
    let median = if count % 2 == 1 {
        *members.get(count / 2)?
    } else {
        (*members.get(count / 2 - 1)? + *members.get(count / 2)?) / 2.0
    };
    Some(IdleTimeout {
        seconds: median,
        closes: count as u64,
        of: n as u64,
        min: *members.first()?,
        max: *members.last()?,
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
        // 1 s with 80 ms of spread is not
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
}
