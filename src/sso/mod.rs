//! IAM Identity Center done by op-aws: the OIDC device flow, tokens kept encrypted (never in
//! `~/.aws/sso/cache`), refreshed with the refresh token, and role credentials for SSO profiles
//! (and the roles above them), cached like STS sessions.
//!
//! One sign-in per expiry for every process: the token of a session is read, refreshed or
//! signed in again under one lock per session, so N processes that find it expired cause one
//! refresh (or one device authorization) and wait for its result.

pub mod client;
pub mod code;
pub mod populate;

use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::awsfiles::{AwsFiles, Base, ProfileChain};
use crate::creds::Credentials;
use crate::ctx::Ctx;
use crate::model::sso::Session;
use crate::sts::cache::{Cache, Meta};
use crate::sts::plan;
use crate::{Error, Result, fsutil, vault};

use client::{Clients, Poll};

/// The scope AWS's own CLI asks for: without a registration scope there is no refresh token.
pub const DEFAULT_SCOPE: &str = "sso:account:access";
/// An access token this close to its expiry is refreshed first.
const TOKEN_MARGIN_SECS: u64 = 5 * 60;
const AGENT_PREFIX: &str = "sso:";

/// The `[sso-session NAME]` section.
pub fn session_named(files: &AwsFiles, name: &str) -> Result<Session> {
    let get = |k: &str| files.sso_session_get(name, k).map(str::to_owned);
    if !files.sso_session_names().iter().any(|n| n == name) {
        return Err(Error::Invalid(format!(
            "no [sso-session {name}] in the AWS config (sessions: {})",
            files.sso_session_names().join(", ")
        )));
    }
    let need = |k: &str| {
        get(k).ok_or_else(|| {
            Error::Invalid(format!(
                "[sso-session {name}] has no {k}; add it to the AWS config"
            ))
        })
    };
    let scopes = get("sso_registration_scopes").map_or_else(
        || vec![DEFAULT_SCOPE.to_owned()],
        |s| {
            s.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        },
    );
    Ok(Session {
        name: name.to_owned(),
        start_url: need("sso_start_url")?,
        region: need("sso_region")?,
        scopes,
        legacy: false,
    })
}

/// The SSO session, account and role of `profile`, when it is an SSO profile.
pub fn of_profile(files: &AwsFiles, profile: &str) -> Result<Option<(Session, String, String)>> {
    let session = match (
        files.get(profile, "sso_session"),
        files.get(profile, "sso_start_url"),
    ) {
        (Some(name), _) => session_named(files, name)?,
        (None, Some(url)) => Session {
            name: url.to_owned(),
            start_url: url.to_owned(),
            region: files
                .get(profile, "sso_region")
                .ok_or_else(|| {
                    Error::bad_profile(profile, "has sso_start_url but no sso_region".into())
                })?
                .to_owned(),
            scopes: Vec::new(),
            legacy: true,
        },
        (None, None) => return Ok(None),
    };
    let need = |k: &str| {
        files
            .get(profile, k)
            .map(str::to_owned)
            .ok_or_else(|| Error::bad_profile(profile, format!("is an SSO profile without {k}")))
    };
    Ok(Some((
        session,
        need("sso_account_id")?,
        need("sso_role_name")?,
    )))
}

/// The SSO session at the bottom of `chain`, when op-aws holds a token for it (signed in with
/// `op-aws sso login` and not logged out); None: the tool resolves the profile itself.
pub fn held_base(ctx: &Ctx, files: &AwsFiles, chain: &ProfileChain) -> Option<Session> {
    let Base::SelfResolving { profile, key } = &chain.base else {
        return None;
    };
    if !matches!(*key, "sso_session" | "sso_start_url") {
        return None;
    }
    let (session, _, _) = of_profile(files, profile).ok()??;
    meta_path(ctx, &session.key()).is_file().then_some(session)
}

/// What is known of a token without decrypting it (`sso status`); never a token.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TokenMeta {
    pub key: String,
    pub session: String,
    pub start_url: String,
    pub region: String,
    /// Seconds since the epoch.
    pub expires_at: u64,
    /// A refresh token is held and the client registration it needs has not expired.
    pub can_refresh: bool,
    pub registration_expires_at: u64,
    pub signed_in_at: u64,
    /// "file" (encrypted to the vault) or "agent" (memory only, no local vault).
    pub store: String,
}

#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
struct Stored {
    access_token: String,
    refresh_token: Option<String>,
    client_id: String,
    client_secret: String,
    registration_expires_at: u64,
    expires_at: u64,
}

fn meta_path(ctx: &Ctx, key: &str) -> PathBuf {
    crate::sealed::meta_path(ctx, "sso", key)
}

fn blob_path(ctx: &Ctx, key: &str) -> PathBuf {
    crate::sealed::blob_path(ctx, "sso", key)
}

/// Decrypts an `sso-KEY.age` blob in `dir` for the agent: only a blob whose plaintext is an
/// SSO token is answered, so this decrypts nothing else.
pub fn decrypt_token(
    id: &vault::Identity,
    dir: &std::path::Path,
    key: &str,
) -> Result<Option<Zeroizing<String>>> {
    crate::sealed::decrypt(id, dir, "sso", key, |plain| {
        let stored: Stored = serde_json::from_slice(plain).ok()?;
        serde_json::to_string(&stored).ok().map(Zeroizing::new)
    })
}

fn read_meta(ctx: &Ctx, key: &str) -> Option<TokenMeta> {
    crate::sealed::read_meta(ctx, "sso", key)
}

/// Every session op-aws holds a token for.
pub fn list(ctx: &Ctx) -> Result<Vec<TokenMeta>> {
    let mut out: Vec<TokenMeta> = crate::sealed::metas(ctx, "sso")?;
    out.sort_by(|a, b| a.session.cmp(&b.session));
    Ok(out)
}

/// The stored token, decrypted by the agent (unlocking first on a terminal).
fn read_stored(ctx: &Ctx, key: &str) -> Result<Option<Stored>> {
    let Some(meta) = read_meta(ctx, key) else {
        return Ok(None);
    };
    let json = crate::sealed::get(ctx, &meta.store, &format!("{AGENT_PREFIX}{key}"), || {
        ctx.agent.sso_token(&ctx.dirs.cache, key)
    })?;
    Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
}

fn write_stored(ctx: &Ctx, session: &Session, stored: &Stored) -> Result<()> {
    let key = session.key();
    let json =
        Zeroizing::new(serde_json::to_string(stored).map_err(|e| Error::Invalid(e.to_string()))?);
    let store = crate::sealed::put(
        ctx,
        &blob_path(ctx, &key),
        &format!("{AGENT_PREFIX}{key}"),
        json,
    )?;
    let now = client::now_secs();
    let meta = TokenMeta {
        key: key.clone(),
        session: session.name.clone(),
        start_url: session.start_url.clone(),
        region: session.region.clone(),
        expires_at: stored.expires_at,
        can_refresh: stored.refresh_token.is_some() && stored.registration_expires_at > now,
        registration_expires_at: stored.registration_expires_at,
        signed_in_at: now,
        store: store.into(),
    };
    let m = serde_json::to_vec_pretty(&meta).map_err(|e| Error::Invalid(e.to_string()))?;
    fsutil::write_atomic(&meta_path(ctx, &key), &m, 0o600)
}

/// How a sign-in may happen when neither the token nor its refresh works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignIn {
    /// `sso login`: always, even over a valid token; `device`: the device flow, not the
    /// authorization code (`--use-device-code`).
    Force { browser: bool, device: bool },
    /// A command that needs the token: a sign-in if a person can approve it (a terminal, or a
    /// BROWSER to open).
    IfNeeded,
}

fn clients(ctx: &Ctx, files: Option<&AwsFiles>, session: &Session) -> Result<Clients> {
    let profile = ctx.caller.profile().unwrap_or("default");
    let oidc = plan::service_endpoint(&ctx.caller, files, profile, "SSO_OIDC");
    let portal = plan::service_endpoint(&ctx.caller, files, profile, "SSO");
    // The access token and client secret are bearer secrets: AWS, loopback or trusted only.
    plan::check_endpoint(oidc.as_deref(), &ctx.config.trusted_endpoints)?;
    plan::check_endpoint(portal.as_deref(), &ctx.config.trusted_endpoints)?;
    Ok(Clients::new(
        &session.region,
        oidc.as_deref(),
        portal.as_deref(),
        plan::variant(&ctx.caller, files, profile),
    )?
    .showing(&ctx.caller.progress))
}

/// The session's access token: the held one while fresh, else refreshed, else (as `sign_in`
/// allows) a new device authorization; one process at a time per session does the work.
pub fn access_token(
    ctx: &Ctx,
    files: Option<&AwsFiles>,
    session: &Session,
    sign_in: SignIn,
) -> Result<SecretString> {
    let key = session.key();
    let fresh = |s: &Stored| s.expires_at > client::now_secs() + TOKEN_MARGIN_SECS;
    if !matches!(sign_in, SignIn::Force { .. })
        && let Some(s) = read_stored(ctx, &key)?.filter(|s| fresh(s))
    {
        return Ok(SecretString::from(s.access_token.as_str()));
    }
    fsutil::ensure_private_dir(&ctx.dirs.cache)?;
    let _lock = fsutil::lock_exclusive(&meta_path(ctx, &key))?;
    let held = read_stored(ctx, &key)?;
    if let SignIn::Force { browser, device } = sign_in {
        return sign_in_now(ctx, files, session, browser, device);
    }
    // Someone else refreshed or signed in while we waited.
    if let Some(s) = held.as_ref().filter(|s| fresh(s)) {
        return Ok(SecretString::from(s.access_token.as_str()));
    }
    if let Some(s) = &held
        && let Some(refresh) = &s.refresh_token
        && s.registration_expires_at > client::now_secs()
    {
        let c = clients(ctx, files, session)?;
        match c.refresh(&s.client_id, &s.client_secret, refresh) {
            Ok(t) => {
                let new = Stored {
                    access_token: t.access_token.expose_secret().to_owned(),
                    refresh_token: t
                        .refresh_token
                        .map(|r| r.expose_secret().to_owned())
                        .or_else(|| Some(refresh.clone())),
                    client_id: s.client_id.clone(),
                    client_secret: s.client_secret.clone(),
                    registration_expires_at: s.registration_expires_at,
                    expires_at: client::now_secs() + t.expires_in,
                };
                write_stored(ctx, session, &new)?;
                return Ok(SecretString::from(new.access_token.as_str()));
            }
            // The refresh token is spent or revoked: forgotten, so that no one waiting for
            // this lock tries it again, and a sign-in below.
            Err(Error::SsoCall { code, .. })
                if matches!(
                    code.as_str(),
                    "InvalidGrantException"
                        | "ExpiredTokenException"
                        | "InvalidClientException"
                        | "UnauthorizedClientException"
                        | "AccessDeniedException"
                ) =>
            {
                let spent = Stored {
                    access_token: s.access_token.clone(),
                    refresh_token: None,
                    client_id: s.client_id.clone(),
                    client_secret: s.client_secret.clone(),
                    registration_expires_at: s.registration_expires_at,
                    expires_at: s.expires_at,
                };
                write_stored(ctx, session, &spent)?;
            }
            Err(e) => return Err(e),
        }
    }
    // A sign-in is shown on the caller's terminal and opens its browser.
    if ctx.agent.is_in_process() {
        return Err(Error::NeedsCaller("an SSO sign-in"));
    }
    let browser = browser_command(ctx).is_some();
    if !ctx.caller.terminal && !browser {
        return Err(Error::SsoSignInNeeded {
            session: session.name.clone(),
            flag: session.flag(),
        });
    }
    sign_in_now(ctx, files, session, browser, false)
}

/// A sign-in: the authorization code with PKCE, the browser coming back to 127.0.0.1 — unless
/// asked for the device flow, or the browser cannot come back here: none to open, a shell over
/// SSH (its browser is on another machine), a legacy profile (AWS gives it the device flow only).
fn sign_in_now(
    ctx: &Ctx,
    files: Option<&AwsFiles>,
    session: &Session,
    browser: bool,
    device: bool,
) -> Result<SecretString> {
    let remote = ["SSH_CONNECTION", "SSH_TTY"]
        .iter()
        .any(|v| ctx.caller.var(v).is_some());
    if device || !browser || remote || session.legacy || browser_command(ctx).is_none() {
        return device_sign_in(ctx, files, session, browser);
    }
    let c = clients(ctx, files, session)?;
    let waiting = ctx
        .caller
        .progress
        .step("waiting for the sign-in in the browser");
    let (reg, token) = code::sign_in(
        &c,
        &session.scopes,
        &session.start_url,
        &session.name,
        |url| {
            eprintln!(
                "op-aws: sign in to {} ({}) in the browser; if none opens, open {}",
                crate::error::printable(&session.name),
                crate::error::printable(&session.start_url),
                crate::error::printable(url),
            );
            if let Err(why) = open_browser(ctx, url) {
                eprintln!(
                    "op-aws: could not open a browser ({why}); open the address above yourself"
                );
            }
        },
    )
    .map_err(|e| match e {
        // Timed out: the same words as the device flow's.
        Error::SsoSignInNeeded { .. } => Error::SsoSignInNeeded {
            session: session.name.clone(),
            flag: session.flag(),
        },
        e => e,
    })?;
    waiting.end();
    keep(ctx, session, &reg, token)
}

/// The OIDC device flow: register, start, show the code (and open the browser), poll.
fn device_sign_in(
    ctx: &Ctx,
    files: Option<&AwsFiles>,
    session: &Session,
    browser: bool,
) -> Result<SecretString> {
    let c = clients(ctx, files, session)?;
    let reg = c.register(&session.scopes)?;
    let auth = c.start_device_authorization(&reg, &session.start_url)?;
    let open = auth
        .verification_uri_complete
        .clone()
        .unwrap_or_else(|| auth.verification_uri.clone());
    eprintln!(
        "op-aws: sign in to {} ({}): open {} and check that it shows the code {}",
        crate::error::printable(&session.name),
        crate::error::printable(&session.start_url),
        crate::error::printable(&open),
        crate::error::printable(&auth.user_code),
    );
    if browser && let Err(why) = open_browser(ctx, &open) {
        eprintln!("op-aws: could not open a browser ({why}); open the address above yourself");
    }
    let deadline = client::now_secs() + auth.expires_in;
    let mut interval = auth.interval;
    let waiting = ctx
        .caller
        .progress
        .step("waiting for the sign-in in the browser");
    let token = loop {
        std::thread::sleep(std::time::Duration::from_secs(interval));
        match c.poll(
            &reg.client_id,
            reg.client_secret.expose_secret(),
            auth.device_code.expose_secret(),
        )? {
            Poll::Token(t) => break t,
            Poll::Pending => {}
            Poll::SlowDown => interval = (interval + 5).min(60),
        }
        if client::now_secs() > deadline {
            return Err(Error::SsoSignInNeeded {
                session: session.name.clone(),
                flag: session.flag(),
            });
        }
    };
    waiting.end();
    keep(ctx, session, &reg, token)
}

/// A sign-in's tokens, kept (encrypted) for every process.
fn keep(
    ctx: &Ctx,
    session: &Session,
    reg: &client::Registration,
    token: client::TokenAnswer,
) -> Result<SecretString> {
    let stored = Stored {
        access_token: token.access_token.expose_secret().to_owned(),
        // Legacy profiles get no refresh token from AWS; keep none if one came anyway.
        refresh_token: token
            .refresh_token
            .filter(|_| !session.legacy)
            .map(|r| r.expose_secret().to_owned()),
        client_id: reg.client_id.clone(),
        client_secret: reg.client_secret.expose_secret().to_owned(),
        registration_expires_at: reg.expires_at,
        expires_at: client::now_secs() + token.expires_in,
    };
    write_stored(ctx, session, &stored)?;
    eprintln!(
        "op-aws: signed in to {}",
        crate::error::printable(&session.name)
    );
    Ok(SecretString::from(stored.access_token.as_str()))
}

/// `BROWSER` (the first of a `:`-separated list), else `xdg-open` or `open`, found as the
/// caller's shell would find it.
pub fn browser_command(ctx: &Ctx) -> Option<PathBuf> {
    let c = &ctx.caller;
    let named = c
        .var("BROWSER")
        .and_then(|b| b.split(':').next())
        .map(str::trim)
        .filter(|b| !b.is_empty());
    match named {
        Some(b) => c.which(std::ffi::OsStr::new(b)).map(|p| c.absolute(&p)),
        None => ["xdg-open", "open"]
            .iter()
            .find_map(|b| c.which(std::ffi::OsStr::new(b))),
    }
}

pub fn open_browser(ctx: &Ctx, url: &str) -> std::result::Result<(), String> {
    let exe = browser_command(ctx).ok_or("no BROWSER, xdg-open or open found")?;
    let mut child = std::process::Command::new(&exe)
        .env_clear()
        // Like every program op-aws starts, it gets no variable that signs op-aws in.
        .envs(ctx.caller.vars_for_children())
        .current_dir(&ctx.caller.cwd)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("{}: {e}", exe.display()))?;
    // Reaped in the background: a browser may stay running.
    std::thread::spawn(move || child.wait());
    Ok(())
}

/// `sso login` (`device`: `--use-device-code`).
pub fn login(
    ctx: &Ctx,
    files: &AwsFiles,
    session: &Session,
    browser: bool,
    device: bool,
) -> Result<()> {
    access_token(ctx, Some(files), session, SignIn::Force { browser, device }).map(|_| ())
}

/// `sso logout`: the token is forgotten here (and ended at AWS when it can be), and the role
/// sessions it gave are dropped. False when none was held.
pub fn logout(ctx: &Ctx, files: Option<&AwsFiles>, session: &Session) -> Result<bool> {
    let key = session.key();
    if !meta_path(ctx, &key).is_file() {
        return Ok(false);
    }
    let _lock = fsutil::lock_exclusive(&meta_path(ctx, &key))?;
    if let Ok(Some(s)) = read_stored(ctx, &key)
        && let Ok(c) = clients(ctx, files, session)
    {
        let _ = c.logout(&s.access_token);
    }
    crate::sealed::forget(ctx, &blob_path(ctx, &key), &format!("{AGENT_PREFIX}{key}"));
    let _ = std::fs::remove_file(meta_path(ctx, &key));
    let cache = Cache::open(ctx)?;
    for m in crate::sts::cache::list(ctx)? {
        if m.item == item_label(session) {
            cache.remove(&m.key);
        }
    }
    Ok(true)
}

/// What the STS cache records as the "item" of a session from SSO.
fn item_label(session: &Session) -> String {
    format!("sso:{}", session.name)
}

/// Role credentials for an SSO `chain`: GetRoleCredentials for its bottom profile, then the
/// roles above it, each cached like any STS session.
pub fn credentials(
    ctx: &Ctx,
    files: &AwsFiles,
    chain: &ProfileChain,
    profile: &str,
    scope: &crate::model::policy::Scope,
) -> Result<Credentials> {
    let base_profile = chain.base_profile();
    let (session, account, role) = of_profile(files, base_profile)?
        .ok_or_else(|| Error::bad_profile(base_profile, "is not an SSO profile".into()))?;
    let cache = Cache::open(ctx)?;
    let label = item_label(&session);
    let base_key = crate::digest::hash(&serde_json::json!({
        "v": 1, "sso-role": session.key(), "account": account, "role": role,
    }));
    let base = cache.fresh_or(&base_key, || {
        let token = access_token(ctx, Some(files), &session, SignIn::IfNeeded)?;
        let c = clients(ctx, Some(files), &session)?;
        let creds = c.role_credentials(token.expose_secret(), &account, &role)?;
        let meta = Meta {
            key: base_key.clone(),
            kind: "sso-role".into(),
            profile: base_profile.to_owned(),
            role_arn: Some(format!("arn:aws:iam::{account}:role/{role}")),
            item: label.clone(),
            ..Meta::default()
        };
        Ok((creds, meta))
    })?;
    crate::sts::roles_over(
        ctx,
        files,
        chain,
        profile,
        base,
        &base_key,
        &label,
        &plan::default_session_name(&session.name),
        scope,
    )
}

/// The session a command means: `--sso-session`, else `--profile`'s or, when neither is given,
/// the caller's `AWS_PROFILE`'s, else the one session the AWS config has.
pub fn session_for(
    ctx: &Ctx,
    files: &AwsFiles,
    sso_session: Option<&str>,
    profile: Option<&str>,
) -> Result<Session> {
    let profile = profile.or_else(|| ctx.caller.profile());
    pick_session(
        files,
        sso_session,
        profile.filter(|_| sso_session.is_none()),
    )
}

/// The session a command names: `--sso-session NAME`, else the profile's (`--profile`, else
/// `AWS_PROFILE`), else the only `[sso-session]` in the config.
pub fn pick_session(
    files: &AwsFiles,
    sso_session: Option<&str>,
    profile: Option<&str>,
) -> Result<Session> {
    if let Some(name) = sso_session {
        return session_named(files, name);
    }
    if let Some(p) = profile {
        if !files.has_profile(p) {
            return Err(Error::Invalid(format!(
                "no profile {p:?} in the AWS config"
            )));
        }
        return of_profile(files, p)?.map(|(s, _, _)| s).ok_or_else(|| {
            Error::bad_profile(
                p,
                "is not an SSO profile (no sso_session or sso_start_url)".into(),
            )
        });
    }
    match files.sso_session_names().as_slice() {
        [one] => session_named(files, one),
        [] => Err(Error::Invalid(
            "no [sso-session NAME] in the AWS config; add one (see docs/sso.md) or name a profile with --profile".into(),
        )),
        many => Err(Error::Invalid(format!(
            "the AWS config has several SSO sessions ({}); choose one with --sso-session",
            many.join(", ")
        ))),
    }
}
