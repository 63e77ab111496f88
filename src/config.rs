//! `config.toml`: what the user chose. Unknown keys and wrong types are errors that name the
//! file and line, never silently ignored.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::dirs::Dirs;
use crate::memo::Memo;
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

/// `quick_unlock`: what the agent does after the idle timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QuickUnlock {
    /// Hold the identity and ask system authentication (polkit) before answering again.
    System,
    /// Forget it: the passphrase (or a key) is needed again.
    Off,
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
    pub agents: Option<AgentPolicy>,
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
    /// After the idle time, hold the identity and ask system authentication ("system", the
    /// default where polkit's action is installed) or forget it ("off").
    pub quick_unlock: Option<QuickUnlock>,
    /// Idle time after which the agent holds (quick unlock), e.g. "10m"; default
    /// `agent_timeout` (or `unlock --timeout`).
    pub hold_after: Option<String>,
    /// The absolute limit: the agent forgets everything this long after the unlock, held or
    /// not, e.g. "8h" (default and at most 12h).
    pub forget_after: Option<String>,
    /// The console's federation endpoint for `op-aws login` (default: the partition's own);
    /// used only when it is AWS's own, loopback, or in `trusted_endpoints`.
    pub federation_endpoint: Option<String>,
}

impl Config {
    pub fn load(dirs: &Dirs) -> Result<Self> {
        Self::load_from(&dirs.config_file())
    }

    pub fn load_from(path: &Path) -> Result<Self> {
        static PARSED: Memo<Config> = Memo::new();
        PARSED.get(&[path], || match fsutil::read_optional(path)? {
            Some(bytes) => Self::parse(bytes, path),
            None => Ok(Self::default()),
        })
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
        for (key, v) in [
            ("hold_after", &cfg.hold_after),
            ("forget_after", &cfg.forget_after),
        ] {
            if let Some(t) = v {
                let d =
                    humantime::parse_duration(t).map_err(|e| bad(format!("{key} {t:?}: {e}")))?;
                if d < Duration::from_secs(1) || d > MAX_LIFETIME {
                    return Err(bad(format!("{key} {t:?} must be from 1s to 12h")));
                }
            }
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
            .unwrap_or(AGENT_SESSION_SECS)
    }

    /// How long an approval holds (10 minutes unless `approval_remember` says).
    pub fn approval_remember(&self) -> Duration {
        self.approval_remember
            .as_deref()
            .and_then(|t| humantime::parse_duration(t).ok())
            .unwrap_or(APPROVAL_REMEMBER)
    }

    /// The agent's timers for an unlock (`idle`: `unlock --timeout`, else `hold_after` with
    /// quick unlock, else `agent_timeout`); `quick`: quick unlock is on
    /// ([`crate::sysauth::availability`]).
    pub fn agent_times(&self, idle: Option<Duration>, quick: bool) -> AgentTimes {
        let parse = |v: &Option<String>| {
            v.as_deref()
                .and_then(|t| humantime::parse_duration(t).ok())
                .map(|d| clamp_idle(d.as_secs()))
        };
        // An explicit `--timeout` wins; else hold_after (quick unlock), else agent_timeout.
        let idle = match idle {
            Some(d) => clamp_idle(d.as_secs()),
            None if quick => parse(&self.hold_after).unwrap_or_else(|| self.agent_idle()),
            None => self.agent_idle(),
        };
        AgentTimes {
            idle,
            hold: quick,
            forget: parse(&self.forget_after).unwrap_or(MAX_LIFETIME),
        }
    }

    pub fn agent_idle(&self) -> Duration {
        self.agent_timeout
            .as_deref()
            .and_then(|t| humantime::parse_duration(t).ok())
            .map_or(DEFAULT_IDLE, |d| clamp_idle(d.as_secs()))
    }
}

/// What an unlock tells the agent about time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgentTimes {
    /// Unused this long, the agent holds (quick unlock) or forgets.
    pub idle: Duration,
    /// Quick unlock: hold the identity after `idle` and ask system authentication.
    pub hold: bool,
    /// Forget everything this long after the unlock, whatever happens (at most 12 hours).
    pub forget: Duration,
}

impl AgentTimes {
    /// Forget after `idle`, as without quick unlock.
    pub fn forget_when_idle(idle: Duration) -> Self {
        Self {
            idle: clamp_idle(idle.as_secs()),
            hold: false,
            forget: MAX_LIFETIME,
        }
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

/// An agent's session: 15 minutes unless `agent_session` says otherwise (STS's minimum).
pub const AGENT_SESSION_SECS: u32 = 900;

/// How long a person's approval holds.
pub const APPROVAL_REMEMBER: Duration = Duration::from_secs(600);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AgentPolicy {
    Allow,
    Approve,
    ReadOnly,
    Deny,
}

impl AgentPolicy {
    pub fn name(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Approve => "approve",
            Self::ReadOnly => "read-only",
            Self::Deny => "deny",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "allow" => Self::Allow,
            "approve" => Self::Approve,
            "read-only" | "readonly" => Self::ReadOnly,
            "deny" => Self::Deny,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Config> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, text).unwrap();
        Config::load_from(&path)
    }

    fn one_line_error(text: &str, says: &str) {
        let e = load(text).unwrap_err().to_string();
        assert!(!e.contains('\n'), "{e}");
        assert!(e.contains(says), "{e}");
    }

    #[test]
    fn quick_unlock_keys() {
        let c = load("quick_unlock = \"system\"\nhold_after = \"5m\"\nforget_after = \"8h\"\n")
            .unwrap();
        assert_eq!(c.quick_unlock, Some(QuickUnlock::System));
        let t = c.agent_times(None, true);
        assert_eq!(t.idle, Duration::from_secs(300));
        assert!(t.hold);
        assert_eq!(t.forget, Duration::from_secs(8 * 3600));
        // Off: the idle timeout forgets, hold_after does not apply.
        let t = c.agent_times(Some(Duration::from_secs(60)), false);
        assert_eq!((t.idle, t.hold), (Duration::from_secs(60), false));

        let c = load("quick_unlock = \"off\"\nagent_timeout = \"2m\"\n").unwrap();
        assert_eq!(c.quick_unlock, Some(QuickUnlock::Off));
        // hold_after defaults to the idle timeout; forget_after to 12 hours.
        let t = c.agent_times(None, true);
        assert_eq!(t.idle, Duration::from_secs(120));
        assert_eq!(t.forget, MAX_LIFETIME);
        assert_eq!(load("").unwrap().quick_unlock, None);
    }

    #[test]
    fn bad_quick_unlock_values_are_one_line_errors() {
        one_line_error("quick_unlock = \"yes\"\n", "expected `system` or `off`");
        one_line_error("quick_unlock = true\n", "line 1");
        one_line_error("hold_after = \"soon\"\n", "hold_after \"soon\"");
        one_line_error(
            "forget_after = \"13h\"\n",
            "forget_after \"13h\" must be from 1s to 12h",
        );
        one_line_error("hold_after = \"0s\"\n", "must be from 1s to 12h");
        one_line_error("forget_after = 3600\n", "line 1");
    }
}
