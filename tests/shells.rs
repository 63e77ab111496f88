//! The bash, zsh and fish integration, driven through the real shells: sourced in
//! strict mode, interactive under a tmux pty, completing, linted, and against moto.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::tmux::Tmux;
use crate::support::{
    Moto, PASS, TestEnv, bin, ok, require, run_cmd, stderr, tools_path, use_moto,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sh {
    Bash,
    Zsh,
    Fish,
}

const SHELLS: [Sh; 3] = [Sh::Bash, Sh::Zsh, Sh::Fish];

impl Sh {
    fn name(self) -> &'static str {
        match self {
            Self::Bash => "bash",
            Self::Zsh => "zsh",
            Self::Fish => "fish",
        }
    }

    fn activate(self) -> String {
        match self {
            Self::Fish => "op-aws activate fish | source\n".into(),
            sh => format!("eval \"$(op-aws activate {})\"\n", sh.name()),
        }
    }

    /// `body` after sourcing the integration, non-interactive, in strict mode where the shell
    /// has one.
    fn script(self, env: &TestEnv, body: &str) -> Command {
        let src = format!("{}{body}", self.activate());
        let mut c = env.command(require(self.name()));
        match self {
            Self::Bash => c.args(["--noprofile", "--norc", "-euo", "pipefail", "-c", &src]),
            Self::Zsh => c.args(["-f", "-eu", "-o", "pipefail", "-c", &src]),
            Self::Fish => c.args(["--no-config", "--private", "-c", &src]),
        };
        c
    }

    fn run(self, env: &TestEnv, body: &str) -> Output {
        run_cmd(self.script(env, body), "")
    }

    fn ok(self, env: &TestEnv, body: &str) -> String {
        let o = self.run(env, body);
        assert!(
            o.status.success(),
            "{self:?} failed ({:?})\nscript: {body}\nstdout: {}\nstderr: {}",
            o.status,
            String::from_utf8_lossy(&o.stdout),
            stderr(&o)
        );
        String::from_utf8(o.stdout).unwrap()
    }

    /// `printf` of the prompt state, in this shell's syntax for possibly unset variables.
    fn show(self, label: &str, vars: &[&str]) -> String {
        let fmt = vec!["%s"; vars.len()].join("|");
        let args: Vec<String> = vars
            .iter()
            .map(|v| match self {
                Self::Fish => format!("\"${v}\""),
                _ => format!("\"${{{v}-}}\""),
            })
            .collect();
        format!("printf '{label}={fmt}\\n' {}\n", args.join(" "))
    }
}

fn line<'a>(out: &'a str, label: &str) -> &'a str {
    let prefix = format!("{label}=");
    out.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {label}= line in:\n{out}"))
}

fn mkdir(p: &Path) -> PathBuf {
    std::fs::create_dir_all(p).unwrap();
    p.to_owned()
}

fn executable(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn each_script_sources_cleanly_in_strict_mode() {
    let env = TestEnv::new();
    for sh in SHELLS {
        let o = sh.run(&env, "");
        assert!(o.status.success(), "{sh:?}: {}", stderr(&o));
        assert_eq!(stderr(&o), "", "{sh:?} printed on stderr");
        assert_eq!(
            String::from_utf8_lossy(&o.stdout),
            "",
            "{sh:?} printed on stdout"
        );
        // The marker `op-aws inspect` and `doctor` look for, exported to what the shell runs.
        assert_eq!(
            sh.ok(&env, "printenv OP_AWS_SHELL"),
            format!("{}\n", sh.name())
        );
    }
}

#[test]
fn sourcing_twice_defines_nothing_twice() {
    let env = TestEnv::new();
    let again = |sh: Sh, check: &str| sh.ok(&env, &format!("{}{check}", sh.activate()));
    assert_eq!(
        again(Sh::Bash, "printf '%s\\n' \"$PROMPT_COMMAND\""),
        "__op_aws_hook\n"
    );
    // The string form keeps what was there; the array form stays an array.
    let o = Sh::Bash.ok(
        &env,
        "PROMPT_COMMAND='history -a'\nunset __op_aws_loaded\neval \"$(op-aws activate bash)\"\n\
         printf '%s\\n' \"$PROMPT_COMMAND\"\nPROMPT_COMMAND=(one two)\nunset __op_aws_loaded\n\
         eval \"$(op-aws activate bash)\"\neval \"$(op-aws activate bash)\"\ndeclare -p PROMPT_COMMAND\n",
    );
    assert_eq!(
        o,
        "__op_aws_hook;history -a\ndeclare -a PROMPT_COMMAND=([0]=\"__op_aws_hook\" [1]=\"one\" [2]=\"two\")\n"
    );
    assert_eq!(
        again(Sh::Zsh, "print -l $precmd_functions -- $chpwd_functions"),
        "__op_aws_precmd\n--\n__op_aws_hook\n"
    );
    let fish = again(
        Sh::Fish,
        "functions --handlers | string match -e __op_aws_hook\ncomplete -c aws | string match -e 'op-aws profiles'",
    );
    assert_eq!(
        fish.lines().count(),
        3,
        "one PWD handler, one prompt handler, one completion:\n{fish}"
    );
}

#[test]
fn scripts_pass_their_linters() {
    let env = TestEnv::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("bash-zsh-fish");
    let check = |mut c: Command, what: &str| {
        let o = run_cmd(
            {
                c.current_dir(&root);
                c
            },
            "",
        );
        assert!(
            o.status.success(),
            "{what}:\n{}{}",
            String::from_utf8_lossy(&o.stdout),
            stderr(&o)
        );
    };
    let shellcheck = require("shellcheck");
    let mut c = env.command(&shellcheck);
    c.args(["--enable=all", "op-aws.bash"]);
    check(c, "shellcheck op-aws.bash");
    // The printed script too, prelude included.
    let script = env.ok(&["activate", "bash"]);
    let p = env.write("activate.bash", &script);
    let mut c = env.command(&shellcheck);
    c.args(["--enable=all", "--shell=bash"]).arg(&p);
    check(c, "shellcheck on `op-aws activate bash`");
    let mut c = env.command(require("zsh"));
    c.args(["-n", "op-aws.zsh"]);
    check(c, "zsh -n");
    let mut c = env.command(require("fish"));
    c.args(["--no-config", "-n", "op-aws.fish"]);
    check(c, "fish -n");
    let mut c = env.command(require("fish_indent"));
    c.args(["--check", "op-aws.fish"]);
    check(c, "fish_indent --check");
}

#[test]
fn use_switches_this_shell_and_aws_sees_the_session_item() {
    let moto = Moto::start();
    let mut env = TestEnv::new();
    use_moto(&mut env, &moto);
    env.set("AWS_DEFAULT_REGION", "us-east-1");
    let (arn, key, secret) = moto.iam_user("shell-user");
    env.vault();
    env.add_keys("moto-user", &key, &secret, None);
    env.add_keys("decoy", "AKIADECOYDECOYDECOY1", "decoy-secret", None);
    env.ok(&["use", "decoy", "--global"]);
    let vars = ["OP_AWS_SESSION_ITEM", "OP_AWS_ITEM", "OP_AWS_SCOPE"];
    for sh in SHELLS {
        let body = format!(
            "{}op-aws use moto-user\n{}aws sts get-caller-identity --query Arn --output text\n{}op-aws clear --force\n{}",
            sh.show("before", &vars),
            sh.show("after", &vars),
            sh.show(
                "shell-keys",
                &["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
            ),
            sh.show("cleared", &vars),
        );
        let o = sh.run(&env, &body);
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(o.status.success(), "{sh:?}: {out}\n{}", stderr(&o));
        assert_eq!(line(&out, "before"), "|decoy|global", "{sh:?}");
        assert_eq!(line(&out, "after"), "moto-user|moto-user|session", "{sh:?}");
        assert!(
            out.lines().any(|l| l == arn),
            "{sh:?}: aws did not run as {arn}:\n{out}"
        );
        assert_eq!(
            line(&out, "shell-keys"),
            "|",
            "{sh:?}: the keys leaked into the shell"
        );
        assert_eq!(line(&out, "cleared"), "|decoy|global", "{sh:?}");
        assert!(
            !stderr(&o).contains(&secret) && !out.contains(&secret),
            "{sh:?} showed the secret"
        );
    }
}

#[test]
fn a_wrapped_command_gets_keys_and_its_exit_status_passes_through() {
    let mut env = TestEnv::new();
    let fakebin = env.home.join("fakebin");
    executable(
        &fakebin.join("fake7"),
        "#!/bin/sh\necho \"key=$AWS_ACCESS_KEY_ID args=$*\"\nexit 7\n",
    );
    env.set("PATH", format!("{}:{}", fakebin.display(), tools_path()));
    env.write("cfg/config.toml", "wrap_extra = [\"fake7\"]\n");
    env.vault();
    env.add_keys("acme", "AKIAACMEACMEACME0001", "acme-secret", None);
    env.ok(&["use", "acme", "--global"]);
    for sh in SHELLS {
        let status = if sh == Sh::Fish { "$status" } else { "$?" };
        let out = sh.ok(&env, &format!("fake7 'a b' c || echo \"rc={status}\"\n"));
        assert_eq!(out, "key=AKIAACMEACMEACME0001 args=a b c\nrc=7\n", "{sh:?}");
    }
    // The function is what runs (not the binary directly), in every shell.
    assert!(
        Sh::Bash
            .ok(&env, "type fake7")
            .contains("op-aws run -- fake7")
    );
    assert!(
        Sh::Zsh
            .ok(&env, "whence -f fake7")
            .contains("op-aws run -- fake7")
    );
    assert!(
        Sh::Fish
            .ok(&env, "functions fake7")
            .contains("op-aws run -- $__op_aws_cmd")
    );
}

/// `aws --profile <TAB>` in bash: a candidate is one quoted word, never expanded (`compgen -W`
/// expands its word list; today's AWS parsers drop such names, a future one might not).
#[test]
fn bash_profile_candidates_are_quoted_and_never_expanded() {
    let env = TestEnv::new();
    let fake = env.write(
        "fake-bin/op-aws",
        "#!/bin/sh\nprintf '%s\\n' 'p$(touch pwned)' 'p a;b' 'other'\n",
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let script = format!(
        r#"PATH="{}:$PATH"
COMP_WORDS=(aws --profile p); COMP_CWORD=2; COMP_LINE="aws --profile p"; COMP_POINT=15; COMPREPLY=()
__op_aws_complete_aws; printf '%s\n' "${{COMPREPLY[@]}}"
"#,
        fake.parent().unwrap().display()
    );
    let out = Sh::Bash.ok(&env, &script);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines, [r"p\$\(touch\ pwned\)", r"p\ a\;b"], "{out}");
    assert!(!env.home.join("pwned").exists(), "a profile name was run");
}

#[test]
fn aws_profile_completes_in_every_shell() {
    let env = TestEnv::new();
    env.write(".aws/config", "[default]\nregion = us-east-1\n[profile dev]\nregion = us-east-1\n[profile prod-admin]\nrole_arn = arn:aws:iam::123456789012:role/a\nsource_profile = dev\n");
    env.write(".aws/credentials", "[ci]\naws_access_key_id = x\n");
    let want = ["ci", "default", "dev", "prod-admin"];
    let sorted = |v: Vec<String>| {
        let mut v = v;
        v.sort();
        v
    };

    // bash: the registered completion function, called as readline would.
    let bash = Sh::Bash.ok(
        &env,
        r#"complete -p aws
t() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; COMPREPLY=()
  __op_aws_complete_aws; printf '%s,' "${COMPREPLY[@]}"; echo; }
t aws --profile ""
t aws s3 ls --profile pr
t aws --profile = d
t aws sts get-caller-id
"#,
    );
    let lines: Vec<&str> = bash.lines().collect();
    assert!(
        lines[0].contains("-F __op_aws_complete_aws") && lines[0].ends_with(" aws"),
        "{bash}"
    );
    let split = |l: &str| {
        sorted(
            l.split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    };
    assert_eq!(split(lines[1]), want);
    assert_eq!(lines[2], "prod-admin,");
    assert_eq!(split(lines[3]), ["default", "dev"], "--profile=d");
    assert_eq!(
        lines[4], "get-caller-identity,",
        "aws_completer gets the rest"
    );

    // fish: its own completion engine.
    let fish = Sh::Fish.ok(&env, "complete -C 'aws --profile '\necho ==\ncomplete -C 'aws --profile=pro'\necho ==\ncomplete -C 'set -gx AWS_PROFILE d'\n");
    let parts: Vec<&str> = fish.split("==\n").collect();
    let names = |s: &str| {
        sorted(
            s.lines()
                .map(|l| l.split('\t').next().unwrap().to_owned())
                .collect(),
        )
    };
    assert_eq!(names(parts[0]), want);
    assert_eq!(names(parts[1]), ["--profile=prod-admin"]);
    assert_eq!(names(parts[2]), ["default", "dev"]);

    // zsh: the real completion system, at a prompt, under a pty.
    let zdot = mkdir(&env.home.join("zdot"));
    std::fs::write(
        zdot.join(".zshrc"),
        "autoload -Uz compinit && compinit -u\neval \"$(op-aws activate zsh)\"\nPS1='%% '\n",
    )
    .unwrap();
    for (typed, expect) in [
        ("aws --profile ", &want[..]),
        ("AWS_PROFILE=", &want[..]),
        ("aws --profile=prod", &["--profile=prod-admin"][..]),
    ] {
        let t = Tmux::start(&env, &[("ZDOTDIR", zdot.to_str().unwrap())], "zsh -i");
        t.wait_for("the first prompt", |s| s.contains('%'));
        t.send(&[typed, "Tab"]);
        t.wait_for(&format!("completions of {typed:?}"), |s| {
            expect.iter().all(|w| s.contains(w))
        });
    }
}

#[test]
fn cd_sets_and_clears_the_state_at_each_prompt() {
    let mut env = TestEnv::new();
    env.vault();
    env.add_keys("acme", "AKIAACMEACMEACME0001", "acme-secret", None);
    env.add_keys("other", "AKIAOTHEROTHEROTHER1", "other-secret", None);
    let proj = mkdir(&env.home.join("proj"));
    let sub = mkdir(&proj.join("sub"));
    env.ok(&["use", "acme", "--directory", proj.to_str().unwrap()]);
    // A shim in front of op-aws counts the hook-env runs: a plain Enter must spawn nothing.
    let count = env.home.join("hook-env.count");
    let shim = env.home.join("shim");
    executable(
        &shim.join("op-aws"),
        &format!(
            "#!/bin/sh\n[ \"$1\" = hook-env ] && echo x >> '{}'\nexec '{}' \"$@\"\n",
            count.display(),
            bin().display()
        ),
    );
    env.set("PATH", format!("{}:{}", shim.display(), tools_path()));
    let hooks = || {
        std::fs::read_to_string(&count)
            .unwrap_or_default()
            .lines()
            .count()
    };

    let home = env.home.display().to_string();
    let (p, s) = (proj.display().to_string(), sub.display().to_string());
    for sh in SHELLS {
        let log = env.home.join(format!("{}.log", sh.name()));
        let rc = env.home.join(format!("{}.rc", sh.name()));
        let logq = log.display();
        let (cmdline, extra_env): (String, Vec<(&str, String)>) = match sh {
            Sh::Bash => {
                std::fs::write(&rc, format!("{}__t_log() {{ local st=$?; printf '%s|%s|%s|%s\\n' \"$PWD\" \"${{OP_AWS_ITEM-}}\" \"${{OP_AWS_SCOPE-}}\" \"$st\" >> '{logq}'; }}\nPROMPT_COMMAND=\"$PROMPT_COMMAND;__t_log\"\nPS1='$ '\n", sh.activate())).unwrap();
                (
                    format!("bash --noprofile --rcfile '{}' -i", rc.display()),
                    vec![],
                )
            }
            Sh::Zsh => {
                let zdot = mkdir(&env.home.join("zdot-cd"));
                std::fs::write(zdot.join(".zshrc"), format!("{}__t_log() {{ local st=$?; printf '%s|%s|%s|%s\\n' \"$PWD\" \"${{OP_AWS_ITEM-}}\" \"${{OP_AWS_SCOPE-}}\" \"$st\" >> '{logq}'; }}\nprecmd_functions+=(__t_log)\nPS1='$ '\n", sh.activate())).unwrap();
                (
                    "zsh -i".into(),
                    vec![("ZDOTDIR", zdot.display().to_string())],
                )
            }
            Sh::Fish => {
                std::fs::write(&rc, format!("{}function __t_log --on-event fish_prompt\n    set -l st $status\n    printf '%s|%s|%s|%s\\n' $PWD \"$OP_AWS_ITEM\" \"$OP_AWS_SCOPE\" $st >> '{logq}'\nend\nfunction fish_prompt\n    echo -n '$ '\nend\n", sh.activate())).unwrap();
                (
                    format!("fish --no-config --private -i -C 'source {}'", rc.display()),
                    vec![],
                )
            }
        };
        let extra: Vec<(&str, &str)> = extra_env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let t = Tmux::start(&env, &extra, &cmdline);
        let logged = || std::fs::read_to_string(&log).unwrap_or_default();
        let mut n = 0;
        // Each prompt logs PWD|OP_AWS_ITEM|OP_AWS_SCOPE|$? (the hook must keep $? intact).
        let mut step = |keys: &[&str], want: String, what: &str| {
            let want = if want.contains('|') && want.matches('|').count() == 2 {
                format!("{want}|0")
            } else {
                want
            };
            n += 1;
            if !keys.is_empty() {
                t.send(keys);
            }
            t.wait_for(&format!("{sh:?}: prompt {n} ({what})"), |_| {
                logged().lines().count() >= n
            });
            let got = logged().lines().nth(n - 1).unwrap().to_owned();
            assert_eq!(got, want, "{sh:?}: after {what}");
        };
        step(&[], format!("{home}||"), "the first prompt");
        step(
            &["cd proj", "Enter"],
            format!("{p}|acme|directory"),
            "cd into the project",
        );
        let before = hooks();
        step(&["Enter"], format!("{p}|acme|directory"), "a plain Enter");
        step(
            &["Enter"],
            format!("{p}|acme|directory"),
            "another plain Enter",
        );
        assert_eq!(hooks(), before, "{sh:?}: a plain Enter ran hook-env");
        step(
            &["cd sub; false", "Enter"],
            format!("{s}|acme|directory|1"),
            "cd below the project, then a failing command",
        );
        step(
            &["op-aws use other", "Enter"],
            format!("{s}|other|session"),
            "op-aws use",
        );
        step(
            &["op-aws clear --force", "Enter"],
            format!("{s}|acme|directory"),
            "op-aws clear",
        );
        step(&["cd ~", "Enter"], format!("{home}||"), "cd back out");
        std::fs::remove_file(&count).ok();
    }
}

#[test]
fn export_mode_exports_on_entering_and_unsets_on_leaving() {
    let env = TestEnv::new();
    env.vault();
    env.add_keys(
        "acme",
        "AKIAACMEACMEACME0001",
        "acme-secret",
        Some("eu-west-1"),
    );
    let proj = mkdir(&env.home.join("proj"));
    mkdir(&proj.join("sub"));
    env.ok(&[
        "use",
        "acme",
        "--directory",
        proj.to_str().unwrap(),
        "--export",
    ]);
    let keys = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"];
    for sh in SHELLS {
        // Non-interactive: call the hook where a prompt would.
        let body = format!(
            "cd proj\n__op_aws_hook\n{}cd sub\n__op_aws_hook\n{}cd ../..\n__op_aws_hook\n{}",
            sh.show("in", &keys),
            sh.show("sub", &keys),
            sh.show("out", &keys)
        );
        let o = sh.run(&env, &body);
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(
            o.status.success() && stderr(&o).is_empty(),
            "{sh:?}: {out}\n{}",
            stderr(&o)
        );
        assert_eq!(
            line(&out, "in"),
            "AKIAACMEACMEACME0001|acme-secret|eu-west-1",
            "{sh:?}"
        );
        assert_eq!(
            line(&out, "sub"),
            "AKIAACMEACMEACME0001|acme-secret|eu-west-1",
            "{sh:?}"
        );
        assert_eq!(line(&out, "out"), "||", "{sh:?}");
    }

    // Locked: one warning line for the whole stay, no secret, no prompt; unlocking through
    // the op-aws function exports them.
    let body = format!(
        "op-aws lock\ncd proj\n__op_aws_hook\ncd sub\n__op_aws_hook\ncd ..\n__op_aws_hook\n{}op-aws unlock --passphrase-stdin <<< '{PASS}'\n{}",
        Sh::Bash.show("locked", &keys),
        Sh::Bash.show("unlocked", &keys)
    );
    let o = Sh::Bash.run(&env, &body);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{out}\n{}", stderr(&o));
    assert_eq!(line(&out, "locked"), "||");
    assert_eq!(
        line(&out, "unlocked"),
        "AKIAACMEACMEACME0001|acme-secret|eu-west-1"
    );
    let warnings: Vec<String> = stderr(&o)
        .lines()
        .filter(|l| l.contains("not exported"))
        .map(str::to_owned)
        .collect();
    assert_eq!(warnings.len(), 1, "{}", stderr(&o));
    assert!(
        warnings[0].starts_with("op-aws: ") && warnings[0].contains("op-aws unlock"),
        "{}",
        warnings[0]
    );

    // `op-aws lock` (through the function) takes exported keys back at once.
    let body = format!(
        "cd proj\n__op_aws_hook\n{}op-aws lock\n{}",
        Sh::Bash.show("before", &keys),
        Sh::Bash.show("after", &keys)
    );
    let out = Sh::Bash.ok(&env, &body);
    assert_eq!(
        line(&out, "before"),
        "AKIAACMEACMEACME0001|acme-secret|eu-west-1"
    );
    assert_eq!(
        line(&out, "after"),
        "||",
        "op-aws lock left the keys in the shell"
    );
}

#[test]
fn hook_env_prints_only_changes_and_each_shells_syntax() {
    let mut env = TestEnv::new();
    let proj = mkdir(&env.home.join("it's here"));
    env.write(
        "cfg/defaults.json",
        &format!(
            "{{\"directories\": {{{:?}: {{\"item\": \"o'brien\"}}}}}}\n",
            proj.canonicalize().unwrap()
        ),
    );
    let at = |env: &TestEnv, shell: &str, dir: &Path| {
        let mut c = env.op_aws(&["hook-env", "--shell", shell]);
        c.current_dir(dir);
        ok(run_cmd(c, ""), &["hook-env"])
    };
    assert_eq!(
        at(&env, "bash", &proj),
        "export OP_AWS_ITEM='o'\\''brien'\nexport OP_AWS_SCOPE='directory'\n"
    );
    assert_eq!(
        at(&env, "fish", &proj),
        "set -gx OP_AWS_ITEM 'o\\'brien'\nset -gx OP_AWS_SCOPE 'directory'\n"
    );
    assert_eq!(
        at(&env, "nu", &proj),
        "{\"OP_AWS_ITEM\":\"o'brien\",\"OP_AWS_SCOPE\":\"directory\"}\n"
    );
    assert_eq!(
        at(&env, "bash", &env.home),
        "",
        "nothing applies, nothing set: nothing to say"
    );
    env.set("OP_AWS_ITEM", "o'brien");
    env.set("OP_AWS_SCOPE", "directory");
    assert_eq!(at(&env, "zsh", &proj), "", "already set");
    assert_eq!(
        at(&env, "zsh", &env.home),
        "unset OP_AWS_ITEM\nunset OP_AWS_SCOPE\n"
    );
    assert_eq!(
        at(&env, "nu", &env.home),
        "{\"OP_AWS_ITEM\":null,\"OP_AWS_SCOPE\":null}\n"
    );
    // A user's own keys are never unset: only what hook-env set (listed in __OP_AWS_VARS).
    env.set("AWS_ACCESS_KEY_ID", "mine");
    env.set("AWS_REGION", "us-west-2");
    assert!(!at(&env, "bash", &env.home).contains("AWS_ACCESS_KEY_ID"));
}

#[test]
fn completions_are_up_to_date() {
    let env = TestEnv::new();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    let update = std::env::var_os("OP_AWS_UPDATE_COMPLETIONS").is_some();
    for (shell, file) in [
        ("bash", "op-aws.bash"),
        ("zsh", "_op-aws"),
        ("fish", "op-aws.fish"),
        ("nu", "op-aws.nu"),
    ] {
        let fresh = env.ok(&["completions", shell]);
        let path = dir.join(file);
        if update {
            std::fs::write(&path, &fresh).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == fresh,
            "completions/{file} is out of date: run `OP_AWS_UPDATE_COMPLETIONS=1 cargo nextest run --test integration completions_are_up_to_date` and commit it"
        );
    }
    // And they load.
    let o = run_cmd(
        {
            let mut c = env.command(require("bash"));
            c.args([
                "--noprofile",
                "--norc",
                "-c",
                "source completions/op-aws.bash && complete -p op-aws",
            ])
            .current_dir(dir.parent().unwrap());
            c
        },
        "",
    );
    assert!(
        o.status.success() && stderr(&o).is_empty(),
        "{}",
        stderr(&o)
    );
}

#[test]
fn hook_env_shows_a_cached_sessions_expiry_and_takes_it_back() {
    let mut env = TestEnv::new();
    env.write("cfg/defaults.json", "{\"global\": \"acme\"}\n");
    let meta = |profile: &str, exp: u64| {
        format!(
            "{{\"key\": \"k-{profile}\", \"kind\": \"role\", \"profile\": \"{profile}\", \"role_arn\": null, \"item\": \"acme\", \
             \"mfa_serial\": null, \"expiration\": {exp}, \"created\": 0, \"store\": \"file\"}}"
        )
    };
    // 2100-01-01T00:00:00Z, and one long expired.
    env.write("cache/sts-k-admin.json", &meta("admin", 4_102_444_800));
    env.write("cache/sts-k-old.json", &meta("old", 1_000));
    let hook = |env: &TestEnv| env.ok(&["hook-env", "--shell", "bash"]);
    assert!(
        !hook(&env).contains("AWS_CREDENTIAL_EXPIRATION"),
        "no profile, no expiry"
    );
    env.set("AWS_PROFILE", "old");
    assert!(
        !hook(&env).contains("AWS_CREDENTIAL_EXPIRATION"),
        "an expired session shows nothing"
    );
    env.set("AWS_PROFILE", "admin");
    let out = hook(&env);
    assert!(
        out.contains("export AWS_CREDENTIAL_EXPIRATION='2100-01-01T00:00:00Z'\n"),
        "{out}"
    );
    assert!(
        out.contains("export __OP_AWS_VARS='AWS_CREDENTIAL_EXPIRATION'\n"),
        "{out}"
    );
    assert!(
        !out.contains("AWS_ACCESS_KEY_ID"),
        "only the expiry, never keys: {out}"
    );
    // Leaving the profile takes back exactly what hook-env set.
    env.extra_env.retain(|(k, _)| k != "AWS_PROFILE");
    env.set("AWS_CREDENTIAL_EXPIRATION", "2100-01-01T00:00:00Z");
    env.set("__OP_AWS_VARS", "AWS_CREDENTIAL_EXPIRATION");
    env.set("OP_AWS_ITEM", "acme");
    env.set("OP_AWS_SCOPE", "global");
    assert_eq!(
        hook(&env),
        "unset AWS_CREDENTIAL_EXPIRATION\nunset __OP_AWS_VARS\n"
    );
}
