//! Running the `op` CLI: where it is, how it is signed in, and what its failures mean.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use zeroize::Zeroizing;

use crate::caller::{CONNECT_HOST_VAR, CONNECT_TOKEN_VAR, Caller, SERVICE_ACCOUNT_VAR};
use crate::{Error, Result};

/// Names the `op` executable (a path, or a name looked up on PATH) instead of `op`.
pub const OP_PATH_VAR: &str = "OP_AWS_OP_PATH";

/// How `op` signs in for this caller, decided as op decides it: Connect's two variables first,
/// then a service account's token, else the person's own sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    Person,
    ServiceAccount,
    Connect,
}

impl Auth {
    /// No person to approve anything: reads are metered (a service account has 1,000 an hour
    /// on Teams), so the agent keeps them.
    pub fn is_machine(self) -> bool {
        !matches!(self, Self::Person)
    }

    fn who(self) -> &'static str {
        match self {
            Self::Person => "your 1Password account",
            Self::ServiceAccount => "the service account (OP_SERVICE_ACCOUNT_TOKEN)",
            Self::Connect => "the Connect server's token (OP_CONNECT_TOKEN)",
        }
    }
}

pub fn auth(c: &Caller) -> Result<Auth> {
    let set = |k: &str| c.var_os(k).is_some_and(|v| !v.is_empty());
    match (set(CONNECT_HOST_VAR), set(CONNECT_TOKEN_VAR)) {
        (true, true) => Ok(Auth::Connect),
        (true, false) => Err(Error::OpConnectIncomplete {
            set: CONNECT_HOST_VAR,
            missing: CONNECT_TOKEN_VAR,
        }),
        (false, true) => Err(Error::OpConnectIncomplete {
            set: CONNECT_TOKEN_VAR,
            missing: CONNECT_HOST_VAR,
        }),
        (false, false) if set(SERVICE_ACCOUNT_VAR) => Ok(Auth::ServiceAccount),
        (false, false) => Ok(Auth::Person),
    }
}

/// Who reads, for the agent's cache: a digest of the service account's or Connect's token (two
/// CI jobs of one user with different tokens never share what they read), else the account
/// op is told to use.
pub(super) fn principal(c: &Caller) -> String {
    use sha2::{Digest, Sha256};
    let digest = |parts: &[&str]| {
        let mut h = Sha256::new();
        for p in parts {
            h.update(p.as_bytes());
            h.update([0]);
        }
        crate::digest::hex(&h.finalize()[..12])
    };
    let var = |k: &str| c.var(k).unwrap_or_default();
    match auth(c) {
        Ok(Auth::Connect) => format!(
            "connect-{}",
            digest(&[var(CONNECT_HOST_VAR), var(CONNECT_TOKEN_VAR)])
        ),
        Ok(Auth::ServiceAccount) => format!("sa-{}", digest(&[var(SERVICE_ACCOUNT_VAR)])),
        _ => format!("account-{}", var("OP_ACCOUNT")),
    }
}

/// The `op` executable: `OP_AWS_OP_PATH` (a path, or a name on the caller's PATH), else `op` on
/// the caller's PATH.
pub fn op_path(c: &Caller) -> Result<PathBuf> {
    let name = c.var_os(OP_PATH_VAR).filter(|v| !v.is_empty());
    let name = name.map_or(Path::new("op"), Path::new);
    if name.components().count() > 1 || name.is_absolute() {
        let p = c.absolute(name);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(Error::OpNotInstalled)
        };
    }
    c.var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .filter(|d| d.is_absolute())
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
        .ok_or(Error::OpNotInstalled)
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Runs `op ARGS`, feeding `stdin` when given (else /dev/null); returns its stdout.
/// op runs in the caller's environment and directory (its session variables, service-account
/// token and config dir are the caller's, not those of a plugin process that outlives it).
pub(super) fn run_op(
    c: &Caller,
    args: &[&str],
    stdin: Option<&[u8]>,
    what: &str,
) -> Result<Zeroizing<Vec<u8>>> {
    let exe = op_path(c)?;
    let mut cmd = Command::new(&exe);
    cmd.env_clear()
        .envs(c.vars())
        .current_dir(&c.cwd)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::OpNotInstalled,
        _ => Error::OnePassword(format!("cannot run {}: {e}", exe.display())),
    })?;
    if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // A template is a few hundred bytes: it fits the pipe buffer, so this cannot deadlock
        // against op filling its stdout. An early exit of op shows up in its status below.
        let _ = pipe.write_all(bytes);
    }
    let out = child
        .wait_with_output()
        .map_err(|e| Error::OnePassword(format!("{}: {e}", exe.display())))?;
    let stdout = Zeroizing::new(out.stdout);
    if out.status.success() {
        return Ok(stdout);
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let code = out
        .status
        .code()
        .map_or_else(|| "a signal".to_owned(), |c| format!("status {c}"));
    Err(classify(
        &stderr,
        &code,
        what,
        auth(c).unwrap_or(Auth::Person),
    ))
}

/// op's own message without its `[ERROR] yyyy/mm/dd hh:mm:ss` prefix, on one line.
pub fn op_message(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(|l| strip_log_prefix(l.trim()))
        .filter(|l| !l.is_empty())
        .collect();
    lines.join(" ")
}

fn strip_log_prefix(line: &str) -> &str {
    let Some(rest) = line
        .strip_prefix("[ERROR]")
        .or_else(|| line.strip_prefix("[WARN]"))
    else {
        return line;
    };
    let rest = rest.trim_start();
    // `2023/12/23 21:10:32 `: 19 characters of digits, slashes, a space and colons.
    let stamp = rest.get(..19).unwrap_or("");
    let looks_like_stamp = stamp.len() == 19
        && stamp.char_indices().all(|(i, c)| match i {
            4 | 7 => c == '/',
            10 => c == ' ',
            13 | 16 => c == ':',
            _ => c.is_ascii_digit(),
        });
    if looks_like_stamp {
        rest[19..].trim_start()
    } else {
        rest
    }
}

/// Maps op's failure to the error a user acts on.
fn classify(stderr: &str, status: &str, what: &str, auth: Auth) -> Error {
    let msg = crate::error::printable(&op_message(stderr));
    let lower = msg.to_ascii_lowercase();
    if auth.is_machine() {
        // A vault a service account or Connect token cannot read looks to op like no vault.
        if let Some(vault) = msg
            .strip_prefix('"')
            .and_then(|r| r.split_once("\" isn't a vault"))
            .map(|(v, _)| v.to_owned())
        {
            return Error::OpVaultUnreadable {
                vault,
                who: auth.who(),
            };
        }
        let rejected = [
            "invalid token",
            "invalid service account token",
            "token is not valid",
            "unauthorized",
            "authentication failed",
            "failed to decode",
        ];
        if rejected.iter().any(|s| lower.contains(s)) {
            return Error::OpTokenRejected {
                who: auth.who(),
                message: msg,
            };
        }
        if lower.contains("specify a vault") || lower.contains("--vault flag") {
            return Error::OpVaultNeeded { who: auth.who() };
        }
    }
    let signed_out = [
        "not currently signed in",
        "not signed in",
        "no accounts configured",
        "session expired",
        "sign in to",
        "op signin",
        "service account token",
        "authorization prompt dismissed",
    ];
    if signed_out.iter().any(|s| lower.contains(s)) {
        return Error::OpNotSignedIn;
    }
    if lower.contains("isn't an item") || lower.contains("is not an item") {
        return Error::NoSuchItem(what.to_owned());
    }
    if msg.is_empty() {
        return Error::OnePassword(format!("op exited with {status} and said nothing"));
    }
    Error::OnePassword(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_lose_the_log_prefix() {
        let e = "[ERROR] 2023/12/23 21:10:32 \"x\" isn't an item. Specify the item with its UUID, name, or domain.\n";
        assert_eq!(
            op_message(e),
            "\"x\" isn't an item. Specify the item with its UUID, name, or domain."
        );
        assert_eq!(op_message("plain\n"), "plain");
        assert_eq!(op_message("[ERROR] short"), "short");
    }

    #[test]
    fn failures_map_to_errors() {
        let signed_out = "[ERROR] 2024/01/02 03:04:05 You are not currently signed in. Please run `op signin --help` for instructions\n";
        assert!(matches!(
            classify(signed_out, "status 1", "x", Auth::Person),
            Error::OpNotSignedIn
        ));
        let missing = "[ERROR] 2024/01/02 03:04:05 \"x\" isn't an item in the \"Work\" vault. Specify the item with its UUID, name, or domain.";
        assert!(
            matches!(classify(missing, "status 1", "op://Work/x", Auth::Person), Error::NoSuchItem(n) if n == "op://Work/x")
        );
        let vault = "[ERROR] 2024/01/02 03:04:05 \"Nope\" isn't a vault in this account. Specify the vault with its ID or name.";
        assert!(
            matches!(classify(vault, "status 1", "x", Auth::Person), Error::OnePassword(m) if m.starts_with("\"Nope\" isn't a vault"))
        );
        assert!(
            matches!(classify("", "status 3", "x", Auth::Person), Error::OnePassword(m) if m.contains("status 3"))
        );
    }
}
