//! `op-aws hook-env --shell S`: what the cd hook evaluates. It sets the prompt-facing state
//! (`OP_AWS_ITEM`, `OP_AWS_SCOPE`, the expiry of a cached STS session) and, in a directory
//! whose default was made with `--export`, the keys themselves.
//!
//! It runs on every directory change, so it stays cheap and offline: it reads
//! `defaults.json` (and the AWS files only when `AWS_PROFILE` is set), never the vault, `op`
//! or the network. The one exception is opt-in export mode, which asks a running agent and
//! never prompts. It prints only what differs from its environment.
//!
//! Output: `export`/`unset` lines for bash and zsh, `set -gx`/`set -e` for fish, and for nu a
//! JSON record whose `null` values mean "hide-env".

use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use op_aws::awsfiles::AwsFiles;
use op_aws::config::StoreKind;
use op_aws::ctx::Ctx;
use op_aws::item::AccessKeys;
use op_aws::resolve::{Here, item_in_effect};
use op_aws::scope::{self, Applied, Scope};
use op_aws::shell::{self, Shell};
use op_aws::{store, sts};
use secrecy::ExposeSecret;

/// [internal] What the shell integration's cd hook evaluates.
#[derive(clap::Args)]
#[command(hide = true)]
pub struct Args {
    #[arg(long, value_enum)]
    shell: Shell,
}

/// The variables hook-env set beyond OP_AWS_ITEM/SCOPE, space-separated, so that it unsets
/// exactly those (and never a key the user exported themselves) on leaving.
const OWNED: &str = "__OP_AWS_VARS";
/// `ITEM@DIR` of the export-mode default whose keys are in the shell now.
const EXPORTED: &str = "__OP_AWS_EXPORT";
/// `ITEM@DIR` we already warned about (locked vault), so moving around below DIR is quiet.
const WARNED: &str = "__OP_AWS_EXPORT_WARNED";

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        let ctx = Ctx::from_env()?;
        let cwd = scope::cwd()?;
        let profile = std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty());
        // An unreadable AWS config is left for `run` to report: the prompt stays quiet.
        let files = profile.as_ref().and_then(|_| AwsFiles::load().ok());
        let session = scope::session_item();
        let here = Here {
            session: session.as_deref(),
            cwd: &cwd,
        };
        let applied = item_in_effect(&ctx, None, files.as_ref(), profile.as_deref(), &here)?;

        let mut out = Output::new(self.shell);
        match &applied {
            Some(a) => {
                out.set("OP_AWS_ITEM", &a.item);
                out.set("OP_AWS_SCOPE", a.scope.name());
            }
            None => {
                out.unset("OP_AWS_ITEM");
                out.unset("OP_AWS_SCOPE");
            }
        }

        let old_owned: Vec<String> = env(OWNED)
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        // Owned variables wanted now: Some(value) to set, None to keep what the shell has.
        let mut owned: Vec<(&'static str, Option<String>)> = Vec::new();
        let export = applied.as_ref().and_then(export_id);
        match &export {
            Some(id) if env(EXPORTED) == *id => {
                for k in KEY_VARS {
                    if old_owned.iter().any(|o| o == k) {
                        owned.push((k, None));
                    }
                }
            }
            Some(id) => {
                let item = &applied.as_ref().expect("export implies an item").item;
                match read_keys(&ctx, item) {
                    Ok(keys) => {
                        owned.extend(key_vars(&keys, &old_owned));
                        out.unset("AWS_SESSION_TOKEN");
                        out.unset("AWS_SECURITY_TOKEN");
                        out.set(EXPORTED, id);
                        out.unset(WARNED);
                    }
                    Err(why) => {
                        if env(WARNED) != *id {
                            eprintln!("op-aws: {item}'s keys are not exported here: {why}");
                            out.set(WARNED, id);
                        }
                        out.unset(EXPORTED);
                    }
                }
            }
            None => {
                out.unset(EXPORTED);
                out.unset(WARNED);
            }
        }
        if let (Some(a), Some(p)) = (&applied, &profile)
            && let Some(exp) = cached_session_expiry(&ctx, &a.item, p)
        {
            owned.push((
                "AWS_CREDENTIAL_EXPIRATION",
                Some(humantime::format_rfc3339_seconds(exp).to_string()),
            ));
        }

        for k in &old_owned {
            if !owned.iter().any(|(o, _)| o == k) && is_ownable(k) {
                out.unset(k);
            }
        }
        for (k, v) in &owned {
            if let Some(v) = v {
                out.set(k, v);
            }
        }
        let names: Vec<&str> = owned.iter().map(|(k, _)| *k).collect();
        if names.is_empty() {
            out.unset(OWNED);
        } else {
            out.set(OWNED, &names.join(" "));
        }
        out.finish()
    }
}

/// The exported keys' variables: only these (and the expiry) are ever unset for the user.
const KEY_VARS: [&str; 4] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
];

fn is_ownable(k: &str) -> bool {
    KEY_VARS.contains(&k) || k == "AWS_CREDENTIAL_EXPIRATION"
}

fn env(k: &str) -> String {
    std::env::var(k).unwrap_or_default()
}

fn export_id(a: &Applied) -> Option<String> {
    match &a.scope {
        Scope::Directory(d) if a.export => Some(format!("{}@{}", a.item, d.display())),
        _ => None,
    }
}

/// The keys, from a running agent only: entering a directory is not an explicit action, so
/// it must never prompt, start anything or wait on `op`.
fn read_keys(ctx: &Ctx, item: &str) -> Result<AccessKeys, String> {
    let held = store::held_item(ctx, item).map_err(|e| e.to_string())?;
    let found = held.ok_or_else(|| match store::store_of(ctx, item) {
        StoreKind::OnePassword => format!(
            "{item} is not in the agent yet; run any wrapped command (or `op-aws unlock` first)"
        ),
        StoreKind::Local => "the vault is locked; run `op-aws unlock`".to_owned(),
    })?;
    found.access_keys().map_err(|e| e.to_string())
}

/// Keys plus the item's region, unless the shell has a region of its own (one we did not set).
fn key_vars(keys: &AccessKeys, old_owned: &[String]) -> Vec<(&'static str, Option<String>)> {
    let mut v = vec![
        ("AWS_ACCESS_KEY_ID", Some(keys.access_key_id.clone())),
        (
            "AWS_SECRET_ACCESS_KEY",
            Some(keys.secret_access_key.expose_secret().to_owned()),
        ),
    ];
    let ours = |k: &str| old_owned.iter().any(|o| o == k);
    let shell_has_region = ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .iter()
        .any(|k| !ours(k) && std::env::var_os(k).is_some_and(|v| !v.is_empty()));
    if let Some(r) = keys.region.as_deref().filter(|_| !shell_has_region) {
        v.push(("AWS_REGION", Some(r.to_owned())));
        v.push(("AWS_DEFAULT_REGION", Some(r.to_owned())));
    }
    v
}

/// The expiry of a cached STS session for this item and profile, for prompts such as
/// starship's `aws` module. Reads only the cache's plaintext metadata (no secret, no unlock).
fn cached_session_expiry(ctx: &Ctx, item: &str, profile: &str) -> Option<SystemTime> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
    sts::cache::list(ctx)
        .ok()?
        .into_iter()
        .filter(|m| m.profile == profile && m.item.eq_ignore_ascii_case(item) && m.expiration > now)
        .map(|m| m.expiration)
        .max()
        .map(|e| UNIX_EPOCH + Duration::from_secs(e))
}

/// The statements to print, only for what differs from our environment.
struct Output {
    shell: Shell,
    text: String,
    nu: serde_json::Map<String, serde_json::Value>,
}

impl Output {
    fn new(shell: Shell) -> Self {
        Self {
            shell,
            text: String::new(),
            nu: serde_json::Map::new(),
        }
    }

    fn set(&mut self, k: &str, v: &str) {
        if std::env::var(k).is_ok_and(|cur| cur == v) {
            return;
        }
        match self.shell {
            Shell::Nu => {
                self.nu.insert(k.to_owned(), v.into());
            }
            sh => self.text.push_str(&shell::set_var(sh, k, v)),
        }
    }

    fn unset(&mut self, k: &str) {
        if std::env::var_os(k).is_none() {
            return;
        }
        match self.shell {
            Shell::Nu => {
                self.nu.insert(k.to_owned(), serde_json::Value::Null);
            }
            sh => self.text.push_str(&shell::unset_var(sh, k)),
        }
    }

    fn finish(self) -> anyhow::Result<()> {
        let mut stdout = std::io::stdout().lock();
        if self.shell == Shell::Nu {
            serde_json::to_writer(&mut stdout, &self.nu)?;
            writeln!(stdout)?;
        } else {
            stdout.write_all(self.text.as_bytes())?;
        }
        Ok(())
    }
}
