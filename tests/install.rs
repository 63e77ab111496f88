//! What the README installs (`scripts/install`): on Linux a static binary (musl) — no dynamic
//! loader, no libc.so, still position-independent — that does the whole job: the vault, the
//! agent (started from that binary), and STS over HTTP to `localhost`, a name its libc resolves
//! from `/etc/hosts` itself. `scripts/test` installs it and names it in `OP_AWS_INSTALLED`.

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

/// Whether the ELF file carries glibc's ABI tag (an `NT_GNU_ABI_TAG` note, which glibc's start
/// files add and musl's do not).
pub fn has_glibc_abi_tag(exe: &std::path::Path) -> bool {
    let b = std::fs::read(exe).unwrap();
    let u16_at = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap()) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap()) as usize;
    let (phoff, size, count) = (u64_at(0x20), u16_at(0x36), u16_at(0x38));
    const PT_NOTE: usize = 4;
    const NT_GNU_ABI_TAG: usize = 1;
    (0..count).map(|i| phoff + i * size).any(|ph| {
        if u32_at(ph) != PT_NOTE {
            return false;
        }
        let (mut at, end) = (u64_at(ph + 8), u64_at(ph + 8) + u64_at(ph + 32));
        while at + 12 <= end {
            let (namesz, descsz, kind) = (u32_at(at), u32_at(at + 4), u32_at(at + 8));
            let name = &b[at + 12..at + 12 + namesz];
            if kind == NT_GNU_ABI_TAG && name == b"GNU\0" {
                return true;
            }
            at += 12 + namesz.next_multiple_of(4) + descsz.next_multiple_of(4);
        }
        false
    })
}

/// Whether the ELF file's dynamic section has an entry tagged `tag`.
fn has_dynamic_tag(exe: &std::path::Path, tag: u64) -> bool {
    let b = std::fs::read(exe).unwrap();
    let u16_at = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
    let (phoff, size, count) = (u64_at(0x20) as usize, u16_at(0x36), u16_at(0x38));
    const PT_DYNAMIC: u64 = 2;
    (0..count).map(|i| phoff + i * size).any(|ph| {
        if u64_at(ph) & 0xffff_ffff != PT_DYNAMIC {
            return false;
        }
        let (at, len) = (u64_at(ph + 8) as usize, u64_at(ph + 32) as usize);
        (at..at + len)
            .step_by(16)
            .map(u64_at)
            .take_while(|&t| t != 0)
            .any(|t| t == tag)
    })
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
             only when neither Rust's musl target nor glibc's libc.a is there, and says so)"
        );
        // scripts/test-deps adds the musl target, so here it is musl: glibc's startup costs
        // every start 0.6 ms in a VM (docs/vault.md, "Speed").
        assert!(
            !has_glibc_abi_tag(&exe),
            "{}: linked against glibc, not musl (did `rustup target add` fail in scripts/install?)",
            exe.display()
        );
        assert!(
            has_glibc_abi_tag(&crate::support::bin()),
            "the check itself: the test build is glibc's"
        );
        // build.rs packs its relocations (RELR): 3 KB to apply at each start, not 320 KB.
        const DT_RELR: u64 = 36;
        assert!(
            has_dynamic_tag(&exe, DT_RELR),
            "packed relative relocations"
        );
        assert!(
            !has_dynamic_tag(&crate::support::bin(), DT_RELR),
            "the check itself: the test build's are not packed"
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
