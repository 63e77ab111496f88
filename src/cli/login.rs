//! `op-aws login`: the AWS console, signed in with the credentials `op-aws run` would use.

use std::time::Duration;

use anyhow::Context;
use op_aws::caller::Caller;
use op_aws::console::{self, Session};
use op_aws::ctx::Ctx;
use secrecy::ExposeSecret;

/// Open the AWS console signed in as the item or profile in effect (or print the sign-in URL).
#[derive(clap::Args)]
pub struct Args {
    /// The item to use, as `op-aws run --item`.
    #[arg(long)]
    item: Option<String>,
    /// The profile whose credentials sign in, as `op-aws run --profile` (default: AWS_PROFILE).
    #[arg(long)]
    profile: Option<String>,
    /// Print the sign-in URL (good for about 15 minutes) instead of opening a browser.
    #[arg(long)]
    print: bool,
    /// How long the console session lasts: 15m to 12h (36h with an IAM user's own keys).
    #[arg(long, value_parser = humantime::parse_duration)]
    duration: Option<Duration>,
    /// The console's region (default: the region `op-aws run` would use, else us-east-1).
    #[arg(long)]
    region: Option<String>,
    /// The console page to open, e.g. `s3/home` or `cloudwatch/home#logsV2:` (default: home).
    #[arg(long)]
    path: Option<String>,
}

impl Args {
    pub fn run(self, caller: Caller) -> anyhow::Result<()> {
        let ctx = Ctx::new(caller)?;
        let login = console::login(
            &ctx,
            &console::Request {
                item: self.item.as_deref(),
                profile: self.profile.as_deref(),
                region: self.region.as_deref(),
                path: self.path.as_deref(),
                duration: self.duration,
            },
        )
        .context("cannot sign in to the AWS console")?;
        let how = match login.session {
            Session::Role => "the role's session",
            Session::Federation => "a federation token of the IAM user",
        };
        if self.print {
            println!("{}", login.url.expose_secret());
            return Ok(());
        }
        match console::open(&ctx, &login) {
            Ok(()) => eprintln!(
                "op-aws: opened the AWS console ({}) for {}, with {how}",
                login.region, login.who
            ),
            Err(why) => {
                eprintln!(
                    "op-aws: could not open a browser ({why}); open this address within 15 minutes:"
                );
                println!("{}", login.url.expose_secret());
            }
        }
        Ok(())
    }
}
