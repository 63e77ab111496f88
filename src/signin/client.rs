//! AWS Sign-In's token call (aws-sdk-signin's CreateOAuth2Token), unsigned as the service
//! defines it and bound to the session's key by a DPoP proof, on the same transport as STS.

use std::sync::Arc;

use secrecy::SecretString;

use super::dpop::Key;
use crate::sts::client::{RETRIES, Transport, timeouts};
use crate::{Error, Result};

pub const CLIENT_SAME_DEVICE: &str = "arn:aws:signin:::devtools/same-device";
pub const CLIENT_CROSS_DEVICE: &str = "arn:aws:signin:::devtools/cross-device";

pub struct Client {
    transport: Transport,
    signin: aws_sdk_signin::Client,
    /// The service's base URL: where the browser authorizes, and the token call goes.
    pub base: String,
}

/// What a token call gives: the session's credentials, the next refresh token, and (after a
/// sign-in) the identity token that names the session.
pub struct TokenAnswer {
    pub access_key_id: String,
    pub secret_access_key: SecretString,
    pub session_token: SecretString,
    pub expires_in: u64,
    pub refresh_token: SecretString,
    pub id_token: Option<String>,
}

/// The grant of a token call.
pub enum Grant<'a> {
    Code {
        code: &'a str,
        verifier: &'a str,
        redirect_uri: &'a str,
    },
    Refresh(&'a str),
}

fn signin_error<E, R>(
    endpoint: &str,
    e: &aws_smithy_runtime_api::client::result::SdkError<E, R>,
) -> Error
where
    E: aws_sdk_signin::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match crate::sts::client::map_err("CreateOAuth2Token", endpoint, e) {
        Error::StsCall { op, code, message } => Error::SignInCall { op, code, message },
        Error::StsUnreachable { op, endpoint, why } => {
            Error::SignInUnreachable { op, endpoint, why }
        }
        other => other,
    }
}

impl Client {
    /// A client for `region`'s Sign-In, or `endpoint`'s.
    pub fn new(region: &str, endpoint: Option<&str>) -> Result<Self> {
        let transport = Transport::new()?;
        let mut c = aws_sdk_signin::Config::builder()
            .behavior_version(aws_sdk_signin::config::BehaviorVersion::latest())
            .http_client(transport.http.clone())
            .region(aws_sdk_signin::config::Region::new(region.to_owned()))
            .retry_config(
                aws_sdk_signin::config::retry::RetryConfig::standard().with_max_attempts(RETRIES),
            )
            .timeout_config(timeouts());
        if let Some(ep) = endpoint {
            c = c.endpoint_url(ep);
        }
        let base = endpoint.map_or_else(
            || format!("https://{}", crate::partition::signin_host(region)),
            |e| e.trim_end_matches('/').to_owned(),
        );
        Ok(Self {
            signin: aws_sdk_signin::Client::from_conf(c.build()),
            transport,
            base,
        })
    }

    /// Each call shows on `progress` while it runs.
    #[must_use]
    pub fn showing(mut self, progress: &crate::progress::Progress) -> Self {
        self.transport.progress = progress.clone();
        self
    }

    /// Where the browser signs in (PKCE, SHA-256) and is sent back to `redirect_uri`.
    pub fn authorize_url(
        &self,
        client_id: &str,
        redirect_uri: &str,
        state: &str,
        challenge: &str,
    ) -> Result<String> {
        url::Url::parse_with_params(
            &format!("{}/v1/authorize", self.base),
            &[
                ("response_type", "code"),
                ("client_id", client_id),
                ("state", state),
                ("code_challenge_method", "SHA-256"),
                ("scope", "openid"),
                ("redirect_uri", redirect_uri),
                ("code_challenge", challenge),
            ],
        )
        .map(String::from)
        .map_err(|e| Error::Invalid(format!("the Sign-In endpoint {}: {e}", self.base)))
    }

    /// CreateOAuth2Token for `client_id` with `grant`, proved with `key`.
    pub fn token(&self, client_id: &str, grant: Grant<'_>, key: Key) -> Result<TokenAnswer> {
        let mut body =
            aws_sdk_signin::types::CreateOAuth2TokenRequestBody::builder().client_id(client_id);
        body = match grant {
            Grant::Code {
                code,
                verifier,
                redirect_uri,
            } => body
                .grant_type("authorization_code")
                .code(code)
                .code_verifier(verifier)
                .redirect_uri(redirect_uri),
            Grant::Refresh(token) => body.grant_type("refresh_token").refresh_token(token),
        };
        let body = body
            .build()
            .map_err(|e| Error::Invalid(format!("CreateOAuth2Token: {e}")))?;
        let key = Arc::new(key);
        // The proof names the URL the request goes to, known once the endpoint is resolved.
        let req = self
            .signin
            .create_o_auth2_token()
            .token_input(body)
            .customize()
            .mutate_request(move |req| {
                let url = req.uri().to_owned();
                if let Ok(proof) = key.proof(&url, super::now_secs()) {
                    req.headers_mut().insert("DPoP", proof);
                }
            });
        let out = self
            .transport
            .call("CreateOAuth2Token", req.send())
            .map_err(|e| signin_error(&self.base, &e))?;
        let t = out.token_output().ok_or_else(|| Error::SignInCall {
            op: "CreateOAuth2Token",
            code: "NoTokenOutput".into(),
            message: "the answer held no token".into(),
        })?;
        let access = t.access_token().ok_or_else(|| Error::SignInCall {
            op: "CreateOAuth2Token",
            code: "NoAccessToken".into(),
            message: "the answer held no credentials".into(),
        })?;
        Ok(TokenAnswer {
            access_key_id: access.access_key_id().to_owned(),
            secret_access_key: SecretString::from(access.secret_access_key()),
            session_token: SecretString::from(access.session_token()),
            expires_in: u64::try_from(t.expires_in())
                .unwrap_or(0)
                .clamp(60, 12 * 3600),
            refresh_token: SecretString::from(t.refresh_token()),
            id_token: t.id_token().map(str::to_owned),
        })
    }
}
