use std::collections::HashSet;

use anyhow::Context;
use op_aws::awsfiles::AwsFiles;
use op_aws::caller::Caller;
use op_aws::config::StoreKind;
use op_aws::ctx::Ctx;
use op_aws::import::{self, Import};
use op_aws::{plaintext, prompt};

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
    pub fn run(self, caller: Caller) -> anyhow::Result<()> {
        let ctx = Ctx::new(caller)?;
        let items = if self.from_env {
            vec![import::from_env(
                &ctx.caller,
                self.name.as_deref().unwrap_or("default"),
            )?]
        } else {
            let files = AwsFiles::load(&ctx.caller).context("cannot read the AWS files")?;
            let found = plaintext::scan(&ctx.caller).context("cannot read the AWS files")?;
            let profiles: Vec<String> = if self.all {
                plaintext::long_lived_profiles(&found)
            } else if self.profile.is_empty() {
                anyhow::bail!("say what to import: --profile P (repeatable), --all, or --from-env");
            } else {
                self.profile.clone()
            };
            import::from_profiles(&ctx.caller, &files, &found, &profiles, self.name.as_deref())?
        };
        let to = match self.store.as_deref() {
            Some("1password") => StoreKind::OnePassword,
            Some(_) => StoreKind::Local,
            None => ctx.config.store,
        };
        // A file that cannot be cleaned (a symlink, hard links) is refused before anything is
        // imported.
        let planned = if self.remove_plaintext {
            Some(import::plan_removal(&ctx, &imported_profiles(&items))?)
        } else {
            None
        };
        save(&ctx, &items, to)?;
        if let Some(planned) = planned {
            apply_removal(&ctx, planned, self.yes)?;
        }
        Ok(())
    }
}

/// Stores the items and says so.
pub fn save(ctx: &Ctx, items: &[Import], to: StoreKind) -> anyhow::Result<()> {
    let what = match to {
        StoreKind::Local => "cannot import",
        StoreKind::OnePassword => "cannot import into 1Password",
    };
    let names = import::save(ctx, items, to).context(what)?;
    eprintln!("op-aws: imported {}", names.join(", "));
    Ok(())
}

fn imported_profiles(items: &[Import]) -> HashSet<String> {
    items.iter().filter_map(|i| i.profile.clone()).collect()
}

/// Removes the imported profiles' key lines, asking first unless `yes`.
pub fn remove_plaintext(ctx: &Ctx, items: &[Import], yes: bool) -> anyhow::Result<()> {
    let planned = import::plan_removal(ctx, &imported_profiles(items))?;
    apply_removal(ctx, planned, yes)
}

fn apply_removal(ctx: &Ctx, planned: Vec<import::Removal>, yes: bool) -> anyhow::Result<()> {
    if planned.is_empty() {
        let path = op_aws::awsfiles::credentials_path(&ctx.caller)?;
        eprintln!(
            "op-aws: no key lines of those profiles in {} or {}",
            path.display(),
            op_aws::awsfiles::config_path(&ctx.caller)?.display()
        );
        return Ok(());
    }
    let what = planned
        .iter()
        .map(|r| format!("{} key lines from {}", r.lines, r.path.display()))
        .collect::<Vec<_>>()
        .join(" and ");
    if !yes {
        anyhow::ensure!(
            ctx.caller.terminal,
            "not removing {what} without a terminal to ask on\nhint: pass --yes"
        );
        if !prompt::confirm(&format!("remove {what}?"), false)? {
            eprintln!("op-aws: left the files as they were");
            return Ok(());
        }
    }
    for removal in planned {
        let path = removal.path.clone();
        removal
            .apply()
            .with_context(|| format!("cannot rewrite {}", path.display()))?;
    }
    eprintln!("op-aws: removed {what}");
    Ok(())
}
