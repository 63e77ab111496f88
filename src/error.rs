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
    /// The same mismatch while a `vault rekey` was under way (its marker is still there): an
    /// interruption, not a replacement.
    #[error(
        "{0}: it is not this identity's recipient: a `vault rekey` was interrupted; nothing was written"
    )]
    RekeyInterrupted(PathBuf),
    #[error("wrong passphrase")]
    WrongPassphrase,
    #[error("{path} is damaged: {why}")]
    CorruptVault { path: PathBuf, why: String },
    #[error("the vault is locked")]
    Locked,
    #[error("the vault is locked and there is no terminal or pinentry to ask for the passphrase")]
    LockedNoTerminal,
    #[error("the agent failed: {0}")]
    Agent(String),
    /// The agent held the identity after the idle timeout and the person dismissed the system
    /// authentication dialog (said no): it forgot the identity.
    #[error("system authentication refused: the vault is locked now")]
    QuickUnlockRefused,
    /// System authentication failed (a wrong password): the agent still holds, so a typo costs
    /// one more try, not the vault passphrase.
    #[error("system authentication failed: the vault stays held")]
    ApprovalFailed,
    /// The agent holds the identity (quick unlock) and needs a person's approval first.
    #[error("the vault is held: system authentication must approve using it again")]
    Held,
    /// Nobody answered the system authentication dialog in time; the agent still holds.
    #[error("system authentication: no answer in {0} s; the vault stays held")]
    ApprovalTimedOut(u64),
    #[error("cannot {what}: {path} is root's to write")]
    NeedsRoot { what: &'static str, path: PathBuf },
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
    /// A file of 1Password's shell plugin that does not say which item it means.
    #[error("{path}: not a 1Password shell plugin default: {why}")]
    OpPluginFile { path: PathBuf, why: String },
    #[error("no item chosen for this directory")]
    NoDefault,
    /// No default here but a project file's, which is not trusted (`why`: "is not trusted",
    /// "changed since it was trusted").
    #[error("no item chosen for this directory: {path} {why}")]
    UntrustedProject {
        path: PathBuf,
        why: &'static str,
        dir: PathBuf,
    },
    #[error("cancelled")]
    Cancelled,
    #[error("1Password: {0}")]
    OnePassword(String),
    #[error("1Password CLI `op` not found")]
    OpNotInstalled,
    #[error("1Password CLI is not signed in")]
    OpNotSignedIn,
    #[error("{set} is set but {missing} is not: 1Password Connect needs both")]
    OpConnectIncomplete {
        set: &'static str,
        missing: &'static str,
    },
    #[error("vault {vault:?} cannot be read by {who}")]
    OpVaultUnreadable { vault: String, who: &'static str },
    #[error("1Password rejected {who}: {message}")]
    OpTokenRejected { who: &'static str, message: String },
    #[error("{who} reads more than one vault, so op needs to be told which")]
    OpVaultNeeded { who: &'static str },
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
    #[error(
        "STS endpoint {0} is not AWS's own, loopback or in trusted_endpoints: not sending it a request signed with the item's keys or carrying an MFA code"
    )]
    UntrustedEndpoint(String),
    /// A loopback endpoint on a system that cannot tell whose process listens there (macOS).
    #[error(
        "STS endpoint {0} is on loopback, but this system cannot tell whose process listens there: not sending it a request signed with the item's keys or carrying an MFA code"
    )]
    UnverifiedLoopback(String),
    /// The running agent was not started by an `op-aws` that unlocks (or cannot be told to be
    /// op-aws's agent): it gets no identity.
    #[error("not handing the vault identity to the agent at the socket: {0}")]
    StrangerAgent(String),
    #[error(
        "console federation endpoint {0} is not AWS's own, loopback or in trusted_endpoints: not sending it a session"
    )]
    UntrustedFederationEndpoint(String),
    /// An error answer from the console's federation endpoint.
    #[error("the console sign-in at {endpoint} answered {status}: {why}")]
    ConsoleRefused {
        endpoint: String,
        status: u16,
        why: String,
    },
    #[error("cannot reach the console sign-in at {endpoint}: {why}")]
    ConsoleUnreachable { endpoint: String, why: String },
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
    /// `clear` without `--all` where the default in effect lives in a file op-aws never edits.
    #[error("{item} applies here through {scope}, which clear does not edit")]
    ClearKept {
        item: String,
        /// The scope, as people read it.
        scope: String,
        /// For a trusted project file's default: its directory (the hint names `untrust`).
        project: Option<PathBuf>,
    },
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
    /// A key rotation stopped: what happened and what IAM and the item hold now.
    #[error("{what}")]
    Rotation { what: String, next: Option<String> },
    /// An error answer from IAM Identity Center, as `Code: message`.
    #[error("{op}: {code}: {message}")]
    SsoCall {
        op: &'static str,
        code: String,
        message: String,
    },
    #[error("{op}: cannot reach IAM Identity Center at {endpoint}: {why}")]
    SsoUnreachable {
        op: &'static str,
        endpoint: String,
        why: String,
    },
    #[error("SSO session {session:?} needs a sign-in, and no one is here to approve it")]
    SsoSignInNeeded { session: String, flag: String },
    /// An error answer from AWS Sign-In (`aws login` sessions), as `Code: message`.
    #[error("{op}: {code}: {message}")]
    SignInCall {
        op: &'static str,
        code: String,
        message: String,
    },
    #[error("{op}: cannot reach AWS Sign-In at {endpoint}: {why}")]
    SignInUnreachable {
        op: &'static str,
        endpoint: String,
        why: String,
    },
    /// The `aws login` session of a profile has ended (or was never signed in here).
    #[error("the aws login session of profile {profile:?} needs a sign-in: {why}")]
    SignInNeeded { profile: String, why: String },
    /// In the agent: this needs the calling process itself (its terminal, `op`, a browser).
    #[error("{0} must do this itself")]
    NeedsCaller(&'static str),
    #[error("an MFA code is needed for {serial} and there is no terminal or pinentry to ask on")]
    MfaNoTerminal { serial: String, item: String },
    /// The profile's `mfa_process` (or `op_aws_mfa`) gave no code.
    #[error("no MFA code for {serial} from mfa_process: {why}")]
    MfaProcess { serial: String, why: String },
    /// A security key (an age plugin) could not open the vault, or wrap it.
    #[error("key {label:?}: {why}")]
    Key { label: String, why: String },
    #[error("no key labelled {0:?}")]
    NoSuchKey(String),
    #[error("a key labelled {0:?} already exists")]
    KeyExists(String),
    /// The pinentry program failed (not the person cancelling: that is [`Error::Cancelled`]).
    #[error("pinentry {program}: {why}")]
    Pinentry { program: PathBuf, why: String },
    /// An AI coding agent asked for what its policy does not give it ([`crate::policy`]).
    #[error("{why}")]
    AgentRefused { why: String, hint: String },
    /// Inside a sandbox: its capability is gone (stopped, locked, the agent ended).
    #[error("sandbox {0} is closed: its capability to op-aws was stopped")]
    SandboxClosed(String),
    /// A sandbox could not be opened, isolated, found or stopped; or a request on its
    /// capability asked for what a sandbox never gets.
    #[error("sandbox {name}: {why}")]
    Sandbox {
        name: String,
        why: String,
        hint: String,
    },
    /// The keyless proxy could not start (`op-aws run --keyless`).
    #[error("cannot start the keyless proxy: {why}")]
    Keyless { why: String, hint: String },
}

/// Text op-aws did not write itself (item titles, `op`'s and AWS's messages, paths), made safe
/// for a terminal: control characters (escape sequences, newlines) and bidirectional overrides
/// become U+FFFD.
pub fn printable(s: &str) -> String {
    s.chars()
        .map(|c| if unprintable(c) { '\u{fffd}' } else { c })
        .collect()
}

/// What [`printable`] replaces: a control character or a bidirectional override.
pub fn unprintable(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` on one line, safe for a terminal: its lines trimmed and joined with spaces, tabs as
/// spaces, then [`printable`].
pub fn one_line(s: &str) -> String {
    let joined = s
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    printable(&joined.replace('\t', " "))
}

/// An error as the binary prints it: `op-aws: what failed: why`, one line, then an optional
/// `hint:` line. Line breaks inside either become spaces and any other control character is
/// neutralised, so no message can span lines or drive the terminal.
pub fn render(message: &str, hint: Option<&str>) -> String {
    // Edge errors built with anyhow carry their hint after a line break.
    let (message, inline_hint) = match message.split_once("\nhint: ") {
        Some((m, h)) => (m, Some(h)),
        None => (message, None),
    };
    let mut out = format!("op-aws: {}\n", one_line(message));
    if let Some(h) = hint.or(inline_hint) {
        out.push_str(&format!("hint: {}\n", one_line(h)));
    }
    out
}

/// An error and its causes as one message (`what failed: why: why`), each cause said once: a
/// variant that already shows its source (`path: No space left on device`) is not followed by
/// the source again.
pub fn render_chain<'a>(
    chain: impl IntoIterator<Item = &'a (dyn std::error::Error + 'static)>,
    hint: Option<&str>,
) -> String {
    let mut msg = String::new();
    for cause in chain {
        let text = cause.to_string();
        if text.is_empty() || msg.contains(&text) {
            continue;
        }
        if !msg.is_empty() {
            msg.push_str(": ");
        }
        msg.push_str(&text);
    }
    render(&msg, hint)
}

impl Error {
    /// A profile of the AWS config that op-aws cannot use, and why.
    pub fn bad_profile(profile: &str, why: String) -> Self {
        Self::BadProfile {
            profile: profile.to_owned(),
            why,
        }
    }

    /// Sandbox `name` (made printable) refused, with why and the next command.
    pub fn sandbox(name: &str, why: impl Into<String>, hint: impl Into<String>) -> Self {
        Self::Sandbox {
            name: printable(name),
            why: why.into(),
            hint: hint.into(),
        }
    }

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
            Self::AgentRefused { hint, .. }
            | Self::Sandbox { hint, .. }
            | Self::Keyless { hint, .. } => hint.clone(),
            Self::SandboxClosed(_) => "the person starts it again outside: `op-aws sandbox -- CMD` (`op-aws sandbox list` shows the open ones)".into(),
            Self::Pinentry { .. } => "check pinentry_program in config.toml (a pinentry speaking the Assuan protocol), or run the command in a terminal".into(),
            Self::Remote { hint, .. } => return hint.clone(),
            Self::ClearKept { project: Some(d), .. } => format!(
                "run `op-aws untrust {}` to stop using the project file, or pass --all to remove the other defaults",
                crate::shell::quote_posix(&d.to_string_lossy())
            ),
            Self::ClearKept { .. } => {
                "remove the profile's item binding (op_aws_item, or its item in the project file), unset AWS_PROFILE, or pass --all to remove the other defaults".into()
            }
            Self::RelativeDirOverride { var, .. } => format!("set {var} to an absolute path, or unset it"),
            Self::NoVault(_) => "create one with `op-aws vault create` (or run `op-aws init`)".into(),
            Self::VaultExists(_) => "use the existing vault, or move it away first".into(),
            Self::WrongPassphrase => "try again: `op-aws unlock`".into(),
            Self::UnsafePath(..) => {
                "op-aws only uses files and directories of the user it runs as: run it as that user (not `sudo -E`), fix the owner, or point OP_AWS_RUNTIME_DIR (OP_AWS_DATA_DIR, OP_AWS_CACHE_DIR) at a directory of your own".into()
            }
            Self::RekeyInterrupted(_) => {
                "run `op-aws vault rekey` again (with the passphrase): it finishes the new identity".into()
            }
            Self::RecipientMismatch(_) => {
                "run `op-aws vault rekey`: it makes a new identity and writes recipient.txt anew".into()
            }
            Self::CorruptVault { .. } => {
                "the file was left as it is; restore it from a backup (it is a standard age file)".into()
            }
            Self::Locked => "run `op-aws unlock` (or `op-aws unlock --passphrase-stdin` in scripts)".into(),
            Self::LockedNoTerminal => "run `op-aws unlock` in a terminal (or `op-aws unlock --passphrase-stdin` in scripts), or install pinentry (or set pinentry_program in config.toml) so op-aws can ask without one".into(),
            Self::Key { .. } => "unlock with the passphrase: `op-aws unlock --passphrase`; see the keys with `op-aws vault key list`".into(),
            Self::NoSuchKey(_) => "see the keys with `op-aws vault key list`".into(),
            Self::KeyExists(_) => "choose another label with --name, or remove it with `op-aws vault key rm LABEL`".into(),
            Self::Agent(_) | Self::AgentConnectionLost(_) => "run `op-aws lock`, then `op-aws unlock`".into(),
            Self::QuickUnlockRefused | Self::Held => "run `op-aws unlock`".into(),
            Self::ApprovalFailed => "run the command again and authenticate, or `op-aws lock` to forget the vault".into(),
            Self::ApprovalTimedOut(_) => "run the command again and approve it in the authentication dialog (or `op-aws unlock`)".into(),
            Self::NeedsRoot { .. } => "run `sudo op-aws setup polkit`".into(),
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
            Self::OpPluginFile { .. } => {
                "op-aws left it as it is; choose that item with `op-aws use op://VAULT/ITEM --directory DIR` (or --global) instead".into()
            }
            Self::NoDefault => "choose one with `op-aws use ITEM` (or pass `--item ITEM`)".into(),
            Self::UntrustedProject { dir, .. } => format!(
                "read it, then run `op-aws trust {}`; or choose an item with `op-aws use ITEM`",
                crate::shell::quote_posix(&dir.to_string_lossy())
            ),
            Self::OpNotInstalled => {
                "install the 1Password CLI (https://developer.1password.com/docs/cli/get-started/) or set OP_AWS_OP_PATH".into()
            }
            Self::OnePassword(_) => "that is op's own message; check with `op whoami` and `op item list`".into(),
            Self::OpNotSignedIn => "run `op signin` (in CI, set OP_SERVICE_ACCOUNT_TOKEN)".into(),
            Self::OpConnectIncomplete { missing, .. } => format!(
                "set {missing} too (or unset both OP_CONNECT_HOST and OP_CONNECT_TOKEN to use OP_SERVICE_ACCOUNT_TOKEN or your own sign-in)"
            ),
            Self::OpVaultUnreadable { vault, .. } => format!(
                "give it read access to {vault:?} in 1Password (a service account never reads Personal, Private or Employee vaults, nor the default Shared one), or name an item in a vault it can read: op://VAULT/ITEM"
            ),
            Self::OpTokenRejected { .. } => {
                "check the token (expired, revoked, or cut short when it was stored in CI's secrets)".into()
            }
            Self::OpVaultNeeded { .. } => {
                "name items as op://VAULT/ITEM, or set onepassword_vault = \"VAULT\" in config.toml".into()
            }
            Self::StsCall { op, code, .. }
                if code == "AccessDenied"
                    && matches!(*op, "GetUser" | "ListAccessKeys" | "CreateAccessKey" | "DeleteAccessKey") =>
            {
                "rotating needs the item's IAM user to be allowed iam:GetUser, iam:ListAccessKeys, iam:CreateAccessKey and iam:DeleteAccessKey on itself".into()
            }
            Self::StsCall { code, message, .. } => return sts_hint(code, message),
            Self::StsUnreachable { .. } => {
                "check the network, and AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL if they are set".into()
            }
            Self::UntrustedEndpoint(ep) => format!(
                "if you trust it, add it to config.toml: trusted_endpoints = [\"{ep}\"]; else unset AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL or the profile's endpoint_url"
            ),
            Self::StrangerAgent(_) => "run `op-aws lock` (or end that process), then `op-aws unlock` again".into(),
            Self::UnverifiedLoopback(ep) => format!(
                "if it is your own server (moto, LocalStack), add it to config.toml: trusted_endpoints = [\"{ep}\"]"
            ),
            Self::UntrustedFederationEndpoint(ep) => format!(
                "if you trust it, add it to config.toml: trusted_endpoints = [\"{ep}\"]; else remove federation_endpoint from config.toml"
            ),
            Self::ConsoleRefused { .. } => {
                "the console takes a role's or an SSO session, or an IAM user's (op-aws asks GetFederationToken for it); check the credentials with `op-aws run -- aws sts get-caller-identity`".into()
            }
            Self::ConsoleUnreachable { .. } => {
                "check the network, and federation_endpoint in config.toml if it is set".into()
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
            Self::Rotation { next, .. } => return next.clone(),
            Self::SsoCall { code, .. } if code == "UnauthorizedException" || code == "InvalidGrantException" => {
                "the sign-in ended: run `op-aws sso login`".into()
            }
            Self::SsoCall { code, .. } if code == "ForbiddenException" => {
                "your Identity Center user has no access to that account and role: check sso_account_id and sso_role_name (`op-aws sso populate --dry-run` lists what you can use)".into()
            }
            Self::SsoCall { code, .. } if code == "AccessDeniedException" || code == "ExpiredTokenException" => {
                "the sign-in was not approved in time: run `op-aws sso login` and approve it in the browser".into()
            }
            Self::SsoCall { .. } => "that is IAM Identity Center's own message; check the session's sso_start_url and sso_region".into(),
            Self::SsoUnreachable { .. } => {
                "check the network, and AWS_ENDPOINT_URL_SSO / AWS_ENDPOINT_URL_SSO_OIDC if they are set".into()
            }
            Self::SsoSignInNeeded { flag, .. } => format!("run `op-aws sso login {flag}` in a terminal, or set BROWSER"),
            Self::SignInCall { .. } => "that is AWS Sign-In's own message; `op-aws signin --profile PROFILE` signs in again".into(),
            Self::SignInUnreachable { .. } => {
                "check the network, and AWS_ENDPOINT_URL_SIGNIN if it is set".into()
            }
            Self::SignInNeeded { profile, .. } => format!(
                "run `op-aws signin --profile {}` in a terminal (`--remote` over SSH)",
                crate::shell::word_posix(profile)
            ),
            Self::MfaProcess { .. } => "check mfa_process (or op_aws_mfa) in the AWS config: the command must print the 6-digit code; try it in a terminal".into(),
            Self::MfaNoTerminal { item, .. } => format!(
                "store the TOTP secret with `op-aws item edit {item} --set-secret 'One-Time Password'`, or run in a terminal, or install pinentry (or set pinentry_program in config.toml)"
            ),
            _ => return None,
        })
    }
}

/// The next step for an STS error code, shown under the error.
fn sts_hint(code: &str, message: &str) -> Option<String> {
    let m = message.to_ascii_lowercase();
    Some(match code {
        "AccessDenied" if m.contains("multifactorauthentication") || m.contains("mfa") => {
            "check the item's One-Time Password and MFA Serial (`op-aws item show ITEM`) and this machine's clock; each code works once".into()
        }
        "AccessDenied" if m.contains("session credentials") => {
            "the item holds temporary keys; store long-lived IAM user keys in it instead".into()
        }
        "AccessDenied" => "check the role's trust policy allows this user (and the external_id or MFA it requires)".into(),
        "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" => {
            "run `op-aws cache clear` and retry; if the item holds temporary keys, store long-lived ones".into()
        }
        "InvalidClientTokenId" | "UnrecognizedClientException" => {
            "the item's Access Key ID is not a valid key (deleted, or mistyped): `op-aws item edit ITEM --set 'Access Key ID=...'`".into()
        }
        "SignatureDoesNotMatch" => {
            "the item's Secret Access Key does not match its key ID: `op-aws item edit ITEM --set-secret 'Secret Access Key'`".into()
        }
        "ValidationError" if m.contains("chain") => {
            "role chaining allows at most 1 hour: set duration_seconds to 3600 or less".into()
        }
        "ValidationError" => "check role_arn, role_session_name and duration_seconds in ~/.aws/config".into(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
