//! Cached role sessions: encrypted only to the vault identity (not after a rekey, not to a
//! swapped recipient.txt), and a file replaced under the agent is never trusted.

use std::io::Write;

use crate::support::{PASS, TestEnv};

/// The identity as a thief with the passphrase-protected file and the passphrase would have it.
fn old_identity(env: &TestEnv) -> age::x25519::Identity {
    use std::str::FromStr;
    let ct = std::fs::read(env.data_dir().join("identity.age")).unwrap();
    let id = age::scrypt::Identity::new(age::secrecy::SecretString::from(PASS.to_owned()));
    let text = String::from_utf8(age::decrypt(&id, &ct).unwrap()).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-"))
        .unwrap();
    age::x25519::Identity::from_str(line).unwrap()
}

fn session_blobs(env: &TestEnv) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(env.cache_dir())
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "age"))
                .collect()
        })
        .unwrap_or_default()
}

/// An unlocked vault with item `dev`, a role `admin` over it, and its session cached (from a
/// local STS stub that issues sessions).
fn with_a_cached_role_session() -> (TestEnv, crate::support::sts_server::StsServer) {
    use crate::support::sts_server::{Mode, StsServer};
    let mut env = TestEnv::new();
    let stub = StsServer::start(Mode::Issue { secs: 3600 });
    env.set("AWS_ENDPOINT_URL_STS", stub.url());
    env.set("AWS_ENDPOINT_URL", stub.url());
    env.set("AWS_REGION", "us-east-1");
    env.vault();
    env.add_keys("dev", "AKIADEV0000000000001", "dev-secret", None);
    env.write(
        ".aws/config",
        "[profile base]\nop_aws_item = dev\n\
         [profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = base\n",
    );
    env.ok(&["run", "--profile", "admin", "--", "true"]);
    (env, stub)
}

#[test]
fn after_rekey_the_old_identity_opens_nothing() {
    let (env, stub) = with_a_cached_role_session();
    let old = old_identity(&env);
    let vault = || std::fs::read(env.data_dir().join("vault.age")).unwrap();
    assert!(
        age::decrypt(&old, &vault()).is_ok(),
        "the old identity opens the vault before"
    );
    assert_eq!(session_blobs(&env).len(), 1);

    env.ok_with_stdin(
        &["vault", "rekey", "--passphrase-stdin"],
        &format!("{PASS}\n"),
    );
    assert!(
        age::decrypt(&old, &vault()).is_err(),
        "the old identity still opens the vault"
    );
    assert!(session_blobs(&env).is_empty(), "the cache was not dropped");
    // Everything still works, with the agent that was running.
    let out = env.ok(&["run", "--item", "dev", "--", "env"]);
    assert!(
        out.contains("AWS_ACCESS_KEY_ID=AKIADEV0000000000001"),
        "{out}"
    );
    env.ok(&["run", "--profile", "admin", "--", "true"]);
    let blobs = session_blobs(&env);
    assert_eq!(blobs.len(), 1);
    assert!(
        age::decrypt(&old, &std::fs::read(&blobs[0]).unwrap()).is_err(),
        "the old identity opens a new session"
    );
    // And after a lock, the same passphrase opens the new identity.
    env.ok(&["lock"]);
    env.unlock();
    env.ok(&["item", "show", "dev"]);
    assert_eq!(stub.count("AssumeRole"), 2);
}

#[test]
fn doctor_replaces_a_cached_session_that_does_not_decrypt() {
    let (env, stub) = with_a_cached_role_session();
    let blob = session_blobs(&env).pop().unwrap();
    // A session encrypted to someone else's key, where op-aws keeps its own.
    let other = age::x25519::Identity::generate();
    let enc =
        age::Encryptor::with_recipients(std::iter::once(&other.to_public() as &dyn age::Recipient))
            .unwrap();
    let mut forged = Vec::new();
    let mut w = enc.wrap_output(&mut forged).unwrap();
    w.write_all(br#"{"access_key_id":"ASIAEVIL","secret_access_key":"x","session_token":"t","expiration":9999999999}"#)
        .unwrap();
    w.finish().unwrap();
    std::fs::write(&blob, forged).unwrap();
    let o = env.run(&["doctor"]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        out.contains("did not decrypt") && out.contains("admin"),
        "{out}"
    );
    assert!(!blob.exists(), "the entry was not replaced");
    // The next command makes a good one, never using the forged one.
    let env_out = env.ok(&["run", "--profile", "admin", "--", "env"]);
    assert!(!env_out.contains("ASIAEVIL"), "{env_out}");
    assert_eq!(stub.count("AssumeRole"), 2);
}

/// The agent keeps a cached session decrypted in memory while its file is unchanged: a file
/// replaced under it is read again, and one that no longer decrypts is a miss, never the
/// session it remembered.
#[test]
fn a_session_file_replaced_under_the_agent_is_read_again() {
    let (env, stub) = with_a_cached_role_session();
    let first = env.ok(&["run", "--profile", "admin", "--", "env"]);
    let again = env.ok(&["run", "--profile", "admin", "--", "env"]);
    let key = |out: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix("AWS_ACCESS_KEY_ID="))
            .map(str::to_owned)
            .unwrap()
    };
    assert_eq!(key(&first), key(&again), "served from the cache");
    assert_eq!(stub.count("AssumeRole"), 1);
    let blob = session_blobs(&env).pop().unwrap();
    std::fs::write(&blob, b"not a session any more").unwrap();
    let after = env.ok(&["run", "--profile", "admin", "--", "env"]);
    assert_eq!(
        stub.count("AssumeRole"),
        2,
        "the changed file was a miss, not the remembered session"
    );
    assert_ne!(key(&after), key(&first));
}

/// Every file under `dir` that `id` decrypts (an age file encrypted to it).
fn opened_by(id: &age::x25519::Identity, dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            out.extend(opened_by(id, &p));
        } else if ft.is_file() && std::fs::read(&p).is_ok_and(|ct| age::decrypt(id, &ct).is_ok()) {
            out.push(p);
        }
    }
    out
}

/// recipient.txt replaced by an attacker's (`age-keygen`'s public key, the secret kept).
fn swap_recipient(env: &TestEnv) -> age::x25519::Identity {
    let attacker = age::x25519::Identity::generate();
    std::fs::write(
        env.data_dir().join("recipient.txt"),
        format!("{}\n", attacker.to_public()),
    )
    .unwrap();
    attacker
}

/// With the vault unlocked, a swapped recipient.txt receives nothing: a new session is refused
/// (one line naming the file), an item written lands in a vault only the identity opens.
#[test]
fn a_swapped_recipient_receives_no_session_and_no_item() {
    let (env, stub) = with_a_cached_role_session();
    env.write(
        ".aws/config",
        "[profile base]\nop_aws_item = dev\n\
         [profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = base\n\
         [profile other]\nrole_arn = arn:aws:iam::123456789012:role/Other\nsource_profile = base\n",
    );
    let attacker = swap_recipient(&env);
    let o = env.run(&["run", "--profile", "other", "--", "true"]);
    let e = crate::support::stderr(&o);
    assert!(!o.status.success(), "a session was written: {e}");
    assert!(
        e.starts_with("op-aws: ") && e.contains("recipient.txt"),
        "{e}"
    );
    assert_eq!(stub.count("AssumeRole"), 2, "asked, then refused to keep");
    env.ok_with_stdin(
        &[
            "item",
            "add",
            "new",
            "--set",
            "Access Key ID=AKIANEW0000000000001",
            "--set-secret",
            "Secret Access Key",
        ],
        "new-secret\n",
    );
    assert_eq!(
        opened_by(&attacker, env.root.path()),
        Vec::<std::path::PathBuf>::new()
    );
}

/// The 1Password store beside a local vault that is locked: a role session over a 1Password
/// item is kept in the agent's memory, never in a file encrypted to a recipient.txt nothing
/// checked (swapped here); what op returned stays in memory too.
#[test]
fn beside_a_locked_vault_a_swapped_recipient_receives_no_session() {
    use crate::onepassword::{config, key_fields, op_env, op_item, put_items};
    use crate::support::sts_server::{Mode, StsServer};
    let mut env = op_env();
    let stub = StsServer::start(Mode::Issue { secs: 3600 });
    env.set("AWS_ENDPOINT_URL_STS", stub.url());
    env.vault();
    env.ok(&["lock"]);
    put_items(
        &env,
        &[op_item(
            "i1",
            "Shared CI",
            "dev",
            key_fields("AKIAOPDEV00000000001", "op-dev-secret"),
        )],
    );
    config(&env, "store = \"1password\"\n");
    // A CI job's service account: the agent that keeps what op returned runs, without the
    // vault's identity.
    env.set("OP_SERVICE_ACCOUNT_TOKEN", "ops_test");
    env.write(
        ".aws/config",
        "[profile base]\nop_aws_item = op://Shared CI/dev\n\
         [profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = base\n",
    );
    let attacker = swap_recipient(&env);
    for _ in 0..2 {
        let out = env.ok(&["run", "--profile", "admin", "--", "env"]);
        assert!(out.contains("AWS_ACCESS_KEY_ID=ASIAISSUED"), "{out}");
    }
    assert!(session_blobs(&env).is_empty(), "{:?}", session_blobs(&env));
    assert_eq!(
        stub.count("AssumeRole"),
        1,
        "the session was kept (in memory)"
    );
    assert_eq!(
        opened_by(&attacker, env.root.path()),
        Vec::<std::path::PathBuf>::new()
    );
}
