//! Talking to the person at the terminal: hidden secrets, yes/no questions, picking from a list.
//! Secrets never come from argv; without a terminal they come from stdin, one line each, or
//! (for the passphrase, an MFA code, a plugin's PIN and confirmations) from a pinentry.

use std::io::{BufRead, IsTerminal, Write};

use secrecy::SecretString;
use zeroize::Zeroizing;

use crate::caller::Caller;
use crate::config::Config;
use crate::pinentry::{Dialog, Pinentry};
use crate::{Error, Result};

/// Who can be asked for a caller: its terminal, else a pinentry, else nobody.
#[derive(Debug, Clone)]
pub enum Asker {
    Terminal,
    Pinentry(Pinentry),
    Nobody,
}

impl Asker {
    pub fn for_caller(caller: &Caller, config: &Config) -> Self {
        if caller.terminal {
            return Self::Terminal;
        }
        if !caller.is_process {
            return Self::Nobody;
        }
        Pinentry::locate(caller, config.pinentry_program.as_deref())
            .map_or(Self::Nobody, Self::Pinentry)
    }

    pub fn can_ask(&self) -> bool {
        !matches!(self, Self::Nobody)
    }

    /// A hidden secret. `why` tells who asks and why (a pinentry shows it; the terminal shows
    /// `prompt` only, the person just typed the command); `error` says what went wrong with
    /// the last answer. `Ok(None)`: nobody to ask.
    pub fn secret(
        &self,
        caller: &Caller,
        why: &str,
        prompt: &str,
        error: Option<&str>,
    ) -> Result<Option<SecretString>> {
        match self {
            Self::Terminal => {
                if let Some(e) = error {
                    eprintln!("op-aws: {e}");
                }
                read_hidden(&format!("op-aws: {prompt} ")).map(Some)
            }
            Self::Pinentry(p) => p
                .get_pin(&Dialog {
                    title: "op-aws".into(),
                    desc: describe(caller, why),
                    prompt: prompt.into(),
                    error: error.map(str::to_owned),
                    ..Dialog::default()
                })
                .map(Some),
            Self::Nobody => Ok(None),
        }
    }

    /// A yes/no question; `Ok(None)`: nobody to ask.
    pub fn confirm(&self, caller: &Caller, question: &str, default: bool) -> Result<Option<bool>> {
        match self {
            Self::Terminal => confirm(question, default).map(Some),
            Self::Pinentry(p) => p
                .confirm(&Dialog {
                    title: "op-aws".into(),
                    desc: describe(caller, question),
                    ok: Some("Yes".into()),
                    cancel: Some("No".into()),
                    ..Dialog::default()
                })
                .map(Some),
            Self::Nobody => Ok(None),
        }
    }

    /// A message the person must see (a plugin's "touch your key"): on stderr at a terminal,
    /// in a one-button pinentry dialog otherwise.
    pub fn message(&self, caller: &Caller, text: &str) -> Result<()> {
        match self {
            Self::Terminal | Self::Nobody => {
                eprintln!("op-aws: {}", crate::error::printable(text));
                Ok(())
            }
            Self::Pinentry(p) => p.message(&Dialog {
                title: "op-aws".into(),
                desc: describe(caller, text),
                ..Dialog::default()
            }),
        }
    }
}

/// What a pinentry dialog says: which command asks, then why.
pub fn describe(caller: &Caller, why: &str) -> String {
    match &caller.command {
        Some(c) => format!("`{c}` asks:\n\n{why}"),
        None => why.to_owned(),
    }
}

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
