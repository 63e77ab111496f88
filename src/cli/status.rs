use std::time::Duration;

use op_aws::caller::Caller;
use op_aws::config::StoreKind;
use op_aws::ctx::Ctx;
use op_aws::report;

/// Locked or unlocked, the store, and the item and scope in effect here.
#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    json: bool,
}

impl Args {
    pub fn run(self, caller: Caller) -> anyhow::Result<()> {
        let ctx = Ctx::new(caller)?;
        let s = report::status(&ctx)?;
        if self.json {
            return super::print_json(&s);
        }
        let dur = |secs: u64| humantime::format_duration(Duration::from_secs(secs));
        show!("store:  {}", s.store);
        match &s.agent {
            _ if s.needs_vault() => {
                show!("vault:  none (create one with `op-aws vault create`)");
            }
            Some(a) if a.held => show!(
                "vault:  held (quick unlock: system authentication asks before it is used), forgotten in {}",
                dur(a.forgets_in_secs)
            ),
            Some(a) if a.unlocked && a.quick_unlock => show!(
                "vault:  unlocked for {}, held in {} unused, forgotten in {}",
                dur(a.unlocked_secs),
                dur(a.expires_in_secs),
                dur(a.forgets_in_secs)
            ),
            Some(a) if a.unlocked => show!(
                "vault:  unlocked for {}, locks in {}",
                dur(a.unlocked_secs),
                dur(a.expires_in_secs)
            ),
            _ if ctx.config.store == StoreKind::OnePassword => match &s.agent {
                Some(a) => show!(
                    "agent:  running, {} cached read(s), forgets them in {}",
                    a.cached_entries,
                    dur(a.expires_in_secs)
                ),
                None => show!(
                    "agent:  not running (every read calls `op`; `op-aws unlock` caches them)"
                ),
            },
            _ => show!("vault:  locked"),
        }
        if s.store == StoreKind::Local.name() && !s.needs_vault() {
            match &s.quick_unlock_off {
                None => println!(
                    "quick:  on (after the idle time, system authentication unlocks again)"
                ),
                Some(why) => println!("quick:  {why}"),
            }
        }
        match (&s.item, &s.scope) {
            _ if s.handover => show!(
                "item:   none: profile {} is handed to the AWS tool, which signs in itself",
                s.profile.as_deref().unwrap_or_default()
            ),
            (Some(item), Some(_)) => show!("item:   {item} ({})", super::scope_text(&s)),
            _ => show!("item:   none here (choose one with `op-aws use ITEM`)"),
        }
        println!("caller: {}", s.caller.class);
        println!(
            "agents: {} ({})",
            s.caller.agents_policy, s.caller.agents_policy_from
        );
        if let Some(r) = &s.region {
            let from = s.region_from.as_ref().map_or("", |f| match f {
                op_aws::model::resolution::RegionFrom::Shell => " (the shell's)",
                op_aws::model::resolution::RegionFrom::Profile => " (the profile's)",
                op_aws::model::resolution::RegionFrom::Item => " (the item's)",
            });
            show!("region: {r}{from}");
        }
        Ok(())
    }
}
