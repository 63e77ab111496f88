//! Keyless runs (`op-aws run --keyless`): the command gets a placeholder key pair and session
//! token — random, made for this run, never valid at AWS — and `AWS_ENDPOINT_URL` pointing at a
//! proxy on 127.0.0.1. The proxy checks each request's signature against the placeholder
//! ([`sigv4`]), decides it by the run's rules ([`classify`]), and sends it on re-signed with the
//! real session (the resolver's: role chain, MFA, refresh) to the service's endpoint
//! ([`upstream`]), streaming both bodies. What the command holds works nowhere else.

pub mod classify;
pub mod sigv4;
pub mod upstream;
mod wire;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http_body_util::BodyExt;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::audit;
use crate::creds::Credentials;
use crate::ctx::Ctx;
use crate::model::env::EnvChanges;
use crate::model::policy::Ask;
use crate::model::resolution::{Request, Want};
use crate::{Error, Result};

use classify::{Call, Rules, Seen};
use sigv4::{Authorization, Signed, header};
use wire::{ALTERED, Payload, Protocol, Verified, full, resign, strip_hop_by_hop};

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub(crate) type Body = http_body_util::combinators::BoxBody<Bytes, BoxError>;
type Client = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    Body,
>;

/// A request body with no `x-amz-content-sha256` (the query and JSON protocols) is read whole
/// to check its hash; these are API calls, never objects.
const MAX_BUFFERED: usize = 32 * 1024 * 1024;
/// Connections served at once; more are closed at once (the command is the only client, and
/// SDKs keep a pool of a few dozen at most).
const MAX_CONNECTIONS: usize = 256;
/// A request's head must arrive within this long (a connection that trickles is closed).
const HEAD_DEADLINE: Duration = Duration::from_secs(30);
/// A session is asked for again this long before it runs out.
const REFRESH_BEFORE: Duration = Duration::from_secs(5 * 60);
/// Without an expiry (should not happen: keyless always asks for a session), at most this long.
const REUSE_AT_MOST: Duration = Duration::from_secs(5 * 60);

/// Why the proxy answered a request itself instead of sending it on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub status: u16,
    pub code: &'static str,
    pub why: String,
}

impl Refused {
    pub fn forbidden(why: String) -> Self {
        Self {
            status: 403,
            code: "AccessDenied",
            why,
        }
    }

    pub fn unsupported(why: &str) -> Self {
        Self {
            status: 400,
            code: "NotImplemented",
            why: why.to_owned(),
        }
    }
}

/// The placeholder a keyless command holds: shaped like a session, valid nowhere.
pub struct Placeholder {
    pub key_id: String,
    pub secret: SecretString,
    pub token: SecretString,
}

impl Placeholder {
    pub fn new() -> Result<Self> {
        const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut raw = zeroize::Zeroizing::new([0u8; 16 + 40 + 480]);
        getrandom::getrandom(raw.as_mut_slice())
            .map_err(|e| keyless_error(format!("no randomness for the placeholder: {e}")))?;
        let pick = |bytes: &[u8], alphabet: &[u8]| -> String {
            bytes
                .iter()
                .map(|b| alphabet[usize::from(*b) % alphabet.len()] as char)
                .collect()
        };
        Ok(Self {
            key_id: format!("ASIA{}", pick(&raw[..16], BASE32)),
            secret: SecretString::from(pick(&raw[16..56], BASE64)),
            token: SecretString::from(format!("IQoJ{}", pick(&raw[56..], BASE64))),
        })
    }
}

fn keyless_error(why: String) -> Error {
    Error::Keyless {
        why,
        hint: "run the command without --keyless, or see `op-aws doctor`".into(),
    }
}

/// The person's answer for a class of calls, and until when it holds.
type Answered = (std::result::Result<(), Refused>, SystemTime);

/// Where the real session comes from: the resolver, asked again before the session runs out
/// (one asker at a time; the others wait for its answer).
pub struct Source {
    pub ctx: Ctx,
    pub item: Option<String>,
    pub profile: Option<String>,
    pub ask: Ask,
    /// The person's AWS files, read once: each request's endpoint may come from a profile's
    /// `endpoint_url`.
    files: Option<crate::awsfiles::AwsFiles>,
    /// A sandbox's agent: the audit names it (the launcher itself is the person's process).
    pub agent: Option<String>,
    held: Mutex<Option<(Credentials, SystemTime)>>,
    /// Classes of calls the person answered for (yes or no), until when: a no is not asked
    /// again for every retry of the command's SDK.
    approved: Mutex<std::collections::BTreeMap<String, Answered>>,
}

impl Source {
    pub fn new(ctx: Ctx, item: Option<String>, profile: Option<String>, ask: Ask) -> Self {
        let files = crate::awsfiles::AwsFiles::load(&ctx.caller).ok();
        Self {
            ctx,
            files,
            item,
            profile,
            ask,
            agent: None,
            held: Mutex::new(None),
            approved: Mutex::new(std::collections::BTreeMap::new()),
        }
    }

    /// A session for this run, asked with `ask`.
    fn resolve(&self, ask: Ask) -> Result<crate::model::resolution::Resolution> {
        crate::resolve::resolve(
            &self.ctx,
            &Request {
                item: self.item.as_deref(),
                profile: self.profile.as_deref(),
                want: Want::Temporary,
                ask,
            },
        )
    }

    fn credentials(&self) -> std::result::Result<Credentials, Refused> {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((c, until)) = held.as_ref()
            && SystemTime::now() < *until
        {
            return Ok(c.clone());
        }
        let r = self.resolve(self.ask.clone());
        let creds = match r {
            Ok(r) => r.creds.ok_or_else(|| Refused {
                status: 503,
                code: "ServiceUnavailable",
                why: "op-aws has no credentials for this run".into(),
            })?,
            Err(e) => {
                return Err(Refused {
                    status: 503,
                    code: "ServiceUnavailable",
                    why: format!(
                        "op-aws cannot sign: {}",
                        crate::error::printable(&e.to_string())
                    ),
                });
            }
        };
        let until = creds
            .expiration
            .and_then(|e| e.checked_sub(REFRESH_BEFORE))
            .unwrap_or_else(|| SystemTime::now() + REUSE_AT_MOST)
            .min(SystemTime::now() + Duration::from_secs(3600));
        *held = Some((creds.clone(), until));
        Ok(creds)
    }
}

impl Source {
    /// The person's yes for `class` (`s3 writes`): asked through the resolver with the class
    /// in the request, so the op-aws agent asks and remembers it apart from the session's.
    fn approve(&self, class: &str) -> std::result::Result<(), Refused> {
        let mut approved = self.approved.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((answer, until)) = approved.get(class)
            && SystemTime::now() < *until
        {
            return answer.clone();
        }
        let r = self.resolve(Ask {
            calls: Some(class.to_owned()),
            ..self.ask.clone()
        });
        let answer = match r {
            Ok(_) => Ok(()),
            Err(e) => Err(Refused::forbidden(format!(
                "op-aws keyless: {class}: {}",
                crate::error::printable(&e.to_string())
            ))),
        };
        approved.insert(
            class.to_owned(),
            (answer.clone(), SystemTime::now() + REUSE_AT_MOST),
        );
        answer
    }
}

/// A listening proxy.
pub struct Proxy {
    listener: std::net::TcpListener,
    pub url: String,
    shared: Arc<Shared>,
}

struct Shared {
    placeholder: Placeholder,
    rules: Rules,
    source: Source,
    /// The audit line every request's line starts from (who, which command), and its file.
    audit: (PathBuf, audit::Entry),
}

impl Proxy {
    /// Listens on 127.0.0.1 (a port the kernel picks) for `source`'s command.
    pub fn start(source: Source, rules: Rules) -> Result<Self> {
        rules.check().map_err(|why| Error::Keyless {
            why,
            hint: "see `op-aws run --help`".into(),
        })?;
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0))
            .map_err(|e| keyless_error(format!("cannot listen on 127.0.0.1: {e}")))?;
        let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
        let class = crate::agents::of(&source.ctx);
        let (class, agent, why) = match &source.agent {
            Some(a) => ("agent", Some(a.clone()), "sandbox".to_owned()),
            None => (
                class.name(),
                class.agent().map(str::to_owned),
                class.why().to_owned(),
            ),
        };
        let entry = audit::Entry {
            pid: source.ctx.caller.pid,
            command: audit::command_line(&source.ctx, &source.ask),
            class: class.into(),
            agent,
            why,
            via: "keyless".into(),
            item: source.item.clone(),
            profile: source.profile.clone(),
            policy: "-".into(),
            ..audit::Entry::default()
        };
        let path = audit::log_path(&source.ctx);
        Ok(Self {
            listener,
            url: format!("http://127.0.0.1:{port}"),
            shared: Arc::new(Shared {
                placeholder: Placeholder::new()?,
                rules,
                source,
                audit: (path, entry),
            }),
        })
    }

    /// The command's environment: the placeholder and the proxy as every service's endpoint;
    /// no profile, container or web-identity credentials beside them, and no endpoint of the
    /// person's (the proxy sends each call there itself).
    pub fn env(&self, region: Option<&str>) -> EnvChanges {
        let p = &self.shared.placeholder;
        let mut c = EnvChanges::default();
        for k in crate::inject::CREDENTIAL_VARS
            .iter()
            .chain(&["AWS_PROFILE", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"])
        {
            c.unset(k);
        }
        c.set("AWS_ACCESS_KEY_ID", &p.key_id);
        c.set("AWS_SECRET_ACCESS_KEY", p.secret.expose_secret());
        c.set("AWS_SESSION_TOKEN", p.token.expose_secret());
        c.set("AWS_ENDPOINT_URL", &self.url);
        for (k, _) in self.shared.source.ctx.caller.vars() {
            if k.starts_with("AWS_ENDPOINT_URL_") {
                c.unset(k);
            }
        }
        if let Some(r) = region {
            c.set("AWS_REGION", r);
            c.set("AWS_DEFAULT_REGION", r);
        }
        c
    }

    /// Answers requests until `stop` says so (checked a few times a second).
    pub fn serve(&self, stop: &dyn Fn() -> bool) -> Result<()> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| keyless_error(format!("cannot start the proxy: {e}")))?;
        // Small requests and answers either way: without TCP_NODELAY, Nagle's algorithm and
        // delayed ACKs add 40 ms to each.
        let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
        http.set_nodelay(true);
        http.enforce_http(false);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(|e| keyless_error(format!("cannot load the system's certificates: {e}")))?
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client: Client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(https);
        let std_listener = self
            .listener
            .try_clone()
            .map_err(|e| keyless_error(format!("cannot serve: {e}")))?;
        rt.block_on(async {
            let _ = std_listener.set_nonblocking(true);
            let Ok(listener) = tokio::net::TcpListener::from_std(std_listener) else {
                return;
            };
            let open = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            while !stop() {
                let Ok(Ok((tcp, _))) =
                    tokio::time::timeout(Duration::from_millis(200), listener.accept()).await
                else {
                    continue;
                };
                use std::sync::atomic::Ordering;
                if open.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
                    open.fetch_sub(1, Ordering::SeqCst);
                    continue;
                }
                let _ = tcp.set_nodelay(true);
                let shared = self.shared.clone();
                let client = client.clone();
                let open = open.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let shared = shared.clone();
                        let client = client.clone();
                        async move {
                            Ok::<_, std::convert::Infallible>(handle(shared, client, req).await)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .timer(hyper_util::rt::TokioTimer::new())
                        .header_read_timeout(HEAD_DEADLINE)
                        .serve_connection(hyper_util::rt::TokioIo::new(tcp), service)
                        .await;
                    open.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Ok(())
    }
}

async fn handle(
    shared: Arc<Shared>,
    client: Client,
    req: http::Request<hyper::body::Incoming>,
) -> http::Response<Body> {
    let protocol = Protocol::of(req.headers());
    let (mut entry, result) = forward(shared.clone(), client, req).await;
    let (status, response) = match result {
        Ok(resp) => (resp.status().as_u16(), resp),
        Err(r) => {
            entry.outcome = if entry.outcome.is_empty() {
                "refused".into()
            } else {
                entry.outcome
            };
            entry.approved.clone_from(&r.why);
            (r.status, protocol.error(&r))
        }
    };
    entry.status = Some(status);
    entry.time = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    // The trail must not stop the call; a line that cannot be written shows as missing.
    let _ = audit::append(&shared.audit.0, &entry);
    response
}

async fn forward(
    shared: Arc<Shared>,
    client: Client,
    req: http::Request<hyper::body::Incoming>,
) -> (
    audit::Entry,
    std::result::Result<http::Response<Body>, Refused>,
) {
    let mut entry = shared.audit.1.clone();
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().unwrap_or_default().to_owned();
    let checked = check(&shared, &parts, &query);
    let (auth, payload) = match checked {
        Ok(x) => x,
        Err(r) => return (entry, Err(r)),
    };
    // The body: whole where its hash is not in a header, else streamed (checked on the way).
    let (bytes, body): (Option<Bytes>, Body) = match &payload {
        Payload::Buffered => {
            match http_body_util::Limited::new(body, MAX_BUFFERED)
                .collect()
                .await
            {
                Ok(b) => {
                    let b = b.to_bytes();
                    (Some(b.clone()), full(b))
                }
                Err(_) => {
                    return (
                        entry,
                        Err(Refused {
                            status: 413,
                            code: "EntityTooLarge",
                            why: "a request body without x-amz-content-sha256 is limited to 32 MiB"
                                .into(),
                        }),
                    );
                }
            }
        }
        Payload::Hashed(h) => (None, Verified::new(body, h.clone()).boxed()),
        Payload::Unsigned(_) => (None, body.map_err(|e| Box::new(e) as BoxError).boxed()),
    };
    let payload_hash = match (&payload, &bytes) {
        (Payload::Hashed(h), _) => h.clone(),
        (Payload::Unsigned(u), _) => (*u).to_owned(),
        (Payload::Buffered, Some(b)) => sigv4::hex(&Sha256::digest(b)),
        (Payload::Buffered, None) => String::new(),
    };
    let signed = Signed {
        method: parts.method.as_str(),
        path: &path,
        query: &query,
        headers: &parts.headers,
        payload_hash: &payload_hash,
    };
    if let Err(r) = sigv4::verify(
        &auth,
        &signed,
        &shared.placeholder.secret,
        SystemTime::now(),
    ) {
        return (entry, Err(r));
    }
    let form = bytes.as_deref().filter(|_| {
        header(&parts.headers, "content-type")
            .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"))
    });
    let target = header(&parts.headers, "x-amz-target");
    let call = classify::classify(&Seen {
        service: &auth.service,
        region: &auth.region,
        method: parts.method.as_str(),
        path: &path,
        query: &query,
        target: target.as_deref(),
        form,
        copy_source: parts.headers.contains_key("x-amz-copy-source"),
    });
    describe(&mut entry, &call);
    if let Err(why) = shared.rules.decide(&call) {
        return (
            entry,
            Err(Refused::forbidden(format!("op-aws keyless: {why}"))),
        );
    }
    if let Some(class) = shared.rules.approval_class(&call) {
        let asking = shared.clone();
        match tokio::task::spawn_blocking(move || asking.source.approve(&class)).await {
            Ok(Ok(())) => entry.approved = "approved by the person".into(),
            Ok(Err(r)) => return (entry, Err(r)),
            Err(_) => {
                return (
                    entry,
                    Err(Refused::forbidden("op-aws keyless: nobody answered".into())),
                );
            }
        }
    }
    // The resolver blocks (the agent's socket, STS): it runs beside the proxy's thread.
    let asking = shared.clone();
    let creds = match tokio::task::spawn_blocking(move || asking.source.credentials()).await {
        Ok(Ok(c)) => c,
        Ok(Err(r)) => return (entry, Err(r)),
        Err(_) => {
            return (
                entry,
                Err(Refused {
                    status: 500,
                    code: "InternalFailure",
                    why: "op-aws keyless: the credentials could not be read".into(),
                }),
            );
        }
    };
    let source = &shared.source;
    entry.outcome = "released".into();
    let target_url = match upstream::endpoint(
        &source.ctx.caller,
        source.files.as_ref(),
        source.profile.as_deref(),
        &call,
        &path,
    ) {
        Ok(u) => u,
        Err(r) => return (entry, Err(r)),
    };
    let out = match resign(
        &parts,
        &target_url,
        &query,
        &payload,
        bytes.as_deref(),
        &auth,
        &creds,
        body,
    ) {
        Ok(r) => r,
        Err(r) => return (entry, Err(r)),
    };
    match client.request(out).await {
        Ok(resp) => {
            let (mut parts, body) = resp.into_parts();
            strip_hop_by_hop(&mut parts.headers);
            let body = body.map_err(|e| Box::new(e) as BoxError).boxed();
            (entry, Ok(http::Response::from_parts(parts, body)))
        }
        Err(e) => {
            let altered =
                std::iter::successors(Some(&e as &(dyn std::error::Error + 'static)), |e| {
                    e.source()
                })
                .any(|c| c.to_string().contains(ALTERED));
            let why = if altered {
                return (
                    entry,
                    Err(Refused::forbidden(format!("op-aws keyless: {ALTERED}"))),
                );
            } else {
                format!(
                    "op-aws keyless: {} did not answer: {e}",
                    target_url.host_str().unwrap_or("AWS")
                )
            };
            (
                entry,
                Err(Refused {
                    status: 502,
                    code: "BadGateway",
                    why,
                }),
            )
        }
    }
}

fn describe(entry: &mut audit::Entry, call: &Call) {
    entry.service = Some(call.service.clone());
    entry.action = Some(call.action.clone());
    entry.resource.clone_from(&call.resource);
    entry.region = Some(call.region.clone());
}

/// The signature's parts, the placeholder's key and token, and what the body's hash is.
fn check(
    shared: &Shared,
    parts: &http::request::Parts,
    query: &str,
) -> std::result::Result<(Authorization, Payload), Refused> {
    // SigV4's query form, and SigV2's (which S3 presigns with by default in older SDKs).
    let presigned = query.split('&').any(|p| {
        [
            "X-Amz-Signature=",
            "X-Amz-Credential=",
            "Signature=",
            "AWSAccessKeyId=",
        ]
        .iter()
        .any(|k| p.starts_with(k))
    });
    if presigned {
        return Err(Refused::unsupported(
            "presigned URLs cannot be re-signed: make them outside the keyless run",
        ));
    }
    let Some(auth) = header(&parts.headers, "authorization") else {
        return Err(Refused::forbidden(
            "op-aws keyless: the request is not signed".into(),
        ));
    };
    let auth = Authorization::parse(&auth)?;
    let p = &shared.placeholder;
    let token = header(&parts.headers, "x-amz-security-token").unwrap_or_default();
    let key_ok = bool::from(auth.key_id.as_bytes().ct_eq(p.key_id.as_bytes()));
    let token_ok = bool::from(token.as_bytes().ct_eq(p.token.expose_secret().as_bytes()));
    if !key_ok || !token_ok {
        return Err(Refused::forbidden(
            "op-aws keyless: the request is not signed with this run's placeholder".into(),
        ));
    }
    let payload = match header(&parts.headers, "x-amz-content-sha256").as_deref() {
        None => Payload::Buffered,
        Some("UNSIGNED-PAYLOAD") => Payload::Unsigned("UNSIGNED-PAYLOAD"),
        Some("STREAMING-UNSIGNED-PAYLOAD-TRAILER") => {
            Payload::Unsigned("STREAMING-UNSIGNED-PAYLOAD-TRAILER")
        }
        Some(h) if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Payload::Hashed(h.to_ascii_lowercase())
        }
        Some(h) if h.starts_with("STREAMING-") => {
            return Err(Refused::unsupported(
                "chunk-signed uploads (STREAMING-AWS4-HMAC-SHA256-PAYLOAD) cannot be re-signed: \
                 use UNSIGNED-PAYLOAD or trailing checksums (the SDKs' defaults over https), \
                 or turn off chunked signing in the SDK",
            ));
        }
        Some(_) => {
            return Err(Refused::forbidden(
                "op-aws keyless: x-amz-content-sha256 is not a SHA-256".into(),
            ));
        }
    };
    Ok((auth, payload))
}
