//! Quick unlock on macOS: LocalAuthentication's `LAContext`, policy
//! `deviceOwnerAuthentication` (Touch ID, then an Apple Watch, then the login password, as the
//! Mac offers them), asked by the agent itself (the dialog names op-aws's reason).
//!
//! Type-checked on Linux (`cargo clippy --target aarch64-apple-darwin`); never run here.

use std::sync::mpsc;
use std::time::Duration;

use block2::RcBlock;
use objc2::runtime::Bool;
use objc2_foundation::{NSError, NSString};
use objc2_local_authentication::{LAContext, LAError, LAPolicy};

use super::Verdict;

/// Asks the person, showing `reason`; gives up after `timeout` (the dialog is withdrawn).
pub fn check(reason: &str, timeout: Duration) -> Verdict {
    let policy = LAPolicy::DeviceOwnerAuthentication;
    // SAFETY: a new context, used on this thread only.
    let ctx = unsafe { LAContext::new() };
    // SAFETY: a plain query of a context we own.
    if let Err(e) = unsafe { ctx.canEvaluatePolicy_error(policy) } {
        return of_error(e.code());
    }
    let (tx, rx) = mpsc::sync_channel::<(bool, isize)>(1);
    let reply = RcBlock::new(move |ok: Bool, error: *mut NSError| {
        // SAFETY: LocalAuthentication passes a valid NSError or nil.
        let code = unsafe { error.as_ref() }.map_or(0, NSError::code);
        let _ = tx.try_send((ok.as_bool(), code));
    });
    let why = NSString::from_str(reason);
    // SAFETY: the reply block only sends on a channel (Send), as the method requires of it.
    unsafe { ctx.evaluatePolicy_localizedReason_reply(policy, &why, &reply) };
    match rx.recv_timeout(timeout) {
        Ok((true, _)) => Verdict::Approved,
        Ok((false, code)) => of_error(code),
        Err(_) => {
            // SAFETY: withdraws the dialog of a context we own.
            unsafe { ctx.invalidate() };
            Verdict::TimedOut
        }
    }
}

/// LAError codes as quick unlock's outcomes.
fn of_error(code: isize) -> Verdict {
    match LAError(code) {
        LAError::AuthenticationFailed => Verdict::Refused,
        LAError::UserCancel
        | LAError::SystemCancel
        | LAError::AppCancel
        | LAError::UserFallback => Verdict::Dismissed,
        LAError::NotInteractive | LAError::PasscodeNotSet => Verdict::NoAgent,
        other => Verdict::Failed(format!("LocalAuthentication error {}", other.0)),
    }
}
