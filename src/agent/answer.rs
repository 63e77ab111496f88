//! The answers themselves: items, titles, changes, sessions, and whole resolutions for a
//! caller (the resolver inside the agent reaches its state through [`Here`]).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use zeroize::Zeroizing;

use super::hold::Phase;
use crate::config::{AgentTimes, MAX_LIFETIME, clamp_idle};
use crate::ctx::Ctx;
use crate::dirs::Dirs;
use crate::link::client::Link;
use crate::link::protocol::{AgentStatus, Answer, Answerer, Asked, Request, Response};
use crate::model::resolution::Want;
// A clock that counts suspend, and the time spent suspended.
use crate::os::clock;
use crate::vault::{self, Identity};
use crate::{Error, Result};

use super::state::State;

/// Requests the agent resolves at once; more are told to resolve themselves.
const MAX_RESOLVING: usize = 16;
pub(super) fn answer(req: Request, state: &Mutex<State>) -> Response {
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
        Request::SignInToken { dir, key } => match &s.identity {
            None => r = Response::fail(&Error::Locked),
            Some(id) => match crate::signin::decrypt_token(id, &dir, &key) {
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
        // Answered by the main loop (`process`), which has the state to give their threads.
        Request::SandboxOpen { .. } | Request::SandboxList | Request::SandboxStop { .. } => {
            r = Response::refuse("not here");
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

/// The agent's state as the resolver inside it reaches it ([`Link::InProcess`]).
struct Here(Arc<Mutex<State>>);

impl Answerer for Here {
    fn answer(&self, req: Request) -> Response {
        answer(req, &self.0)
    }

    fn person(&self) -> Option<crate::caller::Caller> {
        self.0.lock().ok().and_then(|s| s.person.clone())
    }
}

/// A context for `caller` in the agent, whose link to the agent is this process.
pub(super) fn here_ctx(
    state: &Arc<Mutex<State>>,
    dirs: &Dirs,
    caller: crate::caller::Caller,
) -> Result<Ctx> {
    let link = Link::InProcess(Arc::new(Here(Arc::clone(state))));
    Ctx::with_link(caller, dirs.clone(), link)
}

static RESOLVING: AtomicUsize = AtomicUsize::new(0);

/// Resolves `asked` for its caller, in the agent: the one resolver, over a context whose link
/// to the agent is this process. `Err(NeedsCaller)` (and the other errors that mean "not
/// here") tell the client to resolve itself.
pub(super) fn resolve_for(
    state: &Arc<Mutex<State>>,
    dirs: &Dirs,
    mut asked: Asked,
) -> (Result<Answer>, AuditLine) {
    match resolve_unlogged(state, dirs, &mut asked) {
        Ok((answer, line)) => (Ok(answer), line),
        Err(e) => (Err(e), None),
    }
}

fn resolve_unlogged(
    state: &Arc<Mutex<State>>,
    dirs: &Dirs,
    asked: &mut Asked,
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
    let caller = asked.take_caller();
    // A caller with other op-aws directories than ours (another config, vault or cache) is
    // not ours to answer for.
    let theirs = Dirs::new(&caller)?;
    if (&theirs.config, &theirs.data, &theirs.cache) != (&dirs.config, &dirs.data, &dirs.cache) {
        return Err(Error::NeedsCaller("a caller with other op-aws directories"));
    }
    let ctx = here_ctx(state, dirs, caller)?;
    // Needing a terminal, op or a browser (or a picker) is the caller's business, not a
    // failure.
    let (r, line) = crate::resolve::resolve_here_unlogged(&ctx, &asked.request());
    let r = match r {
        Ok(r) => r,
        // A refusal is written now, before the caller hears of it; and what is handed back
        // to the caller is logged by the caller.
        Err(e) if !asked.is_confined() && (needs_caller(&e) || matches!(e, Error::NoDefault)) => {
            return Err(Error::NeedsCaller("the caller"));
        }
        Err(e) => {
            if let Some((path, entry)) = line {
                let _ = crate::audit::append(&path, &entry);
            }
            return Err(e);
        }
    };
    // Said once per caller, so worked out only for a release (what applies here says nothing).
    let notice = match asked.request().want {
        Want::Here { .. } => None,
        Want::Env { .. } | Want::Credentials | Want::Temporary => r.override_notice(&ctx),
    };
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

/// An audit line to append, and where.
pub(super) type AuditLine = Option<(std::path::PathBuf, crate::audit::Entry)>;
