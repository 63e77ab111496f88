use anyhow::Context;
use op_aws::caller::Caller;
use op_aws::ctx::Ctx;
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
        let dir = project_dir(&ctx, self.dir.as_deref())?;
        let (path, hash, p) = project::in_dir(&dir).context("cannot trust the project file")?;
        project::trust(&ctx.dirs, &path, &hash)?;
        eprintln!(
            "op-aws: trusted {} (sha256 {})",
            path.display(),
            &hash[..16]
        );
        if let Some(item) = &p.item {
            eprintln!("  default item: {item}");
        }
        for (name, keys) in &p.profiles {
            let what: Vec<String> = keys.iter().map(|(k, v)| format!("{k} = {v}")).collect();
            eprintln!("  profile {name}: {}", what.join(", "));
        }
        Ok(())
    }
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
            project::FILE_NAME,
            ctx.caller.cwd.display()
        ),
    }
}
