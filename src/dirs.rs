//! Where op-aws keeps things. XDG on Linux and macOS alike, each directory overridable by an
//! absolute `OP_AWS_*_DIR` (the overrides also make tests hermetic).

use std::path::PathBuf;

use crate::caller::Caller;
use crate::os::Platform;
use crate::{Error, Result};

#[derive(Debug, Clone)]
pub struct Dirs {
    /// Settings and scope defaults (`config.toml`, `defaults.json`).
    pub config: PathBuf,
    /// The vault (`vault.age`, `identity.age`, `recipient.txt`).
    pub data: PathBuf,
    /// Encrypted temporary STS sessions.
    pub cache: PathBuf,
    /// The agent's socket and lock (`$XDG_RUNTIME_DIR/op-aws`; macOS: `$TMPDIR/op-aws`; else
    /// `<cache>/run`).
    pub runtime: PathBuf,
}

fn absolute_override(c: &Caller, var: &'static str) -> Result<Option<PathBuf>> {
    match c.var_os(var) {
        None => Ok(None),
        Some(v) if v.is_empty() => Ok(None),
        Some(v) => {
            let p = PathBuf::from(v);
            if p.is_absolute() {
                Ok(Some(p))
            } else {
                Err(Error::RelativeDirOverride {
                    var,
                    value: v.to_string_lossy().into_owned(),
                })
            }
        }
    }
}

/// An XDG base directory, ignored unless absolute (as the spec says).
fn xdg(c: &Caller, var: &str) -> Option<PathBuf> {
    c.var_os(var).map(PathBuf::from).filter(|p| p.is_absolute())
}

/// The per-user `$TMPDIR` macOS gives every login (`/var/folders/…/T/`, 0700, cleared at
/// boot): used only when it is absolute, a directory of `uid` and closed to everyone else.
fn private_tmpdir(c: &Caller, uid: u32) -> Option<PathBuf> {
    use std::os::unix::fs::MetadataExt;
    let dir = c.var_os("TMPDIR").map(PathBuf::from)?;
    let m = std::fs::metadata(&dir).ok()?;
    (dir.is_absolute() && m.is_dir() && m.uid() == uid && m.mode() & 0o077 == 0).then_some(dir)
}

/// Where the agent's socket goes without `OP_AWS_RUNTIME_DIR`: `$XDG_RUNTIME_DIR/op-aws`; on
/// macOS (which has no XDG_RUNTIME_DIR) the per-user `$TMPDIR/op-aws`; else `<cache>/run`.
fn default_runtime(c: &Caller, cache: &std::path::Path, platform: Platform) -> PathBuf {
    if let Some(p) = xdg(c, "XDG_RUNTIME_DIR") {
        return p.join("op-aws");
    }
    if platform == Platform::MacOs
        && let Some(t) = private_tmpdir(c, nix::unistd::getuid().as_raw())
    {
        return t.join("op-aws");
    }
    // Cron, containers, ssh without pam_systemd: not a predictable shared path
    // (`/tmp/op-aws-UID`, which another user could create first), but one under the user's
    // own cache directory.
    cache.join("run")
}

impl Dirs {
    pub fn new(c: &Caller) -> Result<Self> {
        let pick = |var: &'static str, xdg_var: &str, fallback: &[&str]| -> Result<PathBuf> {
            if let Some(p) = absolute_override(c, var)? {
                return Ok(p);
            }
            if let Some(p) = xdg(c, xdg_var) {
                return Ok(p.join("op-aws"));
            }
            let mut p = c.home()?;
            p.extend(fallback);
            Ok(p.join("op-aws"))
        };
        let config = pick("OP_AWS_CONFIG_DIR", "XDG_CONFIG_HOME", &[".config"])?;
        let data = pick("OP_AWS_DATA_DIR", "XDG_DATA_HOME", &[".local", "share"])?;
        let cache = pick("OP_AWS_CACHE_DIR", "XDG_CACHE_HOME", &[".cache"])?;
        let runtime = match absolute_override(c, "OP_AWS_RUNTIME_DIR")? {
            Some(p) => p,
            None => default_runtime(c, &cache, Platform::CURRENT),
        };
        Ok(Self {
            config,
            data,
            cache,
            runtime,
        })
    }

    pub fn vault_file(&self) -> PathBuf {
        self.data.join("vault.age")
    }
    pub fn identity_file(&self) -> PathBuf {
        self.data.join("identity.age")
    }
    pub fn recipient_file(&self) -> PathBuf {
        self.data.join("recipient.txt")
    }
    pub fn config_file(&self) -> PathBuf {
        self.config.join("config.toml")
    }
    pub fn defaults_file(&self) -> PathBuf {
        self.config.join("defaults.json")
    }
    pub fn agent_socket(&self) -> PathBuf {
        self.runtime.join("agent.sock")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_xdg_runtime_dir_the_runtime_dir_is_the_users_own() {
        let c = Caller::new(
            [("HOME".to_owned(), "/home/alice".into())],
            "/".into(),
            false,
        );
        let d = Dirs::new(&c).unwrap();
        assert_eq!(d.runtime, PathBuf::from("/home/alice/.cache/op-aws/run"));
        let c = Caller::new(
            [
                ("HOME".to_owned(), "/home/alice".into()),
                ("XDG_RUNTIME_DIR".to_owned(), "/run/user/1000".into()),
            ],
            "/".into(),
            false,
        );
        assert_eq!(
            Dirs::new(&c).unwrap().runtime,
            PathBuf::from("/run/user/1000/op-aws")
        );
    }

    #[test]
    fn on_macos_the_runtime_dir_is_the_private_tmpdir() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let private = tmp.path().join("T");
        std::fs::create_dir(&private).unwrap();
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();
        let cache = PathBuf::from("/home/alice/.cache/op-aws");
        let with = |dir: &std::path::Path| {
            Caller::new([("TMPDIR".to_owned(), dir.into())], "/".into(), false)
        };
        assert_eq!(
            default_runtime(&with(&private), &cache, Platform::MacOs),
            private.join("op-aws")
        );
        // Not on Linux, where TMPDIR is /tmp or the person's choice.
        assert_eq!(
            default_runtime(&with(&private), &cache, Platform::Linux),
            cache.join("run")
        );
        // A TMPDIR others can enter (a shared /tmp) is not a private place.
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o1777)).unwrap();
        assert_eq!(
            default_runtime(&with(&private), &cache, Platform::MacOs),
            cache.join("run")
        );
        assert_eq!(
            default_runtime(&with("relative".as_ref()), &cache, Platform::MacOs),
            cache.join("run")
        );
    }
}
