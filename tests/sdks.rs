//! Real SDKs against moto, through `op-aws run`: the AWS CLI (botocore), the AWS SDK for
//! JavaScript v3 (node) and Terraform's S3 backend (the Go SDK). Each must use the keys op-aws
//! injects, whatever `AWS_PROFILE` says: the JS and Go SDKs prefer a profile over keys, so they
//! must never see one beside them.

use crate::support::sts_server::{Mode, StsServer};
use crate::support::{Moto, TestEnv, WHO_AM_I, ok, require, run_cmd, sdk, stderr};

struct World {
    env: TestEnv,
    moto: Moto,
    user_arn: String,
}

fn world() -> World {
    let mut env = TestEnv::new();
    let moto = Moto::start();
    let user_arn = sdk::team(&mut env, &moto);
    World {
        env,
        moto,
        user_arn,
    }
}

fn arn_of(w: &World, profile_env: Option<&str>, args: &[&str]) -> String {
    let mut c = w.env.op_aws(args);
    if let Some(p) = profile_env {
        c.env("AWS_PROFILE", p);
    }
    ok(run_cmd(c, ""), args).trim().to_owned()
}

#[test]
fn the_js_sdk_uses_the_injected_keys_with_a_profile_in_play() {
    let w = world();
    require("node");
    let role = arn_of(
        &w,
        None,
        &["run", "--profile", "admin", "--", "node", "whoami.js"],
    );
    assert!(role.contains(":assumed-role/Admin/"), "{role}");
    let plain = arn_of(&w, Some("plain"), &["run", "--", "node", "whoami.js"]);
    assert_eq!(plain, w.user_arn, "AWS_PROFILE from the shell");
    // The same through the CLI (botocore keeps AWS_PROFILE, and prefers the keys).
    let cli = arn_of(
        &w,
        None,
        &[&["run", "--profile", "admin", "--"][..], &WHO_AM_I].concat(),
    );
    assert!(cli.contains(":assumed-role/Admin/"), "{cli}");
    // And boto3.
    let py = "import boto3; print(boto3.client('sts').get_caller_identity()['Arn'])";
    let boto = arn_of(
        &w,
        None,
        &["run", "--profile", "admin", "--", "python3", "-c", py],
    );
    assert!(boto.contains(":assumed-role/Admin/"), "{boto}");
}

/// `terraform init` with an S3 backend: the Go SDK checks the credentials with STS (the
/// recording proxy shows whose), then reads the state bucket.
#[test]
fn terraforms_s3_backend_uses_the_injected_keys() {
    let mut w = world();
    let terraform = require("terraform");
    let proxy = StsServer::start(Mode::Forward(w.moto.port));
    w.env.set("AWS_ENDPOINT_URL_STS", proxy.url());
    let dir = sdk::s3_backend(&w.env, &w.moto, &proxy.url());
    let tf = terraform.to_str().unwrap();
    let init = |profile_flag: bool, vars: &[(&str, &str)]| {
        proxy.clear();
        let mut args = vec!["run"];
        if profile_flag {
            args.extend(["--profile", "admin"]);
        }
        args.extend([
            "--",
            tf,
            "init",
            "-input=false",
            "-no-color",
            "-reconfigure",
        ]);
        let mut c = w.env.op_aws(&args);
        c.current_dir(&dir)
            .env("TF_IN_AUTOMATION", "1")
            .envs(vars.iter().copied());
        let o = run_cmd(c, "");
        assert!(
            o.status.success(),
            "terraform init: {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            stderr(&o)
        );
        proxy.requests()
    };
    // With --profile admin: the role session signs terraform's own STS call.
    let reqs = init(true, &[]);
    let reqs = crate::support::sts_server::without_person_lookups(&reqs);
    let tf_calls: Vec<_> = reqs
        .iter()
        .filter(|r| r.action == "GetCallerIdentity")
        .collect();
    assert!(
        !tf_calls.is_empty(),
        "terraform checked no credentials: {reqs:?}"
    );
    assert!(
        tf_calls.iter().all(|r| r.signer.starts_with("ASIA")),
        "terraform signed with something else than the role session: {tf_calls:?}"
    );
    let assumed: Vec<_> = reqs.iter().filter(|r| r.action == "AssumeRole").collect();
    assert!(
        assumed.len() == 1 && assumed[0].signer.starts_with("AKIA"),
        "one AssumeRole, op-aws's, signed by the item's key: {reqs:?}"
    );
    // With AWS_PROFILE=plain from the shell: the item's long-lived key.
    let key = w
        .env
        .ok(&["export", "--profile", "plain", "--format", "json"]);
    let key: serde_json::Value = serde_json::from_str(&key).unwrap();
    let reqs = init(false, &[("AWS_PROFILE", "plain")]);
    assert!(
        reqs.iter()
            .any(|r| r.action == "GetCallerIdentity" && r.signer == key["AccessKeyId"]),
        "{reqs:?}"
    );
    // An AI coding agent running terraform: a session of its own, named for the person and
    // the agent, signs terraform's call.
    let reqs = init(true, &[("CLAUDECODE", "1")]);
    let assumed: Vec<_> = reqs.iter().filter(|r| r.action == "AssumeRole").collect();
    assert!(
        assumed.len() == 1
            && assumed[0]
                .params
                .get("RoleSessionName")
                .is_some_and(|n| n.contains("claude-code")),
        "the agent's own session: {reqs:?}"
    );
    assert!(
        reqs.iter()
            .filter(|r| r.action == "GetCallerIdentity")
            .all(|r| r.signer.starts_with("ASIA")),
        "{reqs:?}"
    );
}

/// An AI coding agent (its marker in the environment) gets a role session named for the person
/// and the agent in the AWS CLI, boto3 and the JS SDK, through `run` and through the endpoint
/// (`run --server`).
#[test]
fn an_agent_gets_an_attributed_session_in_every_sdk() {
    let w = world();
    require("node");
    let py = "import boto3; print(boto3.client('sts').get_caller_identity()['Arn'])";
    let tools: [&[&str]; 3] = [&["node", "whoami.js"], &["python3", "-c", py], &WHO_AM_I];
    for server in [false, true] {
        for tool in tools {
            let mut args = vec!["run"];
            if server {
                args.push("--server");
            }
            args.extend(["--profile", "admin", "--"]);
            args.extend(tool);
            let mut c = w.env.op_aws(&args);
            c.env("CLAUDECODE", "1");
            let arn = ok(run_cmd(c, ""), &args).trim().to_owned();
            assert!(
                arn.contains(":assumed-role/Admin/") && arn.contains("claude-code"),
                "{args:?}: {arn}"
            );
        }
    }
    let log: serde_json::Value = serde_json::from_str(&w.env.ok(&["audit", "--json"])).unwrap();
    let released = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["outcome"] == "released" && e["agent"] == "claude-code")
        .count();
    assert!(released >= 6, "one line per release at least: {log}");
}
