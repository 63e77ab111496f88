use std::io::Write;
use std::process::ExitCode;

mod cli;

/// See Cargo.toml: musl's allocator costs a short process more than its work.
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

fn main() -> ExitCode {
    op_aws::process::harden();
    restore_sigpipe();
    // Backtraces would print paths and internals, never anything a user can act on.
    let cli = cli::Cli::from_process();
    // The one place the process's environment, directory and terminal are read.
    let result = op_aws::caller::Caller::from_process()
        .map(|mut caller| {
            use std::io::IsTerminal;
            if !cli.quiet && std::io::stderr().is_terminal() {
                caller.progress = op_aws::progress::Progress::new(std::sync::Arc::new(
                    op_aws::progress::Spinner::default(),
                ));
            }
            caller
        })
        .map_err(anyhow::Error::from)
        .and_then(|caller| cli.run(caller));
    match result {
        Ok(code) => code,
        Err(e) => {
            if let Some(cli::SilentExit(code)) = e.downcast_ref::<cli::SilentExit>() {
                return ExitCode::from(*code);
            }
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            let hint = e
                .chain()
                .find_map(|c| c.downcast_ref::<op_aws::Error>())
                .and_then(op_aws::Error::hint);
            let text = op_aws::error::render_chain(e.chain(), hint.as_deref());
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
            ExitCode::FAILURE
        }
    }
}

/// Rust ignores SIGPIPE, so `op-aws list | head -0` would panic in `println!`. A CLI should die
/// quietly of the signal instead, as `cat` does; exec'd commands also get the default back.
fn restore_sigpipe() {
    use nix::sys::signal::{SigHandler, Signal, signal};
    // SAFETY: called first thing in main, before any thread exists; SIG_DFL installs no handler.
    unsafe {
        let _ = signal(Signal::SIGPIPE, SigHandler::SigDfl);
    }
}
