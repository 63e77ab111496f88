use op_aws::caller::Caller;
use op_aws::ctx::Ctx;
use op_aws::model::resolution::{Request, Want};
use op_aws::resolve::resolve;
use op_aws::{prompt, rotate};

/// Rotate an item's IAM access key: a new key, checked, stored, then the old one deleted.
#[derive(clap::Args)]
pub struct Args {
    /// The item (default: the one in effect here).
    item: Option<String>,
    /// Do not ask first.
    #[arg(long, short)]
    yes: bool,
    /// Finish a rotation that stopped half-way.
    #[arg(long)]
    resume: bool,
}

impl Args {
    pub fn run(self, caller: Caller) -> anyhow::Result<()> {
        let ctx = Ctx::new(caller)?;
        op_aws::policy::may_change(&ctx, "rotate", self.item.as_deref())?;
        let name = match self.item {
            Some(i) => i,
            None => resolve(
                &ctx,
                &Request {
                    item: None,
                    profile: None,
                    want: Want::Here { peek: false },
                    ask: Default::default(),
                },
            )?
            .applied
            .map(|a| a.item)
            .ok_or(op_aws::Error::NoDefault)?,
        };
        if self.resume {
            let done = rotate::resume(&ctx, &name)?;
            eprintln!(
                "op-aws: {name} holds {} for {}; {} is deleted",
                done.new, done.user, done.old
            );
            return Ok(());
        }
        let prepared = rotate::prepare(&ctx, &name)?;
        if !self.yes {
            let age = prepared
                .old
                .created
                .and_then(|t| std::time::SystemTime::now().duration_since(t).ok())
                .map(|d| format!(", {} days old", d.as_secs() / 86_400))
                .unwrap_or_default();
            let asker = prompt::Asker::for_caller(&ctx.caller, &ctx.config);
            let question = format!(
                "replace {} (IAM user {}{age}) with a new key, then delete it?",
                prepared.old.id, prepared.user
            );
            let Some(answer) = asker.confirm(&ctx.caller, &question, false)? else {
                anyhow::bail!(
                    "not rotating {name}'s key without a terminal or pinentry to ask on\nhint: pass --yes"
                );
            };
            if !answer {
                eprintln!("op-aws: nothing changed");
                return Ok(());
            }
        }
        let done = prepared.execute(&ctx, |step| eprintln!("op-aws: {step}"))?;
        eprintln!(
            "op-aws: {name} now holds {} for {}; {} is deleted",
            done.new, done.user, done.old
        );
        Ok(())
    }
}
