//! Hardening, the watchdog (timeouts, a long suspend) and the signals that stop the agent.

use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::hold::{self, Next};
// A clock that counts suspend, and the time spent suspended.
use super::approve::APPROVAL;
use super::state::State;
use crate::os::clock;

/// No core dumps, no ptrace from other processes of the user (the agent never execs, so the
/// hard limit goes too).
pub(super) fn harden() {
    use nix::sys::resource::{Resource, setrlimit};
    let _ = setrlimit(Resource::RLIMIT_CORE, 0, 0);
    crate::process::harden();
    crate::os::deny_attach();
}

/// Wakes a worker out of `accept()` so it sees the stop flag (and wakes the poller). When the socket is gone (its runtime
/// directory deleted under it), nothing can wake it: the secrets are forgotten already, so the
/// process ends here.
pub(super) fn wake(sock: &Path) {
    if UnixStream::connect(sock).is_err() {
        std::process::exit(0);
    }
}

pub(super) fn spawn_watchdog(state: Arc<Mutex<State>>, sock: std::path::PathBuf) {
    std::thread::spawn(move || {
        loop {
            let wait = {
                let Ok(mut s) = state.lock() else { return };
                let (now, gap) = (clock::now(), clock::gap());
                let slept = hold::slept(s.gap, gap);
                s.gap = gap;
                match hold::next(s.phase, &s.times, &s.clocks(now, slept)) {
                    Next::Wait(d) => d,
                    Next::Hold => {
                        s.hold();
                        Duration::ZERO
                    }
                    Next::Forget => {
                        s.forget();
                        s.stop = true;
                        drop(s);
                        APPROVAL.notify_all();
                        wake(&sock);
                        return;
                    }
                }
            };
            std::thread::sleep(wait.min(Duration::from_secs(1)));
        }
    });
}

pub(super) fn spawn_signal_handler(state: Arc<Mutex<State>>, sock: std::path::PathBuf) {
    use nix::sys::signal::{SigSet, Signal};
    let mut set = SigSet::empty();
    for s in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP] {
        set.add(s);
    }
    // Blocked in every thread (threads inherit the mask), then taken synchronously here.
    if set.thread_block().is_err() {
        return;
    }
    std::thread::spawn(move || {
        if set.wait().is_ok() {
            if let Ok(mut s) = state.lock() {
                s.forget();
                s.stop = true;
            }
            wake(&sock);
        }
    });
}
