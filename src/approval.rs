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
    /// A keyless run's class of calls (`s3 writes`), asked for on its own.
    pub calls: Option<String>,
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
        if let Some(c) = &self.calls {
            t.push_str(&format!(
                "Calls: {c}, through its keyless proxy (as the asking process says)\n"
            ));
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

fn key(
    agent: &str,
    item: &str,
    profile: Option<&str>,
    policy: &str,
    calls: Option<&str>,
) -> String {
    crate::digest::hash(&serde_json::json!([agent, item, profile, policy, calls]))
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
    let k = key(&agent, item, profile, &policy, ask.calls.as_deref());
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
        calls: ask.calls.clone(),
    };
    let in_agent = ctx.agent.is_in_process();
    let how = approver(
        ctx.config.pinentry_program.as_deref(),
        in_agent && crate::sysauth::can_ask(),
    );
    let yes = match (CONFIRM.get(), how) {
        (Some(confirm), _) if !in_agent => confirm(ctx, &q)?,
        (_, Approver::Pinentry(program)) => {
            let person = if in_agent {
                ctx.agent.person()
            } else {
                Some(ctx.caller.clone())
            };
            let person = person.ok_or_else(|| refused(&agent, "the agent has no one to ask"))?;
            pinentry_confirm(&program, &person, &q).map_err(|e| match e {
                Error::AgentRefused { .. } => e,
                e => refused(&agent, &format!("the dialog failed: {e}")),
            })?
        }
        (_, Approver::System) => system_confirm(ctx, &q)?,
        (_, Approver::Nobody) => {
            return Err(refused(
                &agent,
                "nobody to ask: set pinentry_program in config.toml to an absolute path (a pinentry found on PATH could be the agent's own), or install polkit's action (`sudo op-aws setup polkit`)",
            ));
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

/// Who asks the person.
#[derive(Debug, PartialEq, Eq)]
enum Approver {
    /// `pinentry_program`, an absolute path.
    Pinentry(std::path::PathBuf),
    /// The system's dialog (polkit's `dev.op-aws.approve-agent`, LocalAuthentication), asked by
    /// the agent about the requesting process.
    System,
    Nobody,
}

/// `pinentry_program` when it is an absolute path (one found on a PATH could be the agent's
/// own), else the system's dialog where the agent can ask it (`system`).
fn approver(configured: Option<&str>, system: bool) -> Approver {
    match configured.map(std::path::Path::new) {
        Some(p) if p.is_absolute() => Approver::Pinentry(p.to_owned()),
        _ if system => Approver::System,
        _ => Approver::Nobody,
    }
}

/// The question in a pinentry dialog (CONFIRM), run in `person`'s environment: Allow or
/// Deny; cancel, close and no answer within [`ANSWER_WITHIN`] are a no.
fn pinentry_confirm(
    program: &std::path::Path,
    person: &crate::caller::Caller,
    q: &Question,
) -> Result<bool> {
    crate::pinentry::Pinentry::new(program.to_owned(), person).confirm(&crate::pinentry::Dialog {
        title: "op-aws: an AI agent asks for AWS credentials".into(),
        desc: q.text(),
        ok: Some("Allow".into()),
        cancel: Some("Deny".into()),
        timeout: Some(ANSWER_WITHIN),
        ..crate::pinentry::Dialog::default()
    })
}

/// The question as the system's dialog asks it, about the process at the other end of the
/// agent's socket: authenticated is a yes; dismissed, a wrong password or no answer a no.
fn system_confirm(ctx: &Ctx, q: &Question) -> Result<bool> {
    use crate::sysauth::Verdict;
    let uid = nix::unistd::geteuid().as_raw();
    let peer = ctx.caller.peer.map(|pid| (pid, uid));
    let reason = format!(
        "{} asks for AWS credentials (item {}{})",
        q.agent,
        q.item,
        q.profile
            .as_deref()
            .map(|p| format!(", profile {p}"))
            .unwrap_or_default()
    );
    match crate::sysauth::check_for(
        crate::sysauth::Purpose::ApproveAgent,
        peer,
        &reason,
        std::time::Duration::from_secs(ANSWER_WITHIN),
    ) {
        Verdict::Approved => Ok(true),
        Verdict::Refused | Verdict::Dismissed | Verdict::TimedOut => Ok(false),
        Verdict::NoAgent => Err(refused(
            &q.agent,
            "no authentication agent answers for the asking process (no desktop dialog or pkttyagent)",
        )),
        Verdict::Failed(why) => Err(refused(
            &q.agent,
            &format!("the system dialog failed: {why}"),
        )),
    }
}

fn refused(agent: &str, why: &str) -> Error {
    Error::AgentRefused {
        why: format!("agent {agent} needs the person's approval (agents = \"approve\"): {why}; nothing was issued"),
        hint: "the person approves in the dialog op-aws shows (pinentry_program in config.toml); `op-aws audit --agent` shows each request".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pinentry_by_absolute_path_else_the_system_else_nobody() {
        assert_eq!(
            approver(Some("/usr/bin/pinentry-gnome3"), true),
            Approver::Pinentry("/usr/bin/pinentry-gnome3".into())
        );
        assert_eq!(approver(Some("pinentry"), true), Approver::System);
        assert_eq!(approver(None, true), Approver::System);
        assert_eq!(approver(Some("pinentry"), false), Approver::Nobody);
        assert_eq!(approver(None, false), Approver::Nobody);
    }
}
