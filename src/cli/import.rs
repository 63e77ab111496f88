use std::collections::HashSet;
use std::os::unix::fs::PermissionsExt;

use anyhow::Context;
use op_aws::awsfiles::{self, AwsFiles};
use op_aws::ctx::Ctx;
use op_aws::item::{self, Item};
use op_aws::{Error, fsutil, import, onepassword, prompt, store, vault};

/// Import plaintext keys from ~/.aws/credentials (or the environment) into the vault.
#[derive(clap::Args)]
pub struct Args {
    /// A profile to import (repeatable).
    #[arg(long, conflicts_with = "all")]
    profile: Vec<String>,
    /// Every profile with keys in the credentials file.
    #[arg(long)]
    all: bool,
    /// Import AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY from the environment.
    #[arg(long, conflicts_with_all = ["profile", "all", "remove_plaintext"])]
    from_env: bool,
    /// The item's name, for a single profile (default: the profile's name).
    #[arg(long)]
    name: Option<String>,
    /// Then delete exactly the imported key lines from the credentials file.
    #[arg(long)]
    remove_plaintext: bool,
    /// Do not ask before removing.
    #[arg(long, short)]
    yes: bool,
    /// [hidden] Where to put the items: local or 1password (default: the configured store).
    #[arg(long, hide = true, value_parser = ["local", "1password"])]
    store: Option<String>,
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        let ctx = Ctx::from_env()?;
        let files = AwsFiles::load().context("cannot read the AWS files")?;
        let mut items: Vec<(Option<String>, Item)> = Vec::new();
        if self.from_env {
            let id = std::env::var("AWS_ACCESS_KEY_ID")
                .ok()
                .filter(|s| !s.is_empty());
            let secret = std::env::var("AWS_SECRET_ACCESS_KEY")
                .ok()
                .filter(|s| !s.is_empty());
            let (Some(id), Some(secret)) = (id, secret) else {
                anyhow::bail!(
                    "nothing to import: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set"
                );
            };
            anyhow::ensure!(
                std::env::var_os("AWS_SESSION_TOKEN").is_none(),
                "the environment holds temporary credentials (AWS_SESSION_TOKEN is set); import long-lived keys"
            );
            let name = self.name.clone().unwrap_or_else(|| "default".into());
            let mut it = Item::new(&name);
            it.set(item::ACCESS_KEY_ID, id, false);
            it.set(item::SECRET_ACCESS_KEY, secret, true);
            if let Some(r) = op_aws::inject::shell_region() {
                it.set(item::DEFAULT_REGION, r, false);
            }
            items.push((None, it));
        } else {
            let profiles: Vec<String> = if self.all {
                files
                    .profile_names()
                    .into_iter()
                    .filter(|p| files.get(p, "aws_access_key_id").is_some())
                    .collect()
            } else if self.profile.is_empty() {
                anyhow::bail!("say what to import: --profile P (repeatable), --all, or --from-env");
            } else {
                self.profile.clone()
            };
            anyhow::ensure!(
                !profiles.is_empty(),
                "no profile in {} has keys",
                awsfiles::credentials_path()?.display()
            );
            anyhow::ensure!(
                self.name.is_none() || profiles.len() == 1,
                "--name needs exactly one profile"
            );
            for p in &profiles {
                let id = files.get(p, "aws_access_key_id");
                let secret = files.get(p, "aws_secret_access_key");
                let (Some(id), Some(secret)) = (id, secret) else {
                    anyhow::bail!(
                        "profile {p:?} has no aws_access_key_id and aws_secret_access_key"
                    );
                };
                anyhow::ensure!(
                    files.get(p, "aws_session_token").is_none(),
                    "profile {p:?} holds temporary credentials (aws_session_token); import long-lived keys"
                );
                let mut it = Item::new(self.name.as_deref().unwrap_or(p));
                it.set(item::ACCESS_KEY_ID, id.to_owned(), false);
                it.set(item::SECRET_ACCESS_KEY, secret.to_owned(), true);
                if let Some(r) = files.region(p) {
                    it.set(item::DEFAULT_REGION, r.to_owned(), false);
                }
                if let Some(m) = files.get(p, "mfa_serial") {
                    it.set(item::MFA_SERIAL, m.to_owned(), false);
                }
                items.push((Some(p.clone()), it));
            }
        }
        let to_1password = match self.store.as_deref() {
            Some(s) => s == "1password",
            None => ctx.config.store == op_aws::config::StoreKind::OnePassword,
        };
        if to_1password {
            import_1password(&ctx, &items)?;
        } else {
            import_local(&ctx, &items)?;
        }
        let profiles: HashSet<String> = items.iter().filter_map(|(p, _)| p.clone()).collect();
        if self.remove_plaintext && !profiles.is_empty() {
            remove_plaintext(&profiles, self.yes)?;
        }
        Ok(())
    }
}

fn import_local(ctx: &Ctx, items: &[(Option<String>, Item)]) -> anyhow::Result<()> {
    let id = store::identity(ctx)?;
    let titles: Vec<String> = items.iter().map(|(_, i)| i.title.clone()).collect();
    vault::update(&ctx.dirs, &id, |data| {
        for (_, it) in items {
            if data.find(&it.title).is_some() {
                return Err(Error::ItemExists(it.title.clone()));
            }
        }
        data.items.extend(items.iter().map(|(_, i)| i.clone()));
        Ok(())
    })
    .context("cannot import")?;
    eprintln!("op-aws: imported {}", titles.join(", "));
    Ok(())
}

/// Each item goes to `op item create` as a JSON template on its stdin: no key in argv.
fn import_1password(ctx: &Ctx, items: &[(Option<String>, Item)]) -> anyhow::Result<()> {
    let what = "cannot import into 1Password";
    let existing = onepassword::list_titles(ctx).context(what)?;
    for (_, it) in items {
        if existing.iter().any(|t| t.eq_ignore_ascii_case(&it.title)) {
            return Err(Error::ItemExists(it.title.clone())).context(what);
        }
    }
    for (_, it) in items {
        let name = onepassword::create_item(ctx, it).context(what)?;
        eprintln!("op-aws: imported {name}");
    }
    Ok(())
}

fn remove_plaintext(profiles: &HashSet<String>, yes: bool) -> anyhow::Result<()> {
    let path = awsfiles::credentials_path()?;
    let _lock = fsutil::lock_exclusive(&path)?;
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let text = String::from_utf8(bytes)
        .with_context(|| format!("{} is not UTF-8 text; left it as it is", path.display()))?;
    let (new, removed) = import::remove_key_lines(&text, profiles);
    if removed == 0 {
        eprintln!(
            "op-aws: no key lines of those profiles in {}",
            path.display()
        );
        return Ok(());
    }
    if !yes {
        anyhow::ensure!(
            prompt::interactive(),
            "not removing keys from {} without a terminal to ask on\nhint: pass --yes",
            path.display()
        );
        if !prompt::confirm(
            &format!("remove {removed} key lines from {}?", path.display()),
            false,
        )? {
            eprintln!("op-aws: left {} as it was", path.display());
            return Ok(());
        }
    }
    let mode = std::fs::metadata(&path)?.permissions().mode() & 0o7777;
    fsutil::write_atomic(&path, new.as_bytes(), mode)
        .context("cannot rewrite the credentials file")?;
    eprintln!(
        "op-aws: removed {removed} key lines from {}",
        path.display()
    );
    Ok(())
}
