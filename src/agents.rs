//! Who is asking: a person, or an AI coding agent (Claude Code, Codex, Cursor, Gemini CLI,
//! aider, ...) running commands on a person's behalf.
//!
//! The class comes from the caller's environment first (agents mark the shells they run:
//! `CLAUDECODE=1`, `AGENT=amp`, ...) and, only when no marker is there, from the caller's
//! process ancestry (an agent is the parent of the commands it runs). Both lists can be extended
//! in `config.toml` (`agent_markers`, `agent_executables`).
//!
//! This is **no security boundary** against a hostile process: a process can clear its
//! environment and re-parent itself. It is how a cooperating agent is recognised and held to the
//! person's policy ([`crate::policy`]).

use crate::caller::{Caller, Class};
use crate::os::{Procs, Stat};

/// Environment markers: (variable, value it must have or None for any non-empty value, the
/// agent's name or None to take the value as the name).
const MARKERS: &[(&str, Option<&str>, Option<&str>)] = &[
    // Claude Code sets it in every shell it runs (claude-code #531).
    ("CLAUDECODE", Some("1"), Some("claude-code")),
    // The vendor-neutral convention (Goose, Amp; asked of Claude Code in #24838, of Codex).
    ("AGENT", None, None),
    ("AI_AGENT", None, None),
    // Codex sets these for the commands it runs (sandbox and thread).
    ("CODEX_SANDBOX", None, Some("codex")),
    ("CODEX_SANDBOX_NETWORK_DISABLED", None, Some("codex")),
    ("CODEX_THREAD_ID", None, Some("codex")),
    ("CURSOR_AGENT", None, Some("cursor")),
    ("GEMINI_CLI", None, Some("gemini-cli")),
    ("GOOSE_TERMINAL", None, Some("goose")),
];

/// Executables that are agents (their name, or a script's name under an interpreter), and the
/// agent each one is.
const EXECUTABLES: &[(&str, &str)] = &[
    ("claude", "claude-code"),
    ("codex", "codex"),
    ("cursor-agent", "cursor"),
    ("gemini", "gemini-cli"),
    ("aider", "aider"),
    ("goose", "goose"),
    ("amp", "amp"),
];

/// Interpreters an agent may run under: the script's name is then the one that counts.
const INTERPRETERS: &[&str] = &["node", "nodejs", "bun", "deno", "python", "python3"];

/// How far up the process tree to look.
const MAX_DEPTH: usize = 32;

/// What `config.toml` adds to the built-in lists.
#[derive(Debug, Clone, Copy, Default)]
pub struct Extra<'a> {
    /// `VAR` (any non-empty value) or `VAR=VALUE`.
    pub markers: &'a [String],
    /// Executable names.
    pub executables: &'a [String],
}

/// One process above the caller, as the ancestry check sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ancestor {
    pub pid: u32,
    /// The names it goes by: its `comm`, its argv[0]'s file name, and a script's file name when
    /// argv[0] is an interpreter.
    pub names: Vec<String>,
}

/// `ctx`'s caller's class, decided once (a front end that asked the agent sent its own).
pub fn of(ctx: &crate::ctx::Ctx) -> &Class {
    ctx.caller.class_cell().get_or_init(|| {
        let extra = Extra {
            markers: &ctx.config.agent_markers,
            executables: &ctx.config.agent_executables,
        };
        classify(&ctx.caller, extra, |pid| ancestry(Procs::System, pid))
    })
}

/// `ctx` for a command that wraps `argv` (`op-aws run --server -- claude`): when the command
/// itself is an agent (its name, or its script's under an interpreter, among the agents'
/// executables), the caller is that agent, as its child requests would be were they asked
/// directly: the endpoint serves them under the agents' policy, not the person's. A caller that
/// is an agent already stays the agent it is.
pub fn wrapping(ctx: crate::ctx::Ctx, argv: &[std::ffi::OsString]) -> crate::ctx::Ctx {
    let argv: Vec<String> = argv
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let found = argv_names(&argv)
        .into_iter()
        .find_map(|n| agent_executable(&n, &ctx.config.agent_executables).map(|a| (n, a)));
    // The command's name first: classifying the caller walks its ancestry, work `op-aws run`
    // must not do for every command a person types.
    let Some((name, agent)) = found else {
        return ctx;
    };
    if of(&ctx).agent().is_some() {
        return ctx;
    }
    let class = Class::Agent {
        name: agent,
        why: format!("it runs {}", shown(&name)),
    };
    crate::ctx::Ctx {
        caller: ctx.caller.clone().with_class(class),
        ..ctx
    }
}

/// The caller's class: its environment's markers first, then (only without one) its ancestry,
/// read with `ancestry` (a function given the caller's pid, so tests can stand in for the
/// process table).
pub fn classify(
    caller: &Caller,
    extra: Extra<'_>,
    ancestry: impl FnOnce(u32) -> Vec<Ancestor>,
) -> Class {
    if let Some(c) = by_marker(caller, extra.markers) {
        return c;
    }
    let Some(pid) = caller.pid else {
        return Class::Person {
            why: "no agent marker in its environment".into(),
        };
    };
    let ancestors = ancestry(pid);
    for a in &ancestors {
        for n in &a.names {
            if let Some(agent) = agent_executable(n, extra.executables) {
                return Class::Agent {
                    name: agent,
                    why: format!("ancestor process {} is {n}", a.pid),
                };
            }
        }
    }
    Class::Person {
        why: "no agent marker in its environment, no agent among its ancestors".into(),
    }
}

fn by_marker(caller: &Caller, extra: &[String]) -> Option<Class> {
    for (var, want, name) in MARKERS {
        let Some(v) = caller.var(var).map(str::trim).filter(|v| !v.is_empty()) else {
            continue;
        };
        if want.is_some_and(|w| w != v) {
            continue;
        }
        let name = match name {
            Some(n) => (*n).to_owned(),
            None => agent_name(v),
        };
        return Some(Class::Agent {
            name,
            why: format!("{var}={} in its environment", shown(v)),
        });
    }
    for m in extra {
        let (var, want) = match m.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (m.as_str(), None),
        };
        let Some(v) = caller.var(var) else { continue };
        if want.is_some_and(|w| w != v) {
            continue;
        }
        return Some(Class::Agent {
            name: agent_name(&var.to_ascii_lowercase()),
            why: format!("{var}={} in its environment (agent_markers)", shown(v)),
        });
    }
    None
}

/// A value as the reason shows it: short and printable (it is the caller's, not a secret, but
/// it goes to a terminal and a log).
fn shown(v: &str) -> String {
    let s = crate::error::printable(v);
    s.chars().take(40).collect()
}

/// A name fit for a session tag, a session name and a log: `[a-z0-9._-]`, at most 32.
pub fn agent_name(v: &str) -> String {
    let n: String = v
        .trim()
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .take(32)
        .collect();
    if n.chars().any(|c| c.is_ascii_alphanumeric()) {
        n
    } else {
        "agent".into()
    }
}

fn agent_executable(name: &str, extra: &[String]) -> Option<String> {
    EXECUTABLES
        .iter()
        .find(|(exe, _)| *exe == name)
        .map(|(_, agent)| (*agent).to_owned())
        .or_else(|| {
            extra
                .iter()
                .find(|e| e.as_str() == name)
                .map(|e| agent_name(e))
        })
}

/// The processes above `pid` (its parent first), read from `procs` (`/proc` on Linux, the
/// kernel's process calls on macOS). Stops at pid 1, at a process it cannot read, or after a
/// bounded depth.
///
/// Remembered by the parent (its pid and start time, so a reused pid is another process): the
/// agent answers every command of a shell, and a walk of the process table each time would be
/// most of a request. A process gains no ancestors, so a remembered answer can only be stricter
/// than a fresh one (an agent that has since exited still counts).
pub fn ancestry(procs: Procs<'_>, pid: u32) -> Vec<Ancestor> {
    type Seen = Vec<((Option<std::path::PathBuf>, u32, u64), Vec<Ancestor>)>;
    static SEEN: std::sync::Mutex<Seen> = std::sync::Mutex::new(Vec::new());
    const REMEMBERED: usize = 64;
    let Some(me) = procs.stat(pid) else {
        return Vec::new();
    };
    if me.ppid <= 1 {
        return Vec::new();
    }
    let Some(parent) = procs.stat(me.ppid) else {
        return Vec::new();
    };
    let key = parent.start.map(|start| (procs.key(), me.ppid, start));
    if let (Some(key), Ok(seen)) = (&key, SEEN.lock())
        && let Some((_, hit)) = seen.iter().find(|(k, _)| k == key)
    {
        return hit.clone();
    }
    let out = walk(procs, me.ppid, parent);
    if let (Some(key), Ok(mut seen)) = (key, SEEN.lock()) {
        if seen.len() >= REMEMBERED {
            seen.remove(0);
        }
        seen.push((key, out.clone()));
    }
    out
}

/// The ancestry from `pid` (already read as `first`) upwards.
fn walk(procs: Procs<'_>, pid: u32, first: Stat) -> Vec<Ancestor> {
    let mut out = Vec::new();
    let (mut cur, mut st) = (pid, first);
    for _ in 0..MAX_DEPTH {
        let mut names = vec![st.comm.clone()];
        names.extend(argv_names(&procs.argv(cur)));
        names.dedup();
        out.push(Ancestor { pid: cur, names });
        if st.ppid <= 1 {
            break;
        }
        let Some(next) = procs.stat(st.ppid) else {
            break;
        };
        (cur, st) = (st.ppid, next);
    }
    out
}

fn argv_names(argv: &[String]) -> Vec<String> {
    let mut args = argv.iter().map(|a| base_name(a));
    let mut names = Vec::new();
    if let Some(first) = args.next() {
        let interpreter = INTERPRETERS.contains(&first.as_str());
        names.push(first);
        // `node /usr/lib/node_modules/.../gemini`: the first argument that is not an option.
        if interpreter && let Some(script) = args.find(|a| !a.starts_with('-')) {
            names.push(script.trim_end_matches(".js").to_owned());
        }
    }
    names
}

fn base_name(s: &str) -> String {
    s.rsplit('/').next().unwrap_or(s).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(vars: &[(&str, &str)], pid: Option<u32>) -> Caller {
        let mut c = Caller::new(
            vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).into())),
            "/".into(),
            false,
        );
        c.pid = pid;
        c
    }

    fn no_ancestry(_: u32) -> Vec<Ancestor> {
        panic!("ancestry must not be read when a marker decides")
    }

    #[test]
    fn markers_decide_without_reading_ancestry() {
        for (vars, name) in [
            (vec![("CLAUDECODE", "1")], "claude-code"),
            (vec![("AGENT", "Amp")], "amp"),
            (vec![("AI_AGENT", "codex")], "codex"),
            (vec![("CODEX_SANDBOX", "seatbelt")], "codex"),
            (vec![("CURSOR_AGENT", "1")], "cursor"),
            (vec![("GEMINI_CLI", "1")], "gemini-cli"),
        ] {
            let c = classify(&caller(&vars, Some(42)), Extra::default(), no_ancestry);
            assert_eq!(c.agent(), Some(name), "{vars:?}");
            assert!(c.why().contains(vars[0].0), "{c}");
        }
        let extra = vec!["MY_BOT=on".to_owned()];
        let ex = Extra {
            markers: &extra,
            executables: &[],
        };
        let c = classify(&caller(&[("MY_BOT", "on")], Some(42)), ex, no_ancestry);
        assert_eq!(c.agent(), Some("my_bot"));
    }

    #[test]
    fn a_marker_with_another_value_or_empty_is_no_marker() {
        let c = classify(
            &caller(&[("CLAUDECODE", "0"), ("AGENT", "")], None),
            Extra::default(),
            |_| unreachable!(),
        );
        assert!(!c.is_agent(), "{c}");
    }

    #[test]
    fn an_agent_among_the_ancestors() {
        let tree = |_| {
            vec![
                Ancestor {
                    pid: 10,
                    names: vec!["bash".into()],
                },
                Ancestor {
                    pid: 9,
                    names: vec!["node".into(), "gemini".into()],
                },
            ]
        };
        let c = classify(&caller(&[], Some(11)), Extra::default(), tree);
        assert_eq!(c.agent(), Some("gemini-cli"));
        assert!(c.why().contains("9"), "{c}");
        let extra = vec!["bash".to_owned()];
        let ex = Extra {
            markers: &[],
            executables: &extra,
        };
        assert_eq!(
            classify(&caller(&[], Some(11)), ex, tree).agent(),
            Some("bash")
        );
        let person = classify(&caller(&[], Some(11)), Extra::default(), |_| Vec::new());
        assert!(!person.is_agent());
    }

    #[test]
    fn proc_is_read_as_the_kernel_writes_it() {
        let root = tempfile::tempdir().unwrap();
        let p = |pid: u32, stat: &str, cmd: &[u8]| {
            let d = root.path().join(pid.to_string());
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("stat"), stat).unwrap();
            std::fs::write(d.join("cmdline"), cmd).unwrap();
        };
        p(30, "30 (op-aws) S 20 30 30 0", b"op-aws\0run\0");
        p(20, "20 (a (weird) name) S 10 1 1 0", b"/bin/bash\0-c\0x\0");
        p(
            10,
            "10 (node) S 1 1 1 0",
            b"node\0--flag\0/opt/x/claude.js\0",
        );
        let a = ancestry(Procs::Dir(root.path()), 30);
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].names, vec!["a (weird) name", "bash"]);
        assert_eq!(a[1].names, vec!["node", "claude"]);
        let mut c = caller(&[], Some(30));
        c.pid = Some(30);
        let class = classify(&c, Extra::default(), |pid| {
            ancestry(Procs::Dir(root.path()), pid)
        });
        assert_eq!(class.agent(), Some("claude-code"));
    }
}
