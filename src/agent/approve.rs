//! Holding and approval: a quick-unlock check, one at a time, that others wait for.

use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use super::hold::Phase;
use crate::link::protocol::{APPROVAL_TIMEOUT, Request};
// A clock that counts suspend, and the time spent suspended.
use super::state::State;
use crate::os::clock;
use crate::{Error, Result};

/// Wakes the requests waiting for another one's approval ([`approve`]).
pub(super) static APPROVAL: Condvar = Condvar::new();
/// What the system authentication dialog says for `req`: the command, item and profile it
/// names.
pub(super) fn approval_reason(req: &Request) -> String {
    use crate::model::resolution::Want;
    match req {
        Request::Resolve(asked) => {
            let r = asked.request();
            let command = match r.want {
                Want::Env { tool } => Some(tool),
                Want::Credentials => Some("credential_process"),
                _ => None,
            };
            crate::sysauth::reason(command, r.item, r.profile)
        }
        _ => crate::sysauth::reason(None, None, None),
    }
}

/// A held identity used again: system authentication asks the person, with the process at the
/// other end of the connection (`peer`: pid, uid) as the subject. One check at a time: a
/// request that arrives meanwhile waits for its answer. Approved: unlocked again, the idle
/// time anew. A wrong password: still held ([`Error::ApprovalFailed`]); dismissed: the identity is
/// forgotten ([`Error::QuickUnlockRefused`]).
/// No answer within [`APPROVAL_TIMEOUT`]: this request fails, the identity stays held. No one
/// to ask (no authentication agent, polkit not running): forgotten, and the caller asks for
/// the passphrase as for any locked vault ([`Error::Locked`]).
pub(super) fn approve(state: &Mutex<State>, peer: Option<(u32, u32)>, reason: &str) -> Result<()> {
    let internal = || Error::Agent("internal error".into());
    let end = Instant::now() + APPROVAL_TIMEOUT;
    let timed_out = || Error::ApprovalTimedOut(APPROVAL_TIMEOUT.as_secs());
    let mut s = state.lock().map_err(|_| internal())?;
    loop {
        if s.identity.is_none() {
            return Err(if s.refused {
                Error::QuickUnlockRefused
            } else {
                Error::Locked
            });
        }
        if s.phase != Phase::Held {
            return Ok(());
        }
        if !s.checking {
            break;
        }
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(timed_out());
        }
        s = APPROVAL
            .wait_timeout(s, left.min(Duration::from_secs(1)))
            .map_err(|_| internal())?
            .0;
    }
    s.checking = true;
    drop(s);
    let verdict =
        crate::sysauth::check(peer, reason, end.saturating_duration_since(Instant::now()));
    let mut s = state.lock().map_err(|_| internal())?;
    s.checking = false;
    APPROVAL.notify_all();
    if s.identity.is_none() {
        // Locked (or timed out) meanwhile.
        return Err(Error::Locked);
    }
    use crate::sysauth::Verdict;
    match verdict {
        Verdict::Approved => {
            s.phase = Phase::Unlocked;
            s.last_used = clock::now();
            Ok(())
        }
        Verdict::TimedOut => Err(timed_out()),
        // A wrong password is no one saying no (the login password guards the hold either way,
        // and PAM paces the tries); a dismissed dialog is: an approval the person did not
        // expect, perhaps asked by something else, so the identity goes.
        Verdict::Refused => Err(Error::ApprovalFailed),
        Verdict::Dismissed => {
            s.forget();
            s.unlocked_at = None;
            s.refused = true;
            Err(Error::QuickUnlockRefused)
        }
        Verdict::NoAgent | Verdict::Failed(_) => {
            s.forget();
            s.unlocked_at = None;
            Err(Error::Locked)
        }
    }
}
