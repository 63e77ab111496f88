use op_aws::caller::Caller;
use op_aws::ctx::Ctx;
use op_aws::model::resolution::{Request, Want};

/// For `credential_process = op-aws credential-process --profile P` in ~/.aws/config.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    which: super::Which,
    /// A session for a harness's own model calls on Amazon Bedrock: its session policy allows
    /// only bedrock:InvokeModel* (and listing inference profiles), for a read-only agent too.
    #[arg(long)]
    bedrock: bool,
    /// `aws` (the credential_process JSON) or `claude-code` (Claude Code's
    /// awsCredentialExport: {"Credentials": {...}}).
    #[arg(long, value_enum, default_value_t = Format::Aws)]
    format: Format,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Aws,
    ClaudeCode,
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
                    model_calls: self.bedrock,
                    ..Default::default()
                },
            },
        )?;
        let creds = r.creds.as_ref().expect("credentials were asked for");
        let json = creds.process_json();
        match self.format {
            Format::Aws => super::print_json(&json),
            Format::ClaudeCode => {
                let mut c = json;
                if let Some(o) = c.as_object_mut() {
                    o.remove("Version");
                    o.remove("Expiration");
                }
                super::print_json(&serde_json::json!({ "Credentials": c }))
            }
        }
    }
}
