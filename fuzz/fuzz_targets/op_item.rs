//! What `op item get --format json` prints, as op-aws maps it into an item.
//!
//! Holds: an error reads the same whatever op's field values (secrets, one-time codes) are, so
//! it cannot show one; the item has one field per label (case-insensitively), none empty,
//! values trimmed, the secret and the one-time password concealed; the JSON it is kept as in
//! the agent reads back the same item; its Debug form shows no concealed value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use op_aws::item::{Item, is_concealed_label};

/// `v` with every string under a `value` or `totp` key (the secrets) changed, character by
/// character into others of the same encoded length, so positions in the JSON stay the same.
fn other_secrets(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    let swap = |s: &str| -> String {
        s.chars()
            .map(|c| match c.len_utf8() {
                // JSON escapes these: kept, so the text stays the same length.
                _ if c == '"' || c == '\\' || c.is_ascii_control() => c,
                1 => {
                    if c == 'Z' {
                        'Y'
                    } else {
                        'Z'
                    }
                }
                2 => {
                    if c == 'é' {
                        'è'
                    } else {
                        'é'
                    }
                }
                3 => {
                    if c == '中' {
                        '文'
                    } else {
                        '中'
                    }
                }
                _ => {
                    if c == '😀' {
                        '😁'
                    } else {
                        '😀'
                    }
                }
            })
            .collect()
    };
    match v {
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| {
                    let x = match (k.as_str(), x) {
                        ("value" | "totp", Value::String(s)) => Value::String(swap(s)),
                        _ => other_secrets(x),
                    };
                    (k.clone(), x)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(other_secrets).collect()),
        other => other.clone(),
    }
}

fn same(a: &Item, b: &Item) -> bool {
    a.title == b.title
        && a.fields.len() == b.fields.len()
        && a.fields
            .iter()
            .zip(&b.fields)
            .all(|(x, y)| x.label == y.label && x.value == y.value && x.concealed == y.concealed)
}

fuzz_target!(|data: &[u8]| {
    let requested = "op://Fuzz/item";
    // An error says the same whatever the secrets are: it cannot show them.
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        let json = serde_json::to_vec(&v).unwrap();
        let swapped = serde_json::to_vec(&other_secrets(&v)).unwrap();
        let e1 = op_aws::fuzzing::op_item(&json, requested)
            .err()
            .map(|e| e.to_string());
        let e2 = op_aws::fuzzing::op_item(&swapped, requested)
            .err()
            .map(|e| e.to_string());
        assert_eq!(e1, e2, "an error depends on the secrets");
    }
    let Ok((item, _code_only)) = op_aws::fuzzing::op_item(data, requested) else {
        return;
    };
    for (i, f) in item.fields.iter().enumerate() {
        assert!(!f.label.is_empty() && !f.value.is_empty(), "{:?}", f.label);
        assert_eq!(
            f.value.trim(),
            f.value,
            "an untrimmed value in {:?}",
            f.label
        );
        assert!(
            !item.fields[..i]
                .iter()
                .any(|g| g.label.eq_ignore_ascii_case(&f.label)),
            "label {:?} twice",
            f.label
        );
        if is_concealed_label(&f.label) {
            assert!(f.concealed, "{:?} not concealed", f.label);
        }
        if f.concealed && f.value.len() >= 4 {
            let debug = format!("{item:?}");
            let shown_elsewhere = item.title.contains(&f.value)
                || item.fields.iter().any(|g| {
                    g.label.contains(&f.value) || (!g.concealed && g.value.contains(&f.value))
                });
            assert!(
                shown_elsewhere || !debug.contains(&f.value),
                "Debug shows {:?}",
                f.label
            );
        }
    }
    let json = op_aws::fuzzing::op_item_cache_json(&item).expect("an item serialises");
    let back: Item = serde_json::from_str(&json).expect("the cached item reads back");
    assert!(same(&back, &item), "the cached item reads back different");
});
