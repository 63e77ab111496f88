//! `op-aws hook-env --shell S`: what the cd hook evaluates ([`op_aws::hook`] decides it).
//!
//! Output: `export`/`unset` lines for bash and zsh, `set -gx`/`set -e` for fish, and for nu a
//! JSON record whose `null` values mean "hide-env".

use std::io::Write;

use op_aws::caller::Caller;
use op_aws::ctx::Ctx;
use op_aws::shell::Shell;

/// [internal] What the shell integration's cd hook evaluates.
#[derive(clap::Args, Debug)]
#[command(hide = true)]
pub struct Args {
    #[arg(long, value_enum)]
    shell: Shell,
}

impl Args {
    pub fn run(self, caller: Caller) -> anyhow::Result<()> {
        let ctx = Ctx::new(caller)?;
        let h = op_aws::hook::hook_env(&ctx)?;
        for w in &h.warnings {
            eshow!("op-aws: {w}");
        }
        let text = h.env.render(self.shell.into());
        std::io::stdout().lock().write_all(text.as_bytes())?;
        Ok(())
    }
}
