//! A request to the resolver and its answer, every fact of it: the same value whether it was
//! worked out in this process or by the agent. The resolving is [`crate::resolve`]'s.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::creds::Credentials;
use crate::model::env::EnvChanges;
use crate::model::project::Found;
use crate::model::scope::{Applied, Ignored, Scope};
use crate::model::sso::Session;

pub struct Request<'a> {
    /// `--item`: wins over every default.
    pub item: Option<&'a str>,
    /// `--profile` (the command's, or the one given to the tool); None: the caller's
    /// `AWS_PROFILE`.
    pub profile: Option<&'a str>,
    pub want: Want<'a>,
    /// Which command releases the credentials and the session policy it asks for
    /// ([`crate::policy`]).
    pub ask: crate::model::policy::Ask,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want<'a> {
    /// What applies here, never asking anyone, never reading a secret, never calling `op` or the
    /// network. With `peek`, an item the agent already holds is looked at for its region.
    Here { peek: bool },
    /// The credentials and the environment for `tool` (`op-aws run`), or for a shell when
    /// `tool` is empty (`export`).
    Env { tool: &'a str },
    /// The credentials alone (`credential-process`): the profile's own `credential_process` is
    /// what called us, so it is never handed over.
    Credentials,
    /// Temporary credentials (the loopback credentials endpoint): long-lived keys are turned
    /// into a session.
    Temporary,
}

/// Where the region came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegionFrom {
    Shell,
    Profile,
    Item,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Region {
    pub name: String,
    pub from: RegionFrom,
}

pub struct Resolution {
    /// The profile in effect, if any.
    pub profile: Option<String>,
    /// The profile authenticates itself (SSO, credential_process, web identity): it is handed
    /// to the tool untouched, no item is read.
    pub handover: bool,
    /// The item in effect and why.
    pub applied: Option<Applied>,
    /// Every default that applies here, in precedence order (a profile's binding first).
    pub candidates: Vec<Applied>,
    /// The profiles that take part, top first (the selected one alone without a role).
    pub chain: Vec<String>,
    /// Directory defaults stored for here or above that do not apply (directory, item, why),
    /// nearest first.
    pub ignored: Vec<(PathBuf, String, Ignored)>,
    /// The project file (`.op-aws.toml`) at or above here, trusted or not.
    pub project: Option<Found>,
    /// The file whose binding names the profile's item (the AWS config or the project file).
    pub bound_in: Option<PathBuf>,
    /// The IAM Identity Center session whose token signs the profile's chain (no item then).
    pub sso: Option<Session>,
    /// The `aws login` session (its ARN) that signs the profile's chain (no item then).
    pub login_session: Option<String>,
    /// The override notice, once decided ([`Self::override_notice`]): by the agent, for an
    /// answer it made.
    pub(crate) told: Option<Option<String>>,
    pub region: Option<Region>,
    /// For `Env` and `Credentials`.
    pub creds: Option<Credentials>,
    /// For `Env`: what to set and unset in the tool's (or the shell's) environment.
    pub env: EnvChanges,
    /// For `Env`, `Credentials`, `Temporary`: who asked and under which policy it was released.
    pub decision: Option<crate::model::policy::Decision>,
}

impl Resolution {
    pub fn region_name(&self) -> Option<&str> {
        self.region.as_ref().map(|r| r.name.as_str())
    }

    /// A terminal's or directory's choice that a profile's `op_aws_item` set aside: worth one
    /// line, since the profile may come from a config file the environment chose (a project's
    /// `AWS_CONFIG_FILE`). `--item` is explicit and needs none.
    pub fn overridden(&self) -> Option<(&Applied, &Applied)> {
        let first = self.candidates.first()?;
        if !matches!(first.scope, Scope::Profile(_)) {
            return None;
        }
        let set_aside = self
            .candidates
            .iter()
            .skip(1)
            .find(|c| matches!(c.scope, Scope::Session | Scope::Directory(_)))?;
        (!set_aside.item.eq_ignore_ascii_case(&first.item)).then_some((first, set_aside))
    }
}
