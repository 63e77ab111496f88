//! What `status`, `inspect`, `profiles` and `cache list` report, computed once here from the
//! resolver and the stores; the CLI renders these as text or JSON, the nushell plugin as nu
//! values. Never a secret.

use std::path::PathBuf;

use serde::Serialize;

use crate::awsfiles::AwsFiles;
use crate::config::StoreKind;
use crate::ctx::Ctx;
use crate::link::protocol::AgentStatus;
use crate::model::resolution::{Region, Request, Resolution, Want};
use crate::model::scope::{Applied, Scope};
use crate::resolve::resolve;
use crate::sts::cache::{self, Meta};
use crate::{Result, store, vault};

/// `op-aws status`.
#[derive(Debug, Serialize)]
pub struct Status {
    pub store: &'static str,
    /// A local vault exists (whatever the configured store).
    pub vault: bool,
    pub unlocked: bool,
    /// The agent holds the identity until system authentication approves (quick unlock).
    pub held: bool,
    /// Quick unlock is on for the next unlock; else why not (one line).
    pub quick_unlock: bool,
    pub quick_unlock_off: Option<String>,
    pub agent: Option<AgentStatus>,
    pub item: Option<String>,
    pub scope: Option<&'static str>,
    pub scope_path: Option<PathBuf>,
    pub profile: Option<String>,
    /// The profile is handed to the AWS tool, which signs in itself (SSO, `login_session`,
    /// `credential_process`, web identity): no item applies.
    pub handover: bool,
    pub region: Option<String>,
    pub region_from: Option<crate::model::resolution::RegionFrom>,
    pub integration: Option<String>,
    pub wrapped: Vec<String>,
    /// Who is asking: person or agent, and why.
    pub caller: CallerRow,
}

/// The caller's class ([`crate::agents`]) and the agents' policy before a profile's or an
/// item's own (config.toml's, tightened by a trusted project file).
#[derive(Debug, Serialize)]
pub struct CallerRow {
    #[serde(flatten)]
    pub class: crate::caller::Class,
    pub agents_policy: &'static str,
    pub agents_policy_from: String,
}

impl CallerRow {
    pub fn of(ctx: &Ctx, project: Option<&crate::model::project::Found>) -> Self {
        let (mut m, mut from) = match ctx.config.agents {
            Some(m) => (m, "config.toml".to_owned()),
            None => (crate::config::AgentPolicy::Allow, "the default".to_owned()),
        };
        if let Some(p) = project.and_then(|f| f.project()?.agents).filter(|p| *p > m) {
            (m, from) = (p, "the project file".into());
        }
        Self {
            class: crate::agents::of(ctx).clone(),
            agents_policy: m.name(),
            agents_policy_from: from,
        }
    }
}

pub fn status(ctx: &Ctx) -> Result<Status> {
    let agent = ctx.agent.status()?;
    let here = here(ctx)?;
    let current = here.applied.as_ref().filter(|_| !here.handover);
    let (region, region_from) = split_region(here.region.clone());
    let quick = crate::sysauth::availability(&ctx.config);
    Ok(Status {
        store: ctx.config.store.name(),
        vault: vault::exists(&ctx.dirs),
        unlocked: agent.as_ref().is_some_and(|a| a.unlocked && !a.held),
        held: agent.as_ref().is_some_and(|a| a.held),
        quick_unlock: quick.is_ok(),
        quick_unlock_off: quick.err().map(|off| off.to_string()),
        agent,
        item: current.map(|a| a.item.clone()),
        scope: current.map(|a| a.scope.name()),
        scope_path: current.and_then(|a| dir_of(&a.scope)),
        profile: here.profile.clone(),
        handover: here.handover,
        region,
        region_from,
        integration: ctx.caller.integration().map(str::to_owned),
        wrapped: ctx.config.wrapped(),
        caller: CallerRow::of(ctx, here.project.as_ref()),
    })
}

impl Status {
    /// The store is local and has no vault yet.
    pub fn needs_vault(&self) -> bool {
        !self.vault && self.store == StoreKind::Local.name()
    }
}

/// One default that applies here, in precedence order.
#[derive(Debug, Serialize)]
pub struct DefaultRow {
    pub item: String,
    pub scope: &'static str,
    pub path: Option<PathBuf>,
    /// The profile whose `op_aws_item` names the item (scope "profile").
    pub profile: Option<String>,
    pub store: &'static str,
    pub active: bool,
    pub export: bool,
}

/// A cached STS session: its metadata (the fields read through [`Meta`]) and how long it has
/// left.
#[derive(Debug)]
pub struct CacheRow {
    pub meta: Meta,
    pub expires_in_secs: u64,
    pub fresh: bool,
}

impl std::ops::Deref for CacheRow {
    type Target = Meta;
    fn deref(&self) -> &Meta {
        &self.meta
    }
}

/// `cache list --json` and `inspect --json`: the expiry as RFC 3339, the rest as kept.
impl Serialize for CacheRow {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let m = &self.meta;
        let exp = std::time::UNIX_EPOCH + std::time::Duration::from_secs(m.expiration);
        let mut out = s.serialize_struct("CacheRow", 11)?;
        out.serialize_field("key", &m.key)?;
        out.serialize_field("kind", &m.kind)?;
        out.serialize_field("profile", &m.profile)?;
        out.serialize_field("role_arn", &m.role_arn)?;
        out.serialize_field("item", &m.item)?;
        out.serialize_field("mfa_serial", &m.mfa_serial)?;
        out.serialize_field("session_name", &m.session_name)?;
        out.serialize_field(
            "expiration",
            &humantime::format_rfc3339_seconds(exp).to_string(),
        )?;
        out.serialize_field("expires_in_secs", &self.expires_in_secs)?;
        out.serialize_field("fresh", &self.fresh)?;
        out.serialize_field("store", &m.store)?;
        out.end()
    }
}

/// `op-aws inspect`.
#[derive(Debug, Serialize)]
pub struct Inspect {
    pub wrapped: Vec<String>,
    pub integration: Option<String>,
    pub profile: Option<String>,
    /// The profile is handed to the AWS tool, which signs in itself: no item, no default applies.
    pub handover: bool,
    /// The profiles that take part in the profile's credentials, top first.
    pub chain: Vec<String>,
    pub item: Option<String>,
    pub scope: Option<&'static str>,
    pub region: Option<String>,
    pub region_from: Option<crate::model::resolution::RegionFrom>,
    pub defaults: Vec<DefaultRow>,
    /// The project file at or above here, and whether it is used.
    pub project: Option<ProjectRow>,
    /// The IAM Identity Center session whose token op-aws holds for the profile (no item then).
    pub sso_session: Option<String>,
    /// Unexpired cached sessions.
    pub sessions: Vec<CacheRow>,
    /// Who is asking: person or agent, and why.
    pub caller: CallerRow,
}

/// A project file (`.op-aws.toml`) and its trust state.
#[derive(Debug, Serialize)]
pub struct ProjectRow {
    pub path: PathBuf,
    /// "trusted", "untrusted", "changed" (trusted once, with other content) or "unusable".
    pub trust: &'static str,
    /// SHA-256 of the content.
    pub sha256: String,
    /// What a trusted file sets: its default item and profiles.
    pub item: Option<String>,
    pub profiles: Vec<String>,
    /// Why the file is not used, and what to run.
    pub notice: Option<String>,
}

impl ProjectRow {
    pub fn of(found: &crate::model::project::Found) -> Self {
        let project = found.project();
        Self {
            path: found.path.clone(),
            trust: found.state(),
            sha256: found.hash.clone(),
            item: project.and_then(|p| p.item.clone()),
            profiles: project
                .map(|p| p.profiles.keys().cloned().collect())
                .unwrap_or_default(),
            notice: found.untrusted_notice(),
        }
    }
}

pub fn inspect(ctx: &Ctx) -> Result<Inspect> {
    let here = here(ctx)?;
    let now = cache::now_secs();
    let sessions = cache_rows(ctx)?
        .into_iter()
        .filter(|m| m.expiration > now)
        .collect();
    let current = here.applied.as_ref().filter(|_| !here.handover);
    let (region, region_from) = split_region(here.region.clone());
    let mut defaults = default_rows(ctx, &here.candidates);
    if here.handover {
        // They apply to other profiles, not to this one.
        defaults.iter_mut().for_each(|d| d.active = false);
    }
    Ok(Inspect {
        wrapped: ctx.config.wrapped(),
        integration: ctx.caller.integration().map(str::to_owned),
        profile: here.profile.clone(),
        handover: here.handover,
        chain: here.chain.clone(),
        item: current.map(|a| a.item.clone()),
        scope: current.map(|a| a.scope.name()),
        region,
        region_from,
        defaults,
        project: here.project.as_ref().map(ProjectRow::of),
        sso_session: here.sso.as_ref().map(|s| s.name.clone()),
        sessions,
        caller: CallerRow::of(ctx, here.project.as_ref()),
    })
}

/// The defaults that apply here, as rows (the first is the one in effect).
pub fn default_rows(ctx: &Ctx, candidates: &[Applied]) -> Vec<DefaultRow> {
    candidates
        .iter()
        .enumerate()
        .map(|(i, a)| DefaultRow {
            item: a.item.clone(),
            scope: a.scope.name(),
            path: dir_of(&a.scope),
            profile: match &a.scope {
                Scope::Profile(p) => Some(p.clone()),
                _ => None,
            },
            store: store::store_of(ctx, &a.item).name(),
            active: i == 0,
            export: a.export,
        })
        .collect()
}

/// What applies here, for the reports (an item the agent holds is looked at for its region).
pub fn here(ctx: &Ctx) -> Result<Resolution> {
    resolve(
        ctx,
        &Request {
            item: None,
            profile: None,
            want: Want::Here { peek: true },
            ask: Default::default(),
        },
    )
}

pub fn cache_rows(ctx: &Ctx) -> Result<Vec<CacheRow>> {
    let now = cache::now_secs();
    Ok(cache::list(ctx)?
        .into_iter()
        .map(|m| cache_row(m, now))
        .collect())
}

fn cache_row(m: Meta, now: u64) -> CacheRow {
    CacheRow {
        expires_in_secs: m.expiration.saturating_sub(now),
        fresh: cache::is_fresh(m.lifetime, m.expiration, now),
        meta: m,
    }
}

/// One AWS profile (`op-aws profiles --json`).
#[derive(Debug, Serialize)]
pub struct ProfileRow {
    pub name: String,
    pub region: Option<String>,
    pub role_arn: Option<String>,
    pub source_profile: Option<String>,
    pub mfa_serial: Option<String>,
    /// `op_aws_item`.
    pub item: Option<String>,
}

pub fn profiles(files: &AwsFiles) -> Vec<ProfileRow> {
    let get = |p: &str, k: &str| files.get(p, k).map(str::to_owned);
    files
        .profile_names()
        .into_iter()
        .map(|p| ProfileRow {
            region: get(&p, "region"),
            role_arn: get(&p, "role_arn"),
            source_profile: get(&p, "source_profile"),
            mfa_serial: get(&p, "mfa_serial"),
            item: get(&p, "op_aws_item"),
            name: p,
        })
        .collect()
}

fn dir_of(s: &Scope) -> Option<PathBuf> {
    match s {
        Scope::Directory(p) | Scope::Project(p) => Some(p.clone()),
        _ => None,
    }
}

fn split_region(
    r: Option<Region>,
) -> (Option<String>, Option<crate::model::resolution::RegionFrom>) {
    match r {
        Some(r) => (Some(r.name), Some(r.from)),
        None => (None, None),
    }
}

/// The clock's skew from AWS's, in seconds (`doctor`), against the STS endpoint and region a command would use here: the resolver's answer for the
/// profile in effect (its `endpoint_url` included), never a second reckoning.
pub fn clock_skew(ctx: &Ctx) -> Result<i64> {
    let here = here(ctx)?;
    let files = match &here.profile {
        Some(_) => AwsFiles::load(&ctx.caller).ok(),
        None => None,
    };
    let endpoint = crate::sts::plan::endpoint(
        &ctx.caller,
        files.as_ref(),
        here.profile.as_deref().unwrap_or("default"),
    );
    let region = here.region_name().unwrap_or("us-east-1");
    let client = crate::sts::client::Client::new(region, endpoint.as_deref())?;
    client.clock_skew()
}
