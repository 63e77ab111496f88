use anyhow::Context;
use op_aws::caller::Caller;
use op_aws::polkit;

/// Install system integration that needs root: `setup polkit` (quick unlock).
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(clap::Subcommand)]
enum What {
    /// Install polkit's action for quick unlock (as root).
    ///
    /// Writes dev.op-aws.unlock.policy to /usr/share/polkit-1/actions, so that after the idle
    /// time the agent holds the vault and asks system authentication (your login password,
    /// fingerprint or security key) instead of forgetting it.
    Polkit,
}

impl Args {
    pub fn run(self, caller: Caller) -> anyhow::Result<()> {
        let ctx = op_aws::ctx::Ctx::new(caller)?;
        op_aws::policy::may_change(&ctx, "setup", None)?;
        match self.what {
            What::Polkit => {
                let done = polkit::install(std::path::Path::new(polkit::ACTIONS_DIR))
                    .context("cannot set up polkit")?;
                match done {
                    polkit::Installed::Wrote(p) => eshow!(
                        "op-aws: wrote {} (polkit action {}, every approval asks); quick unlock is on from the next `op-aws unlock`",
                        p.display(),
                        polkit::ACTION_ID
                    ),
                    polkit::Installed::Unchanged(p) => eshow!(
                        "op-aws: {} is installed already (polkit action {}); nothing changed",
                        p.display(),
                        polkit::ACTION_ID
                    ),
                }
                Ok(())
            }
        }
    }
}
