//! What a profile asks of STS, worked out from `~/.aws/config` alone (no network): the roles to
//! assume bottom-up, the MFA device, durations, session names, region and endpoint. Validation
//! happens here so a bad config fails before any code is spent.

use crate::awsfiles::{AwsFiles, shown};
use crate::caller::Caller;
use crate::item::{self, Item};
use crate::{Error, Result};

/// AssumeRole signed by another role's credentials ("role chaining") is capped by AWS at 1 h.
pub const CHAINED_MAX: u32 = 3600;
const ROLE_RANGE: std::ops::RangeInclusive<u32> = 900..=43200;
const SESSION_TOKEN_RANGE: std::ops::RangeInclusive<u32> = 900..=129_600;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The profile asked for.
    pub profile: String,
    /// The profiles that take part, top first; the last one is signed by the item's keys.
    pub chain: Vec<String>,
    pub mfa: Option<MfaStep>,
    /// Bottom first: each one is signed by the credentials the previous step returned.
    pub roles: Vec<RoleStep>,
    pub region: String,
    pub endpoint: Option<String>,
    /// FIPS and dual-stack endpoints, as the profile or the environment asks.
    pub variant: crate::partition::Variant,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaStep {
    pub serial: String,
    /// None: AWS's default (12 h), so role refreshes above it rarely need a new code.
    pub duration: Option<u32>,
    /// The command whose output is the code (`mfa_process`, or what `op_aws_mfa` stands for):
    /// a hardware key holds the seed, and the person touches it.
    pub process: Option<super::mfa::Process>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleStep {
    pub profile: String,
    pub role_arn: String,
    /// The profile's `role_session_name`; None: one naming the person, found when STS is
    /// called ([`crate::sts::person`]).
    pub session_name: Option<String>,
    pub external_id: Option<String>,
    pub duration: Option<u32>,
    /// `source_identity`: kept by AWS across every role the session assumes afterwards.
    pub source_identity: Option<String>,
    /// `session_tags = key1=value1,key2=value2` (aws-vault's format).
    pub tags: Vec<(String, String)>,
    /// `transitive_session_tags = key1,key2`.
    pub transitive_tags: Vec<String>,
}

/// The plan for `profile`, or None when it needs no STS (no role, no `mfa_serial`) or is not
/// in the files at all (the item's keys are then used as they are).
pub fn build(c: &Caller, files: &AwsFiles, item: &Item, profile: &str) -> Result<Option<Plan>> {
    if !files.has_profile(profile) {
        return Ok(None);
    }
    let resolved = files.resolve_chain(profile)?;
    if resolved.is_handover() {
        return Ok(None);
    }
    let chain = resolved.profiles();
    let config_serial = config_serial(files, &chain)?;
    if config_serial.is_none() && resolved.roles.is_empty() {
        return Ok(None);
    }
    let item_serial = item.get(item::MFA_SERIAL).map(str::trim);
    let serial = match (config_serial, item_serial) {
        (Some((p, c)), Some(i)) if c != i => {
            return Err(Error::MfaSerialConflict {
                profile: p,
                config: c,
                item: i.to_owned(),
            });
        }
        (Some((_, c)), _) => Some(c),
        // The item's device covers every profile, as in the 1Password plugin.
        (None, Some(i)) => Some(i.to_owned()),
        (None, None) => None,
    };

    let roles = role_steps(files, &resolved.roles)?;
    let mfa = match serial {
        Some(serial) => Some(MfaStep {
            process: super::mfa::process_for(files, &chain, &serial)?,
            serial,
            // Without a role the MFA session is the result, so the profile's duration is its.
            duration: if roles.is_empty() {
                duration(files, profile, &SESSION_TOKEN_RANGE)?
            } else {
                None
            },
        }),
        None => None,
    };
    Ok(Some(Plan {
        profile: profile.to_owned(),
        region: region(c, files, &chain, Some(item)),
        endpoint: endpoint(c, Some(files), profile),
        variant: variant(c, Some(files), profile),
        chain,
        mfa,
        roles,
    }))
}

/// The roles of a chain (bottom first), each checked: `chained_from_start` when the bottom role
/// is itself signed by a role's credentials (as under SSO), so every step is a chained one.
pub fn role_steps(files: &AwsFiles, profiles: &[String]) -> Result<Vec<RoleStep>> {
    role_steps_from(files, profiles, false)
}

/// [`role_steps`] above credentials that are a role's already (IAM Identity Center's), so
/// every step is chained and capped at an hour.
pub fn role_steps_over_role(files: &AwsFiles, profiles: &[String]) -> Result<Vec<RoleStep>> {
    role_steps_from(files, profiles, true)
}

fn role_steps_from(
    files: &AwsFiles,
    profiles: &[String],
    chained_from_start: bool,
) -> Result<Vec<RoleStep>> {
    let mut roles: Vec<RoleStep> = Vec::new();
    for p in profiles {
        let Some(arn) = files.get(p, "role_arn") else {
            continue;
        };
        let chained = chained_from_start || !roles.is_empty();
        let duration = duration(files, p, &ROLE_RANGE)?;
        if chained && let Some(d) = duration.filter(|d| *d > CHAINED_MAX) {
            return Err(Error::ChainedDuration {
                profile: p.clone(),
                seconds: d,
            });
        }
        roles.push(RoleStep {
            profile: p.clone(),
            role_arn: arn.to_owned(),
            session_name: session_name(files, p)?,
            external_id: files.get(p, "external_id").map(str::to_owned),
            duration,
            source_identity: source_identity(files, p)?,
            tags: session_tags(files, p)?,
            transitive_tags: transitive_tags(files, p)?,
        });
    }
    Ok(roles)
}

/// The `mfa_serial` the chain names (one device per chain: it signs one GetSessionToken).
fn config_serial(files: &AwsFiles, chain: &[String]) -> Result<Option<(String, String)>> {
    let mut found: Option<(String, String)> = None;
    for p in chain {
        if let Some(s) = files.get(p, "mfa_serial") {
            match &found {
                Some((q, t)) if t != s => {
                    return Err(Error::bad_profile(
                        p,
                        format!(
                            "mfa_serial {} differs from {} in profile {q:?}; op-aws signs one MFA session per chain",
                            shown(s),
                            shown(t)
                        ),
                    ));
                }
                Some(_) => {}
                None => found = Some((p.clone(), s.to_owned())),
            }
        }
    }
    Ok(found)
}

fn duration(
    files: &AwsFiles,
    profile: &str,
    range: &std::ops::RangeInclusive<u32>,
) -> Result<Option<u32>> {
    let Some(v) = files.get(profile, "duration_seconds") else {
        return Ok(None);
    };
    match v.parse::<u32>() {
        Ok(d) if range.contains(&d) => Ok(Some(d)),
        _ => Err(Error::bad_profile(
            profile,
            format!(
                "duration_seconds = {} is not a number of seconds from {} to {}",
                shown(v),
                range.start(),
                range.end()
            ),
        )),
    }
}

/// Valid per STS: 2 to 64 of `[\w+=,.@-]`.
pub fn valid_session_name(s: &str) -> bool {
    (2..=64).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
}

fn session_name(files: &AwsFiles, profile: &str) -> Result<Option<String>> {
    let Some(n) = files.get(profile, "role_session_name") else {
        return Ok(None);
    };
    if !valid_session_name(n) {
        return Err(Error::bad_profile(
            profile,
            format!(
                "role_session_name {} must be 2 to 64 letters, digits or _+=,.@-",
                shown(n)
            ),
        ));
    }
    Ok(Some(n.to_owned()))
}

fn source_identity(files: &AwsFiles, profile: &str) -> Result<Option<String>> {
    let Some(n) = files.get(profile, "source_identity") else {
        return Ok(None);
    };
    if !valid_session_name(n) || n.to_ascii_lowercase().starts_with("aws:") {
        return Err(Error::bad_profile(
            profile,
            format!(
                "source_identity {} must be 2 to 64 letters, digits or _+=,.@- (not starting with aws:)",
                shown(n)
            ),
        ));
    }
    Ok(Some(n.to_owned()))
}

/// STS's limits for a tag: key 1 to 128, value 0 to 256 characters of letters, digits, spaces
/// and `_.:/=+-@`; at most 50 tags.
fn valid_tag_text(s: &str, max: usize) -> bool {
    s.chars().count() <= max
        && s.chars()
            .all(|c| c.is_alphanumeric() || c == ' ' || "_.:/=+-@".contains(c))
}

fn session_tags(files: &AwsFiles, profile: &str) -> Result<Vec<(String, String)>> {
    let Some(v) = files.get(profile, "session_tags") else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for pair in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, val) = pair.split_once('=').ok_or_else(|| {
            Error::bad_profile(
                profile,
                format!(
                    "session_tags: {} is not key=value (the form is key1=value1,key2=value2)",
                    shown(pair)
                ),
            )
        })?;
        let (k, val) = (k.trim(), val.trim());
        if k.is_empty() || !valid_tag_text(k, 128) || !valid_tag_text(val, 256) {
            return Err(Error::bad_profile(
                profile,
                format!(
                    "session_tags: {} is not a valid tag (key 1-128, value up to 256 of letters, digits, spaces, _.:/=+-@)",
                    shown(pair)
                ),
            ));
        }
        out.push((k.to_owned(), val.to_owned()));
    }
    if out.len() > 50 {
        return Err(Error::bad_profile(
            profile,
            "session_tags: at most 50 tags".into(),
        ));
    }
    Ok(out)
}

fn transitive_tags(files: &AwsFiles, profile: &str) -> Result<Vec<String>> {
    let Some(v) = files.get(profile, "transitive_session_tags") else {
        return Ok(Vec::new());
    };
    let keys: Vec<String> = v
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .collect();
    if let Some(k) = keys.iter().find(|k| !valid_tag_text(k, 128)) {
        return Err(Error::bad_profile(
            profile,
            format!("transitive_session_tags: {} is not a tag key", shown(k)),
        ));
    }
    Ok(keys)
}

/// `s` in STS's session-name characters (`[\w+=,.@-]`; others become `-`), at most 64.
fn session_chars(s: &str) -> String {
    let mut name: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    name.truncate(64);
    name
}

/// A session name for `who` (an IAM user name, a login name), as STS allows; None when nothing
/// of it is left.
pub fn session_name_for(who: &str) -> Option<String> {
    let name = session_chars(who);
    (valid_session_name(&name) && name.chars().any(|c| c.is_ascii_alphanumeric())).then_some(name)
}

/// `op-aws-<item>`, when nothing better names the person.
pub fn default_session_name(title: &str) -> String {
    // For `op://Vault/Item`, the item's own name says it best.
    let title = title
        .strip_prefix("op://")
        .and_then(|r| r.rsplit('/').next())
        .unwrap_or(title);
    session_chars(&format!("op-aws-{title}"))
}

/// As the AWS CLI: the caller's environment first, then the profiles, then the item, then
/// us-east-1 (STS needs some region to sign with, and the global endpoint lives there).
pub fn region(c: &Caller, files: &AwsFiles, chain: &[String], item: Option<&Item>) -> String {
    c.shell_region()
        .map(str::to_owned)
        .or_else(|| {
            chain
                .iter()
                .find_map(|p| files.region(p))
                .map(str::to_owned)
        })
        .or_else(|| item?.get(item::DEFAULT_REGION).map(|r| r.trim().to_owned()))
        .unwrap_or_else(|| "us-east-1".to_owned())
}

/// The STS endpoint for `profile` (None: AWS's own). The SDK built without aws-config ignores
/// these variables, so they are resolved here, in the order the SDKs document: service-specific,
/// global, then the profile's `endpoint_url`.
pub fn endpoint(c: &Caller, files: Option<&AwsFiles>, profile: &str) -> Option<String> {
    service_endpoint(c, files, profile, "STS")
}

/// `use_fips_endpoint` and `use_dualstack_endpoint` as the SDKs read them: the environment's
/// `AWS_USE_FIPS_ENDPOINT` and `AWS_USE_DUALSTACK_ENDPOINT` first, then the profile's.
pub fn variant(c: &Caller, files: Option<&AwsFiles>, profile: &str) -> crate::partition::Variant {
    let on = |var: &str, key: &str| {
        c.var(var)
            .map(str::to_owned)
            .or_else(|| files?.get(profile, key).map(str::to_owned))
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    };
    crate::partition::Variant {
        fips: on("AWS_USE_FIPS_ENDPOINT", "use_fips_endpoint"),
        dual_stack: on("AWS_USE_DUALSTACK_ENDPOINT", "use_dualstack_endpoint"),
    }
}

/// The endpoint for `service` (its `AWS_ENDPOINT_URL_<SERVICE>` name, e.g. `IAM`).
pub fn service_endpoint(
    c: &Caller,
    files: Option<&AwsFiles>,
    profile: &str,
    service: &str,
) -> Option<String> {
    let env = |k: &str| {
        c.var(k)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let ignore = env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .or_else(|| {
            files?
                .get(profile, "ignore_configured_endpoint_urls")
                .map(str::to_owned)
        })
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if ignore {
        return None;
    }
    env(&format!("AWS_ENDPOINT_URL_{service}"))
        .or_else(|| env("AWS_ENDPOINT_URL"))
        .or_else(|| files?.get(profile, "endpoint_url").map(str::to_owned))
}

/// AWS's own domains, one or more per partition (aws, aws-cn, aws-us-gov, the ISO partitions,
/// the European Sovereign Cloud): an endpoint under one of these is AWS's.
const AWS_DOMAINS: &[&str] = &[
    "amazonaws.com",
    "api.aws",
    "amazonaws.com.cn",
    "api.amazonwebservices.com.cn",
    "c2s.ic.gov",
    "sc2s.sgov.gov",
    "cloud.adc-e.uk",
    "csp.hci.ic.gov",
    "amazonaws.eu",
];

/// Whether STS at `endpoint` (None: AWS's own, as the SDK resolves it) may receive a request
/// signed with long-lived keys or carrying a generated MFA code: such a request can be replayed
/// to real STS by whoever receives it. AWS's own domains over https, loopback where only the
/// user's own sockets listen on the port, and what `trusted_endpoints` lists; a project's `AWS_ENDPOINT_URL` or `endpoint_url` is not enough.
pub fn check_endpoint(endpoint: Option<&str>, trusted: &[String]) -> Result<()> {
    let Some(ep) = endpoint else {
        return Ok(());
    };
    let untrusted = || Error::UntrustedEndpoint(crate::error::printable(ep.trim()));
    let u = crate::config::parse_endpoint(ep).map_err(|_| untrusted())?;
    let same = |t: &String| {
        crate::config::parse_endpoint(t).is_ok_and(|t| {
            t.scheme() == u.scheme()
                && t.host() == u.host()
                && t.port_or_known_default() == u.port_or_known_default()
                && t.path().trim_end_matches('/') == u.path().trim_end_matches('/')
        })
    };
    let loopback = match u.host() {
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => {
            a.is_loopback() || a.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    let aws = u.scheme() == "https"
        && matches!(u.host(), Some(url::Host::Domain(d)) if AWS_DOMAINS.iter().any(|a| {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d.strip_suffix(a).is_some_and(|rest| rest.ends_with('.'))
        }));
    // Loopback is ours only when what listens there is: another user's listener on the port
    // would receive the request (and its code) as well as any.
    let owned = u
        .port_or_known_default()
        .map_or(Some(true), crate::sockets::listeners_are_ours);
    if loopback && owned.is_none() && !trusted.iter().any(same) {
        return Err(Error::UnverifiedLoopback(crate::error::printable(
            ep.trim(),
        )));
    }
    let loopback = loopback && owned == Some(true);
    if loopback || aws || trusted.iter().any(same) {
        Ok(())
    } else {
        Err(untrusted())
    }
}

impl Plan {
    /// The cache key of the final credentials: everything that changes what STS returns.
    pub fn key(&self, item: &Item, access_key_id: &str) -> String {
        let roles: Vec<_> = self
            .roles
            .iter()
            .map(|r| {
                serde_json::json!([
                    r.role_arn,
                    r.session_name,
                    r.external_id,
                    r.duration,
                    r.source_identity,
                    r.tags,
                    r.transitive_tags
                ])
            })
            .collect();
        crate::digest::hash(&serde_json::json!({
            "v": 2,
            "item": item.title,
            "key": access_key_id,
            "chain": self.chain,
            "mfa": self.mfa.as_ref().map(|m| serde_json::json!([m.serial, m.duration])),
            "roles": roles,
            "endpoint": self.endpoint,
        }))
    }

    /// The cache key of the MFA session under the roles: shared by every role of the item.
    pub fn mfa_key(&self, item: &Item, access_key_id: &str) -> Option<String> {
        let m = self.mfa.as_ref()?;
        Some(crate::digest::hash(&serde_json::json!({
            "v": 1,
            "item": item.title,
            "key": access_key_id,
            "mfa": [m.serial, m.duration],
            "endpoint": self.endpoint,
        })))
    }

    /// The bottom profile: the one whose keys (the item's) sign the chain.
    pub fn base_profile(&self) -> &str {
        self.chain.last().map_or(&self.profile, String::as_str)
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn only_aws_loopback_and_trusted_endpoints_get_signed_requests() {
        let none: &[String] = &[];
        let ok = |e: &str| check_endpoint(Some(e), none).is_ok();
        assert!(check_endpoint(None, none).is_ok());
        for e in [
            "https://sts.amazonaws.com",
            "https://sts.eu-west-1.amazonaws.com/",
            "https://sts.cn-north-1.amazonaws.com.cn",
            "https://sts.us-gov-west-1.amazonaws.com",
            "https://sts.us-iso-east-1.c2s.ic.gov",
            "https://sts.us-east-1.api.aws",
            "https://STS.US-EAST-1.AMAZONAWS.COM.",
            "http://127.0.0.1:5000",
            "http://127.9.9.9",
            "http://[::1]:1234",
            "http://[::ffff:127.0.0.1]:1234",
            "http://localhost:4566",
        ] {
            assert!(ok(e), "{e} is AWS's or loopback");
        }
        for e in [
            "http://sts.amazonaws.com",
            "https://sts.amazonaws.com.evil.example",
            "https://evilamazonaws.com",
            "https://sts.example.internal",
            "https://user:pw@sts.amazonaws.com",
            "http://10.0.0.1",
            "file:///etc/passwd",
            "not a url",
        ] {
            assert!(!ok(e), "{e} is neither AWS's nor loopback");
        }
        let trusted = vec!["https://sts.example.internal/".to_owned()];
        assert!(check_endpoint(Some("https://sts.example.internal"), &trusted).is_ok());
        assert!(check_endpoint(Some("https://sts.example.internal:8443"), &trusted).is_err());
        assert!(check_endpoint(Some("http://sts.example.internal"), &trusted).is_err());
        let e = check_endpoint(Some("https://sts.example.internal"), none).unwrap_err();
        assert!(e.to_string().contains("trusted_endpoints"), "{e}");
        assert!(
            e.hint()
                .unwrap()
                .contains("trusted_endpoints = [\"https://sts.example.internal\"]")
        );
    }

    use super::*;

    fn item(serial: Option<&str>) -> Item {
        let mut it = Item::new("acme prod");
        it.set(item::ACCESS_KEY_ID, "AKIA1".into(), false);
        it.set(item::SECRET_ACCESS_KEY, "s".into(), true);
        if let Some(s) = serial {
            it.set(item::MFA_SERIAL, s.into(), false);
        }
        it
    }

    const CONFIG: &str = "[default]\nmfa_serial = arn:aws:iam::1:mfa/default-only\nregion = eu-north-1\n\
        [profile base]\nregion = eu-west-1\n\
        [profile admin]\nrole_arn = arn:aws:iam::2:role/Admin\nsource_profile = base\nexternal_id = x1\nduration_seconds = 7200\n\
        [profile top]\nrole_arn = arn:aws:iam::3:role/Top\nsource_profile = admin\nrole_session_name = me@corp\n\
        [profile toolong]\nrole_arn = arn:aws:iam::3:role/Top\nsource_profile = admin\nduration_seconds = 7200\n\
        [profile mfa]\nmfa_serial = arn:aws:iam::1:mfa/alice\nduration_seconds = 1800\n\
        [profile mfarole]\nrole_arn = arn:aws:iam::2:role/Admin\nsource_profile = mfa\n\
        [profile badname]\nrole_arn = arn:aws:iam::2:role/Admin\nrole_session_name = bad name!\n\
        [profile baddur]\nrole_arn = arn:aws:iam::2:role/Admin\nduration_seconds = 60\n\
        [profile plain]\nregion = us-west-2\nsource_profile = admin\n";

    fn files() -> AwsFiles {
        AwsFiles::from_strings(CONFIG, "").unwrap()
    }

    #[test]
    fn plain_and_missing_profiles_need_no_sts() {
        let f = files();
        assert_eq!(
            build(&Caller::default(), &f, &item(None), "plain").unwrap(),
            None,
            "source_profile without role_arn is ignored"
        );
        assert_eq!(
            build(&Caller::default(), &f, &item(None), "base").unwrap(),
            None
        );
        assert_eq!(
            build(&Caller::default(), &f, &item(None), "nope").unwrap(),
            None
        );
        // No inheritance from [default]: its mfa_serial does not reach other profiles.
        assert_eq!(
            build(&Caller::default(), &f, &item(None), "base").unwrap(),
            None
        );
        // The item's serial alone does not turn a plain profile into an STS one.
        assert_eq!(
            build(
                &Caller::default(),
                &f,
                &item(Some("arn:aws:iam::1:mfa/x")),
                "base"
            )
            .unwrap(),
            None
        );
    }

    #[test]
    fn two_level_chain_bottom_up() {
        let p = build(&Caller::default(), &files(), &item(None), "top")
            .unwrap()
            .unwrap();
        assert_eq!(p.chain, ["top", "admin", "base"]);
        assert_eq!(p.mfa, None);
        let arns: Vec<_> = p.roles.iter().map(|r| r.role_arn.as_str()).collect();
        assert_eq!(
            arns,
            ["arn:aws:iam::2:role/Admin", "arn:aws:iam::3:role/Top"]
        );
        assert_eq!(p.roles[0].external_id.as_deref(), Some("x1"));
        assert_eq!(
            p.roles[0].duration,
            Some(7200),
            "the first role is not chained: over 1 h is fine"
        );
        assert_eq!(
            p.roles[0].session_name, None,
            "named for the person at STS time"
        );
        assert_eq!(p.roles[1].session_name.as_deref(), Some("me@corp"));
        assert_eq!(p.region, "eu-west-1");
        let mut c = Caller::default();
        c.set_var("AWS_REGION", Some("ap-south-1"));
        let p = build(&c, &files(), &item(None), "top").unwrap().unwrap();
        assert_eq!(p.region, "ap-south-1", "the caller's region wins");
        assert_eq!(p.base_profile(), "base");
    }

    #[test]
    fn mfa_profiles_and_item_serials() {
        let f = files();
        let p = build(&Caller::default(), &f, &item(None), "mfa")
            .unwrap()
            .unwrap();
        assert_eq!(
            p.mfa,
            Some(MfaStep {
                serial: "arn:aws:iam::1:mfa/alice".into(),
                duration: Some(1800),
                process: None,
            })
        );
        assert!(p.roles.is_empty());
        let p = build(&Caller::default(), &f, &item(None), "mfarole")
            .unwrap()
            .unwrap();
        assert_eq!(
            p.mfa.as_ref().map(|m| m.duration),
            Some(None),
            "under a role the MFA session takes AWS's default"
        );
        assert_eq!(p.roles.len(), 1);
        // The item's serial serves role profiles that name none.
        let p = build(
            &Caller::default(),
            &f,
            &item(Some("arn:aws:iam::1:mfa/bob")),
            "admin",
        )
        .unwrap()
        .unwrap();
        assert_eq!(p.mfa.unwrap().serial, "arn:aws:iam::1:mfa/bob");
        // The same serial in both places is fine; different ones are an error.
        assert!(
            build(
                &Caller::default(),
                &f,
                &item(Some("arn:aws:iam::1:mfa/alice")),
                "mfa"
            )
            .is_ok()
        );
        let e = build(
            &Caller::default(),
            &f,
            &item(Some("arn:aws:iam::1:mfa/bob")),
            "mfa",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("alice") && e.contains("bob"), "{e}");
    }

    #[test]
    fn invalid_settings_are_errors() {
        let f = files();
        let e = build(&Caller::default(), &f, &item(None), "toolong").unwrap_err();
        assert!(
            matches!(e, Error::ChainedDuration { seconds: 7200, .. }),
            "{e}"
        );
        assert!(
            build(&Caller::default(), &f, &item(None), "badname")
                .unwrap_err()
                .to_string()
                .contains("role_session_name")
        );
        assert!(
            build(&Caller::default(), &f, &item(None), "baddur")
                .unwrap_err()
                .to_string()
                .contains("900")
        );
    }

    #[test]
    fn session_names_and_keys() {
        assert!(valid_session_name("op-aws-x"));
        assert!(!valid_session_name("x"));
        assert!(!valid_session_name(&"x".repeat(65)));
        assert_eq!(default_session_name(&"é".repeat(80)).len(), 64);
        assert!(valid_session_name(&default_session_name("my item / prod")));
        assert_eq!(default_session_name("op://Work/acme"), "op-aws-acme");
        let f = files();
        let it = item(None);
        let a = build(&Caller::default(), &f, &it, "admin")
            .unwrap()
            .unwrap();
        let t = build(&Caller::default(), &f, &it, "top").unwrap().unwrap();
        assert_ne!(a.key(&it, "AKIA1"), t.key(&it, "AKIA1"));
        assert_ne!(a.key(&it, "AKIA1"), a.key(&it, "AKIA2"));
        assert_eq!(a.key(&it, "AKIA1"), a.key(&it, "AKIA1"));
        assert_eq!(a.key(&it, "AKIA1").len(), 32);
    }
}
