//! macOS's `sysctl(KERN_PROCARGS2)` answer for a process, as bytes: `argc` (a native-endian
//! 32-bit integer), the executable's path and its NUL padding, then `argc` NUL-terminated
//! arguments, then the environment (never read here: it may hold secrets). A pure function, so
//! that it is tested on every platform with recorded bytes.

/// What the bytes hold: the executable's path as the kernel saw it at exec, and argv.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcArgs {
    pub exec_path: String,
    pub argv: Vec<String>,
}

/// Parses `raw`; None when it is cut short or malformed (a process that rewrote its own argv
/// area can leave anything there: fewer strings than `argc` is what is there).
pub fn parse(raw: &[u8]) -> Option<ProcArgs> {
    let argc = i32::from_ne_bytes(raw.get(..4)?.try_into().ok()?);
    let argc = usize::try_from(argc).ok()?;
    let rest = raw.get(4..)?;
    let end = rest.iter().position(|b| *b == 0)?;
    let exec_path = String::from_utf8_lossy(&rest[..end]).into_owned();
    // The path's terminator and the padding after it (to a word boundary, or more).
    let mut at = end;
    while rest.get(at) == Some(&0) {
        at += 1;
    }
    let mut argv = Vec::with_capacity(argc.min(256));
    let mut strings = rest.get(at..)?.split(|b| *b == 0);
    for _ in 0..argc {
        match strings.next() {
            Some(a) => argv.push(String::from_utf8_lossy(a).into_owned()),
            None => break,
        }
    }
    // The last `split` piece of a buffer cut inside an argument is unterminated: drop it.
    if argv.len() == argc && !rest[at..].is_empty() {
        let used: usize = argv.iter().map(|a| a.len() + 1).sum();
        if used > rest.len() - at {
            argv.pop();
        }
    }
    Some(ProcArgs { exec_path, argv })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded(argc: i32, path: &str, pad: usize, args: &[&str], env: &[&str]) -> Vec<u8> {
        let mut b = argc.to_ne_bytes().to_vec();
        b.extend_from_slice(path.as_bytes());
        b.extend(std::iter::repeat_n(0, 1 + pad));
        for a in args.iter().chain(env) {
            b.extend_from_slice(a.as_bytes());
            b.push(0);
        }
        b
    }

    #[test]
    fn reads_the_path_and_argv_and_never_the_environment() {
        // As `sysctl kern.procargs2.PID` answers for `node /opt/homebrew/bin/claude -p`.
        let raw = recorded(
            3,
            "/opt/homebrew/Cellar/node/24.1.0/bin/node",
            6,
            &["node", "/opt/homebrew/bin/claude", "-p"],
            &["AWS_SECRET_ACCESS_KEY=shh", "HOME=/Users/me"],
        );
        let p = parse(&raw).unwrap();
        assert_eq!(p.exec_path, "/opt/homebrew/Cellar/node/24.1.0/bin/node");
        assert_eq!(p.argv, ["node", "/opt/homebrew/bin/claude", "-p"]);
    }

    #[test]
    fn an_argument_with_spaces_stays_whole_and_no_padding_is_fine() {
        let raw = recorded(2, "/bin/zsh", 0, &["-zsh", "a b"], &[]);
        assert_eq!(parse(&raw).unwrap().argv, ["-zsh", "a b"]);
    }

    #[test]
    fn short_or_malformed_bytes_are_none_or_what_is_there() {
        assert_eq!(parse(&[]), None);
        assert_eq!(parse(&[1, 0]), None);
        // No terminator after the path.
        assert_eq!(parse(&recorded(1, "/bin/ls", 0, &[], &[])[..11]), None);
        assert_eq!(parse(&(-1i32).to_ne_bytes()), None);
        // argc says 3, two are there.
        let raw = recorded(3, "/bin/ls", 2, &["ls", "-l"], &[]);
        assert_eq!(parse(&raw).unwrap().argv, ["ls", "-l"]);
        // Cut inside the second argument: only the whole first one.
        let raw = recorded(2, "/bin/ls", 2, &["ls", "--all"], &[]);
        assert_eq!(parse(&raw[..raw.len() - 3]).unwrap().argv, ["ls"]);
    }
}
