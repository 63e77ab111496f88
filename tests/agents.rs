//! AI coding agents: recognised by their environment or their ancestry, held to the person's
//! policy (session policies, short sessions, attribution on the wire), refused what they must
//! not have, and every release in the audit trail.

use crate::support::sts_server::{Mode, Recorded, StsServer};
use crate::support::{Moto, TestEnv, require, run_cmd, stderr};

const SECRET: &str = "agentsSecretKey0000000000000000000000001";
const RO: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";

/// A vault with item `acme` (keys for moto's IAM user `base-user`, allowed everything), a role
/// profile `admin` above it, and moto checking every signature after the setup.
struct World {
    env: TestEnv,
    proxy: StsServer,
    #[allow(dead_code)]
    moto: Moto,
    key: String,
    secret: String,
}

fn world(config_toml: &str) -> World {
    // The setup below is 6 requests; every one after them is authenticated.
    let moto = Moto::start_with(&[("INITIAL_NO_AUTH_ACTION_COUNT", "6")]);
    let out = moto.boto3(
        "iam",
        "u=c.create_user(UserName='base-user')['User']['Arn']\n\
         k=c.create_access_key(UserName='base-user')['AccessKey']\n\
         allow=json.dumps({'Version':'2012-10-17','Statement':[{'Effect':'Allow','Action':'*','Resource':'*'}]})\n\
         c.put_user_policy(UserName='base-user',PolicyName='all',PolicyDocument=allow)\n\
         trust=json.dumps({'Version':'2012-10-17','Statement':[{'Effect':'Allow','Principal':{'AWS':'*'},'Action':['sts:AssumeRole','sts:TagSession','sts:SetSourceIdentity']}]})\n\
         c.create_role(RoleName='Admin',AssumeRolePolicyDocument=trust)\n\
         c.put_role_policy(RoleName='Admin',PolicyName='all',PolicyDocument=allow)\n\
         s3=boto3.client('s3',endpoint_url=c.meta.endpoint_url,region_name='us-east-1',aws_access_key_id='test',aws_secret_access_key='test')\n\
         s3.create_bucket(Bucket='agents-bucket')\n\
         print(json.dumps([k['AccessKeyId'],k['SecretAccessKey']]))",
    );
    let (key, secret): (String, String) = serde_json::from_str(&out).unwrap();
    let proxy = StsServer::start(Mode::Forward(moto.port));
    let mut env = TestEnv::new();
    env.set("AWS_ENDPOINT_URL", moto.url());
    env.set("AWS_ENDPOINT_URL_STS", proxy.url());
    env.set("AWS_DEFAULT_REGION", "us-east-1");
    env.write("cfg/config.toml", config_toml);
    env.vault();
    env.add_keys("acme", &key, &secret, None);
    env.write(
        ".aws/config",
        "[profile base]\nop_aws_item = acme\n\
         [profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = base\n",
    );
    World {
        env,
        proxy,
        moto,
        key,
        secret,
    }
}

fn assume_roles(p: &StsServer) -> Vec<Recorded> {
    p.requests()
        .into_iter()
        .filter(|r| r.action == "AssumeRole")
        .collect()
}

fn param<'a>(r: &'a Recorded, k: &str) -> Option<&'a str> {
    r.params.get(k).map(String::as_str)
}

fn agent_cmd(env: &TestEnv, args: &[&str]) -> std::process::Command {
    let mut c = env.op_aws(args);
    c.env("CLAUDECODE", "1");
    c
}

fn audit(env: &TestEnv) -> Vec<serde_json::Value> {
    serde_json::from_str(&env.ok(&["audit", "--json"])).unwrap()
}

#[test]
fn an_agent_by_its_marker_gets_a_short_read_only_attributed_session() {
    let w = world("agents = \"read-only\"\n");
    let out = run_cmd(
        agent_cmd(
            &w.env,
            &[
                "run",
                "--profile",
                "admin",
                "--",
                "aws",
                "sts",
                "get-caller-identity",
            ],
        ),
        "",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let arn = String::from_utf8_lossy(&out.stdout);
    assert!(arn.contains("assumed-role/Admin/"), "{arn}");
    assert!(
        arn.contains("+claude-code"),
        "the session names the agent: {arn}"
    );
    let ar = assume_roles(&w.proxy);
    assert_eq!(ar.len(), 1, "{ar:?}");
    let r = &ar[0];
    assert_eq!(param(r, "PolicyArns.member.1.arn"), Some(RO), "{r:?}");
    assert_eq!(param(r, "DurationSeconds"), Some("900"), "{r:?}");
    assert_eq!(param(r, "Tags.member.1.Key"), Some("op-aws:agent"), "{r:?}");
    assert_eq!(
        param(r, "Tags.member.1.Value"),
        Some("claude-code"),
        "{r:?}"
    );
    let si = param(r, "SourceIdentity").unwrap_or_default();
    assert!(si.ends_with("+claude-code"), "{r:?}");
    let name = param(r, "RoleSessionName").unwrap_or_default();
    assert_eq!(name, "base-user+claude-code", "person and agent: {r:?}");
    // The session is the agent's: a person asking next gets their own (no policy, no tag).
    w.env.ok(&[
        "run",
        "--profile",
        "admin",
        "--",
        "aws",
        "sts",
        "get-caller-identity",
    ]);
    let ar = assume_roles(&w.proxy);
    assert_eq!(ar.len(), 2, "cached apart: {ar:?}");
    assert_eq!(param(&ar[1], "PolicyArns.member.1.arn"), None);
    assert_eq!(param(&ar[1], "Tags.member.1.Key"), None);
    // The agent's own is cached for it.
    let out = run_cmd(
        agent_cmd(&w.env, &["run", "--profile", "admin", "--", "true"]),
        "",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        assume_roles(&w.proxy).len(),
        2,
        "the agent's session is reused"
    );
    // The trail: three releases, two to the agent under ReadOnlyAccess, no secret.
    let log = audit(&w.env);
    assert_eq!(log.len(), 3, "{log:?}");
    assert_eq!(log[0]["class"], "agent");
    assert_eq!(log[0]["agent"], "claude-code");
    assert_eq!(log[0]["policy"], RO, "the whole ARN (review finding 8)");
    assert_eq!(log[0]["role"], "arn:aws:iam::123456789012:role/Admin");
    assert_eq!(log[1]["class"], "person");
    assert_eq!(log[1]["policy"], "none");
    assert_no_secret(&w.env, &[w.secret.as_str()]);
}

/// The agent's parent is a program named like an agent (a copy of bash named `claude`): no
/// marker in the environment, recognised by its ancestry.
#[test]
fn an_agent_by_its_ancestry_is_attributed() {
    let w = world("agents = \"allow\"\n");
    let bin = w.env.root.path().join("agent-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let claude = bin.join("claude");
    std::fs::copy(require("bash"), &claude).unwrap();
    let exe = w.env.exe.display().to_string();
    let under_claude = |cmd: &str| {
        let mut c = w.env.command(&claude);
        // Two commands: bash does not exec the last one in its own place.
        c.args(["-c", &format!("{exe} {cmd}; exit $?")]);
        let out = run_cmd(c, "");
        assert!(out.status.success(), "{}", stderr(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    let text = under_claude("run --profile admin -- aws sts get-caller-identity");
    assert!(text.contains("+claude-code"), "{text}");
    let status: serde_json::Value = serde_json::from_str(&under_claude("status --json")).unwrap();
    assert_eq!(status["caller"]["class"], "agent", "{status}");
    assert!(
        status["caller"]["why"]
            .as_str()
            .unwrap()
            .contains("is claude"),
        "{status}"
    );
    let ar = assume_roles(&w.proxy);
    assert_eq!(ar.len(), 1, "{ar:?}");
    assert_eq!(param(&ar[0], "DurationSeconds"), Some("900"));
    assert_eq!(param(&ar[0], "Tags.member.1.Value"), Some("claude-code"));
    assert_eq!(
        param(&ar[0], "PolicyArns.member.1.arn"),
        None,
        "allow: no policy"
    );
    // The same command from the test (no agent above it) is a person's.
    let s: serde_json::Value = serde_json::from_str(&w.env.ok(&["status", "--json"])).unwrap();
    assert_eq!(s["caller"]["class"], "person", "{s}");
}

/// No role: the item's keys never go to an agent; under read-only a federation token carries
/// the policy.
#[test]
fn an_agent_never_gets_the_items_keys() {
    let w = world("agents = \"read-only\"\n");
    let out = run_cmd(
        agent_cmd(
            &w.env,
            &[
                "run",
                "--item",
                "acme",
                "--",
                "sh",
                "-c",
                "echo $AWS_ACCESS_KEY_ID; echo ${AWS_SESSION_TOKEN:+token}",
            ],
        ),
        "",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("token"), "a session: {text}");
    assert!(!text.contains(&w.key), "not the long-lived key: {text}");
    let fed: Vec<_> = w
        .proxy
        .requests()
        .into_iter()
        .filter(|r| r.action == "GetFederationToken")
        .collect();
    assert_eq!(fed.len(), 1, "{:?}", w.proxy.requests());
    assert_eq!(param(&fed[0], "PolicyArns.member.1.arn"), Some(RO));
    assert_eq!(param(&fed[0], "DurationSeconds"), Some("900"));
    assert_eq!(param(&fed[0], "Name"), Some("op-aws+claude-code"));
    // credential-process for the item: a short session too, never the keys.
    let out = run_cmd(
        agent_cmd(&w.env, &["credential-process", "--item", "acme"]),
        "",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json["SessionToken"].is_string(), "{json}");
    assert_ne!(json["AccessKeyId"], w.key.as_str(), "{json}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&w.secret));
}

#[test]
fn refusals_for_agents_leave_a_person_alone() {
    let w = world("");
    for (args, says) in [
        (vec!["export", "--item", "acme"], "export"),
        (vec!["item", "show", "acme", "--reveal"], "--reveal"),
    ] {
        let out = run_cmd(agent_cmd(&w.env, &args), "");
        assert!(!out.status.success(), "{args:?}");
        let err = stderr(&out);
        assert!(err.contains(says) && err.contains("refused"), "{err}");
        assert!(err.contains("hint: "), "what to do instead: {err}");
        assert!(!String::from_utf8_lossy(&out.stdout).contains(&w.secret));
        assert!(!err.contains(&w.secret));
        // A person in the same directory is unaffected.
        let mine = w.env.ok(&args);
        assert!(mine.contains(&w.secret), "{args:?}: {mine}");
    }
    // A console sign-in is never an agent's, whatever the policy (refused before any STS call).
    let out = run_cmd(
        agent_cmd(&w.env, &["login", "--item", "acme", "--print"]),
        "",
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("sign-in") && err.contains("refused") && err.contains("hint: "),
        "{err}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).is_empty());
    // deny refuses everything, in one line; the person still runs.
    w.env.write("cfg/config.toml", "agents = \"deny\"\n");
    let out = run_cmd(
        agent_cmd(&w.env, &["run", "--item", "acme", "--", "true"]),
        "",
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("denied"), "{err}");
    assert_eq!(
        err.lines().filter(|l| l.starts_with("op-aws:")).count(),
        1,
        "{err}"
    );
    w.env.ok(&["run", "--item", "acme", "--", "true"]);
    let log = audit(&w.env);
    let refused = log.iter().filter(|e| e["outcome"] == "refused").count();
    assert_eq!(refused, 4, "export, reveal, login, deny: {log:?}");
    assert_no_secret(&w.env, &[w.secret.as_str()]);
}

/// A project file may tighten the agents' policy, never loosen it.
#[test]
fn a_project_file_only_tightens() {
    let w = world("agents = \"read-only\"\n");
    let proj = w.env.home.join("proj");
    std::fs::create_dir_all(&proj).unwrap();
    std::fs::write(proj.join(".op-aws.toml"), "agents = \"allow\"\n").unwrap();
    w.env.ok(&["trust", proj.to_str().unwrap()]);
    let mut c = agent_cmd(&w.env, &["run", "--profile", "admin", "--", "true"]);
    c.current_dir(&proj);
    let out = run_cmd(c, "");
    assert!(out.status.success(), "{}", stderr(&out));
    let ar = assume_roles(&w.proxy);
    assert_eq!(
        param(&ar[0], "PolicyArns.member.1.arn"),
        Some(RO),
        "still read-only"
    );
    std::fs::write(proj.join(".op-aws.toml"), "agents = \"deny\"\n").unwrap();
    w.env.ok(&["trust", proj.to_str().unwrap()]);
    let mut c = agent_cmd(&w.env, &["run", "--profile", "admin", "--", "true"]);
    c.current_dir(&proj);
    let out = run_cmd(c, "");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("the project file"),
        "{}",
        stderr(&out)
    );
}

/// The strictest of the item, the profile and config.toml holds: a permissive profile (named
/// with `--profile`, or in an AWS config file the agent wrote) does not loosen an item's deny
/// (review finding 4).
#[test]
fn the_strictest_of_item_profile_and_config_wins() {
    let w = world("");
    w.env.ok(&["item", "edit", "acme", "--set", "Agents=deny"]);
    let own_config = w.env.home.join("agent-wrote.ini");
    std::fs::write(
        &own_config,
        "[profile permissive]\nop_aws_agents = allow\nop_aws_item = acme\n",
    )
    .unwrap();
    w.env.write(
        ".aws/config",
        "[profile base]\nop_aws_item = acme\n[profile permissive]\nop_aws_agents = allow\nop_aws_item = acme\n",
    );
    for extra in [None, Some(&own_config)] {
        let mut c = agent_cmd(
            &w.env,
            &[
                "run",
                "--profile",
                "permissive",
                "--item",
                "acme",
                "--",
                "true",
            ],
        );
        if let Some(f) = extra {
            c.env("AWS_CONFIG_FILE", f);
        }
        let out = run_cmd(c, "");
        assert!(!out.status.success(), "the item's deny holds");
        let err = stderr(&out);
        assert!(err.contains("denied") && err.contains("item acme"), "{err}");
    }
    // config.toml's read-only holds against a profile that allows.
    w.env.ok(&["item", "edit", "acme", "--unset", "Agents"]);
    w.env.write("cfg/config.toml", "agents = \"read-only\"\n");
    w.env.write(
        ".aws/config",
        "[profile base]\nop_aws_item = acme\n[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = base\nop_aws_agents = allow\n",
    );
    let out = run_cmd(
        agent_cmd(&w.env, &["run", "--profile", "admin", "--", "true"]),
        "",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let ar = assume_roles(&w.proxy);
    assert_eq!(
        param(ar.last().unwrap(), "PolicyArns.member.1.arn"),
        Some(RO)
    );
    // A person is untouched by any of it.
    w.env.ok(&["run", "--profile", "admin", "--", "true"]);
}

/// Review findings 3 and 7: an agent loosens nothing of its own policy or the vault's
/// protections with op-aws's own commands (the `Agents` field, item add/edit/rm, trust and
/// untrust, the vault's passphrase, keys and identity, rotate, `use --global`, setup), and each
/// refusal is in the audit trail. A person does the same freely.
#[test]
fn an_agent_loosens_no_policy_and_every_refusal_is_audited() {
    let w = world("");
    w.env.ok(&["item", "edit", "acme", "--set", "Agents=deny"]);
    let proj = w.env.home.join("proj");
    std::fs::create_dir_all(&proj).unwrap();
    std::fs::write(proj.join(".op-aws.toml"), "agents = \"deny\"\n").unwrap();
    w.env.ok(&["trust", proj.to_str().unwrap()]);
    let attempts: Vec<Vec<&str>> = vec![
        vec!["item", "edit", "acme", "--set", "Agents=allow"],
        vec!["item", "edit", "acme", "--unset", "Agents"],
        vec!["item", "rm", "acme"],
        vec!["item", "add", "mine", "--set", "Agents=allow"],
        vec!["untrust", proj.to_str().unwrap()],
        vec!["trust", proj.to_str().unwrap()],
        vec!["rotate", "acme"],
        vec!["use", "acme", "--global"],
        vec!["vault", "rekey"],
        vec!["vault", "passphrase", "--passphrase-stdin"],
        vec!["vault", "key", "rm", "yubikey"],
        vec!["setup", "polkit"],
    ];
    for args in &attempts {
        let out = run_cmd(agent_cmd(&w.env, args), "");
        assert!(!out.status.success(), "{args:?} ran for an agent");
        let err = stderr(&out);
        assert!(
            err.contains("refused to agent claude-code") && err.contains("hint: "),
            "{args:?}: {err}"
        );
    }
    // Nothing changed: the item still denies, the project file is still trusted, no rotation.
    let shown = w.env.ok(&["item", "show", "acme"]);
    assert!(shown.contains("Agents: deny"), "{shown}");
    let revealed = w.env.ok(&["item", "show", "acme", "--reveal"]);
    assert!(revealed.contains(&w.secret), "the key was not rotated");
    assert!(!shown.contains("mine"));
    let mut c = agent_cmd(&w.env, &["run", "--item", "acme", "--", "true"]);
    c.current_dir(&proj);
    assert!(!run_cmd(c, "").status.success());
    assert_eq!(
        crate::support::sts_server::without_person_lookups(&w.proxy.requests()).len(),
        0,
        "no STS or IAM call for a refused rotate"
    );
    let log = audit(&w.env);
    let refused: Vec<_> = log
        .iter()
        .filter(|e| e["outcome"] == "refused" && e["agent"] == "claude-code")
        .collect();
    assert_eq!(refused.len(), attempts.len() + 1, "{log:?}");
    for via in [
        "item edit",
        "untrust",
        "rotate",
        "use --global",
        "vault rekey",
        "setup",
    ] {
        assert!(
            refused.iter().any(|e| e["via"] == via),
            "{via} not audited: {log:?}"
        );
    }
    // A person may.
    w.env
        .ok(&["item", "edit", "acme", "--set", "Agents=read-only"]);
    w.env.ok(&["untrust", proj.to_str().unwrap()]);
}

/// Review finding 5: `op-aws run --server -- claude`, started by a person, serves the agent it
/// wraps under the agents' policy, not the person's unscoped session.
#[test]
fn run_server_classes_the_agent_it_wraps() {
    let w = world("agents = \"read-only\"\n");
    let bin = w.env.home.join("agent-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let claude = bin.join("claude");
    std::fs::write(&claude, "#!/bin/sh\nexec aws sts get-caller-identity\n").unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&claude, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let mut c = w.env.op_aws(&[
        "run",
        "--server",
        "--profile",
        "admin",
        "--",
        claude.to_str().unwrap(),
    ]);
    c.env_remove("CLAUDECODE");
    let out = run_cmd(c, "");
    assert!(out.status.success(), "{}", stderr(&out));
    let ar = assume_roles(&w.proxy);
    let last = ar.last().expect("an AssumeRole");
    assert_eq!(
        param(last, "PolicyArns.member.1.arn"),
        Some(RO),
        "read-only"
    );
    let log = audit(&w.env);
    assert!(
        log.iter().any(|e| e["agent"] == "claude-code"
            && e["why"].as_str().unwrap_or("").contains("it runs claude")),
        "{log:?}"
    );
}

/// A person scopes a session down with flags; the policy is on the wire exactly.
#[test]
fn a_person_asks_for_a_session_policy() {
    let w = world("");
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
    let file = w.env.write("policy.json", policy);
    w.env.ok(&[
        "run",
        "--profile",
        "admin",
        "--policy-arn",
        "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
        "--policy",
        file.to_str().unwrap(),
        "--",
        "true",
    ]);
    w.env
        .ok(&["run", "--read-only", "--item", "acme", "--", "true"]);
    let reqs = w.proxy.requests();
    let ar: Vec<_> = reqs.iter().filter(|r| r.action == "AssumeRole").collect();
    assert_eq!(
        param(ar[0], "PolicyArns.member.1.arn"),
        Some("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    );
    assert_eq!(param(ar[0], "Policy"), Some(policy));
    assert_eq!(
        param(ar[0], "Tags.member.1.Key"),
        None,
        "a person's: no agent tag"
    );
    let fed: Vec<_> = reqs
        .iter()
        .filter(|r| r.action == "GetFederationToken")
        .collect();
    assert_eq!(
        param(fed[0], "PolicyArns.member.1.arn"),
        Some(RO),
        "{reqs:?}"
    );
    // A bad policy is one line, before anything is asked of STS.
    let n = w.proxy.requests().len();
    let bad = w.env.write("bad.json", "{not json");
    let out = w.env.run(&[
        "run",
        "--item",
        "acme",
        "--policy",
        bad.to_str().unwrap(),
        "--",
        "true",
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("not JSON"), "{}", stderr(&out));
    assert_eq!(w.proxy.requests().len(), n);
}

fn assert_no_secret(env: &TestEnv, secrets: &[&str]) {
    let dir = env.home.join("data");
    for f in ["audit.log", "audit.log.1"] {
        let Ok(text) = std::fs::read_to_string(dir.join(f)) else {
            continue;
        };
        for s in secrets {
            assert!(!text.contains(s), "a secret in {f}");
        }
        // Nor any session credential: no secret key, token or session-shaped key id.
        assert!(!text.contains("SessionToken") && !text.contains("SecretAccessKey"));
    }
}

/// 200 releases at once: 200 whole lines. Then a writer killed in the middle of a line (a
/// crash): the reader skips that line, says so, and reads the rest.
#[test]
fn the_audit_log_holds_every_line_and_survives_a_torn_one() {
    let mut env = TestEnv::new();
    env.vault();
    env.add_keys("acme", "AKIAAUDIT00000000001", SECRET, Some("eu-west-1"));
    env.set("OP_AWS_SESSION_ITEM", "acme");
    let children: Vec<_> = (0..200)
        .map(|_| {
            env.op_aws(&["run", "--", "true"])
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The agent appends each line once its caller has the answer; `audit` waits for them.
    env.ok(&["audit", "--json"]);
    let log = env.home.join("data/audit.log");
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 200);
    for l in &lines {
        let v: serde_json::Value = serde_json::from_str(l).expect("a whole JSON line");
        assert_eq!(v["outcome"], "released");
        assert_eq!(v["class"], "person");
    }
    assert!(!text.contains(SECRET));
    // A writer killed mid-line: python writes half a line, then is killed by SIGKILL.
    let py = format!(
        "import os,signal\nf=os.open({:?},os.O_WRONLY|os.O_APPEND)\nos.write(f,b'{{\"time\":\"2026-12-0')\nos.kill(os.getpid(),signal.SIGKILL)",
        log.display().to_string()
    );
    let killed = std::process::Command::new(require("python3"))
        .args(["-c", &py])
        .status()
        .unwrap();
    assert!(!killed.success());
    env.ok(&["run", "--", "true"]);
    let out = env.run(&["audit", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let entries: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        entries.len(),
        201,
        "the torn line is skipped, the next one kept"
    );
    assert!(
        stderr(&out).contains("skipped 1 damaged line"),
        "{}",
        stderr(&out)
    );
    let table = env.ok(&["audit", "--since", "1h"]);
    assert!(table.starts_with("TIME"), "{table}");
    assert_eq!(env.ok(&["audit", "--agent", "--json"]).trim(), "[]");
}

/// `approve`: the person answers in a (scripted) pinentry; a "y" on the agent's own stdin is
/// never taken for a yes. No: one line, nothing issued, the trail says denied. Yes: served,
/// and remembered for the next command.
#[test]
fn approval_comes_from_the_person_not_the_agents_stdin() {
    let pinentry =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/fake-pinentry");
    let mut w = world(&format!(
        "agents = \"approve\"\npinentry_program = {:?}\n",
        pinentry.display().to_string()
    ));
    let answers = w.env.write("pinentry-answers", "no\nyes\n");
    let log = w.env.home.join("pinentry.log");
    w.env.set("PINENTRY_ANSWERS", answers.display().to_string());
    w.env.set("PINENTRY_LOG", log.display().to_string());
    // The agent asks, in the environment the person started it in: started again with these.
    w.env.ok(&["lock"]);
    w.env.unlock();
    // What the asking process's own environment says is never the dialog's.
    let forged = w.env.write("forged-answers", "yes\nyes\nyes\n");
    let forged_log = w.env.home.join("forged.log");
    let run = |w: &World| {
        let mut c = agent_cmd(&w.env, &["run", "--profile", "admin", "--", "true"]);
        c.env("PINENTRY_ANSWERS", &forged)
            .env("PINENTRY_LOG", &forged_log);
        run_cmd(c, "y\ny\nyes\n")
    };
    let out = run(&w);
    assert!(
        !out.status.success(),
        "a no, whatever the agent's stdin says"
    );
    let err = stderr(&out);
    assert!(err.contains("said no"), "{err}");
    assert_eq!(
        err.lines().filter(|l| l.starts_with("op-aws:")).count(),
        1,
        "{err}"
    );
    assert!(assume_roles(&w.proxy).is_empty(), "nothing issued");
    let trail = audit(&w.env);
    assert_eq!(trail.last().unwrap()["outcome"], "denied", "{trail:?}");
    let asked = std::fs::read_to_string(&log).unwrap();
    assert!(asked.contains("CONFIRM"), "{asked}");
    assert!(
        asked.contains("claude-code"),
        "the dialog names the agent: {asked}"
    );
    assert!(asked.contains("role/Admin"), "and the role: {asked}");
    // The person says yes: served; the next command needs no new question.
    let out = run(&w);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(assume_roles(&w.proxy).len(), 1);
    let out = run(&w);
    assert!(out.status.success(), "{}", stderr(&out));
    let starts = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("START"))
        .count();
    assert_eq!(starts, 2, "the approval is remembered");
    let trail = audit(&w.env);
    let n = trail.len();
    assert_eq!(
        trail[n - 2]["approved"],
        "approved by the person",
        "{trail:?}"
    );
    assert_eq!(trail[n - 1]["approved"], "approved earlier (remembered)");
    assert!(
        !forged_log.exists(),
        "no dialog ran in the asker's environment"
    );
    assert!(
        !w.env.runtime_dir().join("approvals.json").exists(),
        "a yes is kept in the agent's memory only"
    );
}

/// A keyless run under `approve`: the session is approved once, and each service's writes need
/// a yes of their own, asked by the op-aws agent in its pinentry; a no refuses the write at the
/// proxy (it never reaches moto), and reads go on.
#[test]
fn a_keyless_agent_under_approve_asks_for_each_services_writes() {
    let pinentry =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/fake-pinentry");
    let mut w = world(&format!(
        "agents = \"approve\"\npinentry_program = {:?}\n",
        pinentry.display().to_string()
    ));
    // The session: yes; s3 writes: no.
    let answers = w.env.write("pinentry-answers", "yes\nno\n");
    let log = w.env.home.join("pinentry.log");
    w.env.set("PINENTRY_ANSWERS", answers.display().to_string());
    w.env.set("PINENTRY_LOG", log.display().to_string());
    w.env.ok(&["lock"]);
    w.env.unlock();
    w.env.write("f.txt", "x");
    let mut c = agent_cmd(
        &w.env,
        &[
            "run",
            "--keyless",
            "--profile",
            "admin",
            "--",
            "sh",
            "-c",
            "aws sts get-caller-identity --query Arn --output text; \
             aws s3api put-object --bucket agents-bucket --key k --body f.txt; echo put=$?; \
             aws s3api put-object --bucket agents-bucket --key k2 --body f.txt; echo put2=$?; \
             aws s3api list-objects-v2 --bucket agents-bucket >/dev/null; echo ls=$?",
        ],
    );
    c.current_dir(&w.env.home);
    let out = run_cmd(c, "");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(text.contains("assumed-role/Admin"), "{text}");
    assert!(
        text.contains("s3 writes") && text.contains("said no") && !text.contains("put=0"),
        "{text}"
    );
    assert!(!text.contains("put2=0") && text.contains("ls=0"), "{text}");
    let asked = std::fs::read_to_string(&log).unwrap();
    assert!(
        asked.contains("Calls: s3 writes, through its keyless proxy (as the asking process says)"),
        "{asked}"
    );
    let starts = asked.lines().filter(|l| l.starts_with("START")).count();
    assert_eq!(starts, 2, "the session once, s3 writes once: {asked}");
    let keys = w.moto.boto3(
        "s3",
        &format!(
            "c=boto3.client('s3',endpoint_url=c.meta.endpoint_url,region_name='us-east-1',aws_access_key_id='{}',aws_secret_access_key='{}')\n\
             print(len(c.list_objects_v2(Bucket='agents-bucket').get('Contents',[])))",
            w.key, w.secret
        ),
    );
    assert_eq!(keys.trim(), "0", "no write reached moto");
}
