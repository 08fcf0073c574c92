//! SIGINT and SIGTERM as a request to stop: long-running commands (`localnet`, `worker run`)
//! check [`stop_requested`] between steps and stop cleanly, state saved.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Set by the signal handler.
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

/// Turns SIGINT (Ctrl-C) and SIGTERM into a stop request for this process.
pub fn catch_stop() {
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
    }
}

/// Whether a stop was requested.
pub fn stop_requested() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// Sleeps `duration`, waking early when a stop is requested; returns whether one was.
pub fn sleep_unless_stopped(duration: Duration) -> bool {
    let until = Instant::now() + duration;
    while Instant::now() < until {
        if stop_requested() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50).min(until - Instant::now()));
    }
    stop_requested()
}
