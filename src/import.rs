//! Importing plaintext keys, and removing exactly the imported key lines from whichever AWS file
//! holds them while every other byte (comments, other profiles, order, line endings) stays as it
//! was. `op-aws import` and `op-aws init` both call these; asking the person stays at the edge.

use std::collections::HashSet;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use secrecy::ExposeSecret;

use crate::awsfiles::{self, AwsFiles};
use crate::caller::Caller;
use crate::config::StoreKind;
use crate::ctx::Ctx;
use crate::item::{self, Item};
use crate::plaintext::{self, FileKind, Found};
use crate::{Error, Result, fsutil, onepassword, store, vault};

/// An item to import, with the profile it came from (None: the environment).
pub struct Import {
    pub profile: Option<String>,
    pub item: Item,
}

/// Items from the long-lived keys of `profiles` (each item named after its profile, or `name`
/// for a single one), with the profile's region and `mfa_serial`. The keys come from `found`
/// (the byte scan of both files), so a file the SDK's parser skips still imports.
pub fn from_profiles(
    c: &Caller,
    files: &AwsFiles,
    found: &[Found],
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
        let Some((id, secret)) = plaintext::long_lived(found, p) else {
            if found.iter().any(|f| &f.profile == p && f.temporary) {
                return Err(Error::Invalid(format!(
                    "profile {p:?} holds temporary credentials (aws_session_token); import long-lived keys"
                )));
            }
            return Err(Error::Invalid(format!(
                "profile {p:?} has no aws_access_key_id and aws_secret_access_key"
            )));
        };
        let mut it = Item::new(name.unwrap_or(p));
        it.set(item::ACCESS_KEY_ID, id, false);
        it.set(
            item::SECRET_ACCESS_KEY,
            secret.expose_secret().to_owned(),
            true,
        );
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

/// What `init` offers to import: the profiles with plaintext long-lived keys that no item is
/// named after yet, with the AWS files and what was found in them.
pub struct Offer {
    pub files: AwsFiles,
    pub found: Vec<Found>,
    pub profiles: Vec<String>,
}

impl Offer {
    /// The files that hold the offered keys, as one phrase.
    pub fn holding(&self) -> String {
        plaintext::paths(
            self.found
                .iter()
                .filter(|f| self.profiles.contains(&f.profile))
                .map(|f| f.path.as_path()),
        )
    }
}

/// What there is to offer here: the profiles whose plaintext keys no item holds yet.
pub fn offer(ctx: &Ctx) -> Result<Offer> {
    let files = AwsFiles::load(&ctx.caller)?;
    let existing = store::list_titles(ctx).unwrap_or_default();
    let found = plaintext::scan(&ctx.caller)?;
    let profiles = plaintext::long_lived_profiles(&found)
        .into_iter()
        .filter(|p| !existing.iter().any(|t| t.eq_ignore_ascii_case(p)))
        .collect();
    Ok(Offer {
        files,
        found,
        profiles,
    })
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

/// An AWS file without the key lines of `profiles`, ready to be written.
pub struct Removal {
    pub path: PathBuf,
    pub lines: usize,
    bytes: Vec<u8>,
    mode: u32,
    _lock: fsutil::LockGuard,
}

/// Works out the removal from each AWS file that holds key lines of `profiles`, under a lock per
/// file (held until [`Removal::apply`] or drop; in op-aws's runtime directory, not beside the
/// file), so no other op-aws changes a file between the question and the write. Empty: nothing
/// to remove. A file that is a symlink or has other hard links is refused: rewriting this name
/// would leave the keys in the other file (a dotfiles repository, often).
pub fn plan_removal(ctx: &Ctx, profiles: &HashSet<String>) -> Result<Vec<Removal>> {
    let mut out = Vec::new();
    for (path, kind) in plaintext::files(&ctx.caller)? {
        if let Some(r) = plan_one(ctx, path, kind, profiles)? {
            out.push(r);
        }
    }
    Ok(out)
}

fn plan_one(
    ctx: &Ctx,
    path: PathBuf,
    kind: FileKind,
    profiles: &HashSet<String>,
) -> Result<Option<Removal>> {
    let lock = crate::awsfiles::lock(ctx, &path)?;
    let Some(bytes) = fsutil::read_optional(&path)?.map(zeroize::Zeroizing::new) else {
        return Ok(None);
    };
    let (new, removed) = plaintext::remove_key_lines(&bytes, kind, profiles);
    if removed == 0 {
        return Ok(None);
    }
    // A dotfiles symlink: its file is rewritten, the link left as it is.
    let path = plaintext::rewrite_target(&path)?;
    let mode = std::fs::metadata(&path)
        .map_err(|e| Error::io(&path, e))?
        .permissions()
        .mode()
        & 0o7777;
    Ok(Some(Removal {
        path,
        lines: removed,
        bytes: new,
        mode,
        _lock: lock,
    }))
}

impl Removal {
    pub fn apply(self) -> Result<()> {
        fsutil::write_atomic(&self.path, &self.bytes, self.mode)
    }
}
