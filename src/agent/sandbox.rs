//! Sandboxes' capabilities: each a socket of its own in `<runtime>/sandboxes/<name>/`, served
//! by a thread of its own. Whatever a request on it says about its caller, it is the sandbox's
//! agent's: resolved in the environment of the person who opened it, under the sandbox's
//! policy, items and profiles; and it may only ask for credentials (and the agent's status).

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, Mutex};

use zeroize::Zeroizing;

use super::answer::{answer, here_ctx};
use super::capability::Capability;
use super::readers::parse;
use super::respond::{reply_then_audit, respond_to};
use super::state::State;
use crate::Error;
use crate::link::protocol::{MAX_REQUEST, REQUEST_DEADLINE, Request, Response, check_peer};
use crate::model::sandbox::{Assumed, Spec};
use crate::os::clock;

/// Connections one sandbox may have answered at once; more are closed unanswered.
const MAX_IN_FLIGHT: usize = 16;

/// Opens `spec`'s capability: its directory and socket, and the thread that serves it.
pub(super) fn open(
    state: &Arc<Mutex<State>>,
    spec: Spec,
    person: Vec<(String, Zeroizing<String>)>,
) -> Response {
    let name = spec.name.clone();
    if !Spec::valid_name(&name) {
        return Response::fail(&Error::sandbox(
            &name,
            Spec::NAME_RULE,
            "pass another --name",
        ));
    }
    let Ok(mut s) = state.lock() else {
        return Response::refuse("internal error");
    };
    if s.sandboxes.contains_key(&name) {
        return Response::fail(&Error::sandbox(
            &name,
            "one of that name is open",
            format!("pass another --name, or close it: `op-aws sandbox stop {name}`"),
        ));
    }
    let parent = s.dirs.runtime.join("sandboxes");
    let dir = parent.join(&name);
    let listener = match bind(&parent, &dir) {
        Ok(l) => l,
        Err(e) => return Response::fail(&e),
    };
    let cap = Arc::new(Capability::new(spec, person, dir.clone(), clock::now()));
    s.sandboxes.insert(name, Arc::clone(&cap));
    drop(s);
    let state = Arc::clone(state);
    std::thread::spawn(move || serve(&state, &cap, &listener));
    Response {
        value: Some(Zeroizing::new(dir.to_string_lossy().into_owned())),
        ..Response::default()
    }
}

/// A fresh 0700 directory with a 0600 socket listening in it (one left by an agent that died
/// is replaced).
fn bind(parent: &std::path::Path, dir: &std::path::Path) -> crate::Result<UnixListener> {
    crate::fsutil::ensure_private_dir(parent)?;
    let _ = std::fs::remove_dir_all(dir);
    crate::fsutil::ensure_private_dir(dir)?;
    let sock = dir.join("agent.sock");
    let listener = UnixListener::bind(&sock).map_err(|e| Error::io(&sock, e))?;
    std::fs::set_permissions(&sock, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| Error::io(&sock, e))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| Error::io(&sock, e))?;
    Ok(listener)
}

/// The open sandboxes.
pub(super) fn list(state: &Mutex<State>) -> Response {
    let Ok(s) = state.lock() else {
        return Response::refuse("internal error");
    };
    let now = clock::now();
    let mut all: Vec<_> = s.sandboxes.values().map(|c| c.listed(now)).collect();
    all.sort_by(|a, b| a.spec.name.cmp(&b.spec.name));
    Response {
        sandboxes: Some(all),
        ..Response::default()
    }
}

/// Closes `name`'s capability, forgets the sessions issued to it (cached or remembered) and
/// its approvals; answers what it was, with every role its sessions assumed.
pub(super) fn stop(state: &Arc<Mutex<State>>, name: &str) -> Response {
    let Ok(mut s) = state.lock() else {
        return Response::refuse("internal error");
    };
    let Some(cap) = s.sandboxes.remove(name) else {
        return Response::fail(&Error::sandbox(
            name,
            "no sandbox of that name is open",
            "`op-aws sandbox list` shows the open ones",
        ));
    };
    cap.close();
    let dirs = s.dirs.clone();
    let person = s.person.clone().unwrap_or_default();
    drop(s);
    let mut listed = cap.listed(clock::now());
    if let Ok(ctx) = here_ctx(state, &dirs, person) {
        for m in crate::sts::cache::forget_agent(&ctx, name) {
            if let Some(role_arn) = m.role_arn {
                let a = Assumed {
                    role_arn,
                    item: m.item,
                };
                if !listed.roles.contains(&a) {
                    listed.roles.push(a);
                }
            }
        }
    }
    listed.roles.sort();
    crate::approval::forget(name);
    Response {
        sandboxes: Some(vec![listed]),
        ..Response::default()
    }
}

/// Accepts the sandbox's connections until it is closed or the agent stops.
fn serve(state: &Arc<Mutex<State>>, cap: &Arc<Capability>, listener: &UnixListener) {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use std::os::fd::AsFd;
    loop {
        if cap.is_closed() || state.lock().map(|s| s.stop).unwrap_or(true) {
            break;
        }
        let mut fds = [PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
        if poll(&mut fds, PollTimeout::from(500u16)).unwrap_or(0) == 0 {
            continue;
        }
        let Ok((stream, _)) = listener.accept() else {
            continue;
        };
        if check_peer(&stream).is_err() || cap.in_flight.load(SeqCst) >= MAX_IN_FLIGHT {
            continue;
        }
        cap.in_flight.fetch_add(1, SeqCst);
        let (state, cap) = (Arc::clone(state), Arc::clone(cap));
        std::thread::spawn(move || {
            handle(&state, &cap, stream);
            cap.in_flight.fetch_sub(1, SeqCst);
        });
    }
    cap.close();
    let _ = std::fs::remove_dir_all(&cap.dir);
}

/// One connection: its request line, answered as the sandbox's agent's.
fn handle(state: &Arc<Mutex<State>>, cap: &Capability, stream: UnixStream) {
    if stream.set_nonblocking(false).is_err()
        || stream.set_read_timeout(Some(REQUEST_DEADLINE)).is_err()
    {
        return;
    }
    let Some(line) = read_line(&stream) else {
        return;
    };
    let (resp, audit) = match parse(&line) {
        Err(e) => (Response::refuse(e), None),
        Ok(Request::Status) => (answer(Request::Status, state), None),
        Ok(Request::Resolve(asked)) => {
            let confined = asked.confined(
                &cap.spec,
                &cap.person,
                crate::link::protocol::peer(&stream).map(|(pid, _)| pid),
            );
            let (resp, audit) = respond_to(
                Request::Resolve(Box::new(confined)),
                state,
                true,
                Some(&stream),
            );
            (checked(cap, resp), audit)
        }
        Ok(_) => (
            Response::fail(&Error::sandbox(
                &cap.spec.name,
                "a sandbox asks for credentials only (run, credential-process, the endpoint)",
                "export, items, the vault, unlocking, trust and settings are the person's, outside the sandbox",
            )),
            None,
        ),
    };
    // Closed while it was being worked on: nothing goes out.
    let resp = if cap.is_closed() {
        Response::fail(&Error::SandboxClosed(cap.spec.name.clone()))
    } else {
        resp
    };
    if resp.error.is_some() {
        cap.refused.fetch_add(1, SeqCst);
    } else {
        cap.served.fetch_add(1, SeqCst);
    }
    reply_then_audit(stream, &resp, audit);
}

/// The request line, in a buffer big enough for any (never reallocated: no unzeroed copy of
/// what the request carries is left behind); None when it is too long or never ends.
fn read_line(mut stream: &UnixStream) -> Option<Zeroizing<Vec<u8>>> {
    let max = usize::try_from(MAX_REQUEST).unwrap_or(usize::MAX);
    let mut line = Zeroizing::new(Vec::with_capacity(max));
    let mut chunk = Zeroizing::new([0u8; 4096]);
    loop {
        let n = stream.read(&mut chunk[..]).ok()?;
        if n == 0 {
            return None;
        }
        let end = chunk[..n].iter().position(|b| *b == b'\n');
        let take = end.unwrap_or(n);
        if line.len() + take > max {
            return None;
        }
        line.extend_from_slice(&chunk[..take]);
        if end.is_some() {
            return Some(line);
        }
    }
}

/// What the agent answered, as the sandbox may have it: never "do it yourself" (a sandbox has
/// nothing to do it with) and never a profile handed to the tool to sign itself in; the role
/// assumed is kept for `sandbox stop --revoke`.
fn checked(cap: &Capability, resp: Response) -> Response {
    let name = &cap.spec.name;
    if let Some(code) = resp.code.as_deref() {
        let why = match code {
            "caller" => "this needs the person: a terminal, a browser, `op` or a security key",
            "locked" => "the vault is locked",
            "held" | "refused" => "the agent holds the vault until the person approves",
            _ => return resp,
        };
        let said = resp.error.as_deref().unwrap_or_default();
        return Response::fail(&Error::sandbox(
            name,
            format!("{why} ({})", crate::error::printable(said)),
            "the person does it outside the sandbox (`op-aws unlock`, `op-aws sso login`, or `op-aws run` once with the same profile), then the sandbox is served",
        ));
    }
    let Some(answer) = resp.resolved.as_deref() else {
        return resp;
    };
    if answer.handover() {
        return Response::fail(&Error::sandbox(
            name,
            format!(
                "profile {:?} signs itself in (SSO, credential_process or web identity), which a sandbox cannot do",
                crate::error::printable(answer.profile().unwrap_or_default())
            ),
            "use a profile whose credentials op-aws keeps (op_aws_item, or op-aws's own SSO sign-in)",
        ));
    }
    if let (Some(role_arn), Some(item)) = (answer.role(), answer.item())
        && let Ok(mut roles) = cap.roles.lock()
    {
        roles.insert(Assumed {
            role_arn: role_arn.to_owned(),
            item: item.to_owned(),
        });
    }
    resp
}
