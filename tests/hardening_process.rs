//! op-aws's own processes: no core dumps, no sign-in variables in the agent, no identity for a
//! listener or agent unlock did not start; SIGTERM and lock end what they should.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::{PASS, TestEnv};

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
