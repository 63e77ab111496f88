//! Quick unlock for real: a private system bus (`dbus-daemon`), Debian's `polkitd` on it, the
//! action file installed by `op-aws setup polkit`, a second, non-root user (polkit never
//! challenges root) and `pkttyagent` answering in tmux. These tests change the machine (a
//! user, a file in /usr/share/polkit-1/actions, the system bus socket) and must run as root;
//! without root or the tools they fail saying what is missing. `.config/nextest.toml` runs
//! them alone: while the action is installed, every agent unlocked on the machine holds.
//!
//! polkit's authentication helper (`polkit-agent-helper-1`, setuid) ignores
//! DBUS_SYSTEM_BUS_ADDRESS, so the private bus listens on the default system bus socket too:
//! a machine where a system bus already runs there cannot run these tests (a container can).

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::tmux::Tmux;
use crate::support::{PASS, TestEnv, require, run_cmd, sbin};

const USER: &str = "opaws-qu";
/// The test user's login password: what pkttyagent asks (PAM, /etc/shadow).
const USER_PASSWORD: &str = "qu-right-horse-7";
const KEY: &str = "AKIAQUICKUNLOCK00001";
const SECRET: &str = "quickunlocksecretquickunlocksecret000001";
const SYSTEM_BUS: &str = "/run/dbus/system_bus_socket";
const ACTION: &str = "/usr/share/polkit-1/actions/dev.op-aws.unlock.policy";

/// What the tests need, or a panic that names what is missing (never a silent pass).
fn preconditions() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "the quick unlock tests need root: they install polkit's action, start polkitd and run op-aws as a second user (polkit never asks root); run them as root (the dev container does)"
    );
    for (tool, package) in [
        ("dbus-daemon", "dbus-daemon"),
        ("pkttyagent", "polkitd"),
        ("pkcheck", "polkitd"),
        ("pkaction", "polkitd"),
        ("setpriv", "util-linux"),
        ("useradd", "passwd"),
        ("chpasswd", "passwd"),
    ] {
        let found = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
            .any(|d| d.join(tool).is_file());
        assert!(
            found,
            "the quick unlock tests need {tool} (Debian package {package}; scripts/test-deps installs it)"
        );
    }
    assert!(
        polkitd().is_some(),
        "the quick unlock tests need polkitd (Debian package polkitd; scripts/test-deps installs it)"
    );
    require("tmux");
}

fn polkitd() -> Option<PathBuf> {
    ["/usr/lib/polkit-1/polkitd", "/usr/libexec/polkitd"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

/// The test user, made if missing, with a password we know.
fn test_user() -> (u32, u32) {
    if nix::unistd::User::from_name(USER).unwrap().is_none() {
        let o = run_cmd(
            {
                let mut c = Command::new(sbin("useradd"));
                c.args(["--no-create-home", "--shell", "/bin/sh", USER]);
                c
            },
            "",
        );
        assert!(o.status.success(), "useradd {USER}: {o:?}");
    }
    let o = run_cmd(
        Command::new(sbin("chpasswd")),
        &format!("{USER}:{USER_PASSWORD}\n"),
    );
    assert!(o.status.success(), "chpasswd: {o:?}");
    let u = nix::unistd::User::from_name(USER).unwrap().unwrap();
    (u.uid.as_raw(), u.gid.as_raw())
}

/// The private system bus and polkitd on it; the action file installed. All undone on drop.
struct System {
    dir: tempfile::TempDir,
    bus: Child,
    polkitd: Option<Child>,
    installed: bool,
}

impl System {
    fn start() -> Self {
        assert!(
            !Path::new(SYSTEM_BUS).exists(),
            "{SYSTEM_BUS} exists: a system bus runs here, and polkit's setuid helper only talks to that one; run the quick unlock tests where none runs (a container)"
        );
        let dir = tempfile::Builder::new()
            .prefix("op-aws-bus-")
            .tempdir()
            .unwrap();
        let conf = dir.path().join("bus.conf");
        std::fs::create_dir_all("/run/dbus").unwrap();
        std::fs::write(
            &conf,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={}</listen>
  <listen>unix:path={SYSTEM_BUS}</listen>
  <auth>EXTERNAL</auth>
  <servicedir>{}</servicedir>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
"#,
                dir.path().join("bus").display(),
                dir.path().join("no-services").display()
            ),
        )
        .unwrap();
        let mut bus = Command::new(require("dbus-daemon"))
            .arg(format!("--config-file={}", conf.display()))
            .args(["--nofork", "--print-address"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // One line once it listens.
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(bus.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        assert!(line.contains("unix:path="), "dbus-daemon: {line:?}");
        Self {
            dir,
            bus,
            polkitd: None,
            installed: false,
        }
    }

    fn address(&self) -> String {
        format!("unix:path={}", self.dir.path().join("bus").display())
    }

    fn start_polkitd(&mut self) {
        let child = Command::new(polkitd().unwrap())
            .arg("--no-debug")
            .env("DBUS_SYSTEM_BUS_ADDRESS", self.address())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.polkitd = Some(child);
        // Ready once it answers for our action.
        let start = Instant::now();
        loop {
            let o = Command::new(require("pkaction"))
                .args(["--action-id", "dev.op-aws.unlock"])
                .env("DBUS_SYSTEM_BUS_ADDRESS", self.address())
                .output()
                .unwrap();
            if o.status.success() {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "polkitd did not come up: {o:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for System {
    fn drop(&mut self) {
        if let Some(p) = &mut self.polkitd {
            let _ = p.kill();
            let _ = p.wait();
        }
        let _ = self.bus.kill();
        let _ = self.bus.wait();
        let _ = std::fs::remove_file(SYSTEM_BUS);
        if self.installed {
            let _ = std::fs::remove_file(ACTION);
        }
    }
}

/// A test environment owned by the test user, its op-aws a copy it can run.
fn user_env(uid: u32, gid: u32, bus: &str) -> TestEnv {
    let mut env = TestEnv::new();
    // The command and the full binary it hands over to, side by side as installed.
    let exe = env.root.path().join("op-aws");
    for name in ["op-aws", "op-aws-full"] {
        let to = env.root.path().join(name);
        std::fs::copy(env.exe.with_file_name(name), &to).unwrap();
        std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    env.exe = exe;
    env.set("DBUS_SYSTEM_BUS_ADDRESS", bus);
    std::fs::create_dir_all(env.config_dir()).unwrap();
    let o = Command::new("chown")
        .args(["-R", &format!("{uid}:{gid}")])
        .arg(env.root.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "chown: {o:?}");
    env
}

/// `program args` as the test user, in the test's environment.
fn as_user(env: &TestEnv, program: &Path, args: &[&str]) -> Command {
    let mut c = env.command("setpriv");
    c.args(["--reuid", USER, "--regid", USER, "--init-groups", "--"])
        .arg(program)
        .args(args);
    c
}

fn op_aws(env: &TestEnv, args: &[&str], stdin: &str) -> Output {
    run_cmd(as_user(env, &env.exe, args), stdin)
}

fn ok(env: &TestEnv, args: &[&str], stdin: &str) -> String {
    let o = op_aws(env, args, stdin);
    assert!(
        o.status.success(),
        "{args:?} as {USER} failed: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn status(env: &TestEnv) -> serde_json::Value {
    serde_json::from_str(&ok(env, &["status", "--json"], "")).unwrap()
}

fn write_config(env: &TestEnv, text: &str) {
    let p = env.config_dir().join("config.toml");
    std::fs::write(&p, text).unwrap();
    let _ = nix::unistd::chown(
        &p,
        Some(nix::unistd::User::from_name(USER).unwrap().unwrap().uid),
        None,
    );
}

/// Waits until the agent holds (the idle time has passed).
fn wait_held(env: &TestEnv) {
    let start = Instant::now();
    loop {
        let s = status(env);
        if s["held"] == true {
            assert_eq!(s["agent"]["held"], true, "{s}");
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the agent never held: {s}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `op-aws ARGS` as the test user, started but waiting (`go` on its stdin lets it run): the
/// shell execs op-aws, so its pid, known before op-aws connects, is op-aws's.
fn spawn_waiting(env: &TestEnv, args: &str) -> Child {
    as_user(
        env,
        Path::new("/bin/sh"),
        &[
            "-c",
            &format!("read go; exec \"$0\" {args}"),
            env.exe.to_str().unwrap(),
        ],
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap()
}

fn release(child: &mut Child) {
    writeln!(child.stdin.take().unwrap(), "go").unwrap();
}

/// pkttyagent, in tmux, as the authentication agent for process `pid` (what a desktop's agent
/// is for a whole session).
fn pkttyagent_for(env: &TestEnv, bus: &str, pid: u32) -> Tmux {
    let agent = Tmux::start(
        env,
        &[("DBUS_SYSTEM_BUS_ADDRESS", bus)],
        &format!(
            "setpriv --reuid {USER} --regid {USER} --init-groups -- pkttyagent --process {pid}; echo pkttyagent-rc=$?; sleep 600"
        ),
    );
    // It registers with polkitd: give it a moment before op-aws asks.
    std::thread::sleep(Duration::from_millis(1500));
    let screen = agent.screen();
    assert!(!screen.contains("pkttyagent-rc"), "pkttyagent: {screen}");
    agent
}

/// Waits for pkttyagent's password prompt and checks that `child` waits for the person.
fn prompted(agent: &Tmux, child: &mut Child) {
    agent.wait_for("pkttyagent's password prompt", |s| s.contains("Password:"));
    let screen = agent.screen();
    assert!(screen.contains("dev.op-aws.unlock"), "{screen}");
    assert!(
        screen.contains(&format!("Authenticating as: {USER}")),
        "{screen}"
    );
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "op-aws did not wait for the approval"
    );
}

fn finish(agent: &Tmux, mut child: Child) -> Output {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "op-aws did not finish after the answer; pkttyagent: {}",
            agent.screen()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

const RUN: &str = "run --item acme -- sh -c 'echo \"served=$AWS_ACCESS_KEY_ID\"'";

/// `op-aws ARGS` as the test user while the agent holds; `answer` is typed at pkttyagent's
/// password prompt.
fn with_approval(env: &TestEnv, bus: &str, args: &str, answer: &str) -> Output {
    let mut child = spawn_waiting(env, args);
    let agent = pkttyagent_for(env, bus, child.id());
    release(&mut child);
    prompted(&agent, &mut child);
    agent.send(&[answer, "Enter"]);
    finish(&agent, child)
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// One test, in order: the machine-wide setup is costly and shared.
#[test]
fn quick_unlock_asks_system_authentication_after_the_idle_time() {
    preconditions();
    let (uid, gid) = test_user();
    let mut system = System::start();
    let bus = system.address();
    let env = user_env(uid, gid, &bus);

    // `setup polkit`: refused to anyone but root, in one line and a hint.
    let o = op_aws(&env, &["setup", "polkit"], "");
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert_eq!(err.lines().count(), 2, "{err}");
    assert!(err.starts_with("op-aws: cannot set up polkit"), "{err}");
    assert!(
        err.contains("hint: run `sudo op-aws setup polkit`"),
        "{err}"
    );
    ok(
        &env,
        &[
            "vault",
            "create",
            "--passphrase-stdin",
            "--work-factor",
            "10",
        ],
        &format!("{PASS}\n"),
    );
    let _lock = LockOnDrop(&env);
    // Without the action, quick unlock is off, and status and doctor say why.
    let had_action = Path::new(ACTION).exists();
    if !had_action {
        let s = ok(&env, &["status"], "");
        assert!(
            s.contains("quick:  off: the polkit action dev.op-aws.unlock is not installed (run `sudo op-aws setup polkit`)"),
            "{s}"
        );
        let d = String::from_utf8_lossy(&op_aws(&env, &["doctor"], "").stdout).into_owned();
        assert!(d.contains("quick unlock off: the polkit action"), "{d}");
    }
    // As root: written, 0644, and said so.
    let o = run_cmd(
        {
            let mut c = env.command(&env.exe);
            c.args(["setup", "polkit"]);
            c
        },
        "",
    );
    let (_, err) = text(&o);
    assert!(o.status.success(), "{err}");
    system.installed = !had_action;
    assert!(err.contains(ACTION), "{err}");
    let md = std::fs::metadata(ACTION).unwrap();
    assert_eq!(md.permissions().mode() & 0o777, 0o644);
    assert_eq!(
        std::fs::read_to_string(ACTION).unwrap(),
        std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("data/dev.op-aws.unlock.policy")
        )
        .unwrap()
    );
    system.start_polkitd();
    assert!(
        ok(&env, &["status"], "").contains("quick:  on"),
        "status with the action installed"
    );

    write_config(&env, "agent_timeout = \"2s\"\n");
    ok(
        &env,
        &["unlock", "--passphrase-stdin"],
        &format!("{PASS}\n"),
    );
    ok(
        &env,
        &[
            "item",
            "add",
            "acme",
            "--set",
            &format!("Access Key ID={KEY}"),
            "--set-secret",
            "Secret Access Key",
        ],
        &format!("{SECRET}\n"),
    );
    let s = status(&env);
    assert_eq!(s["agent"]["quick_unlock"], true, "{s}");

    // Idle: held, not forgotten. The right password serves the command, no passphrase asked.
    wait_held(&env);
    let held = ok(&env, &["status"], "");
    assert!(held.contains("vault:  held (quick unlock"), "{held}");
    let o = with_approval(&env, &bus, RUN, USER_PASSWORD);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(out.contains(&format!("served={KEY}")), "{out}{err}");
    assert!(!err.contains("passphrase"), "{err}");
    let s = status(&env);
    assert_eq!(
        (s["unlocked"].clone(), s["held"].clone()),
        (true.into(), false.into()),
        "{s}"
    );

    // A request other than a resolution (one item, revealed) asks the same way.
    wait_held(&env);
    let o = with_approval(&env, &bus, "item show acme --reveal", USER_PASSWORD);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(out.contains(SECRET), "{out}{err}");

    // Two commands at once: one dialog; the second waits for its answer (no authentication
    // agent serves the second process, so a check of its own would have failed).
    wait_held(&env);
    let mut first = spawn_waiting(&env, RUN);
    let mut second = spawn_waiting(&env, RUN);
    let agent = pkttyagent_for(&env, &bus, first.id());
    release(&mut first);
    prompted(&agent, &mut first);
    release(&mut second);
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        second.try_wait().unwrap().is_none(),
        "the second did not wait"
    );
    agent.send(&[USER_PASSWORD, "Enter"]);
    for o in [finish(&agent, first), finish(&agent, second)] {
        let (out, err) = text(&o);
        assert!(o.status.success(), "{out}{err}");
        assert!(out.contains(&format!("served={KEY}")), "{out}{err}");
    }
    assert_eq!(
        agent.screen().matches("Password:").count(),
        1,
        "{}",
        agent.screen()
    );
    drop(agent);

    // Held again; a wrong password is refused in one line and the vault stays held: the next
    // try with the right password is served, still with no passphrase.
    wait_held(&env);
    let o = with_approval(&env, &bus, RUN, "not-the-password");
    let (out, err) = text(&o);
    assert!(!o.status.success(), "{out}{err}");
    assert!(!out.contains("served="), "{out}");
    assert_eq!(
        err,
        "op-aws: system authentication failed: the vault stays held\nhint: run the command again and authenticate, or `op-aws lock` to forget the vault\n"
    );
    let s = status(&env);
    assert_eq!(s["held"], true, "{s}");
    let o = with_approval(&env, &bus, RUN, USER_PASSWORD);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(out.contains(&format!("served={KEY}")), "{out}{err}");

    // agents = "approve" and no pinentry_program: the agent asks polkit's
    // dev.op-aws.approve-agent about the process at the other end of its socket (the kernel's
    // word, not the request's), and a yes serves it.
    // An agent gets a session, never the item's keys: STS is moto's.
    let moto = crate::support::Moto::start();
    write_config(
        &env,
        &format!(
            "agent_timeout = \"10m\"\nagents = \"approve\"\ntrusted_endpoints = [{:?}]\n",
            moto.url()
        ),
    );
    ok(
        &env,
        &["unlock", "--passphrase-stdin"],
        &format!("{PASS}\n"),
    );
    let mut child = as_user(
        &env,
        Path::new("/bin/sh"),
        &[
            "-c",
            &format!(
                "read go; CLAUDECODE=1 AWS_ENDPOINT_URL={} AWS_DEFAULT_REGION=us-east-1 exec \"$0\" {RUN}",
                moto.url()
            ),
            env.exe.to_str().unwrap(),
        ],
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let agent = pkttyagent_for(&env, &bus, child.id());
    release(&mut child);
    agent.wait_for("the approval's password prompt", |s| {
        s.contains("Password:")
    });
    let screen = agent.screen();
    assert!(screen.contains("dev.op-aws.approve-agent"), "{screen}");
    assert!(
        child.try_wait().unwrap().is_none(),
        "the agent's request did not wait for the person"
    );
    agent.send(&[USER_PASSWORD, "Enter"]);
    let o = finish(&agent, child);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(out.contains("served="), "{out}{err}");
    let trail: serde_json::Value =
        serde_json::from_str(&ok(&env, &["audit", "--json"], "")).unwrap();
    let last = trail.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["agent"], "claude-code", "{last}");
    assert_eq!(last["approved"], "approved by the person", "{last}");
    assert!(
        !out.contains(&format!("served={KEY}")),
        "never the item's keys: {out}"
    );
    drop(agent);
    drop(moto);

    // forget_after: held or not, the identity is gone, and the passphrase (or a key) is needed.
    write_config(&env, "agent_timeout = \"1s\"\nforget_after = \"4s\"\n");
    ok(
        &env,
        &["unlock", "--passphrase-stdin"],
        &format!("{PASS}\n"),
    );
    wait_held(&env);
    std::thread::sleep(Duration::from_secs(4));
    let s = status(&env);
    assert_eq!(s["unlocked"], false, "{s}");
    assert_eq!(s["held"], false, "{s}");
    let o = op_aws(&env, &["run", "--item", "acme", "--", "true"], "");
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(err.contains("the vault is locked"), "{err}");
    assert!(err.contains("passphrase"), "{err}");
    drop(_lock);
    drop(env);
    drop(system);
    assert!(had_action || !Path::new(ACTION).exists());
}

/// Stops the test user's agent (the test environment's own drop runs as root, which the
/// user's private directories refuse).
struct LockOnDrop<'a>(&'a TestEnv);

impl Drop for LockOnDrop<'_> {
    fn drop(&mut self) {
        let _ = op_aws(self.0, &["lock"], "");
    }
}
