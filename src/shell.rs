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

/// `export K=V` / `unset K` lines for sh-like shells and fish. nu cannot eval text, so it gets
/// one JSON record per line, `{"K":"V"}`, which the module applies with `load-env`.
pub fn set_var(shell: Shell, k: &str, v: &str) -> String {
    match shell {
        Shell::Bash | Shell::Zsh => format!("export {k}={}\n", quote_posix(v)),
        Shell::Fish => format!("set -gx {k} {}\n", quote_fish(v)),
        Shell::Nu => format!("{}\n", serde_json::json!({ k: v })),
    }
}

/// For nu, `{"K":null}`: a null asks the module for `hide-env` (as in `hook-env --shell nu`).
pub fn unset_var(shell: Shell, k: &str) -> String {
    match shell {
        Shell::Bash | Shell::Zsh => format!("unset {k}\n"),
        Shell::Fish => format!("set -e {k}\n"),
        Shell::Nu => format!("{}\n", serde_json::json!({ k: null })),
    }
}

/// The nu module's wrapper commands, one `def` per wrapped executable (nu defines commands at
/// parse time, so `activate nu` appends them to the static module). The AWS tools get
/// `--profile` with profile-name completion (and `aws` the AWS CLI's completer). Names were checked by
/// [`crate::config::is_executable_name`], so a JSON string is a valid nu string for them.
pub fn nu_wrappers(wrapped: &[String]) -> String {
    let mut out = String::from("\n# The wrapped commands (`op-aws list`).\n");
    for name in wrapped {
        let q = serde_json::Value::from(name.as_str());
        if crate::inject::PROFILE_TOOLS.contains(&name.as_str()) {
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

/// The shell whose integration is loaded here (`OP_AWS_SHELL`, exported by the scripts).
pub fn integration() -> Option<String> {
    std::env::var("OP_AWS_SHELL").ok().filter(|s| !s.is_empty())
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
        assert_eq!(set_var(Shell::Nu, "K", "a\"b"), "{\"K\":\"a\\\"b\"}\n");
        assert_eq!(unset_var(Shell::Nu, "K"), "{\"K\":null}\n");
    }
}
