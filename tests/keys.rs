//! Key hygiene: role sessions that name the person in CloudTrail, and `op-aws rotate`.

use crate::support::TestEnv;
use crate::support::sts_server::{Mode, StsServer};

/// An unlocked vault with item `dev` holding `key_id`, the given `~/.aws/config` (profile `base`
/// binds `dev`), and STS at a local stub that issues sessions.
fn with_issuing_sts(key_id: &str, config: &str) -> (TestEnv, StsServer) {
    let mut env = TestEnv::new();
    let stub = StsServer::start(Mode::Issue { secs: 3600 });
    env.set("AWS_ENDPOINT_URL_STS", stub.url());
    env.set("AWS_REGION", "us-east-1");
    env.vault();
    env.add_keys("dev", key_id, "dev-secret", None);
    env.write(
        ".aws/config",
        &format!("[profile base]\nop_aws_item = dev\n{config}"),
    );
    (env, stub)
}

/// An AssumeRole with no `role_session_name` is named for the IAM user behind the item's key
/// (asked once, then remembered); `source_identity` and the session tags are sent as set; the
/// cached session shows its name.
#[test]
fn role_sessions_name_the_person_and_carry_source_identity_and_tags() {
    let (mut env, stub) = with_issuing_sts(
        "AKIADEV0000000000001",
        "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = base\n\
         [profile tagged]\nrole_arn = arn:aws:iam::123456789012:role/Tagged\nsource_profile = base\n\
         source_identity = alice\nsession_tags = team=infra, cost-center=42\ntransitive_session_tags = team\n\
         [profile named]\nrole_arn = arn:aws:iam::123456789012:role/Named\nsource_profile = base\nrole_session_name = ci-job\n",
    );
    env.set("USER", "login-name");
    env.ok(&["run", "--profile", "admin", "--", "true"]);
    let assume = |arn: &str| {
        stub.requests()
            .into_iter()
            .find(|r| r.action == "AssumeRole" && r.params["RoleArn"].ends_with(arn))
            .unwrap_or_else(|| panic!("no AssumeRole of {arn}: {:?}", stub.actions()))
    };
    let admin = assume("role/Admin");
    assert_eq!(admin.params["RoleSessionName"], "alice.smith");
    assert!(
        !admin.params.contains_key("SourceIdentity"),
        "{:?}",
        admin.params
    );
    assert!(
        !admin.params.keys().any(|k| k.starts_with("Tags")),
        "{:?}",
        admin.params
    );

    env.ok(&["run", "--profile", "tagged", "--", "true"]);
    let tagged = assume("role/Tagged").params;
    assert_eq!(tagged["RoleSessionName"], "alice.smith");
    assert_eq!(tagged["SourceIdentity"], "alice");
    assert_eq!(tagged["Tags.member.1.Key"], "team");
    assert_eq!(tagged["Tags.member.1.Value"], "infra");
    assert_eq!(tagged["Tags.member.2.Key"], "cost-center");
    assert_eq!(tagged["Tags.member.2.Value"], "42");
    assert_eq!(tagged["TransitiveTagKeys.member.1"], "team");
    assert_eq!(
        stub.count("GetCallerIdentity"),
        1,
        "the user name is learnt once: {:?}",
        stub.actions()
    );

    env.ok(&["run", "--profile", "named", "--", "true"]);
    assert_eq!(assume("role/Named").params["RoleSessionName"], "ci-job");

    let inspect = env.ok(&["inspect"]);
    assert!(
        inspect.contains("role/Admin as alice.smith") && inspect.contains("role/Named as ci-job"),
        "{inspect}"
    );
    let cached: serde_json::Value =
        serde_json::from_str(&env.ok(&["cache", "list", "--json"])).unwrap();
    assert!(
        cached
            .to_string()
            .contains("\"session_name\":\"alice.smith\""),
        "{cached}"
    );
}

/// `doctor` says how old each held item's key is, and warns past 90 days with the command.
#[test]
fn doctor_reports_key_ages_and_warns_past_90_days() {
    let (mut env, stub) = with_issuing_sts("AKIADEV0000000000001", "");
    env.set("AWS_ENDPOINT_URL", stub.url());
    let o = env.run(&["doctor"]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        out.lines()
            .any(|l| l.starts_with("warn dev's access key is ")
                && l.contains(" days old: run `op-aws rotate 'dev'`")),
        "{out}"
    );
    assert!(!o.status.success(), "a warning is a non-zero exit");
}

/// Without an IAM user behind the key (the STS answer names none), the login name.
#[test]
fn without_a_user_name_the_login_name_names_the_session() {
    // Not an AKIA key: the stub names no IAM user for it.
    let (mut env, stub) = with_issuing_sts(
        "XKIADEV0000000000001",
        "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = base\n",
    );
    env.set("USER", "J. Doe");
    env.ok(&["run", "--profile", "admin", "--", "true"]);
    let r = stub
        .requests()
        .into_iter()
        .find(|r| r.action == "AssumeRole")
        .unwrap();
    assert_eq!(
        r.params["RoleSessionName"], "J.-Doe",
        "sanitised to STS's characters"
    );
}

/// A bad tag is a config error before anything is sent.
#[test]
fn malformed_session_tags_are_a_profile_error() {
    let (env, stub) = with_issuing_sts(
        "AKIADEV0000000000001",
        "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = base\nsession_tags = team\n",
    );
    let o = env.run(&["run", "--profile", "admin", "--", "true"]);
    let e = crate::support::stderr(&o);
    assert!(!o.status.success());
    assert!(e.contains("session_tags") && e.contains("key=value"), "{e}");
    assert!(stub.actions().is_empty(), "{:?}", stub.actions());
}

fn rotating(
    fail: Option<&'static str>,
) -> (crate::support::Moto, StsServer, TestEnv, String, String) {
    let moto = crate::support::Moto::start();
    let proxy = StsServer::start(match fail {
        Some(action) => Mode::FailOne {
            port: moto.port,
            action,
            code: "ServiceUnavailable",
        },
        None => Mode::Forward(moto.port),
    });
    let mut env = TestEnv::new();
    env.set("AWS_ENDPOINT_URL", proxy.url());
    env.set("AWS_REGION", "us-east-1");
    let (arn, id, secret) = moto.iam_user("alice");
    env.vault();
    env.add_keys("alice", &id, &secret, None);
    (moto, proxy, env, arn, id)
}

fn item_key(env: &TestEnv) -> String {
    let shown = env.ok(&["item", "show", "alice", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&shown).unwrap();
    v.to_string()
        .split('"')
        .find(|s| s.starts_with("AKIA"))
        .unwrap()
        .to_owned()
}

#[test]
fn rotate_leaves_exactly_one_working_key_in_the_item() {
    let (moto, proxy, env, arn, old) = rotating(None);
    let o = env.run(&["rotate", "alice", "--yes"]);
    let e = crate::support::stderr(&o);
    assert!(o.status.success(), "{e}");
    let keys = moto.access_keys("alice");
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert_ne!(keys[0], old, "the old key is gone");
    assert_eq!(item_key(&env), keys[0], "the item holds the new key");
    assert!(e.contains(&format!("deleted {old}")), "{e}");
    // The new key signs through op-aws run, with the real aws CLI.
    let mut c = env.op_aws(&[
        "run",
        "--item",
        "alice",
        "--",
        "aws",
        "sts",
        "get-caller-identity",
        "--output",
        "json",
    ]);
    c.env("PATH", crate::support::tools_path());
    let out = crate::support::ok(crate::support::run_cmd(c, ""), &["run", "aws"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["Arn"], arn.as_str());
    let signers: Vec<String> = proxy.requests().iter().map(|r| r.signer.clone()).collect();
    assert_eq!(signers.last().unwrap(), &keys[0], "{signers:?}");
    let doctor = String::from_utf8_lossy(&env.run(&["doctor"]).stdout).into_owned();
    assert!(
        doctor.contains("ok   alice's access key is 0 days old"),
        "{doctor}"
    );
}

#[test]
fn rotate_refuses_when_the_user_has_two_keys() {
    let (moto, _proxy, env, _arn, old) = rotating(None);
    let other = moto
        .boto3(
            "iam",
            "print(c.create_access_key(UserName='alice')['AccessKey']['AccessKeyId'])",
        )
        .trim()
        .to_owned();
    let o = env.run(&["rotate", "alice", "--yes"]);
    let e = crate::support::stderr(&o);
    assert!(!o.status.success());
    assert!(
        e.contains("already has two access keys") && e.contains(&other),
        "{e}"
    );
    assert!(
        e.contains("hint: ") && e.contains("delete-access-key"),
        "{e}"
    );
    assert_eq!(moto.access_keys("alice").len(), 2);
    assert_eq!(item_key(&env), old);
}

/// Each step that can fail leaves the item with a key that works, and says what IAM holds.
#[test]
fn a_failed_rotation_step_leaves_a_working_key_and_says_where_iam_is() {
    for (action, said) in [
        ("CreateAccessKey", "nothing changed"),
        ("GetCallerIdentity", "was deleted again"),
        ("DeleteAccessKey", "was not deleted"),
    ] {
        let (moto, _proxy, env, arn, old) = rotating(Some(action));
        let o = env.run(&["rotate", "alice", "--yes"]);
        let e = crate::support::stderr(&o);
        assert!(!o.status.success(), "{action}: {e}");
        assert!(e.contains(said), "{action}: {e}");
        let keys = moto.access_keys("alice");
        let held = item_key(&env);
        assert!(
            keys.contains(&held),
            "{action}: the item's key {held} is not in IAM: {keys:?}"
        );
        match action {
            "DeleteAccessKey" => {
                assert_ne!(held, old, "the new key is stored");
                assert_eq!(keys.len(), 2);
                assert!(e.contains("op-aws rotate 'alice' --resume"), "{e}");
            }
            _ => {
                assert_eq!(held, old);
                assert_eq!(keys, std::slice::from_ref(&old), "{action}");
            }
        }
        // The key the item holds signs (moto's STS, not through the failing proxy).
        let mut c = env.op_aws(&[
            "run",
            "--item",
            "alice",
            "--",
            "aws",
            "sts",
            "get-caller-identity",
            "--output",
            "json",
        ]);
        c.env("PATH", crate::support::tools_path())
            .env("AWS_ENDPOINT_URL", moto.url());
        let out = crate::support::ok(crate::support::run_cmd(c, ""), &["run", "aws"]);
        assert!(out.contains(&arn), "{action}: {out}");
        if action == "DeleteAccessKey" {
            // --resume finishes it once IAM answers again.
            let mut c = env.op_aws(&["rotate", "alice", "--resume"]);
            c.env("AWS_ENDPOINT_URL", moto.url());
            crate::support::ok(crate::support::run_cmd(c, ""), &["rotate --resume"]);
            assert_eq!(moto.access_keys("alice"), [held]);
        }
    }
}

/// A rotation killed (SIGKILL) after IAM created the new key and before op-aws heard of it
/// leaves its intent written down: the next `rotate` says so, and `--resume` finds the key
/// nothing recorded and deletes it; then a rotation works again.
#[test]
fn a_rotation_killed_at_create_access_key_is_resumed() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicI32, Ordering};
    let moto = crate::support::Moto::start();
    let pid = Arc::new(AtomicI32::new(0));
    let proxy = StsServer::start(Mode::KillAfter {
        port: moto.port,
        action: "CreateAccessKey",
        pid: Arc::clone(&pid),
    });
    let mut env = TestEnv::new();
    env.set("AWS_ENDPOINT_URL", proxy.url());
    env.set("AWS_REGION", "us-east-1");
    let (_arn, old, secret) = moto.iam_user("alice");
    env.vault();
    env.add_keys("alice", &old, &secret, None);
    let mut c = env.op_aws(&["rotate", "alice", "--yes"]);
    let child = c
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    pid.store(child.id() as i32, Ordering::SeqCst);
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&out.status),
        Some(9),
        "op-aws was not killed at CreateAccessKey"
    );
    assert_eq!(moto.access_keys("alice").len(), 2, "IAM made the key");
    assert_eq!(item_key(&env), old);
    // The next rotate knows: an unfinished rotation, and --resume.
    let e = crate::support::stderr(&env.run(&["rotate", "alice", "--yes"]));
    assert!(
        e.contains("did not finish") && e.contains("op-aws rotate 'alice' --resume"),
        "{e}"
    );
    let mut c = env.op_aws(&["rotate", "alice", "--resume"]);
    c.env("AWS_ENDPOINT_URL", moto.url());
    let o = crate::support::run_cmd(c, "");
    let e = crate::support::stderr(&o);
    assert!(e.contains("was deleted"), "{e}");
    assert_eq!(moto.access_keys("alice"), std::slice::from_ref(&old), "{e}");
    assert_eq!(item_key(&env), old);
    let mut c = env.op_aws(&["rotate", "alice", "--yes"]);
    c.env("AWS_ENDPOINT_URL", moto.url());
    crate::support::ok(crate::support::run_cmd(c, ""), &["rotate"]);
    assert_eq!(moto.access_keys("alice").len(), 1);
    assert_ne!(item_key(&env), old);
}
