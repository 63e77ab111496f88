//! What `op-aws run` does to a command line and its environment, as pure functions.

use std::ffi::{OsStr, OsString};

use secrecy::ExposeSecret;

use crate::caller::Caller;
use crate::creds::Credentials;
use crate::model::env::EnvChanges;
use crate::shell::PROFILE_TOOLS;

/// Tools built on botocore (the AWS CLI, boto3), which prefer injected keys over `AWS_PROFILE`:
/// they keep it, so the profile's other settings (output, endpoints, s3 options) still apply.
/// Every other SDK a command may use (the JS SDK v3 of cdk and anything npx runs, the Go SDK of
/// terraform and eksctl, ...) prefers the profile and would ignore the keys, so they never see
/// one beside injected keys. See docs/any-tool.md.
pub const BOTOCORE_TOOLS: &[&str] = &["aws", "sam", "awslogs", "python", "python3"];

#[derive(Debug, PartialEq, Eq)]
pub struct Plan {
    /// The command line to exec (for the AWS tools, without `--profile P`).
    pub argv: Vec<OsString>,
    /// The tool that will read the credentials: the program, or the one a package runner
    /// (`npx cdk`, `npm exec -- cdk`, `pnpm exec`, `yarn`, `bunx`) starts.
    pub tool: String,
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

/// Where the tool's own word is in `argv`: 0, or past a package runner and its options.
fn tool_index(argv: &[OsString]) -> usize {
    let word = |i: usize| argv.get(i).and_then(|a| a.to_str()).unwrap_or("");
    // Runner options that take a value in the next word.
    let takes_value = |w: &str| matches!(w, "-p" | "--package" | "-c" | "--call" | "--cwd");
    let first_tool_word = |mut i: usize| {
        while i < argv.len() {
            let w = word(i);
            if w == "--" {
                return i + 1;
            }
            if !w.starts_with('-') {
                return i;
            }
            i += if takes_value(w) { 2 } else { 1 };
        }
        i
    };
    let start = match (tool_name(&argv[0]).as_str(), word(1)) {
        ("npx" | "bunx", _) => 1,
        ("npm", "exec" | "x") | ("pnpm", "exec" | "dlx") | ("bun", "x") => 2,
        ("yarn", "exec" | "dlx" | "run") => 2,
        ("yarn", w) if !w.is_empty() && !w.starts_with('-') && !is_yarn_command(w) => 1,
        _ => return 0,
    };
    let i = first_tool_word(start);
    if i < argv.len() { i } else { 0 }
}

/// yarn's own commands (anything else after `yarn` is a package binary or script).
fn is_yarn_command(w: &str) -> bool {
    matches!(
        w,
        "add"
            | "install"
            | "remove"
            | "up"
            | "upgrade"
            | "init"
            | "info"
            | "why"
            | "cache"
            | "config"
            | "set"
            | "workspace"
            | "workspaces"
            | "link"
            | "unlink"
            | "pack"
            | "publish"
            | "npm"
            | "plugin"
            | "version"
            | "help"
    )
}

pub fn plan(argv: &[OsString]) -> Plan {
    if argv.is_empty() {
        return Plan {
            argv: Vec::new(),
            tool: String::new(),
            profile: None,
            needs_auth: false,
        };
    }
    let at = tool_index(argv);
    let tool = tool_name(&argv[at]);
    let args = &argv[at + 1..];
    let mut out: Vec<OsString> = argv[..=at].to_vec();
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
    let needs_auth = needs_auth(&tool, &out[at + 1..]);
    Plan {
        argv: out,
        tool,
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
    // Help only where the AWS CLI reads it as help: the last word (`aws s3 cp help`), never a
    // `help` or `-h` that is an argument (`aws s3 cp help s3://b/help`, `--exclude -h`).
    if words
        .last()
        .is_some_and(|w| matches!(*w, "-h" | "--help" | "help"))
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

/// Variables the shell integration sets for itself.
pub const INTEGRATION_MARKERS: &[&str] = &[
    "OP_AWS_SHELL",
    "__OP_AWS_SHELL",
    "__OP_AWS_STATE",
    "__OP_AWS_VARS",
    "__OP_AWS_EXPORT",
    "__OP_AWS_EXPORT_WARNED",
    "__OP_AWS_IGNORED_WARNED",
    "__OP_AWS_UNTRUSTED_WARNED",
];

/// Every variable through which an SDK finds credentials (keys, a container or web-identity
/// source, an `aws login` cache): what a sandboxed or keyless program never inherits.
pub const CREDENTIAL_VARS: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_LOGIN_CACHE_DIRECTORY",
];

/// What every command op-aws starts (`run`, with or without credentials, `run --server`, the
/// wrappers, which go through `run`) has taken out of the caller's environment, whatever else
/// it gets: the variables that sign op-aws in, and the shell integration's markers (they
/// describe the caller's shell, not the command: a nested shell would believe the integration
/// is loaded). `changes` (the credentials, the endpoint) are kept.
pub fn for_command(caller: &Caller, mut changes: EnvChanges) -> EnvChanges {
    let mut names: Vec<&str> = caller
        .vars()
        .map(|(k, _)| k.as_str())
        .filter(|k| crate::caller::is_sign_in_var(k))
        .collect();
    names.extend(INTEGRATION_MARKERS);
    for k in names {
        if !changes.set.iter().any(|(s, _)| s == k) {
            changes.unset(k);
        }
    }
    changes
}

pub struct EnvInput<'a> {
    /// The tool that reads the credentials; empty for a shell (`export`).
    pub tool: &'a str,
    pub creds: &'a Credentials,
    /// The profile in effect, to be passed as `AWS_PROFILE`.
    pub profile: Option<&'a str>,
    /// The region the resolver chose (the shell's, else the profile's, else the item's).
    pub region: Option<&'a str>,
}

pub fn env_changes(i: &EnvInput<'_>) -> EnvChanges {
    let mut c = EnvChanges::default();
    c.set("AWS_ACCESS_KEY_ID", &i.creds.access_key_id);
    c.set(
        "AWS_SECRET_ACCESS_KEY",
        i.creds.secret_access_key.expose_secret(),
    );
    match &i.creds.session_token {
        Some(t) => c.set("AWS_SESSION_TOKEN", t.expose_secret()),
        None => c.unset("AWS_SESSION_TOKEN"),
    }
    match i.creds.expiration_rfc3339() {
        Some(e) => c.set("AWS_CREDENTIAL_EXPIRATION", &e),
        None => c.unset("AWS_CREDENTIAL_EXPIRATION"),
    }
    // botocore reads it before AWS_SESSION_TOKEN; a stale one would win.
    c.unset("AWS_SECURITY_TOKEN");
    if !i.tool.is_empty() {
        // The shell integration's own markers describe that shell, not the command (a nested
        // shell would believe the integration is loaded); the user's settings stay.
        for k in INTEGRATION_MARKERS {
            c.unset(k);
        }
    }
    if let Some(r) = i.region {
        c.set("AWS_REGION", r);
        c.set("AWS_DEFAULT_REGION", r);
    }
    match i.profile {
        // A shell (`export`): its AWS_PROFILE is the user's business.
        _ if i.tool.is_empty() => {}
        Some(p) if BOTOCORE_TOOLS.contains(&i.tool) => c.set("AWS_PROFILE", p),
        // A profile would win over the keys in the JS and Go SDKs (and any SDK an unknown
        // command runs): none is left beside them, the shell's included.
        _ => c.unset("AWS_PROFILE"),
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::Syntax;

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
    fn env_changes_render_per_shell_and_against_the_caller() {
        let mut c = EnvChanges::default();
        c.set("A", "it's");
        c.unset("B");
        c.set("B", "x");
        c.unset("C");
        assert_eq!(
            c.set.len(),
            2,
            "a later change of B replaces the earlier one"
        );
        assert_eq!(
            c.render(Syntax::Posix),
            "export A='it'\\''s'\nexport B='x'\nunset C\n"
        );
        assert_eq!(
            c.render(Syntax::Fish),
            "set -gx A 'it\\'s'\nset -gx B 'x'\nset -e C\n"
        );
        assert_eq!(
            c.render(Syntax::Nu),
            "{\"A\":\"it's\",\"B\":\"x\",\"C\":null}\n"
        );
        assert_eq!(
            c.render(Syntax::Powershell),
            "$env:A = 'it''s'\n$env:B = 'x'\nRemove-Item Env:C -ErrorAction SilentlyContinue\n"
        );
        let caller = Caller::new(
            [("B".to_owned(), "x".into()), ("C".to_owned(), "".into())],
            "/".into(),
            false,
        );
        let rest = c.clone().against(&caller);
        assert_eq!(rest.set, [("A".to_owned(), "it's".to_owned())]);
        assert_eq!(rest.unset, ["C"], "an empty C is still there to unset");
    }

    #[test]
    fn the_tool_behind_a_package_runner() {
        for (cmd, tool, rest) in [
            (
                &["npx", "cdk", "deploy", "--profile", "p"][..],
                "cdk",
                &["deploy"][..],
            ),
            (
                &["npx", "--yes", "-p", "aws-cdk", "cdk", "ls"],
                "cdk",
                &["ls"],
            ),
            (&["npm", "exec", "--", "cdk", "ls"], "cdk", &["ls"]),
            (&["pnpm", "exec", "cdk", "ls"], "cdk", &["ls"]),
            (&["yarn", "cdk", "ls"], "cdk", &["ls"]),
            (&["bunx", "cdk", "ls"], "cdk", &["ls"]),
            (&["yarn", "install"], "yarn", &["install"]),
            (&["npx"], "npx", &[]),
        ] {
            let p = plan(&argv(cmd));
            assert_eq!(p.tool, tool, "{cmd:?}");
            assert!(p.argv.ends_with(&argv(rest)), "{cmd:?}: {:?}", p.argv);
        }
        assert_eq!(
            plan(&argv(&["npx", "cdk", "deploy", "--profile", "p"]))
                .profile
                .as_deref(),
            Some("p")
        );
        assert!(!plan(&argv(&["npx", "cdk", "--help"])).needs_auth);
    }

    #[test]
    fn aws_profile_only_for_botocore() {
        let creds = Credentials {
            access_key_id: "AKIA".into(),
            secret_access_key: "s".to_owned().into(),
            session_token: None,
            expiration: None,
        };
        let env = |tool| {
            env_changes(&EnvInput {
                tool,
                creds: &creds,
                profile: Some("admin"),
                region: None,
            })
        };
        assert!(
            env("aws")
                .set
                .contains(&("AWS_PROFILE".into(), "admin".into()))
        );
        for tool in ["cdk", "node", "terraform", "eksctl", "make"] {
            let e = env(tool);
            assert!(e.unset.contains(&"AWS_PROFILE".to_owned()), "{tool}");
            assert!(!e.set.iter().any(|(k, _)| k == "AWS_PROFILE"), "{tool}");
        }
    }

    #[test]
    fn a_command_loses_op_aws_sign_in_and_the_integrations_markers() {
        let caller = Caller::new(
            [
                ("OP_SERVICE_ACCOUNT_TOKEN", "ops_x"),
                ("OP_CONNECT_HOST", "http://c"),
                ("OP_CONNECT_TOKEN", "t"),
                ("OP_SESSION_my", "s"),
                ("OP_ACCOUNT", "my"),
                ("OP_AWS_SHELL", "bash"),
                ("HOME", "/h"),
            ]
            .map(|(k, v)| (k.to_owned(), v.into())),
            "/".into(),
            false,
        );
        let mut given = EnvChanges::default();
        given.set("AWS_ACCESS_KEY_ID", "AKIA");
        let env = for_command(&caller, given);
        assert_eq!(env.set, [("AWS_ACCESS_KEY_ID".into(), "AKIA".into())]);
        for k in [
            "OP_SERVICE_ACCOUNT_TOKEN",
            "OP_CONNECT_HOST",
            "OP_CONNECT_TOKEN",
            "OP_SESSION_my",
            "OP_AWS_SHELL",
            "__OP_AWS_EXPORT",
        ] {
            assert!(env.unset.iter().any(|u| u == k), "{k}: {:?}", env.unset);
        }
        assert!(!env.unset.iter().any(|u| u == "HOME" || u == "OP_ACCOUNT"));
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
            &["aws", "s3", "cp", "help", "s3://b/help"],
            &[
                "aws",
                "s3",
                "sync",
                ".",
                "s3://b",
                "--exclude",
                "-h",
                "--dryrun",
            ],
            &["./deploy.sh"],
            &["make", "help"],
        ] {
            assert!(plan(&argv(c)).needs_auth, "{c:?}");
        }
    }
}
