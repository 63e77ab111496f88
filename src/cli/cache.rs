use op_aws::ctx::Ctx;
use op_aws::sts::cache::{self, Meta};

/// See and flush cached temporary sessions (roles, MFA sessions). Never shows a secret.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// The cached sessions: profile, role, item and expiry.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Forget cached sessions, so the next command asks STS again.
    Clear {
        /// Only this profile's sessions.
        #[arg(long)]
        profile: Option<String>,
    },
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        let ctx = Ctx::from_env()?;
        match self.command {
            Sub::List { json } => list(&ctx, json),
            Sub::Clear { profile } => {
                let n = cache::clear(&ctx, profile.as_deref())?;
                eprintln!(
                    "op-aws: forgot {n} cached session{}",
                    if n == 1 { "" } else { "s" }
                );
                Ok(())
            }
        }
    }
}

fn list(ctx: &Ctx, json: bool) -> anyhow::Result<()> {
    let now = cache::now_secs();
    let entries = cache::list(ctx)?;
    if json {
        let rows: Vec<_> = entries.iter().map(|m| row(m, now)).collect();
        return super::print_json(&rows);
    }
    if entries.is_empty() {
        println!("no cached sessions");
        return Ok(());
    }
    println!(
        "{:<20} {:<12} {:<16} {:<10} ROLE",
        "PROFILE", "KIND", "ITEM", "EXPIRES"
    );
    for m in &entries {
        println!(
            "{:<20} {:<12} {:<16} {:<10} {}",
            m.profile,
            m.kind,
            m.item,
            remaining(m.expiration, now),
            m.role_arn.as_deref().unwrap_or("-")
        );
    }
    Ok(())
}

fn row(m: &Meta, now: u64) -> serde_json::Value {
    let exp = std::time::UNIX_EPOCH + std::time::Duration::from_secs(m.expiration);
    serde_json::json!({
        "key": m.key,
        "kind": m.kind,
        "profile": m.profile,
        "role_arn": m.role_arn,
        "item": m.item,
        "mfa_serial": m.mfa_serial,
        "expiration": humantime::format_rfc3339_seconds(exp).to_string(),
        "expires_in_secs": m.expiration.saturating_sub(now),
        "fresh": cache::is_fresh(m.expiration, now),
        "store": m.store,
    })
}

fn remaining(exp: u64, now: u64) -> String {
    if exp <= now {
        return "expired".into();
    }
    let s = exp - now;
    if s >= 3600 {
        format!("in {}h{:02}m", s / 3600, (s % 3600) / 60)
    } else {
        format!("in {}m", s.div_ceil(60))
    }
}
