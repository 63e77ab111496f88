//! The HTTP of the test stubs that speak AWS's restJson1 (Identity Center, Sign-In): one
//! request read from a connection, one JSON answer (with `x-amzn-errortype` for an error).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::Value;

pub struct Request {
    pub head: Vec<String>,
    pub path: String,
    /// The query string's parameters.
    pub query: BTreeMap<String, String>,
    /// The body as JSON (null when it is not).
    pub input: Value,
}

impl Request {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.iter().find_map(|h| {
            let (k, v) = h.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    }

    /// A string member of the JSON body ("" when absent).
    pub fn s(&self, k: &str) -> String {
        self.input[k].as_str().unwrap_or_default().to_owned()
    }
}

/// The request on `conn`, and the stream to answer on; None when the peer closed first.
pub fn read(conn: TcpStream) -> std::io::Result<Option<(Request, TcpStream)>> {
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut r = BufReader::new(conn.try_clone()?);
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let line = line.trim_end_matches(['\r', '\n']).to_owned();
        if line.is_empty() {
            break;
        }
        head.push(line);
    }
    let mut req = Request {
        head,
        path: String::new(),
        query: BTreeMap::new(),
        input: Value::Null,
    };
    let len: usize = req
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    r.read_exact(&mut body)?;
    let target = req
        .head
        .first()
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("/")
        .to_owned();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    req.path = path.to_owned();
    req.query = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    req.input = serde_json::from_slice(&body).unwrap_or(Value::Null);
    Ok(Some((req, conn)))
}

/// A JSON answer with `status`, and the error type `err` names.
pub fn answer(
    out: &mut TcpStream,
    status: u16,
    err: Option<&str>,
    answer: &Value,
) -> std::io::Result<()> {
    let body = answer.to_string();
    let mut resp = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    if let Some(e) = err {
        resp.push_str(&format!("x-amzn-errortype: {e}\r\n"));
    }
    resp.push_str("\r\n");
    resp.push_str(&body);
    out.write_all(resp.as_bytes())?;
    out.flush()
}

/// A stub on 127.0.0.1 (a free port) in a thread, each connection answered by `serve` with the
/// stub's state; stopped on drop.
pub struct Server<S> {
    pub port: u16,
    pub state: std::sync::Arc<std::sync::Mutex<S>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

pub type Serve<S> = fn(TcpStream, u16, &std::sync::Mutex<S>) -> std::io::Result<()>;

impl<S: Send + 'static> Server<S> {
    pub fn spawn(state: S, serve: Serve<S>) -> Self {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::{Arc, Mutex};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(state));
        let stop = Arc::new(AtomicBool::new(false));
        let (state2, stop2) = (Arc::clone(&state), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let state = Arc::clone(&state2);
                std::thread::spawn(move || {
                    let _ = serve(conn, port, &state);
                });
            }
        });
        Self {
            port,
            state,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn with<T>(&self, f: impl FnOnce(&mut S) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }
}

impl<S> Drop for Server<S> {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
