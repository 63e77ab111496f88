//! The AWS SDKs' shared profile-chain cases (`tests/fixtures/conformance/assume-role-tests.json`,
//! from the Rust SDK's aws-config; source and license beside it), run against op-aws for real: static keys of a case become vault
//! items bound to their profile with `op_aws_item` (and leave the config file, as
//! `import --remove-plaintext` would), `op-aws run --profile SELECTED -- env` runs against a
//! local STS stub, and the chain is read off the wire: who signed each AssumeRole, for which
//! role, with which session name and external id. Errors must stop op-aws before any call.
//! Chains that bottom out in a source the tool resolves itself must be handed over untouched.
//!
//! Where op-aws differs on purpose, [`justified`] says why (and what it checks instead).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

use crate::support::TestEnv;
use crate::support::sts_server::{Mode, StsServer};

fn cases() -> Vec<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/conformance/assume-role-tests.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str::<Vec<Value>>(&text).unwrap()
}

/// The item in effect when a chain has no keys of its own (a global default).
const FALLBACK_KEY: &str = "AKIAFALLBACK00000000";

/// The cases op-aws resolves differently on purpose, with what it does instead.
fn justified(n: usize) -> Option<Expect> {
    match n {
        // A role with no source_profile, or a source profile with no keys: op-aws signs the
        // chain with the item in effect here, which is what it is for (`aws --profile admin`
        // over the default item). The SDKs have no such item and fail.
        7 => Some(Expect::Chain {
            signer: FALLBACK_KEY.into(),
            roles: vec![role("arn:aws:iam::123456789:role/RoleA")],
        }),
        11 => Some(Expect::Chain {
            signer: FALLBACK_KEY.into(),
            roles: vec![role("arn:foo")],
        }),
        // A profile with only settings: the item in effect's keys, the profile's settings.
        12 => Some(Expect::Keys(FALLBACK_KEY.into())),
        // The tool resolves web identity and SSO profiles itself, so it is the tool (with the
        // same SDK rules) that reports these misconfigurations, not op-aws.
        21 | 24 | 25 | 26 | 28 => Some(Expect::Handover),
        _ => None,
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Role {
    arn: String,
    session_name: Option<String>,
    external_id: Option<String>,
}

fn role(arn: &str) -> Role {
    Role {
        arn: arn.into(),
        session_name: None,
        external_id: None,
    }
}

#[derive(Debug)]
enum Expect {
    /// AssumeRole calls in this order, the first signed by `signer`.
    Chain { signer: String, roles: Vec<Role> },
    /// No STS call; these long-lived keys reach the tool.
    Keys(String),
    /// No STS call, no key: the tool gets AWS_PROFILE and resolves the profile itself.
    Handover,
    /// op-aws fails before any call.
    Error(String),
}

fn expected(case: &Value) -> Expect {
    let out = &case["output"];
    if let Some(e) = out["Error"].as_str() {
        return Expect::Error(e.to_owned());
    }
    let chain = out["ProfileChain"].as_array().unwrap();
    let base = &chain[0];
    let roles: Vec<Role> = chain[1..]
        .iter()
        .map(|s| {
            let r = &s["AssumeRole"];
            Role {
                arn: r["role_arn"].as_str().unwrap().to_owned(),
                session_name: r["role_session_name"].as_str().map(str::to_owned),
                external_id: r["external_id"].as_str().map(str::to_owned),
            }
        })
        .collect();
    match base.get("AccessKey") {
        Some(k) => {
            let signer = k["access_key_id"].as_str().unwrap().to_owned();
            if roles.is_empty() {
                Expect::Keys(signer)
            } else {
                Expect::Chain { signer, roles }
            }
        }
        None => Expect::Handover,
    }
}

/// The case's profiles as a config file; keys of a complete pair go into an item bound to the
/// profile instead.
fn set_up(env: &TestEnv, case: &Value) {
    let input = &case["input"];
    let mut config = String::new();
    let mut items = Vec::new();
    let profiles = input["profiles"].as_object().unwrap();
    for (name, keys) in profiles {
        let keys: BTreeMap<String, String> = keys
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
            .collect();
        config += &format!("[profile {name}]\n");
        let pair = (
            keys.get("aws_access_key_id"),
            keys.get("aws_secret_access_key"),
        );
        let imported = matches!(pair, (Some(_), Some(_)));
        for (k, v) in &keys {
            if imported && k.starts_with("aws_") && k != "aws_account_id" {
                continue;
            }
            config += &format!("{k} = {v}\n");
        }
        if let (Some(id), Some(secret)) = pair {
            config += &format!("op_aws_item = item-{name}\n");
            items.push((format!("item-{name}"), id.clone(), secret.clone()));
        }
    }
    for (name, keys) in input["sso_sessions"].as_object().into_iter().flatten() {
        config += &format!("[sso-session {name}]\n");
        for (k, v) in keys.as_object().unwrap() {
            config += &format!("{k} = {}\n", v.as_str().unwrap());
        }
    }
    env.write(".aws/config", &config);
    for (title, id, secret) in items {
        env.add_keys(&title, &id, &secret, None);
    }
    env.add_keys("fallback", FALLBACK_KEY, "fallback-secret", None);
    env.ok(&["use", "fallback", "--global"]);
}

/// Runs one case; returns what went wrong, if anything.
fn run_case(n: usize, case: &Value) -> Result<(), String> {
    let mut env = TestEnv::new();
    let stub = StsServer::start(Mode::Issue { secs: 3600 });
    env.set("AWS_ENDPOINT_URL_STS", stub.url());
    env.set("AWS_REGION", "us-east-1");
    env.vault();
    set_up(&env, case);
    let selected = case["input"]["selected_profile"].as_str().unwrap();
    let out = env.run(&["run", "--profile", selected, "--", "env"]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let var = |k: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .map(str::to_owned)
    };
    // op-aws's own GetCallerIdentity (who is behind the keys, for the session name) is not a
    // step of the chain.
    let calls: Vec<_> = stub
        .requests()
        .into_iter()
        .filter(|r| r.action != "GetCallerIdentity")
        .collect();
    let expect = justified(n).unwrap_or_else(|| expected(case));
    let what = format!("case {n} ({}): expected {expect:?}", case["docs"]);
    let fail = |why: String| Err(format!("{what}\n  {why}\n  stderr: {stderr}"));
    match &expect {
        Expect::Error(sdk) => {
            if out.status.success() {
                return fail(format!("op-aws succeeded where the SDKs fail with {sdk:?}"));
            }
            if !calls.is_empty() {
                return fail(format!("STS was called: {calls:?}"));
            }
            if !stderr.starts_with("op-aws: ") || stderr.contains("panicked") {
                return fail("not a one-line op-aws error".into());
            }
        }
        Expect::Handover => {
            if !out.status.success() {
                return fail("env did not run".into());
            }
            if !calls.is_empty() {
                return fail(format!("STS was called: {calls:?}"));
            }
            if var("AWS_ACCESS_KEY_ID").is_some() {
                return fail("keys were injected".into());
            }
            if var("AWS_PROFILE").as_deref() != Some(selected) {
                return fail(format!("AWS_PROFILE is {:?}", var("AWS_PROFILE")));
            }
        }
        Expect::Keys(key) => {
            if !calls.is_empty() {
                return fail(format!("STS was called: {calls:?}"));
            }
            if var("AWS_ACCESS_KEY_ID").as_deref() != Some(key) {
                return fail(format!(
                    "AWS_ACCESS_KEY_ID is {:?}",
                    var("AWS_ACCESS_KEY_ID")
                ));
            }
        }
        Expect::Chain { signer, roles } => {
            if !out.status.success() {
                return fail("op-aws failed".into());
            }
            let got: Vec<Role> = calls
                .iter()
                .map(|c| Role {
                    arn: c.params.get("RoleArn").cloned().unwrap_or_default(),
                    session_name: c.params.get("RoleSessionName").cloned(),
                    external_id: c.params.get("ExternalId").cloned(),
                })
                .collect();
            if calls.iter().any(|c| c.action != "AssumeRole") {
                return fail(format!("calls other than AssumeRole: {calls:?}"));
            }
            let arns: Vec<&str> = got.iter().map(|r| r.arn.as_str()).collect();
            let want: Vec<&str> = roles.iter().map(|r| r.arn.as_str()).collect();
            if arns != want {
                return fail(format!("roles on the wire: {arns:?}"));
            }
            if calls[0].signer != *signer {
                return fail(format!("the first call was signed by {}", calls[0].signer));
            }
            for (i, c) in calls.iter().enumerate().skip(1) {
                let prev = format!("ASIAISSUED{i:010}");
                if c.signer != prev {
                    return fail(format!("call {i} was signed by {}, not {prev}", c.signer));
                }
            }
            for (g, w) in got.iter().zip(roles) {
                if w.session_name.is_some() && g.session_name != w.session_name {
                    return fail(format!("session name {:?}", g.session_name));
                }
                if g.external_id != w.external_id {
                    return fail(format!("external id {:?}", g.external_id));
                }
            }
            let last = format!("ASIAISSUED{:010}", calls.len());
            if var("AWS_ACCESS_KEY_ID").as_deref() != Some(last.as_str()) {
                return fail(format!(
                    "the tool got {:?}, not the top role's {last}",
                    var("AWS_ACCESS_KEY_ID")
                ));
            }
        }
    }
    Ok(())
}

#[test]
fn every_cross_sdk_profile_chain_case_agrees() {
    let cases = cases();
    assert_eq!(cases.len(), 28, "the suite has 28 cases");
    // Two at a time: each case is a vault, an agent and a stub of its own.
    let failures: Vec<String> = std::thread::scope(|s| {
        let chunks: Vec<Vec<(usize, &Value)>> = cases
            .iter()
            .enumerate()
            .map(|(i, c)| (i + 1, c))
            .collect::<Vec<_>>()
            .chunks(14)
            .map(<[_]>::to_vec)
            .collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .into_iter()
                        .filter_map(|(n, c)| run_case(n, c).err())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} of 28 cases disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
