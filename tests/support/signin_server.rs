//! A local AWS Sign-In for tests, in its restJson1 wire format as aws-sdk-signin sends it, on
//! 127.0.0.1 in a thread: the authorize page (`GET /v1/authorize`: a 302 back to the loopback
//! redirect for the same-device client, or the confirmation page's code for the cross-device
//! one) and CreateOAuth2Token (`POST /v1/token`), which checks the PKCE verifier against the
//! challenge it was asked with and a DPoP proof on every call: ES256 over the key it carries,
//! the method and URL, and — for a refresh — the same key the session was signed in with.
//! Refresh tokens rotate: each is good once. Stopped on drop.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::TcpStream;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use p256::ecdsa::signature::Verifier;
use serde_json::{Value, json};
use sha2::Digest;

pub const SAME_DEVICE: &str = "arn:aws:signin:::devtools/same-device";
pub const CROSS_DEVICE: &str = "arn:aws:signin:::devtools/cross-device";

#[derive(Default)]
pub struct State {
    /// The session signed in: its ARN (the identity token's `sub`) and the keys it hands out.
    pub session_arn: String,
    pub keys: (String, String),
    /// Lifetime of the credentials each token call issues.
    pub token_secs: u64,
    /// Every refresh is refused (the session ended at AWS).
    pub refuse_refresh: bool,
    /// The next authorize keeps another challenge than it was sent: the verifier the client
    /// kept will not match.
    pub forge_challenge: bool,
    /// How many calls of each kind.
    pub calls: BTreeMap<String, usize>,
    /// Every secret issued (session tokens, refresh tokens), to look for in files.
    pub issued: Vec<String>,
    /// code → (client id, redirect URI, challenge).
    codes: BTreeMap<String, (String, String, String)>,
    /// The one refresh token that is good now → the JWK (x, y) it is bound to.
    refresh: BTreeMap<String, (String, String)>,
    n: usize,
}

pub type SigninServer = super::json_http::Server<State>;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl SigninServer {
    pub fn start(session_arn: &str, keys: (String, String)) -> Self {
        Self::spawn(
            State {
                session_arn: session_arn.to_owned(),
                keys,
                token_secs: 900,
                ..State::default()
            },
            serve,
        )
    }

    pub fn count(&self, op: &str) -> usize {
        self.with(|s| s.calls.get(op).copied().unwrap_or(0))
    }

    /// A session as `aws login` would have left it: `refresh` good once, bound to the key
    /// whose JWK coordinates are `jwk`.
    pub fn seed(&self, refresh: &str, jwk: (String, String)) {
        self.with(|s| {
            s.refresh.insert(refresh.to_owned(), jwk);
            s.issued.push(refresh.to_owned());
        });
    }
}

/// The JWK coordinates of a P-256 key, as a DPoP proof carries them.
pub fn jwk_of(key: &p256::SecretKey) -> (String, String) {
    use p256::elliptic_curve::sec1::ToSec1Point;
    let p = key.public_key().to_sec1_point(false);
    (b64(p.x().unwrap()), b64(p.y().unwrap()))
}

/// The key a valid DPoP proof for a POST to `url` carries; why not otherwise.
fn check_proof(proof: &str, url: &str) -> Result<(String, String), String> {
    let dec = |s: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| "not base64url".to_owned())
    };
    let parts: Vec<&str> = proof.split('.').collect();
    let [h, p, sig] = parts[..] else {
        return Err("not a JWS".into());
    };
    let header: Value = serde_json::from_slice(&dec(h)?).map_err(|_| "bad header")?;
    let payload: Value = serde_json::from_slice(&dec(p)?).map_err(|_| "bad payload")?;
    if header["typ"] != "dpop+jwt" || header["alg"] != "ES256" || header["jwk"]["crv"] != "P-256" {
        return Err(format!("bad header {header}"));
    }
    if payload["htm"] != "POST" || payload["htu"] != url {
        return Err(format!("proof for {} {}", payload["htm"], payload["htu"]));
    }
    let iat = payload["iat"].as_u64().unwrap_or(0);
    if iat + 300 < now() || iat > now() + 300 || payload["jti"].as_str().is_none() {
        return Err("stale or unnamed proof".into());
    }
    let x = header["jwk"]["x"].as_str().unwrap_or_default().to_owned();
    let y = header["jwk"]["y"].as_str().unwrap_or_default().to_owned();
    let mut sec1 = vec![4u8];
    sec1.extend(dec(&x)?);
    sec1.extend(dec(&y)?);
    let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).map_err(|_| "bad jwk")?;
    let sig = p256::ecdsa::Signature::from_slice(&dec(sig)?).map_err(|_| "bad signature")?;
    vk.verify(format!("{h}.{p}").as_bytes(), &sig)
        .map_err(|_| "the signature does not verify".to_owned())?;
    Ok((x, y))
}

fn serve(conn: TcpStream, port: u16, state: &Mutex<State>) -> std::io::Result<()> {
    let Some((req, mut out)) = super::json_http::read(conn)? else {
        return Ok(());
    };
    let (path, q) = (req.path.as_str(), &req.query);
    let s = |k: &str| req.s(k);
    let header = |name: &str| req.header(name);
    let base = format!("http://127.0.0.1:{port}");
    let mut st = state.lock().unwrap();
    let mut count = |op: &str| *st.calls.entry(op.to_owned()).or_default() += 1;
    let denied = |why: &str| {
        (
            400,
            Some("AccessDeniedException"),
            json!({"error": "TOKEN_EXPIRED", "message": why}),
        )
    };
    let (status, err, answer): (u16, Option<&str>, Value) = match path {
        "/v1/authorize" => {
            count("Authorize");
            let get = |k: &str| q.get(k).cloned().unwrap_or_default();
            let (client, redirect) = (get("client_id"), get("redirect_uri"));
            let redirect_ok = match client.as_str() {
                SAME_DEVICE => {
                    redirect.starts_with("http://127.0.0.1:")
                        && redirect.ends_with("/oauth/callback")
                }
                CROSS_DEVICE => redirect == format!("{base}/v1/sessions/confirmation"),
                _ => false,
            };
            if !redirect_ok
                || get("response_type") != "code"
                || get("code_challenge_method") != "SHA-256"
                || get("scope") != "openid"
                || get("code_challenge").is_empty()
            {
                (
                    400,
                    Some("ValidationException"),
                    json!({"message": "bad authorize request"}),
                )
            } else {
                st.n += 1;
                let code = format!("signin-code-{}", st.n);
                let challenge = if std::mem::take(&mut st.forge_challenge) {
                    "forged".to_owned()
                } else {
                    get("code_challenge")
                };
                st.codes
                    .insert(code.clone(), (client.clone(), redirect.clone(), challenge));
                let state_q: String =
                    form_urlencoded::byte_serialize(get("state").as_bytes()).collect();
                drop(st);
                let resp = if client == SAME_DEVICE {
                    format!(
                        "HTTP/1.1 302 Found\r\nlocation: {redirect}?code={code}&state={state_q}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    )
                } else {
                    // The confirmation page shows base64 of `state=...&code=...` to paste.
                    let shown = base64::engine::general_purpose::STANDARD
                        .encode(format!("state={state_q}&code={code}"));
                    format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{shown}",
                        shown.len()
                    )
                };
                out.write_all(resp.as_bytes())?;
                return out.flush();
            }
        }
        "/v1/token" => {
            let proof = header("dpop").unwrap_or_default();
            match check_proof(&proof, &format!("{base}/v1/token")) {
                Err(why) => {
                    count("RefusedProof");
                    (
                        400,
                        Some("ValidationException"),
                        json!({"message": format!("invalid DPoP proof: {why}")}),
                    )
                }
                Ok(jwk) => {
                    let grant = s("grantType");
                    let ok = if grant == "authorization_code" {
                        count("CreateOAuth2Token(code)");
                        let challenge = b64(&sha2::Sha256::digest(s("codeVerifier").as_bytes()));
                        match st.codes.remove(&s("code")) {
                            Some((client, redirect, want))
                                if client == s("clientId")
                                    && redirect == s("redirectUri")
                                    && want == challenge =>
                            {
                                Ok(())
                            }
                            _ => Err("invalid authorization code or verifier"),
                        }
                    } else if grant == "refresh_token" {
                        count("CreateOAuth2Token(refresh)");
                        match st.refresh.get(&s("refreshToken")) {
                            _ if st.refuse_refresh => Err("the session has ended"),
                            Some(bound) if *bound == jwk => {
                                st.refresh.remove(&s("refreshToken"));
                                Ok(())
                            }
                            Some(_) => Err("the proof's key is not the session's"),
                            None => Err("the refresh token is not valid (spent or unknown)"),
                        }
                    } else {
                        Err("unsupported grant")
                    };
                    match ok {
                        Err(why) => {
                            *st.calls.entry("Refused".into()).or_default() += 1;
                            denied(why)
                        }
                        Ok(()) => {
                            st.n += 1;
                            let rt = format!("signin-refresh-{:06}-{}", st.n, now());
                            let token = format!("signin-session-{:06}-{}", st.n, now());
                            st.refresh.insert(rt.clone(), jwk);
                            st.issued.extend([rt.clone(), token.clone()]);
                            let id_token = format!(
                                "{}.{}.sig",
                                b64(b"{\"alg\":\"RS256\"}"),
                                b64(json!({"sub": st.session_arn, "iat": now()})
                                    .to_string()
                                    .as_bytes())
                            );
                            (
                                200,
                                None,
                                json!({
                                    "accessToken": {
                                        "accessKeyId": st.keys.0,
                                        "secretAccessKey": st.keys.1,
                                        "sessionToken": token,
                                    },
                                    "tokenType": "urn:aws:params:oauth:token-type:access_token_sigv4",
                                    "expiresIn": st.token_secs,
                                    "refreshToken": rt,
                                    "idToken": id_token,
                                }),
                            )
                        }
                    }
                }
            }
        }
        _ => (
            404,
            Some("ResourceNotFoundException"),
            json!({"message": "no such path"}),
        ),
    };
    drop(st);
    super::json_http::answer(&mut out, status, err, &answer)
}
