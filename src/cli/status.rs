use op_aws::scope::{self, Defaults};
use op_aws::{agent, ctx::Ctx, vault};

/// Locked or unlocked, the store, and the item and scope in effect here.
#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    json: bool,
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        let ctx = Ctx::from_env()?;
        let agent = agent::status(&ctx.dirs)?;
        let defaults = Defaults::load(&ctx.dirs)?;
        let applied =
            scope::applicable(&defaults, &scope::cwd()?, scope::session_item().as_deref());
        let current = applied.first();
        let unlocked = agent.as_ref().is_some_and(|a| a.unlocked);
        if self.json {
            return super::print_json(&serde_json::json!({
                "store": ctx.config.store.name(),
                "vault": vault::exists(&ctx.dirs),
                "unlocked": unlocked,
                "agent": agent,
                "item": current.map(|a| &a.item),
                "scope": current.map(|a| a.scope.name()),
                "scope_path": current.and_then(|a| match &a.scope { scope::Scope::Directory(p) => Some(p), _ => None }),
            }));
        }
        println!("store:  {}", ctx.config.store.name());
        match &agent {
            _ if !vault::exists(&ctx.dirs)
                && ctx.config.store == op_aws::config::StoreKind::Local =>
            {
                println!("vault:  none (create one with `op-aws vault create`)");
            }
            Some(a) if a.unlocked => println!(
                "vault:  unlocked for {}, locks in {}",
                humantime::format_duration(std::time::Duration::from_secs(a.unlocked_secs)),
                humantime::format_duration(std::time::Duration::from_secs(a.expires_in_secs))
            ),
            _ if ctx.config.store == op_aws::config::StoreKind::OnePassword => match &agent {
                Some(a) => println!(
                    "agent:  running, {} cached read(s), forgets them in {}",
                    a.cached_entries,
                    humantime::format_duration(std::time::Duration::from_secs(a.expires_in_secs))
                ),
                None => println!(
                    "agent:  not running (every read calls `op`; `op-aws unlock` caches them)"
                ),
            },
            _ => println!("vault:  locked"),
        }
        match current {
            Some(a) => println!("item:   {} ({})", a.item, a.scope),
            None => println!("item:   none here (choose one with `op-aws use ITEM`)"),
        }
        Ok(())
    }
}
