//! A progress line on standard error for long runs: how much of the input
//! was read, flows seen, elapsed time. Only when standard error is a
//! terminal (and `TERM` is not `dumb`); colour only without `NO_COLOR`.
//!
//! A few dozen lines rather than a crate: the bar needs no terminal size
//! or multi-bar machinery, drawing is throttled to ten times a second, and
//! when standard error is not a terminal no bar exists at all, so the read
//! loop pays one branch per frame.

use std::io::{self, IsTerminal, Write};
use std::time::{Duration, Instant};

const REDRAW: Duration = Duration::from_millis(100);
/// Runs shorter than this never show a bar.
const DELAY: Duration = Duration::from_millis(500);
const BAR: usize = 20;

pub struct Progress {
    name: String,
    total: Option<u64>,
    start: Instant,
    next_draw: Instant,
    color: bool,
    drawn: bool,
}

/// Whether a bar may be drawn at all.
pub fn wanted(disabled: bool) -> bool {
    !disabled && io::stderr().is_terminal() && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

/// `NO_COLOR` set to anything but the empty string turns colour off.
pub fn color_allowed() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

impl Progress {
    /// A bar for reading `name`, of `total` bytes when known.
    pub fn new(name: &str, total: Option<u64>) -> Progress {
        let start = Instant::now();
        // keep the line short: the end of a long path
        let chars: Vec<char> = name.chars().collect();
        let name = if chars.len() > 20 {
            let tail: String = chars.iter().skip(chars.len() - 19).collect();
            format!("…{tail}")
        } else {
            name.to_owned()
        };
        Progress {
            name,
            total: total.filter(|&t| t > 0),
            start,
            next_draw: start + DELAY,
            color: color_allowed(),
            drawn: false,
        }
    }

    /// `done` bytes of the input read, `flows` TLS flows seen so far.
    pub fn tick(&mut self, done: u64, flows: u64) {
        let now = Instant::now();
        if now < self.next_draw {
            return;
        }
        self.next_draw = now + REDRAW;
        let line = self.line(done, flows, now.duration_since(self.start));
        let mut err = io::stderr().lock();
        let _ = write!(err, "\r{line}\x1b[K");
        let _ = err.flush();
        self.drawn = true;
    }

    fn line(&self, done: u64, flows: u64, elapsed: Duration) -> String {
        let mb = |b: u64| b as f64 / (1 << 20) as f64;
        let secs = elapsed.as_secs();
        let clock = format!("{}:{:02}", secs / 60, secs % 60);
        match self.total {
            Some(total) => {
                let frac = (done as f64 / total as f64).clamp(0.0, 1.0);
                let filled = (frac * BAR as f64).round() as usize;
                let (on, off) = if self.color {
                    ("\x1b[36m", "\x1b[0m")
                } else {
                    ("", "")
                };
                format!(
                    "{} {on}{}{off}{} {:>3.0}%  {:.0}/{:.0} MiB  {flows} flows  {clock}",
                    self.name,
                    "█".repeat(filled),
                    "░".repeat(BAR - filled),
                    frac * 100.0,
                    mb(done),
                    mb(total),
                )
            }
            None => format!(
                "{}  {:.0} MiB read  {flows} flows  {clock}",
                self.name,
                mb(done)
            ),
        }
    }

    /// Removes the line (before warnings or the output are printed).
    pub fn clear(&mut self) {
        if self.drawn {
            let mut err = io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
            self.drawn = false;
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_fits_a_terminal() {
        let mut p = Progress::new(
            "/a/very/long/path/to/some/capture-file.pcapng.gz",
            Some(1 << 30),
        );
        p.color = false;
        let l = p.line(1 << 29, 12345, Duration::from_secs(75));
        assert!(l.starts_with("…ture-file.pcapng.gz "), "{l}");
        assert!(l.contains(" 50%  512/1024 MiB  12345 flows  1:15"), "{l}");
        assert!(l.chars().count() <= 80, "{l}");
        let p = Progress::new("-", None);
        assert_eq!(
            p.line(3 << 20, 2, Duration::from_secs(5)),
            "-  3 MiB read  2 flows  0:05"
        );
    }
}
