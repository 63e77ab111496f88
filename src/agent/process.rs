//! The agent process (`op-aws agent`, started by `unlock`): one detached process per runtime
//! directory that keeps the vault identity, the decrypted vault and, for the 1Password store,
//! what `op` returned, in memory only. Neither the identity nor the vault ever leaves it:
//! clients ask for one item, the titles, a change to apply, a cached session to decrypt, or a
//! whole resolution (`answer`); the identity travels only inwards, at unlock.
//!
//! It forgets everything and exits after the idle timeout, after the absolute limit, on
//! `lock`, and on SIGTERM/SIGINT/SIGHUP. With quick unlock ([`super::hold`]) the idle timeout
//! holds the identity instead: nothing that needs it is answered until system authentication
//! approves (`approve`); a refusal forgets it. One thread reads every connection's request
//! (`readers`: an idle client holds no thread); `lock` and `status` are answered there, the
//! rest each on a worker of its own (`pool`); state is behind one mutex, never held across an
//! STS call or an approval.

use std::collections::HashMap;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::net::UnixListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use zeroize::Zeroizing;

use super::hold::Phase;
use crate::config::AgentTimes;
use crate::dirs::Dirs;
use crate::link::protocol::{Request, Response};
// A clock that counts suspend, and the time spent suspended.
use super::answer::answer;
use super::pool::Pool;
use super::readers::{Readers, reply};
use super::sandbox;
use super::state::State;
use super::watchdog::{harden, spawn_signal_handler, spawn_watchdog};
use crate::os::clock;
use crate::{Error, Result, fsutil};

/// The nonce its starter wrote on stdin (one line), when stdin is a pipe; a terminal or
/// /dev/null gives none (an agent started by hand takes no identity while it holds none).
fn read_nonce() -> Option<Zeroizing<String>> {
    use std::io::{BufRead, Read};
    let stdin = std::io::stdin();
    let is_pipe = nix::sys::stat::fstat(&stdin)
        .ok()
        .map(|st| st.st_mode & nix::libc::S_IFMT == nix::libc::S_IFIFO)
        .unwrap_or(false);
    if !is_pipe {
        return None;
    }
    let mut line = Zeroizing::new(String::new());
    stdin.lock().take(256).read_line(&mut line).ok()?;
    let nonce = line.trim();
    (nonce.len() >= 32).then(|| Zeroizing::new(nonce.to_owned()))
}

/// The agent's main loop (`op-aws agent`, started by `unlock`). Prints `ready` on stdout once
/// it listens, then `running` if another agent already serves this runtime directory.
/// `person`: the environment it was started in (the person's, who unlocked), where it asks
/// for approvals.
pub fn serve(dirs: &Dirs, person: Option<crate::caller::Caller>) -> Result<()> {
    harden();
    // Every request reads config.toml, the AWS files and the defaults: parsed once per change.
    crate::memo::keep_parsed();
    // Detach from the terminal's session, so closing the terminal or Ctrl-C there does not kill it.
    let _ = nix::unistd::setsid();
    fsutil::ensure_private_dir(&dirs.runtime)?;
    let sock = dirs.agent_socket();
    let lock_file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(dirs.runtime.join("agent.lock"))
        .map_err(|e| Error::io(&dirs.runtime, e))?;
    if lock_file.try_lock().is_err() {
        println!("running");
        return Ok(());
    }
    let _ = std::fs::remove_file(&sock);
    let listener = UnixListener::bind(&sock).map_err(|e| Error::io(&sock, e))?;
    // Polled with the connections ([`Readers`]): accepting never blocks.
    listener
        .set_nonblocking(true)
        .map_err(|e| Error::io(&sock, e))?;
    std::fs::set_permissions(&sock, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| Error::io(&sock, e))?;
    let now = clock::now();
    let state = Arc::new(Mutex::new(State {
        dirs: dirs.clone(),
        identity: None,
        recipient: None,
        vault: None,
        cache: HashMap::new(),
        cache_bytes: 0,
        sessions: HashMap::new(),
        started: now,
        unlocked_at: None,
        // Until the first unlock arrives, a short fuse.
        times: AgentTimes::forget_when_idle(Duration::from_secs(30)),
        last_used: now,
        phase: Phase::Unlocked,
        checking: false,
        refused: false,
        gap: clock::gap(),
        stop: false,
        nonce: read_nonce(),
        person,
        sandboxes: HashMap::new(),
    }));
    // Signals first: the mask it sets is inherited by the watchdog thread spawned after it.
    spawn_signal_handler(Arc::clone(&state), sock.clone());
    spawn_watchdog(Arc::clone(&state), sock.clone());
    println!("ready");
    let pool = Pool::new(Arc::clone(&state), sock.clone());
    let mut readers = Readers::default();
    while !state.lock().map(|s| s.stop).unwrap_or(true) {
        for (stream, req) in readers.next_requests(&listener) {
            match req {
                // Cheap and never waiting on anything but the state's lock: answered here, so
                // they get through however busy the workers are (`lock` above all).
                Ok(req @ (Request::Lock | Request::Status)) => reply(stream, &answer(req, &state)),
                // Quick too, and only here (never on a capability, nor in the fuzz targets).
                Ok(Request::SandboxOpen { spec, person }) => {
                    reply(stream, &sandbox::open(&state, spec, person));
                }
                Ok(Request::SandboxList) => reply(stream, &sandbox::list(&state)),
                Ok(Request::SandboxStop { name }) => {
                    // Forgetting its sessions may wait for a cache lock: off the reader.
                    let state = Arc::clone(&state);
                    std::thread::spawn(move || reply(stream, &sandbox::stop(&state, &name)));
                }
                Ok(req) => pool.submit(stream, req),
                Err(e) => reply(stream, &Response::refuse(e)),
            }
        }
    }
    // Threads waiting for a request see the channel close and exit.
    drop(pool);
    if let Ok(mut s) = state.lock() {
        s.forget();
    }
    let _ = std::fs::remove_file(&sock);
    drop(lock_file);
    Ok(())
}
