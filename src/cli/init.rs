use anyhow::Context;
use op_aws::caller::Caller;
use op_aws::config::StoreKind;
use op_aws::ctx::Ctx;
use op_aws::scope;
use op_aws::shell::{self};
use op_aws::{import, prompt, store, vault};

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
    pub fn run(self, caller: Caller) -> anyhow::Result<()> {
        let ctx = Ctx::new(caller)?;
        let (item, scope) = match (self.item, self.scope) {
            (Some(i), Some(s)) => (i, s),
            _ => guided(&ctx)?,
        };
        let item =
            store::existing_name(&ctx, &item).with_context(|| format!("cannot use {item:?}"))?;
        match scope {
            ScopeArg::Directory => {
                let dir = scope::normalize_dir(std::path::Path::new("."), &ctx.caller.cwd)?;
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
        let install = shell::install(ctx.caller.login_shell());
        eprintln!("\n{}\n", install.how);
        println!("{}", install.line);
        if let Some(p) = op_aws::process::op_aws_exe()
            .ok()
            .and_then(|exe| op_aws::install::packaged(&exe))
        {
            eprintln!("{}", op_aws::doctor::packaged_line(&p));
        }
        Ok(())
    }
}

fn guided(ctx: &Ctx) -> anyhow::Result<(String, ScopeArg)> {
    anyhow::ensure!(
        ctx.caller.terminal,
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
        ctx.agent
            .unlock(Some(&id), &op_aws::sysauth::agent_times(&ctx.config, None))?;
    }
    let offer = import::offer(ctx).context("cannot read the AWS files")?;
    if !offer.profiles.is_empty()
        && prompt::confirm(
            &format!(
                "import the plaintext keys of {} from {}?",
                offer.profiles.join(", "),
                offer.holding()
            ),
            true,
        )?
    {
        let items = import::from_profiles(
            &ctx.caller,
            &offer.files,
            &offer.found,
            &offer.profiles,
            None,
        )?;
        super::import::save(ctx, &items, ctx.config.store)?;
        if prompt::confirm(
            "then remove them from the file (every other line stays as it is)?",
            true,
        )? {
            super::import::remove_plaintext(ctx, &items, true)?;
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
