//! What `op-aws run` does to a command line and its environment, as pure functions.

use std::ffi::{OsStr, OsString};

use secrecy::ExposeSecret;

use crate::creds::Credentials;

/// The AWS tools that read `--profile` themselves (and ignore environment keys when they see it).
pub const PROFILE_TOOLS: &[&str] = &["aws", "cdk", "sam", "eksctl", "awslogs"];

#[derive(Debug, PartialEq, Eq)]
pub struct Plan {
    /// The command line to exec (for the AWS tools, without `--profile P`).
    pub argv: Vec<OsString>,
    /// `--profile` given to the tool (the last one wins, as in the AWS CLI).
    pub profile: Option<String>,
    /// Whether the command needs credentials at all.
    pub needs_auth: bool,
}

pub fn tool_name(program: &OsStr) -> String {
    std::path::Path::new(program)
        .file_name()
        .unwrap_or(program)
        .to_string_lossy()
        .into_owned()
}

pub fn plan(argv: &[OsString]) -> Plan {
    let Some(program) = argv.first() else {
        return Plan {
            argv: Vec::new(),
            profile: None,
            needs_auth: false,
        };
    };
    let tool = tool_name(program);
    let args = &argv[1..];
    let mut out = vec![program.clone()];
    let mut profile = None;
    if PROFILE_TOOLS.contains(&tool.as_str()) {
        let mut i = 0;
        while i < args.len() {
            let a = &args[i];
            if a == "--" {
                out.extend(args[i..].iter().cloned());
                break;
            }
            if a == "--profile" && i + 1 < args.len() {
                profile = Some(args[i + 1].to_string_lossy().into_owned());
                i += 2;
                continue;
            }
            if let Some(v) = a.to_str().and_then(|s| s.strip_prefix("--profile=")) {
                profile = Some(v.to_owned());
                i += 1;
                continue;
            }
            out.push(a.clone());
            i += 1;
        }
    } else {
        out.extend(args.iter().cloned());
    }
    let needs_auth = needs_auth(&tool, &out[1..]);
    Plan {
        argv: out,
        profile,
        needs_auth,
    }
}

/// For the AWS tools: no arguments, help, a lone version flag, `aws configure`,
/// `aws sso login|logout` run untouched, without opening the vault.
fn needs_auth(tool: &str, args: &[OsString]) -> bool {
    // Any other command (a deploy script with no arguments, say) may well need its keys.
    if !PROFILE_TOOLS.contains(&tool) {
        return true;
    }
    if args.is_empty() {
        return false;
    }
    let words: Vec<&str> = args.iter().map(|a| a.to_str().unwrap_or("")).collect();
    let before_dashdash = words.iter().take_while(|w| **w != "--");
    if before_dashdash
        .clone()
        .any(|w| matches!(*w, "-h" | "--help" | "help"))
    {
        return false;
    }
    if words.len() == 1 && matches!(words[0], "--version" | "-v" | "-V" | "version") {
        return false;
    }
    if tool == "aws" {
        let positional: Vec<&str> = words
            .iter()
            .copied()
            .filter(|w| !w.starts_with('-'))
            .collect();
        match positional.as_slice() {
            ["configure", ..] => return false,
            ["sso", "login" | "logout", ..] => return false,
            _ => {}
        }
    }
    true
}

/// Changes to the child's environment.
#[derive(Debug, Default)]
pub struct EnvChanges {
    pub set: Vec<(&'static str, String)>,
    pub unset: Vec<&'static str>,
}

pub struct EnvInput<'a> {
    pub tool: &'a str,
    pub creds: &'a Credentials,
    /// The profile in effect (from `--profile`), to be passed as `AWS_PROFILE`.
    pub profile: Option<&'a str>,
    /// The profile's `region`, then the item's `Default Region`.
    pub region: Option<&'a str>,
    /// The shell's `AWS_REGION`/`AWS_DEFAULT_REGION`, which win.
    pub shell_region: Option<&'a str>,
}

pub fn env_changes(i: &EnvInput<'_>) -> EnvChanges {
    let mut c = EnvChanges::default();
    c.set
        .push(("AWS_ACCESS_KEY_ID", i.creds.access_key_id.clone()));
    c.set.push((
        "AWS_SECRET_ACCESS_KEY",
        i.creds.secret_access_key.expose_secret().to_owned(),
    ));
    match &i.creds.session_token {
        Some(t) => c
            .set
            .push(("AWS_SESSION_TOKEN", t.expose_secret().to_owned())),
        None => c.unset.push("AWS_SESSION_TOKEN"),
    }
    match i.creds.expiration_rfc3339() {
        Some(e) => c.set.push(("AWS_CREDENTIAL_EXPIRATION", e)),
        None => c.unset.push("AWS_CREDENTIAL_EXPIRATION"),
    }
    // botocore reads it before AWS_SESSION_TOKEN; a stale one would win.
    c.unset.push("AWS_SECURITY_TOKEN");
    if let Some(r) = i.shell_region.or(i.region) {
        c.set.push(("AWS_REGION", r.to_owned()));
        c.set.push(("AWS_DEFAULT_REGION", r.to_owned()));
    }
    if i.tool == "cdk" {
        // The JS SDK prefers a profile over environment keys.
        c.unset.push("AWS_PROFILE");
    } else if let Some(p) = i.profile {
        c.set.push(("AWS_PROFILE", p.to_owned()));
    }
    c
}

/// The region the shell already chose, if any.
pub fn shell_region() -> Option<String> {
    ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &[&str]) -> Vec<OsString> {
        s.iter().map(OsString::from).collect()
    }

    #[test]
    fn profile_flag_is_removed_but_equal_arguments_survive() {
        let p = plan(&argv(&[
            "aws",
            "--profile",
            "prod",
            "s3",
            "cp",
            "prod",
            "s3://b/prod",
        ]));
        assert_eq!(p.argv, argv(&["aws", "s3", "cp", "prod", "s3://b/prod"]));
        assert_eq!(p.profile.as_deref(), Some("prod"));
        let p = plan(&argv(&[
            "aws",
            "s3",
            "ls",
            "--profile=dev",
            "--",
            "--profile",
            "x",
        ]));
        assert_eq!(p.argv, argv(&["aws", "s3", "ls", "--", "--profile", "x"]));
        assert_eq!(p.profile.as_deref(), Some("dev"));
        let p = plan(&argv(&["terraform", "--profile", "x"]));
        assert_eq!(p.argv, argv(&["terraform", "--profile", "x"]));
        assert_eq!(p.profile, None);
    }

    #[test]
    fn no_auth_cases() {
        for c in [
            &["aws"][..],
            &["aws", "--version"],
            &["aws", "s3", "help"],
            &["aws", "--profile", "p", "configure", "list"],
            &["aws", "sso", "login"],
            &["cdk", "--help"],
        ] {
            assert!(!plan(&argv(c)).needs_auth, "{c:?}");
        }
        for c in [
            &["aws", "s3", "ls"][..],
            &["aws", "sts", "get-caller-identity"],
            &["aws", "--version", "x"],
            &["./deploy.sh"],
            &["make", "help"],
        ] {
            assert!(plan(&argv(c)).needs_auth, "{c:?}");
        }
    }
}
