//! The IAM Identity Center calls: aws-sdk-ssooidc (register, device authorization, the
//! authorization code's address, token) and
//! aws-sdk-sso (role credentials, accounts, roles), unsigned (they carry the client secret or
//! the access token), on the same transport as STS.

use std::time::{Duration, UNIX_EPOCH};

use aws_sdk_sso::error::ProvideErrorMetadata;
use secrecy::SecretString;

use crate::creds::Credentials;
use crate::sts::client::{RETRIES, Transport, timeouts};
use crate::{Error, Result};

pub struct Clients {
    transport: Transport,
    oidc: aws_sdk_ssooidc::Client,
    portal: aws_sdk_sso::Client,
    /// Where each goes, for messages.
    oidc_at: String,
    portal_at: String,
    /// The OIDC service's base URL, where the browser is sent to authorize.
    oidc_base: String,
}

/// A client registration (90 days, by AWS's default).
pub struct Registration {
    pub client_id: String,
    pub client_secret: SecretString,
    pub expires_at: u64,
}

pub struct DeviceAuthorization {
    pub device_code: SecretString,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: Option<String>,
    pub expires_in: u64,
    pub interval: u64,
}

pub struct TokenAnswer {
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
    pub expires_in: u64,
}

/// What CreateToken said while the person has not approved yet.
pub enum Poll {
    Token(TokenAnswer),
    Pending,
    SlowDown,
}

/// STS's mapping of SDK errors, renamed for Identity Center.
fn sso_error<E, R>(
    op: &'static str,
    endpoint: &str,
    e: &aws_smithy_runtime_api::client::result::SdkError<E, R>,
) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match crate::sts::client::map_err(op, endpoint, e) {
        Error::StsCall { op, code, message } => Error::SsoCall { op, code, message },
        Error::StsUnreachable { op, endpoint, why } => Error::SsoUnreachable { op, endpoint, why },
        other => other,
    }
}

impl Clients {
    /// Each call shows on `progress` while it runs.
    #[must_use]
    pub fn showing(mut self, progress: &crate::progress::Progress) -> Self {
        self.transport.progress = progress.clone();
        self
    }

    /// Clients for `region`'s Identity Center (FIPS and dual-stack hosts as `variant` says),
    /// or the endpoints given.
    pub fn new(
        region: &str,
        oidc_endpoint: Option<&str>,
        portal_endpoint: Option<&str>,
        variant: crate::partition::Variant,
    ) -> Result<Self> {
        Ok(Self::with_transport(
            Transport::new()?,
            region,
            oidc_endpoint,
            portal_endpoint,
            variant,
        ))
    }

    #[doc(hidden)]
    pub fn with_transport(
        transport: Transport,
        region: &str,
        oidc_endpoint: Option<&str>,
        portal_endpoint: Option<&str>,
        variant: crate::partition::Variant,
    ) -> Self {
        let mut o = aws_sdk_ssooidc::Config::builder()
            .behavior_version(aws_sdk_ssooidc::config::BehaviorVersion::latest())
            .http_client(transport.http.clone())
            .region(aws_sdk_ssooidc::config::Region::new(region.to_owned()))
            .retry_config(
                aws_sdk_ssooidc::config::retry::RetryConfig::standard().with_max_attempts(RETRIES),
            )
            .timeout_config(timeouts());
        match oidc_endpoint {
            Some(ep) => o = o.endpoint_url(ep),
            None => o = o.use_fips(variant.fips).use_dual_stack(variant.dual_stack),
        }
        let mut p = aws_sdk_sso::Config::builder()
            .behavior_version(aws_sdk_sso::config::BehaviorVersion::latest())
            .http_client(transport.http.clone())
            .region(aws_sdk_sso::config::Region::new(region.to_owned()))
            .retry_config(
                aws_sdk_sso::config::retry::RetryConfig::standard().with_max_attempts(RETRIES),
            )
            .timeout_config(timeouts());
        match portal_endpoint {
            Some(ep) => p = p.endpoint_url(ep),
            None => p = p.use_fips(variant.fips).use_dual_stack(variant.dual_stack),
        }
        Self {
            oidc_base: oidc_endpoint.map_or_else(
                || {
                    format!(
                        "https://{}",
                        crate::partition::host("oidc", region, variant)
                    )
                },
                |e| e.trim_end_matches('/').to_owned(),
            ),
            oidc_at: oidc_endpoint.map_or_else(
                || crate::partition::host("oidc", region, variant),
                str::to_owned,
            ),
            portal_at: portal_endpoint.map_or_else(
                || crate::partition::host("portal.sso", region, variant),
                str::to_owned,
            ),
            oidc: aws_sdk_ssooidc::Client::from_conf(o.build()),
            portal: aws_sdk_sso::Client::from_conf(p.build()),
            transport,
        }
    }

    pub fn register(&self, scopes: &[String]) -> Result<Registration> {
        let req = self
            .oidc
            .register_client()
            .client_name("op-aws")
            .client_type("public")
            .set_scopes((!scopes.is_empty()).then(|| scopes.to_vec()));
        let out = self
            .transport
            .call("RegisterClient", req.send())
            .map_err(|e| sso_error("RegisterClient", &self.oidc_at, &e))?;
        Ok(registration(&out))
    }

    /// A registration for the authorization code grant: a public client that may be sent back
    /// to `redirect_uri` (a loopback address) for sessions of `start_url`.
    pub fn register_for_code(
        &self,
        scopes: &[String],
        redirect_uri: &str,
        start_url: &str,
    ) -> Result<Registration> {
        let req = self
            .oidc
            .register_client()
            .client_name("op-aws")
            .client_type("public")
            .set_scopes((!scopes.is_empty()).then(|| scopes.to_vec()))
            .grant_types("authorization_code")
            .grant_types("refresh_token")
            .redirect_uris(redirect_uri)
            .issuer_url(start_url);
        let out = self
            .transport
            .call("RegisterClient", req.send())
            .map_err(|e| sso_error("RegisterClient", &self.oidc_at, &e))?;
        Ok(registration(&out))
    }

    /// Where the browser authorizes `client_id` (PKCE, S256): the page that sends it back to
    /// `redirect_uri` with a code and `state`.
    pub fn authorize_url(
        &self,
        client_id: &str,
        redirect_uri: &str,
        state: &str,
        challenge: &str,
        scopes: &[String],
    ) -> Result<String> {
        let mut params = vec![
            ("response_type", "code".to_owned()),
            ("client_id", client_id.to_owned()),
            ("redirect_uri", redirect_uri.to_owned()),
            ("state", state.to_owned()),
            ("code_challenge_method", "S256".to_owned()),
            ("code_challenge", challenge.to_owned()),
        ];
        if !scopes.is_empty() {
            params.push(("scopes", scopes.join(",")));
        }
        url::Url::parse_with_params(&format!("{}/authorize", self.oidc_base), &params)
            .map(String::from)
            .map_err(|e| Error::Invalid(format!("the OIDC endpoint {}: {e}", self.oidc_base)))
    }

    /// CreateToken with the authorization code and the PKCE verifier it was asked with.
    pub fn token_from_code(
        &self,
        reg: &Registration,
        code: &str,
        verifier: &str,
        redirect_uri: &str,
    ) -> Result<TokenAnswer> {
        use secrecy::ExposeSecret;
        let req = self
            .oidc
            .create_token()
            .client_id(&reg.client_id)
            .client_secret(reg.client_secret.expose_secret())
            .grant_type("authorization_code")
            .code(code)
            .code_verifier(verifier)
            .redirect_uri(redirect_uri);
        let out = self
            .transport
            .call("CreateToken", req.send())
            .map_err(|e| sso_error("CreateToken", &self.oidc_at, &e))?;
        Ok(token_answer(&out))
    }

    pub fn start_device_authorization(
        &self,
        reg: &Registration,
        start_url: &str,
    ) -> Result<DeviceAuthorization> {
        use secrecy::ExposeSecret;
        let req = self
            .oidc
            .start_device_authorization()
            .client_id(&reg.client_id)
            .client_secret(reg.client_secret.expose_secret())
            .start_url(start_url);
        let out = self
            .transport
            .call("StartDeviceAuthorization", req.send())
            .map_err(|e| sso_error("StartDeviceAuthorization", &self.oidc_at, &e))?;
        Ok(DeviceAuthorization {
            device_code: SecretString::from(out.device_code().unwrap_or_default()),
            user_code: out.user_code().unwrap_or_default().to_owned(),
            verification_uri: out.verification_uri().unwrap_or_default().to_owned(),
            verification_uri_complete: out.verification_uri_complete().map(str::to_owned),
            expires_in: u64::try_from(out.expires_in()).unwrap_or(0).clamp(1, 3600),
            interval: u64::try_from(out.interval()).unwrap_or(5).clamp(1, 60),
        })
    }

    /// One CreateToken poll for a device code.
    pub fn poll(&self, client_id: &str, client_secret: &str, device_code: &str) -> Result<Poll> {
        let req = self
            .oidc
            .create_token()
            .client_id(client_id)
            .client_secret(client_secret)
            .grant_type("urn:ietf:params:oauth:grant-type:device_code")
            .device_code(device_code);
        // Not a step of its own: the caller shows the whole wait for the sign-in.
        match self.transport.rt.block_on(req.send()) {
            Ok(out) => Ok(Poll::Token(token_answer(&out))),
            Err(e) => match sso_error("CreateToken", &self.oidc_at, &e) {
                Error::SsoCall { code, .. } if code == "AuthorizationPendingException" => {
                    Ok(Poll::Pending)
                }
                Error::SsoCall { code, .. } if code == "SlowDownException" => Ok(Poll::SlowDown),
                other => Err(other),
            },
        }
    }

    /// CreateToken with the refresh token.
    pub fn refresh(
        &self,
        client_id: &str,
        client_secret: &str,
        refresh_token: &str,
    ) -> Result<TokenAnswer> {
        let req = self
            .oidc
            .create_token()
            .client_id(client_id)
            .client_secret(client_secret)
            .grant_type("refresh_token")
            .refresh_token(refresh_token);
        let out = self
            .transport
            .call("CreateToken", req.send())
            .map_err(|e| sso_error("CreateToken", &self.oidc_at, &e))?;
        Ok(token_answer(&out))
    }

    pub fn role_credentials(
        &self,
        access_token: &str,
        account_id: &str,
        role_name: &str,
    ) -> Result<Credentials> {
        let req = self
            .portal
            .get_role_credentials()
            .access_token(access_token)
            .account_id(account_id)
            .role_name(role_name);
        let out = self
            .transport
            .call("GetRoleCredentials", req.send())
            .map_err(|e| sso_error("GetRoleCredentials", &self.portal_at, &e))?;
        let rc = out.role_credentials().ok_or_else(|| Error::SsoCall {
            op: "GetRoleCredentials",
            code: "Empty".into(),
            message: "no credentials in the answer".into(),
        })?;
        let millis = u64::try_from(rc.expiration()).unwrap_or(0);
        // Each part present: incomplete credentials would be cached and fail every command.
        let part = |v: Option<&str>| {
            v.map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let (Some(id), Some(secret), Some(token)) = (
            part(rc.access_key_id()),
            part(rc.secret_access_key()),
            part(rc.session_token()),
        ) else {
            return Err(Error::SsoCall {
                op: "GetRoleCredentials",
                code: "IncompleteCredentials".into(),
                message: "the answer had credentials without a key id, secret or session token"
                    .into(),
            });
        };
        Ok(Credentials {
            access_key_id: id,
            secret_access_key: SecretString::from(secret),
            session_token: Some(SecretString::from(token)),
            expiration: Some(UNIX_EPOCH + Duration::from_millis(millis)),
        })
    }

    /// Every account the token can use: (id, name).
    pub fn accounts(&self, access_token: &str) -> Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let req = self
                .portal
                .list_accounts()
                .access_token(access_token)
                .set_next_token(next.take());
            let page = self
                .transport
                .call("ListAccounts", req.send())
                .map_err(|e| sso_error("ListAccounts", &self.portal_at, &e))?;
            for a in page.account_list() {
                out.push((
                    a.account_id().unwrap_or_default().to_owned(),
                    a.account_name().unwrap_or_default().to_owned(),
                ));
            }
            match page.next_token() {
                Some(t) if !t.is_empty() && out.len() < 100_000 => next = Some(t.to_owned()),
                _ => return Ok(out),
            }
        }
    }

    /// The roles the token can take in `account_id`.
    pub fn roles(&self, access_token: &str, account_id: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let req = self
                .portal
                .list_account_roles()
                .access_token(access_token)
                .account_id(account_id)
                .set_next_token(next.take());
            let page = self
                .transport
                .call("ListAccountRoles", req.send())
                .map_err(|e| sso_error("ListAccountRoles", &self.portal_at, &e))?;
            out.extend(
                page.role_list()
                    .iter()
                    .filter_map(|r| r.role_name().map(str::to_owned)),
            );
            match page.next_token() {
                Some(t) if !t.is_empty() && out.len() < 100_000 => next = Some(t.to_owned()),
                _ => return Ok(out),
            }
        }
    }

    /// Ends the session at AWS too (best effort: the local copy is gone either way).
    pub fn logout(&self, access_token: &str) -> Result<()> {
        let req = self.portal.logout().access_token(access_token);
        self.transport
            .call("Logout", req.send())
            .map(|_| ())
            .map_err(|e| sso_error("Logout", &self.portal_at, &e))
    }
}

fn registration(
    out: &aws_sdk_ssooidc::operation::register_client::RegisterClientOutput,
) -> Registration {
    Registration {
        client_id: out.client_id().unwrap_or_default().to_owned(),
        client_secret: SecretString::from(out.client_secret().unwrap_or_default()),
        expires_at: u64::try_from(out.client_secret_expires_at()).unwrap_or(0),
    }
}

fn token_answer(out: &aws_sdk_ssooidc::operation::create_token::CreateTokenOutput) -> TokenAnswer {
    TokenAnswer {
        access_token: SecretString::from(out.access_token().unwrap_or_default()),
        refresh_token: out
            .refresh_token()
            .filter(|t| !t.is_empty())
            .map(SecretString::from),
        expires_in: u64::try_from(out.expires_in()).unwrap_or(0),
    }
}

pub use crate::sts::cache::now_secs;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::partition::Variant;

    #[test]
    fn the_browser_goes_to_the_host_of_the_partition_and_variant() {
        let at = |region: &str, v: Variant| {
            let c = Clients::new(region, None, None, v).unwrap();
            c.authorize_url("cid", "http://127.0.0.1:1/oauth/callback", "s", "c", &[])
                .unwrap()
        };
        assert!(
            at("us-east-1", Variant::default())
                .starts_with("https://oidc.us-east-1.amazonaws.com/authorize?")
        );
        let fips = Variant {
            fips: true,
            dual_stack: false,
        };
        assert!(
            at("us-gov-west-1", fips)
                .starts_with("https://oidc-fips.us-gov-west-1.amazonaws.com/authorize?")
        );
        let dual = Variant {
            fips: false,
            dual_stack: true,
        };
        assert!(
            at("cn-north-1", dual)
                .starts_with("https://oidc.cn-north-1.api.amazonwebservices.com.cn/authorize?")
        );
    }
}
