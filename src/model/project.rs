//! A project file (`.op-aws.toml`) as found and as parsed, with its trust. Finding, parsing and
//! trusting are [`crate::project`]'s.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::Error;

pub const FILE_NAME: &str = ".op-aws.toml";

/// The keys a project profile may set, and the AWS config key each stands for.
pub const PROFILE_KEYS: &[(&str, &str)] = &[
    ("role_arn", "role_arn"),
    ("source_profile", "source_profile"),
    ("mfa_serial", "mfa_serial"),
    ("duration_seconds", "duration_seconds"),
    ("region", "region"),
    ("external_id", "external_id"),
    ("role_session_name", "role_session_name"),
    ("item", "op_aws_item"),
];

/// A parsed, valid project file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Project {
    /// The default item for the directory and below.
    pub item: Option<String>,
    /// `agents = "..."`: makes the agents' policy stricter here, never looser.
    pub agents: Option<crate::config::AgentPolicy>,
    /// Profile name → AWS config key (`item` as `op_aws_item`) → value.
    pub profiles: BTreeMap<String, BTreeMap<&'static str, String>>,
}

/// The project file that applies at a directory: the nearest `.op-aws.toml` at or above it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Found {
    /// The directory the file is in (symlinks resolved).
    pub dir: PathBuf,
    pub path: PathBuf,
    /// SHA-256 of the content, hex.
    pub hash: String,
    pub trust: Trust,
    /// Why the file may be someone else's ([`crate::project::foreign`]): never offered for trust without
    /// naming its owner.
    pub foreign: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Trust {
    Trusted(Project),
    /// Never trusted at this path.
    Untrusted,
    /// Trusted once, with other content.
    Changed,
    /// Not a file op-aws reads (a symlink, a FIFO, too big), or a trusted file this version of
    /// op-aws cannot parse: why.
    Unusable(String),
}

/// As the agent's answer carries it: the keys are the ones [`PROFILE_KEYS`] names, or none.
impl<'de> Deserialize<'de> for Project {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Wire {
            item: Option<String>,
            #[serde(default)]
            agents: Option<crate::config::AgentPolicy>,
            profiles: BTreeMap<String, BTreeMap<String, String>>,
        }
        let w = Wire::deserialize(d)?;
        let mut profiles = BTreeMap::new();
        for (name, keys) in w.profiles {
            let mut known = BTreeMap::new();
            for (k, v) in keys {
                let key = PROFILE_KEYS
                    .iter()
                    .map(|(_, aws)| *aws)
                    .find(|aws| *aws == k)
                    .ok_or_else(|| serde::de::Error::custom(format!("unknown key {k:?}")))?;
                known.insert(key, v);
            }
            profiles.insert(name, known);
        }
        Ok(Self {
            item: w.item,
            agents: w.agents,
            profiles,
        })
    }
}

impl Found {
    pub fn project(&self) -> Option<&Project> {
        match &self.trust {
            Trust::Trusted(p) => Some(p),
            _ => None,
        }
    }

    pub fn state(&self) -> &'static str {
        match self.trust {
            Trust::Trusted(_) => "trusted",
            Trust::Untrusted => "untrusted",
            Trust::Changed => "changed",
            Trust::Unusable(_) => "unusable",
        }
    }

    /// The error for "no item here" when this file would have named one.
    pub fn no_default_error(&self) -> Error {
        let why = match self.trust {
            Trust::Untrusted => "is not trusted",
            Trust::Changed => "changed since it was trusted",
            _ => return Error::NoDefault,
        };
        Error::UntrustedProject {
            path: self.path.clone(),
            why,
            dir: self.dir.clone(),
        }
    }

    /// The one line the hook and the commands say about a file that is not used.
    pub fn untrusted_notice(&self) -> Option<String> {
        let why = match &self.trust {
            Trust::Trusted(_) => return None,
            Trust::Untrusted => "is not trusted",
            Trust::Changed => "changed since it was trusted",
            Trust::Unusable(why) => {
                return Some(format!("{why}; the project file is not used"));
            }
        };
        let path = crate::error::printable(&self.path.display().to_string());
        let dir = crate::error::printable(&crate::shell::quote_posix(&self.dir.to_string_lossy()));
        Some(match &self.foreign {
            // Not offered as one of ours: `trust` names the owner and asks.
            Some(whose) => format!(
                "{path} {why} and {whose}; it is not used (`op-aws trust {dir}` asks first)"
            ),
            None => format!("{path} {why}; run `op-aws trust {dir}` after reading it"),
        })
    }
}
