use std::io::Write;

use anyhow::Context;
use op_aws::awsfiles::AwsFiles;
use op_aws::caller::Caller;

/// The profile names from the AWS config and credentials files (and a trusted project file),
/// one per line.
#[derive(clap::Args)]
pub struct Args {
    /// With region, role and bound item.
    #[arg(long)]
    json: bool,
}

impl Args {
    pub fn run(self, caller: Caller) -> anyhow::Result<()> {
        let ctx = op_aws::ctx::Ctx::new(caller)?;
        let files = AwsFiles::load_here(&ctx).context("cannot read the AWS files")?;
        if self.json {
            return super::print_json(&op_aws::report::profiles(&files));
        }
        let mut out = String::new();
        for n in files.profile_names() {
            out.push_str(&n);
            out.push('\n');
        }
        std::io::stdout().lock().write_all(out.as_bytes())?;
        Ok(())
    }
}
