//! MFA codes: generated from the item's TOTP secret, or asked for on the terminal. AWS accepts
//! a code once, so the last time step used per device is remembered in the cache directory and
//! a second session within the same step waits for the next code instead of failing.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use crate::ctx::Ctx;
use crate::item::{self, Item};
use crate::{Error, Result, fsutil, prompt};

use super::cache::now_secs;
use super::totp;

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
}

fn is_code(v: &str) -> bool {
    v.len() == 6 && v.bytes().all(|b| b.is_ascii_digit())
}

/// A 6-digit code for `serial`, and the guard to mark it used after the call.
pub fn code(ctx: &Ctx, item: &Item, serial: &str) -> Result<(String, CodeGuard)> {
    let source = match item.get(item::ONE_TIME_PASSWORD).map(str::trim) {
        // Six digits cannot be a secret (30 bits); it is a code.
        Some(v) if is_code(v) => Source::Code(v.to_owned()),
        Some(v) => Source::Totp(totp::parse(v)?),
        None => match prompt::Asker::for_caller(&ctx.caller, &ctx.config) {
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
}
