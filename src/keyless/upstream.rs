//! Where a keyless call goes: the endpoint the person's own environment names for the service
//! (`AWS_ENDPOINT_URL_<SERVICE>`, `AWS_ENDPOINT_URL`, the profile's `endpoint_url`, as the SDKs
//! read them), else AWS's own for the service, region and partition. The child chooses the
//! service and region (its signature's scope), never the host.

use crate::awsfiles::AwsFiles;
use crate::caller::Caller;

use super::Refused;
use super::classify::Call;

/// The URL for `call`, whose path as the child sent it is `path`.
pub fn endpoint(
    person: &Caller,
    files: Option<&AwsFiles>,
    profile: Option<&str>,
    call: &Call,
    path: &str,
) -> Result<url::Url, Refused> {
    let base = crate::sts::plan::service_endpoint(
        person,
        files,
        profile.unwrap_or("default"),
        &env_name(&call.service),
    )
    .unwrap_or_else(|| format!("https://{}", aws_host(&call.service, &call.region, path)));
    let mut url = url::Url::parse(&base)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .ok_or_else(|| {
            Refused::forbidden(format!(
                "op-aws keyless: the endpoint {base:?} for {} is not an http(s) URL",
                call.service
            ))
        })?;
    // An endpoint with a path of its own (a gateway) keeps it in front of the child's.
    let joined = format!("{}{}", url.path().trim_end_matches('/'), path);
    url.set_path(&joined);
    Ok(url)
}

/// `AWS_ENDPOINT_URL_<this>`: the SDKs' service id, upper case, `_` for spaces and dashes;
/// where it is not the signing name, the id.
fn env_name(signing_name: &str) -> String {
    let id = match signing_name {
        "monitoring" => "cloudwatch",
        "email" | "ses" => "ses",
        "states" => "sfn",
        "execute-api" => "api_gateway",
        "es" => "opensearch",
        "cognito-idp" => "cognito_identity_provider",
        "elasticloadbalancing" => "elastic_load_balancing_v2",
        other => other,
    };
    id.to_ascii_uppercase().replace('-', "_")
}

/// AWS's own host for a service (by its signing name) in `region`.
fn aws_host(service: &str, region: &str, path: &str) -> String {
    let partition = crate::partition::of(region);
    let suffix = partition.dns_suffix;
    let aws = partition.id == "aws";
    match service {
        // Global services: one endpoint per partition.
        "iam" => crate::partition::iam_host(region, Default::default()),
        "route53" | "cloudfront" if aws => format!("{service}.amazonaws.com"),
        "organizations" if aws => "organizations.us-east-1.amazonaws.com".into(),
        // Signing names that are not the host's name.
        "ses" => format!("email.{region}.{suffix}"),
        "bedrock" if path.starts_with("/model/") || path.starts_with("/async-invoke") => {
            format!("bedrock-runtime.{region}.{suffix}")
        }
        _ => format!("{service}.{region}.{suffix}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_hosts_follow_the_partition() {
        assert_eq!(
            aws_host("s3", "us-east-1", "/b/k"),
            "s3.us-east-1.amazonaws.com"
        );
        assert_eq!(aws_host("iam", "eu-west-1", "/"), "iam.amazonaws.com");
        assert_eq!(
            aws_host("sts", "cn-north-1", "/"),
            "sts.cn-north-1.amazonaws.com.cn"
        );
        assert_eq!(
            aws_host("iam", "us-gov-west-1", "/"),
            "iam.us-gov.amazonaws.com"
        );
        assert_eq!(
            aws_host("sts", "eusc-de-east-1", "/"),
            "sts.eusc-de-east-1.amazonaws.eu"
        );
        assert_eq!(
            aws_host("bedrock", "us-west-2", "/model/x/converse"),
            "bedrock-runtime.us-west-2.amazonaws.com"
        );
        assert_eq!(env_name("monitoring"), "CLOUDWATCH");
        assert_eq!(env_name("ecr-public"), "ECR_PUBLIC");
    }
}
