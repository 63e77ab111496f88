//! The loopback credentials endpoint, with real clients: `op-aws run --server` and
//! `op-aws serve` against moto (the aws CLI, boto3, the JS SDK v3, Terraform's S3 backend), the
//! token, the lock, and a job that outlives its session.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::Duration;

use crate::support::sts_server::{Mode, StsServer};
use crate::support::{Moto, TestEnv, WHO_AM_I, ok, require, run_cmd, sdk};

/// GET the endpoint with `token` (None: no Authorization header): status and body.
fn get(url: &str, token: Option<&str>) -> (u16, serde_json::Value) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut s = TcpStream::connect(host).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let auth = token.map_or(String::new(), |t| format!("Authorization: {t}\r\n"));
    write!(
        s,
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\n{auth}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text[9..12].parse().unwrap();
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, serde_json::from_str(body).unwrap_or_default())
}

#[test]
fn run_server_gives_the_command_an_endpoint_and_no_keys() {
    let mut env = TestEnv::new();
    let moto = Moto::start();
    sdk::team(&mut env, &moto);
    env.set("AWS_PROFILE", "plain");
    let out = env.ok(&[
        "run",
        "--server",
        "--profile",
        "admin",
        "--",
        "sh",
        "-c",
        "env; echo token-mode=$(stat -c %a \"$AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE\")",
    ]);
    for k in [
        "AWS_ACCESS_KEY_ID=",
        "AWS_SECRET_ACCESS_KEY=",
        "AWS_SESSION_TOKEN=",
        "AWS_PROFILE=",
    ] {
        assert!(!out.lines().any(|l| l.starts_with(k)), "{k} in {out}");
    }
    let uri = out
        .lines()
        .find_map(|l| l.strip_prefix("AWS_CONTAINER_CREDENTIALS_FULL_URI="))
        .unwrap()
        .to_owned();
    assert!(uri.starts_with("http://127.0.0.1:"), "{uri}");
    assert!(out.contains("token-mode=600"), "{out}");
    let file = out
        .lines()
        .find_map(|l| l.strip_prefix("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="))
        .unwrap();
    assert!(
        !std::path::Path::new(file).exists(),
        "the token file outlived the command"
    );
    // The exit status is the command's.
    let o = env.run(&[
        "run", "--server", "--item", "acme", "--", "sh", "-c", "exit 7",
    ]);
    assert_eq!(o.status.code(), Some(7));
}

/// Review finding 11: a SIGKILLed `run --server` takes its command with it (Linux's parent-death
/// signal), so no command runs on with an endpoint URL on a port nobody owns.
#[test]
fn a_killed_run_server_takes_its_command_with_it() {
    let mut env = TestEnv::new();
    let moto = Moto::start();
    sdk::team(&mut env, &moto);
    let pidfile = env.home.join("child.pid");
    let mut c = env.op_aws(&[
        "run",
        "--server",
        "--item",
        "acme",
        "--",
        "sh",
        "-c",
        &format!("echo $$ > {}; exec sleep 60", pidfile.display()),
    ]);
    c.stdout(Stdio::null()).stderr(Stdio::null());
    let mut op = c.spawn().unwrap();
    let child = (0..300)
        .find_map(|_| {
            std::thread::sleep(Duration::from_millis(50));
            std::fs::read_to_string(&pidfile)
                .ok()
                .and_then(|p| p.trim().parse::<i32>().ok())
        })
        .expect("the command started");
    let alive = |pid: i32| {
        std::path::Path::new(&format!("/proc/{pid}")).exists()
            && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .unwrap_or_default()
                .contains(") Z ")
    };
    assert!(alive(child));
    op.kill().unwrap();
    op.wait().unwrap();
    let gone = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(50));
        !alive(child)
    });
    if !gone {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(child),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    assert!(gone, "the command outlived a SIGKILLed op-aws");
}

#[test]
fn every_sdk_gets_the_role_through_run_server() {
    let mut env = TestEnv::new();
    let moto = Moto::start();
    sdk::team(&mut env, &moto);
    let run = |args: &[&str]| {
        let mut v = vec!["run", "--server", "--profile", "admin", "--"];
        v.extend(args);
        ok(env.run(&v), &v).trim().to_owned()
    };
    let cli = run(&WHO_AM_I);
    assert!(cli.contains(":assumed-role/Admin/"), "aws: {cli}");
    let py = "import boto3; print(boto3.client('sts').get_caller_identity()['Arn'])";
    let boto = run(&["python3", "-c", py]);
    assert!(boto.contains(":assumed-role/Admin/"), "boto3: {boto}");
    require("node");
    let js = run(&["node", "whoami.js"]);
    assert!(js.contains(":assumed-role/Admin/"), "js: {js}");
    // config.toml `server = true` makes it the default.
    env.write("cfg/config.toml", "server = true\n");
    let out = env.ok(&["run", "--profile", "admin", "--", "env"]);
    assert!(out.contains("AWS_CONTAINER_CREDENTIALS_FULL_URI="), "{out}");
    assert!(!out.contains("AWS_ACCESS_KEY_ID="), "{out}");
    let out = env.ok(&["run", "--no-server", "--profile", "admin", "--", "env"]);
    assert!(out.contains("AWS_ACCESS_KEY_ID="), "{out}");
}

#[test]
fn terraform_through_run_server() {
    let mut env = TestEnv::new();
    let moto = Moto::start();
    sdk::team(&mut env, &moto);
    let terraform = require("terraform");
    let proxy = StsServer::start(Mode::Forward(moto.port));
    env.set("AWS_ENDPOINT_URL_STS", proxy.url());
    let dir = sdk::s3_backend(&env, &moto, &proxy.url());
    let mut c = env.op_aws(&[
        "run",
        "--server",
        "--profile",
        "admin",
        "--",
        terraform.to_str().unwrap(),
        "init",
        "-input=false",
        "-no-color",
    ]);
    c.current_dir(dir).env("TF_IN_AUTOMATION", "1");
    let o = run_cmd(c, "");
    assert!(o.status.success(), "{}", crate::support::stderr(&o));
    let reqs = proxy.requests();
    let reqs = crate::support::sts_server::without_person_lookups(&reqs);
    let own: Vec<_> = reqs
        .iter()
        .filter(|r| r.action == "GetCallerIdentity")
        .collect();
    assert!(
        !own.is_empty() && own.iter().all(|r| r.signer.starts_with("ASIA")),
        "terraform signed with the role session from the endpoint: {reqs:?}"
    );
}

/// `op-aws serve`, its first line of output (JSON), and the process.
fn serve(env: &TestEnv, args: &[&str]) -> (Child, serde_json::Value) {
    let mut v = vec!["serve", "--format", "json"];
    v.extend(args);
    let mut child = env
        .op_aws(&v)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (
        child,
        serde_json::from_str(&line).expect("serve prints its variables"),
    )
}

fn token(vars: &serde_json::Value) -> String {
    std::fs::read_to_string(
        vars["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]
            .as_str()
            .unwrap(),
    )
    .unwrap()
}

#[test]
fn serve_answers_only_with_the_token_and_stops_on_lock() {
    let mut env = TestEnv::new();
    let moto = Moto::start();
    sdk::team(&mut env, &moto);
    let (mut child, vars) = serve(&env, &["--profile", "admin"]);
    let url = vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(vars.get("AWS_ACCESS_KEY_ID").is_none(), "{vars}");
    // A client of its own: the variables alone, no op-aws in between.
    let mut c = env.command(require("aws"));
    c.args(&WHO_AM_I[1..]);
    for (k, v) in vars.as_object().unwrap() {
        c.env(k, v.as_str().unwrap());
    }
    let arn = ok(run_cmd(c, ""), &["aws via serve"]);
    assert!(arn.contains(":assumed-role/Admin/"), "{arn}");
    let mut c = env.command(require("node"));
    c.arg("whoami.js");
    for (k, v) in vars.as_object().unwrap() {
        c.env(k, v.as_str().unwrap());
    }
    let arn = ok(run_cmd(c, ""), &["node via serve"]);
    assert!(arn.contains(":assumed-role/Admin/"), "{arn}");

    let t = token(&vars);
    let (status, body) = get(&url, Some(&t));
    assert_eq!(status, 200, "{body}");
    assert!(
        body["Token"].is_string() && body["Expiration"].is_string(),
        "{body}"
    );
    assert_eq!(get(&url, None).0, 401, "no token");
    assert_eq!(get(&url, Some("not-the-token")).0, 403, "a wrong token");

    env.ok(&["lock"]);
    // Locked: refused, and serve stops by itself within a few seconds.
    let (status, _) = get(&url, Some(&t));
    assert_eq!(status, 403, "after lock");
    let mut stopped = false;
    for _ in 0..50 {
        if child.try_wait().unwrap().is_some() {
            stopped = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    if !stopped {
        let _ = child.kill();
    }
    let _ = child.wait();
    assert!(stopped, "serve went on after lock");
}

/// A job longer than its session: 2-minute sessions, a client asking every 5 s for 3 minutes,
/// always gets valid credentials, and STS sees one call per refresh.
#[test]
fn a_job_outlives_its_sessions() {
    let mut env = TestEnv::new();
    let stub = StsServer::start(Mode::Issue { secs: 120 });
    env.set("AWS_ENDPOINT_URL_STS", stub.url());
    env.set("AWS_REGION", "us-east-1");
    env.vault();
    env.add_keys("acme", "AKIAACMEACMEACMEACME", "acme-secret", None);
    env.write(
        ".aws/config",
        "[profile plain]\nop_aws_item = acme\n\
         [profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = plain\n",
    );
    let (mut child, vars) = serve(&env, &["--profile", "admin"]);
    let url = vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
        .as_str()
        .unwrap()
        .to_owned();
    let t = token(&vars);
    let start = std::time::Instant::now();
    let mut asked = 0;
    let mut keys = std::collections::BTreeSet::new();
    while start.elapsed() < Duration::from_secs(180) {
        let (status, body) = get(&url, Some(&t));
        assert_eq!(status, 200, "{body}");
        let exp = humantime::parse_rfc3339(body["Expiration"].as_str().unwrap()).unwrap();
        let left = exp
            .duration_since(std::time::SystemTime::now())
            .unwrap_or_default();
        assert!(
            left >= Duration::from_secs(20),
            "stale credentials: {left:?} left"
        );
        keys.insert(body["AccessKeyId"].as_str().unwrap().to_owned());
        asked += 1;
        std::thread::sleep(Duration::from_secs(5));
    }
    let _ = child.kill();
    let _ = child.wait();
    let calls = stub.count("AssumeRole");
    assert!(asked >= 30, "{asked} requests");
    assert!(keys.len() >= 2, "never refreshed: {keys:?}");
    assert!(
        calls <= keys.len() + 1,
        "{calls} AssumeRole calls for {} sessions over {asked} requests",
        keys.len()
    );
}

const DEV_KEY: &str = "AKIADEV0000000000001";
const PROD_KEY: &str = "AKIAPROD000000000001";

/// Two items, `dev` the global default and `prod` asked for, and STS at a stub whose sessions
/// last 4 seconds (refreshed with 1 second left). `agent`: the agent resolves; else the
/// process itself (a caller whose context is too big to send to the agent).
fn two_items(agent: bool) -> (TestEnv, StsServer) {
    let mut env = TestEnv::new();
    env.vault();
    env.add_keys("dev", DEV_KEY, "devsecret", None);
    env.add_keys("prod", PROD_KEY, "prodsecret", None);
    env.ok(&["use", "dev", "--global"]);
    let sts = StsServer::start(Mode::Issue { secs: 4 });
    env.set("AWS_ENDPOINT_URL_STS", sts.url());
    env.set("AWS_REGION", "us-east-1");
    env.write(
        ".aws/config",
        "[profile deploy]\nrole_arn = arn:aws:iam::123456789012:role/Deploy\nsource_profile = base\n[profile base]\n",
    );
    if !agent {
        env.set("OP_AWS_TEST_PAD", crate::support::too_big_for_the_agent());
    }
    (env, sts)
}

/// Asks the endpoint for credentials, waits past the session's refresh point, asks again:
/// the two key ids (a refresh in between).
const TWO_ASKS: &str = r#"
import json, os, time, urllib.request
def ask():
    req = urllib.request.Request(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"],
        headers={"Authorization": open(os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]).read()})
    return json.load(urllib.request.urlopen(req))["AccessKeyId"]
first = ask()
time.sleep(4)
print(first, ask())
"#;

/// Every STS request was signed with prod's key (none with the default's), and the endpoint
/// asked STS more than once (it refreshed).
fn assert_only_prod(sts: &StsServer, what: &str, action: &str) {
    let reqs = sts.requests();
    assert!(
        reqs.iter().all(|r| r.signer == PROD_KEY),
        "{what}: a request not signed with prod's key: {reqs:?}"
    );
    assert!(
        reqs.iter().filter(|r| r.action == action).count() >= 2,
        "{what}: no refresh: {reqs:?}"
    );
    assert!(
        !reqs.iter().any(|r| r.signer == DEV_KEY),
        "{what}: {reqs:?}"
    );
}

#[test]
fn run_server_serves_the_item_it_was_asked_for_across_refreshes() {
    for agent in [true, false] {
        for (profile, action) in [(None, "GetSessionToken"), (Some("deploy"), "AssumeRole")] {
            let (env, sts) = two_items(agent);
            let mut args = vec!["run", "--server", "--item", "prod"];
            if let Some(p) = profile {
                args.extend(["--profile", p]);
            }
            args.extend(["--", "python3", "-c", TWO_ASKS]);
            let out = env.ok(&args);
            let ids: Vec<&str> = out.split_whitespace().collect();
            let what = format!("agent={agent} profile={profile:?}");
            assert!(ids.len() == 2 && ids[0] != ids[1], "{what}: {out}");
            assert_only_prod(&sts, &what, action);
            if profile.is_some() {
                assert!(
                    sts.requests()
                        .iter()
                        .filter(|r| r.action == "AssumeRole")
                        .all(|r| r.params["RoleArn"].ends_with(":role/Deploy")),
                    "{what}: {:?}",
                    sts.requests()
                );
            }
        }
    }
}

#[test]
fn serve_serves_the_item_it_was_asked_for_across_refreshes() {
    for agent in [true, false] {
        for (profile, action) in [(None, "GetSessionToken"), (Some("deploy"), "AssumeRole")] {
            let (env, sts) = two_items(agent);
            let mut args = vec!["--item", "prod"];
            if let Some(p) = profile {
                args.extend(["--profile", p]);
            }
            let (mut child, vars) = serve(&env, &args);
            let mut c = env.command(require("python3"));
            c.args(["-c", TWO_ASKS]);
            for (k, v) in vars.as_object().unwrap() {
                c.env(k, v.as_str().unwrap());
            }
            let out = run_cmd(c, "");
            let _ = child.kill();
            let _ = child.wait();
            let out = ok(out, &["python3 via serve"]);
            let ids: Vec<&str> = out.split_whitespace().collect();
            let what = format!("serve agent={agent} profile={profile:?}");
            assert!(ids.len() == 2 && ids[0] != ids[1], "{what}: {out}");
            assert_only_prod(&sts, &what, action);
        }
    }
}

/// Another user's connections (200, held open) neither starve the endpoint nor grow it: they
/// are closed unread, its own client is answered, and it keeps a handful of threads.
#[test]
fn another_users_connections_starve_no_endpoint() {
    if !nix::unistd::geteuid().is_root() || !std::path::Path::new("/usr/bin/python3").exists() {
        println!("skipped: needs root and /usr/bin/python3 (to connect as another user)");
        return;
    }
    use std::os::unix::process::CommandExt;
    let mut env = TestEnv::new();
    let stub = StsServer::start(Mode::Issue { secs: 3600 });
    env.set("AWS_ENDPOINT_URL_STS", stub.url());
    env.set("AWS_REGION", "us-east-1");
    env.vault();
    env.add_keys("dev", "AKIADEV0000000000001", "dev-secret", None);
    let (mut child, vars) = serve(&env, &["--item", "dev"]);
    let url = vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
        .as_str()
        .unwrap()
        .to_owned();
    let port = url.split(':').nth(2).unwrap().split('/').next().unwrap();
    // nobody opens 200 connections, sends nothing, and holds them.
    let mut flood = std::process::Command::new("/usr/bin/python3")
        .args([
            "-c",
            "import socket,sys,time\n\
             held=[socket.create_connection(('127.0.0.1',int(sys.argv[1]))) for _ in range(200)]\n\
             print('ready',flush=True)\n\
             time.sleep(60)\n",
            port,
        ])
        .uid(65534)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(flood.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    // Both stopped even when the request below panics.
    struct Stop<'a>(&'a mut Child);
    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _flood = Stop(&mut flood);
    let serve_id = child.id();
    let _serve = Stop(&mut child);
    let (status, body) = get(&url, Some(&token(&vars)));
    let threads = std::fs::read_to_string(format!("/proc/{serve_id}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .map(|t| t.trim().parse::<u32>().unwrap())
        .unwrap();
    assert_eq!(line.trim(), "ready");
    assert_eq!(status, 200, "{body}");
    assert!(threads < 20, "{threads} threads for 200 idle connections");
}

/// Review finding 9: a token-less process of the same user that fills the endpoint with slow
/// request heads holds no answering slot: a client with a 1-second timeout is still answered.
#[test]
fn slow_heads_of_our_own_starve_no_client() {
    let mut env = TestEnv::new();
    let stub = StsServer::start(Mode::Issue { secs: 3600 });
    env.set("AWS_ENDPOINT_URL_STS", stub.url());
    env.set("AWS_REGION", "us-east-1");
    env.vault();
    env.add_keys("dev", "AKIADEV0000000000001", "dev-secret", None);
    let (mut child, vars) = serve(&env, &["--item", "dev"]);
    let url = vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
        .as_str()
        .unwrap()
        .to_owned();
    let host = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    // 32 connections, each sending a few bytes of a head and never its end.
    let slow: Vec<TcpStream> = (0..32)
        .map(|_| {
            let mut s = TcpStream::connect(&host).unwrap();
            s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let rest = url.strip_prefix("http://").unwrap();
    let (_, path) = rest.split_once('/').unwrap();
    let mut s = TcpStream::connect(&host).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    write!(
        s,
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {}\r\nConnection: close\r\n\r\n",
        token(&vars)
    )
    .unwrap();
    let mut text = String::new();
    let read = s.read_to_string(&mut text);
    drop(slow);
    let _ = child.kill();
    let _ = child.wait();
    read.expect("answered within the SDK's 1-second timeout");
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
}
