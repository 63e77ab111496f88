//! `aws login` sessions (AWS Sign-In) done and kept by op-aws: signed in with PKCE (a loopback
//! redirect, or a code pasted back over SSH), or adopted from the AWS CLI's plaintext cache;
//! the refresh token and the DPoP key kept encrypted like SSO tokens, never in a file of their
//! own; the 15-minute credentials refreshed under one lock per session, so N processes at the
//! refresh boundary cause one token call and all get its answer, and the rotated refresh token
//! is never lost. `login_session` profiles are then op-aws's to serve, roles on top included.

pub mod cache;
pub mod client;
pub mod dpop;

use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::awsfiles::{AwsFiles, Base, ProfileChain};
use crate::creds::Credentials;
use crate::ctx::Ctx;
use crate::sts::plan;
use crate::{Error, Result, fsutil, vault};

use client::{CLIENT_CROSS_DEVICE, CLIENT_SAME_DEVICE, Client, Grant, TokenAnswer};
use dpop::Key;

/// Credentials this close to their expiry are refreshed first (they last 15 minutes).
const MARGIN_SECS: u64 = 5 * 60;
const AGENT_PREFIX: &str = "signin:";
const PREFIX: &str = "signin";

pub(crate) fn now_secs() -> u64 {
    crate::item::now_secs()
}

/// The token's key: a digest of the `login_session` ARN.
pub fn key_of(login_session: &str) -> String {
    crate::digest::hash(&serde_json::json!({"v": 1, "login_session": login_session.trim()}))
}

/// What is known of a session without decrypting it; never a token.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TokenMeta {
    pub key: String,
    pub login_session: String,
    pub region: String,
    /// Seconds since the epoch: when the credentials held now expire.
    pub expires_at: u64,
    pub can_refresh: bool,
    pub signed_in_at: u64,
    /// "file" (encrypted to the vault) or "agent" (memory only, no local vault).
    pub store: String,
}

#[derive(Clone, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
struct Stored {
    login_session: String,
    region: String,
    access_key_id: String,
    secret_access_key: String,
    session_token: String,
    expires_at: u64,
    /// None once AWS refused it: a sign-in is needed.
    refresh_token: Option<String>,
    client_id: String,
    /// SEC1 PEM.
    dpop_key: String,
}

impl Stored {
    fn credentials(&self) -> Credentials {
        Credentials {
            access_key_id: self.access_key_id.clone(),
            secret_access_key: SecretString::from(self.secret_access_key.as_str()),
            session_token: Some(SecretString::from(self.session_token.as_str())),
            expiration: Some(UNIX_EPOCH + Duration::from_secs(self.expires_at)),
        }
    }

    fn fresh(&self) -> bool {
        self.expires_at > now_secs() + MARGIN_SECS
    }

    /// `self` after a token call's answer (the rotated refresh token kept).
    fn after(&self, t: &TokenAnswer) -> Self {
        Self {
            login_session: self.login_session.clone(),
            region: self.region.clone(),
            access_key_id: t.access_key_id.clone(),
            secret_access_key: t.secret_access_key.expose_secret().to_owned(),
            session_token: t.session_token.expose_secret().to_owned(),
            expires_at: now_secs() + t.expires_in,
            refresh_token: Some(t.refresh_token.expose_secret().to_owned()),
            client_id: self.client_id.clone(),
            dpop_key: self.dpop_key.clone(),
        }
    }
}

fn meta_path(ctx: &Ctx, key: &str) -> PathBuf {
    crate::sealed::meta_path(ctx, PREFIX, key)
}

fn blob_path(ctx: &Ctx, key: &str) -> PathBuf {
    crate::sealed::blob_path(ctx, PREFIX, key)
}

/// Decrypts a `signin-KEY.age` blob in `dir` for the agent: only a Sign-In token is answered.
pub fn decrypt_token(
    id: &vault::Identity,
    dir: &std::path::Path,
    key: &str,
) -> Result<Option<Zeroizing<String>>> {
    crate::sealed::decrypt(id, dir, PREFIX, key, |plain| {
        let stored: Stored = serde_json::from_slice(plain).ok()?;
        serde_json::to_string(&stored).ok().map(Zeroizing::new)
    })
}

fn read_meta(ctx: &Ctx, key: &str) -> Option<TokenMeta> {
    crate::sealed::read_meta(ctx, PREFIX, key)
}

/// The region `login_session` was signed in to, when op-aws holds it.
pub fn region_of(ctx: &Ctx, login_session: &str) -> Option<String> {
    read_meta(ctx, &key_of(login_session)).map(|m| m.region)
}

/// Every `aws login` session op-aws holds.
pub fn list(ctx: &Ctx) -> Result<Vec<TokenMeta>> {
    let mut out: Vec<TokenMeta> = crate::sealed::metas(ctx, PREFIX)?;
    out.sort_by(|a, b| a.login_session.cmp(&b.login_session));
    Ok(out)
}

fn read_stored(ctx: &Ctx, key: &str) -> Result<Option<Stored>> {
    let Some(meta) = read_meta(ctx, key) else {
        return Ok(None);
    };
    let json = crate::sealed::get(ctx, &meta.store, &format!("{AGENT_PREFIX}{key}"), || {
        ctx.agent.signin_token(&ctx.dirs.cache, key)
    })?;
    Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
}

fn write_stored(ctx: &Ctx, stored: &Stored, signed_in: bool) -> Result<()> {
    let key = key_of(&stored.login_session);
    let json =
        Zeroizing::new(serde_json::to_string(stored).map_err(|e| Error::Invalid(e.to_string()))?);
    let store = crate::sealed::put(
        ctx,
        &blob_path(ctx, &key),
        &format!("{AGENT_PREFIX}{key}"),
        json,
    )?;
    let signed_in_at = if signed_in {
        now_secs()
    } else {
        read_meta(ctx, &key).map_or_else(now_secs, |m| m.signed_in_at)
    };
    let meta = TokenMeta {
        key: key.clone(),
        login_session: stored.login_session.clone(),
        region: stored.region.clone(),
        expires_at: stored.expires_at,
        can_refresh: stored.refresh_token.is_some(),
        signed_in_at,
        store: store.into(),
    };
    let m = serde_json::to_vec_pretty(&meta).map_err(|e| Error::Invalid(e.to_string()))?;
    fsutil::write_atomic(&meta_path(ctx, &key), &m, 0o600)
}

/// The `login_session` ARN at the bottom of `chain`, when op-aws holds that session (signed in
/// with `op-aws signin` or adopted with `import --login`); None: the tool resolves it itself.
pub fn held_base(ctx: &Ctx, files: &AwsFiles, chain: &ProfileChain) -> Option<String> {
    let Base::SelfResolving { profile, key } = &chain.base else {
        return None;
    };
    if *key != "login_session" {
        return None;
    }
    let arn = files.get(profile, "login_session")?.trim().to_owned();
    meta_path(ctx, &key_of(&arn)).is_file().then_some(arn)
}

/// The Sign-In client for calls about `profile`: its endpoint (`AWS_ENDPOINT_URL_SIGNIN`, the
/// profile's `endpoint_url`s) if trusted, else AWS's host in `region`.
fn client(ctx: &Ctx, files: Option<&AwsFiles>, profile: &str, region: &str) -> Result<Client> {
    let endpoint = plan::service_endpoint(&ctx.caller, files, profile, "SIGNIN");
    // The refresh token is a bearer secret (bound to the key, but still): AWS, loopback or
    // trusted endpoints only.
    plan::check_endpoint(endpoint.as_deref(), &ctx.config.trusted_endpoints)?;
    Ok(Client::new(region, endpoint.as_deref())?.showing(&ctx.caller.progress))
}

/// The session's credentials: the held ones while fresh, else refreshed (one process at a time
/// per session; the others wait and read its answer).
fn session_credentials(
    ctx: &Ctx,
    files: &AwsFiles,
    profile: &str,
    arn: &str,
) -> Result<Credentials> {
    let key = key_of(arn);
    let needed = |why: &str| Error::SignInNeeded {
        profile: profile.to_owned(),
        why: why.to_owned(),
    };
    if let Some(s) = read_stored(ctx, &key)?.filter(Stored::fresh) {
        return Ok(s.credentials());
    }
    fsutil::ensure_private_dir(&ctx.dirs.cache)?;
    let _lock = fsutil::lock_exclusive(&meta_path(ctx, &key))?;
    let held = read_stored(ctx, &key)?.ok_or_else(|| needed("op-aws no longer holds it"))?;
    // Someone else refreshed while we waited.
    if held.fresh() {
        return Ok(held.credentials());
    }
    let Some(refresh) = held.refresh_token.clone() else {
        return Err(needed("AWS Sign-In refused its refresh token"));
    };
    let c = client(ctx, Some(files), profile, &held.region)?;
    match c.token(
        &held.client_id,
        Grant::Refresh(&refresh),
        Key::from_pem(&held.dpop_key)?,
    ) {
        Ok(t) => {
            let new = held.after(&t);
            write_stored(ctx, &new, false)?;
            Ok(new.credentials())
        }
        // The refresh token is spent, revoked or past the session's 12 hours (AccessDenied,
        // as the AWS CLI reads it): forgotten, so that no one waiting for this lock tries it
        // again. Anything else (a malformed request, a proof refused for the clock's sake, the
        // network) keeps it for the next try.
        Err(Error::SignInCall { code, message, .. }) if code == "AccessDeniedException" => {
            let mut spent = held.clone();
            spent.refresh_token = None;
            write_stored(ctx, &spent, false)?;
            Err(needed(&format!("AWS Sign-In ended it ({code}: {message})")))
        }
        Err(e) => Err(e),
    }
}

/// Credentials for a `chain` that rests on an `aws login` session: the session's own, then the
/// roles above it (which the SDKs cannot do on a login profile), the top one under `scope`,
/// each cached like any STS session.
pub fn credentials(
    ctx: &Ctx,
    files: &AwsFiles,
    chain: &ProfileChain,
    profile: &str,
    scope: &crate::model::policy::Scope,
) -> Result<Credentials> {
    let base_profile = chain.base_profile();
    let arn = files
        .get(base_profile, "login_session")
        .map(str::trim)
        .ok_or_else(|| Error::bad_profile(base_profile, "has no login_session".into()))?
        .to_owned();
    let base = session_credentials(ctx, files, base_profile, &arn)?;
    crate::sts::roles_over(
        ctx,
        files,
        chain,
        profile,
        base,
        &key_of(&arn),
        &format!("login:{arn}"),
        &plan::default_session_name("op-aws-login"),
        scope,
    )
}

/// `signin --logout`: the session is forgotten here (its refresh token and key, the agent's
/// copy) and the role sessions made on it are dropped. False when op-aws did not hold it.
pub fn logout(ctx: &Ctx, login_session: &str) -> Result<bool> {
    let key = key_of(login_session);
    if !meta_path(ctx, &key).is_file() {
        return Ok(false);
    }
    let _lock = fsutil::lock_exclusive(&meta_path(ctx, &key))?;
    crate::sealed::forget(ctx, &blob_path(ctx, &key), &format!("{AGENT_PREFIX}{key}"));
    let _ = std::fs::remove_file(meta_path(ctx, &key));
    let cache = crate::sts::cache::Cache::open(ctx)?;
    let label = format!("login:{}", login_session.trim());
    for m in crate::sts::cache::list(ctx)? {
        if m.item == label {
            cache.remove(&m.key);
        }
    }
    Ok(true)
}

/// The keys a profile that `aws login` may sign in cannot have (they would win over it).
const OTHER_CREDENTIALS: &[(&str, &str)] = &[
    ("aws_access_key_id", "access keys"),
    ("role_arn", "a role"),
    ("sso_session", "IAM Identity Center"),
    ("sso_start_url", "IAM Identity Center"),
    ("credential_process", "credential_process"),
    ("web_identity_token_file", "web identity"),
    ("op_aws_item", "an op-aws item"),
];

/// How the person completes a sign-in.
pub enum Via<'a> {
    /// The browser on this machine, sent back to a listener on 127.0.0.1: `open` is handed the
    /// address to open.
    Browser(&'a mut dyn FnMut(&str)),
    /// `--remote`: `ask` is handed the address to open on any device and returns the code the
    /// page shows afterwards.
    Remote(&'a mut dyn FnMut(&str) -> Result<Zeroizing<String>>),
}

/// What a sign-in did.
pub struct Signed {
    pub login_session: String,
    pub region: String,
}

/// `op-aws signin`: signs `profile` in to AWS Sign-In, keeps the session encrypted, and points
/// the profile at it (`login_session`, and `region` when it has none) in the AWS config.
pub fn sign_in(
    ctx: &Ctx,
    files: &AwsFiles,
    profile: &str,
    region: Option<&str>,
    via: Via<'_>,
) -> Result<Signed> {
    // The name goes into a section header of the AWS config.
    if profile.is_empty()
        || profile.trim() != profile
        || profile
            .chars()
            .any(|c| c.is_control() || matches!(c, '[' | ']' | '#' | ';'))
    {
        return Err(Error::bad_profile(
            profile,
            "is not a name a section of the AWS config can carry; choose letters, digits, `-`, `_` or `.`".into(),
        ));
    }
    if files.has_profile(profile) {
        for (k, what) in OTHER_CREDENTIALS {
            if files.get(profile, k).is_some() {
                return Err(Error::bad_profile(
                    profile,
                    format!(
                        "is set up for {what} ({k}), which would win over an aws login session; name another profile (`op-aws signin --profile NEW`)"
                    ),
                ));
            }
        }
    }
    let region = region
        .map(str::to_owned)
        .unwrap_or_else(|| plan::region(&ctx.caller, files, &[profile.to_owned()], None));
    let c = client(ctx, Some(files), profile, &region)?;
    let pkce = crate::sso::code::Pkce::new()?;
    let key = Key::generate()?;
    let pem = key.to_pem()?;
    let (client_id, code, redirect_uri) = match via {
        Via::Browser(open) => {
            let redirect = crate::sso::code::Redirect::bind()?;
            let url = c.authorize_url(
                CLIENT_SAME_DEVICE,
                &redirect.uri,
                &pkce.state,
                &pkce.challenge,
            )?;
            open(&url);
            let waiting = ctx
                .caller
                .progress
                .step("waiting for the sign-in in the browser");
            let code = redirect
                .wait(
                    &pkce.state,
                    profile,
                    std::time::Instant::now() + crate::sso::code::WAIT,
                )
                .map_err(|e| match e {
                    Error::SsoSignInNeeded { .. } => Error::SignInNeeded {
                        profile: profile.to_owned(),
                        why: "the browser did not come back in time".into(),
                    },
                    Error::SsoCall { code, message, .. } => Error::SignInCall {
                        op: "Authorize",
                        code,
                        message,
                    },
                    e => e,
                })?;
            waiting.end();
            (CLIENT_SAME_DEVICE, code, redirect.uri)
        }
        Via::Remote(ask) => {
            let redirect_uri = format!("{}/v1/sessions/confirmation", c.base);
            let url = c.authorize_url(
                CLIENT_CROSS_DEVICE,
                &redirect_uri,
                &pkce.state,
                &pkce.challenge,
            )?;
            let pasted = ask(&url)?;
            let code = pasted_code(&pasted, &pkce.state)?;
            (CLIENT_CROSS_DEVICE, code, redirect_uri)
        }
    };
    let t = c.token(
        client_id,
        Grant::Code {
            code: &code,
            verifier: &pkce.verifier,
            redirect_uri: &redirect_uri,
        },
        key,
    )?;
    let arn = t
        .id_token
        .as_deref()
        .and_then(session_of_id_token)
        .ok_or_else(|| Error::SignInCall {
            op: "CreateOAuth2Token",
            code: "NoIdentity".into(),
            message: "the answer named no session (no idToken with a sub)".into(),
        })?;
    let stored = Stored {
        login_session: arn.clone(),
        region: region.clone(),
        access_key_id: t.access_key_id.clone(),
        secret_access_key: t.secret_access_key.expose_secret().to_owned(),
        session_token: t.session_token.expose_secret().to_owned(),
        expires_at: now_secs() + t.expires_in,
        refresh_token: Some(t.refresh_token.expose_secret().to_owned()),
        client_id: client_id.to_owned(),
        dpop_key: pem.as_str().to_owned(),
    };
    {
        fsutil::ensure_private_dir(&ctx.dirs.cache)?;
        let _lock = fsutil::lock_exclusive(&meta_path(ctx, &key_of(&arn)))?;
        write_stored(ctx, &stored, true)?;
    }
    let mut values = vec![("login_session", arn.as_str())];
    if files.region(profile).is_none() {
        values.push(("region", region.as_str()));
    }
    crate::awsfiles::set_in_profile(ctx, profile, &values)?;
    Ok(Signed {
        login_session: arn,
        region,
    })
}

/// The code in what the confirmation page showed: base64 of `state=...&code=...`, checked
/// against this sign-in's state.
pub(crate) fn pasted_code(pasted: &str, state: &str) -> Result<Zeroizing<String>> {
    use base64::Engine;
    let bad = || {
        Error::Invalid(
            "that is not the code the sign-in page showed; run `op-aws signin --remote` again and paste the whole code".into(),
        )
    };
    let text = base64::engine::general_purpose::STANDARD
        .decode(pasted.trim())
        .map_err(|_| bad())?;
    let mut code = None;
    let mut got_state = None;
    for (k, v) in url::form_urlencoded::parse(&text) {
        match k.as_ref() {
            "code" => code = Some(Zeroizing::new(v.into_owned())),
            "state" => got_state = Some(v.into_owned()),
            _ => {}
        }
    }
    if got_state.as_deref() != Some(state) {
        return Err(Error::Invalid(
            "the pasted code belongs to another sign-in (its state differs); run `op-aws signin --remote` again".into(),
        ));
    }
    code.filter(|c| !c.is_empty()).ok_or_else(bad)
}

/// The `sub` of an identity token (a JWT): the session's ARN.
pub(crate) fn session_of_id_token(jwt: &str) -> Option<String> {
    use base64::Engine;
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let sub = v["sub"].as_str()?.trim();
    let clean = !sub.chars().any(|c| c.is_whitespace() || c.is_control());
    (sub.starts_with("arn:") && clean).then(|| sub.to_owned())
}

/// One session `import --login` adopted.
pub struct Adopted {
    pub profiles: Vec<String>,
    pub login_session: String,
    /// The AWS CLI's cache file, now removed.
    pub removed: PathBuf,
}

/// `op-aws import --login`: every `login_session` profile's AWS CLI cache entry (or
/// `profile`'s alone) taken into op-aws and the plaintext file removed — only when it still
/// holds the bytes that were read (the AWS CLI may have rotated it meanwhile: then it is read
/// again next time, never lost).
pub fn adopt(ctx: &Ctx, files: &AwsFiles, profile: Option<&str>) -> Result<Vec<Adopted>> {
    let profiles: Vec<String> = match profile {
        Some(p) => {
            if files.get(p, "login_session").is_none() {
                return Err(Error::bad_profile(
                    p,
                    "has no login_session: it is not an aws login profile".into(),
                ));
            }
            vec![p.to_owned()]
        }
        None => files
            .profile_names()
            .into_iter()
            .filter(|p| files.get(p, "login_session").is_some())
            .collect(),
    };
    let dir = cache::dir(&ctx.caller)?;
    // One session may sign several profiles: adopted once.
    let mut sessions: Vec<(String, Vec<String>)> = Vec::new();
    for p in profiles {
        let arn = files
            .get(&p, "login_session")
            .unwrap_or_default()
            .trim()
            .to_owned();
        match sessions.iter_mut().find(|(a, _)| *a == arn) {
            Some((_, ps)) => ps.push(p),
            None => sessions.push((arn, vec![p])),
        }
    }
    let mut out = Vec::new();
    for (arn, profiles) in sessions {
        let path = cache::path(&dir, &arn);
        // Removing a link would leave the plaintext where it points (as `import` refuses for
        // keys): the entry must be the file itself.
        if let Ok(m) = std::fs::symlink_metadata(&path) {
            use std::os::unix::fs::MetadataExt;
            if m.file_type().is_symlink() || m.nlink() > 1 {
                return Err(Error::Invalid(format!(
                    "{} is a link to the plaintext, not the file itself; adopt it where it lives (AWS_LOGIN_CACHE_DIRECTORY) or remove the link",
                    path.display()
                )));
            }
        }
        let Some(bytes) = fsutil::read_optional(&path)?.map(Zeroizing::new) else {
            if profile.is_some() {
                return Err(Error::SignInNeeded {
                    profile: profiles[0].clone(),
                    why: format!("the AWS CLI has no cache entry for it ({})", path.display()),
                });
            }
            continue;
        };
        let entry = cache::Entry::parse(&bytes).map_err(|e| Error::Step {
            what: format!("cannot adopt {}", path.display()),
            source: Box::new(e),
        })?;
        let region = plan::region(&ctx.caller, files, &profiles, None);
        let stored = Stored {
            login_session: arn.clone(),
            region,
            access_key_id: entry.access_token.access_key_id.clone(),
            secret_access_key: entry.access_token.secret_access_key.clone(),
            session_token: entry.access_token.session_token.clone(),
            expires_at: entry.expires_at(),
            refresh_token: Some(entry.refresh_token.clone()),
            client_id: entry.client_id.clone(),
            dpop_key: entry.dpop_key.clone(),
        };
        {
            fsutil::ensure_private_dir(&ctx.dirs.cache)?;
            let _lock = fsutil::lock_exclusive(&meta_path(ctx, &key_of(&arn)))?;
            write_stored(ctx, &stored, true)?;
        }
        // Removed only as read: a rotation by the AWS CLI since is not thrown away.
        let now = fsutil::read_optional(&path)?.map(Zeroizing::new);
        if now.as_deref().map(Vec::as_slice) != Some(bytes.as_slice()) {
            return Err(Error::Invalid(format!(
                "{} changed while it was adopted (an aws command refreshed it); run `op-aws import --login` again",
                path.display()
            )));
        }
        std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
        out.push(Adopted {
            profiles,
            login_session: arn,
            removed: path,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    }

    #[test]
    fn the_session_is_the_id_tokens_subject() {
        let jwt = format!(
            "{}.{}.sig",
            b64("{\"alg\":\"RS256\"}"),
            b64("{\"sub\":\"arn:aws:iam::111111111111:user/alice\"}")
        );
        assert_eq!(
            session_of_id_token(&jwt).as_deref(),
            Some("arn:aws:iam::111111111111:user/alice")
        );
        assert_eq!(session_of_id_token("a.b.c"), None);
        let not_arn = format!("x.{}.y", b64("{\"sub\":\"alice\"}"));
        assert_eq!(session_of_id_token(&not_arn), None);
    }

    #[test]
    fn a_pasted_code_must_carry_this_sign_ins_state() {
        let paste = base64::engine::general_purpose::STANDARD.encode("state=S1&code=C0DE");
        assert_eq!(pasted_code(&paste, "S1").unwrap().as_str(), "C0DE");
        let e = pasted_code(&paste, "S2").unwrap_err().to_string();
        assert!(e.contains("another sign-in"), "{e}");
        assert!(pasted_code("not base64!", "S1").is_err());
    }
}
