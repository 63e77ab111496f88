//! The vault's files tampered with by someone who can write them (a swapped recipient.txt, a
//! forged vault) are refused; a pre-authentication vault or a create cut short is recovered.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::{PASS, TestEnv, doctor};

#[test]
fn a_swapped_recipient_is_refused_and_nothing_changes() {
    let env = TestEnv::new();
    env.vault();
    env.ok(&["lock"]);
    let public = another_recipient();
    let data = env.data_dir();
    std::fs::write(data.join("recipient.txt"), format!("{public}\n")).unwrap();
    let snapshot = || -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<_> = std::fs::read_dir(&data)
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
    };
    let before = snapshot();
    let o = env.run_with_stdin(&["unlock", "--passphrase-stdin"], &format!("{PASS}\n"));
    let e = crate::support::stderr(&o);
    assert!(!o.status.success(), "{e}");
    assert!(
        e.starts_with("op-aws: ") && e.contains("recipient.txt"),
        "{e}"
    );
    assert_eq!(e.lines().count(), 2, "one line and a hint: {e}");
    assert_eq!(snapshot(), before, "no file changed");
    assert_eq!(env.agent_pid(), None, "nothing was unlocked");
    // The way out the hint names: rekey writes a recipient of its own.
    assert!(e.contains("op-aws vault rekey"), "{e}");
    env.ok_with_stdin(
        &["vault", "rekey", "--passphrase-stdin"],
        &format!("{PASS}\n"),
    );
    assert_ne!(
        std::fs::read_to_string(data.join("recipient.txt"))
            .unwrap()
            .trim(),
        public
    );
    env.unlock();
    env.ok(&["item", "list"]);
}

/// Someone else's age recipient (`age1…`), as `age-keygen` makes one.
fn another_recipient() -> String {
    let out = Command::new(crate::support::require("age-keygen"))
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("# public key: ").map(str::to_owned))
        .unwrap()
}

#[test]
fn a_vault_forged_with_the_public_recipient_is_refused() {
    let env = TestEnv::new();
    env.vault();
    env.add_keys("dev", "AKIADEV0000000000001", "dev-secret", None);
    let recipient = std::fs::read_to_string(env.data_dir().join("recipient.txt")).unwrap();
    // What anyone who can write the file could make: the attacker's key under the owner's name.
    let forged = r#"{"version":1,"items":[{"title":"dev","fields":[{"label":"Access Key ID","value":"AKIAATTACKER00000000"},{"label":"Secret Access Key","value":"x","concealed":true}]}]}"#;
    let mut age = Command::new(crate::support::require("age"));
    age.args(["-r", recipient.trim()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let mut child = age.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(forged.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let path = env.data_dir().join("vault.age");
    std::fs::write(&path, &out.stdout).unwrap();
    for args in [
        &["run", "--item", "dev", "--", "env"][..],
        &["item", "list"],
    ] {
        let o = env.run(args);
        let e = crate::support::stderr(&o);
        assert!(!o.status.success(), "{args:?}: {e}");
        assert!(
            !String::from_utf8_lossy(&o.stdout).contains("AKIAATTACKER"),
            "{args:?}"
        );
        assert!(
            e.starts_with("op-aws: ") && e.contains("not authenticated"),
            "{e}"
        );
        assert_eq!(e.lines().count(), 2, "one line and a hint: {e}");
    }
    assert_eq!(std::fs::read(&path).unwrap(), out.stdout, "no file changed");
}

/// A vault written before authentication opens with the passphrase, and is authenticated then.
#[test]
fn a_vault_from_before_authentication_is_upgraded_at_unlock() {
    use age::secrecy::ExposeSecret;
    let env = TestEnv::new();
    let data = env.data_dir();
    std::fs::create_dir_all(&data).unwrap();
    let id = age::x25519::Identity::generate();
    let encrypt = |r: &dyn age::Recipient, plain: &[u8]| {
        let enc = age::Encryptor::with_recipients(std::iter::once(r)).unwrap();
        let mut out = Vec::new();
        let mut w = enc.wrap_output(&mut out).unwrap();
        w.write_all(plain).unwrap();
        w.finish().unwrap();
        out
    };
    let mut scrypt = age::scrypt::Recipient::new(age::secrecy::SecretString::from(PASS.to_owned()));
    scrypt.set_work_factor(10);
    let key = format!(
        "# op-aws vault identity; public key: {}\n{}\n",
        id.to_public(),
        id.to_string().expose_secret()
    );
    std::fs::write(data.join("identity.age"), encrypt(&scrypt, key.as_bytes())).unwrap();
    let old = r#"{"version":1,"items":[{"title":"dev","fields":[{"label":"Access Key ID","value":"AKIALEGACY0000000001"},{"label":"Secret Access Key","value":"s","concealed":true}]}]}"#;
    std::fs::write(
        data.join("vault.age"),
        encrypt(&id.to_public(), old.as_bytes()),
    )
    .unwrap();
    std::fs::write(data.join("recipient.txt"), format!("{}\n", id.to_public())).unwrap();
    env.unlock();
    let out = env.ok(&["run", "--item", "dev", "--", "env"]);
    assert!(
        out.contains("AWS_ACCESS_KEY_ID=AKIALEGACY0000000001"),
        "{out}"
    );
    let plain = age::decrypt(&id, &std::fs::read(data.join("vault.age")).unwrap()).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&plain).unwrap();
    assert_eq!(v["auth"].as_array().map(Vec::len), Some(1), "{v}");
    // The identity file keeps the owner's work factor.
    let head = std::fs::read(data.join("identity.age")).unwrap();
    assert!(
        String::from_utf8_lossy(&head[..200]).contains(" 10\n"),
        "work factor changed"
    );
}

#[test]
fn doctor_reports_a_swapped_recipient() {
    let env = TestEnv::new();
    env.vault();
    let out = String::from_utf8_lossy(&doctor(&env).stdout).into_owned();
    assert!(
        out.contains("ok   recipient.txt is the vault identity's"),
        "{out}"
    );
    let public = another_recipient();
    std::fs::write(env.data_dir().join("recipient.txt"), format!("{public}\n")).unwrap();
    let o = doctor(&env);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(!o.status.success());
    assert!(
        out.contains("warn") && out.contains("not the vault identity's recipient"),
        "{out}"
    );
}

/// An interrupted `vault create` (a full disk between its writes) is no dead end: unlock says
/// there is no vault, and create then works, keeping the leftover file aside.
#[test]
fn an_interrupted_create_can_be_created_again() {
    let env = TestEnv::new();
    env.vault();
    env.ok(&["lock"]);
    let data = env.data_dir();
    std::fs::remove_file(data.join("identity.age")).unwrap();
    // No stdin: it fails before reading any (a passphrase written to it could meet a closed pipe).
    let o = env.run(&["unlock", "--passphrase-stdin"]);
    let e = crate::support::stderr(&o);
    assert!(
        !o.status.success() && e.contains("no vault") && e.contains("vault create"),
        "{e}"
    );
    env.vault();
    env.ok(&["item", "list"]);
    let kept = std::fs::read_dir(&data)
        .unwrap()
        .filter_map(|e| e.ok())
        .any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("vault.age.without-identity-")
        });
    assert!(kept, "the leftover vault.age was not kept aside");
}
