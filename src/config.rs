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
    /// What an AI coding agent gets by default ([`crate::policy`]); a profile's
    /// `op_aws_agents`, an item's `Agents` field and the project file refine it.
    pub agents: Option<crate::policy::AgentPolicy>,
    /// More environment markers of an agent: `VAR` (any value) or `VAR=VALUE`.
    #[serde(default)]
    pub agent_markers: Vec<String>,
    /// More executable names that are agents (seen among a caller's ancestors).
    #[serde(default)]
    pub agent_executables: Vec<String>,
    /// How long an agent's session lasts, e.g. "15m" (the default; 15 minutes to 12 hours).
    pub agent_session: Option<String>,
    /// How long a person's approval (`agents = "approve"`) holds, e.g. "10m" (the default).
    pub approval_remember: Option<String>,
    /// The console's federation endpoint for `op-aws login` (default: the partition's own);
    /// used only when it is AWS's own, loopback, or in `trusted_endpoints`.
    pub federation_endpoint: Option<String>,
}

impl Config {
    pub fn load(dirs: &Dirs) -> Result<Self> {
        Self::load_from(&dirs.config_file())
    }

    pub fn load_from(path: &Path) -> Result<Self> {
        let Some(bytes) = fsutil::read_optional(path)? else {
            return Ok(Self::default());
        };
        Self::parse(bytes, path)
    }

    /// The settings in `bytes`, read from `path` (named in errors).
    pub(crate) fn parse(bytes: Vec<u8>, path: &Path) -> Result<Self> {
        let bad = |why: String| Error::BadConfig {
            path: path.to_owned(),
            why,
        };
        let text = String::from_utf8(bytes).map_err(|_| bad("not UTF-8 text".into()))?;
        let cfg: Self = toml::from_str(&text).map_err(|e| bad(toml_message(&e.to_string())))?;
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
            parse_endpoint(e).map_err(|why| {
                bad(format!(
                    "trusted_endpoints: {:?}: {why}",
                    crate::error::printable(e)
                ))
            })?;
        }
        for (key, v) in [
            ("agent_session", &cfg.agent_session),
            ("approval_remember", &cfg.approval_remember),
        ] {
            if let Some(t) = v {
                humantime::parse_duration(t).map_err(|e| bad(format!("{key} {t:?}: {e}")))?;
            }
        }
        if let Some(s) = cfg
            .agent_session
            .as_deref()
            .and_then(|t| humantime::parse_duration(t).ok())
            && !(900..=43200).contains(&s.as_secs())
        {
            return Err(bad(format!(
                "agent_session {:?} must be from 15m to 12h (what STS issues)",
                cfg.agent_session.as_deref().unwrap_or_default()
            )));
        }
        for m in &cfg.agent_markers {
            let var = m.split_once('=').map_or(m.as_str(), |(k, _)| k);
            if var.is_empty() || !var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(bad(format!("agent_markers: {m:?} is not VAR or VAR=VALUE")));
            }
        }
        if let Some(e) = &cfg.federation_endpoint {
            parse_endpoint(e).map_err(|why| {
                bad(format!(
                    "federation_endpoint: {:?}: {why}",
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

    /// An agent's session length in seconds (15 minutes unless `agent_session` says).
    pub fn agent_session_secs(&self) -> u32 {
        self.agent_session
            .as_deref()
            .and_then(|t| humantime::parse_duration(t).ok())
            .and_then(|d| u32::try_from(d.as_secs()).ok())
            .unwrap_or(crate::policy::AGENT_SESSION_SECS)
    }

    /// How long an approval holds (10 minutes unless `approval_remember` says).
    pub fn approval_remember(&self) -> Duration {
        self.approval_remember
            .as_deref()
            .and_then(|t| humantime::parse_duration(t).ok())
            .unwrap_or(crate::policy::APPROVAL_REMEMBER)
    }

    pub fn agent_idle(&self) -> Duration {
        self.agent_timeout
            .as_deref()
            .and_then(|t| humantime::parse_duration(t).ok())
            .map_or(DEFAULT_IDLE, |d| clamp_idle(d.as_secs()))
    }
}

/// The agent forgets everything after this long unused, unless config.toml says otherwise.
pub const DEFAULT_IDLE: Duration = Duration::from_secs(10 * 60);
/// ... and after this long whatever happens.
pub const MAX_LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);

/// The idle timeout asked for, within 1 s and the absolute limit (any number from the wire or
/// config.toml is clamped, never trusted).
pub fn clamp_idle(secs: u64) -> Duration {
    Duration::from_secs(secs.clamp(1, MAX_LIFETIME.as_secs()))
}

/// The AWS tools that read `--profile` themselves (and ignore environment keys when they see it).
pub const PROFILE_TOOLS: &[&str] = &["aws", "cdk", "sam", "eksctl", "awslogs"];

/// Names that are safe to turn into shell functions in every supported shell.
pub fn is_executable_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// toml's messages span several lines (with a source excerpt); keep the first and the position.
pub(crate) fn toml_message(msg: &str) -> String {
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

/// An endpoint URL as the HTTP client will read it: http(s), a host, no user name or password.
pub fn parse_endpoint(endpoint: &str) -> std::result::Result<url::Url, &'static str> {
    let u = url::Url::parse(endpoint.trim()).map_err(|_| "not a URL")?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err("not an http(s) URL");
    }
    if u.host().is_none() {
        return Err("names no host");
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err("holds a user name or password");
    }
    Ok(u)
}
