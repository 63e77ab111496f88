//! Importing plaintext keys, and removing exactly the imported key lines from the credentials
//! file while every other byte (comments, other profiles, order, line endings) stays as it was.
//! `op-aws import` and `op-aws init` both call these; asking the person stays at the edge.

use std::collections::HashSet;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use crate::awsfiles::{self, AwsFiles};
use crate::caller::Caller;
use crate::config::StoreKind;
use crate::ctx::Ctx;
use crate::item::{self, Item};
use crate::{Error, Result, fsutil, onepassword, store, vault};

/// An item to import, with the profile it came from (None: the environment).
pub struct Import {
    pub profile: Option<String>,
    pub item: Item,
}

/// Items from the long-lived keys of `profiles` (each item named after its profile, or `name`
/// for a single one), with the profile's region and `mfa_serial`.
pub fn from_profiles(
    c: &Caller,
    files: &AwsFiles,
    profiles: &[String],
    name: Option<&str>,
) -> Result<Vec<Import>> {
    if profiles.is_empty() {
        return Err(Error::Invalid(format!(
            "no profile in {} has keys",
            awsfiles::credentials_path(c)?.display()
        )));
    }
    if name.is_some() && profiles.len() != 1 {
        return Err(Error::Invalid("--name needs exactly one profile".into()));
    }
    let mut out = Vec::new();
    for p in profiles {
        let (Some(id), Some(secret)) = (
            files.get(p, "aws_access_key_id"),
            files.get(p, "aws_secret_access_key"),
        ) else {
            return Err(Error::Invalid(format!(
                "profile {p:?} has no aws_access_key_id and aws_secret_access_key"
            )));
        };
        if !files.has_plaintext_keys(p) {
            return Err(Error::Invalid(format!(
                "profile {p:?} holds temporary credentials (aws_session_token); import long-lived keys"
            )));
        }
        let mut it = Item::new(name.unwrap_or(p));
        it.set(item::ACCESS_KEY_ID, id.to_owned(), false);
        it.set(item::SECRET_ACCESS_KEY, secret.to_owned(), true);
        if let Some(r) = files.region(p) {
            it.set(item::DEFAULT_REGION, r.to_owned(), false);
        }
        if let Some(m) = files.get(p, "mfa_serial") {
            it.set(item::MFA_SERIAL, m.to_owned(), false);
        }
        out.push(Import {
            profile: Some(p.clone()),
            item: it,
        });
    }
    Ok(out)
}

/// An item from the caller's `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` (and region).
pub fn from_env(c: &Caller, name: &str) -> Result<Import> {
    let (Some(id), Some(secret)) = (c.var("AWS_ACCESS_KEY_ID"), c.var("AWS_SECRET_ACCESS_KEY"))
    else {
        return Err(Error::Invalid(
            "nothing to import: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set"
                .into(),
        ));
    };
    if c.var_os("AWS_SESSION_TOKEN").is_some() {
        return Err(Error::Invalid(
            "the environment holds temporary credentials (AWS_SESSION_TOKEN is set); import long-lived keys".into(),
        ));
    }
    let mut it = Item::new(name);
    it.set(item::ACCESS_KEY_ID, id.to_owned(), false);
    it.set(item::SECRET_ACCESS_KEY, secret.to_owned(), true);
    if let Some(r) = c.shell_region() {
        it.set(item::DEFAULT_REGION, r.to_owned(), false);
    }
    Ok(Import {
        profile: None,
        item: it,
    })
}

/// Stores the items (all or none: an existing title refuses the whole import) in `store`;
/// returns the names they got.
pub fn save(ctx: &Ctx, items: &[Import], to: StoreKind) -> Result<Vec<String>> {
    match to {
        StoreKind::Local => {
            let all = items.iter().map(|i| i.item.clone()).collect();
            store::update(ctx, vault::Change::Add { items: all })?;
            Ok(items.iter().map(|i| i.item.title.clone()).collect())
        }
        StoreKind::OnePassword => {
            // Each item goes to `op item create` as a JSON template on its stdin: no key in argv.
            let existing = onepassword::list_titles(ctx)?;
            for i in items {
                if existing
                    .iter()
                    .any(|t| t.eq_ignore_ascii_case(&i.item.title))
                {
                    return Err(Error::ItemExists(i.item.title.clone()));
                }
            }
            items
                .iter()
                .map(|i| onepassword::create_item(ctx, &i.item))
                .collect()
        }
    }
}

/// The credentials file without the key lines of `profiles`, ready to be written.
pub struct Removal {
    pub path: PathBuf,
    pub lines: usize,
    text: String,
    mode: u32,
    _lock: fsutil::LockGuard,
}

/// Works out the removal under a lock (held until [`Removal::apply`] or drop; it lives in
/// op-aws's runtime directory, not beside the file), so no other op-aws changes the file between
/// the question and the write. None: nothing to remove. A credentials file that is a symlink or
/// has other hard links is refused: rewriting this name would leave the keys in the other file
/// (a dotfiles repository, often).
pub fn plan_removal(ctx: &Ctx, profiles: &HashSet<String>) -> Result<Option<Removal>> {
    use std::os::unix::fs::MetadataExt;
    let path = awsfiles::credentials_path(&ctx.caller)?;
    let meta = std::fs::symlink_metadata(&path).map_err(|e| Error::io(&path, e))?;
    if meta.file_type().is_symlink() {
        let target = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        return Err(Error::Invalid(format!(
            "{} is a symlink to {}: the keys would stay there; remove the key lines from {} yourself (and from its history, if it is in git), then check with `op-aws doctor`",
            path.display(),
            target.display(),
            target.display()
        )));
    }
    if meta.nlink() > 1 {
        return Err(Error::Invalid(format!(
            "{} has {} hard links: the keys would stay in the others; remove the key lines by hand, then check with `op-aws doctor`",
            path.display(),
            meta.nlink()
        )));
    }
    fsutil::ensure_private_dir(&ctx.dirs.runtime)?;
    let key = crate::sts::plan::hash(&serde_json::json!(["credentials", path]));
    let lock = fsutil::lock_exclusive(&ctx.dirs.runtime.join(format!("credentials-{key}")))?;
    let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    let text = String::from_utf8(bytes).map_err(|_| {
        Error::Invalid(format!(
            "{} is not UTF-8 text; left it as it is",
            path.display()
        ))
    })?;
    let (new, removed) = remove_key_lines(&text, profiles);
    if removed == 0 {
        return Ok(None);
    }
    let mode = std::fs::metadata(&path)
        .map_err(|e| Error::io(&path, e))?
        .permissions()
        .mode()
        & 0o7777;
    Ok(Some(Removal {
        path,
        lines: removed,
        text: new,
        mode,
        _lock: lock,
    }))
}

impl Removal {
    pub fn apply(self) -> Result<()> {
        fsutil::write_atomic(&self.path, self.text.as_bytes(), self.mode)
    }
}

/// Keys that hold secrets (or the key id paired with them) in a credentials file.
const KEY_LINES: &[&str] = &[
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "aws_security_token",
];

/// The section name of a `[name]` line in a credentials file.
fn section_name(line: &str) -> Option<&str> {
    let t = line.trim();
    let inner = t.strip_prefix('[')?;
    let end = inner.find(']')?;
    Some(inner[..end].trim())
}

fn key_of(line: &str) -> Option<String> {
    let t = line.trim_start();
    if t.starts_with('#') || t.starts_with(';') || line.starts_with([' ', '\t']) {
        return None;
    }
    let (k, _) = t.split_once('=')?;
    Some(k.trim().to_ascii_lowercase())
}

/// `text` without the key lines of `profiles`; returns the new text and how many lines went.
pub fn remove_key_lines(text: &str, profiles: &HashSet<String>) -> (String, usize) {
    let mut out = String::with_capacity(text.len());
    let mut current: Option<String> = None;
    let mut removed = 0;
    for line in text.split_inclusive('\n') {
        if let Some(name) = section_name(line) {
            current = Some(name.to_owned());
            out.push_str(line);
            continue;
        }
        let in_imported = current.as_ref().is_some_and(|c| profiles.contains(c));
        if in_imported && key_of(line).is_some_and(|k| KEY_LINES.contains(&k.as_str())) {
            removed += 1;
            continue;
        }
        out.push_str(line);
    }
    (out, removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_only_the_imported_key_lines() {
        let text = "# top\r\n[default]\r\naws_access_key_id = A\r\naws_secret_access_key=S\r\nregion = x\r\n\
                    [keep]\naws_access_key_id = K\n; c\n[prod ]\n  AWS_Session_Token = T\nother=1";
        let set: HashSet<String> = ["default".to_owned(), "prod".to_owned()].into();
        let (out, n) = remove_key_lines(text, &set);
        assert_eq!(n, 2, "the indented line is a sub-property, not a key");
        assert_eq!(
            out,
            "# top\r\n[default]\r\nregion = x\r\n[keep]\naws_access_key_id = K\n; c\n[prod ]\n  AWS_Session_Token = T\nother=1"
        );
    }
}
