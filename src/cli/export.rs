use op_aws::ctx::Ctx;
use op_aws::inject::{self, EnvInput};
use op_aws::shell::{self, Format};
use secrecy::ExposeSecret;

use super::resolve;

/// Print the credentials for a shell (or a program) to load.
#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    item: Option<String>,
    #[arg(long)]
    profile: Option<String>,
    #[arg(long, value_enum, default_value = "sh")]
    format: Format,
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        let ctx = Ctx::from_env()?;
        let profile = resolve::profile_in_effect(self.profile);
        let files = resolve::files_for(profile.as_deref())?;
        let r = resolve::credentials(
            &ctx,
            self.item.as_deref(),
            profile.as_deref(),
            files.as_ref(),
        )?;
        if self.format == Format::Json {
            return super::print_json(&credential_process_json(&r.creds));
        }
        let shell_region = inject::shell_region();
        let ch = inject::env_changes(&EnvInput {
            tool: "",
            creds: &r.creds,
            profile: None,
            region: r.region.as_deref(),
            shell_region: shell_region.as_deref(),
        });
        let mut out = String::new();
        match self.format {
            Format::Sh => {
                ch.set
                    .iter()
                    .for_each(|(k, v)| out += &format!("export {k}={}\n", shell::quote_posix(v)));
                ch.unset.iter().for_each(|k| out += &format!("unset {k}\n"));
            }
            Format::Fish => {
                ch.set
                    .iter()
                    .for_each(|(k, v)| out += &format!("set -gx {k} {}\n", shell::quote_fish(v)));
                ch.unset
                    .iter()
                    .for_each(|k| out += &format!("set -e {k}\n"));
            }
            Format::Powershell => {
                ch.set.iter().for_each(|(k, v)| {
                    out += &format!("$env:{k} = {}\n", shell::quote_powershell(v))
                });
                ch.unset.iter().for_each(|k| {
                    out += &format!("Remove-Item Env:{k} -ErrorAction SilentlyContinue\n")
                });
            }
            Format::Nu => {
                // A record for `from json | load-env` (unset keys are left out: load-env cannot remove).
                let rec: serde_json::Map<String, serde_json::Value> = ch
                    .set
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), v.as_str().into()))
                    .collect();
                out = serde_json::to_string(&rec)? + "\n";
            }
            Format::Json => unreachable!(),
        }
        print!("{out}");
        Ok(())
    }
}

/// The `credential_process` Version 1 shape.
pub fn credential_process_json(c: &op_aws::creds::Credentials) -> serde_json::Value {
    let mut v = serde_json::json!({
        "Version": 1,
        "AccessKeyId": c.access_key_id,
        "SecretAccessKey": c.secret_access_key.expose_secret(),
    });
    if let Some(t) = &c.session_token {
        v["SessionToken"] = t.expose_secret().into();
    }
    if let Some(e) = c.expiration_rfc3339() {
        v["Expiration"] = e.into();
    }
    v
}
