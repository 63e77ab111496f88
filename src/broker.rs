//! The agent as credential broker: a front end hands its caller's context (variables, directory)
//! and request to the agent, and the agent runs the one resolver there — the vault item, the
//! STS (or Identity Center) calls and the encrypted session cache all stay inside it — and
//! answers only the environment changes and credentials for the command. Concurrent requests
//! for one session wait on that session's lock, so N callers cost one STS call.
//!
//! What needs the caller itself is left to it: a passphrase or MFA code typed at its terminal,
//! a 1Password read (`op` authorizes the caller's terminal session), an SSO sign-in in its
//! browser. The agent then answers "do it yourself" and the front end resolves locally, as
//! without an agent.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, UNIX_EPOCH};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::caller::Caller;
use crate::creds::Credentials;
use crate::ctx::Ctx;
use crate::dirs::Dirs;
use crate::inject::EnvChanges;
use crate::resolve::{Region, RegionFrom, Request, Resolution, Want};
use crate::{Error, Result, agent};

/// A request's variables and directory at most (the agent's request line is capped at 64 KiB).
const MAX_CONTEXT: usize = 48 * 1024;
/// Requests the agent resolves at once; more are told to resolve themselves. Each may open a
/// connection or two back to the agent (the item, a cached session), which must find room.
const MAX_RESOLVING: usize = 16;
static RESOLVING: AtomicUsize = AtomicUsize::new(0);

#[derive(Serialize, Deserialize)]
pub struct Asked {
    vars: Vec<(String, Zeroizing<String>)>,
    cwd: PathBuf,
    item: Option<String>,
    profile: Option<String>,
    want: WireWant,
    tool: String,
}

#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum WireWant {
    Env,
    Credentials,
    Temporary,
}

#[derive(Serialize, Deserialize)]
pub struct Answer {
    profile: Option<String>,
    handover: bool,
    set: Vec<(String, Zeroizing<String>)>,
    unset: Vec<String>,
    creds: Option<WireCreds>,
    region: Option<String>,
    notice: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct WireCreds {
    access_key_id: String,
    secret_access_key: Zeroizing<String>,
    session_token: Option<Zeroizing<String>>,
    expiration: Option<u64>,
}

/// Asks the agent for `req` on behalf of `ctx`'s caller. `Ok(None)`: resolve locally (no agent,
/// or the request needs the caller: a terminal, op, a browser, a context too big to send).
pub fn ask(ctx: &Ctx, req: &Request<'_>) -> Result<Option<Resolution>> {
    let (want, tool) = match req.want {
        Want::Here { .. } => return Ok(None),
        Want::Env { tool } => (WireWant::Env, tool),
        Want::Credentials => (WireWant::Credentials, ""),
        Want::Temporary => (WireWant::Temporary, ""),
    };
    let Some(vars) = sendable_vars(&ctx.caller) else {
        return Ok(None);
    };
    let asked = Asked {
        vars,
        cwd: ctx.caller.cwd.clone(),
        item: req.item.map(str::to_owned),
        profile: req.profile.map(str::to_owned),
        want,
        tool: tool.to_owned(),
    };
    let answer = match agent::resolve(&ctx.dirs, asked) {
        Ok(Some(a)) => a,
        // No agent, or one that cannot do it for us: the caller does it.
        Ok(None) | Err(Error::Locked | Error::Agent(_) | Error::AgentConnectionLost(_)) => {
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    let mut env = EnvChanges::default();
    for (k, v) in &answer.set {
        env.set(k, v);
    }
    for k in &answer.unset {
        env.unset(k);
    }
    let creds = answer.creds.as_ref().map(|c| Credentials {
        access_key_id: c.access_key_id.clone(),
        secret_access_key: SecretString::from(c.secret_access_key.as_str()),
        session_token: c
            .session_token
            .as_ref()
            .map(|t| SecretString::from(t.as_str())),
        expiration: c.expiration.map(|s| UNIX_EPOCH + Duration::from_secs(s)),
    });
    Ok(Some(Resolution::brokered(
        answer.profile.clone(),
        answer.handover,
        answer.region.clone().map(|name| Region {
            name,
            from: RegionFrom::Profile,
        }),
        creds,
        env,
        answer.notice.clone(),
    )))
}

/// The caller's variables as the agent's wire carries them; None when one is not UTF-8 or all
/// of them are too big to send (the local resolver then sees them exactly).
fn sendable_vars(c: &Caller) -> Option<Vec<(String, Zeroizing<String>)>> {
    let mut size = c.cwd.as_os_str().len();
    let mut out = Vec::new();
    for (k, v) in c.vars() {
        let v = v.to_str()?;
        size += k.len() + v.len() + 8;
        out.push((k.clone(), Zeroizing::new(v.to_owned())));
    }
    (size <= MAX_CONTEXT).then_some(out)
}

/// In the agent: resolves `asked` for its caller. `Err(NeedsCaller)` (and the other errors
/// that mean "not here") tell the client to resolve itself.
pub fn serve(dirs: &Dirs, asked: &Asked) -> Result<Answer> {
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
    let caller = Caller::new(
        asked
            .vars
            .iter()
            .map(|(k, v)| (k.clone(), std::ffi::OsString::from(v.as_str()))),
        asked.cwd.clone(),
        false,
    );
    // A caller with other op-aws directories than ours (another config, vault or cache) is
    // not ours to answer for.
    let theirs = Dirs::new(&caller)?;
    if (&theirs.config, &theirs.data, &theirs.cache) != (&dirs.config, &dirs.data, &dirs.cache) {
        return Err(Error::NeedsCaller("a caller with other op-aws directories"));
    }
    let ctx = Ctx::in_agent(caller, dirs.clone())?;
    let want = match asked.want {
        WireWant::Env => Want::Env { tool: &asked.tool },
        WireWant::Credentials => Want::Credentials,
        WireWant::Temporary => Want::Temporary,
    };
    let req = Request {
        item: asked.item.as_deref(),
        profile: asked.profile.as_deref(),
        want,
    };
    // Needing a terminal, op or a browser (or a picker) is the caller's business, not a
    // failure.
    let r = crate::resolve::resolve(&ctx, &req).map_err(|e| {
        if needs_caller(&e) || matches!(e, Error::NoDefault) {
            Error::NeedsCaller("the caller")
        } else {
            e
        }
    })?;
    let notice = r.override_notice(&ctx);
    Ok(Answer {
        profile: r.profile.clone(),
        handover: r.handover,
        set: r
            .env
            .set
            .iter()
            .map(|(k, v)| (k.clone(), Zeroizing::new(v.clone())))
            .collect(),
        unset: r.env.unset.clone(),
        creds: r.creds.as_ref().map(|c| WireCreds {
            access_key_id: c.access_key_id.clone(),
            secret_access_key: Zeroizing::new(c.secret_access_key.expose_secret().to_owned()),
            session_token: c
                .session_token
                .as_ref()
                .map(|t| Zeroizing::new(t.expose_secret().to_owned())),
            expiration: c
                .expiration
                .and_then(|e| e.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_secs()),
        }),
        region: r.region_name().map(str::to_owned),
        notice,
    })
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
