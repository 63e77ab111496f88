//! The AWS CLI's `aws login` cache (`~/.aws/login/cache/<sha256 of login_session>.json`, or
//! under `AWS_LOGIN_CACHE_DIRECTORY`): where it is, and what one entry holds. op-aws reads it
//! only to adopt a session (`import --login`) and never writes it.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::Digest;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::caller::Caller;
use crate::{Error, Result};

/// The cache directory the AWS CLI and SDKs use for `caller`.
pub fn dir(caller: &Caller) -> Result<PathBuf> {
    if let Some(d) = caller
        .var("AWS_LOGIN_CACHE_DIRECTORY")
        .filter(|d| !d.is_empty())
    {
        return Ok(caller.absolute(Path::new(d)));
    }
    Ok(caller.home()?.join(".aws/login/cache"))
}

/// The entry of `login_session` in `dir`.
pub fn path(dir: &Path, login_session: &str) -> PathBuf {
    let hash = sha2::Sha256::digest(login_session.trim().as_bytes());
    dir.join(format!("{}.json", hex(&hash)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(rename_all = "camelCase")]
pub struct AccessToken {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    #[serde(default)]
    pub account_id: Option<String>,
    pub expires_at: String,
}

/// One entry, as the AWS CLI writes it.
#[derive(Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub access_token: AccessToken,
    #[serde(default)]
    pub token_type: Option<String>,
    pub refresh_token: String,
    #[serde(default)]
    pub id_token: Option<String>,
    pub client_id: String,
    pub dpop_key: String,
}

impl Entry {
    /// An entry from the file's bytes; never echoes them in an error.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let e: Self = serde_json::from_slice(bytes).map_err(|e| {
            Error::Invalid(format!(
                "not an aws login cache entry (line {}, column {})",
                e.line(),
                e.column()
            ))
        })?;
        if e.refresh_token.is_empty() || e.access_token.access_key_id.is_empty() {
            return Err(Error::Invalid(
                "the aws login cache entry has no refresh token or credentials".into(),
            ));
        }
        super::dpop::Key::from_pem(&e.dpop_key)?;
        Ok(e)
    }

    /// When its credentials expire (seconds since the epoch); 0 when unreadable.
    pub fn expires_at(&self) -> u64 {
        humantime::parse_rfc3339_weak(self.access_token.expires_at.trim())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_found_by_the_hash_of_its_session_and_read() {
        let p = path(Path::new("/c"), " arn:aws:iam::111111111111:user/alice\n");
        let name = p.file_name().unwrap().to_str().unwrap();
        assert_eq!(name.len(), 64 + 5);
        assert_eq!(
            p,
            path(Path::new("/c"), "arn:aws:iam::111111111111:user/alice")
        );
        let key = super::super::dpop::Key::generate().unwrap();
        let json = serde_json::json!({
            "accessToken": {
                "accessKeyId": "ASIAEXAMPLE", "secretAccessKey": "s", "sessionToken": "t",
                "accountId": "111111111111", "expiresAt": "2026-09-14T04:05:45Z",
            },
            "tokenType": "aws_sigv4", "refreshToken": "r", "idToken": "a.b.c",
            "clientId": "arn:aws:signin:::devtools/same-device",
            "dpopKey": key.to_pem().unwrap().as_str(),
        });
        let e = Entry::parse(json.to_string().as_bytes()).unwrap();
        assert_eq!(e.expires_at(), 1_789_358_745);
        assert_eq!(e.client_id, "arn:aws:signin:::devtools/same-device");
        let Err(err) = Entry::parse(b"{\"accessToken\": \"SECRET\"}") else {
            panic!("parsed");
        };
        let err = err.to_string();
        assert!(!err.contains("SECRET"), "{err}");
    }
}
