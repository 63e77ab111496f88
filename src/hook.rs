//! What the shell integration's cd hook applies (`op-aws hook-env`): the prompt-facing state
//! (`OP_AWS_ITEM`, `OP_AWS_SCOPE`, the expiry of a cached STS session) and, in a directory whose
//! default was made with `--export`, the keys themselves.
//!
//! It runs on every directory change, so it stays cheap and offline: the resolver's
//! what-applies-here answer (`defaults.json`, and the AWS files only when `AWS_PROFILE` is set),
//! never the vault, `op` or the network. The one exception is opt-in export mode, which asks a
//! running agent and never prompts. Only what differs from the caller's environment is returned.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use secrecy::ExposeSecret;

use crate::config::StoreKind;
use crate::ctx::Ctx;
use crate::item::AccessKeys;
use crate::model::env::EnvChanges;
use crate::model::resolution::{Request, Resolution, Want};
use crate::model::scope::{Applied, Scope};
use crate::resolve::resolve;
use crate::{Result, store, sts};

/// The variables hook-env set beyond OP_AWS_ITEM/SCOPE, space-separated, so that it unsets
/// exactly those (and never a key the user exported themselves) on leaving.
const OWNED: &str = "__OP_AWS_VARS";
/// `ITEM@DIR` of the export-mode default whose keys are in the shell now.
const EXPORTED: &str = "__OP_AWS_EXPORT";
/// `ITEM@DIR` we already warned about (locked vault), so moving around below DIR is quiet.
const WARNED: &str = "__OP_AWS_EXPORT_WARNED";
/// The directory whose ignored default we already told this shell about.
const IGNORED_WARNED: &str = "__OP_AWS_IGNORED_WARNED";
/// `HASH@PATH` of the untrusted project file we already told this shell about.
const UNTRUSTED_WARNED: &str = "__OP_AWS_UNTRUSTED_WARNED";

/// The exported keys' variables: only these (and the expiry) are ever unset for the user.
const KEY_VARS: [&str; 4] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
];

pub struct HookEnv {
    pub env: EnvChanges,
    /// What to tell the person once (the keys of an export-mode directory are not available,
    /// a default or project file not used), each already worded for stderr.
    pub warnings: Vec<String>,
}

pub fn hook_env(ctx: &Ctx) -> Result<HookEnv> {
    Ok(from_here(ctx, &resolve(ctx, &request())?))
}

/// What the hook asks the resolver: what applies here, nothing released.
pub fn request() -> Request<'static> {
    Request {
        item: None,
        profile: None,
        want: Want::Here { peek: false },
        ask: Default::default(),
    }
}

/// [`hook_env`] once the resolver answered [`request`] (the front asks the agent itself).
pub fn from_here(ctx: &Ctx, here: &Resolution) -> HookEnv {
    let c = &ctx.caller;
    let applied = here.applied.as_ref();
    let mut out = EnvChanges::default();
    let mut warnings = Vec::new();
    match applied {
        Some(a) => {
            out.set("OP_AWS_ITEM", &a.item);
            out.set("OP_AWS_SCOPE", a.scope.name());
        }
        None => {
            out.unset("OP_AWS_ITEM");
            out.unset("OP_AWS_SCOPE");
        }
    }

    let var = |k: &str| c.var(k).unwrap_or_default();
    // A default stored for a directory that is no longer the one it was made for: said once
    // per directory per shell, and nothing of it applied.
    match here.ignored.first() {
        Some((dir, item, why)) if var(IGNORED_WARNED) != dir.to_string_lossy() => {
            warnings.push(format!(
                "the default for {} (item {:?}) is not applied: {}; if the directory is yours, run `op-aws use {} --directory {}`",
                dir.display(),
                crate::error::printable(item),
                why.why(),
                crate::shell::quote_posix(item),
                crate::shell::quote_posix(&dir.to_string_lossy()),
            ));
            out.set(IGNORED_WARNED, &dir.to_string_lossy());
        }
        // Kept when leaving: coming back to the same directory stays quiet.
        _ => {}
    }
    // A project file that is not used (never trusted, changed, unreadable): said once per file
    // and content per shell, and nothing of it applied.
    if let Some(found) = &here.project
        && let Some(notice) = found.untrusted_notice()
    {
        let id = format!("{}@{}", found.hash, found.path.display());
        if var(UNTRUSTED_WARNED) != id {
            warnings.push(notice);
            out.set(UNTRUSTED_WARNED, &id);
        }
    }
    let old_owned: Vec<String> = var(OWNED)
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let ours = |k: &str| old_owned.iter().any(|o| o == k);
    // Owned variables wanted now: Some(value) to set, None to keep what the shell has.
    let mut owned: Vec<(&'static str, Option<String>)> = Vec::new();
    let export = applied.and_then(|a| export_id(a).map(|id| (a, id)));
    match &export {
        Some((_, id)) if var(EXPORTED) == *id => {
            owned.extend(KEY_VARS.into_iter().filter(|k| ours(k)).map(|k| (k, None)));
        }
        Some((a, id)) => match read_keys(ctx, &a.item) {
            Ok(keys) => {
                owned.push(("AWS_ACCESS_KEY_ID", Some(keys.access_key_id.clone())));
                owned.push((
                    "AWS_SECRET_ACCESS_KEY",
                    Some(keys.secret_access_key.expose_secret().to_owned()),
                ));
                // The item's region, unless the shell has a region of its own (one we did not set).
                let shell_has_region = ["AWS_REGION", "AWS_DEFAULT_REGION"]
                    .iter()
                    .any(|k| !ours(k) && c.var(k).is_some());
                if let Some(r) = keys.region.as_deref().filter(|_| !shell_has_region) {
                    owned.push(("AWS_REGION", Some(r.to_owned())));
                    owned.push(("AWS_DEFAULT_REGION", Some(r.to_owned())));
                }
                out.unset("AWS_SESSION_TOKEN");
                out.unset("AWS_SECURITY_TOKEN");
                out.set(EXPORTED, id);
                out.unset(WARNED);
            }
            Err(why) => {
                if var(WARNED) != *id {
                    warnings.push(format!("{}'s keys are not exported here: {why}", a.item));
                    out.set(WARNED, id);
                }
                out.unset(EXPORTED);
            }
        },
        None => {
            out.unset(EXPORTED);
            out.unset(WARNED);
        }
    }
    if let (Some(a), Some(p)) = (applied, &here.profile)
        && let Some(exp) = cached_session_expiry(ctx, &a.item, p)
    {
        owned.push((
            "AWS_CREDENTIAL_EXPIRATION",
            Some(humantime::format_rfc3339_seconds(exp).to_string()),
        ));
    }

    for k in &old_owned {
        if !owned.iter().any(|(o, _)| o == k) && is_ownable(k) {
            out.unset(k);
        }
    }
    for (k, v) in &owned {
        if let Some(v) = v {
            out.set(k, v);
        }
    }
    let names: Vec<&str> = owned.iter().map(|(k, _)| *k).collect();
    if names.is_empty() {
        out.unset(OWNED);
    } else {
        out.set(OWNED, &names.join(" "));
    }
    HookEnv {
        env: out.against(c),
        warnings,
    }
}

fn is_ownable(k: &str) -> bool {
    KEY_VARS.contains(&k) || k == "AWS_CREDENTIAL_EXPIRATION"
}

fn export_id(a: &Applied) -> Option<String> {
    match &a.scope {
        Scope::Directory(d) if a.export => Some(format!("{}@{}", a.item, d.display())),
        _ => None,
    }
}

/// The keys, from a running agent only: entering a directory is not an explicit action, so
/// it must never prompt, start anything or wait on `op`.
fn read_keys(ctx: &Ctx, item: &str) -> Result<AccessKeys, String> {
    let held = store::held_item(ctx, item).map_err(|e| e.to_string())?;
    let found = held.ok_or_else(|| match store::store_of(ctx, item) {
        StoreKind::OnePassword => format!(
            "{item} is not in the agent yet; run any wrapped command (or `op-aws unlock` first)"
        ),
        StoreKind::Local => "the vault is locked; run `op-aws unlock`".to_owned(),
    })?;
    found.access_keys().map_err(|e| e.to_string())
}

/// The expiry of a cached STS session for this item and profile, for prompts such as
/// starship's `aws` module. Reads only the cache's plaintext metadata (no secret, no unlock).
fn cached_session_expiry(ctx: &Ctx, item: &str, profile: &str) -> Option<SystemTime> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
    sts::cache::list(ctx)
        .ok()?
        .into_iter()
        .filter(|m| m.profile == profile && m.item.eq_ignore_ascii_case(item) && m.expiration > now)
        .map(|m| m.expiration)
        .max()
        .map(|e| UNIX_EPOCH + Duration::from_secs(e))
}
