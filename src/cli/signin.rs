use anyhow::Context;
use op_aws::awsfiles::AwsFiles;
use op_aws::caller::Caller;
use op_aws::ctx::Ctx;
use op_aws::error::printable;
use op_aws::signin::{self, Via};
use zeroize::Zeroizing;

/// Sign in with AWS Sign-In (`aws login`, console credentials): op-aws keeps the session
/// encrypted, refreshes it for every process, and serves the profile (roles on top included).
#[derive(clap::Args)]
pub struct Args {
    /// The profile to sign in; written to the AWS config as its login_session (default:
    /// AWS_PROFILE, else default).
    #[arg(long)]
    profile: Option<String>,
    /// The region to sign in to (default: the profile's region, else us-east-1).
    #[arg(long)]
    region: Option<String>,
    /// No browser on this machine (SSH): print the address to open on any device, then read
    /// the code the page shows.
    #[arg(long, conflicts_with_all = ["logout", "list"])]
    remote: bool,
    /// Forget the profile's session (its refresh token and key, and the role sessions made on
    /// it) instead of signing in.
    #[arg(long, conflicts_with_all = ["list", "region"])]
    logout: bool,
    /// The sessions op-aws holds: expiry, whether it can refresh. Never a token.
    #[arg(long, conflicts_with_all = ["profile", "region"])]
    list: bool,
}

impl Args {
    pub fn run(self, caller: Caller) -> anyhow::Result<()> {
        let ctx = Ctx::new(caller)?;
        let files = AwsFiles::load_here(&ctx).context("cannot read the AWS config")?;
        let profile = self
            .profile
            .clone()
            .or_else(|| ctx.caller.profile().map(str::to_owned))
            .unwrap_or_else(|| "default".to_owned());
        if self.list {
            return list(&ctx);
        }
        if self.logout {
            let arn = files.get(&profile, "login_session").ok_or_else(|| {
                op_aws::Error::bad_profile(&profile, "has no login_session".into())
            })?;
            if signin::logout(&ctx, arn)? {
                eprintln!("op-aws: signed out of {}", printable(arn.trim()));
            } else {
                eprintln!(
                    "op-aws: op-aws holds no session for {}",
                    printable(arn.trim())
                );
            }
            return Ok(());
        }
        let over_ssh = ["SSH_CONNECTION", "SSH_TTY"]
            .iter()
            .any(|v| ctx.caller.var(v).is_some());
        let remote = self.remote || over_ssh || op_aws::sso::browser_command(&ctx).is_none();
        let mut open = |url: &str| {
            eprintln!(
                "op-aws: sign in for profile {} in the browser; if none opens, open {}",
                printable(&profile),
                printable(url)
            );
            if let Err(why) = op_aws::sso::open_browser(&ctx, url) {
                eprintln!(
                    "op-aws: could not open a browser ({why}); open the address above yourself"
                );
            }
        };
        let mut ask = |url: &str| -> op_aws::Result<Zeroizing<String>> {
            eprintln!(
                "op-aws: open this address in a browser on any device and sign in:\n\n  {}\n",
                printable(url)
            );
            let code = op_aws::prompt::secret("op-aws: paste the code the page shows: ")?;
            Ok(Zeroizing::new(
                secrecy::ExposeSecret::expose_secret(&code).to_owned(),
            ))
        };
        let via = if remote {
            Via::Remote(&mut ask)
        } else {
            Via::Browser(&mut open)
        };
        let signed = signin::sign_in(&ctx, &files, &profile, self.region.as_deref(), via)
            .with_context(|| format!("cannot sign in profile {}", printable(&profile)))?;
        eprintln!(
            "op-aws: signed in as {} ({}); profile {} uses it: `op-aws run --profile {} -- aws sts get-caller-identity`",
            printable(&signed.login_session),
            signed.region,
            printable(&profile),
            op_aws::shell::word_posix(&profile)
        );
        Ok(())
    }
}

fn list(ctx: &Ctx) -> anyhow::Result<()> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let sessions = signin::list(ctx)?;
    if sessions.is_empty() {
        eprintln!(
            "op-aws: no aws login session held (`op-aws signin --profile P`, or `op-aws import --login`)"
        );
    }
    for m in sessions {
        let left = m.expires_at.saturating_sub(now);
        let state = match (left, m.can_refresh) {
            (0, false) => "ended: sign in again".to_owned(),
            (0, true) => "refreshed on next use".to_owned(),
            (s, _) => format!("credentials for {}m", s / 60),
        };
        println!(
            "{}\t{}\t{}\t{}",
            printable(&m.login_session),
            m.region,
            state,
            if m.can_refresh {
                "can refresh"
            } else {
                "cannot refresh"
            }
        );
    }
    Ok(())
}
