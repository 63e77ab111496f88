//! Talking to the person at the terminal: hidden secrets, yes/no questions, picking from a list.
//! Secrets never come from argv; without a terminal they come from stdin, one line each.

use std::io::{BufRead, IsTerminal, Write};

use secrecy::SecretString;
use zeroize::Zeroizing;

use crate::{Error, Result};

pub fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

/// Asks for a secret without echo.
pub fn read_hidden(prompt: &str) -> Result<SecretString> {
    let s =
        Zeroizing::new(rpassword::prompt_password(prompt).map_err(|e| Error::io("/dev/tty", e))?);
    if s.is_empty() {
        return Err(Error::Cancelled);
    }
    Ok(SecretString::from(s.as_str()))
}

/// One line from stdin, without its line ending. EOF before any byte is an error.
pub fn read_stdin_line() -> Result<Zeroizing<String>> {
    let mut line = Zeroizing::new(String::new());
    let n = std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Error::io("stdin", e))?;
    if n == 0 {
        return Err(Error::Invalid(
            "expected one more line on stdin, got end of input".into(),
        ));
    }
    let trimmed = line.trim_end_matches(['\n', '\r']).len();
    line.truncate(trimmed);
    Ok(line)
}

/// A secret from the terminal (hidden) or, when stdin is not one, from the next stdin line.
pub fn secret(prompt: &str) -> Result<SecretString> {
    if stdin_is_terminal() {
        read_hidden(prompt)
    } else {
        Ok(SecretString::from(read_stdin_line()?.as_str()))
    }
}

/// A yes/no question on the terminal; `default` when the user just presses Enter.
pub fn confirm(question: &str, default: bool) -> Result<bool> {
    let mut err = std::io::stderr();
    let _ = write!(err, "{question} [{}] ", if default { "Y/n" } else { "y/N" });
    let _ = err.flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Error::io("stdin", e))?;
    Ok(match line.trim().to_ascii_lowercase().as_str() {
        "" => default,
        "y" | "yes" => true,
        _ => false,
    })
}

/// A numbered menu on stderr; returns the chosen index.
pub fn pick(title: &str, choices: &[String]) -> Result<usize> {
    let mut err = std::io::stderr();
    let _ = writeln!(err, "{title}");
    for (i, c) in choices.iter().enumerate() {
        let _ = writeln!(err, "  {}) {}", i + 1, crate::error::printable(c));
    }
    loop {
        let _ = write!(err, "choose 1-{}: ", choices.len());
        let _ = err.flush();
        let mut line = String::new();
        if std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Error::io("stdin", e))?
            == 0
        {
            return Err(Error::Cancelled);
        }
        let line = line.trim();
        if let Ok(n) = line.parse::<usize>()
            && (1..=choices.len()).contains(&n)
        {
            return Ok(n - 1);
        }
        if let Some(i) = choices.iter().position(|c| c.eq_ignore_ascii_case(line)) {
            return Ok(i);
        }
    }
}
