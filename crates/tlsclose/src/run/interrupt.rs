//! SIGINT (Ctrl-C) and SIGTERM end the reading, not the program: the
//! flows read so far (those still open too) and the summary are written,
//! then the process exits with 128 + the signal's number (130 for SIGINT).
//! A second signal exits at once.
//!
//! The handlers only store into atomics (signal-hook's `flag` functions,
//! which do the async-signal-safe part); the reading loop looks at them
//! between frames, and a live input wakes it every quarter of a second.
//! SIGPIPE stays ignored (as the Rust runtime sets it): a closed output
//! pipe is a write error, which ends the run quietly.

use signal_hook::consts::{SIGINT, SIGTERM};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

static CAUGHT: AtomicBool = AtomicBool::new(false);
static SIGNAL: AtomicUsize = AtomicUsize::new(0);

/// Installs the handlers; an error (the platform refused) leaves the
/// default action, which is the old behaviour.
pub fn install() -> std::io::Result<()> {
    for sig in [SIGINT, SIGTERM] {
        // a second signal while the first is being handled: exit now
        signal_hook::flag::register_conditional_shutdown(sig, 128 + sig, &CAUGHT)?;
        signal_hook::flag::register_usize(sig, &SIGNAL, sig as usize)?;
        signal_hook::flag::register(sig, &CAUGHT)?;
    }
    Ok(())
}

/// Whether a signal asked the run to stop.
#[inline]
pub fn caught() -> bool {
    CAUGHT.load(Ordering::Relaxed)
}

/// The signal that stopped the run, with its name and the exit status it
/// gives (128 + its number).
pub fn which() -> Option<(&'static str, u8)> {
    match i32::try_from(SIGNAL.load(Ordering::SeqCst)).ok()? {
        0 => None,
        s if s == SIGINT => Some(("SIGINT", 130)),
        s if s == SIGTERM => Some(("SIGTERM", 143)),
        s => Some(("a signal", u8::try_from(128 + s).unwrap_or(1))),
    }
}
