//! The audit trail: every release of credentials (by `run`, `export`, `credential-process`, the
//! endpoint; to a person or an agent) and every refusal appends one JSON line to `audit.log` in
//! op-aws's data directory. Never a secret: who (pid, executable, command line with anything
//! secret-looking masked, class), what (item, profile, role, session policy, expiry) and how it
//! was approved.
//!
//! Each line is one `write(2)` on a file opened with `O_APPEND`, so concurrent writers never
//! interleave. The log is rotated by size (one older generation, `audit.log.1`). A line torn by
//! a crash is skipped and counted by the reader; the next writer starts on a fresh line.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::ctx::Ctx;
use crate::model::policy::Ask;
use crate::model::resolution::{Request, Resolution, Want};
use crate::{Error, Result, fsutil};

/// The log is rotated past this size.
pub const MAX_BYTES: u64 = 4 * 1024 * 1024;
/// A line longer than this is cut (its command line shortened).
const MAX_COMMAND: usize = 1000;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// RFC 3339, UTC.
    pub time: String,
    /// "released", "refused" or "denied" (a person said no).
    pub outcome: String,
    pub pid: Option<u32>,
    pub exe: Option<String>,
    pub command: String,
    /// "person" or "agent".
    pub class: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// Why the caller is of its class.
    pub why: String,
    /// run, export, credential-process, endpoint.
    pub via: String,
    pub item: Option<String>,
    pub profile: Option<String>,
    pub role: Option<String>,
    pub policy: String,
    /// RFC 3339; None for long-lived keys.
    pub expires: Option<String>,
    /// How it was allowed (or why not).
    pub approved: String,
    /// A keyless run's request (`via` = "keyless"): the call and the answer's HTTP status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
}

pub fn log_path(ctx: &Ctx) -> PathBuf {
    ctx.dirs.data.join("audit.log")
}

/// After the resolver: one line for a release or a refusal; nothing for what-applies-here and
/// for what the agent hands back to its caller (the caller then writes it).
pub fn after(ctx: &Ctx, req: &Request<'_>, r: &Result<Resolution>) {
    // The trail must not stop the command (the library prints nothing; a log that cannot be
    // written shows as missing lines in `op-aws audit`).
    if let Some(e) = entry(ctx, req, r) {
        let _ = append(&log_path(ctx), &e);
    }
}

/// The line [`after`] appends, if any (the agent appends it once its caller has the answer).
pub fn entry(ctx: &Ctx, req: &Request<'_>, r: &Result<Resolution>) -> Option<Entry> {
    if matches!(req.want, Want::Here { .. }) {
        return None;
    }
    let class = crate::agents::of(ctx);
    let mut e = Entry {
        time: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        pid: ctx.caller.pid,
        exe: ctx.caller.pid.and_then(proc_exe),
        command: command_line(ctx, &req.ask),
        class: class.name().into(),
        agent: class.agent().map(str::to_owned),
        why: class.why().to_owned(),
        via: req.ask.via.name().into(),
        profile: req.profile.map(str::to_owned),
        item: req.item.map(str::to_owned),
        ..Entry::default()
    };
    match r {
        Ok(res) => {
            let creds = res.creds.as_ref()?;
            e.outcome = "released".into();
            e.profile = res.profile.clone().or(e.profile);
            e.item = res.applied.as_ref().map(|a| a.item.clone()).or(e.item);
            // An `aws login` session signs the chain, not an item: named in the item's place.
            if let Some(arn) = &res.login_session {
                e.item = Some(format!("login:{arn}"));
            }
            e.expires = creds.expiration_rfc3339();
            if let Some(d) = &res.decision {
                e.policy = d.scope.policy.describe();
                e.approved = d.approved.clone().unwrap_or_default();
                e.role.clone_from(&d.role);
            } else {
                e.policy = "none".into();
                e.approved = "sso".into();
            }
        }
        Err(err) => {
            let why = refusal(err)?;
            e.outcome = if why.contains("said no") {
                "denied".into()
            } else {
                "refused".into()
            };
            e.approved = why;
            e.policy = "-".into();
        }
    }
    Some(e)
}

fn refusal(e: &Error) -> Option<String> {
    match e {
        Error::AgentRefused { why, .. } => Some(why.clone()),
        Error::Step { source, .. } => refusal(source),
        _ => None,
    }
}

/// Appends `e` as one line: one write on an `O_APPEND` file (0600, in a 0700 directory),
/// after rotating a full log.
pub fn append(path: &Path, e: &Entry) -> Result<()> {
    let mut e = e.clone();
    if e.command.len() > MAX_COMMAND {
        let mut cut = MAX_COMMAND;
        while !e.command.is_char_boundary(cut) {
            cut -= 1;
        }
        e.command.truncate(cut);
        e.command.push('…');
    }
    let io = |err| Error::io(path, err);
    // Readable too: the last byte says whether a torn line needs closing.
    let open = || {
        OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .mode(0o600)
            .open(path)
    };
    // Each release appends a line, so the usual case costs an open, a lock, one fstat, one
    // pread and the write: the directory is made (private) only when the first open finds none, and a
    // full log is rotated when the open file says so.
    let mut f = match open() {
        Ok(f) => f,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            fsutil::ensure_private_dir(path.parent().unwrap_or(Path::new(".")))?;
            open().map_err(io)?
        }
        Err(err) => return Err(io(err)),
    };
    // Held from the size read to the write: another writer's line may grow the file in steps
    // (one per page), and a size read in between looks like a torn line (an empty line would
    // follow). Best effort: where the file system has no locks, as before.
    let _ = f.lock();
    let mut len = f.metadata().map_err(io)?.len();
    if len >= MAX_BYTES {
        drop(f);
        rotate_if_full(path)?;
        f = open().map_err(io)?;
        let _ = f.lock();
        len = f.metadata().map_err(io)?.len();
    }
    let mut line = serde_json::to_vec(&e).map_err(|err| Error::Invalid(err.to_string()))?;
    line.push(b'\n');
    // A line torn by a crash: start on a fresh one so this one stays whole.
    let mut last = [0u8; 1];
    if len > 0 && f.read_at(&mut last, len - 1).is_ok() && last[0] != b'\n' {
        line.insert(0, b'\n');
    }
    (&f).write_all(&line).map_err(io)
}

fn rotate_if_full(path: &Path) -> Result<()> {
    let full = |p: &Path| std::fs::metadata(p).is_ok_and(|m| m.len() >= MAX_BYTES);
    if !full(path) {
        return Ok(());
    }
    let _lock = fsutil::lock_exclusive(path)?;
    // Another writer may have rotated it while this one waited.
    if full(path) {
        std::fs::rename(path, path.with_extension("log.1")).map_err(|e| Error::io(path, e))?;
    }
    Ok(())
}

/// What the reader found.
#[derive(Debug, Default)]
pub struct Read {
    pub entries: Vec<Entry>,
    /// Lines that are not whole entries (a crash mid-write), skipped.
    pub damaged: usize,
}

/// Every entry, oldest first (the rotated generation, then the current log).
pub fn read(path: &Path) -> Result<Read> {
    let mut out = Read::default();
    for p in [path.with_extension("log.1"), path.to_owned()] {
        let Some(bytes) = fsutil::read_optional(&p)? else {
            continue;
        };
        for line in bytes.split(|b| *b == b'\n') {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<Entry>(line) {
                Ok(e) => out.entries.push(e),
                Err(_) => out.damaged += 1,
            }
        }
    }
    Ok(out)
}

/// `since`: a duration back from now ("1h", "2d") or an RFC 3339 time.
pub fn parse_since(since: &str) -> Result<std::time::SystemTime> {
    let now = std::time::SystemTime::now();
    if let Ok(d) = humantime::parse_duration(since) {
        return Ok(now - d);
    }
    humantime::parse_rfc3339_weak(since).map_err(|_| {
        Error::Invalid(format!(
            "--since {:?} is neither a duration (1h, 2d) nor a time (2026-12-04T10:00:00Z)",
            crate::error::printable(since)
        ))
    })
}

/// The entries at or after `since`, only agents' with `agents_only`.
/// The entries of `ctx`'s log, once the agent has written the lines of every answer it gave
/// (it appends them after answering, off its callers' wait).
pub fn query_settled(
    ctx: &Ctx,
    since: Option<std::time::SystemTime>,
    agents_only: bool,
) -> Result<Read> {
    // An agent too old to know the request, or none: nothing is pending.
    let _ = ctx.agent.audit_settle();
    query(&log_path(ctx), since, agents_only)
}

pub fn query(path: &Path, since: Option<std::time::SystemTime>, agents_only: bool) -> Result<Read> {
    let mut r = read(path)?;
    r.entries.retain(|e| {
        let when = humantime::parse_rfc3339_weak(&e.time).ok();
        (!agents_only || e.class == "agent") && since.is_none_or(|s| when.is_some_and(|w| w >= s))
    });
    Ok(r)
}

/// A process's argv (`/proc/PID/cmdline`; `KERN_PROCARGS2` on macOS), empty when gone or
/// unreadable.
pub fn proc_cmdline(pid: u32) -> Vec<String> {
    crate::os::Procs::System.argv(pid)
}

fn proc_exe(pid: u32) -> Option<String> {
    crate::os::exe(pid).map(|p| p.display().to_string())
}

/// Words that mark an option or variable whose value may be a secret.
const SECRET_WORDS: &[&str] = &["secret", "password", "passwd", "token", "credential", "key"];

fn secretish(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    // `--key`-like options are common and harmless in S3 commands (`--key path`); only those
    // naming a secret, or ending in `-key` next to access/secret/private, are masked.
    SECRET_WORDS
        .iter()
        .filter(|w| **w != "key")
        .any(|w| n.contains(w))
        || [
            "access-key",
            "access_key",
            "private-key",
            "private_key",
            "api-key",
            "api_key",
        ]
        .iter()
        .any(|w| n.contains(w))
}

/// Options whose next argument (or glued value) is a secret, whatever their name says:
/// `--pass`, `--apikey`, and mysql's and others' `-p`.
const SECRET_OPTIONS: &[&str] = &["--pass", "--apikey", "--api-token", "--auth"];

/// Header names whose value is a credential.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-api-key",
];

/// `argv` as one printable line with every value that may be a secret masked: the value of an
/// option or `VAR=` assignment whose name says secret, password, token, credential or a key
/// (and of `--pass`, `--apikey`, a glued `-pPASS`), an `Authorization:`-like header after `-H`,
/// a `Bearer`/`Basic` credential, the password of a `user:pass@` URL, and anything that looks
/// like an AWS secret (40 characters of base64).
pub fn redact(argv: &[String]) -> String {
    let mut out = Vec::with_capacity(argv.len());
    let mut mask_next = false;
    for a in argv {
        if mask_next {
            out.push("***".to_owned());
            mask_next = false;
            continue;
        }
        if let Some((name, _)) = a.split_once('=')
            && (secretish(name) || SECRET_OPTIONS.contains(&name))
        {
            out.push(format!("{name}=***"));
            continue;
        }
        if a.starts_with('-')
            && !a.contains('=')
            && (secretish(a) || SECRET_OPTIONS.contains(&a.as_str()))
        {
            out.push(a.clone());
            mask_next = true;
            continue;
        }
        // `-pPASS` (mysql, and others' short password option), glued.
        if a.len() > 2 && a.starts_with("-p") && !a.starts_with("-p-") {
            out.push("-p***".to_owned());
            continue;
        }
        if looks_like_secret(a) {
            out.push("***".to_owned());
            continue;
        }
        out.push(crate::error::printable(&mask_inline(a)));
    }
    out.join(" ")
}

/// The secrets inside one argument: a credential header's value (`Authorization: Bearer …`,
/// also after `--header=`), a `Bearer`/`Basic` credential anywhere, and a URL's password.
fn mask_inline(a: &str) -> String {
    let header = a.strip_prefix("--header=").unwrap_or(a);
    if let Some((raw, _)) = header.split_once(':') {
        let name = raw.trim().to_ascii_lowercase();
        if SECRET_HEADERS.contains(&name.as_str()) || (secretish(&name) && !name.contains('/')) {
            // `header` is a suffix of `a`: what stands before it is whole characters.
            return format!("{}{}: ***", &a[..a.len() - header.len()], raw.trim());
        }
    }
    let mut out = a.to_owned();
    for scheme in ["Bearer ", "bearer ", "Basic ", "basic "] {
        if let Some(at) = out.find(scheme) {
            out.truncate(at + scheme.len());
            out.push_str("***");
        }
    }
    // scheme://user:password@host: the password goes.
    if let Some(start) = out.find("://") {
        let rest = &out[start + 3..];
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        if let Some(at) = rest[..authority_end].rfind('@')
            && let Some(colon) = rest[..at].find(':')
        {
            let (head, tail) = (start + 3 + colon + 1, start + 3 + at);
            out.replace_range(head..tail, "***");
        }
    }
    out
}

fn looks_like_secret(a: &str) -> bool {
    a.len() >= 40
        && a.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
        && a.chars().any(|c| c.is_ascii_digit())
        && a.chars().any(|c| c.is_ascii_uppercase())
        && a.chars().any(|c| c.is_ascii_lowercase())
}

/// The command line as the audit and the dialog show it: the releasing command and the
/// caller's command (read from /proc for its pid), without anything that may be a secret.
pub fn command_line(ctx: &Ctx, ask: &Ask) -> String {
    let argv = ctx.caller.pid.map(proc_cmdline).unwrap_or_default();
    if argv.is_empty() {
        ask.via.name().to_owned()
    } else {
        redact(&argv)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_a_command_line_are_masked() {
        let v = |s: &[&str]| s.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        let line = redact(&v(&[
            "aws",
            "configure",
            "set",
            "--secret-access-key",
            "abc",
            "--token=xyz",
            "MY_PASSWORD=hunter2",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY01",
            "--key",
            "path/in/bucket",
        ]));
        assert_eq!(
            line,
            "aws configure set --secret-access-key *** --token=*** MY_PASSWORD=*** *** --key path/in/bucket"
        );
    }

    /// Review finding 10: credentials in headers, options without a secret's name, glued
    /// passwords and URLs are masked; harmless arguments are left alone.
    #[test]
    fn headers_urls_and_glued_passwords_are_masked() {
        let v = |s: &[&str]| s.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        let line = redact(&v(&[
            "curl",
            "-H",
            "Authorization: Bearer eyJhbGciOi.secret",
            "--header=X-Api-Key: k123",
            "https://alice:s3cr3t@example.com/path?q=1",
            "--apikey",
            "abc123",
            "--pass",
            "hunter2",
        ]));
        assert_eq!(
            line,
            "curl -H Authorization: *** --header=X-Api-Key: *** https://alice:***@example.com/path?q=1 --apikey *** --pass ***"
        );
        let line = redact(&v(&["mysql", "-u", "root", "-phunter2", "-h", "db"]));
        assert_eq!(line, "mysql -u root -p*** -h db");
        assert_eq!(
            redact(&v(&["http", "x", "Bearer abc.def"])),
            "http x Bearer ***"
        );
        // Nothing secret: unchanged.
        let plain = v(&[
            "aws",
            "s3",
            "cp",
            "s3://bucket/a:b@c",
            "-",
            "--region",
            "us-east-1",
        ]);
        assert_eq!(redact(&plain), plain.join(" "));
        assert_eq!(redact(&v(&["echo", "time: 10"])), "echo time: 10");
    }

    #[test]
    fn a_torn_line_is_skipped_and_the_next_one_stays_whole() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log/audit.log");
        let e = Entry {
            outcome: "released".into(),
            ..Entry::default()
        };
        append(&p, &e).unwrap();
        // A crash mid-write leaves half a line.
        let mut f = OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(br#"{"time":"2026-"#).unwrap();
        append(&p, &e).unwrap();
        let r = read(&p).unwrap();
        assert_eq!(r.entries.len(), 2);
        assert_eq!(r.damaged, 1);
    }
}
