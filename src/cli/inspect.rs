use op_aws::caller::Caller;
use op_aws::ctx::Ctx;
use op_aws::report;

/// What applies here: wrapped commands, whether the shell integration is loaded, and every
/// default with its scope, item and store. Never a secret.
#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    json: bool,
}

impl Args {
    pub fn run(self, caller: Caller) -> anyhow::Result<()> {
        let ctx = Ctx::new(caller)?;
        let r = report::inspect(&ctx)?;
        if self.json {
            return super::print_json(&r);
        }
        show!("wrapped:      {}", r.wrapped.join(", "));
        show!(
            "integration:  {}",
            r.integration
                .as_deref()
                .unwrap_or("not loaded in this shell")
        );
        if r.handover {
            show!(
                "profile:      {} is handed to the AWS tool, which signs in itself (no item applies)",
                r.profile.as_deref().unwrap_or_default()
            );
        }
        if r.defaults.is_empty() {
            show!("defaults:     none here (choose one with `op-aws use ITEM`)");
        }
        for d in &r.defaults {
            let place = match (&d.path, &d.profile) {
                (Some(p), _) => p.display().to_string(),
                (_, Some(p)) => format!("profile {p}, {}", d.store),
                _ => d.store.to_owned(),
            };
            show!(
                "{} {:<10} {} [{place}]",
                if d.active { "*" } else { " " },
                d.scope,
                d.item,
            );
        }
        println!("caller:       {}", r.caller.class);
        println!(
            "agents:       {} ({}; a profile's op_aws_agents or an item's Agents field may refine it)",
            r.caller.agents_policy, r.caller.agents_policy_from
        );
        if let Some(p) = &r.project {
            show!("project file: {} ({})", p.path.display(), p.trust);
            if let Some(n) = &p.notice {
                show!("              {n}");
            }
            if !p.profiles.is_empty() {
                show!("              profiles: {}", p.profiles.join(", "));
            }
        }
        if let Some(s) = &r.sso_session {
            show!("sso session:  {s} (signed in with op-aws; its role credentials, not an item)");
        }
        if r.chain.len() > 1 {
            show!("chain:        {}", r.chain.join(" -> "));
        }
        if let Some(region) = &r.region {
            show!("region:       {region}");
        }
        for m in &r.sessions {
            let name = m
                .session_name
                .as_deref()
                .map(|n| format!(" as {n}"))
                .unwrap_or_default();
            show!(
                "session:      {} {}{name} (item {}), {} left",
                m.profile,
                m.role_arn.as_deref().unwrap_or("MFA session"),
                m.item,
                humantime::format_duration(std::time::Duration::from_secs(
                    m.expires_in_secs / 60 * 60
                ))
            );
        }
        Ok(())
    }
}
