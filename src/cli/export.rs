use op_aws::caller::Caller;
use op_aws::ctx::Ctx;
use op_aws::model::resolution::{Request, Want};
use op_aws::shell::Format;

/// Print the credentials for a shell (or a program) to load.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    which: super::Which,
    #[arg(long, value_enum, default_value = "sh")]
    format: Format,
}

impl Args {
    pub fn run(self, caller: Caller) -> anyhow::Result<()> {
        let ctx = Ctx::new(caller)?;
        let want = match self.format {
            Format::Json => Want::Credentials,
            _ => Want::Env { tool: "" },
        };
        let r = super::resolve_or_pick(
            &ctx,
            &Request {
                item: self.which.item.as_deref(),
                profile: self.which.profile.as_deref(),
                want,
                ask: op_aws::model::policy::Ask {
                    via: op_aws::model::policy::Via::Export,
                    ..Default::default()
                },
            },
        )?;
        match self.format.syntax() {
            Some(syntax) => print!("{}", r.env.render(syntax)),
            None => {
                let creds = r.creds.as_ref().expect("credentials were asked for");
                super::print_json(&creds.process_json())?;
            }
        }
        Ok(())
    }
}
