//! Keyless runs (`op-aws run --keyless`): the command holds a placeholder that works nowhere,
//! and every AWS request goes through op-aws's proxy, which checks its signature, decides it by
//! the run's rules and re-signs it with the real session. moto checks every signature after the
//! setup (`INITIAL_NO_AUTH_ACTION_COUNT`), so the placeholder itself would be refused there.

use std::collections::BTreeMap;

use crate::support::sts_server::{Mode, StsServer};
use crate::support::{Moto, TestEnv, require, run_cmd, stderr, tools_dir};

const BUCKET: &str = "keyless-bucket";

/// A vault with item `acme` (keys for moto's IAM user `base-user`, allowed everything) bound
/// to profile `base`, and the role profile `dev` over it (moto checks only the sessions of
/// roles, not GetSessionToken's); moto checking signatures after the setup; STS and IAM reached through a
/// recorder in front of moto, so what arrives there can be read.
struct World {
    env: TestEnv,
    moto: Moto,
    recorder: StsServer,
    key: String,
    secret: String,
}

fn world() -> World {
    // The setup below is 7 requests; every one after them is authenticated.
    let moto = Moto::start_with(&[("INITIAL_NO_AUTH_ACTION_COUNT", "7")]);
    let out = moto.boto3(
        "iam",
        &format!(
            "c.create_user(UserName='base-user')\n\
             k=c.create_access_key(UserName='base-user')['AccessKey']\n\
             allow=json.dumps({{'Version':'2012-10-17','Statement':[{{'Effect':'Allow','Action':'*','Resource':'*'}}]}})\n\
             c.put_user_policy(UserName='base-user',PolicyName='all',PolicyDocument=allow)\n\
             trust=json.dumps({{'Version':'2012-10-17','Statement':[{{'Effect':'Allow','Principal':{{'AWS':'*'}},'Action':['sts:AssumeRole','sts:TagSession','sts:SetSourceIdentity']}}]}})\n\
             c.create_role(RoleName='Dev',AssumeRolePolicyDocument=trust)\n\
             c.put_role_policy(RoleName='Dev',PolicyName='all',PolicyDocument=allow)\n\
             s3=boto3.client('s3',endpoint_url=c.meta.endpoint_url,region_name='us-east-1',aws_access_key_id='test',aws_secret_access_key='test')\n\
             s3.create_bucket(Bucket='{BUCKET}')\n\
             d=boto3.client('dynamodb',endpoint_url=c.meta.endpoint_url,region_name='us-east-1',aws_access_key_id='test',aws_secret_access_key='test')\n\
             d.create_table(TableName='t',KeySchema=[{{'AttributeName':'k','KeyType':'HASH'}}],AttributeDefinitions=[{{'AttributeName':'k','AttributeType':'S'}}],BillingMode='PAY_PER_REQUEST')\n\
             print(json.dumps([k['AccessKeyId'],k['SecretAccessKey']]))"
        ),
    );
    let (key, secret): (String, String) = serde_json::from_str(&out).unwrap();
    let recorder = StsServer::start(Mode::Forward(moto.port));
    let mut env = TestEnv::new();
    env.set("AWS_ENDPOINT_URL", moto.url());
    env.set("AWS_ENDPOINT_URL_STS", recorder.url());
    env.set("AWS_ENDPOINT_URL_IAM", recorder.url());
    env.set("AWS_DEFAULT_REGION", "us-east-1");
    env.set("AWS_REGION", "us-east-1");
    env.set("NODE_PATH", format!("{}/js/node_modules", tools_dir()));
    env.vault();
    env.add_keys("acme", &key, &secret, None);
    env.write(
        ".aws/config",
        "[profile base]\nop_aws_item = acme\nregion = us-east-1\n\
         [profile dev]\nrole_arn = arn:aws:iam::123456789012:role/Dev\nsource_profile = base\n",
    );
    World {
        env,
        moto,
        recorder,
        key,
        secret,
    }
}

/// `op-aws run --keyless ARGS -- sh -c SCRIPT` in HOME; its output.
fn keyless(w: &World, args: &[&str], script: &str) -> std::process::Output {
    let mut a = vec!["run", "--keyless", "--profile", "dev"];
    a.extend_from_slice(args);
    a.extend(["--", "sh", "-c", script]);
    let mut c = w.env.op_aws(&a);
    c.current_dir(&w.env.home);
    run_cmd(c, "")
}

fn vars(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn keyless_audit(w: &World) -> Vec<serde_json::Value> {
    let all: Vec<serde_json::Value> =
        serde_json::from_str(&w.env.ok(&["audit", "--json"])).unwrap();
    all.into_iter().filter(|e| e["via"] == "keyless").collect()
}

fn object_exists(w: &World, key: &str) -> bool {
    // moto checks signatures now: ask with the user's own keys.
    let py = format!(
        "import boto3\n\
         c=boto3.client('s3',endpoint_url='{}',region_name='us-east-1',aws_access_key_id='{}',aws_secret_access_key='{}')\n\
         print(any(o['Key']=='{key}' for o in c.list_objects_v2(Bucket='{BUCKET}').get('Contents',[])))",
        w.moto.url(),
        w.key,
        w.secret
    );
    let out = std::process::Command::new(require("python3"))
        .arg("-c")
        .arg(py)
        .env("PATH", crate::support::tools_path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    String::from_utf8_lossy(&out.stdout).trim() == "True"
}

/// The AWS CLI through the proxy: STS, IAM (query protocol) and a 64 MiB S3 object up and down
/// (multipart, streamed); the command's environment holds the placeholder, moto only ever sees
/// the real session, and each request is one audit line.
#[test]
fn the_aws_cli_works_through_the_proxy_without_a_real_key() {
    let w = world();
    let big = w.env.home.join("big.bin");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&big).unwrap();
        let mut block = vec![0u8; 1 << 20];
        for i in 0..64u32 {
            for (j, b) in block.iter_mut().enumerate() {
                *b = (i as usize * 31 + j * 7) as u8;
            }
            f.write_all(&block).unwrap();
        }
    }
    let out = keyless(
        &w,
        &[],
        "set -e; env | grep '^AWS_' > env.txt; \
         aws sts get-caller-identity --output json > who.json; \
         aws iam list-users --output json > users.json; \
         aws s3 cp --only-show-errors big.bin s3://keyless-bucket/big.bin; \
         aws s3 cp --only-show-errors s3://keyless-bucket/big.bin down.bin",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(&big).unwrap(),
        std::fs::read(w.env.home.join("down.bin")).unwrap(),
        "the object came back as it went up"
    );
    let users = std::fs::read_to_string(w.env.home.join("users.json")).unwrap();
    assert!(users.contains("base-user"), "{users}");
    // The environment: a placeholder, the proxy, and nothing real.
    let env = vars(&std::fs::read_to_string(w.env.home.join("env.txt")).unwrap());
    let placeholder = env["AWS_ACCESS_KEY_ID"].clone();
    assert!(
        placeholder.starts_with("ASIA") && placeholder.len() == 20,
        "{env:?}"
    );
    assert_eq!(env["AWS_SECRET_ACCESS_KEY"].len(), 40);
    assert!(env["AWS_SESSION_TOKEN"].len() > 300);
    let text = format!("{env:?}");
    assert!(
        !text.contains(&w.key) && !text.contains(&w.secret),
        "{text}"
    );
    assert!(
        env["AWS_ENDPOINT_URL"].starts_with("http://127.0.0.1:")
            && env["AWS_ENDPOINT_URL"] != w.moto.url(),
        "{env:?}"
    );
    assert!(!env.contains_key("AWS_ENDPOINT_URL_STS"), "{env:?}");
    // At moto (through the recorder): the calls, signed by a session, never the placeholder.
    let reqs = w.recorder.requests();
    for action in ["GetCallerIdentity", "ListUsers"] {
        assert!(
            reqs.iter().any(|r| r.action == action
                && r.signer.starts_with("ASIA")
                && r.signer != placeholder),
            "{action}: {reqs:?}"
        );
    }
    assert!(reqs.iter().all(|r| r.signer != placeholder), "{reqs:?}");
    // One audit line per request, with the call and the answer.
    let lines = keyless_audit(&w);
    let actions: Vec<&str> = lines.iter().filter_map(|e| e["action"].as_str()).collect();
    for a in [
        "GetCallerIdentity",
        "ListUsers",
        "CreateMultipartUpload",
        "UploadPart",
        "CompleteMultipartUpload",
        "GetObject",
    ] {
        assert!(actions.contains(&a), "{a} not in {actions:?}");
    }
    assert!(
        lines
            .iter()
            .all(|e| e["outcome"] == "released" && e["status"].as_u64().is_some_and(|s| s < 300)),
        "{lines:#?}"
    );
    let log = std::fs::read_to_string(w.env.data_dir().join("audit.log")).unwrap();
    assert!(!log.contains(&placeholder) && !log.contains(&w.secret));
}

/// Under `--read-only` the proxy refuses writes itself (S3, IAM, DynamoDB): moto never sees
/// them, the tool shows op-aws's reason, and reads still work.
#[test]
fn a_read_only_run_refuses_writes_at_the_proxy() {
    let w = world();
    w.env.write("small.txt", "hello\n");
    let out = keyless(
        &w,
        &["--read-only"],
        "aws s3 cp small.txt s3://keyless-bucket/ro.txt; echo s3=$?; \
         aws iam create-user --user-name evil; echo iam=$?; \
         aws dynamodb put-item --table-name t --item '{\"k\":{\"S\":\"x\"}}'; echo ddb=$?; \
         aws s3 ls s3://keyless-bucket/ >/dev/null; echo ls=$?; \
         aws sts assume-role --role-arn arn:aws:iam::123456789012:role/X --role-session-name xx; echo sts=$?",
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let err = stderr(&out);
    for refused in ["s3=", "iam=", "ddb=", "sts="] {
        assert!(
            text.contains(refused) && !text.contains(&format!("{refused}0")),
            "{refused}: {text}\n{err}"
        );
    }
    assert!(text.contains("ls=0"), "{text}\n{err}");
    assert!(
        err.contains("PutObject writes, and this run is read-only"),
        "{err}"
    );
    assert!(err.contains("iam:CreateUser writes"), "{err}");
    assert!(err.contains("dynamodb:PutItem writes"), "{err}");
    assert!(
        err.contains("returns credentials that would work outside op-aws"),
        "{err}"
    );
    assert!(!object_exists(&w, "ro.txt"));
    let reqs = w.recorder.requests();
    assert!(
        !reqs.iter().any(|r| r.action == "CreateUser"
            || r.params.get("RoleSessionName").is_some_and(|n| n == "xx")),
        "{reqs:?}"
    );
    let refused: Vec<_> = keyless_audit(&w)
        .into_iter()
        .filter(|e| e["outcome"] == "refused")
        .collect();
    assert_eq!(refused.len(), 4, "{refused:#?}");
    assert!(refused.iter().all(|e| e["status"] == 403), "{refused:#?}");
}

/// boto3 through the proxy: a request signed with another secret, and one whose body was
/// changed after signing, are refused by the proxy and never reach moto; the same put, unaltered,
/// works. What cannot be re-signed (a presigned URL, a chunk-signed upload) is refused in one
/// line.
#[test]
fn a_wrong_secret_or_an_altered_body_is_refused() {
    let w = world();
    w.env.write(
        "tamper.py",
        "import boto3, botocore, os\n\
         s3 = boto3.client('s3')\n\
         s3.put_object(Bucket='keyless-bucket', Key='ok.txt', Body=b'hello')\n\
         bad = boto3.client('sts', aws_access_key_id=os.environ['AWS_ACCESS_KEY_ID'], aws_secret_access_key='x' * 40, aws_session_token=os.environ['AWS_SESSION_TOKEN'])\n\
         try:\n    bad.get_caller_identity(); print('forged: accepted')\n\
         except botocore.exceptions.ClientError as e:\n    print('forged:', e.response['Error']['Message'])\n\
         def alter(request, **kw):\n    request.body = b'HELLO'\n\
         s3.meta.events.register('before-send.s3.PutObject', alter)\n\
         try:\n    s3.put_object(Bucket='keyless-bucket', Key='altered.txt', Body=b'hello'); print('altered: accepted')\n\
         except botocore.exceptions.ClientError as e:\n    print('altered:', e.response['Error']['Message'])\n\
         import urllib.request, urllib.error\n\
         def status(req):\n    try:\n        urllib.request.urlopen(req); return 'accepted'\n    except urllib.error.HTTPError as e:\n        return '%d %s' % (e.code, e.read().decode())\n\
         url = s3.generate_presigned_url('get_object', Params={'Bucket': 'keyless-bucket', 'Key': 'ok.txt'})\n\
         print('presigned:', status(url))\n\
         auth = 'AWS4-HMAC-SHA256 Credential=%s/20261207/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00' % os.environ['AWS_ACCESS_KEY_ID']\n\
         chunked = urllib.request.Request(os.environ['AWS_ENDPOINT_URL'] + '/keyless-bucket/chunked.txt', data=b'x', method='PUT', headers={'Authorization': auth, 'x-amz-security-token': os.environ['AWS_SESSION_TOKEN'], 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD'})\n\
         print('chunked:', status(chunked))\n",
    );
    let out = keyless(&w, &[], "python3 tamper.py");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    assert!(
        text.contains("forged: the signature does not match the request"),
        "{text}"
    );
    assert!(
        text.contains("altered: op-aws keyless: the request body does not match"),
        "{text}"
    );
    assert!(
        text.contains("presigned: 400") && text.contains("presigned URLs cannot be re-signed"),
        "{text}"
    );
    assert!(
        text.contains("chunked: 400") && text.contains("chunk-signed uploads"),
        "{text}"
    );
    assert!(object_exists(&w, "ok.txt"));
    assert!(!object_exists(&w, "altered.txt"));
    assert!(!object_exists(&w, "chunked.txt"));
}

/// The JS SDK v3 and Terraform's S3 backend (the Go SDK) find the proxy from AWS_ENDPOINT_URL
/// and work with the placeholder.
#[test]
fn the_js_sdk_and_terraform_work_through_the_proxy() {
    let w = world();
    w.env.write("whoami.js", crate::support::sdk::WHOAMI_JS);
    let out = keyless(&w, &[], "node whoami.js");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("arn:aws:"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let terraform = require("terraform");
    w.env.write(
        "tf/main.tf",
        &format!(
            "terraform {{\n  backend \"s3\" {{\n    bucket = \"{BUCKET}\"\n    key = \"keyless.tfstate\"\n    \
             region = \"us-east-1\"\n    use_path_style = true\n  }}\n}}\n"
        ),
    );
    let out = keyless(
        &w,
        &[],
        &format!(
            "cd tf && TF_IN_AUTOMATION=1 {} init -input=false -no-color && {0} apply -auto-approve -input=false -no-color",
            terraform.display()
        ),
    );
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(&out)
    );
    assert!(object_exists(&w, "keyless.tfstate"));
}

/// The AWS SDK for Rust, given what a keyless command holds (read from one's environment while
/// it runs): STS answers through the proxy.
#[test]
fn the_rust_sdk_works_through_the_proxy() {
    let w = world();
    let mut c = w.env.op_aws(&[
        "run",
        "--keyless",
        "--profile",
        "dev",
        "--",
        "sh",
        "-c",
        "env > env.tmp && mv env.tmp env.txt && exec sleep 60",
    ]);
    c.current_dir(&w.env.home)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    struct Killed(std::process::Child);
    impl Drop for Killed {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _run = Killed(c.spawn().unwrap());
    let file = w.env.home.join("env.txt");
    let start = std::time::Instant::now();
    while !file.exists() {
        assert!(
            start.elapsed().as_secs() < 30,
            "the keyless command never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let env = vars(&std::fs::read_to_string(&file).unwrap());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let arn = rt.block_on(async {
        use aws_smithy_http_client::{Builder, tls};
        let http = Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let creds = aws_sdk_sts::config::Credentials::new(
            &env["AWS_ACCESS_KEY_ID"],
            &env["AWS_SECRET_ACCESS_KEY"],
            Some(env["AWS_SESSION_TOKEN"].clone()),
            None,
            "keyless-test",
        );
        let config = aws_sdk_sts::Config::builder()
            .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
            .http_client(http)
            .region(aws_sdk_sts::config::Region::new("us-east-1"))
            .endpoint_url(&env["AWS_ENDPOINT_URL"])
            .credentials_provider(creds)
            .build();
        let sts = aws_sdk_sts::Client::from_conf(config);
        sts.get_caller_identity()
            .send()
            .await
            .map(|r| r.arn().unwrap_or_default().to_owned())
    });
    let arn = arn.unwrap_or_else(|e| panic!("{}", aws_sdk_sts::error::DisplayErrorContext(e)));
    assert!(arn.contains("assumed-role/Dev"), "{arn}");
}
