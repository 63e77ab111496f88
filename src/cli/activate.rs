//! `op-aws activate SHELL`: the shell integration. The scripts are real files in
//! `bash-zsh-fish/`; the only dynamic part, the wrapped commands, goes in a variable prelude.

use op_aws::caller::Caller;
use std::io::Write;

use op_aws::config::{self, Config};
use op_aws::ctx::Ctx;
use op_aws::shell::{self, Shell};

const BASH: &str = include_str!("../../bash-zsh-fish/op-aws.bash");
const ZSH: &str = include_str!("../../bash-zsh-fish/op-aws.zsh");
const FISH: &str = include_str!("../../bash-zsh-fish/op-aws.fish");
const NU: &str = include_str!("../../bash-zsh-fish/op-aws.nu");

/// Print the shell integration: cd hook, wrapper functions, `aws --profile` completion.
#[derive(clap::Args)]
#[command(after_long_help = shell::install_help())]
pub struct Args {
    #[arg(value_enum)]
    shell: Shell,
}

impl Args {
    pub fn run(self, caller: Caller) -> anyhow::Result<()> {
        let script = render(self.shell, &wrapped(caller));
        std::io::stdout().lock().write_all(script.as_bytes())?;
        Ok(())
    }
}

/// The wrapped commands. A broken config must not leave the shell without its integration:
/// warn and fall back to the defaults (every other command reports the error itself).
fn wrapped(caller: Caller) -> Vec<String> {
    match Ctx::new(caller) {
        Ok(ctx) => ctx.config.wrapped(),
        Err(e) => {
            eprintln!("op-aws: activate: {e}; wrapping the default commands");
            Config::default().wrapped()
        }
    }
    .into_iter()
    // A wrapper named op-aws would replace the function that use/clear need.
    .filter(|n| config::is_executable_name(n) && n != "op-aws")
    .collect()
}

pub fn render(sh: Shell, wrapped: &[String]) -> String {
    let list = |q: fn(&str) -> String| wrapped.iter().map(|w| q(w)).collect::<Vec<_>>().join(" ");
    match sh {
        Shell::Bash => format!("__op_aws_wrapped=({})\n{BASH}", list(shell::quote_posix)),
        Shell::Zsh => format!(
            "typeset -ga __op_aws_wrapped\n__op_aws_wrapped=({})\n{ZSH}",
            list(shell::quote_posix)
        ),
        Shell::Fish => format!(
            "set -g __op_aws_wrapped {}\n{FISH}",
            list(shell::quote_fish)
        ),
        Shell::Nu => format!("{NU}{}", shell::nu_wrappers(wrapped)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use op_aws::config::DEFAULT_WRAPPED;

    #[test]
    fn prelude_lists_the_wrapped_commands() {
        let w: Vec<String> = DEFAULT_WRAPPED.iter().map(|s| (*s).to_owned()).collect();
        assert!(
            render(Shell::Bash, &w)
                .starts_with("__op_aws_wrapped=('aws' 'cdk' 'sam' 'eksctl' 'awslogs')\n")
        );
        assert!(render(Shell::Fish, &w[..1]).starts_with("set -g __op_aws_wrapped 'aws'\n"));
    }
}
