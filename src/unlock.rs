//! Opening the vault identity for an unlock: a security key (an age plugin, [`keys`]) first,
//! then the passphrase — given (stdin), or asked at the caller's terminal, or through pinentry
//! when it has none.

pub mod keys;

use std::time::Duration;

use secrecy::SecretString;

use crate::ctx::Ctx;
use crate::prompt::Asker;
use crate::vault::{self, Identity};
use crate::{Error, Result};

/// Each wrong passphrase costs the scrypt work plus this.
const WRONG_PASSPHRASE_DELAY: Duration = Duration::from_millis(500);
/// A pinentry dialog may be answered again after a typo; a terminal prompt is once, as before.
const PINENTRY_ATTEMPTS: usize = 3;

/// How to open the identity.
pub enum Method {
    /// The security keys in the order added, then the passphrase asked of the person.
    Keys,
    /// The passphrase asked of the person (the terminal, else pinentry).
    Passphrase,
    /// A passphrase already read (`--passphrase-stdin`).
    Given(SecretString),
}

/// Why a prompt appears, in words a dialog can show: the item and profile when known.
pub fn why_locked(item: Option<&str>, profile: Option<&str>) -> String {
    let mut s = "The op-aws vault is locked. Enter its passphrase to unlock it".to_owned();
    match (item, profile) {
        (Some(i), Some(p)) => s.push_str(&format!(" (item {i:?}, profile {p:?})")),
        (Some(i), None) => s.push_str(&format!(" (item {i:?})")),
        (None, Some(p)) => s.push_str(&format!(" (profile {p:?})")),
        (None, None) => {}
    }
    s.push('.');
    crate::error::printable(&s)
}

/// The vault identity, opened by `method`; `why` is what a pinentry dialog says.
pub fn open(ctx: &Ctx, method: Method, why: &str) -> Result<Identity> {
    vault::ensure_exists(&ctx.dirs)?;
    match method {
        Method::Given(pass) => with_delay(scrypt(ctx, pass)),
        Method::Passphrase => {
            let asker = Asker::for_caller(&ctx.caller, &ctx.config);
            passphrase(ctx, &asker, why, None)
        }
        Method::Keys => {
            let asker = Asker::for_caller(&ctx.caller, &ctx.config);
            let mut failed = None;
            for key in keys::list(&ctx.dirs)? {
                match keys::open(ctx, &asker, &key) {
                    Ok(id) => return Ok(id),
                    Err(e) => {
                        // Said at once: the person may be waiting for the key to blink.
                        let then = if asker.can_ask() {
                            "asking for the passphrase instead"
                        } else {
                            "no terminal or pinentry to ask for the passphrase instead"
                        };
                        eprintln!("op-aws: {e}; {then}");
                        failed = Some(e.to_string());
                    }
                }
            }
            passphrase(ctx, &asker, why, failed.as_deref())
        }
    }
}

/// The passphrase's work (about a second of scrypt), shown as a step.
fn scrypt(ctx: &Ctx, pass: secrecy::SecretString) -> Result<Identity> {
    let _step = ctx.caller.progress.step("unlocking the vault");
    vault::unlock(&ctx.dirs, pass)
}

fn with_delay(r: Result<Identity>) -> Result<Identity> {
    if matches!(r, Err(Error::WrongPassphrase)) {
        std::thread::sleep(WRONG_PASSPHRASE_DELAY);
    }
    r
}

/// The passphrase asked of the person; nobody to ask is [`Error::LockedNoTerminal`]. `error`
/// (a key that failed) is shown on the first pinentry dialog.
pub fn passphrase(ctx: &Ctx, asker: &Asker, why: &str, error: Option<&str>) -> Result<Identity> {
    let attempts = match asker {
        Asker::Terminal => 1,
        Asker::Pinentry(_) => PINENTRY_ATTEMPTS,
        Asker::Nobody => return Err(Error::LockedNoTerminal),
    };
    let first = error.map(|e| format!("{}.", crate::error::printable(e)));
    let mut error = first
        .as_deref()
        .filter(|_| matches!(asker, Asker::Pinentry(_)));
    for attempt in 1..=attempts {
        let pass = asker
            .secret(&ctx.caller, why, "vault passphrase:", error)?
            .ok_or(Error::LockedNoTerminal)?;
        match with_delay(scrypt(ctx, pass)) {
            Err(Error::WrongPassphrase) if attempt < attempts => {
                error = Some("Wrong passphrase, try again.");
            }
            other => return other,
        }
    }
    Err(Error::WrongPassphrase)
}

/// `vault rekey` (and `vault passphrase --rekey`): the vault to a new identity, the security
/// keys rewrapped, the session cache dropped (it was encrypted to the old identity), and a
/// running agent handed the new identity. The number of sessions dropped.
pub fn rekey(
    ctx: &Ctx,
    pass: SecretString,
    new: Option<SecretString>,
    work_factor: Option<u8>,
) -> Result<usize> {
    let id = vault::rekey(&ctx.dirs, pass, new, work_factor, |id| {
        keys::rewrapped(ctx, id)
    })
    .map_err(|e| Error::Step {
        what: "cannot rekey the vault".into(),
        source: Box::new(e),
    })?;
    let dropped = crate::sts::cache::clear(ctx, None)?;
    if ctx.agent.status()?.is_some_and(|a| a.unlocked) {
        ctx.agent
            .unlock(Some(&id), &crate::sysauth::agent_times(&ctx.config, None))?;
    }
    Ok(dropped)
}
