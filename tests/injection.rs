//! Scopes, `run`, `clear`, export and credential_process, proven with the real AWS CLI
//! against moto.

use std::os::unix::fs::PermissionsExt;

use crate::support::{Moto, TestEnv, WHO_AM_I, bin, ok, require, run_cmd, stderr, use_moto};

struct World {
    env: TestEnv,
    _moto: Moto,
    alice: String,
    bob: String,
}

/// Two IAM users in moto, imported as items `alice` and `bob`.
fn world() -> World {
    let moto = Moto::start();
    let mut env = TestEnv::new();
    use_moto(&mut env, &moto);
    env.set("AWS_DEFAULT_REGION", "us-east-1");
    let (alice, ak, sk) = moto.iam_user("alice");
    let (bob, bk, bs) = moto.iam_user("bob");
    env.write(
        ".aws/credentials",
        &format!("[alice]\naws_access_key_id = {ak}\naws_secret_access_key = {sk}\n[bob]\naws_access_key_id = {bk}\naws_secret_access_key = {bs}\n"),
    );
    env.write(
        ".aws/config",
        "[profile p]\noutput = json\nregion = us-east-1\n",
    );
    env.vault();
    env.ok(&["import", "--all", "--remove-plaintext", "--yes"]);
    World {
        env,
        _moto: moto,
        alice,
        bob,
    }
}

/// The ARN `aws sts get-caller-identity` reports when run through op-aws in `dir`.
fn who(env: &TestEnv, dir: &std::path::Path, extra: &[&str]) -> String {
    let mut args = vec!["run"];
    args.extend(extra);
    args.push("--");
    args.extend(WHO_AM_I);
    let mut c = env.op_aws(&args);
    c.current_dir(dir);
    ok(run_cmd(c, ""), &args).trim().to_owned()
}

#[test]
fn each_scope_injects_its_item_and_clear_peels_them() {
    let mut w = world();
    let parent = w.env.home.join("work");
    let child = parent.join("acme");
    let sibling = parent.join("other");
    std::fs::create_dir_all(&child).unwrap();
    std::fs::create_dir_all(&sibling).unwrap();

    let o = w
        .env
        .run(&["run", "--", "aws", "sts", "get-caller-identity"]);
    assert!(
        !o.status.success() && stderr(&o).contains("op-aws use"),
        "{}",
        stderr(&o)
    );

    w.env.ok(&["use", "alice", "--global"]);
    assert_eq!(who(&w.env, &w.env.home, &[]), w.alice);
    w.env
        .ok(&["use", "bob", "--directory", parent.to_str().unwrap()]);
    assert_eq!(
        who(&w.env, &sibling, &[]),
        w.bob,
        "a directory default in a parent"
    );
    w.env
        .ok(&["use", "alice", "--directory", child.to_str().unwrap()]);
    assert_eq!(who(&w.env, &child, &[]), w.alice, "the nearer one wins");
    assert_eq!(who(&w.env, &sibling, &[]), w.bob);
    w.env.set("OP_AWS_SESSION_ITEM", "bob");
    assert_eq!(who(&w.env, &child, &[]), w.bob, "session over directory");
    assert_eq!(
        who(&w.env, &child, &["--item", "alice"]),
        w.alice,
        "--item over all"
    );

    // `aws --profile p` still uses the injected keys (the flag becomes AWS_PROFILE).
    let mut c = w.env.op_aws(&[
        "run",
        "--",
        "aws",
        "--profile",
        "p",
        "sts",
        "get-caller-identity",
        "--query",
        "Arn",
    ]);
    c.current_dir(&child);
    assert!(ok(run_cmd(c, ""), &["run --profile"]).contains(&w.bob));

    // clear: the session first (printed for the shell to apply), then directories, then global.
    w.env.set("__OP_AWS_SHELL", "bash");
    let mut c = w.env.op_aws(&["clear", "--force"]);
    c.current_dir(&child);
    assert_eq!(
        ok(run_cmd(c, ""), &["clear"]),
        "unset OP_AWS_SESSION_ITEM\n"
    );
    w.env.extra_env.retain(|(k, _)| k != "OP_AWS_SESSION_ITEM");
    for expected in [&w.alice, &w.bob] {
        assert_eq!(&who(&w.env, &child, &[]), expected);
        let mut c = w.env.op_aws(&["clear", "--force"]);
        c.current_dir(&child);
        ok(run_cmd(c, ""), &["clear"]);
    }
    assert_eq!(
        who(&w.env, &child, &[]),
        w.alice,
        "the global default remains"
    );
    let mut c = w.env.op_aws(&["clear", "--force"]);
    c.current_dir(&child);
    ok(run_cmd(c, ""), &["clear"]);
    let inspect: serde_json::Value =
        serde_json::from_str(&w.env.ok(&["inspect", "--json"])).unwrap();
    assert_eq!(inspect["defaults"], serde_json::json!([]));
}

#[test]
fn no_auth_commands_run_without_unlocking() {
    let w = world();
    w.env.ok(&["lock"]);
    let out = w.env.ok(&["run", "--", "aws", "configure", "list"]);
    assert!(out.contains("access_key"), "{out}");
    // Older awscli v1 prints its version on stderr, newer on stdout.
    let o = w.env.run(&["run", "--", "aws", "--version"]);
    let both = format!("{}{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
    assert!(o.status.success() && both.contains("aws-cli/"), "{both}");
    assert!(w.env.agent_pid().is_none(), "nothing unlocked the vault");
}

#[test]
fn credential_process_serves_the_cli_and_boto3() {
    let w = world();
    w.env.write(
        ".aws/config",
        &format!(
            "[profile cp]\ncredential_process = {} credential-process --profile cp\nop_aws_item = bob\nregion = us-east-1\n",
            bin().display()
        ),
    );
    let mut c = w.env.command(require("aws"));
    c.args([
        "--profile",
        "cp",
        "sts",
        "get-caller-identity",
        "--query",
        "Arn",
        "--output",
        "text",
    ]);
    let out = run_cmd(c, "");
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    assert_eq!(ok(out, &["aws --profile cp"]).trim(), w.bob);
    let py = "import boto3,os\nprint(boto3.Session(profile_name='cp').client('sts',endpoint_url=os.environ['AWS_ENDPOINT_URL_STS']).get_caller_identity()['Arn'])";
    let mut c = w.env.command(require("python3"));
    c.args(["-c", py]);
    assert_eq!(ok(run_cmd(c, ""), &["boto3"]).trim(), w.bob);
    // Run through op-aws, the profile authenticates by itself: passed through untouched.
    let out = w.env.ok(&[
        "run",
        "--",
        "aws",
        "--profile",
        "cp",
        "sts",
        "get-caller-identity",
        "--query",
        "Arn",
    ]);
    assert!(out.contains(&w.bob), "{out}");
}

/// A stand-in `aws` that prints what it was given.
fn fake_aws(env: &TestEnv) -> std::path::PathBuf {
    let p = env.write(
        "bin/aws",
        "#!/bin/sh\necho \"args:$*\"\necho \"profile:${AWS_PROFILE-unset}\"\necho \"key:$AWS_ACCESS_KEY_ID\"\necho \"region:${AWS_REGION-unset}/${AWS_DEFAULT_REGION-unset}\"\necho \"token:${AWS_SESSION_TOKEN-unset}${AWS_SECURITY_TOKEN-unset}\"\n",
    );
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

#[test]
fn profile_flag_is_removed_and_an_equal_argument_survives() {
    let mut env = TestEnv::new();
    env.vault();
    env.add_keys("prod", "AKIAPROD0000000001", "sec", Some("eu-west-1"));
    env.write(".aws/config", "[profile prod]\noutput = json\n");
    env.set("OP_AWS_SESSION_ITEM", "prod");
    env.set("AWS_SECURITY_TOKEN", "stale");
    let aws = fake_aws(&env);
    let aws = aws.to_str().unwrap();
    let out = env.ok(&[
        "run",
        "--",
        aws,
        "--profile",
        "prod",
        "s3",
        "cp",
        "prod",
        "s3://b/prod",
    ]);
    assert!(out.contains("args:s3 cp prod s3://b/prod\n"), "{out}");
    assert!(
        out.contains("profile:prod\n") && out.contains("key:AKIAPROD0000000001\n"),
        "{out}"
    );
    assert!(out.contains("region:eu-west-1/eu-west-1\n"), "{out}");
    assert!(
        out.contains("token:unsetunset\n"),
        "stale tokens are scrubbed: {out}"
    );
    let out = env.ok(&[
        "run",
        "--",
        aws,
        "s3",
        "ls",
        "--profile=prod",
        "--",
        "--profile",
        "x",
    ]);
    assert!(out.contains("args:s3 ls -- --profile x\n"), "{out}");
    // The shell's region wins over the item's.
    env.set("AWS_REGION", "ap-south-1");
    let out = env.ok(&["run", "--", aws, "s3", "ls"]);
    assert!(
        out.contains("region:ap-south-1/ap-south-1\n") && out.contains("profile:unset"),
        "{out}"
    );
}

#[test]
fn a_directory_outside_home_works() {
    let env = TestEnv::new();
    env.vault();
    env.add_keys("outside", "AKIAOUTSIDE0000001", "sec", None);
    let dir = env.root.path().join("outside/deep");
    std::fs::create_dir_all(&dir).unwrap();
    env.ok(&[
        "use",
        "outside",
        "--directory",
        env.root.path().join("outside").to_str().unwrap(),
    ]);
    let mut c = env.op_aws(&["run", "--", "sh", "-c", "echo $AWS_ACCESS_KEY_ID"]);
    c.current_dir(&dir);
    assert_eq!(ok(run_cmd(c, ""), &["run"]), "AKIAOUTSIDE0000001\n");
}

#[test]
fn exit_status_and_missing_commands() {
    let mut env = TestEnv::new();
    env.vault();
    env.add_keys("prod", "AKIAPROD0000000001", "sec", None);
    env.set("OP_AWS_SESSION_ITEM", "prod");
    let o = env.run(&["run", "--", "sh", "-c", "exit 7"]);
    assert_eq!(o.status.code(), Some(7));
    let o = env.run(&["run", "--", "no-such-command-xyz", "arg"]);
    assert_eq!(o.status.code(), Some(127));
    assert_eq!(
        stderr(&o),
        "op-aws: no-such-command-xyz: command not found\n"
    );
    let o = env.run(&["use", "nope", "--global"]);
    assert!(
        !o.status.success() && stderr(&o).contains("no item named \"nope\""),
        "{}",
        stderr(&o)
    );
}

#[test]
fn secrets_never_reach_argv_or_stderr() {
    let secret = "zzTopSecretValue0123456789/abcdefABCDEF";
    let mut env = TestEnv::new();
    env.vault();
    env.add_keys("prod", "AKIAPROD0000000001", secret, None);
    env.set("OP_AWS_SESSION_ITEM", "prod");
    let pattern = env.write("pattern", secret);
    env.set("PAT", pattern.to_str().unwrap());
    // While the wrapped command runs, no process's command line holds the secret.
    let script = "grep -lF -f \"$PAT\" /proc/[0-9]*/cmdline 2>/dev/null; test \"$AWS_SECRET_ACCESS_KEY\" = \"$(cat \"$PAT\")\" && echo injected";
    let o = env.run(&["run", "--", "sh", "-c", script]);
    assert_eq!(String::from_utf8_lossy(&o.stdout), "injected\n");
    assert!(!stderr(&o).contains(secret));
}

#[test]
fn export_quotes_for_each_shell() {
    let mut env = TestEnv::new();
    env.vault();
    let nasty = "it's a \"secret\" $HOME \\ `x`";
    env.ok_with_stdin(
        &[
            "item",
            "add",
            "odd",
            "--set",
            "Access Key ID=AKIAODD",
            "--set-secret",
            "Secret Access Key",
        ],
        &format!("{nasty}\n"),
    );
    env.set("OP_AWS_SESSION_ITEM", "odd");
    let sh = env.ok(&["export", "--format", "sh"]);
    let mut c = env.command("bash");
    c.args(["-c", &format!("{sh}\nprintf %s \"$AWS_SECRET_ACCESS_KEY\"")]);
    assert_eq!(ok(run_cmd(c, ""), &["bash"]), nasty);
    let fish = env.ok(&["export", "--format", "fish"]);
    let mut c = env.command("fish");
    c.args([
        "--no-config",
        "-c",
        &format!("{fish}\nprintf %s \"$AWS_SECRET_ACCESS_KEY\""),
    ]);
    assert_eq!(ok(run_cmd(c, ""), &["fish"]), nasty);
    let json: serde_json::Value =
        serde_json::from_str(&env.ok(&["export", "--format", "json"])).unwrap();
    assert_eq!(json["Version"], 1);
    assert_eq!(json["SecretAccessKey"], nasty);
    let nu: serde_json::Value =
        serde_json::from_str(&env.ok(&["export", "--format", "nu"])).unwrap();
    assert_eq!(nu["AWS_SECRET_ACCESS_KEY"], nasty);
}

#[test]
fn init_without_a_terminal_needs_item_and_scope() {
    let mut env = TestEnv::new();
    env.vault();
    env.add_keys("prod", "AKIAPROD0000000001", "sec", None);
    env.set("SHELL", "/usr/bin/fish");
    let o = env.run(&["init"]);
    assert!(
        !o.status.success() && stderr(&o).contains("op-aws init --item NAME --scope"),
        "{}",
        stderr(&o)
    );
    let out = env.ok(&["init", "--item", "PROD", "--scope", "global"]);
    assert_eq!(out, "op-aws activate fish | source\n");
    let v: serde_json::Value = serde_json::from_str(&env.ok(&["inspect", "--json"])).unwrap();
    assert_eq!(v["defaults"][0]["item"], "prod");
    assert_eq!(v["defaults"][0]["scope"], "global");
    let o = env.run(&["init", "--item", "nope", "--scope", "directory"]);
    assert!(
        stderr(&o).contains("no item named \"nope\""),
        "{}",
        stderr(&o)
    );
}

#[test]
fn use_session_needs_the_shell_integration() {
    let mut env = TestEnv::new();
    env.vault();
    env.add_keys("prod", "AKIAPROD0000000001", "sec", None);
    let o = env.run(&["use", "prod"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        o.stdout.is_empty() && stderr(&o).contains("op-aws activate"),
        "{}",
        stderr(&o)
    );
    env.set("__OP_AWS_SHELL", "fish");
    assert_eq!(
        env.ok(&["use", "Prod"]),
        "set -gx OP_AWS_SESSION_ITEM 'prod'\n"
    );
}

#[test]
fn doctor_finds_plaintext_keys_and_checks_the_clock() {
    let moto = Moto::start();
    let mut env = TestEnv::new();
    use_moto(&mut env, &moto);
    env.vault();
    env.write(
        ".aws/credentials",
        "[default]\naws_access_key_id = AKIA1\naws_secret_access_key = s\n",
    );
    let o = env.run(&["doctor"]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        out.contains("warn plaintext keys") && out.contains("default"),
        "{out}"
    );
    assert!(out.contains("warn shell integration not loaded"), "{out}");
    assert!(out.contains("ok   clock within"), "{out}");
    env.ok(&[
        "import",
        "--profile",
        "default",
        "--remove-plaintext",
        "--yes",
    ]);
    env.set("OP_AWS_SHELL", "bash");
    let out = env.ok(&["doctor"]);
    assert!(out.contains("ok   no plaintext keys"), "{out}");
    assert!(!out.contains("warn"), "{out}");
    // An unreachable STS is a warning, not a hang or a crash.
    env.set("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9");
    let out = String::from_utf8_lossy(&env.run(&["doctor"]).stdout).into_owned();
    assert!(
        out.contains("warn cannot check the clock against STS"),
        "{out}"
    );
}

#[test]
fn a_terminal_without_a_default_gets_a_picker() {
    let env = TestEnv::new();
    env.vault();
    env.add_keys("first", "AKIAFIRST000000001", "sec", None);
    env.add_keys("second", "AKIASECOND00000001", "sec", None);
    let py = r#"
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "run", "--", "sh", "-c", "echo KEY=$AWS_ACCESS_KEY_ID"])
buf = b""
def read():
    global buf
    try:
        chunk = os.read(fd, 1024)
    except OSError:
        return False
    buf += chunk
    return bool(chunk)
while b"choose" not in buf and read():
    pass
os.write(fd, b"2\n")
while read():
    pass
os.waitpid(pid, 0)
sys.stdout.write(buf.decode())
"#;
    let mut c = env.command(require("python3"));
    c.args(["-c", py]).arg(bin());
    let out = ok(run_cmd(c, ""), &["picker"]);
    assert!(
        out.contains("1) first") && out.contains("2) second"),
        "{out}"
    );
    assert!(out.contains("KEY=AKIASECOND00000001"), "{out}");
}

#[test]
fn a_closed_stdout_is_not_a_crash() {
    use std::os::unix::process::ExitStatusExt;
    let env = TestEnv::new();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let o = env
        .op_aws(&["list"])
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
    assert_eq!(o.status.signal(), Some(13), "dies of SIGPIPE like cat");
}

/// `help` or `-h` as an argument is no reason to skip the keys; a typo'd option is not the
/// command; the integration's markers do not reach the command.
#[test]
fn help_words_options_and_markers() {
    let mut env = TestEnv::new();
    env.vault();
    env.add_keys("prod", "AKIAPROD0000000001", "sec", None);
    env.set("OP_AWS_SESSION_ITEM", "prod");
    env.set("OP_AWS_SHELL", "bash");
    env.set("__OP_AWS_VARS", "AWS_REGION");
    let aws = fake_aws(&env);
    let aws = aws.to_str().unwrap();
    let out = env.ok(&["run", "--", aws, "s3", "cp", "help", "s3://b/help"]);
    assert!(
        out.contains("key:AKIAPROD0000000001"),
        "help as an argument: {out}"
    );
    let out = env.ok(&[
        "run",
        "--",
        aws,
        "s3",
        "sync",
        ".",
        "s3://b",
        "--exclude",
        "-h",
        "--dryrun",
    ]);
    assert!(
        out.contains("key:AKIAPROD0000000001"),
        "-h as a value: {out}"
    );
    let out = env.ok(&["run", "--", aws, "s3", "help"]);
    assert!(out.contains("key:\n"), "real help needs no keys: {out}");
    let o = env.run(&["run", "--profle", "admin", "--", aws, "s3", "ls"]);
    let e = stderr(&o);
    assert!(
        !o.status.success() && e.contains("unknown option \"--profle\""),
        "{e}"
    );
    let out = env.ok(&["run", "--", "env"]);
    assert!(
        !out.contains("OP_AWS_SHELL=") && !out.contains("__OP_AWS_VARS="),
        "markers reached the command: {out}"
    );
    assert!(
        out.contains("OP_AWS_SESSION_ITEM=prod"),
        "the user's own setting stays: {out}"
    );
}
