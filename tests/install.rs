//! What the README installs (`scripts/install`): on Linux with glibc a static binary — no
//! dynamic loader, no libc.so, still position-independent — that does the whole job: the vault,
//! the agent (started from that binary), and STS over HTTP to `localhost`, a name the static
//! glibc resolves itself. `scripts/test` installs it and names it in `OP_AWS_INSTALLED`.

use std::path::PathBuf;

use crate::support::{Moto, TestEnv, ok};

fn installed() -> PathBuf {
    let p = std::env::var_os("OP_AWS_INSTALLED").map(PathBuf::from).expect(
        "OP_AWS_INSTALLED is not set: run scripts/test, which installs op-aws with scripts/install \
         and names the binary there",
    );
    assert!(p.is_file(), "{} is not there", p.display());
    p
}

/// The ELF file type and whether a program header asks for an interpreter (the dynamic loader).
pub fn elf_kind(exe: &std::path::Path) -> (u16, bool) {
    let b = std::fs::read(exe).unwrap();
    assert_eq!(&b[..4], b"\x7fELF", "an ELF file");
    assert_eq!(b[4], 2, "64-bit");
    let u16_at = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
    let phoff = u64::from_le_bytes(b[0x20..0x28].try_into().unwrap()) as usize;
    let (size, count) = (u16_at(0x36) as usize, u16_at(0x38) as usize);
    const PT_INTERP: u32 = 3;
    let interp = (0..count).any(|i| {
        let o = phoff + i * size;
        u32::from_le_bytes(b[o..o + 4].try_into().unwrap()) == PT_INTERP
    });
    (u16_at(0x10), interp)
}

#[test]
fn the_installed_binary_is_static_and_does_sts_through_localhost() {
    let exe = installed();
    if cfg!(all(target_os = "linux", target_env = "gnu")) {
        let (kind, interp) = elf_kind(&exe);
        const ET_DYN: u16 = 3;
        assert_eq!(kind, ET_DYN, "position-independent (ASLR kept)");
        assert!(
            !interp,
            "no dynamic loader: linked statically (scripts/install falls back to dynamic linking \
             only when glibc's libc.a is not installed, and says so)"
        );
    }
    assert_eq!(
        ok(
            TestEnv::new()
                .command(&exe)
                .arg("--version")
                .output()
                .unwrap(),
            &["--version"]
        ),
        ok(
            TestEnv::new()
                .command(crate::support::bin())
                .arg("--version")
                .output()
                .unwrap(),
            &["--version"]
        ),
        "built from these sources"
    );

    let moto = Moto::start();
    let (_, key, secret) = moto.iam_user("alice");
    let mut env = TestEnv::new();
    env.exe = exe.clone();
    let url = format!("http://localhost:{}", moto.port);
    env.set("AWS_ENDPOINT_URL", &url);
    env.set("AWS_ENDPOINT_URL_STS", &url);
    env.write(
        ".aws/config",
        "[profile base]\nop_aws_item = acme\nregion = us-east-1\n\n\
         [profile admin]\nrole_arn = arn:aws:iam::210987654321:role/Admin\nsource_profile = base\n",
    );
    env.vault();
    env.add_keys("acme", &key, &secret, Some("us-east-1"));
    let pid = env.agent_pid().expect("the agent runs");
    assert_eq!(
        std::fs::read_link(format!("/proc/{pid}/exe")).unwrap(),
        exe,
        "the agent is the installed binary"
    );
    // The role's session comes from op-aws's own AssumeRole (in the agent, over the SDK's
    // resolver and HTTP client), then the real aws CLI calls moto with it.
    let out = ok(
        env.run(&[
            "run",
            "--profile",
            "admin",
            "--",
            "aws",
            "sts",
            "get-caller-identity",
            "--output",
            "json",
        ]),
        &["run"],
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["Arn"], "arn:aws:sts::210987654321:assumed-role/Admin/alice",
        "{out}"
    );
    let sessions = ok(env.run(&["cache", "list", "--json"]), &["cache", "list"]);
    assert!(sessions.contains("role/Admin"), "cached: {sessions}");
}
