//! The `op-aws` command people type: the hot path in a small binary. `run`, `credential-process`
//! and the cd hook's `hook-env`, when a running agent answers them, are done here, in a binary
//! that links none of the AWS SDKs: a short process pays for every page it maps and relocates,
//! and the full binary's are ten times as many. Every other command, and these whenever the
//! agent cannot answer (none runs, the vault is locked, a picker or a passphrase is needed), is
//! handed to the full binary beside this one ([`op_aws::process::FULL_EXE`]) by exec, with the
//! arguments as they came.
//!
//! Handing over is safe up to the agent's answer: nothing before it writes, asks or is logged,
//! so the full binary does the whole command as if it had been called. After an answer, this
//! binary renders it with the functions the full one uses (`hook::from_here`,
//! `Credentials::process_json`, `inject`, `process::exec`), so what a person sees is the same.
//! It decides nothing itself: what is understood here is a subset of the full command line, read
//! as clap reads it, and anything else (another option, a second `--profile`, a value that is not
//! UTF-8) goes to the full binary.

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};

use op_aws::caller::Caller;
use op_aws::ctx::Ctx;
use op_aws::model::env::EnvChanges;
use op_aws::model::policy::{Ask, Via};
use op_aws::model::resolution::{Request, Resolution, Want};
use op_aws::shell::Shell;

/// See Cargo.toml: musl's allocator costs a short process more than its work.
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

/// A command this binary does itself.
#[derive(Debug, PartialEq, Eq)]
enum Fast {
    Run {
        which: Which,
        command: Vec<OsString>,
    },
    CredentialProcess {
        which: Which,
    },
    HookEnv {
        shell: Shell,
    },
}

/// `--item` and `--profile`, as the full command line's `Which` has them.
#[derive(Debug, Default, PartialEq, Eq)]
struct Which {
    item: Option<String>,
    profile: Option<String>,
}

/// What came of asking the agent.
enum Asked {
    Answered(Box<Resolution>),
    /// The full binary does the command (no agent, or it cannot answer this one).
    HandOver,
    /// Said on stderr.
    Failed,
}

fn main() -> ExitCode {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let Some(fast) = parse(&argv) else {
        return hand_over(&argv);
    };
    op_aws::process::harden();
    restore_sigpipe();
    // The one place the process's environment, directory and terminal are read.
    let Ok(mut caller) = Caller::from_process() else {
        return hand_over(&argv);
    };
    if std::io::stderr().is_terminal() {
        caller.progress = op_aws::progress::Progress::new(std::sync::Arc::new(
            op_aws::progress::Spinner::default(),
        ));
    }
    match fast {
        Fast::Run { which, command } => run(&argv, caller, &which, &command),
        Fast::CredentialProcess { which } => credential_process(&argv, caller, &which),
        Fast::HookEnv { shell } => hook_env(&argv, caller, shell),
    }
}

/// The command line, if it is one this binary does; `None` for anything else.
fn parse(argv: &[OsString]) -> Option<Fast> {
    let (sub, rest) = argv.get(1..)?.split_first()?;
    match sub.to_str()? {
        "run" => {
            let (which, rest) = which(rest)?;
            let command = rest
                .strip_prefix([OsString::from("--")].as_slice())
                .unwrap_or(rest);
            // An option clap does not know here, or none at all, is the full binary's to say.
            let first = command.first()?.to_str()?;
            (!first.starts_with('-')).then(|| Fast::Run {
                which,
                command: command.to_vec(),
            })
        }
        "credential-process" => {
            let (which, rest) = which(rest)?;
            rest.is_empty().then_some(Fast::CredentialProcess { which })
        }
        "hook-env" => {
            let value = match rest {
                [flag, value] if flag == "--shell" => value.to_str()?,
                [flag] => flag.to_str()?.strip_prefix("--shell=")?,
                _ => return None,
            };
            let shell = <Shell as clap::ValueEnum>::from_str(value, false).ok()?;
            Some(Fast::HookEnv { shell })
        }
        _ => None,
    }
}

/// `--item NAME` and `--profile NAME` (or `--item=NAME`), each at most once, up to the first
/// other argument; the rest after them.
fn which(mut args: &[OsString]) -> Option<(Which, &[OsString])> {
    let mut which = Which::default();
    loop {
        let Some(first) = args.first().and_then(|a| a.to_str()) else {
            return Some((which, args));
        };
        let (slot, value, used) = match first.split_once('=') {
            Some((flag, value)) => (flag, value, 1),
            None if first.starts_with("--") && first != "--" => (first, args.get(1)?.to_str()?, 2),
            None => return Some((which, args)),
        };
        let slot = match slot {
            "--item" => &mut which.item,
            "--profile" => &mut which.profile,
            _ if first.starts_with('-') => return None,
            _ => return Some((which, args)),
        };
        if slot.is_some() || value.is_empty() || value.starts_with('-') {
            return None;
        }
        *slot = Some(value.to_owned());
        args = &args[used..];
    }
}

fn run(argv: &[OsString], caller: Caller, which: &Which, command: &[OsString]) -> ExitCode {
    let plan = op_aws::inject::plan(command);
    let program = plan.argv[0].clone();
    if !plan.needs_auth {
        let mut cmd = Command::new(&program);
        cmd.args(&command[1..]);
        op_aws::inject::for_command(&caller, EnvChanges::default()).apply_to(&mut cmd);
        return failed(op_aws::process::exec(&mut cmd, &program));
    }
    // Checked before the agent is asked, as the full binary does.
    let Some(path) = caller.which(&program) else {
        return failed(op_aws::process::exec_failed(
            &program,
            &std::io::ErrorKind::NotFound.into(),
        ));
    };
    let Ok(ctx) = Ctx::new(caller) else {
        return hand_over(argv);
    };
    let ctx = op_aws::agents::wrapping(ctx, &plan.argv);
    // The endpoint (`server = true`) is the full binary's.
    if ctx.config.server {
        return hand_over(argv);
    }
    let req = Request {
        item: which.item.as_deref(),
        profile: plan.profile.as_deref().or(which.profile.as_deref()),
        want: Want::Env { tool: &plan.tool },
        ask: Ask {
            via: Via::Run,
            ..Default::default()
        },
    };
    let mut r = match ask(&ctx, &req, None) {
        Asked::Answered(r) => r,
        Asked::HandOver => return hand_over(argv),
        Asked::Failed => return ExitCode::FAILURE,
    };
    // The file found above (no second PATH search); the command keeps its own argv[0].
    let mut cmd = Command::new(&path);
    cmd.arg0(&program);
    if r.handover {
        cmd.args(&command[1..]);
    } else {
        cmd.args(&plan.argv[1..]);
    }
    let env = op_aws::inject::for_command(&ctx.caller, std::mem::take(&mut r.env));
    drop(r);
    env.apply_to(&mut cmd);
    drop(env);
    failed(op_aws::process::exec(&mut cmd, &program))
}

fn credential_process(argv: &[OsString], caller: Caller, which: &Which) -> ExitCode {
    let Ok(ctx) = Ctx::new(caller) else {
        return hand_over(argv);
    };
    let req = Request {
        item: which.item.as_deref(),
        profile: which.profile.as_deref(),
        want: Want::Credentials,
        ask: Ask {
            via: Via::CredentialProcess,
            ..Default::default()
        },
    };
    let r = match ask(&ctx, &req, None) {
        Asked::Answered(r) => r,
        Asked::HandOver => return hand_over(argv),
        Asked::Failed => return ExitCode::FAILURE,
    };
    // An answer to `Want::Credentials` without them is not one this binary renders.
    let Some(creds) = r.creds.as_ref() else {
        return hand_over(argv);
    };
    let mut out = std::io::stdout().lock();
    let written = serde_json::to_writer_pretty(&mut out, &creds.process_json())
        .map_err(std::io::Error::from)
        .and_then(|()| writeln!(out));
    done(written)
}

fn hook_env(argv: &[OsString], caller: Caller, shell: Shell) -> ExitCode {
    let Ok(ctx) = Ctx::new(caller) else {
        return hand_over(argv);
    };
    let req = op_aws::hook::request();
    let here = match ask(&ctx, &req, Some(ctx.agent.applies_here(&ctx.caller, &req))) {
        Asked::Answered(r) => r,
        Asked::HandOver => return hand_over(argv),
        Asked::Failed => return ExitCode::FAILURE,
    };
    let h = op_aws::hook::from_here(&ctx, &here);
    for w in &h.warnings {
        eprintln!("{}", op_aws::error::printable(&format!("op-aws: {w}")));
    }
    let text = h.env.render(shell.into());
    done(std::io::stdout().lock().write_all(text.as_bytes()))
}

/// The agent's answer to `req` (or `here`, what it answered to what applies here), with the
/// override notice of a release said as the full binary's `resolve_or_pick` says it.
fn ask(ctx: &Ctx, req: &Request<'_>, here: Option<op_aws::Result<Option<Resolution>>>) -> Asked {
    let notice = here.is_none();
    match here.unwrap_or_else(|| ctx.agent.resolve(&ctx.caller, req)) {
        Ok(Some(r)) => {
            if notice && let Some(line) = r.override_notice(ctx) {
                eprintln!("{}", op_aws::error::printable(&format!("op-aws: {line}")));
            }
            Asked::Answered(Box::new(r))
        }
        Ok(None) => Asked::HandOver,
        // The picker is the full binary's; nothing was logged for this answer.
        Err(op_aws::Error::NoDefault) if ctx.caller.terminal => Asked::HandOver,
        Err(e) => {
            let chain =
                std::iter::successors(Some(&e as &(dyn std::error::Error + 'static)), |c| {
                    c.source()
                });
            let text = op_aws::error::render_chain(chain, e.hint().as_deref());
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
            Asked::Failed
        }
    }
}

/// Output written: success; a reader that went away is no failure (`op-aws … | head -0`).
fn done(written: std::io::Result<()>) -> ExitCode {
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            let text = op_aws::error::render(&e.to_string(), None);
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
            ExitCode::FAILURE
        }
    }
}

fn failed(f: op_aws::process::ExecFailed) -> ExitCode {
    let _ = std::io::stderr().lock().write_all(f.message.as_bytes());
    ExitCode::from(f.code)
}

/// Execs the full binary beside this one with the command line as it came (argv\[0\]
/// included, so its messages name the command as it was typed), the core limit as it was.
fn hand_over(argv: &[OsString]) -> ExitCode {
    op_aws::process::restore_core_limit();
    #[allow(clippy::disallowed_methods)] // which file this is: the full binary is beside it
    let full = std::env::current_exe()
        .map(|p| p.with_file_name(op_aws::process::FULL_EXE))
        .unwrap_or_else(|_| op_aws::process::FULL_EXE.into());
    // An op-aws-full that is this very file (a symlink or a link to it, a copy under the wrong
    // name) would hand over to itself forever.
    let why = if is_this_program(&full) {
        "it is this program, not the full binary".to_owned()
    } else {
        Command::new(&full)
            .arg0(argv.first().map_or("op-aws".as_ref(), OsString::as_os_str))
            .args(argv.iter().skip(1))
            .exec()
            .to_string()
    };
    let text = op_aws::error::render(
        &format!("cannot run {}: {why}", full.display()),
        Some(
            "install op-aws again (`scripts/install`): the op-aws command needs the op-aws-full beside it",
        ),
    );
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
    ExitCode::FAILURE
}

/// Whether `full` is the program running: the same file (a symlink or a hard link to it), or
/// one of the same size (a copy of it under the full binary's name; the full binary is many
/// times this one's size).
fn is_this_program(full: &std::path::Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    #[allow(clippy::disallowed_methods)] // which file this is
    let mine = std::env::current_exe().and_then(std::fs::metadata);
    let (Ok(theirs), Ok(mine)) = (std::fs::metadata(full), mine) else {
        return false;
    };
    (theirs.dev(), theirs.ino()) == (mine.dev(), mine.ino()) || theirs.len() == mine.len()
}

/// As the full binary does: die quietly of SIGPIPE, and exec'd commands get the default back.
fn restore_sigpipe() {
    use nix::sys::signal::{SigHandler, Signal, signal};
    // SAFETY: called first thing in main, before any thread exists; SIG_DFL installs no handler.
    unsafe {
        let _ = signal(Signal::SIGPIPE, SigHandler::SigDfl);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(a: &[&str]) -> Vec<OsString> {
        std::iter::once("op-aws")
            .chain(a.iter().copied())
            .map(OsString::from)
            .collect()
    }

    fn which(item: Option<&str>, profile: Option<&str>) -> Which {
        Which {
            item: item.map(str::to_owned),
            profile: profile.map(str::to_owned),
        }
    }

    fn cmd(a: &[&str]) -> Vec<OsString> {
        a.iter().map(OsString::from).collect()
    }

    #[test]
    fn the_hot_paths_command_lines_are_read_as_clap_reads_them() {
        let run = |w, c: &[&str]| {
            Some(Fast::Run {
                which: w,
                command: cmd(c),
            })
        };
        assert_eq!(
            parse(&argv(&["run", "--", "aws", "s3", "ls"])),
            run(Which::default(), &["aws", "s3", "ls"])
        );
        assert_eq!(
            parse(&argv(&["run", "aws", "--profile", "x"])),
            run(Which::default(), &["aws", "--profile", "x"])
        );
        assert_eq!(
            parse(&argv(&[
                "run",
                "--profile",
                "admin",
                "--item=prod",
                "--",
                "true"
            ])),
            run(which(Some("prod"), Some("admin")), &["true"])
        );
        assert_eq!(
            parse(&argv(&["run", "--profile=a", "env", "--", "-x"])),
            run(which(None, Some("a")), &["env", "--", "-x"])
        );
        assert_eq!(
            parse(&argv(&["credential-process", "--profile", "admin"])),
            Some(Fast::CredentialProcess {
                which: which(None, Some("admin"))
            })
        );
        assert_eq!(
            parse(&argv(&["credential-process"])),
            Some(Fast::CredentialProcess {
                which: Which::default()
            })
        );
        assert_eq!(
            parse(&argv(&["hook-env", "--shell", "zsh"])),
            Some(Fast::HookEnv { shell: Shell::Zsh })
        );
        assert_eq!(
            parse(&argv(&["hook-env", "--shell=nu"])),
            Some(Fast::HookEnv { shell: Shell::Nu })
        );
    }

    #[test]
    fn anything_else_is_the_full_binarys() {
        for a in [
            &[][..],
            &["--version"],
            &["-q", "run", "--", "true"],
            &["list"],
            &["run"],
            &["run", "--"],
            &["run", "--server", "--", "true"],
            &["run", "--read-only", "--", "true"],
            &["run", "--profle", "x", "--", "true"],
            &["run", "--", "--profile"],
            &["run", "--profile", "a", "--profile", "b", "--", "true"],
            &["run", "--profile"],
            &["run", "--profile", "--", "true"],
            &["run", "--profile=", "true"],
            &["credential-process", "--profile", "a", "--bedrock"],
            &["credential-process", "--format", "claude-code"],
            &["credential-process", "extra"],
            &["hook-env"],
            &["hook-env", "--shell", "tcsh"],
            &["hook-env", "--shell", "bash", "--x"],
            &["help", "run"],
        ] {
            assert_eq!(parse(&argv(a)), None, "{a:?}");
        }
        let not_utf8: OsString = std::os::unix::ffi::OsStringExt::from_vec(vec![0xff]);
        let mut a = argv(&["run", "--profile"]);
        a.push(not_utf8);
        a.push("true".into());
        assert_eq!(parse(&a), None);
    }
}
