use op_aws::caller::Caller;
use op_aws::link::client::Link;

/// Forget every secret now: the agent exits.
#[derive(clap::Args)]
pub struct Args {}

impl Args {
    pub fn run(self, caller: Caller) -> anyhow::Result<()> {
        let dirs = op_aws::dirs::Dirs::new(&caller)?;
        if !Link::to(&dirs).lock()? {
            eprintln!("op-aws: already locked");
        }
        Ok(())
    }
}
