//! The loopback credentials endpoint (`op-aws run --server`, `op-aws serve`): the container
//! credentials protocol every AWS SDK speaks (`AWS_CONTAINER_CREDENTIALS_FULL_URI` plus a token),
//! so a long job, an IDE or a GUI asks for fresh credentials whenever it needs them instead of
//! holding keys frozen in its environment. Each answer is the resolver's, so a role or MFA session
//! is refreshed (once, for every asker) before it runs out, and a locked vault answers nothing.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::ctx::Ctx;
use crate::inject::EnvChanges;
use crate::resolve::{Request, Want, resolve};
use crate::{Error, Result, fsutil};

pub const FULL_URI_VAR: &str = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
pub const TOKEN_FILE_VAR: &str = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE";

/// A listening endpoint; its token file goes when it is dropped.
pub struct Endpoint {
    server: tiny_http::Server,
    pub url: String,
    token: Zeroizing<String>,
    pub token_file: PathBuf,
    /// The session policy every answer is scoped to (`run --server --read-only`).
    pub ask: crate::policy::Ask,
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.token_file);
    }
}

impl Endpoint {
    /// Listens on 127.0.0.1 (a free port) with a fresh random token, written 0600 into the
    /// runtime directory.
    pub fn start(ctx: &Ctx) -> Result<Self> {
        let server = tiny_http::Server::http("127.0.0.1:0")
            .map_err(|e| Error::Invalid(format!("cannot listen on 127.0.0.1: {e}")))?;
        let port = server
            .server_addr()
            .to_ip()
            .map(|a| a.port())
            .ok_or_else(|| Error::Invalid("the endpoint has no port".into()))?;
        let mut raw = Zeroizing::new([0u8; 32]);
        getrandom::getrandom(&mut raw[..])
            .map_err(|e| Error::Invalid(format!("no randomness for the token: {e}")))?;
        let token = Zeroizing::new(raw.iter().map(|b| format!("{b:02x}")).collect::<String>());
        fsutil::ensure_private_dir(&ctx.dirs.runtime)?;
        let token_file = ctx
            .dirs
            .runtime
            .join(format!("endpoint-{port}-{}.token", std::process::id()));
        fsutil::write_atomic(&token_file, token.as_bytes(), 0o600)?;
        Ok(Self {
            server,
            url: format!("http://127.0.0.1:{port}/op-aws/credentials"),
            token,
            token_file,
            ask: crate::policy::Ask {
                via: crate::policy::Via::Endpoint,
                ..crate::policy::Ask::default()
            },
        })
    }

    /// What a process needs to ask this endpoint, and no keys (nor a profile, which the SDKs
    /// would try before the endpoint).
    pub fn env(&self) -> EnvChanges {
        let mut c = EnvChanges::default();
        c.set(FULL_URI_VAR, &self.url);
        c.set(TOKEN_FILE_VAR, &self.token_file.to_string_lossy());
        for k in [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_SECURITY_TOKEN",
            "AWS_CREDENTIAL_EXPIRATION",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "AWS_PROFILE",
        ] {
            c.unset(k);
        }
        c
    }

    /// Answers until `stop` says so (checked every 200 ms). `ctx` must have no terminal: the
    /// endpoint never asks anyone anything.
    pub fn serve(
        &self,
        ctx: &Ctx,
        item: Option<&str>,
        profile: Option<&str>,
        stop: &dyn Fn() -> bool,
    ) {
        while !stop() {
            let Ok(Some(req)) = self.server.recv_timeout(Duration::from_millis(200)) else {
                continue;
            };
            let (status, body) = self.answer(ctx, item, profile, &req);
            let response = tiny_http::Response::from_data(body.as_bytes().to_vec())
                .with_status_code(status)
                .with_header(
                    tiny_http::Header::from_bytes("Content-Type", "application/json")
                        .expect("a valid header"),
                );
            let _ = req.respond(response);
        }
    }

    fn answer(
        &self,
        ctx: &Ctx,
        item: Option<&str>,
        profile: Option<&str>,
        req: &tiny_http::Request,
    ) -> (u16, Zeroizing<String>) {
        let error = |code: u16, msg: &str| {
            (
                code,
                Zeroizing::new(serde_json::json!({ "code": "Error", "message": msg }).to_string()),
            )
        };
        if *req.method() != tiny_http::Method::Get {
            return error(405, "GET only");
        }
        let presented = req
            .headers()
            .iter()
            .find(|h| h.field.equiv("Authorization"))
            .map(|h| h.value.as_str());
        match presented {
            None => return error(401, "no authorization token"),
            Some(t) if !bool::from(t.as_bytes().ct_eq(self.token.as_bytes())) => {
                return error(403, "wrong authorization token");
            }
            Some(_) => {}
        }
        let r = resolve(
            ctx,
            &Request {
                item,
                profile,
                want: Want::Temporary,
                ask: self.ask.clone(),
            },
        );
        let creds = match r.as_ref().map(|r| r.creds.as_ref()) {
            Ok(Some(c)) => c,
            Ok(None) => return error(503, "no credentials"),
            // Locked, or STS refused: the asker sees that it cannot have them, never why in
            // detail (the person at the terminal sees it from op-aws).
            Err(Error::Step { source, .. })
                if matches!(**source, Error::LockedNoTerminal | Error::Locked) =>
            {
                return error(403, "the vault is locked");
            }
            Err(e) => return error(503, &e.to_string()),
        };
        let (Some(token), Some(exp)) = (&creds.session_token, creds.expiration_rfc3339()) else {
            return error(503, "no temporary credentials");
        };
        let body = serde_json::json!({
            "AccessKeyId": creds.access_key_id,
            "SecretAccessKey": creds.secret_access_key.expose_secret(),
            "Token": token.expose_secret(),
            "Expiration": exp,
        });
        (200, Zeroizing::new(body.to_string()))
    }
}
