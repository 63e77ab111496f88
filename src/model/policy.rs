//! What a release asks for and what was decided: the command that releases, the session
//! policy, the STS scope and the decision for one caller. The deciding is [`crate::policy`]'s.

use serde::{Deserialize, Serialize};

use crate::caller::Class;
use crate::config::AgentPolicy;

/// Which command releases the credentials (refusals and the audit trail depend on it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Via {
    #[default]
    Run,
    Export,
    CredentialProcess,
    Endpoint,
    /// `op-aws login`: a console sign-in URL.
    Console,
}

impl Via {
    pub fn name(self) -> &'static str {
        match self {
            Self::Run => "run",
            Self::Export => "export",
            Self::CredentialProcess => "credential-process",
            Self::Endpoint => "endpoint",
            Self::Console => "login",
        }
    }
}

/// What the command line asked for: the releasing command and a session policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ask {
    pub via: Via,
    /// `--read-only`: AWS's ReadOnlyAccess as the session policy.
    #[serde(default)]
    pub read_only: bool,
    /// `--policy-arn ARN` (repeatable).
    #[serde(default)]
    pub policy_arns: Vec<String>,
    /// `--policy FILE`'s content: an inline session policy (JSON).
    #[serde(default)]
    pub policy: Option<String>,
    /// The agents' policy a sandbox was opened with (`op-aws sandbox --agents`): like a
    /// project file's, it only tightens.
    #[serde(default)]
    pub agents: Option<AgentPolicy>,
    /// A sandbox's items and profiles (`op-aws sandbox --item/--profile`): nothing else is
    /// released (empty: no such limit).
    #[serde(default)]
    pub only_items: Vec<String>,
    #[serde(default)]
    pub only_profiles: Vec<String>,
    /// `credential-process --bedrock`: a harness's own model calls; the session policy is
    /// op-aws's Bedrock-only one, whatever else is asked (`crate::policy::bedrock_policy`).
    #[serde(default)]
    pub model_calls: bool,
    /// A keyless run's calls that need the person's yes of their own (`s3 writes`): asked and
    /// remembered apart from the session's.
    #[serde(default)]
    pub calls: Option<String>,
}

/// A session policy: managed policy ARNs and an inline document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionPolicy {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arns: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline: Option<String>,
}

impl SessionPolicy {
    pub fn is_empty(&self) -> bool {
        self.arns.is_empty() && self.inline.is_none()
    }

    /// One line for people and the audit log: the ARNs whole (a last path segment alone
    /// would name AWS's `ReadOnlyAccess` and a customer policy of that name alike), and the
    /// inline policy by its hash.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self.arns.clone();
        if let Some(p) = &self.inline {
            parts.push(format!("inline:{}", short_hash(p)));
        }
        if parts.is_empty() {
            "none".into()
        } else {
            parts.join("+")
        }
    }
}

fn short_hash(s: &str) -> String {
    crate::digest::hash(&serde_json::Value::String(s.to_owned()))[..12].to_owned()
}

/// What the STS calls carry for this caller; the default is a person's plain request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    pub policy: SessionPolicy,
    /// Seconds the final session lasts (agents: `agent_session`).
    pub duration: Option<u32>,
    /// The agent the session is for: named in its session name, SourceIdentity and tag.
    pub agent: Option<String>,
    /// Long-lived keys are never handed over: a session is made of them.
    pub temporary_only: bool,
}

impl Scope {
    /// Nothing beyond what the profile asks (a person without a session policy).
    pub fn is_plain(&self) -> bool {
        *self == Self::default()
    }

    /// A session is needed even where the profile needs no STS.
    pub fn needs_session(&self) -> bool {
        self.temporary_only || !self.policy.is_empty()
    }

    /// What the cache key adds: a scoped session is never another caller's.
    pub fn key_json(&self) -> serde_json::Value {
        serde_json::json!({
            "arns": self.policy.arns,
            "inline": self.policy.inline,
            "duration": self.duration,
            "agent": self.agent,
        })
    }
}

/// The decision for one release.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Decision {
    pub class: Class,
    /// For an agent: the policy in effect and where it came from.
    pub mode: Option<(AgentPolicy, String)>,
    pub scope: Scope,
    /// The top role of the profile, if any (for the approval dialog and the audit trail).
    pub role: Option<String>,
    /// How the release was allowed ([`crate::approval::check`] fills it in).
    pub approved: Option<String>,
}

impl Decision {
    pub fn needs_approval(&self) -> bool {
        matches!(self.mode, Some((AgentPolicy::Approve, _)))
    }
}
