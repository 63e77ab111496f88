use op_aws::caller::Caller;
use op_aws::ctx::Ctx;
use op_aws::model::resolution::{Request, Want};

/// For `credential_process = op-aws credential-process --profile P` in ~/.aws/config.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    which: super::Which,
}

impl Args {
    pub fn run(self, caller: Caller) -> anyhow::Result<()> {
        let ctx = Ctx::new(caller)?;
        let r = super::resolve_or_pick(
            &ctx,
            &Request {
                item: self.which.item.as_deref(),
                profile: self.which.profile.as_deref(),
                want: Want::Credentials,
                ask: op_aws::model::policy::Ask {
                    via: op_aws::model::policy::Via::CredentialProcess,
                    ..Default::default()
                },
            },
        )?;
        let creds = r.creds.as_ref().expect("credentials were asked for");
        super::print_json(&super::export::credential_process_json(creds))
    }
}
