use op_aws::{agent, dirs::Dirs};

/// [internal] The agent process, started by `op-aws unlock`.
#[derive(clap::Args)]
#[command(hide = true)]
pub struct Args {}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        agent::serve(&Dirs::from_env()?)?;
        Ok(())
    }
}
