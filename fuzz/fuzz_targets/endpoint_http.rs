//! The loopback credentials endpoint (`run --server`, `serve`): raw bytes from any local
//! process, over TCP, to a real endpoint serving in this process. `TOKEN` in the input stands
//! for the endpoint's real token, so requests get past the check too.
//!
//! Holds: a request is answered in well-formed HTTP (or, one the endpoint cannot parse, left to
//! its asker while everyone else is still served); the token never appears in an answer;
//! nothing is answered with credentials (there are none here), and a request without the exact
//! token is refused with 400, 401, 403 or 405.
#![no_main]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::LazyLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use op_aws::caller::Caller;
use op_aws::ctx::Ctx;
use op_aws::endpoint::Endpoint;

struct World {
    addr: String,
    token: String,
    _home: tempfile::TempDir,
}

static WORLD: LazyLock<World> = LazyLock::new(|| {
    let home = tempfile::tempdir().expect("a temporary home");
    let h = home.path();
    let vars = [
        ("HOME", h.to_path_buf()),
        ("OP_AWS_CONFIG_DIR", h.join("config")),
        ("OP_AWS_DATA_DIR", h.join("data")),
        ("OP_AWS_CACHE_DIR", h.join("cache")),
        ("OP_AWS_RUNTIME_DIR", h.join("run")),
        ("PATH", "/usr/bin:/bin".into()),
    ];
    let caller = Caller::new(
        vars.into_iter()
            .map(|(k, v)| (k.to_owned(), v.into_os_string())),
        h.to_path_buf(),
        false,
    );
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let ctx = Ctx::new(caller).expect("a context");
        let endpoint = Endpoint::start(&ctx).expect("the endpoint listens");
        let token = std::fs::read_to_string(&endpoint.token_file).expect("its token");
        let addr = endpoint
            .url
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap()
            .to_owned();
        tx.send((addr, token)).unwrap();
        endpoint.serve(&ctx, None, None, &|| false);
    });
    let (addr, token) = rx.recv().expect("the endpoint started");
    World {
        addr,
        token,
        _home: home,
    }
});

/// Sends `request` on a new connection and reads until the endpoint closes it (or `wait`).
fn exchange(addr: &str, request: &[u8], wait: Duration) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).expect("the endpoint accepts");
    s.set_read_timeout(Some(wait)).unwrap();
    let _ = s.write_all(request);
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    answer
}

fuzz_target!(|data: &[u8]| {
    let w = &*WORLD;
    let request = op_aws::fuzzing::substitute(data, b"TOKEN", w.token.as_bytes());
    let answer = exchange(&w.addr, &request, Duration::from_millis(500));
    if answer.is_empty() {
        // The endpoint may leave a connection it cannot make a request of unanswered (until the
        // asker closes it): that costs only the asker, as long as everyone else is served.
        let probe = exchange(&w.addr, b"GET / HTTP/1.1\r\n\r\n", Duration::from_secs(10));
        assert!(
            probe.starts_with(b"HTTP/1.1 401"),
            "the endpoint stopped answering"
        );
        return;
    }
    let text = String::from_utf8_lossy(&answer);
    assert!(!text.contains(&w.token), "an answer shows the token");
    // The status line's version is not checked: only the status code matters here.
    let status: u16 = text
        .strip_prefix("HTTP/")
        .and_then(|r| r.split_once(' '))
        .and_then(|(_, r)| r.get(..3))
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {text:?}"));
    assert_ne!(status, 200, "credentials from an empty vault: {text}");
    let authorized = request
        .windows(w.token.len())
        .any(|win| win == w.token.as_bytes());
    if !authorized {
        assert!(
            matches!(status, 400..=405 | 413 | 414 | 431 | 501 | 505),
            "{status} without the token: {text}"
        );
    }
});
