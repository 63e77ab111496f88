//! IAM Identity Center: `op-aws sso login` against a local OIDC and portal stub (a
//! BROWSER script approves the device code by visiting its URL), tokens only encrypted, one
//! refresh or sign-in for 20 parallel commands, `sso populate` byte-exact outside its block,
//! and the real aws CLI (against moto) through the wrapper with op-aws's credentials.

use std::os::unix::fs::PermissionsExt;
use std::process::Output;

use crate::support::sso_server::SsoServer;
use crate::support::{Moto, TestEnv, ok, require, run_cmd, stderr, use_moto};

const CONFIG: &str = "\
# team settings; keep this comment
[default]
region = eu-west-1

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access

[profile dev]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = Developer
region = us-east-1

[profile admin]
role_arn = arn:aws:iam::222222222222:role/Admin
source_profile = dev
role_session_name = via-sso
";

struct World {
    env: TestEnv,
    sso: SsoServer,
    arn: String,
    _moto: Moto,
}

/// A vault, moto for STS, the SSO stub with one account whose Developer role hands out a moto
/// IAM user's keys, and a BROWSER that approves what it is given.
fn world() -> World {
    let moto = Moto::start();
    let sso = SsoServer::start();
    let mut env = TestEnv::new();
    use_moto(&mut env, &moto);
    env.set("AWS_ENDPOINT_URL_SSO", sso.url());
    env.set("AWS_ENDPOINT_URL_SSO_OIDC", sso.url());
    env.vault();
    let (arn, key, secret) = moto.iam_user("sso-dev");
    sso.with(|s| {
        s.accounts.insert(
            "111111111111".into(),
            (
                "Dev Account".into(),
                vec!["Developer".into(), "ReadOnly".into()],
            ),
        );
        s.accounts
            .insert("333333333333".into(), ("prod".into(), vec!["Admin".into()]));
        s.role_keys
            .insert(("111111111111".into(), "Developer".into()), (key, secret));
    });
    env.write(".aws/config", CONFIG);
    let browser = env.write(
        "bin/browser",
        "#!/bin/sh\nexec python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1]).read()' \"$1\"\n",
    );
    std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).unwrap();
    env.set("BROWSER", browser.display().to_string());
    World {
        env,
        sso,
        arn,
        _moto: moto,
    }
}

fn login(w: &World) -> Output {
    w.env.run(&["sso", "login", "--sso-session", "corp"])
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn arn_of(w: &World, profile: &str) -> Output {
    crate::support::run_cmd(w.env.arn_command(profile), "")
}

#[test]
fn login_keeps_the_tokens_encrypted_and_status_shows_none() {
    let w = world();
    let o = login(&w);
    assert!(o.status.success(), "{}", stderr(&o));
    let said = stderr(&o);
    // The authorization code with PKCE: one page, back to op-aws on 127.0.0.1.
    assert!(said.contains("in the browser"), "{said}");
    assert_eq!(w.sso.count("Visit"), 1, "the browser was opened once");
    assert_eq!(w.sso.count("Authorize"), 1);
    assert_eq!(w.sso.count("CreateToken(code)"), 1, "{said}");
    assert_eq!(w.sso.count("CreateToken(code refused)"), 0);
    assert_eq!(w.sso.count("StartDeviceAuthorization"), 0, "no device code");

    let tokens = w.sso.with(|s| s.issued.clone());
    assert_eq!(tokens.len(), 2, "one access and one refresh token");
    let mut files = Vec::new();
    crate::support::all_files(w.env.root.path(), &mut files);
    for (path, bytes) in &files {
        for t in &tokens {
            assert!(!contains(bytes, t), "{path} holds a token");
        }
    }
    assert!(
        !w.env.home.join(".aws/sso").exists(),
        "nothing in ~/.aws/sso/cache"
    );

    let status = w.env.ok(&["sso", "status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(v[0]["session"], "corp");
    assert_eq!(v[0]["can_refresh"], true);
    let mut inspect = w.env.op_aws(&["inspect", "--json"]);
    inspect.env("AWS_PROFILE", "dev");
    let inspected = ok(run_cmd(inspect, ""), &["inspect"]);
    assert!(
        inspected.contains("\"sso_session\": \"corp\""),
        "{inspected}"
    );
    let text = w.env.ok(&["sso", "status"]) + &inspected;
    for t in &tokens {
        assert!(
            !text.contains(t.as_str()),
            "status or inspect showed a token"
        );
    }

    // Role credentials through op-aws now, and the role above the SSO profile.
    let out = ok(arn_of(&w, "dev"), &["run dev"]);
    assert_eq!(out.trim(), w.arn);
    let admin = ok(arn_of(&w, "admin"), &["run admin"]);
    assert!(admin.contains(":assumed-role/Admin/via-sso"), "{admin}");
    assert_eq!(
        w.sso.count("GetRoleCredentials"),
        1,
        "cached for the second profile"
    );

    // Logout: the token is gone, the profile is handed to the tool again.
    w.env.ok(&["sso", "logout", "--sso-session", "corp"]);
    assert_eq!(w.sso.count("Logout"), 1);
    let env_out = w.env.ok(&[
        "run",
        "--profile",
        "dev",
        "--",
        "sh",
        "-c",
        "echo \"$AWS_PROFILE:${AWS_ACCESS_KEY_ID:-none}\"",
    ]);
    assert_eq!(env_out.trim(), "dev:none");
}

#[test]
fn twenty_parallel_runs_after_expiry_refresh_once() {
    let w = world();
    // Tokens that are as good as expired (inside the refresh margin) from the start.
    w.sso.with(|s| s.token_secs = 60);
    assert!(login(&w).status.success());
    w.sso.with(|s| s.token_secs = 3600);
    parallel_runs(&w, 20);
    assert_eq!(
        w.sso.count("CreateToken(refresh)"),
        1,
        "one refresh for twenty"
    );
    assert_eq!(w.sso.count("GetRoleCredentials"), 1);
    assert_eq!(w.sso.count("Visit"), 1, "no second sign-in");
}

#[test]
fn twenty_parallel_runs_sign_in_once_when_refresh_is_impossible() {
    let w = world();
    w.sso.with(|s| s.token_secs = 60);
    assert!(login(&w).status.success());
    w.sso.with(|s| {
        s.token_secs = 3600;
        s.refuse_refresh = true;
    });
    parallel_runs(&w, 20);
    assert_eq!(w.sso.count("CreateToken(refresh)"), 1, "tried once");
    assert_eq!(w.sso.count("Authorize"), 2, "login, then one sign-in");
    assert_eq!(w.sso.count("Visit"), 2, "one browser tab per expiry");
    assert_eq!(w.sso.count("GetRoleCredentials"), 1);
}

fn parallel_runs(w: &World, n: usize) {
    let children: Vec<_> = (0..n)
        .map(|_| {
            w.env
                .arn_command("dev")
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), w.arn);
    }
}

#[test]
fn populate_writes_one_block_and_nothing_else() {
    let w = world();
    assert!(login(&w).status.success());
    // The config is a symbolic link into dotfiles, mode 0640.
    let real = w.env.write(
        "dotfiles/aws-config",
        &format!("{CONFIG}\n[profile mine]\nregion = ap-south-1 ; my own\n"),
    );
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
    let link = w.env.home.join(".aws/config");
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let before = std::fs::read_to_string(&real).unwrap();

    let diff = w
        .env
        .ok(&["sso", "populate", "--sso-session", "corp", "--dry-run"]);
    assert!(
        diff.contains("+[profile corp-Dev-Account.Developer]"),
        "{diff}"
    );
    assert_eq!(
        std::fs::read_to_string(&real).unwrap(),
        before,
        "--dry-run writes nothing"
    );

    w.env.ok(&["sso", "populate", "--sso-session", "corp"]);
    let after = std::fs::read_to_string(&real).unwrap();
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        std::fs::metadata(&real).unwrap().permissions().mode() & 0o777,
        0o640
    );
    assert!(
        after.starts_with(&before),
        "every byte before the block is kept"
    );
    let block = &after[before.len()..];
    for p in [
        "corp-Dev-Account.Developer",
        "corp-Dev-Account.ReadOnly",
        "corp-prod.Admin",
    ] {
        assert!(block.contains(&format!("[profile {p}]")), "{block}");
    }
    // A generated profile is one op-aws serves (the session's token is held).
    let key = w.env.ok(&[
        "run",
        "--profile",
        "corp-Dev-Account.Developer",
        "--",
        "sh",
        "-c",
        "echo $AWS_ACCESS_KEY_ID",
    ]);
    assert!(key.trim().starts_with("AKIA"), "{key}");

    // A role taken away: a second run drops exactly that profile, and keeps what follows.
    let tail = "\n# added later by hand\n[profile later]\nregion = us-west-2\n";
    std::fs::write(&real, format!("{after}{tail}")).unwrap();
    w.sso.with(|s| {
        s.accounts
            .get_mut("111111111111")
            .unwrap()
            .1
            .retain(|r| r != "ReadOnly")
    });
    w.env.ok(&["sso", "populate", "--sso-session", "corp"]);
    let again = std::fs::read_to_string(&real).unwrap();
    let expected = format!("{after}{tail}").replace(
        "[profile corp-Dev-Account.ReadOnly]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = ReadOnly\nregion = us-east-1\n\n",
        "",
    );
    assert_eq!(again, expected);
    // Up to date: nothing written.
    let o = w.env.run(&["sso", "populate", "--sso-session", "corp"]);
    assert!(stderr(&o).contains("up to date"), "{}", stderr(&o));
}

#[test]
fn the_real_aws_cli_runs_an_sso_profile_through_the_wrapper() {
    let w = world();
    assert!(login(&w).status.success());
    let script = "eval \"$(op-aws activate bash)\"\naws --profile dev sts get-caller-identity --output text --query Arn\n";
    let mut c = w.env.command(require("bash"));
    c.args(["--noprofile", "--norc", "-euo", "pipefail", "-c", script]);
    let arn = ok(run_cmd(c, ""), &["bash aws --profile dev"]);
    assert_eq!(arn.trim(), w.arn);
    // credential_process serves it too.
    let json = w.env.ok(&["credential-process", "--profile", "dev"]);
    assert!(json.contains("\"SessionToken\""), "{json}");
}

#[test]
fn without_a_terminal_or_browser_an_expired_session_says_to_sign_in() {
    let mut w = world();
    w.sso.with(|s| s.token_secs = 60);
    assert!(login(&w).status.success());
    w.sso.with(|s| s.refuse_refresh = true);
    w.env.extra_env.retain(|(k, _)| k != "BROWSER");
    let o = arn_of(&w, "dev");
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("SSO session \"corp\" needs a sign-in")
            && e.contains("hint: run `op-aws sso login --sso-session corp`"),
        "{e}"
    );
}

/// recipient.txt swapped for an attacker's: a refresh (vault unlocked) is refused before any
/// token is written; a sign-in with the vault locked keeps the tokens in the agent alone. No
/// file opens with the attacker's key.
#[test]
fn a_swapped_recipient_receives_no_sso_token() {
    let w = world();
    // Tokens as good as expired from the start: the next use refreshes them.
    w.sso.with(|s| s.token_secs = 60);
    assert!(login(&w).status.success());
    w.sso.with(|s| s.token_secs = 3600);
    let attacker = age::x25519::Identity::generate();
    std::fs::write(
        w.env.data_dir().join("recipient.txt"),
        format!("{}\n", attacker.to_public()),
    )
    .unwrap();
    let o = arn_of(&w, "dev");
    let e = stderr(&o);
    assert!(
        !o.status.success(),
        "refreshed over a swapped recipient: {e}"
    );
    assert!(e.contains("recipient.txt"), "{e}");
    // Swapped while locked: the sign-in is kept by the agent alone, and serves.
    let locked = world();
    locked.env.ok(&["lock"]);
    std::fs::write(
        locked.env.data_dir().join("recipient.txt"),
        format!("{}\n", attacker.to_public()),
    )
    .unwrap();
    let o = login(&locked);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = ok(arn_of(&locked, "dev"), &["run dev"]);
    assert_eq!(out.trim(), locked.arn);
    for w in [&w, &locked] {
        let mut files = Vec::new();
        crate::support::all_files(w.env.root.path(), &mut files);
        for (path, bytes) in &files {
            assert!(
                age::decrypt(&attacker, bytes).is_err(),
                "{path} opens with the attacker's key"
            );
        }
    }
}

/// The device flow where the browser cannot come back to 127.0.0.1: asked for
/// (`--use-device-code`), or a shell over SSH.
#[test]
fn the_device_flow_when_asked_or_over_ssh() {
    let mut w = world();
    let o = w
        .env
        .run(&["sso", "login", "--sso-session", "corp", "--use-device-code"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("check that it shows the code WXYZ-"));
    assert_eq!(w.sso.count("StartDeviceAuthorization"), 1);
    assert_eq!(w.sso.count("Authorize"), 0);
    w.env.set("SSH_CONNECTION", "10.0.0.1 50000 10.0.0.2 22");
    let o = login(&w);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(w.sso.count("StartDeviceAuthorization"), 2, "over SSH");
    assert_eq!(w.sso.count("Authorize"), 0);
    let out = ok(arn_of(&w, "dev"), &["run dev"]);
    assert_eq!(out.trim(), w.arn);
}

/// The stub holds the service's PKCE rule: a code is exchanged only with the verifier whose
/// S256 challenge it was issued for, once.
#[test]
fn the_stub_refuses_a_wrong_verifier() {
    let sso = SsoServer::start();
    let py = format!(
        r#"
import json, urllib.request, urllib.error, base64, hashlib, urllib.parse
u = "{u}"
def post(path, body):
    r = urllib.request.Request(u + path, data=json.dumps(body).encode(), headers={{"content-type": "application/json"}})
    try:
        return json.loads(urllib.request.urlopen(r).read())
    except urllib.error.HTTPError as e:
        return {{"status": e.code}}
cb = "http://127.0.0.1:9/oauth/callback"
c = post("/client/register", {{"clientName": "t", "clientType": "public", "redirectUris": [cb], "grantTypes": ["authorization_code"]}})
v = "a" * 43
ch = base64.urlsafe_b64encode(hashlib.sha256(v.encode()).digest()).rstrip(b"=").decode()
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a): return None
q = urllib.parse.urlencode({{"response_type": "code", "client_id": c["clientId"], "redirect_uri": cb, "state": "s", "code_challenge_method": "S256", "code_challenge": ch}})
def code():
    try:
        urllib.request.build_opener(NoRedirect).open(u + "/authorize?" + q)
    except urllib.error.HTTPError as e:
        return urllib.parse.parse_qs(urllib.parse.urlparse(e.headers["location"]).query)["code"][0]
t = lambda code, verifier: post("/token", {{"clientId": c["clientId"], "clientSecret": c["clientSecret"], "grantType": "authorization_code", "code": code, "codeVerifier": verifier, "redirectUri": cb}})
one, two = code(), code()
print(json.dumps([t(one, "b" * 43), t(two, v), t(two, v)]))
"#,
        u = sso.url()
    );
    let out = std::process::Command::new(crate::support::require("python3"))
        .arg("-c")
        .arg(py)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["status"], 400, "a wrong verifier: {v}");
    assert!(v[1]["accessToken"].is_string(), "the right one: {v}");
    assert_eq!(v[2]["status"], 400, "a code is good once: {v}");
}
