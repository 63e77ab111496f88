//! `~/.aws/config` and `credentials` (a generated pair of files and a profile name), read as
//! op-aws reads them, and the profile chain resolved from them.
//!
//! Holds: no secret in any error; a resolved chain only names profiles that exist, each role
//! profile has a role, each links to the next by `source_profile`, no profile twice; what was
//! read, written out again, reads back the same (keys, names, chains); and
//! every profile the SDK's parser gives a key pair is one the byte scanner (import, doctor)
//! finds.
//!
//! Input: `RAW\0CONFIG\0CREDENTIALS\0PROFILE` (how the corpus is seeded from the test
//! fixtures and the SDKs' conformance cases), else generated sections (`arbitrary`).
#![no_main]

use std::collections::HashSet;
use std::path::Path;

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use op_aws::awsfiles::{AwsFiles, Base};
use op_aws::plaintext::{FileKind, scan_bytes};

const SECRET: &str = "wJalrFUZZSECRETxK7MDENGbPxRfiCYEXAMPLEKEY";
const NAMES: &[&str] = &["default", "a", "b", "base", "admin", "top", "sso"];
const KEYS: &[&str] = &[
    "role_arn",
    "source_profile",
    "credential_source",
    "op_aws_item",
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "sso_session",
    "sso_start_url",
    "credential_process",
    "web_identity_token_file",
    "login_session",
    "region",
    "mfa_serial",
    "external_id",
    "duration_seconds",
];

#[derive(Arbitrary, Debug)]
enum Name {
    Known(u8),
    Raw(String),
}

impl Name {
    fn text(&self) -> String {
        match self {
            Self::Known(i) => NAMES[*i as usize % NAMES.len()].to_owned(),
            Self::Raw(s) => s.clone(),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Header {
    Profile,
    Bare,
    SsoSession,
    Raw(String),
}

#[derive(Arbitrary, Debug)]
enum Key {
    Known(u8),
    Raw(String),
}

#[derive(Arbitrary, Debug)]
enum Value {
    Profile(Name),
    Secret,
    Arn(u16),
    Raw(String),
}

#[derive(Arbitrary, Debug)]
struct Prop {
    key: Key,
    value: Value,
    /// Indented: a continuation of the previous property (or a sub-property).
    indent: bool,
}

#[derive(Arbitrary, Debug)]
struct Section {
    header: Header,
    name: Name,
    props: Vec<Prop>,
}

#[derive(Arbitrary, Debug)]
struct Input {
    config: Vec<Section>,
    credentials: Vec<Section>,
    config_tail: String,
    credentials_tail: String,
    profile: Name,
}

fn render(sections: &[Section], tail: &str) -> String {
    let mut out = String::new();
    for s in sections {
        let name = s.name.text();
        match &s.header {
            Header::Profile => out.push_str(&format!("[profile {name}]\n")),
            Header::Bare => out.push_str(&format!("[{name}]\n")),
            Header::SsoSession => out.push_str(&format!("[sso-session {name}]\n")),
            Header::Raw(h) => out.push_str(&format!("[{h}{name}]\n")),
        }
        for p in &s.props {
            let key = match &p.key {
                Key::Known(i) => KEYS[*i as usize % KEYS.len()].to_owned(),
                Key::Raw(k) => k.clone(),
            };
            let value = match &p.value {
                Value::Profile(n) => n.text(),
                // The secret where secrets go (under another key it is just that key's value).
                Value::Secret
                    if ["aws_secret_access_key", "aws_session_token"].contains(&key.as_str()) =>
                {
                    SECRET.to_owned()
                }
                Value::Secret => "not-a-secret".to_owned(),
                Value::Arn(n) => format!("arn:aws:iam::{n}:role/R{n}"),
                Value::Raw(v) => v.clone(),
            };
            let indent = if p.indent { "  " } else { "" };
            out.push_str(&format!("{indent}{key} = {value}\n"));
        }
    }
    out.push_str(tail);
    out
}

/// Every key of every profile this reads, for comparing two reads.
fn snapshot(f: &AwsFiles) -> Vec<(String, &'static str, Option<String>)> {
    let mut v = Vec::new();
    for p in f.profile_names() {
        for k in KEYS {
            v.push((p.clone(), *k, f.get(&p, k).map(str::to_owned)));
        }
    }
    v
}

fn no_secret(what: &str, text: &str) {
    assert!(!text.contains(SECRET), "{what} shows the secret: {text}");
}

fuzz_target!(|data: &[u8]| {
    let (config, credentials, selected) = match data.strip_prefix(b"RAW\0") {
        Some(raw) => {
            let mut parts = raw
                .splitn(3, |b| *b == 0)
                .map(|p| String::from_utf8_lossy(p).into_owned());
            let mut next = || parts.next().unwrap_or_default();
            (next(), next(), next())
        }
        None => {
            let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(data)) else {
                return;
            };
            (
                render(&input.config, &input.config_tail),
                render(&input.credentials, &input.credentials_tail),
                input.profile.text(),
            )
        }
    };
    check(&config, &credentials, &selected);
});

fn check(config: &str, credentials: &str, selected: &str) {
    let selected = selected.to_owned();
    // The secret is one only where it is a secret's value; spelled anywhere else (a section, a
    // key, another key's value) it is just text an error may quote.
    let secret_lines_only = [config, credentials].iter().all(|text| {
        text.lines()
            .filter(|l| {
                let t = l.trim();
                t != format!("aws_secret_access_key = {SECRET}")
                    && t != format!("aws_session_token = {SECRET}")
            })
            .all(|l| !l.contains(SECRET))
    });
    let files = match AwsFiles::from_strings(config, credentials) {
        Ok(f) => f,
        Err(e) => {
            if secret_lines_only {
                no_secret("a parse error", &e.to_string());
            }
            return;
        }
    };

    let names = files.profile_names();
    assert!(
        names.windows(2).all(|w| w[0] < w[1]),
        "names not sorted once: {names:?}"
    );
    assert!(names.iter().all(|n| files.has_profile(n)));

    let chain = files.resolve_chain(&selected);
    match &chain {
        Err(e) => {
            if secret_lines_only && !selected.contains(SECRET) {
                no_secret("a chain error", &e.to_string());
            }
        }
        Ok(chain) => {
            let profiles = chain.profiles();
            assert_eq!(profiles[0], selected, "{chain:?}");
            assert!(profiles.iter().all(|p| files.has_profile(p)), "{chain:?}");
            let unique: HashSet<&String> = chain.roles.iter().collect();
            assert_eq!(unique.len(), chain.roles.len(), "a role twice: {chain:?}");
            for r in &chain.roles {
                assert!(
                    files.get(r, "role_arn").is_some(),
                    "{r} has no role: {chain:?}"
                );
            }
            // Top down, each role's source_profile is the next profile.
            for w in profiles.windows(2) {
                assert_eq!(
                    files.get(&w[0], "source_profile"),
                    Some(w[1].as_str()),
                    "{chain:?}"
                );
            }
            match &chain.base {
                Base::Item { profile, item } => {
                    assert_eq!(files.get(profile, "op_aws_item"), Some(item.as_str()));
                }
                Base::SelfResolving { profile, key } => {
                    assert!(files.get(profile, key).is_some(), "{chain:?}");
                }
                Base::ItemInEffect { .. } => {}
            }
        }
    }

    // Every profile with a key pair, as the SDKs read it, is one the byte scanner finds.
    let mut found = scan_bytes(
        credentials.as_bytes(),
        FileKind::Credentials,
        Path::new("c"),
    );
    found.extend(scan_bytes(
        config.as_bytes(),
        FileKind::Config,
        Path::new("f"),
    ));
    for p in &names {
        if files.get(p, "aws_access_key_id").is_some()
            && files.get(p, "aws_secret_access_key").is_some()
        {
            assert!(
                found
                    .iter()
                    .any(|f| &f.profile == p && f.secret_access_key.is_some()),
                "the scanner misses the keys of {p:?}:\n{config}\n--\n{credentials}"
            );
        }
    }

    // Written out again, it reads back the same. As a credentials file: `[NAME]` holds any
    // name either file can (a config file's `[profile NAME]` cannot hold an empty one).
    let snap = snapshot(&files);
    if snap.iter().any(|(_, _, v)| {
        v.as_deref()
            .is_some_and(|v| v.contains(['\n', '\r', '#', ';']))
    }) {
        return;
    }
    let mut again = String::new();
    for p in &names {
        again.push_str(&format!("[{p}]\n"));
        for (q, k, v) in &snap {
            if q == p
                && let Some(v) = v
            {
                again.push_str(&format!("{k} = {v}\n"));
            }
        }
    }
    let reread = AwsFiles::from_strings("", &again).expect("what was read reads again");
    assert_eq!(reread.profile_names(), names, "{again}");
    assert_eq!(snapshot(&reread), snap, "{again}");
    let chain_again = reread.resolve_chain(&selected);
    assert_eq!(chain_again.as_ref().ok(), chain.as_ref().ok(), "{again}");
    assert_eq!(
        chain_again.err().map(|e| e.to_string()),
        chain.err().map(|e| e.to_string()),
        "{again}"
    );
}
