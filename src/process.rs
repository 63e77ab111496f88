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

/// The file name of the full binary, installed beside the `op-aws` command (the front,
/// `src/front/`), which hands it every command but the hot path.
pub const FULL_EXE: &str = "op-aws-full";

/// The `op-aws` command to start the agent with and to write into configs: this one, unless
/// this is the nushell plugin or the full binary (then the `op-aws` beside it, when there is
/// one: the command people type, the front).
#[allow(clippy::disallowed_methods)] // the one place: which binary starts the agent
pub fn op_aws_exe() -> std::io::Result<std::path::PathBuf> {
    let current = std::env::current_exe()?;
    let name = current
        .file_name()
        .map(|n| n.to_string_lossy().into_owned());
    let front = current.with_file_name("op-aws");
    let is_plugin = name.as_deref().is_some_and(|n| n.starts_with("nu_plugin"));
    let is_full = name.as_deref() == Some(FULL_EXE);
    Ok(if is_plugin || (is_full && front.is_file()) {
        front
    } else {
        current
    })
}

/// Why a command could not be exec'd: what to print (rendered, lines ending in `\n`) and the
/// exit status, as a shell says it (127: not found, 126: not executable).
#[derive(Debug)]
pub struct ExecFailed {
    pub code: u8,
    pub message: String,
}

/// Execs `cmd` (`run`'s command) with the caller's core limit back and no signal blocked,
/// whatever mask op-aws was started with (exec keeps it, and std does not reset it). Returns
/// only if the exec failed; `program` is the name the message gives.
pub fn exec(cmd: &mut std::process::Command, program: &std::ffi::OsStr) -> ExecFailed {
    use std::os::unix::process::CommandExt;
    restore_core_limit();
    let _ = nix::sys::signal::SigSet::empty().thread_set_mask();
    let err = cmd.exec();
    exec_failed(program, &err)
}

/// What [`exec`] says of `err`.
pub fn exec_failed(program: &std::ffi::OsStr, err: &std::io::Error) -> ExecFailed {
    let program = program.to_string_lossy();
    match err.kind() {
        std::io::ErrorKind::NotFound => ExecFailed {
            code: 127,
            message: format!("op-aws: {program}: command not found\n"),
        },
        std::io::ErrorKind::PermissionDenied => ExecFailed {
            code: 126,
            message: format!("op-aws: {program}: permission denied\n"),
        },
        _ => ExecFailed {
            code: 1,
            message: crate::error::render(&format!("cannot run {program}: {err}"), None),
        },
    }
}
