use anyhow::Context;
use op_aws::caller::Caller;
use op_aws::change::{self, Target};
use op_aws::ctx::Ctx;
use op_aws::model::env::EnvChanges;
use op_aws::model::scope::Scope;
use op_aws::scope::SESSION_VAR;
use op_aws::shell;

/// Make ITEM the default: for this terminal (default), a directory and below, or everywhere.
#[derive(clap::Args)]
pub struct Args {
    /// The item (a name in the vault, or op://Vault/Item).
    item: String,
    /// This terminal only (the default); needs the shell integration.
    #[arg(long, group = "where")]
    session: bool,
    /// DIR (default: the current directory) and everything below it.
    #[arg(long, group = "where", value_name = "DIR", num_args = 0..=1, default_missing_value = ".")]
    directory: Option<std::path::PathBuf>,
    /// Everywhere.
    #[arg(long, group = "where")]
    global: bool,
    /// With --directory: export the keys into the shell while inside it (for unwrapped tools).
    #[arg(long, requires = "directory")]
    export: bool,
}

impl Args {
    pub fn run(self, caller: Caller) -> anyhow::Result<()> {
        let ctx = Ctx::new(caller)?;
        let target = match (&self.directory, self.global) {
            (Some(dir), _) => Target::Directory {
                dir,
                export: self.export,
            },
            (None, true) => {
                op_aws::policy::may_change(&ctx, "use --global", Some(&self.item))?;
                Target::Global
            }
            (None, false) => Target::Session,
        };
        let used = change::use_item(&ctx, &self.item, target)
            .with_context(|| format!("cannot use {:?}", self.item))?;
        let item = &used.item;
        match &used.scope {
            Scope::Directory(dir) => eshow!(
                "op-aws: {item} is the default in {} and below",
                dir.display()
            ),
            Scope::Global => eshow!("op-aws: {item} is the global default"),
            _ => match ctx.caller.calling_shell() {
                Some(sh) => {
                    let mut change = EnvChanges::default();
                    change.set(SESSION_VAR, item);
                    print!("{}", change.render(sh.into()));
                }
                None => {
                    eshow!(
                        "op-aws: this terminal was not changed: the shell integration is not loaded"
                    );
                    eshow!(
                        "hint: add `eval \"$(op-aws activate bash)\"` (or zsh, fish, nu) to your shell's rc file, or run: export {SESSION_VAR}={}",
                        shell::quote_posix(item)
                    );
                    return Err(super::SilentExit(1).into());
                }
            },
        }
        Ok(())
    }
}
