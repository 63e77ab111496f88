//! `op item get --format json`, read into an item: the fields op-aws knows, nothing quoted
//! back on error.

use serde::{Deserialize, Deserializer};
use zeroize::Zeroizing;

use crate::item::{self, Item};
use crate::{Error, Result};

/// Prefix of the names that point into 1Password.
pub const SCHEME: &str = "op://";

/// Where op's output stopped making sense, without serde's text: that can quote a value, and
/// values here are secrets.
pub(super) fn bad_json(cmd: &str, e: &serde_json::Error) -> Error {
    Error::OnePassword(format!(
        "{cmd} printed JSON op-aws does not understand (line {}, column {})",
        e.line(),
        e.column()
    ))
}

#[derive(Deserialize)]
pub(super) struct OpItem {
    #[serde(default)]
    title: String,
    #[serde(default)]
    pub(super) vault: Option<OpVault>,
    #[serde(default)]
    fields: Vec<OpField>,
}

#[derive(Deserialize)]
pub(super) struct OpVault {
    #[serde(default)]
    pub(super) name: String,
}

#[derive(Deserialize)]
struct OpField {
    #[serde(default)]
    label: String,
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default, deserialize_with = "secret_string")]
    value: Option<Zeroizing<String>>,
    /// The current code of an OTP field (op computes it on every read).
    #[serde(default, deserialize_with = "secret_string")]
    totp: Option<Zeroizing<String>>,
}

/// A string value moved straight into zeroize-on-drop storage; other JSON types are ignored.
fn secret_string<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Zeroizing<String>>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Some(Zeroizing::new(s)),
        _ => None,
    })
}

/// What one `op item get` gave us.
pub(crate) struct Read {
    pub(crate) item: Item,
    /// op returned the OTP field's current code but not its secret.
    pub(crate) code_only: bool,
}

/// A value op hid instead of revealing (`[use 'op item get … --reveal' to reveal]`).
fn is_placeholder(v: &str) -> bool {
    v.starts_with("[use 'op item get") || v.starts_with("[use \"op item get")
}

/// Maps op's JSON into an item. Labels match case-insensitively; the first field of a label
/// wins; `Region` stands in for a missing `Default Region` (as in 1Password's plugin); an
/// OTP-type field becomes `One-Time Password` unless a field already has that label.
pub(crate) fn parse_item(json: &[u8], requested: &str) -> Result<Read> {
    let op: OpItem = serde_json::from_slice(json).map_err(|e| bad_json("op item get", &e))?;
    let vault = op
        .vault
        .as_ref()
        .map(|v| v.name.as_str())
        .filter(|n| !n.is_empty());
    // The canonical name, so messages about the item say where it lives.
    let title = match vault {
        Some(v) if !op.title.is_empty() && !op.title.contains('/') && !v.contains('/') => {
            format!("{SCHEME}{v}/{}", op.title)
        }
        _ => requested.to_owned(),
    };
    let mut it = Item::new(&title);
    let mut region = None;
    let mut otp: Option<(Zeroizing<String>, bool)> = None;
    for f in op.fields {
        let label = f.label.trim();
        let value = f
            .value
            .filter(|v| !v.trim().is_empty() && !is_placeholder(v));
        if f.kind.eq_ignore_ascii_case("OTP") {
            let code = f.totp.filter(|c| !c.trim().is_empty());
            let named = label.eq_ignore_ascii_case(item::ONE_TIME_PASSWORD);
            let candidate = value
                .map(|v| (v, false))
                .or_else(|| code.map(|c| (c, true)));
            if candidate.is_some() && (otp.is_none() || named) {
                otp = candidate;
            }
            continue;
        }
        let Some(value) = value else { continue };
        if label.is_empty() {
            continue;
        }
        if label.eq_ignore_ascii_case("Region") {
            region.get_or_insert(value);
            continue;
        }
        if it.field(label).is_none() {
            let concealed = f.kind.eq_ignore_ascii_case("CONCEALED");
            it.set(label, value.trim().to_owned(), concealed);
        }
    }
    if it.field(item::DEFAULT_REGION).is_none()
        && let Some(r) = region
    {
        it.set(item::DEFAULT_REGION, r.trim().to_owned(), false);
    }
    let mut code_only = false;
    if it.field(item::ONE_TIME_PASSWORD).is_none()
        && let Some((v, is_code)) = otp
    {
        it.set(item::ONE_TIME_PASSWORD, v.trim().to_owned(), true);
        code_only = is_code;
    }
    Ok(Read {
        item: it,
        code_only,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_json_maps_to_an_item() {
        let json = br#"{
            "id": "abc", "title": "AWS prod", "vault": {"id": "v1", "name": "Work"}, "category": "API_CREDENTIAL",
            "fields": [
                {"id": "notesPlain", "type": "STRING", "purpose": "NOTES", "label": "notesPlain", "value": ""},
                {"id": "a", "type": "STRING", "label": "access key id", "value": "AKIAEXAMPLE "},
                {"id": "b", "type": "CONCEALED", "label": "Secret Access Key", "value": "s3cr3t"},
                {"id": "c", "section": {"id": "s"}, "type": "STRING", "label": "region", "value": "eu-west-1"},
                {"id": "d", "type": "OTP", "label": "one-time password", "value": "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP", "totp": "123456"},
                {"id": "e", "type": "DATE", "label": "expires", "value": 1700000000}
            ]}"#;
        let r = parse_item(json, "op://Work/AWS prod").unwrap();
        assert!(!r.code_only);
        let it = r.item;
        assert_eq!(it.title, "op://Work/AWS prod");
        let k = it.access_keys().unwrap();
        assert_eq!(k.access_key_id, "AKIAEXAMPLE");
        assert_eq!(k.region.as_deref(), Some("eu-west-1"));
        assert!(
            it.get(item::ONE_TIME_PASSWORD)
                .unwrap()
                .starts_with("otpauth://")
        );
        assert!(it.field(item::ONE_TIME_PASSWORD).unwrap().concealed);
        assert!(it.field(item::SECRET_ACCESS_KEY).unwrap().concealed);
        assert!(it.field("notesPlain").is_none(), "empty fields are dropped");
    }

    #[test]
    fn unexpected_json_is_reported_without_quoting_it() {
        let json = br#"{"title": "t", "fields": "AKIA-and-s3cr3t"}"#;
        let Err(e) = parse_item(json, "t") else {
            panic!("parsed")
        };
        let msg = e.to_string();
        assert!(!msg.contains("s3cr3t") && msg.contains("line 1"), "{msg}");
    }

    #[test]
    fn code_only_otp_and_hidden_values() {
        let json = br#"{"title": "t", "fields": [
            {"type": "CONCEALED", "label": "Secret Access Key", "value": "[use 'op item get abc --reveal' to reveal]"},
            {"type": "OTP", "label": "one-time password", "totp": "654321"}]}"#;
        let r = parse_item(json, "t").unwrap();
        assert!(r.code_only);
        assert_eq!(r.item.get(item::ONE_TIME_PASSWORD), Some("654321"));
        assert!(r.item.get(item::SECRET_ACCESS_KEY).is_none());
        assert!(matches!(
            r.item.access_keys(),
            Err(Error::MissingField { .. })
        ));
    }
}
