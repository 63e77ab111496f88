//! Crash consistency (issue 27): every operation that writes op-aws's files is run as a process
//! that dies before each of its writes in turn ([`crate::fsutil::crash`]); what is left must be
//! the old state or the new one, and the next command works or says exactly what to do. Each
//! single write is atomic (temp, fsync, rename: tests/crash.rs kills real writers to check
//! that), so the points between writes are the only ones where a mix could appear.

use std::collections::BTreeSet;
use std::path::Path;

use secrecy::SecretString;

use crate::dirs::Dirs;
use crate::fsutil::crash;
use crate::item::Item;
use crate::vault::{self, Change};
use crate::{Error, scope};

const PASS: &str = "correct horse battery staple";
const OTHER: &str = "another passphrase entirely";

fn pass(p: &str) -> SecretString {
    SecretString::from(p)
}

fn dirs(root: &Path) -> Dirs {
    Dirs {
        config: root.join("config"),
        data: root.join("data"),
        cache: root.join("cache"),
        runtime: root.join("run"),
    }
}

fn item(title: &str) -> Item {
    let mut i = Item::new(title);
    i.set("Access Key ID", format!("AKIA{title}"), false);
    i.set("Secret Access Key", format!("secret-{title}"), true);
    i
}

/// A vault (cheap scrypt) holding items `a` and `b`, in a new directory.
fn vault_with_items() -> (tempfile::TempDir, Dirs) {
    let root = tempfile::tempdir().unwrap();
    let d = dirs(root.path());
    vault::create(&d, pass(PASS), Some(10)).unwrap();
    let id = vault::unlock(&d, pass(PASS)).unwrap();
    vault::update(&d, &id, |data| {
        Change::Add {
            items: vec![item("a"), item("b")],
        }
        .apply(data)
    })
    .unwrap();
    (root, d)
}

fn titles(d: &Dirs, passphrase: &str) -> crate::Result<BTreeSet<String>> {
    let id = vault::unlock(d, pass(passphrase))?;
    Ok(vault::load(d, &id)?
        .items
        .iter()
        .map(|i| i.title.clone())
        .collect())
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

/// A copy of `from` (a vault directory) to crash in.
fn copy(from: &Path) -> tempfile::TempDir {
    let to = tempfile::tempdir().unwrap();
    for sub in ["config", "data", "cache"] {
        let (src, dst) = (from.join(sub), to.path().join(sub));
        let Ok(rd) = std::fs::read_dir(&src) else {
            continue;
        };
        crate::fsutil::ensure_private_dir(&dst).unwrap();
        for e in rd {
            let e = e.unwrap();
            std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
        }
    }
    to
}

/// Each point of `op` that a crash can stop at: before each write, and after the last.
fn crash_points(template: &Path, op: impl Fn(&Dirs) -> crate::Result<()>) -> usize {
    let scratch = copy(template);
    let (n, done) = crash::writes_of(|| op(&dirs(scratch.path())));
    done.unwrap();
    assert!(n > 0, "the operation wrote nothing");
    n + 1
}

#[test]
fn vault_create_leaves_no_vault_or_a_whole_one() {
    let empty = tempfile::tempdir().unwrap();
    let create = |d: &Dirs| vault::create(d, pass(PASS), Some(10));
    for n in 0..crash_points(empty.path(), create) {
        let root = tempfile::tempdir().unwrap();
        let d = dirs(root.path());
        let _ = crash::before_write(n, || create(&d));
        if vault::exists(&d) {
            assert_eq!(
                titles(&d, PASS).unwrap(),
                set(&[]),
                "crash before write {n}"
            );
        } else {
            // "No vault": what unlock says (its hint: `vault create`), and that works.
            let Err(e) = vault::unlock(&d, pass(PASS)) else {
                panic!("crash before write {n}: no vault, yet it unlocks");
            };
            assert!(
                matches!(e, Error::NoVault(_)),
                "crash before write {n}: {e}"
            );
            assert!(e.hint().unwrap().contains("vault create"));
            create(&d).unwrap();
            assert_eq!(titles(&d, PASS).unwrap(), set(&[]));
        }
    }
}

#[test]
fn passphrase_change_leaves_the_old_or_the_new_one() {
    let (base, _) = vault_with_items();
    let change = |d: &Dirs| vault::change_passphrase(d, pass(PASS), pass(OTHER), Some(10));
    for n in 0..crash_points(base.path(), change) {
        let root = copy(base.path());
        let d = dirs(root.path());
        let _ = crash::before_write(n, || change(&d));
        let old = titles(&d, PASS);
        let new = titles(&d, OTHER);
        assert!(
            old.is_ok() != new.is_ok(),
            "crash before write {n}: old {:?}, new {:?}",
            old.as_ref().err().map(ToString::to_string),
            new.as_ref().err().map(ToString::to_string)
        );
        assert_eq!(old.or(new).unwrap(), set(&["a", "b"]));
    }
}

#[test]
fn rekey_leaves_a_vault_the_identity_on_disk_opens() {
    let (base, _) = vault_with_items();
    let rekey =
        |d: &Dirs| vault::rekey(d, pass(PASS), None, Some(10), |_| Ok(Vec::new())).map(drop);
    for n in 0..crash_points(base.path(), rekey) {
        let root = copy(base.path());
        let d = dirs(root.path());
        let _ = crash::before_write(n, || rekey(&d));
        match titles(&d, PASS) {
            Ok(t) => assert_eq!(t, set(&["a", "b"]), "crash before write {n}"),
            // Stopped between the identity and recipient.txt: unlock says the rekey was
            // interrupted (never that recipient.txt was replaced) and to rekey again.
            Err(e @ Error::RekeyInterrupted(_)) => {
                assert!(e.hint().unwrap().contains("op-aws vault rekey"), "{e}");
                rekey(&d).unwrap();
                assert_eq!(titles(&d, PASS).unwrap(), set(&["a", "b"]));
            }
            Err(e) => panic!("crash before write {n}: {e}"),
        }
    }
}

#[test]
fn an_item_write_is_whole_or_absent() {
    let (base, _) = vault_with_items();
    let add = |d: &Dirs| {
        let id = vault::unlock(d, pass(PASS))?;
        vault::update(d, &id, |data| {
            Change::Add {
                items: vec![item("c"), item("d")],
            }
            .apply(data)
        })
    };
    for n in 0..crash_points(base.path(), add) {
        let root = copy(base.path());
        let d = dirs(root.path());
        let _ = crash::before_write(n, || add(&d));
        let t = titles(&d, PASS).unwrap();
        assert!(
            t == set(&["a", "b"]) || t == set(&["a", "b", "c", "d"]),
            "crash before write {n}: {t:?}"
        );
    }
}

#[test]
fn defaults_and_trust_are_old_or_new() {
    let base = tempfile::tempdir().unwrap();
    let bd = dirs(base.path());
    scope::set_global(&bd, "old").unwrap();
    crate::project::trust(&bd, Path::new("/r/.op-aws.toml"), "aa").unwrap();
    let write = |d: &Dirs| {
        scope::set_global(d, "new")?;
        crate::project::trust(d, Path::new("/s/.op-aws.toml"), "bb")
    };
    for n in 0..crash_points(base.path(), write) {
        let root = copy(base.path());
        let d = dirs(root.path());
        let _ = crash::before_write(n, || write(&d));
        let global = scope::Defaults::load(&d).unwrap().global;
        assert!(
            matches!(global.as_deref(), Some("old" | "new")),
            "{global:?}"
        );
        let trusted: serde_json::Value =
            serde_json::from_slice(&std::fs::read(d.config.join("trusted.json")).unwrap()).unwrap();
        let files = trusted["files"].as_object().unwrap();
        assert_eq!(files["/r/.op-aws.toml"], "aa");
        assert!(
            files.len() == 1 || files["/s/.op-aws.toml"] == "bb",
            "{files:?}"
        );
        // The next command works.
        scope::set_global(&d, "next").unwrap();
    }
}
