//! Changes to an environment, as data, and their rendering per shell.

use crate::caller::Caller;
use crate::shell::{self, Syntax};

/// Changes to an environment (a child's, or a shell's), as data: rendered once per shell by
/// [`EnvChanges::render`]. Values are wiped from memory when dropped (they hold secrets).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct EnvChanges {
    pub set: Vec<(String, String)>,
    pub unset: Vec<String>,
}

impl Drop for EnvChanges {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        for (_, v) in &mut self.set {
            v.zeroize();
        }
    }
}

impl EnvChanges {
    /// Sets `k` (replacing an earlier change of it).
    pub fn set(&mut self, k: &str, v: &str) {
        self.forget(k);
        self.set.push((k.to_owned(), v.to_owned()));
    }

    /// Unsets `k` (replacing an earlier change of it).
    pub fn unset(&mut self, k: &str) {
        self.forget(k);
        self.unset.push(k.to_owned());
    }

    fn forget(&mut self, k: &str) {
        self.set.retain(|(s, _)| s != k);
        self.unset.retain(|u| u != k);
    }

    /// The changes made to a command's environment (which starts as ours).
    pub fn apply_to(&self, cmd: &mut std::process::Command) {
        for k in &self.unset {
            cmd.env_remove(k);
        }
        for (k, v) in &self.set {
            cmd.env(k, v);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.unset.is_empty()
    }

    /// Only what would change `c`'s environment: no set to the value it has, no unset of a
    /// variable it lacks.
    pub fn against(mut self, c: &Caller) -> Self {
        self.set
            .retain(|(k, v)| c.var_os(k).is_none_or(|cur| cur != v.as_str()));
        self.unset.retain(|k| c.var_os(k).is_some());
        self
    }

    /// The statements for a shell: `export`/`unset` (sh, bash, zsh), `set -gx`/`set -e` (fish),
    /// `$env:K = …`/`Remove-Item` (PowerShell), and for nu one JSON record whose `null` values
    /// mean hide-env (the module applies it; `load-env` takes it too).
    pub fn render(&self, syntax: Syntax) -> String {
        let mut out = String::new();
        match syntax {
            Syntax::Posix => {
                for (k, v) in &self.set {
                    out += &format!("export {k}={}\n", shell::quote_posix(v));
                }
                for k in &self.unset {
                    out += &format!("unset {k}\n");
                }
            }
            Syntax::Fish => {
                for (k, v) in &self.set {
                    out += &format!("set -gx {k} {}\n", shell::quote_fish(v));
                }
                for k in &self.unset {
                    out += &format!("set -e {k}\n");
                }
            }
            Syntax::Powershell => {
                for (k, v) in &self.set {
                    out += &format!("$env:{k} = {}\n", shell::quote_powershell(v));
                }
                for k in &self.unset {
                    out += &format!("Remove-Item Env:{k} -ErrorAction SilentlyContinue\n");
                }
            }
            Syntax::Nu => {
                let mut rec = serde_json::Map::new();
                for (k, v) in &self.set {
                    rec.insert(k.clone(), v.as_str().into());
                }
                for k in &self.unset {
                    rec.insert(k.clone(), serde_json::Value::Null);
                }
                out = serde_json::Value::Object(rec).to_string() + "\n";
            }
        }
        out
    }
}
