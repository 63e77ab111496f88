//! Asking the person through `pinentry` (the Assuan protocol gpg-agent speaks) when the asking
//! process has no terminal: an IDE, a GUI, an AI agent's subprocess. The program comes from
//! `config.toml` `pinentry_program`, else `pinentry` on the caller's PATH; it gets the caller's
//! environment (its display) and, from `GPG_TTY`, the terminal to ask on, as gpg-agent does.
//!
//! The secret travels only through the pinentry's stdout pipe, percent-encoded on a `D` line;
//! every buffer that held it is zeroized.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use secrecy::SecretString;
use zeroize::Zeroizing;

use crate::caller::Caller;
use crate::{Error, Result};

/// libgpg-error's codes (the low 16 bits of an `ERR` line): the person pressed Cancel, or
/// answered No to a CONFIRM.
const GPG_ERR_CANCELED: u32 = 99;
const GPG_ERR_NOT_CONFIRMED: u32 = 114;
/// Assuan's line limit, and room for the command word.
const MAX_LINE: usize = 1000;
const MAX_TEXT: usize = 900;

/// Where pinentry-mac is installed when it is not on PATH: Homebrew (Apple silicon, Intel)
/// and MacGPG (GPG Suite).
const PINENTRY_MAC: &[&str] = &[
    "/opt/homebrew/bin/pinentry-mac",
    "/usr/local/bin/pinentry-mac",
    "/usr/local/MacGPG2/libexec/pinentry-mac.app/Contents/MacOS/pinentry-mac",
];

/// A pinentry program found for a caller; each question starts it anew (as gpg-agent does).
#[derive(Debug, Clone)]
pub struct Pinentry {
    program: PathBuf,
    env: Vec<(String, OsString)>,
    tty: Option<String>,
    term: Option<String>,
    lc_ctype: Option<String>,
}

/// What a dialog says. `desc` tells who asks and why; `error` is shown above it (a retry).
#[derive(Debug, Clone, Default)]
pub struct Dialog {
    pub title: String,
    pub desc: String,
    pub prompt: String,
    pub error: Option<String>,
    pub ok: Option<String>,
    pub cancel: Option<String>,
    /// Seconds the dialog waits for an answer before it counts as cancelled (SETTIMEOUT).
    pub timeout: Option<u64>,
}

impl Pinentry {
    /// The pinentry for `caller`: `configured` (a path, or a name on the caller's PATH), else
    /// `pinentry` on PATH — but only where it has somewhere to ask (a display or `GPG_TTY`),
    /// unless the person configured one; on macOS `pinentry-mac` first (a window always can be
    /// shown), on PATH or where Homebrew and MacGPG install it. None: nobody can be asked this
    /// way.
    pub fn locate(caller: &Caller, configured: Option<&str>) -> Option<Self> {
        Self::locate_on(caller, configured, crate::os::Platform::CURRENT)
    }

    fn locate_on(
        caller: &Caller,
        configured: Option<&str>,
        platform: crate::os::Platform,
    ) -> Option<Self> {
        let program = match configured {
            Some(p) => caller.which(p.as_ref())?,
            None => {
                let mac = (platform == crate::os::Platform::MacOs)
                    .then(|| {
                        caller.which("pinentry-mac".as_ref()).or_else(|| {
                            PINENTRY_MAC.iter().map(PathBuf::from).find(|p| p.is_file())
                        })
                    })
                    .flatten();
                match mac {
                    Some(p) => p,
                    None => {
                        let can_show = ["DISPLAY", "WAYLAND_DISPLAY", "GPG_TTY"]
                            .iter()
                            .any(|v| caller.var(v).is_some());
                        if !can_show {
                            return None;
                        }
                        caller.which("pinentry".as_ref())?
                    }
                }
            }
        };
        Some(Self::new(caller.absolute(&program), caller))
    }

    /// `program` run in `caller`'s environment (op-aws's own variables, and those that sign it
    /// in to 1Password, withheld).
    pub fn new(program: PathBuf, caller: &Caller) -> Self {
        Self {
            program,
            env: caller
                .vars_for_children()
                .filter(|(k, _)| !k.starts_with("OP_AWS_") && !k.starts_with("__OP_AWS"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            tty: caller.var("GPG_TTY").map(str::to_owned),
            term: caller.var("TERM").map(str::to_owned),
            lc_ctype: caller
                .var("LC_ALL")
                .or_else(|| caller.var("LC_CTYPE"))
                .or_else(|| caller.var("LANG"))
                .map(str::to_owned),
        }
    }

    pub fn program(&self) -> &Path {
        &self.program
    }

    /// A hidden secret (GETPIN). Cancel is [`Error::Cancelled`]; an empty answer too.
    pub fn get_pin(&self, d: &Dialog) -> Result<SecretString> {
        let mut s = self.session(d)?;
        let pin = s.get_pin()?;
        s.bye();
        if pin.is_empty() {
            return Err(Error::Cancelled);
        }
        let text = std::str::from_utf8(&pin).map_err(|_| self.failed("the answer is not text"))?;
        Ok(SecretString::from(text))
    }

    /// A yes/no question (CONFIRM): Ok(false) when the person says no or cancels.
    pub fn confirm(&self, d: &Dialog) -> Result<bool> {
        let mut s = self.session(d)?;
        let yes = s.confirm(false)?;
        s.bye();
        Ok(yes)
    }

    /// A message shown while something else happens ("touch your YubiKey"): up until the
    /// returned guard is dropped (the pinentry is ended then), or the person closes it.
    pub fn show(&self, d: &Dialog) -> Result<Shown<'_>> {
        let mut s = self.session(d)?;
        s.send("CONFIRM --one-button")?;
        Ok(Shown(s))
    }

    /// A message with one button (CONFIRM --one-button), for a plugin's "touch your key".
    pub fn message(&self, d: &Dialog) -> Result<()> {
        let mut s = self.session(d)?;
        s.confirm(true)?;
        s.bye();
        Ok(())
    }

    fn failed(&self, why: &str) -> Error {
        Error::Pinentry {
            program: self.program.clone(),
            why: why.to_owned(),
        }
    }

    fn session(&self, d: &Dialog) -> Result<Session<'_>> {
        let mut child = Command::new(&self.program)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| self.failed(&format!("cannot start it: {e}")))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(self.failed("no pipes"));
        };
        let mut s = Session {
            p: self,
            child,
            to: stdin,
            from: BufReader::new(stdout),
        };
        s.expect_ok(None)?;
        let mut options = Vec::new();
        if let Some(t) = &self.tty {
            options.push(format!("ttyname={t}"));
        }
        if let Some(t) = &self.term {
            options.push(format!("ttytype={t}"));
        }
        if let Some(l) = &self.lc_ctype {
            options.push(format!("lc-ctype={l}"));
        }
        for o in options {
            // An option this pinentry does not know is no reason to fail.
            s.command(&format!("OPTION {}", escape(&o)), true)?;
        }
        let texts = [
            ("SETTITLE", Some(&d.title)),
            ("SETDESC", Some(&d.desc)),
            ("SETPROMPT", Some(&d.prompt)),
            ("SETERROR", d.error.as_ref()),
            ("SETOK", d.ok.as_ref()),
            ("SETCANCEL", d.cancel.as_ref()),
        ];
        for (cmd, text) in texts {
            if let Some(t) = text.filter(|t| !t.is_empty()) {
                s.command(&format!("{cmd} {}", escape(t)), false)?;
            }
        }
        if let Some(secs) = d.timeout {
            s.command(&format!("SETTIMEOUT {secs}"), true)?;
        }
        Ok(s)
    }
}

/// A message on screen ([`Pinentry::show`]); dropped, it goes.
pub struct Shown<'a>(#[allow(dead_code)] Session<'a>);

/// One running pinentry.
struct Session<'a> {
    p: &'a Pinentry,
    child: Child,
    to: ChildStdin,
    from: BufReader<ChildStdout>,
}

/// A server reply that ended a command.
enum Reply {
    Ok,
    Err(u32, String),
}

impl Session<'_> {
    fn send(&mut self, line: &str) -> Result<()> {
        writeln!(self.to, "{line}")
            .and_then(|()| self.to.flush())
            .map_err(|e| self.p.failed(&format!("it stopped answering: {e}")))
    }

    /// Reads to the command's end (`OK` or `ERR`), gathering `D` data into `data`.
    fn reply(&mut self, mut data: Option<&mut Zeroizing<Vec<u8>>>) -> Result<Reply> {
        let mut line = Zeroizing::new(Vec::with_capacity(MAX_LINE));
        loop {
            line.clear();
            let n = self
                .from
                .read_until(b'\n', &mut line)
                .map_err(|e| self.p.failed(&format!("cannot read its answer: {e}")))?;
            if n == 0 {
                return Err(self.p.failed("it exited without answering"));
            }
            while line.last().is_some_and(|b| matches!(b, b'\n' | b'\r')) {
                line.pop();
            }
            let (word, rest) = match line.iter().position(|&b| b == b' ') {
                Some(i) => (&line[..i], &line[i + 1..]),
                None => (&line[..], &[][..]),
            };
            match word {
                b"OK" => return Ok(Reply::Ok),
                b"ERR" => {
                    let text = String::from_utf8_lossy(rest);
                    let (code, desc) = text.split_once(' ').unwrap_or((&text, ""));
                    let code = code.parse::<u32>().unwrap_or(0);
                    return Ok(Reply::Err(code, crate::error::printable(desc)));
                }
                b"D" => {
                    if let Some(d) = data.as_deref_mut() {
                        percent_decode_into(rest, d);
                    }
                }
                // A pinentry asking us for data (none of ours does): decline.
                b"INQUIRE" => self.send("CAN")?,
                // Status and comment lines.
                _ => {}
            }
        }
    }

    fn expect_ok(&mut self, data: Option<&mut Zeroizing<Vec<u8>>>) -> Result<()> {
        match self.reply(data)? {
            Reply::Ok => Ok(()),
            Reply::Err(code, desc) => Err(self.error(code, &desc)),
        }
    }

    fn error(&self, code: u32, desc: &str) -> Error {
        match code & 0xffff {
            GPG_ERR_CANCELED | GPG_ERR_NOT_CONFIRMED => Error::Cancelled,
            _ => self.p.failed(&format!("ERR {code} {desc}")),
        }
    }

    /// `lenient`: an ERR answer is ignored (OPTIONs some pinentries do not know).
    fn command(&mut self, line: &str, lenient: bool) -> Result<()> {
        self.send(line)?;
        match self.reply(None)? {
            Reply::Ok => Ok(()),
            Reply::Err(..) if lenient => Ok(()),
            Reply::Err(code, desc) => Err(self.error(code, &desc)),
        }
    }

    fn get_pin(&mut self) -> Result<Zeroizing<Vec<u8>>> {
        self.send("GETPIN")?;
        let mut pin = Zeroizing::new(Vec::new());
        self.expect_ok(Some(&mut pin))?;
        Ok(pin)
    }

    fn confirm(&mut self, one_button: bool) -> Result<bool> {
        self.send(if one_button {
            "CONFIRM --one-button"
        } else {
            "CONFIRM"
        })?;
        match self.expect_ok(None) {
            Ok(()) => Ok(true),
            Err(Error::Cancelled) => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn bye(mut self) {
        let _ = self.send("BYE");
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        // BYE was sent (or the pinentry misbehaved): it must not outlive the question.
        if !matches!(self.child.try_wait(), Ok(Some(_))) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// Assuan parameters escape `%`, CR and LF (and we escape every other control character, so a
/// description cannot end the line); long texts are cut at a character boundary.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if out.len() >= MAX_TEXT {
            out.push('…');
            break;
        }
        if c == '%' || c.is_control() {
            let mut b = [0u8; 4];
            for byte in c.encode_utf8(&mut b).bytes() {
                out.push_str(&format!("%{byte:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A `D` line's data: `%XX` is the byte XX; anything else is itself.
fn percent_decode_into(data: &[u8], out: &mut Vec<u8>) {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut i = 0;
    while i < data.len() {
        if data[i] == b'%'
            && i + 2 < data.len()
            && let (Some(h), Some(l)) = (hex(data[i + 1]), hex(data[i + 2]))
        {
            out.push(h << 4 | l);
            i += 3;
        } else {
            out.push(data[i]);
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn d_lines_are_percent_decoded() {
        let mut out = Vec::new();
        percent_decode_into(b"a%25b%0Ac%20d%", &mut out);
        assert_eq!(out, b"a%b\nc d%");
        let mut out = Vec::new();
        percent_decode_into(b"%zz%4", &mut out);
        assert_eq!(out, b"%zz%4");
    }

    #[test]
    fn what_signs_op_aws_in_never_reaches_the_pinentry() {
        let caller = Caller::new(
            [
                ("DISPLAY", ":0"),
                ("OP_SERVICE_ACCOUNT_TOKEN", "ops_secret"),
                ("OP_SESSION_my", "s"),
                ("OP_CONNECT_TOKEN", "c"),
                ("OP_AWS_SESSION_ITEM", "x"),
            ]
            .map(|(k, v)| (k.to_owned(), std::ffi::OsString::from(v))),
            PathBuf::from("/"),
            false,
        );
        let p = Pinentry::new(PathBuf::from("/usr/bin/pinentry"), &caller);
        let names: Vec<&str> = p.env.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["DISPLAY"]);
    }

    #[test]
    fn parameters_cannot_end_the_line() {
        assert_eq!(escape("50% of\nit\r"), "50%25 of%0Ait%0D");
        assert!(escape(&"x".repeat(5000)).len() < MAX_LINE - 20);
    }

    #[test]
    fn macos_finds_pinentry_mac_without_a_display() {
        use std::os::unix::fs::PermissionsExt;
        let bin = tempfile::tempdir().unwrap();
        for name in ["pinentry", "pinentry-mac"] {
            let p = bin.path().join(name);
            std::fs::write(&p, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let caller = Caller::new([("PATH".to_owned(), bin.path().into())], "/".into(), false);
        let mac = Pinentry::locate_on(&caller, None, crate::os::Platform::MacOs).unwrap();
        assert_eq!(mac.program(), bin.path().join("pinentry-mac"));
        // Linux: no display and no GPG_TTY, nowhere to ask.
        assert!(Pinentry::locate_on(&caller, None, crate::os::Platform::Linux).is_none());
        // A configured one wins everywhere.
        let chosen = Pinentry::locate_on(&caller, Some("pinentry"), crate::os::Platform::MacOs);
        assert_eq!(chosen.unwrap().program(), bin.path().join("pinentry"));
    }
}
