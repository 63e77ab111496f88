//! The agent's state: what it holds, its clocks, its caches and their bounds.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use zeroize::Zeroizing;

use super::capability::Capability;
use super::hold::{self, Clocks, Next, Phase};
use crate::config::AgentTimes;
use crate::dirs::Dirs;
// A clock that counts suspend, and the time spent suspended.
use crate::vault::{self, Identity};
use crate::{Error, Result};

/// The 1Password cache: entries and bytes.
const MAX_CACHE_ENTRIES: usize = 1024;
const MAX_CACHE_BYTES: usize = 8 * 1024 * 1024;
/// Decrypted STS sessions kept (a few KiB each); past it, all are dropped and read again.
const MAX_SESSIONS: usize = 256;
const MAX_SESSION_BYTES: usize = 16 * 1024;
/// Times are [`clock::now`] readings: they count suspend, so a laptop closed for the night
/// does not come back to an agent that thinks only minutes went by.
pub(super) struct State {
    pub(super) dirs: Dirs,
    /// Shared so an item write can use it outside the state's lock (forgetting drops this
    /// reference; a write under way finishes with its own).
    pub(super) identity: Option<Arc<Identity>>,
    /// The identity's public recipient, worked out once (a scalar multiplication that every
    /// cache lookup would otherwise repeat).
    pub(super) recipient: Option<String>,
    /// The decrypted vault, and the file's identity when it was read (re-read on change).
    pub(super) vault: Option<(FileStamp, vault::VaultData)>,
    pub(super) cache: HashMap<String, Zeroizing<String>>,
    pub(super) cache_bytes: usize,
    /// Cached STS sessions as decrypted, by file (decrypted again only when the file changed):
    /// an X25519 decryption per `aws` command would be most of a cached role's cost.
    pub(super) sessions: HashMap<std::path::PathBuf, (FileStamp, Zeroizing<String>)>,
    pub(super) started: Duration,
    pub(super) unlocked_at: Option<Duration>,
    pub(super) times: AgentTimes,
    pub(super) last_used: Duration,
    pub(super) phase: Phase,
    /// An approval is being asked (one at a time; the others wait for its answer).
    pub(super) checking: bool,
    /// The last approval was refused (and the identity forgotten).
    pub(super) refused: bool,
    /// CLOCK_BOOTTIME − CLOCK_MONOTONIC at the watchdog's last look (grows by each suspend).
    pub(super) gap: Duration,
    pub(super) stop: bool,
    /// What the `op-aws` that started this agent wrote on its stdin (none when stdin was not
    /// a pipe): the proof an identity-bearing unlock must carry while none is held.
    pub(super) nonce: Option<Zeroizing<String>>,
    /// The environment the agent was started with: the person's, who unlocked. Approvals
    /// are asked in it, never in the asking process's.
    pub(super) person: Option<crate::caller::Caller>,
    /// The open sandboxes' capabilities, by name.
    pub(super) sandboxes: HashMap<String, Arc<Capability>>,
}

impl State {
    pub(super) fn clocks(&self, now: Duration, slept: Duration) -> Clocks {
        Clocks {
            now,
            started: self.started,
            unlocked_at: self.unlocked_at,
            last_used: self.last_used,
            slept,
        }
    }

    /// Time until the next step (holding, or forgetting).
    pub(super) fn expires_in(&self, now: Duration) -> Duration {
        match hold::next(self.phase, &self.times, &self.clocks(now, Duration::ZERO)) {
            Next::Wait(d) => d,
            Next::Hold | Next::Forget => Duration::ZERO,
        }
    }

    /// Time until the identity is forgotten, held or not.
    pub(super) fn forgets_in(&self, now: Duration) -> Duration {
        let mut c = self.clocks(now, Duration::ZERO);
        c.last_used = now;
        match hold::next(Phase::Held, &self.times, &c) {
            Next::Wait(d) => d,
            Next::Hold | Next::Forget => Duration::ZERO,
        }
    }

    /// Forgets every secret; the sandboxes' capabilities close with them (their sessions
    /// were the vault's).
    pub(super) fn forget(&mut self) {
        for (_, cap) in self.sandboxes.drain() {
            cap.close();
        }
        self.identity = None;
        self.recipient = None;
        self.vault = None;
        self.cache.clear();
        self.cache_bytes = 0;
        self.sessions.clear();
        self.phase = Phase::Unlocked;
    }

    /// Quick unlock: keep the identity alone (the decrypted vault, sessions and 1Password's
    /// reads go) and answer nothing that needs it until a person approves.
    pub(super) fn hold(&mut self) {
        self.vault = None;
        self.cache.clear();
        self.cache_bytes = 0;
        self.sessions.clear();
        self.phase = Phase::Held;
        lock_in_memory();
    }

    /// Cached session `key` of `dir`, decrypted; from memory while its file is unchanged.
    pub(super) fn session(&mut self, dir: &Path, key: &str) -> Result<Option<Zeroizing<String>>> {
        let id = self.identity.as_ref().ok_or(Error::Locked)?;
        let path = crate::sts::cache::session_file(dir, key)
            .ok_or_else(|| Error::Invalid("not a cached session".into()))?;
        // Stamped before reading: a file replaced meanwhile only makes the next one read it.
        let stamp = FileStamp::of(&path);
        if stamp.0.is_some()
            && let Some((s, plain)) = self.sessions.get(&path)
            && *s == stamp
        {
            return Ok(Some(plain.clone()));
        }
        let plain = crate::sts::cache::decrypt_session(id, &path)?;
        match &plain {
            // A session is a few hundred bytes; anything bigger is answered, never kept.
            Some(p) if p.len() <= MAX_SESSION_BYTES => {
                if self.sessions.len() >= MAX_SESSIONS {
                    self.sessions.clear();
                }
                self.sessions.insert(path, (stamp, p.clone()));
            }
            _ => {
                self.sessions.remove(&path);
            }
        }
        Ok(plain)
    }

    /// The vault as it is on disk now (decrypted again only when the file changed).
    pub(super) fn vault(&mut self) -> Result<&vault::VaultData> {
        let id = self.identity.as_ref().ok_or(Error::Locked)?;
        let stamp = FileStamp::of(&self.dirs.vault_file());
        if self.vault.as_ref().is_none_or(|(s, _)| *s != stamp) {
            let data = vault::load(&self.dirs, id)?;
            self.vault = Some((stamp, data));
        }
        Ok(&self.vault.as_ref().expect("just loaded").1)
    }
    /// Keeps `value` unless that would pass the caps (an over-full cache only means more `op`
    /// calls, never a failure).
    pub(super) fn cache_put(&mut self, key: String, value: Zeroizing<String>) {
        let size = key.len() + value.len();
        if let Some(old) = self.cache.remove(&key) {
            self.cache_bytes -= key.len() + old.len();
        }
        if self.cache.len() >= MAX_CACHE_ENTRIES || self.cache_bytes + size > MAX_CACHE_BYTES {
            return;
        }
        self.cache_bytes += size;
        self.cache.insert(key, value);
    }
}

/// Which version of a file this is: size, mtime and inode (an atomic rename changes the inode).
#[derive(PartialEq, Eq, Clone, Copy)]
pub(super) struct FileStamp(Option<(u64, i64, i64, u64)>);

impl FileStamp {
    pub(super) fn of(path: &Path) -> Self {
        use std::os::unix::fs::MetadataExt;
        Self(
            std::fs::metadata(path)
                .ok()
                .map(|m| (m.len(), m.mtime(), m.mtime_nsec(), m.ino())),
        )
    }
}

/// Keeps the agent's pages (the held identity among them) out of swap, where the system allows
/// it (RLIMIT_MEMLOCK); failing that, it stays as it was: non-dumpable, no core.
fn lock_in_memory() {
    #[cfg(target_os = "linux")]
    {
        use nix::sys::mman::{MlockAllFlags, mlockall};
        // MCL_ONFAULT (Linux 4.4): lock what is mapped as it is touched, not every page of every
        // thread's stack at once (nix names no flag for it).
        let flags = MlockAllFlags::from_bits_retain(
            MlockAllFlags::MCL_CURRENT.bits() | nix::libc::MCL_ONFAULT,
        );
        let _ = mlockall(flags);
    }
}
