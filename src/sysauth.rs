//! Quick unlock's system authentication, by platform: polkit on Linux ([`crate::polkit`]),
//! LocalAuthentication on macOS (Touch ID, an Apple Watch or the login password). Whether it
//! is on, the timers an unlock gives the agent, the check itself, and the reason the dialog
//! shows.

use std::time::Duration;

use crate::config::{AgentTimes, Config, QuickUnlock};
use crate::os::Platform;
pub use crate::os::Verdict;

/// Why quick unlock is off: one line for `status` and `doctor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Off {
    /// `quick_unlock = "off"` in config.toml.
    Config,
    /// Neither Linux nor macOS.
    Unsupported,
    /// The action file is not installed.
    NoAction,
    /// pkcheck (polkitd) is not installed.
    NoPkcheck,
}

impl std::fmt::Display for Off {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Config => "off in config.toml (quick_unlock = \"off\")",
            Self::Unsupported => {
                "off: system authentication is built for Linux (polkit) and macOS (LocalAuthentication) only"
            }
            Self::NoAction => {
                "off: the polkit action dev.op-aws.unlock is not installed (run `sudo op-aws setup polkit`)"
            }
            Self::NoPkcheck => "off: polkit is not installed (install polkitd, which has pkcheck)",
        })
    }
}

/// Whether quick unlock is on: config.toml allows it and the platform can ask (Linux: polkit
/// is installed and knows the action; macOS: always).
pub fn availability(config: &Config) -> std::result::Result<(), Off> {
    if config.quick_unlock == Some(QuickUnlock::Off) {
        return Err(Off::Config);
    }
    match Platform::CURRENT {
        Platform::Linux => crate::polkit::ready().map_err(|m| match m {
            crate::polkit::Missing::Pkcheck => Off::NoPkcheck,
            crate::polkit::Missing::Action => Off::NoAction,
        }),
        Platform::MacOs => Ok(()),
        Platform::Other => Err(Off::Unsupported),
    }
}

/// What asks the person when quick unlock is on (for `doctor`).
pub fn mechanism() -> &'static str {
    match Platform::CURRENT {
        Platform::MacOs => "LocalAuthentication: Touch ID, an Apple Watch or the login password",
        _ => "polkit action dev.op-aws.unlock",
    }
}

/// The timers an unlock gives the agent: `idle` (`unlock --timeout`) or config.toml's, and
/// quick unlock where it is on ([`availability`]).
pub fn agent_times(config: &Config, idle: Option<Duration>) -> AgentTimes {
    config.agent_times(idle, availability(config).is_ok())
}

/// What the dialog says: the command, the item and the profile a request is for, where known.
pub fn reason(command: Option<&str>, item: Option<&str>, profile: Option<&str>) -> String {
    let mut why = match command.filter(|c| !c.is_empty()) {
        Some(c) => format!(
            "op-aws: `{}` wants AWS credentials",
            crate::error::printable(c)
        ),
        None => "op-aws wants to use your AWS credentials again".to_owned(),
    };
    let mut parts = Vec::new();
    if let Some(i) = item.filter(|i| !i.is_empty()) {
        parts.push(format!("item {}", crate::error::printable(i)));
    }
    if let Some(p) = profile.filter(|p| !p.is_empty()) {
        parts.push(format!("profile {}", crate::error::printable(p)));
    }
    if !parts.is_empty() {
        why.push_str(&format!(" ({})", parts.join(", ")));
    }
    why
}

/// What a system dialog is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Quick unlock: use the held identity again.
    Unlock,
    /// `agents = "approve"`: an AI agent's credentials.
    ApproveAgent,
}

/// Whether the platform has a dialog to ask with (Linux: polkit knows op-aws's actions;
/// macOS: always), whatever `quick_unlock` says.
pub fn can_ask() -> bool {
    match Platform::CURRENT {
        Platform::Linux => crate::polkit::ready().is_ok(),
        Platform::MacOs => true,
        Platform::Other => false,
    }
}

/// Asks the person through the platform's dialog, about the process `peer` (pid, uid) asking
/// for `reason`; gives up after `timeout`.
pub fn check(peer: Option<(u32, u32)>, reason: &str, timeout: Duration) -> Verdict {
    check_for(Purpose::Unlock, peer, reason, timeout)
}

/// [`check`], for `purpose` (polkit: its action; macOS: the reason says it).
pub fn check_for(
    purpose: Purpose,
    peer: Option<(u32, u32)>,
    reason: &str,
    timeout: Duration,
) -> Verdict {
    #[cfg(target_os = "macos")]
    {
        // The dialog is the agent's own: the subject is the person at the Mac, not a process.
        let _ = (peer, purpose);
        crate::os::localauth::check(reason, timeout)
    }
    #[cfg(not(target_os = "macos"))]
    {
        // polkit shows its own message for the action; the subject is the asking process.
        let _ = reason;
        let action = match purpose {
            Purpose::Unlock => crate::polkit::ACTION_ID,
            Purpose::ApproveAgent => crate::polkit::APPROVE_ACTION_ID,
        };
        match peer.map(|(pid, uid)| crate::polkit::Subject::of(pid, uid)) {
            Some(Ok(subject)) => crate::polkit::check(&subject, action, timeout),
            Some(Err(e)) => Verdict::Failed(e.to_string()),
            None => Verdict::Failed("no peer credentials".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reason_names_the_command_item_and_profile() {
        assert_eq!(
            reason(Some("aws"), Some("work"), Some("admin")),
            "op-aws: `aws` wants AWS credentials (item work, profile admin)"
        );
        assert_eq!(
            reason(Some("terraform"), Some("work"), None),
            "op-aws: `terraform` wants AWS credentials (item work)"
        );
        assert_eq!(
            reason(None, None, None),
            "op-aws wants to use your AWS credentials again"
        );
        // A hostile name cannot forge a second line in the dialog.
        assert!(!reason(Some("aws\nApproved by IT"), None, None).contains('\n'));
    }
}
