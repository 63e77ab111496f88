//! Text op-aws did not write (AWS's errors, directory names, 1Password titles) never drives
//! the terminal.

use crate::support::TestEnv;

/// What AWS (or whatever answers in its place) says reaches the terminal without line breaks or
/// bidirectional overrides.
#[test]
fn sts_error_messages_reach_the_terminal_without_control_characters() {
    use crate::support::sts_server::{Mode, StsServer};
    let mut env = TestEnv::new();
    let stub = StsServer::start(Mode::Fail {
        status: 403,
        code: "AccessDenied",
        // XML 1.0 cannot carry ESC, but it carries line breaks and bidirectional overrides.
        message: "denied\u{202e}txt.exe\nop-aws: forged second line",
    });
    env.set("AWS_ENDPOINT_URL_STS", stub.url());
    env.set("AWS_REGION", "us-east-1");
    env.vault();
    env.add_keys("dev", "AKIADEV0000000000001", "dev-secret", None);
    env.write(
        ".aws/config",
        "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = base\n\
         [profile base]\nop_aws_item = dev\n",
    );
    let o = env.run(&["run", "--profile", "admin", "--", "true"]);
    let e = crate::support::stderr(&o);
    assert!(!o.status.success());
    assert!(e.contains("AccessDenied") && e.contains("denied"), "{e}");
    assert!(!e.contains('\u{202e}'), "{e:?}");
    assert_eq!(
        e.lines().filter(|l| l.starts_with("op-aws: ")).count(),
        1,
        "{e}"
    );
}

/// Nothing op-aws prints from a name it did not write (a directory, an item title from
/// 1Password) can drive the terminal: escape sequences (OSC 52 writes the clipboard), and
/// bidirectional overrides, are shown as U+FFFD; titles that hold them are refused at `item add`.
#[test]
fn names_op_aws_did_not_write_never_reach_the_terminal_raw() {
    use crate::onepassword::{config, key_fields, op_item, put_items};
    let hostile = |o: &std::process::Output| -> Option<String> {
        let all = [o.stdout.as_slice(), o.stderr.as_slice()].concat();
        let text = String::from_utf8_lossy(&all).into_owned();
        text.chars()
            .any(|c| {
                (c.is_control() && c != '\n' && c != '\t') || ('\u{202a}'..='\u{202e}').contains(&c)
            })
            .then_some(text)
    };
    let env = TestEnv::new();
    env.vault();
    env.add_keys("dev", "AKIADEV0000000000001", "s", None);
    // A title with an escape sequence is refused, one line and a hint, the vault unchanged.
    let vault = std::fs::read(env.data_dir().join("vault.age")).unwrap();
    for title in [
        "evil\u{1b}]2;pwned\u{7}",
        "evil\u{202e}txt.exe",
        "two\nlines",
    ] {
        let o = env.run_with_stdin(
            &[
                "item",
                "add",
                title,
                "--set",
                "Access Key ID=AKIAX",
                "--set-secret",
                "Secret Access Key",
            ],
            "s\n",
        );
        let e = crate::support::stderr(&o);
        assert!(!o.status.success(), "{title:?} accepted");
        assert!(e.contains("control characters"), "{e}");
        assert_eq!(e.lines().count(), 2, "{e}");
        assert_eq!(hostile(&o), None);
        assert_eq!(
            std::fs::read(env.data_dir().join("vault.age")).unwrap(),
            vault,
            "the vault changed"
        );
    }
    // Repositories named to clear the screen, retitle the window, fill the clipboard, reverse
    // the text; each with an untrusted project file and a directory default.
    for name in [
        "repo\u{1b}[2J",
        "repo\u{1b}]2;owned\u{7}",
        "repo\u{1b}]52;c;SGVsbG8=\u{7}",
        "repo\u{202e}gpj.exe",
    ] {
        let dir = env.home.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(".op-aws.toml"), "item = \"dev\"\n").unwrap();
        let at = |args: &[&str]| {
            let mut c = env.op_aws(args);
            c.current_dir(&dir).env("OP_AWS_SHELL", "bash");
            crate::support::run_cmd(c, "")
        };
        // What hook-env prints on stdout is shell code for `eval`, quoted; its notice is
        // what reaches the terminal.
        let mut o = at(&["hook-env", "--shell", "bash"]);
        o.stdout.clear();
        assert_eq!(hostile(&o), None, "{name:?}: hook-env");
        for args in [
            &["status"][..],
            &["inspect"],
            &["trust"],
            &["status"],
            &["inspect"],
            &["use", "dev", "--directory"],
            &["inspect"],
            &["untrust"],
        ] {
            let o = at(args);
            assert_eq!(hostile(&o), None, "{name:?}: {args:?}");
        }
    }
    // Titles from 1Password: listed, used, shown in status.
    let mut env = crate::onepassword::op_env();
    put_items(
        &env,
        &[op_item(
            "e1",
            "Private",
            "evil\u{1b}]52;c;SGVsbG8=\u{7}\u{202e}",
            key_fields("AKIAEVIL000000000001", "s"),
        )],
    );
    config(
        &env,
        "store = \"1password\"\nonepassword_vault = \"Private\"\n",
    );
    let o = env.run(&["item", "list"]);
    assert!(o.status.success(), "{}", crate::support::stderr(&o));
    assert_eq!(hostile(&o), None, "item list");
    env.set(
        "OP_AWS_SESSION_ITEM",
        "evil\u{1b}]52;c;SGVsbG8=\u{7}\u{202e}",
    );
    for args in [&["status"][..], &["inspect"]] {
        assert_eq!(hostile(&env.run(args)), None, "{args:?}");
    }
}
