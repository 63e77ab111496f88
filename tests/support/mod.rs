//! The test harness: a private HOME with every op-aws and XDG directory inside it, the real
//! binary run with a scrubbed environment, and servers (agent, moto) stopped on drop.
#![allow(dead_code)]

pub mod federation_server;
pub mod json_http;
pub mod sdk;
pub mod signin_server;
pub mod sso_server;
pub mod sts_server;
pub mod tmux;

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

pub const PASS: &str = "correct horse battery staple";

/// `aws sts get-caller-identity`, printing the caller's ARN alone.
pub const WHO_AM_I: [&str; 7] = [
    "aws",
    "sts",
    "get-caller-identity",
    "--query",
    "Arn",
    "--output",
    "text",
];

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_op-aws"))
}

/// Where `scripts/test-deps` installs what is not a Debian package.
pub fn tools_dir() -> String {
    std::env::var("OP_AWS_TOOLS")
        .unwrap_or_else(|_| format!("{}/.cache/op-aws/tools", std::env::var("HOME").unwrap()))
}

/// Where `scripts/test-deps` put nu, aws and moto (also honoured: PATH).
pub fn tools_path() -> String {
    let tools = tools_dir();
    let extra = format!("{tools}/nu/node_modules/@nushell/linux-x64/bin:{tools}/venv/bin");
    format!(
        "{}:{extra}:{}",
        bin().parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// A system tool (useradd, chpasswd) where Debian puts it, whatever PATH says.
pub fn sbin(tool: &str) -> PathBuf {
    ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        .into_iter()
        .map(|d| std::path::Path::new(d).join(tool))
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from(tool))
}

/// Finds an executable on the test PATH, or panics saying how to install it.
pub fn require(tool: &str) -> PathBuf {
    std::env::split_paths(&tools_path())
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("{tool} is not installed: run scripts/test-deps (scripts/test does)")
        })
}

/// A variable's value that makes a caller's context too big to send to the agent (48 KiB),
/// so the caller resolves in its own process: the local path, with the agent still running.
pub fn too_big_for_the_agent() -> String {
    "x".repeat(50 * 1024)
}

pub struct TestEnv {
    pub root: tempfile::TempDir,
    pub home: PathBuf,
    pub extra_env: Vec<(String, String)>,
    /// The op-aws binary the test runs (the one cargo built, unless a test says otherwise).
    pub exe: PathBuf,
}

impl TestEnv {
    pub fn new() -> Self {
        let root = tempfile::Builder::new()
            .prefix("op-aws-test-")
            .tempdir()
            .unwrap();
        let home = root.path().join("home");
        std::fs::create_dir_all(home.join(".aws")).unwrap();
        Self {
            root,
            home,
            extra_env: Vec::new(),
            exe: bin(),
        }
    }

    pub fn config_dir(&self) -> PathBuf {
        self.home.join("cfg")
    }
    pub fn data_dir(&self) -> PathBuf {
        self.home.join("data")
    }
    pub fn cache_dir(&self) -> PathBuf {
        self.home.join("cache")
    }
    pub fn runtime_dir(&self) -> PathBuf {
        self.root.path().join("run")
    }

    /// The environment every process of this test gets (nothing inherited but PATH and LANG).
    pub fn vars(&self) -> Vec<(String, String)> {
        let h = self.home.display().to_string();
        let mut v = vec![
            ("HOME".into(), h.clone()),
            ("PATH".into(), tools_path()),
            ("LANG".into(), "C.UTF-8".into()),
            ("TERM".into(), "dumb".into()),
            ("XDG_CONFIG_HOME".into(), format!("{h}/.config")),
            ("XDG_DATA_HOME".into(), format!("{h}/.local/share")),
            ("XDG_CACHE_HOME".into(), format!("{h}/.cache")),
            (
                "XDG_RUNTIME_DIR".into(),
                self.root.path().join("xdg-run").display().to_string(),
            ),
            (
                "OP_AWS_CONFIG_DIR".into(),
                self.config_dir().display().to_string(),
            ),
            (
                "OP_AWS_DATA_DIR".into(),
                self.data_dir().display().to_string(),
            ),
            (
                "OP_AWS_CACHE_DIR".into(),
                self.cache_dir().display().to_string(),
            ),
            (
                "OP_AWS_RUNTIME_DIR".into(),
                self.runtime_dir().display().to_string(),
            ),
            ("AWS_CONFIG_FILE".into(), format!("{h}/.aws/config")),
            (
                "AWS_SHARED_CREDENTIALS_FILE".into(),
                format!("{h}/.aws/credentials"),
            ),
            // Keep the AWS tools off the network and away from any real account.
            ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
            ("NO_PROXY".into(), "127.0.0.1,localhost".into()),
        ];
        v.extend(self.extra_env.iter().cloned());
        v
    }

    pub fn set(&mut self, k: &str, v: impl Into<String>) {
        self.extra_env.retain(|(a, _)| a != k);
        self.extra_env.push((k.into(), v.into()));
    }

    /// A command with this test's environment only.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut c = Command::new(program);
        c.env_clear().envs(self.vars()).current_dir(&self.home);
        c
    }

    pub fn op_aws(&self, args: &[&str]) -> Command {
        let mut c = self.command(&self.exe);
        c.args(args);
        c
    }

    /// `op-aws run --profile P -- aws sts get-caller-identity`, printing the caller's ARN alone.
    pub fn arn_command(&self, profile: &str) -> Command {
        self.op_aws(&[&["run", "--profile", profile, "--"][..], &WHO_AM_I].concat())
    }

    /// Runs op-aws with `stdin` fed in; returns the output.
    pub fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Output {
        run_cmd(self.op_aws(args), stdin)
    }

    pub fn run(&self, args: &[&str]) -> Output {
        run_cmd(self.op_aws(args), "")
    }

    /// Runs and asserts success, returning stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        ok(self.run(args), args)
    }

    pub fn ok_with_stdin(&self, args: &[&str], stdin: &str) -> String {
        ok(self.run_with_stdin(args, stdin), args)
    }

    /// A vault with a cheap scrypt work factor, unlocked.
    pub fn vault(&self) {
        self.ok_with_stdin(
            &[
                "vault",
                "create",
                "--passphrase-stdin",
                "--work-factor",
                "10",
            ],
            &format!("{PASS}\n"),
        );
        self.unlock();
    }

    pub fn unlock(&self) {
        self.ok_with_stdin(&["unlock", "--passphrase-stdin"], &format!("{PASS}\n"));
    }

    /// An item with keys (and a region, when given).
    pub fn add_keys(&self, name: &str, key_id: &str, secret: &str, region: Option<&str>) {
        let mut args = vec!["item", "add", name, "--set"];
        let id = format!("Access Key ID={key_id}");
        args.push(&id);
        let r = region.map(|r| format!("Default Region={r}"));
        if let Some(r) = &r {
            args.extend(["--set", r]);
        }
        args.extend(["--set-secret", "Secret Access Key"]);
        self.ok_with_stdin(&args, &format!("{secret}\n"));
    }

    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.home.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    pub fn agent_pid(&self) -> Option<i32> {
        let out = self.run(&["status", "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
        v["agent"]["pid"].as_i64().map(|p| p as i32)
    }
}

impl Default for TestEnv {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestEnv {
    /// Stops the agent this test may have started (lock, then make sure).
    fn drop(&mut self) {
        let pid = self.agent_pid();
        let _ = self.run(&["lock"]);
        if let Some(pid) = pid {
            for _ in 0..100 {
                if !Path::new(&format!("/proc/{pid}")).exists() {
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
        }
    }
}

pub fn run_cmd(mut c: Command, stdin: &str) -> Output {
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

pub fn ok(out: Output, what: &[&str]) -> String {
    assert!(
        out.status.success(),
        "{what:?} failed ({:?})\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `op-aws doctor`, its clock check answered by a local STS stub, never by AWS.
pub fn doctor(env: &TestEnv) -> Output {
    use sts_server::{Mode, StsServer};
    let stub = StsServer::start(Mode::Issue { secs: 3600 });
    let mut c = env.op_aws(&["doctor"]);
    c.env("AWS_ENDPOINT_URL_STS", stub.url())
        .env("AWS_ENDPOINT_URL", stub.url());
    run_cmd(c, "")
}

/// Every file under `dir`, as bytes (to look for a secret that must not be in any).
pub fn all_files(dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        let ft = e.file_type().unwrap();
        if ft.is_dir() {
            all_files(&p, out);
        } else if ft.is_file() {
            out.push((
                p.display().to_string(),
                std::fs::read(&p).unwrap_or_default(),
            ));
        }
    }
}

/// A moto server on 127.0.0.1 (a free port), stopped on drop.
pub struct Moto {
    child: Child,
    pub port: u16,
}

impl Moto {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// moto with these variables (`INITIAL_NO_AUTH_ACTION_COUNT`: requests after the first N
    /// are authenticated, so a wrong key or signature is refused).
    pub fn start_with(vars: &[(&str, &str)]) -> Self {
        let exe = require("moto_server");
        let mut child = Command::new(exe)
            .args(["-H", "127.0.0.1", "-p", "0"])
            .env("PATH", tools_path())
            .envs(vars.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start moto_server");
        let err = child.stderr.take().unwrap();
        let mut lines = BufReader::new(err).lines();
        let port = loop {
            let line = lines.next().expect("moto_server exited").unwrap();
            if let Some(rest) = line.split("http://127.0.0.1:").nth(1) {
                break rest
                    .trim_end_matches(|c: char| !c.is_ascii_digit())
                    .split(|c: char| !c.is_ascii_digit())
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap();
            }
        };
        // Keep draining its log so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Self { child, port }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Runs `body` in Python with `c`, a boto3 client of `service` against this moto; returns
    /// what it printed (a failure fails the test, with Python's message).
    pub fn boto3(&self, service: &str, body: &str) -> String {
        let py = format!(
            "import boto3,json\n\
             c=boto3.client('{service}',endpoint_url='{u}',region_name='us-east-1',aws_access_key_id='test',aws_secret_access_key='test')\n\
             {body}",
            u = self.url()
        );
        let out = Command::new(require("python3"))
            .arg("-c")
            .arg(py)
            .env("PATH", tools_path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Creates an IAM user with an access key; returns (user ARN, key id, secret).
    pub fn iam_user(&self, name: &str) -> (String, String, String) {
        let out = self.boto3(
            "iam",
            &format!(
                "u=c.create_user(UserName='{name}')['User']['Arn']\n\
                 k=c.create_access_key(UserName='{name}')['AccessKey']\n\
                 print(json.dumps([u,k['AccessKeyId'],k['SecretAccessKey']]))"
            ),
        );
        serde_json::from_str(&out).unwrap()
    }

    /// The access key ids of IAM user `name`.
    pub fn access_keys(&self, name: &str) -> Vec<String> {
        let out = self.boto3(
            "iam",
            &format!(
                "print(json.dumps([k['AccessKeyId'] for k in c.list_access_keys(UserName='{name}')['AccessKeyMetadata']]))"
            ),
        );
        serde_json::from_str(&out).unwrap()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Points the AWS CLI (and op-aws's STS client) at moto.
pub fn use_moto(env: &mut TestEnv, moto: &Moto) {
    env.set("AWS_ENDPOINT_URL", moto.url());
    env.set("AWS_ENDPOINT_URL_STS", moto.url());
}
