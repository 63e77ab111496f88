//! Hardening for every op-aws process that may hold a secret (the CLI, the agent, the nushell
//! plugin): no core dumps and not dumpable ([`crate::os::not_dumpable`]; the agent also denies
//! debuggers on macOS), so neither a crash nor another process of the user (ptrace,
//! /proc/PID/mem) can read the keys. A command `run` execs gets the caller's core limit
//! back; execve makes it dumpable again by itself.

use std::sync::OnceLock;

use nix::sys::resource::{Resource, getrlimit, setrlimit};

/// The soft core limit the process started with.
static CALLERS_CORE_LIMIT: OnceLock<u64> = OnceLock::new();

/// First thing in `main`. Only the soft limit is lowered (the hard one stays), so the limit
/// can be given back to an exec'd command without privileges.
pub fn harden() {
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_CORE) {
        let _ = CALLERS_CORE_LIMIT.set(soft);
        let _ = setrlimit(Resource::RLIMIT_CORE, 0, hard);
    }
    crate::os::not_dumpable();
}

/// Right before exec: the caller's core limit again, for the command (which holds only what
/// op-aws gave it).
pub fn restore_core_limit() {
    if let (Some(soft), Ok((_, hard))) =
        (CALLERS_CORE_LIMIT.get(), getrlimit(Resource::RLIMIT_CORE))
    {
        let _ = setrlimit(Resource::RLIMIT_CORE, (*soft).min(hard), hard);
    }
}

/// The `op-aws` binary to start the agent with: this one, unless this is the nushell plugin
/// (then the `op-aws` beside it).
#[allow(clippy::disallowed_methods)] // the one place: which binary starts the agent
pub fn op_aws_exe() -> std::io::Result<std::path::PathBuf> {
    let current = std::env::current_exe()?;
    let is_plugin = current
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("nu_plugin"));
    Ok(if is_plugin {
        current.with_file_name("op-aws")
    } else {
        current
    })
}
