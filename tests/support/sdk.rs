//! What the real-SDK tests share: a moto user whose keys are an item, a role over it, a JS SDK
//! script, and a Terraform S3 backend.

use super::{Moto, TestEnv, tools_dir, use_moto};

/// Prints the caller's ARN with the AWS SDK for JavaScript v3 (NODE_PATH finds it).
pub const WHOAMI_JS: &str = r#"const { STSClient, GetCallerIdentityCommand } = require("@aws-sdk/client-sts");
new STSClient({})
  .send(new GetCallerIdentityCommand({}))
  .then((r) => console.log(r.Arn))
  .catch((e) => { console.error(String(e)); process.exit(1); });
"#;

/// A moto IAM user whose keys are the item `acme`, bound to profile `plain`; `admin` is a role
/// over it; `whoami.js` in HOME. Returns the user's ARN.
pub fn team(env: &mut TestEnv, moto: &Moto) -> String {
    use_moto(env, moto);
    env.set("AWS_REGION", "us-east-1");
    env.set("NODE_PATH", format!("{}/js/node_modules", tools_dir()));
    env.vault();
    let (arn, key, secret) = moto.iam_user("team-user");
    env.add_keys("acme", &key, &secret, None);
    env.write(
        ".aws/config",
        "[profile plain]\nop_aws_item = acme\nregion = us-east-1\n\
         [profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = plain\n",
    );
    env.write("whoami.js", WHOAMI_JS);
    arn
}

/// `tf/main.tf` in HOME: an S3 backend in moto's bucket `tfstate` (made here), its STS calls to
/// `sts_url`.
pub fn s3_backend(env: &TestEnv, moto: &Moto, sts_url: &str) -> std::path::PathBuf {
    moto.boto3("s3", "c.create_bucket(Bucket='tfstate')");
    env.write(
        "tf/main.tf",
        &format!(
            "terraform {{\n  backend \"s3\" {{\n    bucket = \"tfstate\"\n    key = \"op-aws.tfstate\"\n    \
             region = \"us-east-1\"\n    use_path_style = true\n    \
             endpoints = {{ s3 = \"{}\", sts = \"{sts_url}\" }}\n  }}\n}}\n",
            moto.url()
        ),
    );
    env.home.join("tf")
}
