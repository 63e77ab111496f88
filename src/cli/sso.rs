use anyhow::Context;
use op_aws::awsfiles::AwsFiles;
use op_aws::caller::Caller;
use op_aws::ctx::Ctx;
use op_aws::sso::{self, populate};

/// IAM Identity Center: sign in once for every terminal and process; tokens kept encrypted.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

/// Which session: `--sso-session NAME`, or the one a profile uses.
#[derive(clap::Args)]
struct Which {
    /// The profile whose SSO session to use (default: AWS_PROFILE).
    #[arg(long, conflicts_with = "sso_session")]
    profile: Option<String>,
    /// An [sso-session NAME] of the AWS config.
    #[arg(long, value_name = "NAME")]
    sso_session: Option<String>,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// Sign in with the device flow: prints the address and code, opens the browser.
    Login {
        #[command(flatten)]
        which: Which,
        /// Only print the address and code (the device flow: the browser may be anywhere).
        #[arg(long)]
        no_browser: bool,
        /// The device flow (a code to check in any browser), not the authorization code that
        /// brings a browser on this machine back to 127.0.0.1; for SSH, WSL, a browser elsewhere.
        #[arg(long)]
        use_device_code: bool,
    },
    /// Forget the session's tokens (and the role sessions they gave).
    Logout {
        #[command(flatten)]
        which: Which,
    },
    /// The sessions op-aws holds tokens for: expiry, whether it can refresh. Never a token.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Write one profile per account and role into a marked block of the AWS config.
    Populate {
        #[arg(long, value_name = "NAME")]
        sso_session: Option<String>,
        /// Put before each profile name (default: the session's name and a dash).
        #[arg(long)]
        prefix: Option<String>,
        /// The profiles' region (default: the session's sso_region).
        #[arg(long)]
        region: Option<String>,
        /// Print the change as a diff; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

impl Which {
    fn session(&self, ctx: &Ctx, files: &AwsFiles) -> anyhow::Result<op_aws::model::sso::Session> {
        Ok(sso::session_for(
            ctx,
            files,
            self.sso_session.as_deref(),
            self.profile.as_deref(),
        )?)
    }
}

impl Args {
    pub fn run(self, caller: Caller) -> anyhow::Result<()> {
        let ctx = Ctx::new(caller)?;
        let files = AwsFiles::load_here(&ctx).context("cannot read the AWS config")?;
        match self.command {
            Sub::Login {
                which,
                no_browser,
                use_device_code,
            } => {
                let s = which.session(&ctx, &files)?;
                sso::login(&ctx, &files, &s, !no_browser, use_device_code)
                    .with_context(|| format!("cannot sign in to {}", s.name))?;
                Ok(())
            }
            Sub::Logout { which } => {
                let s = which.session(&ctx, &files)?;
                if sso::logout(&ctx, Some(&files), &s)? {
                    eprintln!("op-aws: signed out of {}", s.name);
                } else {
                    eprintln!("op-aws: not signed in to {}", s.name);
                }
                Ok(())
            }
            Sub::Status { json } => status(&ctx, json),
            Sub::Populate {
                sso_session,
                prefix,
                region,
                dry_run,
            } => {
                let s = sso::pick_session(&files, sso_session.as_deref(), None)?;
                let out = populate::populate(
                    &ctx,
                    &files,
                    &s,
                    &populate::Options {
                        prefix: prefix.as_deref(),
                        region: region.as_deref(),
                        dry_run,
                    },
                )
                .with_context(|| format!("cannot populate profiles from {}", s.name))?;
                for c in &out.clashes {
                    eprintln!(
                        "op-aws: left out {c}: a profile of that name exists outside the block"
                    );
                }
                if dry_run {
                    print!("{}", out.diff);
                    return Ok(());
                }
                let path = out.path.display();
                match (out.written, out.added.len(), out.removed.len()) {
                    (false, ..) => {
                        eprintln!("op-aws: {path} is up to date ({} profiles)", out.profiles)
                    }
                    (true, a, r) => eprintln!(
                        "op-aws: {path}: {} profiles from {} ({a} new, {r} removed)",
                        out.profiles, s.name
                    ),
                }
                Ok(())
            }
        }
    }
}

fn status(ctx: &Ctx, json: bool) -> anyhow::Result<()> {
    let sessions = sso::list(ctx)?;
    if json {
        return super::print_json(&sessions);
    }
    if sessions.is_empty() {
        eprintln!("op-aws: not signed in to any SSO session (run `op-aws sso login`)");
        return Ok(());
    }
    let now = sso::client::now_secs();
    for s in &sessions {
        let left = s.expires_at.saturating_sub(now);
        let state = if left == 0 {
            "expired".to_owned()
        } else {
            format!(
                "{} left",
                humantime::format_duration(std::time::Duration::from_secs(left / 60 * 60))
            )
        };
        println!(
            "{}  {}  {}  {state}, {}",
            s.session,
            s.start_url,
            s.region,
            if s.can_refresh {
                "refreshes itself"
            } else {
                "signs in again when it expires"
            }
        );
    }
    Ok(())
}
