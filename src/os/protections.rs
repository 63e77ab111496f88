//! The protections op-aws relies on, by platform: what enforces each, or that this platform has
//! nothing for it. `op-aws doctor` prints the current platform's rows; docs/vault.md has the
//! same table for every platform (a test keeps them equal).

/// The platforms the table knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Linux,
    MacOs,
    Other,
}

impl Platform {
    /// The platform this binary was built for.
    pub const CURRENT: Self = if cfg!(any(target_os = "linux", target_os = "android")) {
        Self::Linux
    } else if cfg!(target_os = "macos") {
        Self::MacOs
    } else {
        Self::Other
    };
}

/// One protection, and how this platform enforces it (None: it does not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Protection {
    pub what: &'static str,
    pub how: Option<&'static str>,
}

/// (what, Linux, macOS, elsewhere).
type Row = (
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
);

const TABLE: &[Row] = &[
    (
        "the agent answers only your own uid's processes",
        Some("SO_PEERCRED"),
        Some("LOCAL_PEERCRED"),
        None,
    ),
    (
        "the asking process is known (approvals, audit, AI-agent ancestry)",
        Some("SO_PEERCRED pid, /proc"),
        Some("LOCAL_PEERPID, proc_pidinfo, sysctl KERN_PROCARGS2"),
        None,
    ),
    (
        "no core dumps of a process holding secrets",
        Some("RLIMIT_CORE 0"),
        Some("RLIMIT_CORE 0"),
        Some("RLIMIT_CORE 0"),
    ),
    (
        "your other processes cannot read op-aws's memory",
        Some("prctl PR_SET_DUMPABLE 0 (no ptrace attach, no /proc/PID/mem)"),
        Some("ptrace PT_DENY_ATTACH (debuggers; not root's task_for_pid)"),
        None,
    ),
    (
        "the held identity stays out of swap",
        Some("mlockall MCL_ONFAULT (within RLIMIT_MEMLOCK)"),
        None,
        None,
    ),
    (
        "the credentials endpoint closes other users' connections unread",
        Some("NETLINK_SOCK_DIAG, else /proc/net/tcp"),
        None,
        None,
    ),
    (
        "a loopback STS endpoint is trusted only when your own process listens there",
        Some("/proc/net/tcp"),
        None,
        None,
    ),
    (
        "time asleep counts toward forget_after and the idle timeout",
        Some("CLOCK_BOOTTIME - CLOCK_MONOTONIC"),
        Some("CLOCK_MONOTONIC - CLOCK_UPTIME_RAW"),
        None,
    ),
    (
        "the agent's socket lives on a disk cleared at boot",
        Some("$XDG_RUNTIME_DIR"),
        Some("the per-user $TMPDIR"),
        None,
    ),
    (
        "quick unlock asks system authentication",
        Some("polkit (password, fingerprint, as PAM allows)"),
        Some("LocalAuthentication (Touch ID, Apple Watch, password)"),
        None,
    ),
    (
        "a prompt without a terminal",
        Some("pinentry with a display or GPG_TTY"),
        Some("pinentry-mac"),
        None,
    ),
];

/// Every protection with how `platform` enforces it.
pub fn protections(platform: Platform) -> Vec<Protection> {
    TABLE
        .iter()
        .map(|(what, linux, macos, other)| Protection {
            what,
            how: match platform {
                Platform::Linux => *linux,
                Platform::MacOs => *macos,
                Platform::Other => *other,
            },
        })
        .collect()
}

/// The table as docs/vault.md shows it (Markdown).
#[cfg(test)]
pub fn markdown() -> String {
    let cell = |c: Option<&str>| c.map_or_else(|| "none".to_owned(), |c| format!("`{c}`"));
    let mut out = String::from("| protection | Linux | macOS | elsewhere |\n|---|---|---|---|\n");
    for (what, linux, macos, other) in TABLE {
        out.push_str(&format!(
            "| {what} | {} | {} | {} |\n",
            cell(*linux),
            cell(*macos),
            cell(*other)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_vault_md_has_the_table() {
        let doc = include_str!("../../docs/vault.md");
        assert!(
            doc.contains(&markdown()),
            "docs/vault.md's table of protections differs; it should read:\n{}",
            markdown()
        );
    }

    #[test]
    fn macos_says_what_it_lacks() {
        let mac = protections(Platform::MacOs);
        let none: Vec<_> = mac
            .iter()
            .filter(|p| p.how.is_none())
            .map(|p| p.what)
            .collect();
        assert_eq!(none.len(), 3, "{none:?}");
        assert!(protections(Platform::Linux).iter().all(|p| p.how.is_some()));
    }
}
