//! `op-aws sandbox`, tried as a hostile agent would, as a non-root test user with real user,
//! mount and pid namespaces (bubblewrap): one capability, nothing else of op-aws in reach,
//! every request the sandbox's agent's whatever its environment or ancestry says, and a kill
//! switch that closes it and revokes its sessions at AWS.

use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::sts_server::{Mode, Recorded, StsServer};
use crate::support::{Moto, TestEnv, bin, require, run_cmd, sbin, stderr, tools_dir};

const USER: &str = "opaws-sb";
const RO: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";

fn preconditions() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "the sandbox tests need root: they make a test user and run op-aws as it (a sandbox must be tried by someone who is not root)"
    );
    assert!(
        Path::new("/usr/bin/bwrap").is_file(),
        "the sandbox tests need bubblewrap (Debian package bubblewrap; scripts/test-deps installs it)"
    );
}

/// The test user (made if missing): no password, no home.
fn test_user() -> (u32, u32) {
    if nix::unistd::User::from_name(USER).unwrap().is_none() {
        let o = Command::new(sbin("useradd"))
            .args(["--no-create-home", "--shell", "/bin/sh", USER])
            .output()
            .unwrap();
        // Another test process may have made it meanwhile.
        assert!(
            o.status.success() || nix::unistd::User::from_name(USER).unwrap().is_some(),
            "useradd {USER}: {o:?}"
        );
    }
    let u = nix::unistd::User::from_name(USER).unwrap().unwrap();
    (u.uid.as_raw(), u.gid.as_raw())
}

/// The directories above the binary and the tools (root's home, 0700 here) searchable by the
/// test user while any sandbox test runs; the last one to finish puts the modes back.
struct Traverse {
    lock: File,
    modes: PathBuf,
}

impl Traverse {
    fn grant() -> Self {
        let lock = File::create("/tmp/op-aws-sandbox-tests.lock").unwrap();
        lock.lock_shared().unwrap();
        let modes = PathBuf::from("/tmp/op-aws-sandbox-tests.modes");
        let mut changed = Vec::new();
        for start in [bin(), PathBuf::from(tools_dir())] {
            for dir in start.ancestors().skip(1) {
                let Ok(m) = std::fs::metadata(dir) else {
                    continue;
                };
                let mode = m.permissions().mode() & 0o7777;
                if mode & 0o001 == 0 {
                    changed.push(format!("{:o} {}", mode, dir.display()));
                    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode | 0o001))
                        .unwrap();
                }
            }
        }
        if !changed.is_empty() {
            let mut kept = std::fs::read_to_string(&modes).unwrap_or_default();
            for c in changed {
                kept.push_str(&c);
                kept.push('\n');
            }
            std::fs::write(&modes, kept).unwrap();
        }
        Self { lock, modes }
    }
}

impl Drop for Traverse {
    fn drop(&mut self) {
        let _ = self.lock.unlock();
        if self.lock.try_lock().is_ok() {
            for line in std::fs::read_to_string(&self.modes)
                .unwrap_or_default()
                .lines()
            {
                if let Some((mode, dir)) = line.split_once(' ')
                    && let Ok(mode) = u32::from_str_radix(mode, 8)
                {
                    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode));
                }
            }
            let _ = std::fs::remove_file(&self.modes);
            let _ = self.lock.unlock();
        }
    }
}

/// A vault of the test user's with item `acme` (keys of moto's `base-user`, allowed
/// everything) under profile `base`, role profile `admin` above it, STS through a recording
/// proxy, and moto checking every signature after the setup.
struct World {
    env: TestEnv,
    proxy: StsServer,
    moto: Moto,
    /// `base-user`'s keys (moto refuses any other after the setup).
    keys: (String, String),
    uid: u32,
    gid: u32,
    _traverse: Traverse,
}

fn world(config_toml: &str) -> World {
    preconditions();
    let traverse = Traverse::grant();
    let (uid, gid) = test_user();
    let moto = Moto::start_with(&[("INITIAL_NO_AUTH_ACTION_COUNT", "6")]);
    let out = moto.boto3(
        "iam",
        "u=c.create_user(UserName='base-user')['User']['Arn']\n\
         k=c.create_access_key(UserName='base-user')['AccessKey']\n\
         allow=json.dumps({'Version':'2012-10-17','Statement':[{'Effect':'Allow','Action':'*','Resource':'*'}]})\n\
         c.put_user_policy(UserName='base-user',PolicyName='all',PolicyDocument=allow)\n\
         trust=json.dumps({'Version':'2012-10-17','Statement':[{'Effect':'Allow','Principal':{'AWS':'*'},'Action':['sts:AssumeRole','sts:TagSession','sts:SetSourceIdentity']}]})\n\
         c.create_role(RoleName='Admin',AssumeRolePolicyDocument=trust)\n\
         c.put_role_policy(RoleName='Admin',PolicyName='all',PolicyDocument=allow)\n\
         print(json.dumps([k['AccessKeyId'],k['SecretAccessKey']]))",
    );
    let (key, secret): (String, String) = serde_json::from_str(&out).unwrap();
    let proxy = StsServer::start(Mode::Forward(moto.port));
    let mut env = TestEnv::new();
    // Every op-aws the helpers run, run as the test user.
    let wrapper = env.root.path().join("op-aws-as-user");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nexec setpriv --reuid {uid} --regid {gid} --init-groups -- {} \"$@\"\n",
            env.exe.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    env.exe = wrapper;
    env.set("AWS_ENDPOINT_URL", moto.url());
    env.set("AWS_ENDPOINT_URL_STS", proxy.url());
    env.set("AWS_DEFAULT_REGION", "us-east-1");
    // The JS SDK reads only this one.
    env.set("AWS_REGION", "us-east-1");
    env.set("NODE_PATH", format!("{}/js/node_modules", tools_dir()));
    // moto and the proxy are root's: loopback, but not the user's own sockets.
    env.write(
        "cfg/config.toml",
        &format!(
            "trusted_endpoints = [{:?}, {:?}]\n{config_toml}",
            moto.url(),
            proxy.url()
        ),
    );
    env.write(
        ".aws/config",
        "[profile base]\nop_aws_item = acme\nregion = us-east-1\n\
         [profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = base\n",
    );
    env.write(
        ".aws/credentials",
        "[stray]\naws_access_key_id = AKIASTRAYPLAINTEXT01\n",
    );
    own(&env, uid, gid);
    env.vault();
    env.add_keys("acme", &key, &secret, None);
    World {
        env,
        proxy,
        moto,
        keys: (key, secret),
        uid,
        gid,
        _traverse: traverse,
    }
}

fn own(env: &TestEnv, uid: u32, gid: u32) {
    let o = Command::new("chown")
        .args(["-R", &format!("{uid}:{gid}")])
        .arg(env.root.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "chown: {o:?}");
}

fn assume_roles(p: &StsServer) -> Vec<Recorded> {
    p.requests()
        .into_iter()
        .filter(|r| r.action == "AssumeRole")
        .collect()
}

fn param<'a>(r: &'a Recorded, k: &str) -> Option<&'a str> {
    r.params.get(k).map(String::as_str)
}

/// `op-aws sandbox ARGS -- sh -c SCRIPT` as the test user; its output.
fn sandbox(w: &World, args: &[&str], script: &str) -> Output {
    let mut a: Vec<&str> = vec!["sandbox"];
    a.extend(args);
    a.extend(["--", "sh", "-c", script]);
    run_cmd(w.env.op_aws(&a), "")
}

fn lines_of(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Inside, as a hostile agent: nothing of op-aws's but the capability is reachable, and the
/// capability gives only the sandbox's policy, whatever the environment and ancestry say.
#[test]
fn a_sandbox_reaches_op_aws_only_through_its_capability() {
    let w = world("");
    let data = w.env.data_dir().display().to_string();
    let cache = w.env.cache_dir().display().to_string();
    let run = w.env.runtime_dir().display().to_string();
    let cfg = w.env.config_dir().display().to_string();
    let home = w.env.home.display().to_string();
    // A first session outside, so there is a cache to find.
    w.env.ok(&["run", "--profile", "admin", "--", "true"]);
    let script = format!(
        r#"
say() {{ echo "$1 $2"; }}
try() {{ if "$@" >/dev/null 2>&1; then echo "reached: $*"; else echo "refused: $*"; fi; }}
try cat {data}/vault.age
try cat {data}/identity.age
try cat {data}/audit.log
try ls {cache}/sts-*
try test -S {run}/agent.sock
try python3 -c "import socket; socket.socket(socket.AF_UNIX).connect('{run}/agent.sock')"
try sh -c 'echo "agents = \"allow\"" >> {cfg}/config.toml'
try sh -c 'echo x >> {home}/.aws/config'
try grep -q AKIASTRAY {home}/.aws/credentials
echo '{{"until":{{}}}}' > "$OP_AWS_RUNTIME_DIR/approvals.json"
try op-aws export
try op-aws item show acme --reveal
try op-aws unlock --passphrase-stdin
env -u OP_AWS_SANDBOX -u CLAUDECODE setsid sh -c 'sh -c "op-aws credential-process --profile admin > $HOME/../creds.json" &' 
sleep 1
op-aws run --profile admin -- aws sts get-caller-identity --query Arn --output text
op-aws credential-process --profile admin --bedrock --format claude-code > $HOME/../bedrock.json
"#
    );
    let out = sandbox(&w, &["--name", "claude", "--agents", "read-only"], &script);
    let text = lines_of(&out);
    assert!(out.status.success(), "{text}");
    for what in [
        "vault.age",
        "identity.age",
        "audit.log",
        "sts-*",
        "agent.sock",
        "connect(",
        "config.toml",
        ".aws/config",
        "AKIASTRAY",
        "op-aws export",
        "--reveal",
        "op-aws unlock",
    ] {
        assert!(
            text.lines()
                .any(|l| l.starts_with("refused:") && l.contains(what)),
            "{what} must be out of reach: {text}"
        );
        assert!(
            !text
                .lines()
                .any(|l| l.starts_with("reached:") && l.contains(what)),
            "{what}: {text}"
        );
    }
    assert!(
        text.contains("assumed-role/Admin/base-user+claude"),
        "aws got a session: {text}"
    );
    // Markers unset, re-parented: still the sandbox's agent, under its policy.
    let creds = std::fs::read_to_string(w.env.root.path().join("creds.json")).unwrap();
    let creds: serde_json::Value = serde_json::from_str(&creds).unwrap();
    assert!(creds["AccessKeyId"].as_str().unwrap().starts_with("ASIA"));
    let ar = assume_roles(&w.proxy);
    let (model, sandboxed): (Vec<_>, Vec<_>) = ar
        .iter()
        .filter(|r| param(r, "Tags.member.1.Value") == Some("claude"))
        .partition(|r| param(r, "Policy").is_some());
    assert!(!sandboxed.is_empty(), "{ar:?}");
    for r in &sandboxed {
        assert_eq!(param(r, "PolicyArns.member.1.arn"), Some(RO), "{r:?}");
        assert_eq!(param(r, "Tags.member.1.Key"), Some("op-aws:agent"), "{r:?}");
        assert_eq!(param(r, "DurationSeconds"), Some("900"), "{r:?}");
    }
    // Its model calls: a Bedrock-only session of their own, a read-only agent's too.
    let bedrock = std::fs::read_to_string(w.env.root.path().join("bedrock.json")).unwrap();
    let bedrock: serde_json::Value = serde_json::from_str(&bedrock).unwrap();
    assert!(
        bedrock["Credentials"]["SessionToken"].is_string(),
        "{bedrock}"
    );
    assert_eq!(model.len(), 1, "{ar:?}");
    let policy = param(model[0], "Policy").unwrap();
    let doc: serde_json::Value = serde_json::from_str(policy).unwrap();
    let actions = doc["Statement"][0]["Action"].as_array().unwrap();
    assert!(
        actions.iter().any(|a| a == "bedrock:InvokeModel*"),
        "{policy}"
    );
    assert!(
        actions
            .iter()
            .all(|a| a.as_str().unwrap().starts_with("bedrock:")),
        "nothing but Bedrock: {policy}"
    );
    assert_eq!(doc["Statement"].as_array().unwrap().len(), 1, "{policy}");
    assert_eq!(param(model[0], "PolicyArns.member.1.arn"), None, "{ar:?}");
    // The trail names the sandbox's agent; the person's own session stays the person's.
    let trail: Vec<serde_json::Value> =
        serde_json::from_str(&w.env.ok(&["audit", "--json"])).unwrap();
    assert_eq!(trail[0]["class"], "person", "{trail:?}");
    let agent: Vec<_> = trail.iter().filter(|e| e["agent"] == "claude").collect();
    assert!(agent.len() >= 3, "{trail:?}");
    // Who asked, as the kernel says (not a pid of the sandbox's own namespace): the op-aws
    // command, or the full binary it handed the command to (`--bedrock`).
    assert!(
        agent.iter().all(|e| e["exe"]
            .as_str()
            .is_some_and(|x| x.ends_with("/op-aws") || x.ends_with("/op-aws-full"))),
        "{trail:?}"
    );
    assert!(
        agent
            .iter()
            .all(|e| e["policy"] == RO || e["policy"].as_str().unwrap().starts_with("inline:")),
        "every release under the sandbox's policy: {trail:?}"
    );
    // Closed with the program.
    assert!(w.env.ok(&["sandbox", "list"]).contains("no open sandboxes"));
}

/// `agents = "approve"`: the agent asks through the person's pinentry (config.toml, absolute),
/// in the person's environment; a fake pinentry first on the sandbox's PATH and a forged
/// approval file approve nothing.
#[test]
fn a_sandbox_cannot_approve_itself() {
    let pinentry =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/fake-pinentry");
    let mut w = world(&format!(
        "pinentry_program = {:?}\n",
        pinentry.display().to_string()
    ));
    let answers = w.env.write("pinentry-answers", "no\n");
    let log = w.env.home.join("pinentry.log");
    w.env.set("PINENTRY_ANSWERS", answers.display().to_string());
    w.env.set("PINENTRY_LOG", log.display().to_string());
    own(&w.env, w.uid, w.gid);
    // The agent starts again in the person's environment, which names the answers.
    w.env.ok(&["lock"]);
    w.env.unlock();
    let script = r#"
mkdir -p "$HOME/../fake" && printf '#!/bin/sh\necho OK; while read l; do echo OK; done\n' > "$HOME/../fake/pinentry" && chmod +x "$HOME/../fake/pinentry"
echo yes > "$HOME/../forged" ; export PINENTRY_ANSWERS="$HOME/../forged"
echo '{"until":{}}' > "$OP_AWS_RUNTIME_DIR/approvals.json"
PATH="$HOME/../fake:$PATH" op-aws credential-process --profile admin
"#;
    let out = sandbox(&w, &["--name", "codex", "--agents", "approve"], script);
    let text = lines_of(&out);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("said no"), "{text}");
    assert!(!text.contains("AccessKeyId"), "{text}");
    let asked = std::fs::read_to_string(&log).unwrap();
    assert!(
        asked.contains("CONFIRM") && asked.contains("codex"),
        "{asked}"
    );
    assert!(assume_roles(&w.proxy).is_empty(), "nothing issued");
}

/// The kill switch: `sandbox stop` closes the capability at once (the next request inside
/// fails in one line) and forgets its sessions; `--revoke` puts the deny policy on the role.
#[test]
fn stop_closes_the_capability_and_revoke_ends_its_sessions_at_aws() {
    let w = world("");
    let flag = w.env.root.path().join("stopped");
    let script = format!(
        r#"
op-aws credential-process --profile admin > /dev/null || exit 3
touch "$HOME/../first"
while [ ! -e {flag} ]; do sleep 0.1; done
op-aws credential-process --profile admin
"#,
        flag = flag.display()
    );
    let mut c = w
        .env
        .op_aws(&["sandbox", "--name", "agent-1", "--", "sh", "-c", &script]);
    let child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let first = w.env.root.path().join("first");
    let start = Instant::now();
    while !first.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no first request"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let listed = w.env.ok(&["sandbox", "list", "--json"]);
    assert!(listed.contains("\"agent-1\""), "{listed}");
    let cached = w.env.ok(&["cache", "list", "--json"]);
    assert!(cached.contains("agent-1"), "{cached}");
    let stop = w.env.run(&["sandbox", "stop", "agent-1", "--revoke"]);
    let said = lines_of(&stop);
    assert!(stop.status.success(), "{said}");
    assert!(
        said.contains("revoked: arn:aws:iam::123456789012:role/Admin"),
        "{said}"
    );
    std::fs::write(&flag, "").unwrap();
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("closed"), "{err}");
    assert_eq!(
        err.lines().filter(|l| l.starts_with("op-aws:")).count(),
        2,
        "the sandbox's opening line and one line for the refusal: {err}"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("AccessKeyId"));
    // Its sessions are forgotten; the deny is on the role at AWS, for this agent's sessions
    // issued before now.
    let cached = w.env.ok(&["cache", "list", "--json"]);
    assert!(!cached.contains("agent-1"), "{cached}");
    let py = format!(
        "import boto3,json\n\
         c=boto3.client('iam',endpoint_url='{}',region_name='us-east-1',aws_access_key_id='{}',aws_secret_access_key='{}')\n\
         print(json.dumps(c.get_role_policy(RoleName='Admin',PolicyName='op-aws-revoke-agent-1')['PolicyDocument']))",
        w.moto.url(),
        w.keys.0,
        w.keys.1
    );
    let got = Command::new(require("python3"))
        .arg("-c")
        .arg(py)
        .output()
        .unwrap();
    assert!(
        got.status.success(),
        "{}",
        String::from_utf8_lossy(&got.stderr)
    );
    let policy = String::from_utf8_lossy(&got.stdout);
    let doc: serde_json::Value = serde_json::from_str(&policy).unwrap();
    let st = &doc["Statement"][0];
    assert_eq!(st["Effect"], "Deny", "{doc}");
    assert_eq!(st["Action"], "*", "{doc}");
    assert_eq!(
        st["Condition"]["StringEquals"]["aws:PrincipalTag/op-aws:agent"], "agent-1",
        "{doc}"
    );
    let before = st["Condition"]["DateLessThan"]["aws:TokenIssueTime"]
        .as_str()
        .unwrap();
    assert!(before.starts_with("20") && before.ends_with('Z'), "{doc}");
}

/// Inside: the AWS CLI, boto3 and the JS SDK find a session by themselves (the generated
/// config's credential_process), and so does a program in a sandbox of its own inside this one
/// (a harness's bubblewrap nested in `op-aws sandbox`).
#[test]
fn tools_inside_find_their_credentials_and_nesting_works() {
    let w = world("");
    w.env.write("whoami.js", crate::support::sdk::WHOAMI_JS);
    own(&w.env, w.uid, w.gid);
    let node = require("node");
    let script = format!(
        r#"
set -e
aws --profile admin sts get-caller-identity --query Arn --output text
python3 -c "import boto3; print(boto3.Session(profile_name='admin').client('sts').get_caller_identity()['Arn'])"
AWS_PROFILE=admin {node} {home}/whoami.js
bwrap --unshare-user --unshare-pid --dev-bind / / -- aws --profile admin sts get-caller-identity --query Arn --output text | sed 's/^/nested /'
"#,
        node = node.display(),
        home = w.env.home.display()
    );
    let out = sandbox(&w, &["--name", "tools"], &script);
    let text = lines_of(&out);
    assert!(out.status.success(), "{text}");
    let arns: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("assumed-role/Admin/base-user+tools"))
        .collect();
    assert_eq!(arns.len(), 4, "aws, boto3, the JS SDK, nested: {text}");
    assert!(arns[3].starts_with("nested "), "{text}");
}

/// Where namespaces cannot be made, it refuses in one line naming why, unless
/// `--no-isolation`, which says what it gives up.
#[test]
fn without_namespaces_it_refuses_unless_told_not_to_isolate() {
    let mut w = world("");
    let fake = w.env.write(
        "fakebin/bwrap",
        "#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n",
    );
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    own(&w.env, w.uid, w.gid);
    let path = format!(
        "{}:{}",
        fake.parent().unwrap().display(),
        crate::support::tools_path()
    );
    w.env.set("PATH", path);
    let out = sandbox(&w, &["--name", "x"], "echo ran");
    let err = stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("ran"));
    assert!(err.contains("no user namespaces here"), "{err}");
    assert!(err.contains("--no-isolation"), "{err}");
    assert_eq!(
        err.lines().filter(|l| l.starts_with("op-aws:")).count(),
        1,
        "{err}"
    );
    let out = sandbox(
        &w,
        &["--name", "x", "--no-isolation"],
        "op-aws credential-process --profile admin >/dev/null && echo served",
    );
    let text = lines_of(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("--no-isolation: sh can still reach"),
        "{text}"
    );
    assert!(text.contains("served"), "{text}");
}

/// `setup claude-code` merges its wiring into Claude Code's settings, keeps the rest, prints the
/// file; a file it cannot read as settings is left as it is.
#[test]
fn setup_claude_code_merges_and_shows_the_file() {
    let env = TestEnv::new();
    let settings = env.write(
        "proj/.claude/settings.local.json",
        r#"{"permissions": {"allow": ["Bash(ls:*)"]}, "sandbox": {"enabled": true}}"#,
    );
    let mut c = env.op_aws(&["setup", "claude-code"]);
    c.current_dir(env.home.join("proj"));
    let out = run_cmd(c, "");
    assert!(out.status.success(), "{}", stderr(&out));
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&settings).unwrap()).unwrap();
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(written, shown, "the file is shown as written");
    assert_eq!(written["permissions"]["allow"][0], "Bash(ls:*)");
    assert_eq!(written["sandbox"]["enabled"], true);
    let socks = env.runtime_dir().join("sandboxes").display().to_string();
    assert_eq!(
        written["sandbox"]["network"]["allowUnixSockets"][0],
        socks.as_str()
    );
    assert_eq!(written["sandbox"]["network"]["allowAllUnixSockets"], true);
    assert!(
        written["awsCredentialExport"]
            .as_str()
            .unwrap()
            .ends_with("credential-process --bedrock --format claude-code"),
        "{written}"
    );
    let broken = env.write("other/.claude/settings.local.json", "{ not json");
    let mut c = env.op_aws(&["setup", "claude-code"]);
    c.current_dir(env.home.join("other"));
    let out = run_cmd(c, "");
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(err.contains("not JSON") && err.contains("hint:"), "{err}");
    assert_eq!(std::fs::read_to_string(&broken).unwrap(), "{ not json");
}

/// A sandbox opened for some items and profiles gets nothing else: not by naming another, not
/// through a profile bound to another item, not through the environment's AWS_PROFILE.
#[test]
fn a_sandbox_gets_only_its_items_and_profiles() {
    let w = world("");
    let script = r#"
AWS_PROFILE=admin op-aws credential-process --item acme >/dev/null 2>&1 && echo "reached: item acme" || echo "refused: item acme"
op-aws credential-process --profile admin >/dev/null 2>&1 && echo "reached: profile admin" || echo "refused: profile admin"
"#;
    // Allowed a profile, not acme: its binding to acme is refused before STS is asked.
    let out = sandbox(
        &w,
        &["--name", "narrow", "--item", "other", "--profile", "admin"],
        script,
    );
    let text = lines_of(&out);
    assert!(text.contains("refused: item acme"), "{text}");
    assert!(text.contains("refused: profile admin"), "{text}");
    assert!(assume_roles(&w.proxy).is_empty(), "nothing issued: {text}");
    let trail: Vec<serde_json::Value> =
        serde_json::from_str(&w.env.ok(&["audit", "--json"])).unwrap();
    assert!(
        trail
            .iter()
            .any(|e| e["outcome"] == "refused" && e["agent"] == "narrow"),
        "{trail:?}"
    );
    // Allowed acme and base only: admin is refused, named or in the environment (there the
    // sandbox's own profile is used).
    let script = r#"
op-aws credential-process --profile admin >/dev/null 2>&1 && echo "reached: named admin" || echo "refused: named admin"
AWS_PROFILE=admin op-aws credential-process >/dev/null && echo "served: the default"
"#;
    let out = sandbox(
        &w,
        &["--name", "base-only", "--item", "acme", "--profile", "base"],
        script,
    );
    let text = lines_of(&out);
    assert!(text.contains("refused: named admin"), "{text}");
    assert!(text.contains("served: the default"), "{text}");
    let sent = w.proxy.requests();
    assert!(
        sent.iter().all(|r| r.action != "AssumeRole"),
        "admin was never assumed: {sent:?}"
    );
    assert!(
        sent.iter()
            .any(|r| matches!(r.action.as_str(), "GetSessionToken" | "GetFederationToken")),
        "base's own session: {sent:?}"
    );
}

/// `--keyless`: the program holds a placeholder that works nowhere; its tools work through the
/// launcher's proxy under the sandbox's policy (read-only refused at the proxy), the capability
/// is out of its reach, and each request is an audit line of the sandbox's agent.
#[test]
fn a_keyless_sandbox_holds_no_credential_and_its_tools_work() {
    let w = world("");
    let out = sandbox(
        &w,
        &[
            "--name",
            "kl",
            "--keyless",
            "--profile",
            "admin",
            "--agents",
            "read-only",
        ],
        "env | grep '^AWS_' | sed 's/^/env /'; \
         aws sts get-caller-identity --query Arn --output text; \
         aws iam create-user --user-name evil; echo iam=$?; \
         op-aws credential-process --profile admin; echo cp=$?",
    );
    let text = lines_of(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("assumed-role/Admin/base-user+kl"), "{text}");
    assert!(
        text.contains("iam:CreateUser writes, and this run is read-only")
            && !text.contains("iam=0"),
        "{text}"
    );
    assert!(
        !text.contains("cp=0") && !text.contains("\"SecretAccessKey\""),
        "{text}"
    );
    let key = text
        .lines()
        .find_map(|l| l.strip_prefix("env AWS_ACCESS_KEY_ID="))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(key.starts_with("ASIA") && key != w.keys.0, "{text}");
    assert!(!text.contains(&w.keys.1), "{text}");
    assert!(!text.contains("env AWS_ENDPOINT_URL_STS"), "{text}");
    // The sessions came from the capability (the sandbox's agent), and so did the audit lines.
    let roles = assume_roles(&w.proxy);
    assert!(
        roles
            .iter()
            .any(|r| param(r, "RoleSessionName").is_some_and(|n| n.ends_with("+kl"))),
        "{roles:?}"
    );
    let audit: Vec<serde_json::Value> =
        serde_json::from_str(&w.env.ok(&["audit", "--json"])).unwrap();
    let keyless: Vec<_> = audit.iter().filter(|e| e["via"] == "keyless").collect();
    assert!(
        keyless.iter().any(|e| e["agent"] == "kl"
            && e["action"] == "GetCallerIdentity"
            && e["status"] == 200),
        "{keyless:#?}"
    );
    assert!(
        keyless
            .iter()
            .any(|e| e["action"] == "CreateUser" && e["outcome"] == "refused"),
        "{keyless:#?}"
    );
}
