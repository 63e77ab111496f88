//! The IAM calls `op-aws rotate`, `doctor` and `sandbox stop --revoke` make: the caller's user,
//! its access keys, a new key and the old one deleted, an inline policy on a role. Signed with
//! the item's own keys, on the same transport as STS.

use std::time::SystemTime;

use aws_sdk_iam::config::{BehaviorVersion, Region};
use secrecy::SecretString;

use crate::creds::Credentials;
use crate::sts::client::{Transport, map_err, sdk_credentials, timeouts};
use crate::{Error, Result};

pub struct Iam {
    transport: Transport,
    region: String,
    endpoint: Option<String>,
    variant: crate::partition::Variant,
}

/// One access key of a user, as ListAccessKeys says.
#[derive(Debug, Clone)]
pub struct KeyInfo {
    pub id: String,
    pub active: bool,
    pub created: Option<SystemTime>,
}

/// IAM is global; it signs in its partition's home region.
pub fn region_for(sts_region: &str) -> &'static str {
    crate::partition::of(sts_region).global_region
}

impl Iam {
    /// Each call shows on `progress` while it runs.
    #[must_use]
    pub fn showing(mut self, progress: &crate::progress::Progress) -> Self {
        self.transport.progress = progress.clone();
        self
    }

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
        }
    }

    /// FIPS and dual-stack endpoints (where no endpoint URL is set), for IAM and the STS calls
    /// made beside it.
    #[must_use]
    pub fn with_variant(mut self, v: crate::partition::Variant) -> Self {
        self.variant = v;
        self
    }

    pub fn variant(&self) -> crate::partition::Variant {
        self.variant
    }

    fn sdk(&self, signer: &Credentials) -> aws_sdk_iam::Client {
        let mut b = aws_sdk_iam::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .http_client(self.transport.http.clone())
            .region(Region::new(self.region.clone()))
            .credentials_provider(sdk_credentials(signer))
            .retry_config(
                aws_sdk_iam::config::retry::RetryConfig::standard()
                    .with_max_attempts(crate::sts::client::RETRIES),
            )
            .timeout_config(timeouts());
        match &self.endpoint {
            Some(ep) => b = b.endpoint_url(ep),
            None => {
                b = b
                    .use_fips(self.variant.fips)
                    .use_dual_stack(self.variant.dual_stack);
            }
        }
        aws_sdk_iam::Client::from_conf(b.build())
    }

    fn host(&self) -> String {
        self.endpoint
            .clone()
            .unwrap_or_else(|| crate::partition::iam_host(&self.region, Default::default()))
    }

    /// The user the keys belong to: (name, ARN).
    pub fn user(&self, signer: &Credentials) -> Result<(String, String)> {
        let out = self
            .transport
            .call("GetUser", self.sdk(signer).get_user().send())
            .map_err(|e| map_err("GetUser", &self.host(), &e))?;
        let u = out.user().ok_or_else(|| Error::StsCall {
            op: "GetUser",
            code: "NoUser".into(),
            message: "the keys belong to no IAM user (root keys cannot be rotated here)".into(),
        })?;
        Ok((u.user_name().to_owned(), u.arn().to_owned()))
    }

    pub fn keys(&self, signer: &Credentials, user: &str) -> Result<Vec<KeyInfo>> {
        let out = self
            .transport
            .call(
                "ListAccessKeys",
                self.sdk(signer).list_access_keys().user_name(user).send(),
            )
            .map_err(|e| map_err("ListAccessKeys", &self.host(), &e))?;
        Ok(out
            .access_key_metadata()
            .iter()
            .filter_map(|k| {
                Some(KeyInfo {
                    id: k.access_key_id()?.to_owned(),
                    active: k
                        .status()
                        .is_none_or(|s| *s == aws_sdk_iam::types::StatusType::Active),
                    created: k.create_date().and_then(|d| SystemTime::try_from(*d).ok()),
                })
            })
            .collect())
    }

    /// A new key for `user`: (id, secret).
    pub fn create_key(&self, signer: &Credentials, user: &str) -> Result<(String, SecretString)> {
        let out = self
            .transport
            .call(
                "CreateAccessKey",
                self.sdk(signer).create_access_key().user_name(user).send(),
            )
            .map_err(|e| map_err("CreateAccessKey", &self.host(), &e))?;
        let k = out.access_key().ok_or_else(|| Error::StsCall {
            op: "CreateAccessKey",
            code: "NoKey".into(),
            message: "the response had no key".into(),
        })?;
        Ok((
            k.access_key_id().to_owned(),
            SecretString::from(k.secret_access_key()),
        ))
    }

    pub fn delete_key(&self, signer: &Credentials, user: &str, id: &str) -> Result<()> {
        self.transport
            .call(
                "DeleteAccessKey",
                self.sdk(signer)
                    .delete_access_key()
                    .user_name(user)
                    .access_key_id(id)
                    .send(),
            )
            .map_err(|e| map_err("DeleteAccessKey", &self.host(), &e))?;
        Ok(())
    }

    /// Puts (or replaces) inline policy `name` on role `role` (its name, not its ARN).
    pub fn put_role_policy(
        &self,
        signer: &Credentials,
        role: &str,
        name: &str,
        document: &str,
    ) -> Result<()> {
        self.transport
            .call(
                "PutRolePolicy",
                self.sdk(signer)
                    .put_role_policy()
                    .role_name(role)
                    .policy_name(name)
                    .policy_document(document)
                    .send(),
            )
            .map_err(|e| map_err("PutRolePolicy", &self.host(), &e))?;
        Ok(())
    }
}
