//! 1Password's shell-plugin files (`used_items/aws.json`, a directory's `.op/plugins/aws.json`)
//! and the aliases of its `plugins.sh`.
//!
//! Holds: a parsed default is an `op://vault/item` reference op-aws accepts, built from ids
//! that cannot be taken for a flag or a path; an error is one printable line; the aliases
//! found are command names, each once.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match op_aws::opplugin::parse(data) {
        Ok(name) => {
            let rest = name.strip_prefix("op://").expect("an op:// reference");
            let (vault, item) = rest.split_once('/').expect("vault/item");
            for id in [vault, item] {
                assert!(!id.is_empty() && !id.starts_with('-'), "{name}");
                assert!(
                    id.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
                    "{name}"
                );
            }
            op_aws::onepassword::Reference::parse(&name, None).expect("a reference op-aws reads");
        }
        Err(e) => {
            assert!(
                !e.chars().any(char::is_control),
                "an error that is not one printable line: {e:?}"
            );
        }
    }
    let text = String::from_utf8_lossy(data);
    let aliases = op_aws::opplugin::aliases_in(&text);
    for (i, a) in aliases.iter().enumerate() {
        assert!(op_aws::config::is_executable_name(a), "{a:?}");
        assert!(!aliases[..i].contains(a), "{a:?} twice");
        assert!(text.contains(&format!("{a}=")), "{a:?} is not in the file");
    }
});
