use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::process::Command;

use anyhow::Context;
use op_aws::caller::Caller;
use op_aws::ctx::Ctx;
use op_aws::inject::{self};
use op_aws::model::env::EnvChanges;
use op_aws::model::policy::{Ask, Via};
use op_aws::model::resolution::{Request, Want};

use super::SilentExit;

/// Run a command with the credentials in effect here, in its environment only.
#[derive(clap::Args, Debug)]
#[command(trailing_var_arg = true)]
pub struct Args {
    #[command(flatten)]
    which: super::Which,
    /// Serve the credentials from a loopback endpoint (refreshed as they run out) instead of
    /// putting keys in the command's environment; the default with `server = true` in config.toml.
    #[arg(long, conflicts_with = "no_server")]
    server: bool,
    /// Keys in the environment, even with `server = true` in config.toml.
    #[arg(long)]
    no_server: bool,
    /// No credential that works: the command gets a placeholder key and a loopback proxy as
    /// its AWS endpoint, which checks each request against the run's policy and re-signs it
    /// with the real session.
    #[arg(long, conflicts_with_all = ["server", "no_server"])]
    keyless: bool,
    /// With --keyless: only these calls (SERVICE or SERVICE:ACTION, `*` at the end matches
    /// any rest; repeatable), e.g. `--allow s3:Get* --allow sts:GetCallerIdentity`.
    #[arg(long, value_name = "SERVICE[:ACTION]", requires = "keyless")]
    allow: Vec<String>,
    /// With --keyless: only calls to this region (repeatable).
    #[arg(long, value_name = "REGION", requires = "keyless")]
    allow_region: Vec<String>,
    /// A read-only session: AWS's ReadOnlyAccess as its session policy.
    #[arg(long)]
    read_only: bool,
    /// A managed policy the session is limited to (repeatable).
    #[arg(long, value_name = "ARN")]
    policy_arn: Vec<String>,
    /// An inline session policy (a JSON file) the session is limited to.
    #[arg(long, value_name = "FILE")]
    policy: Option<std::path::PathBuf>,
    /// The command and its arguments (after `--`).
    #[arg(required = true, num_args = 1.., allow_hyphen_values = true, value_name = "CMD")]
    command: Vec<OsString>,
}

impl Args {
    pub fn run(self, caller: Caller) -> anyhow::Result<()> {
        // clap hands an unknown option (a typo, `--profle`) over as the command.
        if let Some(opt) = self.command[0].to_str().filter(|c| c.starts_with('-')) {
            anyhow::bail!(
                "unknown option {opt:?} for `op-aws run`\nhint: see `op-aws run --help`; the command comes after `--`"
            );
        }
        let plan = inject::plan(&self.command);
        let program = plan.argv[0].clone();
        if !plan.needs_auth {
            let mut cmd = Command::new(&program);
            cmd.args(&self.command[1..]);
            inject::for_command(&caller, EnvChanges::default()).apply_to(&mut cmd);
            return exec(&mut cmd, &program);
        }
        // Checked before the vault is opened, so a typo never asks for a passphrase.
        let Some(path) = caller.which(&program) else {
            return not_found(&program);
        };
        let ask = Ask {
            via: Via::Run,
            read_only: self.read_only,
            policy_arns: self.policy_arn.clone(),
            policy: match &self.policy {
                Some(f) => {
                    let path = caller.absolute(f);
                    let text = std::fs::read_to_string(&path).with_context(|| {
                        format!("cannot read the session policy {}", path.display())
                    })?;
                    Some(text.trim().to_owned())
                }
                None => None,
            },
            agents: None,
            only_items: Vec::new(),
            only_profiles: Vec::new(),
            model_calls: false,
            calls: None,
        };
        // The credentials go to the command: an agent's, when the command is one
        // (`run --server -- claude`), whoever started it.
        let ctx = op_aws::agents::wrapping(Ctx::new(caller)?, &plan.argv);
        let profile = plan.profile.as_deref().or(self.which.profile.as_deref());
        if self.keyless {
            let rules = op_aws::keyless::classify::Rules {
                read_only: self.read_only,
                allow: self.allow.clone(),
                regions: self.allow_region.clone(),
                approve: false,
            };
            return super::serve::run_keyless(
                &ctx,
                self.which.item.as_deref(),
                profile,
                (&path, &program, &plan.argv[1..]),
                &ask,
                rules,
            );
        }
        if op_aws::endpoint::serves_run(
            &ctx,
            self.which.item.as_deref(),
            profile,
            self.server,
            self.no_server,
        )? {
            return super::serve::run_with_endpoint(
                &ctx,
                self.which.item.as_deref(),
                profile,
                &path,
                &program,
                &plan.argv[1..],
                &ask,
            );
        }
        let mut r = super::resolve_or_pick(
            &ctx,
            &Request {
                item: self.which.item.as_deref(),
                profile,
                want: Want::Env { tool: &plan.tool },
                ask,
            },
        )?;
        // Exec the file found above (no second PATH search); the command keeps its own argv[0].
        let mut cmd = Command::new(&path);
        cmd.arg0(&program);
        if r.handover {
            // SSO, credential_process, web identity: the tool does it better itself, with the
            // command line as it was given.
            cmd.args(&self.command[1..]);
        } else {
            cmd.args(&plan.argv[1..]);
        }
        let env = inject::for_command(&ctx.caller, std::mem::take(&mut r.env));
        drop(r);
        env.apply_to(&mut cmd);
        drop(env);
        exec(&mut cmd, &program)
    }
}

fn exec(cmd: &mut Command, program: &OsString) -> anyhow::Result<()> {
    failed(op_aws::process::exec(cmd, program))
}

fn not_found(program: &OsString) -> anyhow::Result<()> {
    failed(op_aws::process::exec_failed(
        program,
        &std::io::ErrorKind::NotFound.into(),
    ))
}

fn failed(f: op_aws::process::ExecFailed) -> anyhow::Result<()> {
    eprint!("{}", f.message);
    Err(SilentExit(f.code).into())
}
