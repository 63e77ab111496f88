//! Which item's keys sign an STS request, and where a signed request may go.

use crate::support::TestEnv;

/// A project's config (direnv's `AWS_CONFIG_FILE`) names an endpoint: requests signed with the
/// item's keys never go there unless config.toml trusts it; nothing is sent, one line says why.
#[test]
fn signed_sts_requests_go_only_to_aws_loopback_or_trusted_endpoints() {
    let mut env = TestEnv::new();
    env.set("AWS_REGION", "us-east-1");
    env.vault();
    env.add_keys("prod", "AKIAPROD000000000001", "prod-secret", None);
    let project = env.write(
        "proj/aws-config",
        "[profile base]\nop_aws_item = prod\nendpoint_url = https://sts.example.invalid\n\
         [profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = base\n\
         endpoint_url = https://sts.example.invalid\n",
    );
    env.set("AWS_CONFIG_FILE", project.display().to_string());
    let o = env.run(&["run", "--profile", "admin", "--", "true"]);
    let e = crate::support::stderr(&o);
    assert!(!o.status.success(), "{e}");
    let lines: Vec<&str> = e.lines().collect();
    assert!(
        lines[0].starts_with("op-aws: ")
            && lines[0].contains("https://sts.example.invalid")
            && lines[0].contains("trusted_endpoints"),
        "{e}"
    );
    assert!(
        lines.len() == 2
            && lines[1].contains("trusted_endpoints = [\"https://sts.example.invalid\"]"),
        "{e}"
    );
    assert!(
        !env.ok(&["cache", "list"]).contains("admin"),
        "nothing was cached"
    );
    // The same through the environment's AWS_ENDPOINT_URL_STS.
    // (`.invalid` never resolves: were the check missing, nothing would leave this machine.)
    env.set("AWS_ENDPOINT_URL_STS", "https://sts.example.invalid:8443");
    let e = crate::support::stderr(&env.run(&["run", "--profile", "admin", "--", "true"]));
    assert!(
        e.contains("https://sts.example.invalid:8443") && e.contains("trusted_endpoints"),
        "{e}"
    );
    // A config.toml entry that is not an http(s) URL is an error naming the file.
    env.write(
        "cfg/config.toml",
        "trusted_endpoints = [\"ftp://sts.example.invalid\"]\n",
    );
    let e = crate::support::stderr(&env.run(&["run", "--profile", "admin", "--", "true"]));
    assert!(
        e.contains("config.toml") && e.contains("not an http(s) URL"),
        "{e}"
    );
}

/// A profile's `op_aws_item` that sets aside what this terminal chose (`op-aws use dev`) is said
/// on stderr, once; the command still runs with the profile's item.
#[test]
fn a_profile_overriding_the_terminals_item_is_said_once() {
    use crate::support::sts_server::{Mode, StsServer};
    let mut env = TestEnv::new();
    let stub = StsServer::start(Mode::Issue { secs: 3600 });
    env.set("AWS_ENDPOINT_URL_STS", stub.url());
    env.set("AWS_REGION", "us-east-1");
    env.vault();
    env.add_keys("dev", "AKIADEV0000000000001", "dev-secret", None);
    env.add_keys("prod", "AKIAPROD000000000001", "prod-secret", None);
    env.write(
        ".aws/config",
        "[profile base]\nop_aws_item = prod\n\
         [profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = base\n",
    );
    env.set("OP_AWS_SESSION_ITEM", "dev");
    let first = env.run(&["run", "--profile", "admin", "--", "true"]);
    let e = crate::support::stderr(&first);
    assert!(first.status.success(), "{e}");
    assert!(
        e.contains("profile admin uses item \"prod\"")
            && e.contains("not \"dev\", this terminal's"),
        "{e}"
    );
    assert_eq!(stub.requests()[0].signer, "AKIAPROD000000000001");
    let again = crate::support::stderr(&env.run(&["run", "--profile", "admin", "--", "true"]));
    assert!(!again.contains("uses item"), "said twice: {again}");
    // --item is explicit: nothing to say.
    let flag = crate::support::stderr(&env.run(&["run", "--item", "prod", "--", "true"]));
    assert!(!flag.contains("uses item"), "{flag}");
}
