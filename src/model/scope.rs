//! Which default applies and why: the scopes a default lives in, what was applied, why a stored
//! directory default was ignored. Storing them is [`crate::scope`]'s.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Why a directory default that is stored for a directory above the caller is not applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ignored {
    /// The directory is not the user's (now).
    NotYours,
    /// The directory at that path is another one than the default was made for (removed and
    /// made again, by anyone).
    Replaced,
}

impl Ignored {
    pub fn why(self) -> &'static str {
        match self {
            Self::NotYours => "the directory is not yours",
            Self::Replaced => "the directory was replaced since the default was made",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "scope", content = "path")]
pub enum Scope {
    Flag,
    Profile(String),
    Session,
    Directory(PathBuf),
    /// A trusted project file's default: the directory the file is in.
    Project(PathBuf),
    Global,
}

impl Scope {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Flag => "flag",
            Self::Profile(_) => "profile",
            Self::Session => "session",
            Self::Directory(_) => "directory",
            Self::Project(_) => "project",
            Self::Global => "global",
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Directory(p) => write!(f, "directory {}", p.display()),
            Self::Project(p) => write!(
                f,
                "project file {}",
                p.join(crate::model::project::FILE_NAME).display()
            ),
            Self::Profile(p) => write!(f, "profile {p}"),
            other => f.write_str(other.name()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    pub item: String,
    #[serde(flatten)]
    pub scope: Scope,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub export: bool,
}
