//! The agent against hostile clients of the same user: slow, idle and huge requests starve
//! nobody, and neither the identity nor the vault crosses its socket.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use crate::support::TestEnv;

fn sock(env: &TestEnv) -> std::path::PathBuf {
    env.runtime_dir().join("agent.sock")
}

/// One raw request line; the answer line.
fn raw(env: &TestEnv, line: &str) -> String {
    let mut s = UnixStream::connect(sock(env)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(line.as_bytes()).unwrap();
    s.write_all(b"\n").unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

fn rss_kib(pid: i32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn slow_clients_stall_nobody() {
    let env = TestEnv::new();
    env.vault();
    // Clients that trickle a byte every 300 ms and never finish their line.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let trickles: Vec<_> = (0..4)
        .map(|_| {
            let mut s = UnixStream::connect(sock(&env)).unwrap();
            let stop = std::sync::Arc::clone(&stop);
            std::thread::spawn(move || {
                for _ in 0..30 {
                    if stop.load(std::sync::atomic::Ordering::SeqCst) || s.write_all(b"{").is_err()
                    {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(300));
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    for _ in 0..3 {
        env.ok(&["status"]);
        env.ok(&["item", "list"]);
        std::thread::sleep(Duration::from_secs(1));
    }
    env.ok(&["lock"]);
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for t in trickles {
        t.join().unwrap();
    }
}

/// Connections that never send a byte (more than the agent reads at once) hold no worker:
/// every command still gets its answer, `lock` above all, and the agent stays a few threads.
#[test]
fn idle_connections_starve_nobody() {
    let env = TestEnv::new();
    env.vault();
    let pid = env.agent_pid().unwrap();
    let idle: Vec<UnixStream> = (0..600)
        .map(|_| UnixStream::connect(sock(&env)).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    for _ in 0..3 {
        env.ok(&["status"]);
        env.ok(&["item", "list"]);
    }
    let threads: u64 = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap();
    assert!(threads < 16, "{threads} threads for 600 idle connections");
    env.ok(&["lock"]);
    let gone = (0..50).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        env.agent_pid().is_none()
    });
    assert!(gone, "lock got through and the agent ended");
    drop(idle);
}

/// More resolutions that wait on the network than the agent takes at once (each assumes a role
/// from an STS endpoint that never answers; the agent resolves 16 at a time and tells the rest
/// to resolve themselves): `status` and `lock` still get through, while every one of them is
/// still waiting. (Workers answer on the thread that accepted: one must always be left
/// accepting.)
#[test]
fn lock_gets_through_while_every_worker_waits_on_sts() {
    let mut env = TestEnv::new();
    env.vault();
    env.add_keys("acme", "AKIABUSY000000000001", "busysecret", None);
    // Accepts and holds every connection, answering nothing.
    let hole = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    env.set(
        "AWS_ENDPOINT_URL_STS",
        format!("http://{}", hole.local_addr().unwrap()),
    );
    env.set("AWS_DEFAULT_REGION", "us-east-1");
    std::thread::spawn(move || {
        let held: Vec<_> = hole.incoming().collect();
        drop(held);
    });
    let mut config = String::from("[profile base]\nop_aws_item = acme\n");
    for i in 0..24 {
        config.push_str(&format!(
            "[profile role{i}]\nrole_arn = arn:aws:iam::210987654321:role/Busy{i}\nsource_profile = base\n"
        ));
    }
    env.write(".aws/config", &config);
    let pid = env.agent_pid().unwrap();
    let threads = || -> u64 {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("Threads:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap()
    };
    let mut waiting: Vec<std::process::Child> = (0..24)
        .map(|i| {
            env.op_aws(&["run", "--profile", &format!("role{i}"), "--", "true"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    // 16 workers resolving, besides the poller, the watchdog and the signal handler.
    let full = (0..150).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        threads() >= 19
    });
    assert!(
        full,
        "{} threads: the resolutions never filled the workers",
        threads()
    );
    env.ok(&["status"]);
    let still = waiting
        .iter_mut()
        .map(|c| c.try_wait().unwrap())
        .filter(Option::is_none)
        .count();
    // Answered while the resolutions were still waiting on STS (20 s each), not after.
    assert_eq!(still, 24, "resolutions still waiting");
    env.ok(&["lock"]);
    let gone = (0..50).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        env.agent_pid().is_none()
    });
    assert!(gone, "lock got through and the agent ended");
    for mut c in waiting {
        let _ = c.kill();
        let _ = c.wait();
    }
}

#[test]
fn huge_requests_and_many_entries_stay_small_and_numbers_are_clamped() {
    let env = TestEnv::new();
    env.vault();
    let pid = env.agent_pid().unwrap();
    // 1 GiB without a newline: refused after the cap, never buffered.
    let mut s = UnixStream::connect(sock(&env)).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
    let chunk = vec![b'x'; 1 << 20];
    let mut sent = 0usize;
    while sent < 1 << 30 {
        match s.write(&chunk) {
            Ok(n) => sent += n,
            Err(_) => break,
        }
    }
    drop(s);
    assert!(sent < 1 << 30, "the agent read all of a 1 GiB line");
    // 10,000 cache entries of 1 KiB.
    let value = "v".repeat(1024);
    for i in 0..10_000 {
        raw(
            &env,
            &format!(r#"{{"op":"cache_put","key":"k{i}","value":"{value}"}}"#),
        );
    }
    let status = raw(&env, r#"{"op":"status"}"#);
    let v: serde_json::Value = serde_json::from_str(&status).unwrap();
    let entries = v["status"]["cached_entries"].as_u64().unwrap();
    assert!(entries <= 1024, "{entries} entries kept");
    let rss = rss_kib(pid);
    assert!(rss < 64 * 1024, "agent RSS {rss} KiB");
    // An idle time that would overflow any clock: clamped to the 12 h limit, no panic.
    let out = raw(
        &env,
        r#"{"op":"unlock","identity":null,"idle_secs":18446744073709551615}"#,
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["error"].is_null(), "{out}");
    assert!(v["status"]["expires_in_secs"].as_u64().unwrap() <= 12 * 3600);
    env.ok(&["status"]);
    assert_eq!(env.agent_pid(), Some(pid), "the agent survived");
}

/// Forwards connections from `front` to `back`, keeping every byte both ways.
struct Tap {
    bytes: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
}

impl Tap {
    fn start(front: &std::path::Path, back: std::path::PathBuf) -> Self {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(front.parent().unwrap()).unwrap();
        std::fs::set_permissions(
            front.parent().unwrap(),
            std::fs::Permissions::from_mode(0o700),
        )
        .unwrap();
        let listener = std::os::unix::net::UnixListener::bind(front).unwrap();
        let bytes = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let all = std::sync::Arc::clone(&bytes);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(client) = conn else { continue };
                let Ok(agent) = UnixStream::connect(&back) else {
                    continue;
                };
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), agent.try_clone().unwrap()),
                    (agent, client),
                ] {
                    let all = std::sync::Arc::clone(&all);
                    std::thread::spawn(move || {
                        let mut buf = [0u8; 8192];
                        while let Ok(n) = from.read(&mut buf) {
                            if n == 0 {
                                break;
                            }
                            all.lock().unwrap().extend_from_slice(&buf[..n]);
                            if to.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                        let _ = to.shutdown(std::net::Shutdown::Write);
                    });
                }
            }
        });
        Self { bytes }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes.lock().unwrap()).into_owned()
    }
}

#[test]
fn the_identity_and_the_vault_never_leave_the_agent() {
    let mut env = TestEnv::new();
    env.vault();
    env.add_keys(
        "dev",
        "AKIADEV0000000000001",
        "dev-secret",
        Some("eu-west-1"),
    );
    env.write(
        ".aws/config",
        "[profile dev]\nop_aws_item = dev\n\
         [profile cp]\ncredential_process = op-aws credential-process --profile dev\n",
    );
    // Every request the protocol has, and malformed ones, raw.
    let mut answers = String::new();
    for line in [
        r#"{"op":"status"}"#,
        r#"{"op":"list"}"#,
        r#"{"op":"item","name":"dev"}"#,
        r#"{"op":"recipient"}"#,
        r#"{"op":"cache_get","key":"x"}"#,
        r#"{"op":"cache_put","key":"x","value":"y"}"#,
        r#"{"op":"session","dir":"DATA","key":"00000000000000000000000000000000"}"#,
        r#"{"op":"update","change":{"change":"remove","name":"nope"}}"#,
        r#"{"op":"identity"}"#,
        r#"{"op":"unlock","identity":"AGE-SECRET-KEY-1XYZ","idle_secs":60}"#,
        r#"{"op":"#,
        "not json",
        "",
    ] {
        let line = line.replace("DATA", &env.data_dir().display().to_string());
        answers += &raw(&env, &line);
    }
    // The vault file itself, named as a session: refused.
    std::fs::copy(
        env.data_dir().join("vault.age"),
        env.cache_dir()
            .join("sts-0123456789abcdef0123456789abcdef.age"),
    )
    .ok();
    answers += &raw(
        &env,
        &format!(
            r#"{{"op":"session","dir":"{}","key":"0123456789abcdef0123456789abcdef"}}"#,
            env.cache_dir().display()
        ),
    );
    assert!(!answers.contains("AGE-SECRET-KEY-1"), "{answers}");
    assert!(
        !answers.contains("\"version\":1,\"items\""),
        "the vault plaintext: {answers}"
    );
    assert!(
        answers.contains("dev-secret"),
        "one item, revealed, on request"
    );

    // The commands, through a tap in front of the agent.
    let front = env.root.path().join("tapped/agent.sock");
    let tap = Tap::start(&front, sock(&env));
    env.set(
        "OP_AWS_RUNTIME_DIR",
        front.parent().unwrap().display().to_string(),
    );
    env.ok(&["run", "--item", "dev", "--", "true"]);
    env.ok(&["export", "--item", "dev"]);
    env.ok(&["credential-process", "--profile", "dev"]);
    env.ok(&["item", "show", "dev", "--reveal"]);
    env.ok_with_stdin(
        &[
            "item",
            "add",
            "new",
            "--set",
            "Access Key ID=AKIANEW",
            "--set-secret",
            "Secret Access Key",
        ],
        "new-secret\n",
    );
    env.ok(&["item", "list", "--json"]);
    let seen = tap.text();
    assert!(
        seen.contains("dev-secret"),
        "the tap saw the traffic: {seen}"
    );
    assert!(!seen.contains("AGE-SECRET-KEY-1"), "{seen}");
    assert!(
        !seen.contains("\"version\":1,\"items\""),
        "the vault plaintext crossed: {seen}"
    );
}

/// The broker: for a role profile the agent reads the item, calls STS and caches the session;
/// the calling process gets the role's temporary credentials and never the item's secret.
#[test]
fn the_agent_makes_the_sts_calls_and_the_items_secret_stays_in_it() {
    use crate::support::sts_server::{Mode, StsServer};
    let mut env = TestEnv::new();
    let stub = StsServer::start(Mode::Issue { secs: 3600 });
    env.set("AWS_ENDPOINT_URL_STS", stub.url());
    env.set("AWS_REGION", "us-east-1");
    env.vault();
    env.add_keys("dev", "AKIADEV0000000000001", "dev-secret", None);
    env.write(
        ".aws/config",
        "[profile base]\nop_aws_item = dev\n\
         [profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = base\nrole_session_name = broker\n",
    );
    let front = env.root.path().join("tapped/agent.sock");
    let tap = Tap::start(&front, sock(&env));
    env.set(
        "OP_AWS_RUNTIME_DIR",
        front.parent().unwrap().display().to_string(),
    );
    let show = "printf '%s %s' \"$AWS_ACCESS_KEY_ID\" \"${AWS_SESSION_TOKEN:+token}\"";
    for _ in 0..2 {
        let out = env.ok(&["run", "--profile", "admin", "--", "sh", "-c", show]);
        assert!(
            out.starts_with("ASIAISSUED") && out.ends_with(" token"),
            "{out}"
        );
    }
    assert_eq!(
        stub.count("AssumeRole"),
        1,
        "made once, then from the cache"
    );
    let signed: Vec<String> = stub.requests().into_iter().map(|r| r.signer).collect();
    assert!(
        signed.iter().all(|s| s == "AKIADEV0000000000001"),
        "{signed:?}"
    );
    let seen = tap.text();
    assert!(
        seen.contains("\"op\":\"resolve\""),
        "the caller asked the agent: {seen}"
    );
    assert!(
        !seen.contains("dev-secret"),
        "the item's secret reached the calling process: {seen}"
    );
}
