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
    /// Write polkit's action dev.op-aws.unlock to /usr/share/polkit-1/actions (as root), so an
    /// idle agent holds the vault and asks system authentication instead of the passphrase.
    Polkit,
}

impl Args {
    pub fn run(self, _caller: Caller) -> anyhow::Result<()> {
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
