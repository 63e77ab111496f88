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
use crate::model::policy::Scope;
use crate::{Error, Result};

use cache::{Cache, Meta};
use client::Client;
use plan::Plan;

/// Temporary credentials for `profile` when it needs STS (a `role_arn` or an `mfa_serial`
/// somewhere in its chain); `None` when the item's long-lived keys are to be used as they are.
/// `scope` narrows the final session (a session policy, an agent's duration and attribution).
pub fn credentials_for_profile(
    ctx: &Ctx,
    item: &Item,
    files: &AwsFiles,
    profile: &str,
    scope: &Scope,
) -> Result<Option<Credentials>> {
    let Some(plan) = plan::build(&ctx.caller, files, item, profile)? else {
        return Ok(None);
    };
    let keys = item.access_keys()?;
    let cache = Cache::open(ctx)?;
    let key = scoped_key(plan.key(item, &keys.access_key_id), scope);
    if let Some(c) = cache.get_fresh(&key) {
        return Ok(Some(c));
    }
    let deadline = std::time::Instant::now() + client::CALL_DEADLINE;
    // Another process may have done the work (or found STS silent) while we waited.
    let _lock = match cache.turn(&key, deadline)? {
        cache::Turn::Cached(c) => return Ok(Some(c)),
        cache::Turn::Mine(lock) => lock,
    };
    let made = make_profile_session(
        ctx,
        &cache,
        &plan,
        item,
        &keys,
        scope,
        key.clone(),
        deadline,
    );
    cache.settle(&key, &made);
    made.map(Some)
}

/// The STS calls for `plan`, and the session cached.
#[allow(clippy::too_many_arguments)]
fn make_profile_session(
    ctx: &Ctx,
    cache: &Cache,
    plan: &Plan,
    item: &Item,
    keys: &crate::item::AccessKeys,
    scope: &Scope,
    key: String,
    deadline: std::time::Instant,
) -> Result<Credentials> {
    // Every STS flow starts with a request signed by the item's long-lived keys.
    plan::check_endpoint(plan.endpoint.as_deref(), &ctx.config.trusted_endpoints)?;
    let client = Client::new(&plan.region, plan.endpoint.as_deref())?
        .with_variant(plan.variant)
        .until(deadline)
        .showing(&ctx.caller.progress);
    let base = Credentials::from(keys);
    let person = (!plan.roles.is_empty()
        && (scope.agent.is_some() || plan.roles.iter().any(|r| r.session_name.is_none())))
    .then(|| person(ctx, &client, item, &base));
    let creds = if plan.roles.is_empty() && !scope.policy.is_empty() {
        // No role to carry the policy: a federation token of the item's keys does (it cannot
        // carry MFA; see docs/agents.md).
        federation(&client, item, &base, scope)?
    } else if plan.roles.is_empty() {
        // MFA only: the session itself is the result.
        let mfa = plan
            .mfa
            .as_ref()
            .ok_or_else(|| Error::Sts("nothing to ask STS for".into()))?;
        let duration = shortest(mfa.duration, scope.duration);
        mfa_session(
            ctx,
            &client,
            item,
            &base,
            (&mfa.serial, mfa.process.as_ref()),
            duration,
        )?
    } else {
        assume_roles(
            ctx,
            cache,
            &client,
            item,
            plan,
            base,
            person.as_deref(),
            scope,
        )?
    };
    let top = plan.roles.last();
    let session_name = top.and_then(|r| {
        let name = r.session_name.clone().or_else(|| person.clone())?;
        Some(match &scope.agent {
            Some(a) => crate::policy::agent_session_name(&name, a),
            None => name,
        })
    });
    let kind = match (top, scope.policy.is_empty()) {
        (Some(_), _) => "role",
        (None, false) => "federation",
        (None, true) => "mfa-session",
    };
    cache.put(
        Meta {
            key,
            kind: kind.into(),
            profile: plan.profile.clone(),
            role_arn: top.map(|r| r.role_arn.clone()),
            item: item.title.clone(),
            mfa_serial: plan.mfa.as_ref().map(|m| m.serial.clone()),
            session_name,
            policy: (!scope.policy.is_empty()).then(|| scope.policy.describe()),
            agent: scope.agent.clone(),
            ..Meta::default()
        },
        &creds,
    )?;
    Ok(creds)
}

/// A plain request's cache key as it is (what the cache held before scopes existed); a scoped
/// one's apart from it, so a person never gets an agent's session nor the reverse.
fn scoped_key(key: String, scope: &Scope) -> String {
    if scope.is_plain() {
        key
    } else {
        crate::digest::hash(&serde_json::json!({"v": 1, "base": key, "scope": scope.key_json()}))
    }
}

fn shortest(a: Option<u32>, b: Option<u32>) -> Option<u32> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// GetFederationToken for `scope` (its policy, duration and agent's tag).
fn federation(
    client: &Client,
    item: &Item,
    base: &Credentials,
    scope: &Scope,
) -> Result<Credentials> {
    // GetFederationToken's Name: 2 to 32 of STS's session-name characters.
    let mut name = match &scope.agent {
        Some(a) => format!("op-aws+{a}"),
        None => plan::default_session_name(&item.title),
    };
    name.truncate(32);
    let tags: Vec<(String, String)> = scope
        .agent
        .iter()
        .map(|a| (crate::policy::AGENT_TAG.to_owned(), a.clone()))
        .collect();
    client.get_federation_token(base, &name, &scope.policy, scope.duration, &tags)
}

/// Temporary credentials from `item` for `profile`, whatever the profile asks: its role or MFA
/// session when it needs STS, else a session of the item's own keys (with the item's MFA
/// device when it has one and a code can be had), cached like the others. The credentials
/// endpoint serves these: its protocol carries temporary credentials only. With a session
/// policy and no role, a federation token carries the policy.
pub fn temporary_credentials(
    ctx: &Ctx,
    item: &Item,
    files: Option<&AwsFiles>,
    profile: Option<&str>,
    scope: &Scope,
) -> Result<Credentials> {
    if let (Some(f), Some(p)) = (files, profile)
        && let Some(c) = credentials_for_profile(ctx, item, f, p, scope)?
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
    let federated = !scope.policy.is_empty();
    // A federation token cannot carry MFA.
    let serial = item
        .get(crate::item::MFA_SERIAL)
        .map(str::trim)
        .filter(|_| !federated);
    let cache = Cache::open(ctx)?;
    let key = scoped_key(
        crate::digest::hash(&serde_json::json!({
            "v": 1,
            "item": item.title,
            "key": keys.access_key_id,
            "session": serial,
            "endpoint": endpoint,
        })),
        scope,
    );
    if let Some(c) = cache.get_fresh(&key) {
        return Ok(c);
    }
    let deadline = std::time::Instant::now() + client::CALL_DEADLINE;
    let _lock = match cache.turn(&key, deadline)? {
        cache::Turn::Cached(c) => return Ok(c),
        cache::Turn::Mine(lock) => lock,
    };
    plan::check_endpoint(endpoint.as_deref(), &ctx.config.trusted_endpoints)?;
    let client = Client::new(&region, endpoint.as_deref())?
        .with_variant(plan::variant(
            &ctx.caller,
            files,
            profile.unwrap_or("default"),
        ))
        .until(deadline)
        .showing(&ctx.caller.progress);
    let base = Credentials::from(&keys);
    let made = match serial {
        _ if federated => federation(&client, item, &base, scope),
        Some(serial) => mfa_session(ctx, &client, item, &base, (serial, None), scope.duration),
        None => client.get_session_token(&base, None, scope.duration),
    };
    cache.settle(&key, &made);
    let creds = made?;
    let kind = match (federated, serial) {
        (true, _) => "federation",
        (false, Some(_)) => "mfa-session",
        (false, None) => "session",
    };
    cache.put(
        Meta {
            key,
            kind: kind.into(),
            profile: profile.unwrap_or("").to_owned(),
            role_arn: None,
            item: item.title.clone(),
            mfa_serial: serial.map(str::to_owned),
            policy: federated.then(|| scope.policy.describe()),
            agent: scope.agent.clone(),
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
    (serial, process): (&str, Option<&mfa::Process>),
    duration: Option<u32>,
) -> Result<Credentials> {
    let (code, guard) = mfa::code(ctx, item, serial, process)?;
    let result = client.get_session_token(base, Some((serial, &code)), duration);
    guard.used()?;
    result
}

/// The roles bottom-up; under MFA, signed first by a (cached) MFA session of the item. The top
/// one carries `scope`.
#[allow(clippy::too_many_arguments)]
fn assume_roles(
    ctx: &Ctx,
    cache: &Cache,
    client: &Client,
    item: &Item,
    plan: &Plan,
    base: Credentials,
    person: Option<&str>,
    scope: &Scope,
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
                        let s = mfa_session(
                            ctx,
                            client,
                            item,
                            &signer,
                            (&m.serial, m.process.as_ref()),
                            m.duration,
                        )?;
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
        let forget_stale = |e: &Error| {
            // A session STS no longer honours must not be offered again.
            if i == 0
                && let (Some(k), Error::StsCall { code, .. }) = (&session_key, e)
                && matches!(code.as_str(), "ExpiredToken" | "InvalidClientTokenId")
            {
                cache.remove(k);
            }
        };
        signer = if i + 1 == plan.roles.len() && !scope.is_plain() {
            top_role(client, &signer, role, name, scope).inspect_err(forget_stale)?
        } else {
            client
                .assume_role(&signer, role, name)
                .inspect_err(forget_stale)?
        };
    }
    Ok(signer)
}

/// The top role under `scope`: its policy, the agent's duration, and for an agent a session
/// name, SourceIdentity and tag naming it. A role whose trust policy does not allow
/// `sts:SetSourceIdentity` / `sts:TagSession` refuses those with AccessDenied: the role is then
/// assumed once more without them (the session name still names the agent).
fn top_role(
    client: &Client,
    signer: &Credentials,
    role: &plan::RoleStep,
    name: &str,
    scope: &Scope,
) -> Result<Credentials> {
    let mut step = role.clone();
    step.duration = shortest(step.duration, scope.duration);
    let Some(agent) = &scope.agent else {
        return client.assume_role_scoped(signer, &step, name, &scope.policy);
    };
    let name = crate::policy::agent_session_name(name, agent);
    let plain = step.clone();
    if step.source_identity.is_none() {
        step.source_identity = Some(crate::policy::agent_source_identity(
            name.split('+').next().unwrap_or(&name),
            agent,
        ));
    }
    if !step.tags.iter().any(|(k, _)| k == crate::policy::AGENT_TAG) {
        step.tags
            .push((crate::policy::AGENT_TAG.to_owned(), agent.clone()));
    }
    match client.assume_role_scoped(signer, &step, &name, &scope.policy) {
        Err(Error::StsCall { code, .. }) if code == "AccessDenied" => {
            client.assume_role_scoped(signer, &plain, &name, &scope.policy)
        }
        r => r,
    }
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

/// The roles of `chain` above a base op-aws signed itself (an SSO role's credentials, an
/// `aws login` session), each assumed in turn; the top session is cached under a key made of
/// `base_key`, the roles and `scope` (which the top role carries: an agent's session policy,
/// duration and name), recorded as `label`'s. `base` itself when no role sits above.
#[allow(clippy::too_many_arguments)]
pub fn roles_over(
    ctx: &Ctx,
    files: &AwsFiles,
    chain: &crate::awsfiles::ProfileChain,
    profile: &str,
    base: Credentials,
    base_key: &str,
    label: &str,
    fallback_session_name: &str,
    scope: &Scope,
) -> Result<Credentials> {
    let roles = plan::role_steps_over_role(files, &chain.roles)?;
    if roles.is_empty() {
        return Ok(base);
    }
    let top_key = scoped_key(
        crate::digest::hash(&serde_json::json!({
            "v": 1,
            "over": base_key,
            "roles": roles.iter().map(|r| (&r.role_arn, &r.session_name, &r.external_id, r.duration)).collect::<Vec<_>>(),
        })),
        scope,
    );
    Cache::open(ctx)?.fresh_or(&top_key, || {
        let region = plan::region(&ctx.caller, files, &chain.profiles(), None);
        let endpoint = plan::endpoint(&ctx.caller, Some(files), profile);
        plan::check_endpoint(endpoint.as_deref(), &ctx.config.trusted_endpoints)?;
        let client = Client::new(&region, endpoint.as_deref())?
            .with_variant(plan::variant(&ctx.caller, Some(files), profile))
            .showing(&ctx.caller.progress);
        let who = ctx
            .caller
            .var("USER")
            .or_else(|| ctx.caller.var("LOGNAME"))
            .and_then(plan::session_name_for)
            .unwrap_or_else(|| fallback_session_name.to_owned());
        let mut signer = base;
        for (i, r) in roles.iter().enumerate() {
            let name = r.session_name.as_deref().unwrap_or(&who);
            signer = if i + 1 == roles.len() && !scope.is_plain() {
                top_role(&client, &signer, r, name, scope)?
            } else {
                client.assume_role(&signer, r, name)?
            };
        }
        let meta = Meta {
            key: top_key.clone(),
            kind: "role".into(),
            profile: profile.to_owned(),
            role_arn: roles.last().map(|r| r.role_arn.clone()),
            item: label.to_owned(),
            session_name: roles
                .last()
                .and_then(|r| r.session_name.clone())
                .or(Some(who)),
            ..Meta::default()
        };
        Ok((signer, meta))
    })
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
