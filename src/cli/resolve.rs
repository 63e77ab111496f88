//! Choosing the item and the credentials for a command: shared by run, export and
//! credential-process so the three can never disagree.

use anyhow::Context;
use op_aws::awsfiles::AwsFiles;
use op_aws::creds::Credentials;
use op_aws::ctx::Ctx;
use op_aws::scope::{self, Applied, Scope};
use op_aws::{Error, prompt, store};

/// The item in effect: `--item` > profile binding > session > directory > global; with
/// none, a picker on a terminal, else an error naming `op-aws use`.
pub fn choose_item(
    ctx: &Ctx,
    flag: Option<&str>,
    files: Option<&AwsFiles>,
    profile: Option<&str>,
) -> anyhow::Result<Applied> {
    let cwd = scope::cwd()?;
    let session = scope::session_item();
    let here = op_aws::resolve::Here {
        session: session.as_deref(),
        cwd: &cwd,
    };
    if let Some(a) = op_aws::resolve::item_in_effect(ctx, flag, files, profile, &here)? {
        return Ok(a);
    }
    if prompt::interactive() {
        let titles = store::list_titles(ctx).context("cannot list the items")?;
        if titles.is_empty() {
            anyhow::bail!(
                "the vault has no items\nhint: add one with `op-aws import` or `op-aws item add NAME`"
            );
        }
        let i = prompt::pick(
            "op-aws: no item is chosen here; use which one for this command?",
            &titles,
        )?;
        eprintln!(
            "op-aws: to stop asking, run `op-aws use {}` (add --directory or --global)",
            titles[i]
        );
        return Ok(Applied {
            item: titles[i].clone(),
            scope: Scope::Flag,
            export: false,
        });
    }
    Err(Error::NoDefault.into())
}

/// The profile in effect: the flag, else `AWS_PROFILE`.
pub fn profile_in_effect(flag: Option<String>) -> Option<String> {
    flag.or_else(|| std::env::var("AWS_PROFILE").ok())
        .filter(|p| !p.is_empty())
}

/// The AWS files, loaded only when a profile is in play (they cost a parse).
pub fn files_for(profile: Option<&str>) -> anyhow::Result<Option<AwsFiles>> {
    match profile {
        Some(_) => Ok(Some(
            AwsFiles::load().context("cannot read the AWS config")?,
        )),
        None => Ok(None),
    }
}

pub struct Resolved {
    pub creds: Credentials,
    /// The profile's region, else the item's.
    pub region: Option<String>,
}

pub fn credentials(
    ctx: &Ctx,
    item_flag: Option<&str>,
    profile: Option<&str>,
    files: Option<&AwsFiles>,
) -> anyhow::Result<Resolved> {
    let applied = choose_item(ctx, item_flag, files, profile)?;
    let item = store::get_item(ctx, &applied.item)
        .with_context(|| format!("cannot read item {:?} ({})", applied.item, applied.scope))?;
    let (creds, region) = op_aws::resolve::credentials(ctx, &item, files, profile)
        .with_context(|| format!("cannot get credentials from item {:?}", applied.item))?;
    Ok(Resolved { creds, region })
}
