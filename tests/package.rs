//! Issue 28: installed like a real tool. The manual pages are generated from the clap
//! definition and committed under `man/` (checked here, as the completions are); the Debian
//! package `scripts/package` builds puts every file where its reader looks without
//! configuration, and `dpkg -r` takes all of it back.

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::support::{TestEnv, require, run_cmd, stderr};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn man_pages_are_up_to_date() {
    let env = TestEnv::new();
    let fresh_dir = env.root.path().join("man");
    env.ok(&["manpages", fresh_dir.to_str().unwrap()]);
    let dir = repo().join("man");
    let update = std::env::var_os("OP_AWS_UPDATE_MAN").is_some();
    let names = |d: &Path| -> BTreeSet<String> {
        std::fs::read_dir(d)
            .map(|rd| {
                rd.map(|e| e.unwrap().file_name().into_string().unwrap())
                    .filter(|n| n.ends_with(".1"))
                    .collect()
            })
            .unwrap_or_default()
    };
    let fresh = names(&fresh_dir);
    for page in ["op-aws.1", "op-aws-run.1", "op-aws-vault-create.1"] {
        assert!(fresh.contains(page), "{page} generated: {fresh:?}");
    }
    assert!(
        !fresh
            .iter()
            .any(|n| n.contains("hook-env") || n.contains("agent.")),
        "internal commands have no page: {fresh:?}"
    );
    let hint = "run `OP_AWS_UPDATE_MAN=1 cargo nextest run --test integration man_pages_are_up_to_date` and commit man/";
    if update {
        for stale in names(&dir).difference(&fresh) {
            std::fs::remove_file(dir.join(stale)).unwrap();
        }
        for page in &fresh {
            std::fs::copy(fresh_dir.join(page), dir.join(page)).unwrap();
        }
    }
    assert_eq!(names(&dir), fresh, "the pages in man/: {hint}");
    for page in &fresh {
        let committed = std::fs::read_to_string(dir.join(page)).unwrap();
        let now = std::fs::read_to_string(fresh_dir.join(page)).unwrap();
        assert!(committed == now, "man/{page} is out of date: {hint}");
    }

    // Every page, the hand-written one too, renders without a warning (-k: UTF-8 input, as
    // man-db reads it).
    let config = dir.join("op-aws-config.5");
    assert!(config.is_file(), "man/op-aws-config.5 is written by hand");
    let groff = require("groff");
    for page in fresh.iter().map(|p| dir.join(p)).chain([config]) {
        let mut c = env.command(&groff);
        c.args(["-k", "-man", "-ww", "-z"]).arg(&page);
        let o = run_cmd(c, "");
        assert!(
            o.status.success() && stderr(&o).is_empty(),
            "{}: {}",
            page.display(),
            stderr(&o)
        );
    }
    let run = std::fs::read_to_string(dir.join("op-aws-run.1")).unwrap();
    assert!(
        run.contains(".TH op-aws-run 1") && run.contains("op\\-aws\\-config"),
        "a titled page that points at the configuration page:\n{run}"
    );
}

/// The package scripts/test built with scripts/package, named in `OP_AWS_DEB`.
fn deb() -> PathBuf {
    let p = std::env::var_os("OP_AWS_DEB").map(PathBuf::from).expect(
        "OP_AWS_DEB is not set: run scripts/test, which builds the package with scripts/package \
         and names it there",
    );
    assert!(p.is_file(), "{} is not there", p.display());
    p
}

fn man_pages() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(repo().join("man"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

/// Every file the package must hold, with its source in the repository when it is one of ours
/// as it is (None: checked otherwise).
fn expected_files() -> Vec<(String, Option<PathBuf>)> {
    let r = repo();
    let mut v: Vec<(String, Option<PathBuf>)> = vec![
        ("usr/bin/op-aws".into(), None),
        ("usr/bin/nu_plugin_op_aws".into(), None),
        (
            "usr/share/bash-completion/completions/op-aws".into(),
            Some(r.join("completions/op-aws.bash")),
        ),
        (
            "usr/share/zsh/vendor-completions/_op-aws".into(),
            Some(r.join("completions/_op-aws")),
        ),
        (
            "usr/share/fish/vendor_completions.d/op-aws.fish".into(),
            Some(r.join("completions/op-aws.fish")),
        ),
        (
            "usr/share/nushell/vendor/autoload/op-aws.nu".into(),
            Some(r.join("completions/op-aws.nu")),
        ),
        ("usr/share/doc/op-aws/copyright".into(), None),
        (
            "usr/share/polkit-1/actions/dev.op-aws.unlock.policy".into(),
            Some(r.join("data/dev.op-aws.unlock.policy")),
        ),
    ];
    for page in man_pages() {
        let section = page.rsplit('.').next().unwrap();
        // Compressed by cargo-deb, as Debian policy asks.
        v.push((format!("usr/share/man/man{section}/{page}.gz"), None));
    }
    for script in ["op-aws.bash", "op-aws.zsh", "op-aws.fish", "op-aws.nu"] {
        v.push((
            format!("usr/share/op-aws/{script}"),
            Some(r.join("bash-zsh-fish").join(script)),
        ));
    }
    for doc in ["README.md", "LICENSE-MIT", "LICENSE-APACHE"] {
        v.push((format!("usr/share/doc/op-aws/{doc}"), Some(r.join(doc))));
    }
    for sub in ["docs", "docs/shells"] {
        for e in std::fs::read_dir(r.join(sub)).unwrap() {
            let name = e.unwrap().file_name().into_string().unwrap();
            if name.ends_with(".md") {
                v.push((
                    format!("usr/share/doc/op-aws/{sub}/{name}"),
                    Some(r.join(sub).join(&name)),
                ));
            }
        }
    }
    v
}

fn files_under(root: &Path) -> BTreeSet<String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.insert(p.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(root, root, &mut out);
    out
}

fn sh(env: &TestEnv, program: &str, args: &[&str]) -> String {
    let mut c = env.command(require(program));
    c.args(args);
    let o = run_cmd(c, "");
    assert!(
        o.status.success(),
        "{program} {args:?}: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        stderr(&o)
    );
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn the_package_holds_every_file_in_place() {
    let deb = deb();
    let env = TestEnv::new();
    let root = env.root.path().join("root");
    sh(
        &env,
        "dpkg-deb",
        &["-x", deb.to_str().unwrap(), root.to_str().unwrap()],
    );
    let want = expected_files();
    let names: BTreeSet<String> = want.iter().map(|(p, _)| p.clone()).collect();
    assert_eq!(files_under(&root), names, "exactly these files");
    for (path, source) in &want {
        let got = root.join(path);
        let mode = std::fs::metadata(&got).unwrap().permissions().mode() & 0o777;
        let exec = path.starts_with("usr/bin/");
        assert_eq!(mode, if exec { 0o755 } else { 0o644 }, "{path}");
        if let Some(src) = source {
            assert!(
                std::fs::read(&got).unwrap() == std::fs::read(src).unwrap(),
                "{path} is {}",
                src.display()
            );
        }
    }
    // The man pages are ours, compressed.
    for page in man_pages() {
        let section = page.rsplit('.').next().unwrap();
        let gz = root.join(format!("usr/share/man/man{section}/{page}.gz"));
        let text = sh(&env, "gzip", &["-dc", gz.to_str().unwrap()]);
        assert_eq!(
            text,
            std::fs::read_to_string(repo().join("man").join(&page)).unwrap()
        );
    }
    // Both binaries static, and the very op-aws these sources build.
    for exe in ["usr/bin/op-aws", "usr/bin/nu_plugin_op_aws"] {
        let elf = crate::install::Elf::read(&root.join(exe));
        assert!(
            !elf.has_interpreter(),
            "{exe}: linked statically, no dynamic loader"
        );
        assert!(
            !elf.has_glibc_abi_tag(),
            "{exe}: linked against musl, as scripts/install links op-aws"
        );
    }
    assert_eq!(
        sh(
            &env,
            root.join("usr/bin/op-aws").to_str().unwrap(),
            &["--version"]
        ),
        env.ok(&["--version"])
    );
    let copyright = std::fs::read_to_string(root.join("usr/share/doc/op-aws/copyright")).unwrap();
    assert!(copyright.contains("MIT OR Apache-2.0"), "{copyright}");

    let field = |f: &str| sh(&env, "dpkg-deb", &["-f", deb.to_str().unwrap(), f]);
    assert_eq!(field("Package").trim(), "op-aws");
    let recommends = field("Recommends");
    assert!(
        recommends.contains("age") && recommends.contains("pinentry"),
        "{recommends}"
    );
    assert_eq!(
        field("Depends").trim(),
        "",
        "static binaries depend on no library"
    );
}

/// What `dpkg -i` needs: root, on Debian. Elsewhere the test says why it did nothing.
fn can_install(env: &TestEnv) -> bool {
    if !nix::unistd::geteuid().is_root() {
        eprintln!(
            "SKIPPED the_package_installs_completes_and_removes_cleanly: dpkg -i needs root (CI runs as root)"
        );
        return false;
    }
    if !Path::new("/var/lib/dpkg/status").is_file() {
        eprintln!(
            "SKIPPED the_package_installs_completes_and_removes_cleanly: not a Debian system (no dpkg database)"
        );
        return false;
    }
    let mut c = env.command("dpkg-query");
    c.args(["-W", "-f", "${Status}", "op-aws"]);
    let o = run_cmd(c, "");
    let status = String::from_utf8_lossy(&o.stdout);
    assert!(
        !status.contains("installed") || status.contains("not-installed"),
        "op-aws is already installed from a package ({status}): remove it with `dpkg -r op-aws` to run this test"
    );
    true
}

#[test]
fn the_package_installs_completes_and_removes_cleanly() {
    let deb = deb();
    let mut env = TestEnv::new();
    if !can_install(&env) {
        return;
    }
    let files: Vec<String> = expected_files()
        .into_iter()
        .map(|(p, _)| format!("/{p}"))
        .collect();
    // The directories the package may create, and whether each was there before.
    let mut dirs: BTreeSet<PathBuf> = BTreeSet::new();
    for f in &files {
        assert!(
            !Path::new(f).exists(),
            "{f} exists before the package is installed"
        );
        for a in Path::new(f).ancestors().skip(1) {
            dirs.insert(a.to_owned());
        }
    }
    let before: BTreeSet<PathBuf> = dirs.iter().filter(|d| d.exists()).cloned().collect();
    // Removed however the test ends.
    struct Remove;
    impl Drop for Remove {
        fn drop(&mut self) {
            let _ = std::process::Command::new("dpkg")
                .args(["-r", "op-aws"])
                .output();
        }
    }
    let guard = Remove;
    sh(&env, "dpkg", &["-i", deb.to_str().unwrap()]);

    // The system's PATH only: nothing of the build tree.
    env.set(
        "PATH",
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    );
    let version = sh(&env, "/usr/bin/op-aws", &["--version"]);
    assert!(version.starts_with("op-aws "), "{version}");
    assert_eq!(
        sh(&env, "man", &["-w", "op-aws"]).trim(),
        "/usr/share/man/man1/op-aws.1.gz"
    );
    assert_eq!(
        sh(&env, "man", &["-w", "5", "op-aws-config"]).trim(),
        "/usr/share/man/man5/op-aws-config.5.gz"
    );
    assert!(sh(&env, "man", &["-w", "op-aws-run"]).contains("op-aws-run.1"));
    let doctor = run_cmd(
        {
            let mut c = env.command("/usr/bin/op-aws");
            c.arg("doctor");
            c
        },
        "",
    );
    let doctor = String::from_utf8_lossy(&doctor.stdout);
    assert!(
        doctor.contains("ok   installed from the Debian package")
            && doctor.contains("plugin add /usr/bin/nu_plugin_op_aws"),
        "{doctor}"
    );

    // Each shell completes `op-aws ru` with nothing set up for op-aws: bash as a login shell
    // (bash-completion loads from /etc/profile.d), zsh with the usual compinit, fish as it is.
    let typed_in = |shell_cmd: &str, extra: &[(&str, &str)], prompt: char| {
        let t = crate::support::tmux::Tmux::start(&env, extra, shell_cmd);
        t.wait_for(&format!("{shell_cmd}'s prompt"), |s| s.contains(prompt));
        t.send(&["op-aws ru", "Tab"]);
        t.wait_for(&format!("{shell_cmd} completing `op-aws ru`"), |s| {
            // (tmux drops the trailing space the completion adds)
            s.contains("op-aws run")
        });
    };
    // A login shell reads /etc/profile (and bash-completion through /etc/profile.d), then this.
    env.write(".bash_profile", "PS1='$ '\n");
    typed_in("bash --login -i", &[], '$');
    let zdot = env.home.join("zdot");
    env.write(
        "zdot/.zshrc",
        "autoload -Uz compinit && compinit -u\nPS1='%% '\n",
    );
    typed_in("zsh -i", &[("ZDOTDIR", zdot.to_str().unwrap())], '%');
    let fish = sh(
        &env,
        "fish",
        // With this test's empty HOME: fish's own defaults only (--no-config would skip even
        // the vendor completion path).
        &["-c", "complete -C 'op-aws ru'"],
    );
    assert!(
        fish.lines().any(|l| l.starts_with("run\t") || l == "run"),
        "{fish}"
    );

    // nu: the plugin, added from /usr/bin into this test's own nu config directory.
    let nu = crate::support::require("nu");
    let nu = nu.to_str().unwrap();
    sh(&env, nu, &["-c", "plugin add /usr/bin/nu_plugin_op_aws"]);
    let commands = sh(
        &env,
        nu,
        &[
            "-c",
            "plugin list | where name == op_aws | get 0.commands | length",
        ],
    );
    assert!(commands.trim().parse::<u32>().unwrap() > 0, "{commands}");

    sh(&env, "dpkg", &["-r", "op-aws"]);
    std::mem::forget(guard);
    for f in &files {
        assert!(!Path::new(f).exists(), "{f} is left after dpkg -r");
    }
    let after: BTreeSet<PathBuf> = dirs.iter().filter(|d| d.exists()).cloned().collect();
    assert_eq!(after, before, "the directories as they were");
    let mut c = env.command("dpkg-query");
    c.args(["-W", "-f", "${Status}", "op-aws"]);
    let status = String::from_utf8_lossy(&run_cmd(c, "").stdout).into_owned();
    assert!(
        status.is_empty() || status.contains("not-installed"),
        "dpkg forgot it: {status}"
    );
}

/// `cargo package --list` for one crate of the workspace.
fn packaged_files(krate: &str) -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let o = std::process::Command::new(cargo)
        .args([
            "package",
            "--list",
            "--locked",
            "--allow-dirty",
            "-p",
            krate,
        ])
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "cargo package --list -p {krate}: {}",
        stderr(&o)
    );
    String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Every `include_str!`/`include_bytes!` target of the sources under `dir`, relative to `root`.
fn embedded(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            embedded(root, &p, out);
            continue;
        }
        if p.extension().is_none_or(|x| x != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        for mac in ["include_str!(\"", "include_bytes!(\""] {
            for (i, _) in text.match_indices(mac) {
                let rest = &text[i + mac.len()..];
                let rel = &rest[..rest.find('"').unwrap()];
                let target = p.parent().unwrap().join(rel);
                let target = std::fs::canonicalize(&target)
                    .unwrap_or_else(|e| panic!("{}: {rel}: {e}", p.display()));
                out.insert(target.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
}

#[test]
fn the_published_crates_hold_what_they_embed_and_no_tests() {
    let root = std::fs::canonicalize(repo()).unwrap();
    let core = packaged_files("op-aws");
    let mut needed = BTreeSet::new();
    embedded(&root, &root.join("src"), &mut needed);
    assert!(
        needed.contains("bash-zsh-fish/op-aws.bash"),
        "the scan finds the shell scripts: {needed:?}"
    );
    for f in &needed {
        assert!(
            core.contains(f),
            "{f} is embedded but not in the crate: {core:?}"
        );
    }
    for f in [
        "build.rs",
        "LICENSE-MIT",
        "LICENSE-APACHE",
        "README.md",
        "man/op-aws-config.5",
    ] {
        assert!(core.contains(f), "{f} in the crate");
    }
    assert!(
        !core
            .iter()
            .any(|f| f.starts_with("tests/") || f.starts_with("bench/")),
        "no tests, fixtures or benchmarks: {core:?}"
    );
    let plugin = packaged_files("nu_plugin_op_aws");
    let plugin_root = root.join("nu_plugin_op_aws");
    let mut needed = BTreeSet::new();
    embedded(&plugin_root, &plugin_root.join("src"), &mut needed);
    for f in &needed {
        assert!(
            plugin.contains(f),
            "{f} is embedded but not in the plugin crate"
        );
    }
    assert!(plugin.contains("src/main.rs"), "{plugin:?}");
}
