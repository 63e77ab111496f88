//! The cache of temporary credentials, shared by every terminal and never in plaintext.
//!
//! With the local vault, each entry is two files in the cache directory: `sts-KEY.age` (the
//! credentials, age-encrypted to the vault's recipient, so writing needs no unlock and reading
//! needs the unlocked identity) and `sts-KEY.json` (profile, role, expiry: no secret, so
//! `cache list` needs no unlock). Without a local vault (1Password users) the credentials live
//! in the agent's memory instead and only the metadata file is written.
//!
//! `sts-KEY.json.lock` serialises the STS calls for one key, so ten parallel commands make one.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::creds::Credentials;
use crate::ctx::Ctx;
use crate::sts::client;
use crate::{Result, fsutil, vault};

/// Entries are used until this long before they expire, so a command never starts with
/// credentials about to die under it.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);
const AGENT_PREFIX: &str = "sts:";

/// What `cache list` shows: never a secret. `expiration`, `created`, `lifetime` and `store` are
/// filled in by [`Cache::put`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Meta {
    pub key: String,
    /// "role" (AssumeRole) or "mfa-session" (GetSessionToken).
    pub kind: String,
    pub profile: String,
    pub role_arn: Option<String>,
    pub item: String,
    pub mfa_serial: Option<String>,
    /// The role session's name (CloudTrail's), for roles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_name: Option<String>,
    /// The session policy, described ([`crate::model::policy::SessionPolicy::describe`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// The agent the session was made for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// Seconds since the epoch.
    pub expiration: u64,
    pub created: u64,
    /// Seconds the session was issued for (0 in entries written before this was kept).
    #[serde(default)]
    pub lifetime: u64,
    /// "file" (encrypted beside this) or "agent" (in its memory).
    pub store: String,
}

#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
struct Stored {
    access_key_id: String,
    secret_access_key: String,
    session_token: String,
    expiration: u64,
}

enum Backend {
    Files,
    Agent,
}

pub struct Cache<'a> {
    ctx: &'a Ctx,
    backend: Backend,
}

/// The file of cached session `key` in `dir`; None when `key` is not one (a request naming
/// another file).
pub fn session_file(dir: &std::path::Path, key: &str) -> Option<PathBuf> {
    (key.len() == 32 && key.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| dir.join(format!("sts-{key}.age")))
}

/// In the agent: the session blob at `path` (a [`session_file`]), decrypted, if it is one.
/// Anything that does not decrypt to exactly a session (the vault, another file) is refused.
pub fn decrypt_session(
    id: &vault::Identity,
    path: &std::path::Path,
) -> crate::Result<Option<Zeroizing<String>>> {
    let bad = || crate::Error::Invalid("not a cached session".into());
    let Some(ct) = fsutil::read_optional(path)? else {
        return Ok(None);
    };
    let Ok(plain) = id.decrypt(&ct) else {
        return Err(bad());
    };
    let stored: Stored = serde_json::from_slice(&plain).map_err(|_| bad())?;
    serde_json::to_string(&stored)
        .map(|s| Some(Zeroizing::new(s)))
        .map_err(|_| bad())
}

pub use crate::item::now_secs;

fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Still good to hand out at `now`: more than the refresh margin left, the margin being 5
/// minutes, or a quarter of the session's `lifetime` as issued when that is shorter (a
/// 15-minute session is refreshed with 3:45 left, not after 10 minutes; 0: unknown).
pub fn is_fresh(lifetime: u64, expiration: u64, now: u64) -> bool {
    let margin = match lifetime {
        0 => REFRESH_MARGIN.as_secs(),
        life => REFRESH_MARGIN.as_secs().min(life / 4),
    };
    expiration > now + margin
}

fn meta_path(ctx: &Ctx, key: &str) -> PathBuf {
    ctx.dirs.cache.join(format!("sts-{key}.json"))
}

fn blob_path(ctx: &Ctx, key: &str) -> PathBuf {
    ctx.dirs.cache.join(format!("sts-{key}.age"))
}

impl<'a> Cache<'a> {
    pub fn open(ctx: &'a Ctx) -> Result<Self> {
        let backend = if vault::exists(&ctx.dirs) {
            Backend::Files
        } else {
            Backend::Agent
        };
        Ok(Self { ctx, backend })
    }

    /// What a new session is encrypted to: `recipient.txt` once checked against the identity
    /// the agent holds ([`vault::checked_recipient`]); None when no agent holds one (the
    /// session is then kept in the agent's memory). Checked before each write — a read is
    /// decrypted by the agent with its own identity, whatever the file says.
    fn recipient(&self) -> Result<Option<age::x25519::Recipient>> {
        let held = self.ctx.agent.recipient().ok().flatten();
        vault::checked_recipient(&self.ctx.dirs, held.as_deref())
    }

    /// Serialises the STS calls for `key` across processes (released on drop).
    /// The fresh entry for `key`, else `make`'s, made under the entry's lock (so that N
    /// processes that find it missing make it once).
    pub fn fresh_or(
        &self,
        key: &str,
        make: impl FnOnce() -> Result<(Credentials, Meta)>,
    ) -> Result<Credentials> {
        if let Some(c) = self.get_fresh(key) {
            return Ok(c);
        }
        let _lock = self.lock(key)?;
        if let Some(c) = self.get_fresh(key) {
            return Ok(c);
        }
        let (creds, meta) = make()?;
        self.put(meta, &creds)?;
        Ok(creds)
    }

    pub fn lock(&self, key: &str) -> Result<fsutil::LockGuard> {
        fsutil::ensure_private_dir(&self.ctx.dirs.cache)?;
        fsutil::lock_exclusive(&meta_path(self.ctx, key))
    }

    /// One call's turn at STS for `key`: the lock, taken by `deadline`, unless the call that
    /// held it while this one waited could not reach STS — then that outcome, shared (a silent
    /// STS must cost every waiter one timeout, not one each in turn).
    pub fn turn(&self, key: &str, deadline: std::time::Instant) -> Result<Turn> {
        let asked = SystemTime::now();
        fsutil::ensure_private_dir(&self.ctx.dirs.cache)?;
        let Some(lock) = fsutil::lock_exclusive_until(&meta_path(self.ctx, key), deadline)? else {
            return Err(crate::Error::Sts(
                "STS did not answer in time (another command has been waiting for the same session)"
                    .into(),
            ));
        };
        if let Some(c) = self.get_fresh(key) {
            return Ok(Turn::Cached(c));
        }
        let failed = fsutil::read_optional(&unreachable_path(self.ctx, key))
            .ok()
            .flatten()
            .and_then(|b| serde_json::from_slice::<Unreachable>(&b).ok())
            .filter(|u| u.at_ms >= millis(asked));
        if let Some(u) = failed {
            return Err(crate::Error::StsUnreachable {
                op: client::op_name(&u.op),
                endpoint: u.endpoint,
                why: format!("{} (asked once for every command waiting on it)", u.why),
            });
        }
        Ok(Turn::Mine(lock))
    }

    /// After a turn: an unreachable STS written down for the waiters ([`Cache::turn`]),
    /// anything else forgotten.
    pub fn settle<T>(&self, key: &str, result: &Result<T>) {
        let path = unreachable_path(self.ctx, key);
        match result {
            Err(crate::Error::StsUnreachable { op, endpoint, why }) => {
                let u = Unreachable {
                    op: (*op).to_owned(),
                    endpoint: endpoint.clone(),
                    why: why.clone(),
                    at_ms: millis(SystemTime::now()),
                };
                if let Ok(json) = serde_json::to_vec(&u) {
                    let _ = fsutil::write_atomic(&path, &json, 0o600);
                }
            }
            _ => {
                let _ = std::fs::remove_file(path);
            }
        }
    }

    /// The credentials for `key` if they have more than the margin left. An unreadable entry
    /// (locked vault, damaged file, agent gone) is a miss, never an error: STS is the fallback.
    pub fn get_fresh(&self, key: &str) -> Option<Credentials> {
        let now = now_secs();
        // The plaintext expiry first: a stale entry costs no decryption.
        let meta = read_meta(&meta_path(self.ctx, key))?;
        if !is_fresh(meta.lifetime, meta.expiration, now) {
            return None;
        }
        let stored: Stored = match (&self.backend, meta.store.as_str()) {
            (Backend::Files, "file") => {
                // The agent decrypts it: the identity never leaves it.
                let v = self.ctx.agent.session(&self.ctx.dirs.cache, key).ok()??;
                serde_json::from_str(&v).ok()?
            }
            _ => {
                let v = self
                    .ctx
                    .agent
                    .cache_get(&format!("{AGENT_PREFIX}{key}"))
                    .ok()??;
                serde_json::from_str(&v).ok()?
            }
        };
        if !is_fresh(meta.lifetime, stored.expiration, now) {
            return None;
        }
        Some(Credentials {
            access_key_id: stored.access_key_id.clone(),
            secret_access_key: SecretString::from(stored.secret_access_key.as_str()),
            session_token: Some(SecretString::from(stored.session_token.as_str())),
            expiration: Some(UNIX_EPOCH + Duration::from_secs(stored.expiration)),
        })
    }

    /// Stores temporary credentials (long-lived ones are refused: they are never cached).
    pub fn put(&self, mut meta: Meta, creds: &Credentials) -> Result<()> {
        let (Some(token), Some(exp)) = (&creds.session_token, creds.expiration) else {
            return Ok(());
        };
        fsutil::ensure_private_dir(&self.ctx.dirs.cache)?;
        let stored = Stored {
            access_key_id: creds.access_key_id.clone(),
            secret_access_key: creds.secret_access_key.expose_secret().to_owned(),
            session_token: token.expose_secret().to_owned(),
            expiration: secs(exp),
        };
        let json = Zeroizing::new(
            serde_json::to_string(&stored).map_err(|e| crate::Error::Invalid(e.to_string()))?,
        );
        meta.expiration = stored.expiration;
        meta.created = now_secs();
        meta.lifetime = meta.expiration.saturating_sub(meta.created);
        let recipient = match &self.backend {
            Backend::Files => self.recipient()?,
            Backend::Agent => None,
        };
        match recipient {
            Some(recipient) => {
                meta.store = "file".into();
                let ct = vault::encrypt(&recipient, json.as_bytes())?;
                // The secret first: metadata without a blob is a miss, never a wrong answer.
                fsutil::write_atomic(&blob_path(self.ctx, &meta.key), &ct, 0o600)?;
            }
            // No vault, or a vault no agent holds the identity of (1Password items beside a
            // locked vault): nothing to check a recipient against, so no file.
            None => {
                meta.store = "agent".into();
                // A blob from when the identity was held would only be stale beside it.
                let _ = std::fs::remove_file(blob_path(self.ctx, &meta.key));
                self.ctx
                    .agent
                    .cache_put(&format!("{AGENT_PREFIX}{}", meta.key), json)?;
            }
        }
        let m =
            serde_json::to_vec_pretty(&meta).map_err(|e| crate::Error::Invalid(e.to_string()))?;
        fsutil::write_atomic(&meta_path(self.ctx, &meta.key), &m, 0o600)
    }

    /// Forgets one entry (e.g. a session STS has just refused).
    pub fn remove(&self, key: &str) {
        remove_entry(self.ctx, key);
    }
}

/// What [`Cache::turn`] gives a call.
pub enum Turn {
    /// Another call made the session while this one waited.
    Cached(Credentials),
    /// This call makes it, holding the lock.
    Mine(fsutil::LockGuard),
}

/// An STS call that could not reach STS (no secret: what, where, why, when).
#[derive(Serialize, Deserialize)]
struct Unreachable {
    op: String,
    endpoint: String,
    why: String,
    at_ms: u128,
}

fn unreachable_path(ctx: &Ctx, key: &str) -> PathBuf {
    ctx.dirs.cache.join(format!("sts-{key}.unreachable"))
}

fn millis(t: SystemTime) -> u128 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis())
}

fn read_meta(path: &std::path::Path) -> Option<Meta> {
    let bytes = fsutil::read_optional(path).ok()??;
    serde_json::from_slice(&bytes).ok()
}

/// Cached sessions whose file no longer decrypts to a session with the vault's identity (a
/// damaged file, or one encrypted to another key): removed, and their keys returned, for
/// `doctor` to report. They were never used: a blob that does not decrypt is a miss.
pub fn drop_unreadable(ctx: &Ctx) -> Result<Vec<Meta>> {
    let mut bad = Vec::new();
    for m in list(ctx)?.into_iter().filter(|m| m.store == "file") {
        match ctx.agent.session(&ctx.dirs.cache, &m.key) {
            Ok(Some(_)) | Ok(None) => {}
            Err(crate::Error::Locked) => {}
            Err(_) => {
                let _lock = fsutil::lock_exclusive(&meta_path(ctx, &m.key))?;
                remove_entry(ctx, &m.key);
                bad.push(m);
            }
        }
    }
    Ok(bad)
}

fn remove_entry(ctx: &Ctx, key: &str) {
    let _ = std::fs::remove_file(blob_path(ctx, key));
    let _ = std::fs::remove_file(meta_path(ctx, key));
    // The agent has no delete: an empty value reads back as a miss.
    let _ = ctx.agent.cache_put(
        &format!("{AGENT_PREFIX}{key}"),
        Zeroizing::new(String::new()),
    );
}

/// Every cached session's metadata, soonest expiry first.
pub fn list(ctx: &Ctx) -> Result<Vec<Meta>> {
    let rd = match std::fs::read_dir(&ctx.dirs.cache) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(crate::Error::io(&ctx.dirs.cache, e)),
    };
    let mut out: Vec<Meta> = rd
        .filter_map(|e| e.ok())
        .filter(|e| {
            let n = e.file_name();
            let n = n.to_string_lossy();
            n.starts_with("sts-") && n.ends_with(".json")
        })
        .filter_map(|e| read_meta(&e.path()))
        .collect();
    out.sort_by(|a, b| {
        a.expiration
            .cmp(&b.expiration)
            .then_with(|| a.profile.cmp(&b.profile))
    });
    Ok(out)
}

/// Removes the sessions issued to agent `agent` (a sandbox being stopped); returns them.
pub fn forget_agent(ctx: &Ctx, agent: &str) -> Vec<Meta> {
    let mut gone = Vec::new();
    for m in list(ctx).unwrap_or_default() {
        if m.agent.as_deref() != Some(agent) {
            continue;
        }
        let _lock = fsutil::lock_exclusive(&meta_path(ctx, &m.key));
        remove_entry(ctx, &m.key);
        gone.push(m);
    }
    gone
}

/// Removes the entries for `profile` (all when None); returns how many went.
pub fn clear(ctx: &Ctx, profile: Option<&str>) -> Result<usize> {
    let entries = list(ctx)?;
    let mut n = 0;
    for m in entries
        .iter()
        .filter(|m| profile.is_none_or(|p| m.profile == p))
    {
        let _lock = fsutil::lock_exclusive(&meta_path(ctx, &m.key))?;
        remove_entry(ctx, &m.key);
        n += 1;
    }
    // Leftover encrypted blobs without metadata (a crash between the two writes). Lock files
    // stay: another process may hold one, and they hold nothing.
    if profile.is_none()
        && let Ok(rd) = std::fs::read_dir(&ctx.dirs.cache)
    {
        for e in rd.filter_map(|e| e.ok()) {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with("sts-") && name.ends_with(".age") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freshness_keeps_a_five_minute_margin() {
        assert!(is_fresh(0, 1000 + 301, 1000));
        assert!(!is_fresh(0, 1000 + 300, 1000));
        assert!(!is_fresh(0, 900, 1000));
        // A 2-minute session: refreshed with 30 s left.
        assert!(is_fresh(120, 1120, 1089));
        assert!(!is_fresh(120, 1120, 1090));
        // An hour-long one: the 5 minutes.
        assert!(!is_fresh(3600, 4600, 4300));
    }
}
