//! MFA codes: from a program the profile names (`mfa_process`, `op_aws_mfa = ykman`: a hardware
//! key holds the seed), generated from the item's TOTP secret, or asked for on the terminal. AWS accepts
//! a code once, so the last time step used per device is remembered in the cache directory and
//! a second session within the same step waits for the next code instead of failing.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use crate::awsfiles::AwsFiles;
use crate::ctx::Ctx;
use crate::item::{self, Item, now_secs};
use crate::{Error, Result, fsutil, prompt};

use super::totp;

/// Where a code comes from when a program gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    /// A shell command line (`sh -c`), as the profile wrote it or as `op_aws_mfa` makes it.
    pub command: String,
    /// What to tell the person while it runs ("touch your YubiKey").
    pub prompt: String,
}

/// The program that gives the chain's MFA code: the first `mfa_process` (aws-vault's key) or
/// `op_aws_mfa` from the top of the chain down. `op_aws_mfa = ykman` reads the YubiKey's OATH
/// account named after the device (`ykman oath accounts code --single SERIAL`).
pub fn process_for(files: &AwsFiles, chain: &[String], serial: &str) -> Result<Option<Process>> {
    for p in chain {
        if let Some(cmd) = files.get(p, "mfa_process").map(str::trim) {
            if cmd.is_empty() {
                return Err(Error::bad_profile(p, "mfa_process is empty".into()));
            }
            return Ok(Some(Process {
                command: cmd.to_owned(),
                prompt: format!(
                    "running mfa_process for the MFA code of {}",
                    crate::error::printable(serial)
                ),
            }));
        }
        match files.get(p, "op_aws_mfa").map(str::trim) {
            None => {}
            Some("ykman") => {
                return Ok(Some(Process {
                    command: format!(
                        "ykman oath accounts code --single {}",
                        crate::shell::quote_posix(serial)
                    ),
                    prompt: format!(
                        "touch your YubiKey for the MFA code of {}",
                        crate::error::printable(serial)
                    ),
                }));
            }
            Some(other) => {
                return Err(Error::bad_profile(
                    p,
                    format!(
                        "op_aws_mfa = {}: op-aws knows `ykman`; name any other program with mfa_process",
                        crate::awsfiles::shown(other)
                    ),
                ));
            }
        }
    }
    Ok(None)
}

/// Holds the per-device lock while a code is in flight; `used` records its step.
pub struct CodeGuard {
    _lock: fsutil::LockGuard,
    path: PathBuf,
    step: u64,
}

impl CodeGuard {
    /// Records that the code was sent (whatever STS answered: a rejected code may still count).
    pub fn used(self) -> Result<()> {
        fsutil::write_atomic(&self.path, format!("{}\n", self.step).as_bytes(), 0o600)
    }
}

fn state_path(ctx: &Ctx, serial: &str) -> PathBuf {
    let h = crate::digest::hash(&serde_json::json!(["mfa-step", serial]));
    ctx.dirs.cache.join(format!("mfa-{h}.step"))
}

fn last_step(path: &std::path::Path) -> Option<u64> {
    let b = fsutil::read_optional(path).ok()??;
    String::from_utf8_lossy(&b).trim().parse().ok()
}

/// How long to wait, at `now`, before a step after `last` begins (None: no wait).
pub fn wait_for_new_step(last: Option<u64>, now: u64, period: u64) -> Option<Duration> {
    let last = last?;
    (now / period <= last).then(|| Duration::from_secs((last + 1) * period - now))
}

/// Where the code comes from.
enum Source {
    Totp(totp_rs::Totp),
    /// A store that hands out current codes, not secrets (1Password's `op` may), already
    /// fresh: it tracks the steps it handed out itself.
    Code(String),
    Ask(prompt::Asker),
    /// A program prints it (a YubiKey's OATH account, once touched).
    Process(Process),
}

fn is_code(v: &str) -> bool {
    v.len() == 6 && v.bytes().all(|b| b.is_ascii_digit())
}

/// A 6-digit code for `serial`, and the guard to mark it used after the call.
pub fn code(
    ctx: &Ctx,
    item: &Item,
    serial: &str,
    process: Option<&Process>,
) -> Result<(String, CodeGuard)> {
    let source = match (process, item.get(item::ONE_TIME_PASSWORD).map(str::trim)) {
        // The profile's own program wins over a secret in the item: the person chose the key.
        (Some(p), _) => {
            // It may wait for a touch the person must be told about: the caller's, never the
            // agent's (which has no terminal, and would run what a caller's config names).
            if ctx.agent.is_in_process() {
                return Err(Error::NeedsCaller("an MFA code from mfa_process"));
            }
            Source::Process(p.clone())
        }
        // Six digits cannot be a secret (30 bits); it is a code.
        (None, Some(v)) if is_code(v) => Source::Code(v.to_owned()),
        (None, Some(v)) => Source::Totp(totp::parse(v)?),
        (None, None) => match prompt::Asker::for_caller(&ctx.caller, &ctx.config) {
            prompt::Asker::Nobody => {
                return Err(Error::MfaNoTerminal {
                    serial: serial.to_owned(),
                    item: item.title.clone(),
                });
            }
            asker => Source::Ask(asker),
        },
    };
    if let Source::Totp(t) = &source
        && t.digits() != 6
    {
        return Err(Error::BadTotp(format!(
            "AWS MFA codes have 6 digits, this secret makes {}",
            t.digits()
        )));
    }
    fsutil::ensure_private_dir(&ctx.dirs.cache)?;
    let path = state_path(ctx, serial);
    let lock = fsutil::lock_exclusive(&path)?;
    let last = last_step(&path);
    let (code, step) = match source {
        Source::Totp(t) => {
            let period = t.step();
            if let Some(wait) = wait_for_new_step(last, now_secs(), period) {
                eprintln!(
                    "op-aws: waiting {}s for a new MFA code (AWS accepts each code once)",
                    wait.as_secs()
                );
                std::thread::sleep(wait);
            }
            let now = now_secs();
            (totp::code_at(&t, now), totp::step_of(&t, now))
        }
        Source::Code(c) => (c, now_secs() / 30),
        Source::Process(p) => {
            // A hardware key's code changes every 30 s too, and AWS takes each once.
            if let Some(wait) = wait_for_new_step(last, now_secs(), 30) {
                eprintln!(
                    "op-aws: waiting {}s for a new MFA code (AWS accepts each code once)",
                    wait.as_secs()
                );
                std::thread::sleep(wait);
            }
            let code = from_process(ctx, &p, serial)?;
            (code, now_secs() / 30)
        }
        Source::Ask(asker) => (ask(ctx, &asker, item, serial)?, now_secs() / 30),
    };
    Ok((
        code,
        CodeGuard {
            _lock: lock,
            path,
            step,
        },
    ))
}

/// How long a program may take for the code (a touch included).
const PROCESS_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `p` (`sh -c`, in the caller's environment and directory) for `serial`'s code: its
/// output, trimmed, must be six digits. The person is told what to do while it runs.
fn from_process(ctx: &Ctx, p: &Process, serial: &str) -> Result<String> {
    let fail = |why: String| Error::MfaProcess {
        serial: serial.to_owned(),
        why,
    };
    // Told on the terminal; without one, in a pinentry window that goes once the code came.
    let pinentry = (!ctx.caller.terminal)
        .then(|| {
            crate::pinentry::Pinentry::locate(&ctx.caller, ctx.config.pinentry_program.as_deref())
        })
        .flatten();
    let _shown = pinentry.as_ref().and_then(|pe| {
        pe.show(&crate::pinentry::Dialog {
            title: "op-aws".into(),
            desc: format!("op-aws: {}", p.prompt),
            ok: Some("OK".into()),
            timeout: Some(PROCESS_TIMEOUT.as_secs()),
            ..crate::pinentry::Dialog::default()
        })
        .ok()
    });
    if ctx.caller.terminal {
        eprintln!("op-aws: {}", p.prompt);
    }
    let mut child = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(&p.command)
        .env_clear()
        // Like every command op-aws starts, it gets no variable that signs op-aws in.
        .envs(ctx.caller.vars_for_children())
        .current_dir(&ctx.caller.cwd)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("cannot run {:?}: {e}", p.command)))?;
    let deadline = std::time::Instant::now() + PROCESS_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(fail(format!(
                    "{:?} gave no code within {} s",
                    p.command,
                    PROCESS_TIMEOUT.as_secs()
                )));
            }
        }
    };
    let out = child
        .wait_with_output()
        .map_err(|e| fail(format!("{:?}: {e}", p.command)))?;
    let stdout = zeroize::Zeroizing::new(String::from_utf8_lossy(&out.stdout).into_owned());
    if !status.success() {
        let said = String::from_utf8_lossy(&out.stderr);
        let said = said.lines().map(str::trim).find(|l| !l.is_empty());
        return Err(fail(match said {
            Some(l) => format!("{:?} failed: {}", p.command, crate::error::printable(l)),
            None => format!("{:?} failed ({status})", p.command),
        }));
    }
    let code = stdout.trim();
    if !is_code(code) {
        // Never quoted back: it may be something else the program printed.
        return Err(fail(format!("{:?} printed no 6-digit code", p.command)));
    }
    Ok(code.to_owned())
}

fn ask(ctx: &Ctx, asker: &prompt::Asker, item: &Item, serial: &str) -> Result<String> {
    if let prompt::Asker::Pinentry(_) = asker {
        return ask_pinentry(ctx, asker, item, serial);
    }
    let mut err = std::io::stderr();
    loop {
        let _ = write!(err, "op-aws: MFA code for {serial}: ");
        let _ = err.flush();
        let line = prompt::read_stdin_line()?;
        let code = line.trim();
        if code.is_empty() {
            return Err(Error::Cancelled);
        }
        if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(code.to_owned());
        }
        let _ = writeln!(err, "op-aws: an MFA code is 6 digits");
    }
}

/// Through pinentry: the dialog names the device, the item and the profile.
fn ask_pinentry(ctx: &Ctx, asker: &prompt::Asker, item: &Item, serial: &str) -> Result<String> {
    use secrecy::ExposeSecret;
    let mut why = format!(
        "AWS asks for an MFA code from {serial} (item {:?}",
        item.title
    );
    if let Some(p) = ctx.caller.profile() {
        why.push_str(&format!(", profile {p:?}"));
    }
    why.push_str(").");
    let why = crate::error::printable(&why);
    let mut error = None;
    loop {
        let code = asker
            .secret(&ctx.caller, &why, "MFA code:", error)?
            .ok_or(Error::Cancelled)?;
        let code = code.expose_secret().trim();
        if is_code(code) {
            return Ok(code.to_owned());
        }
        error = Some("An MFA code is 6 digits.");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_digits_are_a_code_not_a_secret() {
        assert!(is_code("012345"));
        assert!(!is_code("01234"));
        assert!(!is_code("GEZDGNBVGY3TQOJQ"));
    }

    #[test]
    fn a_used_step_waits_for_the_next_one() {
        assert_eq!(wait_for_new_step(None, 1000, 30), None);
        // 1000 is in step 33 (990..1020).
        assert_eq!(
            wait_for_new_step(Some(33), 1000, 30),
            Some(Duration::from_secs(20))
        );
        assert_eq!(wait_for_new_step(Some(32), 1000, 30), None);
        // A clock that went backwards still waits for a step after the last one used.
        assert_eq!(
            wait_for_new_step(Some(34), 1000, 30),
            Some(Duration::from_secs(50))
        );
    }

    const SERIAL: &str = "arn:aws:iam::1:mfa/alice";

    #[test]
    fn mfa_codes_from_a_program() {
        let f = AwsFiles::from_strings(
            "[profile yk]\nmfa_serial = arn:aws:iam::1:mfa/alice\nop_aws_mfa = ykman\n\
             [profile ykrole]\nrole_arn = arn:aws:iam::2:role/Admin\nsource_profile = yk\n\
             [profile own]\nmfa_serial = arn:aws:iam::1:mfa/alice\nmfa_process = my-otp --now\n\
             [profile odd]\nmfa_serial = arn:aws:iam::1:mfa/alice\nop_aws_mfa = solokey\n",
            "",
        )
        .unwrap();
        let process = |profile: &str| {
            process_for(&f, &f.resolve_chain(profile).unwrap().profiles(), SERIAL)
                .map(|p| p.map(|p| p.command))
        };
        // The account is the device's serial, quoted for the shell.
        assert_eq!(
            process("yk").unwrap().as_deref(),
            Some("ykman oath accounts code --single 'arn:aws:iam::1:mfa/alice'")
        );
        assert_eq!(process("ykrole").unwrap(), process("yk").unwrap());
        assert_eq!(process("own").unwrap().as_deref(), Some("my-otp --now"));
        let e = process("odd").unwrap_err().to_string();
        assert!(
            e.contains("op_aws_mfa = \"solokey\"") && e.contains("mfa_process"),
            "{e}"
        );
    }
}
