//! The agent against hostile clients of the same user, and no core dumps in op-aws processes.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::{PASS, TestEnv};

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

#[test]
fn op_aws_processes_cannot_dump_core_but_the_command_can() {
    let env = TestEnv::new();
    env.vault();
    env.ok(&["lock"]);
    // While unlock waits for the passphrase on stdin, its core limit is 0 (the hard one
    // stays, so the limit can be handed back to an exec'd command).
    let mut c = env.op_aws(&["unlock", "--passphrase-stdin"]);
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", child.id())).unwrap();
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap()
        .to_owned();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{PASS}\n").as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    let soft = core.split_whitespace().nth(4).unwrap();
    assert_eq!(soft, "0", "{core}");
    // The agent: hard limit 0 too.
    let pid = env.agent_pid().unwrap();
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    assert!(
        limits.lines().any(
            |l| l.starts_with("Max core file size") && l.split_whitespace().nth(5) == Some("0")
        ),
        "{limits}"
    );
    // The command gets the caller's limit back.
    env.add_keys("dev", "AKIADEV0000000000001", "s", None);
    let mut c = env.command("sh");
    c.arg("-c").arg(format!(
        "ulimit -c unlimited && exec '{}' run --item dev -- sh -c 'ulimit -c'",
        crate::support::bin().display()
    ));
    let out = c.output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "unlimited",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_swapped_recipient_is_refused_and_nothing_changes() {
    let env = TestEnv::new();
    env.vault();
    env.ok(&["lock"]);
    let public = another_recipient();
    let data = env.data_dir();
    std::fs::write(data.join("recipient.txt"), format!("{public}\n")).unwrap();
    let snapshot = || -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<_> = std::fs::read_dir(&data)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let before = snapshot();
    let o = env.run_with_stdin(&["unlock", "--passphrase-stdin"], &format!("{PASS}\n"));
    let e = crate::support::stderr(&o);
    assert!(!o.status.success(), "{e}");
    assert!(
        e.starts_with("op-aws: ") && e.contains("recipient.txt"),
        "{e}"
    );
    assert_eq!(e.lines().count(), 2, "one line and a hint: {e}");
    assert_eq!(snapshot(), before, "no file changed");
    assert_eq!(env.agent_pid(), None, "nothing was unlocked");
    // The way out the hint names: rekey writes a recipient of its own.
    assert!(e.contains("op-aws vault rekey"), "{e}");
    env.ok_with_stdin(
        &["vault", "rekey", "--passphrase-stdin"],
        &format!("{PASS}\n"),
    );
    assert_ne!(
        std::fs::read_to_string(data.join("recipient.txt"))
            .unwrap()
            .trim(),
        public
    );
    env.unlock();
    env.ok(&["item", "list"]);
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

/// The identity as a thief with the passphrase-protected file and the passphrase would have it.
fn old_identity(env: &TestEnv) -> age::x25519::Identity {
    use std::str::FromStr;
    let ct = std::fs::read(env.data_dir().join("identity.age")).unwrap();
    let id = age::scrypt::Identity::new(age::secrecy::SecretString::from(PASS.to_owned()));
    let text = String::from_utf8(age::decrypt(&id, &ct).unwrap()).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-"))
        .unwrap();
    age::x25519::Identity::from_str(line).unwrap()
}

fn session_blobs(env: &TestEnv) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(env.cache_dir())
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "age"))
                .collect()
        })
        .unwrap_or_default()
}

/// An unlocked vault with item `dev`, a role `admin` over it, and its session cached (from a
/// local STS stub that issues sessions).
fn with_a_cached_role_session() -> (TestEnv, crate::support::sts_server::StsServer) {
    use crate::support::sts_server::{Mode, StsServer};
    let mut env = TestEnv::new();
    let stub = StsServer::start(Mode::Issue { secs: 3600 });
    env.set("AWS_ENDPOINT_URL_STS", stub.url());
    env.set("AWS_ENDPOINT_URL", stub.url());
    env.set("AWS_REGION", "us-east-1");
    env.vault();
    env.add_keys("dev", "AKIADEV0000000000001", "dev-secret", None);
    env.write(
        ".aws/config",
        "[profile base]\nop_aws_item = dev\n\
         [profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = base\n",
    );
    env.ok(&["run", "--profile", "admin", "--", "true"]);
    (env, stub)
}

/// `op-aws doctor`, its clock check answered by a local STS stub, never by AWS.
fn doctor(env: &TestEnv) -> std::process::Output {
    use crate::support::sts_server::{Mode, StsServer};
    let stub = StsServer::start(Mode::Issue { secs: 3600 });
    let mut c = env.op_aws(&["doctor"]);
    c.env("AWS_ENDPOINT_URL_STS", stub.url())
        .env("AWS_ENDPOINT_URL", stub.url());
    crate::support::run_cmd(c, "")
}

/// Someone else's age recipient (`age1…`), as `age-keygen` makes one.
fn another_recipient() -> String {
    let out = Command::new(crate::support::require("age-keygen"))
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("# public key: ").map(str::to_owned))
        .unwrap()
}

#[test]
fn after_rekey_the_old_identity_opens_nothing() {
    let (env, stub) = with_a_cached_role_session();
    let old = old_identity(&env);
    let vault = || std::fs::read(env.data_dir().join("vault.age")).unwrap();
    assert!(
        age::decrypt(&old, &vault()).is_ok(),
        "the old identity opens the vault before"
    );
    assert_eq!(session_blobs(&env).len(), 1);

    env.ok_with_stdin(
        &["vault", "rekey", "--passphrase-stdin"],
        &format!("{PASS}\n"),
    );
    assert!(
        age::decrypt(&old, &vault()).is_err(),
        "the old identity still opens the vault"
    );
    assert!(session_blobs(&env).is_empty(), "the cache was not dropped");
    // Everything still works, with the agent that was running.
    let out = env.ok(&["run", "--item", "dev", "--", "env"]);
    assert!(
        out.contains("AWS_ACCESS_KEY_ID=AKIADEV0000000000001"),
        "{out}"
    );
    env.ok(&["run", "--profile", "admin", "--", "true"]);
    let blobs = session_blobs(&env);
    assert_eq!(blobs.len(), 1);
    assert!(
        age::decrypt(&old, &std::fs::read(&blobs[0]).unwrap()).is_err(),
        "the old identity opens a new session"
    );
    // And after a lock, the same passphrase opens the new identity.
    env.ok(&["lock"]);
    env.unlock();
    env.ok(&["item", "show", "dev"]);
    assert_eq!(stub.count("AssumeRole"), 2);
}

#[test]
fn a_vault_forged_with_the_public_recipient_is_refused() {
    let env = TestEnv::new();
    env.vault();
    env.add_keys("dev", "AKIADEV0000000000001", "dev-secret", None);
    let recipient = std::fs::read_to_string(env.data_dir().join("recipient.txt")).unwrap();
    // What anyone who can write the file could make: the attacker's key under the owner's name.
    let forged = r#"{"version":1,"items":[{"title":"dev","fields":[{"label":"Access Key ID","value":"AKIAATTACKER00000000"},{"label":"Secret Access Key","value":"x","concealed":true}]}]}"#;
    let mut age = Command::new(crate::support::require("age"));
    age.args(["-r", recipient.trim()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let mut child = age.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(forged.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let path = env.data_dir().join("vault.age");
    std::fs::write(&path, &out.stdout).unwrap();
    for args in [
        &["run", "--item", "dev", "--", "env"][..],
        &["item", "list"],
    ] {
        let o = env.run(args);
        let e = crate::support::stderr(&o);
        assert!(!o.status.success(), "{args:?}: {e}");
        assert!(
            !String::from_utf8_lossy(&o.stdout).contains("AKIAATTACKER"),
            "{args:?}"
        );
        assert!(
            e.starts_with("op-aws: ") && e.contains("not authenticated"),
            "{e}"
        );
        assert_eq!(e.lines().count(), 2, "one line and a hint: {e}");
    }
    assert_eq!(std::fs::read(&path).unwrap(), out.stdout, "no file changed");
}

/// A vault written before authentication opens with the passphrase, and is authenticated then.
#[test]
fn a_vault_from_before_authentication_is_upgraded_at_unlock() {
    use age::secrecy::ExposeSecret;
    let env = TestEnv::new();
    let data = env.data_dir();
    std::fs::create_dir_all(&data).unwrap();
    let id = age::x25519::Identity::generate();
    let encrypt = |r: &dyn age::Recipient, plain: &[u8]| {
        let enc = age::Encryptor::with_recipients(std::iter::once(r)).unwrap();
        let mut out = Vec::new();
        let mut w = enc.wrap_output(&mut out).unwrap();
        w.write_all(plain).unwrap();
        w.finish().unwrap();
        out
    };
    let mut scrypt = age::scrypt::Recipient::new(age::secrecy::SecretString::from(PASS.to_owned()));
    scrypt.set_work_factor(10);
    let key = format!(
        "# op-aws vault identity; public key: {}\n{}\n",
        id.to_public(),
        id.to_string().expose_secret()
    );
    std::fs::write(data.join("identity.age"), encrypt(&scrypt, key.as_bytes())).unwrap();
    let old = r#"{"version":1,"items":[{"title":"dev","fields":[{"label":"Access Key ID","value":"AKIALEGACY0000000001"},{"label":"Secret Access Key","value":"s","concealed":true}]}]}"#;
    std::fs::write(
        data.join("vault.age"),
        encrypt(&id.to_public(), old.as_bytes()),
    )
    .unwrap();
    std::fs::write(data.join("recipient.txt"), format!("{}\n", id.to_public())).unwrap();
    env.unlock();
    let out = env.ok(&["run", "--item", "dev", "--", "env"]);
    assert!(
        out.contains("AWS_ACCESS_KEY_ID=AKIALEGACY0000000001"),
        "{out}"
    );
    let plain = age::decrypt(&id, &std::fs::read(data.join("vault.age")).unwrap()).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&plain).unwrap();
    assert_eq!(v["auth"].as_array().map(Vec::len), Some(1), "{v}");
    // The identity file keeps the owner's work factor.
    let head = std::fs::read(data.join("identity.age")).unwrap();
    assert!(
        String::from_utf8_lossy(&head[..200]).contains(" 10\n"),
        "work factor changed"
    );
}

#[test]
fn doctor_reports_a_swapped_recipient() {
    let env = TestEnv::new();
    env.vault();
    let out = String::from_utf8_lossy(&doctor(&env).stdout).into_owned();
    assert!(
        out.contains("ok   recipient.txt is the vault identity's"),
        "{out}"
    );
    let public = another_recipient();
    std::fs::write(env.data_dir().join("recipient.txt"), format!("{public}\n")).unwrap();
    let o = doctor(&env);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(!o.status.success());
    assert!(
        out.contains("warn") && out.contains("not the vault identity's recipient"),
        "{out}"
    );
}

#[test]
fn doctor_replaces_a_cached_session_that_does_not_decrypt() {
    let (env, stub) = with_a_cached_role_session();
    let blob = session_blobs(&env).pop().unwrap();
    // A session encrypted to someone else's key, where op-aws keeps its own.
    let other = age::x25519::Identity::generate();
    let enc =
        age::Encryptor::with_recipients(std::iter::once(&other.to_public() as &dyn age::Recipient))
            .unwrap();
    let mut forged = Vec::new();
    let mut w = enc.wrap_output(&mut forged).unwrap();
    w.write_all(br#"{"access_key_id":"ASIAEVIL","secret_access_key":"x","session_token":"t","expiration":9999999999}"#)
        .unwrap();
    w.finish().unwrap();
    std::fs::write(&blob, forged).unwrap();
    let o = env.run(&["doctor"]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        out.contains("did not decrypt") && out.contains("admin"),
        "{out}"
    );
    assert!(!blob.exists(), "the entry was not replaced");
    // The next command makes a good one, never using the forged one.
    let env_out = env.ok(&["run", "--profile", "admin", "--", "env"]);
    assert!(!env_out.contains("ASIAEVIL"), "{env_out}");
    assert_eq!(stub.count("AssumeRole"), 2);
}

/// The agent keeps a cached session decrypted in memory while its file is unchanged: a file
/// replaced under it is read again, and one that no longer decrypts is a miss, never the
/// session it remembered.
#[test]
fn a_session_file_replaced_under_the_agent_is_read_again() {
    let (env, stub) = with_a_cached_role_session();
    let first = env.ok(&["run", "--profile", "admin", "--", "env"]);
    let again = env.ok(&["run", "--profile", "admin", "--", "env"]);
    let key = |out: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix("AWS_ACCESS_KEY_ID="))
            .map(str::to_owned)
            .unwrap()
    };
    assert_eq!(key(&first), key(&again), "served from the cache");
    assert_eq!(stub.count("AssumeRole"), 1);
    let blob = session_blobs(&env).pop().unwrap();
    std::fs::write(&blob, b"not a session any more").unwrap();
    let after = env.ok(&["run", "--profile", "admin", "--", "env"]);
    assert_eq!(
        stub.count("AssumeRole"),
        2,
        "the changed file was a miss, not the remembered session"
    );
    assert_ne!(key(&after), key(&first));
}

/// A directory default belongs to the directory it was made for (owner, device, inode): one
/// recreated at the same path, by another user (world-writable parent, shared machine) or by
/// anyone, inherits nothing, export included; the hook says so once per shell.
#[test]
fn a_directory_recreated_at_the_same_path_inherits_no_default() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    env.vault();
    env.add_keys("acme", "AKIAACMEACMEACME0001", "acme-secret", None);
    let proj = env.home.join("shared/proj");
    std::fs::create_dir_all(&proj).unwrap();
    env.ok(&[
        "use",
        "acme",
        "--directory",
        proj.to_str().unwrap(),
        "--export",
    ]);
    let hook = |dir: &std::path::Path, extra: &[(&str, &str)]| {
        let mut c = env.op_aws(&["hook-env", "--shell", "bash"]);
        c.current_dir(dir).envs(extra.iter().copied());
        let o = crate::support::run_cmd(c, "");
        assert!(o.status.success(), "{}", crate::support::stderr(&o));
        (
            String::from_utf8_lossy(&o.stdout).into_owned(),
            crate::support::stderr(&o),
        )
    };
    let (mine, quiet) = hook(&proj, &[]);
    assert!(
        mine.contains("OP_AWS_ITEM='acme'") && mine.contains("AKIAACMEACMEACME0001"),
        "{mine}"
    );
    assert!(quiet.is_empty(), "{quiet}");
    // Replaced by the owner (the old one moved aside, so the inode cannot be reused).
    std::fs::rename(&proj, env.home.join("shared/proj.old")).unwrap();
    std::fs::create_dir_all(&proj).unwrap();
    let (out, said) = hook(&proj, &[]);
    assert!(
        !out.contains("AKIA") && !out.contains("OP_AWS_ITEM='acme'"),
        "{out}"
    );
    assert!(
        said.contains("is not applied: the directory was replaced")
            && said.contains("op-aws use 'acme' --directory"),
        "{said}"
    );
    assert_eq!(said.lines().count(), 1, "{said}");
    // The hook's marker keeps the same shell quiet.
    let marker = out
        .lines()
        .find(|l| l.contains("__OP_AWS_IGNORED_WARNED"))
        .expect("the hook remembers it said so");
    let value = marker
        .split_once('=')
        .unwrap()
        .1
        .trim_matches(|c| c == '\'' || c == ';');
    let (_, again) = hook(&proj, &[("__OP_AWS_IGNORED_WARNED", value)]);
    assert!(again.is_empty(), "said twice: {again}");
    // Made again by the owner: applies.
    env.ok(&["use", "acme", "--directory", proj.to_str().unwrap()]);
    assert!(hook(&proj, &[]).0.contains("OP_AWS_ITEM='acme'"));
    // Someone else's directory at the same path.
    std::fs::remove_dir_all(&proj).unwrap();
    std::fs::create_dir_all(&proj).unwrap();
    std::fs::set_permissions(&proj, std::fs::Permissions::from_mode(0o777)).unwrap();
    nix::unistd::chown(&proj, Some(nix::unistd::Uid::from_raw(4242)), None).unwrap();
    let (theirs, said) = hook(&proj, &[]);
    assert!(
        !theirs.contains("acme") && !theirs.contains("AKIA"),
        "{theirs}"
    );
    assert!(said.contains("the directory is not yours"), "{said}");
    let mut c = env.op_aws(&["status", "--json"]);
    c.current_dir(&proj);
    let v: serde_json::Value = serde_json::from_str(&crate::support::ok(
        crate::support::run_cmd(c, ""),
        &["status"],
    ))
    .unwrap();
    assert!(v["item"].is_null(), "{v}");
    // And a default cannot be made for it.
    let o = env.run(&["use", "acme", "--directory", proj.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(crate::support::stderr(&o).contains("belongs to uid 4242"));
}

/// Dotfiles: a credentials file that is a symlink (stow, chezmoi) is cleaned where it points, in
/// that file's own directory, and the link stays a link; one with other hard links is refused
/// before anything is imported, and doctor names the real file.
#[test]
fn a_symlinked_credentials_file_is_cleaned_where_it_points() {
    let env = TestEnv::new();
    env.vault();
    let text = "# mine\n[p]\naws_access_key_id = AKIADOTFILES00000001\naws_secret_access_key = s\nregion = eu-west-1\n";
    let real = env.write("dotfiles/aws-credentials", text);
    let link = env.home.join(".aws/credentials");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let out = String::from_utf8_lossy(&doctor(&env).stdout).into_owned();
    assert!(out.contains("dotfiles/aws-credentials for p"), "{out}");
    let o = env.run(&["import", "--profile", "p", "--remove-plaintext", "--yes"]);
    let e = crate::support::stderr(&o);
    assert!(o.status.success(), "{e}");
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link stays a link"
    );
    assert_eq!(
        std::fs::read_to_string(&real).unwrap(),
        "# mine\n[p]\nregion = eu-west-1\n",
        "only the key lines went, byte-exact"
    );
    assert_eq!(
        std::fs::canonicalize(&link).unwrap(),
        std::fs::canonicalize(&real).unwrap()
    );
    assert!(env.ok(&["item", "list"]).contains('p'));
    let leftovers: Vec<_> = std::fs::read_dir(real.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(leftovers, ["aws-credentials"], "no temporary file left");
    assert!(
        !env.home.join(".aws/credentials.lock").exists(),
        "a stray lock file"
    );

    // A hard link elsewhere would keep the keys: refused, nothing imported, nothing changed.
    let env = TestEnv::new();
    env.vault();
    let text = "[q]\naws_access_key_id = AKIADOTFILES00000002\naws_secret_access_key = s\n";
    let creds = env.home.join(".aws/credentials");
    std::fs::write(&creds, text).unwrap();
    let other = env.write("backup/credentials", "");
    std::fs::remove_file(&other).unwrap();
    std::fs::hard_link(&creds, &other).unwrap();
    let o = env.run(&["import", "--profile", "q", "--remove-plaintext", "--yes"]);
    let e = crate::support::stderr(&o);
    assert!(!o.status.success(), "{e}");
    assert!(e.contains("2 hard links"), "{e}");
    assert_eq!(std::fs::read_to_string(&creds).unwrap(), text);
    assert!(
        !env.ok(&["item", "list"]).contains('q'),
        "nothing was imported before the refusal"
    );
    // Without --remove-plaintext the import itself works.
    env.ok(&["import", "--profile", "q"]);
    assert!(env.ok(&["item", "list"]).contains('q'));
}

/// Root with a user's HOME (`sudo -E op-aws item add ...`) must not take the user's vault over.
#[test]
fn root_does_not_rewrite_another_users_vault() {
    let env = TestEnv::new();
    env.vault();
    env.add_keys("dev", "AKIADEV0000000000001", "dev-secret", None);
    let data = env.data_dir();
    let user = nix::unistd::Uid::from_raw(4242);
    for f in ["vault.age", "identity.age", "recipient.txt"] {
        nix::unistd::chown(&data.join(f), Some(user), None).unwrap();
    }
    let before = std::fs::read(data.join("vault.age")).unwrap();
    let o = env.run_with_stdin(
        &[
            "item",
            "add",
            "x",
            "--set",
            "Access Key ID=AKIAX",
            "--set-secret",
            "Secret Access Key",
        ],
        "s\n",
    );
    let e = crate::support::stderr(&o);
    assert!(!o.status.success(), "{e}");
    assert!(
        e.contains("owned by another user") && e.contains("hint: "),
        "{e}"
    );
    assert_eq!(std::fs::read(data.join("vault.age")).unwrap(), before);
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        std::fs::metadata(data.join("vault.age")).unwrap().uid(),
        4242
    );
}

/// An interrupted `vault create` (a full disk between its writes) is no dead end: unlock says
/// there is no vault, and create then works, keeping the leftover file aside.
#[test]
fn an_interrupted_create_can_be_created_again() {
    let env = TestEnv::new();
    env.vault();
    env.ok(&["lock"]);
    let data = env.data_dir();
    std::fs::remove_file(data.join("identity.age")).unwrap();
    // No stdin: it fails before reading any (a passphrase written to it could meet a closed pipe).
    let o = env.run(&["unlock", "--passphrase-stdin"]);
    let e = crate::support::stderr(&o);
    assert!(
        !o.status.success() && e.contains("no vault") && e.contains("vault create"),
        "{e}"
    );
    env.vault();
    env.ok(&["item", "list"]);
    let kept = std::fs::read_dir(&data)
        .unwrap()
        .filter_map(|e| e.ok())
        .any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("vault.age.without-identity-")
        });
    assert!(kept, "the leftover vault.age was not kept aside");
}

/// A project's config (direnv's `AWS_CONFIG_FILE`) names an endpoint: requests signed with the
/// item's keys never go there unless config.toml trusts it; nothing is sent, one line says why.
#[test]
fn signed_sts_requests_go_only_to_aws_loopback_or_trusted_endpoints() {
    let mut env = TestEnv::new();
    env.set("AWS_REGION", "us-east-1");
    env.vault();
    env.add_keys("prod", "AKIAPROD000000000001", "prod-secret", None);
    let project = env.write(
        "proj/aws-config",
        "[profile base]\nop_aws_item = prod\nendpoint_url = https://sts.example.invalid\n\
         [profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = base\n\
         endpoint_url = https://sts.example.invalid\n",
    );
    env.set("AWS_CONFIG_FILE", project.display().to_string());
    let o = env.run(&["run", "--profile", "admin", "--", "true"]);
    let e = crate::support::stderr(&o);
    assert!(!o.status.success(), "{e}");
    let lines: Vec<&str> = e.lines().collect();
    assert!(
        lines[0].starts_with("op-aws: ")
            && lines[0].contains("https://sts.example.invalid")
            && lines[0].contains("trusted_endpoints"),
        "{e}"
    );
    assert!(
        lines.len() == 2
            && lines[1].contains("trusted_endpoints = [\"https://sts.example.invalid\"]"),
        "{e}"
    );
    assert!(
        !env.ok(&["cache", "list"]).contains("admin"),
        "nothing was cached"
    );
    // The same through the environment's AWS_ENDPOINT_URL_STS.
    // (`.invalid` never resolves: were the check missing, nothing would leave this machine.)
    env.set("AWS_ENDPOINT_URL_STS", "https://sts.example.invalid:8443");
    let e = crate::support::stderr(&env.run(&["run", "--profile", "admin", "--", "true"]));
    assert!(
        e.contains("https://sts.example.invalid:8443") && e.contains("trusted_endpoints"),
        "{e}"
    );
    // A config.toml entry that is not an http(s) URL is an error naming the file.
    env.write(
        "cfg/config.toml",
        "trusted_endpoints = [\"ftp://sts.example.invalid\"]\n",
    );
    let e = crate::support::stderr(&env.run(&["run", "--profile", "admin", "--", "true"]));
    assert!(
        e.contains("config.toml") && e.contains("not an http(s) URL"),
        "{e}"
    );
}

/// A profile's `op_aws_item` that sets aside what this terminal chose (`op-aws use dev`) is said
/// on stderr, once; the command still runs with the profile's item.
#[test]
fn a_profile_overriding_the_terminals_item_is_said_once() {
    use crate::support::sts_server::{Mode, StsServer};
    let mut env = TestEnv::new();
    let stub = StsServer::start(Mode::Issue { secs: 3600 });
    env.set("AWS_ENDPOINT_URL_STS", stub.url());
    env.set("AWS_REGION", "us-east-1");
    env.vault();
    env.add_keys("dev", "AKIADEV0000000000001", "dev-secret", None);
    env.add_keys("prod", "AKIAPROD000000000001", "prod-secret", None);
    env.write(
        ".aws/config",
        "[profile base]\nop_aws_item = prod\n\
         [profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = base\n",
    );
    env.set("OP_AWS_SESSION_ITEM", "dev");
    let first = env.run(&["run", "--profile", "admin", "--", "true"]);
    let e = crate::support::stderr(&first);
    assert!(first.status.success(), "{e}");
    assert!(
        e.contains("profile admin uses item \"prod\"")
            && e.contains("not \"dev\", this terminal's"),
        "{e}"
    );
    assert_eq!(stub.requests()[0].signer, "AKIAPROD000000000001");
    let again = crate::support::stderr(&env.run(&["run", "--profile", "admin", "--", "true"]));
    assert!(!again.contains("uses item"), "said twice: {again}");
    // --item is explicit: nothing to say.
    let flag = crate::support::stderr(&env.run(&["run", "--item", "prod", "--", "true"]));
    assert!(!flag.contains("uses item"), "{flag}");
}

/// What AWS (or whatever answers in its place) says reaches the terminal without line breaks or
/// bidirectional overrides.
#[test]
fn sts_error_messages_reach_the_terminal_without_control_characters() {
    use crate::support::sts_server::{Mode, StsServer};
    let mut env = TestEnv::new();
    let stub = StsServer::start(Mode::Fail {
        status: 403,
        code: "AccessDenied",
        // XML 1.0 cannot carry ESC, but it carries line breaks and bidirectional overrides.
        message: "denied\u{202e}txt.exe\nop-aws: forged second line",
    });
    env.set("AWS_ENDPOINT_URL_STS", stub.url());
    env.set("AWS_REGION", "us-east-1");
    env.vault();
    env.add_keys("dev", "AKIADEV0000000000001", "dev-secret", None);
    env.write(
        ".aws/config",
        "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = base\n\
         [profile base]\nop_aws_item = dev\n",
    );
    let o = env.run(&["run", "--profile", "admin", "--", "true"]);
    let e = crate::support::stderr(&o);
    assert!(!o.status.success());
    assert!(e.contains("AccessDenied") && e.contains("denied"), "{e}");
    assert!(!e.contains('\u{202e}'), "{e:?}");
    assert_eq!(
        e.lines().filter(|l| l.starts_with("op-aws: ")).count(),
        1,
        "{e}"
    );
}

/// `doctor` reads the AWS files as bytes: a stray non-UTF-8 byte (which makes the SDK's parser
/// skip the whole file) hides no key, and keys in ~/.aws/config count; `import
/// --remove-plaintext` takes them out of the file that holds them, every other byte kept.
#[test]
fn keys_the_parser_skips_and_keys_in_the_config_file_are_found_and_removed() {
    let env = TestEnv::new();
    env.vault();
    let creds = env.home.join(".aws/credentials");
    let creds_bytes: &[u8] =
        b"# caf\xe9 (latin-1)\n[old]\naws_access_key_id = AKIALATIN00000000001\naws_secret_access_key = latin-secret\n";
    std::fs::write(&creds, creds_bytes).unwrap();
    let config = env.write(
        ".aws/config",
        "# team config\r\n[profile cfg]\r\nregion = eu-west-1\r\naws_access_key_id = AKIACONFIG0000000001\r\naws_secret_access_key = cfg-secret\r\n[profile other]\r\nregion = us-east-1\r\n",
    );
    let out = String::from_utf8_lossy(&doctor(&env).stdout).into_owned();
    assert!(
        out.contains("warn plaintext keys") && out.contains("old") && out.contains("cfg"),
        "{out}"
    );
    env.ok(&["import", "--all", "--remove-plaintext", "--yes"]);
    let items = env.ok(&["item", "list"]);
    assert!(items.contains("old") && items.contains("cfg"), "{items}");
    let shown = env.ok(&["item", "show", "old", "--reveal"]);
    assert!(
        shown.contains("AKIALATIN00000000001") && shown.contains("latin-secret"),
        "{shown}"
    );
    assert_eq!(
        std::fs::read(&creds).unwrap(),
        b"# caf\xe9 (latin-1)\n[old]\n",
        "byte-exact, the invalid byte kept"
    );
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        "# team config\r\n[profile cfg]\r\nregion = eu-west-1\r\n[profile other]\r\nregion = us-east-1\r\n"
    );
    let out = String::from_utf8_lossy(&doctor(&env).stdout).into_owned();
    assert!(out.contains("ok   no plaintext keys"), "{out}");
}

/// An agent whose runtime directory was deleted under it (a logout's cleanup, `rm -rf`) can no
/// longer be woken through its socket: on SIGTERM it forgets and exits all the same.
#[test]
fn agent_exits_on_sigterm_after_its_runtime_directory_is_gone() {
    let env = TestEnv::new();
    env.vault();
    let pid = env.agent_pid().expect("the agent runs");
    std::fs::remove_dir_all(env.runtime_dir()).unwrap();
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let mut gone = false;
    for _ in 0..100 {
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            gone = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    if !gone {
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
    }
    assert!(
        gone,
        "the agent went on after SIGTERM without its runtime directory"
    );
}

/// `op-aws lock` under `run --server`: the endpoint stops listening and its token file goes
/// at once, while the command runs on (and is told).
#[test]
fn run_server_stops_listening_on_lock() {
    use std::io::BufRead;
    let mut env = TestEnv::new();
    env.vault();
    env.add_keys("acme", "AKIAACMEACMEACMEACME", "acme-secret", None);
    let sts =
        crate::support::sts_server::StsServer::start(crate::support::sts_server::Mode::Issue {
            secs: 900,
        });
    env.set("AWS_ENDPOINT_URL_STS", sts.url());
    env.set("AWS_REGION", "us-east-1");
    let mut child = env
        .op_aws(&[
            "run",
            "--server",
            "--item",
            "acme",
            "--",
            "sh",
            "-c",
            "echo \"$AWS_CONTAINER_CREDENTIALS_FULL_URI\"; echo \"$AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE\"; sleep 30",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let url = lines.next().unwrap().unwrap();
    let token_file = lines.next().unwrap().unwrap();
    let port = url
        .strip_prefix("http://127.0.0.1:")
        .and_then(|r| r.split('/').next())
        .unwrap()
        .to_owned();
    assert!(std::path::Path::new(&token_file).exists());
    env.ok(&["lock"]);
    let mut stopped = false;
    for _ in 0..100 {
        let listening = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).is_ok();
        if !listening && !std::path::Path::new(&token_file).exists() {
            stopped = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let still_running = child.try_wait().unwrap().is_none();
    // SIGTERM reaches the command through op-aws: nothing is left behind.
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let out = child.wait_with_output().unwrap();
    assert!(
        stopped,
        "the endpoint still listens (or its token file is there) after lock"
    );
    assert!(
        still_running,
        "the command was ended; only the endpoint should stop"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("locked: the credentials endpoint stopped"),
        "{err}"
    );
}

/// Every file under `dir` that `id` decrypts (an age file encrypted to it).
fn opened_by(id: &age::x25519::Identity, dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            out.extend(opened_by(id, &p));
        } else if ft.is_file() && std::fs::read(&p).is_ok_and(|ct| age::decrypt(id, &ct).is_ok()) {
            out.push(p);
        }
    }
    out
}

/// recipient.txt replaced by an attacker's (`age-keygen`'s public key, the secret kept).
fn swap_recipient(env: &TestEnv) -> age::x25519::Identity {
    let attacker = age::x25519::Identity::generate();
    std::fs::write(
        env.data_dir().join("recipient.txt"),
        format!("{}\n", attacker.to_public()),
    )
    .unwrap();
    attacker
}

/// With the vault unlocked, a swapped recipient.txt receives nothing: a new session is refused
/// (one line naming the file), an item written lands in a vault only the identity opens.
#[test]
fn a_swapped_recipient_receives_no_session_and_no_item() {
    let (env, stub) = with_a_cached_role_session();
    env.write(
        ".aws/config",
        "[profile base]\nop_aws_item = dev\n\
         [profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = base\n\
         [profile other]\nrole_arn = arn:aws:iam::123456789012:role/Other\nsource_profile = base\n",
    );
    let attacker = swap_recipient(&env);
    let o = env.run(&["run", "--profile", "other", "--", "true"]);
    let e = crate::support::stderr(&o);
    assert!(!o.status.success(), "a session was written: {e}");
    assert!(
        e.starts_with("op-aws: ") && e.contains("recipient.txt"),
        "{e}"
    );
    assert_eq!(stub.count("AssumeRole"), 2, "asked, then refused to keep");
    env.ok_with_stdin(
        &[
            "item",
            "add",
            "new",
            "--set",
            "Access Key ID=AKIANEW0000000000001",
            "--set-secret",
            "Secret Access Key",
        ],
        "new-secret\n",
    );
    assert_eq!(
        opened_by(&attacker, env.root.path()),
        Vec::<std::path::PathBuf>::new()
    );
}

/// The 1Password store beside a local vault that is locked: a role session over a 1Password
/// item is kept in the agent's memory, never in a file encrypted to a recipient.txt nothing
/// checked (swapped here); what op returned stays in memory too.
#[test]
fn beside_a_locked_vault_a_swapped_recipient_receives_no_session() {
    use crate::onepassword::{config, key_fields, op_env, op_item, put_items};
    use crate::support::sts_server::{Mode, StsServer};
    let mut env = op_env();
    let stub = StsServer::start(Mode::Issue { secs: 3600 });
    env.set("AWS_ENDPOINT_URL_STS", stub.url());
    env.vault();
    env.ok(&["lock"]);
    put_items(
        &env,
        &[op_item(
            "i1",
            "Shared CI",
            "dev",
            key_fields("AKIAOPDEV00000000001", "op-dev-secret"),
        )],
    );
    config(&env, "store = \"1password\"\n");
    // A CI job's service account: the agent that keeps what op returned runs, without the
    // vault's identity.
    env.set("OP_SERVICE_ACCOUNT_TOKEN", "ops_test");
    env.write(
        ".aws/config",
        "[profile base]\nop_aws_item = op://Shared CI/dev\n\
         [profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = base\n",
    );
    let attacker = swap_recipient(&env);
    for _ in 0..2 {
        let out = env.ok(&["run", "--profile", "admin", "--", "env"]);
        assert!(out.contains("AWS_ACCESS_KEY_ID=ASIAISSUED"), "{out}");
    }
    assert!(session_blobs(&env).is_empty(), "{:?}", session_blobs(&env));
    assert_eq!(
        stub.count("AssumeRole"),
        1,
        "the session was kept (in memory)"
    );
    assert_eq!(
        opened_by(&attacker, env.root.path()),
        Vec::<std::path::PathBuf>::new()
    );
}

/// Root with another user's HOME (`env -i HOME=/home/u op-aws vault create`): refused before
/// anything is created, so no root-owned `~/.local` breaks the user's own programs.
#[test]
fn another_users_home_gets_no_directory_of_ours() {
    use std::os::unix::fs::MetadataExt;
    if !nix::unistd::geteuid().is_root() {
        println!("skipped: needs root (to give the HOME to another user)");
        return;
    }
    let env = TestEnv::new();
    let home = env.root.path().join("u");
    std::fs::create_dir(&home).unwrap();
    // nobody
    nix::unistd::chown(&home, Some(65534.into()), Some(65534.into())).unwrap();
    let entries = || std::fs::read_dir(&home).unwrap().count();
    let mut c = Command::new(crate::support::bin());
    c.env_clear()
        .env("HOME", &home)
        .env("PATH", crate::support::tools_path())
        .env("LANG", "C.UTF-8")
        .current_dir(env.root.path())
        .args([
            "vault",
            "create",
            "--passphrase-stdin",
            "--work-factor",
            "10",
        ]);
    let o = crate::support::run_cmd(c, &format!("{PASS}\n{PASS}\n"));
    let e = crate::support::stderr(&o);
    assert!(!o.status.success(), "{e}");
    assert!(
        e.starts_with("op-aws: ") && e.contains("another user"),
        "{e}"
    );
    assert_eq!(entries(), 0, "vault create made something in {home:?}");
    assert_eq!(std::fs::metadata(&home).unwrap().uid(), 65534);
}

/// Nothing op-aws prints from a name it did not write (a directory, an item title from
/// 1Password) can drive the terminal: escape sequences (OSC 52 writes the clipboard), and
/// bidirectional overrides, are shown as U+FFFD; titles that hold them are refused at `item add`.
#[test]
fn names_op_aws_did_not_write_never_reach_the_terminal_raw() {
    use crate::onepassword::{config, key_fields, op_item, put_items};
    let hostile = |o: &std::process::Output| -> Option<String> {
        let all = [o.stdout.as_slice(), o.stderr.as_slice()].concat();
        let text = String::from_utf8_lossy(&all).into_owned();
        text.chars()
            .any(|c| {
                (c.is_control() && c != '\n' && c != '\t') || ('\u{202a}'..='\u{202e}').contains(&c)
            })
            .then_some(text)
    };
    let env = TestEnv::new();
    env.vault();
    env.add_keys("dev", "AKIADEV0000000000001", "s", None);
    // A title with an escape sequence is refused, one line and a hint, the vault unchanged.
    let vault = std::fs::read(env.data_dir().join("vault.age")).unwrap();
    for title in [
        "evil\u{1b}]2;pwned\u{7}",
        "evil\u{202e}txt.exe",
        "two\nlines",
    ] {
        let o = env.run_with_stdin(
            &[
                "item",
                "add",
                title,
                "--set",
                "Access Key ID=AKIAX",
                "--set-secret",
                "Secret Access Key",
            ],
            "s\n",
        );
        let e = crate::support::stderr(&o);
        assert!(!o.status.success(), "{title:?} accepted");
        assert!(e.contains("control characters"), "{e}");
        assert_eq!(e.lines().count(), 2, "{e}");
        assert_eq!(hostile(&o), None);
        assert_eq!(
            std::fs::read(env.data_dir().join("vault.age")).unwrap(),
            vault,
            "the vault changed"
        );
    }
    // Repositories named to clear the screen, retitle the window, fill the clipboard, reverse
    // the text; each with an untrusted project file and a directory default.
    for name in [
        "repo\u{1b}[2J",
        "repo\u{1b}]2;owned\u{7}",
        "repo\u{1b}]52;c;SGVsbG8=\u{7}",
        "repo\u{202e}gpj.exe",
    ] {
        let dir = env.home.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(".op-aws.toml"), "item = \"dev\"\n").unwrap();
        let at = |args: &[&str]| {
            let mut c = env.op_aws(args);
            c.current_dir(&dir).env("OP_AWS_SHELL", "bash");
            crate::support::run_cmd(c, "")
        };
        // What hook-env prints on stdout is shell code for `eval`, quoted; its notice is
        // what reaches the terminal.
        let mut o = at(&["hook-env", "--shell", "bash"]);
        o.stdout.clear();
        assert_eq!(hostile(&o), None, "{name:?}: hook-env");
        for args in [
            &["status"][..],
            &["inspect"],
            &["trust"],
            &["status"],
            &["inspect"],
            &["use", "dev", "--directory"],
            &["inspect"],
            &["untrust"],
        ] {
            let o = at(args);
            assert_eq!(hostile(&o), None, "{name:?}: {args:?}");
        }
    }
    // Titles from 1Password: listed, used, shown in status.
    let mut env = crate::onepassword::op_env();
    put_items(
        &env,
        &[op_item(
            "e1",
            "Private",
            "evil\u{1b}]52;c;SGVsbG8=\u{7}\u{202e}",
            key_fields("AKIAEVIL000000000001", "s"),
        )],
    );
    config(
        &env,
        "store = \"1password\"\nonepassword_vault = \"Private\"\n",
    );
    let o = env.run(&["item", "list"]);
    assert!(o.status.success(), "{}", crate::support::stderr(&o));
    assert_eq!(hostile(&o), None, "item list");
    env.set(
        "OP_AWS_SESSION_ITEM",
        "evil\u{1b}]52;c;SGVsbG8=\u{7}\u{202e}",
    );
    for args in [&["status"][..], &["inspect"]] {
        assert_eq!(hostile(&env.run(args)), None, "{args:?}");
    }
}

/// An agent started by a command of a caller with 1Password sign-in variables (a CI job's
/// service account, Connect, a session) holds none of them: it never runs `op`.
#[test]
fn an_agent_started_with_sign_in_variables_holds_none_of_them() {
    let mut env = TestEnv::new();
    env.set("OP_CONNECT_HOST", "http://127.0.0.1:9");
    env.set("OP_SESSION_myaccount", "session-secret-value");
    env.set("OP_SERVICE_ACCOUNT_TOKEN", "ops_secret_value");
    env.vault();
    let pid = env.agent_pid().expect("the agent runs");
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    let text = String::from_utf8_lossy(&environ);
    for k in [
        "OP_CONNECT_HOST",
        "OP_SESSION_myaccount",
        "OP_SERVICE_ACCOUNT_TOKEN",
    ] {
        assert!(!text.contains(k), "{k} reached the agent's environment");
    }
}

/// Review finding 6: `op-aws unlock` sends the identity to no listener at the agent's socket
/// path that does not hold the agent's lock (here: a plain listener the test put there).
#[test]
fn unlock_gives_no_identity_to_a_listener_at_the_socket_path() {
    let env = TestEnv::new();
    env.vault();
    env.ok(&["lock"]);
    let sock = env.runtime_dir().join("agent.sock");
    // The runtime directory exists (0700) from the vault's agent; the agent is gone.
    let _ = std::fs::remove_file(&sock);
    let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    listener.set_nonblocking(true).unwrap();
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let fake = {
        let (got, stop) = (got.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                if let Ok((mut c, _)) = listener.accept() {
                    c.set_nonblocking(false).unwrap();
                    c.set_read_timeout(Some(std::time::Duration::from_secs(2)))
                        .unwrap();
                    let mut buf = Vec::new();
                    let _ = c.read_to_end(&mut buf);
                    got.lock().unwrap().extend(buf);
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        })
    };
    let out = env.run_with_stdin(&["unlock", "--passphrase-stdin"], &format!("{PASS}\n"));
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    fake.join().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("does not hold") && err.contains("hint: "),
        "{err}"
    );
    let got = String::from_utf8_lossy(&got.lock().unwrap()).into_owned();
    assert!(
        !got.contains("AGE-SECRET-KEY"),
        "the identity reached it: {got}"
    );
}

/// Review finding 2a: an agent someone else started before the person unlocks (with an
/// environment of their choosing) receives no identity: `unlock` stops it and starts its own.
#[test]
fn unlock_replaces_an_agent_it_did_not_start() {
    let env = TestEnv::new();
    env.vault();
    env.ok(&["lock"]);
    let mut c = env.op_aws(&["agent"]);
    c.env("LD_PRELOAD", "/nonexistent/preload.so")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    let mut stranger = c.spawn().unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(stranger.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line.trim(), "ready");
    let before = env.agent_pid().expect("the stranger answers");
    assert_eq!(before, stranger.id() as i32);
    env.unlock();
    let after = env.agent_pid().expect("an agent runs");
    assert_ne!(
        after, before,
        "the identity went to the agent someone else started"
    );
    let status = stranger.wait().unwrap();
    assert!(
        status.success(),
        "the stranger was asked to stop: {status:?}"
    );
    let v: serde_json::Value = serde_json::from_str(&env.ok(&["status", "--json"])).unwrap();
    assert_eq!(v["agent"]["unlocked"], true);
}

/// Review finding 12: `import --remove-plaintext` through a symlink to another user's file is
/// refused before anything is imported (it used to import, then fail the rewrite).
#[test]
fn another_users_credentials_file_is_refused_before_importing() {
    if !nix::unistd::geteuid().is_root() {
        println!("skipped: needs root (to give the file to another user)");
        return;
    }
    let env = TestEnv::new();
    env.vault();
    let text = "[p]\naws_access_key_id = AKIAOTHERUSER0000001\naws_secret_access_key = s\n";
    let theirs = env.write("shared/their-credentials", text);
    nix::unistd::chown(&theirs, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
    let link = env.home.join(".aws/credentials");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&theirs, &link).unwrap();
    let o = env.run(&["import", "--profile", "p", "--remove-plaintext", "--yes"]);
    let e = crate::support::stderr(&o);
    assert!(!o.status.success());
    assert!(e.contains("belongs to another user"), "{e}");
    assert!(!env.ok(&["item", "list"]).contains("AKIAOTHERUSER"));
    assert!(
        !env.ok(&["item", "list"]).lines().any(|l| l.trim() == "p"),
        "nothing imported"
    );
    assert_eq!(std::fs::read_to_string(&theirs).unwrap(), text);
}
