//! The cached-session and SSO-token files: the metadata beside each (`sts-KEY.json`,
//! `sso-KEY.json`, read without unlocking) and the encrypted blobs the agent decrypts
//! (`sts-KEY.age`, `sso-KEY.age`), whose plaintext is whatever was encrypted to the vault's
//! public recipient, by anyone.
//!
//! Holds: metadata read, written and read again is the same; a blob that is not a session (or
//! token) is refused with the same words whatever it holds, so its content never shows; one
//! that is answers canonical JSON with exactly the session's (token's) fields, which decrypts
//! to itself again; only a 32-hex-digit key names a session file, inside the cache directory.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use op_aws::vault::{self, Identity};
use secrecy::ExposeSecret;

struct World {
    id: Identity,
    dir: tempfile::TempDir,
}

static WORLD: LazyLock<World> = LazyLock::new(|| {
    let age_id = age::x25519::Identity::generate();
    World {
        id: Identity::parse(age_id.to_string().expose_secret()).expect("a fresh identity"),
        dir: tempfile::tempdir().expect("a temporary directory"),
    }
});

const KEY: &str = "0123456789abcdef0123456789abcdef";

fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned>(data: &[u8]) {
    let Ok(first) = serde_json::from_slice::<T>(data) else {
        return;
    };
    let written = serde_json::to_string(&first).expect("metadata serialises");
    let again: T = serde_json::from_str(&written).expect("written metadata reads back");
    assert_eq!(serde_json::to_string(&again).unwrap(), written);
}

fn check_blob(
    data: &[u8],
    fields: &[&str],
    refusal: &str,
    open: impl Fn(&Identity, &std::path::Path) -> op_aws::Result<Option<zeroize::Zeroizing<String>>>,
    file: &str,
) {
    let w = &*WORLD;
    let path = w.dir.path().join(file);
    let ct = vault::encrypt(&w.id.recipient(), data).expect("age encrypts");
    std::fs::write(&path, &ct).unwrap();
    match open(&w.id, &path) {
        Err(e) => assert_eq!(
            e.to_string(),
            refusal,
            "a refusal that depends on the content"
        ),
        Ok(None) => panic!("a file that is there read as missing"),
        Ok(Some(json)) => {
            let v: serde_json::Value = serde_json::from_str(&json).expect("JSON");
            let keys: Vec<&str> = v
                .as_object()
                .expect("an object")
                .keys()
                .map(String::as_str)
                .collect();
            let mut want = fields.to_vec();
            want.sort_unstable();
            let mut got = keys.clone();
            got.sort_unstable();
            assert_eq!(got, want);
            let ct = vault::encrypt(&w.id.recipient(), json.as_bytes()).unwrap();
            std::fs::write(&path, &ct).unwrap();
            let again = open(&w.id, &path)
                .expect("an answer decrypts again")
                .expect("there");
            assert_eq!(again.as_str(), json.as_str(), "not canonical");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, data)) = data.split_first() else {
        return;
    };
    match mode % 5 {
        0 => round_trip::<op_aws::sts::cache::Meta>(data),
        1 => round_trip::<op_aws::sso::TokenMeta>(data),
        2 => check_blob(
            data,
            &[
                "access_key_id",
                "secret_access_key",
                "session_token",
                "expiration",
            ],
            "not a cached session",
            |id, path| op_aws::sts::cache::decrypt_session(id, path),
            &format!("sts-{KEY}.age"),
        ),
        3 => check_blob(
            data,
            &[
                "access_token",
                "refresh_token",
                "client_id",
                "client_secret",
                "registration_expires_at",
                "expires_at",
            ],
            "not an SSO token",
            |id, path| op_aws::sso::decrypt_token(id, path.parent().unwrap(), KEY),
            &format!("sso-{KEY}.age"),
        ),
        _ => {
            let key = String::from_utf8_lossy(data);
            let dir = std::path::Path::new("/cache");
            match op_aws::sts::cache::session_file(dir, &key) {
                Some(p) => {
                    assert!(
                        key.len() == 32 && key.bytes().all(|b| b.is_ascii_hexdigit()),
                        "{key:?}"
                    );
                    assert_eq!(p.parent(), Some(dir));
                    assert_eq!(
                        p.file_name().unwrap().to_string_lossy(),
                        format!("sts-{key}.age")
                    );
                }
                None => assert!(!(key.len() == 32 && key.bytes().all(|b| b.is_ascii_hexdigit()))),
            }
        }
    }
});
