use anyhow::Context;
use op_aws::ctx::Ctx;
use op_aws::scope::{self, SESSION_VAR};
use op_aws::shell::{self, Shell};
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

/// The shell the integration function runs us from (`__OP_AWS_SHELL`), if any.
pub fn calling_shell() -> Option<Shell> {
    match std::env::var("__OP_AWS_SHELL").ok()?.as_str() {
        "bash" => Some(Shell::Bash),
        "zsh" => Some(Shell::Zsh),
        "fish" => Some(Shell::Fish),
        "nu" => Some(Shell::Nu),
        _ => None,
    }
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        let ctx = Ctx::from_env()?;
        let item = store::existing_name(&ctx, &self.item)
            .with_context(|| format!("cannot use {:?}", self.item))?;
        if let Some(dir) = &self.directory {
            let dir = scope::normalize_dir(dir)?;
            scope::set_directory(&ctx.dirs, &dir, &item, self.export)?;
            eprintln!(
                "op-aws: {item} is the default in {} and below",
                dir.display()
            );
        } else if self.global {
            scope::set_global(&ctx.dirs, &item)?;
            eprintln!("op-aws: {item} is the global default");
        } else {
            match calling_shell() {
                Some(sh) => print!("{}", shell::set_var(sh, SESSION_VAR, &item)),
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
