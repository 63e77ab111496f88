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
        // A profile's item lives in the AWS config or the project file, and a project default
        // in the project file: files op-aws never edits.
        let (kept, removable): (Vec<_>, Vec<_>) = here
            .candidates
            .into_iter()
            .partition(|a| matches!(a.scope, Scope::Profile(_) | Scope::Project(_)));
        let first_kept = kept.first().filter(|k| {
            // Only one that would be in effect before anything clear removes.
            !self.all
                && (matches!(k.scope, Scope::Profile(_))
                    || removable
                        .first()
                        .is_none_or(|r| matches!(r.scope, Scope::Global)))
        });
        if let Some(b) = first_kept {
            anyhow::bail!(
                "{} applies here through {}, which clear does not edit\nhint: {}",
                b.item,
                b.scope,
                match &b.scope {
                    Scope::Project(d) => format!(
                        "run `op-aws untrust {}` to stop using the project file, or pass --all to remove the other defaults",
                        op_aws::shell::quote_posix(&d.to_string_lossy())
                    ),
                    _ => "remove the profile's item binding (op_aws_item, or its item in the project file), unset AWS_PROFILE, or pass --all to remove the other defaults".into(),
                }
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
        if !self.force {
            let list: Vec<String> = targets
                .iter()
                .map(|a| format!("{} ({})", a.item, a.scope))
                .collect();
            let question = format!("remove the default {}?", list.join(", "));
            // Nobody to ask (a script): removed as asked, as always.
            let asker = prompt::Asker::for_caller(&ctx.caller, &ctx.config);
            if asker.confirm(&ctx.caller, &question, true)? == Some(false) {
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
        for b in &kept {
            eprintln!("op-aws: {} still applies through {}", b.item, b.scope);
        }
        Ok(())
    }
}
