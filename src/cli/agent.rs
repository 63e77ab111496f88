use op_aws::agent::process;
use op_aws::caller::Caller;
use op_aws::dirs::Dirs;

/// [internal] The agent process, started by `op-aws unlock`.
#[derive(clap::Args)]
#[command(hide = true)]
pub struct Args {}

impl Args {
    pub fn run(self, caller: Caller) -> anyhow::Result<()> {
        let dirs = Dirs::new(&caller)?;
        process::serve(&dirs, Some(caller))?;
        Ok(())
    }
}
