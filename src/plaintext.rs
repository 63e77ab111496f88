//! Plaintext keys in the AWS files, found and removed byte by byte.
//!
//! The SDK's parser skips a whole file that is not UTF-8 (one stray byte in a comment) and is
//! not where keys in `~/.aws/config` are looked for by anyone: a check that relies on it says
//! "no plaintext keys" while a file holds a secret. This scanner reads both files as bytes, and
//! the removal keeps every other byte (comments, order, line endings, invalid UTF-8) as it was.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use secrecy::SecretString;

use crate::awsfiles;
use crate::caller::Caller;
use crate::{Error, Result};

/// Which of the two files: their section headers name profiles differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// `[name]`.
    Credentials,
    /// `[default]` or `[profile name]`; other sections (`sso-session`, `services`) are not
    /// profiles.
    Config,
}

/// Keys that hold secrets (or the key id paired with them).
pub const KEY_LINES: &[&str] = &[
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "aws_security_token",
];

/// One profile's keys in one file.
#[derive(Debug)]
pub struct Found {
    pub path: PathBuf,
    pub profile: String,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<SecretString>,
    /// A session token beside them: temporary keys some tool wrote, not long-lived ones.
    pub temporary: bool,
}

impl Found {
    /// A long-lived key pair.
    pub fn is_long_lived(&self) -> bool {
        self.access_key_id.is_some() && self.secret_access_key.is_some() && !self.temporary
    }
}

/// The two files as the AWS CLI resolves them for `c`, credentials first (its keys win).
pub fn files(c: &Caller) -> Result<[(PathBuf, FileKind); 2]> {
    Ok([
        (awsfiles::credentials_path(c)?, FileKind::Credentials),
        (awsfiles::config_path(c)?, FileKind::Config),
    ])
}

/// Every profile with a key line in either file (missing files hold none).
pub fn scan(c: &Caller) -> Result<Vec<Found>> {
    let mut out = Vec::new();
    for (path, kind) in files(c)? {
        // The file holds the secrets being looked for: wiped when dropped.
        let Some(bytes) = crate::fsutil::read_optional(&path)?.map(zeroize::Zeroizing::new) else {
            continue;
        };
        out.extend(scan_bytes(&bytes, kind, &path));
    }
    Ok(out)
}

/// The long-lived key pair of `profile`, from whichever file holds it (credentials first).
pub fn long_lived(found: &[Found], profile: &str) -> Option<(String, SecretString)> {
    found
        .iter()
        .filter(|f| f.profile == profile && f.is_long_lived())
        .find_map(|f| Some((f.access_key_id.clone()?, f.secret_access_key.clone()?)))
}

/// The profiles with a long-lived key pair in either file, sorted, once each.
pub fn long_lived_profiles(found: &[Found]) -> Vec<String> {
    let set: std::collections::BTreeSet<String> = found
        .iter()
        .filter(|f| f.is_long_lived())
        .map(|f| f.profile.clone())
        .collect();
    set.into_iter().collect()
}

pub fn scan_bytes(bytes: &[u8], kind: FileKind, path: &Path) -> Vec<Found> {
    let mut out: Vec<Found> = Vec::new();
    let mut current: Option<String> = None;
    for line in bytes.split_inclusive(|b| *b == b'\n') {
        if let Some(name) = section(line, kind) {
            current = name;
            continue;
        }
        let (Some(profile), Some((key, value))) = (&current, key_value(line)) else {
            continue;
        };
        if !KEY_LINES.contains(&key.as_str()) {
            continue;
        }
        let entry = match out.iter_mut().position(|f| &f.profile == profile) {
            Some(i) => &mut out[i],
            None => {
                out.push(Found {
                    path: path.to_owned(),
                    profile: profile.clone(),
                    access_key_id: None,
                    secret_access_key: None,
                    temporary: false,
                });
                out.last_mut().expect("just pushed")
            }
        };
        let value = zeroize::Zeroizing::new(String::from_utf8_lossy(value).trim().to_owned());
        if value.is_empty() {
            continue;
        }
        match key.as_str() {
            "aws_access_key_id" => entry.access_key_id = Some(value.to_string()),
            "aws_secret_access_key" => {
                entry.secret_access_key = Some(SecretString::from(value.as_str()));
            }
            _ => entry.temporary = true,
        }
    }
    out
}

/// `bytes` without the key lines of `profiles`; returns the new bytes and how many lines went.
pub fn remove_key_lines(
    bytes: &[u8],
    kind: FileKind,
    profiles: &HashSet<String>,
) -> (Vec<u8>, usize) {
    let mut out = Vec::with_capacity(bytes.len());
    let mut current: Option<String> = None;
    let mut removed = 0;
    for line in bytes.split_inclusive(|b| *b == b'\n') {
        if let Some(name) = section(line, kind) {
            current = name;
            out.extend_from_slice(line);
            continue;
        }
        let in_imported = current.as_ref().is_some_and(|c| profiles.contains(c));
        if in_imported && key_value(line).is_some_and(|(k, _)| KEY_LINES.contains(&k.as_str())) {
            removed += 1;
            continue;
        }
        out.extend_from_slice(line);
    }
    (out, removed)
}

/// For a `[...]` line, the profile it opens (None inside: a section that is not a profile).
#[allow(clippy::option_option)]
fn section(line: &[u8], kind: FileKind) -> Option<Option<String>> {
    let t = line.trim_ascii();
    let inner = t.strip_prefix(b"[")?;
    let end = inner.iter().position(|b| *b == b']')?;
    let name = String::from_utf8_lossy(&inner[..end]).trim().to_owned();
    Some(match kind {
        FileKind::Credentials => Some(name),
        FileKind::Config if name == "default" => Some(name),
        FileKind::Config => name
            .strip_prefix("profile")
            .filter(|r| r.starts_with([' ', '\t']))
            .map(|r| r.trim().to_owned()),
    })
}

/// `key = value` at the start of a line (an indented line continues the previous property).
fn key_value(line: &[u8]) -> Option<(String, &[u8])> {
    if line.first().is_some_and(|b| matches!(b, b' ' | b'\t')) {
        return None;
    }
    let t = line.trim_ascii_start();
    if t.starts_with(b"#") || t.starts_with(b";") {
        return None;
    }
    let eq = t.iter().position(|b| *b == b'=')?;
    let key = String::from_utf8_lossy(&t[..eq])
        .trim()
        .to_ascii_lowercase();
    Some((key, &t[eq + 1..]))
}

/// Where the keys were, for a message: `PATH` for each file, deduplicated, in order.
pub fn paths<'a>(found: impl IntoIterator<Item = &'a Path>) -> String {
    let mut seen: Vec<&Path> = Vec::new();
    for p in found {
        if !seen.contains(&p) {
            seen.push(p);
        }
    }
    seen.iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" and ")
}

/// The file to rewrite for `path`: itself, or for a symlink (stow, chezmoi) the file it
/// resolves to, rewritten in its own directory so the link stays a link. Refused when a rewrite
/// would leave the keys elsewhere (other hard links) or cannot be done there (a directory the
/// user cannot write, not a regular file).
pub fn rewrite_target(path: &Path) -> Result<PathBuf> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::symlink_metadata(path).map_err(|e| Error::io(path, e))?;
    let target = if meta.file_type().is_symlink() {
        std::fs::canonicalize(path).map_err(|e| Error::io(path, e))?
    } else {
        path.to_owned()
    };
    let via = if target == path {
        String::new()
    } else {
        format!(" (where {} points)", path.display())
    };
    let by_hand = "remove the key lines by hand (and from the history, if it is in git), then check with `op-aws doctor`";
    let meta = std::fs::metadata(&target).map_err(|e| Error::io(&target, e))?;
    if !meta.is_file() {
        return Err(Error::Invalid(format!(
            "{}{via} is not a regular file: {by_hand}",
            target.display()
        )));
    }
    // Another user's file (say through a dotfiles link) is theirs to clean: refused here,
    // before anything is imported, not when the rewrite fails afterwards.
    let me = nix::unistd::geteuid().as_raw();
    if meta.uid() != me {
        return Err(Error::Invalid(format!(
            "{}{via} belongs to another user (uid {}): {by_hand}",
            target.display(),
            meta.uid()
        )));
    }
    if meta.nlink() > 1 {
        return Err(Error::Invalid(format!(
            "{}{via} has {} hard links: the keys would stay in the others; {by_hand}",
            target.display(),
            meta.nlink()
        )));
    }
    let dir = target.parent().unwrap_or(Path::new("/"));
    if nix::unistd::access(dir, nix::unistd::AccessFlags::W_OK).is_err() {
        return Err(Error::Invalid(format!(
            "{}{via} is in {}, which this user cannot write: {by_hand}",
            target.display(),
            dir.display()
        )));
    }
    Ok(target)
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn removes_only_the_imported_key_lines_byte_exact() {
        let text = b"# top \xff\r\n[default]\r\naws_access_key_id = A\r\naws_secret_access_key=S\r\nregion = x\r\n\
                    [keep]\naws_access_key_id = K\n; c\n[prod ]\n  AWS_Session_Token = T\nother=1";
        let set: HashSet<String> = ["default".to_owned(), "prod".to_owned()].into();
        let (out, n) = remove_key_lines(text, FileKind::Credentials, &set);
        assert_eq!(n, 2, "the indented line is a sub-property, not a key");
        assert_eq!(
            out,
            b"# top \xff\r\n[default]\r\nregion = x\r\n[keep]\naws_access_key_id = K\n; c\n[prod ]\n  AWS_Session_Token = T\nother=1"
        );
    }

    #[test]
    fn config_sections_name_profiles_and_others_are_not() {
        let text = b"[profile dev]\naws_access_key_id = D\naws_secret_access_key = DS\n\
                     [sso-session s]\naws_secret_access_key = X\n[default]\naws_access_key_id=A\naws_secret_access_key=B\naws_session_token=T\n";
        let found = scan_bytes(text, FileKind::Config, Path::new("config"));
        let names: Vec<_> = found.iter().map(|f| f.profile.as_str()).collect();
        assert_eq!(names, ["dev", "default"]);
        assert!(found[0].is_long_lived() && !found[1].is_long_lived());
        let (id, secret) = long_lived(&found, "dev").unwrap();
        assert_eq!((id.as_str(), secret.expose_secret()), ("D", "DS"));
        let set: HashSet<String> = ["dev".to_owned()].into();
        let (out, n) = remove_key_lines(text, FileKind::Config, &set);
        assert_eq!(n, 2);
        assert!(out.starts_with(b"[profile dev]\n[sso-session s]\naws_secret_access_key = X\n"));
    }
}
