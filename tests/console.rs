//! Issue 28: `op-aws login`, against a local STS (made-up sessions) and a local stand-in for
//! the console's federation endpoint in its wire format. The federation endpoint gets a
//! session, never a long-lived key; the URL carries the issuer, the destination and the token;
//! `--print` opens nothing; an unlocked agent answers with no passphrase and no terminal.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use crate::support::federation_server::{FederationServer, Mode, SIGNIN_TOKEN};
use crate::support::sts_server::{self, StsServer};
use crate::support::{TestEnv, stderr};

const KEY: &str = "AKIAACMEACMEACME0001";
const SECRET: &str = "acme-long-lived-secret";

struct Setup {
    env: TestEnv,
    sts: StsServer,
    fed: FederationServer,
    /// Where the fake browser writes each address it is asked to open.
    opened: PathBuf,
}

fn setup(mode: Mode) -> Setup {
    let mut env = TestEnv::new();
    let sts = StsServer::start(sts_server::Mode::Issue { secs: 3600 });
    let fed = FederationServer::start(mode);
    env.set("AWS_ENDPOINT_URL_STS", sts.url());
    env.write(
        "cfg/config.toml",
        &format!("federation_endpoint = \"{}\"\n", fed.url()),
    );
    env.write(
        ".aws/config",
        "[profile base]\nop_aws_item = acme\n\n\
         [profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = base\n\
         role_session_name = alice\nregion = ap-southeast-2\n",
    );
    let opened = env.home.join("opened.txt");
    // Like a browser, it follows a local page's address; it also records its own argv and the
    // page's mode.
    let browser = env.write(
        "bin/fake-browser",
        &format!(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{argv}'\n\
             case $1 in\n\
             file://*) f=${{1#file://}}; stat -c %a \"$f\" >> '{modes}'\n\
               sed -n 's/.*<a href=\"\\([^\"]*\\)\".*/\\1/p' \"$f\" | sed 's/&amp;/\\&/g' >> '{opened}' ;;\n\
             *) printf '%s\\n' \"$1\" >> '{opened}' ;;\n\
             esac\n",
            argv = env.home.join("browser-argv.txt").display(),
            modes = env.home.join("page-modes.txt").display(),
            opened = opened.display()
        ),
    );
    std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).unwrap();
    env.set("BROWSER", browser.display().to_string());
    env.vault();
    env.add_keys("acme", KEY, SECRET, Some("eu-west-1"));
    env.ok(&["use", "acme", "--global"]);
    Setup {
        env,
        sts,
        fed,
        opened,
    }
}

fn query(url: &str) -> std::collections::BTreeMap<String, String> {
    let (_, q) = url
        .split_once('?')
        .unwrap_or_else(|| panic!("no query in {url}"));
    form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}

/// No long-lived key and no secret reaches the federation endpoint: a session it is.
fn assert_sessions_only(s: &Setup) {
    let reqs = s.fed.requests();
    assert!(!reqs.is_empty(), "the federation endpoint was asked");
    for r in reqs {
        let session = r.session.expect("a session JSON");
        let id = session["sessionId"].as_str().unwrap();
        assert!(id.starts_with("ASIAISSUED"), "an issued session: {session}");
        assert_ne!(id, KEY);
        assert_ne!(session["sessionKey"].as_str().unwrap(), SECRET);
        assert!(
            !r.params
                .values()
                .any(|v| v.contains(KEY) || v.contains(SECRET))
        );
    }
}

#[test]
fn long_lived_keys_sign_in_through_a_federation_token_and_print_opens_nothing() {
    let s = setup(Mode::Issue);
    // No terminal, no passphrase on stdin: the unlocked agent answers.
    let out = s.env.run(&["login", "--print"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let url = String::from_utf8(out.stdout).unwrap();
    let url = url.trim_end();
    assert_eq!(url.lines().count(), 1, "one line: {url}");
    assert!(url.starts_with(&format!("{}?", s.fed.url())), "{url}");
    let q = query(url);
    assert_eq!(q["Action"], "login");
    assert_eq!(q["Issuer"], "op-aws");
    assert_eq!(q["SigninToken"], SIGNIN_TOKEN);
    assert_eq!(
        q["Destination"], "https://eu-west-1.console.aws.amazon.com/console/home?region=eu-west-1",
        "the item's region"
    );
    assert!(!s.opened.exists(), "--print opens nothing");

    // STS: GetFederationToken, signed with the item's key, bounded by a policy.
    let fed_calls: Vec<_> = s
        .sts
        .requests()
        .into_iter()
        .filter(|r| r.action == "GetFederationToken")
        .collect();
    assert_eq!(fed_calls.len(), 1, "{:?}", s.sts.actions());
    assert_eq!(fed_calls[0].signer, KEY);
    assert_eq!(fed_calls[0].params["Name"], "op-aws-acme");
    assert!(fed_calls[0].params["Policy"].contains("\"Allow\""));
    assert!(!s.sts.actions().iter().any(|a| a == "GetSessionToken"));

    let reqs = s.fed.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].params["Action"], "getSigninToken");
    assert!(
        !reqs[0].params.contains_key("SessionDuration"),
        "a federation token's console session is the token's own length"
    );
    assert_eq!(
        reqs[0].session.as_ref().unwrap()["sessionToken"],
        "issued-token-1"
    );
    assert_sessions_only(&s);

    // Without --print, the browser gets the address and stdout stays empty.
    let out = s
        .env
        .run(&["login", "--region", "eu-central-1", "--path", "s3/home"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        out.stdout.is_empty(),
        "nothing printed when a browser opened it"
    );
    // The browser runs on its own once started: wait for it to have written (the limit only
    // bounds a failure).
    let start = std::time::Instant::now();
    let opened = loop {
        match std::fs::read_to_string(&s.opened) {
            Ok(t) if t.ends_with('\n') => break t,
            _ => {
                assert!(
                    start.elapsed() < std::time::Duration::from_secs(30),
                    "the browser was never started"
                );
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
    };
    let q = query(opened.trim_end());
    assert_eq!(
        q["Destination"],
        "https://eu-central-1.console.aws.amazon.com/s3/home?region=eu-central-1"
    );
    assert_eq!(q["SigninToken"], SIGNIN_TOKEN);
    // Review finding 1: the token is in no argv (another user reads argv in `ps`): the browser
    // got a local page, 0600, gone once it was read.
    let argv = std::fs::read_to_string(s.env.home.join("browser-argv.txt")).unwrap();
    assert!(
        !argv.contains(SIGNIN_TOKEN) && !argv.contains("SigninToken"),
        "{argv}"
    );
    let page = argv.trim().strip_prefix("file://").expect("a local page");
    assert_eq!(
        std::fs::read_to_string(s.env.home.join("page-modes.txt"))
            .unwrap()
            .trim(),
        "600"
    );
    assert!(
        !std::path::Path::new(page).exists(),
        "the page outlived `login`"
    );
    assert!(
        stderr(&out).contains("opened the AWS console"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_role_signs_in_with_its_own_session() {
    let s = setup(Mode::Issue);
    let out = s
        .env
        .run(&["login", "--profile", "admin", "--print", "--duration", "2h"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let url = String::from_utf8(out.stdout).unwrap();
    let q = query(url.trim_end());
    assert_eq!(
        q["Destination"],
        "https://ap-southeast-2.console.aws.amazon.com/console/home?region=ap-southeast-2",
        "the profile's region"
    );
    let actions = s.sts.actions();
    assert!(actions.iter().any(|a| a == "AssumeRole"), "{actions:?}");
    assert!(
        !actions.iter().any(|a| a == "GetFederationToken"),
        "a role's session is used as it is: {actions:?}"
    );
    let reqs = s.fed.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].params["SessionDuration"], "7200");
    assert_sessions_only(&s);

    // A second sign-in uses the cached session: no new AssumeRole.
    let before = s.sts.count("AssumeRole");
    s.env.ok(&["login", "--profile", "admin", "--print"]);
    assert_eq!(s.sts.count("AssumeRole"), before, "the cached role session");
    assert_sessions_only(&s);
}

#[test]
fn no_terminal_and_no_browser_prints_the_address() {
    let mut s = setup(Mode::Issue);
    s.env.set("BROWSER", "no-such-browser");
    let out = s.env.run(&["login"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let url = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(
        query(url.trim_end())["SigninToken"] == SIGNIN_TOKEN,
        "{url}"
    );
    assert!(
        stderr(&out).contains("could not open a browser"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn federation_endpoint_errors_are_one_line_with_a_hint() {
    for (mode, says) in [
        (
            Mode::Refuse {
                status: 400,
                body: "<html><body><h1>Bad Request</h1></body></html>",
            },
            "answered 400: <html><body><h1>Bad Request</h1></body></html>",
        ),
        (
            Mode::Refuse {
                status: 500,
                body: "",
            },
            "answered 500: no reason given",
        ),
        (
            Mode::Garbage,
            "answered 200: the answer holds no SigninToken",
        ),
    ] {
        let s = setup(mode);
        let out = s.env.run(&["login", "--print"]);
        assert!(!out.status.success());
        assert!(out.stdout.is_empty(), "no address");
        let err = stderr(&out);
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 2, "{err}");
        assert!(
            lines[0].starts_with("op-aws: cannot sign in to the AWS console: the console sign-in at http://127.0.0.1:")
                && lines[0].ends_with(says),
            "{err}"
        );
        assert!(lines[1].starts_with("hint: "), "{err}");
        assert!(
            !err.contains("issued-secret")
                && !err.contains("issued-token")
                && !err.contains(SECRET),
            "no secret in the error: {err}"
        );
        assert_sessions_only(&s);
    }
}

#[test]
fn an_untrusted_federation_endpoint_gets_nothing() {
    let s = setup(Mode::Issue);
    // Refused before any request: nothing is sent anywhere (`.invalid` never resolves).
    s.env.write(
        "cfg/config.toml",
        "federation_endpoint = \"https://signin.example.invalid/federation\"\n",
    );
    let out = s.env.run(&["login", "--print"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("is not AWS's own, loopback or in trusted_endpoints")
            && err.contains("hint: if you trust it, add it to config.toml"),
        "{err}"
    );
    assert!(
        s.sts.requests().is_empty(),
        "not even STS was asked: {:?}",
        s.sts.actions()
    );
    assert!(s.fed.requests().is_empty());
}
