//! A repository's `.op-aws.toml` (committed by anyone with push access).
//!
//! Holds: an error is one line naming the file; what parses, written out again, parses to the
//! same project; a parsed project names only the keys a project may set, with trimmed values
//! free of control characters.
#![no_main]

use libfuzzer_sys::fuzz_target;
use op_aws::model::project::Project;

const ALLOWED: &[&str] = &[
    "role_arn",
    "source_profile",
    "mfa_serial",
    "duration_seconds",
    "region",
    "external_id",
    "role_session_name",
    "op_aws_item",
];

fn render(p: &Project) -> String {
    let mut root = toml::Table::new();
    if let Some(i) = &p.item {
        root.insert("item".into(), i.clone().into());
    }
    let mut profiles = toml::Table::new();
    for (name, keys) in &p.profiles {
        let mut t = toml::Table::new();
        for (k, v) in keys {
            let k = if *k == "op_aws_item" { "item" } else { k };
            let v = if k == "duration_seconds" {
                toml::Value::Integer(v.parse().expect("a number"))
            } else {
                v.clone().into()
            };
            t.insert(k.to_owned(), v);
        }
        profiles.insert(name.clone(), t.into());
    }
    if !profiles.is_empty() {
        root.insert("profiles".into(), profiles.into());
    }
    toml::to_string(&root).expect("a table renders")
}

fuzz_target!(|data: &[u8]| {
    let project = match op_aws::fuzzing::project(data) {
        Ok(p) => p,
        Err(e) => {
            let msg = e.to_string();
            assert!(!msg.contains('\n'), "a multi-line error: {msg}");
            assert!(
                msg.contains("/fuzz/.op-aws.toml"),
                "the error names no file: {msg}"
            );
            return;
        }
    };
    let values = project
        .item
        .iter()
        .chain(project.profiles.values().flat_map(|k| k.values()));
    for v in values {
        assert!(
            !v.is_empty() && v.trim() == v && !v.chars().any(char::is_control),
            "{v:?}"
        );
    }
    for keys in project.profiles.values() {
        assert!(!keys.is_empty());
        assert!(keys.keys().all(|k| ALLOWED.contains(k)), "{keys:?}");
    }
    let text = render(&project);
    let again = op_aws::fuzzing::project(text.as_bytes())
        .unwrap_or_else(|e| panic!("a rendered project does not parse: {e}\n{text}"));
    assert_eq!(again, project, "{text}");
});
