use op_aws::caller::Caller;
use op_aws::ctx::Ctx;
use op_aws::report;
use op_aws::sts::cache;

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
    pub fn run(self, caller: Caller) -> anyhow::Result<()> {
        let ctx = Ctx::new(caller)?;
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
    let rows = report::cache_rows(ctx)?;
    if json {
        return super::print_json(&rows);
    }
    if rows.is_empty() {
        println!("no cached sessions");
        return Ok(());
    }
    println!(
        "{:<20} {:<12} {:<16} {:<10} ROLE",
        "PROFILE", "KIND", "ITEM", "EXPIRES"
    );
    for m in &rows {
        println!(
            "{:<20} {:<12} {:<16} {:<10} {}",
            m.profile,
            m.kind,
            m.item,
            remaining(m.expires_in_secs),
            m.role_arn.as_deref().unwrap_or("-")
        );
    }
    Ok(())
}

fn remaining(s: u64) -> String {
    if s == 0 {
        return "expired".into();
    }
    if s >= 3600 {
        format!("in {}h{:02}m", s / 3600, (s % 3600) / 60)
    } else {
        format!("in {}m", s.div_ceil(60))
    }
}
