//! Credentials as they are handed to a command.

use std::time::SystemTime;

use secrecy::{ExposeSecret, SecretString};

use crate::item::AccessKeys;

#[derive(Debug, Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: SecretString,
    /// Present for temporary (STS) credentials only.
    pub session_token: Option<SecretString>,
    pub expiration: Option<SystemTime>,
}

impl From<&AccessKeys> for Credentials {
    fn from(k: &AccessKeys) -> Self {
        Self {
            access_key_id: k.access_key_id.clone(),
            secret_access_key: k.secret_access_key.clone(),
            session_token: None,
            expiration: None,
        }
    }
}

impl Credentials {
    pub fn expiration_rfc3339(&self) -> Option<String> {
        self.expiration
            .map(|t| humantime::format_rfc3339_seconds(t).to_string())
    }

    /// The `credential_process` Version 1 shape (`credential-process`, `export --format json`).
    pub fn process_json(&self) -> serde_json::Value {
        let mut v = serde_json::json!({
            "Version": 1,
            "AccessKeyId": self.access_key_id,
            "SecretAccessKey": self.secret_access_key.expose_secret(),
        });
        if let Some(t) = &self.session_token {
            v["SessionToken"] = t.expose_secret().into();
        }
        if let Some(e) = self.expiration_rfc3339() {
            v["Expiration"] = e.into();
        }
        v
    }
}
