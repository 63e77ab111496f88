//! `op-aws rotate`: a new access key for the item's IAM user, proven to work, stored in the
//! item, and only then the old one deleted. Whatever step fails, the item holds a key that
//! works, and the error says what IAM holds; an unfinished rotation is written down (key ids
//! only, never a secret) so `--resume` can finish it.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::awsfiles::AwsFiles;
use crate::creds::Credentials;
use crate::ctx::Ctx;
use crate::iam::{self, Iam, KeyInfo};
use crate::item::{self, Item};
use crate::sts::client::Client;
use crate::sts::plan;
use crate::{Error, Result, config::StoreKind, fsutil, store, sts, vault};

/// How long a new key is given to work (IAM is eventually consistent: usually seconds).
const PROPAGATION_TRIES: u32 = 10;
const PROPAGATION_WAIT: Duration = Duration::from_secs(1);

/// What a rotation will do, for the person to confirm.
pub struct Prepared {
    /// The item's canonical name; `given` is the one it was asked by.
    pub item: String,
    given: String,
    pub user: String,
    user_arn: String,
    pub old: KeyInfo,
    keys: Credentials,
    region: String,
    iam: Iam,
    sts_endpoint: Option<String>,
}

pub struct Rotated {
    pub user: String,
    pub old: String,
    pub new: String,
}

/// An unfinished rotation, as written down between its steps: first the intent (before
/// CreateAccessKey, `new` empty: a kill before the answer arrives leaves a key nothing else
/// records), then the new key's id.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Unfinished {
    item: String,
    user: String,
    old: String,
    /// Empty until CreateAccessKey has answered.
    #[serde(default)]
    new: String,
}

impl Unfinished {
    fn new_key(&self) -> &str {
        if self.new.is_empty() {
            "not known yet"
        } else {
            &self.new
        }
    }
}

fn state_file(ctx: &Ctx, item: &str) -> PathBuf {
    let key = crate::digest::hash(&serde_json::json!(["rotate", item.to_ascii_lowercase()]));
    ctx.dirs.data.join(format!("rotation-{}.json", &key[..16]))
}

fn read_state(ctx: &Ctx, item: &str) -> Result<Option<Unfinished>> {
    let path = state_file(ctx, item);
    let Some(bytes) = fsutil::read_optional(&path)? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| Error::BadConfig {
            path,
            why: e.to_string(),
        })
}

fn write_state(ctx: &Ctx, s: &Unfinished) -> Result<()> {
    let json = serde_json::to_vec_pretty(s).map_err(|e| Error::Invalid(e.to_string()))?;
    fsutil::ensure_private_dir(&ctx.dirs.data)?;
    fsutil::write_atomic(&state_file(ctx, &s.item), &json, 0o600)
}

fn remove_state(ctx: &Ctx, item: &str) {
    let _ = std::fs::remove_file(state_file(ctx, item));
}

fn quote(s: &str) -> String {
    crate::shell::quote_posix(s)
}

/// Where IAM and STS are, for this caller: the endpoints the AWS CLI would use, checked like
/// every request signed with long-lived keys.
/// IAM's and STS's endpoints for the caller's profile, and its FIPS and dual-stack settings.
fn endpoints(ctx: &Ctx) -> Result<(Option<String>, Option<String>, crate::partition::Variant)> {
    let c = &ctx.caller;
    let files = AwsFiles::load(c).ok();
    let profile = c.profile().unwrap_or("default");
    let variant = plan::variant(c, files.as_ref(), profile);
    let iam_ep = plan::service_endpoint(c, files.as_ref(), profile, "IAM");
    let sts_ep = plan::endpoint(c, files.as_ref(), profile);
    plan::check_endpoint(iam_ep.as_deref(), &ctx.config.trusted_endpoints)?;
    plan::check_endpoint(sts_ep.as_deref(), &ctx.config.trusted_endpoints)?;
    Ok((iam_ep, sts_ep, variant))
}

fn region(ctx: &Ctx, item: &Item) -> String {
    ctx.caller
        .shell_region()
        .map(str::to_owned)
        .or_else(|| item.get(item::DEFAULT_REGION).map(|r| r.trim().to_owned()))
        .unwrap_or_else(|| "us-east-1".to_owned())
}

/// An item's keys and where to use them: what every step of a rotation starts from.
struct Signed {
    item: Item,
    keys: Credentials,
    region: String,
    iam: Iam,
    sts_endpoint: Option<String>,
}

impl Signed {
    fn open(ctx: &Ctx, name: &str) -> Result<Self> {
        Self::from_item(ctx, store::get_item(ctx, name)?)
    }

    fn from_item(ctx: &Ctx, item: Item) -> Result<Self> {
        let keys = Credentials::from(&item.access_keys()?);
        let (iam_endpoint, sts_endpoint, variant) = endpoints(ctx)?;
        let region = region(ctx, &item);
        let iam = Iam::new(iam::region_for(&region), iam_endpoint.as_deref())?
            .with_variant(variant)
            .showing(&ctx.caller.progress);
        Ok(Self {
            item,
            keys,
            region,
            iam,
            sts_endpoint,
        })
    }
}

/// DeleteAccessKey, where a key already gone is what was wanted.
fn delete_if_present(iam: &Iam, signer: &Credentials, user: &str, id: &str) -> Result<()> {
    match iam.delete_key(signer, user, id) {
        Err(Error::StsCall { code, .. }) if code == "NoSuchEntity" => Ok(()),
        other => other,
    }
}

/// Looks at IAM before anything changes: the user, its keys, and whether a new one fits.
pub fn prepare(ctx: &Ctx, name: &str) -> Result<Prepared> {
    if let Some(s) = read_state(ctx, name)? {
        return Err(Error::Rotation {
            what: format!(
                "a rotation of {name} did not finish (old key {}, new key {})",
                s.old,
                s.new_key()
            ),
            next: Some(format!("run `op-aws rotate {} --resume`", quote(name))),
        });
    }
    let Signed {
        item,
        keys,
        region,
        iam,
        sts_endpoint,
    } = Signed::open(ctx, name)?;
    let (user, user_arn) = iam.user(&keys)?;
    let all = iam.keys(&keys, &user)?;
    let old = all
        .iter()
        .find(|k| k.id == keys.access_key_id)
        .cloned()
        .ok_or_else(|| {
            Error::Invalid(format!(
                "the item's key {} is not one of {user}'s access keys",
                keys.access_key_id
            ))
        })?;
    if let Some(other) = all.iter().find(|k| k.id != keys.access_key_id) {
        return Err(Error::Rotation {
            what: format!(
                "{user} already has two access keys: {} (in {name}) and {}{}; IAM allows two, so there is no room for a new one",
                keys.access_key_id,
                other.id,
                other
                    .created
                    .map(|t| format!(", created {}", humantime::format_rfc3339_seconds(t)))
                    .unwrap_or_default()
            ),
            next: Some(format!(
                "if nothing uses {id}, delete it (`aws iam delete-access-key --user-name {} --access-key-id {id}`), then run `op-aws rotate {}` again",
                quote(&user),
                quote(name),
                id = other.id
            )),
        });
    }
    Ok(Prepared {
        item: item.title.clone(),
        given: name.to_owned(),
        user,
        user_arn,
        old,
        keys,
        region,
        iam,
        sts_endpoint,
    })
}

impl Prepared {
    /// Creates, checks, stores, deletes. `say` hears each step as it is done.
    pub fn execute(self, ctx: &Ctx, mut say: impl FnMut(&str)) -> Result<Rotated> {
        let iam = &self.iam;
        let old_id = self.keys.access_key_id.clone();
        let mut state = Unfinished {
            item: self.item.clone(),
            user: self.user.clone(),
            old: old_id.clone(),
            new: String::new(),
        };
        write_state(ctx, &state)?;
        let (new_id, new_secret) = iam.create_key(&self.keys, &self.user).map_err(|e| {
            // IAM said no: nothing to find later.
            remove_state(ctx, &self.item);
            Error::Rotation {
                what: format!(
                    "cannot create a new key ({e}); nothing changed: {} still holds {old_id}",
                    self.item
                ),
                next: None,
            }
        })?;
        state.new.clone_from(&new_id);
        write_state(ctx, &state)?;
        say(&format!("created {new_id} for {}", self.user));
        let new = Credentials {
            access_key_id: new_id.clone(),
            secret_access_key: new_secret,
            session_token: None,
            expiration: None,
        };
        // Back to where we started: the new key deleted with the old one, which still works.
        let undo = |why: String| -> Error {
            match iam.delete_key(&self.keys, &self.user, &new_id) {
                Ok(()) => {
                    remove_state(ctx, &self.item);
                    Error::Rotation {
                        what: format!(
                            "{why}; the new key {new_id} was deleted again; nothing changed: {} still holds {old_id}, which works",
                            self.item
                        ),
                        next: None,
                    }
                }
                Err(e) => Error::Rotation {
                    what: format!(
                        "{why}; the new key {new_id} exists in IAM but could not be deleted ({e}); {} still holds {old_id}, which works",
                        self.item
                    ),
                    next: Some(format!(
                        "run `op-aws rotate {} --resume` (it deletes {new_id})",
                        quote(&self.item)
                    )),
                },
            }
        };
        if let Err(e) = self.check(&new) {
            return Err(undo(format!("the new key does not work ({e})")));
        }
        say(&format!("{new_id} works"));
        let stored = store_keys(ctx, &self.given, &new);
        if let Err(e) = stored {
            return Err(undo(format!(
                "cannot store the new key in {} ({e})",
                self.item
            )));
        }
        say(&format!("stored {new_id} in {}", self.item));
        forget_sessions(ctx, &self.item);
        finish(ctx, iam, &new, &self.item, &self.user, &old_id, &new_id)?;
        say(&format!("deleted {old_id}"));
        Ok(Rotated {
            user: self.user,
            old: old_id,
            new: new_id,
        })
    }

    /// GetCallerIdentity with the new key, until IAM has it everywhere (or the tries run out).
    fn check(&self, new: &Credentials) -> Result<()> {
        let sts = Client::new(&self.region, self.sts_endpoint.as_deref())?
            .with_variant(self.iam.variant());
        let mut tries = 0;
        loop {
            tries += 1;
            match sts.caller_arn(new) {
                Ok(arn) if arn == self.user_arn => return Ok(()),
                Ok(arn) => {
                    return Err(Error::Invalid(format!(
                        "it signs as {arn}, not {}",
                        self.user_arn
                    )));
                }
                Err(Error::StsCall { code, .. })
                    if tries < PROPAGATION_TRIES
                        && matches!(
                            code.as_str(),
                            "InvalidClientTokenId" | "SignatureDoesNotMatch"
                        ) =>
                {
                    std::thread::sleep(PROPAGATION_WAIT);
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// The new key pair into the item, in whichever store holds it.
fn store_keys(ctx: &Ctx, item: &str, new: &Credentials) -> Result<()> {
    let secret = secrecy::ExposeSecret::expose_secret(&new.secret_access_key);
    match store::store_of(ctx, item) {
        StoreKind::OnePassword => {
            crate::onepassword::replace_keys(ctx, item, &new.access_key_id, secret)
        }
        StoreKind::Local => store::update(
            ctx,
            vault::Change::Edit {
                name: item.to_owned(),
                set: vec![
                    (
                        item::ACCESS_KEY_ID.to_owned(),
                        Zeroizing::new(new.access_key_id.clone()),
                        false,
                    ),
                    (
                        item::SECRET_ACCESS_KEY.to_owned(),
                        Zeroizing::new(secret.to_owned()),
                        true,
                    ),
                ],
                rename: Vec::new(),
                unset: Vec::new(),
                title: None,
            },
        ),
    }
}

/// The last step: the old key deleted, signed with the new one (which is in the item).
fn finish(
    ctx: &Ctx,
    iam: &Iam,
    new: &Credentials,
    item: &str,
    user: &str,
    old_id: &str,
    new_id: &str,
) -> Result<()> {
    if let Err(e) = delete_if_present(iam, new, user, old_id) {
        return Err(Error::Rotation {
            what: format!(
                "the new key {new_id} is in {item} and works; the old key {old_id} was not deleted ({e})"
            ),
            next: Some(format!("run `op-aws rotate {} --resume`", quote(item))),
        });
    }
    remove_state(ctx, item);
    Ok(())
}

/// Sessions made from the old key are not offered again.
fn forget_sessions(ctx: &Ctx, item: &str) {
    if let (Ok(list), Ok(cache)) = (sts::cache::list(ctx), sts::cache::Cache::open(ctx)) {
        for m in list.iter().filter(|m| m.item.eq_ignore_ascii_case(item)) {
            cache.remove(&m.key);
        }
    }
}

/// Finishes what an interrupted rotation left: the old key deleted when the item holds the new
/// one; the new key deleted when the item still holds the old one (its secret was never kept).
pub fn resume(ctx: &Ctx, name: &str) -> Result<Rotated> {
    let Some(s) = read_state(ctx, name)? else {
        return Err(Error::Invalid(format!("no unfinished rotation of {name}")));
    };
    let Signed { keys, iam, .. } = Signed::open(ctx, name)?;
    if s.new.is_empty() && keys.access_key_id == s.old {
        return resume_intent(ctx, &iam, &keys, &s, name);
    }
    if keys.access_key_id == s.new {
        finish(ctx, &iam, &keys, &s.item, &s.user, &s.old, &s.new)?;
        return Ok(Rotated {
            user: s.user,
            old: s.old,
            new: s.new,
        });
    }
    if keys.access_key_id == s.old {
        delete_if_present(&iam, &keys, &s.user, &s.new)?;
        remove_state(ctx, &s.item);
        return Err(Error::Rotation {
            what: format!(
                "the unfinished new key {} was deleted; {} still holds {}, which works",
                s.new, s.item, s.old
            ),
            next: Some(format!("run `op-aws rotate {}` to rotate", quote(name))),
        });
    }
    Err(Error::Invalid(format!(
        "{} holds {}, neither the old ({}) nor the new key ({}) of the unfinished rotation; remove {} once you have checked IAM",
        s.item,
        keys.access_key_id,
        s.old,
        s.new_key(),
        state_file(ctx, name).display()
    )))
}

/// A rotation stopped around CreateAccessKey (killed before the new key's id was written
/// down): the user had only the item's key then, so any other key IAM lists now is the one it
/// created, whose secret was never kept. It is deleted.
fn resume_intent(
    ctx: &Ctx,
    iam: &Iam,
    keys: &Credentials,
    s: &Unfinished,
    name: &str,
) -> Result<Rotated> {
    let created: Vec<String> = iam
        .keys(keys, &s.user)?
        .into_iter()
        .map(|k| k.id)
        .filter(|id| *id != s.old)
        .collect();
    for id in &created {
        delete_if_present(iam, keys, &s.user, id)?;
    }
    remove_state(ctx, &s.item);
    let what = match created.as_slice() {
        [] => format!(
            "the unfinished rotation created no key; {} still holds {}, which works",
            s.item, s.old
        ),
        ids => format!(
            "the unfinished new key {} was deleted; {} still holds {}, which works",
            ids.join(", "),
            s.item,
            s.old
        ),
    };
    Err(Error::Rotation {
        what,
        next: Some(format!("run `op-aws rotate {}` to rotate", quote(name))),
    })
}

/// How old the key in `item` is, as IAM says (GetUser, ListAccessKeys): None when IAM does not
/// list it. For `doctor`; never prompts (the caller passes an item it already holds).
pub fn key_age(ctx: &Ctx, item: Item) -> Result<Option<Duration>> {
    let Signed { keys, iam, .. } = Signed::from_item(ctx, item)?;
    let (user, _) = iam.user(&keys)?;
    Ok(iam
        .keys(&keys, &user)?
        .into_iter()
        .find(|k| k.id == keys.access_key_id)
        .and_then(|k| k.created)
        .and_then(|t| std::time::SystemTime::now().duration_since(t).ok()))
}
