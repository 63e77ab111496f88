use op_aws::caller::Caller;
use op_aws::ctx::Ctx;

/// Check for plaintext keys, the shell integration, the agent, and the clock.
#[derive(clap::Args)]
pub struct Args {}

impl Args {
    pub fn run(self, caller: Caller) -> anyhow::Result<()> {
        let mut problems = 0;
        let ctx = Ctx::new(caller)?;
        op_aws::doctor::checks(&ctx, &mut |ok, what| {
            println!("{} {what}", if ok { "ok  " } else { "warn" });
            if !ok {
                problems += 1;
            }
        })?;
        if problems > 0 {
            return Err(super::SilentExit(1).into());
        }
        Ok(())
    }
}
