//! What op-aws asks of the operating system where Linux and macOS answer differently: who is at
//! the other end of a Unix socket, what a process is (its parent, name, start, argv, executable),
//! keeping debuggers out, and a clock that counts suspend. Each answer says plainly when this
//! platform has none (`None`, or [`Protection`] rows that `doctor` prints).
//!
//! Linux reads `/proc` and socket options; macOS asks the kernel through libproc
//! (`proc_pidinfo`, `proc_pidpath`) and `sysctl` (`KERN_PROCARGS2`), declared by the libc crate
//! ([`macos`], the library's one module with `unsafe`). The byte formats are parsed by pure
//! functions ([`procargs`]) that the tests run on every platform.

use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

#[cfg(target_os = "macos")]
#[allow(unsafe_code)]
pub mod localauth;
#[cfg(target_os = "macos")]
#[allow(unsafe_code)]
pub mod macos;
pub mod procargs;
mod protections;

pub use protections::{Platform, Protection, protections};

/// The process at the other end of a Unix socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    pub uid: u32,
    /// Unknown where the kernel does not say.
    pub pid: Option<u32>,
}

/// The peer of `stream`: SO_PEERCRED on Linux; LOCAL_PEERCRED (uid) and LOCAL_PEERPID (pid) on
/// macOS.
pub fn peer(stream: &UnixStream) -> nix::Result<Peer> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use nix::sys::socket::{getsockopt, sockopt};
        let cred = getsockopt(stream, sockopt::PeerCredentials)?;
        Ok(Peer {
            uid: cred.uid(),
            pid: u32::try_from(cred.pid()).ok(),
        })
    }
    #[cfg(target_vendor = "apple")]
    {
        use nix::sys::socket::{getsockopt, sockopt};
        let cred = getsockopt(stream, sockopt::LocalPeerCred)?;
        let pid = getsockopt(stream, sockopt::LocalPeerPid)
            .ok()
            .and_then(|p| u32::try_from(p).ok());
        Ok(Peer {
            uid: cred.uid(),
            pid,
        })
    }
    #[cfg(not(any(target_os = "linux", target_os = "android", target_vendor = "apple")))]
    {
        let _ = stream;
        Err(nix::Error::ENOTSUP)
    }
}

/// What system authentication (polkit, LocalAuthentication) answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The person authenticated.
    Approved,
    /// Authentication failed or was refused.
    Refused,
    /// The person dismissed the dialog.
    Dismissed,
    /// No one could be asked (no desktop authentication agent, no `pkttyagent`; no user
    /// session on macOS).
    NoAgent,
    /// Nobody answered in time.
    TimedOut,
    /// It could not be asked (pkcheck missing, no system bus, polkitd not running, ...).
    Failed(String),
}

/// What the kernel says of one process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stat {
    /// Its short command name (`comm`).
    pub comm: String,
    pub ppid: u32,
    /// When it started (Linux: clock ticks since boot; macOS: microseconds since the epoch):
    /// with the pid, it names one process.
    pub start: Option<u64>,
}

/// Where process facts are read: the system's own table, or a directory laid out like
/// `/proc` (tests stand one in).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Procs<'a> {
    System,
    Dir(&'a Path),
}

impl Procs<'_> {
    /// A key that tells two tables apart (for remembered answers).
    pub fn key(self) -> Option<PathBuf> {
        match self {
            Self::System => None,
            Self::Dir(d) => Some(d.to_owned()),
        }
    }

    pub fn stat(self, pid: u32) -> Option<Stat> {
        match self {
            Self::Dir(root) => stat_in(root, pid),
            Self::System => system_stat(pid),
        }
    }

    /// `pid`'s argv (empty when gone or unreadable).
    pub fn argv(self, pid: u32) -> Vec<String> {
        match self {
            Self::Dir(root) => cmdline_in(root, pid),
            Self::System => system_argv(pid),
        }
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn system_stat(pid: u32) -> Option<Stat> {
    stat_in(Path::new("/proc"), pid)
}
#[cfg(target_os = "macos")]
fn system_stat(pid: u32) -> Option<Stat> {
    macos::stat(pid)
}
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "macos")))]
fn system_stat(_: u32) -> Option<Stat> {
    None
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn system_argv(pid: u32) -> Vec<String> {
    cmdline_in(Path::new("/proc"), pid)
}
#[cfg(target_os = "macos")]
fn system_argv(pid: u32) -> Vec<String> {
    macos::argv(pid).unwrap_or_default()
}
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "macos")))]
fn system_argv(_: u32) -> Vec<String> {
    Vec::new()
}

/// `pid`'s executable: `/proc/PID/exe` on Linux, `proc_pidpath` on macOS.
pub fn exe(pid: u32) -> Option<PathBuf> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    return std::fs::read_link(format!("/proc/{pid}/exe")).ok();
    #[cfg(target_os = "macos")]
    return macos::exe(pid);
    #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "macos")))]
    {
        let _ = pid;
        None
    }
}

/// `/proc/PID/stat` under `root` (`comm` is in parentheses and may hold spaces and parentheses
/// itself: the last `)` ends it).
pub fn stat_in(root: &Path, pid: u32) -> Option<Stat> {
    let raw = crate::fsutil::read_proc(&root.join(pid.to_string()).join("stat"))?;
    let s = String::from_utf8(raw).ok()?;
    let open = s.find('(')?;
    let close = s.rfind(')')?;
    let comm = s.get(open + 1..close)?.to_owned();
    let mut rest = s.get(close + 1..)?.split_ascii_whitespace();
    let _state = rest.next()?;
    let ppid = rest.next()?.parse().ok()?;
    // Fields 5 to 21, then 22: starttime.
    let start = rest.nth(17).and_then(|t| t.parse().ok());
    Some(Stat { comm, ppid, start })
}

/// `/proc/PID/cmdline` under `root`: NUL-separated arguments.
pub fn cmdline_in(root: &Path, pid: u32) -> Vec<String> {
    crate::fsutil::read_proc(&root.join(pid.to_string()).join("cmdline"))
        .map(|raw| {
            raw.split(|b| *b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Keeps other processes of the user from reading this one's memory, in every op-aws process:
/// not dumpable on Linux (`PR_SET_DUMPABLE` 0: no ptrace attach, no /proc/PID/mem, no core;
/// execve undoes it for the command `run` starts). macOS has no flag that exec undoes: see
/// [`deny_attach`], which only the agent sets.
pub fn not_dumpable() {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let _ = nix::sys::prctl::set_dumpable(false);
}

/// For a process that never execs (the agent): on macOS `ptrace(PT_DENY_ATTACH)`, so a
/// debugger's attach fails (it does not stop `task_for_pid` by root or by a process holding the
/// debugger entitlement); on Linux [`not_dumpable`] already covers it.
pub fn deny_attach() {
    #[cfg(target_os = "macos")]
    macos::deny_attach();
}

/// A clock that counts suspend, and how much of it was suspend.
pub mod clock {
    use std::time::Duration;

    #[cfg(any(target_os = "linux", target_os = "android"))]
    const COUNTS_SLEEP: nix::time::ClockId = nix::time::ClockId::CLOCK_BOOTTIME;
    #[cfg(any(target_os = "linux", target_os = "android"))]
    const SKIPS_SLEEP: nix::time::ClockId = nix::time::ClockId::CLOCK_MONOTONIC;
    // macOS: CLOCK_MONOTONIC goes on while the machine sleeps, CLOCK_UPTIME_RAW stops (clock_gettime(3)).
    #[cfg(target_os = "macos")]
    const COUNTS_SLEEP: nix::time::ClockId = nix::time::ClockId::CLOCK_MONOTONIC;
    #[cfg(target_os = "macos")]
    const SKIPS_SLEEP: nix::time::ClockId =
        nix::time::ClockId::from_raw(nix::libc::CLOCK_UPTIME_RAW);

    /// Now, on a clock that goes on while suspended (CLOCK_BOOTTIME on Linux, CLOCK_MONOTONIC
    /// on macOS); the wall clock elsewhere.
    pub fn now() -> Duration {
        #[cfg(any(target_os = "linux", target_os = "android", target_os = "macos"))]
        return nix::time::clock_gettime(COUNTS_SLEEP)
            .map(Duration::from)
            .unwrap_or_default();
        #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "macos")))]
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
    }

    /// The time spent suspended since boot (the two clocks' difference); zero where no pair
    /// is known.
    pub fn gap() -> Duration {
        #[cfg(any(target_os = "linux", target_os = "android", target_os = "macos"))]
        return now().saturating_sub(
            nix::time::clock_gettime(SKIPS_SLEEP)
                .map(Duration::from)
                .unwrap_or_default(),
        );
        #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "macos")))]
        Duration::ZERO
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_reads_a_comm_with_spaces_and_parentheses() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("42")).unwrap();
        let mut line = String::from("42 (a (b) c) S 7");
        for i in 5..=21 {
            line.push_str(&format!(" {i}"));
        }
        line.push_str(" 99999 0\n");
        std::fs::write(dir.path().join("42/stat"), line).unwrap();
        assert_eq!(
            Procs::Dir(dir.path()).stat(42),
            Some(Stat {
                comm: "a (b) c".into(),
                ppid: 7,
                start: Some(99999)
            })
        );
        assert_eq!(Procs::Dir(dir.path()).stat(43), None);
    }

    #[test]
    #[allow(clippy::disallowed_methods)] // our own executable, to compare
    fn this_process_is_in_the_system_table() {
        let me = std::process::id();
        let st = Procs::System.stat(me).expect("our own stat");
        assert_eq!(st.ppid, nix::unistd::getppid().as_raw() as u32);
        assert!(!Procs::System.argv(me).is_empty());
        assert_eq!(
            exe(me).unwrap().canonicalize().unwrap(),
            std::env::current_exe().unwrap().canonicalize().unwrap()
        );
    }

    #[test]
    fn the_peer_of_a_socket_pair_is_this_process() {
        let (a, _b) = UnixStream::pair().unwrap();
        let p = peer(&a).unwrap();
        assert_eq!(p.uid, nix::unistd::geteuid().as_raw());
        assert_eq!(p.pid, Some(std::process::id()));
    }

    #[test]
    fn the_sleep_gap_is_never_more_than_the_clock() {
        let (now, gap) = (clock::now(), clock::gap());
        assert!(now > std::time::Duration::ZERO);
        assert!(gap <= now);
    }
}
