//! The command line: one file per subcommand, each an `Args` struct with `run`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use op_aws::caller::Caller;

mod activate;
mod agent;
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
mod profiles;
mod rotate;
mod run;
mod serve;
mod sso;
mod status;
mod trust;
mod unlock;
mod untrust;
mod use_;
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
    Use(use_::Args),
    Inspect(inspect::Args),
    Clear(clear::Args),
    Trust(trust::Args),
    Untrust(untrust::Args),
    Run(run::Args),
    Serve(serve::Args),
    Export(export::Args),
    CredentialProcess(credential_process::Args),
    Activate(activate::Args),
    Completions(completions::Args),
    Profiles(profiles::Args),
    List(list::Args),
    Cache(cache::Args),
    Doctor(doctor::Args),
    HookEnv(hook_env::Args),
    Agent(agent::Args),
}

impl Cli {
    pub fn run(self, caller: Caller) -> anyhow::Result<ExitCode> {
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
            Command::Use(a) => a.run(caller),
            Command::Inspect(a) => a.run(caller),
            Command::Clear(a) => a.run(caller),
            Command::Trust(a) => a.run(caller),
            Command::Untrust(a) => a.run(caller),
            Command::Run(a) => a.run(caller),
            Command::Serve(a) => a.run(caller),
            Command::Export(a) => a.run(caller),
            Command::CredentialProcess(a) => a.run(caller),
            Command::Activate(a) => a.run(caller),
            Command::Completions(a) => a.run(caller),
            Command::Profiles(a) => a.run(caller),
            Command::List(a) => a.run(caller),
            Command::Cache(a) => a.run(caller),
            Command::Doctor(a) => a.run(caller),
            Command::HookEnv(a) => a.run(caller),
            Command::Agent(a) => a.run(caller),
        }
        .map(|()| ExitCode::SUCCESS)
    }
}

/// For `op-aws completions`.
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
    req: &op_aws::resolve::Request<'_>,
) -> anyhow::Result<op_aws::resolve::Resolution> {
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
            eprintln!(
                "op-aws: to stop asking, run `op-aws use {}` (add --directory or --global)",
                titles[i]
            );
            let picked = op_aws::resolve::Request {
                item: Some(&titles[i]),
                ..*req
            };
            Ok(op_aws::resolve::resolve(ctx, &picked)?)
        }
        Ok(r) => {
            if let Some(line) = r.override_notice(ctx) {
                eprintln!("op-aws: {line}");
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
