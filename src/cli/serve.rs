//! `op-aws serve` and `op-aws run --server`: the loopback credentials endpoint
//! ([`op_aws::endpoint`]) for an IDE, a GUI or one command.

use std::ffi::OsString;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use op_aws::caller::Caller;
use op_aws::ctx::Ctx;
use op_aws::endpoint::Endpoint;
use op_aws::model::policy::{Ask, Via};
use op_aws::model::resolution::{Request, Resolution, Want};
use op_aws::shell::Format;

use super::SilentExit;

/// Serve credentials on a loopback endpoint for IDEs and GUIs; prints the variables to set.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    which: super::Which,
    #[arg(long, value_enum, default_value = "sh")]
    format: Format,
}

impl Args {
    pub fn run(self, caller: Caller) -> anyhow::Result<()> {
        let ctx = Ctx::new(caller)?;
        let ask = Ask {
            via: Via::Endpoint,
            ..Ask::default()
        };
        let (r, serving, item) = prime(
            &ctx,
            self.which.item.as_deref(),
            self.which.profile.as_deref(),
            &ask,
        )?;
        // Before the endpoint's threads start, so that none of them takes a signal by default
        // (op-aws gone, its token file left behind).
        stop_on_signals();
        let ep = Endpoint::start(&serving)?;
        let env = ep.env_for(&r);
        let text = match self.format.syntax() {
            Some(syntax) => env.render(syntax),
            None => {
                let set: serde_json::Map<String, serde_json::Value> = env
                    .set
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().into()))
                    .collect();
                serde_json::Value::Object(set).to_string() + "\n"
            }
        };
        print!("{text}");
        use std::io::Write;
        std::io::stdout().flush()?;
        eprintln!(
            "op-aws: serving {} until interrupted or `op-aws lock`",
            item.as_deref().unwrap_or_default()
        );
        let stop = until_locked(&ctx, || STOP.load(Ordering::SeqCst));
        ep.serve(
            &serving,
            item.as_deref(),
            self.which.profile.as_deref(),
            &stop,
        );
        eprintln!("op-aws: the endpoint stopped");
        Ok(())
    }
}

/// The first answer, asked with the person at the terminal; then what the endpoint serves
/// with ([`op_aws::endpoint::serving`]).
fn prime(
    ctx: &Ctx,
    item: Option<&str>,
    profile: Option<&str>,
    ask: &Ask,
) -> anyhow::Result<(Resolution, Ctx, Option<String>)> {
    let r = super::resolve_or_pick(
        ctx,
        &Request {
            item,
            profile,
            want: Want::Temporary,
            ask: ask.clone(),
        },
    )?;
    let (serving, item) = op_aws::endpoint::serving(ctx, item, &r)?;
    Ok((r, serving, item))
}

/// `run --server`: the command as a child with the endpoint's variables, served until it
/// exits; its exit status is ours.
pub fn run_with_endpoint(
    ctx: &Ctx,
    item: Option<&str>,
    profile: Option<&str>,
    path: &Path,
    program: &OsString,
    args: &[OsString],
    ask: &Ask,
) -> anyhow::Result<()> {
    let ask = Ask {
        via: Via::Endpoint,
        ..ask.clone()
    };
    let (r, serving, item) = prime(ctx, item, profile, &ask)?;
    // Blocked before any thread starts (the endpoint's own start in `Endpoint::start`): a
    // thread that had them unblocked would take a SIGTERM by default, and op-aws would die with
    // the command left running and the token file left behind. Only the waiting thread below
    // takes them.
    let forwarded = forwarded_signals();
    let _ = forwarded.thread_block();
    let mut ep = Endpoint::start(&serving)?;
    ep.ask = ask;
    let env = op_aws::inject::for_command(&ctx.caller, ep.env_for(&r));
    drop(r);
    let mut cmd = Command::new(path);
    cmd.arg0(program).args(args);
    env.apply_to(&mut cmd);
    let mut child = spawn_tied(&mut cmd, program)?;
    let done = AtomicBool::new(false);
    let status = std::thread::scope(|s| {
        s.spawn(|| {
            let stop = until_locked(ctx, || done.load(Ordering::SeqCst));
            ep.serve(&serving, item.as_deref(), profile, &stop);
            if !done.load(Ordering::SeqCst) {
                eprintln!(
                    "op-aws: locked: the credentials endpoint stopped; {} runs on without it",
                    program.to_string_lossy()
                );
            }
            // Listening ends and the token file goes now, not when the command ends.
            drop(ep);
        });
        let status = child.wait();
        done.store(true, Ordering::SeqCst);
        status
    })?;
    exit_with(status)
}

/// `run --keyless`: the command as a child with a placeholder and the proxy's URL, served
/// until it exits; its exit status is ours.
pub fn run_keyless(
    ctx: &Ctx,
    item: Option<&str>,
    profile: Option<&str>,
    (path, program, args): (&Path, &OsString, &[OsString]),
    ask: &Ask,
    mut rules: op_aws::keyless::classify::Rules,
) -> anyhow::Result<()> {
    let ask = Ask {
        via: Via::Endpoint,
        ..ask.clone()
    };
    // Asked once here, with the person at the terminal (a passphrase, an MFA code, a picker).
    let (r, serving, item) = prime(ctx, item, profile, &ask)?;
    if r.handover {
        anyhow::bail!(
            "{} authenticates itself (SSO, credential_process or web identity): --keyless needs credentials op-aws holds\nhint: run it without --keyless, or bind the profile to an item with op_aws_item",
            r.profile.as_deref().unwrap_or("the profile")
        );
    }
    // An agent's read-only policy holds at the proxy too, not only in the session policy; under
    // approve, each service's writes need a yes of their own.
    let mode = r
        .decision
        .as_ref()
        .and_then(|d| d.mode.as_ref())
        .map(|(m, _)| *m);
    rules.read_only |= mode == Some(op_aws::config::AgentPolicy::ReadOnly);
    rules.approve |= mode == Some(op_aws::config::AgentPolicy::Approve);
    let profile = r.profile.clone().or(profile.map(str::to_owned));
    let region = r.region_name().map(str::to_owned);
    drop(r);
    let forwarded = forwarded_signals();
    let _ = forwarded.thread_block();
    let source = op_aws::keyless::Source::new(serving, item, profile, ask);
    let proxy = op_aws::keyless::Proxy::start(source, rules)?;
    let env = op_aws::inject::for_command(&ctx.caller, proxy.env(region.as_deref()));
    let mut cmd = Command::new(path);
    cmd.arg0(program).args(args);
    env.apply_to(&mut cmd);
    drop(env);
    let mut child = spawn_tied(&mut cmd, program)?;
    let done = AtomicBool::new(false);
    let status = std::thread::scope(|s| {
        s.spawn(|| {
            let stop = until_locked(ctx, || done.load(Ordering::SeqCst));
            if let Err(e) = proxy.serve(&stop) {
                eprintln!("op-aws: {e}");
            } else if !done.load(Ordering::SeqCst) {
                eprintln!(
                    "op-aws: locked: the keyless proxy stopped; {} runs on without it",
                    program.to_string_lossy()
                );
            }
            drop(proxy);
        });
        let status = child.wait();
        done.store(true, Ordering::SeqCst);
        status
    })?;
    exit_with(status)
}

/// Starts `cmd` tied to this process: with no signal blocked, a SIGTERM when op-aws dies
/// (Linux), and the SIGTERM and SIGHUP op-aws gets passed on to it. The caller blocked
/// [`forwarded_signals`] before starting any thread (this blocks them too, for one that has
/// none).
pub(super) fn spawn_tied(
    cmd: &mut Command,
    program: &OsString,
) -> anyhow::Result<std::process::Child> {
    let forwarded = forwarded_signals();
    let _ = forwarded.thread_block();
    // The command starts with no signal blocked (std leaves the mask as it is): ours blocks the
    // forwarded ones, and a SIGTERM must end the command, not wait in its queue.
    // On Linux it also gets a SIGTERM when op-aws dies, even by SIGKILL: else it would run on
    // with an endpoint URL on a port nobody owns, which another user could bind and answer.
    // (macOS has no such signal: there the command runs on, its endpoint gone.)
    let parent = nix::unistd::getpid();
    // SAFETY: between fork and exec only pthread_sigmask, prctl and getppid run, which are
    // async-signal-safe.
    unsafe {
        cmd.pre_exec(move || {
            nix::sys::signal::SigSet::empty().thread_set_mask()?;
            #[cfg(any(target_os = "linux", target_os = "android"))]
            {
                nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGTERM)?;
                // op-aws died before the line above: nobody is left to send it.
                if nix::unistd::getppid() != parent {
                    return Err(std::io::Error::other(
                        "op-aws ended before the command started",
                    ));
                }
            }
            #[cfg(not(any(target_os = "linux", target_os = "android")))]
            let _ = parent;
            Ok(())
        });
    }
    op_aws::process::restore_core_limit();
    let child = cmd
        .spawn()
        .map_err(|e| anyhow::anyhow!("cannot run {}: {e}", program.to_string_lossy()))?;
    op_aws::process::harden();
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
    // SIGTERM and SIGHUP go on to the command; SIGINT and SIGQUIT from the terminal reach it by
    // themselves (the whole process group gets them), so passing them on would double them.
    std::thread::spawn(move || {
        while let Ok(sig) = forwarded.wait() {
            if matches!(
                sig,
                nix::sys::signal::Signal::SIGTERM | nix::sys::signal::Signal::SIGHUP
            ) {
                let _ = nix::sys::signal::kill(pid, sig);
            }
        }
    });
    Ok(child)
}

/// The exit status as op-aws's own: 0, the command's code, or 128 + the signal that ended it.
pub(super) fn exit_with(status: std::process::ExitStatus) -> anyhow::Result<()> {
    let code = status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1);
    if code == 0 {
        return Ok(());
    }
    Err(SilentExit(u8::try_from(code).unwrap_or(1)).into())
}

/// `stop`, or the store locked (checked once a second: a round trip to the agent).
fn until_locked<'a>(ctx: &'a Ctx, stop: impl Fn() -> bool + 'a) -> impl Fn() -> bool + 'a {
    let last_check = std::cell::Cell::new(std::time::Instant::now());
    move || {
        if stop() {
            return true;
        }
        if last_check.get().elapsed() >= Duration::from_secs(1) {
            last_check.set(std::time::Instant::now());
            return Endpoint::locked(ctx);
        }
        false
    }
}

fn forwarded_signals() -> nix::sys::signal::SigSet {
    use nix::sys::signal::{SigSet, Signal};
    let mut set = SigSet::empty();
    for s in [
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGINT,
        Signal::SIGQUIT,
    ] {
        set.add(s);
    }
    set
}

/// Set when `serve` is asked to stop (SIGINT, SIGTERM, SIGHUP, SIGQUIT).
static STOP: AtomicBool = AtomicBool::new(false);

fn stop_on_signals() {
    let set = forwarded_signals();
    let _ = set.thread_block();
    std::thread::spawn(move || {
        if set.wait().is_ok() {
            STOP.store(true, Ordering::SeqCst);
        }
    });
}
