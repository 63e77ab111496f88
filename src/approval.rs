//! `agents = "approve"`: the person, not the agent, says yes. The question goes through the
//! person's own prompt: a pinentry dialog ([`crate::pinentry`], `pinentry_program`), or what a
//! front end sets with [`set_confirm`]. The asking process's stdin is never read: pinentry
//! talks over its own pipes.
//! A yes is remembered for `approval_remember` (10 minutes by default) per agent, item, profile
//! and policy, in `approvals.json` in the runtime directory (no secret in it).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::ctx::Ctx;
use crate::model::policy::{Ask, Decision};
use crate::{Error, Result, fsutil};

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

#[derive(Debug, Default, Serialize, Deserialize)]
struct Remembered {
    /// Key (agent, item, profile, policy) → until (seconds since the epoch).
    until: BTreeMap<String, u64>,
}

fn key(agent: &str, item: &str, profile: Option<&str>, policy: &str) -> String {
    crate::digest::hash(&serde_json::json!([agent, item, profile, policy]))
}

fn path(ctx: &Ctx) -> std::path::PathBuf {
    ctx.dirs.runtime.join("approvals.json")
}

fn load(ctx: &Ctx) -> Remembered {
    fsutil::read_optional(&path(ctx))
        .ok()
        .flatten()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// For a decision that needs the person's yes: a remembered one, else the question, asked in
/// this process (the agent process has no person to ask: it hands the request back). Sets how
/// it was approved on the decision; a no is [`Error::AgentRefused`].
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
    let now = crate::item::now_secs();
    if load(ctx).until.get(&k).is_some_and(|u| *u > now) {
        decision.approved = Some("approved earlier (remembered)".into());
        return Ok(());
    }
    if ctx.agent.is_in_process() {
        return Err(Error::NeedsCaller("the person's approval"));
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
    let yes = match CONFIRM.get() {
        Some(confirm) => confirm(ctx, &q)?,
        None => pinentry_confirm(ctx, &q).map_err(|e| match e {
            Error::AgentRefused { .. } => e,
            e => refused(&agent, &format!("the dialog failed: {e}")),
        })?,
    };
    if !yes {
        decision.approved = Some("denied by the person".into());
        return Err(refused(&agent, "the person said no (or did not answer)"));
    }
    let remember = ctx.config.approval_remember().as_secs();
    // Only a shortcut: failing to keep it costs one more question.
    let _lock = fsutil::lock_exclusive(&ctx.dirs.runtime.join("approvals"));
    let mut r = load(ctx);
    r.until.retain(|_, u| *u > now);
    r.until.insert(k, now + remember);
    if let Ok(json) = serde_json::to_vec(&r) {
        let _ = fsutil::write_atomic(&path(ctx), &json, 0o600);
    }
    decision.approved = Some("approved by the person".into());
    Ok(())
}

/// The question in a pinentry dialog (CONFIRM): Allow or Deny; cancel and close are a no.
fn pinentry_confirm(ctx: &Ctx, q: &Question) -> Result<bool> {
    let Some(p) =
        crate::pinentry::Pinentry::locate(&ctx.caller, ctx.config.pinentry_program.as_deref())
    else {
        return Err(refused(
            &q.agent,
            "no pinentry to ask the person with (set pinentry_program in config.toml)",
        ));
    };
    p.confirm(&crate::pinentry::Dialog {
        title: "op-aws: an AI agent asks for AWS credentials".into(),
        desc: q.text(),
        ok: Some("Allow".into()),
        cancel: Some("Deny".into()),
        ..crate::pinentry::Dialog::default()
    })
}

fn refused(agent: &str, why: &str) -> Error {
    Error::AgentRefused {
        why: format!("agent {agent} needs the person's approval (agents = \"approve\"): {why}; nothing was issued"),
        hint: "the person approves in the dialog op-aws shows (pinentry_program in config.toml); `op-aws audit --agent` shows each request".into(),
    }
}
