//! Nushell, for real: nu 0.115.1 with the plugin (nu_plugin_op_aws, built next to op-aws by
//! `cargo build --workspace --bins`, which scripts/test runs first) and the module that
//! `op-aws activate nu` prints: session switching, inspect's table, the aws wrapper against
//! moto, completion through `nu --ide-complete`, plugin registration, and the cd hook in an
//! interactive nu under tmux.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::tmux::Tmux;
use crate::support::{Moto, TestEnv, bin, ok, require, run_cmd, stderr, use_moto};

fn plugin() -> PathBuf {
    let p = bin().with_file_name("nu_plugin_op_aws");
    assert!(
        p.is_file(),
        "{} is missing: build it with `cargo build --workspace --bins` (scripts/test does)",
        p.display()
    );
    p
}

/// `nu -n` (no config, no registry) running `script` in `dir`, with the plugin when asked.
fn nu_in(env: &TestEnv, dir: &Path, with_plugin: bool, script: &str) -> Output {
    let mut c = env.command(require("nu"));
    c.current_dir(dir)
        .args(["-n", "--no-std-lib", "--error-style", "plain"]);
    if with_plugin {
        c.arg("--plugins").arg(plugin());
    }
    c.arg("-c").arg(script);
    run_cmd(c, "")
}

fn nu_ok(env: &TestEnv, with_plugin: bool, script: &str) -> String {
    ok(nu_in(env, &env.home, with_plugin, script), &[script])
        .trim_end()
        .to_owned()
}

/// The module, saved as `op-aws.nu` in HOME (the name `use` would give it).
fn module(env: &TestEnv) -> PathBuf {
    let text = env.ok(&["activate", "nu"]);
    env.write("op-aws.nu", &text)
}

/// The defaults that apply at `dir`, as `inspect --json` lists them: (scope, item).
fn defaults_at(env: &TestEnv, dir: &Path) -> Vec<(String, String)> {
    let mut c = env.op_aws(&["inspect", "--json"]);
    c.current_dir(dir);
    let v: serde_json::Value = serde_json::from_str(&ok(run_cmd(c, ""), &["inspect"])).unwrap();
    v["defaults"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["scope"].as_str().unwrap().to_owned(),
                d["item"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn vault_with_items(env: &TestEnv) {
    env.vault();
    env.add_keys(
        "prod",
        "AKIAPRODPRODPRODPROD",
        "prod-secret",
        Some("us-east-1"),
    );
    env.add_keys(
        "dev",
        "AKIADEVDEVDEVDEVDEV1",
        "dev-secret",
        Some("eu-west-1"),
    );
}

#[test]
fn plugin_use_sets_the_session_item_and_clear_hides_it() {
    let env = TestEnv::new();
    vault_with_items(&env);
    let out = nu_ok(
        &env,
        true,
        "op-aws use prod; print $env.OP_AWS_SESSION_ITEM; op-aws clear; print ('OP_AWS_SESSION_ITEM' in $env)",
    );
    assert_eq!(out, "prod\nfalse");
    // Names match case-insensitively and are stored as the item spells itself.
    assert_eq!(
        nu_ok(&env, true, "op-aws use DEV; $env.OP_AWS_SESSION_ITEM"),
        "dev"
    );

    let o = nu_in(&env, &env.home, true, "op-aws use nope");
    let err = stderr(&o);
    assert!(!o.status.success(), "{err}");
    assert!(
        err.contains("no such item") && err.contains("known items: prod, dev"),
        "{err}"
    );
}

#[test]
fn plugin_inspect_is_a_table_of_the_defaults_here() {
    let env = TestEnv::new();
    vault_with_items(&env);
    let proj = env.home.join("proj");
    std::fs::create_dir_all(&proj).unwrap();
    env.ok(&["use", "dev", "--directory", proj.to_str().unwrap()]);
    let json = nu_ok(
        &env,
        true,
        "cd proj; op-aws use prod; op-aws inspect | to json --raw",
    );
    let rows: Vec<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_str(&json).unwrap();
    let cols: Vec<&str> = rows[0].keys().map(String::as_str).collect();
    // serde_json sorts keys; the table's order is active, scope, item, store, path, export.
    assert_eq!(cols, ["active", "export", "item", "path", "scope", "store"]);
    let cells = |r: &serde_json::Map<String, serde_json::Value>| {
        (
            r["active"].clone(),
            r["scope"].clone(),
            r["item"].clone(),
            r["path"].clone(),
        )
    };
    assert_eq!(
        cells(&rows[0]),
        (
            true.into(),
            "session".into(),
            "prod".into(),
            serde_json::Value::Null
        )
    );
    let canon = proj.canonicalize().unwrap().display().to_string();
    assert_eq!(
        cells(&rows[1]),
        (false.into(), "directory".into(), "dev".into(), canon.into())
    );
    assert_eq!(rows.len(), 2);
    assert_eq!(
        nu_ok(&env, true, "op-aws inspect | columns | str join ','"),
        "",
        "outside proj, with no session, nothing applies"
    );
}

#[test]
fn the_aws_wrapper_injects_the_session_item_with_and_without_the_plugin() {
    let mut env = TestEnv::new();
    let moto = Moto::start();
    use_moto(&mut env, &moto);
    env.vault();
    let (arn, key, secret) = moto.iam_user("nu-user");
    env.add_keys("prod", &key, &secret, Some("us-east-1"));
    env.add_keys("dev", "AKIADEVDEVDEVDEVDEV1", "dev-secret", None);
    module(&env);
    let script = "source op-aws.nu; op-aws use prod; aws sts get-caller-identity --output json | from json | get Arn";
    for with_plugin in [true, false] {
        let out = nu_ok(&env, with_plugin, script);
        assert_eq!(out, arn, "with_plugin = {with_plugin}");
    }
    // The module's `op-aws` passes other subcommands through, output and all.
    assert_eq!(
        nu_ok(
            &env,
            false,
            "source op-aws.nu; op-aws list | lines | str join ','"
        ),
        "aws,cdk,sam,eksctl,awslogs"
    );
}

/// `plugin add` into a registry of our own; returns its path.
fn register(env: &TestEnv) -> PathBuf {
    let reg = env.home.join("plugins.msgpackz");
    let add = format!(
        "plugin add --plugin-config '{}' '{}'",
        reg.display(),
        plugin().display()
    );
    nu_ok(env, false, &add);
    reg
}

#[test]
fn plugin_add_then_plugin_use_in_a_second_process() {
    let env = TestEnv::new();
    vault_with_items(&env);
    let reg = register(&env);
    let script = format!(
        "plugin use --plugin-config '{}' op_aws; op-aws use dev; print $env.OP_AWS_SESSION_ITEM; plugin list | where name == op_aws | get 0.commands | length",
        reg.display()
    );
    let out = nu_ok(&env, false, &script);
    assert_eq!(
        out, "dev\n9",
        "the session item, then the number of commands"
    );
}

/// What `nu --ide-complete` offers at the end of `text` (a script file).
fn complete(env: &TestEnv, name: &str, text: &str) -> Vec<String> {
    let file = env.write(name, text);
    let mut c = env.command(require("nu"));
    c.args(["-n", "--no-std-lib", "--ide-complete"])
        .arg(text.len().to_string())
        .arg(&file);
    let out = ok(run_cmd(c, ""), &["nu --ide-complete", name]);
    let v: serde_json::Value =
        serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
    let mut got: Vec<String> = v["completions"]
        .as_array()
        .unwrap_or_else(|| panic!("no completions in {out}"))
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    got.sort();
    got
}

#[test]
fn items_and_profiles_complete_through_ide_complete() {
    let env = TestEnv::new();
    vault_with_items(&env);
    env.write(
        ".aws/config",
        "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = base\n[profile base]\nregion = eu-west-1\n",
    );
    let reg = register(&env);
    let header = format!("plugin use --plugin-config '{}' op_aws\n", reg.display());
    assert_eq!(
        complete(&env, "c1.nu", &format!("{header}op-aws use ")),
        ["dev", "prod"]
    );
    assert_eq!(
        complete(&env, "c2.nu", &format!("{header}op-aws export --profile ")),
        ["admin", "base"]
    );
    // The module's wrapper completes profiles with the plugin or without it.
    module(&env);
    assert_eq!(
        complete(&env, "c3.nu", "source op-aws.nu\naws --profile "),
        ["admin", "base"]
    );
    // Anything else of `aws` goes to the AWS CLI's own completer.
    assert_eq!(
        complete(&env, "c4.nu", "source op-aws.nu\naws sts get-caller-"),
        ["get-caller-identity"]
    );
}

#[test]
fn the_module_is_a_valid_module_and_loads_three_ways_idempotently() {
    let env = TestEnv::new();
    module(&env);
    assert_eq!(nu_ok(&env, false, "nu-check --as-module op-aws.nu"), "true");
    let hooks = "[($env.config.hooks.env_change.PWD | length) ($env.config.hooks.pre_prompt | length)] | to json --raw";
    for load in [
        "source op-aws.nu",
        "use op-aws.nu *",
        "source op-aws.nu; source op-aws.nu; use op-aws.nu *",
    ] {
        let out = nu_ok(&env, false, &format!("{load}; {hooks}"));
        assert_eq!(out, "[1,1]", "{load}: one PWD hook and one prompt hook");
    }
    // A user's own hooks stay.
    let out = nu_ok(
        &env,
        false,
        &format!("$env.config.hooks.env_change.PWD = [{{|| print x}}]; use op-aws.nu *; {hooks}"),
    );
    assert_eq!(out, "[2,1]");
}

/// Waits for prompt number `n` (1-based; prompts start with `[`) and returns it.
fn prompt(t: &Tmux, n: usize) -> String {
    let s = t.wait_for(&format!("prompt {n}"), |s| {
        s.lines().filter(|l| l.starts_with('[')).count() >= n
    });
    s.lines()
        .filter(|l| l.starts_with('['))
        .nth(n - 1)
        .unwrap()
        .to_owned()
}

/// The install line `op-aws init` prints for nu, the only copy (the docs and the module's header
/// must show it verbatim), run in a nu whose data dir is empty; a new nu then has the module.
#[test]
fn the_documented_install_line_works_in_a_fresh_nu() {
    let env = TestEnv::new();
    let line = op_aws::shell::install(op_aws::shell::Shell::Nu).line;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for doc in ["docs/nushell.md", "bash-zsh-fish/op-aws.nu"] {
        let text = std::fs::read_to_string(root.join(doc)).unwrap();
        assert!(text.contains(line), "{doc} does not show {line:?}");
    }
    vault_with_items(&env);
    let mut init = env.command(bin());
    init.env("SHELL", "/usr/bin/nu")
        .args(["init", "--item", "dev", "--scope", "global"]);
    let printed = ok(run_cmd(init, ""), &["init"]);
    assert_eq!(printed.trim_end(), line, "init prints the one line");
    let data = env.home.join(".local/share/nushell");
    assert!(!data.exists(), "the data dir starts empty");
    nu_ok(&env, false, &printed);
    assert!(
        data.join("vendor/autoload/op-aws.nu").is_file(),
        "the line installed nothing"
    );
    // A new nu (not -n, not -c: autoload runs for REPL starts only; -e is one) has the module.
    let mut c = env.command(require("nu"));
    c.current_dir(&env.home).args([
        "--no-std-lib",
        "-e",
        "print (scope commands | where name == __op_aws_hook | length); exit",
    ]);
    let out = ok(run_cmd(c, ""), &["nu -e"]);
    assert!(out.trim_end().ends_with('1'), "module not loaded: {out}");
}

#[test]
fn the_cd_hook_sets_and_clears_the_item_in_an_interactive_nu() {
    let env = TestEnv::new();
    vault_with_items(&env);
    let proj = env.home.join("proj");
    std::fs::create_dir_all(&proj).unwrap();
    env.ok(&["use", "dev", "--directory", proj.to_str().unwrap()]);
    // Installed the way the docs say: into the vendor autoload directory.
    let text = env.ok(&["activate", "nu"]);
    env.write(".local/share/nushell/vendor/autoload/op-aws.nu", &text);
    let config = env.write(
        "nucfg/config.nu",
        "$env.config.show_banner = false\n\
         $env.PROMPT_COMMAND = {|| $\"[($env.OP_AWS_ITEM? | default '-')]\" }\n\
         $env.PROMPT_COMMAND_RIGHT = ''\n$env.PROMPT_INDICATOR = '> '\n",
    );
    let env_nu = env.write("nucfg/env.nu", "");
    let nu = format!(
        "{} --no-std-lib --config {} --env-config {}",
        require("nu").display(),
        config.display(),
        env_nu.display()
    );
    let t = Tmux::start(&env, &[], &nu);

    assert!(prompt(&t, 1).starts_with("[-]>"), "{}", t.screen());
    t.send(&["cd proj", "Enter"]);
    assert!(
        prompt(&t, 2).starts_with("[dev]>"),
        "entering proj: {}",
        t.screen()
    );
    t.send(&["op-aws use prod", "Enter"]);
    assert!(
        prompt(&t, 3).starts_with("[prod]>"),
        "a session item wins: {}",
        t.screen()
    );
    t.send(&["op-aws clear --force", "Enter"]);
    assert!(
        prompt(&t, 4).starts_with("[dev]>"),
        "cleared: {}",
        t.screen()
    );
    t.send(&["cd ~", "Enter"]);
    assert!(
        prompt(&t, 5).starts_with("[-]>"),
        "leaving proj: {}",
        t.screen()
    );
}

#[test]
fn with_the_vault_locked_the_plugin_names_unlock_and_asks_nothing() {
    let env = TestEnv::new();
    vault_with_items(&env);
    env.ok(&["lock"]);
    let o = nu_in(&env, &env.home, true, "op-aws use prod");
    let err = stderr(&o);
    assert!(!o.status.success(), "{err}");
    assert!(
        err.contains("cannot use \"prod\"") && err.contains("op-aws unlock"),
        "{err}"
    );
    assert_eq!(
        nu_ok(&env, true, "(op-aws status).unlocked"),
        "false",
        "status still answers"
    );
}

#[test]
fn plugin_directory_and_global_defaults_are_the_ones_the_cli_reads() {
    let env = TestEnv::new();
    vault_with_items(&env);
    let proj = env.home.join("proj");
    std::fs::create_dir_all(proj.join("sub")).unwrap();
    // A relative DIR is the caller's, not the plugin process's own directory.
    let out = nu_ok(
        &env,
        true,
        "op-aws use dev --directory proj | get path; op-aws use prod --global | get scope",
    );
    assert_eq!(out, "global");
    let pair = |s: &str, i: &str| (s.to_owned(), i.to_owned());
    assert_eq!(
        defaults_at(&env, &proj.join("sub")),
        [pair("directory", "dev"), pair("global", "prod")]
    );
    // clear --all from below proj removes both, as `op-aws clear --all` would.
    let cleared = nu_ok(
        &env,
        true,
        "cd proj/sub; op-aws clear --all | get scope | str join ','",
    );
    assert_eq!(cleared, "directory,global");
    assert_eq!(defaults_at(&env, &proj), []);
}

#[test]
fn roles_through_the_plugin_export_and_the_wrappers_profile_flag() {
    let mut env = TestEnv::new();
    let moto = Moto::start();
    use_moto(&mut env, &moto);
    env.set("AWS_DEFAULT_REGION", "us-east-1");
    env.vault();
    let (_, key, secret) = moto.iam_user("base-user");
    env.add_keys("acme", &key, &secret, None);
    env.write(
        ".aws/config",
        "[profile base]\nop_aws_item = acme\n\
         [profile admin]\nrole_arn = arn:aws:iam::210987654321:role/Admin\nsource_profile = base\n",
    );
    module(&env);
    let arn = |script: &str| -> String {
        let out = nu_ok(&env, true, script);
        assert!(out.contains(":assumed-role/Admin/"), "{script}: {out}");
        out
    };
    arn(
        "with-env (op-aws export --profile admin) { ^aws sts get-caller-identity --output json } | from json | get Arn",
    );
    arn(
        "source op-aws.nu; aws --profile admin sts get-caller-identity --output json | from json | get Arn",
    );
    let exported = nu_ok(
        &env,
        true,
        "op-aws export --profile admin | select AWS_SESSION_TOKEN AWS_CREDENTIAL_EXPIRATION | values | all {|v| $v != null }",
    );
    assert_eq!(
        exported, "true",
        "temporary credentials carry a token and an expiry"
    );
    let cached = nu_ok(
        &env,
        true,
        "op-aws cache | select profile kind role_arn fresh | to json --raw",
    );
    assert_eq!(
        cached,
        r#"[{"profile":"admin","kind":"role","role_arn":"arn:aws:iam::210987654321:role/Admin","fresh":true}]"#
    );
}

/// `clear` is decided once, in the library: the plugin and the CLI remove the same defaults,
/// and refuse the same way, on every scope — a trusted project file's default included (which
/// neither edits).
#[test]
fn plugin_and_cli_clear_agree_on_every_scope() {
    // One fresh setup per run: a trusted project file (item dev) in proj, a directory default
    // (prod) in proj/sub when `directory`, and a global default (prod).
    let setup = |directory: bool| {
        let env = TestEnv::new();
        vault_with_items(&env);
        let sub = env.home.join("proj/sub");
        std::fs::create_dir_all(&sub).unwrap();
        env.write("proj/.op-aws.toml", "item = \"dev\"\n");
        let mut c = env.op_aws(&["trust"]);
        c.current_dir(env.home.join("proj"));
        ok(run_cmd(c, ""), &["trust"]);
        env.ok(&["use", "prod", "--global"]);
        if directory {
            env.ok(&["use", "prod", "--directory", sub.to_str().unwrap()]);
        }
        (env, sub)
    };
    for (directory, all) in [(false, false), (true, false), (true, true), (false, true)] {
        let what = format!("directory default: {directory}, --all: {all}");
        let (cli_env, sub) = setup(directory);
        let mut c = cli_env.op_aws(&if all {
            vec!["clear", "--all", "--force"]
        } else {
            vec!["clear", "--force"]
        });
        c.current_dir(&sub);
        let cli = run_cmd(c, "");
        let cli_err = crate::support::stderr(&cli);
        let cli_removed: Vec<(String, String)> = cli_err
            .lines()
            .filter_map(|l| l.strip_prefix("op-aws: removed "))
            .map(|l| {
                let (item, scope) = l.split_once(" (").unwrap();
                let scope = scope.trim_end_matches(')').split(' ').next().unwrap();
                (scope.to_owned(), item.to_owned())
            })
            .collect();

        let (nu_env, nu_sub) = setup(directory);
        let script = format!(
            "op-aws clear{} | each {{|r| $'($r.scope)=($r.item)' }} | str join ','",
            if all { " --all" } else { "" }
        );
        let nu = nu_in(&nu_env, &nu_sub, true, &script);
        let nu_removed: Vec<(String, String)> = String::from_utf8_lossy(&nu.stdout)
            .trim()
            .split(',')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (s, i) = p.split_once('=').unwrap();
                (s.to_owned(), i.to_owned())
            })
            .collect();

        assert_eq!(
            cli.status.success(),
            nu.status.success(),
            "{what}: {cli_err} / {nu:?}"
        );
        assert_eq!(cli_removed, nu_removed, "{what}: removed");
        assert_eq!(
            defaults_at(&cli_env, &sub),
            defaults_at(&nu_env, &nu_sub),
            "{what}: left"
        );
        // The project file's default is never reported removed, and stays.
        assert!(
            !cli_removed.iter().any(|(s, _)| s == "project"),
            "{what}: {cli_removed:?}"
        );
        assert!(
            defaults_at(&cli_env, &sub).contains(&("project".to_owned(), "dev".to_owned())),
            "{what}"
        );
        if !directory && !all {
            // The project file's default is the one in effect: both refuse, naming untrust.
            let nu_err = String::from_utf8_lossy(&nu.stderr);
            assert!(
                !cli.status.success() && cli_err.contains("op-aws untrust"),
                "{cli_err}"
            );
            assert!(nu_err.contains("op-aws untrust"), "{nu_err}");
        }
    }
}
