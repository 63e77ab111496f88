//! The workers: threads that wait in `accept()` on the agent's socket, read the request a
//! client writes as it connects, and answer it themselves, so a request costs one wake-up and
//! no hand-off. A connection whose request has not arrived goes to the one thread that polls
//! them all (`readers`): an idle or slow client holds no worker.
//!
//! One thread always stays in `accept()`: a worker about to take a request that may take long
//! (decrypting the vault, STS, an approval) first makes sure another is accepting, starting
//! one if need be. With [`MAX_WORKERS`] busy, the last accepter answers only the quick
//! requests (`lock` above all) and queues the rest for the first worker that is done.

use std::collections::VecDeque;
use std::io::Write;
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::atomic::Ordering::SeqCst;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::link::protocol::{Request, Response, check_peer};
// A clock that counts suspend, and the time spent suspended.
use super::answer::answer;
use super::readers::{Reading, parse, reply};
use super::respond::{reply_then_audit, respond_to};
use super::sandbox;
use super::state::State;

/// Threads at most, accepting or busy; more requests wait in the queue.
const MAX_WORKERS: usize = 64;
/// Threads kept waiting in `accept()` once a burst is over.
const SPARE_THREADS: usize = 4;
/// Threads accepting from the start.
const FIRST_THREADS: usize = 2;
/// How long an accepter waits for a request on its way (a client writes it right after
/// connecting; on a busy machine the write may come a moment after the accept). Only while
/// another thread accepts meanwhile; an idle client then goes to the poller.
const ON_ITS_WAY: Duration = Duration::from_millis(2);

pub(super) struct Pool(Arc<Shared>);

struct Shared {
    state: Arc<Mutex<State>>,
    /// Threads at most ([`MAX_WORKERS`]).
    max: usize,
    listener: UnixListener,
    /// Threads alive, accepting or busy.
    open: AtomicUsize,
    /// Threads waiting in `accept()`.
    accepting: AtomicUsize,
    /// Complete requests that no thread could take yet (all [`MAX_WORKERS`] busy).
    queued: Mutex<VecDeque<(UnixStream, Request)>>,
    /// Connections whose request is not complete yet, for the poller.
    unread: Mutex<Vec<Reading>>,
    /// Written to wake the poller (a connection for it, or the stop flag).
    poke: UnixStream,
    stopping: AtomicBool,
}

impl Pool {
    /// Workers accepting on `listener` (blocking); `poke` is written to wake the poller.
    pub(super) fn start(
        state: Arc<Mutex<State>>,
        listener: UnixListener,
        poke: UnixStream,
    ) -> Self {
        Self::start_capped(state, listener, poke, MAX_WORKERS)
    }

    fn start_capped(
        state: Arc<Mutex<State>>,
        listener: UnixListener,
        poke: UnixStream,
        max: usize,
    ) -> Self {
        let shared = Arc::new(Shared {
            state,
            max,
            listener,
            open: AtomicUsize::new(0),
            accepting: AtomicUsize::new(0),
            queued: Mutex::new(VecDeque::new()),
            unread: Mutex::new(Vec::new()),
            poke,
            stopping: AtomicBool::new(false),
        });
        for _ in 0..FIRST_THREADS {
            if shared.reserve() {
                spawn(Arc::clone(&shared), None);
            }
        }
        Self(shared)
    }

    /// The connections accepted whose request has not arrived yet, for the poller.
    pub(super) fn take_unread(&self) -> Vec<Reading> {
        self.0
            .unread
            .lock()
            .map(|mut u| std::mem::take(&mut *u))
            .unwrap_or_default()
    }

    /// A request the poller read whole: quick ones answered on its thread, the rest on a
    /// worker (a new thread, or the first one done).
    pub(super) fn dispatch(&self, stream: UnixStream, req: std::result::Result<Request, String>) {
        let Some((stream, req)) = answer_quick(&self.0.state, stream, req) else {
            return;
        };
        if self.0.reserve() {
            spawn(Arc::clone(&self.0), Some((stream, req)));
        } else {
            self.0.queue(stream, req);
            // Threads busy to the cap; any that wait in accept() look at the queue once woken.
            self.0.nudge();
        }
    }

    /// Workers stop taking requests; the ones busy finish theirs.
    pub(super) fn stop(&self) {
        self.0.stopping.store(true, SeqCst);
    }
}

/// A thread that works on `first`, then accepts (and works) until enough others accept.
fn spawn(shared: Arc<Shared>, first: Option<(UnixStream, Request)>) {
    let started = std::thread::Builder::new()
        .name("op-aws-worker".into())
        .spawn({
            let shared = Arc::clone(&shared);
            move || {
                if let Some((stream, req)) = first {
                    shared.work(stream, req);
                }
                shared.run();
                shared.open.fetch_sub(1, SeqCst);
            }
        });
    if started.is_err() {
        // No thread (out of memory or a limit): the slot goes back; its request, if any, is
        // dropped unanswered, as a busy agent always has.
        shared.open.fetch_sub(1, SeqCst);
    }
}

impl Shared {
    /// One more thread's slot, under the cap.
    fn reserve(&self) -> bool {
        self.open
            .fetch_update(SeqCst, SeqCst, |n| (n < self.max).then_some(n + 1))
            .is_ok()
    }

    fn stopped(&self) -> bool {
        self.stopping.load(SeqCst) || self.state.lock().map(|s| s.stop).unwrap_or(true)
    }

    fn wake_poller(&self) {
        // A byte waiting is enough: a full pipe (WouldBlock) wakes it as well.
        let _ = (&self.poke).write(&[1]);
    }

    fn queue(&self, stream: UnixStream, req: Request) {
        if let Ok(mut q) = self.queued.lock() {
            q.push_back((stream, req));
        }
    }

    /// Wakes a thread out of `accept()` with a connection that sends nothing and closes, so it
    /// looks at the queue. Never blocks (the poller calls it): with the backlog full, the
    /// accepting threads are awake anyway.
    fn nudge(&self) {
        use nix::fcntl::{FcntlArg, OFlag, fcntl};
        use nix::sys::socket::{AddressFamily, SockFlag, SockType, UnixAddr, connect, socket};
        use std::os::fd::AsRawFd;
        let Ok(local) = self.listener.local_addr() else {
            return;
        };
        let Some(Ok(addr)) = local.as_pathname().map(UnixAddr::new) else {
            return;
        };
        let Ok(fd) = socket(
            AddressFamily::Unix,
            SockType::Stream,
            SockFlag::empty(),
            None,
        ) else {
            return;
        };
        if fcntl(&fd, FcntlArg::F_SETFL(OFlag::O_NONBLOCK)).is_ok() {
            let _ = connect(fd.as_raw_fd(), &addr);
        }
    }

    /// Whether this thread may take a request that may take long: yes while another thread
    /// accepts, starting one when none does; no when none can be started (this thread then
    /// stays the accepter).
    fn may_work(self: &Arc<Self>) -> bool {
        if self.accepting.load(SeqCst) > 0 {
            return true;
        }
        if self.reserve() {
            spawn(Arc::clone(self), None);
            return true;
        }
        false
    }

    /// Accepts and answers, working through the queue between connections, until enough
    /// other threads accept.
    fn run(self: &Arc<Self>) {
        loop {
            self.work_queued();
            if self.stopped() {
                self.wake_poller();
                return;
            }
            if self.accepting.load(SeqCst) >= SPARE_THREADS {
                return;
            }
            self.accepting.fetch_add(1, SeqCst);
            let accepted = self.listener.accept();
            let others = self.accepting.fetch_sub(1, SeqCst) > 1;
            match accepted {
                Ok((stream, _)) => self.take(stream, others),
                // Out of descriptors, most likely: a moment for some to close.
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    }

    fn work_queued(self: &Arc<Self>) {
        loop {
            let job = self.queued.lock().ok().and_then(|mut q| q.pop_front());
            let Some((stream, req)) = job else { return };
            if !self.may_work() {
                if let Ok(mut q) = self.queued.lock() {
                    q.push_front((stream, req));
                }
                return;
            }
            self.work(stream, req);
        }
    }

    /// A connection just accepted: its request read (or handed to the poller) and answered.
    fn take(self: &Arc<Self>, stream: UnixStream, others: bool) {
        if let Err(e) = check_peer(&stream) {
            reply(stream, &Response::refuse(e));
            return;
        }
        if stream.set_nonblocking(true).is_err() {
            return;
        }
        let mut r = Reading::new(stream);
        let mut got = r.read_more();
        if matches!(got, Ok(None)) && others && r.wait_readable(ON_ITS_WAY) {
            got = r.read_more();
        }
        let req = match got {
            Ok(Some(line)) => parse(&line),
            Ok(None) => {
                if let Ok(mut u) = self.unread.lock() {
                    u.push(r);
                }
                self.wake_poller();
                return;
            }
            // Gone before its request: nothing to answer.
            Err(None) => return,
            Err(Some(why)) => Err(why),
        };
        let Some((stream, req)) = answer_quick(&self.state, r.stream, req) else {
            return;
        };
        if self.may_work() {
            self.work(stream, req);
        } else {
            self.queue(stream, req);
        }
    }

    /// A request that may take long, answered on this thread.
    fn work(&self, stream: UnixStream, req: Request) {
        if let Request::SandboxStop { name } = req {
            // Forgetting its sessions may wait for a cache lock.
            reply(stream, &sandbox::stop(&self.state, &name));
            return;
        }
        let (resp, line) = respond_to(req, &self.state, true, Some(&stream));
        reply_then_audit(stream, &resp, line);
    }
}

/// Answers a refusal or a quick request (never waiting on anything but the state's lock, so
/// they get through however busy the workers are); gives back any other.
fn answer_quick(
    state: &Arc<Mutex<State>>,
    stream: UnixStream,
    req: std::result::Result<Request, String>,
) -> Option<(UnixStream, Request)> {
    match req {
        Ok(req @ (Request::Lock | Request::Status)) => reply(stream, &answer(req, state)),
        // Quick too, and only here (never on a capability, nor in the fuzz targets).
        Ok(Request::SandboxOpen { spec, person }) => {
            reply(stream, &sandbox::open(state, spec, person));
        }
        Ok(Request::SandboxList) => reply(stream, &sandbox::list(state)),
        Ok(req) => return Some((stream, req)),
        Err(e) => reply(stream, &Response::refuse(e)),
    }
    None
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader};
    use std::os::fd::AsFd;

    use super::super::respond::AUDIT_PENDING;
    use super::*;

    fn answer_within(stream: &UnixStream, wait: Duration) -> Option<String> {
        stream.set_read_timeout(Some(wait)).unwrap();
        let mut line = String::new();
        BufReader::new(stream).read_line(&mut line).ok()?;
        (!line.is_empty()).then_some(line)
    }

    fn pool(max: usize) -> (tempfile::TempDir, std::path::PathBuf, Pool) {
        let dir = tempfile::tempdir().unwrap();
        let vars = ["CONFIG", "DATA", "CACHE", "RUNTIME"].map(|d| {
            let path = dir.path().join(d.to_lowercase());
            (format!("OP_AWS_{d}_DIR"), path.into_os_string())
        });
        let caller = crate::caller::Caller::new(vars, dir.path().into(), false);
        let dirs = crate::dirs::Dirs::new(&caller).unwrap();
        let state = super::super::respond::InProcess::new(dirs, None).state();
        let sock = dir.path().join("agent.sock");
        let listener = UnixListener::bind(&sock).unwrap();
        let (poke, _wake) = UnixStream::pair().unwrap();
        poke.set_nonblocking(true).unwrap();
        (dir, sock, Pool::start_capped(state, listener, poke, max))
    }

    /// A request the poller read whole while no thread can be started is queued, and a thread
    /// waiting in accept() is woken to take it (nothing else would wake it).
    #[test]
    fn a_request_queued_at_the_cap_wakes_an_accepter() {
        let (_dir, _sock, pool) = pool(FIRST_THREADS);
        let waiting = (0..500).any(|_| {
            std::thread::sleep(Duration::from_millis(10));
            pool.0.accepting.load(SeqCst) == FIRST_THREADS
        });
        assert!(waiting, "the threads never reached accept()");
        let (ours, theirs) = UnixStream::pair().unwrap();
        pool.dispatch(ours, Ok(Request::AuditSettle));
        assert!(
            answer_within(&theirs, Duration::from_secs(5)).is_some(),
            "the queued request was never answered"
        );
    }

    /// At the cap, the last thread accepting answers the quick requests itself and queues the
    /// rest for the first worker done: `status` gets through while every worker is busy, and
    /// the queued requests are answered once one is free.
    #[test]
    fn at_the_cap_the_last_accepter_answers_status_and_queues_the_rest() {
        let (_dir, sock, _pool) = pool(2);
        let ask = |line: &str| {
            let mut s = UnixStream::connect(&sock).unwrap();
            s.write_all(line.as_bytes()).unwrap();
            s
        };
        // A settle waits while an answer's audit line is pending (10 s at most): a request
        // that keeps its worker busy. Two threads: one takes the first, the other, the last
        // accepting, queues the next two.
        AUDIT_PENDING.fetch_add(1, SeqCst);
        let settles: Vec<UnixStream> = (0..3).map(|_| ask("{\"op\":\"audit_settle\"}\n")).collect();
        let status = ask("{\"op\":\"status\"}\n");
        let answered = answer_within(&status, Duration::from_secs(5));
        let busy = settles.iter().all(|s| {
            let mut fds = [nix::poll::PollFd::new(
                s.as_fd(),
                nix::poll::PollFlags::POLLIN,
            )];
            nix::poll::poll(&mut fds, nix::poll::PollTimeout::ZERO) == Ok(0)
        });
        AUDIT_PENDING.fetch_sub(1, SeqCst);
        assert!(
            answered.is_some_and(|a| a.contains("status")),
            "status waited for a worker"
        );
        assert!(
            busy,
            "a settle was answered before the audit line was written"
        );
        for s in &settles {
            let a = answer_within(s, Duration::from_secs(5));
            assert!(a.is_some(), "a queued request was never answered");
        }
    }
}
