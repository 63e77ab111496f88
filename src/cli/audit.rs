use op_aws::audit;
use op_aws::caller::Caller;
use op_aws::ctx::Ctx;

/// Every release of credentials (and every refusal): when, to which caller (person or agent),
/// which item, profile, role, session policy, expiry, and how it was approved.
#[derive(clap::Args)]
pub struct Args {
    /// Only entries this recent: a duration ("1h", "2d") or a time (RFC 3339).
    #[arg(long, value_name = "WHEN")]
    since: Option<String>,
    /// Only releases to (and refusals of) AI coding agents.
    #[arg(long)]
    agent: bool,
    /// One JSON object per entry, as the log holds them.
    #[arg(long)]
    json: bool,
}

impl Args {
    pub fn run(self, caller: Caller) -> anyhow::Result<()> {
        let ctx = Ctx::new(caller)?;
        let since = self.since.as_deref().map(audit::parse_since).transpose()?;
        let r = audit::query_settled(&ctx, since, self.agent)?;
        if r.damaged > 0 {
            eprintln!(
                "op-aws: skipped {} damaged line{} in {} (a write cut short)",
                r.damaged,
                if r.damaged == 1 { "" } else { "s" },
                audit::log_path(&ctx).display()
            );
        }
        if self.json {
            return super::print_json(&r.entries);
        }
        if r.entries.is_empty() {
            println!("no entries");
            return Ok(());
        }
        println!(
            "{:<20} {:<9} {:<18} {:<18} {:<14} {:<14} {:<16} {:<20} APPROVED",
            "TIME", "OUTCOME", "CALLER", "VIA", "ITEM", "PROFILE", "POLICY", "EXPIRES"
        );
        for e in &r.entries {
            let who = match &e.agent {
                Some(a) => format!("agent:{a}"),
                None => e.class.clone(),
            };
            let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
            println!(
                "{:<20} {:<9} {:<18} {:<18} {:<14} {:<14} {:<16} {:<20} {}",
                e.time,
                e.outcome,
                who,
                e.via,
                dash(&e.item),
                dash(&e.profile),
                e.policy,
                dash(&e.expires),
                e.approved
            );
        }
        Ok(())
    }
}
