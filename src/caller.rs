//! The caller's context as a value: the environment variables, the working directory and whether
//! a person is at a terminal. Every front end builds one at its edge (the binary from its process,
//! the nushell plugin from the engine for each call, the agent from each request) and the library
//! reads nothing else: `clippy.toml` forbids `std::env` and the current directory everywhere but
//! [`Caller::from_process`].

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::shell::Shell;
use crate::{Error, Result};

/// The session item: this terminal's default.
pub const SESSION_VAR: &str = "OP_AWS_SESSION_ITEM";
/// Exported by the shell scripts: whose integration is loaded in this shell.
pub const INTEGRATION_VAR: &str = "OP_AWS_SHELL";
/// Set by the scripts' `op-aws` function for one call: the shell that evaluates our output.
pub const CALLING_SHELL_VAR: &str = "__OP_AWS_SHELL";

#[derive(Debug, Clone, Default)]
pub struct Caller {
    vars: HashMap<String, OsString>,
    pub cwd: PathBuf,
    /// stdin and stderr are both a terminal: a person can be asked.
    pub terminal: bool,
    /// The running process's own context ([`Caller::from_process`]): it may start a pinentry
    /// or an age plugin for the person (age finds plugins on the process's PATH). Never so in
    /// the agent answering for someone else, nor in the nushell plugin.
    pub is_process: bool,
    /// What the person ran, for a prompt to say who asks: op-aws's own words and the program
    /// it runs, never that program's arguments.
    pub command: Option<String>,
    /// The caller's process, whose ancestry tells an agent apart ([`crate::agents`]); None when
    /// the front end does not know it (the nushell plugin's caller).
    pub pid: Option<u32>,
    /// In the agent: the process at the other end of its socket, as the kernel says; whom a
    /// system dialog asks about (the caller's own word, `pid`, is not taken for it).
    pub peer: Option<u32>,
    /// Person or agent, decided once ([`crate::agents::of`]) or carried from the front end.
    class: std::sync::OnceLock<Class>,
    /// Where slow steps are shown (set by the CLI on a terminal; nowhere by default).
    pub progress: crate::progress::Progress,
}

impl Caller {
    /// The running process's context: the one place that reads it.
    #[allow(clippy::disallowed_methods)]
    pub fn from_process() -> Result<Self> {
        use std::io::IsTerminal;
        let cwd = std::env::current_dir().map_err(|e| Error::io(".", e))?;
        Ok(Self {
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v)))
                .collect(),
            cwd,
            terminal: std::io::stdin().is_terminal() && std::io::stderr().is_terminal(),
            is_process: true,
            command: Some(command_words(std::env::args_os())),
            pid: Some(std::process::id()),
            peer: None,
            class: std::sync::OnceLock::new(),
            progress: crate::progress::Progress::default(),
        })
    }

    /// Another process's context (the nushell plugin's caller, an agent client, a test).
    pub fn new(
        vars: impl IntoIterator<Item = (String, OsString)>,
        cwd: PathBuf,
        terminal: bool,
    ) -> Self {
        Self {
            vars: vars.into_iter().collect(),
            cwd,
            terminal,
            is_process: false,
            command: None,
            pid: None,
            peer: None,
            class: std::sync::OnceLock::new(),
            progress: crate::progress::Progress::default(),
        }
    }

    /// This caller, already classified (by the front end that asked the agent).
    #[must_use]
    pub fn with_class(self, class: Class) -> Self {
        let cell = std::sync::OnceLock::new();
        let _ = cell.set(class);
        Self {
            class: cell,
            ..self
        }
    }

    /// Where the class is kept once decided.
    pub fn class_cell(&self) -> &std::sync::OnceLock<Class> {
        &self.class
    }

    /// A variable that is set, non-empty and text.
    pub fn var(&self, k: &str) -> Option<&str> {
        self.vars
            .get(k)
            .and_then(|v| v.to_str())
            .filter(|v| !v.is_empty())
    }

    /// A variable as it is (possibly empty, possibly not UTF-8).
    pub fn var_os(&self, k: &str) -> Option<&OsStr> {
        self.vars.get(k).map(OsString::as_os_str)
    }

    /// Every variable, for a child process that must see the caller's environment (`op`).
    pub fn vars(&self) -> impl Iterator<Item = (&String, &OsString)> {
        self.vars.iter()
    }

    /// The variables a program op-aws starts may have: all but those that sign op-aws in
    /// ([`is_sign_in_var`]): a browser, `mfa_process`, pinentry, a sandbox's person.
    pub fn vars_for_children(&self) -> impl Iterator<Item = (&String, &OsString)> {
        self.vars.iter().filter(|(k, _)| !is_sign_in_var(k))
    }

    /// Sets or removes one variable (for tests and for a caller that changes its own context).
    pub fn set_var(&mut self, k: &str, v: Option<&str>) {
        match v {
            Some(v) => self.vars.insert(k.to_owned(), v.into()),
            None => self.vars.remove(k),
        };
    }

    pub fn home(&self) -> Result<PathBuf> {
        self.var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
            .ok_or(Error::NoHome)
    }

    /// `p` relative to the caller's directory (a process with another cwd answers for it).
    pub fn absolute(&self, p: &Path) -> PathBuf {
        self.cwd.join(p)
    }

    /// The profile the caller chose: `AWS_PROFILE`.
    pub fn profile(&self) -> Option<&str> {
        self.var("AWS_PROFILE")
    }

    /// `OP_AWS_SESSION_ITEM`: this terminal's default.
    pub fn session_item(&self) -> Option<&str> {
        self.var(SESSION_VAR)
    }

    /// The region the shell chose (`AWS_REGION`, then `AWS_DEFAULT_REGION`): it wins over the
    /// profile's and the item's, as in the AWS CLI.
    pub fn shell_region(&self) -> Option<&str> {
        ["AWS_REGION", "AWS_DEFAULT_REGION"]
            .into_iter()
            .find_map(|k| self.var(k).filter(|v| !v.trim().is_empty()))
    }

    /// The shell whose integration is loaded (`OP_AWS_SHELL`).
    pub fn integration(&self) -> Option<&str> {
        self.var(INTEGRATION_VAR)
    }

    /// The user's shell (`$SHELL`; bash when it is none we know).
    pub fn login_shell(&self) -> Shell {
        self.var("SHELL")
            .and_then(Shell::from_name)
            .unwrap_or(Shell::Bash)
    }

    /// The shell the integration's `op-aws` function runs us from, if any.
    pub fn calling_shell(&self) -> Option<Shell> {
        self.var(CALLING_SHELL_VAR).and_then(Shell::from_name)
    }

    /// Where the caller's PATH finds `program` (a name with a slash is taken as it is, relative
    /// to the caller's directory); only regular executable files count.
    pub fn which(&self, program: &OsStr) -> Option<PathBuf> {
        use std::os::unix::fs::PermissionsExt;
        let ok = |c: &Path| {
            c.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        };
        let p = Path::new(program);
        if p.components().count() > 1 {
            let abs = self.absolute(p);
            return ok(&abs).then(|| p.to_owned());
        }
        std::env::split_paths(self.var_os("PATH")?)
            .map(|d| self.absolute(&d).join(p))
            .find(|c| ok(c))
    }
}

/// `op-aws run --profile admin -- aws s3 cp a b` → `op-aws run --profile admin -- aws`: the
/// wrapped program's arguments are its own business (they may hold anything).
fn command_words(args: impl Iterator<Item = OsString>) -> String {
    let mut words = Vec::new();
    let mut after_dashes = false;
    for (i, a) in args.enumerate() {
        let a = a.to_string_lossy().into_owned();
        let a = if i == 0 {
            Path::new(&a)
                .file_name()
                .map_or(a.clone(), |n| n.to_string_lossy().into_owned())
        } else {
            a
        };
        words.push(crate::error::printable(&a));
        if after_dashes {
            break;
        }
        after_dashes = a == "--";
    }
    words.join(" ")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "class", rename_all = "lowercase")]
pub enum Class {
    Person {
        /// Why: nothing marked it as an agent.
        why: String,
    },
    Agent {
        /// The agent's name (`claude-code`, `codex`, ...).
        name: String,
        /// Why: the marker or the ancestor that gave it away.
        why: String,
    },
}

impl Class {
    pub fn agent(&self) -> Option<&str> {
        match self {
            Self::Agent { name, .. } => Some(name),
            Self::Person { .. } => None,
        }
    }

    pub fn is_agent(&self) -> bool {
        self.agent().is_some()
    }

    pub fn name(&self) -> &'static str {
        match self {
            Self::Person { .. } => "person",
            Self::Agent { .. } => "agent",
        }
    }

    pub fn why(&self) -> &str {
        match self {
            Self::Person { why } | Self::Agent { why, .. } => why,
        }
    }
}

impl std::fmt::Display for Class {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Person { why } => write!(f, "person ({why})"),
            Self::Agent { name, why } => write!(f, "agent {name} ({why})"),
        }
    }
}

/// Variables that sign op-aws itself in (to 1Password: a service account's token, Connect's
/// host and token, a person's `op signin` session). op-aws needs them only to run `op`; a
/// command it starts never does (a CI job's whole 1Password access would reach every step).
const OP_AWS_SIGN_IN_VARS: &[&str] = &[SERVICE_ACCOUNT_VAR];

/// The same, by prefix: `OP_CONNECT_HOST`/`OP_CONNECT_TOKEN` and whatever else Connect reads,
/// `OP_SESSION_<account>`.
const OP_AWS_SIGN_IN_PREFIXES: &[&str] = &["OP_CONNECT_", "OP_SESSION_"];

/// Whether `k` signs op-aws in ([`OP_AWS_SIGN_IN_VARS`], [`OP_AWS_SIGN_IN_PREFIXES`]).
pub fn is_sign_in_var(k: &str) -> bool {
    OP_AWS_SIGN_IN_VARS.contains(&k) || OP_AWS_SIGN_IN_PREFIXES.iter().any(|p| k.starts_with(p))
}

/// Set inside `op-aws sandbox` to the sandbox's name (a convenience for messages: the
/// capability, not this variable, is what holds the sandbox to its policy).
pub const SANDBOX_VAR: &str = "OP_AWS_SANDBOX";

pub const SERVICE_ACCOUNT_VAR: &str = "OP_SERVICE_ACCOUNT_TOKEN";

pub const CONNECT_TOKEN_VAR: &str = "OP_CONNECT_TOKEN";

pub const CONNECT_HOST_VAR: &str = "OP_CONNECT_HOST";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_stops_at_the_wrapped_program() {
        let w = |v: &[&str]| command_words(v.iter().map(OsString::from));
        assert_eq!(
            w(&[
                "/usr/bin/op-aws",
                "run",
                "--profile",
                "a",
                "--",
                "aws",
                "s3",
                "cp"
            ]),
            "op-aws run --profile a -- aws"
        );
        assert_eq!(w(&["op-aws", "unlock"]), "op-aws unlock");
    }
}
