//! Key hygiene: role sessions that name the person in CloudTrail, and `op-aws rotate`.

use crate::support::TestEnv;
use crate::support::sts_server::{Mode, StsServer};

/// An AssumeRole with no `role_session_name` is named for the IAM user behind the item's key
/// (asked once, then remembered); `source_identity` and the session tags are sent as set; the
/// cached session shows its name.
#[test]
fn role_sessions_name_the_person_and_carry_source_identity_and_tags() {
    let mut env = TestEnv::new();
    let stub = StsServer::start(Mode::Issue { secs: 3600 });
    env.set("AWS_ENDPOINT_URL_STS", stub.url());
    env.set("AWS_REGION", "us-east-1");
    env.set("USER", "login-name");
    env.vault();
    env.add_keys("dev", "AKIADEV0000000000001", "dev-secret", None);
    env.write(
        ".aws/config",
        "[profile base]\nop_aws_item = dev\n\
         [profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = base\n\
         [profile tagged]\nrole_arn = arn:aws:iam::123456789012:role/Tagged\nsource_profile = base\n\
         source_identity = alice\nsession_tags = team=infra, cost-center=42\ntransitive_session_tags = team\n\
         [profile named]\nrole_arn = arn:aws:iam::123456789012:role/Named\nsource_profile = base\nrole_session_name = ci-job\n",
    );
    env.ok(&["run", "--profile", "admin", "--", "true"]);
    let assume = |arn: &str| {
        stub.requests()
            .into_iter()
            .find(|r| r.action == "AssumeRole" && r.params["RoleArn"].ends_with(arn))
            .unwrap_or_else(|| panic!("no AssumeRole of {arn}: {:?}", stub.actions()))
    };
    let admin = assume("role/Admin");
    assert_eq!(admin.params["RoleSessionName"], "alice.smith");
    assert!(
        !admin.params.contains_key("SourceIdentity"),
        "{:?}",
        admin.params
    );
    assert!(
        !admin.params.keys().any(|k| k.starts_with("Tags")),
        "{:?}",
        admin.params
    );

    env.ok(&["run", "--profile", "tagged", "--", "true"]);
    let tagged = assume("role/Tagged").params;
    assert_eq!(tagged["RoleSessionName"], "alice.smith");
    assert_eq!(tagged["SourceIdentity"], "alice");
    assert_eq!(tagged["Tags.member.1.Key"], "team");
    assert_eq!(tagged["Tags.member.1.Value"], "infra");
    assert_eq!(tagged["Tags.member.2.Key"], "cost-center");
    assert_eq!(tagged["Tags.member.2.Value"], "42");
    assert_eq!(tagged["TransitiveTagKeys.member.1"], "team");
    assert_eq!(
        stub.count("GetCallerIdentity"),
        1,
        "the user name is learnt once: {:?}",
        stub.actions()
    );

    env.ok(&["run", "--profile", "named", "--", "true"]);
    assert_eq!(assume("role/Named").params["RoleSessionName"], "ci-job");

    let inspect = env.ok(&["inspect"]);
    assert!(
        inspect.contains("role/Admin as alice.smith") && inspect.contains("role/Named as ci-job"),
        "{inspect}"
    );
    let cached: serde_json::Value =
        serde_json::from_str(&env.ok(&["cache", "list", "--json"])).unwrap();
    assert!(
        cached
            .to_string()
            .contains("\"session_name\":\"alice.smith\""),
        "{cached}"
    );
}

/// Without an IAM user behind the key (the STS answer names none), the login name.
#[test]
fn without_a_user_name_the_login_name_names_the_session() {
    let mut env = TestEnv::new();
    let stub = StsServer::start(Mode::Issue { secs: 3600 });
    env.set("AWS_ENDPOINT_URL_STS", stub.url());
    env.set("AWS_REGION", "us-east-1");
    env.set("USER", "J. Doe");
    env.vault();
    // Not an AKIA key: the stub names no IAM user for it.
    env.add_keys("dev", "XKIADEV0000000000001", "dev-secret", None);
    env.write(
        ".aws/config",
        "[profile base]\nop_aws_item = dev\n\
         [profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = base\n",
    );
    env.ok(&["run", "--profile", "admin", "--", "true"]);
    let r = stub
        .requests()
        .into_iter()
        .find(|r| r.action == "AssumeRole")
        .unwrap();
    assert_eq!(
        r.params["RoleSessionName"], "J.-Doe",
        "sanitised to STS's characters"
    );
}

/// A bad tag is a config error before anything is sent.
#[test]
fn malformed_session_tags_are_a_profile_error() {
    let mut env = TestEnv::new();
    let stub = StsServer::start(Mode::Issue { secs: 3600 });
    env.set("AWS_ENDPOINT_URL_STS", stub.url());
    env.vault();
    env.add_keys("dev", "AKIADEV0000000000001", "dev-secret", None);
    env.write(
        ".aws/config",
        "[profile base]\nop_aws_item = dev\n\
         [profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = base\nsession_tags = team\n",
    );
    let o = env.run(&["run", "--profile", "admin", "--", "true"]);
    let e = crate::support::stderr(&o);
    assert!(!o.status.success());
    assert!(e.contains("session_tags") && e.contains("key=value"), "{e}");
    assert!(stub.actions().is_empty(), "{:?}", stub.actions());
}
