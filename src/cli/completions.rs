//! `op-aws completions SHELL`: op-aws's own completions, generated from the clap definition.
//! The same text is committed under `completions/`; a test fails when it is out of date.

use op_aws::caller::Caller;
use op_aws::shell::Shell;

/// Print the completion script for op-aws itself.
#[derive(clap::Args)]
pub struct Args {
    #[arg(value_enum)]
    shell: Shell,
}

impl Args {
    pub fn run(self, _caller: Caller) -> anyhow::Result<()> {
        let mut cmd = super::command();
        let out = &mut std::io::stdout().lock();
        match self.shell {
            Shell::Bash => {
                clap_complete::generate(clap_complete::Shell::Bash, &mut cmd, "op-aws", out)
            }
            Shell::Zsh => {
                clap_complete::generate(clap_complete::Shell::Zsh, &mut cmd, "op-aws", out)
            }
            Shell::Fish => {
                clap_complete::generate(clap_complete::Shell::Fish, &mut cmd, "op-aws", out)
            }
            Shell::Nu => {
                clap_complete::generate(clap_complete_nushell::Nushell, &mut cmd, "op-aws", out)
            }
        }
        Ok(())
    }
}
