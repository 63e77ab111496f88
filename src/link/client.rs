//! The agent's client side: [`Link`], the one way the resolver, the engines and the front ends
//! reach the agent — over its socket, or in this process when this process is the agent.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;
use zeroize::Zeroizing;

use super::protocol::{
    APPROVAL_TIMEOUT, AgentStatus, Answerer, Asked, Request, Response, check_peer, decode,
};
use crate::caller::Caller;
use crate::config::AgentTimes;
use crate::dirs::Dirs;
use crate::item::Item;
use crate::model::resolution::{Request as Resolve, Resolution};
use crate::vault::{self, Identity};
use crate::{Error, Result, fsutil};

/// How long a client waits for a resolution: the agent may be calling STS (20 s per call, a
/// retry) or Identity Center for it, after asking system authentication if it held.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(90 + APPROVAL_TIMEOUT.as_secs());
/// How long a client waits for system authentication's answer ([`Link::approve`]).
const APPROVE_TIMEOUT: Duration = Duration::from_secs(10 + APPROVAL_TIMEOUT.as_secs());

/// Where the agent is, for a context ([`crate::ctx::Ctx::agent`]).
#[derive(Clone)]
pub enum Link {
    /// Over the agent's socket in this runtime directory. `scrub`: the caller's variables that
    /// sign op-aws in, kept out of an agent started from here (it never runs `op`).
    Socket {
        runtime: PathBuf,
        socket: PathBuf,
        scrub: Vec<String>,
        /// Inside `op-aws sandbox` (`OP_AWS_SANDBOX`): the socket is the sandbox's capability.
        /// Gone, it is closed: no agent is started here and nothing is resolved locally.
        sandbox: Option<String>,
    },
    /// This process is the agent: answered on its own state.
    InProcess(Arc<dyn Answerer>),
}

impl Link {
    /// The agent of `dirs` (its runtime directory), over the socket.
    pub fn to(dirs: &Dirs) -> Self {
        Self::Socket {
            runtime: dirs.runtime.clone(),
            socket: dirs.agent_socket(),
            scrub: Vec::new(),
            sandbox: None,
        }
    }

    /// The agent of `dirs`, for `caller`: an agent started from here gets none of the
    /// caller's variables that sign op-aws in ([`crate::caller::is_sign_in_var`]).
    pub fn for_caller(dirs: &Dirs, caller: &Caller) -> Self {
        let mut link = Self::to(dirs);
        if let Self::Socket { scrub, sandbox, .. } = &mut link {
            *sandbox = caller.var(crate::caller::SANDBOX_VAR).map(str::to_owned);
            *scrub = caller
                .vars()
                .map(|(k, _)| k)
                .filter(|k| crate::caller::is_sign_in_var(k))
                .cloned()
                .collect();
        }
        link
    }

    /// This process is the agent: what needs the caller itself (a terminal, `op`, a browser)
    /// is refused with `Error::NeedsCaller`, never attempted.
    pub fn is_in_process(&self) -> bool {
        matches!(self, Self::InProcess(_))
    }

    /// Inside `op-aws sandbox`: the socket is its capability.
    pub fn in_sandbox(&self) -> bool {
        matches!(
            self,
            Self::Socket {
                sandbox: Some(_),
                ..
            }
        )
    }

    fn connect(&self) -> Result<Option<Client>> {
        match self {
            Self::Socket {
                runtime,
                socket,
                sandbox,
                ..
            } => match (Client::connect(runtime, socket)?, sandbox) {
                (None, Some(name)) => Err(Error::SandboxClosed(name.clone())),
                (c, _) => Ok(c),
            },
            Self::InProcess(_) => Ok(None),
        }
    }

    /// A request that changes nothing, asked again once on a new connection if the first one
    /// was lost (an agent thread starved of CPU past the request deadline, say). `None`: no
    /// agent runs.
    fn ask(&self, req: Request) -> Result<Option<Response>> {
        if let Self::InProcess(here) = self {
            return decode(here.answer(req)).map(Some);
        }
        let Some(c) = self.connect()? else {
            return Ok(None);
        };
        let line = encode(&req)?;
        let r = match c.call_line(&line) {
            Err(Error::AgentConnectionLost(_)) => match self.connect()? {
                Some(c) => c.call_line(&line).map(Some),
                None => Ok(None),
            },
            other => other.map(Some),
        };
        self.approved_again(r, &line)
    }

    /// `r`, or, when the agent held the identity (quick unlock), the same request asked again
    /// once system authentication approved it (a held agent applied nothing, so a write too).
    fn approved_again(&self, r: Result<Option<Response>>, line: &[u8]) -> Result<Option<Response>> {
        match r {
            Err(Error::Held) => {
                self.approve()?;
                match self.connect()? {
                    Some(c) => c.call_line(line).map(Some),
                    None => Ok(None),
                }
            }
            other => other,
        }
    }

    /// Asks a holding agent to use the identity again: system authentication asks the person
    /// (this process is the subject). Ok at once when it does not hold.
    pub fn approve(&self) -> Result<()> {
        if self.is_in_process() {
            return Ok(());
        }
        let Some(c) = self.connect()? else {
            return Err(Error::Locked);
        };
        c.reader
            .get_ref()
            .set_read_timeout(Some(APPROVE_TIMEOUT))
            .map_err(|e| Error::Agent(e.to_string()))?;
        c.call_line(&encode(&Request::Approve)?).map(|_| ())
    }

    /// A request that may change something: never asked twice (a write lost on the way back
    /// may have been applied). `None`: no agent runs.
    fn ask_once(&self, req: Request) -> Result<Option<Response>> {
        match self {
            Self::InProcess(here) => decode(here.answer(req)).map(Some),
            Self::Socket { .. } => match self.connect()? {
                Some(c) => {
                    let line = encode(&req)?;
                    let r = c.call_line(&line).map(Some);
                    self.approved_again(r, &line)
                }
                None => Ok(None),
            },
        }
    }

    /// One item from the unlocked vault. `None` when no agent runs; `Error::Locked` when it
    /// holds no identity.
    pub fn item(&self, name: &str) -> Result<Option<Item>> {
        let Some(r) = self.ask(Request::Item {
            name: name.to_owned(),
        })?
        else {
            return Ok(None);
        };
        let json = r
            .value
            .ok_or_else(|| Error::Agent("it sent no item".into()))?;
        serde_json::from_str(&json)
            .map(Some)
            .map_err(|e| Error::Agent(format!("bad item: {}", vault::json_error(&e))))
    }

    /// The vault's titles and labels. `None` when no agent runs.
    pub fn list(&self) -> Result<Option<Vec<vault::Listing>>> {
        Ok(self.ask(Request::List)?.map(|r| r.list.unwrap_or_default()))
    }

    /// Applies `change` to the vault. `Error::Locked` when no agent holds the identity.
    pub fn update(&self, change: vault::Change) -> Result<()> {
        self.ask_once(Request::Update { change })?
            .map(|_| ())
            .ok_or(Error::Locked)
    }

    /// The cached session `key` of `dir`, decrypted (JSON). `None` when no agent holds the
    /// identity.
    pub fn session(&self, dir: &Path, key: &str) -> Result<Option<Zeroizing<String>>> {
        let req = Request::Session {
            dir: dir.to_owned(),
            key: key.to_owned(),
        };
        match self.ask(req) {
            Ok(r) => Ok(r.and_then(|r| r.value)),
            Err(Error::Locked) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// An SSO token blob, decrypted; `Err(Locked)` when no agent holds the identity.
    pub fn sso_token(&self, dir: &Path, key: &str) -> Result<Option<Zeroizing<String>>> {
        let req = Request::SsoToken {
            dir: dir.to_owned(),
            key: key.to_owned(),
        };
        match self.ask(req)? {
            Some(r) => Ok(r.value),
            None => Err(Error::Locked),
        }
    }

    /// An `aws login` session's blob, decrypted; `Err(Locked)` when no agent holds the identity.
    pub fn signin_token(&self, dir: &Path, key: &str) -> Result<Option<Zeroizing<String>>> {
        let req = Request::SignInToken {
            dir: dir.to_owned(),
            key: key.to_owned(),
        };
        match self.ask(req)? {
            Some(r) => Ok(r.value),
            None => Err(Error::Locked),
        }
    }

    /// The public recipient of the identity the agent holds, if it holds one.
    pub fn recipient(&self) -> Result<Option<String>> {
        match self.ask(Request::Recipient) {
            Ok(r) => Ok(r.and_then(|r| r.value).map(|v| v.as_str().to_owned())),
            Err(Error::Locked) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub fn status(&self) -> Result<Option<AgentStatus>> {
        Ok(self.ask(Request::Status)?.and_then(|r| r.status))
    }

    /// Waits until the agent has written the audit line of every answer it gave.
    pub fn audit_settle(&self) -> Result<()> {
        self.ask_once(Request::AuditSettle).map(drop)
    }

    /// Forgets everything now; the agent exits. Returns whether an agent was running.
    pub fn lock(&self) -> Result<bool> {
        Ok(self.ask_once(Request::Lock)?.is_some())
    }

    /// A value the agent keeps for its lifetime (1Password reads). `None` when no agent runs.
    pub fn cache_get(&self, key: &str) -> Result<Option<Zeroizing<String>>> {
        let req = Request::CacheGet {
            key: key.to_owned(),
        };
        Ok(self.ask(req)?.and_then(|r| r.value))
    }

    /// Stores a value in a running agent; does nothing when none runs.
    pub fn cache_put(&self, key: &str, value: Zeroizing<String>) -> Result<()> {
        let req = Request::CachePut {
            key: key.to_owned(),
            value,
        };
        self.ask_once(req).map(|_| ())
    }

    /// The agent's resolution for `caller`'s request. `Ok(None)`: resolve in this process (no
    /// agent, this process is the agent, or the request needs the caller: a terminal, op, a
    /// browser, a context too big to send).
    pub fn resolve(&self, caller: &Caller, req: &Resolve<'_>) -> Result<Option<Resolution>> {
        match Asked::new(caller, req) {
            Some(asked) => self.resolve_asked(caller, asked),
            None => Ok(None),
        }
    }

    /// What applies here (`req`: `Want::Here` without a peek), from the agent: for the front,
    /// which cannot work it out itself (the full binary does, with [`Self::resolve`]'s `None`).
    /// Never through a sandbox's capability, which answers releases only.
    pub fn applies_here(&self, caller: &Caller, req: &Resolve<'_>) -> Result<Option<Resolution>> {
        match Asked::here(caller, req) {
            Some(asked) if !self.in_sandbox() => self.resolve_asked(caller, asked),
            _ => Ok(None),
        }
    }

    fn resolve_asked(&self, caller: &Caller, asked: Asked) -> Result<Option<Resolution>> {
        let Some(c) = self.connect()? else {
            return Ok(None);
        };
        c.reader
            .get_ref()
            .set_read_timeout(Some(RESOLVE_TIMEOUT))
            .map_err(|e| Error::Agent(e.to_string()))?;
        match c.call_line_showing(
            &encode(&Request::Resolve(Box::new(asked)))?,
            &caller.progress,
        ) {
            Ok(r) => Ok(r.resolved.map(|a| a.into_resolution())),
            // No agent, or one that cannot do it for us: the caller does it (never in a
            // sandbox, which has nothing to do it with).
            Err(
                Error::NeedsCaller(_)
                | Error::Locked
                | Error::Agent(_)
                | Error::AgentConnectionLost(_),
            ) if !self.in_sandbox() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Opens a sandbox's capability for `spec` (resolved in `person`'s variables); its
    /// directory. `None`: no agent runs.
    pub fn sandbox_open(
        &self,
        spec: &crate::model::sandbox::Spec,
        person: &Caller,
    ) -> Result<Option<PathBuf>> {
        let person = person
            .vars_for_children()
            .filter_map(|(k, v)| Some((k.clone(), Zeroizing::new(v.to_str()?.to_owned()))))
            .collect();
        let req = Request::SandboxOpen {
            spec: spec.clone(),
            person,
        };
        Ok(self
            .ask_once(req)?
            .and_then(|r| r.value)
            .map(|v| PathBuf::from(v.as_str())))
    }

    /// The open sandboxes (none when no agent runs).
    pub fn sandbox_list(&self) -> Result<Vec<crate::model::sandbox::Listed>> {
        Ok(self
            .ask(Request::SandboxList)?
            .and_then(|r| r.sandboxes)
            .unwrap_or_default())
    }

    /// Closes sandbox `name`: what it was. `None`: no agent runs (so none is open).
    pub fn sandbox_stop(&self, name: &str) -> Result<Option<crate::model::sandbox::Listed>> {
        Ok(self
            .ask_once(Request::SandboxStop {
                name: name.to_owned(),
            })?
            .and_then(|r| r.sandboxes)
            .and_then(|mut v| v.pop()))
    }

    /// The person's environment, as the agent keeps it (in the agent only).
    pub fn person(&self) -> Option<Caller> {
        match self {
            Self::InProcess(here) => here.person(),
            Self::Socket { .. } => None,
        }
    }

    /// Hands `identity` (or, for the 1Password store, nothing but a cache) to the agent,
    /// starting it (`op-aws agent`) when none runs.
    ///
    /// An identity goes only to a peer that holds the agent's lock (a listener someone put at
    /// the socket's path gets nothing; Linux's /proc/locks tells), and, while that agent holds
    /// no identity, only to one this process started (it proves it with the nonce given on its
    /// stdin): an agent someone else started first, with an environment of their choosing, is
    /// stopped and one of ours started instead.
    pub fn unlock(&self, identity: Option<&Identity>, times: &AgentTimes) -> Result<()> {
        let idle_secs = crate::config::clamp_idle(times.idle.as_secs()).as_secs();
        let req = |nonce: Option<&Zeroizing<String>>| Request::Unlock {
            identity: identity
                .map(|i| Zeroizing::new(i.to_secret_string().expose_secret().to_owned())),
            idle_secs,
            hold: times.hold,
            forget_secs: Some(times.forget.as_secs()),
            nonce: nonce.cloned(),
        };
        let Self::Socket {
            runtime,
            socket,
            scrub,
            sandbox,
        } = self
        else {
            return self.ask_once(req(None)).map(|_| ());
        };
        if let Some(name) = sandbox {
            // The person unlocks, outside: a sandbox never starts or feeds an agent.
            return Err(Error::sandbox(
                name,
                "unlocking is the person's, outside the sandbox",
                "run `op-aws unlock` in a terminal of your own",
            ));
        }
        if identity.is_none() {
            if self.ask_once(req(None))?.is_some() {
                return Ok(());
            }
            spawn(runtime, scrub, None)?;
            return match self.ask_once(req(None))? {
                Some(_) => Ok(()),
                None => Err(Error::Agent(
                    "it started but its socket is not there".into(),
                )),
            };
        }
        if let Some(c) = Client::connect(runtime, socket)? {
            c.check_lock_holder(runtime)?;
            match c.call_line(&encode(&req(None))?) {
                Ok(_) => return Ok(()),
                Err(Error::StrangerAgent(_)) => self.stop_stranger(runtime, socket)?,
                Err(e) => return Err(e),
            }
        }
        let nonce = new_nonce()?;
        spawn(runtime, scrub, Some(&nonce))?;
        let Some(c) = Client::connect(runtime, socket)? else {
            return Err(Error::Agent(
                "it started but its socket is not there".into(),
            ));
        };
        c.check_lock_holder(runtime)?;
        c.call_line(&encode(&req(Some(&nonce)))?).map(|_| ())
    }

    /// An agent this process did not start and that holds no identity: asked to stop, and
    /// waited for (its socket goes). One that does not stop is named in the error.
    fn stop_stranger(&self, runtime: &Path, socket: &Path) -> Result<()> {
        let _ = self.lock();
        for _ in 0..100 {
            if Client::connect(runtime, socket)?.is_none() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(Error::StrangerAgent(
            "an agent op-aws did not start answers at the socket and does not stop".into(),
        ))
    }
}

/// A fresh nonce for an agent this process starts (32 random bytes, hex).
fn new_nonce() -> Result<Zeroizing<String>> {
    let mut raw = Zeroizing::new([0u8; 32]);
    getrandom::getrandom(&mut raw[..]).map_err(|e| Error::Agent(format!("no randomness: {e}")))?;
    Ok(Zeroizing::new(
        raw.iter().map(|b| format!("{b:02x}")).collect(),
    ))
}

/// Who holds a flock on the file with inode `ino`, from /proc/locks (`N: FLOCK ADVISORY WRITE
/// PID MAJ:MIN:INODE START END`).
pub fn flock_holders(locks: &str, ino: u64) -> Vec<u32> {
    locks
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            // A blocked waiter's line starts with "N: ->": not a holder.
            if f.get(1) != Some(&"FLOCK") {
                return None;
            }
            let pid = f.get(4)?.parse().ok()?;
            let inode = f.get(5)?.rsplit(':').next()?.parse::<u64>().ok()?;
            (inode == ino).then_some(pid)
        })
        .collect()
}

fn encode(req: &Request) -> Result<Zeroizing<Vec<u8>>> {
    let mut line =
        Zeroizing::new(serde_json::to_vec(req).map_err(|e| Error::Agent(e.to_string()))?);
    line.push(b'\n');
    Ok(line)
}

/// How long an answer may take before it shows as a step.
const SHOW_AFTER: Duration = Duration::from_millis(300);

struct Client {
    reader: BufReader<UnixStream>,
}

impl Client {
    fn connect(runtime: &Path, sock: &Path) -> Result<Option<Self>> {
        match std::fs::symlink_metadata(runtime) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            _ => fsutil::check_private_dir(runtime)?,
        }
        let stream = match UnixStream::connect(sock) {
            Ok(s) => s,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
                ) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(Error::io(sock, e)),
        };
        check_peer(&stream).map_err(Error::Agent)?;
        let timeout = Some(super::protocol::IO_TIMEOUT);
        stream
            .set_read_timeout(timeout)
            .map_err(|e| Error::io(sock, e))?;
        stream
            .set_write_timeout(timeout)
            .map_err(|e| Error::io(sock, e))?;
        Ok(Some(Self {
            reader: BufReader::new(stream),
        }))
    }

    /// Whether the answer starts arriving within `wait`.
    fn answer_within(&self, wait: Duration) -> bool {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        use std::os::fd::AsFd;
        let mut fds = [PollFd::new(
            self.reader.get_ref().as_fd(),
            PollFlags::POLLIN,
        )];
        let ms = u16::try_from(wait.as_millis()).unwrap_or(u16::MAX);
        // An error: as if it came (the read that follows says what happened).
        poll(&mut fds, PollTimeout::from(ms)).map_or(true, |n| n > 0)
    }

    /// The peer holds the agent's lock (`agent.lock` in `runtime`): it is the agent, not a
    /// listener put at the socket's path. Linux only (/proc/locks); elsewhere not checked.
    fn check_lock_holder(&self, runtime: &Path) -> Result<()> {
        use std::os::unix::fs::MetadataExt;
        if !cfg!(any(target_os = "linux", target_os = "android")) {
            return Ok(());
        }
        let Ok(locks) = std::fs::read_to_string("/proc/locks") else {
            return Ok(());
        };
        let lock = runtime.join("agent.lock");
        let ino = std::fs::metadata(&lock)
            .map_err(|e| Error::io(&lock, e))?
            .ino();
        let peer = crate::os::peer(self.reader.get_ref())
            .ok()
            .and_then(|p| p.pid);
        match peer {
            Some(pid) if flock_holders(&locks, ino).contains(&pid) => Ok(()),
            Some(pid) => Err(Error::StrangerAgent(format!(
                "process {pid} listens at {} but does not hold {}",
                runtime.join("agent.sock").display(),
                lock.display()
            ))),
            None => Err(Error::StrangerAgent("its pid is unknown".into())),
        }
    }

    fn call_line(self, line: &[u8]) -> Result<Response> {
        self.call_line_showing(line, &crate::progress::Progress::default())
    }

    /// [`Self::call_line`]; an answer slower than [`SHOW_AFTER`] (the agent is calling STS or
    /// SSO) shows as a step until it comes. The common, fast answer costs one poll, no thread.
    fn call_line_showing(
        mut self,
        line: &[u8],
        progress: &crate::progress::Progress,
    ) -> Result<Response> {
        let io = |e: std::io::Error| Error::AgentConnectionLost(e.to_string());
        self.reader.get_mut().write_all(line).map_err(io)?;
        let _step = (progress.is_shown() && !self.answer_within(SHOW_AFTER))
            .then(|| progress.step("waiting for the agent (AWS STS, IAM Identity Center)"));
        let mut buf = Zeroizing::new(String::new());
        self.reader.read_line(&mut buf).map_err(io)?;
        if buf.is_empty() {
            return Err(Error::AgentConnectionLost(
                "it closed the connection".into(),
            ));
        }
        let resp: Response = serde_json::from_str(&buf)
            .map_err(|e| Error::Agent(format!("bad reply: {}", vault::json_error(&e))))?;
        decode(resp)
    }
}

/// Starts `op-aws agent` for `runtime` and waits until it listens.
fn spawn(runtime: &Path, scrub: &[String], nonce: Option<&Zeroizing<String>>) -> Result<()> {
    fsutil::ensure_private_dir(runtime)?;
    let exe = crate::process::op_aws_exe().map_err(|e| Error::Agent(e.to_string()))?;
    let mut cmd = Command::new(&exe);
    for k in scrub {
        cmd.env_remove(k);
    }
    let mut child = cmd
        .arg("agent")
        .env("OP_AWS_RUNTIME_DIR", runtime)
        // It never runs op: a service account's or Connect's token has no business in its environ.
        .env_remove(crate::caller::SERVICE_ACCOUNT_VAR)
        .env_remove(crate::caller::CONNECT_TOKEN_VAR)
        .stdin(if nonce.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| Error::Agent(format!("cannot start {}: {e}", exe.display())))?;
    if let (Some(nonce), Some(mut stdin)) = (nonce, child.stdin.take()) {
        // One line, then EOF: the agent reads it before it listens.
        let line = Zeroizing::new(format!("{}\n", nonce.as_str()));
        let _ = stdin.write_all(line.as_bytes());
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flock_holders_reads_proc_locks() {
        let locks = "1: FLOCK  ADVISORY  WRITE 4242 00:1a:91234 0 EOF\n\
                     1: -> FLOCK  ADVISORY  WRITE 777 00:1a:91234 0 EOF\n\
                     2: POSIX  ADVISORY  WRITE 99 08:01:91234 0 EOF\n\
                     3: FLOCK  ADVISORY  WRITE 5151 08:01:5 0 EOF\n";
        assert_eq!(flock_holders(locks, 91234), [4242]);
        assert_eq!(flock_holders(locks, 5), [5151]);
        assert!(flock_holders(locks, 6).is_empty());
    }
}
