use op_aws::awsfiles::{self, AwsFiles};
use op_aws::config::StoreKind;
use op_aws::ctx::Ctx;
use op_aws::{agent, vault};

/// Check for plaintext keys, the shell integration, the agent, and the clock.
#[derive(clap::Args)]
pub struct Args {}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        let mut problems = 0;
        let mut report = |ok: bool, what: String| {
            println!("{} {what}", if ok { "ok  " } else { "warn" });
            if !ok {
                problems += 1;
            }
        };
        let ctx = Ctx::from_env()?;
        match AwsFiles::load() {
            Ok(files) => {
                let plain: Vec<String> = files
                    .profile_names()
                    .into_iter()
                    .filter(|p| files.get(p, "aws_secret_access_key").is_some())
                    .collect();
                let path = awsfiles::credentials_path()?;
                if plain.is_empty() {
                    report(true, format!("no plaintext keys in {}", path.display()));
                } else {
                    report(
                        false,
                        format!(
                            "plaintext keys in {} for {}: run `op-aws import --profile P --remove-plaintext`",
                            path.display(),
                            plain.join(", ")
                        ),
                    );
                }
            }
            Err(e) => report(false, format!("the AWS config does not parse: {e}")),
        }
        if std::env::var_os("AWS_SECRET_ACCESS_KEY").is_some() {
            report(false, "AWS_SECRET_ACCESS_KEY is set in this shell: keys in the environment reach every command; `op-aws import --from-env`, then unset it".into());
        } else {
            report(true, "no keys in this shell's environment".into());
        }
        match op_aws::shell::integration() {
            Some(sh) => report(true, format!("shell integration loaded ({sh})")),
            None => report(false, "shell integration not loaded: add `eval \"$(op-aws activate bash)\"` (or zsh, fish, nu) to your rc file".into()),
        }
        if ctx.config.store == StoreKind::Local {
            if vault::exists(&ctx.dirs) {
                report(true, format!("vault in {}", ctx.dirs.data.display()));
            } else {
                report(
                    false,
                    "no vault: run `op-aws vault create` or `op-aws init`".into(),
                );
            }
        }
        match agent::status(&ctx.dirs) {
            Ok(Some(a)) => report(
                true,
                format!(
                    "agent running (pid {}), {}",
                    a.pid,
                    if a.unlocked { "unlocked" } else { "locked" }
                ),
            ),
            Ok(None) => report(true, "agent not running (locked)".into()),
            Err(e) => report(false, format!("agent: {e}")),
        }
        match clock_skew() {
            Ok(s) if s.abs() < 60 => {
                report(true, format!("clock within {}s of STS", s.abs().max(1)))
            }
            Ok(s) => report(
                false,
                format!(
                    "clock {}s {} STS: MFA codes and signatures will fail; fix the system clock",
                    s.abs(),
                    if s > 0 { "behind" } else { "ahead of" }
                ),
            ),
            Err(e) => report(false, format!("cannot check the clock against STS: {e}")),
        }
        if problems > 0 {
            return Err(super::SilentExit(1).into());
        }
        Ok(())
    }
}

/// Against the STS endpoint a command would use (AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL).
fn clock_skew() -> anyhow::Result<i64> {
    let endpoint = ["AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()));
    let region = op_aws::inject::shell_region().unwrap_or_else(|| "us-east-1".into());
    let client = op_aws::sts::client::Client::new(&region, endpoint.as_deref())?;
    Ok(client.clock_skew()?)
}
