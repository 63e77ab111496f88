//! Files and directories op-aws did not make: other users' (root with their HOME), symlinks and
//! hard links, bytes the SDK's parser skips, a directory recreated at a known path.

use std::process::Command;

use crate::support::{PASS, TestEnv, doctor};

/// A directory default belongs to the directory it was made for (owner, device, inode): one
/// recreated at the same path, by another user (world-writable parent, shared machine) or by
/// anyone, inherits nothing, export included; the hook says so once per shell.
#[test]
fn a_directory_recreated_at_the_same_path_inherits_no_default() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    env.vault();
    env.add_keys("acme", "AKIAACMEACMEACME0001", "acme-secret", None);
    let proj = env.home.join("shared/proj");
    std::fs::create_dir_all(&proj).unwrap();
    env.ok(&[
        "use",
        "acme",
        "--directory",
        proj.to_str().unwrap(),
        "--export",
    ]);
    let hook = |dir: &std::path::Path, extra: &[(&str, &str)]| {
        let mut c = env.op_aws(&["hook-env", "--shell", "bash"]);
        c.current_dir(dir).envs(extra.iter().copied());
        let o = crate::support::run_cmd(c, "");
        assert!(o.status.success(), "{}", crate::support::stderr(&o));
        (
            String::from_utf8_lossy(&o.stdout).into_owned(),
            crate::support::stderr(&o),
        )
    };
    let (mine, quiet) = hook(&proj, &[]);
    assert!(
        mine.contains("OP_AWS_ITEM='acme'") && mine.contains("AKIAACMEACMEACME0001"),
        "{mine}"
    );
    assert!(quiet.is_empty(), "{quiet}");
    // Replaced by the owner (the old one moved aside, so the inode cannot be reused).
    std::fs::rename(&proj, env.home.join("shared/proj.old")).unwrap();
    std::fs::create_dir_all(&proj).unwrap();
    let (out, said) = hook(&proj, &[]);
    assert!(
        !out.contains("AKIA") && !out.contains("OP_AWS_ITEM='acme'"),
        "{out}"
    );
    assert!(
        said.contains("is not applied: the directory was replaced")
            && said.contains("op-aws use 'acme' --directory"),
        "{said}"
    );
    assert_eq!(said.lines().count(), 1, "{said}");
    // The hook's marker keeps the same shell quiet.
    let marker = out
        .lines()
        .find(|l| l.contains("__OP_AWS_IGNORED_WARNED"))
        .expect("the hook remembers it said so");
    let value = marker
        .split_once('=')
        .unwrap()
        .1
        .trim_matches(|c| c == '\'' || c == ';');
    let (_, again) = hook(&proj, &[("__OP_AWS_IGNORED_WARNED", value)]);
    assert!(again.is_empty(), "said twice: {again}");
    // Made again by the owner: applies.
    env.ok(&["use", "acme", "--directory", proj.to_str().unwrap()]);
    assert!(hook(&proj, &[]).0.contains("OP_AWS_ITEM='acme'"));
    // Someone else's directory at the same path.
    std::fs::remove_dir_all(&proj).unwrap();
    std::fs::create_dir_all(&proj).unwrap();
    std::fs::set_permissions(&proj, std::fs::Permissions::from_mode(0o777)).unwrap();
    nix::unistd::chown(&proj, Some(nix::unistd::Uid::from_raw(4242)), None).unwrap();
    let (theirs, said) = hook(&proj, &[]);
    assert!(
        !theirs.contains("acme") && !theirs.contains("AKIA"),
        "{theirs}"
    );
    assert!(said.contains("the directory is not yours"), "{said}");
    let mut c = env.op_aws(&["status", "--json"]);
    c.current_dir(&proj);
    let v: serde_json::Value = serde_json::from_str(&crate::support::ok(
        crate::support::run_cmd(c, ""),
        &["status"],
    ))
    .unwrap();
    assert!(v["item"].is_null(), "{v}");
    // And a default cannot be made for it.
    let o = env.run(&["use", "acme", "--directory", proj.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(crate::support::stderr(&o).contains("belongs to uid 4242"));
}

/// Dotfiles: a credentials file that is a symlink (stow, chezmoi) is cleaned where it points, in
/// that file's own directory, and the link stays a link; one with other hard links is refused
/// before anything is imported, and doctor names the real file.
#[test]
fn a_symlinked_credentials_file_is_cleaned_where_it_points() {
    let env = TestEnv::new();
    env.vault();
    let text = "# mine\n[p]\naws_access_key_id = AKIADOTFILES00000001\naws_secret_access_key = s\nregion = eu-west-1\n";
    let real = env.write("dotfiles/aws-credentials", text);
    let link = env.home.join(".aws/credentials");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let out = String::from_utf8_lossy(&doctor(&env).stdout).into_owned();
    assert!(out.contains("dotfiles/aws-credentials for p"), "{out}");
    let o = env.run(&["import", "--profile", "p", "--remove-plaintext", "--yes"]);
    let e = crate::support::stderr(&o);
    assert!(o.status.success(), "{e}");
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link stays a link"
    );
    assert_eq!(
        std::fs::read_to_string(&real).unwrap(),
        "# mine\n[p]\nregion = eu-west-1\n",
        "only the key lines went, byte-exact"
    );
    assert_eq!(
        std::fs::canonicalize(&link).unwrap(),
        std::fs::canonicalize(&real).unwrap()
    );
    assert!(env.ok(&["item", "list"]).contains('p'));
    let leftovers: Vec<_> = std::fs::read_dir(real.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(leftovers, ["aws-credentials"], "no temporary file left");
    assert!(
        !env.home.join(".aws/credentials.lock").exists(),
        "a stray lock file"
    );

    // A hard link elsewhere would keep the keys: refused, nothing imported, nothing changed.
    let env = TestEnv::new();
    env.vault();
    let text = "[q]\naws_access_key_id = AKIADOTFILES00000002\naws_secret_access_key = s\n";
    let creds = env.home.join(".aws/credentials");
    std::fs::write(&creds, text).unwrap();
    let other = env.write("backup/credentials", "");
    std::fs::remove_file(&other).unwrap();
    std::fs::hard_link(&creds, &other).unwrap();
    let o = env.run(&["import", "--profile", "q", "--remove-plaintext", "--yes"]);
    let e = crate::support::stderr(&o);
    assert!(!o.status.success(), "{e}");
    assert!(e.contains("2 hard links"), "{e}");
    assert_eq!(std::fs::read_to_string(&creds).unwrap(), text);
    assert!(
        !env.ok(&["item", "list"]).contains('q'),
        "nothing was imported before the refusal"
    );
    // Without --remove-plaintext the import itself works.
    env.ok(&["import", "--profile", "q"]);
    assert!(env.ok(&["item", "list"]).contains('q'));
}

/// Root with a user's HOME (`sudo -E op-aws item add ...`) must not take the user's vault over.
#[test]
fn root_does_not_rewrite_another_users_vault() {
    let env = TestEnv::new();
    env.vault();
    env.add_keys("dev", "AKIADEV0000000000001", "dev-secret", None);
    let data = env.data_dir();
    let user = nix::unistd::Uid::from_raw(4242);
    for f in ["vault.age", "identity.age", "recipient.txt"] {
        nix::unistd::chown(&data.join(f), Some(user), None).unwrap();
    }
    let before = std::fs::read(data.join("vault.age")).unwrap();
    let o = env.run_with_stdin(
        &[
            "item",
            "add",
            "x",
            "--set",
            "Access Key ID=AKIAX",
            "--set-secret",
            "Secret Access Key",
        ],
        "s\n",
    );
    let e = crate::support::stderr(&o);
    assert!(!o.status.success(), "{e}");
    assert!(
        e.contains("owned by another user") && e.contains("hint: "),
        "{e}"
    );
    assert_eq!(std::fs::read(data.join("vault.age")).unwrap(), before);
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        std::fs::metadata(data.join("vault.age")).unwrap().uid(),
        4242
    );
}

/// `doctor` reads the AWS files as bytes: a stray non-UTF-8 byte (which makes the SDK's parser
/// skip the whole file) hides no key, and keys in ~/.aws/config count; `import
/// --remove-plaintext` takes them out of the file that holds them, every other byte kept.
#[test]
fn keys_the_parser_skips_and_keys_in_the_config_file_are_found_and_removed() {
    let env = TestEnv::new();
    env.vault();
    let creds = env.home.join(".aws/credentials");
    let creds_bytes: &[u8] =
        b"# caf\xe9 (latin-1)\n[old]\naws_access_key_id = AKIALATIN00000000001\naws_secret_access_key = latin-secret\n";
    std::fs::write(&creds, creds_bytes).unwrap();
    let config = env.write(
        ".aws/config",
        "# team config\r\n[profile cfg]\r\nregion = eu-west-1\r\naws_access_key_id = AKIACONFIG0000000001\r\naws_secret_access_key = cfg-secret\r\n[profile other]\r\nregion = us-east-1\r\n",
    );
    let out = String::from_utf8_lossy(&doctor(&env).stdout).into_owned();
    assert!(
        out.contains("warn plaintext keys") && out.contains("old") && out.contains("cfg"),
        "{out}"
    );
    env.ok(&["import", "--all", "--remove-plaintext", "--yes"]);
    let items = env.ok(&["item", "list"]);
    assert!(items.contains("old") && items.contains("cfg"), "{items}");
    let shown = env.ok(&["item", "show", "old", "--reveal"]);
    assert!(
        shown.contains("AKIALATIN00000000001") && shown.contains("latin-secret"),
        "{shown}"
    );
    assert_eq!(
        std::fs::read(&creds).unwrap(),
        b"# caf\xe9 (latin-1)\n[old]\n",
        "byte-exact, the invalid byte kept"
    );
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        "# team config\r\n[profile cfg]\r\nregion = eu-west-1\r\n[profile other]\r\nregion = us-east-1\r\n"
    );
    let out = String::from_utf8_lossy(&doctor(&env).stdout).into_owned();
    assert!(out.contains("ok   no plaintext keys"), "{out}");
}

/// Root with another user's HOME (`env -i HOME=/home/u op-aws vault create`): refused before
/// anything is created, so no root-owned `~/.local` breaks the user's own programs.
#[test]
fn another_users_home_gets_no_directory_of_ours() {
    use std::os::unix::fs::MetadataExt;
    if !nix::unistd::geteuid().is_root() {
        println!("skipped: needs root (to give the HOME to another user)");
        return;
    }
    let env = TestEnv::new();
    let home = env.root.path().join("u");
    std::fs::create_dir(&home).unwrap();
    // nobody
    nix::unistd::chown(&home, Some(65534.into()), Some(65534.into())).unwrap();
    let entries = || std::fs::read_dir(&home).unwrap().count();
    let mut c = Command::new(crate::support::bin());
    c.env_clear()
        .env("HOME", &home)
        .env("PATH", crate::support::tools_path())
        .env("LANG", "C.UTF-8")
        .current_dir(env.root.path())
        .args([
            "vault",
            "create",
            "--passphrase-stdin",
            "--work-factor",
            "10",
        ]);
    let o = crate::support::run_cmd(c, &format!("{PASS}\n{PASS}\n"));
    let e = crate::support::stderr(&o);
    assert!(!o.status.success(), "{e}");
    assert!(
        e.starts_with("op-aws: ") && e.contains("another user"),
        "{e}"
    );
    assert_eq!(entries(), 0, "vault create made something in {home:?}");
    assert_eq!(std::fs::metadata(&home).unwrap().uid(), 65534);
}

/// Review finding 12: `import --remove-plaintext` through a symlink to another user's file is
/// refused before anything is imported (it used to import, then fail the rewrite).
#[test]
fn another_users_credentials_file_is_refused_before_importing() {
    if !nix::unistd::geteuid().is_root() {
        println!("skipped: needs root (to give the file to another user)");
        return;
    }
    let env = TestEnv::new();
    env.vault();
    let text = "[p]\naws_access_key_id = AKIAOTHERUSER0000001\naws_secret_access_key = s\n";
    let theirs = env.write("shared/their-credentials", text);
    nix::unistd::chown(&theirs, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
    let link = env.home.join(".aws/credentials");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&theirs, &link).unwrap();
    let o = env.run(&["import", "--profile", "p", "--remove-plaintext", "--yes"]);
    let e = crate::support::stderr(&o);
    assert!(!o.status.success());
    assert!(e.contains("belongs to another user"), "{e}");
    assert!(!env.ok(&["item", "list"]).contains("AKIAOTHERUSER"));
    assert!(
        !env.ok(&["item", "list"]).lines().any(|l| l.trim() == "p"),
        "nothing imported"
    );
    assert_eq!(std::fs::read_to_string(&theirs).unwrap(), text);
}
