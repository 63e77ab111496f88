//! The 1Password store, proven with a fake `op` (tests/support/fake-op) that speaks
//! op's JSON, counts its calls and fails the way op does, and the real AWS CLI against moto.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::support::{Moto, TestEnv, WHO_AM_I, stderr, tools_path, use_moto};

const OP_FIELDS_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYFAKEFAKEKEY";

fn fake_op_source() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/fake-op")
}

/// A test env whose PATH starts with a directory holding the fake `op`.
pub fn op_env() -> TestEnv {
    let mut env = TestEnv::new();
    let bin = env.root.path().join("op-bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(fake_op_source(), bin.join("op")).unwrap();
    env.set("PATH", format!("{}:{}", bin.display(), tools_path()));
    env.set("AWS_DEFAULT_REGION", "us-east-1");
    env
}

pub fn config(env: &TestEnv, toml: &str) {
    std::fs::create_dir_all(env.config_dir()).unwrap();
    std::fs::write(env.config_dir().join("config.toml"), toml).unwrap();
}

pub(crate) fn fake_dir(env: &TestEnv) -> PathBuf {
    env.home.join(".fake-op")
}

/// An item as `op item get --format json` prints it.
pub fn op_item(id: &str, vault: &str, title: &str, fields: Value) -> Value {
    json!({
        "id": id, "title": title, "version": 1,
        "vault": {"id": format!("v-{}", vault.to_lowercase()), "name": vault},
        "category": "API_CREDENTIAL", "last_edited_by": "u1",
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
        "fields": fields,
    })
}

pub fn key_fields(key_id: &str, secret: &str) -> Value {
    json!([
        {"id": "notesPlain", "type": "STRING", "purpose": "NOTES", "label": "notesPlain", "value": ""},
        {"id": "f1", "type": "STRING", "label": "access key id", "value": key_id},
        {"id": "f2", "type": "CONCEALED", "label": "Secret Access Key", "value": secret},
        {"id": "f3", "type": "STRING", "label": "Default Region", "value": "us-east-1"},
    ])
}

pub fn put_items(env: &TestEnv, items: &[Value]) {
    std::fs::create_dir_all(fake_dir(env)).unwrap();
    std::fs::write(
        fake_dir(env).join("items.json"),
        serde_json::to_vec(items).unwrap(),
    )
    .unwrap();
}

pub fn calls(env: &TestEnv) -> Vec<Value> {
    std::fs::read_to_string(fake_dir(env).join("calls.log"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

pub(crate) fn gets(env: &TestEnv) -> usize {
    calls(env).iter().filter(|c| c["argv"][1] == "get").count()
}

/// Runs op-aws expecting failure; returns its stderr after checking the shape: one
/// `op-aws: ` line and one `hint: ` line.
pub(crate) fn fails(env: &TestEnv, args: &[&str]) -> String {
    let out = env.run(args);
    let err = stderr(&out);
    assert!(!out.status.success(), "{args:?} succeeded\nstderr: {err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines.len(),
        2,
        "{args:?}: want a message and a hint, got:\n{err}"
    );
    assert!(lines[0].starts_with("op-aws: "), "{err}");
    assert!(lines[1].starts_with("hint: "), "{err}");
    assert!(!err.contains("[ERROR]"), "op's log prefix leaked: {err}");
    err
}

#[test]
fn op_item_keys_reach_aws_and_the_agent_spares_later_op_calls() {
    let moto = Moto::start();
    let mut env = op_env();
    use_moto(&mut env, &moto);
    let (arn, key_id, secret) = moto.iam_user("opuser");
    put_items(
        &env,
        &[op_item(
            "it1",
            "Work",
            "AWS prod",
            key_fields(&key_id, &secret),
        )],
    );
    config(&env, "store = \"1password\"\n");
    let who = [
        &["run", "--item", "op://Work/AWS prod", "--"][..],
        &WHO_AM_I,
    ]
    .concat();

    // No agent: every run asks op.
    assert_eq!(env.ok(&who).trim(), arn);
    assert_eq!(gets(&env), 1);
    assert_eq!(env.ok(&who).trim(), arn);
    assert_eq!(gets(&env), 2, "without an agent nothing is cached");

    // A cache-only agent: one op call, then none within its lifetime.
    env.ok(&["unlock"]);
    assert_eq!(env.ok(&who).trim(), arn);
    assert_eq!(gets(&env), 3);
    assert_eq!(env.ok(&who).trim(), arn);
    assert_eq!(env.ok(&who).trim(), arn);
    assert_eq!(
        gets(&env),
        3,
        "a second read within the agent's lifetime must not call op"
    );

    // lock forgets it.
    env.ok(&["lock"]);
    env.ok(&["unlock"]);
    assert_eq!(env.ok(&who).trim(), arn);
    assert_eq!(gets(&env), 4, "after lock, op is asked again");

    let all = calls(&env);
    for c in &all {
        assert_eq!(
            c["stdin"], "null",
            "op's stdin must be /dev/null when not fed: {c}"
        );
        let argv = c["argv"].to_string();
        assert!(
            !argv.contains(&secret),
            "a secret reached op's argv: {argv}"
        );
    }
    let get = all.iter().find(|c| c["argv"][1] == "get").unwrap();
    assert_eq!(
        get["argv"],
        json!([
            "item", "get", "AWS prod", "--vault", "Work", "--format", "json", "--reveal"
        ])
    );
}

#[test]
fn bare_names_use_the_configured_vault_and_op_aws_use_lists_titles() {
    let mut env = op_env();
    put_items(
        &env,
        &[
            op_item(
                "a1",
                "Work",
                "prod",
                key_fields("AKIAWORKPROD0000000", OP_FIELDS_SECRET),
            ),
            op_item(
                "a2",
                "Home",
                "prod",
                key_fields("AKIAHOMEPROD0000000", OP_FIELDS_SECRET),
            ),
            op_item(
                "a3",
                "Work",
                "dev",
                key_fields("AKIAWORKDEV00000000", OP_FIELDS_SECRET),
            ),
        ],
    );
    config(
        &env,
        "store = \"1password\"\nonepassword_vault = \"Work\"\n",
    );
    env.ok(&["use", "PROD", "--global"]);
    let out = env.ok(&[
        "run",
        "--",
        "printenv",
        "AWS_ACCESS_KEY_ID",
        "AWS_DEFAULT_REGION",
    ]);
    assert_eq!(out, "AKIAWORKPROD0000000\nus-east-1\n");
    let list = calls(&env)
        .into_iter()
        .find(|c| c["argv"][1] == "list")
        .expect("op item list was called");
    assert_eq!(
        list["argv"],
        json!(["item", "list", "--format", "json", "--vault", "Work"])
    );

    // `item list` lists the configured store, not the (absent) local vault.
    assert_eq!(env.ok(&["item", "list"]), "dev\nprod\n");

    let err = fails(&env, &["use", "staging", "--global"]);
    assert!(err.contains("no item named \"staging\""), "{err}");

    // Without a configured vault a bare name is searched everywhere; op's ambiguity message
    // comes through on one line.
    config(&env, "store = \"1password\"\n");
    let err = fails(
        &env,
        &[
            "run",
            "--item",
            "prod",
            "--",
            "printenv",
            "AWS_ACCESS_KEY_ID",
        ],
    );
    assert!(err.contains("More than one item matches \"prod\""), "{err}");
    env.set("OP_AWS_SESSION_ITEM", "op://Home/prod");
    assert_eq!(
        env.ok(&["run", "--", "printenv", "AWS_ACCESS_KEY_ID"]),
        "AKIAHOMEPROD0000000\n"
    );
}

#[test]
fn every_op_failure_is_one_line_and_a_hint() {
    let mut env = op_env();
    put_items(
        &env,
        &[
            op_item(
                "i1",
                "Work",
                "AWS prod",
                key_fields("AKIAEXAMPLE00000000", OP_FIELDS_SECRET),
            ),
            op_item(
                "i2",
                "Work",
                "half",
                json!([{"id": "f1", "type": "STRING", "label": "key", "value": "AKIA"}]),
            ),
        ],
    );
    let run = |item: &'static str| -> Vec<&'static str> {
        vec!["run", "--item", item, "--", "printenv", "AWS_ACCESS_KEY_ID"]
    };

    let err = fails(&env, &run("op://Work/nope"));
    assert!(err.contains("no item named \"op://Work/nope\""), "{err}");
    assert!(err.contains("op item list"), "{err}");

    let err = fails(&env, &run("op://Nowhere/AWS prod"));
    assert!(
        err.contains("\"Nowhere\" isn't a vault in this account"),
        "{err}"
    );

    let err = fails(&env, &run("op://Work/half"));
    assert!(
        err.contains("\"Access Key ID\"") && err.contains("it has: key"),
        "{err}"
    );
    assert!(err.contains("in 1Password"), "{err}");

    let err = fails(&env, &run("op://Work"));
    assert!(err.contains("op://Vault/Item"), "{err}");

    std::fs::write(fake_dir(&env).join("signed-out"), "").unwrap();
    let err = fails(&env, &run("op://Work/AWS prod"));
    assert!(
        err.contains("not signed in")
            && err.contains("op signin")
            && err.contains("OP_SERVICE_ACCOUNT_TOKEN"),
        "{err}"
    );
    std::fs::remove_file(fake_dir(&env).join("signed-out")).unwrap();

    env.set(
        "OP_AWS_OP_PATH",
        env.root.path().join("no-such-op").display().to_string(),
    );
    let err = fails(&env, &run("op://Work/AWS prod"));
    assert!(
        err.contains("`op` not found") && err.contains("OP_AWS_OP_PATH"),
        "{err}"
    );

    // Not on PATH at all.
    env.extra_env.retain(|(k, _)| k != "OP_AWS_OP_PATH");
    let empty = env.root.path().join("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    let sh = which("sh");
    std::os::unix::fs::symlink(&sh, empty.join("sh")).unwrap();
    env.set("PATH", empty.display().to_string());
    let err = fails(
        &env,
        &[
            "run",
            "--item",
            "op://Work/AWS prod",
            "--",
            "sh",
            "-c",
            "true",
        ],
    );
    assert!(err.contains("`op` not found"), "{err}");

    // OP_AWS_OP_PATH names op wherever it is.
    env.set("OP_AWS_OP_PATH", fake_op_source().display().to_string());
    env.set("PATH", format!("{}:{}", empty.display(), tools_path()));
    assert_eq!(
        env.ok(&[
            "run",
            "--item",
            "op://Work/AWS prod",
            "--",
            "printenv",
            "AWS_ACCESS_KEY_ID"
        ]),
        "AKIAEXAMPLE00000000\n"
    );
}

fn which(tool: &str) -> PathBuf {
    std::env::split_paths(&std::env::var("PATH").unwrap())
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
        .unwrap()
}

#[test]
fn otp_secret_reaches_the_item_and_older_op_without_reveal_still_works() {
    let mut env = op_env();
    let mut fields = key_fields("AKIAEXAMPLE00000000", OP_FIELDS_SECRET);
    fields.as_array_mut().unwrap().extend([
        json!({"id": "o1", "type": "OTP", "label": "one-time password", "value": "otpauth://totp/AWS:me?secret=JBSWY3DPEHPK3PXP&issuer=AWS"}),
        json!({"id": "m1", "type": "STRING", "label": "mfa serial", "value": "arn:aws:iam::123456789012:mfa/me"}),
    ]);
    put_items(&env, &[op_item("i1", "Work", "AWS prod", fields)]);
    let show = |env: &TestEnv| -> Value {
        let out = env.ok(&["export", "--item", "op://Work/AWS prod", "--format", "json"]);
        serde_json::from_str(&out).unwrap()
    };
    let v = show(&env);
    assert_eq!(v["AccessKeyId"], "AKIAEXAMPLE00000000");
    assert_eq!(v["SecretAccessKey"], OP_FIELDS_SECRET);

    // op before --reveal: the flag is unknown, JSON is never concealed; one retry, same item.
    env.set("FAKE_OP_OLD", "1");
    let before = gets(&env);
    let v = show(&env);
    assert_eq!(v["SecretAccessKey"], OP_FIELDS_SECRET);
    assert_eq!(
        gets(&env) - before,
        2,
        "one call with --reveal, one without"
    );
}

#[test]
fn import_into_1password_feeds_op_a_template_on_stdin() {
    let mut env = op_env();
    // The shell's region would win over the imported one.
    env.extra_env.retain(|(k, _)| k != "AWS_DEFAULT_REGION");
    env.write(
        ".aws/credentials",
        &format!("[dev]\naws_access_key_id = AKIAIMPORTED0000000\naws_secret_access_key = {OP_FIELDS_SECRET}\n"),
    );
    env.write(".aws/config", "[profile dev]\nregion = eu-west-1\n");
    config(
        &env,
        "store = \"1password\"\nonepassword_vault = \"Work\"\n",
    );
    std::fs::create_dir_all(fake_dir(&env)).unwrap();
    std::fs::write(fake_dir(&env).join("vaults.json"), r#"["Private", "Work"]"#).unwrap();
    let out = env.run(&["import", "--profile", "dev", "--store", "1password"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("imported op://Work/dev"),
        "{}",
        stderr(&out)
    );

    let create = calls(&env)
        .into_iter()
        .find(|c| c["argv"][1] == "create")
        .expect("op item create was called");
    assert_eq!(create["stdin"], "pipe");
    assert!(!create["argv"].to_string().contains(OP_FIELDS_SECRET));
    let items: Value =
        serde_json::from_slice(&std::fs::read(fake_dir(&env).join("items.json")).unwrap()).unwrap();
    let secret = items[0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["label"] == "Secret Access Key")
        .unwrap();
    assert_eq!(secret["type"], "CONCEALED");

    let out = env.ok(&[
        "run",
        "--item",
        "dev",
        "--",
        "printenv",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_DEFAULT_REGION",
    ]);
    assert_eq!(out, format!("{OP_FIELDS_SECRET}\neu-west-1\n"));

    // A second import of the same title is refused, and nothing is created.
    let err = fails(
        &env,
        &["import", "--profile", "dev", "--store", "1password"],
    );
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(
        calls(&env)
            .iter()
            .filter(|c| c["argv"][1] == "create")
            .count(),
        1
    );
}

#[test]
fn an_op_that_gives_only_the_current_code_leaves_no_code_on_disk() {
    let mut env = op_env();
    let mut fields = key_fields("AKIAEXAMPLE00000000", OP_FIELDS_SECRET);
    fields.as_array_mut().unwrap().push(
        json!({"id": "o1", "type": "OTP", "label": "one-time password", "value": "otpauth://totp/AWS:me?secret=JBSWY3DPEHPK3PXP"}),
    );
    put_items(&env, &[op_item("i1", "Work", "AWS prod", fields)]);
    env.set("FAKE_OP_TOTP_ONLY", "1");
    let out = env.ok(&["item", "show", "op://Work/AWS prod", "--reveal"]);
    let code = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("One-Time Password: "))
        .unwrap_or_else(|| panic!("no code in:\n{out}"))
        .to_owned();
    assert!(
        code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()),
        "{code}"
    );
    // Only the time step it was handed out in is written down, never the code.
    let steps = env.runtime_dir().join("1password-otp-steps.json");
    let text = std::fs::read_to_string(&steps).unwrap();
    assert!(!text.contains(&code), "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert!(v["op://Work/AWS prod"].as_u64().is_some(), "{text}");
}

#[test]
fn the_otp_secret_from_op_answers_mfa() {
    mfa_through_op(false);
}

#[test]
fn the_current_code_from_an_op_that_gives_no_secret_answers_mfa() {
    mfa_through_op(true);
}

/// GetSessionToken carries the serial and a current code from the op item: generated from the
/// OTP field's secret, or (`code_only`) the code op computed itself.
fn mfa_through_op(code_only: bool) {
    use crate::support::sts_server::{Mode, StsServer};
    const SECRET_URI: &str =
        "otpauth://totp/AWS:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=AWS";
    const SERIAL: &str = "arn:aws:iam::123456789012:mfa/alice";
    let moto = Moto::start();
    let proxy = StsServer::start(Mode::Forward(moto.port));
    let mut env = op_env();
    env.set("AWS_ENDPOINT_URL", moto.url());
    env.set("AWS_ENDPOINT_URL_STS", proxy.url());
    if code_only {
        env.set("FAKE_OP_TOTP_ONLY", "1");
    }
    let mut fields = key_fields("AKIABASEKEY000000001", OP_FIELDS_SECRET);
    fields.as_array_mut().unwrap().extend([
        json!({"id": "o1", "type": "OTP", "label": "one-time password", "value": SECRET_URI}),
        json!({"id": "m1", "type": "STRING", "label": "MFA Serial", "value": SERIAL}),
    ]);
    put_items(&env, &[op_item("i1", "Work", "acme", fields)]);
    env.write(
        ".aws/config",
        "[profile mfa]\nop_aws_item = op://Work/acme\nregion = us-east-1\n\n\
         [profile admin]\nrole_arn = arn:aws:iam::210987654321:role/Admin\nsource_profile = mfa\n",
    );
    let out = env.ok(&[
        "run",
        "--",
        "aws",
        "--profile",
        "admin",
        "sts",
        "get-caller-identity",
        "--query",
        "Arn",
        "--output",
        "text",
    ]);
    assert!(
        out.starts_with("arn:aws:sts::210987654321:assumed-role/Admin/"),
        "{out}"
    );
    let gst = proxy
        .requests()
        .into_iter()
        .find(|r| r.action == "GetSessionToken")
        .expect("GetSessionToken was called");
    assert_eq!(gst.params["SerialNumber"], SERIAL);
    let totp = op_aws::sts::totp::parse(SECRET_URI).unwrap();
    let codes = [
        op_aws::sts::totp::code_at(&totp, gst.at),
        op_aws::sts::totp::code_at(&totp, gst.at - 30),
    ];
    assert!(
        codes.contains(&gst.params["TokenCode"]),
        "{:?} not in {codes:?}",
        gst.params
    );
    assert_eq!(gst.signer, "AKIABASEKEY000000001");
}

#[test]
fn a_burst_of_parallel_reads_calls_op_once() {
    let mut env = op_env();
    put_items(
        &env,
        &[op_item(
            "i1",
            "Work",
            "AWS prod",
            key_fields("AKIAEXAMPLE00000000", OP_FIELDS_SECRET),
        )],
    );
    config(&env, "store = \"1password\"\n");
    env.ok(&["unlock"]);
    // A slow op, as the real one is, so that without queueing every reader would call it.
    env.set("FAKE_OP_DELAY_MS", "400");
    let children: Vec<_> = (0..6)
        .map(|_| {
            env.op_aws(&["credential-process", "--item", "op://Work/AWS prod"])
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["AccessKeyId"], "AKIAEXAMPLE00000000");
    }
    assert_eq!(gets(&env), 1, "parallel readers must share one op call");
}

#[test]
fn export_mode_serves_1password_items_from_the_agent_only() {
    let env = op_env();
    put_items(
        &env,
        &[op_item(
            "a1",
            "Work",
            "prod",
            key_fields("AKIAWORKPROD0000000", OP_FIELDS_SECRET),
        )],
    );
    config(&env, "store = \"1password\"\n");
    let dir = env.home.join("proj");
    std::fs::create_dir_all(&dir).unwrap();
    env.ok(&[
        "use",
        "op://Work/prod",
        "--directory",
        dir.to_str().unwrap(),
        "--export",
    ]);
    let hook = || {
        let mut c = env.op_aws(&["hook-env", "--shell", "bash"]);
        c.current_dir(&dir);
        crate::support::run_cmd(c, "")
    };
    // Not read yet: one warning, no key, and op is not asked from the prompt.
    let before = gets(&env);
    let o = hook();
    assert!(!String::from_utf8_lossy(&o.stdout).contains("AKIAWORKPROD0000000"));
    assert!(stderr(&o).contains("not in the agent"), "{}", stderr(&o));
    assert_eq!(gets(&env), before);
    // Once a command has read it through a running agent, entering exports it.
    env.ok(&["unlock"]);
    let mut c = env.op_aws(&["run", "--", "true", "x"]);
    c.current_dir(&dir);
    crate::support::ok(crate::support::run_cmd(c, ""), &["run"]);
    let before = gets(&env);
    let out = String::from_utf8_lossy(&hook().stdout).into_owned();
    assert!(
        out.contains("export AWS_ACCESS_KEY_ID='AKIAWORKPROD0000000'"),
        "{out}"
    );
    assert_eq!(gets(&env), before, "the hook never calls op");
}

/// A name that op would read as one of its flags never reaches op; what op says (and item
/// titles, which anyone with access to a shared vault chooses) reaches the terminal without
/// control characters.
#[test]
fn names_like_op_flags_and_escapes_in_ops_words_stay_harmless() {
    let env = op_env();
    put_items(
        &env,
        &[op_item(
            "i1",
            "Work",
            "evil\u{1b}]0;PWNED\u{7}",
            key_fields("AKIAWORK000000000001", OP_FIELDS_SECRET),
        )],
    );
    for name in [
        "op://Work/--account=evil.1password.com",
        "op://--account=x/item",
    ] {
        let o = env.run(&["run", "--item", name, "--", "true"]);
        let e = stderr(&o);
        assert!(!o.status.success(), "{e}");
        assert!(
            e.starts_with("op-aws: ") && e.contains("cannot start with '-'"),
            "{e}"
        );
    }
    let log = std::fs::read_to_string(fake_dir(&env).join("calls.log")).unwrap_or_default();
    assert!(
        !log.contains("--account"),
        "op was called with the name: {log}"
    );
    // op's own message quotes a vault name with an escape sequence in it.
    let o = env.run(&[
        "run",
        "--item",
        "op://No\u{1b}]0;PWNED\u{7}/x",
        "--",
        "true",
    ]);
    assert!(!o.status.success());
    assert!(!o.stderr.contains(&0x1b), "{:?}", stderr(&o));
    // And a title with one is listed without it.
    config(&env, "store = \"1password\"\n");
    let o = env.run(&["item", "list"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        !o.stdout.contains(&0x1b) && !o.stdout.contains(&0x07),
        "{:?}",
        o.stdout
    );
}

/// `op-aws rotate` of a 1Password item: the new key goes in through `op item edit` with the
/// template on stdin (no secret in any argv), every other field stays, the agent's copy is the
/// new one, and IAM is left with exactly that key.
#[test]
fn rotate_puts_the_new_key_into_the_1password_item() {
    let moto = Moto::start();
    let mut env = op_env();
    use_moto(&mut env, &moto);
    let (arn, key_id, secret) = moto.iam_user("opuser");
    let mut fields = key_fields(&key_id, &secret);
    fields
        .as_array_mut()
        .unwrap()
        .push(json!({"id": "f4", "type": "STRING", "label": "team notes", "value": "keep me"}));
    put_items(&env, &[op_item("it1", "Work", "AWS prod", fields)]);
    config(&env, "store = \"1password\"\n");
    env.ok(&["unlock"]);
    let name = "op://Work/AWS prod";
    // The agent holds the item before the rotation.
    env.ok(&["run", "--item", name, "--", "true"]);
    let o = env.run(&["rotate", name, "--yes"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let keys = moto.access_keys("opuser");
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert_ne!(keys[0], key_id);
    let stored: Value =
        serde_json::from_slice(&std::fs::read(fake_dir(&env).join("items.json")).unwrap()).unwrap();
    let fields = stored[0]["fields"].as_array().unwrap();
    let value = |label: &str| {
        fields
            .iter()
            .find(|f| f["label"].as_str().unwrap().eq_ignore_ascii_case(label))
            .map(|f| f["value"].as_str().unwrap().to_owned())
    };
    assert_eq!(value("access key id").as_deref(), Some(keys[0].as_str()));
    assert_ne!(value("secret access key").as_deref(), Some(secret.as_str()));
    assert_eq!(
        value("team notes").as_deref(),
        Some("keep me"),
        "other fields stay"
    );
    for c in calls(&env) {
        let argv = c["argv"].to_string();
        assert!(
            !argv.contains(&secret) && !argv.contains(&value("secret access key").unwrap()),
            "a secret in argv: {argv}"
        );
    }
    let edits: Vec<_> = calls(&env)
        .into_iter()
        .filter(|c| c["argv"][1] == "edit")
        .collect();
    assert_eq!(edits.len(), 1);
    assert_eq!(edits[0]["stdin"], "pipe");
    // The agent hands out the new key, not the deleted one.
    let gets_before = gets(&env);
    let out = env.ok(&[
        "run",
        "--item",
        name,
        "--",
        "aws",
        "sts",
        "get-caller-identity",
        "--output",
        "json",
    ]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["Arn"], arn.as_str());
    assert_eq!(gets(&env), gets_before, "served from the agent's new copy");
}
