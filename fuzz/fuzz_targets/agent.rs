//! The agent's request decoder and handler, on a locked and on an unlocked agent in this
//! process (a vault with items, a cache holding a secret). The input is request lines; the
//! first byte picks the state (even: unlocked); `IDENTITY` stands for the vault's identity (so
//! an unlock can succeed). Resolve requests are decoded and refused unrun (the resolver has its
//! own tests; it would call STS).
//!
//! Holds: a request is read the same in one pass as through serde's tagged enum; every
//! answer is one line of JSON; no secret (the identity, an item's secret, a cached
//! value) appears in an error or hint; a rejected request leaves the state unchanged; a
//! locked agent answers nothing from the vault; values come only for the requests that ask
//! for one.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use op_aws::dirs::Dirs;
use op_aws::fuzzing::Agent;
use op_aws::item::Item;
use op_aws::vault::{self, Change, Identity};
use secrecy::{ExposeSecret, SecretString};

const SECRETS: &[&str] = &["FuzzItemSecretOne0000000000", "FuzzItemSecretTwo0000000000"];
const CACHED: &str = "FuzzCachedValue000000000000";

struct World {
    dirs: Dirs,
    identity: String,
    vault: Vec<u8>,
    _root: tempfile::TempDir,
}

static WORLD: LazyLock<World> = LazyLock::new(|| {
    let root = tempfile::tempdir().unwrap();
    let p = root.path();
    let dirs = Dirs {
        config: p.join("config"),
        data: p.join("data"),
        cache: p.join("cache"),
        runtime: p.join("run"),
    };
    let pass = || SecretString::from("fuzz passphrase");
    vault::create(&dirs, pass(), Some(10)).unwrap();
    let id = vault::unlock(&dirs, pass()).unwrap();
    let items = ["one", "two"]
        .iter()
        .zip(SECRETS)
        .map(|(t, s)| {
            let mut i = Item::new(t);
            i.set("Access Key ID", format!("AKIAFUZZ{t}"), false);
            i.set("Secret Access Key", (*s).to_owned(), true);
            i
        })
        .collect();
    vault::update(&dirs, &id, |d| Change::Add { items }.apply(d)).unwrap();
    World {
        vault: std::fs::read(dirs.vault_file()).unwrap(),
        identity: id.to_secret_string().expose_secret().to_owned(),
        dirs,
        _root: root,
    }
});

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let w = &*WORLD;
    // Each input starts from the same vault on disk (an update rewrites it).
    std::fs::write(w.dirs.vault_file(), &w.vault).unwrap();
    let mut unlocked = first % 2 == 0;
    let id = unlocked.then(|| Identity::parse(&w.identity).unwrap());
    let agent = Agent::new(w.dirs.clone(), id);
    let put = format!(r#"{{"op":"cache_put","key":"k","value":"{CACHED}"}}"#);
    assert!(!String::from_utf8_lossy(&agent.answer(put.as_bytes())).contains("error"));

    let rest = op_aws::fuzzing::substitute(rest, b"IDENTITY", w.identity.as_bytes());
    for line in rest.split(|b| *b == b'\n').take(8) {
        assert!(
            op_aws::fuzzing::request_reads_agree(line),
            "the one-pass read of a resolve differs"
        );
        let before = agent.state();
        let answer = agent.answer(line);
        let text = std::str::from_utf8(&answer).expect("UTF-8");
        assert!(!text.contains('\n'), "an answer of more than one line");
        let v: serde_json::Value = serde_json::from_str(text).expect("a JSON answer");
        let op = serde_json::from_slice::<serde_json::Value>(line)
            .ok()
            .and_then(|r| r.get("op").and_then(|o| o.as_str()).map(str::to_owned));
        if let Some(error) = v.get("error") {
            let words = format!(
                "{error} {}",
                v.get("hint").unwrap_or(&serde_json::Value::Null)
            );
            for s in SECRETS.iter().chain([&CACHED, &w.identity.as_str()]) {
                // Unless the request itself carried it (an error may name what was asked).
                if !String::from_utf8_lossy(line).contains(s) {
                    assert!(!words.contains(s), "an error shows a secret: {words}");
                }
            }
            assert_eq!(agent.state(), before, "a rejected {op:?} changed the agent");
            assert!(v.get("value").is_none(), "a value with an error");
        }
        if v.get("value").is_some() {
            assert!(
                matches!(
                    op.as_deref(),
                    Some("item" | "cache_get" | "session" | "sso_token" | "recipient")
                ),
                "a value for {op:?}"
            );
        }
        if !unlocked && matches!(op.as_deref(), Some("item" | "list" | "update")) {
            assert!(v.get("error").is_some(), "a locked agent answered {op:?}");
        }
        match op.as_deref() {
            Some("lock") => break,
            Some("unlock") if v.get("error").is_none() => {
                unlocked |= line
                    .windows(w.identity.len())
                    .any(|x| x == w.identity.as_bytes());
            }
            _ => {}
        }
    }
});
