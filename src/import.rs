//! Importing plaintext keys, and removing exactly the imported key lines from the credentials
//! file while every other byte (comments, other profiles, order, line endings) stays as it was.

use std::collections::HashSet;

/// Keys that hold secrets (or the key id paired with them) in a credentials file.
const KEY_LINES: &[&str] = &[
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "aws_security_token",
];

/// The section name of a `[name]` line in a credentials file.
fn section_name(line: &str) -> Option<&str> {
    let t = line.trim();
    let inner = t.strip_prefix('[')?;
    let end = inner.find(']')?;
    Some(inner[..end].trim())
}

fn key_of(line: &str) -> Option<String> {
    let t = line.trim_start();
    if t.starts_with('#') || t.starts_with(';') || line.starts_with([' ', '\t']) {
        return None;
    }
    let (k, _) = t.split_once('=')?;
    Some(k.trim().to_ascii_lowercase())
}

/// `text` without the key lines of `profiles`; returns the new text and how many lines went.
pub fn remove_key_lines(text: &str, profiles: &HashSet<String>) -> (String, usize) {
    let mut out = String::with_capacity(text.len());
    let mut current: Option<String> = None;
    let mut removed = 0;
    for line in text.split_inclusive('\n') {
        if let Some(name) = section_name(line) {
            current = Some(name.to_owned());
            out.push_str(line);
            continue;
        }
        let in_imported = current.as_ref().is_some_and(|c| profiles.contains(c));
        if in_imported && key_of(line).is_some_and(|k| KEY_LINES.contains(&k.as_str())) {
            removed += 1;
            continue;
        }
        out.push_str(line);
    }
    (out, removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_only_the_imported_key_lines() {
        let text = "# top\r\n[default]\r\naws_access_key_id = A\r\naws_secret_access_key=S\r\nregion = x\r\n\
                    [keep]\naws_access_key_id = K\n; c\n[prod ]\n  AWS_Session_Token = T\nother=1";
        let set: HashSet<String> = ["default".to_owned(), "prod".to_owned()].into();
        let (out, n) = remove_key_lines(text, &set);
        assert_eq!(n, 2, "the indented line is a sub-property, not a key");
        assert_eq!(
            out,
            "# top\r\n[default]\r\nregion = x\r\n[keep]\naws_access_key_id = K\n; c\n[prod ]\n  AWS_Session_Token = T\nother=1"
        );
    }
}
