//! Which item, and which credentials, a command gets here. The environment and the directory
//! are parameters, not read from the process, because the nushell plugin outlives any one call
//! and answers for its caller's `$env` and `$env.PWD`.

use std::path::Path;

use crate::awsfiles::AwsFiles;
use crate::creds::Credentials;
use crate::ctx::Ctx;
use crate::item::Item;
use crate::scope::{self, Applied, Defaults, Scope};
use crate::{Result, sts};

/// Where a command runs: the session item (`OP_AWS_SESSION_ITEM`) and the directory.
pub struct Here<'a> {
    pub session: Option<&'a str>,
    pub cwd: &'a Path,
}

/// The item in effect without asking anyone: `--item` > a profile bound with `op_aws_item` >
/// session > the nearest directory > global. `None` when nothing applies.
pub fn item_in_effect(
    ctx: &Ctx,
    flag: Option<&str>,
    files: Option<&AwsFiles>,
    profile: Option<&str>,
    here: &Here<'_>,
) -> Result<Option<Applied>> {
    if let Some(i) = flag {
        return Ok(Some(Applied {
            item: i.to_owned(),
            scope: Scope::Flag,
            export: false,
        }));
    }
    if let (Some(f), Some(p)) = (files, profile)
        && let Some(i) = f.bound_item(p)?
    {
        return Ok(Some(Applied {
            item: i,
            scope: Scope::Profile(p.to_owned()),
            export: false,
        }));
    }
    let defaults = Defaults::load(&ctx.dirs)?;
    Ok(scope::applicable(&defaults, here.cwd, here.session)
        .into_iter()
        .next())
}

/// The credentials `item` yields for `profile` (temporary ones when the profile's chain needs
/// STS), and the region: the profile's, else the item's.
pub fn credentials(
    ctx: &Ctx,
    item: &Item,
    files: Option<&AwsFiles>,
    profile: Option<&str>,
) -> Result<(Credentials, Option<String>)> {
    let keys = item.access_keys()?;
    let temporary = match (files, profile) {
        (Some(f), Some(p)) => sts::credentials_for_profile(ctx, item, f, p)?,
        _ => None,
    };
    let region = profile
        .and_then(|p| files.and_then(|f| f.region(p)))
        .map(str::to_owned)
        .or_else(|| keys.region.clone());
    Ok((
        temporary.unwrap_or_else(|| Credentials::from(&keys)),
        region,
    ))
}
