//! `aws login` sessions (AWS Sign-In) kept by op-aws: `op-aws signin` against a local Sign-In
//! stub (a BROWSER script follows the redirect back to the loopback; `--remote` pastes the code
//! the page shows), `import --login` adopting the AWS CLI's cache and removing the plaintext
//! byte-exact, no token or DPoP key in any file, one refresh for 50 processes at the refresh
//! boundary with the rotated refresh token kept, and role chains on a login profile through
//! run, credential-process and the endpoint, read by the aws CLI and boto3 (against moto).

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::process::{Output, Stdio};

use crate::support::signin_server::{SigninServer, jwk_of};
use crate::support::{Moto, TestEnv, WHO_AM_I, require, stderr, use_moto};

const CONFIG: &str = "\
# mine; keep this comment
[default]
region = us-east-1

[profile login-prof]
region = us-east-1

[profile login-role]
role_arn = arn:aws:iam::123456789012:role/Dev
source_profile = login-prof
role_session_name = via-login
";

struct World {
    env: TestEnv,
    signin: SigninServer,
    user_arn: String,
    _moto: Moto,
}

/// A vault, moto with the IAM user the session stands for and a role `Dev`, the Sign-In stub
/// handing out that user's keys, and a BROWSER that follows what it is given.
fn world() -> World {
    let moto = Moto::start();
    let (user_arn, key, secret) = moto.iam_user("login-alice");
    moto.boto3(
        "iam",
        "trust=json.dumps({'Version':'2012-10-17','Statement':[{'Effect':'Allow','Principal':{'AWS':'*'},'Action':'sts:AssumeRole'}]})\n\
         c.create_role(RoleName='Dev',AssumeRolePolicyDocument=trust)",
    );
    let signin = SigninServer::start(&user_arn, (key, secret));
    let mut env = TestEnv::new();
    use_moto(&mut env, &moto);
    env.set("AWS_ENDPOINT_URL_SIGNIN", signin.url());
    env.vault();
    env.write(".aws/config", CONFIG);
    let browser = env.write(
        "bin/browser",
        "#!/bin/sh\nenv > \"$HOME/browser-env\"\nexec python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1]).read()' \"$1\"\n",
    );
    std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).unwrap();
    env.set("BROWSER", browser.display().to_string());
    World {
        env,
        signin,
        user_arn,
        _moto: moto,
    }
}

fn signin(w: &World) -> Output {
    w.env.run(&["signin", "--profile", "login-prof"])
}

fn arn_of(w: &World, profile: &str) -> Output {
    crate::support::run_cmd(w.env.arn_command(profile), "")
}

/// No issued secret and no private key in any file of the test's world.
fn no_plaintext(w: &World) {
    let mut files = Vec::new();
    crate::support::all_files(w.env.root.path(), &mut files);
    let issued = w.signin.with(|s| s.issued.clone());
    assert!(!issued.is_empty());
    for (path, bytes) in &files {
        for secret in issued.iter().map(String::as_str).chain(["PRIVATE KEY"]) {
            assert!(
                !bytes.windows(secret.len()).any(|b| b == secret.as_bytes()),
                "{secret} in {path}"
            );
        }
    }
}

#[test]
fn signin_keeps_the_session_encrypted_and_serves_the_profile() {
    let mut w = world();
    // A variable that signs op-aws in (to 1Password) never reaches the browser it opens.
    w.env.set("OP_SESSION_team", "op-session-secret");
    let o = signin(&w);
    assert!(o.status.success(), "{}", stderr(&o));
    let browser_env = std::fs::read_to_string(w.env.home.join("browser-env")).unwrap();
    assert!(browser_env.contains("BROWSER="), "{browser_env}");
    assert!(!browser_env.contains("op-session-secret"), "{browser_env}");
    assert!(stderr(&o).contains(&w.user_arn), "{}", stderr(&o));
    assert_eq!(w.signin.count("CreateOAuth2Token(code)"), 1);
    assert_eq!(w.signin.count("RefusedProof"), 0);
    // The profile now names the session; every other byte of the config is as it was.
    let config = std::fs::read_to_string(w.env.home.join(".aws/config")).unwrap();
    assert_eq!(
        config,
        CONFIG.replace(
            "[profile login-prof]\nregion = us-east-1\n",
            &format!(
                "[profile login-prof]\nregion = us-east-1\nlogin_session = {}\n",
                w.user_arn
            )
        )
    );
    let arn = arn_of(&w, "login-prof");
    assert!(arn.status.success(), "{}", stderr(&arn));
    assert_eq!(String::from_utf8_lossy(&arn.stdout).trim(), w.user_arn);
    // credential-process gives the session, with its expiry.
    let cp = w.env.ok(&["credential-process", "--profile", "login-prof"]);
    let v: serde_json::Value = serde_json::from_str(&cp).unwrap();
    assert_eq!(v["Version"], 1);
    assert!(
        v["SessionToken"]
            .as_str()
            .unwrap()
            .starts_with("signin-session-")
    );
    assert!(v["Expiration"].as_str().is_some(), "{cp}");
    no_plaintext(&w);
    // The audit names the session.
    let audit = w.env.ok(&["audit", "--json"]);
    assert!(audit.contains(&format!("login:{}", w.user_arn)), "{audit}");
    let list = w.env.ok(&["signin", "--list"]);
    assert!(
        list.starts_with(&format!("{}\tus-east-1\tcredentials for ", w.user_arn)),
        "{list}"
    );
    // Signed out: nothing of the session is left, and the profile goes back to the tool.
    let o = w
        .env
        .run(&["signin", "--logout", "--profile", "login-prof"]);
    assert!(stderr(&o).contains("signed out of"), "{}", stderr(&o));
    let left: Vec<_> = std::fs::read_dir(w.env.cache_dir())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        // The lock file stays (empty: removing it could split a waiting process's lock).
        .filter(|n| n.starts_with("signin-") && !n.ends_with(".lock"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(w.env.ok(&["signin", "--list"]), "");
    let o = w
        .env
        .run(&["credential-process", "--profile", "login-prof"]);
    assert!(!o.status.success(), "op-aws no longer serves it");
}

#[test]
fn a_role_chain_on_a_login_profile_through_run_credential_process_and_the_endpoint() {
    let w = world();
    assert!(signin(&w).status.success());
    // run, the aws CLI reading the environment.
    let o = arn_of(&w, "login-role");
    assert!(o.status.success(), "{}", stderr(&o));
    let arn = String::from_utf8_lossy(&o.stdout).trim().to_owned();
    assert!(arn.contains("assumed-role/Dev/via-login"), "{arn}");
    // credential-process, boto3 reading it from the AWS config.
    let mut cfg = std::fs::read_to_string(w.env.home.join(".aws/config")).unwrap();
    cfg.push_str(&format!(
        "\n[profile via-cp]\ncredential_process = {} credential-process --profile login-role\nregion = us-east-1\n",
        w.env.exe.display()
    ));
    w.env.write(".aws/config", &cfg);
    let py = w
        .env
        .command(require("python3"))
        .args([
            "-c",
            "import boto3; print(boto3.Session(profile_name='via-cp').client('sts').get_caller_identity()['Arn'])",
        ])
        .output()
        .unwrap();
    assert!(py.status.success(), "{}", stderr(&py));
    assert!(String::from_utf8_lossy(&py.stdout).contains("assumed-role/Dev/via-login"));
    // The loopback endpoint (`run --server`), the aws CLI reading the container provider.
    let o = w.env.run(&[
        "run", "--server", "--profile", "login-role", "--", "sh", "-c",
        "echo ${AWS_CONTAINER_CREDENTIALS_FULL_URI:+endpoint} ${AWS_ACCESS_KEY_ID:-nokey}; aws sts get-caller-identity --query Arn --output text",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.starts_with("endpoint nokey\n"), "{out}");
    assert!(out.contains("assumed-role/Dev/via-login"), "{out}");
    // The nushell plugin's `op-aws export`.
    let plugin = crate::support::bin().with_file_name("nu_plugin_op_aws");
    let nu = w
        .env
        .command(require("nu"))
        .args(["-n", "--no-std-lib", "--plugins"])
        .arg(&plugin)
        .args([
            "-c",
            "with-env (op-aws export --profile login-role) { ^aws sts get-caller-identity --output json } | from json | get Arn",
        ])
        .output()
        .unwrap();
    assert!(nu.status.success(), "{}", stderr(&nu));
    assert!(String::from_utf8_lossy(&nu.stdout).contains("assumed-role/Dev/via-login"));
    // One sign-in, no refresh: the session and the role's are cached.
    assert_eq!(w.signin.count("CreateOAuth2Token(refresh)"), 0);
}

#[test]
fn fifty_runs_at_the_refresh_boundary_refresh_once_and_keep_the_rotated_token() {
    let w = world();
    // Credentials as good as expired (inside the refresh margin) from the start, and after
    // each refresh until the stub says otherwise.
    w.signin.with(|s| s.token_secs = 60);
    assert!(signin(&w).status.success());
    // Each refresh rotates the refresh token and the stub takes each one once: two refreshes
    // in a row work only if the rotated one was kept.
    for n in 1..=2 {
        let o = w.env.run(&["run", "--profile", "login-prof", "--", "true"]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(w.signin.count("CreateOAuth2Token(refresh)"), n);
    }
    w.signin.with(|s| s.token_secs = 900);
    let children: Vec<_> = (0..50)
        .map(|_| {
            w.env
                .op_aws(&[
                    "run",
                    "--profile",
                    "login-prof",
                    "--",
                    "printenv",
                    "AWS_SESSION_TOKEN",
                ])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut tokens: Vec<String> = children
        .into_iter()
        .map(|c| {
            let o = c.wait_with_output().unwrap();
            assert!(o.status.success(), "{}", stderr(&o));
            String::from_utf8_lossy(&o.stdout).trim().to_owned()
        })
        .collect();
    assert_eq!(
        w.signin.count("CreateOAuth2Token(refresh)"),
        3,
        "one refresh for fifty"
    );
    assert_eq!(w.signin.count("Refused"), 0);
    tokens.dedup();
    assert_eq!(
        tokens.len(),
        1,
        "everyone got the one refreshed session: {tokens:?}"
    );
    assert!(tokens[0].starts_with("signin-session-"), "{tokens:?}");
}

#[test]
fn an_ended_session_says_to_sign_in_again() {
    let w = world();
    w.signin.with(|s| s.token_secs = 60);
    assert!(signin(&w).status.success());
    w.signin.with(|s| s.refuse_refresh = true);
    let o = w.env.run(&["run", "--profile", "login-prof", "--", "true"]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains("needs a sign-in"), "{e}");
    assert!(
        e.contains("hint: run `op-aws signin --profile login-prof`"),
        "{e}"
    );
    // Tried once; the spent token is not tried again.
    let o = w.env.run(&["run", "--profile", "login-prof", "--", "true"]);
    assert!(!o.status.success());
    assert_eq!(w.signin.count("CreateOAuth2Token(refresh)"), 1);
}

#[test]
fn remote_signin_reads_the_code_the_page_shows() {
    let w = world();
    let mut child = w
        .env
        .op_aws(&["signin", "--profile", "login-prof", "--remote"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let url = loop {
        let mut line = String::new();
        assert!(err.read_line(&mut line).unwrap() > 0, "no address shown");
        if let Some(u) = line.trim().strip_prefix("http://") {
            break format!("http://{u}");
        }
    };
    assert!(
        url.contains("client_id=arn%3Aaws%3Asignin%3A%3A%3Adevtools%2Fcross-device"),
        "{url}"
    );
    // The page, opened "elsewhere", shows the code.
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut s = std::net::TcpStream::connect(host).unwrap();
    write!(s, "GET /{path} HTTP/1.1\r\nhost: {host}\r\n\r\n").unwrap();
    let mut page = String::new();
    s.read_to_string(&mut page).unwrap();
    let code = page.split("\r\n\r\n").nth(1).unwrap().to_owned();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{code}").unwrap();
    drop(stdin);
    let mut rest = String::new();
    err.read_to_string(&mut rest).unwrap();
    assert!(child.wait().unwrap().success(), "{rest}");
    assert!(rest.contains(&w.user_arn), "{rest}");
    let arn = arn_of(&w, "login-prof");
    assert_eq!(String::from_utf8_lossy(&arn.stdout).trim(), w.user_arn);
}

#[test]
fn the_stub_refuses_a_wrong_verifier_and_a_forged_proof() {
    let w = world();
    // A sign-in whose token call carries the wrong verifier: the BROWSER is sent back with a
    // code, but no session comes of it.
    let url = w.signin.url();
    let py = format!(
        "import urllib.request, json, sys\n\
         req = urllib.request.Request('{url}/v1/token', data=json.dumps({{'clientId':'x','grantType':'authorization_code','code':'nope','codeVerifier':'v','redirectUri':'r'}}).encode(), headers={{'content-type':'application/json','DPoP':'a.b.c'}})\n\
         try:\n    urllib.request.urlopen(req)\nexcept urllib.error.HTTPError as e:\n    print(e.code, e.headers['x-amzn-errortype'])\n"
    );
    let o = w
        .env
        .command(require("python3"))
        .args(["-c", &py])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "400 ValidationException"
    );
    assert_eq!(w.signin.count("RefusedProof"), 1);
    // Through op-aws, the stub keeping another challenge than it was sent.
    w.signin.with(|s| s.forge_challenge = true);
    let o = signin(&w);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("invalid authorization code or verifier"),
        "{}",
        stderr(&o)
    );
    let config = std::fs::read_to_string(w.env.home.join(".aws/config")).unwrap();
    assert_eq!(config, CONFIG, "a failed sign-in changes no file");
    // A name that would break the config's sections is refused before anything happens.
    let o = w.env.run(&["signin", "--profile", "evil]\n[profile x"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("is not a name a section"),
        "{}",
        stderr(&o)
    );
    let config = std::fs::read_to_string(w.env.home.join(".aws/config")).unwrap();
    assert_eq!(config, CONFIG);
    assert_eq!(
        w.signin.count("Authorize"),
        1,
        "no second sign-in was started"
    );
}

/// An AWS CLI cache entry for `arn` whose refresh token the stub knows, bound to a new key.
fn cli_cache_entry(w: &World, refresh: &str, expires_at: &str) -> String {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).unwrap();
    let key = p256::SecretKey::from_slice(&bytes).unwrap();
    w.signin.seed(refresh, jwk_of(&key));
    let pem = key.to_sec1_pem(p256::pkcs8::LineEnding::LF).unwrap();
    serde_json::json!({
        "accessToken": {
            "accessKeyId": "ASIAOLDSESSION", "secretAccessKey": "old-secret",
            "sessionToken": "old-session-token", "accountId": "123456789012",
            "expiresAt": expires_at,
        },
        "tokenType": "aws_sigv4",
        "clientId": "arn:aws:signin:::devtools/same-device",
        "refreshToken": refresh,
        "idToken": "a.b.c",
        "dpopKey": pem.as_str(),
    })
    .to_string()
}

#[test]
fn import_login_adopts_the_cache_and_removes_only_its_file() {
    let w = world();
    let config = format!(
        "{CONFIG}\n[profile adopted]\nlogin_session = {}\nregion = us-east-1\n",
        w.user_arn
    );
    w.env.write(".aws/config", &config);
    let dir = w.env.home.join("login-cache");
    let mut env = w.env.extra_env.clone();
    env.push((
        "AWS_LOGIN_CACHE_DIRECTORY".into(),
        dir.display().to_string(),
    ));
    std::fs::create_dir_all(&dir).unwrap();
    // Expired: the first use refreshes with the adopted key and refresh token.
    let entry = cli_cache_entry(&w, "cli-refresh-token", "2020-01-01T00:00:00Z");
    use sha2::Digest;
    let name: String = sha2::Sha256::digest(w.user_arn.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let file = dir.join(format!("{name}.json"));
    std::fs::write(&file, &entry).unwrap();
    let other = dir.join("other-session.json");
    std::fs::write(&other, "{\"not\": \"ours\"}\n").unwrap();
    let run = |args: &[&str]| {
        w.env
            .op_aws(args)
            .envs(env.iter().cloned())
            .output()
            .unwrap()
    };
    let doctor = String::from_utf8_lossy(&run(&["doctor"]).stdout).into_owned();
    assert!(
        doctor.contains("1 aws login session(s) in plaintext"),
        "{doctor}"
    );
    let o = run(&["import", "--login", "--profile", "adopted"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("adopted the aws login session"),
        "{}",
        stderr(&o)
    );
    assert!(!file.exists(), "the plaintext entry is gone");
    assert_eq!(std::fs::read(&other).unwrap(), b"{\"not\": \"ours\"}\n");
    assert_eq!(
        std::fs::read_to_string(w.env.home.join(".aws/config")).unwrap(),
        config
    );
    let o = run(&[&["run", "--profile", "adopted", "--"][..], &WHO_AM_I].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), w.user_arn);
    assert_eq!(w.signin.count("CreateOAuth2Token(refresh)"), 1);
    assert_eq!(
        w.signin.count("Refused"),
        0,
        "the adopted key and token were the session's"
    );
    no_plaintext(&w);
    let doctor = String::from_utf8_lossy(&run(&["doctor"]).stdout).into_owned();
    assert!(!doctor.contains("aws login session"), "{doctor}");
    // Nothing left to adopt: said, and nothing changes.
    let o = run(&["import", "--login", "--profile", "adopted"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("no cache entry"), "{}", stderr(&o));
}

#[test]
fn an_agent_gets_a_scoped_role_on_a_login_profile_and_never_the_session_itself() {
    let w = world();
    w.env.write("cfg/config.toml", "agents = \"read-only\"\n");
    assert!(signin(&w).status.success());
    let agent = |profile: &str| {
        w.env
            .arn_command(profile)
            .env("CLAUDECODE", "1")
            .output()
            .unwrap()
    };
    // A role above the session carries the read-only session policy and names the agent.
    let o = agent("login-role");
    assert!(o.status.success(), "{}", stderr(&o));
    let arn = String::from_utf8_lossy(&o.stdout).trim().to_owned();
    assert!(
        arn.contains("assumed-role/Dev/") && arn.contains("claude"),
        "{arn}"
    );
    // The session's own credentials cannot carry a policy: refused in one line with a hint.
    let o = agent("login-prof");
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("aws login session credentials cannot carry a session policy"),
        "{e}"
    );
    assert!(e.contains("hint:"), "{e}");
    let audit: Vec<serde_json::Value> =
        serde_json::from_str(&w.env.ok(&["audit", "--json"])).unwrap();
    let login = format!("login:{}", w.user_arn);
    let released = audit
        .iter()
        .find(|e| e["outcome"] == "released" && e["class"] == "agent")
        .expect("the agent's release is audited");
    assert_eq!(released["item"], login.as_str());
    assert_eq!(released["profile"], "login-role");
    assert!(
        released["policy"]
            .as_str()
            .unwrap()
            .contains("ReadOnlyAccess"),
        "{released}"
    );
    assert!(
        audit
            .iter()
            .any(|e| e["outcome"] == "refused" && e["profile"] == "login-prof"),
        "{audit:?}"
    );
}

#[test]
fn import_login_refuses_a_linked_entry_and_removes_nothing() {
    let w = world();
    let arn = "arn:aws:iam::123456789012:user/linked";
    let config = format!("{CONFIG}\n[profile linked]\nlogin_session = {arn}\n");
    w.env.write(".aws/config", &config);
    let dir = w.env.home.join(".aws/login/cache");
    std::fs::create_dir_all(&dir).unwrap();
    let target = w.env.write(
        "elsewhere.json",
        &cli_cache_entry(&w, "r-linked", "2020-01-01T00:00:00Z"),
    );
    use sha2::Digest;
    let name: String = sha2::Sha256::digest(arn.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let link = dir.join(format!("{name}.json"));
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let o = w.env.run(&["import", "--login", "--profile", "linked"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("is a link to the plaintext"),
        "{}",
        stderr(&o)
    );
    assert!(
        link.symlink_metadata().is_ok() && target.is_file(),
        "nothing removed"
    );
    assert_eq!(w.env.ok(&["signin", "--list"]), "", "nothing adopted");
}
