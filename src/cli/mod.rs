//! The command line: one file per subcommand, each an `Args` struct with `run`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use op_aws::caller::Caller;

/// `println!` for a line made of strings op-aws did not write (paths, item and profile names,
/// regions): each passed through [`op_aws::error::printable`], so none can drive the terminal.
macro_rules! show {
    ($($arg:tt)*) => {
        println!("{}", op_aws::error::printable(&format!($($arg)*)))
    };
}

/// [`show!`] on stderr.
macro_rules! eshow {
    ($($arg:tt)*) => {
        eprintln!("{}", op_aws::error::printable(&format!($($arg)*)))
    };
}

mod activate;
mod agent;
mod audit;
mod cache;
mod clear;
mod completions;
mod credential_process;
mod doctor;
mod export;
mod hook_env;
mod import;
mod init;
mod inspect;
mod item;
mod list;
mod lock;
mod login;
mod manpages;
mod profiles;
mod rotate;
mod run;
mod sandbox;
mod serve;
mod setup;
mod signin;
mod sso;
mod status;
mod trust;
mod unlock;
mod untrust;
mod r#use;
mod vault;

/// A deliberate non-zero exit whose message (if any) was already printed.
#[derive(Debug)]
pub struct SilentExit(pub u8);

impl std::fmt::Display for SilentExit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {}", self.0)
    }
}
impl std::error::Error for SilentExit {}

/// AWS credentials from an encrypted vault (or 1Password), for one command at a time.
#[derive(Parser)]
#[command(
    name = "op-aws",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Show nothing while unlocking, calling AWS or waiting for a sign-in (on a terminal, a
    /// one-line spinner on stderr says what op-aws is doing).
    #[arg(long, short, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    Init(init::Args),
    Vault(vault::Args),
    Unlock(unlock::Args),
    Lock(lock::Args),
    Status(status::Args),
    Item(item::Args),
    Import(import::Args),
    Rotate(rotate::Args),
    Sso(sso::Args),
    Signin(signin::Args),
    Use(r#use::Args),
    Inspect(inspect::Args),
    Clear(clear::Args),
    Trust(trust::Args),
    Untrust(untrust::Args),
    Run(run::Args),
    Sandbox(sandbox::Args),
    Serve(serve::Args),
    Login(login::Args),
    Export(export::Args),
    CredentialProcess(credential_process::Args),
    Activate(activate::Args),
    Completions(completions::Args),
    Profiles(profiles::Args),
    List(list::Args),
    Cache(cache::Args),
    Audit(audit::Args),
    Doctor(doctor::Args),
    Setup(setup::Args),
    HookEnv(hook_env::Args),
    Agent(agent::Args),
    Manpages(manpages::Args),
}

impl Command {
    /// A command a sandbox never runs (its name), because it reads or changes what only the
    /// person may: the vault, its keys, the agent, trust, settings, the audit trail.
    fn for_the_person(&self) -> Option<&'static str> {
        Some(match self {
            Self::Init(_) => "init",
            Self::Vault(_) => "vault",
            Self::Unlock(_) => "unlock",
            Self::Lock(_) => "lock",
            Self::Item(_) => "item",
            Self::Import(_) => "import",
            Self::Rotate(_) => "rotate",
            Self::Sso(_) => "sso",
            Self::Signin(_) => "signin",
            Self::Trust(_) => "trust",
            Self::Untrust(_) => "untrust",
            Self::Export(_) => "export",
            Self::Cache(_) => "cache",
            Self::Audit(_) => "audit",
            Self::Setup(_) => "setup",
            Self::Agent(_) => "agent",
            Self::Sandbox(_) => "sandbox",
            Self::Use(_)
            | Self::Clear(_)
            | Self::Status(_)
            | Self::Inspect(_)
            | Self::Run(_)
            | Self::Serve(_)
            | Self::Login(_)
            | Self::CredentialProcess(_)
            | Self::Activate(_)
            | Self::Completions(_)
            | Self::Profiles(_)
            | Self::List(_)
            | Self::Doctor(_)
            | Self::HookEnv(_)
            | Self::Manpages(_) => return None,
        })
    }
}

impl Cli {
    /// The command line. `run` and `hook-env` start on every command and every prompt, so they
    /// are parsed against their own arguments alone, without building the other subcommands
    /// (for a process this short, that is most of clap's allocations and code touched). Whatever
    /// does not parse there — `--help`, `--version`, a typo — goes to the whole parser, which
    /// handles it as ever.
    pub fn from_process() -> Self {
        let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
        Self::from_args(args)
    }

    fn from_args(args: Vec<std::ffi::OsString>) -> Self {
        let command = match args.get(1).and_then(|a| a.to_str()) {
            Some("run") => parse_one("run", &args[2..]).map(Command::Run),
            Some("hook-env") => parse_one("hook-env", &args[2..]).map(Command::HookEnv),
            _ => None,
        };
        match command {
            Some(command) => Self {
                quiet: false,
                command,
            },
            None => Self::parse_from(args),
        }
    }

    pub fn run(self, caller: Caller) -> anyhow::Result<ExitCode> {
        if let Some(name) = caller.var(op_aws::caller::SANDBOX_VAR)
            && let Some(what) = self.command.for_the_person()
        {
            // Its capability would refuse it anyway; this says so before anything is read.
            return Err(op_aws::Error::sandbox(
                name,
                format!("`op-aws {what}` is the person's, outside the sandbox"),
                "a sandbox gets credentials only: `op-aws run -- CMD`, `op-aws credential-process`, or `aws` as it is",
            )
            .into());
        }
        match self.command {
            Command::Init(a) => a.run(caller),
            Command::Vault(a) => a.run(caller),
            Command::Unlock(a) => a.run(caller),
            Command::Lock(a) => a.run(caller),
            Command::Status(a) => a.run(caller),
            Command::Item(a) => a.run(caller),
            Command::Import(a) => a.run(caller),
            Command::Rotate(a) => a.run(caller),
            Command::Sso(a) => a.run(caller),
            Command::Signin(a) => a.run(caller),
            Command::Use(a) => a.run(caller),
            Command::Inspect(a) => a.run(caller),
            Command::Clear(a) => a.run(caller),
            Command::Trust(a) => a.run(caller),
            Command::Untrust(a) => a.run(caller),
            Command::Run(a) => a.run(caller),
            Command::Serve(a) => a.run(caller),
            Command::Login(a) => a.run(caller),
            Command::Export(a) => a.run(caller),
            Command::CredentialProcess(a) => a.run(caller),
            Command::Activate(a) => a.run(caller),
            Command::Completions(a) => a.run(caller),
            Command::Profiles(a) => a.run(caller),
            Command::List(a) => a.run(caller),
            Command::Sandbox(a) => a.run(caller),
            Command::Cache(a) => a.run(caller),
            Command::Audit(a) => a.run(caller),
            Command::Doctor(a) => a.run(caller),
            Command::Setup(a) => a.run(caller),
            Command::HookEnv(a) => a.run(caller),
            Command::Agent(a) => a.run(caller),
            Command::Manpages(a) => a.run(caller),
        }
        .map(|()| ExitCode::SUCCESS)
    }
}

/// One subcommand's arguments, parsed by a parser of that subcommand alone; None when they do
/// not parse (the whole parser then says why).
fn parse_one<A: clap::Args + clap::FromArgMatches>(
    name: &'static str,
    args: &[std::ffi::OsString],
) -> Option<A> {
    let cmd = A::augment_args(
        clap::Command::new(name)
            .no_binary_name(true)
            // As `propagate_version` gives every subcommand: `op-aws run --version` is that.
            .version(env!("CARGO_PKG_VERSION")),
    );
    let matches = cmd.try_get_matches_from(args).ok()?;
    A::from_arg_matches(&matches).ok()
}

/// For `op-aws completions` and `op-aws manpages`.
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

/// Prints JSON to stdout, pretty.
pub fn print_json(v: &impl serde::Serialize) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, v)?;
    writeln!(out)?;
    Ok(())
}

/// The resolver's answer; with no item chosen here and a person at the terminal, a picker
/// first (the only part of choosing an item that belongs to the edge).
pub fn resolve_or_pick(
    ctx: &op_aws::ctx::Ctx,
    req: &op_aws::model::resolution::Request<'_>,
) -> anyhow::Result<op_aws::model::resolution::Resolution> {
    use anyhow::Context;
    match op_aws::resolve::resolve(ctx, req) {
        Err(op_aws::Error::NoDefault) if ctx.caller.terminal => {
            let titles = op_aws::store::list_titles(ctx).context("cannot list the items")?;
            if titles.is_empty() {
                anyhow::bail!(
                    "the vault has no items\nhint: add one with `op-aws import` or `op-aws item add NAME`"
                );
            }
            let i = op_aws::prompt::pick(
                "op-aws: no item is chosen here; use which one for this command?",
                &titles,
            )?;
            eshow!(
                "op-aws: to stop asking, run `op-aws use {}` (add --directory or --global)",
                titles[i]
            );
            let picked = op_aws::model::resolution::Request {
                item: Some(&titles[i]),
                ask: req.ask.clone(),
                ..*req
            };
            Ok(op_aws::resolve::resolve(ctx, &picked)?)
        }
        Ok(r) => {
            if let Some(line) = r.override_notice(ctx) {
                eshow!("op-aws: {line}");
            }
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}

/// A scope as people read it: `session`, `directory /w/acme`, `profile admin`.
pub fn scope_text(s: &op_aws::report::Status) -> String {
    match (s.scope, &s.scope_path, &s.profile) {
        (Some("directory"), Some(p), _) => format!("directory {}", p.display()),
        (Some("profile"), _, Some(p)) => format!("profile {p}"),
        (Some(name), _, _) => name.to_owned(),
        (None, _, _) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<std::ffi::OsString> {
        s.split(' ').map(Into::into).collect()
    }

    /// What the one-subcommand parsers accept, the whole parser reads the same way; what they
    /// refuse goes to it.
    #[test]
    fn run_and_hook_env_parse_alone_as_in_the_whole_parser() {
        let fast = [
            "op-aws run -- true",
            "op-aws run true",
            "op-aws run -- aws --profile admin s3 ls",
            "op-aws run aws --profile admin s3 ls",
            "op-aws run --item prod --profile admin -- terraform apply -auto-approve",
            "op-aws run --item=prod -- aws",
            "op-aws run --server -- terraform plan",
            "op-aws run --no-server -- aws -- --",
            "op-aws run --prof x -- aws",
            "op-aws hook-env --shell bash",
            "op-aws hook-env --shell=nu",
        ];
        let slow = [
            "op-aws run",
            "op-aws run --help",
            "op-aws run -h",
            "op-aws run --version",
            "op-aws run -V",
            "op-aws run --server --no-server -- x",
            "op-aws hook-env",
            "op-aws hook-env --shell tcsh",
            "op-aws hook-env --help",
        ];
        let parses_alone = |line: &str| {
            let a = argv(line);
            match a[1].to_str() {
                Some("run") => parse_one::<run::Args>("run", &a[2..]).is_some(),
                _ => parse_one::<hook_env::Args>("hook-env", &a[2..]).is_some(),
            }
        };
        for line in fast {
            let text = |c: Command| match c {
                Command::Run(a) => format!("{a:?}"),
                Command::HookEnv(a) => format!("{a:?}"),
                _ => unreachable!("{line}"),
            };
            assert!(parses_alone(line), "parsed alone: {line}");
            let whole = text(Cli::try_parse_from(argv(line)).unwrap().command);
            let alone = text(Cli::from_args(argv(line)).command);
            assert_eq!(alone, whole, "{line}");
        }
        for line in slow {
            assert!(!parses_alone(line), "left to the whole parser: {line}");
        }
    }
}

/// `--item` and `--profile`: which credentials, the same for every command that hands them out.
#[derive(clap::Args, Debug, Default)]
pub struct Which {
    /// Use this item, whatever the defaults say (a name in the vault, or op://Vault/Item).
    #[arg(long, value_name = "NAME")]
    pub item: Option<String>,
    /// Use this profile from the AWS config: its role, MFA, region and op_aws_item apply
    /// (default: AWS_PROFILE).
    #[arg(long)]
    pub profile: Option<String>,
}
