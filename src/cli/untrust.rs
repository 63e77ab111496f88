use op_aws::caller::Caller;
use op_aws::ctx::Ctx;
use op_aws::project;

/// Stop using a repository's .op-aws.toml.
#[derive(clap::Args)]
pub struct Args {
    /// The directory holding .op-aws.toml (default: the nearest one here or above).
    dir: Option<std::path::PathBuf>,
}

impl Args {
    pub fn run(self, caller: Caller) -> anyhow::Result<()> {
        let ctx = Ctx::new(caller)?;
        op_aws::policy::may_change(&ctx, "untrust", None)?;
        let dir = super::trust::project_dir(&ctx, self.dir.as_deref())?;
        // The file may be gone already; its trust is still ours to forget.
        let dir = dir.canonicalize().unwrap_or(dir);
        let path = dir.join(op_aws::model::project::FILE_NAME);
        if project::untrust(&ctx.dirs, &path)? {
            eshow!("op-aws: {} is no longer trusted", path.display());
        } else {
            eshow!("op-aws: {} was not trusted", path.display());
        }
        Ok(())
    }
}
