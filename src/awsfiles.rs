//! `~/.aws/config` and `~/.aws/credentials`, read with the AWS SDK's own parser so profile
//! rules (`[profile x]`, `[default]`, credentials-file precedence) match the SDKs exactly.

use std::collections::BTreeSet;
use std::path::PathBuf;

use aws_runtime::env_config::file::EnvConfigFiles;
use aws_runtime::env_config::section::EnvConfigSections;
use aws_runtime::env_config::source;
use aws_types::os_shim_internal::{Env, Fs};

use crate::{Error, Result};

pub struct AwsFiles {
    sections: EnvConfigSections,
}

/// The config file path, as the AWS CLI resolves it.
pub fn config_path() -> Result<PathBuf> {
    std::env::var_os("AWS_CONFIG_FILE")
        .filter(|v| !v.is_empty())
        .map_or_else(
            || crate::dirs::home().map(|h| h.join(".aws/config")),
            |p| Ok(expand_home(p.into())),
        )
}

/// The credentials file path, as the AWS CLI resolves it.
pub fn credentials_path() -> Result<PathBuf> {
    std::env::var_os("AWS_SHARED_CREDENTIALS_FILE")
        .filter(|v| !v.is_empty())
        .map_or_else(
            || crate::dirs::home().map(|h| h.join(".aws/credentials")),
            |p| Ok(expand_home(p.into())),
        )
}

fn expand_home(p: PathBuf) -> PathBuf {
    match (p.strip_prefix("~"), crate::dirs::home()) {
        (Ok(rest), Ok(home)) => home.join(rest),
        _ => p,
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
    /// Loads both files; missing files are empty, a malformed one is an error naming it.
    pub fn load() -> Result<Self> {
        Self::load_env(&Env::real())
    }

    /// Loads them as a process with another environment would (the nushell plugin's caller).
    pub fn load_with(get: crate::dirs::Lookup<'_>) -> Result<Self> {
        let vars: std::collections::HashMap<String, String> = [
            "HOME",
            "AWS_CONFIG_FILE",
            "AWS_SHARED_CREDENTIALS_FILE",
            "AWS_PROFILE",
        ]
        .into_iter()
        .filter_map(|k| Some((k.to_owned(), get(k)?.into_string().ok()?)))
        .collect();
        Self::load_env(&Env::from(vars))
    }

    fn load_env(env: &Env) -> Result<Self> {
        let files = EnvConfigFiles::default();
        let src = ready(source::load(env, &Fs::real(), &files)).map_err(|e| Error::BadConfig {
            path: config_path().unwrap_or_default(),
            why: e.to_string(),
        })?;
        Self::parse(src)
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
        Self::parse(src)
    }

    fn parse(src: source::Source) -> Result<Self> {
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
                    || (config_path().unwrap_or_default(), flat.clone()),
                    |(p, rest)| (PathBuf::from(p), format!("line {rest}")),
                );
            Error::BadConfig { path, why }
        })?;
        Ok(Self { sections })
    }

    pub fn profile_names(&self) -> Vec<String> {
        let set: BTreeSet<String> = self.sections.profiles().map(str::to_owned).collect();
        set.into_iter().collect()
    }

    pub fn has_profile(&self, name: &str) -> bool {
        self.sections.get_profile(name).is_some()
    }

    /// A key of a profile (keys are case-insensitive); empty values count as absent.
    pub fn get(&self, profile: &str, key: &str) -> Option<&str> {
        self.sections
            .get_profile(profile)
            .and_then(|p| p.get(key))
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }

    /// Profiles the AWS tools authenticate by themselves: SSO, credential_process, web identity.
    pub fn is_self_authenticating(&self, profile: &str) -> bool {
        [
            "sso_session",
            "sso_start_url",
            "credential_process",
            "web_identity_token_file",
        ]
        .iter()
        .any(|k| self.get(profile, k).is_some())
    }

    /// The `source_profile` chain starting at `profile` (itself first); loops are an error.
    pub fn chain(&self, profile: &str) -> Result<Vec<String>> {
        let mut chain = vec![profile.to_owned()];
        let mut cur = profile.to_owned();
        while let Some(next) = self.get(&cur, "source_profile") {
            // A profile naming itself with static keys is the CLI's way of saying "my own keys".
            if next == cur && self.get(&cur, "aws_access_key_id").is_some() {
                break;
            }
            if chain.iter().any(|p| p == next) {
                chain.push(next.to_owned());
                return Err(Error::Invalid(format!(
                    "profile {profile:?}: source_profile loop: {}",
                    chain.join(" -> ")
                )));
            }
            if !self.has_profile(next) {
                return Err(Error::Invalid(format!(
                    "profile {cur:?}: source_profile {next:?} does not exist"
                )));
            }
            chain.push(next.to_owned());
            cur = next.to_owned();
        }
        Ok(chain)
    }

    /// The item bound with `op_aws_item` nearest to `profile` in its `source_profile` chain.
    pub fn bound_item(&self, profile: &str) -> Result<Option<String>> {
        if !self.has_profile(profile) {
            return Ok(None);
        }
        Ok(self
            .chain(profile)?
            .iter()
            .find_map(|p| self.get(p, "op_aws_item").map(str::to_owned)))
    }

    pub fn region(&self, profile: &str) -> Option<&str> {
        self.get(profile, "region")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_bindings_and_loops() {
        let f = AwsFiles::from_strings(
            "[profile base]\nop_aws_item = acme\nregion = eu-west-1\n\
             [profile admin]\nrole_arn = arn:aws:iam::1:role/Admin\nsource_profile = base\n\
             [profile top]\nrole_arn = arn:aws:iam::1:role/Top\nsource_profile = admin\n\
             [profile a]\nsource_profile = b\n[profile b]\nsource_profile = a\n\
             [profile sso]\nsso_session = corp\n",
            "[plain]\naws_access_key_id = AKIA\n",
        )
        .unwrap();
        assert_eq!(f.chain("top").unwrap(), ["top", "admin", "base"]);
        assert_eq!(f.bound_item("top").unwrap().as_deref(), Some("acme"));
        assert!(f.chain("a").unwrap_err().to_string().contains("loop"));
        assert!(f.is_self_authenticating("sso"));
        assert!(!f.is_self_authenticating("admin"));
        assert_eq!(
            f.profile_names(),
            ["a", "admin", "b", "base", "plain", "sso", "top"]
        );
    }
}
