//! AWS's partitions, as the SDKs' endpoint rules know them (their `partitions.json`): which a
//! region belongs to, its DNS suffixes, and the host of a service there — plain, FIPS or
//! dual-stack — for the calls op-aws makes itself and the hosts its messages name.

/// One partition's facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    pub id: &'static str,
    pub dns_suffix: &'static str,
    pub dual_stack_suffix: &'static str,
    /// The region its global services (IAM) are signed for.
    pub global_region: &'static str,
}

/// (region prefix, partition); the first match wins, `aws` is the rest.
const PARTITIONS: &[(&str, Partition)] = &[
    (
        "cn-",
        p(
            "aws-cn",
            "amazonaws.com.cn",
            "api.amazonwebservices.com.cn",
            "cn-north-1",
        ),
    ),
    (
        "us-gov-",
        p("aws-us-gov", "amazonaws.com", "api.aws", "us-gov-west-1"),
    ),
    (
        "us-isob-",
        p(
            "aws-iso-b",
            "sc2s.sgov.gov",
            "api.aws.scloud",
            "us-isob-east-1",
        ),
    ),
    (
        "us-isof-",
        p(
            "aws-iso-f",
            "csp.hci.ic.gov",
            "api.aws.hci.ic.gov",
            "us-isof-south-1",
        ),
    ),
    (
        "us-iso-",
        p("aws-iso", "c2s.ic.gov", "api.aws.ic.gov", "us-iso-east-1"),
    ),
    (
        "eu-isoe-",
        p(
            "aws-iso-e",
            "cloud.adc-e.uk",
            "api.cloud-aws.adc-e.uk",
            "eu-isoe-west-1",
        ),
    ),
    (
        "eusc-",
        p(
            "aws-eusc",
            "amazonaws.eu",
            "api.amazonwebservices.eu",
            "eusc-de-east-1",
        ),
    ),
];

const AWS: Partition = p("aws", "amazonaws.com", "api.aws", "us-east-1");

const fn p(
    id: &'static str,
    dns_suffix: &'static str,
    dual_stack_suffix: &'static str,
    global_region: &'static str,
) -> Partition {
    Partition {
        id,
        dns_suffix,
        dual_stack_suffix,
        global_region,
    }
}

/// The partition of `region`.
pub fn of(region: &str) -> Partition {
    PARTITIONS
        .iter()
        .find(|(prefix, _)| region.starts_with(prefix))
        .map_or(AWS, |(_, p)| *p)
}

/// The SDKs' `use_fips_endpoint` and `use_dualstack_endpoint`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Variant {
    pub fips: bool,
    pub dual_stack: bool,
}

/// A regional service's host (`sts`, `oidc`, `portal.sso`) in `region`.
pub fn host(service: &str, region: &str, v: Variant) -> String {
    let p = of(region);
    let suffix = if v.dual_stack {
        p.dual_stack_suffix
    } else {
        p.dns_suffix
    };
    let service = if v.fips {
        format!("{service}-fips")
    } else {
        service.to_owned()
    };
    format!("{service}.{region}.{suffix}")
}

/// IAM's host for the partition of `region` (one endpoint per partition).
pub fn iam_host(region: &str, v: Variant) -> String {
    let p = of(region);
    let iam = if v.fips { "iam-fips" } else { "iam" };
    match p.id {
        "aws" if v.dual_stack => format!("{iam}.global.api.aws"),
        "aws" => format!("{iam}.amazonaws.com"),
        "aws-us-gov" if !v.dual_stack => format!("{iam}.us-gov.amazonaws.com"),
        _ if v.dual_stack => format!("{iam}.{}", p.dual_stack_suffix),
        _ => format!("{iam}.{}.{}", p.global_region, p.dns_suffix),
    }
}

/// AWS Sign-In's host in `region` (`aws login`'s authorize page and token call; its own names
/// per partition, and no FIPS host for its OAuth calls).
pub fn signin_host(region: &str) -> String {
    let suffix = match of(region).id {
        "aws-cn" => "signin.amazonaws.cn",
        "aws-us-gov" => "signin.amazonaws-us-gov.com",
        "aws-iso" => "signin.c2shome.ic.gov",
        "aws-iso-b" => "signin.sc2shome.sgov.gov",
        "aws-iso-f" => "signin.csphome.hci.ic.gov",
        "aws-iso-e" => "signin.csphome.adc-e.uk",
        "aws-eusc" => "signin.amazonaws-eusc.eu",
        _ => "signin.aws.amazon.com",
    };
    format!("{region}.{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_has_a_host_per_partition() {
        for (region, host) in [
            ("us-east-1", "us-east-1.signin.aws.amazon.com"),
            ("cn-north-1", "cn-north-1.signin.amazonaws.cn"),
            ("us-gov-west-1", "us-gov-west-1.signin.amazonaws-us-gov.com"),
            ("eusc-de-east-1", "eusc-de-east-1.signin.amazonaws-eusc.eu"),
            ("us-iso-east-1", "us-iso-east-1.signin.c2shome.ic.gov"),
        ] {
            assert_eq!(signin_host(region), host);
        }
    }

    #[test]
    fn regions_find_their_partition_and_hosts() {
        assert_eq!(of("eu-west-1").id, "aws");
        assert_eq!(of("cn-northwest-1").id, "aws-cn");
        assert_eq!(of("us-gov-east-1").id, "aws-us-gov");
        assert_eq!(of("us-iso-east-1").id, "aws-iso");
        assert_eq!(of("us-isob-east-1").id, "aws-iso-b");
        assert_eq!(of("eusc-de-east-1").id, "aws-eusc");
        let plain = Variant::default();
        let fips = Variant {
            fips: true,
            dual_stack: false,
        };
        let dual = Variant {
            fips: false,
            dual_stack: true,
        };
        assert_eq!(
            host("sts", "cn-north-1", plain),
            "sts.cn-north-1.amazonaws.com.cn"
        );
        assert_eq!(
            host("sts", "us-gov-west-1", fips),
            "sts-fips.us-gov-west-1.amazonaws.com"
        );
        assert_eq!(host("sts", "eu-west-1", dual), "sts.eu-west-1.api.aws");
        assert_eq!(
            host("oidc", "eusc-de-east-1", plain),
            "oidc.eusc-de-east-1.amazonaws.eu"
        );
        assert_eq!(iam_host("eu-west-1", plain), "iam.amazonaws.com");
        assert_eq!(iam_host("us-east-1", fips), "iam-fips.amazonaws.com");
        assert_eq!(
            iam_host("cn-north-1", plain),
            "iam.cn-north-1.amazonaws.com.cn"
        );
        assert_eq!(iam_host("us-gov-east-1", plain), "iam.us-gov.amazonaws.com");
        assert_eq!(
            iam_host("us-iso-east-1", plain),
            "iam.us-iso-east-1.c2s.ic.gov"
        );
        assert_eq!(
            iam_host("eusc-de-east-1", plain),
            "iam.eusc-de-east-1.amazonaws.eu"
        );
    }
}
