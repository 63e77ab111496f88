use anyhow::Context;
use op_aws::caller::Caller;
use op_aws::config::StoreKind;
use op_aws::config::{AgentTimes, MAX_LIFETIME};
use op_aws::{ctx::Ctx, prompt, unlock, vault};

/// Unlock the vault: the agent keeps it open until idle for --timeout (at most 12 hours).
#[derive(clap::Args)]
pub struct Args {
    /// Read the passphrase from the first line of stdin (no security key is tried).
    #[arg(long)]
    passphrase_stdin: bool,
    /// Ask for the passphrase without trying the security keys first.
    #[arg(long, conflicts_with = "passphrase_stdin")]
    passphrase: bool,
    /// Forget everything after this long unused, e.g. 10m, 1h.
    #[arg(long, value_parser = humantime::parse_duration)]
    timeout: Option<std::time::Duration>,
}

impl Args {
    pub fn run(self, caller: Caller) -> anyhow::Result<()> {
        let ctx = Ctx::new(caller)?;
        let idle = self.timeout.unwrap_or_else(|| ctx.config.agent_idle());
        anyhow::ensure!(idle.as_secs() >= 1, "--timeout must be at least one second");
        let idle = idle.min(MAX_LIFETIME);
        // Only an explicit --timeout overrides config.toml: without one, quick unlock holds
        // after hold_after (review finding 12; it used to pass agent_timeout always).
        let times = op_aws::sysauth::agent_times(&ctx.config, self.timeout.map(|_| idle));
        if ctx.config.store == StoreKind::OnePassword && !vault::exists(&ctx.dirs) {
            // Nothing to decrypt: the agent only remembers what `op` returns.
            ctx.agent
                .unlock(None, &AgentTimes::forget_when_idle(idle))
                .context("cannot start the agent")?;
            return Ok(());
        }
        vault::ensure_exists(&ctx.dirs).context("cannot unlock")?;
        let method = if self.passphrase_stdin {
            unlock::Method::Given(secrecy::SecretString::from(
                prompt::read_stdin_line()
                    .context("cannot read the passphrase")?
                    .as_str(),
            ))
        } else if self.passphrase {
            unlock::Method::Passphrase
        } else {
            unlock::Method::Keys
        };
        let why = unlock::why_locked(None, None);
        let id = unlock::open(&ctx, method, &why).context("cannot unlock")?;
        ctx.agent
            .unlock(Some(&id), &times)
            .context("cannot start the agent")?;
        Ok(())
    }
}
