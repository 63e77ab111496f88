//! op-aws: AWS access keys kept in an encrypted vault (or 1Password) and handed, for one command
//! at a time, to `aws` and friends. The binary, the nushell plugin and the shell scripts are thin
//! front ends on this library.
// `unsafe` only in `os::macos` and `os::localauth` (macOS system calls), allowed there by name.
#![deny(unsafe_code)]

pub mod agent;
pub mod agents;
pub mod approval;
pub mod audit;
pub mod awsfiles;
pub mod caller;
pub mod change;
pub mod config;
pub mod console;
pub mod creds;
pub mod ctx;
pub mod digest;
pub mod dirs;
pub mod doctor;
pub mod endpoint;
pub mod error;
pub mod fsutil;
#[doc(hidden)]
pub mod fuzzing;
pub mod hook;
pub mod iam;
pub mod import;
pub mod inject;
pub mod install;
pub mod item;
pub mod keyless;
pub mod link;
pub mod memo;
pub mod model;
pub mod notice;
pub mod onepassword;
pub mod opplugin;
pub mod os;
pub mod partition;
pub mod pinentry;
pub mod plaintext;
pub mod policy;
pub mod polkit;
pub mod process;
pub mod progress;
pub mod project;
pub mod prompt;
pub mod report;
pub mod resolve;
pub mod rotate;
pub mod sandbox;
pub mod scope;
pub mod sealed;
pub mod shell;
pub mod signin;
pub mod sockets;
pub mod sso;
pub mod store;
pub mod sts;
pub mod sysauth;
pub mod unlock;
pub mod vault;

#[cfg(test)]
mod crash_tests;

pub use error::{Error, Result};
