//! `config.toml`: what the user chose. Unknown keys and wrong types are errors that name the
//! file and line, never silently ignored.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::dirs::Dirs;
use crate::{Error, Result, fsutil};

/// The executables wrapped by default: the AWS tools that take credentials from the environment.
pub const DEFAULT_WRAPPED: &[&str] = &["aws", "cdk", "sam", "eksctl", "awslogs"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum StoreKind {
    #[default]
    #[serde(rename = "local")]
    Local,
    #[serde(rename = "1password")]
    OnePassword,
}

impl StoreKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::OnePassword => "1password",
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where items live: "local" (the embedded vault) or "1password".
    #[serde(default)]
    pub store: StoreKind,
    /// Replaces the set of wrapped executables.
    pub wrap: Option<Vec<String>>,
    /// Added to the set of wrapped executables.
    #[serde(default)]
    pub wrap_extra: Vec<String>,
    /// Idle time after which the agent forgets everything, e.g. "10m".
    pub agent_timeout: Option<String>,
    /// The 1Password vault searched for items named without `op://`.
    pub onepassword_vault: Option<String>,
    /// `run` serves credentials from a loopback endpoint instead of putting keys in the
    /// command's environment (as `run --server`).
    #[serde(default)]
    pub server: bool,
    /// STS endpoints other than AWS's own and loopback that may receive a request signed with an
    /// item's long-lived keys or carrying a generated MFA code (a VPC endpoint's private DNS
    /// name, a corporate proxy).
    #[serde(default)]
    pub trusted_endpoints: Vec<String>,
    /// The pinentry that asks when there is no terminal (a path, or a name on PATH); without
    /// it, `pinentry` on PATH where there is a display or `GPG_TTY`.
    pub pinentry_program: Option<String>,
}

impl Config {
    pub fn load(dirs: &Dirs) -> Result<Self> {
        Self::load_from(&dirs.config_file())
    }

    pub fn load_from(path: &Path) -> Result<Self> {
        let Some(bytes) = fsutil::read_optional(path)? else {
            return Ok(Self::default());
        };
        let bad = |why: String| Error::BadConfig {
            path: path.to_owned(),
            why,
        };
        let text = String::from_utf8(bytes).map_err(|_| bad("not UTF-8 text".into()))?;
        let cfg: Self = toml::from_str(&text).map_err(|e| bad(one_line(&e.to_string())))?;
        for name in cfg.wrap.iter().flatten().chain(&cfg.wrap_extra) {
            if !is_executable_name(name) {
                return Err(bad(format!("{name:?} is not a command name")));
            }
        }
        if let Some(v) = cfg
            .onepassword_vault
            .as_deref()
            .filter(|v| v.starts_with('-'))
        {
            return Err(bad(format!(
                "onepassword_vault {v:?} cannot start with '-' (op would take it for a flag)"
            )));
        }
        for e in &cfg.trusted_endpoints {
            crate::sts::plan::parse_endpoint(e).map_err(|why| {
                bad(format!(
                    "trusted_endpoints: {:?}: {why}",
                    crate::error::printable(e)
                ))
            })?;
        }
        if let Some(t) = &cfg.agent_timeout {
            humantime::parse_duration(t).map_err(|e| bad(format!("agent_timeout {t:?}: {e}")))?;
        }
        Ok(cfg)
    }

    pub fn wrapped(&self) -> Vec<String> {
        let mut v: Vec<String> = match &self.wrap {
            Some(w) => w.clone(),
            None => DEFAULT_WRAPPED.iter().map(|s| (*s).to_owned()).collect(),
        };
        for e in &self.wrap_extra {
            if !v.contains(e) {
                v.push(e.clone());
            }
        }
        v
    }

    pub fn agent_idle(&self) -> Duration {
        self.agent_timeout
            .as_deref()
            .and_then(|t| humantime::parse_duration(t).ok())
            .map_or(crate::agent::DEFAULT_IDLE, |d| {
                crate::agent::clamp_idle(d.as_secs())
            })
    }
}

/// Names that are safe to turn into shell functions in every supported shell.
pub fn is_executable_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// toml's messages span several lines (with a source excerpt); keep the first and the position.
pub(crate) fn one_line(msg: &str) -> String {
    msg.lines()
        .map(str::trim)
        .filter(|l| {
            // Drop toml's source excerpt ("1 | store = …", "|", "^^^") and keep the words.
            let excerpt = l
                .split_once('|')
                .is_some_and(|(n, _)| n.trim().chars().all(|c| c.is_ascii_digit()));
            !l.is_empty() && !excerpt && !l.chars().all(|c| c == '^' || c == ' ')
        })
        .collect::<Vec<_>>()
        .join(": ")
}
