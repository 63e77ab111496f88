//! A local stand-in for the AWS console's federation endpoint (`/federation`), in its wire
//! format: `GET ?Action=getSigninToken&SessionDuration=N&Session={json}` answered with
//! `{"SigninToken": "..."}`, or with an error page. Records every request; only 127.0.0.1;
//! stopped on drop.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// The token the stub hands out.
pub const SIGNIN_TOKEN: &str = "stub-signin-token-0001";

#[derive(Clone, Copy)]
pub enum Mode {
    /// A sign-in token for every well-formed getSigninToken.
    Issue,
    /// This HTTP status and body, as the endpoint answers a session it refuses.
    Refuse { status: u16, body: &'static str },
    /// 200 with a body that is not the JSON answer (a proxy's page, say).
    Garbage,
}

/// One request as the endpoint received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub path: String,
    pub params: BTreeMap<String, String>,
    /// `Session`, parsed (`sessionId`, `sessionKey`, `sessionToken`).
    pub session: Option<serde_json::Value>,
}

pub struct FederationServer {
    pub port: u16,
    log: Arc<Mutex<Vec<Recorded>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FederationServer {
    pub fn start(mode: Mode) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (log2, stop2) = (Arc::clone(&log), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let _ = serve(conn, mode, &log2);
            }
        });
        Self {
            port,
            log,
            stop,
            thread: Some(thread),
        }
    }

    /// What `federation_endpoint` in config.toml names.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/federation", self.port)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for FederationServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(conn: TcpStream, mode: Mode, log: &Mutex<Vec<Recorded>>) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut out = conn;
    let mut first = String::new();
    reader.read_line(&mut first)?;
    // The headers (a GET has no body).
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
    }
    let target = first.split_whitespace().nth(1).unwrap_or("").to_owned();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let params: BTreeMap<String, String> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let session = params
        .get("Session")
        .and_then(|s| serde_json::from_str(s).ok());
    let well_formed = path == "/federation"
        && params.get("Action").map(String::as_str) == Some("getSigninToken")
        && session.as_ref().is_some_and(|s: &serde_json::Value| {
            ["sessionId", "sessionKey", "sessionToken"]
                .iter()
                .all(|k| s[k].as_str().is_some_and(|v| !v.is_empty()))
        });
    log.lock().unwrap().push(Recorded {
        path: path.to_owned(),
        params,
        session,
    });
    let (status, reason, kind, body) = match mode {
        Mode::Issue if well_formed => (
            200,
            "OK",
            "application/json",
            format!("{{\"SigninToken\":\"{SIGNIN_TOKEN}\"}}"),
        ),
        // The real endpoint's answer to a malformed request or a session it will not take.
        Mode::Issue => (
            400,
            "Bad Request",
            "text/html",
            "<html><body><h1>Bad Request</h1></body></html>".to_owned(),
        ),
        Mode::Refuse { status, body } => (status, "Error", "text/html", body.to_owned()),
        Mode::Garbage => (
            200,
            "OK",
            "text/html",
            "<html>Please sign in to the proxy</html>".to_owned(),
        ),
    };
    write!(
        out,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )?;
    out.flush()?;
    let _ = out.shutdown(Shutdown::Both);
    Ok(())
}
