//! A local IAM Identity Center for tests: the OIDC service (RegisterClient,
//! StartDeviceAuthorization, CreateToken, and the authorize page of the authorization code
//! grant) and the portal (GetRoleCredentials, ListAccounts, ListAccountRoles, Logout) in their
//! restJson1 wire formats, on 127.0.0.1, in a thread. A device code is approved when its
//! verification URL is visited; the authorize page sends the browser back to the registered
//! loopback redirect with a code that CreateToken exchanges only with the PKCE verifier whose
//! S256 challenge it was asked with (what a BROWSER script following redirects does).
//! Stopped on drop.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::TcpStream;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

#[derive(Default)]
pub struct State {
    /// account id → (name, roles)
    pub accounts: BTreeMap<String, (String, Vec<String>)>,
    /// (account, role) → (access key id, secret): what GetRoleCredentials hands out.
    pub role_keys: BTreeMap<(String, String), (String, String)>,
    /// Lifetime of the access tokens CreateToken issues.
    pub token_secs: u64,
    /// CreateToken with a refresh token is refused (InvalidGrantException).
    pub refuse_refresh: bool,
    /// How many calls of each operation (and "Visit" for the verification URL).
    pub calls: BTreeMap<String, usize>,
    /// Every token issued (access and refresh), to look for in files.
    pub issued: Vec<String>,
    devices: BTreeMap<String, (String, bool)>,
    /// client id → its registered redirect URIs.
    redirects: BTreeMap<String, Vec<String>>,
    /// code → (client id, redirect URI, challenge).
    codes: BTreeMap<String, (String, String, String)>,
    access: BTreeMap<String, u64>,
    refresh: Vec<String>,
    n: usize,
}

pub type SsoServer = super::json_http::Server<State>;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

impl SsoServer {
    pub fn start() -> Self {
        Self::spawn(
            State {
                token_secs: 3600,
                ..State::default()
            },
            serve,
        )
    }

    pub fn count(&self, op: &str) -> usize {
        self.with(|s| s.calls.get(op).copied().unwrap_or(0))
    }
}

fn serve(conn: TcpStream, port: u16, state: &Mutex<State>) -> std::io::Result<()> {
    let Some((req, mut out)) = super::json_http::read(conn)? else {
        return Ok(());
    };
    let (path, q) = (req.path.as_str(), &req.query);
    let s = |k: &str| req.s(k);
    let header = |name: &str| req.header(name);
    let input = &req.input;
    let bearer = header("x-amz-sso_bearer_token").unwrap_or_default();
    let mut st = state.lock().unwrap();
    let mut count = |op: &str| *st.calls.entry(op.to_owned()).or_default() += 1;
    let (status, err, answer): (u16, Option<&str>, Value) = match path {
        "/client/register" => {
            count("RegisterClient");
            st.n += 1;
            let scopes = input["scopes"].as_array().map_or(0, Vec::len);
            let id = format!("cid-{}-{scopes}", st.n);
            let uris = input["redirectUris"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|u| u.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            st.redirects.insert(id.clone(), uris);
            (
                200,
                None,
                json!({
                    "clientId": id,
                    "clientSecret": format!("csecret-{}", st.n),
                    "clientIdIssuedAt": now(),
                    "clientSecretExpiresAt": now() + 90 * 86400,
                }),
            )
        }
        "/device_authorization" => {
            count("StartDeviceAuthorization");
            st.n += 1;
            let device = format!("dc-{}", st.n);
            let user = format!("WXYZ-{:04}", st.n);
            st.devices.insert(device.clone(), (user.clone(), false));
            (
                200,
                None,
                json!({
                    "deviceCode": device,
                    "userCode": user,
                    "verificationUri": format!("http://127.0.0.1:{port}/device"),
                    "verificationUriComplete": format!("http://127.0.0.1:{port}/device?user_code={user}"),
                    "expiresIn": 120,
                    "interval": 1,
                }),
            )
        }
        "/device" => {
            count("Visit");
            let code = q.get("user_code").cloned().unwrap_or_default();
            for (user, approved) in st.devices.values_mut() {
                if *user == code {
                    *approved = true;
                }
            }
            (200, None, json!({"approved": code}))
        }
        "/authorize" => {
            count("Visit");
            count("Authorize");
            let get = |k: &str| q.get(k).cloned().unwrap_or_default();
            let (client, redirect) = (get("client_id"), get("redirect_uri"));
            let registered = st
                .redirects
                .get(&client)
                .is_some_and(|u| u.contains(&redirect));
            if !registered
                || get("response_type") != "code"
                || get("code_challenge_method") != "S256"
                || get("code_challenge").is_empty()
                || !redirect.starts_with("http://127.0.0.1:")
            {
                (
                    400,
                    Some("InvalidRequestException"),
                    json!({"error": "invalid_request"}),
                )
            } else {
                st.n += 1;
                let code = format!("authcode-{}", st.n);
                st.codes.insert(
                    code.clone(),
                    (client, redirect.clone(), get("code_challenge")),
                );
                let location = format!(
                    "{redirect}?code={code}&state={}",
                    form_urlencoded::byte_serialize(get("state").as_bytes()).collect::<String>()
                );
                drop(st);
                let resp = format!(
                    "HTTP/1.1 302 Found\r\nlocation: {location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
                out.write_all(resp.as_bytes())?;
                return out.flush();
            }
        }
        "/token" if s("grantType") == "authorization_code" => {
            count("CreateToken(code)");
            use base64::Engine;
            use sha2::Digest;
            let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(sha2::Sha256::digest(s("codeVerifier").as_bytes()));
            match st.codes.remove(&s("code")) {
                Some((client, redirect, want))
                    if client == s("clientId")
                        && redirect == s("redirectUri")
                        && want == challenge =>
                {
                    st.n += 1;
                    let at = format!("sso-access-token-{:06}-{}", st.n, now());
                    let rt = format!("sso-refresh-token-{:06}-{}", st.n, now());
                    let secs = st.token_secs;
                    st.access.insert(at.clone(), now() + secs);
                    st.refresh.push(rt.clone());
                    st.issued.extend([at.clone(), rt.clone()]);
                    (
                        200,
                        None,
                        json!({"accessToken": at, "tokenType": "Bearer", "expiresIn": secs, "refreshToken": rt}),
                    )
                }
                _ => {
                    *st.calls
                        .entry("CreateToken(code refused)".into())
                        .or_default() += 1;
                    (
                        400,
                        Some("InvalidGrantException"),
                        json!({"error": "invalid_grant", "error_description": "Invalid authorization code or verifier"}),
                    )
                }
            }
        }
        "/token" => {
            let grant = s("grantType");
            // No registration scopes, no refresh token (as AWS does).
            let refreshable = !s("clientId").ends_with("-0");
            let issue = |st: &mut State| {
                st.n += 1;
                let at = format!("sso-access-token-{:06}-{}", st.n, now());
                let rt = format!("sso-refresh-token-{:06}-{}", st.n, now());
                st.access.insert(at.clone(), now() + st.token_secs);
                st.refresh.push(rt.clone());
                st.issued.extend([at.clone(), rt.clone()]);
                json!({"accessToken": at, "tokenType": "Bearer", "expiresIn": st.token_secs, "refreshToken": rt})
            };
            if grant == "refresh_token" {
                count("CreateToken(refresh)");
                if st.refuse_refresh || !st.refresh.contains(&s("refreshToken")) {
                    (
                        400,
                        Some("InvalidGrantException"),
                        json!({"error": "invalid_grant", "error_description": "Invalid refresh token provided"}),
                    )
                } else {
                    (200, None, issue(&mut st))
                }
            } else {
                count("CreateToken(device)");
                match st.devices.get(&s("deviceCode")).cloned() {
                    Some((_, true)) => {
                        st.devices.remove(&s("deviceCode"));
                        let mut t = issue(&mut st);
                        if !refreshable {
                            t.as_object_mut().unwrap().remove("refreshToken");
                        }
                        (200, None, t)
                    }
                    Some((_, false)) => (
                        400,
                        Some("AuthorizationPendingException"),
                        json!({"error": "authorization_pending", "error_description": "Authorization is still pending"}),
                    ),
                    None => (
                        400,
                        Some("ExpiredTokenException"),
                        json!({"error": "expired_token"}),
                    ),
                }
            }
        }
        "/federation/credentials" => {
            count("GetRoleCredentials");
            let valid = st.access.get(&bearer).is_some_and(|exp| *exp > now());
            let key = (
                q.get("account_id").cloned().unwrap_or_default(),
                q.get("role_name").cloned().unwrap_or_default(),
            );
            match (valid, st.role_keys.get(&key)) {
                (false, _) => (
                    401,
                    Some("UnauthorizedException"),
                    json!({"message": "Session token not found or invalid"}),
                ),
                (true, None) => (
                    403,
                    Some("ForbiddenException"),
                    json!({"message": "No access"}),
                ),
                (true, Some((id, secret))) => (
                    200,
                    None,
                    json!({"roleCredentials": {
                        "accessKeyId": id, "secretAccessKey": secret,
                        "sessionToken": format!("sso-role-session-{}", now()),
                        "expiration": (now() + 3600) * 1000,
                    }}),
                ),
            }
        }
        "/assignment/accounts" => {
            count("ListAccounts");
            // One account per page, so paging is exercised.
            let ids: Vec<String> = st.accounts.keys().cloned().collect();
            let start: usize = q
                .get("next_token")
                .and_then(|t| t.parse().ok())
                .unwrap_or(0);
            let page: Vec<Value> = ids.iter().skip(start).take(1).map(|id| {
                json!({"accountId": id, "accountName": st.accounts[id].0, "emailAddress": "team@example.com"})
            }).collect();
            let mut a = json!({"accountList": page});
            if start + 1 < ids.len() {
                a["nextToken"] = json!((start + 1).to_string());
            }
            (200, None, a)
        }
        "/assignment/roles" => {
            count("ListAccountRoles");
            let id = q.get("account_id").cloned().unwrap_or_default();
            let roles: Vec<Value> = st
                .accounts
                .get(&id)
                .map(|(_, r)| r.clone())
                .unwrap_or_default()
                .into_iter()
                .map(|r| json!({"roleName": r, "accountId": id}))
                .collect();
            (200, None, json!({"roleList": roles}))
        }
        "/logout" => {
            count("Logout");
            st.access.remove(&bearer);
            (200, None, json!({}))
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
