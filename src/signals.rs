//! SIGTERM and SIGINT as a request to stop cleanly: the first one is
//! remembered (the job checks it between steps, writes a checkpoint and
//! exits 128 + the signal's number); a second one ends the process at once,
//! as the default action would.

use std::sync::atomic::{AtomicI32, Ordering};

/// The signal received, 0 for none yet.
static RECEIVED: AtomicI32 = AtomicI32::new(0);

#[cfg(unix)]
mod sys {
    /// `SIGINT` and `SIGTERM` on every Unix Rust targets.
    pub const SIGINT: i32 = 2;
    pub const SIGTERM: i32 = 15;
    /// `SIG_DFL`: the default action.
    pub const DEFAULT: usize = 0;

    unsafe extern "C" {
        /// C's `signal`: installs `handler` (a function address, or `SIG_DFL`) for `signum`.
        pub fn signal(signum: i32, handler: usize) -> usize;
    }
}

#[cfg(unix)]
extern "C" fn on_signal(signum: i32) {
    RECEIVED.store(signum, Ordering::SeqCst);
    // Only async-signal-safe work here: the next one takes the default action.
    // SAFETY: `signal` is async-signal-safe and given a valid action.
    unsafe {
        sys::signal(signum, sys::DEFAULT);
    }
}

/// Starts catching SIGTERM and SIGINT (no-op off Unix).
pub fn install() {
    #[cfg(unix)]
    // SAFETY: the handler only stores to an atomic and resets its own action.
    unsafe {
        let handler = on_signal as extern "C" fn(i32) as usize;
        sys::signal(sys::SIGTERM, handler);
        sys::signal(sys::SIGINT, handler);
    }
}

/// The signal asked to stop, if one came: `(number, name)`.
pub fn received() -> Option<(i32, &'static str)> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        15 => Some((15, "SIGTERM")),
        2 => Some((2, "SIGINT")),
        n => Some((n, "a signal")),
    }
}

/// A command stopped on request: `main` prints `message` and exits with
/// 128 + `signal` (143 for SIGTERM, 130 for SIGINT).
#[derive(Debug)]
pub struct Stopped {
    /// The signal's number.
    pub signal: i32,
    /// Its name.
    pub name: &'static str,
    /// What was kept and how to carry on.
    pub message: String,
}

impl Stopped {
    /// The stop asked by the signal received (a plain SIGTERM if none was).
    pub fn new(message: String) -> Self {
        let (signal, name) = received().unwrap_or((15, "SIGTERM"));
        Stopped {
            signal,
            name,
            message,
        }
    }
}

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "stopped by {} {}", self.name, self.message)
    }
}

impl std::error::Error for Stopped {}
