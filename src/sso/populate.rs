//! `op-aws sso populate`: one profile per account × role the token can use, in one marked block
//! of the AWS config. Every byte outside the block stays as it was; the file keeps its mode and,
//! when it is a symbolic link, its target is what is rewritten (atomically).

use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use secrecy::ExposeSecret;

use super::{SignIn, access_token, clients};
use crate::awsfiles::{self, AwsFiles};
use crate::ctx::Ctx;
use crate::model::sso::Session;
use crate::{Error, Result, fsutil};

pub struct Options<'a> {
    /// Put before every generated name; default: the session's name and a dash.
    pub prefix: Option<&'a str>,
    /// The profiles' `region`; default: the session's `sso_region`.
    pub region: Option<&'a str>,
    pub dry_run: bool,
}

pub struct Outcome {
    /// The file written (a symbolic link's target).
    pub path: PathBuf,
    /// A unified diff of the change; empty when nothing changes.
    pub diff: String,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// Names the block would have had that a profile outside it already uses: left out.
    pub clashes: Vec<String>,
    pub profiles: usize,
    pub written: bool,
}

/// A name safe in a section header and as a shell word: letters, digits, `.`, `_`, `-`.
fn name_part(s: &str) -> String {
    let t: String = s
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    t.trim_matches('-').to_owned()
}

fn markers(session: &Session) -> (String, String) {
    let n = name_part(&session.name);
    (
        format!("# >>> op-aws sso populate: {n} (generated; edits inside are replaced) >>>"),
        format!("# <<< op-aws sso populate: {n} <<<"),
    )
}

/// `(start, end)` byte offsets of the block (its marker lines included, with the end line's
/// newline), if the file has one.
fn find_block(text: &str, begin: &str, end: &str) -> Option<(usize, usize)> {
    let mut offset = 0;
    let mut start = None;
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        if start.is_none() && bare == begin {
            start = Some(offset);
        } else if let Some(s) = start
            && bare == end
        {
            return Some((s, offset + line.len()));
        }
        offset += line.len();
    }
    None
}

/// The profiles a block holds, by name.
fn block_profiles(block: &str) -> Vec<String> {
    block
        .lines()
        .filter_map(|l| l.trim().strip_prefix("[profile ")?.strip_suffix(']'))
        .map(|n| n.trim().to_owned())
        .collect()
}

pub fn populate(
    ctx: &Ctx,
    files: &AwsFiles,
    session: &Session,
    opts: &Options<'_>,
) -> Result<Outcome> {
    let token = access_token(ctx, Some(files), session, SignIn::IfNeeded)?;
    let c = clients(ctx, Some(files), session)?;
    let mut accounts = c.accounts(token.expose_secret())?;
    accounts.sort();
    let mut wanted: Vec<(String, String, String)> = Vec::new();
    for (id, name) in &accounts {
        let same_name = accounts.iter().filter(|(_, n)| n == name).count() > 1;
        let label = match name_part(name) {
            n if n.is_empty() || same_name => id.clone(),
            n => n,
        };
        let mut roles = c.roles(token.expose_secret(), id)?;
        roles.sort();
        for role in roles {
            wanted.push((format!("{label}.{}", name_part(&role)), id.clone(), role));
        }
    }
    let prefix = opts
        .prefix
        .map_or_else(|| format!("{}-", name_part(&session.name)), str::to_owned);
    let region = opts.region.unwrap_or(&session.region);

    let link = awsfiles::config_path(&ctx.caller)?;
    let _lock = awsfiles::lock(ctx, &link)?;
    // A symbolic link (dotfiles) stays one: its target is rewritten.
    let path = match std::fs::symlink_metadata(&link) {
        Ok(m) if m.file_type().is_symlink() => {
            link.canonicalize().map_err(|e| Error::io(&link, e))?
        }
        _ => link,
    };
    if let Some(dir) = path.parent().filter(|d| !d.exists()) {
        fsutil::ensure_private_dir(dir)?;
    }
    let (old_bytes, mode) = match std::fs::read(&path) {
        Ok(b) => {
            let mode = std::fs::metadata(&path)
                .map_err(|e| Error::io(&path, e))?
                .permissions()
                .mode()
                & 0o7777;
            (b, mode)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Vec::new(), 0o600),
        Err(e) => return Err(Error::io(&path, e)),
    };
    let old = String::from_utf8(old_bytes).map_err(|_| Error::BadConfig {
        path: path.clone(),
        why: "is not UTF-8 text; populate edits only text it can keep byte for byte".into(),
    })?;
    let (begin, end) = markers(session);
    let found = find_block(&old, &begin, &end);
    let outside_profiles: Vec<String> = {
        let outside = match found {
            Some((s, e)) => std::borrow::Cow::Owned(format!("{}{}", &old[..s], &old[e..])),
            None => std::borrow::Cow::Borrowed(old.as_str()),
        };
        AwsFiles::from_strings(&outside, "")
            .map(|f| f.profile_names())
            .unwrap_or_default()
    };
    let mut block = format!("{begin}\n");
    let mut clashes = Vec::new();
    let mut names = Vec::new();
    for (name, account, role) in &wanted {
        let full = format!("{prefix}{name}");
        if outside_profiles.contains(&full) {
            clashes.push(full);
            continue;
        }
        let _ = writeln!(block, "[profile {full}]");
        if session.legacy {
            let _ = writeln!(block, "sso_start_url = {}", session.start_url);
            let _ = writeln!(block, "sso_region = {}", session.region);
        } else {
            let _ = writeln!(block, "sso_session = {}", session.name);
        }
        let _ = writeln!(block, "sso_account_id = {account}");
        let _ = writeln!(block, "sso_role_name = {role}");
        let _ = writeln!(block, "region = {region}\n");
        names.push(full);
    }
    block.push_str(&end);
    block.push('\n');
    let new = match found {
        Some((s, e)) => format!("{}{block}{}", &old[..s], &old[e..]),
        None if old.is_empty() => block.clone(),
        None if old.ends_with('\n') => format!("{old}\n{block}"),
        None => format!("{old}\n\n{block}"),
    };
    let before = found
        .map(|(s, e)| block_profiles(&old[s..e]))
        .unwrap_or_default();
    let added = names
        .iter()
        .filter(|n| !before.contains(n))
        .cloned()
        .collect();
    let removed = before
        .iter()
        .filter(|n| !names.contains(n))
        .cloned()
        .collect();
    let diff = if new == old {
        String::new()
    } else {
        similar::TextDiff::from_lines(&old, &new)
            .unified_diff()
            .header(&path.display().to_string(), &path.display().to_string())
            .to_string()
    };
    let written = !opts.dry_run && new != old;
    if written {
        fsutil::write_atomic(&path, new.as_bytes(), mode)?;
    }
    Ok(Outcome {
        path,
        diff,
        added,
        removed,
        clashes,
        profiles: names.len(),
        written,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_found_by_their_exact_lines() {
        let text = "a\n# >>> b >>>\nx\n# <<< b <<<\nz\n";
        let (s, e) = find_block(text, "# >>> b >>>", "# <<< b <<<").unwrap();
        assert_eq!(&text[s..e], "# >>> b >>>\nx\n# <<< b <<<\n");
        assert_eq!(
            find_block("  # >>> b >>>\n", "# >>> b >>>", "# <<< b <<<"),
            None
        );
        assert_eq!(name_part(" Prod / EU "), "Prod---EU");
        assert_eq!(
            block_profiles("[profile a.b]\nx = 1\n[profile c]\n"),
            ["a.b", "c"]
        );
    }
}
