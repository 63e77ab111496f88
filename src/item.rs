//! Items: a title and labelled fields, as in 1Password. Values live in zeroize-on-drop strings;
//! concealed ones are masked everywhere unless a caller explicitly reveals them.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::{Error, Result};

pub const ACCESS_KEY_ID: &str = "Access Key ID";
pub const SECRET_ACCESS_KEY: &str = "Secret Access Key";
pub const DEFAULT_REGION: &str = "Default Region";
pub const ONE_TIME_PASSWORD: &str = "One-Time Password";
pub const MFA_SERIAL: &str = "MFA Serial";

/// Labels that are concealed whatever flag set them.
pub const CONCEALED_LABELS: &[&str] = &[SECRET_ACCESS_KEY, ONE_TIME_PASSWORD];

pub fn is_concealed_label(label: &str) -> bool {
    CONCEALED_LABELS
        .iter()
        .any(|l| l.eq_ignore_ascii_case(label))
}

#[derive(Clone, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct Field {
    pub label: String,
    pub value: String,
    #[serde(default)]
    pub concealed: bool,
}

impl std::fmt::Debug for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let value = if self.concealed {
            "********"
        } else {
            self.value.as_str()
        };
        write!(f, "{}={value}", self.label)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct Item {
    pub title: String,
    pub fields: Vec<Field>,
    /// Seconds since the epoch.
    #[serde(default)]
    pub created: u64,
    #[serde(default)]
    pub updated: u64,
}

/// Long-lived keys read from an item (the secret stays wrapped).
#[derive(Debug, Clone)]
pub struct AccessKeys {
    pub access_key_id: String,
    pub secret_access_key: SecretString,
    pub region: Option<String>,
}

impl Item {
    pub fn new(title: &str) -> Self {
        let now = now_secs();
        Self {
            title: title.to_owned(),
            fields: Vec::new(),
            created: now,
            updated: now,
        }
    }

    pub fn field(&self, label: &str) -> Option<&Field> {
        self.fields
            .iter()
            .find(|f| f.label.eq_ignore_ascii_case(label))
    }

    pub fn get(&self, label: &str) -> Option<&str> {
        self.field(label)
            .map(|f| f.value.as_str())
            .filter(|v| !v.is_empty())
    }

    /// Sets (or replaces, matching the label case-insensitively) a field.
    pub fn set(&mut self, label: &str, value: String, concealed: bool) {
        let concealed = concealed || is_concealed_label(label);
        match self
            .fields
            .iter_mut()
            .find(|f| f.label.eq_ignore_ascii_case(label))
        {
            Some(f) => {
                f.value.zeroize();
                f.value = value;
                f.concealed = concealed;
            }
            None => self.fields.push(Field {
                label: canonical_label(label),
                value,
                concealed,
            }),
        }
    }

    pub fn unset(&mut self, label: &str) -> bool {
        let before = self.fields.len();
        self.fields.retain(|f| !f.label.eq_ignore_ascii_case(label));
        before != self.fields.len()
    }

    pub fn rename_field(&mut self, old: &str, new: &str) -> Result<()> {
        if !old.eq_ignore_ascii_case(new) && self.field(new).is_some() {
            return Err(Error::Invalid(format!(
                "item {:?} already has a field {new:?}",
                self.title
            )));
        }
        let Some(f) = self
            .fields
            .iter_mut()
            .find(|f| f.label.eq_ignore_ascii_case(old))
        else {
            return Err(self.missing(old));
        };
        f.label = canonical_label(new);
        f.concealed = f.concealed || is_concealed_label(new);
        Ok(())
    }

    pub fn touch(&mut self) {
        self.updated = now_secs();
    }

    fn missing(&self, label: &str) -> Error {
        let found: Vec<&str> = self.fields.iter().map(|f| f.label.as_str()).collect();
        Error::MissingField {
            item: self.title.clone(),
            label: label.to_owned(),
            found: if found.is_empty() {
                "no fields".into()
            } else {
                found.join(", ")
            },
        }
    }

    pub fn require(&self, label: &str) -> Result<&str> {
        self.get(label).ok_or_else(|| self.missing(label))
    }

    pub fn access_keys(&self) -> Result<AccessKeys> {
        Ok(AccessKeys {
            access_key_id: self.require(ACCESS_KEY_ID)?.trim().to_owned(),
            secret_access_key: SecretString::from(self.require(SECRET_ACCESS_KEY)?.trim()),
            region: self.get(DEFAULT_REGION).map(|r| r.trim().to_owned()),
        })
    }

    /// A JSON view; concealed values are masked unless `reveal`.
    pub fn to_json(&self, reveal: bool) -> serde_json::Value {
        let fields: Vec<_> = self
            .fields
            .iter()
            .map(|f| {
                serde_json::json!({
                    "label": f.label,
                    "value": if f.concealed && !reveal { "********" } else { f.value.as_str() },
                    "concealed": f.concealed,
                })
            })
            .collect();
        serde_json::json!({ "title": self.title, "fields": fields })
    }
}

/// Known labels are stored in their canonical spelling, whatever case the user typed.
fn canonical_label(label: &str) -> String {
    [
        ACCESS_KEY_ID,
        SECRET_ACCESS_KEY,
        DEFAULT_REGION,
        ONE_TIME_PASSWORD,
        MFA_SERIAL,
    ]
    .into_iter()
    .find(|l| l.eq_ignore_ascii_case(label))
    .unwrap_or(label)
    .to_owned()
}

pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_match_case_insensitively_and_keep_canonical_spelling() {
        let mut it = Item::new("prod");
        it.set("access key id", "AKIA1".into(), false);
        it.set("SECRET ACCESS KEY", "s3cr3t".into(), false);
        assert_eq!(it.fields[0].label, ACCESS_KEY_ID);
        assert!(it.fields[1].concealed, "the secret key is always concealed");
        assert_eq!(it.get("Access Key Id"), Some("AKIA1"));
        let k = it.access_keys().unwrap();
        assert_eq!(k.access_key_id, "AKIA1");
        assert!(!format!("{it:?}").contains("s3cr3t"));
    }

    #[test]
    fn missing_field_names_what_is_there() {
        let mut it = Item::new("prod");
        it.set("key", "AKIA".into(), false);
        let e = it.access_keys().unwrap_err().to_string();
        assert!(e.contains("Access Key ID") && e.contains("key"), "{e}");
    }
}
