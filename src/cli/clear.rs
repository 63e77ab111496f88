use op_aws::caller::{Caller, SESSION_VAR};
use op_aws::ctx::Ctx;
use op_aws::inject::EnvChanges;
use op_aws::prompt;
use op_aws::scope::{self, Scope};

/// Remove the default in effect here (session, then directory, then global); --all removes all.
#[derive(clap::Args)]
pub struct Args {
    /// Remove every default that applies here.
    #[arg(long)]
    all: bool,
    /// Do not ask.
    #[arg(long, short)]
    force: bool,
}

impl Args {
    pub fn run(self, caller: Caller) -> anyhow::Result<()> {
        let ctx = Ctx::new(caller)?;
        let here = op_aws::report::here(&ctx)?;
        // A profile's op_aws_item lives in the AWS config, which op-aws never edits.
        let (bound, removable): (Vec<_>, Vec<_>) = here
            .candidates
            .into_iter()
            .partition(|a| matches!(a.scope, Scope::Profile(_)));
        if let Some(b) = bound.first()
            && !self.all
        {
            anyhow::bail!(
                "{} applies here through {} (op_aws_item in the AWS config), which clear does not edit\nhint: remove op_aws_item from that profile, unset AWS_PROFILE, or pass --all to remove the other defaults",
                b.item,
                b.scope
            );
        }
        let targets: Vec<_> = if self.all {
            removable
        } else {
            removable.into_iter().take(1).collect()
        };
        if targets.is_empty() {
            eprintln!("op-aws: no default applies here");
            return Ok(());
        }
        if !self.force && ctx.caller.terminal {
            let list: Vec<String> = targets
                .iter()
                .map(|a| format!("{} ({})", a.item, a.scope))
                .collect();
            if !prompt::confirm(&format!("remove the default {}?", list.join(", ")), true)? {
                return Ok(());
            }
        }
        let sh = ctx.caller.calling_shell();
        let mut shell_changes = EnvChanges::default();
        let mut file_changes = Vec::new();
        for a in &targets {
            match &a.scope {
                Scope::Session => match sh {
                    Some(_) => shell_changes.unset(SESSION_VAR),
                    None => {
                        eprintln!(
                            "op-aws: the session default {} lives in this shell: run `unset {SESSION_VAR}`",
                            a.item
                        );
                        return Err(super::SilentExit(1).into());
                    }
                },
                other => file_changes.push(other.clone()),
            }
            eprintln!("op-aws: removed {} ({})", a.item, a.scope);
        }
        scope::remove_stored(&ctx.dirs, &file_changes)?;
        if let (Some(sh), false) = (sh, shell_changes.is_empty()) {
            print!("{}", shell_changes.render(sh.into()));
        }
        for b in &bound {
            eprintln!(
                "op-aws: {} still applies through {} (op_aws_item in the AWS config)",
                b.item, b.scope
            );
        }
        Ok(())
    }
}
