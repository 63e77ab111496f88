//! The `op-aws` command is a small front (src/front/) that does the hot path itself and hands
//! everything else to `op-aws-full`: it links no AWS SDK, its answers are the full binary's,
//! it hands over whenever it cannot answer, and the agent it asks sees every edit of the files
//! it keeps parsed.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{Moto, TestEnv, bin, stderr, use_moto};

fn full() -> PathBuf {
    bin().with_file_name("op-aws-full")
}

/// The symbols of `exe` (`nm`: the test binaries are not stripped).
fn symbols(exe: &Path) -> String {
    let o = Command::new("nm")
        .arg("--defined-only")
        .arg(exe)
        .output()
        .expect("nm (binutils: scripts/test-deps installs it)");
    assert!(o.status.success(), "nm {}: {}", exe.display(), stderr(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn the_front_links_no_aws_sdk() {
    let (front, full) = (symbols(&bin()), symbols(&full()));
    for krate in ["aws_sdk_sts", "aws_smithy_runtime", "tokio", "hyper"] {
        assert!(full.contains(krate), "the full binary has {krate}");
        assert!(
            !front.contains(krate),
            "the front links {krate}: it must call nothing that reaches the SDKs (e.g. resolve::resolve)"
        );
    }
}

/// A test world with an unlocked vault, two items, a directory default and a profile; and a
/// copy of the front alone, with no full binary beside it.
fn world() -> (TestEnv, PathBuf, PathBuf) {
    let env = TestEnv::new();
    env.vault();
    env.add_keys("acme", "AKIAACMEACMEACME0001", "acme-secret", None);
    env.add_keys("bbbb", "AKIABBBBBBBBBBBB0001", "bbbb-secret", None);
    let proj = env.home.join("proj");
    std::fs::create_dir_all(&proj).unwrap();
    env.ok(&["use", "acme", "--directory", proj.to_str().unwrap()]);
    env.write(
        ".aws/config",
        "[profile dev]\nop_aws_item = acme\nregion = eu-west-1\n",
    );
    let alone = env.root.path().join("alone");
    std::fs::create_dir_all(&alone).unwrap();
    std::fs::copy(bin(), alone.join("op-aws")).unwrap();
    (env, proj, alone.join("op-aws"))
}

/// `exe args` in `env`'s world, from `dir`: (status, stdout, stderr).
fn out(env: &TestEnv, exe: &Path, dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let o = env
        .command(exe)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr(&o),
    )
}

/// The AWS and op-aws variables of `env`'s output, sorted.
fn aws_vars(env_output: &str) -> Vec<&str> {
    let mut v: Vec<&str> = env_output
        .lines()
        .filter(|l| l.starts_with("AWS_") || l.starts_with("OP_AWS_"))
        .collect();
    v.sort_unstable();
    v
}

#[test]
fn the_front_alone_answers_the_hot_path_as_the_full_binary_does() {
    let (env, proj, alone) = world();
    let home = env.home.clone();
    // Run: a directory's default, a profile's item and region, an unknown item's error.
    for (dir, args) in [
        (&proj, &["run", "--", "env"][..]),
        (&home, &["run", "--profile", "dev", "--", "env"]),
        (&home, &["run", "--profile=dev", "env"]),
    ] {
        let (code, stdout, err) = out(&env, &alone, dir, args);
        assert_eq!(code, Some(0), "{args:?}: {err}");
        let (_, expected, _) = out(&env, &full(), dir, args);
        assert_eq!(aws_vars(&stdout), aws_vars(&expected), "{args:?}");
        assert!(
            stdout.contains("AWS_ACCESS_KEY_ID=AKIAACMEACMEACME0001"),
            "{stdout}"
        );
    }
    // An error the agent hands back to its caller (here: no such item), through the front.
    let args = ["run", "--item", "nope", "--", "true"];
    let refused = out(&env, &bin(), &home, &args);
    assert_eq!(refused, out(&env, &full(), &home, &args));
    assert_eq!(refused.0, Some(1));
    assert!(
        refused.2.starts_with("op-aws: ") && refused.2.contains("nope"),
        "{}",
        refused.2
    );
    // A command that is not there: the shell's status and words.
    let missing = out(&env, &alone, &home, &["run", "--", "no-such-command-here"]);
    assert_eq!(missing.0, Some(127));
    assert_eq!(
        missing,
        out(&env, &full(), &home, &["run", "--", "no-such-command-here"])
    );
    // credential-process: the same JSON, byte for byte.
    let (code, json, err) = out(
        &env,
        &alone,
        &home,
        &["credential-process", "--profile", "dev"],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        json,
        out(
            &env,
            &full(),
            &home,
            &["credential-process", "--profile", "dev"]
        )
        .1
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["AccessKeyId"], "AKIAACMEACMEACME0001");
    // hook-env, in each shell's syntax.
    for shell in ["bash", "zsh", "fish", "nu"] {
        let args = ["hook-env", "--shell", shell];
        let (code, text, err) = out(&env, &alone, &proj, &args);
        assert_eq!(code, Some(0), "{err}");
        assert_eq!(text, out(&env, &full(), &proj, &args).1, "{shell}");
        assert!(text.contains("acme"), "{shell}: {text}");
    }
}

#[test]
fn the_front_hands_over_what_it_does_not_do() {
    let (env, _proj, alone) = world();
    let home = env.home.clone();
    let installed = bin();
    // Another command, another option, no agent: the full binary's (missing here: said so).
    for args in [
        &["--version"][..],
        &["run", "--no-server", "--profile", "dev", "--", "true"],
        &[
            "credential-process",
            "--profile",
            "dev",
            "--format",
            "claude-code",
        ],
    ] {
        let (code, _, err) = out(&env, &alone, &home, args);
        assert_eq!(code, Some(1), "{args:?}");
        assert!(
            err.starts_with("op-aws: cannot run ")
                && err.contains("op-aws-full")
                && err.contains("\nhint: "),
            "{args:?}: {err}"
        );
        // Installed, the full binary does them.
        let (code, _, err) = out(&env, &installed, &home, args);
        assert_eq!(code, Some(0), "{args:?} installed: {err}");
    }
    // An op-aws-full that is the front itself (a symlink, a hard link, a copy) is refused,
    // not handed over to forever.
    let looped = env.home.join("looped");
    std::fs::create_dir(&looped).unwrap();
    let front = looped.join("op-aws");
    std::fs::copy(&alone, &front).unwrap();
    for how in ["symlink", "hard link", "copy"] {
        let full = looped.join("op-aws-full");
        let _ = std::fs::remove_file(&full);
        match how {
            "symlink" => std::os::unix::fs::symlink("op-aws", &full).unwrap(),
            "hard link" => std::fs::hard_link(&front, &full).unwrap(),
            _ => drop(std::fs::copy(&front, &full).unwrap()),
        }
        let (code, _, err) = out(&env, &front, &home, &["--version"]);
        assert_eq!(code, Some(1), "{how}: {err}");
        assert!(
            err.starts_with("op-aws: cannot run ")
                && err.contains("it is this program")
                && err.contains("\nhint: "),
            "{how}: {err}"
        );
    }
    env.ok(&["lock"]);
    let (code, _, err) = out(
        &env,
        &alone,
        &home,
        &["run", "--profile", "dev", "--", "true"],
    );
    assert_eq!(code, Some(1));
    assert!(
        err.contains("op-aws-full"),
        "a locked vault is the full binary's: {err}"
    );
    // Installed, the full binary says what to do about the lock.
    let (code, _, err) = out(
        &env,
        &installed,
        &home,
        &["run", "--profile", "dev", "--", "true"],
    );
    assert_eq!(code, Some(1));
    assert!(err.contains("unlock"), "{err}");
    // Usage messages name the command as typed, not the full binary.
    let (code, _, err) = out(&env, &installed, &home, &["run"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("op-aws run") && !err.contains("op-aws-full"),
        "{err}"
    );
}

/// The agent keeps config.toml, the AWS files and the defaults parsed while they are unchanged:
/// an edit between two runs, in place and of the same size, is seen by the second.
#[test]
fn an_edit_of_each_file_the_agent_keeps_parsed_is_seen_by_the_next_run() {
    let (mut env, proj, _) = world();
    // The profile's session comes from STS (its item is bound in the credentials file).
    let moto = Moto::start();
    use_moto(&mut env, &moto);
    let home = env.home.clone();
    // The profile's item from the credentials file (the SDKs merge both files' profiles).
    env.write(".aws/config", "[profile dev]\nregion = eu-west-1\n");
    env.write(".aws/credentials", "[dev]\nop_aws_item = acme\n");
    let config_toml = env.config_dir().join("config.toml");
    std::fs::write(&config_toml, "agents = \"allow\"\n").unwrap();
    let defaults = env.config_dir().join("defaults.json");
    assert!(
        defaults.is_file(),
        "`op-aws use --directory` wrote {}",
        defaults.display()
    );
    // Older than the agent's settling time: kept after the first read.
    std::thread::sleep(std::time::Duration::from_millis(1200));
    let vars = |env: &TestEnv, dir: &Path, args: &[&str]| {
        let (code, stdout, err) = out(env, &bin(), dir, args);
        assert_eq!(code, Some(0), "{args:?}: {err}");
        stdout
    };
    let profile = ["run", "--profile", "dev", "--", "env"];
    let key = |text: &str| {
        let line = text.lines().find(|l| l.starts_with("AWS_ACCESS_KEY_ID="));
        line.expect("a key").to_owned()
    };
    let mut acme_session = None;
    for _ in 0..2 {
        assert!(vars(&env, &proj, &["run", "--", "env"]).contains("=AKIAACMEACMEACME0001"));
        let p = vars(&env, &home, &profile);
        assert!(p.contains("AWS_REGION=eu-west-1"), "{p}");
        // One session for the item, cached: the same key both times.
        assert_eq!(acme_session.get_or_insert_with(|| key(&p)), &key(&p));
    }
    env.set("CLAUDECODE", "1");
    vars(&env, &home, &profile);
    let edit = |path: &Path, from: &str, to: &str| {
        let text = std::fs::read_to_string(path).unwrap();
        assert!(text.contains(from), "{}: {text}", path.display());
        std::fs::write(path, text.replace(from, to)).unwrap();
    };
    edit(&config_toml, "\"allow\"", "\"deny\"");
    let (code, _, err) = out(&env, &bin(), &home, &profile);
    assert_eq!(code, Some(1), "config.toml's edit is seen: {err}");
    env.set("CLAUDECODE", "");
    edit(&defaults, "\"acme\"", "\"bbbb\"");
    assert!(vars(&env, &proj, &["run", "--", "env"]).contains("=AKIABBBBBBBBBBBB0001"));
    edit(&home.join(".aws/config"), "eu-west-1", "us-east-2");
    assert!(vars(&env, &home, &profile).contains("AWS_REGION=us-east-2"));
    edit(&home.join(".aws/credentials"), "acme", "bbbb");
    let p = vars(&env, &home, &profile);
    assert_ne!(
        acme_session.as_deref(),
        Some(key(&p).as_str()),
        "the credentials file's edit is seen: another item, another session"
    );
}
