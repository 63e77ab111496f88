//! What the README installs (`scripts/install`): on Linux a static binary (musl) — no dynamic
//! loader, no libc.so, still position-independent — that does the whole job: the vault, the
//! agent (started from that binary), and STS over HTTP to `localhost`, a name its libc resolves
//! from `/etc/hosts` itself. `scripts/test` installs it and names it in `OP_AWS_INSTALLED`.

use std::path::{Path, PathBuf};

use crate::support::{Moto, TestEnv, ok};

fn installed() -> PathBuf {
    let p = std::env::var_os("OP_AWS_INSTALLED").map(PathBuf::from).expect(
        "OP_AWS_INSTALLED is not set: run scripts/test, which installs op-aws with scripts/install \
         and names the binary there",
    );
    assert!(p.is_file(), "{} is not there", p.display());
    p
}

/// A 64-bit little-endian ELF file, read for the few facts these tests check.
pub struct Elf(Vec<u8>);

const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
const PT_NOTE: u32 = 4;

impl Elf {
    pub fn read(exe: &std::path::Path) -> Self {
        let b = std::fs::read(exe).unwrap();
        assert_eq!(&b[..4], b"\x7fELF", "{}: an ELF file", exe.display());
        assert_eq!(b[4], 2, "{}: 64-bit", exe.display());
        Self(b)
    }

    fn u16_at(&self, o: usize) -> usize {
        u16::from_le_bytes(self.0[o..o + 2].try_into().unwrap()) as usize
    }

    fn u32_at(&self, o: usize) -> u32 {
        u32::from_le_bytes(self.0[o..o + 4].try_into().unwrap())
    }

    fn u64_at(&self, o: usize) -> u64 {
        u64::from_le_bytes(self.0[o..o + 8].try_into().unwrap())
    }

    /// The file type (`e_type`).
    pub fn kind(&self) -> usize {
        self.u16_at(0x10)
    }

    /// The file's byte ranges of the program headers of type `kind`.
    fn segments(&self, kind: u32) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
        let (phoff, size, count) = (
            self.u64_at(0x20) as usize,
            self.u16_at(0x36),
            self.u16_at(0x38),
        );
        (0..count)
            .map(move |i| phoff + i * size)
            .filter(move |&ph| self.u32_at(ph) == kind)
            .map(|ph| {
                let at = self.u64_at(ph + 8) as usize;
                at..at + self.u64_at(ph + 32) as usize
            })
    }

    /// Whether a program header asks for an interpreter (the dynamic loader).
    pub fn has_interpreter(&self) -> bool {
        self.segments(PT_INTERP).next().is_some()
    }

    /// Whether it carries glibc's ABI tag (an `NT_GNU_ABI_TAG` note, which glibc's start files
    /// add and musl's do not).
    pub fn has_glibc_abi_tag(&self) -> bool {
        const NT_GNU_ABI_TAG: u32 = 1;
        self.segments(PT_NOTE).any(|notes| {
            let mut at = notes.start;
            while at + 12 <= notes.end {
                let (namesz, descsz) = (self.u32_at(at) as usize, self.u32_at(at + 4) as usize);
                if self.u32_at(at + 8) == NT_GNU_ABI_TAG
                    && &self.0[at + 12..at + 12 + namesz] == b"GNU\0"
                {
                    return true;
                }
                at += 12 + namesz.next_multiple_of(4) + descsz.next_multiple_of(4);
            }
            false
        })
    }

    /// Whether its dynamic section has an entry tagged `tag`.
    pub fn has_dynamic_tag(&self, tag: u64) -> bool {
        self.segments(PT_DYNAMIC).any(|dynamic| {
            dynamic
                .step_by(16)
                .map(|o| self.u64_at(o))
                .take_while(|&t| t != 0)
                .any(|t| t == tag)
        })
    }
}

#[test]
fn the_installed_binary_is_static_and_does_sts_through_localhost() {
    let exe = installed();
    // The command and the full binary it hands over to, installed side by side, built alike.
    let full = exe.with_file_name("op-aws-full");
    for file in [&exe, &full] {
        static_musl_relr(file);
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
    the_installed_binary_does_sts(&exe, &full);
}

fn static_musl_relr(exe: &Path) {
    if cfg!(all(target_os = "linux", target_env = "gnu")) {
        let (elf, test_build) = (Elf::read(exe), Elf::read(&crate::support::bin()));
        const ET_DYN: usize = 3;
        assert_eq!(elf.kind(), ET_DYN, "position-independent (ASLR kept)");
        assert!(
            !elf.has_interpreter(),
            "no dynamic loader: linked statically (scripts/install falls back to dynamic linking \
             only when neither Rust's musl target nor glibc's libc.a is there, and says so)"
        );
        // scripts/test-deps adds the musl target and musl-tools, so here it is musl: glibc's startup costs
        // every start 0.6 ms in a VM (docs/vault.md, "Speed").
        assert!(
            !elf.has_glibc_abi_tag(),
            "{}: linked against glibc, not musl (scripts/install falls back without the musl target or musl-tools)",
            exe.display()
        );
        assert!(
            test_build.has_glibc_abi_tag(),
            "the check itself: the test build is glibc's"
        );
        // build.rs packs its relocations (RELR): 3 KB to apply at each start, not 320 KB.
        const DT_RELR: u64 = 36;
        assert!(elf.has_dynamic_tag(DT_RELR), "packed relative relocations");
        assert!(
            !test_build.has_dynamic_tag(DT_RELR),
            "the check itself: the test build's are not packed"
        );
    }
}

fn the_installed_binary_does_sts(exe: &Path, full: &Path) {
    let moto = Moto::start();
    let (_, key, secret) = moto.iam_user("alice");
    let mut env = TestEnv::new();
    env.exe = exe.to_owned();
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
        full,
        "the agent is the installed full binary"
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
