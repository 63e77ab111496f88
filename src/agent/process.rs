//! The agent process (`op-aws agent`, started by `unlock`): one detached process per runtime
//! directory that keeps the vault identity, the decrypted vault and, for the 1Password store,
//! what `op` returned, in memory only. Neither the identity nor the vault ever leaves it:
//! clients ask for one item, the titles, a change to apply, a cached session to decrypt, or a
//! whole resolution ([`resolve_for`]); the identity travels only inwards, at unlock.
//!
//! It forgets everything and exits after the idle timeout, after the absolute limit, on
//! `lock`, and on SIGTERM/SIGINT/SIGHUP. Each connection is served on a thread of its own
//! ([`Pool`]); state is behind one mutex, never held across an STS call.

use std::collections::HashMap;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use zeroize::Zeroizing;

use super::client::Link;
use super::protocol::{
    AgentStatus, Answer, Answerer, Asked, IO_TIMEOUT, Request, Response, check_peer, read_request,
};
use crate::config::{MAX_LIFETIME, clamp_idle};
use crate::ctx::Ctx;
use crate::dirs::Dirs;
use crate::vault::{self, Identity};
use crate::{Error, Result, fsutil};

/// Connections served at once; more are closed unread (the client then resolves itself).
const MAX_CONNECTIONS: usize = 64;
/// Threads kept waiting for the next connection.
const SPARE_THREADS: usize = 4;
/// The 1Password cache: entries and bytes.
const MAX_CACHE_ENTRIES: usize = 1024;
const MAX_CACHE_BYTES: usize = 8 * 1024 * 1024;
/// Decrypted STS sessions kept (a few KiB each); past it, all are dropped and read again.
const MAX_SESSIONS: usize = 256;
const MAX_SESSION_BYTES: usize = 16 * 1024;
/// Requests the agent resolves at once; more are told to resolve themselves.
const MAX_RESOLVING: usize = 16;

/// Times are [`clock::now`] readings: they count suspend, so a laptop closed for the night
/// does not come back to an agent that thinks only minutes went by.
struct State {
    dirs: Dirs,
    identity: Option<Identity>,
    /// The identity's public recipient, worked out once (a scalar multiplication that every
    /// cache lookup would otherwise repeat).
    recipient: Option<String>,
    /// The decrypted vault, and the file's identity when it was read (re-read on change).
    vault: Option<(FileStamp, vault::VaultData)>,
    cache: HashMap<String, Zeroizing<String>>,
    cache_bytes: usize,
    /// Cached STS sessions as decrypted, by file (decrypted again only when the file changed):
    /// an X25519 decryption per `aws` command would be most of a cached role's cost.
    sessions: HashMap<std::path::PathBuf, (FileStamp, Zeroizing<String>)>,
    started: Duration,
    unlocked_at: Option<Duration>,
    idle: Duration,
    last_used: Duration,
    stop: bool,
}

impl State {
    fn deadline(&self) -> Duration {
        let idle_end = self.last_used.saturating_add(self.idle);
        idle_end.min(self.started.saturating_add(MAX_LIFETIME))
    }
    fn forget(&mut self) {
        self.identity = None;
        self.recipient = None;
        self.vault = None;
        self.cache.clear();
        self.cache_bytes = 0;
        self.sessions.clear();
    }

    /// Cached session `key` of `dir`, decrypted; from memory while its file is unchanged.
    fn session(&mut self, dir: &Path, key: &str) -> Result<Option<Zeroizing<String>>> {
        let id = self.identity.as_ref().ok_or(Error::Locked)?;
        let path = crate::sts::cache::session_file(dir, key)
            .ok_or_else(|| Error::Invalid("not a cached session".into()))?;
        // Stamped before reading: a file replaced meanwhile only makes the next one read it.
        let stamp = FileStamp::of(&path);
        if stamp.0.is_some()
            && let Some((s, plain)) = self.sessions.get(&path)
            && *s == stamp
        {
            return Ok(Some(plain.clone()));
        }
        let plain = crate::sts::cache::decrypt_session(id, &path)?;
        match &plain {
            // A session is a few hundred bytes; anything bigger is answered, never kept.
            Some(p) if p.len() <= MAX_SESSION_BYTES => {
                if self.sessions.len() >= MAX_SESSIONS {
                    self.sessions.clear();
                }
                self.sessions.insert(path, (stamp, p.clone()));
            }
            _ => {
                self.sessions.remove(&path);
            }
        }
        Ok(plain)
    }

    /// The vault as it is on disk now (decrypted again only when the file changed).
    fn vault(&mut self) -> Result<&vault::VaultData> {
        let id = self.identity.as_ref().ok_or(Error::Locked)?;
        let stamp = FileStamp::of(&self.dirs.vault_file());
        if self.vault.as_ref().is_none_or(|(s, _)| *s != stamp) {
            let data = vault::load(&self.dirs, id)?;
            self.vault = Some((stamp, data));
        }
        Ok(&self.vault.as_ref().expect("just loaded").1)
    }
    /// Keeps `value` unless that would pass the caps (an over-full cache only means more `op`
    /// calls, never a failure).
    fn cache_put(&mut self, key: String, value: Zeroizing<String>) {
        let size = key.len() + value.len();
        if let Some(old) = self.cache.remove(&key) {
            self.cache_bytes -= key.len() + old.len();
        }
        if self.cache.len() >= MAX_CACHE_ENTRIES || self.cache_bytes + size > MAX_CACHE_BYTES {
            return;
        }
        self.cache_bytes += size;
        self.cache.insert(key, value);
    }
}

/// Which version of a file this is: size, mtime and inode (an atomic rename changes the inode).
#[derive(PartialEq, Eq, Clone, Copy)]
struct FileStamp(Option<(u64, i64, i64, u64)>);

impl FileStamp {
    fn of(path: &Path) -> Self {
        use std::os::unix::fs::MetadataExt;
        Self(
            std::fs::metadata(path)
                .ok()
                .map(|m| (m.len(), m.mtime(), m.mtime_nsec(), m.ino())),
        )
    }
}

/// A clock that counts suspend: CLOCK_BOOTTIME on Linux, the wall clock elsewhere.
mod clock {
    use std::time::Duration;

    #[cfg(target_os = "linux")]
    pub fn now() -> Duration {
        nix::time::clock_gettime(nix::time::ClockId::CLOCK_BOOTTIME)
            .map(Duration::from)
            .unwrap_or_default()
    }

    #[cfg(not(target_os = "linux"))]
    pub fn now() -> Duration {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
    }
}

/// The agent's main loop (`op-aws agent`, started by `unlock`). Prints `ready` on stdout once
/// it listens, then `running` if another agent already serves this runtime directory.
pub fn serve(dirs: &Dirs) -> Result<()> {
    harden();
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
        idle: Duration::from_secs(30),
        last_used: now,
        stop: false,
    }));
    // Signals first: the mask it sets is inherited by the watchdog thread spawned after it.
    spawn_signal_handler(Arc::clone(&state), sock.clone());
    spawn_watchdog(Arc::clone(&state), sock.clone());
    println!("ready");
    let pool = Pool::new(Arc::clone(&state), sock.clone());
    for conn in listener.incoming() {
        if state.lock().map(|s| s.stop).unwrap_or(true) {
            break;
        }
        if let Ok(stream) = conn {
            pool.dispatch(stream);
        }
    }
    // Threads waiting for a connection see the channel close and exit.
    drop(pool);
    if let Ok(mut s) = state.lock() {
        s.forget();
    }
    let _ = std::fs::remove_file(&sock);
    drop(lock_file);
    Ok(())
}

/// Connections, each on a thread of its own so that no client can stall another. A thread that
/// is done waits for the next connection (up to [`SPARE_THREADS`] of them wait), so a request
/// does not pay for creating a thread.
struct Pool {
    state: Arc<Mutex<State>>,
    sock: std::path::PathBuf,
    tx: mpsc::Sender<UnixStream>,
    rx: Arc<Mutex<mpsc::Receiver<UnixStream>>>,
    /// Threads waiting on `rx` that no connection has been promised to yet.
    idle: Arc<AtomicUsize>,
    /// Threads alive, busy or waiting.
    open: Arc<AtomicUsize>,
}

impl Pool {
    fn new(state: Arc<Mutex<State>>, sock: std::path::PathBuf) -> Self {
        let (tx, rx) = mpsc::channel();
        Self {
            state,
            sock,
            tx,
            rx: Arc::new(Mutex::new(rx)),
            idle: Arc::new(AtomicUsize::new(0)),
            open: Arc::new(AtomicUsize::new(0)),
        }
    }

    fn dispatch(&self, stream: UnixStream) {
        // Claimed before sending, so each connection sent has a waiting thread of its own.
        if self
            .idle
            .fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            let _ = self.tx.send(stream);
            return;
        }
        if self.open.load(SeqCst) >= MAX_CONNECTIONS {
            return;
        }
        self.open.fetch_add(1, SeqCst);
        let (state, sock) = (Arc::clone(&self.state), self.sock.clone());
        let (rx, idle, open) = (
            Arc::clone(&self.rx),
            Arc::clone(&self.idle),
            Arc::clone(&self.open),
        );
        std::thread::spawn(move || {
            let mut next = Some(stream);
            while let Some(stream) = next.take() {
                handle(stream, &state);
                if state.lock().map(|s| s.stop).unwrap_or(true) {
                    // Wake the accept loop so it sees the flag.
                    wake(&sock);
                    break;
                }
                if idle.load(SeqCst) >= SPARE_THREADS {
                    break;
                }
                idle.fetch_add(1, SeqCst);
                // Err: the accept loop has ended.
                next = rx.lock().ok().and_then(|rx| rx.recv().ok());
            }
            open.fetch_sub(1, SeqCst);
        });
    }
}

/// No core dumps, no ptrace from other processes of the user (the agent never execs, so the
/// hard limit goes too).
fn harden() {
    use nix::sys::resource::{Resource, setrlimit};
    let _ = setrlimit(Resource::RLIMIT_CORE, 0, 0);
    crate::process::harden();
}

/// Wakes the accept loop so it sees the stop flag. When the socket is gone (its runtime
/// directory deleted under it), nothing can wake it: the secrets are forgotten already, so the
/// process ends here.
fn wake(sock: &Path) {
    if UnixStream::connect(sock).is_err() {
        std::process::exit(0);
    }
}

fn spawn_watchdog(state: Arc<Mutex<State>>, sock: std::path::PathBuf) {
    std::thread::spawn(move || {
        loop {
            let wait = {
                let Ok(mut s) = state.lock() else { return };
                let now = clock::now();
                let deadline = s.deadline();
                if now >= deadline {
                    s.forget();
                    s.stop = true;
                    drop(s);
                    wake(&sock);
                    return;
                }
                deadline - now
            };
            std::thread::sleep(wait.min(Duration::from_secs(1)));
        }
    });
}

fn spawn_signal_handler(state: Arc<Mutex<State>>, sock: std::path::PathBuf) {
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

fn handle(mut stream: UnixStream, state: &Arc<Mutex<State>>) {
    let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
    let resp = match check_peer(&stream) {
        Err(e) => Response::refuse(e),
        Ok(()) => {
            let line = match read_request(&mut stream) {
                Ok(l) => l,
                Err(e) => {
                    let r = Response::refuse(e);
                    if let Ok(mut out) = serde_json::to_vec(&r) {
                        out.push(b'\n');
                        let _ = stream.write_all(&out);
                    }
                    return;
                }
            };
            match serde_json::from_slice::<Request>(&line) {
                // Resolving may call STS for seconds: never under the state's lock, which every
                // other request (the ones this one makes back to the agent included) needs.
                Ok(Request::Resolve(asked)) => match state.lock().map(|s| s.dirs.clone()) {
                    Ok(dirs) => match resolve_for(state, &dirs, &asked) {
                        Ok(a) => Response {
                            resolved: Some(Box::new(a)),
                            ..Response::default()
                        },
                        Err(e) => Response::fail(&e),
                    },
                    Err(_) => Response::refuse("internal error"),
                },
                Ok(req) => answer(req, state),
                Err(e) => Response::refuse(format!("bad request: {}", vault::json_error(&e))),
            }
        }
    };
    let Ok(mut out) = serde_json::to_vec(&resp).map(Zeroizing::new) else {
        return;
    };
    out.push(b'\n');
    let _ = stream.write_all(&out);
}

fn answer(req: Request, state: &Mutex<State>) -> Response {
    let Ok(mut s) = state.lock() else {
        return Response::refuse("internal error");
    };
    let now = clock::now();
    let mut r = Response::default();
    match req {
        Request::Status => {}
        Request::Unlock {
            identity,
            idle_secs,
        } => {
            if let Some(id) = identity {
                let Ok(id) = Identity::parse(&id) else {
                    return Response::refuse("malformed identity");
                };
                s.recipient = Some(id.recipient().to_string());
                s.identity = Some(id);
                s.vault = None;
                s.sessions.clear();
                s.unlocked_at = Some(now);
            }
            s.idle = clamp_idle(idle_secs);
            s.last_used = now;
        }
        Request::List => match s.vault() {
            Ok(v) => {
                r.list = Some(v.listing());
                s.last_used = now;
            }
            Err(e) => r = Response::fail(&e),
        },
        Request::Item { name } => {
            let found = s.vault().and_then(|v| {
                v.find(&name)
                    .ok_or_else(|| Error::NoSuchItem(name.clone()))
                    .and_then(|i| {
                        serde_json::to_string(i).map_err(|e| Error::Invalid(e.to_string()))
                    })
            });
            match found {
                Ok(json) => {
                    r.value = Some(Zeroizing::new(json));
                    s.last_used = now;
                }
                Err(e) => r = Response::fail(&e),
            }
        }
        Request::Update { change } => {
            let result = match &s.identity {
                None => Err(Error::Locked),
                Some(id) => vault::update(&s.dirs, id, |data| change.apply(data)),
            };
            match result {
                Ok(()) => {
                    s.vault = None;
                    s.last_used = now;
                }
                Err(e) => r = Response::fail(&e),
            }
        }
        Request::SsoToken { dir, key } => match &s.identity {
            None => r = Response::fail(&Error::Locked),
            Some(id) => match crate::sso::decrypt_token(id, &dir, &key) {
                Ok(v) => {
                    r.value = v;
                    s.last_used = now;
                }
                Err(e) => r = Response::fail(&e),
            },
        },
        Request::Session { dir, key } => match s.session(&dir, &key) {
            Ok(v) => {
                r.value = v;
                s.last_used = now;
            }
            Err(e) => r = Response::fail(&e),
        },
        // Answered in `handle`, away from the state's lock; never asked in process.
        Request::Resolve(_) => r = Response::fail(&Error::NeedsCaller("the caller")),
        Request::Recipient => match &s.recipient {
            None => r = Response::fail(&Error::Locked),
            Some(p) => r.value = Some(Zeroizing::new(p.clone())),
        },
        Request::Lock => {
            s.forget();
            s.stop = true;
        }
        Request::CacheGet { key } => {
            r.value = s.cache.get(&key).cloned();
            if r.value.is_some() {
                s.last_used = now;
            }
        }
        Request::CachePut { key, value } => {
            s.cache_put(key, value);
            s.last_used = now;
        }
    }
    let deadline = s.deadline();
    r.status = Some(AgentStatus {
        pid: std::process::id(),
        unlocked: s.identity.is_some(),
        unlocked_secs: s.unlocked_at.map_or(0, |t| now.saturating_sub(t).as_secs()),
        expires_in_secs: deadline.saturating_sub(now).as_secs(),
        cached_entries: s.cache.len(),
    });
    r
}

/// The agent's state as the resolver inside it reaches it ([`Link::InProcess`]).
struct Here(Arc<Mutex<State>>);

impl Answerer for Here {
    fn answer(&self, req: Request) -> Response {
        answer(req, &self.0)
    }
}

static RESOLVING: AtomicUsize = AtomicUsize::new(0);

/// Resolves `asked` for its caller, in the agent: the one resolver, over a context whose link
/// to the agent is this process. `Err(NeedsCaller)` (and the other errors that mean "not
/// here") tell the client to resolve itself.
fn resolve_for(state: &Arc<Mutex<State>>, dirs: &Dirs, asked: &Asked) -> Result<Answer> {
    struct Slot;
    impl Drop for Slot {
        fn drop(&mut self) {
            RESOLVING.fetch_sub(1, Ordering::SeqCst);
        }
    }
    if RESOLVING.fetch_add(1, Ordering::SeqCst) >= MAX_RESOLVING {
        RESOLVING.fetch_sub(1, Ordering::SeqCst);
        return Err(Error::NeedsCaller("the agent is busy"));
    }
    let _slot = Slot;
    let caller = asked.caller();
    // A caller with other op-aws directories than ours (another config, vault or cache) is
    // not ours to answer for.
    let theirs = Dirs::new(&caller)?;
    if (&theirs.config, &theirs.data, &theirs.cache) != (&dirs.config, &dirs.data, &dirs.cache) {
        return Err(Error::NeedsCaller("a caller with other op-aws directories"));
    }
    let link = Link::InProcess(Arc::new(Here(Arc::clone(state))));
    let ctx = Ctx::with_link(caller, dirs.clone(), link)?;
    // Needing a terminal, op or a browser (or a picker) is the caller's business, not a
    // failure.
    let r = crate::resolve::resolve_here(&ctx, &asked.request()).map_err(|e| {
        if needs_caller(&e) || matches!(e, Error::NoDefault) {
            Error::NeedsCaller("the caller")
        } else {
            e
        }
    })?;
    let notice = r.override_notice(&ctx);
    Ok(Answer::new(&r, notice))
}

fn needs_caller(e: &Error) -> bool {
    match e {
        Error::Locked
        | Error::LockedNoTerminal
        | Error::MfaNoTerminal { .. }
        | Error::NeedsCaller(_)
        | Error::Agent(_)
        | Error::AgentConnectionLost(_) => true,
        Error::Step { source, .. } => needs_caller(source),
        _ => false,
    }
}
