//! Peak resident set size, for memory checks.

/// This process's peak resident set size so far, in KiB (`VmHWM` of
/// `/proc/self/status`). Panics where it cannot be read: a memory check
/// must not pass with a 0 it did not measure.
pub fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status")
        .unwrap_or_else(|e| panic!("cannot read /proc/self/status for the peak RSS: {e}"));
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .filter(|&kib| kib > 0)
        .unwrap_or_else(|| panic!("no VmHWM in /proc/self/status:\n{status}"))
}

/// CPU time this thread has used, in seconds: what a complexity test
/// compares, since it does not grow when other processes load the machine
/// (wall time does).
pub fn thread_cpu_secs() -> f64 {
    cpu_time::ThreadTime::now().as_duration().as_secs_f64()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_peak_grows_with_what_is_touched() {
        let before = super::peak_rss_kib();
        let v = vec![1u8; 64 << 20];
        let after = super::peak_rss_kib();
        assert!(v.iter().map(|&b| u64::from(b)).sum::<u64>() == 64 << 20);
        assert!(after >= before + 60 * 1024, "{before} KiB -> {after} KiB");
    }
}
