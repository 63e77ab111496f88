//! Library errors: one variant per condition a caller (or a user) acts on differently.
//! Each renders as one line; [`Error::hint`] gives the next command to run.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("{var} must be an absolute path, got {value:?}")]
    RelativeDirOverride { var: &'static str, value: String },
    #[error("cannot find the home directory: HOME is not set")]
    NoHome,
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}: refusing to use it: {1}")]
    UnsafePath(PathBuf, &'static str),
    #[error("no vault at {0}")]
    NoVault(PathBuf),
    #[error("a vault already exists at {0}")]
    VaultExists(PathBuf),
    #[error("{0}: it is not the vault identity's recipient (it was replaced); nothing was written")]
    RecipientMismatch(PathBuf),
    #[error("wrong passphrase")]
    WrongPassphrase,
    #[error("{path} is damaged: {why}")]
    CorruptVault { path: PathBuf, why: String },
    #[error("the vault is locked")]
    Locked,
    #[error("no terminal to ask for the passphrase")]
    LockedNoTerminal,
    #[error("the agent failed: {0}")]
    Agent(String),
    #[error("the agent failed: lost the connection: {0}")]
    AgentConnectionLost(String),
    #[error("no item named {0:?}")]
    NoSuchItem(String),
    #[error("an item named {0:?} already exists")]
    ItemExists(String),
    #[error("item {item:?} has no {label:?} field (it has: {found})")]
    MissingField {
        item: String,
        label: String,
        found: String,
    },
    #[error("{0}")]
    Invalid(String),
    #[error("{path}: {why}")]
    BadConfig { path: PathBuf, why: String },
    #[error("no item chosen for this directory")]
    NoDefault,
    #[error("cancelled")]
    Cancelled,
    #[error("1Password: {0}")]
    OnePassword(String),
    #[error("1Password CLI `op` not found")]
    OpNotInstalled,
    #[error("1Password CLI is not signed in")]
    OpNotSignedIn,
    #[error("{0}")]
    Sts(String),
    /// An error answer from STS, as `Code: message`.
    #[error("{op}: {code}: {message}")]
    StsCall {
        op: &'static str,
        code: String,
        message: String,
    },
    #[error("{op}: cannot reach STS at {endpoint}: {why}")]
    StsUnreachable {
        op: &'static str,
        endpoint: String,
        why: String,
    },
    #[error("profile {profile:?} is defined nowhere (looked in {files})")]
    NoSuchProfile { profile: String, files: String },
    #[error("profile {profile:?}: {why}")]
    BadProfile { profile: String, why: String },
    #[error("profile {profile:?} has mfa_serial {config}, but the item's MFA Serial is {item}")]
    MfaSerialConflict {
        profile: String,
        config: String,
        item: String,
    },
    #[error(
        "profile {profile:?}: duration_seconds = {seconds}, but a role assumed with another role's credentials lasts at most 3600 s"
    )]
    ChainedDuration { profile: String, seconds: u32 },
    #[error("the item's One-Time Password is not usable: {0}")]
    BadTotp(String),
    /// An error the agent met on our behalf, as it said it (and its hint).
    #[error("{message}")]
    Remote {
        message: String,
        hint: Option<String>,
    },
    /// A step of a larger piece of work failed: what the step was, then why.
    #[error("{what}: {source}")]
    Step {
        what: String,
        #[source]
        source: Box<Self>,
    },
    #[error("an MFA code is needed for {serial} and there is no terminal to ask on")]
    MfaNoTerminal { serial: String, item: String },
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    /// The next command to run, shown on a `hint:` line under the error.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            Self::Step { source, .. } => return source.hint(),
            Self::Remote { hint, .. } => return hint.clone(),
            Self::RelativeDirOverride { var, .. } => format!("set {var} to an absolute path, or unset it"),
            Self::NoVault(_) => "create one with `op-aws vault create` (or run `op-aws init`)".into(),
            Self::VaultExists(_) => "use the existing vault, or move it away first".into(),
            Self::WrongPassphrase => "try again: `op-aws unlock`".into(),
            Self::UnsafePath(..) => {
                "op-aws only uses files and directories of the user it runs as: run it as that user (not `sudo -E`), fix the owner, or point OP_AWS_RUNTIME_DIR (OP_AWS_DATA_DIR, OP_AWS_CACHE_DIR) at a directory of your own".into()
            }
            Self::RecipientMismatch(_) => {
                "run `op-aws vault rekey`: it makes a new identity and writes recipient.txt anew".into()
            }
            Self::CorruptVault { .. } => {
                "the file was left as it is; restore it from a backup (it is a standard age file)".into()
            }
            Self::Locked | Self::LockedNoTerminal => "run `op-aws unlock` (or `op-aws unlock --passphrase-stdin` in scripts)".into(),
            Self::Agent(_) | Self::AgentConnectionLost(_) => "run `op-aws lock`, then `op-aws unlock`".into(),
            Self::NoSuchItem(n) if n.starts_with("op://") => {
                "check the vault and title with `op item list --vault VAULT` (names are op://Vault/Item)".into()
            }
            Self::NoSuchItem(_) => "see the items with `op-aws item list`".into(),
            Self::ItemExists(_) => "choose another name, or change it with `op-aws item edit`".into(),
            Self::MissingField { item, .. } if item.starts_with("op://") => {
                format!("in 1Password, add the field to {item} or rename one to the label above (labels match in any case)")
            }
            Self::MissingField { item, .. } => {
                format!("add it with `op-aws item edit {item} --set-secret LABEL`, or rename a field with `op-aws item edit {item} --rename OLD=NEW`")
            }
            Self::BadConfig { .. } => "fix the file, or move it away to start from the defaults".into(),
            Self::NoDefault => "choose one with `op-aws use ITEM` (or pass `--item ITEM`)".into(),
            Self::OpNotInstalled => {
                "install the 1Password CLI (https://developer.1password.com/docs/cli/get-started/) or set OP_AWS_OP_PATH".into()
            }
            Self::OnePassword(_) => "that is op's own message; check with `op whoami` and `op item list`".into(),
            Self::OpNotSignedIn => "run `op signin` (in CI, set OP_SERVICE_ACCOUNT_TOKEN)".into(),
            Self::StsCall { code, message, .. } => return crate::sts::client::hint(code, message),
            Self::StsUnreachable { .. } => {
                "check the network, and AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL if they are set".into()
            }
            Self::NoSuchProfile { .. } => {
                "see the profiles with `op-aws profiles`; check AWS_PROFILE and --profile".into()
            }
            Self::BadProfile { .. } => "fix that profile in ~/.aws/config (see docs/roles-and-mfa.md)".into(),
            Self::MfaSerialConflict { .. } => {
                "keep one: remove mfa_serial from the profile, or `op-aws item edit ITEM --unset 'MFA Serial'`".into()
            }
            Self::ChainedDuration { .. } => "set duration_seconds to 3600 or less for that profile".into(),
            Self::BadTotp(_) => {
                "store the base32 secret or otpauth:// URI: `op-aws item edit ITEM --set-secret 'One-Time Password'`".into()
            }
            Self::MfaNoTerminal { item, .. } => format!(
                "store the TOTP secret with `op-aws item edit {item} --set-secret 'One-Time Password'`, or run in a terminal"
            ),
            _ => return None,
        })
    }
}
