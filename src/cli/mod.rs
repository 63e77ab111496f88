//! The command line: one file per subcommand, each an `Args` struct with `run`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
mod resolve;
mod run;
mod status;
mod unlock;
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
    Use(use_::Args),
    Inspect(inspect::Args),
    Clear(clear::Args),
    Run(run::Args),
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
    pub fn run(self) -> anyhow::Result<ExitCode> {
        match self.command {
            Command::Init(a) => a.run(),
            Command::Vault(a) => a.run(),
            Command::Unlock(a) => a.run(),
            Command::Lock(a) => a.run(),
            Command::Status(a) => a.run(),
            Command::Item(a) => a.run(),
            Command::Import(a) => a.run(),
            Command::Use(a) => a.run(),
            Command::Inspect(a) => a.run(),
            Command::Clear(a) => a.run(),
            Command::Run(a) => a.run(),
            Command::Export(a) => a.run(),
            Command::CredentialProcess(a) => a.run(),
            Command::Activate(a) => a.run(),
            Command::Completions(a) => a.run(),
            Command::Profiles(a) => a.run(),
            Command::List(a) => a.run(),
            Command::Cache(a) => a.run(),
            Command::Doctor(a) => a.run(),
            Command::HookEnv(a) => a.run(),
            Command::Agent(a) => a.run(),
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
