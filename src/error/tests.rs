//! Every error renders as one line and a hint, whatever the text it carries.

use super::*;

/// Text a hostile file, item, `op` or server could put in a message.
const HOSTILE: &str = "evil\n\x1b]0;PWNED\x07\r\t\u{2068}x\u{2069}\u{202e}";

/// One of each variant; the match has no wildcard, so a new variant must be added here.
fn samples() -> Vec<Error> {
    let h = || HOSTILE.to_owned();
    let p = || PathBuf::from(format!("/home/u/{HOSTILE}"));
    let io = || std::io::Error::from_raw_os_error(28);
    let all = vec![
        Error::RelativeDirOverride {
            var: "OP_AWS_DATA_DIR",
            value: h(),
        },
        Error::NoHome,
        Error::Io {
            path: p(),
            source: io(),
        },
        Error::UnsafePath(p(), "it belongs to another user"),
        Error::NoVault(p()),
        Error::VaultExists(p()),
        Error::RecipientMismatch(p()),
        Error::RekeyInterrupted(p()),
        Error::WrongPassphrase,
        Error::CorruptVault {
            path: p(),
            why: h(),
        },
        Error::Locked,
        Error::LockedNoTerminal,
        Error::QuickUnlockRefused,
        Error::Held,
        Error::ApprovalFailed,
        Error::ApprovalTimedOut(120),
        Error::NeedsRoot {
            what: "install the polkit action",
            path: p(),
        },
        Error::Pinentry {
            program: p(),
            why: h(),
        },
        Error::Key {
            label: h(),
            why: h(),
        },
        Error::NoSuchKey(h()),
        Error::KeyExists(h()),
        Error::Agent(h()),
        Error::AgentConnectionLost(h()),
        Error::NoSuchItem(h()),
        Error::NoSuchItem(format!("op://Shared/{HOSTILE}")),
        Error::ItemExists(h()),
        Error::MissingField {
            item: h(),
            label: h(),
            found: h(),
        },
        Error::MissingField {
            item: format!("op://V/{HOSTILE}"),
            label: h(),
            found: h(),
        },
        Error::Invalid(h()),
        Error::BadConfig {
            path: p(),
            why: h(),
        },
        Error::OpPluginFile {
            path: p(),
            why: h(),
        },
        Error::NoDefault,
        Error::UntrustedProject {
            path: p(),
            why: "is not trusted",
            dir: p(),
        },
        Error::Cancelled,
        Error::OnePassword(h()),
        Error::OpNotInstalled,
        Error::OpNotSignedIn,
        Error::OpConnectIncomplete {
            set: "OP_CONNECT_HOST",
            missing: "OP_CONNECT_TOKEN",
        },
        Error::OpVaultUnreadable {
            vault: h(),
            who: "the service account (OP_SERVICE_ACCOUNT_TOKEN)",
        },
        Error::OpTokenRejected {
            who: "the service account (OP_SERVICE_ACCOUNT_TOKEN)",
            message: h(),
        },
        Error::OpVaultNeeded {
            who: "the service account (OP_SERVICE_ACCOUNT_TOKEN)",
        },
        Error::Sts(h()),
        Error::StsCall {
            op: "AssumeRole",
            code: "AccessDenied".into(),
            message: h(),
        },
        Error::StsUnreachable {
            op: "AssumeRole",
            endpoint: h(),
            why: h(),
        },
        Error::UntrustedEndpoint(h()),
        Error::UnverifiedLoopback(h()),
        Error::StrangerAgent(h()),
        Error::ClearKept {
            item: h(),
            scope: h(),
            project: Some(h().into()),
        },
        Error::UntrustedFederationEndpoint(h()),
        Error::ConsoleRefused {
            endpoint: h(),
            status: 400,
            why: h(),
        },
        Error::ConsoleUnreachable {
            endpoint: h(),
            why: h(),
        },
        Error::NoSuchProfile {
            profile: h(),
            files: h(),
        },
        Error::BadProfile {
            profile: h(),
            why: h(),
        },
        Error::MfaSerialConflict {
            profile: h(),
            config: h(),
            item: h(),
        },
        Error::ChainedDuration {
            profile: h(),
            seconds: 43200,
        },
        Error::BadTotp(h()),
        Error::Remote {
            message: h(),
            hint: Some(h()),
        },
        Error::Step {
            what: h(),
            source: Box::new(Error::Io {
                path: p(),
                source: io(),
            }),
        },
        Error::MfaNoTerminal {
            serial: h(),
            item: h(),
        },
        Error::MfaProcess {
            serial: h(),
            why: h(),
        },
        Error::SsoCall {
            op: "GetRoleCredentials",
            code: h(),
            message: h(),
        },
        Error::SsoUnreachable {
            op: "CreateToken",
            endpoint: h(),
            why: h(),
        },
        Error::SsoSignInNeeded {
            session: h(),
            flag: h(),
        },
        Error::SignInCall {
            op: "CreateOAuth2Token",
            code: h(),
            message: h(),
        },
        Error::SignInUnreachable {
            op: "CreateOAuth2Token",
            endpoint: h(),
            why: h(),
        },
        Error::SignInNeeded {
            profile: h(),
            why: h(),
        },
        Error::NeedsCaller("the caller"),
        Error::AgentRefused {
            why: h(),
            hint: h(),
        },
        Error::Pinentry {
            program: p(),
            why: h(),
        },
        Error::SandboxClosed(h()),
        Error::Keyless {
            why: h(),
            hint: h(),
        },
        Error::Sandbox {
            name: h(),
            why: h(),
            hint: h(),
        },
    ];
    for e in &all {
        match e {
            Error::RelativeDirOverride { .. }
            | Error::NoHome
            | Error::Io { .. }
            | Error::UnsafePath(..)
            | Error::NoVault(_)
            | Error::VaultExists(_)
            | Error::RecipientMismatch(_)
            | Error::RekeyInterrupted(_)
            | Error::WrongPassphrase
            | Error::CorruptVault { .. }
            | Error::Locked
            | Error::LockedNoTerminal
            | Error::Pinentry { .. }
            | Error::Key { .. }
            | Error::NoSuchKey(_)
            | Error::KeyExists(_)
            | Error::Agent(_)
            | Error::AgentConnectionLost(_)
            | Error::QuickUnlockRefused
            | Error::Held
            | Error::ApprovalFailed
            | Error::ApprovalTimedOut(_)
            | Error::NeedsRoot { .. }
            | Error::NoSuchItem(_)
            | Error::ItemExists(_)
            | Error::MissingField { .. }
            | Error::Invalid(_)
            | Error::BadConfig { .. }
            | Error::OpPluginFile { .. }
            | Error::NoDefault
            | Error::UntrustedProject { .. }
            | Error::Cancelled
            | Error::OnePassword(_)
            | Error::OpNotInstalled
            | Error::OpNotSignedIn
            | Error::OpConnectIncomplete { .. }
            | Error::OpVaultUnreadable { .. }
            | Error::OpTokenRejected { .. }
            | Error::OpVaultNeeded { .. }
            | Error::Sts(_)
            | Error::StsCall { .. }
            | Error::StsUnreachable { .. }
            | Error::UntrustedEndpoint(_)
            | Error::UnverifiedLoopback(_)
            | Error::StrangerAgent(_)
            | Error::UntrustedFederationEndpoint(_)
            | Error::ConsoleRefused { .. }
            | Error::ConsoleUnreachable { .. }
            | Error::NoSuchProfile { .. }
            | Error::BadProfile { .. }
            | Error::MfaSerialConflict { .. }
            | Error::ChainedDuration { .. }
            | Error::BadTotp(_)
            | Error::ClearKept { .. }
            | Error::Remote { .. }
            | Error::Step { .. }
            | Error::MfaNoTerminal { .. }
            | Error::MfaProcess { .. }
            | Error::SsoCall { .. }
            | Error::SsoUnreachable { .. }
            | Error::SsoSignInNeeded { .. }
            | Error::SignInCall { .. }
            | Error::SignInUnreachable { .. }
            | Error::SignInNeeded { .. }
            | Error::NeedsCaller(_)
            | Error::AgentRefused { .. }
            | Error::SandboxClosed(_)
            | Error::Sandbox { .. }
            | Error::Keyless { .. }
            | Error::Rotation { .. } => {}
        }
    }
    all
}

#[test]
fn every_error_prints_as_one_line_and_an_optional_hint() {
    for e in samples() {
        let hint = e.hint();
        let chain: &(dyn std::error::Error + 'static) = &e;
        let text = render_chain(
            std::iter::successors(Some(chain), |c| c.source()),
            hint.as_deref(),
        );
        let lines: Vec<&str> = text.lines().collect();
        assert!(text.ends_with('\n'), "{text:?}");
        assert!(lines[0].starts_with("op-aws: "), "{e:?}: {text:?}");
        match lines.len() {
            1 => assert!(hint.is_none(), "{e:?}: the hint is lost: {text:?}"),
            2 => assert!(lines[1].starts_with("hint: "), "{e:?}: {text:?}"),
            _ => panic!("{e:?} prints {} lines: {text:?}", lines.len()),
        }
        for l in &lines {
            assert!(
                !l.chars().any(|c| c.is_control()
                    || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')),
                "{e:?}: a control or bidi character reaches the terminal: {l:?}"
            );
        }
        assert!(
            lines[0].matches("os error 28").count() <= 1,
            "{e:?}: a cause is repeated: {text:?}"
        );
    }
}

#[test]
fn an_edge_error_keeps_its_hint_on_its_own_line() {
    assert_eq!(
        render("no terminal\nhint: pass --yes", None),
        "op-aws: no terminal\nhint: pass --yes\n"
    );
    assert_eq!(render("a\n  b", None), "op-aws: a b\n");
}

#[test]
fn hints_follow_the_aws_code_and_message() {
    let h = |c, m| sts_hint(c, m).unwrap_or_default();
    assert!(
        h(
            "AccessDenied",
            "MultiFactorAuthentication failed with invalid MFA one time pass code."
        )
        .contains("One-Time Password")
    );
    assert!(
        h(
            "AccessDenied",
            "Cannot call GetSessionToken with session credentials"
        )
        .contains("long-lived")
    );
    assert!(
        h(
            "AccessDenied",
            "User: x is not authorized to perform: sts:AssumeRole"
        )
        .contains("trust policy")
    );
    assert!(
        h(
            "ExpiredToken",
            "The security token included in the request is expired"
        )
        .contains("cache clear")
    );
    assert!(h("InvalidClientTokenId", "").contains("Access Key ID"));
    assert!(h("SignatureDoesNotMatch", "").contains("Secret Access Key"));
    assert!(
        h("ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
            .contains("3600")
    );
    assert_eq!(sts_hint("Throttling", "Rate exceeded"), None);
}
