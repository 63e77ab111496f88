use op_aws::caller::Caller;
use op_aws::ctx::Ctx;
use op_aws::resolve::{Request, Want};

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
    pub fn run(self, caller: Caller) -> anyhow::Result<()> {
        let ctx = Ctx::new(caller)?;
        let r = super::resolve_or_pick(
            &ctx,
            &Request {
                item: self.item.as_deref(),
                profile: self.profile.as_deref(),
                want: Want::Credentials,
            },
        )?;
        let creds = r.creds.as_ref().expect("credentials were asked for");
        super::print_json(&super::export::credential_process_json(creds))
    }
}
