use anyhow::Context;
use op_aws::caller::Caller;
use op_aws::ctx::Ctx;
use op_aws::error::printable;
use op_aws::project;

/// Trust a repository's .op-aws.toml (by path and content): its default item and profiles apply
/// in its directory and below until the file changes.
#[derive(clap::Args)]
pub struct Args {
    /// The directory holding .op-aws.toml (default: the nearest one here or above).
    dir: Option<std::path::PathBuf>,
}

impl Args {
    pub fn run(self, caller: Caller) -> anyhow::Result<()> {
        let ctx = Ctx::new(caller)?;
        op_aws::policy::may_change(&ctx, "trust", None)?;
        let dir = project_dir(&ctx, self.dir.as_deref())?;
        let (path, hash, p) = project::in_dir(&dir).context("cannot trust the project file")?;
        let shown = printable(&path.display().to_string());
        if let Some(whose) = project::foreign(&path) {
            // Someone else's file (a shared parent directory's, say) would choose the item for
            // everything below it: never without the person saying so, knowing whose it is.
            let what = show(&p);
            if !ctx.caller.terminal {
                anyhow::bail!(
                    "refusing to trust {shown}: {whose}\nhint: read it, then run `op-aws trust {}` in a terminal to confirm",
                    printable(&op_aws::shell::quote_posix(&dir.to_string_lossy()))
                );
            }
            eprintln!("op-aws: {shown}: {whose}. It says:");
            what.iter().for_each(|l| eprintln!("{l}"));
            if !op_aws::prompt::confirm("op-aws: trust it anyway?", false)? {
                anyhow::bail!("{shown} was not trusted");
            }
        }
        project::trust(&ctx.dirs, &path, &hash)?;
        eprintln!("op-aws: trusted {shown} (sha256 {})", &hash[..16]);
        show(&p).iter().for_each(|l| eprintln!("{l}"));
        Ok(())
    }
}

/// What a project file sets, one line each, safe for a terminal.
fn show(p: &op_aws::model::project::Project) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(item) = &p.item {
        out.push(format!("  default item: {}", printable(item)));
    }
    for (name, keys) in &p.profiles {
        let what: Vec<String> = keys.iter().map(|(k, v)| format!("{k} = {v}")).collect();
        out.push(printable(&format!("  profile {name}: {}", what.join(", "))));
    }
    out
}

/// DIR as given (relative to the caller), else the directory of the nearest project file.
pub fn project_dir(ctx: &Ctx, dir: Option<&std::path::Path>) -> anyhow::Result<std::path::PathBuf> {
    if let Some(d) = dir {
        return Ok(ctx.caller.absolute(d));
    }
    match project::find(&ctx.dirs, &ctx.caller.cwd)? {
        Some(found) => Ok(found.dir),
        None => anyhow::bail!(
            "no {} here or above {}\nhint: name the directory: op-aws trust DIR",
            op_aws::model::project::FILE_NAME,
            ctx.caller.cwd.display()
        ),
    }
}
