//! The agent process (`op-aws agent`, started by `unlock`): one detached process per runtime
//! directory that keeps the vault identity, the decrypted vault and, for the 1Password store,
//! what `op` returned, in memory only. Neither the identity nor the vault ever leaves it:
//! clients ask for one item, the titles, a change to apply, a cached session to decrypt, or a
//! whole resolution ([`resolve_for`]); the identity travels only inwards, at unlock.
//!
//! It forgets everything and exits after the idle timeout, after the absolute limit, on
//! `lock`, and on SIGTERM/SIGINT/SIGHUP. With quick unlock ([`super::hold`]) the idle timeout
//! holds the identity instead: nothing that needs it is answered until system authentication
//! approves ([`approve`]); a refusal forgets it. One thread reads every connection's request
//! ([`Readers`]: an idle client holds no thread); `lock` and `status` are answered there, the
//! rest each on a worker of its own ([`Pool`]); state is behind one mutex, never held across an
//! STS call or an approval.

use std::collections::HashMap;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use super::hold::{self, Clocks, Next, Phase};
use crate::config::{AgentTimes, MAX_LIFETIME, clamp_idle};
use crate::ctx::Ctx;
use crate::dirs::Dirs;
use crate::link::client::Link;
use crate::link::protocol::{
    APPROVAL_TIMEOUT, AgentStatus, Answer, Answerer, Asked, IO_TIMEOUT, MAX_REQUEST,
    REQUEST_DEADLINE, Request, Response, check_peer, peer,
};
// A clock that counts suspend, and the time spent suspended.
use crate::os::clock;
use crate::vault::{self, Identity};
use crate::{Error, Result, fsutil};

/// Requests worked on at once; more wait for a worker.
const MAX_WORKERS: usize = 64;
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
/// Wakes the requests waiting for another one's approval ([`approve`]).
static APPROVAL: Condvar = Condvar::new();

/// Times are [`clock::now`] readings: they count suspend, so a laptop closed for the night
/// does not come back to an agent that thinks only minutes went by.
struct State {
    dirs: Dirs,
    /// Shared so an item write can use it outside the state's lock (forgetting drops this
    /// reference; a write under way finishes with its own).
    identity: Option<Arc<Identity>>,
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
    times: AgentTimes,
    last_used: Duration,
    phase: Phase,
    /// An approval is being asked (one at a time; the others wait for its answer).
    checking: bool,
    /// The last approval was refused (and the identity forgotten).
    refused: bool,
    /// CLOCK_BOOTTIME − CLOCK_MONOTONIC at the watchdog's last look (grows by each suspend).
    gap: Duration,
    stop: bool,
    /// What the `op-aws` that started this agent wrote on its stdin (none when stdin was not
    /// a pipe): the proof an identity-bearing unlock must carry while none is held.
    nonce: Option<Zeroizing<String>>,
}

impl State {
    fn clocks(&self, now: Duration, slept: Duration) -> Clocks {
        Clocks {
            now,
            started: self.started,
            unlocked_at: self.unlocked_at,
            last_used: self.last_used,
            slept,
        }
    }

    /// Time until the next step (holding, or forgetting).
    fn expires_in(&self, now: Duration) -> Duration {
        match hold::next(self.phase, &self.times, &self.clocks(now, Duration::ZERO)) {
            Next::Wait(d) => d,
            Next::Hold | Next::Forget => Duration::ZERO,
        }
    }

    /// Time until the identity is forgotten, held or not.
    fn forgets_in(&self, now: Duration) -> Duration {
        let mut c = self.clocks(now, Duration::ZERO);
        c.last_used = now;
        match hold::next(Phase::Held, &self.times, &c) {
            Next::Wait(d) => d,
            Next::Hold | Next::Forget => Duration::ZERO,
        }
    }

    fn forget(&mut self) {
        self.identity = None;
        self.recipient = None;
        self.vault = None;
        self.cache.clear();
        self.cache_bytes = 0;
        self.sessions.clear();
        self.phase = Phase::Unlocked;
    }

    /// Quick unlock: keep the identity alone (the decrypted vault, sessions and 1Password's
    /// reads go) and answer nothing that needs it until a person approves.
    fn hold(&mut self) {
        self.vault = None;
        self.cache.clear();
        self.cache_bytes = 0;
        self.sessions.clear();
        self.phase = Phase::Held;
        lock_in_memory();
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

/// Keeps the agent's pages (the held identity among them) out of swap, where the system allows
/// it (RLIMIT_MEMLOCK); failing that, it stays as it was: non-dumpable, no core.
fn lock_in_memory() {
    #[cfg(target_os = "linux")]
    {
        use nix::sys::mman::{MlockAllFlags, mlockall};
        // MCL_ONFAULT (Linux 4.4): lock what is mapped as it is touched, not every page of every
        // thread's stack at once (nix names no flag for it).
        let flags = MlockAllFlags::from_bits_retain(
            MlockAllFlags::MCL_CURRENT.bits() | nix::libc::MCL_ONFAULT,
        );
        let _ = mlockall(flags);
    }
}

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

/// The nonce given equals the agent's (in constant time).
fn nonce_matches(mine: &Option<Zeroizing<String>>, given: &Option<Zeroizing<String>>) -> bool {
    use subtle::ConstantTimeEq;
    match (mine, given) {
        (Some(a), Some(b)) => a.as_bytes().ct_eq(b.as_bytes()).into(),
        _ => false,
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

/// Connections waiting for their request line, read by one thread polling them all: an idle or
/// slow client holds a slot here, never a worker. When full, the oldest is closed to make room.
const MAX_PENDING: usize = 512;

struct Reading {
    stream: UnixStream,
    buf: Zeroizing<Vec<u8>>,
    deadline: std::time::Instant,
}

#[derive(Default)]
struct Readers {
    pending: std::collections::VecDeque<Reading>,
}

impl Readers {
    /// Waits (at most a second, so the caller sees its stop flag) for connections and bytes,
    /// and returns each request that is complete, or refused (another user's peer, too long,
    /// too slow, not JSON).
    fn next_requests(
        &mut self,
        listener: &UnixListener,
    ) -> Vec<(UnixStream, std::result::Result<Request, String>)> {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        use std::os::fd::AsFd;
        let now = std::time::Instant::now();
        let wait = self
            .pending
            .iter()
            .map(|r| r.deadline.saturating_duration_since(now))
            .min()
            .unwrap_or(Duration::from_secs(1))
            .min(Duration::from_secs(1));
        let ready: Vec<bool> = {
            let mut fds = Vec::with_capacity(self.pending.len() + 1);
            fds.push(PollFd::new(listener.as_fd(), PollFlags::POLLIN));
            for r in &self.pending {
                fds.push(PollFd::new(r.stream.as_fd(), PollFlags::POLLIN));
            }
            let ms = u16::try_from(wait.as_millis()).unwrap_or(1000).max(1);
            if poll(&mut fds, PollTimeout::from(ms)).is_err() {
                // EINTR, or no memory for the poll set: looked at again on the next turn.
                return Vec::new();
            }
            fds.iter()
                .map(|f| f.revents().is_some_and(|e| !e.is_empty()))
                .collect()
        };
        let mut out = Vec::new();
        let now = std::time::Instant::now();
        let pending = std::mem::take(&mut self.pending);
        for (mut r, ready) in pending.into_iter().zip(ready.iter().skip(1)) {
            let progress = if *ready { r.read_more() } else { Ok(None) };
            match progress {
                Ok(Some(line)) => out.push((r.stream, parse(&line))),
                Ok(None) if now < r.deadline => self.pending.push_back(r),
                Ok(None) => out.push((r.stream, Err("request too slow".into()))),
                // Gone before its request: nothing to answer.
                Err(None) => {}
                Err(Some(why)) => out.push((r.stream, Err(why))),
            }
        }
        if ready.first().copied().unwrap_or(false) {
            self.accept_one(listener, &mut out);
        }
        out
    }

    fn accept_one(
        &mut self,
        listener: &UnixListener,
        out: &mut Vec<(UnixStream, std::result::Result<Request, String>)>,
    ) {
        // One at a time: the usual wake has one connection, and another makes the next poll
        // return at once (a loop until EAGAIN would cost a syscall on every request).
        if let Ok((stream, _)) = listener.accept() {
            if let Err(e) = check_peer(&stream) {
                out.push((stream, Err(e)));
                return;
            }
            if stream.set_nonblocking(true).is_err() {
                return;
            }
            let mut r = Reading {
                stream,
                buf: Zeroizing::new(Vec::with_capacity(4096)),
                deadline: std::time::Instant::now() + REQUEST_DEADLINE,
            };
            // A client writes its request as soon as it connects: often it is there already.
            match r.read_more() {
                Ok(Some(line)) => out.push((r.stream, parse(&line))),
                Ok(None) => {
                    if self.pending.len() >= MAX_PENDING {
                        // Dropped: closed unread, as a busy agent always has.
                        self.pending.pop_front();
                    }
                    self.pending.push_back(r);
                }
                Err(None) => {}
                Err(Some(why)) => out.push((r.stream, Err(why))),
            }
        }
    }
}

/// A request line as the agent takes it.
fn parse(line: &[u8]) -> std::result::Result<Request, String> {
    serde_json::from_slice::<Request>(line)
        .map_err(|e| format!("bad request: {}", vault::json_error(&e)))
}

impl Reading {
    /// Reads what has arrived: `Ok(Some(line))` once the request line is whole; `Err(None)`
    /// when the client went away, `Err(Some(why))` when it is refused.
    fn read_more(&mut self) -> std::result::Result<Option<Zeroizing<Vec<u8>>>, Option<String>> {
        use std::io::Read;
        let mut chunk = Zeroizing::new([0u8; 4096]);
        loop {
            let n = match self.stream.read(&mut chunk[..]) {
                Ok(0) => return Err(None),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => return Err(None),
            };
            let end = chunk[..n].iter().position(|b| *b == b'\n');
            let take = end.unwrap_or(n);
            if self.buf.len() + take > usize::try_from(MAX_REQUEST).unwrap_or(usize::MAX) {
                return Err(Some("request too long".into()));
            }
            // Grown by hand: a reallocation would leave an unzeroed copy of a secret behind.
            if self.buf.capacity() < self.buf.len() + take {
                let mut bigger = Zeroizing::new(Vec::with_capacity((self.buf.len() + take) * 2));
                bigger.extend_from_slice(&self.buf);
                self.buf = bigger;
            }
            self.buf.extend_from_slice(&chunk[..take]);
            if end.is_some() {
                return Ok(Some(std::mem::take(&mut self.buf)));
            }
        }
    }
}

/// Writes `resp` as one line: at once when the socket takes it all (an answer is small), else
/// waiting, [`IO_TIMEOUT`] at most, for a client that is slow to read.
fn reply(mut stream: UnixStream, resp: &Response) {
    let Ok(mut out) = serde_json::to_vec(resp).map(Zeroizing::new) else {
        return;
    };
    out.push(b'\n');
    let sent = match stream.write(&out) {
        Ok(n) => n,
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => 0,
        Err(_) => return,
    };
    if sent < out.len() {
        let _ = stream.set_nonblocking(false);
        let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
        let _ = stream.write_all(&out[sent..]);
    }
}

/// Workers for complete requests, which may take long (decrypting the vault, STS): a thread of
/// its own for each at once, up to [`MAX_WORKERS`] (then they wait their turn); a thread that
/// is done waits for the next request (up to [`SPARE_THREADS`] of them wait), so a request
/// does not pay for creating a thread.
struct Pool {
    state: Arc<Mutex<State>>,
    sock: std::path::PathBuf,
    tx: mpsc::Sender<(UnixStream, Request)>,
    rx: Arc<Mutex<mpsc::Receiver<(UnixStream, Request)>>>,
    /// Requests sent that no thread has taken yet.
    queued: Arc<AtomicUsize>,
    /// Threads waiting on `rx`.
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
            queued: Arc::new(AtomicUsize::new(0)),
            idle: Arc::new(AtomicUsize::new(0)),
            open: Arc::new(AtomicUsize::new(0)),
        }
    }

    fn submit(&self, stream: UnixStream, req: Request) {
        self.queued.fetch_add(1, SeqCst);
        if self.tx.send((stream, req)).is_err() {
            return;
        }
        if self.queued.load(SeqCst) <= self.idle.load(SeqCst)
            || self.open.load(SeqCst) >= MAX_WORKERS
        {
            return;
        }
        self.open.fetch_add(1, SeqCst);
        let (state, sock) = (Arc::clone(&self.state), self.sock.clone());
        let (rx, queued, idle, open) = (
            Arc::clone(&self.rx),
            Arc::clone(&self.queued),
            Arc::clone(&self.idle),
            Arc::clone(&self.open),
        );
        std::thread::spawn(move || {
            loop {
                idle.fetch_add(1, SeqCst);
                // Err: the accept loop has ended.
                let job = rx.lock().ok().and_then(|rx| rx.recv().ok());
                idle.fetch_sub(1, SeqCst);
                let Some((stream, req)) = job else { break };
                queued.fetch_sub(1, SeqCst);
                let (resp, line) = respond_to(req, &state, true, Some(&stream));
                // The audit line goes after the answer, off the caller's wait; a request to
                // settle waits for it ([`AUDIT_PENDING`]).
                if line.is_some() {
                    AUDIT_PENDING.fetch_add(1, SeqCst);
                }
                reply(stream, &resp);
                if let Some((path, entry)) = line {
                    let _ = crate::audit::append(&path, &entry);
                    AUDIT_PENDING.fetch_sub(1, SeqCst);
                }
                if state.lock().map(|s| s.stop).unwrap_or(true) {
                    // Wake the accept loop so it sees the flag.
                    wake(&sock);
                    break;
                }
                if idle.load(SeqCst) >= SPARE_THREADS && queued.load(SeqCst) == 0 {
                    break;
                }
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
    crate::os::deny_attach();
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

/// The answer to one request line (`resolve`: whether a Resolve request is run; the fuzz
/// targets leave the resolver to its own tests, as it would call STS).
fn respond(line: &[u8], state: &Arc<Mutex<State>>, resolve: bool) -> Response {
    match parse(line) {
        Ok(req) => respond_to(req, state, resolve, None).0,
        Err(e) => Response::refuse(e),
    }
}

/// An audit line to append, and where.
type AuditLine = Option<(std::path::PathBuf, crate::audit::Entry)>;

/// Answers taken whose audit line is not written yet.
static AUDIT_PENDING: AtomicUsize = AtomicUsize::new(0);

/// Whether `req` needs the identity: while the agent holds it (quick unlock), such a request
/// waits for the person's approval (a resolution or an approval asks for it; anything else is
/// told to ask first).
fn needs_identity(req: &Request) -> bool {
    // Every kind named, no wildcard: a new request must be placed on one side.
    match req {
        Request::List
        | Request::Item { .. }
        | Request::Update { .. }
        | Request::SsoToken { .. }
        | Request::Session { .. }
        | Request::Recipient
        | Request::Resolve(_)
        | Request::Approve => true,
        Request::Status
        | Request::Unlock { .. }
        | Request::Lock
        | Request::CacheGet { .. }
        | Request::CachePut { .. }
        | Request::AuditSettle => false,
    }
}

/// A suspend longer than the idle time (or the absolute limit) is seen by the request that
/// comes first after the resume, not at the watchdog's next look up to a second later: the
/// identity is forgotten before anything is answered with it (review finding 12). The
/// watchdog still ends the agent.
fn forgot_after_sleep(state: &Mutex<State>) -> bool {
    let Ok(mut s) = state.lock() else {
        return true;
    };
    if s.identity.is_none() {
        return false;
    }
    let (now, gap) = (clock::now(), clock::gap());
    let slept = hold::slept(s.gap, gap);
    if matches!(
        hold::next(s.phase, &s.times, &s.clocks(now, slept)),
        Next::Forget
    ) {
        s.forget();
        drop(s);
        APPROVAL.notify_all();
        return true;
    }
    false
}

/// The answer to `req` from the caller on `stream` (whose pid and uid an approval asks about),
/// and the audit line to append once it is sent.
fn respond_to(
    req: Request,
    state: &Arc<Mutex<State>>,
    resolve: bool,
    stream: Option<&UnixStream>,
) -> (Response, AuditLine) {
    // An identity goes to an agent that holds one already (a rekey, an unlock again), to the
    // one its unlocker started (the nonce), or from this very process (an agent run in a
    // thread): never to one someone else started first.
    if let Request::Unlock {
        identity: Some(_),
        nonce,
        ..
    } = &req
    {
        let own = stream
            .and_then(peer)
            .is_some_and(|(pid, _)| pid == std::process::id());
        let stranger = state
            .lock()
            .map(|s| s.identity.is_none() && !nonce_matches(&s.nonce, nonce))
            .unwrap_or(true);
        if stranger && !own {
            let e = Error::StrangerAgent(
                "this agent was not started by the op-aws that unlocks".into(),
            );
            return (Response::fail(&e), None);
        }
    }
    if needs_identity(&req) && forgot_after_sleep(state) {
        return (Response::fail(&Error::Locked), None);
    }
    if needs_identity(&req) && state.lock().map(|s| s.phase == Phase::Held).unwrap_or(true) {
        let approval = if matches!(req, Request::Resolve(_) | Request::Approve) {
            approve(state, stream.and_then(peer), &approval_reason(&req))
        } else {
            Err(Error::Held)
        };
        if let Err(e) = approval {
            return (Response::fail(&e), None);
        }
    }
    match req {
        Request::Approve => (answer(Request::Status, state), None),
        // Resolving may call STS for seconds: never under the state's lock, which every
        // other request (the ones this one makes back to the agent included) needs.
        Request::Resolve(asked) if resolve => match state.lock().map(|s| s.dirs.clone()) {
            Ok(dirs) => {
                let (r, line) = resolve_for(state, &dirs, &asked);
                let resp = match r {
                    Ok(a) => Response {
                        resolved: Some(Box::new(a)),
                        ..Response::default()
                    },
                    Err(e) => Response::fail(&e),
                };
                (resp, line)
            }
            Err(_) => (Response::refuse("internal error"), None),
        },
        Request::AuditSettle => {
            // Bounded: a line that cannot be written must not hold `op-aws audit` forever.
            let until = std::time::Instant::now() + Duration::from_secs(2);
            while AUDIT_PENDING.load(SeqCst) > 0 && std::time::Instant::now() < until {
                std::thread::sleep(Duration::from_millis(1));
            }
            (Response::default(), None)
        }
        req => (answer(req, state), None),
    }
}

/// For the fuzz targets ([`crate::fuzzing::Agent`]): an agent's state in this process, locked
/// or holding `identity`, answering request lines as the agent does.
pub(crate) struct InProcess(Arc<Mutex<State>>);

impl InProcess {
    pub(crate) fn new(dirs: Dirs, identity: Option<Identity>) -> Self {
        let now = clock::now();
        Self(Arc::new(Mutex::new(State {
            dirs,
            recipient: identity.as_ref().map(|i| i.recipient().to_string()),
            unlocked_at: identity.as_ref().map(|_| now),
            identity: identity.map(Arc::new),
            vault: None,
            cache: HashMap::new(),
            cache_bytes: 0,
            sessions: HashMap::new(),
            started: now,
            times: AgentTimes::forget_when_idle(crate::config::DEFAULT_IDLE),
            last_used: now,
            phase: Phase::Unlocked,
            checking: false,
            refused: false,
            gap: Duration::ZERO,
            stop: false,
            nonce: None,
        })))
    }

    /// The line the agent writes back for `line` (a Resolve request is refused unrun).
    pub(crate) fn answer_line(&self, line: &[u8]) -> Zeroizing<Vec<u8>> {
        let resp = respond(line, &self.0, false);
        Zeroizing::new(serde_json::to_vec(&resp).unwrap_or_default())
    }

    /// Everything a request can change, secrets digested.
    pub(crate) fn digest(&self) -> String {
        use sha2::Digest;
        let hex = |b: &[u8]| -> String {
            sha2::Sha256::digest(b)
                .iter()
                .map(|x| format!("{x:02x}"))
                .collect()
        };
        let Ok(s) = self.0.lock() else {
            return "poisoned".into();
        };
        let mut cache: Vec<(&String, String)> = s
            .cache
            .iter()
            .map(|(k, v)| (k, hex(v.as_bytes())))
            .collect();
        cache.sort();
        let mut sessions: Vec<&std::path::PathBuf> = s.sessions.keys().collect();
        sessions.sort();
        let vault = std::fs::read(s.dirs.vault_file())
            .map(|b| hex(&b))
            .unwrap_or_default();
        format!(
            "{:?} {:?} {vault} {cache:?} {} {sessions:?} {:?} {:?} {:?} {:?} {} {}",
            s.recipient,
            s.identity.as_ref().map(|i| i.recipient().to_string()),
            s.cache_bytes,
            s.unlocked_at,
            s.times,
            s.last_used,
            s.phase,
            s.refused,
            s.stop,
        )
    }
}

fn answer(req: Request, state: &Mutex<State>) -> Response {
    if let Request::Update { change } = &req {
        return update(state, change);
    }
    let Ok(mut s) = state.lock() else {
        return Response::refuse("internal error");
    };
    let now = clock::now();
    let mut r = Response::default();
    match req {
        Request::Status | Request::AuditSettle | Request::Approve => {}
        Request::Unlock {
            identity,
            idle_secs,
            hold,
            forget_secs,
            // Checked in respond_to, which knows the peer.
            nonce: _,
        } => {
            let times = AgentTimes {
                idle: clamp_idle(idle_secs),
                hold,
                forget: forget_secs.map_or(MAX_LIFETIME, clamp_idle),
            };
            if let Some(id) = identity {
                let Ok(id) = Identity::parse(&id) else {
                    return Response::refuse("malformed identity");
                };
                s.recipient = Some(id.recipient().to_string());
                s.identity = Some(Arc::new(id));
                s.vault = None;
                s.sessions.clear();
                s.unlocked_at = Some(now);
                s.phase = Phase::Unlocked;
                s.refused = false;
                s.times = times;
            } else if s.identity.is_none() {
                // A cache-only agent (1Password): its idle time, never a hold.
                s.times = AgentTimes {
                    hold: false,
                    ..times
                };
            }
            if s.phase != Phase::Held {
                s.last_used = now;
            }
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
        // Answered before the state's lock is taken (above).
        Request::Update { .. } => {}
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
    r.status = Some(AgentStatus {
        pid: std::process::id(),
        unlocked: s.identity.is_some(),
        unlocked_secs: s.unlocked_at.map_or(0, |t| now.saturating_sub(t).as_secs()),
        expires_in_secs: s.expires_in(now).as_secs(),
        cached_entries: s.cache.len(),
        held: s.identity.is_some() && s.phase == Phase::Held,
        quick_unlock: s.identity.is_some() && s.times.hold,
        forgets_in_secs: s.forgets_in(now).as_secs(),
    });
    r
}

/// An item write. The vault file is read, changed and written (fsync included) outside the
/// state's lock, which `status` and `lock` on the reader thread wait for; the vault's file lock
/// keeps writers in turn.
fn update(state: &Mutex<State>, change: &vault::Change) -> Response {
    let Ok((dirs, identity)) = state.lock().map(|s| (s.dirs.clone(), s.identity.clone())) else {
        return Response::refuse("internal error");
    };
    let Some(identity) = identity else {
        return Response::fail(&Error::Locked);
    };
    match vault::update(&dirs, &identity, |data| change.apply(data)) {
        Ok(()) => {
            if let Ok(mut s) = state.lock() {
                s.vault = None;
                s.last_used = clock::now();
            }
            Response::default()
        }
        Err(e) => Response::fail(&e),
    }
}

/// What the system authentication dialog says for `req`: the command, item and profile it
/// names.
fn approval_reason(req: &Request) -> String {
    use crate::model::resolution::Want;
    match req {
        Request::Resolve(asked) => {
            let r = asked.request();
            let command = match r.want {
                Want::Env { tool } => Some(tool),
                Want::Credentials => Some("credential_process"),
                _ => None,
            };
            crate::sysauth::reason(command, r.item, r.profile)
        }
        _ => crate::sysauth::reason(None, None, None),
    }
}

/// A held identity used again: system authentication asks the person, with the process at the
/// other end of the connection (`peer`: pid, uid) as the subject. One check at a time: a
/// request that arrives meanwhile waits for its answer. Approved: unlocked again, the idle
/// time anew. A wrong password: still held ([`Error::ApprovalFailed`]); dismissed: the identity is
/// forgotten ([`Error::QuickUnlockRefused`]).
/// No answer within [`APPROVAL_TIMEOUT`]: this request fails, the identity stays held. No one
/// to ask (no authentication agent, polkit not running): forgotten, and the caller asks for
/// the passphrase as for any locked vault ([`Error::Locked`]).
fn approve(state: &Mutex<State>, peer: Option<(u32, u32)>, reason: &str) -> Result<()> {
    let internal = || Error::Agent("internal error".into());
    let end = Instant::now() + APPROVAL_TIMEOUT;
    let timed_out = || Error::ApprovalTimedOut(APPROVAL_TIMEOUT.as_secs());
    let mut s = state.lock().map_err(|_| internal())?;
    loop {
        if s.identity.is_none() {
            return Err(if s.refused {
                Error::QuickUnlockRefused
            } else {
                Error::Locked
            });
        }
        if s.phase != Phase::Held {
            return Ok(());
        }
        if !s.checking {
            break;
        }
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(timed_out());
        }
        s = APPROVAL
            .wait_timeout(s, left.min(Duration::from_secs(1)))
            .map_err(|_| internal())?
            .0;
    }
    s.checking = true;
    drop(s);
    let verdict =
        crate::sysauth::check(peer, reason, end.saturating_duration_since(Instant::now()));
    let mut s = state.lock().map_err(|_| internal())?;
    s.checking = false;
    APPROVAL.notify_all();
    if s.identity.is_none() {
        // Locked (or timed out) meanwhile.
        return Err(Error::Locked);
    }
    use crate::sysauth::Verdict;
    match verdict {
        Verdict::Approved => {
            s.phase = Phase::Unlocked;
            s.last_used = clock::now();
            Ok(())
        }
        Verdict::TimedOut => Err(timed_out()),
        // A wrong password is no one saying no (the login password guards the hold either way,
        // and PAM paces the tries); a dismissed dialog is: an approval the person did not
        // expect, perhaps asked by something else, so the identity goes.
        Verdict::Refused => Err(Error::ApprovalFailed),
        Verdict::Dismissed => {
            s.forget();
            s.unlocked_at = None;
            s.refused = true;
            Err(Error::QuickUnlockRefused)
        }
        Verdict::NoAgent | Verdict::Failed(_) => {
            s.forget();
            s.unlocked_at = None;
            Err(Error::Locked)
        }
    }
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
fn resolve_for(
    state: &Arc<Mutex<State>>,
    dirs: &Dirs,
    asked: &Asked,
) -> (Result<Answer>, AuditLine) {
    match resolve_unlogged(state, dirs, asked) {
        Ok((answer, line)) => (Ok(answer), line),
        Err(e) => (Err(e), None),
    }
}

fn resolve_unlogged(
    state: &Arc<Mutex<State>>,
    dirs: &Dirs,
    asked: &Asked,
) -> Result<(Answer, AuditLine)> {
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
    let (r, line) = crate::resolve::resolve_here_unlogged(&ctx, &asked.request());
    let r = match r {
        Ok(r) => r,
        // A refusal is written now, before the caller hears of it; and what is handed back
        // to the caller is logged by the caller.
        Err(e) if needs_caller(&e) || matches!(e, Error::NoDefault) => {
            return Err(Error::NeedsCaller("the caller"));
        }
        Err(e) => {
            if let Some((path, entry)) = line {
                let _ = crate::audit::append(&path, &entry);
            }
            return Err(e);
        }
    };
    let notice = r.override_notice(&ctx);
    Ok((Answer::new(&r, notice), line))
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
