//! What `op item get --format json` prints, as op-aws maps it into an item.
//!
//! Holds: no field value of op's JSON (secrets, one-time codes) appears in an error; the item
//! has one field per label (case-insensitively), none empty, values trimmed, the secret and the
//! one-time password concealed; the JSON it is kept as in the agent reads back the same item;
//! its Debug form shows no concealed value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use op_aws::item::{Item, is_concealed_label};

/// Every string under a `value` or `totp` key of op's JSON (when it is JSON at all).
fn values(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(o) => {
            for (k, x) in o {
                if let ("value" | "totp", serde_json::Value::String(s)) = (k.as_str(), x) {
                    out.push(s.clone());
                }
                values(x, out);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| values(x, out)),
        _ => {}
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
    let mut secrets = Vec::new();
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        values(&v, &mut secrets);
    }
    let (item, _code_only) = match op_aws::fuzzing::op_item(data, requested) {
        Ok(r) => r,
        Err(e) => {
            let msg = e.to_string();
            for s in secrets.iter().filter(|s| s.len() >= 4) {
                assert!(!msg.contains(s.as_str()), "the error shows a value: {msg}");
            }
            return;
        }
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
