//! Coming from 1Password's shell plugin. Its defaults (`used_items/aws.json`,
//! `<dir>/.op/plugins/aws.json`) become op-aws defaults the fake `op` then serves; its
//! `plugins.sh` aliases, which beat op-aws's functions in bash and zsh, are named by `activate`
//! and `doctor`. 1Password's files are never changed.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{Value, json};

use crate::onepassword::{calls, config, key_fields, op_env, op_item, put_items};
use crate::support::{TestEnv, require, run_cmd, stderr};

/// What `op plugin init aws` leaves in plugins.sh.
const PLUGINS_SH: &str = "export OP_PLUGIN_ALIASES_SOURCED=1\nalias aws=\"op plugin run -- aws\"\nalias gh=\"op plugin run -- gh\"\n";

fn dir_default(item: &str) -> String {
    json!({"account_id": "ACCT1", "credentials": [{
        "plugin": "aws", "credential_type": "access_key", "usage_id": "use1",
        "vault_id": "v-work", "item_id": item,
    }]})
    .to_string()
}

fn global_default(item: &str) -> String {
    json!([{"account_id": "ACCT1", "vault_id": "v-private", "item_id": item}]).to_string()
}

/// The items behind the fixture, with key ids named after them.
fn op_items(env: &TestEnv) {
    let item = |id: &str, vault: &str| {
        let key = format!("AKIA{:0<16}", id.replace('-', "").to_uppercase());
        op_item(id, vault, id, key_fields(&key, "s3cr3t"))
    };
    put_items(
        env,
        &[
            item("it-global", "Private"),
            item("it-acme", "Work"),
            item("it-api", "Work"),
            item("it-decoy", "Work"),
        ],
    );
}

fn key_of(id: &str) -> String {
    format!("AKIA{:0<16}", id.replace('-', "").to_uppercase())
}

/// 1Password's global default and two directory defaults under ~/projects; decoys where no
/// search may go (dependencies, and a tree reached through a symlink).
fn plugin_fixture(env: &TestEnv) -> Vec<PathBuf> {
    let files = vec![
        env.write(
            ".config/op/plugins/used_items/aws.json",
            &global_default("it-global"),
        ),
        env.write(
            "projects/acme/.op/plugins/aws.json",
            &dir_default("it-acme"),
        ),
        env.write(
            "projects/team/api/.op/plugins/aws.json",
            &dir_default("it-api"),
        ),
        env.write(
            "projects/acme/node_modules/pkg/.op/plugins/aws.json",
            &dir_default("it-decoy"),
        ),
    ];
    let outside = env.root.path().join("outside");
    std::fs::create_dir_all(outside.join(".op/plugins")).unwrap();
    std::fs::write(
        outside.join(".op/plugins/aws.json"),
        dir_default("it-decoy"),
    )
    .unwrap();
    std::os::unix::fs::symlink(&outside, env.home.join("projects/link")).unwrap();
    files
}

/// Every file under `dirs`, with its bytes and mode.
fn snapshot(dirs: &[PathBuf]) -> BTreeMap<PathBuf, (Vec<u8>, u32)> {
    fn walk(p: &Path, out: &mut BTreeMap<PathBuf, (Vec<u8>, u32)>) {
        let md = std::fs::symlink_metadata(p).unwrap();
        if md.is_dir() {
            for e in std::fs::read_dir(p).unwrap() {
                walk(&e.unwrap().path(), out);
            }
        } else {
            let bytes = std::fs::read(p).unwrap_or_default();
            out.insert(p.to_owned(), (bytes, md.permissions().mode()));
        }
    }
    let mut out = BTreeMap::new();
    for d in dirs {
        walk(d, &mut out);
    }
    out
}

fn run_in(env: &TestEnv, dir: &Path, args: &[&str]) -> Output {
    let mut c = env.op_aws(args);
    c.current_dir(dir);
    run_cmd(c, "")
}

fn ok_in(env: &TestEnv, dir: &Path, args: &[&str]) -> String {
    let o = run_in(env, dir, args);
    assert!(
        o.status.success(),
        "{args:?} in {}: {}",
        dir.display(),
        stderr(&o)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn home(env: &TestEnv) -> PathBuf {
    env.home.canonicalize().unwrap()
}

#[test]
fn plugin_defaults_become_op_aws_defaults_the_same_items_serve() {
    let env = op_env();
    op_items(&env);
    let files = plugin_fixture(&env);
    let h = home(&env);
    let watched = [
        h.join(".config/op"),
        h.join("projects/acme/.op"),
        h.join("projects/team/api/.op"),
    ];
    let before = snapshot(&watched);

    // The store is the local one, and there is no vault: op:// names need neither.
    let o = env.run(&["import", "--from-1password-plugin", "projects"]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    let from = |f: &PathBuf| f.canonicalize().unwrap().display().to_string();
    assert_eq!(
        lines[..3],
        [
            format!(
                "op-aws: op://v-private/it-global is the global default (from {})",
                from(&files[0])
            ),
            format!(
                "op-aws: op://v-work/it-acme is the default in {}/projects/acme and below (from {})",
                h.display(),
                from(&files[1])
            ),
            format!(
                "op-aws: op://v-work/it-api is the default in {}/projects/team/api and below (from {})",
                h.display(),
                from(&files[2])
            ),
        ],
        "{err}"
    );
    assert_eq!(lines.len(), 4, "{err}");
    assert!(
        lines[3].starts_with("op-aws: note: your store is local: ")
            && lines[3].contains("store = \"1password\""),
        "{err}"
    );
    assert!(!err.contains("it-decoy"), "{err}");

    // Each directory's default, as inspect sees it, and the key op serves for it.
    let sub = h.join("projects/acme/src");
    std::fs::create_dir_all(&sub).unwrap();
    let cases = [
        (h.clone(), "it-global", "global"),
        (h.join("projects"), "it-global", "global"),
        (sub, "it-acme", "directory"),
        (h.join("projects/team/api"), "it-api", "directory"),
        (h.join("projects/link"), "it-global", "global"),
    ];
    for (dir, id, scope) in &cases {
        let v: Value = serde_json::from_str(&ok_in(&env, dir, &["inspect", "--json"])).unwrap();
        assert_eq!(v["scope"], *scope, "{}: {v}", dir.display());
        assert!(
            v["item"].as_str().unwrap().ends_with(&format!("/{id}")),
            "{}: {v}",
            dir.display()
        );
        let key = ok_in(
            &env,
            dir,
            &["run", "--", "sh", "-c", "printf %s \"$AWS_ACCESS_KEY_ID\""],
        );
        assert_eq!(key, key_of(id), "{}", dir.display());
    }
    // op was asked by ids, the vault's and the item's.
    for c in calls(&env).iter().filter(|c| c["argv"][1] == "get") {
        let argv: Vec<&str> = c["argv"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert!(
            matches!(
                argv[..5],
                ["item", "get", "it-global", "--vault", "v-private"]
                    | ["item", "get", "it-acme" | "it-api", "--vault", "v-work"]
            ),
            "{argv:?}"
        );
    }

    // Again, with 1Password as the store: nothing to change, nothing to note.
    config(&env, "store = \"1password\"\n");
    let o = env.run(&["import", "--from-1password-plugin", "projects"]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert_eq!(err.lines().count(), 3, "{err}");
    assert!(err.lines().all(|l| l.contains(" is already ")), "{err}");

    assert_eq!(
        snapshot(&watched),
        before,
        "1Password's files must stay byte for byte as they were"
    );
}

#[test]
fn malformed_plugin_files_are_named_and_the_others_still_import() {
    let env = op_env();
    let good = env.write("work/good/.op/plugins/aws.json", &dir_default("it-acme"));
    let not_json = env.write("work/broken/.op/plugins/aws.json", "{\"credentials\": [");
    let no_ids = env.write(
        "work/noids/.op/plugins/aws.json",
        "{\"account_id\": \"A\", \"credentials\": [{\"plugin\": \"aws\"}]}",
    );
    let bad_global = env.write(".config/op/plugins/used_items/aws.json", "{\"x\": 1}");
    let o = env.run(&["import", "--from-1password-plugin", "work"]);
    let err = stderr(&o);
    assert!(!o.status.success(), "{err}");
    let named = |p: &PathBuf| {
        let p = p.canonicalize().unwrap();
        err.lines()
            .filter(|l| {
                l.starts_with(&format!(
                    "op-aws: {}: not a 1Password shell plugin default: ",
                    p.display()
                ))
            })
            .count()
    };
    assert_eq!(named(&not_json), 1, "{err}");
    assert_eq!(named(&no_ids), 1, "{err}");
    assert_eq!(named(&bad_global), 1, "{err}");
    assert!(err.contains("entry 1 has no vault_id and item_id"), "{err}");
    assert_eq!(
        err.lines().filter(|l| l.starts_with("hint: ")).count(),
        1,
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "op-aws: op://v-work/it-acme is the default in {} and below",
            good.parent()
                .unwrap()
                .parent()
                .unwrap()
                .parent()
                .unwrap()
                .canonicalize()
                .unwrap()
                .display()
        )),
        "{err}"
    );
    let defaults: Value =
        serde_json::from_slice(&std::fs::read(env.config_dir().join("defaults.json")).unwrap())
            .unwrap();
    assert!(defaults.get("global").is_none(), "{defaults}");
    assert_eq!(defaults["directories"].as_object().unwrap().len(), 1);
}

#[test]
fn with_no_plugin_files_nothing_is_imported_and_it_says_so() {
    let env = op_env();
    std::fs::create_dir_all(env.home.join("empty/deep/.git/.op/plugins")).unwrap();
    env.write("empty/deep/.git/.op/plugins/aws.json", &dir_default("x"));
    let o = env.run(&["import", "--from-1password-plugin", "empty"]);
    let err = stderr(&o);
    assert!(!o.status.success());
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0].starts_with("op-aws: nothing to import: no 1Password shell plugin defaults in "),
        "{err}"
    );
    assert!(lines[1].starts_with("hint: name the directories"), "{err}");
    assert!(!env.config_dir().join("defaults.json").exists());
}

#[test]
fn a_different_op_aws_default_is_kept_unless_yes() {
    let env = op_env();
    op_items(&env);
    env.write(
        ".config/op/plugins/used_items/aws.json",
        &global_default("it-global"),
    );
    env.ok(&["use", "op://v-work/it-api", "--global"]);
    let global = || {
        let v: Value =
            serde_json::from_slice(&std::fs::read(env.config_dir().join("defaults.json")).unwrap())
                .unwrap();
        v["global"].as_str().unwrap().to_owned()
    };
    // No DIR: the home directory is searched, and holds none.
    let o = env.run(&["import", "--from-1password-plugin"]);
    let err = stderr(&o);
    assert!(!o.status.success(), "kept is not done: {err}");
    assert!(
        err.contains("op-aws: kept op://v-work/it-api as the global default, not op://v-private/it-global (from "),
        "{err}"
    );
    assert!(err.contains("hint: ") && err.contains("--yes"), "{err}");
    assert_eq!(global(), "op://v-work/it-api");

    let o = env.run(&["import", "--from-1password-plugin", "--yes"]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("op-aws: op://v-private/it-global is the global default, instead of op://v-work/it-api (from "),
        "{err}"
    );
    assert_eq!(global(), "op://v-private/it-global");
}

/// A test env with a vault item `local` as the global default, a fake `op` (whose `plugin run`
/// execs the command without credentials) and a fake `aws` that shows which one ran it.
fn alias_env() -> TestEnv {
    let mut env = op_env();
    let bin = env.root.path().join("fake-aws");
    std::fs::create_dir_all(&bin).unwrap();
    let aws = bin.join("aws");
    std::fs::write(
        &aws,
        "#!/bin/sh\necho \"aws key=${AWS_ACCESS_KEY_ID-} via-op=${FAKE_OP_PLUGIN_RUN-}\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&aws, std::fs::Permissions::from_mode(0o755)).unwrap();
    // The last PATH wins: op_env's, with the fake op first.
    let path = env
        .vars()
        .into_iter()
        .rfind(|(k, _)| k == "PATH")
        .unwrap()
        .1;
    env.set("PATH", format!("{}:{path}", bin.display()));
    env.vault();
    env.add_keys("local", "AKIALOCALLOCALLOCAL1", "local-secret", None);
    env.ok(&["use", "local", "--global"]);
    env.write(".config/op/plugins.sh", PLUGINS_SH);
    env
}

const VIA_OP: &str = "aws key= via-op=1";
const VIA_OP_AWS: &str = "aws key=AKIALOCALLOCALLOCAL1 via-op=";

/// The lines op-aws printed (an interactive bash without a terminal adds its own).
fn ours(o: &Output) -> Vec<String> {
    stderr(o)
        .lines()
        .filter(|l| l.starts_with("op-aws") || l.starts_with("hint:"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn plugins_sh_aliases_are_named_in_bash_and_zsh_and_unalias_gives_aws_back() {
    let env = alias_env();
    let h = env.home.display().to_string();
    let plugins = format!("{h}/.config/op/plugins.sh");
    for (sh, rc) in [("bash", ".bashrc"), ("zsh", ".zshrc")] {
        env.write(
            rc,
            &format!("source ~/.config/op/plugins.sh\neval \"$(op-aws activate {sh})\"\n"),
        );
        let mut c = env.command(require(sh));
        // As typed at a prompt: each line parsed when it comes (zsh parses `-c` whole).
        c.args(["-i", "-c", "aws s3 ls\nunalias aws\neval 'aws s3 ls'\n"]);
        let o = run_cmd(c, "");
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        let rule = if sh == "bash" {
            "bash runs an alias before any function"
        } else {
            "zsh expands an alias before any function"
        };
        assert_eq!(
            ours(&o),
            [
                format!(
                    "op-aws: warning: `aws` is an alias (for `op plugin run -- aws`, set by {plugins}), and {rule}: `aws` bypasses op-aws"
                ),
                format!(
                    "hint: remove `source {plugins}` from {h}/{rc} (`op-aws import --from-1password-plugin` brings its defaults over), or run `unalias aws`"
                ),
            ],
            "{sh}: {}",
            stderr(&o)
        );
        // Warned, not changed: the alias runs 1Password's `op plugin run`; once it is gone,
        // op-aws's function runs.
        assert_eq!(
            out.lines().collect::<Vec<_>>(),
            [VIA_OP, VIA_OP_AWS],
            "{sh}"
        );
        std::fs::remove_file(env.home.join(rc)).unwrap();
    }
}

#[test]
fn an_alias_made_after_activation_is_named_at_the_first_prompt_only() {
    let env = alias_env();
    let plugins = format!("{}/.config/op/plugins.sh", env.home.display());
    for (sh, rc, prompt) in [
        ("bash", ".bashrc", "eval \"$PROMPT_COMMAND\""),
        ("zsh", ".zshrc", "for f in $precmd_functions; do $f; done"),
    ] {
        env.write(
            rc,
            &format!("eval \"$(op-aws activate {sh})\"\nsource ~/.config/op/plugins.sh\n"),
        );
        let mut c = env.command(require(sh));
        c.args([
            "-i",
            "-c",
            &format!("echo activated >&2\n{prompt}\n{prompt}\naws s3 ls\n"),
        ]);
        let o = run_cmd(c, "");
        let err = stderr(&o);
        let at = err.find("activated").unwrap();
        assert!(!err[..at].contains("op-aws:"), "{sh}: {err}");
        let warnings: Vec<&str> = err[at..]
            .lines()
            .filter(|l| l.starts_with("op-aws: warning:"))
            .collect();
        assert_eq!(warnings.len(), 1, "{sh}: once, at the first prompt: {err}");
        assert!(warnings[0].contains(&format!("set by {plugins}")), "{err}");
        assert_eq!(
            String::from_utf8_lossy(&o.stdout),
            format!("{VIA_OP}\n"),
            "{sh}: {err}"
        );
        std::fs::remove_file(env.home.join(rc)).unwrap();
    }
}

#[test]
fn in_fish_whichever_comes_last_wins_and_a_later_alias_is_named() {
    let env = alias_env();
    let plugins = format!("{}/.config/op/plugins.sh", env.home.display());
    let fish = |config: &str| {
        env.write(".config/fish/config.fish", config);
        let mut c = env.command(require("fish"));
        c.args(["-c", "emit fish_prompt; aws s3 ls"]);
        let o = run_cmd(c, "");
        // fish writes terminal modes around the command's output; keep the lines.
        let out: Vec<String> = String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter_map(|l| l.find("aws key=").map(|i| l[i..].to_owned()))
            .collect();
        (o, out)
    };
    // plugins.sh first: op-aws's function replaces the alias, and nothing needs saying.
    let (o, out) = fish("source ~/.config/op/plugins.sh\nop-aws activate fish | source\n");
    assert_eq!(ours(&o), Vec::<String>::new(), "{}", stderr(&o));
    assert_eq!(out, [VIA_OP_AWS]);
    // plugins.sh last: its alias replaces op-aws's function; the first prompt says so.
    let (o, out) = fish("op-aws activate fish | source\nsource ~/.config/op/plugins.sh\n");
    let lines = ours(&o);
    assert_eq!(lines.len(), 2, "{}", stderr(&o));
    assert_eq!(
        lines[0],
        format!(
            "op-aws: warning: `aws` was defined again after op-aws (alias aws=op plugin run -- aws, set by {plugins}): `aws` bypasses op-aws"
        )
    );
    assert!(lines[1].starts_with(&format!("hint: remove `source {plugins}` from ")));
    assert_eq!(out, [VIA_OP]);
}

#[test]
fn doctor_names_the_rc_file_that_sources_plugins_sh() {
    use crate::support::sts_server::{Mode, StsServer};
    let env = TestEnv::new();
    let stub = StsServer::start(Mode::Issue { secs: 3600 });
    let doctor = |extra: &[(&str, &str)]| {
        let mut c = env.op_aws(&["doctor"]);
        c.env("AWS_ENDPOINT_URL_STS", stub.url())
            .env("AWS_ENDPOINT_URL", stub.url());
        for (k, v) in extra {
            c.env(k, v);
        }
        let o = run_cmd(c, "");
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter(|l| l.contains("1Password") || l.contains("plugin"))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        doctor(&[]),
        ["ok   no 1Password shell plugin aliases for the wrapped commands"]
    );
    let h = env.home.display().to_string();
    let plugins = env.write(".config/op/plugins.sh", PLUGINS_SH);
    let plugins = plugins.display();
    // fish: sourced before op-aws's line, its aliases lose to op-aws's functions.
    env.write(
        ".config/fish/config.fish",
        "source ~/.config/op/plugins.sh\nop-aws activate fish | source\n",
    );
    env.write(
        ".zshrc",
        "[ -f \"$HOME/.config/op/plugins.sh\" ] && source \"$HOME/.config/op/plugins.sh\"\n",
    );
    assert_eq!(
        doctor(&[]),
        [format!(
            "warn {h}/.zshrc sources {plugins}, whose aliases for aws win over op-aws's functions (`op plugin run` runs them, not op-aws): remove that line (`op-aws import --from-1password-plugin` brings its defaults over)"
        )]
    );
    std::fs::remove_file(env.home.join(".zshrc")).unwrap();
    let w = doctor(&[("OP_PLUGIN_ALIASES_SOURCED", "1")]);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].starts_with(&format!(
            "warn OP_PLUGIN_ALIASES_SOURCED is set: this shell sourced 1Password's {plugins}, whose aliases for aws win"
        )),
        "{w:?}"
    );
}
