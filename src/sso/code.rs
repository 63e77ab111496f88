//! The authorization code grant with PKCE (RFC 7636), the AWS CLI's default since 2.22: one
//! page in the browser, which comes back to a listener of ours on 127.0.0.1 with a code that is
//! worth nothing without the verifier this process kept. No code to read off one screen and
//! type into another, so none to phish.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use base64::Engine;
use sha2::Digest;
use zeroize::Zeroizing;

use super::client::{Clients, Registration, TokenAnswer};
use crate::{Error, Result};

/// How long the browser has to come back.
pub const WAIT: Duration = Duration::from_secs(300);
/// A request to the listener at most (a browser's GET with its headers).
const MAX_REQUEST: usize = 16 * 1024;
const PATH: &str = "/oauth/callback";

/// The verifier (kept here), its S256 challenge (sent with the browser) and the state that
/// ties the answer to this sign-in.
pub struct Pkce {
    pub verifier: Zeroizing<String>,
    pub challenge: String,
    pub state: String,
}

fn random(n: usize) -> Result<Zeroizing<Vec<u8>>> {
    let mut b = Zeroizing::new(vec![0u8; n]);
    getrandom::getrandom(&mut b).map_err(|e| Error::Invalid(format!("no randomness: {e}")))?;
    Ok(b)
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The S256 challenge of `verifier`.
pub fn challenge_of(verifier: &str) -> String {
    b64(&sha2::Sha256::digest(verifier.as_bytes()))
}

impl Pkce {
    pub fn new() -> Result<Self> {
        // 32 bytes: a 43-character verifier, the shortest RFC 7636 allows, at full entropy.
        let verifier = Zeroizing::new(b64(&random(32)?));
        Ok(Self {
            challenge: challenge_of(&verifier),
            verifier,
            state: b64(&random(16)?),
        })
    }
}

/// The loopback listener the browser is sent back to.
pub struct Redirect {
    listener: TcpListener,
    pub uri: String,
}

impl Redirect {
    pub fn bind() -> Result<Self> {
        let listener =
            TcpListener::bind(("127.0.0.1", 0)).map_err(|e| Error::io("127.0.0.1:0", e))?;
        let port = listener
            .local_addr()
            .map_err(|e| Error::io("127.0.0.1", e))?
            .port();
        listener
            .set_nonblocking(true)
            .map_err(|e| Error::io("127.0.0.1", e))?;
        Ok(Self {
            listener,
            uri: format!("http://127.0.0.1:{port}{PATH}"),
        })
    }

    /// The code the browser brings back with `state`, before `deadline`. Anything else that
    /// connects (another path, another state) is answered and ignored; an error the service
    /// sent back ends the wait.
    pub fn wait(&self, state: &str, session: &str, deadline: Instant) -> Result<Zeroizing<String>> {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        use std::os::fd::AsFd;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::SsoSignInNeeded {
                    session: session.to_owned(),
                    flag: String::new(),
                });
            }
            let mut fds = [PollFd::new(self.listener.as_fd(), PollFlags::POLLIN)];
            let ms = u16::try_from(left.as_millis()).unwrap_or(1000).min(1000);
            if poll(&mut fds, PollTimeout::from(ms)).unwrap_or(0) == 0 {
                continue;
            }
            let Ok((conn, _)) = self.listener.accept() else {
                continue;
            };
            match answer(conn, state, session) {
                Some(Ok(code)) => return Ok(code),
                Some(Err(e)) => return Err(e),
                None => {}
            }
        }
    }
}

/// One connection to the listener: `Some` when it was the browser coming back.
fn answer(mut conn: TcpStream, state: &str, session: &str) -> Option<Result<Zeroizing<String>>> {
    conn.set_nonblocking(false).ok()?;
    conn.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut head = Zeroizing::new(Vec::with_capacity(2048));
    let mut chunk = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_REQUEST {
        let n = conn.read(&mut chunk).ok()?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&chunk[..n]);
    }
    let line = head.split(|b| *b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?.trim_end();
    let mut words = line.split(' ');
    let (method, target) = (words.next()?, words.next()?);
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if method != "GET" || path != PATH {
        reply(&mut conn, 404, "op-aws: nothing here");
        return None;
    }
    let mut code = None;
    let (mut got_state, mut error, mut description) = (None, None, None);
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "code" => code = Some(Zeroizing::new(v.into_owned())),
            "state" => got_state = Some(v.into_owned()),
            "error" => error = Some(v.into_owned()),
            "error_description" => description = Some(v.into_owned()),
            _ => {}
        }
    }
    if got_state.as_deref() != Some(state) {
        // Not this sign-in's (a stale tab, another program): ignored.
        reply(
            &mut conn,
            400,
            "op-aws: this is not the sign-in op-aws is waiting for",
        );
        return None;
    }
    if let Some(error) = error {
        reply(
            &mut conn,
            200,
            "op-aws: the sign-in was not completed; see your terminal",
        );
        return Some(Err(Error::SsoCall {
            op: "Authorize",
            code: crate::error::printable(&error),
            message: crate::error::printable(&description.unwrap_or_default()),
        }));
    }
    let code = code.filter(|c| !c.is_empty())?;
    reply(
        &mut conn,
        200,
        &format!(
            "op-aws: signed in to {}. You can close this tab.",
            crate::error::printable(session)
        ),
    );
    Some(Ok(code))
}

fn reply(conn: &mut TcpStream, status: u16, text: &str) {
    let head = format!(
        "HTTP/1.1 {status} {}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n",
        if status == 200 { "OK" } else { "Not Found" },
        text.len()
    );
    let _ = conn
        .write_all(head.as_bytes())
        .and_then(|()| conn.write_all(text.as_bytes()));
}

/// Registers for the code grant, sends the browser (`open`) to authorize, waits for it to
/// come back, and trades the code for tokens.
pub fn sign_in(
    c: &Clients,
    scopes: &[String],
    start_url: &str,
    session: &str,
    open: impl FnOnce(&str),
) -> Result<(Registration, TokenAnswer)> {
    let redirect = Redirect::bind()?;
    let reg = c.register_for_code(scopes, &redirect.uri, start_url)?;
    let pkce = Pkce::new()?;
    let url = c.authorize_url(
        &reg.client_id,
        &redirect.uri,
        &pkce.state,
        &pkce.challenge,
        scopes,
    )?;
    open(&url);
    let code = redirect.wait(&pkce.state, session, Instant::now() + WAIT)?;
    let token = c.token_from_code(&reg, &code, &pkce.verifier, &redirect.uri)?;
    Ok((reg, token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_is_rfc_7636s() {
        // RFC 7636, appendix B.
        assert_eq!(
            challenge_of("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let p = Pkce::new().unwrap();
        assert_eq!(p.verifier.len(), 43);
        assert_eq!(p.challenge, challenge_of(&p.verifier));
        assert_ne!(Pkce::new().unwrap().state, p.state);
    }

    /// `GET path` to the redirect listener `r`; the answer.
    fn get(r: &Redirect, path: &str) -> impl FnOnce() -> String + Send + 'static {
        let port: u16 = r.uri["http://127.0.0.1:".len()..]
            .split('/')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let path = path.to_owned();
        move || {
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            write!(s, "GET {path} HTTP/1.1\r\nhost: x\r\n\r\n").unwrap();
            let mut out = String::new();
            let _ = s.read_to_string(&mut out);
            out
        }
    }

    #[test]
    fn only_this_sign_ins_answer_ends_the_wait() {
        let r = Redirect::bind().unwrap();
        let (a, b, c) = (
            get(&r, "/favicon.ico"),
            get(&r, "/oauth/callback?code=forged&state=other"),
            get(&r, "/oauth/callback?code=the-code&state=S1"),
        );
        let t = std::thread::spawn(move || (a(), b(), c()));
        let code = r
            .wait("S1", "corp", Instant::now() + Duration::from_secs(20))
            .unwrap();
        assert_eq!(code.as_str(), "the-code");
        let (a, b, c) = t.join().unwrap();
        assert!(a.starts_with("HTTP/1.1 404"), "{a}");
        assert!(b.starts_with("HTTP/1.1 400"), "{b}");
        assert!(c.contains("signed in to corp"), "{c}");
        let r = Redirect::bind().unwrap();
        std::thread::spawn(get(
            &r,
            "/oauth/callback?error=access_denied&error_description=no&state=S2",
        ));
        let e = r
            .wait("S2", "corp", Instant::now() + Duration::from_secs(20))
            .unwrap_err();
        assert!(e.to_string().contains("access_denied"), "{e}");
    }
}
