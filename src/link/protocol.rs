//! The agent's wire protocol: one JSON request line, one JSON response line, per connection,
//! over a Unix socket in a 0700 directory; each side checks the other's uid (SO_PEERCRED).
//!
//! Every request and answer type is here, with the caller's context as it travels
//! ([`Asked`]) and a resolution as it comes back ([`Answer`]): an answer carries everything a
//! local [`Resolution`] does, so a front end shows and uses the same facts whether or not the
//! agent answered.

use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::caller::Caller;
use crate::creds::Credentials;
use crate::model::env::EnvChanges;
use crate::model::project::Found;
use crate::model::resolution::{Region, Request as Resolve, Resolution, Want};
use crate::model::scope::{Applied, Ignored};
use crate::{Error, Result, vault};

/// How long system authentication may take to answer (a person typing a password), for a
/// held agent (quick unlock); then the request fails and the identity stays held.
pub const APPROVAL_TIMEOUT: Duration = Duration::from_secs(120);
/// How long either side waits for the other to read or write.
pub const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// One request line at most (an identity, an item: a few KiB); longer is refused unread.
pub const MAX_REQUEST: u64 = 64 * 1024;
/// A client gets this long for its whole request, however slowly it trickles in.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(5);
/// A request's variables and directory at most (within [`MAX_REQUEST`]).
const MAX_CONTEXT: usize = 48 * 1024;

#[derive(Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    Status,
    Unlock {
        identity: Option<Zeroizing<String>>,
        idle_secs: u64,
        /// Quick unlock: hold the identity after `idle_secs` instead of forgetting it.
        #[serde(default)]
        hold: bool,
        /// Forget everything this long after the unlock (default and at most 12 hours).
        #[serde(default)]
        forget_secs: Option<u64>,
        /// What the `op-aws` that started this agent gave it on its stdin: an agent that holds
        /// no identity takes one only with it, so an agent someone else started (with an
        /// environment of their choosing) never receives one.
        #[serde(default)]
        nonce: Option<Zeroizing<String>>,
    },
    /// The agent holds the identity (quick unlock): ask system authentication, with the
    /// asking process as the subject, to use it again. Answered at once when not held.
    Approve,
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
        dir: PathBuf,
        key: String,
    },
    /// An SSO token (`sso-KEY.age` in `dir`), decrypted: only a blob whose plaintext is a
    /// token is answered.
    SsoToken {
        dir: PathBuf,
        key: String,
    },
    /// An `aws login` session (`signin-KEY.age` in `dir`), decrypted: only a blob whose
    /// plaintext is one is answered.
    SignInToken {
        dir: PathBuf,
        key: String,
    },
    /// The identity's public recipient.
    Recipient,
    /// The environment (or credentials) for a caller and its request: the resolver runs in
    /// the agent.
    Resolve(Box<Asked>),
    /// Answered once the audit lines of every answer given so far are written.
    AuditSettle,
    /// Opens a sandbox's capability (`op-aws sandbox`): a socket of its own whose every
    /// request is `spec`'s agent's, resolved in `person`'s environment (the variables of the
    /// person who opened it; the request's own give only its directory, profile and region).
    /// Answered with the capability's directory in `value`. Never on a capability.
    SandboxOpen {
        spec: crate::model::sandbox::Spec,
        person: Vec<(String, Zeroizing<String>)>,
    },
    /// The open sandboxes, in `sandboxes`.
    SandboxList,
    /// Closes one (`op-aws sandbox stop`) and forgets its sessions; answered with what it was
    /// (the roles its sessions assumed) in `sandboxes`.
    SandboxStop {
        name: String,
    },
}

#[derive(Serialize, Deserialize, Default)]
pub struct Response {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What kind of error, for the client to map back: "locked", "caller", "no_such_item",
    /// "item_exists", "invalid".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The error's next command to run, carried to the client.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Zeroizing<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list: Option<Vec<vault::Listing>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<AgentStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved: Option<Box<Answer>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sandboxes: Option<Vec<crate::model::sandbox::Listed>>,
}

impl Response {
    /// An error as the wire carries it (mapped back by [`decode`]).
    pub fn fail(e: &Error) -> Self {
        let code = match e {
            Error::Locked => "locked",
            Error::Held => "held",
            Error::QuickUnlockRefused => "refused",
            Error::NeedsCaller(_) => "caller",
            Error::NoSuchItem(_) => "no_such_item",
            Error::ItemExists(_) => "item_exists",
            Error::StrangerAgent(_) => "stranger",
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

    /// An error of the connection or the request itself (no code: the client reports it as
    /// the agent's).
    pub fn refuse(why: impl Into<String>) -> Self {
        Self {
            error: Some(why.into()),
            ..Self::default()
        }
    }
}

/// A response, or the error it carries mapped back.
pub fn decode(mut resp: Response) -> Result<Response> {
    let Some(error) = resp.error.take() else {
        return Ok(resp);
    };
    Err(match resp.code.as_deref() {
        Some("locked") => Error::Locked,
        Some("held") => Error::Held,
        Some("refused") => Error::QuickUnlockRefused,
        Some("caller") => Error::NeedsCaller("the caller"),
        Some("no_such_item") => Error::NoSuchItem(error),
        Some("item_exists") => Error::ItemExists(error),
        Some("stranger") => Error::StrangerAgent(error),
        Some("invalid") => Error::Remote {
            message: error,
            hint: resp.hint.take(),
        },
        _ => Error::Agent(error),
    })
}

/// What `op-aws status` shows about the agent.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct AgentStatus {
    pub pid: u32,
    /// The vault identity is held (the local store is unlocked).
    pub unlocked: bool,
    pub unlocked_secs: u64,
    /// Seconds until it forgets everything (idle timeout or the absolute limit, the sooner),
    /// or, with quick unlock, until it holds.
    pub expires_in_secs: u64,
    pub cached_entries: usize,
    /// It holds the identity but answers nothing that needs it until a person approves
    /// through system authentication (quick unlock).
    #[serde(default)]
    pub held: bool,
    /// Quick unlock is on: idle, it holds instead of forgetting.
    #[serde(default)]
    pub quick_unlock: bool,
    /// Seconds until it forgets the identity, held or not (the absolute limit).
    #[serde(default)]
    pub forgets_in_secs: u64,
}

/// Answers requests in this process: the agent's own state, for the resolver running inside
/// the agent (what it asks of "the agent" needs no connection back to itself).
pub trait Answerer: Send + Sync {
    fn answer(&self, req: Request) -> Response;

    /// The environment the agent was started in (the person's, who unlocked): where it asks
    /// the person for an approval, never in the asking process's.
    fn person(&self) -> Option<Caller> {
        None
    }
}

/// The peer is of our uid, or why not.
pub fn check_peer(stream: &UnixStream) -> std::result::Result<(), String> {
    let cred = crate::os::peer(stream).map_err(|e| format!("cannot read peer credentials: {e}"))?;
    let me = nix::unistd::geteuid().as_raw();
    if cred.uid == me {
        Ok(())
    } else {
        Err(format!(
            "refusing a peer of uid {} (we are uid {me})",
            cred.uid
        ))
    }
}

/// The peer's pid and uid (SO_PEERCRED; LOCAL_PEERPID and LOCAL_PEERCRED on macOS): who asks
/// for system authentication.
pub fn peer(stream: &UnixStream) -> Option<(u32, u32)> {
    let cred = crate::os::peer(stream).ok()?;
    Some((cred.pid?, cred.uid))
}

impl Request {
    /// A request line as the agent reads it. A `resolve` whose `op` comes first (as every
    /// op-aws writes it) is read in one pass, its variables straight into their zeroizing
    /// strings; any other line goes through serde's tagged-enum path, which first copies the
    /// whole line into a tree of plain strings (a sixth of the agent's time on `hook-env`).
    /// Both read a line the same way: the one pass refuses a second `op`, as the other does,
    /// and anything it does not take (another op, `op` not first, an error) is read again the
    /// other way, so errors are worded as they always were.
    pub fn from_line(line: &[u8]) -> serde_json::Result<Self> {
        let mut de = serde_json::Deserializer::from_slice(line);
        let first = serde::Deserializer::deserialize_map(&mut de, ResolveFirst)
            .and_then(|req| de.end().map(|()| req));
        match first {
            Ok(req) => Ok(req),
            Err(_) => serde_json::from_slice(line),
        }
    }
}

/// Reads `{"op":"resolve", …}` in one pass (see [`Request::from_line`]); fails for anything
/// else.
struct ResolveFirst;

impl<'de> serde::de::Visitor<'de> for ResolveFirst {
    type Value = Request;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a resolve request, its op first")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Request, A::Error> {
        use serde::de::Error as _;
        let key: Option<String> = map.next_key()?;
        if key.as_deref() != Some("op") || map.next_value::<String>()? != "resolve" {
            return Err(A::Error::custom("not a resolve request with its op first"));
        }
        let asked =
            Asked::deserialize(serde::de::value::MapAccessDeserializer::new(WithoutOp(map)))?;
        Ok(Request::Resolve(Box::new(asked)))
    }
}

/// The rest of a request's map: another `op` is refused, as serde's tagged enums refuse it.
struct WithoutOp<A>(A);

impl<'de, A: serde::de::MapAccess<'de>> serde::de::MapAccess<'de> for WithoutOp<A> {
    type Error = A::Error;

    fn next_key_seed<K: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        use serde::de::{Error as _, IntoDeserializer};
        let Some(key) = self.0.next_key::<String>()? else {
            return Ok(None);
        };
        if key == "op" {
            return Err(A::Error::duplicate_field("op"));
        }
        seed.deserialize(key.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, A::Error> {
        self.0.next_value_seed(seed)
    }
}

/// A caller's context and request as they travel to the agent.
#[derive(Serialize, Deserialize)]
pub struct Asked {
    vars: Vec<(String, Zeroizing<String>)>,
    cwd: PathBuf,
    item: Option<String>,
    profile: Option<String>,
    want: WireWant,
    tool: String,
    /// The caller's pid and class, decided by the front end (it sees its own ancestry), and
    /// what it asks for ([`crate::policy`]).
    #[serde(default)]
    pid: Option<u32>,
    #[serde(default)]
    class: Option<crate::caller::Class>,
    #[serde(default)]
    ask: crate::model::policy::Ask,
    /// Made by a sandbox's capability ([`Self::confined`]): errors go back as they are (no
    /// caller can take over).
    #[serde(default)]
    confined: bool,
    /// The process at the other end of the agent's socket, as the kernel says: set by the
    /// agent, never taken from the wire.
    #[serde(skip)]
    peer: Option<u32>,
}

#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum WireWant {
    Env,
    Credentials,
    Temporary,
    /// What applies here, for the front's `hook-env` ([`Asked::here`]).
    Here,
}

impl Asked {
    /// `req` for `caller`, as sent; `None` when it is not the agent's to answer: what applies
    /// here (no secret needed), a variable that is not UTF-8, or a context too big to send
    /// (the local resolver then sees it exactly).
    pub fn new(caller: &Caller, req: &Resolve<'_>) -> Option<Self> {
        let (want, tool) = match req.want {
            Want::Here { .. } => return None,
            Want::Env { tool } => (WireWant::Env, tool),
            Want::Credentials => (WireWant::Credentials, ""),
            Want::Temporary => (WireWant::Temporary, ""),
        };
        Self::build(caller, req, want, tool)
    }

    /// What applies here (`req.want` is `Here`, without a peek at the item), asked of the agent
    /// by the front, which has no resolver of its own; the full binary works it out itself.
    pub fn here(caller: &Caller, req: &Resolve<'_>) -> Option<Self> {
        match req.want {
            Want::Here { peek: false } => Self::build(caller, req, WireWant::Here, ""),
            _ => None,
        }
    }

    /// Asked by [`Self::here`]: what applies here, which releases nothing.
    pub fn is_here(&self) -> bool {
        matches!(self.want, WireWant::Here)
    }

    fn build(caller: &Caller, req: &Resolve<'_>, want: WireWant, tool: &str) -> Option<Self> {
        let mut size = caller.cwd.as_os_str().len();
        let mut vars = Vec::new();
        for (k, v) in caller.vars() {
            let v = v.to_str()?;
            size += k.len() + v.len() + 8;
            vars.push((k.clone(), Zeroizing::new(v.to_owned())));
        }
        (size <= MAX_CONTEXT).then(|| Self {
            vars,
            cwd: caller.cwd.clone(),
            item: req.item.map(str::to_owned),
            profile: req.profile.map(str::to_owned),
            want,
            tool: tool.to_owned(),
            pid: caller.pid,
            class: caller.class_cell().get().cloned(),
            ask: req.ask.clone(),
            confined: false,
            peer: None,
        })
    }

    /// The caller as the agent resolves for it (never at a terminal: the agent has none), its
    /// variables moved out of the request (read once per request; a copy would cost an
    /// allocation per name and value).
    pub fn take_caller(&mut self) -> Caller {
        let vars = std::mem::take(&mut self.vars)
            .into_iter()
            .map(|(k, mut v)| (k, std::ffi::OsString::from(std::mem::take(&mut *v))));
        let mut c = Caller::new(vars, self.cwd.clone(), false);
        c.pid = self.pid;
        c.peer = self.peer;
        match &self.class {
            Some(class) => c.with_class(class.clone()),
            None => c,
        }
    }

    /// This request as a sandbox's capability takes it: `spec`'s agent whatever the caller
    /// says it is, in the environment of the person who opened the sandbox (`person`), of
    /// which the request changes only the profile, region and terminal item variables; its
    /// session policy the sandbox's when it has one; its items and profiles the only ones
    /// `crate::policy::decide` releases (the first allowed is the default when none is named). Its pid is the one the kernel
    /// gives for the connection (`peer_pid`): the one it says is of its own pid namespace.
    pub fn confined(
        &self,
        spec: &crate::model::sandbox::Spec,
        person: &[(String, Zeroizing<String>)],
        peer_pid: Option<u32>,
    ) -> Self {
        const FROM_REQUEST: &[&str] = &[
            "AWS_PROFILE",
            "AWS_DEFAULT_PROFILE",
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
            crate::caller::SESSION_VAR,
        ];
        let mut vars: Vec<(String, Zeroizing<String>)> = person
            .iter()
            .filter(|(k, _)| !FROM_REQUEST.contains(&k.as_str()))
            .cloned()
            .collect();
        vars.extend(
            self.vars
                .iter()
                .filter(|(k, _)| FROM_REQUEST.contains(&k.as_str()))
                .cloned(),
        );
        let (mut item, mut profile) = (self.item.clone(), self.profile.clone());
        if item.is_none() && profile.is_none() {
            profile = spec.profiles.first().cloned();
            if profile.is_none() {
                item = spec.items.first().cloned();
            }
        }
        let mut ask = self.ask.clone();
        if !spec.policy_arns.is_empty() && !ask.model_calls {
            // AWS grants what any of a session's policies allows: the request's own would
            // only widen the sandbox's.
            ask.read_only = false;
            ask.policy = None;
            ask.policy_arns = spec.policy_arns.clone();
        }
        ask.agents = spec.agents;
        // A class of keyless calls words the person's dialog: only the launcher of a keyless
        // sandbox names one (its capability is out of the program's reach); from anything else
        // on a capability it would be the agent's own words, making a session look narrow.
        if !spec.keyless {
            ask.calls = None;
        }
        ask.only_items.clone_from(&spec.items);
        ask.only_profiles.clone_from(&spec.profiles);
        Self {
            vars,
            cwd: self.cwd.clone(),
            item,
            profile,
            want: self.want,
            tool: self.tool.clone(),
            pid: peer_pid,
            class: Some(crate::caller::Class::Agent {
                name: spec.name.clone(),
                why: format!(
                    "its sandbox's capability (op-aws sandbox --name {})",
                    spec.name
                ),
            }),
            ask,
            confined: true,
            peer: peer_pid,
        }
    }

    /// This request as it came over a socket whose other end is process `peer`.
    #[must_use]
    pub fn with_peer(mut self, peer: Option<u32>) -> Self {
        self.peer = peer;
        self
    }

    /// Made by a sandbox's capability.
    pub fn is_confined(&self) -> bool {
        self.confined
    }

    /// The request as the resolver takes it.
    pub fn request(&self) -> Resolve<'_> {
        Resolve {
            item: self.item.as_deref(),
            profile: self.profile.as_deref(),
            want: match self.want {
                WireWant::Env => Want::Env { tool: &self.tool },
                WireWant::Credentials => Want::Credentials,
                WireWant::Temporary => Want::Temporary,
                WireWant::Here => Want::Here { peek: false },
            },
            ask: self.ask.clone(),
        }
    }
}

/// A [`Resolution`] as it travels back: every fact of it, the secrets in wiped buffers.
#[derive(Serialize, Deserialize)]
pub struct Answer {
    profile: Option<String>,
    handover: bool,
    applied: Option<Applied>,
    candidates: Vec<Applied>,
    chain: Vec<String>,
    ignored: Vec<(PathBuf, String, Ignored)>,
    project: Option<Found>,
    bound_in: Option<PathBuf>,
    sso: Option<crate::model::sso::Session>,
    #[serde(default)]
    login_session: Option<String>,
    notice: Option<String>,
    region: Option<Region>,
    creds: Option<WireCreds>,
    set: Vec<(String, Zeroizing<String>)>,
    unset: Vec<String>,
    /// Who asked and under which policy it was released.
    #[serde(default)]
    decision: Option<crate::model::policy::Decision>,
}

#[derive(Serialize, Deserialize)]
struct WireCreds {
    access_key_id: String,
    secret_access_key: Zeroizing<String>,
    session_token: Option<Zeroizing<String>>,
    expiration: Option<u64>,
}

impl Answer {
    /// `r` for the wire, with the override notice the agent decided on.
    pub fn new(r: &Resolution, notice: Option<String>) -> Self {
        Self {
            profile: r.profile.clone(),
            handover: r.handover,
            applied: r.applied.clone(),
            candidates: r.candidates.clone(),
            chain: r.chain.clone(),
            ignored: r.ignored.clone(),
            project: r.project.clone(),
            bound_in: r.bound_in.clone(),
            sso: r.sso.clone(),
            login_session: r.login_session.clone(),
            notice,
            region: r.region.clone(),
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
            set: r
                .env
                .set
                .iter()
                .map(|(k, v)| (k.clone(), Zeroizing::new(v.clone())))
                .collect(),
            unset: r.env.unset.clone(),
            decision: r.decision.clone(),
        }
    }

    /// The item whose credentials it carries, the profile, and the role assumed (a
    /// sandbox's capability checks them).
    pub fn item(&self) -> Option<&str> {
        self.applied.as_ref().map(|a| a.item.as_str())
    }
    pub fn profile(&self) -> Option<&str> {
        self.profile.as_deref()
    }
    pub fn handover(&self) -> bool {
        self.handover
    }
    pub fn role(&self) -> Option<&str> {
        self.decision.as_ref().and_then(|d| d.role.as_deref())
    }

    /// The resolution the agent made, as the caller uses it.
    pub fn into_resolution(self) -> Resolution {
        let mut env = EnvChanges::default();
        for (k, v) in &self.set {
            env.set(k, v);
        }
        for k in &self.unset {
            env.unset(k);
        }
        let creds = self.creds.as_ref().map(|c| Credentials {
            access_key_id: c.access_key_id.clone(),
            secret_access_key: SecretString::from(c.secret_access_key.as_str()),
            session_token: c
                .session_token
                .as_ref()
                .map(|t| SecretString::from(t.as_str())),
            expiration: c.expiration.map(|s| UNIX_EPOCH + Duration::from_secs(s)),
        });
        Resolution {
            profile: self.profile,
            handover: self.handover,
            applied: self.applied,
            candidates: self.candidates,
            chain: self.chain,
            ignored: self.ignored,
            project: self.project,
            bound_in: self.bound_in,
            sso: self.sso,
            login_session: self.login_session,
            told: Some(self.notice),
            region: self.region,
            creds,
            env,
            decision: self.decision,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A class of keyless calls words the person's dialog: on a sandbox's capability only the
    /// launcher of a keyless sandbox may name one.
    #[test]
    fn a_capability_drops_a_class_of_calls_unless_the_sandbox_is_keyless() {
        let asked: Asked = serde_json::from_value(serde_json::json!({
            "vars": [], "cwd": "/", "item": null, "profile": null, "want": "temporary",
            "tool": "", "ask": { "via": "endpoint", "calls": "s3 writes" }
        }))
        .unwrap();
        let mut spec = crate::model::sandbox::Spec {
            name: "a".into(),
            ..Default::default()
        };
        assert_eq!(asked.confined(&spec, &[], None).ask.calls, None);
        spec.keyless = true;
        assert_eq!(
            asked.confined(&spec, &[], None).ask.calls.as_deref(),
            Some("s3 writes")
        );
    }

    /// What `from_line` makes of a line, and what serde's tagged enum makes of it, as text.
    fn both(line: &str) -> (String, String) {
        let show = |r: serde_json::Result<Request>| match r {
            Ok(req) => serde_json::to_string(&req).unwrap(),
            Err(e) => format!("error: {e}"),
        };
        (
            show(Request::from_line(line.as_bytes())),
            show(serde_json::from_slice(line.as_bytes())),
        )
    }

    /// The one-pass read of a resolve takes a line exactly as the tagged-enum read does: the
    /// usual line, and every way a line can differ from it.
    #[test]
    fn a_resolve_read_in_one_pass_is_the_request_serde_reads() {
        let vars = [
            ("HOME", "/home/a"),
            ("AWS_PROFILE", "dev"),
            ("X", "a\"b\\c\u{e9}\n"),
        ];
        let caller = Caller::new(
            vars.map(|(k, v)| (k.to_owned(), v.into())),
            "/work/p".into(),
            false,
        );
        let req = Resolve {
            item: Some("acme"),
            profile: None,
            want: Want::Env { tool: "aws" },
            ask: Default::default(),
        };
        let usual = serde_json::to_string(&Request::Resolve(Box::new(
            Asked::new(&caller, &req).unwrap(),
        )))
        .unwrap();
        assert!(usual.starts_with(r#"{"op":"resolve","vars":"#), "{usual}");
        // The usual line is read in the one pass.
        let mut de = serde_json::Deserializer::from_slice(usual.as_bytes());
        assert!(serde::Deserializer::deserialize_map(&mut de, ResolveFirst).is_ok());
        let rest = usual.trim_start_matches(r#"{"op":"resolve","#);
        let lines = [
            usual.clone(),
            // op elsewhere, escaped, twice, not a string, of another request
            format!(r#"{{{},"op":"resolve"}}"#, rest.trim_end_matches('}')),
            format!(r#"{{"\u006fp":"resolve",{rest}"#),
            format!(r#"{{"op":"resolve","op":"resolve",{rest}"#),
            format!(
                r#"{{"op":"resolve",{},"op":"status"}}"#,
                rest.trim_end_matches('}')
            ),
            format!(r#"{{"op":1,{rest}"#),
            format!(r#"{{"op":"status",{rest}"#),
            r#"{"op":"status"}"#.into(),
            // unknown fields, a field twice, one missing, trailing bytes, not JSON, not a map
            format!(r#"{{"op":"resolve","extra":[1,{{"a":2}}],{rest}"#),
            format!(r#"{{"op":"resolve","tool":"x",{rest}"#),
            r#"{"op":"resolve","vars":[],"cwd":"/"}"#.into(),
            format!("{usual} x"),
            format!("{usual}}}"),
            r#"{"op":"resolve""#.into(),
            "[1]".into(),
            String::new(),
        ];
        for line in &lines {
            let (one, tagged) = both(line);
            assert_eq!(one, tagged, "{line}");
        }
        assert!(!both(&lines[0]).0.starts_with("error"));
        assert!(
            both(&lines[3]).0.starts_with("error"),
            "a second op is refused"
        );
    }
}
