//! STS: roles from `~/.aws/config`, MFA from the item's TOTP secret, and the encrypted cache of
//! temporary sessions.
//!
//! The order of work for a profile: plan it from the config (no network), look in the cache
//! (no tokio, no network: the common case), and only then take the per-key lock and call STS:
//! GetSessionToken once at the bottom when MFA is involved, then AssumeRole for each role
//! upwards, each signed by the credentials below it and carrying no code.

pub mod cache;
pub mod client;
pub mod mfa;
pub mod plan;
pub mod totp;

use crate::awsfiles::AwsFiles;
use crate::creds::Credentials;
use crate::ctx::Ctx;
use crate::item::Item;
use crate::{Error, Result};

use cache::{Cache, Meta};
use client::Client;
use plan::Plan;

/// Temporary credentials for `profile` when it needs STS (a `role_arn` or an `mfa_serial`
/// somewhere in its chain); `None` when the item's long-lived keys are to be used as they are.
pub fn credentials_for_profile(
    ctx: &Ctx,
    item: &Item,
    files: &AwsFiles,
    profile: &str,
) -> Result<Option<Credentials>> {
    let Some(plan) = plan::build(&ctx.caller, files, item, profile)? else {
        return Ok(None);
    };
    let keys = item.access_keys()?;
    let cache = Cache::open(ctx)?;
    let key = plan.key(item, &keys.access_key_id);
    if let Some(c) = cache.get_fresh(&key) {
        return Ok(Some(c));
    }
    let deadline = std::time::Instant::now() + client::CALL_DEADLINE;
    // Another process may have done the work (or found STS silent) while we waited.
    let _lock = match cache.turn(&key, deadline)? {
        cache::Turn::Cached(c) => return Ok(Some(c)),
        cache::Turn::Mine(lock) => lock,
    };
    let made = make_profile_session(ctx, &cache, &plan, item, &keys, key.clone(), deadline);
    cache.settle(&key, &made);
    made.map(Some)
}

/// The STS calls for `plan`, and the session cached.
fn make_profile_session(
    ctx: &Ctx,
    cache: &Cache,
    plan: &Plan,
    item: &Item,
    keys: &crate::item::AccessKeys,
    key: String,
    deadline: std::time::Instant,
) -> Result<Credentials> {
    // Every STS flow starts with a request signed by the item's long-lived keys.
    plan::check_endpoint(plan.endpoint.as_deref(), &ctx.config.trusted_endpoints)?;
    let client = Client::new(&plan.region, plan.endpoint.as_deref())?.until(deadline);
    let base = Credentials::from(keys);
    let person = plan
        .roles
        .iter()
        .any(|r| r.session_name.is_none())
        .then(|| person(ctx, &client, item, &base));
    let creds = if plan.roles.is_empty() {
        // MFA only: the session itself is the result.
        let mfa = plan
            .mfa
            .as_ref()
            .ok_or_else(|| Error::Sts("nothing to ask STS for".into()))?;
        mfa_session(ctx, &client, item, &base, &mfa.serial, mfa.duration)?
    } else {
        assume_roles(ctx, cache, &client, item, plan, base, person.as_deref())?
    };
    let top = plan.roles.last();
    let session_name = top.and_then(|r| r.session_name.clone().or_else(|| person.clone()));
    cache.put(
        Meta {
            key,
            kind: if top.is_some() { "role" } else { "mfa-session" }.into(),
            profile: plan.profile.clone(),
            role_arn: top.map(|r| r.role_arn.clone()),
            item: item.title.clone(),
            mfa_serial: plan.mfa.as_ref().map(|m| m.serial.clone()),
            session_name,
            ..Meta::default()
        },
        &creds,
    )?;
    Ok(creds)
}

/// Temporary credentials from `item` for `profile`, whatever the profile asks: its role or MFA
/// session when it needs STS, else a session of the item's own keys (with the item's MFA
/// device when it has one and a code can be had), cached like the others. The credentials
/// endpoint serves these: its protocol carries temporary credentials only.
pub fn temporary_credentials(
    ctx: &Ctx,
    item: &Item,
    files: Option<&AwsFiles>,
    profile: Option<&str>,
) -> Result<Credentials> {
    if let (Some(f), Some(p)) = (files, profile)
        && let Some(c) = credentials_for_profile(ctx, item, f, p)?
    {
        return Ok(c);
    }
    let keys = item.access_keys()?;
    let region = ctx
        .caller
        .shell_region()
        .map(str::to_owned)
        .or_else(|| profile.and_then(|p| files?.region(p)).map(str::to_owned))
        .or_else(|| keys.region.clone())
        .unwrap_or_else(|| "us-east-1".to_owned());
    let endpoint = plan::endpoint(&ctx.caller, files, profile.unwrap_or("default"));
    let serial = item.get(crate::item::MFA_SERIAL).map(str::trim);
    let cache = Cache::open(ctx)?;
    let key = crate::digest::hash(&serde_json::json!({
        "v": 1,
        "item": item.title,
        "key": keys.access_key_id,
        "session": serial,
        "endpoint": endpoint,
    }));
    if let Some(c) = cache.get_fresh(&key) {
        return Ok(c);
    }
    let deadline = std::time::Instant::now() + client::CALL_DEADLINE;
    let _lock = match cache.turn(&key, deadline)? {
        cache::Turn::Cached(c) => return Ok(c),
        cache::Turn::Mine(lock) => lock,
    };
    plan::check_endpoint(endpoint.as_deref(), &ctx.config.trusted_endpoints)?;
    let client = Client::new(&region, endpoint.as_deref())?.until(deadline);
    let base = Credentials::from(&keys);
    let made = match serial {
        Some(serial) => mfa_session(ctx, &client, item, &base, serial, None),
        None => client.get_session_token(&base, None, None),
    };
    cache.settle(&key, &made);
    let creds = made?;
    cache.put(
        Meta {
            key,
            kind: if serial.is_some() {
                "mfa-session"
            } else {
                "session"
            }
            .into(),
            profile: profile.unwrap_or("").to_owned(),
            role_arn: None,
            item: item.title.clone(),
            mfa_serial: serial.map(str::to_owned),
            ..Meta::default()
        },
        &creds,
    )?;
    Ok(creds)
}

fn mfa_session(
    ctx: &Ctx,
    client: &Client,
    item: &Item,
    base: &Credentials,
    serial: &str,
    duration: Option<u32>,
) -> Result<Credentials> {
    let (code, guard) = mfa::code(ctx, item, serial)?;
    let result = client.get_session_token(base, Some((serial, &code)), duration);
    guard.used()?;
    result
}

/// The roles bottom-up; under MFA, signed first by a (cached) MFA session of the item.
fn assume_roles(
    ctx: &Ctx,
    cache: &Cache,
    client: &Client,
    item: &Item,
    plan: &Plan,
    base: Credentials,
    person: Option<&str>,
) -> Result<Credentials> {
    let mut signer = base;
    let mut session_key = None;
    if let (Some(m), Some(mkey)) = (&plan.mfa, plan.mfa_key(item, &signer.access_key_id)) {
        signer = match cache.get_fresh(&mkey) {
            Some(s) => s,
            None => {
                // Lock order is always role key, then session key: no deadlock between profiles.
                let _l = cache.lock(&mkey)?;
                match cache.get_fresh(&mkey) {
                    Some(s) => s,
                    None => {
                        let s = mfa_session(ctx, client, item, &signer, &m.serial, m.duration)?;
                        cache.put(
                            Meta {
                                key: mkey.clone(),
                                kind: "mfa-session".into(),
                                profile: plan.base_profile().to_owned(),
                                role_arn: None,
                                item: item.title.clone(),
                                mfa_serial: Some(m.serial.clone()),
                                ..Meta::default()
                            },
                            &s,
                        )?;
                        s
                    }
                }
            }
        };
        session_key = Some(mkey);
    }
    for (i, role) in plan.roles.iter().enumerate() {
        let name = role
            .session_name
            .as_deref()
            .or(person)
            .ok_or_else(|| Error::Sts("no session name".into()))?;
        signer = client.assume_role(&signer, role, name).inspect_err(|e| {
            // A session STS no longer honours must not be offered again.
            if i == 0
                && let (Some(k), Error::StsCall { code, .. }) = (&session_key, e)
                && matches!(code.as_str(), "ExpiredToken" | "InvalidClientTokenId")
            {
                cache.remove(k);
            }
        })?;
    }
    Ok(signer)
}

/// Who is behind `item`'s keys, for the session names CloudTrail shows: the IAM user name
/// (GetCallerIdentity, asked once per key and kept in the cache directory; a key id and a user
/// name are not secrets), else the login name, else `op-aws-<item>`.
fn person(ctx: &Ctx, client: &Client, item: &Item, base: &Credentials) -> String {
    let path = ctx.dirs.cache.join("people.json");
    let mut known: std::collections::BTreeMap<String, String> = crate::fsutil::read_optional(&path)
        .ok()
        .flatten()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let user = match known.get(&base.access_key_id) {
        Some(u) => Some(u.clone()),
        None => client.caller_arn(base).ok().map(|arn| {
            let user = iam_user_name(&arn).unwrap_or_default();
            known.insert(base.access_key_id.clone(), user.clone());
            if let Ok(json) = serde_json::to_vec_pretty(&known)
                && crate::fsutil::ensure_private_dir(&ctx.dirs.cache).is_ok()
            {
                // Only a shortcut: failing to keep it costs one request next time.
                let _ = crate::fsutil::write_atomic(&path, &json, 0o600);
            }
            user
        }),
    };
    user.filter(|u| !u.is_empty())
        .or_else(|| {
            ctx.caller
                .var("USER")
                .or_else(|| ctx.caller.var("LOGNAME"))
                .map(str::to_owned)
        })
        .and_then(|who| plan::session_name_for(&who))
        .unwrap_or_else(|| plan::default_session_name(&item.title))
}

/// `alice` from `arn:aws:iam::123456789012:user/team/alice`; None for anything but a user.
fn iam_user_name(arn: &str) -> Option<String> {
    let resource = arn.splitn(6, ':').nth(5)?;
    let path = resource.strip_prefix("user/")?;
    path.rsplit('/')
        .next()
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    #[test]
    fn user_names_from_arns() {
        assert_eq!(
            super::iam_user_name("arn:aws:iam::123456789012:user/team/alice").as_deref(),
            Some("alice")
        );
        assert_eq!(
            super::iam_user_name("arn:aws:iam::123456789012:user/bob").as_deref(),
            Some("bob")
        );
        assert_eq!(super::iam_user_name("arn:aws:iam::123456789012:root"), None);
        assert_eq!(
            super::iam_user_name("arn:aws:sts::1:assumed-role/R/x"),
            None
        );
    }
}
