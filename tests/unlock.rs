//! Issue 25: the person is asked even when the asking process has no terminal — through a
//! scripted Assuan pinentry (tests/support/fake-pinentry) and Debian's pinentry-tty in tmux.

use std::path::{Path, PathBuf};

use crate::support::sts_server::{Mode, StsServer};
use crate::support::tmux::Tmux;
use crate::support::{PASS, TestEnv, require, stderr};

const KEY: &str = "AKIAPINENTRY00000001";
const SECRET: &str = "pinentrysecretpinentrysecret000000000000";
const SERIAL: &str = "arn:aws:iam::123456789012:mfa/alice";

fn fake_pinentry() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/fake-pinentry")
}

/// The scripted pinentry's answers and what it was told.
struct Pin {
    log: PathBuf,
}

impl Pin {
    /// `pinentry_program` set to the fake, which answers `answers` in order.
    fn install(env: &mut TestEnv, answers: &[&str]) -> Self {
        let answers_file = env.write("pinentry/answers", &(answers.join("\n") + "\n"));
        let _ = std::fs::remove_file(env.home.join("pinentry/answers.used"));
        let log = env.home.join("pinentry/log");
        let _ = std::fs::remove_file(&log);
        env.set("PINENTRY_ANSWERS", answers_file.display().to_string());
        env.set("PINENTRY_LOG", log.display().to_string());
        write_config(
            env,
            &format!(
                "pinentry_program = {:?}\n",
                fake_pinentry().display().to_string()
            ),
        );
        Self { log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The commands sent (not the START and ENV lines).
    fn commands(&self) -> Vec<String> {
        self.log()
            .lines()
            .filter(|l| !l.starts_with("START ") && !l.starts_with("ENV "))
            .map(str::to_owned)
            .collect()
    }
}

fn write_config(env: &TestEnv, text: &str) {
    let p = env.config_dir().join("config.toml");
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// The shell printed `rc=N` after the command (the command line itself holds `rc=$?`).
fn exited(screen: &str) -> bool {
    screen.lines().any(|l| l.starts_with("rc="))
}

fn locked_vault_with_keys() -> TestEnv {
    let env = TestEnv::new();
    env.vault();
    env.add_keys("acme", KEY, SECRET, Some("eu-west-1"));
    env.ok(&["lock"]);
    env
}

fn unlocked(env: &TestEnv) -> bool {
    let v: serde_json::Value = serde_json::from_str(&env.ok(&["status", "--json"])).unwrap();
    v["agent"]["unlocked"].as_bool() == Some(true)
}

/// Every file under `dir`, path and contents, to prove nothing changed.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(d) = todo.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap_or_default()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_locked_vault_is_unlocked_through_pinentry_from_a_process_without_a_terminal() {
    let mut env = locked_vault_with_keys();
    let pin = Pin::install(&mut env, &["not the passphrase", PASS]);
    // stdin is a pipe: no terminal, as from an IDE or an AI agent's subprocess.
    let out = env.run(&[
        "run",
        "--item",
        "acme",
        "--",
        "sh",
        "-c",
        "echo KEY=$AWS_ACCESS_KEY_ID",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    assert!(text.contains(&format!("KEY={KEY}")), "{text}");
    assert!(unlocked(&env), "the agent holds the vault now");

    let cmds = pin.commands();
    let desc = cmds.iter().find(|c| c.starts_with("SETDESC ")).unwrap();
    // Who asks (the command, up to the program it runs) and why (the item).
    assert!(desc.contains("op-aws run --item acme -- sh"), "{desc}");
    assert!(
        !desc.contains("echo"),
        "the program's arguments stay out: {desc}"
    );
    assert!(
        desc.contains("vault is locked") && desc.contains("item \"acme\""),
        "{desc}"
    );
    assert_eq!(
        cmds.iter().filter(|c| *c == "GETPIN").count(),
        2,
        "a wrong passphrase is asked again: {cmds:?}"
    );
    assert!(
        cmds.iter()
            .any(|c| c.starts_with("SETERROR Wrong passphrase")),
        "{cmds:?}"
    );
    // The passphrase reached op-aws on the pinentry's stdout only: not its argv, not its
    // environment, not op-aws's output.
    assert!(!pin.log().contains(PASS), "{}", pin.log());
    assert!(!stderr(&out).contains(PASS));
    assert!(!text.contains(PASS));
}

#[test]
fn unlock_itself_asks_through_pinentry() {
    let mut env = locked_vault_with_keys();
    let pin = Pin::install(&mut env, &[PASS]);
    let out = env.run(&["unlock"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(unlocked(&env));
    let cmds = pin.commands();
    assert!(
        cmds.iter()
            .any(|c| c.starts_with("SETDESC ") && c.contains("op-aws unlock")),
        "{cmds:?}"
    );
    assert!(
        cmds.contains(&"SETPROMPT vault passphrase:".to_owned()),
        "{cmds:?}"
    );
}

#[test]
fn cancelling_the_pinentry_is_one_line_and_changes_nothing() {
    let mut env = locked_vault_with_keys();
    let pin = Pin::install(&mut env, &["cancel"]);
    let before = snapshot(&env.home);
    let out = env.run(&["run", "--item", "acme", "--", "sh", "-c", "echo ran"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert!(
        lines.len() <= 2 && lines[0].starts_with("op-aws: ") && lines[0].contains("cancelled"),
        "{err}"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("ran"));
    assert_eq!(pin.commands().iter().filter(|c| *c == "GETPIN").count(), 1);
    // The pinentry's own log is the only new file.
    let after: Vec<_> = snapshot(&env.home)
        .into_iter()
        .filter(|(p, _)| !p.starts_with(env.home.join("pinentry")))
        .collect();
    let before: Vec<_> = before
        .into_iter()
        .filter(|(p, _)| !p.starts_with(env.home.join("pinentry")))
        .collect();
    assert!(before == after, "a cancelled unlock changed files");
    assert!(!unlocked(&env));
}

#[test]
fn no_terminal_and_no_pinentry_names_both_ways_out() {
    let env = locked_vault_with_keys();
    for args in [
        &["run", "--item", "acme", "--", "true"][..],
        &["unlock"][..],
    ] {
        let out = env.run(args);
        assert!(!out.status.success(), "{args:?}");
        let err = stderr(&out);
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 2, "{args:?}: {err}");
        assert!(lines[0].contains("no terminal or pinentry"), "{err}");
        assert!(
            lines[1].starts_with("hint: ")
                && lines[1].contains("op-aws unlock")
                && lines[1].contains("pinentry_program"),
            "{err}"
        );
    }
}

#[test]
fn an_mfa_code_is_typed_in_pinentry() {
    let sts = StsServer::start(Mode::Issue { secs: 3600 });
    let mut env = TestEnv::new();
    env.set("AWS_ENDPOINT_URL_STS", sts.url());
    env.set("AWS_DEFAULT_REGION", "us-east-1");
    env.vault();
    env.add_keys("acme", KEY, SECRET, None);
    env.write(
        ".aws/config",
        &format!("[profile mfa]\nop_aws_item = acme\nmfa_serial = {SERIAL}\n"),
    );
    let pin = Pin::install(&mut env, &["12345", "314159"]);
    let out = env.run(&[
        "run",
        "--profile",
        "mfa",
        "--",
        "sh",
        "-c",
        "echo KEY=$AWS_ACCESS_KEY_ID",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    assert!(text.contains("KEY=ASIAISSUED"), "{text}");
    let gst: Vec<_> = sts
        .requests()
        .into_iter()
        .filter(|r| r.action == "GetSessionToken")
        .collect();
    assert_eq!(gst.len(), 1);
    assert_eq!(gst[0].params["TokenCode"], "314159");
    let cmds = pin.commands();
    let desc = cmds.iter().find(|c| c.starts_with("SETDESC ")).unwrap();
    assert!(
        desc.contains(SERIAL) && desc.contains("\"acme\"") && desc.contains("--profile mfa"),
        "{desc}"
    );
    assert!(
        cmds.iter()
            .any(|c| c == "SETERROR An MFA code is 6 digits."),
        "five digits are asked again: {cmds:?}"
    );
}

#[test]
fn a_confirmation_goes_to_pinentry_and_no_keeps_the_file() {
    let mut env = TestEnv::new();
    env.vault();
    let creds = env.write(
        ".aws/credentials",
        &format!("[dev]\naws_access_key_id = {KEY}\naws_secret_access_key = {SECRET}\n"),
    );
    let pin = Pin::install(&mut env, &["no"]);
    let out = env.run(&["import", "--profile", "dev", "--remove-plaintext"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(std::fs::read_to_string(&creds).unwrap().contains(SECRET));
    let cmds = pin.commands();
    assert!(
        cmds.iter().any(|c| c.starts_with("SETDESC ")
            && c.contains("remove")
            && c.contains("credentials")),
        "{cmds:?}"
    );
    assert!(cmds.iter().any(|c| c == "CONFIRM"), "{cmds:?}");
}

/// Debian's pinentry-tty, on the terminal `GPG_TTY` names (as gpg-agent uses it), for an
/// op-aws whose own stdin is not a terminal.
#[test]
fn pinentry_tty_asks_on_the_terminal_gpg_tty_names() {
    let env = locked_vault_with_keys();
    require("pinentry-tty");
    write_config(&env, "pinentry_program = \"pinentry-tty\"\n");
    let t = Tmux::sh(&env);
    t.send(&[
        "GPG_TTY=$(tty); export GPG_TTY; op-aws unlock </dev/null; echo rc=$?",
        "Enter",
    ]);
    let screen = t.wait_for("the pinentry-tty prompt", |s| {
        s.contains("vault passphrase:")
    });
    assert!(screen.contains("vault is locked"), "{screen}");
    t.send(&[PASS, "Enter"]);
    let screen = t.wait_for("op-aws to exit", exited);
    assert!(screen.contains("rc=0"), "{screen}");
    assert!(
        !screen.contains(PASS),
        "the passphrase was echoed: {screen}"
    );
    assert!(unlocked(&env));
}

// Security keys: a test age plugin (tests/support/age-plugin-optest) that speaks the real
// plugin protocol, run by op-aws through the age crate and by the stock `age` CLI.

fn test_plugin_source() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/age-plugin-optest")
}

/// A key made by the test plugin, and where the plugin is installed.
struct OpKey {
    dir: PathBuf,
    recipient: String,
    identity_file: PathBuf,
    log: PathBuf,
}

impl OpKey {
    /// Installs the plugin in a private directory put first on PATH, and generates a key.
    fn install(env: &mut TestEnv) -> Self {
        use std::os::unix::fs::PermissionsExt;
        let dir = env.root.path().join("plugins");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let bin = dir.join("age-plugin-optest");
        std::fs::copy(test_plugin_source(), &bin).unwrap();
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        env.set(
            "PATH",
            format!("{}:{}", dir.display(), crate::support::tools_path()),
        );
        let log = env.home.join("optest.log");
        env.set("OPTEST_LOG", log.display().to_string());
        let out = crate::support::ok(
            crate::support::run_cmd(
                {
                    let mut c = env.command(&bin);
                    c.arg("--generate");
                    c
                },
                "",
            ),
            &["age-plugin-optest --generate"],
        );
        let recipient = out
            .lines()
            .find_map(|l| l.strip_prefix("# recipient: "))
            .unwrap()
            .to_owned();
        let identity_file = env.write("optest-identity.txt", &out);
        Self {
            dir,
            recipient,
            identity_file,
            log,
        }
    }

    fn add(&self, env: &TestEnv, label: &str) {
        env.ok_with_stdin(
            &[
                "vault",
                "key",
                "add",
                "--recipient",
                &self.recipient,
                "--identity-file",
                self.identity_file.to_str().unwrap(),
                "--name",
                label,
                "--passphrase-stdin",
            ],
            &format!("{PASS}\n"),
        );
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// A vault with `acme` and one optest key, locked.
fn locked_vault_with_a_key() -> (TestEnv, OpKey) {
    let mut env = TestEnv::new();
    let key = OpKey::install(&mut env);
    env.vault();
    env.add_keys("acme", KEY, SECRET, Some("eu-west-1"));
    key.add(&env, "desk");
    env.ok(&["lock"]);
    (env, key)
}

#[test]
fn a_security_key_unlocks_with_no_passphrase_typed() {
    let (env, key) = locked_vault_with_a_key();
    // No terminal and no pinentry: nobody could type a passphrase.
    let out = env.run(&["unlock"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(unlocked(&env));
    assert!(key.log().contains("identity-v1 unwrapped"), "{}", key.log());

    // A command that finds the vault locked unlocks it the same way.
    env.ok(&["lock"]);
    let out = env.run(&[
        "run",
        "--item",
        "acme",
        "--",
        "sh",
        "-c",
        "echo KEY=$AWS_ACCESS_KEY_ID",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("KEY={KEY}")));

    let list: serde_json::Value =
        serde_json::from_str(&env.ok(&["vault", "key", "list", "--json"])).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["label"], "desk");
    assert_eq!(list[0]["plugin"], "optest");
    assert_eq!(list[0]["recipient"], key.recipient.as_str());
    assert!(list[0]["added"].as_u64().unwrap() > 0);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(env.data_dir().join("key-desk.age"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn unlock_passphrase_skips_the_keys() {
    let (mut env, key) = locked_vault_with_a_key();
    let pin = Pin::install(&mut env, &[PASS]);
    let out = env.run(&["unlock", "--passphrase"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!key.log().contains("identity-v1"), "{}", key.log());
    assert_eq!(pin.commands().iter().filter(|c| *c == "GETPIN").count(), 1);
    env.ok(&["lock"]);
    env.ok_with_stdin(&["unlock", "--passphrase-stdin"], &format!("{PASS}\n"));
    assert!(!key.log().contains("identity-v1"), "{}", key.log());
}

#[test]
fn a_failing_key_falls_back_to_the_passphrase() {
    let (mut env, key) = locked_vault_with_a_key();
    env.set("OPTEST_FAIL", "the key is not plugged in");
    let pin = Pin::install(&mut env, &[PASS]);
    let out = env.run(&["unlock"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(key.log().contains("identity-v1 fail"), "{}", key.log());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("key \"desk\"")
            && err.contains("not plugged in")
            && err.contains("asking for the passphrase instead"),
        "{err}"
    );
    // The pinentry says why the passphrase is asked.
    assert!(
        pin.commands()
            .iter()
            .any(|c| c.starts_with("SETERROR ") && c.contains("not plugged in")),
        "{:?}",
        pin.commands()
    );
    assert!(unlocked(&env));
}

#[test]
fn a_missing_plugin_is_named_in_one_line_and_the_passphrase_asked() {
    let (mut env, _key) = locked_vault_with_a_key();
    env.set("PATH", crate::support::tools_path());
    let pin = Pin::install(&mut env, &[PASS]);
    let out = env.run(&["unlock"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("op-aws: key \"desk\": age-plugin-optest is not installed")
            && err.contains("asking for the passphrase instead"),
        "{err}"
    );
    assert_eq!(pin.commands().iter().filter(|c| *c == "GETPIN").count(), 1);

    // Nobody to ask either: the key's line, then the usual error naming both ways out.
    env.ok(&["lock"]);
    write_config(&env, "");
    let out = env.run(&["unlock"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("age-plugin-optest is not installed"), "{err}");
    assert!(err.contains("no terminal or pinentry"), "{err}");
}

#[test]
fn a_pin_request_is_answered_through_pinentry() {
    let (mut env, key) = locked_vault_with_a_key();
    env.set("OPTEST_PIN", "4242");
    env.set("OPTEST_MSG", "touch your optest key");
    // The message (a one-button dialog), then the PIN.
    let pin = Pin::install(&mut env, &["yes", "4242"]);
    let out = env.run(&["unlock"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(key.log().contains("identity-v1 unwrapped"), "{}", key.log());
    let cmds = pin.commands();
    assert!(
        cmds.iter().any(|c| c == "CONFIRM --one-button"),
        "the message is shown: {cmds:?}"
    );
    let descs: Vec<_> = cmds.iter().filter(|c| c.starts_with("SETDESC ")).collect();
    assert!(
        descs.iter().any(|d| d.contains("touch your optest key")),
        "{descs:?}"
    );
    assert!(
        descs
            .iter()
            .any(|d| d.contains("key \"desk\"") && d.contains("Enter the PIN of your optest key")),
        "{descs:?}"
    );
    // (OPTEST_PIN is the test plugin's own knob, in every process's environment.)
    let leaked: Vec<_> = pin
        .log()
        .lines()
        .filter(|l| !l.starts_with("ENV OPTEST_PIN=") && l.contains("4242"))
        .map(str::to_owned)
        .collect();
    assert!(
        leaked.is_empty(),
        "the PIN reached the pinentry: {leaked:?}"
    );

    // A wrong PIN: the key fails, the passphrase is asked next.
    env.ok(&["lock"]);
    let pin = Pin::install(&mut env, &["yes", "0000", PASS]);
    let out = env.run(&["unlock"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(key.log().contains("identity-v1 wrong-pin"), "{}", key.log());
    assert!(stderr(&out).contains("wrong PIN"), "{}", stderr(&out));
    assert_eq!(
        pin.commands().iter().filter(|c| *c == "GETPIN").count(),
        2,
        "the PIN, then the passphrase"
    );
}

#[test]
fn a_pin_request_is_answered_at_the_terminal() {
    let (mut env, key) = locked_vault_with_a_key();
    env.set("OPTEST_PIN", "4242");
    let t = Tmux::sh(&env);
    t.send(&["op-aws unlock; echo rc=$?", "Enter"]);
    let screen = t.wait_for("the PIN prompt", |s| s.contains("PIN:"));
    assert!(
        screen.contains("Enter the PIN of your optest key"),
        "{screen}"
    );
    t.send(&["4242", "Enter"]);
    let screen = t.wait_for("op-aws to exit", exited);
    assert!(screen.contains("rc=0"), "{screen}");
    assert!(!screen.contains("4242"), "the PIN was echoed: {screen}");
    assert!(key.log().contains("identity-v1 unwrapped"), "{}", key.log());
    assert!(unlocked(&env));
}

/// `age -d -i IDENTITY key-LABEL.age` with the plugin on PATH gives the vault identity, and it
/// decrypts the vault: no lock-in.
fn stock_age_opens(env: &TestEnv, key: &OpKey, label: &str) -> String {
    let age = require("age");
    let mut c = env.command(&age);
    c.arg("-d")
        .arg("-i")
        .arg(&key.identity_file)
        .arg(env.data_dir().join(format!("key-{label}.age")));
    let identity = crate::support::ok(crate::support::run_cmd(c, ""), &["age -d key file"]);
    assert!(identity.contains("AGE-SECRET-KEY-1"));
    let id_file = env.write("vault-identity.txt", &identity);
    let mut c = env.command(&age);
    c.arg("-d")
        .arg("-i")
        .arg(&id_file)
        .arg(env.data_dir().join("vault.age"));
    let vault = crate::support::ok(crate::support::run_cmd(c, ""), &["age -d vault"]);
    std::fs::remove_file(id_file).unwrap();
    vault
}

#[test]
fn the_stock_age_tool_with_the_plugin_opens_the_wrapped_identity_and_the_vault() {
    let (env, key) = locked_vault_with_a_key();
    let vault = stock_age_opens(&env, &key, "desk");
    assert!(vault.contains("acme") && vault.contains(KEY), "{vault}");
}

#[test]
fn rekey_and_a_new_passphrase_keep_every_key_working() {
    let (env, key) = locked_vault_with_a_key();
    key.add(&env, "spare");
    let before = std::fs::read_to_string(env.data_dir().join("recipient.txt")).unwrap();
    env.ok_with_stdin(
        &["vault", "rekey", "--passphrase-stdin"],
        &format!("{PASS}\n"),
    );
    let after = std::fs::read_to_string(env.data_dir().join("recipient.txt")).unwrap();
    assert_ne!(before, after, "a new identity");
    env.ok(&["lock"]);
    env.ok(&["unlock"]);
    assert!(unlocked(&env));
    for label in ["desk", "spare"] {
        let vault = stock_age_opens(&env, &key, label);
        assert!(vault.contains(KEY), "{label}: {vault}");
    }
    env.ok_with_stdin(
        &["vault", "passphrase", "--passphrase-stdin"],
        &format!("{PASS}\nanother long passphrase\n"),
    );
    env.ok(&["lock"]);
    env.ok(&["unlock"]);
    assert!(unlocked(&env));
}

#[test]
fn a_plugin_others_can_replace_is_not_run() {
    use std::os::unix::fs::PermissionsExt;
    let (mut env, key) = locked_vault_with_a_key();
    std::fs::set_permissions(&key.dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let pin = Pin::install(&mut env, &[PASS, PASS]);
    let out = env.run(&["unlock"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("writable by others"), "{err}");
    assert!(!key.log().contains("identity-v1"), "it ran: {}", key.log());
    std::fs::set_permissions(&key.dir, std::fs::Permissions::from_mode(0o755)).unwrap();

    // In the current directory (through a relative PATH entry): refused too.
    env.ok(&["lock"]);
    let mut c = env.op_aws(&["unlock"]);
    c.current_dir(&key.dir)
        .env("PATH", format!(".:{}", crate::support::tools_path()));
    let out = crate::support::run_cmd(c, "");
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("relative"), "{err}");
    assert!(!key.log().contains("identity-v1"), "it ran: {}", key.log());
    assert_eq!(pin.commands().iter().filter(|c| *c == "GETPIN").count(), 2);
}

#[test]
fn a_removed_key_is_forgotten_and_an_unknown_one_is_one_line() {
    let (env, _key) = locked_vault_with_a_key();
    env.ok(&["vault", "key", "rm", "desk"]);
    assert!(!env.data_dir().join("key-desk.age").exists());
    let list: serde_json::Value =
        serde_json::from_str(&env.ok(&["vault", "key", "list", "--json"])).unwrap();
    assert_eq!(list, serde_json::json!([]));
    let out = env.run(&["vault", "key", "rm", "desk"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.starts_with("op-aws: cannot remove the key: no key labelled \"desk\"\nhint: "),
        "{err}"
    );
    // Locked, no key, nobody to ask: the passphrase is the way in.
    let out = env.run(&["unlock"]);
    assert!(stderr(&out).contains("no terminal or pinentry"));
}

/// On a terminal, a slow step (here scrypt) shows what op-aws is doing on one line of stderr,
/// which goes away when it is done; with `--quiet`, or when stderr is not a terminal, nothing.
#[test]
fn a_slow_unlock_shows_a_spinner_only_on_a_terminal() {
    let env = TestEnv::new();
    env.ok_with_stdin(
        &[
            "vault",
            "create",
            "--passphrase-stdin",
            "--work-factor",
            "19",
        ],
        &format!("{PASS}\n"),
    );
    env.ok(&["lock"]);
    let pass = env.write("pass.txt", &format!("{PASS}\n"));
    let unlock = format!(
        "op-aws unlock --passphrase-stdin <{}; echo rc=$?",
        pass.display()
    );
    let t = Tmux::sh(&env);
    t.send(&[&unlock, "Enter"]);
    let screen = t.wait_for("the spinner", |s| {
        s.contains("op-aws: unlocking the vault") || exited(s)
    });
    assert!(screen.contains("op-aws: unlocking the vault"), "{screen}");
    let screen = t.wait_for("op-aws to exit", exited);
    assert!(screen.contains("rc=0"), "{screen}");
    assert!(
        !screen.contains("unlocking the vault"),
        "the line went away: {screen}"
    );
    assert!(unlocked(&env));

    env.ok(&["lock"]);
    t.send(&[
        &format!("clear; {}", unlock.replace("op-aws ", "op-aws --quiet ")),
        "Enter",
    ]);
    let seen = std::cell::Cell::new(false);
    let screen = t.wait_for("op-aws --quiet to exit", |s| {
        seen.set(seen.get() || s.contains("unlocking"));
        exited(s)
    });
    assert!(screen.contains("rc=0"), "{screen}");
    assert!(!seen.get(), "--quiet showed a step");

    env.ok(&["lock"]);
    let out = env.run_with_stdin(&["unlock", "--passphrase-stdin"], &format!("{PASS}\n"));
    assert!(out.status.success());
    assert_eq!(stderr(&out), "", "no terminal, no spinner");
}
