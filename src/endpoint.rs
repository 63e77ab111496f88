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
use crate::model::env::EnvChanges;
use crate::model::resolution::{Request, Resolution, Want};
use crate::resolve::resolve;
use crate::{Error, Result, fsutil};

pub const FULL_URI_VAR: &str = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
pub const TOKEN_FILE_VAR: &str = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE";

/// Connections answered at once; more wait in the kernel's queue until one is done.
const MAX_CONNECTIONS: usize = 8;
/// A client gets this long to send its request, however slowly it trickles in.
const REQUEST_DEADLINE: Duration = Duration::from_secs(5);
/// A request (line and headers) is a few hundred bytes; longer is refused unread.
const MAX_REQUEST: usize = 16 * 1024;

/// A listening endpoint; its token file goes when it is dropped.
pub struct Endpoint {
    listener: std::net::TcpListener,
    pub url: String,
    token: Zeroizing<String>,
    pub token_file: PathBuf,
    /// The session policy every answer is scoped to (`run --server --read-only`).
    pub ask: crate::model::policy::Ask,
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.token_file);
    }
}

/// What the endpoint reads of a request: its method and the token it presents.
struct Head {
    method: String,
    authorization: Option<Zeroizing<String>>,
}

/// Connections whose request head is still being read (in one poll loop, no thread each):
/// at most this many; a new one past it pushes out the oldest.
const MAX_READING: usize = 256;

/// A connection accepted, its head not whole yet.
struct Reading {
    conn: std::net::TcpStream,
    buf: Zeroizing<Vec<u8>>,
    deadline: std::time::Instant,
}

impl Reading {
    /// Reads what is there. Some(Some(head)): whole; Some(None): more to come; None: done with
    /// (closed, too big, not HTTP).
    fn advance(&mut self) -> Option<Option<Head>> {
        use std::io::Read;
        let mut chunk = [0u8; 1024];
        loop {
            match (&self.conn).read(&mut chunk) {
                // The asker closed its side: a whole head already there is still answered.
                Ok(0) => {
                    return match parse_head(&self.buf) {
                        Parsed::Whole(h) => Some(Some(h)),
                        _ => None,
                    };
                }
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    if self.buf.len() > MAX_REQUEST {
                        return None;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return None,
            }
        }
        match parse_head(&self.buf) {
            Parsed::Whole(h) => Some(Some(h)),
            Parsed::Partial => Some(None),
            Parsed::Bad => None,
        }
    }
}

enum Parsed {
    Whole(Head),
    Partial,
    Bad,
}

/// The request line and headers of one HTTP/1.1 request in `buf` (within [`MAX_REQUEST`]
/// bytes), once its blank line has arrived.
fn parse_head(buf: &[u8]) -> Parsed {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Parsed::Partial;
    };
    let head = || {
        let text = std::str::from_utf8(&buf[..end]).ok()?;
        let mut lines = text.split("\r\n");
        let method = lines.next()?.split(' ').next()?.to_owned();
        let authorization = lines
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("authorization"))
            .map(|(_, v)| Zeroizing::new(v.trim().to_owned()));
        Some(Head {
            method,
            authorization,
        })
    };
    head().map_or(Parsed::Bad, Parsed::Whole)
}

/// Token files of endpoints whose process is gone without removing its own (SIGKILL, a
/// power cut): a token that nothing checks any more is removed with the next endpoint.
fn remove_orphaned_token_files(runtime: &std::path::Path) {
    let Ok(rd) = std::fs::read_dir(runtime) else {
        return;
    };
    for e in rd.filter_map(std::result::Result::ok) {
        let name = e.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("endpoint-")?.strip_suffix(".token"))
            .and_then(|rest| rest.rsplit_once('-'))
            .and_then(|(_, pid)| pid.parse::<i32>().ok())
            .filter(|pid| *pid > 0)
        else {
            continue;
        };
        let gone = matches!(
            nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None),
            Err(nix::errno::Errno::ESRCH)
        );
        if gone {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

impl Endpoint {
    /// Listens on 127.0.0.1 (a free port) with a fresh random token, written 0600 into the
    /// runtime directory.
    pub fn start(ctx: &Ctx) -> Result<Self> {
        let cannot = |e: std::io::Error| Error::Invalid(format!("cannot listen on 127.0.0.1: {e}"));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(cannot)?;
        // Accepted by the serving loop, which also watches for its stop.
        listener.set_nonblocking(true).map_err(cannot)?;
        let port = listener.local_addr().map_err(cannot)?.port();
        let mut raw = Zeroizing::new([0u8; 32]);
        getrandom::getrandom(&mut raw[..])
            .map_err(|e| Error::Invalid(format!("no randomness for the token: {e}")))?;
        let token = Zeroizing::new(raw.iter().map(|b| format!("{b:02x}")).collect::<String>());
        fsutil::ensure_private_dir(&ctx.dirs.runtime)?;
        remove_orphaned_token_files(&ctx.dirs.runtime);
        let token_file = ctx
            .dirs
            .runtime
            .join(format!("endpoint-{port}-{}.token", std::process::id()));
        fsutil::write_atomic(&token_file, token.as_bytes(), 0o600)?;
        Ok(Self {
            listener,
            url: format!("http://127.0.0.1:{port}/op-aws/credentials"),
            token,
            token_file,
            ask: crate::model::policy::Ask {
                via: crate::model::policy::Via::Endpoint,
                ..crate::model::policy::Ask::default()
            },
        })
    }

    /// [`Self::env`] and the region of the first answer, for the command or the IDE.
    pub fn env_for(&self, first: &Resolution) -> EnvChanges {
        let mut env = self.env();
        if let Some(region) = first.region_name() {
            env.set("AWS_REGION", region);
            env.set("AWS_DEFAULT_REGION", region);
        }
        env
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

    /// Whether what the endpoint serves is gone: the local store locked (`op-aws lock`, or the
    /// agent's limits). Serving then stops; a 1Password store has no lock of its own here.
    pub fn locked(ctx: &Ctx) -> bool {
        ctx.config.store == crate::config::StoreKind::Local
            && !ctx
                .agent
                .status()
                .ok()
                .flatten()
                .is_some_and(|a| a.unlocked)
    }

    /// Answers until `stop` says so (checked at least every 50 ms). `ctx` must have no
    /// terminal: the endpoint never asks anyone anything. A connection from another user's
    /// socket is closed unread. Request heads are read in this one loop, each within
    /// [`REQUEST_DEADLINE`]; only a whole head takes one of the [`MAX_CONNECTIONS`] threads that
    /// answer, so clients that send slowly or not at all hold no slot (review finding 9).
    pub fn serve(
        &self,
        ctx: &Ctx,
        item: Option<&str>,
        profile: Option<&str>,
        stop: &dyn Fn() -> bool,
    ) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let busy = AtomicUsize::new(0);
        let mut reading: Vec<Reading> = Vec::new();
        let mut ready: std::collections::VecDeque<(std::net::TcpStream, Head)> =
            std::collections::VecDeque::new();
        std::thread::scope(|s| {
            while !stop() {
                self.wait(&reading, Duration::from_millis(50));
                self.accept_all(&mut reading);
                let now = std::time::Instant::now();
                let mut i = 0;
                while i < reading.len() {
                    match reading[i].advance() {
                        Some(Some(head)) => {
                            let r = reading.swap_remove(i);
                            ready.push_back((r.conn, head));
                        }
                        Some(None) if reading[i].deadline > now => i += 1,
                        _ => {
                            reading.swap_remove(i);
                        }
                    }
                }
                while busy.load(Ordering::SeqCst) < MAX_CONNECTIONS {
                    let Some((conn, head)) = ready.pop_front() else {
                        break;
                    };
                    busy.fetch_add(1, Ordering::SeqCst);
                    let busy = &busy;
                    s.spawn(move || {
                        self.converse(ctx, item, profile, conn, &head);
                        busy.fetch_sub(1, Ordering::SeqCst);
                    });
                }
                // Whole heads waiting for a thread are bounded like the rest.
                while ready.len() > MAX_READING {
                    ready.pop_front();
                }
            }
        });
    }

    /// Accepts every waiting connection: another user's are closed unread, ours are read
    /// without blocking.
    fn accept_all(&self, reading: &mut Vec<Reading>) {
        loop {
            let (conn, peer) = match self.listener.accept() {
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => return,
            };
            let ours = conn
                .local_addr()
                .is_ok_and(|local| crate::sockets::is_ours(peer, local));
            if !ours || conn.set_nonblocking(true).is_err() {
                continue;
            }
            if reading.len() >= MAX_READING {
                reading.remove(0);
            }
            reading.push(Reading {
                conn,
                buf: Zeroizing::new(Vec::with_capacity(1024)),
                deadline: std::time::Instant::now() + REQUEST_DEADLINE,
            });
        }
    }

    /// Returns when a connection waits to be accepted or a head being read has more bytes,
    /// or after `at_most`.
    fn wait(&self, reading: &[Reading], at_most: Duration) {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        use std::os::fd::AsFd;
        let mut fds = Vec::with_capacity(reading.len() + 1);
        fds.push(PollFd::new(self.listener.as_fd(), PollFlags::POLLIN));
        fds.extend(
            reading
                .iter()
                .map(|r| PollFd::new(r.conn.as_fd(), PollFlags::POLLIN)),
        );
        let ms = u16::try_from(at_most.as_millis()).unwrap_or(u16::MAX);
        let _ = poll(&mut fds, PollTimeout::from(ms));
    }

    /// One request on `conn`, one answer, then the connection is closed.
    fn converse(
        &self,
        ctx: &Ctx,
        item: Option<&str>,
        profile: Option<&str>,
        mut conn: std::net::TcpStream,
        head: &Head,
    ) {
        use std::io::Write;
        let _ = conn.set_nonblocking(false);
        let (status, body) = self.answer(ctx, item, profile, head);
        let reason = match status {
            200 => "OK",
            401 => "Unauthorized",
            403 => "Forbidden",
            405 => "Method Not Allowed",
            _ => "Service Unavailable",
        };
        let mut out = Zeroizing::new(format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        ));
        out.push_str(&body);
        let _ = conn.set_write_timeout(Some(REQUEST_DEADLINE));
        let _ = conn.write_all(out.as_bytes());
    }

    fn answer(
        &self,
        ctx: &Ctx,
        item: Option<&str>,
        profile: Option<&str>,
        req: &Head,
    ) -> (u16, Zeroizing<String>) {
        let error = |code: u16, msg: &str| {
            (
                code,
                Zeroizing::new(serde_json::json!({ "code": "Error", "message": msg }).to_string()),
            )
        };
        if req.method != "GET" {
            return error(405, "GET only");
        }
        let presented = req.authorization.as_deref().map(|t| t.as_str());
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

/// `op-aws run`: through an endpoint (`--server`, or `server = true` in config.toml, unless
/// `--no-server`), or with keys in the command's environment. A profile the tool resolves itself
/// needs no endpoint: it is handed over.
pub fn serves_run(
    ctx: &Ctx,
    item: Option<&str>,
    profile: Option<&str>,
    server: bool,
    no_server: bool,
) -> Result<bool> {
    if !(server || ctx.config.server) || no_server {
        return Ok(false);
    }
    let here = resolve(
        ctx,
        &Request {
            item,
            profile,
            want: Want::Here { peek: false },
            ask: Default::default(),
        },
    )?;
    Ok(!here.handover)
}

/// What the endpoint serves with, once the first answer (asked with the person at the
/// terminal: a passphrase, an MFA code, a picker) is in: the same context without a terminal,
/// and the item for its whole life: the one asked for, else the one that answered first (never
/// whatever a later default says).
pub fn serving(ctx: &Ctx, item: Option<&str>, first: &Resolution) -> Result<(Ctx, Option<String>)> {
    let mut caller = ctx.caller.clone();
    caller.terminal = false;
    let item = item
        .map(str::to_owned)
        .or_else(|| first.applied.as_ref().map(|a| a.item.clone()));
    Ok((Ctx::new(caller)?, item))
}
