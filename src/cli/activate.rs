//! `op-aws activate SHELL`: the shell integration. The scripts are real files in
//! `bash-zsh-fish/`; the dynamic parts, the wrapped commands and what 1Password's `plugins.sh`
//! aliases of them, go in a variable prelude.

use op_aws::caller::Caller;
use std::io::Write;

use op_aws::config::{self, Config};
use op_aws::ctx::Ctx;
use op_aws::opplugin::{self, Shadowing};
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
        let wrapped = wrapped(caller.clone());
        // Only the warnings depend on it: a HOME that cannot be read leaves them out.
        let shadow = opplugin::for_shell(&caller, self.shell, &wrapped).unwrap_or_default();
        let script = render(self.shell, &wrapped, &shadow);
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

/// The script with its prelude: the wrapped commands, and for the alias warnings the
/// `plugins.sh` that aliases some of them, those names, and the rc file that sources it.
pub fn render(sh: Shell, wrapped: &[String], shadow: &Shadowing) -> String {
    let list = |names: &[String], q: fn(&str) -> String| {
        names.iter().map(|w| q(w)).collect::<Vec<_>>().join(" ")
    };
    let path = |p: Option<&std::path::Path>| p.map(|p| p.to_string_lossy().into_owned());
    let plugins = path((!shadow.aliased.is_empty()).then_some(shadow.plugins_sh.as_path()));
    let plugins = plugins.unwrap_or_default();
    let rc = path(shadow.rc.as_deref()).unwrap_or_default();
    let aliased = &shadow.aliased;
    match sh {
        Shell::Bash | Shell::Zsh => {
            let q = shell::quote_posix;
            let typeset = if sh == Shell::Zsh {
                "typeset -ga __op_aws_wrapped __op_aws_op_aliased\ntypeset -g __op_aws_op_plugins __op_aws_op_rc\n"
            } else {
                ""
            };
            format!(
                "{typeset}__op_aws_wrapped=({})\n__op_aws_op_plugins={}\n__op_aws_op_aliased=({})\n__op_aws_op_rc={}\n{}",
                list(wrapped, q),
                q(&plugins),
                list(aliased, q),
                q(&rc),
                if sh == Shell::Zsh { ZSH } else { BASH }
            )
        }
        Shell::Fish => {
            let q = shell::quote_fish;
            format!(
                "set -g __op_aws_wrapped {}\nset -g __op_aws_op_plugins {}\nset -g __op_aws_op_aliased {}\nset -g __op_aws_op_rc {}\n{FISH}",
                list(wrapped, q),
                q(&plugins),
                list(aliased, q),
                q(&rc)
            )
        }
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
        let none = Shadowing::default();
        assert!(
            render(Shell::Bash, &w, &none)
                .starts_with("__op_aws_wrapped=('aws' 'cdk' 'sam' 'eksctl' 'awslogs')\n")
        );
        assert!(render(Shell::Fish, &w[..1], &none).starts_with("set -g __op_aws_wrapped 'aws'\n"));
        let shadow = Shadowing {
            rc: Some("/h/it's rc".into()),
            plugins_sh: "/h/.config/op/plugins.sh".into(),
            aliased: vec!["aws".into()],
            overridden: false,
        };
        assert!(render(Shell::Bash, &w, &shadow).contains(
            "__op_aws_op_plugins='/h/.config/op/plugins.sh'\n__op_aws_op_aliased=('aws')\n__op_aws_op_rc='/h/it'\\''s rc'\n"
        ));
    }
}
