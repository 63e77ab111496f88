//! The unlock agent: one detached process per runtime directory that keeps the vault identity,
//! the decrypted vault and, for the 1Password store, what `op` returned, in memory only, behind
//! a Unix socket. Neither the identity nor the vault ever leaves it: clients ask for one item, the
//! titles, a change to apply, a cached session to decrypt; the identity travels only inwards, at
//! unlock.
//!
//! Protocol: one JSON request line, one JSON response line, per connection. The socket lives in
//! a 0700 directory that both sides check is ours and not a symlink; each side checks the
//! other's uid with SO_PEERCRED. The agent forgets everything and exits after the idle timeout,
//! after the absolute limit, on `lock`, and on SIGTERM/SIGINT.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::dirs::Dirs;
use crate::fsutil;
use crate::item::Item;
use crate::vault::{self, Identity};
use crate::{Error, Result};

pub const DEFAULT_IDLE: Duration = Duration::from_secs(10 * 60);
pub const MAX_LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);
const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// One request line at most (an identity, an item: a few KiB); longer is refused unread.
const MAX_REQUEST: u64 = 64 * 1024;
/// A client gets this long for its whole request, however slowly it trickles in.
const REQUEST_DEADLINE: Duration = Duration::from_secs(5);
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

#[derive(Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Request {
    Status,
    Unlock {
        identity: Option<Zeroizing<String>>,
        idle_secs: u64,
    },
    Lock,
    CacheGet {
        key: String,
    },
    CachePut {
        key: String,
        value: Zeroizing<String>,
    },
    /// The vault's item titles and field labels (never a value).
    List,
    /// One item, revealed.
    Item {
        name: String,
    },
    /// A change to the vault, applied and re-encrypted by the agent.
    Update {
        change: vault::Change,
    },
    /// A cached STS session (`sts-KEY.age` in `dir`), decrypted: only a blob whose plaintext is
    /// a session is answered, so this decrypts nothing else (not the vault).
    Session {
        dir: std::path::PathBuf,
        key: String,
    },
    /// An SSO token (`sso-KEY.age` in `dir`), decrypted: only a blob whose plaintext is a
    /// token is answered.
    SsoToken {
        dir: std::path::PathBuf,
        key: String,
    },
    /// The identity's public recipient.
    Recipient,
    /// The environment (or credentials) for a caller and its request: the resolver runs here
    /// ([`crate::broker`]).
    Resolve(Box<crate::broker::Asked>),
}

#[derive(Serialize, Deserialize, Default)]
struct Response {
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// What kind of error, for the client to map back: "locked", "no_such_item",
    /// "item_exists", "invalid".
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<String>,
    /// The error's next command to run, carried to the client.
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<Zeroizing<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    list: Option<Vec<vault::Listing>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<AgentStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resolved: Option<Box<crate::broker::Answer>>,
}

impl Response {
    fn fail(e: &Error) -> Self {
        let code = match e {
            Error::Locked => "locked",
            Error::NeedsCaller(_) => "caller",
            Error::NoSuchItem(_) => "no_such_item",
            Error::ItemExists(_) => "item_exists",
            _ => "invalid",
        };
        Self {
            error: Some(match e {
                Error::NoSuchItem(n) | Error::ItemExists(n) => n.clone(),
                other => other.to_string(),
            }),
            code: Some(code.into()),
            hint: e.hint(),
            ..Self::default()
        }
    }
}

/// What `op-aws status` shows about the agent.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct AgentStatus {
    pub pid: u32,
    /// The vault identity is held (the local store is unlocked).
    pub unlocked: bool,
    pub unlocked_secs: u64,
    /// Seconds until it forgets everything (idle timeout or the absolute limit, the sooner).
    pub expires_in_secs: u64,
    pub cached_entries: usize,
}

struct Client {
    reader: BufReader<UnixStream>,
}

impl Client {
    fn connect(dirs: &Dirs) -> Result<Option<Self>> {
        let sock = dirs.agent_socket();
        match std::fs::symlink_metadata(&dirs.runtime) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            _ => fsutil::check_private_dir(&dirs.runtime)?,
        }
        let stream = match UnixStream::connect(&sock) {
            Ok(s) => s,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
                ) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(Error::io(&sock, e)),
        };
        check_peer(&stream).map_err(Error::Agent)?;
        stream
            .set_read_timeout(Some(IO_TIMEOUT))
            .map_err(|e| Error::io(&sock, e))?;
        stream
            .set_write_timeout(Some(IO_TIMEOUT))
            .map_err(|e| Error::io(&sock, e))?;
        Ok(Some(Self {
            reader: BufReader::new(stream),
        }))
    }

    fn call(self, req: &Request) -> Result<Response> {
        let mut line =
            Zeroizing::new(serde_json::to_vec(req).map_err(|e| Error::Agent(e.to_string()))?);
        line.push(b'\n');
        self.call_line(&line)
    }

    fn call_line(mut self, line: &[u8]) -> Result<Response> {
        let io = |e: std::io::Error| Error::AgentConnectionLost(e.to_string());
        self.reader.get_mut().write_all(line).map_err(io)?;
        let mut buf = Zeroizing::new(String::new());
        self.reader.read_line(&mut buf).map_err(io)?;
        if buf.is_empty() {
            return Err(Error::AgentConnectionLost(
                "it closed the connection".into(),
            ));
        }
        let resp: Response = serde_json::from_str(&buf)
            .map_err(|e| Error::Agent(format!("bad reply: {}", crate::vault::json_error(&e))))?;
        decode(resp)
    }
}

/// A response, or the error it carries mapped back.
fn decode(mut resp: Response) -> Result<Response> {
    let Some(error) = resp.error.take() else {
        return Ok(resp);
    };
    Err(match resp.code.as_deref() {
        Some("locked") => Error::Locked,
        Some("caller") => Error::NeedsCaller("the caller"),
        Some("no_such_item") => Error::NoSuchItem(error),
        Some("item_exists") => Error::ItemExists(error),
        Some("invalid") => Error::Remote {
            message: error,
            hint: resp.hint.take(),
        },
        _ => Error::Agent(error),
    })
}

thread_local! {
    /// In the agent, on a thread resolving for a caller: the agent's own state, so what the
    /// resolver asks of "the agent" is answered here, not over a connection back to itself.
    static HERE: std::cell::RefCell<Option<Arc<Mutex<State>>>> =
        const { std::cell::RefCell::new(None) };
}

/// The broker's answer for `asked`, with this thread marked as the agent's ([`HERE`]).
fn broker_here(
    state: &Arc<Mutex<State>>,
    dirs: &Dirs,
    asked: &crate::broker::Asked,
) -> Result<crate::broker::Answer> {
    HERE.with(|h| *h.borrow_mut() = Some(Arc::clone(state)));
    let answered = crate::broker::serve(dirs, asked);
    HERE.with(|h| *h.borrow_mut() = None);
    answered
}

/// `req` answered in this process when this thread is the agent's ([`HERE`]).
fn in_process(req: Request) -> std::result::Result<Result<Response>, Request> {
    HERE.with(|h| match h.borrow().as_ref() {
        Some(state) => Ok(decode(answer(req, state))),
        None => Err(req),
    })
}

fn check_peer(stream: &UnixStream) -> std::result::Result<(), String> {
    let cred = nix::sys::socket::getsockopt(stream, nix::sys::socket::sockopt::PeerCredentials)
        .map_err(|e| format!("cannot read peer credentials: {e}"))?;
    let me = nix::unistd::geteuid().as_raw();
    if cred.uid() == me {
        Ok(())
    } else {
        Err(format!(
            "refusing a peer of uid {} (we are uid {me})",
            cred.uid()
        ))
    }
}

/// A request that changes nothing, asked again once on a new connection if the first one was
/// lost (an agent thread starved of CPU past the request deadline, say). `None`: no agent runs.
fn ask(dirs: &Dirs, req: Request) -> Result<Option<Response>> {
    let req = match in_process(req) {
        Ok(answered) => return answered.map(Some),
        Err(req) => req,
    };
    let Some(c) = Client::connect(dirs)? else {
        return Ok(None);
    };
    let mut line =
        Zeroizing::new(serde_json::to_vec(&req).map_err(|e| Error::Agent(e.to_string()))?);
    line.push(b'\n');
    match c.call_line(&line) {
        Err(Error::AgentConnectionLost(_)) => match Client::connect(dirs)? {
            Some(c) => c.call_line(&line).map(Some),
            None => Ok(None),
        },
        other => other.map(Some),
    }
}

/// One item from the unlocked vault. `None` when no agent runs; `Error::Locked` when it holds
/// no identity.
pub fn item(dirs: &Dirs, name: &str) -> Result<Option<Item>> {
    let Some(r) = ask(
        dirs,
        Request::Item {
            name: name.to_owned(),
        },
    )?
    else {
        return Ok(None);
    };
    let json = r
        .value
        .ok_or_else(|| Error::Agent("it sent no item".into()))?;
    serde_json::from_str(&json)
        .map(Some)
        .map_err(|e| Error::Agent(format!("bad item: {}", crate::vault::json_error(&e))))
}

/// The vault's titles and labels. `None` when no agent runs.
pub fn list(dirs: &Dirs) -> Result<Option<Vec<vault::Listing>>> {
    Ok(ask(dirs, Request::List)?.map(|r| r.list.unwrap_or_default()))
}

/// Applies `change` to the vault. `Error::Locked` when no agent holds the identity.
pub fn update(dirs: &Dirs, change: vault::Change) -> Result<()> {
    // Never asked twice (unlike [`ask`]): a write lost on the way back may have been applied.
    let req = match in_process(Request::Update { change }) {
        Ok(answered) => return answered.map(|_| ()),
        Err(req) => req,
    };
    let Some(c) = Client::connect(dirs)? else {
        return Err(Error::Locked);
    };
    c.call(&req).map(|_| ())
}

/// The cached session `key` of `dir`, decrypted (JSON). `None` when no agent holds the
/// identity.
pub fn session(dirs: &Dirs, dir: &Path, key: &str) -> Result<Option<Zeroizing<String>>> {
    let req = Request::Session {
        dir: dir.to_owned(),
        key: key.to_owned(),
    };
    match ask(dirs, req) {
        Ok(r) => Ok(r.and_then(|r| r.value)),
        Err(Error::Locked) => Ok(None),
        Err(e) => Err(e),
    }
}

/// How long a client waits for a resolution: the agent may be calling STS (20 s per call, a
/// retry) or Identity Center for it.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(90);

/// Asks the agent to resolve for a caller. `Ok(None)`: no agent runs, or the caller must do it
/// itself (a terminal, op, a browser).
pub fn resolve(dirs: &Dirs, asked: crate::broker::Asked) -> Result<Option<crate::broker::Answer>> {
    let Some(c) = Client::connect(dirs)? else {
        return Ok(None);
    };
    c.reader
        .get_ref()
        .set_read_timeout(Some(RESOLVE_TIMEOUT))
        .map_err(|e| Error::Agent(e.to_string()))?;
    let req = Request::Resolve(Box::new(asked));
    match c.call(&req) {
        Ok(r) => Ok(r.resolved.map(|b| *b)),
        Err(Error::NeedsCaller(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// An SSO token blob, decrypted; `Err(Locked)` when no agent holds the identity.
pub fn sso_token(dirs: &Dirs, dir: &Path, key: &str) -> Result<Option<Zeroizing<String>>> {
    let req = Request::SsoToken {
        dir: dir.to_owned(),
        key: key.to_owned(),
    };
    match ask(dirs, req)? {
        Some(r) => Ok(r.value),
        None => Err(Error::Locked),
    }
}

/// The public recipient of the identity the agent holds, if it holds one.
pub fn recipient(dirs: &Dirs) -> Result<Option<String>> {
    match ask(dirs, Request::Recipient) {
        Ok(r) => Ok(r.and_then(|r| r.value).map(|v| v.as_str().to_owned())),
        Err(Error::Locked) => Ok(None),
        Err(e) => Err(e),
    }
}

pub fn status(dirs: &Dirs) -> Result<Option<AgentStatus>> {
    Ok(ask(dirs, Request::Status)?.and_then(|r| r.status))
}

/// Forgets everything now; the agent exits. Returns whether an agent was running.
pub fn lock(dirs: &Dirs) -> Result<bool> {
    match Client::connect(dirs)? {
        Some(c) => c.call(&Request::Lock).map(|_| true),
        None => Ok(false),
    }
}

/// A value the agent keeps for its lifetime (1Password reads). `None` when no agent runs.
pub fn cache_get(dirs: &Dirs, key: &str) -> Result<Option<Zeroizing<String>>> {
    let req = Request::CacheGet {
        key: key.to_owned(),
    };
    Ok(ask(dirs, req)?.and_then(|r| r.value))
}

/// Stores a value in a running agent; does nothing when none runs.
pub fn cache_put(dirs: &Dirs, key: &str, value: Zeroizing<String>) -> Result<()> {
    let req = Request::CachePut {
        key: key.to_owned(),
        value,
    };
    let req = match in_process(req) {
        Ok(answered) => return answered.map(|_| ()),
        Err(req) => req,
    };
    if let Some(c) = Client::connect(dirs)? {
        c.call(&req)?;
    }
    Ok(())
}

/// Hands `identity` (or, for the 1Password store, nothing but a cache) to the agent, starting
/// it with `exe agent` when none runs.
pub fn unlock(dirs: &Dirs, exe: &Path, identity: Option<&Identity>, idle: Duration) -> Result<()> {
    let idle_secs = clamp_idle(idle.as_secs()).as_secs();
    let req = || Request::Unlock {
        identity: identity.map(|i| Zeroizing::new(i.to_secret_string().expose_secret().to_owned())),
        idle_secs,
    };
    if let Some(c) = Client::connect(dirs)? {
        c.call(&req())?;
        return Ok(());
    }
    spawn(dirs, exe)?;
    match Client::connect(dirs)? {
        Some(c) => c.call(&req()).map(|_| ()),
        None => Err(Error::Agent(
            "it started but its socket is not there".into(),
        )),
    }
}

fn spawn(dirs: &Dirs, exe: &Path) -> Result<()> {
    fsutil::ensure_private_dir(&dirs.runtime)?;
    let mut child = Command::new(exe)
        .arg("agent")
        .env("OP_AWS_RUNTIME_DIR", &dirs.runtime)
        // It never runs op: a service account's or Connect's token has no business in its environ.
        .env_remove(crate::onepassword::SERVICE_ACCOUNT_VAR)
        .env_remove(crate::onepassword::CONNECT_TOKEN_VAR)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| Error::Agent(format!("cannot start {}: {e}", exe.display())))?;
    // The agent prints one line once its socket accepts connections (or why it could not).
    let mut line = String::new();
    let out = child.stdout.take().expect("stdout is piped");
    BufReader::new(out)
        .read_line(&mut line)
        .map_err(|e| Error::Agent(e.to_string()))?;
    match line.trim() {
        "ready" | "running" => Ok(()),
        "" => Err(Error::Agent("it exited before it was ready".into())),
        other => Err(Error::Agent(other.to_owned())),
    }
}

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

/// The idle timeout asked for, within 1 s and the absolute limit (any number from the wire or
/// config.toml is clamped, never trusted).
pub fn clamp_idle(secs: u64) -> Duration {
    Duration::from_secs(secs.clamp(1, MAX_LIFETIME.as_secs()))
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

fn wake(sock: &Path) {
    let _ = UnixStream::connect(sock);
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

/// One request line, within [`MAX_REQUEST`] bytes and [`REQUEST_DEADLINE`] for all of it.
fn read_request(stream: &mut UnixStream) -> std::result::Result<Zeroizing<Vec<u8>>, String> {
    use std::io::Read;
    let deadline = std::time::Instant::now() + REQUEST_DEADLINE;
    let mut buf = Zeroizing::new(Vec::with_capacity(4096));
    let mut chunk = Zeroizing::new([0u8; 4096]);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return Err("request too slow".into());
        }
        let _ = stream.set_read_timeout(Some(left));
        let n = stream
            .read(&mut chunk[..])
            .map_err(|_| "request too slow".to_owned())?;
        if n == 0 {
            return Err("no request".into());
        }
        if let Some(end) = chunk[..n].iter().position(|b| *b == b'\n') {
            buf.extend_from_slice(&chunk[..end]);
            return Ok(buf);
        }
        if buf.len() + n > usize::try_from(MAX_REQUEST).unwrap_or(usize::MAX) {
            return Err("request too long".into());
        }
        // Grow by hand: a reallocation would leave an unzeroed copy of a secret behind.
        if buf.capacity() < buf.len() + n {
            let mut bigger = Zeroizing::new(Vec::with_capacity((buf.len() + n) * 2));
            bigger.extend_from_slice(&buf);
            buf = bigger;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn handle(mut stream: UnixStream, state: &Arc<Mutex<State>>) {
    let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
    let resp = match check_peer(&stream) {
        Err(e) => Response {
            error: Some(e),
            ..Response::default()
        },
        Ok(()) => {
            let line = match read_request(&mut stream) {
                Ok(l) => l,
                Err(e) => {
                    let r = Response {
                        error: Some(e),
                        ..Response::default()
                    };
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
                    Ok(dirs) => match broker_here(state, &dirs, &asked) {
                        Ok(a) => Response {
                            resolved: Some(Box::new(a)),
                            ..Response::default()
                        },
                        Err(e) => Response::fail(&e),
                    },
                    Err(_) => Response {
                        error: Some("internal error".into()),
                        ..Response::default()
                    },
                },
                Ok(req) => answer(req, state),
                Err(e) => Response {
                    error: Some(format!("bad request: {}", crate::vault::json_error(&e))),
                    ..Response::default()
                },
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
        return Response {
            error: Some("internal error".into()),
            ..Response::default()
        };
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
                    r.error = Some("malformed identity".into());
                    return r;
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
        // Answered in `handle`, away from the state's lock.
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
