use op_aws::agent;

/// Forget every secret now: the agent exits.
#[derive(clap::Args)]
pub struct Args {}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        let dirs = op_aws::dirs::Dirs::from_env()?;
        if !agent::lock(&dirs)? {
            eprintln!("op-aws: already locked");
        }
        Ok(())
    }
}
