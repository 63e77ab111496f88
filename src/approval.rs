//! `agents = "approve"`: the person, not the agent, says yes. The question goes through the
//! person's own prompt: a pinentry dialog ([`crate::pinentry`], `pinentry_program`), or what a
//! front end sets with [`set_confirm`]. The asking process's stdin is never read: pinentry
//! talks over its own pipes.
//! The op-aws agent asks, never the asking process: it runs the pinentry configured by
//! absolute path in config.toml, in the environment the person started the agent in. A yes is
//! remembered for `approval_remember` (10 minutes by default) per agent, item, profile and
//! policy, in the agent's memory only (a sandbox's yeses go when it is stopped).

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

use crate::ctx::Ctx;
use crate::model::policy::{Ask, Decision};
use crate::{Error, Result};

/// What the person is shown.
#[derive(Debug, Clone)]
pub struct Question {
    pub agent: String,
    /// How the agent was recognised.
    pub why: String,
    /// The releasing command and the caller's command line (no secret).
    pub command: String,
    pub item: String,
    pub profile: Option<String>,
    pub role: Option<String>,
    pub policy: String,
    pub minutes: u32,
}

impl Question {
    /// The dialog's text, one fact a line.
    pub fn text(&self) -> String {
        let mut t = format!(
            "{} asks for AWS credentials.\nRecognised by: {}\nCommand: {}\nItem: {}\n",
            self.agent, self.why, self.command, self.item
        );
        if let Some(p) = &self.profile {
            t.push_str(&format!("Profile: {p}\n"));
        }
        if let Some(r) = &self.role {
            t.push_str(&format!("Role: {r}\n"));
        }
        t.push_str(&format!(
            "Session policy: {}\nSession: {} minutes\nAllow?",
            self.policy, self.minutes
        ));
        t
    }
}

/// How a front end asks its person: Ok(true) for yes; Ok(false) for no, cancel or timeout; an
/// error when nobody can be asked. It must never read the asking process's stdin.
pub type Confirm = fn(&Ctx, &Question) -> Result<bool>;

static CONFIRM: OnceLock<Confirm> = OnceLock::new();

/// The front end's way to ask (the binary sets it once at start).
pub fn set_confirm(f: Confirm) {
    let _ = CONFIRM.set(f);
}

/// Yeses given, by (agent, item, profile, policy): until when (seconds since the epoch). In
/// this process's memory only: in the agent, which asks; nothing on disk a process could
/// write itself.
static REMEMBERED: Mutex<BTreeMap<String, (String, u64)>> = Mutex::new(BTreeMap::new());
/// One question at a time: twenty commands waiting for the same yes see one dialog.
static ASKING: Mutex<()> = Mutex::new(());

fn key(agent: &str, item: &str, profile: Option<&str>, policy: &str) -> String {
    crate::digest::hash(&serde_json::json!([agent, item, profile, policy]))
}

fn remembered(k: &str, now: u64) -> bool {
    REMEMBERED
        .lock()
        .is_ok_and(|m| m.get(k).is_some_and(|(_, until)| *until > now))
}

/// Forgets every yes given to `agent` (its sandbox was stopped).
pub fn forget(agent: &str) {
    if let Ok(mut m) = REMEMBERED.lock() {
        m.retain(|_, (a, _)| a != agent);
    }
}

/// For a decision that needs the person's yes: a remembered one, else the question. The
/// agent asks it (in the environment the person started it in); a process that resolves for
/// itself (no agent) asks in its own. Either way through `pinentry_program` only when it is an
/// absolute path in config.toml (never a `pinentry` found on the asker's PATH), or what a front
/// end set ([`set_confirm`]). Sets how it was approved on the decision; a no is
/// [`Error::AgentRefused`].
pub fn check(
    ctx: &Ctx,
    decision: &mut Decision,
    ask: &Ask,
    item: &str,
    profile: Option<&str>,
    role: Option<&str>,
) -> Result<()> {
    if !decision.needs_approval() {
        decision.approved = Some(match &decision.mode {
            Some((m, from)) => format!("policy {} ({from})", m.name()),
            None => "person".into(),
        });
        return Ok(());
    }
    let agent = decision.class.agent().unwrap_or("agent").to_owned();
    let policy = decision.scope.policy.describe();
    let k = key(&agent, item, profile, &policy);
    if remembered(&k, crate::item::now_secs()) {
        decision.approved = Some("approved earlier (remembered)".into());
        return Ok(());
    }
    let _turn = ASKING.lock();
    // Asked and answered while this one waited its turn.
    if remembered(&k, crate::item::now_secs()) {
        decision.approved = Some("approved earlier (remembered)".into());
        return Ok(());
    }
    let q = Question {
        agent: agent.clone(),
        why: decision.class.why().to_owned(),
        command: crate::audit::command_line(ctx, ask),
        item: crate::error::printable(item),
        profile: profile.map(str::to_owned),
        role: role.map(str::to_owned),
        policy,
        minutes: decision.scope.duration.unwrap_or(3600) / 60,
    };
    let in_agent = ctx.agent.is_in_process();
    let yes = match CONFIRM.get() {
        Some(confirm) if !in_agent => confirm(ctx, &q)?,
        _ => {
            let person = if in_agent {
                ctx.agent.person()
            } else {
                Some(ctx.caller.clone())
            };
            let person = person.ok_or_else(|| refused(&agent, "the agent has no one to ask"))?;
            pinentry_confirm(ctx, &person, &q).map_err(|e| match e {
                Error::AgentRefused { .. } => e,
                e => refused(&agent, &format!("the dialog failed: {e}")),
            })?
        }
    };
    if !yes {
        decision.approved = Some("denied by the person".into());
        return Err(refused(&agent, "the person said no (or did not answer)"));
    }
    let now = crate::item::now_secs();
    let until = now + ctx.config.approval_remember().as_secs();
    if let Ok(mut m) = REMEMBERED.lock() {
        m.retain(|_, (_, u)| *u > now);
        m.insert(k, (agent, until));
    }
    decision.approved = Some("approved by the person".into());
    Ok(())
}

/// How long the person has to answer before it counts as a no.
const ANSWER_WITHIN: u64 = 120;

/// The question in a pinentry dialog (CONFIRM), run in `person`'s environment: Allow or
/// Deny; cancel, close and no answer within [`ANSWER_WITHIN`] are a no.
fn pinentry_confirm(ctx: &Ctx, person: &crate::caller::Caller, q: &Question) -> Result<bool> {
    let program = ctx
        .config
        .pinentry_program
        .as_deref()
        .map(std::path::Path::new)
        .filter(|p| p.is_absolute());
    let Some(program) = program else {
        return Err(refused(
            &q.agent,
            "approvals are asked through pinentry_program in config.toml, which must be an absolute path (a pinentry found on PATH could be the agent's own)",
        ));
    };
    crate::pinentry::Pinentry::new(program.to_owned(), person).confirm(&crate::pinentry::Dialog {
        title: "op-aws: an AI agent asks for AWS credentials".into(),
        desc: q.text(),
        ok: Some("Allow".into()),
        cancel: Some("Deny".into()),
        timeout: Some(ANSWER_WITHIN),
        ..crate::pinentry::Dialog::default()
    })
}

fn refused(agent: &str, why: &str) -> Error {
    Error::AgentRefused {
        why: format!("agent {agent} needs the person's approval (agents = \"approve\"): {why}; nothing was issued"),
        hint: "the person approves in the dialog op-aws shows (pinentry_program in config.toml); `op-aws audit --agent` shows each request".into(),
    }
}
