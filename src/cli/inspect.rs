use op_aws::ctx::Ctx;
use op_aws::scope::{self, Defaults};

/// What applies here: wrapped commands, whether the shell integration is loaded, and every
/// default with its scope, item and store. Never a secret.
#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    json: bool,
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        let ctx = Ctx::from_env()?;
        let defaults = Defaults::load(&ctx.dirs)?;
        let applied =
            scope::applicable(&defaults, &scope::cwd()?, scope::session_item().as_deref());
        let integration = op_aws::shell::integration();
        let wrapped = ctx.config.wrapped();
        let rows: Vec<_> = applied
            .iter()
            .enumerate()
            .map(|(i, a)| {
                serde_json::json!({
                    "item": a.item,
                    "scope": a.scope.name(),
                    "path": match &a.scope { scope::Scope::Directory(p) => Some(p), _ => None },
                    "store": op_aws::store::store_of(&ctx, &a.item).name(),
                    "active": i == 0,
                    "export": a.export,
                })
            })
            .collect();
        let now = op_aws::sts::cache::now_secs();
        let sessions: Vec<_> = op_aws::sts::cache::list(&ctx)?
            .into_iter()
            .filter(|m| m.expiration > now)
            .collect();
        if self.json {
            return super::print_json(&serde_json::json!({
                "wrapped": wrapped,
                "integration": integration,
                "defaults": rows,
                "sessions": sessions.iter().map(|m| serde_json::json!({
                    "profile": m.profile,
                    "role_arn": m.role_arn,
                    "item": m.item,
                    "expiration": humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_secs(m.expiration)).to_string(),
                })).collect::<Vec<_>>(),
            }));
        }
        println!("wrapped:      {}", wrapped.join(", "));
        println!(
            "integration:  {}",
            integration.as_deref().unwrap_or("not loaded in this shell")
        );
        if applied.is_empty() {
            println!("defaults:     none here (choose one with `op-aws use ITEM`)");
        }
        for (i, a) in applied.iter().enumerate() {
            println!(
                "{} {:<10} {} [{}]",
                if i == 0 { "*" } else { " " },
                a.scope.name(),
                a.item,
                match &a.scope {
                    scope::Scope::Directory(p) => p.display().to_string(),
                    _ => op_aws::store::store_of(&ctx, &a.item).name().to_owned(),
                }
            );
        }
        for m in &sessions {
            println!(
                "session:      {} {} (item {}), {} left",
                m.profile,
                m.role_arn.as_deref().unwrap_or("MFA session"),
                m.item,
                humantime::format_duration(std::time::Duration::from_secs(
                    (m.expiration - now) / 60 * 60
                ))
            );
        }
        Ok(())
    }
}
