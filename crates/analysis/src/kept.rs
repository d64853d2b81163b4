//! Bounded lists a flow keeps, and the count of what did not fit.

/// Keeps `alert` in `kept` while it holds fewer than `max`, else counts it
/// in `dropped` (keyless and keyed alerts alike). Most directions send one
/// alert (close_notify): the first takes room for one only.
pub(crate) fn keep_alert<T>(kept: &mut Vec<T>, dropped: &mut u64, max: usize, alert: T) {
    if kept.len() < max {
        if kept.capacity() == 0 {
            kept.reserve_exact(1);
        }
        kept.push(alert);
    } else {
        *dropped += 1;
    }
}
