//! Numbers, times and sizes written for people.

/// Seconds, with a precision that suits the magnitude.
pub fn format_secs(s: f64) -> String {
    if s >= 100.0 {
        format!("{s:.0}s")
    } else if s >= 1.0 {
        format!("{s:.1}s")
    } else if s >= 0.000_999_5 {
        format!("{:.0}ms", s * 1000.0)
    } else {
        // loopback and LAN closes are often well under a millisecond
        format!("{:.0}µs", s * 1e6)
    }
}

/// A duration as `1h 02m 03s`, `4m 05s`, `6.2s` or `120ms`.
pub fn format_span(s: f64) -> String {
    if !s.is_finite() || s < 0.0 {
        return "-".into();
    }
    if s < 60.0 {
        return format_secs(s);
    }
    let t = s.round() as u64;
    let (h, m, sec) = (t / 3600, (t / 60) % 60, t % 60);
    if h > 0 {
        format!("{h}h {m:02}m {sec:02}s")
    } else {
        format!("{m}m {sec:02}s")
    }
}

/// Bytes as `512 B`, `15.2 KiB`, `3.4 MiB`, `1.1 GiB`.
pub fn format_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = UNITS[0];
    for u in UNITS.iter().skip(1) {
        if v < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = u;
    }
    format!("{v:.1} {unit}")
}

/// A share as a percentage with one decimal (`0.0` of nothing).
pub fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 * 1000.0 / whole as f64).round() / 10.0
    }
}

/// Seconds since the Unix epoch as `2026-11-24 12:34:56.789 UTC`.
pub fn utc(secs: f64) -> String {
    if !secs.is_finite() {
        return "-".into();
    }
    let millis = (secs * 1000.0).round() as i64;
    let (days, ms_of_day) = (millis.div_euclid(86_400_000), millis.rem_euclid(86_400_000));
    let (y, m, d) = civil_from_days(days);
    let s = ms_of_day / 1000;
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{:03} UTC",
        s / 3600,
        (s / 60) % 60,
        s % 60,
        ms_of_day % 1000
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms").
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

pub fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Seconds as the audit writes them: `2.00s`, `12.5s`, `350ms`.
pub fn secs(s: f64) -> String {
    if s >= 10.0 {
        format!("{s:.1}s")
    } else if s >= 1.0 {
        format!("{s:.2}s")
    } else {
        format_secs(s)
    }
}

/// A sweep's bound: one decimal from a second up.
pub fn spread(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.1}s")
    } else {
        format_secs(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_sizes() {
        assert_eq!(utc(0.0), "1970-01-01 00:00:00.000 UTC");
        assert_eq!(utc(951_782_400.5), "2000-02-29 00:00:00.500 UTC");
        assert_eq!(utc(1_795_505_859.271_611), "2026-11-24 07:37:39.272 UTC");
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(15_565), "15.2 KiB");
        assert_eq!(format_bytes(3 << 30), "3.0 GiB");
        assert_eq!(format_span(77.4), "1m 17s");
        assert_eq!(format_span(3723.0), "1h 02m 03s");
        assert_eq!(format_span(0.12), "120ms");
        assert_eq!(format_secs(0.000094), "94µs");
        assert_eq!(format_secs(0.0009996), "1ms");
        assert_eq!(format_secs(0.0), "0µs");
        assert_eq!(percent(1, 3), 33.3);
        assert_eq!(percent(0, 0), 0.0);
    }
}
