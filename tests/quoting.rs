//! Issue 27: the quoting every value op-aws prints for a shell goes through, checked with the
//! real bash, zsh, fish and nu on the `shell_quote` fuzz target's committed inputs
//! (fuzz/corpus/shell_quote, fuzz/regressions/shell_quote): what each shell reads back from
//! op-aws's quoting of a value is the value, byte for byte.

use std::path::Path;

use op_aws::shell::{quote_fish, quote_nu, quote_posix};

use crate::support::{TestEnv, require};

/// The committed inputs that are text a shell can hold (UTF-8, no NUL), and a few written
/// here so the test means something even with an empty corpus.
fn values() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut out: Vec<String> = ["", "it's", "'#'##", "a\\'b", "\u{2019}", "$(id)\n`x`"]
        .map(str::to_owned)
        .to_vec();
    for dir in ["corpus/shell_quote", "regressions/shell_quote"] {
        let Ok(rd) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for e in rd {
            let bytes = std::fs::read(e.unwrap().path()).unwrap();
            if let Ok(s) = String::from_utf8(bytes)
                && !s.contains('\0')
            {
                out.push(s);
            }
        }
    }
    out
}

/// Runs `script` (one statement per value, each writing value N to `out/N`) with `shell` and
/// checks what each wrote.
fn check(
    env: &TestEnv,
    shell: &str,
    args: &[&str],
    ext: &str,
    line: impl Fn(&str, &Path) -> String,
) {
    let values = values();
    let out = env.home.join(format!("out-{shell}"));
    std::fs::create_dir_all(&out).unwrap();
    let script: String = values
        .iter()
        .enumerate()
        .map(|(i, v)| line(v, &out.join(i.to_string())) + "\n")
        .collect();
    let file = env.home.join(format!("script.{ext}"));
    std::fs::write(&file, &script).unwrap();
    let o = env
        .command(require(shell))
        .args(args)
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{shell}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    for (i, v) in values.iter().enumerate() {
        let got = std::fs::read(out.join(i.to_string()))
            .unwrap_or_else(|e| panic!("{shell} wrote nothing for {v:?}: {e}"));
        assert_eq!(
            String::from_utf8_lossy(&got),
            v.as_str(),
            "{shell} reads the quoting of {v:?} back differently"
        );
    }
    assert!(
        values.len() >= 10,
        "the corpus is missing: {} values",
        values.len()
    );
}

fn path(p: &Path) -> String {
    p.to_str().expect("a UTF-8 temporary path").to_owned()
}

#[test]
fn bash_and_zsh_read_back_what_op_aws_quoted() {
    let env = TestEnv::new();
    let line =
        |v: &str, p: &Path| format!("printf '%s' {} >{}", quote_posix(v), quote_posix(&path(p)));
    check(&env, "bash", &["--norc", "--noprofile"], "bash", line);
    check(&env, "zsh", &["-f"], "zsh", line);
}

#[test]
fn fish_reads_back_what_op_aws_quoted() {
    let env = TestEnv::new();
    check(&env, "fish", &["--no-config"], "fish", |v, p| {
        format!("printf '%s' {} >{}", quote_fish(v), quote_fish(&path(p)))
    });
}

#[test]
fn nu_reads_back_what_op_aws_quoted() {
    let env = TestEnv::new();
    check(&env, "nu", &["-n", "--no-std-lib"], "nu", |v, p| {
        format!("{} | save --raw {}", quote_nu(v), quote_nu(&path(p)))
    });
}
