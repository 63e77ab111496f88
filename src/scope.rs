//! Which item is in effect here: `--item` > a profile bound with `op_aws_item` > session
//! (`OP_AWS_SESSION_ITEM`) > the nearest directory default > global.
//!
//! Directory and global defaults live in the config directory (`defaults.json`), never in the
//! project, so cloning a repository can never switch anyone's credentials.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::dirs::Dirs;
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
    /// The directory's owner when the default was made: a directory recreated at the same path
    /// by someone else does not inherit it (one you re-create yourself, a fresh clone, does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<u32>,
}

/// The owner of `dir`, if it can be read.
pub fn owner_of(dir: &Path) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(dir).ok().map(|m| m.uid())
}

impl DirDefault {
    /// Whether the directory at `path` is still owned by whoever owned it when the default was
    /// made (entries from before owners were kept: by the user).
    fn still_applies(&self, path: &Path) -> bool {
        let made = self
            .owner
            .unwrap_or_else(|| nix::unistd::geteuid().as_raw());
        // A directory that cannot be read is not one we stand in (the walk comes from cwd).
        owner_of(path).is_none_or(|now| now == made)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "scope", content = "path")]
pub enum Scope {
    Flag,
    Profile(String),
    Session,
    Directory(PathBuf),
    Global,
}

impl Scope {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Flag => "flag",
            Self::Profile(_) => "profile",
            Self::Session => "session",
            Self::Directory(_) => "directory",
            Self::Global => "global",
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Directory(p) => write!(f, "directory {}", p.display()),
            Self::Profile(p) => write!(f, "profile {p}"),
            other => f.write_str(other.name()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Applied {
    pub item: String,
    #[serde(flatten)]
    pub scope: Scope,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub export: bool,
}

impl Defaults {
    pub fn load(dirs: &Dirs) -> Result<Self> {
        let path = dirs.defaults_file();
        let Some(bytes) = fsutil::read_optional(&path)? else {
            return Ok(Self::default());
        };
        serde_json::from_slice(&bytes).map_err(|e| Error::BadConfig {
            path,
            why: e.to_string(),
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

    /// Directory defaults that apply at `cwd`, nearest first.
    pub fn directories_for<'a>(&'a self, cwd: &Path) -> Vec<(&'a Path, &'a DirDefault)> {
        cwd.ancestors()
            .filter_map(|a| {
                self.directories
                    .get_key_value(a)
                    .map(|(k, v)| (k.as_path(), v))
            })
            .filter(|(k, v)| v.still_applies(k))
            .collect()
    }
}

/// Makes `item` the default in `dir` (absolute, see [`normalize_dir`]) and below.
pub fn set_directory(dirs: &Dirs, dir: &Path, item: &str, export: bool) -> Result<()> {
    Defaults::update(dirs, |d| {
        d.directories.insert(
            dir.to_owned(),
            DirDefault {
                item: item.to_owned(),
                export,
                owner: owner_of(dir),
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

/// Every default that applies at `cwd`, in precedence order (session, directories nearest
/// first, global). `session` is the value of `OP_AWS_SESSION_ITEM`.
pub fn applicable(defaults: &Defaults, cwd: &Path, session: Option<&str>) -> Vec<Applied> {
    let mut v = Vec::new();
    if let Some(s) = session.filter(|s| !s.is_empty()) {
        v.push(Applied {
            item: s.to_owned(),
            scope: Scope::Session,
            export: false,
        });
    }
    for (dir, d) in defaults.directories_for(cwd) {
        v.push(Applied {
            item: d.item.clone(),
            scope: Scope::Directory(dir.to_owned()),
            export: d.export,
        });
    }
    if let Some(g) = &defaults.global {
        v.push(Applied {
            item: g.clone(),
            scope: Scope::Global,
            export: false,
        });
    }
    v
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
            },
        );
        d.directories.insert(
            "/w/a".into(),
            DirDefault {
                item: "child".into(),
                export: false,
                owner: None,
            },
        );
        let items = |cwd: &str, s: Option<&str>| -> Vec<String> {
            applicable(&d, Path::new(cwd), s)
                .into_iter()
                .map(|a| a.item)
                .collect()
        };
        assert_eq!(items("/w/a/b", None), ["child", "parent", "g"]);
        assert_eq!(items("/w/ab", Some("s")), ["s", "parent", "g"]);
        assert_eq!(items("/elsewhere", None), ["g"]);
    }
}
