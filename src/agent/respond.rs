//! One request line to one response: the peer and nonce rules, what needs the identity,
//! and the agent's state in this process for the fuzz targets.

use std::collections::HashMap;
use std::os::unix::net::UnixStream;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use zeroize::Zeroizing;

use super::hold::{self, Next, Phase};
use crate::config::AgentTimes;
use crate::dirs::Dirs;
use crate::link::protocol::{Request, Response, peer};
// A clock that counts suspend, and the time spent suspended.
use super::answer::AuditLine;
use super::answer::{answer, resolve_for};
use super::approve::{APPROVAL, approval_reason, approve};
use super::readers::parse;
use super::state::State;
use crate::Error;
use crate::os::clock;
use crate::vault::Identity;

/// The answer to one request line (`resolve`: whether a Resolve request is run; the fuzz
/// targets leave the resolver to its own tests, as it would call STS).
pub(super) fn respond(line: &[u8], state: &Arc<Mutex<State>>, resolve: bool) -> Response {
    match parse(line) {
        Ok(req) => respond_to(req, state, resolve, None).0,
        Err(e) => Response::refuse(e),
    }
}

/// Answers taken whose audit line is not written yet.
pub(super) static AUDIT_PENDING: AtomicUsize = AtomicUsize::new(0);

/// Sends `resp`, then appends its audit line: after the answer, off the caller's wait; a
/// request to settle waits for it ([`AUDIT_PENDING`]).
pub(super) fn reply_then_audit(stream: UnixStream, resp: &Response, line: AuditLine) {
    if line.is_some() {
        AUDIT_PENDING.fetch_add(1, SeqCst);
    }
    super::readers::reply(stream, resp);
    if let Some((path, entry)) = line {
        let _ = crate::audit::append(&path, &entry);
        AUDIT_PENDING.fetch_sub(1, SeqCst);
    }
}

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
        | Request::SignInToken { .. }
        | Request::Session { .. }
        | Request::Recipient
        | Request::Approve => true,
        // What applies here (the front's hook-env) releases nothing: no approval, no unlock.
        Request::Resolve(asked) => !asked.is_here(),
        Request::Status
        | Request::Unlock { .. }
        | Request::Lock
        | Request::CacheGet { .. }
        | Request::CachePut { .. }
        | Request::AuditSettle
        | Request::SandboxOpen { .. }
        | Request::SandboxList
        | Request::SandboxStop { .. } => false,
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
pub(super) fn respond_to(
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
                let kernel = stream.and_then(peer).map(|(pid, _)| pid);
                let asked = asked.with_peer(kernel);
                let (r, line) = resolve_for(state, &dirs, asked);
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
            // (10 s: 200 answers on a busy machine have taken more than 2.)
            let until = std::time::Instant::now() + Duration::from_secs(10);
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
            person: None,
            sandboxes: HashMap::new(),
        })))
    }

    /// The state, shared (for the pool's tests).
    #[cfg(test)]
    pub(super) fn state(&self) -> Arc<Mutex<State>> {
        Arc::clone(&self.0)
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

/// The nonce given equals the agent's (in constant time).
fn nonce_matches(mine: &Option<Zeroizing<String>>, given: &Option<Zeroizing<String>>) -> bool {
    use subtle::ConstantTimeEq;
    match (mine, given) {
        (Some(a), Some(b)) => a.as_bytes().ct_eq(b.as_bytes()).into(),
        _ => false,
    }
}
