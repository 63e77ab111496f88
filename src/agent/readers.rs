//! Reading request lines that had not arrived when their connection was accepted: one thread
//! polls them all, so an idle or slow client holds no thread.

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use zeroize::Zeroizing;

use crate::link::protocol::{IO_TIMEOUT, MAX_REQUEST, REQUEST_DEADLINE, Request, Response};
// A clock that counts suspend, and the time spent suspended.
use crate::vault::{self};

/// Connections waiting for their request line, read by one thread polling them all: an idle or
/// slow client holds a slot here, never a worker.
const MAX_PENDING: usize = 512;

pub(super) struct Reading {
    pub(super) stream: UnixStream,
    pub(super) buf: Zeroizing<Vec<u8>>,
    pub(super) deadline: std::time::Instant,
}

#[derive(Default)]
pub(super) struct Readers {
    pub(super) pending: std::collections::VecDeque<Reading>,
}

impl Readers {
    /// Takes connections a worker accepted before their request arrived. When full, the
    /// oldest is closed to make room.
    pub(super) fn adopt(&mut self, fresh: Vec<Reading>) {
        for r in fresh {
            if self.pending.len() >= MAX_PENDING {
                // Dropped: closed unread, as a busy agent always has.
                self.pending.pop_front();
            }
            self.pending.push_back(r);
        }
    }

    /// Waits (at most a second, so the caller sees its stop flag, and until `wake` is
    /// written) for bytes, and returns each request that is complete, or refused (too long,
    /// too slow, not JSON).
    pub(super) fn next_requests(
        &mut self,
        wake: &UnixStream,
    ) -> Vec<(UnixStream, std::result::Result<Request, String>)> {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        use std::os::fd::AsFd;
        let now = std::time::Instant::now();
        let wait = self
            .pending
            .iter()
            .map(|r| r.deadline.saturating_duration_since(now))
            .min()
            .unwrap_or(Duration::from_secs(1))
            .min(Duration::from_secs(1));
        let ready: Vec<bool> = {
            let mut fds = Vec::with_capacity(self.pending.len() + 1);
            fds.push(PollFd::new(wake.as_fd(), PollFlags::POLLIN));
            for r in &self.pending {
                fds.push(PollFd::new(r.stream.as_fd(), PollFlags::POLLIN));
            }
            let ms = u16::try_from(wait.as_millis()).unwrap_or(1000).max(1);
            if poll(&mut fds, PollTimeout::from(ms)).is_err() {
                // EINTR, or no memory for the poll set: looked at again on the next turn.
                return Vec::new();
            }
            fds.iter()
                .map(|f| f.revents().is_some_and(|e| !e.is_empty()))
                .collect()
        };
        if ready.first().copied().unwrap_or(false) {
            use std::io::Read;
            let mut drained = [0u8; 64];
            while matches!((&*wake).read(&mut drained), Ok(n) if n > 0) {}
        }
        let mut out = Vec::new();
        let now = std::time::Instant::now();
        let pending = std::mem::take(&mut self.pending);
        for (mut r, ready) in pending.into_iter().zip(ready.iter().skip(1)) {
            let progress = if *ready { r.read_more() } else { Ok(None) };
            match progress {
                Ok(Some(line)) => out.push((r.stream, parse(&line))),
                Ok(None) if now < r.deadline => self.pending.push_back(r),
                Ok(None) => out.push((r.stream, Err("request too slow".into()))),
                // Gone before its request: nothing to answer.
                Err(None) => {}
                Err(Some(why)) => out.push((r.stream, Err(why))),
            }
        }
        out
    }
}

/// A request line as the agent takes it.
pub(super) fn parse(line: &[u8]) -> std::result::Result<Request, String> {
    Request::from_line(line).map_err(|e| format!("bad request: {}", vault::json_error(&e)))
}

impl Reading {
    /// A connection just accepted (non-blocking), given [`REQUEST_DEADLINE`] for its request.
    pub(super) fn new(stream: UnixStream) -> Self {
        Self {
            stream,
            buf: Zeroizing::new(Vec::with_capacity(4096)),
            deadline: std::time::Instant::now() + REQUEST_DEADLINE,
        }
    }

    /// Whether bytes (or the end) arrived within `wait`.
    pub(super) fn wait_readable(&self, wait: Duration) -> bool {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        use std::os::fd::AsFd;
        let mut fds = [PollFd::new(self.stream.as_fd(), PollFlags::POLLIN)];
        let ms = u16::try_from(wait.as_millis()).unwrap_or(u16::MAX).max(1);
        matches!(poll(&mut fds, PollTimeout::from(ms)), Ok(n) if n > 0)
    }

    /// Reads what has arrived: `Ok(Some(line))` once the request line is whole; `Err(None)`
    /// when the client went away, `Err(Some(why))` when it is refused.
    pub(super) fn read_more(
        &mut self,
    ) -> std::result::Result<Option<Zeroizing<Vec<u8>>>, Option<String>> {
        use std::io::Read;
        const CHUNK: usize = 4096;
        loop {
            let len = self.buf.len();
            // Grown by hand: a reallocation would leave an unzeroed copy of a secret behind.
            if self.buf.capacity() < len + CHUNK {
                let mut bigger = Zeroizing::new(Vec::with_capacity((len + CHUNK) * 2));
                bigger.extend_from_slice(&self.buf);
                self.buf = bigger;
            }
            // Read straight into the buffer (its spare room zeroed first, then cut back to
            // what arrived; dropping it zeroes all of its room).
            self.buf.resize(len + CHUNK, 0);
            let read = self.stream.read(&mut self.buf[len..]);
            self.buf.truncate(len + read.as_ref().map_or(0, |n| *n));
            let n = match read {
                Ok(0) => return Err(None),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => return Err(None),
            };
            let end = self.buf[len..].iter().position(|b| *b == b'\n');
            let take = end.unwrap_or(n);
            if len + take > usize::try_from(MAX_REQUEST).unwrap_or(usize::MAX) {
                return Err(Some("request too long".into()));
            }
            if end.is_some() {
                // Whatever came after the line (a client sends one) is dropped.
                self.buf.truncate(len + take);
                return Ok(Some(std::mem::take(&mut self.buf)));
            }
        }
    }
}

/// Writes `resp` as one line: at once when the socket takes it all (an answer is small), else
/// waiting, [`IO_TIMEOUT`] at most, for a client that is slow to read.
pub(super) fn reply(mut stream: UnixStream, resp: &Response) {
    let Ok(mut out) = serde_json::to_vec(resp).map(Zeroizing::new) else {
        return;
    };
    out.push(b'\n');
    let sent = match stream.write(&out) {
        Ok(n) => n,
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => 0,
        Err(_) => return,
    };
    if sent < out.len() {
        let _ = stream.set_nonblocking(false);
        let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
        let _ = stream.write_all(&out[sent..]);
    }
}
