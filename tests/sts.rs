//! STS end to end: the real `aws` CLI against moto on 127.0.0.1, behind a recording proxy that
//! proves what op-aws sent; and a stub answering real AWS error documents for the failures.

use std::process::Stdio;

use crate::support::sts_server::{Mode, StsServer};
use crate::support::{Moto, TestEnv, ok, run_cmd, stderr};

const BASE_KEY: &str = "AKIABASEKEY000000001";
const BASE_SECRET: &str = "basesecretbasesecretbasesecret0000000000";
/// The RFC 6238 SHA1 seed, as an authenticator app shows it (lowercase, in groups).
const TOTP_SECRET: &str = "gezd gnbv gy3t qojq gezd gnbv gy3t qojq";
const SERIAL: &str = "arn:aws:iam::123456789012:mfa/alice";
/// moto's GetSessionToken always returns this key.
const MOTO_SESSION_KEY: &str = "AKIAIOSFODNN7EXAMPLE";

const CONFIG: &str = "\
[profile base]
op_aws_item = acme

[profile admin]
role_arn = arn:aws:iam::210987654321:role/Admin
source_profile = base
duration_seconds = 1800

[profile top]
role_arn = arn:aws:iam::333333333333:role/Top
source_profile = admin
role_session_name = top-session

[profile mfa]
op_aws_item = acme
mfa_serial = arn:aws:iam::123456789012:mfa/alice
duration_seconds = 900

[profile mfaadmin]
role_arn = arn:aws:iam::210987654321:role/MfaAdmin
source_profile = mfa
external_id = ext-42
";

struct World {
    env: TestEnv,
    proxy: StsServer,
    _moto: Option<Moto>,
}

/// A vault with the `acme` item, the config above, and STS reached through `proxy`.
fn world(mode: Option<Mode>, with_totp: bool) -> World {
    let (moto, proxy) = match mode {
        Some(m) => (None, StsServer::start(m)),
        None => {
            let moto = Moto::start();
            let proxy = StsServer::start(Mode::Forward(moto.port));
            (Some(moto), proxy)
        }
    };
    let mut env = TestEnv::new();
    if let Some(m) = &moto {
        env.set("AWS_ENDPOINT_URL", m.url());
    }
    env.set("AWS_ENDPOINT_URL_STS", proxy.url());
    env.set("AWS_DEFAULT_REGION", "us-east-1");
    env.vault();
    let id = format!("Access Key ID={BASE_KEY}");
    let mut args = vec![
        "item",
        "add",
        "acme",
        "--set",
        &id,
        "--set-secret",
        "Secret Access Key",
    ];
    let mut stdin = format!("{BASE_SECRET}\n");
    if with_totp {
        args.extend(["--set-secret", "One-Time Password"]);
        stdin.push_str(TOTP_SECRET);
        stdin.push('\n');
    }
    env.ok_with_stdin(&args, &stdin);
    env.write(".aws/config", CONFIG);
    World {
        env,
        proxy,
        _moto: moto,
    }
}

fn caller_arn(env: &TestEnv, profile: &str) -> String {
    let out = env.run(&[
        "run",
        "--",
        "aws",
        "--profile",
        profile,
        "sts",
        "get-caller-identity",
        "--output",
        "json",
    ]);
    let text = ok(out, &["run aws", profile]);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["Arn"].as_str().unwrap().to_owned()
}

/// The AWS_* variables `op-aws run --profile P` hands to a command.
fn injected(env: &TestEnv, profile: &str) -> std::collections::BTreeMap<String, String> {
    let out = ok(
        env.run(&["run", "--profile", profile, "--", "sh", "-c", "env"]),
        &["run env", profile],
    );
    out.lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| k.starts_with("AWS_"))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn cache_list(env: &TestEnv) -> Vec<serde_json::Value> {
    serde_json::from_str(&env.ok(&["cache", "list", "--json"])).unwrap()
}

/// Every byte under `dir`, to look for secrets that must not be there.
fn all_bytes(dir: &std::path::Path) -> Vec<u8> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(all_bytes(&p));
        } else if let Ok(b) = std::fs::read(&p) {
            out.extend(b);
        }
    }
    out
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn assume_role_end_to_end_then_cached_and_encrypted() {
    let w = world(None, false);
    let out = w.env.run(&[
        "run",
        "--",
        "aws",
        "--profile",
        "admin",
        "sts",
        "get-caller-identity",
        "--output",
        "json",
    ]);
    assert_eq!(stderr(&out), "", "nothing on stderr when it works");
    let v: serde_json::Value = serde_json::from_slice(&ok(out, &["admin"]).into_bytes()).unwrap();
    assert_eq!(
        v["Arn"], "arn:aws:sts::210987654321:assumed-role/Admin/moto",
        "the role, its session named for the IAM user behind the key (moto's default user)"
    );
    let ar: Vec<_> = w
        .proxy
        .requests()
        .into_iter()
        .filter(|r| r.action == "AssumeRole")
        .collect();
    assert_eq!(ar.len(), 1, "{:?}", w.proxy.actions());
    assert_eq!(
        ar[0].params["RoleArn"],
        "arn:aws:iam::210987654321:role/Admin"
    );
    assert_eq!(
        ar[0].params["DurationSeconds"], "1800",
        "duration_seconds reaches the request"
    );
    assert_eq!(ar[0].params["RoleSessionName"], "moto");
    assert_eq!(ar[0].signer, BASE_KEY, "signed with the item's keys");
    assert_eq!(
        w.proxy.count("GetSessionToken"),
        0,
        "no MFA configured, none asked"
    );

    // A second command (another process, as from another terminal) makes no STS call.
    assert_eq!(
        caller_arn(&w.env, "admin"),
        "arn:aws:sts::210987654321:assumed-role/Admin/moto"
    );
    let vars = injected(&w.env, "admin");
    assert_eq!(w.proxy.count("AssumeRole"), 1, "{:?}", w.proxy.actions());
    assert!(vars["AWS_ACCESS_KEY_ID"] != BASE_KEY);
    assert!(
        vars.contains_key("AWS_SESSION_TOKEN") && vars.contains_key("AWS_CREDENTIAL_EXPIRATION")
    );

    // Cached, listed without secrets, and nowhere in plaintext.
    let list = cache_list(&w.env);
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["profile"], "admin");
    assert_eq!(list[0]["role_arn"], "arn:aws:iam::210987654321:role/Admin");
    assert_eq!(list[0]["fresh"], true);
    let listing = w.env.ok(&["cache", "list"]);
    assert!(
        listing.contains("admin") && listing.contains("role/Admin"),
        "{listing}"
    );
    let on_disk = all_bytes(&w.env.home);
    for secret in [&vars["AWS_SECRET_ACCESS_KEY"], &vars["AWS_SESSION_TOKEN"]] {
        assert!(
            !contains(&on_disk, secret),
            "a temporary secret is on disk in plaintext"
        );
        assert!(!listing.contains(secret.as_str()));
    }

    // `inspect` shows the session with its expiry, never a secret.
    let inspect: serde_json::Value =
        serde_json::from_str(&w.env.ok(&["inspect", "--json"])).unwrap();
    assert_eq!(
        inspect["sessions"][0]["role_arn"],
        "arn:aws:iam::210987654321:role/Admin"
    );
    assert!(
        inspect["sessions"][0]["expiration"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert!(
        !inspect
            .to_string()
            .contains(vars["AWS_SESSION_TOKEN"].as_str())
    );

    // Flushed: the next command asks STS again.
    w.env.ok(&["cache", "clear"]);
    assert!(cache_list(&w.env).is_empty());
    injected(&w.env, "admin");
    assert_eq!(w.proxy.count("AssumeRole"), 2);
}

#[test]
fn two_level_chain_returns_the_top_role() {
    let w = world(None, false);
    assert_eq!(
        caller_arn(&w.env, "top"),
        "arn:aws:sts::333333333333:assumed-role/Top/top-session"
    );
    let ar: Vec<_> = w
        .proxy
        .requests()
        .into_iter()
        .filter(|r| r.action == "AssumeRole")
        .collect();
    let arns: Vec<_> = ar.iter().map(|r| r.params["RoleArn"].as_str()).collect();
    assert_eq!(
        arns,
        [
            "arn:aws:iam::210987654321:role/Admin",
            "arn:aws:iam::333333333333:role/Top"
        ]
    );
    assert_eq!(ar[0].signer, BASE_KEY);
    assert_ne!(
        ar[1].signer, BASE_KEY,
        "the top role is signed by the Admin role's session"
    );
    assert!(ar[1].signer.starts_with("ASIA"), "{}", ar[1].signer);
}

/// The codes RFC 6238's SHA1 seed gives at the step of `t` and the one before (a request may
/// straddle a step boundary).
fn expected_codes(t: u64) -> [String; 2] {
    let totp = op_aws::sts::totp::parse(TOTP_SECRET).unwrap();
    [
        op_aws::sts::totp::code_at(&totp, t),
        op_aws::sts::totp::code_at(&totp, t - 30),
    ]
}

#[test]
fn mfa_sends_serial_and_current_code_once_then_roles_without_code() {
    let w = world(None, true);
    assert_eq!(
        caller_arn(&w.env, "mfaadmin"),
        "arn:aws:sts::210987654321:assumed-role/MfaAdmin/moto"
    );
    let reqs: Vec<_> = w
        .proxy
        .requests()
        .into_iter()
        .filter(|r| r.action != "GetCallerIdentity")
        .collect();
    let actions: Vec<_> = reqs.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(
        actions,
        ["GetSessionToken", "AssumeRole"],
        "GetSessionToken once, at the bottom"
    );
    let gst = &reqs[0];
    assert_eq!(gst.params["SerialNumber"], SERIAL);
    assert!(
        expected_codes(gst.at).contains(&gst.params["TokenCode"]),
        "{:?}",
        gst.params
    );
    assert_eq!(gst.signer, BASE_KEY);
    let ar = &reqs[1];
    assert_eq!(
        ar.signer, MOTO_SESSION_KEY,
        "the role is signed by the MFA session"
    );
    assert!(!ar.params.contains_key("TokenCode") && !ar.params.contains_key("SerialNumber"));
    assert_eq!(ar.params["ExternalId"], "ext-42");

    // The MFA-only profile needs its own session: a code is never sent twice, so it waits for
    // the next step, and its duration_seconds reaches the request.
    let first_code = gst.params["TokenCode"].clone();
    let out = w
        .env
        .run(&["run", "--profile", "mfa", "--", "sh", "-c", ":"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let gsts: Vec<_> = w
        .proxy
        .requests()
        .into_iter()
        .filter(|r| r.action == "GetSessionToken")
        .collect();
    assert_eq!(gsts.len(), 2);
    assert_ne!(
        gsts[1].params["TokenCode"], first_code,
        "the same code was sent twice"
    );
    assert!(expected_codes(gsts[1].at).contains(&gsts[1].params["TokenCode"]));
    assert_eq!(gsts[1].params["DurationSeconds"], "900");

    // The MFA session under the role is cached too: another role on it needs no new code.
    let kinds: Vec<_> = cache_list(&w.env)
        .iter()
        .map(|m| m["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| *k == "mfa-session").count(),
        2,
        "{kinds:?}"
    );
}

#[test]
fn an_expired_entry_is_refreshed() {
    let w = world(None, false);
    let first = injected(&w.env, "admin")["AWS_ACCESS_KEY_ID"].clone();
    assert_eq!(w.proxy.count("AssumeRole"), 1);
    // Age the entry: one minute left is inside the five-minute margin.
    let list = cache_list(&w.env);
    let key = list[0]["key"].as_str().unwrap();
    let meta_path = w.env.cache_dir().join(format!("sts-{key}.json"));
    let mut meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&meta_path).unwrap()).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    meta["expiration"] = (now + 60).into();
    std::fs::write(&meta_path, serde_json::to_vec(&meta).unwrap()).unwrap();
    assert_eq!(cache_list(&w.env)[0]["fresh"], false);

    let second = injected(&w.env, "admin")["AWS_ACCESS_KEY_ID"].clone();
    assert_eq!(w.proxy.count("AssumeRole"), 2, "the stale entry was used");
    assert_ne!(first, second, "moto mints a new key per AssumeRole");
    assert_eq!(cache_list(&w.env)[0]["fresh"], true);
}

#[test]
fn parallel_commands_make_one_sts_call() {
    let w = world(None, false);
    let children: Vec<_> = (0..10)
        .map(|_| {
            let mut c = w
                .env
                .op_aws(&["run", "--profile", "top", "--", "sh", "-c", ":"]);
            c.stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            c.spawn().unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    assert_eq!(
        w.proxy.count("AssumeRole"),
        2,
        "one chain of two roles: {:?}",
        w.proxy.actions()
    );
}

/// Twenty `aws --profile PROFILE sts get-caller-identity` at once through `op-aws run`: each
/// succeeds as `role`.
fn twenty_at_once(env: &TestEnv, profile: &str, role: &str) {
    let children: Vec<_> = (0..20)
        .map(|_| {
            let mut c = env.op_aws(&[
                "run",
                "--",
                "aws",
                "--profile",
                profile,
                "sts",
                "get-caller-identity",
                "--query",
                "Arn",
                "--output",
                "text",
            ]);
            c.stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            c.spawn().unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let arn = String::from_utf8_lossy(&out.stdout);
        assert!(arn.contains(&format!(":assumed-role/{role}/")), "{arn}");
    }
}

/// The broker's bar: 20 cold commands at once through a role over MFA, every one gets the
/// role, and STS sees one GetSessionToken (one TOTP code) and one AssumeRole.
#[test]
fn twenty_parallel_cold_runs_over_mfa_make_one_session_and_one_role() {
    let w = world(None, true);
    twenty_at_once(&w.env, "mfaadmin", "MfaAdmin");
    assert_eq!(
        w.proxy.count("GetSessionToken"),
        1,
        "{:?}",
        w.proxy.actions()
    );
    assert_eq!(w.proxy.count("AssumeRole"), 1, "{:?}", w.proxy.actions());
}

/// Runs `run --profile P -- sh -c :` (a command with no arguments runs untouched) against a stub answering `code`; returns stderr.
fn failing(status: u16, code: &'static str, message: &'static str, profile: &str) -> String {
    let w = world(
        Some(Mode::Fail {
            status,
            code,
            message,
        }),
        true,
    );
    let out = run_cmd(
        w.env
            .op_aws(&["run", "--profile", profile, "--", "sh", "-c", ":"]),
        "",
    );
    assert!(!out.status.success(), "it must fail");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    let lines: Vec<_> = err.lines().collect();
    assert!(
        lines.len() <= 2
            && lines[0].starts_with("op-aws: ")
            && lines.get(1).is_none_or(|l| l.starts_with("hint: ")),
        "one line and a hint:\n{err}"
    );
    assert!(lines[0].contains(&format!("{code}: {message}")), "{err}");
    assert!(
        !err.contains(BASE_SECRET) && !err.contains("gezd"),
        "a secret in stderr: {err}"
    );
    assert!(w.proxy.count("AssumeRole") + w.proxy.count("GetSessionToken") >= 1);
    assert!(
        cache_list(&w.env).is_empty(),
        "nothing cached after a failure"
    );
    let blobs = std::fs::read_dir(w.env.cache_dir())
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".age"))
                .count()
        })
        .unwrap_or(0);
    assert_eq!(blobs, 0);
    err
}

#[test]
fn bad_mfa_code_is_one_line_and_nothing_cached() {
    let err = failing(
        403,
        "AccessDenied",
        "MultiFactorAuthentication failed with invalid MFA one time pass code.",
        "mfaadmin",
    );
    assert!(err.contains("GetSessionToken: AccessDenied"), "{err}");
    assert!(
        err.contains("hint: ") && err.contains("One-Time Password"),
        "{err}"
    );
}

#[test]
fn expired_token_is_one_line_and_nothing_cached() {
    let err = failing(
        400,
        "ExpiredToken",
        "The security token included in the request is expired",
        "admin",
    );
    assert!(err.contains("AssumeRole: ExpiredToken"), "{err}");
    assert!(err.contains("op-aws cache clear"), "{err}");
}

#[test]
fn invalid_key_is_one_line_and_nothing_cached() {
    let err = failing(
        403,
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
        "top",
    );
    assert!(err.contains("AssumeRole: InvalidClientTokenId"), "{err}");
    assert!(err.contains("Access Key ID"), "{err}");
}

#[test]
fn config_mistakes_fail_before_any_call() {
    let w = world(
        Some(Mode::Fail {
            status: 500,
            code: "InternalFailure",
            message: "must not be called",
        }),
        false,
    );
    w.env.write(
        ".aws/config",
        "[profile base]\nop_aws_item = acme\n\
         [profile a]\nrole_arn = arn:aws:iam::1:role/A\nsource_profile = base\n\
         [profile long]\nrole_arn = arn:aws:iam::1:role/B\nsource_profile = a\nduration_seconds = 7200\n\
         [profile loop1]\nrole_arn = arn:aws:iam::1:role/A\nsource_profile = loop2\nop_aws_item = acme\n\
         [profile loop2]\nrole_arn = arn:aws:iam::1:role/A\nsource_profile = loop1\n\
         [profile noterm]\nop_aws_item = acme\nmfa_serial = arn:aws:iam::1:mfa/x\n",
    );
    for (profile, want) in [
        ("long", "3600"),
        ("loop1", "loop"),
        ("noterm", "no terminal"),
    ] {
        let out = w
            .env
            .run(&["run", "--profile", profile, "--", "sh", "-c", ":"]);
        assert!(!out.status.success(), "{profile}");
        let err = stderr(&out);
        assert!(
            err.lines().next().unwrap().contains(want),
            "{profile}: {err}"
        );
    }
    assert!(w.proxy.requests().is_empty(), "{:?}", w.proxy.actions());
}

/// 1Password-only users have no local vault key: sessions live in the agent's memory, nothing
/// secret touches the cache directory, and `lock` forgets them.
#[test]
fn without_a_local_vault_sessions_stay_in_the_agent() {
    let moto = Moto::start();
    let proxy = StsServer::start(Mode::Forward(moto.port));
    let mut env = TestEnv::new();
    let bin = env.root.path().join("op-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let fake_op = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/fake-op");
    std::os::unix::fs::symlink(fake_op, bin.join("op")).unwrap();
    env.set(
        "PATH",
        format!("{}:{}", bin.display(), crate::support::tools_path()),
    );
    env.set("AWS_ENDPOINT_URL", moto.url());
    env.set("AWS_ENDPOINT_URL_STS", proxy.url());
    env.set("AWS_DEFAULT_REGION", "us-east-1");
    env.write("cfg/config.toml", "store = \"1password\"\n");
    let item = serde_json::json!([{
        "id": "i1", "title": "acme", "version": 1,
        "vault": {"id": "v-work", "name": "Work"}, "category": "API_CREDENTIAL",
        "fields": [
            {"id": "f1", "type": "STRING", "label": "Access Key ID", "value": BASE_KEY},
            {"id": "f2", "type": "CONCEALED", "label": "Secret Access Key", "value": BASE_SECRET},
        ],
    }]);
    env.write(".fake-op/items.json", &item.to_string());
    env.write(
        ".aws/config",
        "[profile base]\nop_aws_item = op://Work/acme\n\n\
         [profile admin]\nrole_arn = arn:aws:iam::210987654321:role/Admin\nsource_profile = base\n",
    );
    env.ok(&["unlock"]);
    let first = injected(&env, "admin");
    let second = injected(&env, "admin");
    assert_eq!(
        proxy.count("AssumeRole"),
        1,
        "the agent served the second command"
    );
    assert_eq!(first["AWS_SESSION_TOKEN"], second["AWS_SESSION_TOKEN"]);
    let list = cache_list(&env);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["store"], "agent");
    let on_disk = all_bytes(&env.home);
    assert!(!contains(&on_disk, &first["AWS_SECRET_ACCESS_KEY"]));
    assert!(!contains(&on_disk, &first["AWS_SESSION_TOKEN"]));
    // Locked: the agent and its sessions are gone; the next command asks STS again.
    env.ok(&["lock"]);
    injected(&env, "admin");
    assert_eq!(proxy.count("AssumeRole"), 2);
}

/// No TOTP secret in the item, but a terminal: the code is asked for and sent as typed.
#[test]
fn without_a_secret_the_code_is_asked_on_the_terminal() {
    use std::io::Write;
    let w = world(None, false);
    // `script` gives op-aws a pseudo-terminal; what we write to it is what the user types.
    let mut c = w.env.command("script");
    c.args([
        "-qec",
        "op-aws run --profile mfa -- sh -c 'echo KEY=$AWS_ACCESS_KEY_ID'",
        "/dev/null",
    ]);
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"314159\n").unwrap();
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    assert!(
        text.contains("MFA code for arn:aws:iam::123456789012:mfa/alice"),
        "{text}"
    );
    assert!(text.contains(&format!("KEY={MOTO_SESSION_KEY}")), "{text}");
    let gst: Vec<_> = w
        .proxy
        .requests()
        .into_iter()
        .filter(|r| r.action == "GetSessionToken")
        .collect();
    assert_eq!(gst.len(), 1);
    assert_eq!(gst[0].params["TokenCode"], "314159");
    assert_eq!(gst[0].params["SerialNumber"], SERIAL);
}

/// A request that carries an MFA code is sent once: STS answering 500 gets no retry (the SDK's
/// would send the same code again, and AWS accepts a code once).
#[test]
fn a_request_with_an_mfa_code_is_never_retried() {
    let w = world(
        Some(Mode::Fail {
            status: 500,
            code: "InternalFailure",
            message: "try again",
        }),
        true,
    );
    let o = w.env.run(&["run", "--profile", "mfa", "--", "true"]);
    assert!(!o.status.success());
    assert_eq!(
        w.proxy.count("GetSessionToken"),
        1,
        "{:?}",
        w.proxy.actions()
    );
}

/// A loopback STS endpoint is trusted with a code and the item's signature only when the
/// socket listening there is the user's own: another user's listener on 127.0.0.1 receives
/// nothing (unless `trusted_endpoints` names it).
#[test]
fn another_users_loopback_listener_receives_no_request() {
    use std::io::{BufRead, BufReader, Read};
    use std::os::unix::process::CommandExt;
    if !nix::unistd::geteuid().is_root() || !std::path::Path::new("/usr/bin/python3").exists() {
        println!("skipped: needs root and /usr/bin/python3 (to listen as another user)");
        return;
    }
    let mut listener = std::process::Command::new("/usr/bin/python3")
        .args([
            "-c",
            "import socket\n\
             s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(16)\n\
             print(s.getsockname()[1], flush=True)\n\
             while True:\n    c,_=s.accept(); print('connected', flush=True); c.close()\n",
        ])
        .uid(65534)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(listener.stdout.take().unwrap());
    let mut port = String::new();
    out.read_line(&mut port).unwrap();
    let url = format!("http://127.0.0.1:{}", port.trim());
    let mut w = world(Some(Mode::Issue { secs: 3600 }), true);
    w.env.set("AWS_ENDPOINT_URL_STS", &url);
    let o = w.env.run(&["run", "--profile", "mfa", "--", "true"]);
    let e = crate::support::stderr(&o);
    let _ = listener.kill();
    let _ = listener.wait();
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    assert!(!o.status.success(), "{e}");
    assert!(e.contains(&url), "the error names the endpoint: {e}");
    assert!(
        !rest.contains("connected"),
        "the other user's listener was asked"
    );
    assert_eq!(w.proxy.count("GetSessionToken"), 0);
}

/// A silent STS (it accepts connections and never answers): parallel commands that need the
/// same session share the one call's outcome instead of each waiting out its own timeout in
/// turn. Counted at the listener: the connections of one call, not one call per command.
#[test]
fn commands_waiting_on_a_silent_sts_share_its_outcome() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let (seen, done) = (Arc::clone(&accepted), Arc::clone(&stop));
    let hole = std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming() {
            if done.load(Ordering::SeqCst) {
                break;
            }
            seen.fetch_add(1, Ordering::SeqCst);
            held.push(conn);
        }
    });
    let mut w = world(Some(Mode::Issue { secs: 3600 }), false);
    w.env
        .set("AWS_ENDPOINT_URL_STS", format!("http://127.0.0.1:{port}"));
    w.env.write(
        ".aws/config",
        "[profile base]\nop_aws_item = acme\n\
         [profile slow]\nrole_arn = arn:aws:iam::123456789012:role/Slow\nsource_profile = base\nrole_session_name = slow\n",
    );
    const RUNS: usize = 6;
    let failed: Vec<String> = std::thread::scope(|s| {
        let runs: Vec<_> = (0..RUNS)
            .map(|_| s.spawn(|| w.env.run(&["run", "--profile", "slow", "--", "true"])))
            .collect();
        runs.into_iter()
            .map(|r| r.join().unwrap())
            .filter(|o| !o.status.success())
            .map(|o| stderr(&o))
            .collect()
    });
    stop.store(true, Ordering::SeqCst);
    let _ = std::net::TcpStream::connect(("127.0.0.1", port));
    hole.join().unwrap();
    assert_eq!(failed.len(), RUNS, "{failed:?}");
    assert!(
        failed.iter().all(|e| e.contains("cannot reach STS")),
        "{failed:?}"
    );
    let n = accepted.load(Ordering::SeqCst);
    assert!(
        n <= 2,
        "{n} connections for {RUNS} commands: each asked STS itself"
    );
}

/// `op_aws_mfa = ykman` on the MFA profile, a role above it, and a fake `ykman` first on PATH
/// that prints `code` (and logs each run).
fn yubikey_world(code: &str, fail: bool) -> (World, std::path::PathBuf) {
    let mut w = world(None, false);
    let bin = w.env.home.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let fake = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/fake-ykman");
    std::os::unix::fs::symlink(fake, bin.join("ykman")).unwrap();
    let log = w.env.home.join("ykman.log");
    w.env.set(
        "PATH",
        format!("{}:{}", bin.display(), crate::support::tools_path()),
    );
    w.env.set("FAKE_YKMAN_LOG", log.display().to_string());
    w.env.set("FAKE_YKMAN_CODE", code);
    if fail {
        w.env.set("FAKE_YKMAN_FAIL", "1");
    }
    w.env.write(
        ".aws/config",
        &format!(
            "{CONFIG}\n[profile yk]\nop_aws_item = acme\nmfa_serial = {SERIAL}\nop_aws_mfa = ykman\n\n\
             [profile ykadmin]\nrole_arn = arn:aws:iam::210987654321:role/YkAdmin\nsource_profile = yk\n"
        ),
    );
    (w, log)
}

/// Twenty commands that need an MFA session at once: the key is asked (touched) once, its code
/// goes to the one GetSessionToken, and the item holds no TOTP seed at all.
#[test]
fn a_yubikey_code_signs_one_session_for_twenty_commands() {
    let (w, log) = yubikey_world("246810", false);
    twenty_at_once(&w.env, "ykadmin", "YkAdmin");
    let gsts: Vec<_> = w
        .proxy
        .requests()
        .into_iter()
        .filter(|r| r.action == "GetSessionToken")
        .collect();
    assert_eq!(gsts.len(), 1, "{:?}", w.proxy.actions());
    assert_eq!(gsts[0].params["SerialNumber"], SERIAL);
    assert_eq!(gsts[0].params["TokenCode"], "246810");
    assert_eq!(w.proxy.count("AssumeRole"), 1, "{:?}", w.proxy.actions());
    let runs = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        runs.lines().collect::<Vec<_>>(),
        [format!("oath accounts code --single {SERIAL}")],
        "one touch, for the account named after the device"
    );
}

#[test]
fn a_missing_yubikey_is_one_line_and_nothing_is_asked_or_cached() {
    let (w, log) = yubikey_world("246810", true);
    let out = w.env.run(&["run", "--profile", "yk", "--", "true"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0].starts_with("op-aws: ")
            && lines[0].contains("mfa_process")
            && lines[0].contains("No YubiKey detected!"),
        "{err}"
    );
    assert!(
        lines[1].starts_with("hint: ") && lines[1].contains("mfa_process"),
        "{err}"
    );
    assert_eq!(
        w.proxy.count("GetSessionToken"),
        0,
        "{:?}",
        w.proxy.actions()
    );
    assert!(cache_list(&w.env).is_empty());
    assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 1);
}

/// Without a terminal, "touch your YubiKey" is shown in the pinentry (and goes when the code
/// came); the code still comes from the key.
#[test]
fn without_a_terminal_the_touch_is_asked_in_pinentry() {
    let (mut w, _log) = yubikey_world("135790", false);
    let pinentry =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/fake-pinentry");
    let plog = w.env.home.join("pinentry.log");
    let answers = w.env.write("pinentry-answers", "");
    w.env.set("PINENTRY_LOG", plog.display().to_string());
    w.env.set("PINENTRY_ANSWERS", answers.display().to_string());
    let cfg = w.env.config_dir().join("config.toml");
    let mut text = std::fs::read_to_string(&cfg).unwrap_or_default();
    text.push_str(&format!(
        "pinentry_program = {:?}\n",
        pinentry.display().to_string()
    ));
    w.env.write("cfg/config.toml", &text);
    let out = w.env.run(&["run", "--profile", "yk", "--", "true"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = std::fs::read_to_string(&plog).unwrap_or_else(|e| {
        panic!(
            "no pinentry ran ({e}): {}; config: {}",
            stderr(&out),
            std::fs::read_to_string(&cfg).unwrap()
        )
    });
    assert!(
        shown.contains("SETDESC op-aws: touch your YubiKey"),
        "{shown}"
    );
    assert!(shown.contains("CONFIRM --one-button"), "{shown}");
    let gsts: Vec<_> = w
        .proxy
        .requests()
        .into_iter()
        .filter(|r| r.action == "GetSessionToken")
        .collect();
    assert_eq!(gsts[0].params["TokenCode"], "135790");
}
