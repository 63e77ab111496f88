use op_aws::ctx::Ctx;

use super::resolve;

/// For `credential_process = op-aws credential-process --profile P` in ~/.aws/config.
#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    item: Option<String>,
    /// The profile being resolved (its role, MFA and op_aws_item apply).
    #[arg(long)]
    profile: Option<String>,
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        let ctx = Ctx::from_env()?;
        let files = resolve::files_for(self.profile.as_deref())?;
        // The profile's own credential_process is what called us: never follow it again.
        let r = resolve::credentials(
            &ctx,
            self.item.as_deref(),
            self.profile.as_deref(),
            files.as_ref(),
        )?;
        super::print_json(&super::export::credential_process_json(&r.creds))
    }
}
