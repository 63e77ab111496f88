//! One resolver for every front end: `status --json`, `inspect --json`, `hook-env` and the nu
//! plugin's `status`/`inspect` (through a real nu) name the same item, scope and region in each
//! situation; the plugin answers with its caller's `$env`, not its own.

use std::path::Path;

use crate::support::sts_server::{Mode, StsServer};
use crate::support::{Moto, TestEnv, ok, require, run_cmd};

/// What one front end says applies: item, scope, region (None where it has no say).
#[derive(Debug, PartialEq, Eq, Clone)]
struct Answer {
    item: Option<String>,
    scope: Option<String>,
    region: Option<String>,
}

fn s(v: &serde_json::Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

fn cli_status(env: &TestEnv, dir: &Path) -> Answer {
    let mut c = env.op_aws(&["status", "--json"]);
    c.current_dir(dir);
    let v: serde_json::Value = serde_json::from_str(&ok(run_cmd(c, ""), &["status"])).unwrap();
    Answer {
        item: s(&v["item"]),
        scope: s(&v["scope"]),
        region: s(&v["region"]),
    }
}

fn cli_inspect(env: &TestEnv, dir: &Path) -> Answer {
    let mut c = env.op_aws(&["inspect", "--json"]);
    c.current_dir(dir);
    let v: serde_json::Value = serde_json::from_str(&ok(run_cmd(c, ""), &["inspect"])).unwrap();
    let active = v["defaults"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["active"] == true);
    Answer {
        item: active.and_then(|d| s(&d["item"])),
        scope: active.and_then(|d| s(&d["scope"])),
        region: s(&v["region"]),
    }
}

/// hook-env has no say on the region unless it exports keys (nor has the plugin's inspect
/// table, whose rows are the defaults).
fn hook_env(env: &TestEnv, dir: &Path) -> Answer {
    let mut c = env.op_aws(&["hook-env", "--shell", "bash"]);
    c.current_dir(dir);
    let out = ok(run_cmd(c, ""), &["hook-env"]);
    let get = |k: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("export {k}=")))
            .map(|v| v.trim_matches('\'').to_owned())
    };
    Answer {
        item: get("OP_AWS_ITEM"),
        scope: get("OP_AWS_SCOPE"),
        region: None,
    }
}

/// What `op-aws run -- env` gets: the item (by its key id) and the region, answered by the
/// agent, or (`local`) resolved in the process (a context too big to send).
fn cli_run(env: &TestEnv, dir: &Path, local: bool) -> (Option<String>, Option<String>) {
    let mut c = env.op_aws(&["run", "--", "env"]);
    c.current_dir(dir);
    if local {
        c.env("OP_AWS_TEST_PAD", crate::support::too_big_for_the_agent());
    }
    let out = ok(run_cmd(c, ""), &["run -- env"]);
    let get = |k: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .map(str::to_owned)
    };
    let item = get("AWS_ACCESS_KEY_ID").map(|id| {
        match id.as_str() {
            "AKIADEVDEVDEVDEVDEV1" => "dev",
            "AKIAPRODPRODPRODPROD" => "prod",
            "AKIABOUNDBOUNDBOUND1" => "bound",
            other => other,
        }
        .to_owned()
    });
    (item, get("AWS_REGION"))
}

fn nu_json(env: &TestEnv, dir: &Path, script: &str) -> serde_json::Value {
    let plugin = crate::support::bin().with_file_name("nu_plugin_op_aws");
    let mut c = env.command(require("nu"));
    c.current_dir(dir)
        .args(["-n", "--no-std-lib", "--plugins"])
        .arg(plugin)
        .arg("-c")
        .arg(script);
    serde_json::from_str(&ok(run_cmd(c, ""), &[script])).unwrap()
}

fn plugin_status(env: &TestEnv, dir: &Path) -> Answer {
    let v = nu_json(env, dir, "op-aws status | to json");
    Answer {
        item: s(&v["item"]),
        scope: s(&v["scope"]),
        region: s(&v["region"]),
    }
}

fn plugin_inspect(env: &TestEnv, dir: &Path) -> Answer {
    let v = nu_json(env, dir, "op-aws inspect | where active | to json");
    let row = v.as_array().unwrap().first().cloned().unwrap_or_default();
    Answer {
        item: s(&row["item"]),
        scope: s(&row["scope"]),
        region: None,
    }
}

#[test]
fn every_front_end_names_the_same_item_scope_and_region() {
    let mut env = TestEnv::new();
    env.vault();
    env.add_keys(
        "dev",
        "AKIADEVDEVDEVDEVDEV1",
        "dev-secret",
        Some("eu-west-1"),
    );
    env.add_keys("prod", "AKIAPRODPRODPRODPROD", "prod-secret", None);
    env.add_keys(
        "bound",
        "AKIABOUNDBOUNDBOUND1",
        "b-secret",
        Some("ap-south-1"),
    );
    env.write(
        ".aws/config",
        "[profile base]\nop_aws_item = bound\n\
         [profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = base\n\
         [profile regional]\nregion = sa-east-1\n",
    );
    let proj = env.home.join("proj");
    let sub = proj.join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    let home = env.home.clone();

    let a = |item: Option<&str>, scope: Option<&str>, region: Option<&str>| Answer {
        item: item.map(str::to_owned),
        scope: scope.map(str::to_owned),
        region: region.map(str::to_owned),
    };
    let check = |env: &TestEnv, what: &str, dir: &Path, want: Answer| {
        let hook_want = Answer {
            region: None,
            ..want.clone()
        };
        assert_eq!(cli_status(env, dir), want, "{what}: status --json");
        assert_eq!(cli_inspect(env, dir), want, "{what}: inspect --json");
        assert_eq!(hook_env(env, dir), hook_want, "{what}: hook-env");
        assert_eq!(plugin_status(env, dir), want, "{what}: plugin status");
        assert_eq!(
            plugin_inspect(env, dir),
            hook_want,
            "{what}: plugin inspect"
        );
        // What `run` hands out, whoever resolves it; a role needs STS, left to the STS tests.
        if want.item.is_some() && env.extra_env.iter().all(|(_, v)| v != "admin") {
            let got = (want.item.clone(), want.region);
            assert_eq!(
                cli_run(env, dir, false),
                got,
                "{what}: run, the agent answering"
            );
            assert_eq!(
                cli_run(env, dir, true),
                got,
                "{what}: run, resolved in process"
            );
        }
    };

    check(&env, "no default", &home, a(None, None, None));
    env.ok(&["use", "prod", "--global"]);
    check(&env, "global", &home, a(Some("prod"), Some("global"), None));
    env.ok(&["use", "dev", "--directory", proj.to_str().unwrap()]);
    check(
        &env,
        "directory (the item's region)",
        &sub,
        a(Some("dev"), Some("directory"), Some("eu-west-1")),
    );
    env.ok(&["use", "prod", "--directory", sub.to_str().unwrap()]);
    check(
        &env,
        "a nearer directory",
        &sub,
        a(Some("prod"), Some("directory"), None),
    );
    env.set("OP_AWS_SESSION_ITEM", "dev");
    check(
        &env,
        "session",
        &sub,
        a(Some("dev"), Some("session"), Some("eu-west-1")),
    );
    env.set("AWS_REGION", "us-west-2");
    check(
        &env,
        "a region in the shell wins over the item's",
        &sub,
        a(Some("dev"), Some("session"), Some("us-west-2")),
    );
    env.extra_env.retain(|(k, _)| k != "AWS_REGION");
    env.set("AWS_PROFILE", "base");
    check(
        &env,
        "AWS_PROFILE bound with op_aws_item",
        &sub,
        a(Some("bound"), Some("profile"), Some("ap-south-1")),
    );
    env.set("AWS_PROFILE", "admin");
    check(
        &env,
        "a role chain over the bound profile",
        &sub,
        a(Some("bound"), Some("profile"), Some("ap-south-1")),
    );
    env.set("AWS_PROFILE", "regional");
    check(
        &env,
        "a profile's region wins over the item's",
        &sub,
        a(Some("dev"), Some("session"), Some("sa-east-1")),
    );
}

/// The plugin process keeps the environment nu started it with; a call must still sign with
/// the caller's region and reach the caller's endpoint.
#[test]
fn the_plugin_signs_with_the_callers_region_and_endpoint() {
    let mut env = TestEnv::new();
    let moto = Moto::start();
    let proxy = StsServer::start(Mode::Forward(moto.port));
    // The nu process (and so the plugin it spawns) has eu-west-1 and no STS endpoint of ours.
    env.set("AWS_REGION", "eu-west-1");
    env.set("AWS_ENDPOINT_URL", moto.url());
    env.vault();
    let (_, key, secret) = moto.iam_user("base-user");
    env.add_keys("acme", &key, &secret, None);
    env.write(
        ".aws/config",
        "[profile base]\nop_aws_item = acme\n\
         [profile admin]\nrole_arn = arn:aws:iam::210987654321:role/Admin\nsource_profile = base\n",
    );
    let script = format!(
        "op-aws status | ignore; \
         $env.AWS_REGION = 'us-west-2'; $env.AWS_ENDPOINT_URL_STS = '{}'; \
         op-aws export --profile admin | select AWS_REGION AWS_SESSION_TOKEN | to json",
        proxy.url()
    );
    let v = nu_json(&env, &env.home.clone(), &script);
    assert_eq!(v["AWS_REGION"], "us-west-2", "{v}");
    assert!(v["AWS_SESSION_TOKEN"].is_string(), "{v}");
    let reqs = proxy.requests();
    let assume: Vec<_> = reqs.iter().filter(|r| r.action == "AssumeRole").collect();
    assert_eq!(
        assume.len(),
        1,
        "the caller's endpoint got the call: {reqs:?}"
    );
    assert_eq!(
        assume[0].region, "us-west-2",
        "signed for the caller's region"
    );
}

/// doctor checks the clock against the STS endpoint a command here would use: the profile's
/// `endpoint_url` included.
#[test]
fn doctor_asks_the_profiles_sts_endpoint() {
    let mut env = TestEnv::new();
    let stub = StsServer::start(Mode::Fail {
        status: 403,
        code: "AccessDenied",
        message: "no",
    });
    env.write(
        ".aws/config",
        &format!(
            "[profile p]\nregion = eu-central-1\nendpoint_url = {}\n",
            stub.url()
        ),
    );
    env.set("AWS_PROFILE", "p");
    let _ = env.run(&["doctor"]);
    let reqs = stub.requests();
    assert!(
        !reqs.is_empty(),
        "doctor did not reach the profile's endpoint_url"
    );
    assert_eq!(reqs[0].region, "eu-central-1", "nor with its region");
}

/// A profile the AWS tool signs in for itself (`login_session`, SSO, `credential_process`):
/// `inspect` and `status` say so, and show no item as applying to it, in text and JSON.
#[test]
fn inspect_and_status_say_a_handover_profile_is_the_tools_own() {
    let mut env = TestEnv::new();
    env.vault();
    env.add_keys("dev", "AKIADEV0000000000001", "s", None);
    env.ok(&["use", "dev", "--global"]);
    env.write(
        ".aws/config",
        "[profile lg]\nlogin_session = arn:aws:iam::123456789012:user/me\nregion = eu-west-1\n\
         [profile cp]\ncredential_process = /bin/false\n",
    );
    let before: serde_json::Value = serde_json::from_str(&env.ok(&["inspect", "--json"])).unwrap();
    assert_eq!(before["item"], "dev", "the global item, with no profile");
    assert_eq!(before["handover"], false);
    for profile in ["lg", "cp"] {
        env.set("AWS_PROFILE", profile);
        let v: serde_json::Value = serde_json::from_str(&env.ok(&["inspect", "--json"])).unwrap();
        assert_eq!(v["handover"], true, "{profile}: {v}");
        assert!(v["item"].is_null(), "{profile}: {v}");
        assert!(
            v["defaults"]
                .as_array()
                .unwrap()
                .iter()
                .all(|d| d["active"] == false),
            "{profile}: {v}"
        );
        let text = env.ok(&["inspect"]);
        assert!(
            text.contains(&format!("{profile} is handed to the AWS tool")),
            "{text}"
        );
        let s: serde_json::Value = serde_json::from_str(&env.ok(&["status", "--json"])).unwrap();
        assert_eq!(s["handover"], true, "{profile}: {s}");
        assert!(s["item"].is_null(), "{profile}: {s}");
        let text = env.ok(&["status"]);
        assert!(
            text.contains("handed to the AWS tool") && !text.contains("item:   dev"),
            "{text}"
        );
    }
}
