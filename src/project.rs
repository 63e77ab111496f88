//! A repository's committed `.op-aws.toml`: the default item for its directory and below, the
//! item that signs each profile, and op-aws-only role profiles. It can name items and roles,
//! nothing else (no endpoint, no command: unknown keys are errors naming the line), and it is
//! used only once the user trusts it (`op-aws trust`): trust is kept centrally, in
//! `trusted.json`, against the file's path and the SHA-256 of its content, so cloning a
//! repository never switches anyone's credentials and a changed file is untrusted again.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::dirs::Dirs;
use crate::model::project::{FILE_NAME, Found, PROFILE_KEYS, Project, Trust};
use crate::{Error, Result, fsutil};

/// A project file is a few lines; anything bigger is not one.
const MAX_SIZE: u64 = 64 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    item: Option<String>,
    /// What agents may have here: only ever stricter than the person's own setting.
    agents: Option<crate::config::AgentPolicy>,
    #[serde(default)]
    profiles: BTreeMap<String, RawProfile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    role_arn: Option<String>,
    source_profile: Option<String>,
    mfa_serial: Option<String>,
    duration_seconds: Option<u32>,
    region: Option<String>,
    external_id: Option<String>,
    role_session_name: Option<String>,
    item: Option<String>,
}

/// Why the project file at `path` may not be the user's own: it belongs to another user, or
/// its directory can be written by others (a shared parent like /tmp or /srv, where anyone can
/// put one). `None`: the user's file in a directory only the owner writes.
pub fn foreign(path: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let me = nix::unistd::geteuid().as_raw();
    let owner = |uid: u32| match nix::unistd::User::from_uid(uid.into()) {
        Ok(Some(u)) => format!("{} (uid {uid})", crate::error::printable(&u.name)),
        _ => format!("uid {uid}"),
    };
    let file = std::fs::symlink_metadata(path).ok()?;
    if file.uid() != me {
        return Some(format!("it belongs to {}", owner(file.uid())));
    }
    let dir = path.parent()?;
    let md = std::fs::metadata(dir).ok()?;
    // Group-writable counts only when the group is not the user's own (user private groups
    // and a umask of 002 make every directory group-writable).
    let others_write = md.mode() & 0o002 != 0
        || (md.mode() & 0o020 != 0 && md.gid() != nix::unistd::getegid().as_raw());
    if others_write {
        return Some(format!(
            "{} can be written by other users (it belongs to {})",
            crate::error::printable(&dir.display().to_string()),
            owner(md.uid())
        ));
    }
    None
}

/// The nearest project file at or above `cwd`, and whether it is trusted. Cheap when there is
/// none (one `stat` per ancestor): the cd hook calls it.
pub fn find(dirs: &Dirs, cwd: &Path) -> Result<Option<Found>> {
    let Some(path) = cwd
        .ancestors()
        .map(|a| a.join(FILE_NAME))
        .find(|p| p.symlink_metadata().is_ok())
    else {
        return Ok(None);
    };
    let dir = path
        .parent()
        .unwrap_or(Path::new("/"))
        .canonicalize()
        .map_err(|e| Error::io(&path, e))?;
    let path = dir.join(FILE_NAME);
    let unusable = |e: Error| Trust::Unusable(crate::error::one_line(&e.to_string()));
    let (hash, trust) = match read(&path) {
        Err(e) => (String::new(), unusable(e)),
        Ok(bytes) => {
            let hash = crate::digest::hex(&Sha256::digest(&bytes));
            let trust = match Trusted::load(dirs)?.files.get(&path) {
                Some(h) if *h == hash => parse(&bytes, &path).map_or_else(unusable, Trust::Trusted),
                Some(_) => Trust::Changed,
                None => Trust::Untrusted,
            };
            (hash, trust)
        }
    };
    let foreign = match trust {
        Trust::Untrusted | Trust::Changed => foreign(&path),
        _ => None,
    };
    Ok(Some(Found {
        dir,
        path,
        hash,
        trust,
        foreign,
    }))
}

/// The project file in `dir` itself (for `trust`/`untrust`), parsed and checked.
pub fn in_dir(dir: &Path) -> Result<(PathBuf, String, Project)> {
    let dir = dir.canonicalize().map_err(|e| Error::io(dir, e))?;
    let path = dir.join(FILE_NAME);
    let bytes = read(&path)?;
    let project = parse(&bytes, &path)?;
    Ok((path, crate::digest::hex(&Sha256::digest(&bytes)), project))
}

/// Trusts the file at `path` with content `hash`.
pub fn trust(dirs: &Dirs, path: &Path, hash: &str) -> Result<()> {
    Trusted::update(dirs, |t| {
        t.files.insert(path.to_owned(), hash.to_owned());
    })
}

/// Forgets the trust of the file at `path`; false when it was not trusted.
pub fn untrust(dirs: &Dirs, path: &Path) -> Result<bool> {
    let mut was = false;
    Trusted::update(dirs, |t| was = t.files.remove(path).is_some())?;
    Ok(was)
}

/// A regular file of at most [`MAX_SIZE`], read without following a symlink at the last step
/// and without blocking on a FIFO someone put there.
fn read(path: &Path) -> Result<Vec<u8>> {
    use std::os::unix::fs::OpenOptionsExt;
    let bad = |why: &str| Error::BadConfig {
        path: path.to_owned(),
        why: why.to_owned(),
    };
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(nix::libc::ELOOP) => {
                bad("is a symbolic link; a project file must be a regular file")
            }
            _ => Error::io(path, e),
        })?;
    let meta = f.metadata().map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        return Err(bad("is not a regular file"));
    }
    if meta.len() > MAX_SIZE {
        return Err(bad("is larger than 64 KiB; a project file is a few lines"));
    }
    let mut bytes = Vec::new();
    f.take(MAX_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    Ok(bytes)
}

pub(crate) fn parse(bytes: &[u8], path: &Path) -> Result<Project> {
    let bad = |why: String| Error::BadConfig {
        path: path.to_owned(),
        why,
    };
    let text = std::str::from_utf8(bytes).map_err(|_| bad("not UTF-8 text".into()))?;
    let raw: Raw =
        toml::from_str(text).map_err(|e| bad(crate::config::toml_message(&e.to_string())))?;
    let item = raw
        .item
        .map(|i| check_value("item", i))
        .transpose()
        .map_err(bad)?;
    let mut profiles = BTreeMap::new();
    for (name, p) in raw.profiles {
        if name.trim().is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad(format!(
                "profile name {:?} is empty or has spaces or control characters",
                crate::error::printable(&name)
            )));
        }
        let in_profile = |why: String| bad(format!("[profiles.{name}]: {why}"));
        let values = [
            ("role_arn", p.role_arn),
            ("source_profile", p.source_profile),
            ("mfa_serial", p.mfa_serial),
            (
                "duration_seconds",
                p.duration_seconds.map(|d| d.to_string()),
            ),
            ("region", p.region),
            ("external_id", p.external_id),
            ("role_session_name", p.role_session_name),
            ("item", p.item),
        ];
        let mut keys = BTreeMap::new();
        for (key, value) in values {
            let Some(v) = value else { continue };
            let v = check_value(key, v).map_err(in_profile)?;
            let aws_key = PROFILE_KEYS
                .iter()
                .find(|(k, _)| *k == key)
                .map_or(key, |(_, a)| a);
            keys.insert(aws_key, v);
        }
        if let Some(arn) = keys.get("role_arn")
            && !arn.starts_with("arn:")
        {
            return Err(in_profile(format!("role_arn {arn:?} is not an ARN")));
        }
        if let Some(d) = keys.get("duration_seconds")
            && !(900..=43_200).contains(&d.parse::<u32>().unwrap_or(0))
        {
            return Err(in_profile(format!(
                "duration_seconds {d} is outside 900..43200"
            )));
        }
        if keys.is_empty() {
            return Err(in_profile("sets nothing".into()));
        }
        profiles.insert(name, keys);
    }
    Ok(Project {
        item,
        agents: raw.agents,
        profiles,
    })
}

fn check_value(key: &str, v: String) -> std::result::Result<String, String> {
    let t = v.trim();
    if t.is_empty() {
        return Err(format!("{key} is empty"));
    }
    if t.chars().any(char::is_control) {
        return Err(format!("{key} has control characters"));
    }
    Ok(t.to_owned())
}

/// `trusted.json` in the config directory: project file path → SHA-256 of the trusted content.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Trusted {
    #[serde(default)]
    files: BTreeMap<PathBuf, String>,
}

impl Trusted {
    fn file(dirs: &Dirs) -> PathBuf {
        dirs.config.join("trusted.json")
    }

    fn load(dirs: &Dirs) -> Result<Self> {
        let path = Self::file(dirs);
        let Some(bytes) = fsutil::read_optional(&path)? else {
            return Ok(Self::default());
        };
        serde_json::from_slice(&bytes).map_err(|e| Error::BadConfig {
            path,
            why: e.to_string(),
        })
    }

    fn update(dirs: &Dirs, change: impl FnOnce(&mut Self)) -> Result<()> {
        fsutil::ensure_private_dir(&dirs.config)?;
        let path = Self::file(dirs);
        let _lock = fsutil::lock_exclusive(&path)?;
        let mut t = Self::load(dirs)?;
        change(&mut t);
        let mut json = serde_json::to_vec_pretty(&t).map_err(|e| Error::Invalid(e.to_string()))?;
        json.push(b'\n');
        fsutil::write_atomic(&path, &json, 0o600)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> std::result::Result<Project, String> {
        parse(text.as_bytes(), Path::new("/r/.op-aws.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn items_and_role_profiles_only() {
        let p = parsed(
            "item = \"op://Shared/AWS dev\"\n\
             [profiles.deploy]\nrole_arn = \"arn:aws:iam::1:role/Deploy\"\nsource_profile = \"base\"\nduration_seconds = 3600\n\
             [profiles.base]\nitem = \"team-keys\"\n",
        )
        .unwrap();
        assert_eq!(p.item.as_deref(), Some("op://Shared/AWS dev"));
        assert_eq!(p.profiles["deploy"]["duration_seconds"], "3600");
        assert_eq!(p.profiles["base"]["op_aws_item"], "team-keys");

        let e =
            parsed("item = \"x\"\n\n[profiles.p]\nendpoint_url = \"http://evil\"\n").unwrap_err();
        assert!(e.contains("line 4") && e.contains("endpoint_url"), "{e}");
        let e = parsed("credential_process = \"sh -c x\"\n").unwrap_err();
        assert!(
            e.contains("line 1") && e.contains("credential_process"),
            "{e}"
        );
        assert!(parsed("[profiles.p]\nrole_arn = \"nope\"\n").is_err());
        assert!(parsed("[profiles.p]\nduration_seconds = 60\n").is_err());
        assert!(parsed("[profiles.p]\n").is_err());
        assert!(parsed("item = \"\"\n").is_err());
        assert!(parsed("[profiles.\"a b\"]\nitem = \"x\"\n").is_err());
    }
}
