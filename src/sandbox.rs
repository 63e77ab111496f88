//! `op-aws sandbox`: an AI agent (or any program) run with one capability to op-aws — a
//! socket the op-aws agent serves for that sandbox alone ([`crate::link`]'s `SandboxOpen`) —
//! and, on Linux, out of reach of everything else op-aws keeps: in user, mount and pid
//! namespaces made by bubblewrap, op-aws's runtime, data and cache directories are empty, its
//! config directory and `~/.aws` read-only, `~/.aws/credentials`, the AWS CLI's own caches
//! and 1Password's CLI settings and agent socket gone. The rest of the file system (the
//! project, the rest of HOME) is as it was.
//!
//! Inside, `aws`, the SDKs and Terraform find their credentials through a generated
//! `AWS_CONFIG_FILE` whose every profile is `credential_process = op-aws credential-process`,
//! so they refresh for as long as the sandbox lives; `op-aws run` reaches the capability
//! through `OP_AWS_RUNTIME_DIR`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::awsfiles::AwsFiles;
use crate::ctx::Ctx;
use crate::model::env::EnvChanges;
use crate::model::sandbox::{Assumed, Spec};
use crate::{Error, Result};

/// A sandbox opened: its capability's directory, the program's environment, and the
/// isolating command to run it under (empty with `--no-isolation`).
pub struct Opened {
    pub dir: PathBuf,
    pub env: EnvChanges,
    pub wrapper: Vec<OsString>,
}

/// Opens `spec`'s sandbox: checks that it can be isolated (unless it is not to be), makes sure
/// the vault is unlocked (the sandbox cannot unlock), has the agent open the capability, and
/// writes the AWS config the program will read.
pub fn open(ctx: &Ctx, spec: &Spec) -> Result<Opened> {
    let name = &spec.name;
    if !Spec::valid_name(name) {
        return Err(Error::sandbox(name, Spec::NAME_RULE, "pass --name N"));
    }
    if ctx.agent.in_sandbox() {
        return Err(Error::sandbox(
            name,
            "a sandbox cannot open another (its capability answers credential requests only)",
            "the person opens sandboxes from a terminal of their own",
        ));
    }
    let bwrap = if spec.isolated {
        Some(isolation(ctx, name)?)
    } else {
        None
    };
    crate::store::unlocked(ctx)?;
    let dir = ctx
        .agent
        .sandbox_open(spec, &ctx.caller)?
        .ok_or_else(|| Error::Agent("it stopped before the sandbox was opened".into()))?;
    // Opened: closed again if what follows fails, so no capability outlives its program.
    prepare(ctx, spec, bwrap, dir).inspect_err(|_| {
        let _ = ctx.agent.sandbox_stop(name);
    })
}

/// The AWS config, the environment and the isolating command for the capability at `dir`.
fn prepare(ctx: &Ctx, spec: &Spec, bwrap: Option<Isolator>, dir: PathBuf) -> Result<Opened> {
    let name = &spec.name;
    let exe = crate::process::op_aws_exe().map_err(|e| Error::Agent(e.to_string()))?;
    let files = AwsFiles::load(&ctx.caller).ok();
    let config = dir.join("aws-config");
    let text = aws_config(&exe, files.as_ref(), spec);
    // Keyless: the program's tools sign with the placeholder in their environment; no profile
    // asks op-aws (the capability is not in reach).
    let text = if spec.keyless {
        text.lines()
            .filter(|l| !l.starts_with("credential_process"))
            .map(|l| format!("{l}\n"))
            .collect()
    } else {
        text
    };
    crate::fsutil::write_atomic(&config, text.as_bytes(), 0o600)?;
    let mut env = EnvChanges::default();
    if !spec.keyless {
        env.set("OP_AWS_RUNTIME_DIR", &dir.to_string_lossy());
    }
    env.set(crate::caller::SANDBOX_VAR, name);
    env.set("AWS_CONFIG_FILE", &config.to_string_lossy());
    env.set(
        "AWS_SHARED_CREDENTIALS_FILE",
        &dir.join("aws-credentials").to_string_lossy(),
    );
    for k in crate::inject::CREDENTIAL_VARS {
        env.unset(k);
    }
    for (k, _) in ctx.caller.vars() {
        if crate::caller::is_sign_in_var(k) {
            env.unset(k);
        }
    }
    let wrapper = match bwrap {
        Some(Isolator::Bubblewrap(bwrap)) => {
            // What hides a file (a device node cannot be opened in a user namespace's mount).
            crate::fsutil::write_atomic(&dir.join("empty"), b"", 0o600)?;
            let mut w = vec![bwrap.into_os_string()];
            w.extend(bwrap_args(&hidden(ctx)?, &dir, !spec.keyless));
            w.push("--".into());
            w
        }
        Some(Isolator::Seatbelt(exec)) => vec![
            exec.into_os_string(),
            "-p".into(),
            seatbelt_profile(&hidden(ctx)?, &dir, &ctx.dirs.runtime, !spec.keyless).into(),
            "--".into(),
        ],
        None => Vec::new(),
    };
    Ok(Opened { dir, env, wrapper })
}

/// What isolates the program.
enum Isolator {
    /// Linux: bubblewrap's namespaces.
    Bubblewrap(PathBuf),
    /// macOS: Seatbelt, through `sandbox-exec` and a profile of ours ([`seatbelt_profile`]).
    Seatbelt(PathBuf),
}

/// Where Seatbelt's command is (part of macOS).
const SANDBOX_EXEC: &str = "/usr/bin/sandbox-exec";

/// Bubblewrap, found and able to make the namespaces here (macOS: `sandbox-exec`); else why
/// not, in one line.
fn isolation(ctx: &Ctx, name: &str) -> Result<Isolator> {
    let hint = "install bubblewrap (Debian: apt install bubblewrap) and allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, kernel.apparmor_restrict_unprivileged_userns=0), or run `op-aws sandbox --no-isolation -- CMD` (the capability only, no namespaces)";
    match crate::os::Platform::CURRENT {
        crate::os::Platform::MacOs => {
            let exec = PathBuf::from(SANDBOX_EXEC);
            return if exec.is_file() {
                Ok(Isolator::Seatbelt(exec))
            } else {
                Err(Error::sandbox(
                    name,
                    format!("cannot isolate it: {SANDBOX_EXEC} is missing"),
                    "run `op-aws sandbox --no-isolation -- CMD` (the capability only)",
                ))
            };
        }
        crate::os::Platform::Other => {
            return Err(Error::sandbox(
                name,
                "cannot isolate it here: op-aws isolates with bubblewrap (Linux) and Seatbelt (macOS)",
                "run `op-aws sandbox --no-isolation -- CMD` (the capability only)",
            ));
        }
        crate::os::Platform::Linux => {}
    }
    let Some(bwrap) = ctx
        .caller
        .which("bwrap".as_ref())
        .or_else(|| Some(PathBuf::from("/usr/bin/bwrap")).filter(|p| p.is_file()))
    else {
        return Err(Error::sandbox(
            name,
            "cannot isolate it: bubblewrap (bwrap) is not installed",
            hint,
        ));
    };
    let out = std::process::Command::new(&bwrap)
        .args(["--unshare-user", "--unshare-pid", "--die-with-parent"])
        .args([
            "--dev-bind",
            "/",
            "/",
            "--proc",
            "/proc",
            "--",
            "/bin/sh",
            "-c",
            ":",
        ])
        .env_clear()
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .output()
        .map_err(|e| {
            Error::sandbox(
                name,
                format!("cannot isolate it: cannot run {}: {e}", bwrap.display()),
                hint,
            )
        })?;
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr);
        let why = why.lines().next().unwrap_or("it failed").trim();
        return Err(Error::sandbox(
            name,
            format!(
                "cannot isolate it: no user namespaces here ({})",
                crate::error::printable(why)
            ),
            hint,
        ));
    }
    Ok(Isolator::Bubblewrap(bwrap))
}

/// A Seatbelt profile (SBPL, for `sandbox-exec -p`) with what [`bwrap_args`] does where macOS
/// can: everything allowed, then `hidden` denied (no reading or writing op-aws's runtime, data
/// and cache directories and the rest that is emptied; no writing what is read-only; no reading
/// what is blanked), no connecting to a socket in op-aws's runtime directory `runtime`, and the
/// capability's directory `cap` allowed again. Later rules win. What Seatbelt has no
/// counterpart for: the process table stays visible (the agent denies debuggers itself).
pub fn seatbelt_profile(hidden: &Hidden, cap: &Path, runtime: &Path, reachable: bool) -> String {
    // SBPL strings are double-quoted with backslash escapes.
    let q = |p: &Path| {
        let s = p.to_string_lossy();
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    };
    let mut out = String::from("(version 1)\n(allow default)\n");
    for p in &hidden.emptied {
        out.push_str(&format!(
            "(deny file-read* file-write* (subpath {}))\n",
            q(p)
        ));
    }
    for p in &hidden.read_only {
        out.push_str(&format!("(deny file-write* (subpath {}))\n", q(p)));
    }
    for p in &hidden.blanked {
        out.push_str(&format!(
            "(deny file-read* file-write* (literal {}))\n",
            q(p)
        ));
    }
    out.push_str(&format!(
        "(deny network-outbound (remote unix-socket (subpath {})))\n",
        q(runtime)
    ));
    if reachable {
        out.push_str(&format!(
            "(allow file-read* file-write* (subpath {c}))\n(allow network-outbound (remote unix-socket (subpath {c})))\n",
            c = q(cap)
        ));
    } else {
        // Keyless: the AWS config only.
        out.push_str(&format!(
            "(allow file-read* (literal {}))\n",
            q(&cap.join("aws-config"))
        ));
    }
    out
}

/// What the sandbox must not see, by how it is hidden.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Hidden {
    /// An empty directory instead.
    pub emptied: Vec<PathBuf>,
    /// Readable, never writable.
    pub read_only: Vec<PathBuf>,
    /// An empty file instead.
    pub blanked: Vec<PathBuf>,
}

/// The places this caller's op-aws, AWS CLI and 1Password CLI keep what a sandbox must not
/// reach (those that exist: a namespace mount on a missing path would create it).
pub fn hidden(ctx: &Ctx) -> Result<Hidden> {
    let c = &ctx.caller;
    let home = c.home()?;
    let aws = home.join(".aws");
    let mut h = Hidden::default();
    let dir = |p: &Path| p.is_dir();
    for p in [&ctx.dirs.config, &aws] {
        if dir(p) {
            h.read_only.push(p.clone());
        }
    }
    if let Ok(p) = crate::awsfiles::config_path(c)
        && p.is_file()
        && !p.starts_with(&aws)
    {
        h.read_only.push(p);
    }
    let xdg_config = c
        .var("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .unwrap_or_else(|| home.join(".config"));
    let mut emptied = vec![
        ctx.dirs.runtime.clone(),
        ctx.dirs.data.clone(),
        ctx.dirs.cache.clone(),
        aws.join("sso/cache"),
        aws.join("cli/cache"),
        aws.join("login/cache"),
        aws.join("boto/cache"),
        xdg_config.join("op"),
        home.join(".config/op"),
        home.join(".op"),
        home.join(".1password"),
    ];
    emptied.dedup();
    h.emptied = emptied.into_iter().filter(|p| dir(p)).collect();
    if let Ok(p) = crate::awsfiles::credentials_path(c)
        && p.is_file()
    {
        h.blanked.push(p);
    }
    Ok(h)
}

/// Bubblewrap's arguments: new user, pid and IPC namespaces over the whole file system as it
/// is, then `hidden` hidden (a file by `cap`'s empty file `empty`), then the capability's
/// directory `cap` put back (it lives in the runtime directory, which is emptied) if it is to
/// be `reachable`, else only its AWS config.
pub fn bwrap_args(hidden: &Hidden, cap: &Path, reachable: bool) -> Vec<OsString> {
    let mut a: Vec<OsString> = [
        "--unshare-user",
        "--unshare-pid",
        "--unshare-ipc",
        "--die-with-parent",
        "--dev-bind",
        "/",
        "/",
        "--proc",
        "/proc",
    ]
    .map(OsString::from)
    .into();
    let mut push = |flag: &str, from: &Path, to: &Path| {
        a.push(flag.into());
        if !from.as_os_str().is_empty() {
            a.push(from.into());
        }
        a.push(to.into());
    };
    for p in &hidden.read_only {
        push("--ro-bind", p, p);
    }
    for p in &hidden.emptied {
        push("--tmpfs", Path::new(""), p);
    }
    for p in &hidden.blanked {
        push("--ro-bind", &cap.join("empty"), p);
    }
    if reachable {
        push("--bind", cap, cap);
    } else {
        // Keyless: only the AWS config and the blank file are the program's to read.
        push(
            "--ro-bind",
            &cap.join("aws-config"),
            &cap.join("aws-config"),
        );
        push("--ro-bind", &cap.join("empty"), &cap.join("empty"));
    }
    a
}

/// The AWS config a sandboxed program reads: every profile of the person's (or those the
/// sandbox allows) with `credential_process` asking op-aws, and its region; `[default]` asks
/// for what applies where the program runs (the sandbox's first profile, if it names any).
pub fn aws_config(exe: &Path, files: Option<&AwsFiles>, spec: &Spec) -> String {
    let exe = crate::shell::quote_posix(&exe.to_string_lossy());
    let mut out = String::from(
        "# Written by op-aws sandbox: every profile asks op-aws, whose agent decides.\n",
    );
    let section = |out: &mut String, header: &str, profile: Option<&str>| {
        out.push_str(&format!("\n[{header}]\n"));
        match profile {
            Some(p) => out.push_str(&format!(
                "credential_process = {exe} credential-process --profile {}\n",
                crate::shell::quote_posix(p)
            )),
            None => out.push_str(&format!("credential_process = {exe} credential-process\n")),
        }
        let settings = profile.unwrap_or("default");
        for key in ["region", "output"] {
            if let Some(v) = files.and_then(|f| f.get(settings, key)) {
                out.push_str(&format!("{key} = {v}\n"));
            }
        }
    };
    section(
        &mut out,
        "default",
        spec.profiles.first().map(String::as_str),
    );
    let names = match (&spec.profiles, files) {
        (allowed, _) if !allowed.is_empty() => allowed.clone(),
        (_, Some(f)) => f.profile_names(),
        (_, None) => Vec::new(),
    };
    for p in names.iter().filter(|p| p.as_str() != "default") {
        // A name the INI format cannot carry is left out, not mangled.
        if p.contains(['[', ']', '\n', '\r']) {
            continue;
        }
        section(&mut out, &format!("profile {p}"), Some(p));
    }
    out
}

/// The inline policy `--revoke` puts on a role: every session of it tagged as agent `agent`
/// and issued before `now` is denied everything — AWS's documented way to revoke active role
/// sessions, narrowed to this agent's.
pub fn revoke_policy(agent: &str, now: std::time::SystemTime) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "OpAwsRevokeSandboxSessions",
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {
                "DateLessThan": {
                    "aws:TokenIssueTime": humantime::format_rfc3339_seconds(now).to_string()
                },
                "StringEquals": {
                    format!("aws:PrincipalTag/{}", crate::policy::AGENT_TAG): agent
                }
            }
        }]
    })
    .to_string()
}

/// The inline policy's name on each role.
pub fn revoke_policy_name(agent: &str) -> String {
    format!("op-aws-revoke-{agent}")
}

/// What `--revoke` did to one role.
pub struct Revoked {
    pub role: Assumed,
    /// The policy's name, or why it could not be put.
    pub outcome: std::result::Result<String, Error>,
}

/// Ends the sessions `agent` holds at AWS: on each role its sessions assumed, the deny policy
/// of [`revoke_policy`], put with the keys of the item that assumed it (which need
/// `iam:PutRolePolicy` on that role).
pub fn revoke(ctx: &Ctx, agent: &str, roles: &[Assumed]) -> Vec<Revoked> {
    let now = std::time::SystemTime::now();
    let document = revoke_policy(agent, now);
    let name = revoke_policy_name(agent);
    roles
        .iter()
        .map(|a| Revoked {
            role: a.clone(),
            outcome: put_deny(ctx, a, &name, &document).map(|()| name.clone()),
        })
        .collect()
}

fn put_deny(ctx: &Ctx, a: &Assumed, name: &str, document: &str) -> Result<()> {
    let role = a
        .role_arn
        .rsplit_once(":role/")
        .map(|(_, path)| path.rsplit('/').next().unwrap_or(path))
        .filter(|r| !r.is_empty())
        .ok_or_else(|| Error::Invalid(format!("{} is not a role ARN", a.role_arn)))?;
    let item = crate::store::get_item(ctx, &a.item)?;
    let keys = crate::creds::Credentials::from(&item.access_keys()?);
    let c = &ctx.caller;
    let files = AwsFiles::load(c).ok();
    let profile = c.profile().unwrap_or("default");
    let endpoint = crate::sts::plan::service_endpoint(c, files.as_ref(), profile, "IAM");
    crate::sts::plan::check_endpoint(endpoint.as_deref(), &ctx.config.trusted_endpoints)?;
    let region = a.role_arn.split(':').nth(1).map_or("aws", |p| p);
    let region = match region {
        "aws-cn" => "cn-north-1",
        "aws-us-gov" => "us-gov-west-1",
        _ => "us-east-1",
    };
    crate::iam::Iam::new(crate::iam::region_for(region), endpoint.as_deref())?
        .showing(&c.progress)
        .put_role_policy(&keys, role, name, document)
}

/// Claude Code's settings (`existing`, the file's text if there is one) with op-aws's wiring
/// merged in, everything else kept: its sandbox may reach the sandboxes' capabilities
/// (`sandboxes`: by path on macOS; on Linux, where its seccomp filter cannot tell sockets apart,
/// all Unix sockets) and the AWS APIs, and its own Bedrock calls get a Bedrock-only session
/// from `exe` (`credential-process --bedrock`).
pub fn claude_code_settings(
    existing: Option<&str>,
    exe: &Path,
    sandboxes: &Path,
    platform: crate::os::Platform,
) -> std::result::Result<serde_json::Value, String> {
    use serde_json::{Value, json};
    let mut v: Value = match existing.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => serde_json::from_str(t).map_err(|e| format!("not JSON: {e}"))?,
        None => json!({}),
    };
    let object = |v: &mut Value, key: &str| -> std::result::Result<(), String> {
        let o = v.as_object_mut().ok_or("not a JSON object")?;
        let entry = o.entry(key).or_insert_with(|| json!({}));
        if entry.is_object() {
            Ok(())
        } else {
            Err(format!("{key:?} is not an object"))
        }
    };
    let add = |list: &mut Value, item: &str| -> std::result::Result<(), String> {
        if list.is_null() {
            *list = json!([]);
        }
        let a = list.as_array_mut().ok_or("a list setting is not a list")?;
        if !a.iter().any(|x| x == item) {
            a.push(item.into());
        }
        Ok(())
    };
    object(&mut v, "sandbox")?;
    object(&mut v["sandbox"], "network")?;
    let net = &mut v["sandbox"]["network"];
    add(&mut net["allowUnixSockets"], &sandboxes.to_string_lossy())?;
    add(&mut net["allowedDomains"], "*.amazonaws.com")?;
    if platform == crate::os::Platform::Linux {
        net["allowAllUnixSockets"] = true.into();
    }
    v["awsCredentialExport"] = format!(
        "{} credential-process --bedrock --format claude-code",
        crate::shell::quote_posix(&exe.to_string_lossy())
    )
    .into();
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claude_code_keeps_its_settings_and_gains_the_wiring() {
        use crate::os::Platform;
        let existing = r#"{"model": "x", "sandbox": {"enabled": true, "network": {"allowedDomains": ["github.com"]}}}"#;
        let exe = Path::new("/usr/bin/op-aws");
        let socks = Path::new("/run/user/1/op-aws/sandboxes");
        let v = claude_code_settings(Some(existing), exe, socks, Platform::Linux).unwrap();
        assert_eq!(v["model"], "x");
        assert_eq!(v["sandbox"]["enabled"], true);
        let net = &v["sandbox"]["network"];
        assert_eq!(
            net["allowedDomains"],
            serde_json::json!(["github.com", "*.amazonaws.com"])
        );
        assert_eq!(net["allowUnixSockets"], serde_json::json!([socks]));
        assert_eq!(net["allowAllUnixSockets"], true);
        assert_eq!(
            v["awsCredentialExport"],
            "'/usr/bin/op-aws' credential-process --bedrock --format claude-code"
        );
        // Again: the same (nothing added twice).
        let again =
            claude_code_settings(Some(&v.to_string()), exe, socks, Platform::Linux).unwrap();
        assert_eq!(again, v);
        let mac = claude_code_settings(None, exe, socks, Platform::MacOs).unwrap();
        assert!(
            mac["sandbox"]["network"]
                .get("allowAllUnixSockets")
                .is_none()
        );
        for bad in [
            "[1]",
            "{\"sandbox\": 3}",
            "{\"sandbox\": {\"network\": {\"allowedDomains\": 1}}}",
            "{",
        ] {
            assert!(
                claude_code_settings(Some(bad), exe, socks, Platform::Linux).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn seatbelt_denies_the_same_and_allows_the_capability_last() {
        let h = Hidden {
            emptied: vec!["/Users/a/Library/Caches/op-aws".into()],
            read_only: vec!["/Users/a/.aws".into()],
            blanked: vec!["/Users/a/.aws/credentials".into()],
        };
        let cap = Path::new("/var/folders/x/T/op-aws/sandboxes/claude");
        let p = seatbelt_profile(&h, cap, Path::new("/var/folders/x/T/op-aws"), true);
        let lines: Vec<&str> = p.lines().collect();
        assert_eq!(lines[..2], ["(version 1)", "(allow default)"]);
        assert!(p.contains(
            "(deny file-read* file-write* (subpath \"/Users/a/Library/Caches/op-aws\"))"
        ));
        assert!(p.contains("(deny file-write* (subpath \"/Users/a/.aws\"))"));
        assert!(
            p.contains("(deny file-read* file-write* (literal \"/Users/a/.aws/credentials\"))")
        );
        assert!(p.contains(
            "(deny network-outbound (remote unix-socket (subpath \"/var/folders/x/T/op-aws\")))"
        ));
        assert!(lines[lines.len() - 2].starts_with(
            "(allow file-read* file-write* (subpath \"/var/folders/x/T/op-aws/sandboxes/claude\"))"
        ));
        assert!(lines[lines.len() - 1].starts_with("(allow network-outbound"));
        let odd = seatbelt_profile(
            &Hidden::default(),
            Path::new("/a\"b\\c"),
            Path::new("/r"),
            true,
        );
        assert!(odd.contains("(subpath \"/a\\\"b\\\\c\")"), "{odd}");
    }

    #[test]
    fn bwrap_hides_then_puts_the_capability_back_last() {
        let h = Hidden {
            emptied: vec!["/run/user/1/op-aws".into(), "/h/.local/share/op-aws".into()],
            read_only: vec!["/h/.aws".into()],
            blanked: vec!["/h/.aws/credentials".into()],
        };
        let a: Vec<String> = bwrap_args(&h, Path::new("/run/user/1/op-aws/sandboxes/x"), true)
            .into_iter()
            .map(|s| s.into_string().unwrap())
            .collect();
        let at = |s: &str| a.iter().position(|x| x == s).unwrap();
        assert!(a.starts_with(&["--unshare-user".to_owned(), "--unshare-pid".to_owned()]));
        assert!(at("/h/.aws") < at("/run/user/1/op-aws"), "{a:?}");
        assert_eq!(
            a[at("/run/user/1/op-aws/sandboxes/x/empty") + 1],
            "/h/.aws/credentials"
        );
        assert_eq!(
            &a[a.len() - 3..],
            [
                "--bind",
                "/run/user/1/op-aws/sandboxes/x",
                "/run/user/1/op-aws/sandboxes/x"
            ]
        );
        assert!(
            !a.iter().any(|x| x == "--unshare-net"),
            "the loopback stays"
        );
    }

    #[test]
    fn every_profile_asks_op_aws_and_only_the_allowed_ones_with_a_list() {
        let files = AwsFiles::from_strings(
            "[default]\nregion = eu-west-1\n[profile admin]\nrole_arn = x\nregion = us-east-2\n[profile dev]\n[profile 'odd name']\n",
            "",
        )
        .unwrap();
        let exe = Path::new("/opt/op aws/op-aws");
        let all = aws_config(exe, Some(&files), &Spec::default());
        assert!(all.contains("[default]\ncredential_process = '/opt/op aws/op-aws' credential-process\nregion = eu-west-1\n"), "{all}");
        assert!(all.contains("[profile admin]\ncredential_process = '/opt/op aws/op-aws' credential-process --profile 'admin'\nregion = us-east-2\n"), "{all}");
        assert!(all.contains("[profile dev]"), "{all}");
        assert!(!all.contains("role_arn"), "{all}");
        let only = aws_config(
            exe,
            Some(&files),
            &Spec {
                profiles: vec!["dev".into()],
                ..Spec::default()
            },
        );
        assert!(only.contains("[default]\ncredential_process = '/opt/op aws/op-aws' credential-process --profile 'dev'\n"), "{only}");
        assert!(!only.contains("admin"), "{only}");
    }
}
