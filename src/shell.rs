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

/// POSIX sh/bash/zsh: single quotes, with `'` as `'\''`.
pub fn quote_posix(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
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

/// `export K=V` / `unset K` lines for sh-like shells and fish; nu gets a record (see export).
pub fn set_var(shell: Shell, k: &str, v: &str) -> String {
    match shell {
        Shell::Bash | Shell::Zsh => format!("export {k}={}\n", quote_posix(v)),
        Shell::Fish => format!("set -gx {k} {}\n", quote_fish(v)),
        Shell::Nu => format!("$env.{k} = {}\n", quote_nu(v)),
    }
}

pub fn unset_var(shell: Shell, k: &str) -> String {
    match shell {
        Shell::Bash | Shell::Zsh => format!("unset {k}\n"),
        Shell::Fish => format!("set -e {k}\n"),
        Shell::Nu => format!("hide-env -i {k}\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_hostile_values() {
        assert_eq!(quote_posix("a'b c"), r"'a'\''b c'");
        assert_eq!(quote_fish(r"a\'b"), r"'a\\\'b'");
        assert_eq!(quote_nu("x'#y"), "r##'x'#y'##");
        assert_eq!(quote_powershell("it's"), "'it''s'");
    }
}
