//! `~/.aws/config` and `~/.aws/credentials`, read with the AWS SDK's own parser so profile
//! rules (`[profile x]`, `[default]`, credentials-file precedence) match the SDKs exactly.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use aws_runtime::env_config::file::EnvConfigFiles;
use aws_runtime::env_config::section::EnvConfigSections;
use aws_runtime::env_config::source;
use aws_types::os_shim_internal::{Env, Fs};

use crate::caller::Caller;
use crate::memo::Memo;
use crate::{Error, Result};

#[derive(Clone)]
pub struct AwsFiles {
    sections: EnvConfigSections,
    /// Profiles from a trusted project file (`.op-aws.toml`), keyed as in the AWS config.
    project: BTreeMap<String, BTreeMap<&'static str, String>>,
}

/// Keys that make a profile one the AWS tools resolve themselves: op-aws hands it over.
pub const SELF_RESOLVING: &[&str] = &[
    "sso_session",
    "sso_start_url",
    "credential_process",
    "web_identity_token_file",
    "credential_source",
    "login_session",
];

/// How a selected profile resolves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileChain {
    /// The profiles whose `role_arn` is assumed, bottom first.
    pub roles: Vec<String>,
    pub base: Base,
}

/// What signs the bottom of a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    /// The keys of the item bound to `profile` with `op_aws_item`.
    Item { profile: String, item: String },
    /// The item in effect here (a profile with no keys of its own, or plaintext keys, which
    /// op-aws never reads).
    ItemInEffect { profile: String },
    /// A source the tool resolves itself (`key` says which): the whole chain is handed over.
    SelfResolving { profile: String, key: &'static str },
}

impl ProfileChain {
    /// The profile at the bottom.
    pub fn base_profile(&self) -> &str {
        match &self.base {
            Base::Item { profile, .. }
            | Base::ItemInEffect { profile }
            | Base::SelfResolving { profile, .. } => profile,
        }
    }

    /// The profiles that take part, top first.
    pub fn profiles(&self) -> Vec<String> {
        let mut v: Vec<String> = self.roles.iter().rev().cloned().collect();
        let base = self.base_profile();
        if v.last().is_none_or(|p| p != base) {
            v.push(base.to_owned());
        }
        v
    }

    pub fn is_handover(&self) -> bool {
        matches!(self.base, Base::SelfResolving { .. })
    }
}

/// The config file path, as the AWS CLI resolves it for `c`.
pub fn config_path(c: &Caller) -> Result<PathBuf> {
    file_path(c, "AWS_CONFIG_FILE", ".aws/config")
}

/// The credentials file path, as the AWS CLI resolves it for `c`.
pub fn credentials_path(c: &Caller) -> Result<PathBuf> {
    file_path(c, "AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials")
}

fn file_path(c: &Caller, var: &str, default: &str) -> Result<PathBuf> {
    let Some(p) = c.var_os(var).filter(|v| !v.is_empty()) else {
        return c.home().map(|h| h.join(default));
    };
    let p = PathBuf::from(p);
    // As the SDKs do: `~/` is HOME; a relative path is the caller's.
    Ok(match (p.strip_prefix("~"), c.home()) {
        (Ok(rest), Ok(home)) => home.join(rest),
        _ => c.absolute(&p),
    })
}

/// The lock every op-aws writer of an AWS file takes (`import --remove-plaintext`, `sso
/// populate`): in op-aws's runtime directory, keyed by the path, so nothing is left next to the
/// user's file.
pub fn lock(ctx: &crate::ctx::Ctx, path: &std::path::Path) -> Result<crate::fsutil::LockGuard> {
    crate::fsutil::ensure_private_dir(&ctx.dirs.runtime)?;
    let key = crate::digest::hash(&serde_json::json!(["aws-file", path]));
    crate::fsutil::lock_exclusive(&ctx.dirs.runtime.join(format!("aws-file-{key}")))
}

/// Sets `values` in `[profile NAME]` (`[default]`) of the AWS config, as `aws configure set`
/// would: a key the section has is rewritten in place, a new one goes after the section's last
/// setting, a missing section is appended; every other byte stays. A symbolic link stays one
/// (its target is rewritten), and the file keeps its mode.
pub fn set_in_profile(ctx: &crate::ctx::Ctx, profile: &str, values: &[(&str, &str)]) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let link = config_path(&ctx.caller)?;
    let _lock = lock(ctx, &link)?;
    let path = match std::fs::symlink_metadata(&link) {
        Ok(m) if m.file_type().is_symlink() => {
            link.canonicalize().map_err(|e| Error::io(&link, e))?
        }
        _ => link,
    };
    if let Some(dir) = path.parent().filter(|d| !d.exists()) {
        crate::fsutil::ensure_private_dir(dir)?;
    }
    let (old, mode) = match std::fs::read_to_string(&path) {
        Ok(text) => {
            let m = std::fs::metadata(&path).map_err(|e| Error::io(&path, e))?;
            (text, m.permissions().mode() & 0o7777)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (String::new(), 0o600),
        Err(e) => return Err(Error::io(&path, e)),
    };
    let new = with_values(&old, profile, values);
    if new != old {
        crate::fsutil::write_atomic(&path, new.as_bytes(), mode)?;
    }
    Ok(())
}

/// `text` with `values` set in `profile`'s section (see [`set_in_profile`]).
fn with_values(text: &str, profile: &str, values: &[(&str, &str)]) -> String {
    let header = if profile == "default" {
        "default".to_owned()
    } else {
        format!("profile {profile}")
    };
    let section_of = |line: &str| {
        let t = line.trim();
        t.strip_prefix('[')
            .and_then(|t| t.split_once(']'))
            .map(|(name, _)| name.split_whitespace().collect::<Vec<_>>().join(" "))
    };
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let start = lines
        .iter()
        .position(|l| section_of(l).as_deref() == Some(header.as_str()));
    let Some(start) = start else {
        let mut out = text.to_owned();
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        if !out.is_empty() && !out.ends_with("\n\n") {
            out.push('\n');
        }
        out.push_str(&format!("[{header}]\n"));
        for (k, v) in values {
            out.push_str(&format!("{k} = {v}\n"));
        }
        return out;
    };
    let end = lines[start + 1..]
        .iter()
        .position(|l| section_of(l).is_some())
        .map_or(lines.len(), |i| start + 1 + i);
    let mut last_setting = start;
    for (i, l) in lines.iter().enumerate().take(end).skip(start + 1) {
        let t = l.trim();
        if !t.is_empty() && !t.starts_with('#') && !t.starts_with(';') {
            last_setting = i;
        }
    }
    let mut added = Vec::new();
    for (k, v) in values {
        let at = (start + 1..end).find(|&i| {
            !lines[i].starts_with([' ', '\t'])
                && lines[i]
                    .split_once('=')
                    .is_some_and(|(key, _)| key.trim() == *k)
        });
        match at {
            Some(i) => lines[i] = format!("{k} = {v}"),
            None => added.push(format!("{k} = {v}")),
        }
    }
    lines.splice(last_setting + 1..last_setting + 1, added);
    let mut out = lines.join("\n");
    if text.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// A value of the AWS config for a message: its first line only. The SDKs read indented lines
/// after a property as part of its value, and an indented line may be a secret (found by the
/// `aws_files` fuzz target: `aws_secret_access_key` indented under `source_profile`).
pub(crate) fn shown(value: &str) -> String {
    match value.split_once('\n') {
        Some((first, _)) => format!("{:?} (and the indented lines after it)", first.trim()),
        None => format!("{value:?}"),
    }
}

/// Polls a future that never waits (the SDK's loader reads files synchronously).
fn ready<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::yield_now();
    }
}

impl AwsFiles {
    /// Loads both files as `c` names them; missing files are empty, a malformed one is an error
    /// naming it.
    pub fn load(c: &Caller) -> Result<Self> {
        static PARSED: Memo<AwsFiles> = Memo::new();
        let config = config_path(c)?;
        let credentials = credentials_path(c)?;
        PARSED.get(&[&config, &credentials], || {
            Self::read(&config, &credentials)
        })
    }

    fn read(config: &std::path::Path, credentials: &std::path::Path) -> Result<Self> {
        // The SDK's loader takes the paths from its Env (a missing file is then empty, not an
        // error): give it the resolved ones and nothing else of the caller's.
        let vars = [
            ("AWS_CONFIG_FILE", config.to_string_lossy().into_owned()),
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                credentials.to_string_lossy().into_owned(),
            ),
        ];
        let env = Env::from(
            vars.into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect::<std::collections::HashMap<_, _>>(),
        );
        let src =
            ready(source::load(&env, &Fs::real(), &EnvConfigFiles::default())).map_err(|e| {
                Error::BadConfig {
                    path: config.to_owned(),
                    why: e.to_string(),
                }
            })?;
        Self::parse(src, config)
    }

    /// From file contents (tests).
    pub fn from_strings(config: &str, credentials: &str) -> Result<Self> {
        use aws_runtime::env_config::file::EnvConfigFileKind;
        let files = EnvConfigFiles::builder()
            .with_contents(EnvConfigFileKind::Config, config)
            .with_contents(EnvConfigFileKind::Credentials, credentials)
            .build();
        let src = ready(source::load(
            &Env::from_slice(&[]),
            &Fs::from_slice(&[]),
            &files,
        ))
        .map_err(|e| Error::Invalid(e.to_string()))?;
        Self::parse(src, std::path::Path::new("config"))
    }

    fn parse(src: source::Source, config: &std::path::Path) -> Result<Self> {
        let sections = EnvConfigSections::parse(src).map_err(|e| {
            // The SDK says "error parsing PATH on line N:\n  why" (either file): one line.
            let flat = e
                .to_string()
                .lines()
                .map(str::trim)
                .collect::<Vec<_>>()
                .join(" ");
            let (path, why) = flat
                .strip_prefix("error parsing ")
                .and_then(|r| r.split_once(" on line "))
                .map_or_else(
                    || (config.to_owned(), flat.clone()),
                    |(p, rest)| (PathBuf::from(p), format!("line {rest}")),
                );
            Error::BadConfig { path, why }
        })?;
        Ok(Self {
            sections,
            project: BTreeMap::new(),
        })
    }

    /// [`Self::load`], with the profiles of the trusted project file at or above the caller's
    /// directory.
    pub fn load_here(ctx: &crate::ctx::Ctx) -> Result<Self> {
        let files = Self::load(&ctx.caller)?;
        let found = crate::project::find(&ctx.dirs, &ctx.caller.cwd)?;
        Ok(
            match found
                .as_ref()
                .and_then(crate::model::project::Found::project)
            {
                Some(p) => files.with_project(p),
                None => files,
            },
        )
    }

    /// Adds a trusted project file's profiles. A profile the AWS files define keeps their
    /// definition and takes only the item that signs it from the project (when the AWS config
    /// binds none); the others are op-aws-only profiles.
    #[must_use]
    pub fn with_project(mut self, project: &crate::model::project::Project) -> Self {
        self.project.clone_from(&project.profiles);
        self
    }

    pub fn profile_names(&self) -> Vec<String> {
        let set: BTreeSet<String> = self
            .sections
            .profiles()
            .map(str::to_owned)
            .chain(self.project.keys().cloned())
            .collect();
        set.into_iter().collect()
    }

    pub fn has_profile(&self, name: &str) -> bool {
        self.sections.get_profile(name).is_some() || self.project.contains_key(name)
    }

    /// The profile exists only in the project file: the tools cannot be told its name.
    pub fn is_project_only(&self, name: &str) -> bool {
        self.sections.get_profile(name).is_none() && self.project.contains_key(name)
    }

    /// The profile's `key` comes from the project file, not the AWS config.
    pub fn from_project(&self, profile: &str, key: &str) -> bool {
        let in_aws = self
            .sections
            .get_profile(profile)
            .and_then(|p| p.get(key))
            .is_some_and(|v| !v.trim().is_empty());
        !in_aws && self.get(profile, key).is_some()
    }

    /// A key of a profile (keys are case-insensitive); empty values count as absent.
    pub fn get(&self, profile: &str, key: &str) -> Option<&str> {
        let from_project = || {
            self.project
                .get(profile)
                .and_then(|p| p.get(key.to_ascii_lowercase().as_str()))
                .map(String::as_str)
        };
        match self.sections.get_profile(profile) {
            Some(p) => p
                .get(key)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .or_else(|| (key == "op_aws_item").then(from_project).flatten()),
            None => from_project(),
        }
    }

    /// How `selected` resolves, walked as every AWS SDK walks it (the cross-SDK cases in
    /// `assume-role-tests.json` are the test): from the selected profile along `source_profile`
    /// while profiles assume roles, until static keys, a profile without a role, or a source the
    /// tool resolves itself. A profile bound with `op_aws_item` has that item's keys as its
    /// static keys; the selected profile's `role_arn` wins over its own keys (as in the SDKs).
    pub fn resolve_chain(&self, selected: &str) -> Result<ProfileChain> {
        let bad = |profile: &str, why: String| Error::BadProfile {
            profile: profile.to_owned(),
            why,
        };
        let mut roles: Vec<String> = Vec::new();
        let mut visited: Vec<String> = Vec::new();
        let mut name = selected.to_owned();
        let base = loop {
            if !self.has_profile(&name) {
                let from = visited.last().map_or(selected, String::as_str);
                return Err(bad(
                    from,
                    format!("source_profile {} does not exist", shown(&name)),
                ));
            }
            if visited.contains(&name) {
                visited.push(name);
                let names: Vec<String> = visited.iter().map(|n| shown(n)).collect();
                return Err(bad(
                    selected,
                    format!("source_profile loop: {}", names.join(" -> ")),
                ));
            }
            visited.push(name.clone());
            // Below the selected profile, static keys end the chain (that profile's own role is
            // not assumed).
            if visited.len() > 1
                && let Some(base) = self.static_base(&name)?
            {
                break base;
            }
            if self.get(&name, "role_arn").is_none()
                || self.get(&name, "web_identity_token_file").is_some()
            {
                break self.base(&name)?;
            }
            roles.push(name.clone());
            let source = self.get(&name, "source_profile");
            let credential_source = self.get(&name, "credential_source");
            match (source, credential_source) {
                (Some(_), Some(_)) => {
                    return Err(bad(
                        &name,
                        "has both source_profile and credential_source; keep one".into(),
                    ));
                }
                (None, Some(_)) => {
                    break Base::SelfResolving {
                        profile: name,
                        key: "credential_source",
                    };
                }
                // A role with no source: op-aws signs it with the item in effect here.
                (None, None) => break Base::ItemInEffect { profile: name },
                // "Load my own keys, then assume my role."
                (Some(next), None) if next == name => {
                    break self
                        .static_base(&name)?
                        .unwrap_or(Base::ItemInEffect { profile: name });
                }
                (Some(next), None) => name = next.to_owned(),
            }
        };
        roles.reverse();
        Ok(ProfileChain { roles, base })
    }

    /// Static keys of `profile`: its `op_aws_item`, else plaintext keys (which op-aws does not
    /// read: the item in effect stands in for them). Half a key pair is an error, as in the SDKs.
    fn static_base(&self, profile: &str) -> Result<Option<Base>> {
        if let Some(item) = self.get(profile, "op_aws_item") {
            return Ok(Some(Base::Item {
                profile: profile.to_owned(),
                item: item.to_owned(),
            }));
        }
        let half = |why: &str| Error::BadProfile {
            profile: profile.to_owned(),
            why: why.to_owned(),
        };
        match (
            self.get(profile, "aws_access_key_id"),
            self.get(profile, "aws_secret_access_key"),
        ) {
            (Some(_), Some(_)) => Ok(Some(Base::ItemInEffect {
                profile: profile.to_owned(),
            })),
            (None, None) => Ok(None),
            (Some(_), None) => Err(half("has aws_access_key_id but no aws_secret_access_key")),
            (None, Some(_)) => Err(half("has aws_secret_access_key but no aws_access_key_id")),
        }
    }

    /// The bottom of a chain: a source the tool resolves itself, else static keys, else the
    /// item in effect (op-aws's own rule for a profile with no credentials of its own).
    fn base(&self, profile: &str) -> Result<Base> {
        if let Some(key) = self.self_resolving_key(profile) {
            return Ok(Base::SelfResolving {
                profile: profile.to_owned(),
                key,
            });
        }
        Ok(self.static_base(profile)?.unwrap_or(Base::ItemInEffect {
            profile: profile.to_owned(),
        }))
    }

    /// The key that makes `profile` one the tool resolves itself, if any.
    pub fn self_resolving_key(&self, profile: &str) -> Option<&'static str> {
        SELF_RESOLVING
            .iter()
            .copied()
            .find(|k| self.get(profile, k).is_some())
    }

    /// A key of an `[sso-session NAME]` section; empty values count as absent.
    pub fn sso_session_get(&self, name: &str, key: &str) -> Option<&str> {
        self.sections
            .sso_session(name)
            .and_then(|s| s.get(key))
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }

    pub fn sso_session_names(&self) -> Vec<String> {
        let set: BTreeSet<String> = self.sections.sso_sessions().map(str::to_owned).collect();
        set.into_iter().collect()
    }

    pub fn region(&self, profile: &str) -> Option<&str> {
        self.get(profile, "region")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn values_are_set_in_their_section_and_nothing_else_changes() {
        let text = "# mine\n[default]\nregion = eu-west-1\n\n[profile me]\n# who\nlogin_session = old\noutput = json\n\n[profile other]\nregion = x\n";
        let out = super::with_values(
            text,
            "me",
            &[("login_session", "arn:new"), ("region", "us-east-1")],
        );
        assert_eq!(
            out,
            "# mine\n[default]\nregion = eu-west-1\n\n[profile me]\n# who\nlogin_session = arn:new\noutput = json\nregion = us-east-1\n\n[profile other]\nregion = x\n"
        );
        let out = super::with_values(text, "new", &[("login_session", "arn:a")]);
        assert_eq!(
            out,
            format!("{text}\n[profile new]\nlogin_session = arn:a\n")
        );
        assert_eq!(
            super::with_values("", "default", &[("a", "b")]),
            "[default]\na = b\n"
        );
        assert_eq!(super::with_values(text, "me", &[("output", "json")]), text);
    }

    use super::*;

    #[test]
    fn chains_bindings_and_loops() {
        let f = AwsFiles::from_strings(
            "[profile base]\nop_aws_item = acme\nregion = eu-west-1\n\
             [profile admin]\nrole_arn = arn:aws:iam::1:role/Admin\nsource_profile = base\n\
             [profile top]\nrole_arn = arn:aws:iam::1:role/Top\nsource_profile = admin\n\
             [profile a]\nrole_arn = arn:aws:iam::1:role/A\nsource_profile = b\n\
             [profile b]\nrole_arn = arn:aws:iam::1:role/B\nsource_profile = a\n\
             [profile nosource]\nsource_profile = a\n\
             [profile sso]\nsso_session = corp\n\
             [profile oversso]\nrole_arn = arn:aws:iam::1:role/O\nsource_profile = sso\n",
            "[plain]\naws_access_key_id = AKIA\n",
        )
        .unwrap();
        let top = f.resolve_chain("top").unwrap();
        assert_eq!(top.profiles(), ["top", "admin", "base"]);
        assert_eq!(top.roles, ["admin", "top"]);
        assert_eq!(
            top.base,
            Base::Item {
                profile: "base".into(),
                item: "acme".into()
            }
        );
        assert!(
            f.resolve_chain("a")
                .unwrap_err()
                .to_string()
                .contains("loop")
        );
        // source_profile without a role is ignored, as in the SDKs.
        assert_eq!(
            f.resolve_chain("nosource").unwrap().base,
            Base::ItemInEffect {
                profile: "nosource".into()
            }
        );
        assert!(f.resolve_chain("sso").unwrap().is_handover());
        assert!(f.resolve_chain("oversso").unwrap().is_handover());
        assert!(!f.resolve_chain("admin").unwrap().is_handover());
        assert!(
            f.resolve_chain("plain")
                .unwrap_err()
                .to_string()
                .contains("no aws_secret_access_key")
        );
        assert_eq!(
            f.profile_names(),
            [
                "a", "admin", "b", "base", "nosource", "oversso", "plain", "sso", "top"
            ]
        );
    }

    /// Found by the `aws_files` fuzz target: an indented line after `source_profile` is part
    /// of its value (as every SDK reads it), and the error named the whole value.
    #[test]
    fn indented_lines_of_a_value_stay_out_of_errors() {
        let f = AwsFiles::from_strings(
            "[profile dev]\nrole_arn = arn:aws:iam::1:role/R\nsource_profile = base\n  \
             aws_secret_access_key = wJalrSECRET\n",
            "",
        )
        .unwrap();
        let e = f.resolve_chain("dev").unwrap_err().to_string();
        assert!(!e.contains("wJalrSECRET"), "{e}");
        assert!(
            e.contains("\"base\" (and the indented lines after it) does not exist"),
            "{e}"
        );
    }
}
