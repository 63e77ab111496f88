use op_aws::ctx::Ctx;
use op_aws::prompt;
use op_aws::scope::{self, Defaults, SESSION_VAR, Scope};
use op_aws::shell;

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
    pub fn run(self) -> anyhow::Result<()> {
        let ctx = Ctx::from_env()?;
        let defaults = Defaults::load(&ctx.dirs)?;
        let applied =
            scope::applicable(&defaults, &scope::cwd()?, scope::session_item().as_deref());
        let targets: Vec<_> = if self.all {
            applied
        } else {
            applied.into_iter().take(1).collect()
        };
        if targets.is_empty() {
            eprintln!("op-aws: no default applies here");
            return Ok(());
        }
        if !self.force && prompt::interactive() {
            let list: Vec<String> = targets
                .iter()
                .map(|a| format!("{} ({})", a.item, a.scope))
                .collect();
            if !prompt::confirm(&format!("remove the default {}?", list.join(", ")), true)? {
                return Ok(());
            }
        }
        let sh = super::use_::calling_shell();
        let mut file_changes = Vec::new();
        for a in &targets {
            match &a.scope {
                Scope::Session => match sh {
                    Some(sh) => print!("{}", shell::unset_var(sh, SESSION_VAR)),
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
        Ok(())
    }
}
