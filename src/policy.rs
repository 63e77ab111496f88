//! What a caller may have: an AI coding agent is held to `agents = "allow" | "approve" |
//! "read-only" | "deny"`, and anyone may scope a session down with a session policy.
//!
//! Where the agents' policy comes from, first found wins: the profile's `op_aws_agents`, the
//! item's `Agents` field, `config.toml`'s `agents` (default `allow`). A trusted project file's
//! `agents` may then make it stricter, never looser. Strictness: allow < approve < read-only <
//! deny (read-only can never write; approve can, once the person says yes).
//!
//! A session policy: `op-aws run --read-only | --policy-arn ARN | --policy FILE`, else the
//! profile's `op_aws_policy_arns` / `op_aws_policy`; for a read-only agent, AWS's
//! `ReadOnlyAccess`. AWS grants what *any* of a session's policies allows, so a read-only agent
//! never gets ReadOnlyAccess added to a broader policy: that combination is refused.

use crate::awsfiles::AwsFiles;
use crate::config::AgentPolicy;
use crate::ctx::Ctx;
use crate::item::Item;
use crate::model::policy::{Ask, Decision, Scope, SessionPolicy, Via};
use crate::{Error, Result};

/// The item field that sets the agents' policy for that item.
pub const AGENTS_FIELD: &str = "Agents";
/// The session policy of `credential-process --bedrock`: invoking models, and reading which
/// inference profiles there are; nothing else.
pub fn bedrock_policy() -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": [
                "bedrock:InvokeModel*",
                "bedrock:ListInferenceProfiles",
                "bedrock:GetInferenceProfile"
            ],
            "Resource": "*"
        }]
    })
    .to_string()
}

/// The session tag that names the agent (an SCP can deny by it).
pub const AGENT_TAG: &str = "op-aws:agent";

/// The agents' policy for this item and profile, before the project file: the strictest of
/// the profile's `op_aws_agents`, the item's `Agents` field and config.toml's `agents` (each
/// may only tighten the others: a profile in a config file the agent wrote, or named with
/// `--profile`, cannot loosen an item that denies agents), and where it comes from (the first
/// of those three that sets it, on a tie).
pub fn agents_policy(
    ctx: &Ctx,
    item: Option<&Item>,
    files: Option<&AwsFiles>,
    profile: Option<&str>,
) -> Result<(AgentPolicy, String)> {
    let mut found: Vec<(AgentPolicy, String)> = Vec::new();
    if let (Some(f), Some(p)) = (files, profile)
        && let Some(v) = f.get(p, "op_aws_agents")
    {
        let m = AgentPolicy::parse(v).ok_or_else(|| Error::BadProfile {
            profile: p.to_owned(),
            why: format!("op_aws_agents = {v} is not allow, approve, read-only or deny"),
        })?;
        found.push((m, format!("profile {p}")));
    }
    if let Some(it) = item
        && let Some(v) = it.get(AGENTS_FIELD)
    {
        let m = AgentPolicy::parse(v).ok_or_else(|| {
            Error::Invalid(format!(
                "item {:?}: field {AGENTS_FIELD} = {:?} is not allow, approve, read-only or deny",
                crate::error::printable(&it.title),
                crate::error::printable(v)
            ))
        })?;
        found.push((m, format!("item {}", crate::error::printable(&it.title))));
    }
    if let Some(m) = ctx.config.agents {
        found.push((m, "config.toml".into()));
    }
    // The first of the strictest (max_by_key would keep the last).
    let strictest = found.iter().map(|(m, _)| *m).max();
    Ok(found
        .into_iter()
        .find(|(m, _)| Some(*m) == strictest)
        .unwrap_or((AgentPolicy::Allow, "the default".into())))
}

/// The decision for `ctx`'s caller about `item` under `profile`.
pub fn decide(
    ctx: &Ctx,
    ask: &Ask,
    item: Option<&Item>,
    files: Option<&AwsFiles>,
    profile: Option<&str>,
    project_agents: Option<AgentPolicy>,
    region: Option<&str>,
) -> Result<Decision> {
    let class = crate::agents::of(ctx).clone();
    confined_to(ask, item, profile)?;
    let asked = asked_policy(ctx, ask, files, profile, region)?;
    let Some(agent) = class.agent().map(str::to_owned) else {
        return Ok(Decision {
            class,
            mode: None,
            scope: Scope {
                policy: asked,
                ..Scope::default()
            },
            role: None,
            approved: None,
        });
    };
    let (mut mode, mut from) = agents_policy(ctx, item, files, profile)?;
    if let Some(p) = project_agents.filter(|p| *p > mode) {
        (mode, from) = (p, "the project file".into());
    }
    if let Some(p) = ask.agents.filter(|p| *p > mode) {
        (mode, from) = (p, "the sandbox".into());
    }
    let refuse = |why: String, hint: &str| Error::AgentRefused {
        why,
        hint: hint.to_owned(),
    };
    if mode == AgentPolicy::Deny {
        return Err(refuse(
            format!(
                "agents are denied these credentials (agents = \"deny\", {from}); {agent} was recognised by {}",
                class.why()
            ),
            "a person runs this command in their own terminal; see docs/agents.md",
        ));
    }
    if ask.via == Via::Export {
        return Err(refuse(
            format!("export hands keys to a shell: refused to agent {agent}"),
            "use `op-aws run -- CMD` (a short session under the agents' policy) or `op-aws run --server -- CMD`",
        ));
    }
    // A harness's model calls: Bedrock's invocations only, which a read-only agent's tools
    // never get and its model needs.
    let policy = if mode == AgentPolicy::ReadOnly && !ask.model_calls {
        if !asked.is_empty() {
            return Err(refuse(
                format!(
                    "agent {agent} is read-only ({from}), and a session policy ({}) is asked too: AWS grants what any session policy allows, so op-aws will not widen it",
                    asked.describe()
                ),
                "drop --policy-arn/--policy (and the profile's op_aws_policy_arns/op_aws_policy), or allow agents the profile (op_aws_agents = allow) where neither the item nor config.toml is stricter, to make its policy the agents' limit",
            ));
        }
        SessionPolicy {
            arns: vec![read_only_arn(region)],
            inline: None,
        }
    } else {
        asked
    };
    Ok(Decision {
        class,
        mode: Some((mode, from)),
        scope: Scope {
            policy,
            duration: Some(ctx.config.agent_session_secs()),
            agent: Some(agent),
            temporary_only: true,
        },
        role: None,
        approved: None,
    })
}

/// A sandbox's limits ([`Ask::only_items`], [`Ask::only_profiles`]): what it was not opened
/// for is refused before anything is released. An IAM Identity Center session (no item) is
/// refused where items are named.
fn confined_to(ask: &Ask, item: Option<&Item>, profile: Option<&str>) -> Result<()> {
    let refuse = |why: String| Error::AgentRefused {
        why,
        hint: "the person opens a sandbox for it: `op-aws sandbox --item I --profile P -- CMD`"
            .into(),
    };
    if !ask.only_items.is_empty() {
        match item {
            Some(it)
                if ask
                    .only_items
                    .iter()
                    .any(|i| i.eq_ignore_ascii_case(&it.title)) => {}
            Some(it) => {
                return Err(refuse(format!(
                    "item {:?} is not this sandbox's",
                    crate::error::printable(&it.title)
                )));
            }
            None => {
                return Err(refuse(
                    "this sandbox has items, and this is no item's".into(),
                ));
            }
        }
    }
    if !ask.only_profiles.is_empty()
        && let Some(p) = profile
        && !ask.only_profiles.iter().any(|q| q == p)
    {
        return Err(refuse(format!(
            "profile {:?} is not this sandbox's",
            crate::error::printable(p)
        )));
    }
    Ok(())
}

/// `item show --reveal`: never for an agent (whatever its policy: the item's secrets are
/// long-lived); the refusal goes to the audit trail.
pub fn may_reveal(ctx: &Ctx, item: &str) -> Result<()> {
    never_for_agents(
        ctx,
        "reveal",
        Some(item),
        &|agent| {
            format!(
                "item show --reveal would show item {:?}'s secrets to agent {agent}: refused",
                crate::error::printable(item)
            )
        },
        "an agent uses credentials through `op-aws run -- CMD` or the endpoint (`op-aws run --server -- CMD`); a person reveals in their own terminal",
    )
}

/// `op-aws login`: never for an agent (whatever its policy: a console sign-in is the account
/// in a browser for hours, out of a session policy's and the audit trail's reach).
pub fn may_sign_in(ctx: &Ctx, item: Option<&str>) -> Result<()> {
    never_for_agents(
        ctx,
        Via::Console.name(),
        item,
        &|agent| {
            format!(
                "a console sign-in URL for agent {agent}: refused (a browser session is beyond any session policy)"
            )
        },
        "a person runs `op-aws login` in their own terminal; an agent uses `op-aws run -- CMD`",
    )
}

/// A change that could loosen or remove a policy or a protection (`command`: `item edit`,
/// `trust`, `vault rekey`, `rotate`, `use --global`, `setup`, ...): never an agent's, whatever
/// its policy (an agent that may change the `Agents` field, a trusted project file or the vault's
/// keys sets its own limits); the refusal goes to the audit trail.
pub fn may_change(ctx: &Ctx, command: &str, item: Option<&str>) -> Result<()> {
    never_for_agents(
        ctx,
        command,
        item,
        &|agent| {
            format!(
                "`op-aws {command}` changes what agents may do or what protects the credentials: refused to agent {agent}"
            )
        },
        &format!("a person runs `op-aws {command}` in their own terminal; see docs/agents.md"),
    )
}

/// Refuses an agent caller what no policy grants it, with the refusal in the audit trail.
fn never_for_agents(
    ctx: &Ctx,
    via: &str,
    item: Option<&str>,
    why: &dyn Fn(&str) -> String,
    hint: &str,
) -> Result<()> {
    let class = crate::agents::of(ctx);
    let Some(agent) = class.agent() else {
        return Ok(());
    };
    let why = why(agent);
    let e = crate::audit::Entry {
        time: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        outcome: "refused".into(),
        pid: ctx.caller.pid,
        command: crate::audit::command_line(ctx, &Ask::default()),
        class: class.name().into(),
        agent: Some(agent.to_owned()),
        why: class.why().to_owned(),
        via: via.into(),
        item: item.map(str::to_owned),
        policy: "-".into(),
        approved: why.clone(),
        ..crate::audit::Entry::default()
    };
    let _ = crate::audit::append(&crate::audit::log_path(ctx), &e);
    Err(Error::AgentRefused {
        why,
        hint: hint.into(),
    })
}

/// Credentials that come from elsewhere whole (`what`) cannot carry a session policy: a
/// decision that needs one is refused rather than handed over unscoped.
pub fn unscoped_only(d: &Decision, what: &str) -> Result<()> {
    if d.scope.policy.is_empty() {
        return Ok(());
    }
    Err(Error::AgentRefused {
        why: format!(
            "{what} cannot carry a session policy ({}): refused",
            d.scope.policy.describe()
        ),
        hint: "use a profile with a role_arn above the SSO or aws login profile (source_profile) so op-aws can assume it with the policy".into(),
    })
}

/// AWS's ReadOnlyAccess in the partition of `region`.
pub fn read_only_arn(region: Option<&str>) -> String {
    let partition = match region.unwrap_or("") {
        r if r.starts_with("cn-") => "aws-cn",
        r if r.starts_with("us-gov-") => "aws-us-gov",
        r if r.starts_with("us-iso-") => "aws-iso",
        r if r.starts_with("us-isob-") => "aws-iso-b",
        _ => "aws",
    };
    format!("arn:{partition}:iam::aws:policy/ReadOnlyAccess")
}

/// The session policy the command line or the profile asks for (the command line wins).
fn asked_policy(
    ctx: &Ctx,
    ask: &Ask,
    files: Option<&AwsFiles>,
    profile: Option<&str>,
    region: Option<&str>,
) -> Result<SessionPolicy> {
    let mut p = SessionPolicy::default();
    if ask.model_calls {
        p.inline = Some(bedrock_policy());
        return Ok(p);
    }
    if ask.read_only {
        p.arns.push(read_only_arn(region));
    }
    p.arns.extend(ask.policy_arns.iter().cloned());
    p.inline.clone_from(&ask.policy);
    if p.is_empty()
        && let (Some(f), Some(name)) = (files, profile)
    {
        let bad = |why: String| Error::BadProfile {
            profile: name.to_owned(),
            why,
        };
        if let Some(v) = f.get(name, "op_aws_policy_arns") {
            p.arns = v
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_owned)
                .collect();
        }
        if let Some(v) = f.get(name, "op_aws_policy") {
            let v = v.trim();
            p.inline = Some(if v.starts_with('{') {
                v.to_owned()
            } else {
                let path = match v.strip_prefix("~/") {
                    Some(rest) => ctx.caller.home()?.join(rest),
                    None => ctx.caller.absolute(std::path::Path::new(v)),
                };
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| bad(format!("op_aws_policy {}: {e}", path.display())))?;
                text.trim().to_owned()
            });
        }
        check(&p).map_err(bad)?;
    }
    check(&p).map_err(|why| Error::Invalid(format!("session policy: {why}")))?;
    Ok(p)
}

/// STS's limits: at most 10 managed policy ARNs; the inline one JSON of at most 2048
/// characters (before AWS packs it).
pub fn check(p: &SessionPolicy) -> std::result::Result<(), String> {
    if p.arns.len() > 10 {
        return Err("at most 10 policy ARNs".into());
    }
    for a in &p.arns {
        let ok = a.starts_with("arn:") && a.contains(":iam::") && a.contains(":policy/");
        if !ok || a.chars().any(char::is_whitespace) {
            return Err(format!(
                "{:?} is not an IAM policy ARN (arn:aws:iam::ACCOUNT:policy/NAME)",
                crate::error::printable(a)
            ));
        }
    }
    if let Some(doc) = &p.inline {
        let v: serde_json::Value =
            serde_json::from_str(doc).map_err(|e| format!("the policy is not JSON: {e}"))?;
        if !v.is_object() {
            return Err("the policy is not a JSON object".into());
        }
        if doc.len() > 2048 {
            return Err("the policy is longer than STS's 2048 characters".into());
        }
    }
    Ok(())
}

/// A role session name naming the person and the agent: `alice+claude-code` (64 at most; the
/// agent's part is kept whole).
pub fn agent_session_name(person: &str, agent: &str) -> String {
    let agent: String = agent.chars().take(30).collect();
    let room = 64 - agent.len() - 1;
    let person: String = person.chars().take(room).collect();
    format!("{person}+{agent}")
}

/// The SourceIdentity of an agent's session: person and agent, in STS's characters.
pub fn agent_source_identity(person: &str, agent: &str) -> String {
    agent_session_name(person, agent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strictness_orders_the_policies() {
        use AgentPolicy::*;
        assert!(Allow < Approve && Approve < ReadOnly && ReadOnly < Deny);
        assert_eq!(AgentPolicy::parse("Read-Only"), Some(ReadOnly));
        assert_eq!(AgentPolicy::parse("maybe"), None);
    }

    #[test]
    fn read_only_is_in_the_regions_partition() {
        assert_eq!(
            read_only_arn(None),
            "arn:aws:iam::aws:policy/ReadOnlyAccess"
        );
        assert_eq!(
            read_only_arn(Some("cn-north-1")),
            "arn:aws-cn:iam::aws:policy/ReadOnlyAccess"
        );
        assert_eq!(
            read_only_arn(Some("us-gov-west-1")),
            "arn:aws-us-gov:iam::aws:policy/ReadOnlyAccess"
        );
    }

    #[test]
    fn session_policies_are_checked() {
        let ok = SessionPolicy {
            arns: vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".into()],
            inline: Some(r#"{"Version":"2012-10-17","Statement":[]}"#.into()),
        };
        assert!(check(&ok).is_ok());
        let bad_arn = SessionPolicy {
            arns: vec!["ReadOnlyAccess".into()],
            inline: None,
        };
        assert!(
            check(&bad_arn)
                .unwrap_err()
                .contains("not an IAM policy ARN")
        );
        let bad_doc = SessionPolicy {
            arns: vec![],
            inline: Some("{nope".into()),
        };
        assert!(check(&bad_doc).unwrap_err().contains("not JSON"));
        assert_eq!(
            ok.describe().split('+').next(),
            Some("arn:aws:iam::aws:policy/ReadOnlyAccess")
        );
    }

    /// Review finding 8: AWS's ReadOnlyAccess and a customer policy of that name are two
    /// policies to a person reading the dialog, the audit and an approval's memory.
    #[test]
    fn policies_of_one_name_are_told_apart() {
        let of = |arn: &str| SessionPolicy {
            arns: vec![arn.to_owned()],
            inline: None,
        };
        let aws = of("arn:aws:iam::aws:policy/ReadOnlyAccess");
        let mine = of("arn:aws:iam::123456789012:policy/team/ReadOnlyAccess");
        assert_ne!(aws.describe(), mine.describe());
        assert_eq!(
            mine.describe(),
            "arn:aws:iam::123456789012:policy/team/ReadOnlyAccess"
        );
    }

    #[test]
    fn session_names_keep_the_agent() {
        let n = agent_session_name(&"a".repeat(80), "claude-code");
        assert_eq!(n.len(), 64);
        assert!(n.ends_with("+claude-code"));
        assert!(crate::sts::plan::valid_session_name(&n));
        assert_eq!(agent_session_name("alice", "codex"), "alice+codex");
    }
}
