//! Quick unlock's system authentication on Linux: polkit's action `dev.op-aws.unlock`, its
//! file, and the check the agent makes while it holds the identity ([`check`]).
//!
//! The agent calls polkit's `CheckAuthorization` itself, over the system bus at its fixed path
//! (zbus): it used to run `pkcheck`, a fresh dumpable process whose exit status any process of
//! the same user could forge (an `LD_PRELOAD` in the agent's environment, or `ptrace`). pkcheck
//! (package polkitd) still tells whether polkit is installed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::{Error, Result, fsutil};

/// The polkit action the agent checks before it answers again.
pub const ACTION_ID: &str = "dev.op-aws.unlock";
/// The action an agent's approval asks (`agents = "approve"`), in the same file.
pub const APPROVE_ACTION_ID: &str = "dev.op-aws.approve-agent";
/// The action file, as `op-aws setup polkit` and the Debian package install it.
pub const POLICY: &str = include_str!("../data/dev.op-aws.unlock.policy");
/// Where polkit reads actions.
pub const ACTIONS_DIR: &str = "/usr/share/polkit-1/actions";
/// polkit's command-line check (package polkitd).
const PKCHECK: &[&str] = &["/usr/bin/pkcheck", "/bin/pkcheck"];

/// The action file's path in `dir` (normally [`ACTIONS_DIR`]).
pub fn policy_path(dir: &Path) -> PathBuf {
    dir.join(format!("{ACTION_ID}.policy"))
}

/// What polkit lacks for quick unlock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// pkcheck (polkitd) is not installed.
    Pkcheck,
    /// The action file is not installed.
    Action,
}

/// Whether polkit can ask: pkcheck (polkitd) is there, and the action file.
pub fn ready() -> std::result::Result<(), Missing> {
    if pkcheck().is_none() {
        return Err(Missing::Pkcheck);
    }
    if !policy_path(Path::new(ACTIONS_DIR)).is_file() {
        return Err(Missing::Action);
    }
    Ok(())
}

fn pkcheck() -> Option<&'static Path> {
    PKCHECK.iter().map(Path::new).find(|p| p.is_file())
}

/// What `op-aws setup polkit` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Installed {
    Wrote(PathBuf),
    Unchanged(PathBuf),
}

/// Writes the action file into `dir` (atomically, 0644). Only root may: anyone else gets
/// [`Error::NeedsRoot`] and nothing is touched.
pub fn install(dir: &Path) -> Result<Installed> {
    let path = policy_path(dir);
    if !nix::unistd::geteuid().is_root() {
        return Err(Error::NeedsRoot {
            what: "install the polkit action",
            path,
        });
    }
    if fsutil::read_optional(&path)?.as_deref() == Some(POLICY.as_bytes()) {
        return Ok(Installed::Unchanged(path));
    }
    if !dir.is_dir() {
        return Err(Error::io(
            dir,
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no such directory (is polkitd installed?)",
            ),
        ));
    }
    fsutil::write_atomic(&path, POLICY.as_bytes(), 0o644)?;
    Ok(Installed::Wrote(path))
}

/// The process polkit asks about: the client that wants the identity used again, as polkit's
/// `unix-process` subject (pid, start time, uid).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subject {
    pub pid: u32,
    pub start_time: u64,
    pub uid: u32,
}

impl Subject {
    /// `pid` of `uid` (from the socket's peer credentials), with its start time from `/proc`
    /// (which tells it from a later process given the same pid).
    pub fn of(pid: u32, uid: u32) -> Result<Self> {
        let path = PathBuf::from(format!("/proc/{pid}/stat"));
        let stat = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        let start_time = start_time(&stat)
            .ok_or_else(|| Error::Invalid(format!("{}: no start time", path.display())))?;
        Ok(Self {
            pid,
            start_time,
            uid,
        })
    }
}

/// Field 22 of `/proc/PID/stat` (the start time in clock ticks since boot); the command name
/// before it is in parentheses and may hold spaces and parentheses itself.
pub fn start_time(stat: &str) -> Option<u64> {
    let (_, rest) = stat.rsplit_once(')')?;
    // After the name: field 3 (state) onwards; the start time is field 22.
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// polkit's answer, as every system authentication answers.
pub use crate::os::Verdict;

/// polkit's answer to CheckAuthorization with user interaction allowed: authorized; else
/// dismissed (`polkit.dismissed` in the details: the person cancelled the dialog); else still a
/// challenge (no authentication agent could ask anyone); else refused (a wrong password).
pub fn verdict_of_reply(
    authorized: bool,
    challenge: bool,
    details: &std::collections::HashMap<String, String>,
) -> Verdict {
    if authorized {
        Verdict::Approved
    } else if details.get("polkit.dismissed").is_some_and(|v| v == "true") {
        Verdict::Dismissed
    } else if challenge {
        Verdict::NoAgent
    } else {
        Verdict::Refused
    }
}

/// The system bus, at its fixed path: `DBUS_SYSTEM_BUS_ADDRESS` is whatever the agent's
/// starter put in its environment, so it is not read.
#[cfg(target_os = "linux")]
const SYSTEM_BUS: &str = "unix:path=/run/dbus/system_bus_socket";

/// Asks polkit whether `subject` may do `action` ([`ACTION_ID`]: use the identity again;
/// [`APPROVE_ACTION_ID`]: have an AI agent's credentials), allowing user
/// interaction: the desktop's dialog or `pkttyagent` asks the person), over the system bus
/// from this process (the non-dumpable agent): no helper whose exit status a same-user process
/// could forge with `LD_PRELOAD` or `ptrace` (review finding 2). Gives up after `timeout`,
/// withdrawing the request (CancelCheckAuthorization).
#[cfg(target_os = "linux")]
pub fn check(subject: &Subject, action: &str, timeout: Duration) -> Verdict {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return Verdict::Failed(format!("no runtime: {e}")),
    };
    rt.block_on(async {
        let conn = match zbus::connection::Builder::address(SYSTEM_BUS) {
            Ok(b) => match b.build().await {
                Ok(c) => c,
                Err(e) => return Verdict::Failed(format!("cannot reach the system bus: {e}")),
            },
            Err(e) => return Verdict::Failed(format!("the system bus: {e}")),
        };
        let cancel = format!("op-aws-{}-{}", std::process::id(), subject.pid);
        match tokio::time::timeout(
            timeout,
            check_authorization(&conn, subject, action, &cancel),
        )
        .await
        {
            Ok(v) => v,
            Err(_) => {
                let _ = conn
                    .call_method(
                        Some(POLKIT),
                        AUTHORITY_PATH,
                        Some(AUTHORITY),
                        "CancelCheckAuthorization",
                        &(cancel.as_str(),),
                    )
                    .await;
                Verdict::TimedOut
            }
        }
    })
}

/// Elsewhere there is no polkit to ask.
#[cfg(not(target_os = "linux"))]
pub fn check(_subject: &Subject, _action: &str, _timeout: Duration) -> Verdict {
    Verdict::Failed("polkit is Linux's".into())
}

#[cfg(target_os = "linux")]
const POLKIT: &str = "org.freedesktop.PolicyKit1";
#[cfg(target_os = "linux")]
const AUTHORITY_PATH: &str = "/org/freedesktop/PolicyKit1/Authority";
#[cfg(target_os = "linux")]
const AUTHORITY: &str = "org.freedesktop.PolicyKit1.Authority";

/// `CheckAuthorization(subject, action, details, AllowUserInteraction, cancellation id)`.
#[cfg(target_os = "linux")]
async fn check_authorization(
    conn: &zbus::Connection,
    subject: &Subject,
    action: &str,
    cancel: &str,
) -> Verdict {
    use std::collections::HashMap;
    use zbus::zvariant::Value;
    let mut process: HashMap<&str, Value<'_>> = HashMap::new();
    process.insert("pid", Value::U32(subject.pid));
    process.insert("start-time", Value::U64(subject.start_time));
    process.insert("uid", Value::I32(i32::try_from(subject.uid).unwrap_or(-1)));
    let details: HashMap<&str, &str> = HashMap::new();
    const ALLOW_USER_INTERACTION: u32 = 1;
    let reply = conn
        .call_method(
            Some(POLKIT),
            AUTHORITY_PATH,
            Some(AUTHORITY),
            "CheckAuthorization",
            &(
                ("unix-process", process),
                action,
                details,
                ALLOW_USER_INTERACTION,
                cancel,
            ),
        )
        .await;
    let reply = match reply {
        Ok(r) => r,
        Err(zbus::Error::MethodError(name, detail, _)) => {
            return Verdict::Failed(crate::error::printable(&format!(
                "{}{}",
                name.as_str(),
                detail.map(|d| format!(": {d}")).unwrap_or_default()
            )));
        }
        Err(e) => return Verdict::Failed(crate::error::printable(&e.to_string())),
    };
    match reply
        .body()
        .deserialize::<((bool, bool, HashMap<String, String>),)>()
    {
        Ok(((authorized, challenge, details),)) => {
            verdict_of_reply(authorized, challenge, &details)
        }
        Err(e) => Verdict::Failed(format!("polkit's answer: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_time_is_field_22_whatever_the_name() {
        let stat = "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 12345 67 18446744073709551615";
        assert_eq!(start_time(stat), Some(987654));
        assert_eq!(start_time("4242 (x"), None);
        let own = std::fs::read_to_string("/proc/self/stat").unwrap();
        assert!(start_time(&own).is_some_and(|t| t > 0));
    }

    #[test]
    fn polkit_replies() {
        let none = std::collections::HashMap::new();
        assert_eq!(verdict_of_reply(true, false, &none), Verdict::Approved);
        assert_eq!(verdict_of_reply(false, false, &none), Verdict::Refused);
        assert_eq!(verdict_of_reply(false, true, &none), Verdict::NoAgent);
        let dismissed = [("polkit.dismissed".to_owned(), "true".to_owned())].into();
        assert_eq!(
            verdict_of_reply(false, false, &dismissed),
            Verdict::Dismissed
        );
    }

    #[test]
    fn the_policy_asks_every_time() {
        assert!(POLICY.contains(&format!("<action id=\"{ACTION_ID}\">")));
        assert!(POLICY.contains(&format!("<action id=\"{APPROVE_ACTION_ID}\">")));
        // Both actions ask every time.
        assert_eq!(POLICY.matches("<allow_").count(), 6);
        assert_eq!(POLICY.matches(">auth_self</allow_").count(), 6);
        assert!(!POLICY.contains(">auth_self_keep<") && !POLICY.contains(">yes<"));
    }
}
