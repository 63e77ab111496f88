//! The defaults op-aws stores (directory, global) and where each applies; the precedence over
//! them is the resolver's (`resolve.rs`).
//!
//! Directory and global defaults live in the config directory (`defaults.json`), never in the
//! project, so cloning a repository can never switch anyone's credentials.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::dirs::Dirs;
use crate::memo::Memo;
use crate::model::scope::{Applied, Ignored, Scope};
use crate::{Error, Result, fsutil};

pub use crate::caller::SESSION_VAR;

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global: Option<String>,
    #[serde(default)]
    pub directories: BTreeMap<PathBuf, DirDefault>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DirDefault {
    pub item: String,
    /// Export the keys into the shell on entering the directory (opt-in).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub export: bool,
    /// The directory's owner when the default was made, and its identity (device, inode): a
    /// directory someone recreates at the same path does not inherit the default, `--export`
    /// included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ino: Option<u64>,
}

/// The identity a directory default is tied to: owner, device, inode.
fn identity_of(dir: &Path) -> Option<(u32, u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(dir)
        .ok()
        .map(|m| (m.uid(), m.dev(), m.ino()))
}

impl DirDefault {
    /// Whether the directory at `path` is still the one the default was made for, and the
    /// user's. Entries from before identities were kept are checked for the owner only.
    fn check(&self, path: &Path) -> Result<(), Ignored> {
        let me = nix::unistd::geteuid().as_raw();
        // A directory that cannot be read is not one we stand in (the walk comes from cwd).
        let Some((owner, dev, ino)) = identity_of(path) else {
            return Ok(());
        };
        if owner != me || self.owner.is_some_and(|o| o != owner) {
            return Err(Ignored::NotYours);
        }
        if self.dev.is_some_and(|d| d != dev) || self.ino.is_some_and(|i| i != ino) {
            return Err(Ignored::Replaced);
        }
        Ok(())
    }
}

impl Defaults {
    pub fn load(dirs: &Dirs) -> Result<Self> {
        static PARSED: Memo<Defaults> = Memo::new();
        let path = dirs.defaults_file();
        PARSED.get(&[&path], || {
            let Some(bytes) = fsutil::read_optional(&path)? else {
                return Ok(Self::default());
            };
            serde_json::from_slice(&bytes).map_err(|e| Error::BadConfig {
                path: path.clone(),
                why: e.to_string(),
            })
        })
    }

    /// Changes the defaults under the lock; nothing is written when `change` fails.
    pub fn update<T>(dirs: &Dirs, change: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        fsutil::ensure_private_dir(&dirs.config)?;
        let path = dirs.defaults_file();
        let _lock = fsutil::lock_exclusive(&path)?;
        let mut d = Self::load(dirs)?;
        let out = change(&mut d)?;
        let mut json = serde_json::to_vec_pretty(&d).map_err(|e| Error::Invalid(e.to_string()))?;
        json.push(b'\n');
        fsutil::write_atomic(&path, &json, 0o600)?;
        Ok(out)
    }

    /// Directory defaults stored for `cwd` or above, nearest first, each checked once: `Ok`
    /// when it applies, else why not.
    pub fn directories_for<'a>(
        &'a self,
        cwd: &Path,
    ) -> Vec<(&'a Path, &'a DirDefault, std::result::Result<(), Ignored>)> {
        cwd.ancestors()
            .filter_map(|a| {
                let (k, v) = self.directories.get_key_value(a)?;
                Some((k.as_path(), v, v.check(k)))
            })
            .collect()
    }
}

/// Makes `item` the default in `dir` (absolute, see [`normalize_dir`]) and below.
pub fn set_directory(dirs: &Dirs, dir: &Path, item: &str, export: bool) -> Result<()> {
    let (owner, dev, ino) =
        identity_of(dir).ok_or_else(|| Error::Invalid(format!("cannot read {}", dir.display())))?;
    let me = nix::unistd::geteuid().as_raw();
    if owner != me {
        return Err(Error::Invalid(format!(
            "{} belongs to uid {owner}, not you: a directory default applies only in a directory of your own (use --global or this terminal's session instead)",
            dir.display()
        )));
    }
    Defaults::update(dirs, |d| {
        d.directories.insert(
            dir.to_owned(),
            DirDefault {
                item: item.to_owned(),
                export,
                owner: Some(owner),
                dev: Some(dev),
                ino: Some(ino),
            },
        );
        Ok(())
    })
}

/// Makes `item` the default everywhere.
pub fn set_global(dirs: &Dirs, item: &str) -> Result<()> {
    Defaults::update(dirs, |d| {
        d.global = Some(item.to_owned());
        Ok(())
    })
}

/// Removes the stored defaults among `scopes` (directory, global); session and flag scopes live
/// in the shell or the command line, so they are the caller's business.
pub fn remove_stored(dirs: &Dirs, scopes: &[Scope]) -> Result<()> {
    if !scopes
        .iter()
        .any(|s| matches!(s, Scope::Directory(_) | Scope::Global))
    {
        return Ok(());
    }
    Defaults::update(dirs, |d| {
        for s in scopes {
            match s {
                Scope::Directory(p) => {
                    d.directories.remove(p);
                }
                Scope::Global => d.global = None,
                _ => {}
            }
        }
        Ok(())
    })
}

/// What the stored defaults and the session say at `cwd`.
pub struct Here {
    /// Every default that applies, in precedence order (session, directories nearest first,
    /// global).
    pub applicable: Vec<Applied>,
    /// Directory defaults stored for `cwd` or above that do not apply (directory, item, why).
    pub ignored: Vec<(PathBuf, String, Ignored)>,
}

/// [`Here`] at `cwd`; `session` is the value of `OP_AWS_SESSION_ITEM`, `project` a trusted
/// project file's directory and default item.
pub fn applicable(
    defaults: &Defaults,
    cwd: &Path,
    session: Option<&str>,
    project: Option<(&Path, &str)>,
) -> Here {
    let mut applicable = Vec::new();
    let mut ignored = Vec::new();
    if let Some(s) = session.filter(|s| !s.is_empty()) {
        applicable.push(Applied {
            item: s.to_owned(),
            scope: Scope::Session,
            export: false,
        });
    }
    for (dir, d, check) in defaults.directories_for(cwd) {
        match check {
            Ok(()) => applicable.push(Applied {
                item: d.item.clone(),
                scope: Scope::Directory(dir.to_owned()),
                export: d.export,
            }),
            Err(why) => ignored.push((dir.to_owned(), d.item.clone(), why)),
        }
    }
    if let Some((dir, item)) = project {
        applicable.push(Applied {
            item: item.to_owned(),
            scope: Scope::Project(dir.to_owned()),
            export: false,
        });
    }
    if let Some(g) = &defaults.global {
        applicable.push(Applied {
            item: g.clone(),
            scope: Scope::Global,
            export: false,
        });
    }
    Here {
        applicable,
        ignored,
    }
}

/// The directory as stored: absolute (relative to the caller's `cwd`), symlinks resolved, so
/// `cd` through a link still matches.
pub fn normalize_dir(dir: &Path, cwd: &Path) -> Result<PathBuf> {
    let abs = cwd.join(dir);
    let canon = abs.canonicalize().map_err(|e| Error::io(&abs, e))?;
    if !canon.is_dir() {
        return Err(Error::Invalid(format!(
            "{} is not a directory",
            canon.display()
        )));
    }
    Ok(canon)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_and_nearest_directory() {
        let mut d = Defaults {
            global: Some("g".into()),
            ..Defaults::default()
        };
        d.directories.insert(
            "/w".into(),
            DirDefault {
                item: "parent".into(),
                export: false,
                owner: None,
                dev: None,
                ino: None,
            },
        );
        d.directories.insert(
            "/w/a".into(),
            DirDefault {
                item: "child".into(),
                export: false,
                owner: None,
                dev: None,
                ino: None,
            },
        );
        let items = |cwd: &str, s: Option<&str>| -> Vec<String> {
            applicable(&d, Path::new(cwd), s, Some((Path::new("/w"), "proj")))
                .applicable
                .into_iter()
                .map(|a| a.item)
                .collect()
        };
        assert_eq!(items("/w/a/b", None), ["child", "parent", "proj", "g"]);
        assert_eq!(items("/w/ab", Some("s")), ["s", "parent", "proj", "g"]);
    }
}
