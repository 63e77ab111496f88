//! The STS calls: aws-sdk-sts without aws-config, rustls with ring, short timeouts, and a
//! current-thread tokio runtime that exists only while STS is being called (the cached path
//! never builds one).

use std::time::{Duration, SystemTime};

use aws_sdk_sts::config::retry::RetryConfig;
use aws_sdk_sts::config::timeout::TimeoutConfig;
use aws_sdk_sts::config::{BehaviorVersion, Region};
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_http_client::{Builder, tls};
use secrecy::{ExposeSecret, SecretString};

use super::plan::RoleStep;
use crate::creds::Credentials;
use crate::model::policy::SessionPolicy;
use crate::{Error, Result};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const OPERATION_TIMEOUT: Duration = Duration::from_secs(20);
/// The whole of one command's STS work (its turn in the queue for a session, who the person
/// is, an MFA session, each role), however many calls it makes.
pub const CALL_DEADLINE: Duration = Duration::from_secs(60);

pub struct Client {
    transport: Transport,
    region: String,
    endpoint: Option<String>,
    variant: crate::partition::Variant,
    /// No call made through this client runs past it.
    deadline: Option<std::time::Instant>,
}

/// The operations a shared outcome ([`super::cache::Cache::turn`]) can name, as the errors
/// name them.
pub fn op_name(op: &str) -> &'static str {
    match op {
        "GetSessionToken" => "GetSessionToken",
        "AssumeRole" => "AssumeRole",
        "GetCallerIdentity" => "GetCallerIdentity",
        _ => "STS",
    }
}

/// A current-thread runtime and the HTTPS client built inside it: what every AWS client of
/// op-aws (STS, IAM) runs on, made only when a call is about to be made.
pub struct Transport {
    pub rt: tokio::runtime::Runtime,
    pub http: aws_sdk_sts::config::SharedHttpClient,
    /// Where each call shows while it runs ([`Self::call`]).
    pub progress: crate::progress::Progress,
}

impl Transport {
    pub fn new() -> Result<Self> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Sts(format!("cannot start the AWS client: {e}")))?;
        // The hyper client must be built inside the runtime it will run on.
        let http = rt.block_on(async {
            Builder::new()
                .tls_provider(tls::Provider::Rustls(
                    tls::rustls_provider::CryptoMode::Ring,
                ))
                .build_https()
        });
        Ok(Self {
            rt,
            http,
            progress: crate::progress::Progress::default(),
        })
    }

    /// Runs one AWS call (`op`, e.g. AssumeRole) to its end, shown as a step while it runs.
    pub fn call<F: std::future::Future>(&self, op: &str, call: F) -> F::Output {
        let _step = self.progress.step(&format!("waiting for AWS ({op})"));
        self.rt.block_on(call)
    }

    /// A transport over `http` (the fuzz targets' canned answers), on `rt`.
    #[doc(hidden)]
    pub fn with_http(
        rt: tokio::runtime::Runtime,
        http: aws_sdk_sts::config::SharedHttpClient,
    ) -> Self {
        Self {
            rt,
            http,
            progress: crate::progress::Progress::default(),
        }
    }
}

/// The SDKs' view of our credentials.
pub fn sdk_credentials(signer: &Credentials) -> aws_sdk_sts::config::Credentials {
    aws_sdk_sts::config::Credentials::new(
        signer.access_key_id.clone(),
        signer.secret_access_key.expose_secret().to_owned(),
        signer
            .session_token
            .as_ref()
            .map(|t| t.expose_secret().to_owned()),
        None,
        "op-aws",
    )
}

pub const RETRIES: u32 = 2;
pub fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

impl Client {
    pub fn new(region: &str, endpoint: Option<&str>) -> Result<Self> {
        Ok(Self::with_transport(Transport::new()?, region, endpoint))
    }

    #[doc(hidden)]
    pub fn with_transport(transport: Transport, region: &str, endpoint: Option<&str>) -> Self {
        Self {
            transport,
            region: region.to_owned(),
            endpoint: endpoint.map(str::to_owned),
            variant: crate::partition::Variant::default(),
            deadline: None,
        }
    }

    /// FIPS and dual-stack endpoints (where no endpoint URL is set).
    pub fn with_variant(mut self, v: crate::partition::Variant) -> Self {
        self.variant = v;
        self
    }

    /// Each call shows on `progress` while it runs.
    #[must_use]
    pub fn showing(mut self, progress: &crate::progress::Progress) -> Self {
        self.transport.progress = progress.clone();
        self
    }

    /// Every call made through this client ends by `deadline`.
    pub fn until(mut self, deadline: std::time::Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }

    fn sdk(&self, signer: &Credentials) -> aws_sdk_sts::Client {
        self.sdk_with(signer, RETRIES)
    }

    /// `attempts`: 1 for a request that carries an MFA code, which AWS accepts once: a retry
    /// after an answer that never came (a 500, a timeout) would send the same code again.
    fn sdk_with(&self, signer: &Credentials, attempts: u32) -> aws_sdk_sts::Client {
        let mut b = aws_sdk_sts::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .http_client(self.transport.http.clone())
            .region(Region::new(self.region.clone()))
            .credentials_provider(sdk_credentials(signer))
            // One retry for a flaky network; AWS errors (bad code, denied) are not retried.
            .retry_config(RetryConfig::standard().with_max_attempts(attempts))
            .timeout_config(self.timeouts());
        match &self.endpoint {
            Some(ep) => b = b.endpoint_url(ep),
            None => {
                b = b
                    .use_fips(self.variant.fips)
                    .use_dual_stack(self.variant.dual_stack);
            }
        }
        aws_sdk_sts::Client::from_conf(b.build())
    }

    /// [`timeouts`], cut to what is left before the deadline.
    fn timeouts(&self) -> TimeoutConfig {
        let Some(deadline) = self.deadline else {
            return timeouts();
        };
        let left = deadline
            .saturating_duration_since(std::time::Instant::now())
            .max(Duration::from_millis(1));
        TimeoutConfig::builder()
            .connect_timeout(CONNECT_TIMEOUT.min(left))
            .operation_timeout(OPERATION_TIMEOUT.min(left))
            .build()
    }

    fn host(&self) -> String {
        self.endpoint
            .clone()
            .unwrap_or_else(|| crate::partition::host("sts", &self.region, self.variant))
    }

    /// GetSessionToken; `mfa` is the device and its current code, when there is one.
    pub fn get_session_token(
        &self,
        base: &Credentials,
        mfa: Option<(&str, &str)>,
        duration: Option<u32>,
    ) -> Result<Credentials> {
        let attempts = if mfa.is_some() { 1 } else { RETRIES };
        let req = self
            .sdk_with(base, attempts)
            .get_session_token()
            .set_serial_number(mfa.map(|(s, _)| s.to_owned()))
            .set_token_code(mfa.map(|(_, c)| c.to_owned()))
            .set_duration_seconds(duration.map(to_i32));
        let out = self
            .transport
            .call("GetSessionToken", req.send())
            .map_err(|e| map_err("GetSessionToken", &self.host(), &e))?;
        convert("GetSessionToken", out.credentials())
    }

    /// AssumeRole for `step`; `session_name` is the step's own or the one naming the person.
    pub fn assume_role(
        &self,
        signer: &Credentials,
        step: &RoleStep,
        session_name: &str,
    ) -> Result<Credentials> {
        self.assume_role_scoped(signer, step, session_name, &SessionPolicy::default())
    }

    /// [`Self::assume_role`] with a session policy (`PolicyArns`, `Policy`).
    pub fn assume_role_scoped(
        &self,
        signer: &Credentials,
        step: &RoleStep,
        session_name: &str,
        policy: &SessionPolicy,
    ) -> Result<Credentials> {
        let tags = sdk_tags(&step.tags)?;
        let req = self
            .sdk(signer)
            .assume_role()
            .role_arn(&step.role_arn)
            .role_session_name(session_name)
            .set_external_id(step.external_id.clone())
            .set_duration_seconds(step.duration.map(to_i32))
            .set_source_identity(step.source_identity.clone())
            .set_tags((!tags.is_empty()).then_some(tags))
            .set_transitive_tag_keys(
                (!step.transitive_tags.is_empty()).then(|| step.transitive_tags.clone()),
            )
            .set_policy_arns(policy_arns(policy))
            .set_policy(policy.inline.clone());
        let out = self
            .transport
            .call("AssumeRole", req.send())
            .map_err(|e| map_err("AssumeRole", &self.host(), &e))?;
        convert("AssumeRole", out.credentials())
    }
}

impl Client {
    /// GetFederationToken: a session of an IAM user's long-lived keys limited by `policy` (what
    /// `run --read-only` gives where there is no role to assume).
    pub fn get_federation_token(
        &self,
        base: &Credentials,
        name: &str,
        policy: &SessionPolicy,
        duration: Option<u32>,
        tags: &[(String, String)],
    ) -> Result<Credentials> {
        let tags = sdk_tags(tags)?;
        let req = self
            .sdk(base)
            .get_federation_token()
            .name(name)
            .set_duration_seconds(duration.map(to_i32))
            .set_policy_arns(policy_arns(policy))
            .set_policy(policy.inline.clone())
            .set_tags((!tags.is_empty()).then_some(tags));
        let out = self
            .transport
            .call("GetFederationToken", req.send())
            .map_err(|e| map_err("GetFederationToken", &self.host(), &e))?;
        convert("GetFederationToken", out.credentials())
    }

    /// The ARN `signer` belongs to (GetCallerIdentity).
    pub fn caller_arn(&self, signer: &Credentials) -> Result<String> {
        let out = self
            .transport
            .call(
                "GetCallerIdentity",
                self.sdk(signer).get_caller_identity().send(),
            )
            .map_err(|e| map_err("GetCallerIdentity", &self.host(), &e))?;
        out.arn().map(str::to_owned).ok_or_else(|| Error::StsCall {
            op: "GetCallerIdentity",
            code: "NoArn".into(),
            message: "the response named no ARN".into(),
        })
    }

    /// STS's clock minus ours, in seconds, read from the `Date` header of its answer. The call
    /// is signed with a made-up key: any answer, even a refusal, carries the date.
    pub fn clock_skew(&self) -> Result<i64> {
        let date = std::sync::Arc::new(std::sync::Mutex::new(None::<String>));
        let seen = std::sync::Arc::clone(&date);
        let probe = Credentials {
            access_key_id: "AKIAOPAWSDOCTOR00000".into(),
            secret_access_key: SecretString::from("op-aws-doctor"),
            session_token: None,
            expiration: None,
        };
        let req = self
            .sdk(&probe)
            .get_caller_identity()
            .customize()
            .interceptor(DateHeader(seen));
        let sent = self.transport.call("GetCallerIdentity", req.send());
        let ours = SystemTime::now();
        let header = date.lock().ok().and_then(|mut d| d.take());
        let Some(header) = header else {
            return Err(match sent {
                Err(e) => map_err("GetCallerIdentity", &self.host(), &e),
                Ok(_) => Error::Sts("STS answered without a Date header".into()),
            });
        };
        let theirs = aws_sdk_sts::primitives::DateTime::from_str(
            &header,
            aws_sdk_sts::primitives::DateTimeFormat::HttpDate,
        )
        .map_err(|_| Error::Sts(format!("STS sent an unreadable Date header {header:?}")))?;
        let ours = aws_sdk_sts::primitives::DateTime::from(ours);
        Ok(theirs.secs() - ours.secs())
    }
}

/// Keeps the `Date` header of the raw answer, before the SDK turns it into a result.
#[derive(Debug)]
struct DateHeader(std::sync::Arc<std::sync::Mutex<Option<String>>>);

impl aws_sdk_sts::config::Intercept for DateHeader {
    fn name(&self) -> &'static str {
        "op-aws-date-header"
    }

    fn read_before_deserialization(
        &self,
        ctx: &aws_sdk_sts::config::interceptors::BeforeDeserializationInterceptorContextRef<'_>,
        _: &aws_sdk_sts::config::RuntimeComponents,
        _: &mut aws_sdk_sts::config::ConfigBag,
    ) -> std::result::Result<(), Box<dyn std::error::Error + Send + Sync>> {
        if let (Some(d), Ok(mut slot)) = (ctx.response().headers().get("date"), self.0.lock()) {
            *slot = Some(d.to_owned());
        }
        Ok(())
    }
}

fn sdk_tags(tags: &[(String, String)]) -> Result<Vec<aws_sdk_sts::types::Tag>> {
    tags.iter()
        .map(|(k, v)| {
            aws_sdk_sts::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| Error::Sts(format!("session tag {k:?}: {e}")))
        })
        .collect()
}

fn policy_arns(p: &SessionPolicy) -> Option<Vec<aws_sdk_sts::types::PolicyDescriptorType>> {
    (!p.arns.is_empty()).then(|| {
        p.arns
            .iter()
            .map(|a| {
                aws_sdk_sts::types::PolicyDescriptorType::builder()
                    .arn(a)
                    .build()
            })
            .collect()
    })
}

fn to_i32(d: u32) -> i32 {
    // Durations were validated to at most 129600 s.
    i32::try_from(d).unwrap_or(i32::MAX)
}

fn convert(op: &'static str, c: Option<&aws_sdk_sts::types::Credentials>) -> Result<Credentials> {
    let Some(c) = c else {
        return Err(Error::StsCall {
            op,
            code: "NoCredentials".into(),
            message: "the response had no credentials".into(),
        });
    };
    let expiration = SystemTime::try_from(*c.expiration()).map_err(|_| Error::StsCall {
        op,
        code: "BadExpiration".into(),
        message: "the response had an expiration out of range".into(),
    })?;
    // A garbled answer can parse with a part empty: such credentials would be cached and handed
    // out, failing every command, until they expire.
    if [c.access_key_id(), c.secret_access_key(), c.session_token()]
        .iter()
        .any(|v| v.trim().is_empty())
    {
        return Err(Error::StsCall {
            op,
            code: "IncompleteCredentials".into(),
            message: "the response had credentials without a key id, secret or session token"
                .into(),
        });
    }
    Ok(Credentials {
        access_key_id: c.access_key_id().to_owned(),
        secret_access_key: SecretString::from(c.secret_access_key()),
        session_token: Some(SecretString::from(c.session_token())),
        expiration: Some(expiration),
    })
}

/// The SDK's own Display is just "service error"; users need AWS's code and message.
pub fn map_err<E, R>(op: &'static str, endpoint: &str, e: &SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let single_spaced = |s: String| s.split_whitespace().collect::<Vec<_>>().join(" ");
    match e {
        SdkError::ServiceError(_) => Error::StsCall {
            op,
            code: crate::error::printable(e.code().unwrap_or("UnknownError")),
            // AWS's message, or whatever answered in its place: never raw to a terminal.
            message: crate::error::printable(&single_spaced(
                e.message().unwrap_or("(no message)").to_owned(),
            )),
        },
        SdkError::TimeoutError(_) => Error::StsUnreachable {
            op,
            endpoint: endpoint.to_owned(),
            why: "timed out".into(),
        },
        SdkError::DispatchFailure(d) => Error::StsUnreachable {
            op,
            endpoint: endpoint.to_owned(),
            why: single_spaced(match d.as_connector_error() {
                Some(c) => causes(c),
                None => "the request could not be sent".into(),
            }),
        },
        // A region or endpoint the SDK cannot make a request of: its causes, not its Debug dump.
        SdkError::ConstructionFailure(_) => Error::StsUnreachable {
            op,
            endpoint: endpoint.to_owned(),
            why: single_spaced(causes(e)),
        },
        // Never echo the body: a half-readable response may hold credentials.
        _ => Error::StsUnreachable {
            op,
            endpoint: endpoint.to_owned(),
            why: "the answer was not an STS response".into(),
        },
    }
}

/// "io error: client error (Connect): tcp connect error: Connection refused": the causes in one
/// line (DisplayErrorContext appends a Debug dump that users cannot act on).
fn causes(e: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        cur = c.source();
    }
    parts.join(": ")
}
#[cfg(test)]
mod tests {
    use super::*;

    /// Each partition's STS host, and an error from a call there names it.
    #[test]
    fn an_sts_error_names_the_host_of_the_regions_partition() {
        for (region, host) in [
            ("us-east-1", "sts.us-east-1.amazonaws.com"),
            ("cn-north-1", "sts.cn-north-1.amazonaws.com.cn"),
            ("us-gov-west-1", "sts.us-gov-west-1.amazonaws.com"),
            ("us-iso-east-1", "sts.us-iso-east-1.c2s.ic.gov"),
            ("us-isob-east-1", "sts.us-isob-east-1.sc2s.sgov.gov"),
            ("us-isof-south-1", "sts.us-isof-south-1.csp.hci.ic.gov"),
            ("eu-isoe-west-1", "sts.eu-isoe-west-1.cloud.adc-e.uk"),
            ("eusc-de-east-1", "sts.eusc-de-east-1.amazonaws.eu"),
        ] {
            let c = Client::new(region, None).unwrap();
            assert_eq!(c.host(), host);
            let timed_out: SdkError<aws_sdk_sts::operation::assume_role::AssumeRoleError, ()> =
                SdkError::timeout_error("slow");
            let e = map_err("AssumeRole", &c.host(), &timed_out).to_string();
            assert_eq!(
                e,
                format!("AssumeRole: cannot reach STS at {host}: timed out")
            );
        }
    }

    /// Found by the `sdk_answers` fuzz target: a garbled AssumeRole answer parsed with an empty
    /// session token, and was cached and handed out.
    #[test]
    fn credentials_with_an_empty_part_are_refused() {
        let creds = |id: &str, secret: &str, token: &str| {
            aws_sdk_sts::types::Credentials::builder()
                .access_key_id(id)
                .secret_access_key(secret)
                .session_token(token)
                .expiration(aws_sdk_sts::primitives::DateTime::from_secs(1_900_000_000))
                .build()
                .unwrap()
        };
        assert!(convert("AssumeRole", Some(&creds("ASIA", "s", "t"))).is_ok());
        for c in [
            creds("", "s", "t"),
            creds("ASIA", "", "t"),
            creds("ASIA", "s", " "),
        ] {
            let e = convert("AssumeRole", Some(&c)).unwrap_err();
            assert!(e.to_string().contains("IncompleteCredentials"), "{e}");
        }
    }
}
