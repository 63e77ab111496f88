//! The worker pool: each complete request that may take long gets a worker of its own.

use std::os::unix::net::UnixStream;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, Mutex, mpsc};

use crate::link::protocol::Request;
// A clock that counts suspend, and the time spent suspended.
use super::readers::reply;
use super::respond::{AUDIT_PENDING, respond_to};
use super::state::State;
use super::watchdog::wake;

/// Requests worked on at once; more wait for a worker.
const MAX_WORKERS: usize = 64;
/// Threads kept waiting for the next connection.
const SPARE_THREADS: usize = 4;
/// Workers for complete requests, which may take long (decrypting the vault, STS): a thread of
/// its own for each at once, up to [`MAX_WORKERS`] (then they wait their turn); a thread that
/// is done waits for the next request (up to [`SPARE_THREADS`] of them wait), so a request
/// does not pay for creating a thread.
pub(super) struct Pool {
    pub(super) state: Arc<Mutex<State>>,
    pub(super) sock: std::path::PathBuf,
    pub(super) tx: mpsc::Sender<(UnixStream, Request)>,
    pub(super) rx: Arc<Mutex<mpsc::Receiver<(UnixStream, Request)>>>,
    /// Requests sent that no thread has taken yet.
    pub(super) queued: Arc<AtomicUsize>,
    /// Threads waiting on `rx`.
    pub(super) idle: Arc<AtomicUsize>,
    /// Threads alive, busy or waiting.
    pub(super) open: Arc<AtomicUsize>,
}

impl Pool {
    pub(super) fn new(state: Arc<Mutex<State>>, sock: std::path::PathBuf) -> Self {
        let (tx, rx) = mpsc::channel();
        Self {
            state,
            sock,
            tx,
            rx: Arc::new(Mutex::new(rx)),
            queued: Arc::new(AtomicUsize::new(0)),
            idle: Arc::new(AtomicUsize::new(0)),
            open: Arc::new(AtomicUsize::new(0)),
        }
    }

    pub(super) fn submit(&self, stream: UnixStream, req: Request) {
        self.queued.fetch_add(1, SeqCst);
        if self.tx.send((stream, req)).is_err() {
            return;
        }
        if self.queued.load(SeqCst) <= self.idle.load(SeqCst)
            || self.open.load(SeqCst) >= MAX_WORKERS
        {
            return;
        }
        self.open.fetch_add(1, SeqCst);
        let (state, sock) = (Arc::clone(&self.state), self.sock.clone());
        let (rx, queued, idle, open) = (
            Arc::clone(&self.rx),
            Arc::clone(&self.queued),
            Arc::clone(&self.idle),
            Arc::clone(&self.open),
        );
        std::thread::spawn(move || {
            loop {
                idle.fetch_add(1, SeqCst);
                // Err: the accept loop has ended.
                let job = rx.lock().ok().and_then(|rx| rx.recv().ok());
                idle.fetch_sub(1, SeqCst);
                let Some((stream, req)) = job else { break };
                queued.fetch_sub(1, SeqCst);
                let (resp, line) = respond_to(req, &state, true, Some(&stream));
                // The audit line goes after the answer, off the caller's wait; a request to
                // settle waits for it ([`AUDIT_PENDING`]).
                if line.is_some() {
                    AUDIT_PENDING.fetch_add(1, SeqCst);
                }
                reply(stream, &resp);
                if let Some((path, entry)) = line {
                    let _ = crate::audit::append(&path, &entry);
                    AUDIT_PENDING.fetch_sub(1, SeqCst);
                }
                if state.lock().map(|s| s.stop).unwrap_or(true) {
                    // Wake the accept loop so it sees the flag.
                    wake(&sock);
                    break;
                }
                if idle.load(SeqCst) >= SPARE_THREADS && queued.load(SeqCst) == 0 {
                    break;
                }
            }
            open.fetch_sub(1, SeqCst);
        });
    }
}
