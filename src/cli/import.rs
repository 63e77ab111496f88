use std::collections::HashSet;
use std::path::PathBuf;

use anyhow::Context;
use op_aws::awsfiles::AwsFiles;
use op_aws::caller::Caller;
use op_aws::config::StoreKind;
use op_aws::ctx::Ctx;
use op_aws::error::printable;
use op_aws::import::{self, Import};
use op_aws::opplugin::{self, Imported};
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
    /// Do not ask before removing key lines or replacing a default.
    #[arg(long, short)]
    yes: bool,
    /// Turn the 1Password shell plugin's defaults into op-aws defaults naming the same items:
    /// its global default, and each DIR/.op/plugins/aws.json at or below DIR (default: your
    /// home). 1Password's files are left as they are.
    #[arg(
        long = "from-1password-plugin",
        value_name = "DIR",
        num_args = 0..,
        conflicts_with_all = ["profile", "all", "from_env", "name", "remove_plaintext", "store"]
    )]
    from_1password_plugin: Option<Vec<PathBuf>>,
    /// Adopt `aws login` sessions: each login_session profile's entry in the AWS CLI's cache
    /// (~/.aws/login/cache, or AWS_LOGIN_CACHE_DIRECTORY) is kept encrypted by op-aws and the
    /// plaintext file removed; with --profile, that profile's alone.
    #[arg(
        long,
        conflicts_with_all = ["all", "from_env", "name", "remove_plaintext", "store", "from_1password_plugin"]
    )]
    login: bool,
    /// [hidden] Where to put the items: local or 1password (default: the configured store).
    #[arg(long, hide = true, value_parser = ["local", "1password"])]
    store: Option<String>,
}

impl Args {
    pub fn run(self, caller: Caller) -> anyhow::Result<()> {
        let ctx = Ctx::new(caller)?;
        if let Some(dirs) = &self.from_1password_plugin {
            return from_1password_plugin(&ctx, dirs, self.yes);
        }
        if self.login {
            return from_login_cache(&ctx, &self.profile);
        }
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

/// `--from-1password-plugin`: one line per default made (or kept), one per file that could not
/// be used; a different op-aws default is replaced only after asking, or with `--yes`.
fn from_1password_plugin(ctx: &Ctx, dirs: &[PathBuf], yes: bool) -> anyhow::Result<()> {
    let mut replace = |old: &str, f: &opplugin::Found, place: &str| -> op_aws::Result<bool> {
        let (old, item) = (printable(old), &f.item);
        let from = printable(&f.source.display().to_string());
        let ask = || {
            prompt::confirm(
                &format!("op-aws: {old} is {place}; replace it with {item} (from {from})?"),
                false,
            )
        };
        Ok(yes || (ctx.caller.terminal && ask()?))
    };
    let import = opplugin::import(&ctx.dirs, &ctx.caller, dirs, &mut replace)?;
    if let Some(why) = import.nothing_found() {
        anyhow::bail!(why);
    }
    let mut failed = 0;
    let mut kept = 0;
    for (f, place, done) in &import.done {
        let from = printable(&f.source.display().to_string());
        let item = &f.item;
        match done {
            Imported::Already => eprintln!("op-aws: {item} is already {place} (from {from})"),
            Imported::Made { instead: Some(old) } => {
                let old = printable(old);
                eprintln!("op-aws: {item} is {place}, instead of {old} (from {from})")
            }
            Imported::Made { instead: None } => {
                eprintln!("op-aws: {item} is {place} (from {from})")
            }
            Imported::Kept { old } => {
                let old = printable(old);
                eprintln!("op-aws: kept {old} as {place}, not {item} (from {from})");
                kept += 1;
            }
            Imported::Failed(e) => {
                eprint!(
                    "{}",
                    op_aws::error::render(&format!("cannot import {from}: {e}"), None)
                );
                failed += 1;
            }
        }
    }
    let scan = &import.scan;
    for e in &scan.failed {
        eprint!("{}", op_aws::error::render(&e.to_string(), None));
        failed += 1;
    }
    if let Some(hint) = scan.failed.iter().find_map(op_aws::Error::hint) {
        eprintln!("hint: {hint}");
    }
    if kept > 0 {
        eprintln!(
            "hint: to replace op-aws's own defaults with 1Password's, run it again with --yes"
        );
    }
    if ctx.config.store != StoreKind::OnePassword && !scan.found.is_empty() {
        eprintln!(
            "op-aws: note: your store is {}: op:// items are read from 1Password all the same; to make 1Password the store for every name, add store = \"1password\" to {}",
            ctx.config.store.name(),
            printable(&ctx.dirs.config_file().display().to_string())
        );
    }
    if failed > 0 || kept > 0 {
        return Err(super::SilentExit(1).into());
    }
    Ok(())
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
        let asker = prompt::Asker::for_caller(&ctx.caller, &ctx.config);
        let answer = asker.confirm(&ctx.caller, &format!("remove {what}?"), false)?;
        let Some(answer) = answer else {
            anyhow::bail!(
                "not removing {what} without a terminal or pinentry to ask on\nhint: pass --yes"
            );
        };
        if !answer {
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

/// `import --login`: the AWS CLI's `aws login` sessions, adopted.
fn from_login_cache(ctx: &Ctx, profiles: &[String]) -> anyhow::Result<()> {
    let files = AwsFiles::load_here(ctx).context("cannot read the AWS config")?;
    let mut adopted = Vec::new();
    if profiles.is_empty() {
        adopted = op_aws::signin::adopt(ctx, &files, None)?;
    } else {
        for p in profiles {
            adopted.extend(op_aws::signin::adopt(ctx, &files, Some(p))?);
        }
    }
    if adopted.is_empty() {
        eprintln!(
            "op-aws: no aws login session to adopt (no login_session profile has an entry in the AWS CLI's cache)"
        );
    }
    for a in &adopted {
        eprintln!(
            "op-aws: adopted the aws login session {} (profile {}); removed {}",
            printable(&a.login_session),
            printable(&a.profiles.join(", ")),
            a.removed.display()
        );
    }
    Ok(())
}
