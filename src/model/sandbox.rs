//! A sandbox as the person opens it (`op-aws sandbox`) and as `sandbox list` shows it: the
//! agent's name, its policy, the items and profiles it may have, fixed at creation.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::config::AgentPolicy;

/// What a sandbox's capability is fixed to when it is opened.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spec {
    /// The agent's name: every request on the capability is this agent's.
    pub name: String,
    /// The agents' policy for it; like a project file's, it only tightens (the strictest of
    /// this, the profile's, the item's and config.toml's applies).
    #[serde(default)]
    pub agents: Option<AgentPolicy>,
    /// The items it may use (none named: any the resolver picks).
    #[serde(default)]
    pub items: Vec<String>,
    /// The profiles it may use (none named: any).
    #[serde(default)]
    pub profiles: Vec<String>,
    /// Managed session policies every session it gets is limited to.
    #[serde(default)]
    pub policy_arns: Vec<String>,
    /// Run under namespaces (false: `--no-isolation`, the capability only).
    #[serde(default)]
    pub isolated: bool,
    /// `--keyless`: the program gets a placeholder and the launcher's re-signing proxy; the
    /// capability stays outside, with the launcher (the program cannot reach it).
    #[serde(default)]
    pub keyless: bool,
}

impl Spec {
    /// What [`Self::valid_name`] allows, in words.
    pub const NAME_RULE: &str =
        "a name is 1 to 64 letters, digits, '.', '_' or '-', not starting with '.' or '-'";

    /// A name is 1 to 64 of `A-Z a-z 0-9 . _ -`, not starting with a dot or dash: it names a
    /// directory and an IAM policy.
    pub fn valid_name(name: &str) -> bool {
        (1..=64).contains(&name.len())
            && !name.starts_with(['.', '-'])
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    }
}

/// A sandbox as `sandbox list` and `sandbox stop` show it (no secret).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Listed {
    pub spec: Spec,
    /// The capability's directory (its socket is `agent.sock` in it).
    pub dir: PathBuf,
    pub open_secs: u64,
    /// Requests answered with credentials, and refused.
    pub served: u64,
    pub refused: u64,
    /// The roles its sessions assumed, each with the item that signed for it.
    pub roles: Vec<Assumed>,
}

/// A role a sandbox's session assumed, and the item whose keys assumed it (which `--revoke`
/// signs the deny policy with).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Assumed {
    pub role_arn: String,
    pub item: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_safe_for_a_directory_and_a_policy() {
        for ok in ["claude", "codex-1", "a.b_c", "X"] {
            assert!(Spec::valid_name(ok), "{ok}");
        }
        for bad in ["", ".", "..", "-x", "a/b", "a b", "é", &"x".repeat(65)] {
            assert!(!Spec::valid_name(bad), "{bad:?}");
        }
    }
}
