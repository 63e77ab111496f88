use anyhow::Context;
use op_aws::awsfiles::{self, AwsFiles};
use op_aws::config::StoreKind;
use op_aws::ctx::Ctx;
use op_aws::scope;
use op_aws::{prompt, store, vault};

/// Guided setup: vault, import of plaintext keys, an item, its scope, and the rc line.
#[derive(clap::Args)]
pub struct Args {
    /// The item to use (non-interactive with --scope).
    #[arg(long, requires = "scope")]
    item: Option<String>,
    /// Where it applies.
    #[arg(long, value_enum, requires = "item")]
    scope: Option<ScopeArg>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ScopeArg {
    Session,
    Directory,
    Global,
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        let ctx = Ctx::from_env()?;
        let (item, scope) = match (self.item, self.scope) {
            (Some(i), Some(s)) => (i, s),
            _ => guided(&ctx)?,
        };
        let item =
            store::existing_name(&ctx, &item).with_context(|| format!("cannot use {item:?}"))?;
        match scope {
            ScopeArg::Directory => {
                let dir = scope::normalize_dir(std::path::Path::new("."))?;
                scope::set_directory(&ctx.dirs, &dir, &item, false)?;
                eprintln!(
                    "op-aws: {item} is the default in {} and below",
                    dir.display()
                );
            }
            ScopeArg::Global => {
                scope::set_global(&ctx.dirs, &item)?;
                eprintln!("op-aws: {item} is the global default");
            }
            ScopeArg::Session => {
                eprintln!(
                    "op-aws: in each terminal, run `op-aws use {item}` once the integration below is loaded"
                );
            }
        }
        let (rc, line) = rc_line();
        eprintln!("\nAdd this line to {rc} (then open a new terminal):\n");
        println!("{line}");
        Ok(())
    }
}

fn guided(ctx: &Ctx) -> anyhow::Result<(String, ScopeArg)> {
    anyhow::ensure!(
        prompt::interactive(),
        "no terminal for the guided setup\nhint: run `op-aws init --item NAME --scope session|directory|global`"
    );
    if ctx.config.store == StoreKind::Local && !vault::exists(&ctx.dirs) {
        eprintln!(
            "op-aws: no vault yet; creating one in {}",
            ctx.dirs.data.display()
        );
        let pass = super::vault::new_passphrase(false)?;
        vault::create(&ctx.dirs, pass.clone(), None).context("cannot create the vault")?;
        let id = vault::unlock(&ctx.dirs, pass)?;
        let exe = store::op_aws_exe(&std::env::current_exe()?);
        op_aws::agent::unlock(&ctx.dirs, &exe, Some(&id), ctx.config.agent_idle())?;
    }
    let files = AwsFiles::load().context("cannot read the AWS files")?;
    let plain: Vec<String> = files
        .profile_names()
        .into_iter()
        .filter(|p| {
            files.get(p, "aws_secret_access_key").is_some()
                && files.get(p, "aws_session_token").is_none()
        })
        .collect();
    let existing = store::list_titles(ctx).unwrap_or_default();
    let new: Vec<&String> = plain
        .iter()
        .filter(|p| !existing.iter().any(|t| t.eq_ignore_ascii_case(p)))
        .collect();
    if !new.is_empty() {
        let path = awsfiles::credentials_path()?;
        let names: Vec<&str> = new.iter().map(|s| s.as_str()).collect();
        if prompt::confirm(
            &format!(
                "import the plaintext keys of {} from {}?",
                names.join(", "),
                path.display()
            ),
            true,
        )? {
            let exe = std::env::current_exe()?;
            let mut cmd = std::process::Command::new(exe);
            cmd.arg("import");
            for n in &names {
                cmd.args(["--profile", n]);
            }
            if prompt::confirm(
                "then remove them from the file (every other line stays as it is)?",
                true,
            )? {
                cmd.args(["--remove-plaintext", "--yes"]);
            }
            anyhow::ensure!(cmd.status()?.success(), "the import failed");
        }
    }
    let titles = store::list_titles(ctx).context("cannot list the items")?;
    anyhow::ensure!(
        !titles.is_empty(),
        "the vault has no items\nhint: add one with `op-aws item add NAME --set 'Access Key ID=…' --set-secret 'Secret Access Key'`"
    );
    let item = titles[prompt::pick("which item should op-aws use?", &titles)?].clone();
    let scopes = [
        "this terminal only (session)".to_owned(),
        "this directory and everything below it".to_owned(),
        "everywhere (global)".to_owned(),
    ];
    let scope = match prompt::pick("where?", &scopes)? {
        0 => ScopeArg::Session,
        1 => ScopeArg::Directory,
        _ => ScopeArg::Global,
    };
    Ok((item, scope))
}

/// The rc file and the line for the user's shell ($SHELL).
fn rc_line() -> (&'static str, &'static str) {
    let shell = std::env::var("SHELL").unwrap_or_default();
    match shell.rsplit('/').next().unwrap_or("") {
        "zsh" => ("~/.zshrc", "eval \"$(op-aws activate zsh)\""),
        "fish" => (
            "~/.config/fish/config.fish",
            "op-aws activate fish | source",
        ),
        "nu" => (
            "your nushell config (see docs/nushell.md)",
            "op-aws activate nu | save -f ($nu.default-config-dir | path join vendor/autoload/op-aws.nu)",
        ),
        _ => ("~/.bashrc", "eval \"$(op-aws activate bash)\""),
    }
}
