use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::process::Command;

use anyhow::Context;
use op_aws::ctx::Ctx;
use op_aws::inject::{self, EnvInput};

use super::{SilentExit, resolve};

/// Run a command with the credentials in effect here, in its environment only.
#[derive(clap::Args)]
#[command(trailing_var_arg = true)]
pub struct Args {
    /// Use this item, whatever the defaults say.
    #[arg(long)]
    item: Option<String>,
    /// Use this profile from ~/.aws/config (roles, MFA, region).
    #[arg(long)]
    profile: Option<String>,
    /// The command and its arguments (after `--`).
    #[arg(required = true, num_args = 1.., allow_hyphen_values = true, value_name = "CMD")]
    command: Vec<OsString>,
}

impl Args {
    pub fn run(self) -> anyhow::Result<()> {
        let plan = inject::plan(&self.command);
        let program = plan.argv[0].clone();
        if !plan.needs_auth {
            return exec(Command::new(&program).args(&self.command[1..]), &program);
        }
        let profile = resolve::profile_in_effect(plan.profile.clone().or(self.profile));
        let files = resolve::files_for(profile.as_deref())?;
        if let (Some(f), Some(p)) = (&files, &profile)
            && f.is_self_authenticating(p)
        {
            // SSO, credential_process, web identity: the tool does it better itself.
            return exec(Command::new(&program).args(&self.command[1..]), &program);
        }
        // Checked before the vault is opened, so a typo never asks for a passphrase.
        let Some(path) = which(&program) else {
            return not_found(&program);
        };
        let ctx = Ctx::from_env()?;
        let r = resolve::credentials(
            &ctx,
            self.item.as_deref(),
            profile.as_deref(),
            files.as_ref(),
        )?;
        let tool = inject::tool_name(&program);
        let shell_region = inject::shell_region();
        let changes = inject::env_changes(&EnvInput {
            tool: &tool,
            creds: &r.creds,
            profile: profile.as_deref(),
            region: r.region.as_deref(),
            shell_region: shell_region.as_deref(),
        });
        // Exec the file found above (no second PATH search); the command keeps its own argv[0].
        let mut cmd = Command::new(&path);
        cmd.arg0(&program);
        cmd.args(&plan.argv[1..]);
        for k in &changes.unset {
            cmd.env_remove(k);
        }
        for (k, v) in &changes.set {
            cmd.env(k, v);
        }
        drop(changes);
        exec(&mut cmd, &program)
    }
}

fn exec(cmd: &mut Command, program: &OsString) -> anyhow::Result<()> {
    let err = cmd.exec();
    match err.kind() {
        std::io::ErrorKind::NotFound => not_found(program),
        std::io::ErrorKind::PermissionDenied => {
            eprintln!("op-aws: {}: permission denied", program.to_string_lossy());
            Err(SilentExit(126).into())
        }
        _ => Err(err).with_context(|| format!("cannot run {}", program.to_string_lossy())),
    }
}

fn not_found(program: &OsString) -> anyhow::Result<()> {
    eprintln!("op-aws: {}: command not found", program.to_string_lossy());
    Err(SilentExit(127).into())
}

/// Where PATH finds `program` (a path with a slash is taken as it is).
fn which(program: &OsString) -> Option<std::path::PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let p = std::path::Path::new(program);
    let ok = |c: &std::path::Path| {
        c.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if p.components().count() > 1 {
        return ok(p).then(|| p.to_owned());
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(p))
        .find(|c| ok(c))
}
