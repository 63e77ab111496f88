use anyhow::Context;
use op_aws::awsfiles::AwsFiles;

/// The profile names from the AWS config and credentials files, one per line.
#[derive(clap::Args)]
pub struct Args {
    /// With region, role and bound item.
    #[arg(long)]
    json: bool,
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        let files = AwsFiles::load().context("cannot read the AWS files")?;
        let names = files.profile_names();
        if self.json {
            let v: Vec<_> = names
                .iter()
                .map(|p| {
                    serde_json::json!({
                        "name": p,
                        "region": files.region(p),
                        "role_arn": files.get(p, "role_arn"),
                        "source_profile": files.get(p, "source_profile"),
                        "mfa_serial": files.get(p, "mfa_serial"),
                        "item": files.get(p, "op_aws_item"),
                    })
                })
                .collect();
            return super::print_json(&v);
        }
        let mut out = String::new();
        for n in names {
            out.push_str(&n);
            out.push('\n');
        }
        use std::io::Write;
        std::io::stdout().lock().write_all(out.as_bytes())?;
        Ok(())
    }
}
