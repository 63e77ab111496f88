//! The agent process (`op-aws agent`, started by `unlock`): one detached process per runtime
//! directory that keeps the vault identity, the decrypted vault and, for the 1Password store,
//! what `op` returned, in memory only. Neither the identity nor the vault ever leaves it:
//! clients ask for one item, the titles, a change to apply, a cached session to decrypt, or a
//! whole resolution (`answer`); the identity travels only inwards, at unlock.
//!
//! It forgets everything and exits after the idle timeout, after the absolute limit, on
//! `lock`, and on SIGTERM/SIGINT/SIGHUP. With quick unlock ([`super::hold`]) the idle timeout
//! holds the identity instead: nothing that needs it is answered until system authentication
//! approves (`approve`); a refusal forgets it. Workers wait in `accept()` and answer the
//! request a client writes as it connects on the same thread (`pool`); one thread reads the
//! requests that come slowly (`readers`: an idle client holds no thread); state is behind one
//! mutex, never held across an STS call or an approval.

use std::collections::HashMap;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use zeroize::Zeroizing;

use super::hold::Phase;
use crate::config::AgentTimes;
use crate::dirs::Dirs;
// A clock that counts suspend, and the time spent suspended.
use super::pool::Pool;
use super::readers::Readers;
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
    let (poke, wake) = UnixStream::pair().map_err(|e| Error::io(&dirs.runtime, e))?;
    for end in [&poke, &wake] {
        end.set_nonblocking(true)
            .map_err(|e| Error::io(&dirs.runtime, e))?;
    }
    let pool = Pool::start(Arc::clone(&state), listener, poke);
    // This thread reads the requests that had not arrived when their connection was accepted.
    let mut readers = Readers::default();
    while !state.lock().map(|s| s.stop).unwrap_or(true) {
        readers.adopt(pool.take_unread());
        for (stream, req) in readers.next_requests(&wake) {
            pool.dispatch(stream, req);
        }
    }
    pool.stop();
    if let Ok(mut s) = state.lock() {
        s.forget();
    }
    let _ = std::fs::remove_file(&sock);
    drop(lock_file);
    Ok(())
}
