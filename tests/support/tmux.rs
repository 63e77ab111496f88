//! An interactive shell in tmux (a real pty) for the tests that need prompts, key presses and
//! completion menus; the tmux server is killed on drop.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::{TestEnv, ok, require, run_cmd};

pub struct Tmux {
    sock: PathBuf,
    vars: Vec<(String, String)>,
    home: PathBuf,
}

impl Tmux {
    /// Starts `shell_cmd` in a 160x48 window with the test's environment plus `extra`.
    pub fn start(env: &TestEnv, extra: &[(&str, &str)], shell_cmd: &str) -> Self {
        // A fresh socket each time: a killed server's socket lingers for a moment.
        static N: AtomicUsize = AtomicUsize::new(0);
        let sock = env
            .root
            .path()
            .join(format!("tmux-{}.sock", N.fetch_add(1, Ordering::Relaxed)));
        let mut vars = env.vars();
        vars.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        vars.push(("SHELL".into(), "/bin/sh".into()));
        let t = Self {
            sock,
            vars,
            home: env.home.clone(),
        };
        let mut c = t.command();
        c.args([
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-x",
            "160",
            "-y",
            "48",
            shell_cmd,
        ]);
        ok(run_cmd(c, ""), &["tmux new-session"]);
        t
    }

    /// `sh` at its first prompt. Keys sent before the prompt are echoed by the terminal first,
    /// and the shell's prompt then puts the command's output two columns to the right.
    pub fn sh(env: &TestEnv) -> Self {
        let t = Self::start(env, &[], "sh");
        t.wait_for("the prompt", |s| !s.trim().is_empty());
        t
    }

    fn command(&self) -> Command {
        let mut c = Command::new(require("tmux"));
        c.env_clear()
            .envs(self.vars.clone())
            .current_dir(&self.home)
            .arg("-S")
            .arg(&self.sock);
        c
    }

    pub fn send(&self, keys: &[&str]) {
        let mut c = self.command();
        c.args(["send-keys", "-t", "0"]).args(keys);
        ok(run_cmd(c, ""), &["tmux send-keys"]);
    }

    pub fn screen(&self) -> String {
        let mut c = self.command();
        c.args(["capture-pane", "-p", "-t", "0"]);
        String::from_utf8_lossy(&run_cmd(c, "").stdout).into_owned()
    }

    /// Polls the screen until `done` holds and returns it; the limit is generous because it
    /// only bounds a failure.
    pub fn wait_for(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if done(&s) {
                return s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "timed out waiting for {what}; the screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let mut c = self.command();
        c.arg("kill-server");
        let _ = run_cmd(c, "");
    }
}
