//! An IAM Identity Center session as the AWS config names it. Its tokens are [`crate::sso`]'s.

use serde::{Deserialize, Serialize};

/// An `[sso-session NAME]` (or a legacy profile's `sso_start_url`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub name: String,
    pub start_url: String,
    pub region: String,
    pub scopes: Vec<String>,
    /// A profile with `sso_start_url` and no `sso_session`: no refresh token (as in the AWS CLI).
    pub legacy: bool,
}

impl Session {
    /// The token's key: the session's name and start URL.
    pub fn key(&self) -> String {
        crate::digest::hash(
            &serde_json::json!({"v": 1, "sso": self.name, "start_url": self.start_url}),
        )
    }

    /// How people name it in commands.
    pub fn flag(&self) -> String {
        if self.legacy {
            format!("--profile PROFILE (start URL {})", self.start_url)
        } else {
            format!("--sso-session {}", crate::shell::word_posix(&self.name))
        }
    }
}
