//! The agent's timers as a state machine, with no clock of its own: unlocked → (idle) → held
//! (quick unlock) → (approved) → unlocked, and forgotten at the absolute limit, after a suspend
//! longer than the idle time, on `lock` or on a dismissed approval. Times are readings of a
//! clock that counts suspend (CLOCK_BOOTTIME).

use std::time::Duration;

use crate::config::AgentTimes;

/// Where the agent's identity is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Answering.
    Unlocked,
    /// Kept, answering nothing that needs it until a person approves (quick unlock).
    Held,
}

/// What the watchdog does now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Nothing until this long from now.
    Wait(Duration),
    /// Hold the identity: idle for `idle`, quick unlock on.
    Hold,
    /// Forget everything (and exit).
    Forget,
}

/// The agent's clocks, as the watchdog sees them.
#[derive(Debug, Clone, Copy)]
pub struct Clocks {
    pub now: Duration,
    /// When the agent started (the absolute limit counts from here at most).
    pub started: Duration,
    /// When the identity arrived.
    pub unlocked_at: Option<Duration>,
    pub last_used: Duration,
    /// How long the machine was suspended since the watchdog's previous look.
    pub slept: Duration,
}

/// The next step for an agent in `phase` with `times`.
pub fn next(phase: Phase, times: &AgentTimes, c: &Clocks) -> Next {
    let limit = times.forget.min(crate::config::MAX_LIFETIME);
    let mut end = c.started.saturating_add(crate::config::MAX_LIFETIME);
    if let Some(at) = c.unlocked_at {
        end = end.min(at.saturating_add(limit));
    }
    // A suspend longer than the idle time: whoever opens the lid must unlock anew.
    if c.now >= end || slept_too_long(c.slept, times.idle) {
        return Next::Forget;
    }
    if phase == Phase::Held {
        return Next::Wait(end - c.now);
    }
    let idle_end = c.last_used.saturating_add(times.idle);
    if c.now >= idle_end {
        return if times.hold && c.unlocked_at.is_some() {
            Next::Hold
        } else {
            Next::Forget
        };
    }
    Next::Wait(idle_end.min(end) - c.now)
}

/// A suspend of `slept` forgets when it is longer than the idle time.
pub fn slept_too_long(slept: Duration, idle: Duration) -> bool {
    slept > idle
}

/// How long the machine slept between two readings of (CLOCK_BOOTTIME − CLOCK_MONOTONIC): the
/// first counts suspend, the second does not, so their gap grows by each suspend.
pub fn slept(previous_gap: Duration, gap: Duration) -> Duration {
    gap.saturating_sub(previous_gap)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    fn times(hold: bool) -> AgentTimes {
        AgentTimes {
            idle: S(600),
            hold,
            forget: S(3600),
        }
    }

    fn at(now: u64, last_used: u64) -> Clocks {
        Clocks {
            now: S(now),
            started: S(0),
            unlocked_at: Some(S(10)),
            last_used: S(last_used),
            slept: S(0),
        }
    }

    #[test]
    fn unlocked_waits_for_the_idle_time_then_holds() {
        let t = times(true);
        assert_eq!(next(Phase::Unlocked, &t, &at(100, 100)), Next::Wait(S(600)));
        assert_eq!(next(Phase::Unlocked, &t, &at(700, 100)), Next::Hold);
        // Quick unlock off: the idle time forgets, as it always did.
        assert_eq!(
            next(Phase::Unlocked, &times(false), &at(700, 100)),
            Next::Forget
        );
        // Nothing unlocked (1Password's cache only): nothing to hold.
        let mut c = at(700, 100);
        c.unlocked_at = None;
        assert_eq!(next(Phase::Unlocked, &t, &c), Next::Forget);
    }

    #[test]
    fn held_waits_for_forget_after_only() {
        let t = times(true);
        // Idle for long: still held, until unlocked_at + forget.
        assert_eq!(
            next(Phase::Held, &t, &at(2000, 100)),
            Next::Wait(S(3610 - 2000))
        );
        assert_eq!(next(Phase::Held, &t, &at(3610, 100)), Next::Forget);
        // An unlocked agent meets the absolute limit too, however busy.
        assert_eq!(next(Phase::Unlocked, &t, &at(3610, 3600)), Next::Forget);
        assert_eq!(
            next(Phase::Unlocked, &t, &at(3300, 3200)),
            Next::Wait(S(310))
        );
    }

    #[test]
    fn forget_after_is_at_most_twelve_hours_from_the_start() {
        let mut t = times(true);
        t.forget = S(48 * 3600);
        let mut c = at(12 * 3600, 0);
        c.unlocked_at = Some(S(1));
        assert_eq!(next(Phase::Held, &t, &c), Next::Forget);
    }

    #[test]
    fn a_suspend_longer_than_the_idle_time_forgets() {
        let t = times(true);
        let mut c = at(200, 150);
        c.slept = S(601);
        assert_eq!(next(Phase::Unlocked, &t, &c), Next::Forget);
        assert_eq!(next(Phase::Held, &t, &c), Next::Forget);
        c.slept = S(599);
        assert_eq!(next(Phase::Unlocked, &t, &c), Next::Wait(S(550)));
    }

    #[test]
    fn suspend_detection() {
        // boottime − monotonic: 5 s of earlier suspends, then a 700 s one.
        assert_eq!(slept(S(5), S(705)), S(700));
        assert!(slept_too_long(slept(S(5), S(705)), S(600)));
        assert!(!slept_too_long(slept(S(5), S(5)), S(600)));
        // Readings never go backwards, but a garbled one must not look like a suspend.
        assert_eq!(slept(S(10), S(5)), S(0));
    }
}
