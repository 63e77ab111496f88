//! The quoting functions every value op-aws prints for a shell goes through (`export`, `use`,
//! the hook), on arbitrary text.
//!
//! Holds: each quoting is one token that the shell's own reading rules (modelled here) turn
//! back into exactly the text, with nothing left unquoted. tests/quoting.rs runs the real bash,
//! zsh, fish and nu on this target's committed corpus for the same round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use op_aws::shell::{quote_fish, quote_nu, quote_posix, quote_powershell};

/// sh: single-quoted runs (no escape inside) and `\'` between them; nothing else.
fn read_posix(q: &str) -> Option<String> {
    let mut out = String::new();
    let mut it = q.chars();
    while let Some(c) = it.next() {
        match c {
            '\'' => loop {
                match it.next()? {
                    '\'' => break,
                    c => out.push(c),
                }
            },
            '\\' => out.push(it.next().filter(|c| *c == '\'')?),
            _ => return None,
        }
    }
    Some(out)
}

/// fish: one single-quoted string, in which only `\\` and `\'` are escapes.
fn read_fish(q: &str) -> Option<String> {
    let mut it = q.strip_prefix('\'')?.chars();
    let mut out = String::new();
    loop {
        match it.next()? {
            '\'' => return it.next().is_none().then_some(out),
            '\\' => match it.clone().next() {
                Some(c @ ('\\' | '\'')) => {
                    it.next();
                    out.push(c);
                }
                _ => out.push('\\'),
            },
            c => out.push(c),
        }
    }
}

/// nu: `r#'…'#`, ended by the first `'` followed by as many `#` as opened it.
fn read_nu(q: &str) -> Option<String> {
    let rest = q.strip_prefix('r')?;
    let hashes = rest.chars().take_while(|c| *c == '#').count();
    let body = rest[hashes..].strip_prefix('\'')?;
    let close = format!("'{}", "#".repeat(hashes));
    let end = body.find(&close)?;
    (end + close.len() == body.len() && hashes >= 1).then(|| body[..end].to_owned())
}

/// PowerShell: one single-quoted string; any of its five single quotes ends it, unless doubled.
fn read_powershell(q: &str) -> Option<String> {
    let quote = |c: char| matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}');
    let mut it = q.chars().peekable();
    if !it.next().is_some_and(quote) {
        return None;
    }
    let mut out = String::new();
    loop {
        let c = it.next()?;
        if !quote(c) {
            out.push(c);
        } else if it.peek().is_some_and(|n| quote(*n)) {
            out.push(it.next()?);
        } else {
            return it.next().is_none().then_some(out);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    for (shell, quoted, read) in [
        (
            "sh",
            quote_posix(s),
            read_posix as fn(&str) -> Option<String>,
        ),
        ("fish", quote_fish(s), read_fish),
        ("nu", quote_nu(s), read_nu),
        ("powershell", quote_powershell(s), read_powershell),
    ] {
        assert_eq!(
            read(&quoted).as_deref(),
            Some(s),
            "{shell} reads {quoted:?} back differently"
        );
    }
});
