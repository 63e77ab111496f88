//! `op-aws login`: an AWS console sign-in URL for the credentials `op-aws run` would use.
//!
//! The console takes temporary credentials only, through the federation endpoint's
//! `getSigninToken`: a role's or an IAM Identity Center session as it is; an item's long-lived
//! keys first become a GetFederationToken session (a request signed with the keys, so it goes to
//! STS under the same endpoint rules as every signed request). The federation endpoint never
//! sees a long-lived key. The login URL carries the sign-in token, the issuer and the
//! destination: a bearer credential for about 15 minutes, so it is printed or handed to the
//! browser, never logged.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::awsfiles::AwsFiles;
use crate::creds::Credentials;
use crate::ctx::Ctx;
use crate::model::resolution::Want;
use crate::resolve::{self};
use crate::{Error, Result, store, sts};

/// Who asked for the sign-in, as the console records it.
pub const ISSUER: &str = "op-aws";
/// The session policy of a federation token: everything the IAM user may do (a federation
/// token with no policy may do nothing; with one, it may do the intersection).
const FEDERATION_POLICY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
/// A console session lasts 15 minutes to 12 hours (`SessionDuration`); a federation token
/// 15 minutes to 36 hours.
const MIN_SECS: u64 = 900;
const MAX_ROLE_SECS: u64 = 43_200;
const MAX_FEDERATION_SECS: u64 = 129_600;
const HTTP_TIMEOUT: Duration = Duration::from_secs(20);

pub struct Request<'a> {
    pub item: Option<&'a str>,
    pub profile: Option<&'a str>,
    /// The console's region (default: the region `run` would use, else us-east-1).
    pub region: Option<&'a str>,
    /// A console page, e.g. `s3/home` (default: the console's home).
    pub path: Option<&'a str>,
    /// How long the console session lasts.
    pub duration: Option<Duration>,
}

/// What kind of session signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Session {
    /// A role's (or an IAM Identity Center role's) session, as `run` gets it.
    Role,
    /// A GetFederationToken session made from an item's long-lived keys.
    Federation,
}

pub struct Login {
    /// The sign-in URL (holds the sign-in token).
    pub url: SecretString,
    pub region: String,
    pub session: Session,
    /// What signed in: the profile, else the item.
    pub who: String,
}

/// The sign-in URL for what `run` would use here with `req`'s item and profile.
pub fn login(ctx: &Ctx, req: &Request<'_>) -> Result<Login> {
    crate::policy::may_sign_in(ctx, req.item)?;
    // A configured endpoint is vetted before anything is asked of STS.
    let configured = ctx
        .config
        .federation_endpoint
        .as_deref()
        .map(|ep| vet_endpoint(ep, &ctx.config.trusted_endpoints))
        .transpose()?;
    let here = resolve::resolve(
        ctx,
        &crate::model::resolution::Request {
            item: req.item,
            profile: req.profile,
            want: Want::Here { peek: true },
            ask: crate::model::policy::Ask {
                via: crate::model::policy::Via::Console,
                ..Default::default()
            },
        },
    )?;
    if here.handover {
        return Err(Error::BadProfile {
            profile: here.profile.unwrap_or_default(),
            why: "authenticates itself (SSO without `op-aws sso login`, credential_process, web identity): op-aws holds no credentials for it to sign in with".into(),
        });
    }
    let files = match &here.profile {
        Some(_) => Some(AwsFiles::load_here(ctx).map_err(|e| Error::Step {
            what: "cannot read the AWS config".into(),
            source: Box::new(e),
        })?),
        None => None,
    };
    let has_role = match (&files, &here.profile) {
        (Some(f), Some(p)) if f.has_profile(p) => !f.resolve_chain(p)?.roles.is_empty(),
        _ => false,
    };
    let (creds, session, region_of_creds) = if has_role || here.sso.is_some() {
        // The very session `run` gets (from the agent's cache when it has one).
        let r = resolve::resolve(
            ctx,
            &crate::model::resolution::Request {
                item: req.item,
                profile: req.profile,
                want: Want::Credentials,
                ask: crate::model::policy::Ask {
                    via: crate::model::policy::Via::Console,
                    ..Default::default()
                },
            },
        )?;
        let creds = r
            .creds
            .filter(|c| c.session_token.is_some())
            .ok_or_else(|| Error::Sts("the profile's role gave no temporary credentials".into()))?;
        (creds, Session::Role, r.region.map(|r| r.name))
    } else {
        let applied = here.applied.clone().ok_or_else(|| {
            here.project.as_ref().map_or(
                Error::NoDefault,
                crate::model::project::Found::no_default_error,
            )
        })?;
        let item = store::get_item(ctx, &applied.item).map_err(|e| Error::Step {
            what: format!("cannot read item {:?} ({})", applied.item, applied.scope),
            source: Box::new(e),
        })?;
        let keys = item.access_keys()?;
        let profile = here.profile.as_deref().unwrap_or("default");
        let endpoint = sts::plan::endpoint(&ctx.caller, files.as_ref(), profile);
        // Signed with the long-lived keys: AWS's own STS, loopback or a trusted one only.
        sts::plan::check_endpoint(endpoint.as_deref(), &ctx.config.trusted_endpoints)?;
        let region = req
            .region
            .map(str::to_owned)
            .or_else(|| here.region_name().map(str::to_owned))
            .or_else(|| keys.region.clone())
            .unwrap_or_else(|| "us-east-1".to_owned());
        let client = sts::client::Client::new(&region, endpoint.as_deref())?
            .with_variant(sts::plan::variant(&ctx.caller, files.as_ref(), profile))
            .showing(&ctx.caller.progress);
        let duration = seconds(req.duration, MAX_FEDERATION_SECS)?;
        let creds = client.get_federation_token(
            &Credentials::from(&keys),
            &federation_name(&item.title),
            &crate::model::policy::SessionPolicy {
                arns: Vec::new(),
                inline: Some(FEDERATION_POLICY.to_owned()),
            },
            duration,
            &[],
        )?;
        (creds, Session::Federation, keys.region)
    };
    let region = req
        .region
        .map(str::to_owned)
        .or_else(|| here.region_name().map(str::to_owned))
        .or(region_of_creds)
        .unwrap_or_else(|| "us-east-1".to_owned());
    let endpoint = match configured {
        Some(u) => u,
        None => {
            let (host, _) = partition(&region)?;
            url::Url::parse(&format!("https://{host}/federation"))
                .map_err(|e| Error::Invalid(format!("region {region:?}: {e}")))?
        }
    };
    // The console session's length is the federation token's own; for a role's session it is
    // asked for (AWS refuses SessionDuration with a federation token's).
    let session_duration = match session {
        Session::Role => seconds(req.duration, MAX_ROLE_SECS)?,
        Session::Federation => None,
    };
    let token = signin_token(&endpoint, &creds, session_duration)?;
    let url = login_url(&endpoint, &destination(&region, req.path)?, &token);
    let who = here
        .profile
        .clone()
        .map(|p| format!("profile {p}"))
        .or_else(|| here.applied.as_ref().map(|a| format!("item {}", a.item)))
        .unwrap_or_default();
    Ok(Login {
        url,
        region,
        session,
        who,
    })
}

/// Opens `login`'s URL with the browser IAM Identity Center sign-ins use (`BROWSER`, else
/// `xdg-open` or `open`); Err says why not (none found, or it would not start).
///
/// The browser is given no sign-in token in its argv (which every user can read in `ps`, and
/// which browsers and `xdg-open` keep): it opens a page in a 0600 file of the private runtime
/// directory that forwards to the sign-in URL, removed once the browser has read it (its
/// access time moves), or after [`PAGE_KEPT`] at most.
pub fn open(ctx: &Ctx, login: &Login) -> std::result::Result<(), String> {
    let page = forward_page(ctx, login.url.expose_secret()).map_err(|e| e.to_string())?;
    let opened = crate::sso::open_browser(ctx, &format!("file://{}", page.display()));
    if opened.is_ok() {
        wait_until_read(&page, PAGE_KEPT);
    }
    let _ = std::fs::remove_file(&page);
    opened
}

/// How long the forwarding page may wait for the browser.
const PAGE_KEPT: Duration = Duration::from_secs(20);

/// A page that sends the browser on to `url` at once (no referrer), as a 0600 file with an
/// unguessable name in the runtime directory.
fn forward_page(ctx: &Ctx, url: &str) -> Result<std::path::PathBuf> {
    crate::fsutil::ensure_private_dir(&ctx.dirs.runtime)?;
    let mut raw = [0u8; 16];
    getrandom::getrandom(&mut raw).map_err(|e| Error::Invalid(format!("no randomness: {e}")))?;
    let name: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    let path = ctx.dirs.runtime.join(format!("console-{name}.html"));
    let attr = url
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;");
    let page = zeroize::Zeroizing::new(format!(
        "<!doctype html>\n<meta charset=\"utf-8\">\n<meta name=\"referrer\" content=\"no-referrer\">\n\
         <meta http-equiv=\"refresh\" content=\"0;url={attr}\">\n<title>op-aws: AWS console</title>\n\
         <p><a href=\"{attr}\">Continue to the AWS console</a></p>\n"
    ));
    crate::fsutil::write_atomic(&path, page.as_bytes(), 0o600)?;
    Ok(path)
}

/// Returns once `page` was read (its access time passed its modification time) or after
/// `limit`.
fn wait_until_read(page: &std::path::Path, limit: Duration) {
    let start = std::time::Instant::now();
    let read = || {
        std::fs::metadata(page)
            .and_then(|m| Ok(m.accessed()? > m.modified()?))
            .unwrap_or(true)
    };
    while !read() && start.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn seconds(d: Option<Duration>, max: u64) -> Result<Option<u32>> {
    let Some(d) = d else { return Ok(None) };
    let s = d.as_secs();
    if !(MIN_SECS..=max).contains(&s) {
        return Err(Error::Invalid(format!(
            "--duration {}: a console session lasts from 15 minutes to {} hours here",
            humantime::format_duration(d),
            max / 3600
        )));
    }
    Ok(Some(u32::try_from(s).unwrap_or(u32::MAX)))
}

/// GetFederationToken's `Name` (2 to 32 of `[\w+=,.@-]`): the item's, as a role session is
/// named when nothing names the person.
fn federation_name(title: &str) -> String {
    let mut name = sts::plan::default_session_name(title);
    name.truncate(32);
    name
}

/// The partition a region belongs to: its sign-in host and its console host. The European
/// Sovereign Cloud's and the ISO partitions' are not published where op-aws could check them:
/// those need `federation_endpoint` (and land on its host's console).
fn partition(region: &str) -> Result<(&'static str, String)> {
    match crate::partition::of(region).id {
        "aws-cn" => Ok(("signin.amazonaws.cn", "console.amazonaws.cn".to_owned())),
        "aws-us-gov" => Ok((
            "signin.amazonaws-us-gov.com",
            "console.amazonaws-us-gov.com".to_owned(),
        )),
        "aws" => Ok((
            "signin.aws.amazon.com",
            format!("{region}.console.aws.amazon.com"),
        )),
        other => Err(Error::Invalid(format!(
            "op-aws does not know the console sign-in host of the {other} partition (region {region}): set federation_endpoint in config.toml to its https://…/federation URL"
        ))),
    }
}

/// `federation_endpoint` from config.toml, when it may receive a session: AWS's own sign-in
/// hosts over https, loopback, or listed in `trusted_endpoints` (as STS endpoints are vetted).
fn vet_endpoint(ep: &str, trusted: &[String]) -> Result<url::Url> {
    let untrusted = || Error::UntrustedFederationEndpoint(crate::error::printable(ep.trim()));
    let u = crate::config::parse_endpoint(ep).map_err(|_| untrusted())?;
    let signin_host = matches!(u.host(), Some(url::Host::Domain(d)) if {
        let d = d.trim_end_matches('.').to_ascii_lowercase();
        ["signin.aws.amazon.com", "signin.amazonaws.cn", "signin.amazonaws-us-gov.com"]
            .iter()
            .any(|h| d == *h || d.strip_suffix(h).is_some_and(|rest| rest.ends_with('.')))
    });
    if (u.scheme() == "https" && signin_host)
        || sts::plan::check_endpoint(Some(ep), trusted).is_ok()
    {
        Ok(u)
    } else {
        Err(untrusted())
    }
}

/// The console page to land on, in `region`: `path` (e.g. `s3/home`) on the partition's console
/// host, never another host.
pub fn destination(region: &str, path: Option<&str>) -> Result<url::Url> {
    let (_, host) = partition(region)?;
    let path = path.unwrap_or("console/home").trim_start_matches('/');
    let bad = || {
        Error::Invalid(format!(
            "--path {:?}: not a console page",
            crate::error::printable(path)
        ))
    };
    let mut u = url::Url::parse(&format!("https://{host}/{path}")).map_err(|_| bad())?;
    if u.host_str() != Some(host.as_str()) || path.contains("://") {
        return Err(bad());
    }
    if !u.query_pairs().any(|(k, _)| k == "region") {
        u.query_pairs_mut().append_pair("region", region);
    }
    Ok(u)
}

/// `getSigninToken`: the session in, a sign-in token out.
pub fn signin_token(
    endpoint: &url::Url,
    creds: &Credentials,
    session_duration: Option<u32>,
) -> Result<SecretString> {
    let Some(token) = &creds.session_token else {
        // Never reached through `login`: a long-lived key is not sent to this endpoint.
        return Err(Error::Invalid(
            "the console takes temporary credentials only".into(),
        ));
    };
    let session = SecretString::from(
        serde_json::json!({
            "sessionId": creds.access_key_id,
            "sessionKey": creds.secret_access_key.expose_secret(),
            "sessionToken": token.expose_secret(),
        })
        .to_string(),
    );
    let mut u = endpoint.clone();
    u.set_query(None);
    {
        let mut q = u.query_pairs_mut();
        q.append_pair("Action", "getSigninToken");
        if let Some(s) = session_duration {
            q.append_pair("SessionDuration", &s.to_string());
        }
        q.append_pair("Session", session.expose_secret());
    }
    let shown = shown_endpoint(endpoint);
    let (status, body) = http_get(&u).map_err(|why| Error::ConsoleUnreachable {
        endpoint: shown.clone(),
        why,
    })?;
    let refused = |why: String| Error::ConsoleRefused {
        endpoint: shown.clone(),
        status,
        why,
    };
    if status != 200 {
        // The endpoint's own words, short and on one line (it echoes nothing of the session).
        let text = String::from_utf8_lossy(&body);
        let mut why = crate::error::one_line(&text);
        why.truncate(200);
        if why.is_empty() {
            why = "no reason given".into();
        }
        return Err(refused(why));
    }
    #[derive(serde::Deserialize)]
    struct Answer {
        #[serde(rename = "SigninToken")]
        signin_token: String,
    }
    let answer: Answer = serde_json::from_slice(&body)
        .map_err(|_| refused("the answer holds no SigninToken".into()))?;
    if answer.signin_token.is_empty() {
        return Err(refused("the answer holds an empty SigninToken".into()));
    }
    Ok(SecretString::from(answer.signin_token))
}

/// The URL that signs in: `Action=login`, the issuer, the destination and the token.
pub fn login_url(
    endpoint: &url::Url,
    destination: &url::Url,
    token: &SecretString,
) -> SecretString {
    let mut u = endpoint.clone();
    u.set_query(None);
    u.query_pairs_mut()
        .append_pair("Action", "login")
        .append_pair("Issuer", ISSUER)
        .append_pair("Destination", destination.as_str())
        .append_pair("SigninToken", token.expose_secret());
    SecretString::from(String::from(u))
}

/// Scheme, host, port and path: never the query (it holds the session).
fn shown_endpoint(u: &url::Url) -> String {
    let mut u = u.clone();
    u.set_query(None);
    u.set_fragment(None);
    crate::error::printable(u.as_str())
}

/// One GET over HTTP(S) with the system's roots; the status and body.
fn http_get(u: &url::Url) -> std::result::Result<(u16, Vec<u8>), String> {
    use http_body_util::BodyExt;
    let uri: http::Uri = u.as_str().parse().map_err(|e| format!("{e}"))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the HTTP client: {e}"))?;
    rt.block_on(async move {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(|e| format!("cannot load the system's certificates: {e}"))?
            .https_or_http()
            .enable_http1()
            .build();
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build::<_, http_body_util::Empty<bytes::Bytes>>(https);
        let work = async {
            let resp = client.get(uri).await.map_err(|e| causes(&e))?;
            let status = resp.status().as_u16();
            let body = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| causes(&e))?
                .to_bytes();
            Ok::<_, String>((status, body.to_vec()))
        };
        tokio::time::timeout(HTTP_TIMEOUT, work)
            .await
            .map_err(|_| "timed out".to_owned())?
    })
}

fn causes(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        cur = c.source();
    }
    crate::error::one_line(&parts.join(": "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_follow_the_region_and_stay_on_the_console() {
        assert_eq!(
            destination("eu-west-1", None).unwrap().as_str(),
            "https://eu-west-1.console.aws.amazon.com/console/home?region=eu-west-1"
        );
        assert_eq!(
            destination("cn-north-1", Some("/s3/home"))
                .unwrap()
                .as_str(),
            "https://console.amazonaws.cn/s3/home?region=cn-north-1"
        );
        assert_eq!(
            destination(
                "us-gov-west-1",
                Some("ec2/home?region=us-gov-east-1#Instances")
            )
            .unwrap()
            .as_str(),
            "https://console.amazonaws-us-gov.com/ec2/home?region=us-gov-east-1#Instances"
        );
        assert!(destination("us-east-1", Some("https://evil.example/")).is_err());
        for odd in ["//evil.example/x", "@evil.example", "\\\\evil.example"] {
            let d = destination("us-east-1", Some(odd)).unwrap();
            assert_eq!(
                d.host_str(),
                Some("us-east-1.console.aws.amazon.com"),
                "{odd}"
            );
        }
    }

    #[test]
    fn the_sign_in_host_follows_the_partition() {
        assert_eq!(partition("us-east-1").unwrap().0, "signin.aws.amazon.com");
        assert_eq!(
            partition("cn-northwest-1").unwrap().0,
            "signin.amazonaws.cn"
        );
        assert_eq!(
            partition("us-gov-east-1").unwrap().0,
            "signin.amazonaws-us-gov.com"
        );
        let eusc = partition("eusc-de-east-1").unwrap_err().to_string();
        assert!(
            eusc.contains("aws-eusc") && eusc.contains("federation_endpoint"),
            "{eusc}"
        );
    }

    #[test]
    fn only_aws_loopback_and_trusted_federation_endpoints_get_a_session() {
        let trusted = ["https://signin.proxy.example.internal/federation".to_owned()];
        for ok in [
            "https://signin.aws.amazon.com/federation",
            "https://us-east-1.signin.aws.amazon.com/federation",
            "https://signin.amazonaws.cn/federation",
            "http://127.0.0.1:8080/federation",
            "http://localhost/federation",
            "https://signin.proxy.example.internal/federation",
        ] {
            assert!(vet_endpoint(ok, &trusted).is_ok(), "{ok}");
        }
        for bad in [
            "http://signin.aws.amazon.com/federation",
            "https://signin.aws.amazon.com.evil.example/federation",
            "https://evilsignin.aws.amazon.com/federation",
            "https://signin.proxy.example.internal/other",
            "ftp://127.0.0.1/federation",
        ] {
            let e = vet_endpoint(bad, &trusted).unwrap_err();
            assert!(e.to_string().contains("trusted_endpoints"), "{bad}: {e}");
        }
    }

    #[test]
    fn federation_names_fit_sts() {
        assert_eq!(federation_name("acme"), "op-aws-acme");
        let long = federation_name(&"x".repeat(100));
        assert_eq!(long.len(), 32);
        assert_eq!(federation_name("op://Work/prod keys"), "op-aws-prod-keys");
    }
}
