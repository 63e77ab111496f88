//! What a command op-aws starts gets from it: the credentials (or the endpoint) and nothing of
//! op-aws's own — no variable that signs op-aws in to 1Password, no marker of the shell
//! integration — whatever path it takes (`run`, `run --server`, the wrappers, a command that
//! needs no credentials); an empty signal mask; and a SIGTERM or SIGHUP sent to op-aws.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;
use std::time::Duration;

use serde_json::json;

use crate::onepassword::{config, fake_dir, key_fields, op_env, op_item, put_items};
use crate::support::sts_server::{Mode, StsServer};
use crate::support::{TestEnv, require};

const SA_TOKEN: &str = "ops_eyJzaWduSW5BZGRyZXNzIjoic2VjcmV0In0";
const CONNECT_TOKEN: &str = "connect-token-secret";
const SESSION: &str = "op-session-secret";
const ITEM: &str = "op://Shared CI/ci";

/// Variables that would sign op-aws in, and markers of the integration, as a line of `env`
/// shows them.
fn leaked(out: &str) -> Vec<&str> {
    out.lines()
        .filter(|l| {
            l.starts_with("OP_SERVICE_ACCOUNT_TOKEN=")
                || l.starts_with("OP_CONNECT_")
                || l.starts_with("OP_SESSION_")
                || l.starts_with("OP_AWS_SHELL=")
                || l.starts_with("__OP_AWS_")
                || l.contains(SA_TOKEN)
                || l.contains(CONNECT_TOKEN)
                || l.contains(SESSION)
        })
        .collect()
}

/// The 1Password store with a shared CI item, a fake `op` that accepts the service account's
/// and Connect's tokens, an STS stub for the endpoint's sessions, and `env` wrapped.
fn ci_world() -> (TestEnv, StsServer) {
    let mut env = op_env();
    let stub = StsServer::start(Mode::Issue { secs: 3600 });
    env.set("AWS_ENDPOINT_URL_STS", stub.url());
    put_items(
        &env,
        &[op_item(
            "ci1",
            "Shared CI",
            "ci",
            key_fields("AKIACI00000000000001", "ci-secret"),
        )],
    );
    std::fs::write(
        fake_dir(&env).join("tokens.json"),
        json!({"service-account": SA_TOKEN, "connect": CONNECT_TOKEN}).to_string(),
    )
    .unwrap();
    config(&env, "store = \"1password\"\nwrap_extra = [\"env\"]\n");
    // A person's `op signin` session beside the machine's token: neither is the command's.
    env.set("OP_SESSION_my", SESSION);
    (env, stub)
}

#[test]
fn no_variable_that_signs_op_aws_in_reaches_a_command() {
    let (mut env, _stub) = ci_world();
    for (auth, vars) in [
        (
            "service account",
            &[("OP_SERVICE_ACCOUNT_TOKEN", SA_TOKEN)][..],
        ),
        (
            "connect",
            &[
                ("OP_CONNECT_HOST", "http://127.0.0.1:9"),
                ("OP_CONNECT_TOKEN", CONNECT_TOKEN),
            ],
        ),
    ] {
        env.extra_env
            .retain(|(k, _)| k != "OP_SERVICE_ACCOUNT_TOKEN" && !k.starts_with("OP_CONNECT_"));
        for (k, v) in vars {
            env.set(k, *v);
        }
        // Keys in the environment.
        let out = env.ok(&["run", "--item", ITEM, "--", "env"]);
        assert!(
            out.contains("AWS_ACCESS_KEY_ID=AKIACI00000000000001"),
            "{auth}: {out}"
        );
        assert_eq!(leaked(&out), Vec::<&str>::new(), "{auth}: run");
        // The endpoint.
        let out = env.ok(&["run", "--server", "--item", ITEM, "--", "env"]);
        assert!(
            out.contains("AWS_CONTAINER_CREDENTIALS_FULL_URI="),
            "{auth}: {out}"
        );
        assert_eq!(leaked(&out), Vec::<&str>::new(), "{auth}: run --server");
        // The bash wrapper, this terminal's item in effect.
        let mut c = env.command(require("bash"));
        c.env("OP_AWS_SESSION_ITEM", ITEM).args([
            "--noprofile",
            "--norc",
            "-euc",
            "eval \"$(op-aws activate bash)\"\nenv\n",
        ]);
        let out = crate::support::ok(crate::support::run_cmd(c, ""), &["bash wrapper"]);
        assert!(
            out.contains("AWS_ACCESS_KEY_ID=AKIACI00000000000001"),
            "{auth}: the wrapper did not run env through op-aws: {out}"
        );
        assert_eq!(leaked(&out), Vec::<&str>::new(), "{auth}: the wrapper");
    }
}

/// A command that needs no credentials (`aws ... help`) is exec'd untouched by the vault, but
/// still without op-aws's sign-in variables and the integration's markers.
#[test]
fn a_command_without_credentials_gets_no_markers_and_no_sign_in() {
    let mut env = TestEnv::new();
    // An `aws` that shows what it was given.
    let bin = env.root.path().join("fake-aws");
    std::fs::create_dir_all(&bin).unwrap();
    let aws = bin.join("aws");
    std::fs::write(&aws, "#!/bin/sh\nexec env\n").unwrap();
    std::fs::set_permissions(&aws, std::fs::Permissions::from_mode(0o755)).unwrap();
    env.set(
        "PATH",
        format!("{}:{}", bin.display(), crate::support::tools_path()),
    );
    for (k, v) in [
        ("OP_AWS_SHELL", "bash"),
        ("__OP_AWS_SHELL", "bash"),
        ("__OP_AWS_EXPORT", "1"),
        ("__OP_AWS_STATE", "x"),
        ("OP_SERVICE_ACCOUNT_TOKEN", SA_TOKEN),
        ("OP_SESSION_my", SESSION),
        ("KEEP_ME", "kept"),
    ] {
        env.set(k, v);
    }
    let out = env.ok(&["run", "--", "aws", "s3", "help"]);
    assert!(out.contains("KEEP_ME=kept"), "{out}");
    assert_eq!(leaked(&out), Vec::<&str>::new());
}

/// The blocked signals in /proc/PID/status (`SigBlk`), as a number.
fn blocked(status: &str) -> u64 {
    let hex = status
        .lines()
        .find_map(|l| l.strip_prefix("SigBlk:"))
        .unwrap()
        .trim();
    u64::from_str_radix(hex, 16).unwrap()
}

/// An unlocked vault with item `dev` and an STS stub for the endpoint's sessions.
fn vault_world() -> (TestEnv, StsServer) {
    let mut env = TestEnv::new();
    let stub = StsServer::start(Mode::Issue { secs: 3600 });
    env.set("AWS_ENDPOINT_URL_STS", stub.url());
    env.set("AWS_REGION", "us-east-1");
    env.vault();
    env.add_keys("dev", "AKIADEV0000000000001", "dev-secret", None);
    (env, stub)
}

/// Whatever mask op-aws itself was started with (a CI runner's, or the signals `run --server`
/// blocks for its own use), the command starts with none blocked.
#[test]
fn commands_start_with_an_empty_signal_mask() {
    use std::os::unix::process::CommandExt;
    let (env, _stub) = vault_world();
    for args in [
        &["run", "--item", "dev", "--"][..],
        &["run", "--server", "--item", "dev", "--"],
    ] {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["cat", "/proc/self/status"]);
        let mut c = env.op_aws(&all);
        // SAFETY: between fork and exec only sigprocmask runs, which is async-signal-safe.
        unsafe {
            c.pre_exec(|| {
                use nix::sys::signal::{SigSet, SigmaskHow, Signal, sigprocmask};
                let mut set = SigSet::empty();
                set.add(Signal::SIGTERM);
                set.add(Signal::SIGUSR1);
                sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), None)?;
                Ok(())
            });
        }
        let out = crate::support::ok(crate::support::run_cmd(c, ""), &all);
        assert_eq!(blocked(&out), 0, "{args:?}: {out}");
    }
}

fn alive(pid: u32) -> bool {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), None).is_ok()
}

/// `run --server`: a SIGTERM or SIGHUP to op-aws reaches the command, op-aws exits as the
/// command did, and the endpoint's token file is gone with it.
#[test]
fn a_signal_to_run_server_reaches_the_command_and_nothing_is_left() {
    use nix::sys::signal::Signal;
    let (env, _stub) = vault_world();
    for sig in [Signal::SIGTERM, Signal::SIGHUP] {
        // The command says its pid and token file, then waits (as a long job would).
        let mut c = env.op_aws(&[
            "run",
            "--server",
            "--item",
            "dev",
            "--",
            "sh",
            "-c",
            "echo $$ \"$AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE\"; exec sleep 60",
        ]);
        let mut op_aws = c
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(op_aws.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let (pid, token_file) = line.trim().split_once(' ').unwrap();
        let pid: u32 = pid.parse().unwrap();
        let token_file = std::path::PathBuf::from(token_file);
        assert!(token_file.exists(), "{sig}: no token file while it runs");
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(op_aws.id() as i32), sig).unwrap();
        let status = op_aws.wait().unwrap();
        let gone = (0..500).any(|_| {
            let g = !alive(pid);
            if !g {
                std::thread::sleep(Duration::from_millis(10));
            }
            g
        });
        if !gone {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), Signal::SIGKILL);
        }
        assert!(gone, "{sig}: the command outlived op-aws");
        assert_eq!(
            status.code(),
            Some(128 + sig as i32),
            "{sig}: op-aws exits as the command did: {status:?}"
        );
        assert!(
            !token_file.exists(),
            "{sig}: the token file outlived op-aws"
        );
    }
}

/// A token file whose endpoint was killed outright (SIGKILL: no chance to remove it) is removed
/// by the next endpoint.
#[test]
fn an_orphaned_endpoint_token_is_removed_by_the_next_endpoint() {
    let (env, _stub) = vault_world();
    let mut c = env.op_aws(&[
        "run",
        "--server",
        "--item",
        "dev",
        "--",
        "sh",
        "-c",
        "echo $$ \"$AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE\"; exec sleep 60",
    ]);
    let mut op_aws = c
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(op_aws.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let (pid, token_file) = line.trim().split_once(' ').unwrap();
    let token_file = std::path::PathBuf::from(token_file);
    op_aws.kill().unwrap();
    op_aws.wait().unwrap();
    // The command, orphaned: stopped here (this test started it).
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid.parse().unwrap()),
        nix::sys::signal::Signal::SIGKILL,
    );
    assert!(
        token_file.exists(),
        "SIGKILL leaves it (nothing can help that)"
    );
    env.ok(&["run", "--server", "--item", "dev", "--", "true"]);
    assert!(
        !token_file.exists(),
        "the next endpoint left the orphaned token file"
    );
}
