use anyhow::Context;
use op_aws::caller::Caller;
use op_aws::ctx::Ctx;
use op_aws::inject::EnvChanges;
use op_aws::scope::{self, SESSION_VAR};
use op_aws::shell;
use op_aws::store;

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
        let item = store::existing_name(&ctx, &self.item)
            .with_context(|| format!("cannot use {:?}", self.item))?;
        if let Some(dir) = &self.directory {
            let dir = scope::normalize_dir(dir, &ctx.caller.cwd)?;
            scope::set_directory(&ctx.dirs, &dir, &item, self.export)?;
            eprintln!(
                "op-aws: {item} is the default in {} and below",
                dir.display()
            );
        } else if self.global {
            scope::set_global(&ctx.dirs, &item)?;
            eprintln!("op-aws: {item} is the global default");
        } else {
            match ctx.caller.calling_shell() {
                Some(sh) => {
                    let mut change = EnvChanges::default();
                    change.set(SESSION_VAR, &item);
                    print!("{}", change.render(sh.into()));
                }
                None => {
                    eprintln!(
                        "op-aws: this terminal was not changed: the shell integration is not loaded"
                    );
                    eprintln!(
                        "hint: add `eval \"$(op-aws activate bash)\"` (or zsh, fish, nu) to your shell's rc file, or run: export {SESSION_VAR}={}",
                        shell::quote_posix(&item)
                    );
                    return Err(super::SilentExit(1).into());
                }
            }
        }
        Ok(())
    }
}
