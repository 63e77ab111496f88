//! What one request through the proxy does — service, action, region, resource, read or write —
//! and whether the run's rules let it through.

use percent_encoding::percent_decode_str;

/// One AWS call, as the proxy understands it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The signing name from the credential scope (`s3`, `sts`, `dynamodb`).
    pub service: String,
    pub region: String,
    /// The API's own name where the protocol carries it (query and JSON protocols), S3's
    /// operation for S3, else the HTTP method.
    pub action: String,
    /// S3's `bucket/key`, or a REST API's path.
    pub resource: Option<String>,
    pub write: bool,
}

/// Actions that return a credential which works outside op-aws (a role's session, an access
/// key, a password, a registry or database token): never through a keyless run unless named
/// exactly in `--allow`, since the point of keyless is that the child holds nothing that works.
const MINTS_CREDENTIALS: &[&str] = &[
    "sts:AssumeRole",
    "sts:AssumeRoleWithSAML",
    "sts:AssumeRoleWithWebIdentity",
    "sts:AssumeRoot",
    "sts:GetSessionToken",
    "sts:GetFederationToken",
    "sts:GetWebIdentityToken",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
    "iam:CreateServiceSpecificCredential",
    "iam:ResetServiceSpecificCredential",
    "ecr:GetAuthorizationToken",
    "ecr-public:GetAuthorizationToken",
    "codeartifact:GetAuthorizationToken",
    "redshift:GetClusterCredentials",
    "redshift:GetClusterCredentialsWithIAM",
    "redshift-serverless:GetCredentials",
    "cognito-identity:GetCredentialsForIdentity",
    "cognito-identity:GetOpenIdTokenForDeveloperIdentity",
    "sso:GetRoleCredentials",
];

/// Action names that only read (query and JSON protocols name their actions).
const READ_PREFIXES: &[&str] = &[
    "Get", "List", "Describe", "Head", "Query", "Scan", "BatchGet", "Search", "Lookup", "Simulate",
];

/// What a keyless run lets through: the policy it runs under.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules {
    /// Reads only (`--read-only`, or an agent under `read-only`).
    pub read_only: bool,
    /// `--allow SERVICE[:ACTION]` (`*` at the end of either matches any rest); empty: any.
    pub allow: Vec<String>,
    /// `--allow-region R`; empty: any.
    pub regions: Vec<String>,
    /// An agent under `approve`: each service's writes need the person's yes of their own
    /// (asked through the op-aws agent, remembered as sessions' are).
    pub approve: bool,
}

impl Rules {
    /// Ok, or why not (one phrase, for the child's error and the audit).
    pub fn decide(&self, call: &Call) -> Result<(), String> {
        let name = format!("{}:{}", call.service, call.action);
        if !self.regions.is_empty() && !self.regions.contains(&call.region) {
            return Err(format!(
                "region {} is not allowed for this run",
                call.region
            ));
        }
        if MINTS_CREDENTIALS.contains(&name.as_str()) && !self.allow.contains(&name) {
            return Err(format!(
                "{name} returns credentials that would work outside op-aws"
            ));
        }
        if !self.allow.is_empty() && !self.allow.iter().any(|p| matches(p, call)) {
            return Err(format!("{name} is not in this run's --allow"));
        }
        if self.read_only && call.write {
            return Err(format!("{name} writes, and this run is read-only"));
        }
        Ok(())
    }

    /// The class of calls the person approves at once under `approve` (`s3 writes`), if
    /// `call` needs a yes of its own.
    pub fn approval_class(&self, call: &Call) -> Option<String> {
        (self.approve && call.write).then(|| format!("{} writes", call.service))
    }

    /// A bad `--allow` pattern, said before anything runs.
    pub fn check(&self) -> Result<(), String> {
        for p in &self.allow {
            let (svc, action) = p.split_once(':').unwrap_or((p, "*"));
            let ok = |s: &str, extra: fn(u8) -> bool| {
                !s.is_empty()
                    && s.trim_end_matches('*')
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || extra(b))
            };
            if !ok(svc, |b| b == b'-') || !ok(action, |_| false) {
                return Err(format!(
                    "--allow {p:?} is not SERVICE or SERVICE:ACTION (e.g. s3, s3:Get*, dynamodb:Query)"
                ));
            }
        }
        Ok(())
    }
}

fn matches(pattern: &str, call: &Call) -> bool {
    let (svc, action) = pattern.split_once(':').unwrap_or((pattern, "*"));
    glob(svc, &call.service) && glob(action, &call.action)
}

fn glob(pattern: &str, s: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => s.starts_with(prefix),
        None => pattern == s,
    }
}

/// The request's parts that name what it does.
pub struct Seen<'a> {
    pub service: &'a str,
    pub region: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    /// `X-Amz-Target` (JSON protocols).
    pub target: Option<&'a str>,
    /// A form body (query protocol), when the request has one.
    pub form: Option<&'a [u8]>,
    /// S3's `x-amz-copy-source`.
    pub copy_source: bool,
}

pub fn classify(s: &Seen<'_>) -> Call {
    // hyper never hands over an empty method; the fuzzer does.
    let method = match s.method.to_ascii_uppercase() {
        m if m.is_empty() => "UNKNOWN".to_owned(),
        m => m,
    };
    let rest_write = !matches!(method.as_str(), "GET" | "HEAD");
    let named = s
        .target
        .map(|t| t.rsplit('.').next().unwrap_or(t).to_owned())
        .filter(|a| !a.is_empty())
        .or_else(|| param(s.query.as_bytes(), "Action"))
        .or_else(|| s.form.and_then(|f| param(f, "Action")));
    let (action, resource, write) = match named {
        Some(a) if s.service != "s3" => {
            let write = !READ_PREFIXES.iter().any(|p| a.starts_with(p));
            (a, None, write)
        }
        _ if s.service == "s3" => {
            let action = s3_action(&method, s.path, s.query, s.copy_source);
            (action, Some(decoded(s.path)), rest_write)
        }
        _ => (method, Some(decoded(s.path)), rest_write),
    };
    Call {
        service: s.service.to_owned(),
        region: s.region.to_owned(),
        action,
        resource,
        write,
    }
}

fn decoded(path: &str) -> String {
    percent_decode_str(path.trim_start_matches('/'))
        .decode_utf8_lossy()
        .into_owned()
}

fn param(form: &[u8], name: &str) -> Option<String> {
    url::form_urlencoded::parse(form)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

/// S3's operation for a path-style request (the proxy's URL is an address, so every SDK sends
/// path style): the name IAM uses, for the audit and `--allow s3:GetObject`.
fn s3_action(method: &str, path: &str, query: &str, copy: bool) -> String {
    let segs = path.trim_start_matches('/');
    let (bucket, key) = segs.split_once('/').unwrap_or((segs, ""));
    let has = |k: &str| {
        query
            .split('&')
            .any(|p| p.split_once('=').map_or(p, |(n, _)| n) == k)
    };
    let sub = [
        "tagging",
        "acl",
        "policy",
        "versioning",
        "lifecycle",
        "cors",
    ]
    .into_iter()
    .find(|s| has(s));
    let on = if key.is_empty() { "Bucket" } else { "Object" };
    match (method, bucket.is_empty(), key.is_empty()) {
        ("GET", true, _) => "ListBuckets".into(),
        (_, _, _) if has("uploads") && method == "POST" => "CreateMultipartUpload".into(),
        (_, _, _) if has("uploads") => "ListMultipartUploads".into(),
        ("PUT", _, false) if has("uploadId") => "UploadPart".into(),
        ("POST", _, false) if has("uploadId") => "CompleteMultipartUpload".into(),
        ("DELETE", _, false) if has("uploadId") => "AbortMultipartUpload".into(),
        ("GET", _, false) if has("uploadId") => "ListParts".into(),
        ("POST", false, true) if has("delete") => "DeleteObjects".into(),
        ("GET" | "PUT" | "DELETE", _, _) if sub.is_some() => {
            let verb = title(&method.to_ascii_lowercase());
            format!("{verb}{on}{}", title(sub.unwrap_or_default()))
        }
        ("GET", false, true) => "ListObjects".into(),
        ("HEAD", false, true) => "HeadBucket".into(),
        ("PUT", false, true) => "CreateBucket".into(),
        ("DELETE", false, true) => "DeleteBucket".into(),
        ("GET", false, false) => "GetObject".into(),
        ("HEAD", false, false) => "HeadObject".into(),
        ("PUT", false, false) if copy => "CopyObject".into(),
        ("PUT", false, false) => "PutObject".into(),
        ("DELETE", false, false) => "DeleteObject".into(),
        _ => method.into(),
    }
}

fn title(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen<'a>(service: &'a str, method: &'a str, path: &'a str, query: &'a str) -> Seen<'a> {
        Seen {
            service,
            region: "us-east-1",
            method,
            path,
            query,
            target: None,
            form: None,
            copy_source: false,
        }
    }

    #[test]
    fn each_protocol_names_its_action() {
        let json = Seen {
            target: Some("DynamoDB_20120810.PutItem"),
            ..seen("dynamodb", "POST", "/", "")
        };
        assert_eq!(classify(&json).action, "PutItem");
        assert!(classify(&json).write);
        let query = Seen {
            form: Some(b"Action=ListUsers&Version=2010-05-08"),
            ..seen("iam", "POST", "/", "")
        };
        assert_eq!(classify(&query).action, "ListUsers");
        assert!(!classify(&query).write);
        let c = classify(&seen(
            "s3",
            "PUT",
            "/b/a%20b.txt",
            "partNumber=1&uploadId=x",
        ));
        assert_eq!(
            (c.action.as_str(), c.resource.as_deref(), c.write),
            ("UploadPart", Some("b/a b.txt"), true)
        );
        assert_eq!(
            classify(&seen("s3", "POST", "/b/k", "uploads")).action,
            "CreateMultipartUpload"
        );
        assert_eq!(
            classify(&seen("s3", "PUT", "/b/k", "tagging")).action,
            "PutObjectTagging"
        );
        assert_eq!(
            classify(&seen("s3", "GET", "/b", "list-type=2")).action,
            "ListObjects"
        );
        assert_eq!(classify(&seen("s3", "GET", "/", "")).action, "ListBuckets");
        let rest = classify(&seen(
            "lambda",
            "POST",
            "/2015-03-31/functions/f/invocations",
            "",
        ));
        assert_eq!((rest.action.as_str(), rest.write), ("POST", true));
    }

    #[test]
    fn rules_hold_reads_allow_lists_regions_and_credentials() {
        let call = |svc: &str, action: &str, write: bool| Call {
            service: svc.into(),
            region: "us-east-1".into(),
            action: action.into(),
            resource: None,
            write,
        };
        let ro = Rules {
            read_only: true,
            ..Rules::default()
        };
        assert!(ro.decide(&call("s3", "GetObject", false)).is_ok());
        assert!(ro.decide(&call("s3", "PutObject", true)).is_err());
        let any = Rules::default();
        assert!(
            any.decide(&call("sts", "AssumeRole", true))
                .unwrap_err()
                .contains("outside op-aws")
        );
        assert!(any.decide(&call("iam", "CreateAccessKey", true)).is_err());
        let listed = Rules {
            allow: vec!["s3:Get*".into(), "sts:AssumeRole".into()],
            regions: vec!["us-east-1".into()],
            ..Rules::default()
        };
        assert!(listed.decide(&call("s3", "GetObject", false)).is_ok());
        assert!(listed.decide(&call("s3", "PutObject", true)).is_err());
        assert!(listed.decide(&call("sts", "AssumeRole", true)).is_ok());
        let elsewhere = Call {
            region: "eu-west-1".into(),
            ..call("s3", "GetObject", false)
        };
        assert!(listed.decide(&elsewhere).unwrap_err().contains("eu-west-1"));
        assert!(
            Rules {
                allow: vec!["s3:Get/x".into()],
                ..Rules::default()
            }
            .check()
            .is_err()
        );
        assert!(listed.check().is_ok());
    }
}
