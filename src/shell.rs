//! Shell code we emit: one quoting function per shell, and the statements built on them.

use clap::ValueEnum;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Nu,
}

/// Output formats of `op-aws export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Sh,
    Fish,
    Nu,
    Json,
    Powershell,
}

/// The syntaxes environment changes are rendered in ([`crate::model::env::EnvChanges::render`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    Posix,
    Fish,
    Nu,
    Powershell,
}

impl Format {
    /// The shell syntax of this format; None for JSON, which each command shapes itself.
    pub fn syntax(self) -> Option<Syntax> {
        match self {
            Self::Sh => Some(Syntax::Posix),
            Self::Fish => Some(Syntax::Fish),
            Self::Nu => Some(Syntax::Nu),
            Self::Powershell => Some(Syntax::Powershell),
            Self::Json => None,
        }
    }
}

impl From<Shell> for Syntax {
    fn from(sh: Shell) -> Self {
        match sh {
            Shell::Bash | Shell::Zsh => Self::Posix,
            Shell::Fish => Self::Fish,
            Shell::Nu => Self::Nu,
        }
    }
}

/// POSIX sh/bash/zsh: single quotes, with `'` as `'\''`.
pub fn quote_posix(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// `s` as one POSIX word: as it is when nothing in it is special, else quoted.
pub fn word_posix(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | ':' | '@' | '+' | '=')
        });
    if plain { s.to_owned() } else { quote_posix(s) }
}

/// fish: inside single quotes only `\` and `'` are special.
pub fn quote_fish(s: &str) -> String {
    format!("'{}'", s.replace('\\', r"\\").replace('\'', r"\'"))
}

/// nushell: a raw string with enough `#`s that the value cannot close it.
pub fn quote_nu(s: &str) -> String {
    let mut hashes = 1;
    while s.contains(&format!("'{}", "#".repeat(hashes))) {
        hashes += 1;
    }
    let h = "#".repeat(hashes);
    format!("r{h}'{s}'{h}")
}

/// PowerShell: single quotes, with `'` doubled (and the typographic quotes it also accepts).
pub fn quote_powershell(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// The nu module's wrapper commands, one `def` per wrapped executable (nu defines commands at
/// parse time, so `activate nu` appends them to the static module). The AWS tools get
/// `--profile` with profile-name completion (and `aws` the AWS CLI's completer). Names were checked by
/// [`crate::config::is_executable_name`], so a JSON string is a valid nu string for them.
pub fn nu_wrappers(wrapped: &[String]) -> String {
    let mut out = String::from("\n# The wrapped commands (`op-aws list`).\n");
    for name in wrapped {
        let q = serde_json::Value::from(name.as_str());
        if PROFILE_TOOLS.contains(&name.as_str()) {
            // The rest of `aws` completes through the AWS CLI's own aws_completer.
            let rest = if name == "aws" {
                "...rest: string@\"nu-complete aws\""
            } else {
                "...rest"
            };
            out += &format!(
                "export def --env --wrapped {q} [--profile: string@\"nu-complete op-aws profiles\", {rest}] {{ __op_aws_run {q} $profile $rest }}\n"
            );
        } else {
            out += &format!(
                "export def --env --wrapped {q} [...rest] {{ __op_aws_run {q} null $rest }}\n"
            );
        }
    }
    out
}

impl Shell {
    pub fn name(self) -> &'static str {
        match self {
            Self::Bash => "bash",
            Self::Zsh => "zsh",
            Self::Fish => "fish",
            Self::Nu => "nu",
        }
    }

    /// From a name or a path such as `$SHELL` (`/usr/bin/zsh`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name.rsplit('/').next().unwrap_or("") {
            "bash" => Some(Self::Bash),
            "zsh" => Some(Self::Zsh),
            "fish" => Some(Self::Fish),
            "nu" => Some(Self::Nu),
            _ => None,
        }
    }
}

/// Where the integration goes for a shell, and the one line that puts it there.
pub struct Install {
    /// What to do with the line, as a sentence ending in a colon.
    pub how: &'static str,
    pub line: &'static str,
}

/// The install line of each shell, the only copy: `init`, `activate --help`, the nu module's
/// header and the docs all show this one (a test holds the docs to it). nu's vendor autoload
/// directory does not exist in a fresh nu, and `save` will not create it.
pub fn install(sh: Shell) -> Install {
    match sh {
        Shell::Bash => Install {
            how: "Add this line to ~/.bashrc (then open a new terminal):",
            line: "eval \"$(op-aws activate bash)\"",
        },
        Shell::Zsh => Install {
            how: "Add this line to ~/.zshrc (then open a new terminal):",
            line: "eval \"$(op-aws activate zsh)\"",
        },
        Shell::Fish => Install {
            how: "Add this line to ~/.config/fish/config.fish (then open a new terminal):",
            line: "op-aws activate fish | source",
        },
        Shell::Nu => Install {
            how: "Run this once in nu, and again after upgrading op-aws (then open a new nu):",
            line: "mkdir ($nu.data-dir | path join vendor/autoload); op-aws activate nu | save -f ($nu.data-dir | path join vendor/autoload/op-aws.nu)",
        },
    }
}

/// Every shell's install line, for `activate --help`.
pub fn install_help() -> String {
    let mut out = String::new();
    for sh in [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::Nu] {
        let i = install(sh);
        out += &format!("{} — {}\n  {}\n", sh.name(), i.how, i.line);
    }
    out.trim_end().to_owned()
}

/// The AWS tools that read `--profile` themselves (and ignore environment keys when they see it).
pub const PROFILE_TOOLS: &[&str] = &["aws", "cdk", "sam", "eksctl", "awslogs"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_hostile_values() {
        assert_eq!(quote_posix("a'b c"), r"'a'\''b c'");
        assert_eq!(word_posix("login-prof"), "login-prof");
        assert_eq!(word_posix("a b"), "'a b'");
        assert_eq!(word_posix(""), "''");
        assert_eq!(word_posix("$(x)"), "'$(x)'");
        assert_eq!(quote_fish(r"a\'b"), r"'a\\\'b'");
        assert_eq!(quote_nu("x'#y"), "r##'x'#y'##");
        assert_eq!(quote_powershell("it's"), "'it''s'");
    }
}
