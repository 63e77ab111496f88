//! Quick unlock's system authentication on Linux: polkit's action `dev.op-aws.unlock`, its
//! file, and the check the agent makes while it holds the identity ([`check`]).
//!
//! The check runs polkit's own `pkcheck` rather than calling `CheckAuthorization` over D-Bus
//! from this process: pkcheck ships with polkitd (no polkitd, no quick unlock anyway), its exit
//! status is polkit's documented answer, a timeout is a kill, and the agent gains no D-Bus
//! client and no async runtime (zbus would add dozens of crates for one method call). It is
//! run from a fixed absolute path, never looked up on PATH: the agent holds the identity.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{Error, Result, fsutil};

/// The polkit action the agent checks before it answers again.
pub const ACTION_ID: &str = "dev.op-aws.unlock";
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

/// pkcheck's exit status (man pkcheck(1)) and what it said.
pub fn verdict_of_exit(code: Option<i32>, stderr: &str) -> Verdict {
    match code {
        Some(0) => Verdict::Approved,
        Some(1) => Verdict::Refused,
        Some(2) => Verdict::NoAgent,
        Some(3) => Verdict::Dismissed,
        _ => Verdict::Failed(
            stderr
                .lines()
                .find(|l| !l.trim().is_empty())
                .map_or_else(|| "pkcheck failed".to_owned(), crate::error::printable),
        ),
    }
}

/// Asks polkit whether `subject` may use the identity again ([`ACTION_ID`], allowing user
/// interaction: the desktop's dialog or `pkttyagent` asks the person). Gives up after
/// `timeout` (pkcheck is killed, which withdraws the request).
pub fn check(subject: &Subject, timeout: Duration) -> Verdict {
    let Some(exe) = pkcheck() else {
        return Verdict::Failed("pkcheck (polkitd) is not installed".into());
    };
    // A fixed, minimal environment: whatever the agent was started with (LD_PRELOAD, a
    // DBUS_SYSTEM_BUS_ADDRESS of someone's choosing) must not reach the program whose exit
    // status is the approval (review finding 2a).
    let mut child = match Command::new(exe)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("LC_ALL", "C")
        .args(["--action-id", ACTION_ID, "--process"])
        .arg(format!(
            "{},{},{}",
            subject.pid, subject.start_time, subject.uid
        ))
        .arg("--allow-user-interaction")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => return Verdict::Failed(format!("cannot run {}: {e}", exe.display())),
    };
    let end = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < end => std::thread::sleep(Duration::from_millis(50)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Verdict::TimedOut;
            }
            Err(e) => return Verdict::Failed(format!("pkcheck: {e}")),
        }
    };
    let mut err = String::new();
    if let Some(mut s) = child.stderr.take() {
        let _ = s.by_ref().take(4096).read_to_string(&mut err);
    }
    verdict_of_exit(status.code(), &err)
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
    fn pkcheck_exit_statuses() {
        assert_eq!(verdict_of_exit(Some(0), ""), Verdict::Approved);
        assert_eq!(
            verdict_of_exit(Some(1), "Not authorized."),
            Verdict::Refused
        );
        assert_eq!(verdict_of_exit(Some(2), ""), Verdict::NoAgent);
        assert_eq!(verdict_of_exit(Some(3), ""), Verdict::Dismissed);
        assert_eq!(
            verdict_of_exit(Some(127), "\nError checking for authorization: no bus\n"),
            Verdict::Failed("Error checking for authorization: no bus".into())
        );
        assert_eq!(
            verdict_of_exit(None, ""),
            Verdict::Failed("pkcheck failed".into())
        );
    }

    #[test]
    fn the_policy_asks_every_time() {
        assert!(POLICY.contains(&format!("<action id=\"{ACTION_ID}\">")));
        assert_eq!(POLICY.matches("<allow_").count(), 3);
        assert_eq!(POLICY.matches(">auth_self</allow_").count(), 3);
        assert!(!POLICY.contains(">auth_self_keep<"));
    }
}
