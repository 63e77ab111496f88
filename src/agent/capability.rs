//! A sandbox's capability as the agent keeps it: what it was opened for, the person's
//! environment its requests resolve in, and whether it is still open.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use zeroize::Zeroizing;

use crate::model::sandbox::{Assumed, Listed, Spec};

pub(super) struct Capability {
    pub(super) spec: Spec,
    /// The variables of the person who opened it: every request resolves in them.
    pub(super) person: Vec<(String, Zeroizing<String>)>,
    /// Its directory; the socket is `agent.sock` in it.
    pub(super) dir: PathBuf,
    pub(super) opened: Duration,
    closed: AtomicBool,
    pub(super) served: AtomicU64,
    pub(super) refused: AtomicU64,
    /// Connections being answered (bounded: a sandbox cannot tie up the agent's threads).
    pub(super) in_flight: AtomicUsize,
    pub(super) roles: Mutex<BTreeSet<Assumed>>,
}

impl Capability {
    pub(super) fn new(
        spec: Spec,
        person: Vec<(String, Zeroizing<String>)>,
        dir: PathBuf,
        opened: Duration,
    ) -> Self {
        Self {
            spec,
            person,
            dir,
            opened,
            closed: AtomicBool::new(false),
            served: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            roles: Mutex::new(BTreeSet::new()),
        }
    }

    pub(super) fn socket(&self) -> PathBuf {
        self.dir.join("agent.sock")
    }

    pub(super) fn is_closed(&self) -> bool {
        self.closed.load(SeqCst)
    }

    /// Closed at once: the socket goes (no new connection reaches it), and a request already
    /// read is refused before it is answered. Its thread removes the directory.
    pub(super) fn close(&self) {
        self.closed.store(true, SeqCst);
        let _ = std::fs::remove_file(self.socket());
    }

    pub(super) fn listed(&self, now: Duration) -> Listed {
        Listed {
            spec: self.spec.clone(),
            dir: self.dir.clone(),
            open_secs: now.saturating_sub(self.opened).as_secs(),
            served: self.served.load(SeqCst),
            refused: self.refused.load(SeqCst),
            roles: self
                .roles
                .lock()
                .map(|r| r.iter().cloned().collect())
                .unwrap_or_default(),
        }
    }
}
