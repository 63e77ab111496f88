//! The vault, the agent, items and import, through the real binary.

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};

use crate::support::{PASS, TestEnv, ok, require, stderr};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYSECRETKEY1";

fn items(env: &TestEnv) -> Vec<String> {
    env.ok(&["item", "list"])
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn item_round_trip_then_lock() {
    let env = TestEnv::new();
    env.vault();
    env.add_keys("prod", "AKIAPROD0000000001", SECRET, Some("eu-west-1"));
    let shown = env.ok(&["item", "show", "PROD"]);
    assert!(
        shown.contains("AKIAPROD0000000001") && shown.contains("eu-west-1"),
        "{shown}"
    );
    assert!(
        !shown.contains(SECRET),
        "concealed values are masked: {shown}"
    );
    let revealed = env.ok(&["item", "show", "prod", "--reveal", "--json"]);
    assert!(revealed.contains(SECRET));

    env.ok_with_stdin(
        &[
            "item",
            "edit",
            "prod",
            "--rename",
            "default region=Region",
            "--set",
            "Note=x",
            "--set-secret",
            "one-time password",
        ],
        "JBSWY3DPEHPK3PXP\n",
    );
    let v: serde_json::Value =
        serde_json::from_str(&env.ok(&["item", "show", "prod", "--json"])).unwrap();
    let labels: Vec<&str> = v["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        [
            "Access Key ID",
            "Region",
            "Secret Access Key",
            "Note",
            "One-Time Password"
        ]
    );
    assert_eq!(v["fields"][4]["value"], "********");

    env.ok(&["item", "edit", "prod", "--unset", "note"]);
    assert!(!env.ok(&["item", "show", "prod"]).contains("Note"));

    // A secret is never accepted as an argv value.
    let o = env.run(&[
        "item",
        "edit",
        "prod",
        "--set",
        &format!("Secret Access Key={SECRET}"),
    ]);
    assert!(
        !o.status.success() && stderr(&o).contains("--set-secret"),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains(SECRET));

    env.add_keys("dev", "AKIADEV00000000001", SECRET, None);
    assert_eq!(items(&env), ["prod", "dev"]);
    let o = env.run(&["item", "add", "Dev"]);
    assert!(stderr(&o).contains("already exists"), "{}", stderr(&o));
    env.ok(&["item", "rm", "dev"]);
    assert_eq!(items(&env), ["prod"]);

    env.ok(&["lock"]);
    let o = env.run(&["item", "show", "prod"]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("op-aws: ") && e.contains("hint: run `op-aws unlock`"),
        "{e}"
    );
    assert!(env.ok(&["status"]).contains("locked"));
}

#[test]
fn wrong_passphrase_changes_nothing() {
    let env = TestEnv::new();
    env.vault();
    env.ok(&["lock"]);
    let before = snapshot(&env);
    let o = env.run_with_stdin(&["unlock", "--passphrase-stdin"], "not the passphrase\n");
    assert!(!o.status.success());
    let e = stderr(&o);
    assert_eq!(
        e.lines().next().unwrap(),
        "op-aws: cannot unlock: wrong passphrase"
    );
    assert!(e.contains("hint:"), "{e}");
    assert_eq!(before, snapshot(&env), "a failed unlock touched the vault");
    assert!(env.agent_pid().is_none(), "no agent for a wrong passphrase");
}

fn snapshot(env: &TestEnv) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(env.data_dir())
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn corrupt_vault_is_reported_and_left_alone() {
    let env = TestEnv::new();
    env.vault();
    env.add_keys("prod", "AKIAPROD0000000001", SECRET, None);
    let path = env.data_dir().join("vault.age");
    let mut bytes = std::fs::read(&path).unwrap();
    let n = bytes.len();
    bytes[n - 20] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    for args in [&["item", "list"][..], &["item", "add", "x", "--set", "a=b"]] {
        let o = env.run(args);
        assert!(!o.status.success());
        let e = stderr(&o);
        assert!(
            e.starts_with("op-aws: ") && e.contains("vault.age is damaged"),
            "{e}"
        );
        assert!(e.contains("hint: "), "{e}");
        assert!(!e.contains("panicked"), "{e}");
    }
    assert_eq!(
        std::fs::read(&path).unwrap(),
        bytes,
        "the damaged file was rewritten"
    );
}

#[test]
fn concurrent_writers_lose_nothing() {
    let env = TestEnv::new();
    env.vault();
    let children: Vec<_> = (0..20)
        .map(|i| {
            env.op_aws(&[
                "item",
                "add",
                &format!("item{i:02}"),
                "--set",
                "Access Key ID=AKIA",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let mut got = items(&env);
    got.sort();
    assert_eq!(
        got,
        (0..20).map(|i| format!("item{i:02}")).collect::<Vec<_>>()
    );
}

#[test]
fn a_writer_killed_mid_write_loses_no_acknowledged_item() {
    let env = TestEnv::new();
    env.vault();
    let mut acknowledged = Vec::new();
    for round in 0..12 {
        let name = format!("ack{round}");
        env.ok(&["item", "add", &name, "--set", "Access Key ID=AKIA"]);
        acknowledged.push(name);
        // Another writer, killed at a different moment each round.
        let mut c = env
            .op_aws(&[
                "item",
                "add",
                &format!("victim{round}"),
                "--set",
                "Access Key ID=AKIA",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_micros(500 * round));
        let _ = Command::new("kill")
            .args(["-9", &c.id().to_string()])
            .status();
        let _ = c.wait();
    }
    let got = items(&env);
    for a in &acknowledged {
        assert!(got.contains(a), "{a} was lost: {got:?}");
    }
    let leftovers: Vec<_> = std::fs::read_dir(env.data_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".op-aws-"))
        .collect();
    // A temp file may survive a SIGKILL; it must never be the vault itself.
    assert!(leftovers.iter().all(|n| n != "vault.age"));
}

#[test]
fn files_are_private_and_hold_no_plaintext_secret() {
    let mut env = TestEnv::new();
    env.vault();
    env.add_keys("prod", "AKIAPROD0000000001", SECRET, None);
    env.set("OP_AWS_SESSION_ITEM", "prod");
    let out = env.ok(&["export", "--format", "sh"]);
    assert!(out.contains(SECRET), "the explicit export prints it");
    let o = env.run(&["item", "show", "prod"]);
    assert!(!stderr(&o).contains(SECRET));
    for dir in [
        env.data_dir(),
        env.config_dir(),
        env.cache_dir(),
        env.runtime_dir(),
    ] {
        if !dir.exists() {
            continue;
        }
        assert_eq!(
            std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700,
            "{}",
            dir.display()
        );
        for e in walk(&dir) {
            let md = std::fs::symlink_metadata(&e).unwrap();
            if md.is_file() {
                assert_eq!(
                    md.permissions().mode() & 0o077,
                    0,
                    "{} is readable by others",
                    e.display()
                );
                let bytes = std::fs::read(&e).unwrap();
                for needle in [SECRET.as_bytes(), PASS.as_bytes()] {
                    assert!(
                        !bytes.windows(needle.len()).any(|w| w == needle),
                        "plaintext secret in {}",
                        e.display()
                    );
                }
            }
        }
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn the_stock_age_tool_opens_the_vault() {
    let env = TestEnv::new();
    env.vault();
    env.add_keys("prod", "AKIAPROD0000000001", SECRET, None);
    let key = env.root.path().join("key.txt");
    // age reads a passphrase only from a terminal: give it one.
    let py = r#"
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execvp("age", ["age", "-d", "-o", sys.argv[2], sys.argv[1]])
buf = b""
while b"passphrase" not in buf.lower():
    buf += os.read(fd, 1024)
os.write(fd, sys.argv[3].encode() + b"\n")
while True:
    try:
        if not os.read(fd, 1024): break
    except OSError:
        break
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"#;
    let o = env
        .command(require("python3"))
        .args(["-c", py])
        .arg(env.data_dir().join("identity.age"))
        .arg(&key)
        .arg(PASS)
        .output()
        .unwrap();
    assert!(o.status.success(), "age -d identity.age: {}", stderr(&o));
    let o = env
        .command("age")
        .arg("-d")
        .arg("-i")
        .arg(&key)
        .arg(env.data_dir().join("vault.age"))
        .output()
        .unwrap();
    let json = ok(o, &["age", "-d", "vault.age"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["items"][0]["title"], "prod");
    assert!(json.contains(SECRET));
}

#[test]
fn agent_refuses_another_uid() {
    let env = TestEnv::new();
    env.vault();
    // Open the way to the socket so that only the agent's SO_PEERCRED check stands.
    for p in [env.root.path().to_owned(), env.runtime_dir()] {
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let sock = env.runtime_dir().join("agent.sock");
    std::fs::set_permissions(&sock, std::fs::Permissions::from_mode(0o777)).unwrap();
    let py = r#"
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
try:
    s.sendall(b'{"op":"identity"}\n')
except BrokenPipeError:
    pass  # it may answer and hang up before reading
print(s.recv(4096).decode())
"#;
    let o = Command::new("runuser")
        .args(["-u", "nobody", "--", "python3", "-c", py])
        .arg(&sock)
        .output()
        .unwrap();
    let reply = ok(o, &["runuser", "python3"]);
    assert!(
        reply.contains("refusing a peer of uid") && !reply.contains("AGE-SECRET-KEY"),
        "{reply}"
    );
    // Our own client, finding its runtime directory opened up, closes it again.
    let o = env.run(&["item", "list"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::metadata(env.runtime_dir())
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700,
        "tightened back"
    );
}

#[test]
fn agent_exits_on_lock_and_on_idle_timeout() {
    let env = TestEnv::new();
    env.vault();
    let pid = env.agent_pid().expect("an agent after unlock");
    env.ok(&["lock"]);
    wait_gone(pid);
    env.ok_with_stdin(
        &["unlock", "--passphrase-stdin", "--timeout", "2s"],
        &format!("{PASS}\n"),
    );
    let pid = env.agent_pid().expect("an agent after unlock");
    wait_gone(pid);
    let o = env.run(&["item", "list"]);
    assert!(stderr(&o).contains("op-aws unlock"), "{}", stderr(&o));
}

fn wait_gone(pid: i32) {
    for _ in 0..1000 {
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("agent {pid} still running");
}

#[test]
fn relative_dir_override_is_a_clear_error() {
    let mut env = TestEnv::new();
    env.set("OP_AWS_DATA_DIR", "relative/dir");
    let o = env.run(&["status"]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("OP_AWS_DATA_DIR must be an absolute path") && e.contains("hint:"),
        "{e}"
    );
}

#[test]
fn import_removes_exactly_the_imported_lines() {
    let env = TestEnv::new();
    env.vault();
    let original = "# my keys\n[default]\naws_access_key_id = AKIADEFAULT0000001\naws_secret_access_key = defaultsecret\n\n\
                    [work] ; team\naws_access_key_id=AKIAWORK0000000001\r\naws_secret_access_key=worksecret\r\nregion=us-west-2\r\n\
                    [keep]\naws_access_key_id = AKIAKEEP0000000001\naws_secret_access_key = keepsecret\n";
    let path = env.write(".aws/credentials", original);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    env.write(
        ".aws/config",
        "[profile work]\nregion = eu-central-1\noutput = json\n",
    );
    env.ok(&[
        "import",
        "--profile",
        "default",
        "--profile",
        "work",
        "--remove-plaintext",
        "--yes",
    ]);
    let expected = "# my keys\n[default]\n\n[work] ; team\nregion=us-west-2\r\n\
                    [keep]\naws_access_key_id = AKIAKEEP0000000001\naws_secret_access_key = keepsecret\n";
    assert_eq!(std::fs::read_to_string(&path).unwrap(), expected);
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o7777,
        0o640
    );
    let v: serde_json::Value =
        serde_json::from_str(&env.ok(&["item", "show", "work", "--json", "--reveal"])).unwrap();
    let field = |l: &str| {
        v["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["label"] == l)
            .map(|f| f["value"].clone())
    };
    assert_eq!(field("Secret Access Key").unwrap(), "worksecret");
    // The credentials file's region wins over the config file's, as in the AWS CLI.
    assert_eq!(field("Default Region").unwrap(), "us-west-2");

    // From the environment, under another name; a clash is refused and changes nothing.
    let mut c = env.op_aws(&["import", "--from-env", "--name", "ci"]);
    c.env("AWS_ACCESS_KEY_ID", "AKIAENV00000000001")
        .env("AWS_SECRET_ACCESS_KEY", "envsecret");
    ok(crate::support::run_cmd(c, ""), &["import", "--from-env"]);
    let o = env.run(&["import", "--profile", "keep", "--name", "ci"]);
    assert!(stderr(&o).contains("already exists"), "{}", stderr(&o));
    assert_eq!(items(&env), ["default", "work", "ci"]);
}

#[test]
fn the_passphrase_can_be_changed_and_a_wrong_one_changes_nothing() {
    let env = TestEnv::new();
    env.vault();
    env.add_keys("prod", "AKIAPROD0000000001", SECRET, None);
    let before = snapshot(&env);
    let o = env.run_with_stdin(
        &[
            "vault",
            "passphrase",
            "--passphrase-stdin",
            "--work-factor",
            "10",
        ],
        "wrong\nnew passphrase\n",
    );
    assert!(stderr(&o).contains("wrong passphrase"), "{}", stderr(&o));
    assert_eq!(before, snapshot(&env));
    env.ok_with_stdin(
        &[
            "vault",
            "passphrase",
            "--passphrase-stdin",
            "--work-factor",
            "10",
        ],
        &format!("{PASS}\nnew passphrase\n"),
    );
    env.ok(&["lock"]);
    let o = env.run_with_stdin(&["unlock", "--passphrase-stdin"], &format!("{PASS}\n"));
    assert!(!o.status.success(), "the old passphrase still works");
    env.ok_with_stdin(&["unlock", "--passphrase-stdin"], "new passphrase\n");
    assert_eq!(items(&env), ["prod"]);
}

#[test]
fn hostile_settings_files_are_clear_errors_and_stay_as_they_are() {
    let env = TestEnv::new();
    env.vault();
    env.add_keys("prod", "AKIAPROD0000000001", SECRET, None);
    let cfg = env.write("cfg/config.toml", "store = \"s3\"\nwrap = 7\n");
    let o = env.run(&["run", "--item", "prod", "--", "true", "x"]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.starts_with("op-aws: ") && e.contains("config.toml") && e.contains("hint: "),
        "{e}"
    );
    assert_eq!(e.lines().count(), 2, "one line and a hint: {e}");
    std::fs::remove_file(&cfg).unwrap();

    let defaults = env.write("cfg/defaults.json", "{\"global\": [1, 2");
    let o = env.run(&["use", "prod", "--global"]);
    let e = stderr(&o);
    assert!(!o.status.success() && e.contains("defaults.json"), "{e}");
    assert_eq!(
        std::fs::read_to_string(&defaults).unwrap(),
        "{\"global\": [1, 2"
    );

    env.write("cfg/defaults.json", "{}");
    env.write(".aws/config", "region = x\n[profile a\n");
    let mut c = env.op_aws(&["run", "--item", "prod", "--", "aws", "s3", "ls"]);
    c.env("AWS_PROFILE", "a");
    let o = crate::support::run_cmd(c, "");
    let e = stderr(&o);
    assert!(
        !o.status.success() && e.starts_with("op-aws: cannot read the AWS config"),
        "{e}"
    );
    assert!(!e.contains("panicked"), "{e}");
}

#[test]
fn agent_forgets_and_cleans_up_on_sigterm() {
    let env = TestEnv::new();
    env.vault();
    let pid = env.agent_pid().expect("an agent after unlock");
    Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    wait_gone(pid);
    assert!(
        !env.runtime_dir().join("agent.sock").exists(),
        "the socket was removed"
    );
    let o = env.run(&["item", "list"]);
    assert!(stderr(&o).contains("op-aws unlock"), "{}", stderr(&o));
}
