//! The one resolver: for a caller's context and a request, which item and why, which profile
//! and chain, which region, the credentials when asked, and the environment changes. Every front
//! end (the CLI's run, export, credential-process, status, inspect, clear, hook-env, doctor; the
//! nushell plugin; the agent) asks [`resolve`], so none can disagree with another.
//!
//! Which item: `--item` > a profile's item (`op_aws_item`, or the trusted project file's) >
//! session (`OP_AWS_SESSION_ITEM`) > the nearest directory default > the trusted project file
//! (`.op-aws.toml`) > global. Which environment: [`crate::inject::env_changes`].

use std::path::PathBuf;

use crate::awsfiles::{self, AwsFiles, Base, ProfileChain};
use crate::creds::Credentials;
use crate::ctx::Ctx;
use crate::inject::{self, EnvInput};
use crate::item::{self, Item};
use crate::model::env::EnvChanges;
use crate::model::project::Found;
use crate::model::resolution::{Region, RegionFrom, Request, Resolution, Want};
use crate::model::scope::{Applied, Ignored, Scope};
use crate::project::{self};
use crate::scope::{self, Defaults};
use crate::{Error, Result, store, sts};

impl Resolution {
    /// [`Self::overridden`] as a line for stderr, the first time for this combination.
    pub fn override_notice(&self, ctx: &Ctx) -> Option<String> {
        if let Some(told) = &self.told {
            return told.clone();
        }
        let (used, set_aside) = self.overridden()?;
        let Scope::Profile(profile) = &used.scope else {
            return None;
        };
        let key = serde_json::json!([
            "override",
            profile,
            used.item,
            set_aside.item,
            set_aside.scope
        ]);
        if !crate::notice::first_time(ctx, &key) {
            return None;
        }
        let theirs = match &set_aside.scope {
            Scope::Directory(d) => format!("the default of {}", d.display()),
            _ => "this terminal's (op-aws use)".to_owned(),
        };
        Some(format!(
            "profile {profile} uses item {:?} (its item in {}), not {:?}, {theirs}",
            crate::error::printable(&used.item),
            self.bound_in
                .as_ref()
                .map_or_else(|| "the AWS config".into(), |p| p.display().to_string()),
            crate::error::printable(&set_aside.item),
        ))
    }
}

/// What applies here, or the credentials: from the agent when one runs and can do it for this
/// caller (it holds the vault, makes the STS calls and keeps the cache), else worked out in
/// this process. Either way the same [`Resolution`], every fact of it.
pub fn resolve(ctx: &Ctx, req: &Request<'_>) -> Result<Resolution> {
    if let Some(r) = ctx.agent.resolve(&ctx.caller, req)? {
        return Ok(r);
    }
    resolve_here(ctx, req)
}

/// [`resolve`], in this process; each release and refusal goes to the audit trail.
pub fn resolve_here(ctx: &Ctx, req: &Request<'_>) -> Result<Resolution> {
    let r = resolve_in_process(ctx, req);
    // In the agent, a request handed back to its caller is logged by the caller.
    crate::audit::after(ctx, req, &r);
    r
}

/// [`resolve_here`] with its audit line handed back unwritten, with where it goes: the agent
/// appends it once its caller has the answer.
pub fn resolve_here_unlogged(
    ctx: &Ctx,
    req: &Request<'_>,
) -> (
    Result<Resolution>,
    Option<(std::path::PathBuf, crate::audit::Entry)>,
) {
    let r = resolve_in_process(ctx, req);
    let line = crate::audit::entry(ctx, req, &r).map(|e| (crate::audit::log_path(ctx), e));
    (r, line)
}

fn resolve_in_process(ctx: &Ctx, req: &Request<'_>) -> Result<Resolution> {
    let here_only = matches!(req.want, Want::Here { .. });
    let at = locate(ctx, req, here_only)?;
    let mut out = what_applies(ctx, req, &at)?;
    match req.want {
        Want::Here { peek } => {
            if peek
                && out.region.is_none()
                && let Some(a) = &out.applied
                && let Ok(Some(item)) = store::held_item(ctx, &a.item)
            {
                out.region = item_region(&item);
            }
            Ok(out)
        }
        Want::Temporary if at.handover => Err(Error::Invalid(format!(
            "profile {:?} is one the tool resolves itself (SSO, credential_process, web identity, credential_source); op-aws has no credentials to serve for it",
            out.profile.as_deref().unwrap_or_default()
        ))),
        Want::Env { .. } if at.handover => {
            // The tool resolves the profile itself; it only needs to know which one.
            if let Some(p) = &out.profile {
                out.env.set("AWS_PROFILE", p);
            }
            Ok(out)
        }
        Want::Env { .. } | Want::Credentials | Want::Temporary => {
            let (creds, region) = match (&at.files, &at.chain, &at.sso, &at.login) {
                // Signed in with `op-aws sso login`: no item, the SSO session's role.
                (Some(f), Some(r), Some(session), _) => {
                    release_sso(ctx, req, &mut out, f, r, session, at.trusted_agents())?
                }
                // An `aws login` session op-aws holds: no item, the session (and roles above).
                (Some(f), Some(r), None, Some(arn)) => {
                    release_login(ctx, req, &mut out, f, r, arn, at.trusted_agents())?
                }
                _ => release_item(ctx, req, &mut out, at.files.as_ref(), at.trusted_agents())?,
            };
            if out.region.is_none() {
                out.region = region;
            }
            if let Want::Env { tool } = req.want {
                out.env = inject::env_changes(&EnvInput {
                    tool,
                    creds: &creds,
                    profile: out.profile.as_deref().filter(|_| !at.project_only),
                    region: out.region_name(),
                });
            }
            out.creds = Some(creds);
            Ok(out)
        }
    }
}

/// Where the caller stands: the profile, the project file, the AWS files and the profile's
/// chain as the SDKs walk it, and whether the tool resolves it itself.
struct Located {
    profile: Option<String>,
    found: Option<Found>,
    files: Option<AwsFiles>,
    chain: Option<ProfileChain>,
    /// The IAM Identity Center session op-aws holds a token for, signing the chain.
    sso: Option<crate::model::sso::Session>,
    /// The `aws login` session op-aws holds, signing the chain (its ARN).
    login: Option<String>,
    handover: bool,
    /// The profile comes from the project file (the tools cannot be told its name).
    project_only: bool,
}

impl Located {
    fn trusted_agents(&self) -> Option<crate::config::AgentPolicy> {
        self.found.as_ref().and_then(Found::project)?.agents
    }
}

fn locate(ctx: &Ctx, req: &Request<'_>, here_only: bool) -> Result<Located> {
    let c = &ctx.caller;
    let profile = req
        .profile
        .filter(|p| !p.is_empty())
        .or_else(|| c.profile())
        .map(str::to_owned);
    let found = project::find(&ctx.dirs, &c.cwd)?;
    let trusted = found.as_ref().and_then(Found::project);
    let load = || {
        AwsFiles::load(c).map(|f| match trusted {
            Some(p) => f.with_project(p),
            None => f,
        })
    };
    let files = match &profile {
        None => None,
        // What applies here is still worth showing with a broken AWS config; the commands that
        // use the profile report the error.
        Some(_) if here_only => load().ok(),
        Some(_) => Some(load().map_err(|e| Error::Step {
            what: "cannot read the AWS config".into(),
            source: Box::new(e),
        })?),
    };
    let chain = profile_chain(ctx, files.as_ref(), profile.as_deref(), here_only)?;
    // The tool resolves the profile itself (SSO, credential_process, web identity,
    // credential_source, login_session, or a chain that bottoms out in one); for
    // credential-process, the profile's own credential_process is what called us.
    // An SSO profile whose session op-aws signed in to (`op-aws sso login`) is op-aws's to
    // serve; without a token of ours, the tool signs in itself, as before.
    let sso = match (&files, &chain) {
        (Some(f), Some(r)) => crate::sso::held_base(ctx, f, r),
        _ => None,
    };
    // Likewise an `aws login` session op-aws signed in to or adopted (`op-aws signin`,
    // `import --login`).
    let login = match (&files, &chain) {
        (Some(f), Some(r)) if sso.is_none() => crate::signin::held_base(ctx, f, r),
        _ => None,
    };
    let handover = !matches!(req.want, Want::Credentials)
        && sso.is_none()
        && login.is_none()
        && chain.as_ref().is_some_and(ProfileChain::is_handover);
    // The tools know the AWS files' profiles only: one from the project file cannot be handed
    // over, nor named to them.
    let project_only = matches!((&files, &profile), (Some(f), Some(p)) if f.is_project_only(p));
    if handover && project_only && !here_only {
        return Err(Error::BadProfile {
            profile: profile.unwrap_or_default(),
            why: "comes from the project file and rests on a profile the tool resolves itself (SSO, credential_process, ...); the tool cannot see a project profile, so define it in the AWS config".into(),
        });
    }
    Ok(Located {
        profile,
        found,
        files,
        chain,
        sso,
        login,
        handover,
        project_only,
    })
}

/// How the profile resolves, as the SDKs walk it. What-applies-here never fails on it (the
/// prompt stays quiet; the commands that use the profile report the error).
fn profile_chain(
    ctx: &Ctx,
    files: Option<&AwsFiles>,
    profile: Option<&str>,
    here_only: bool,
) -> Result<Option<ProfileChain>> {
    Ok(match (files, profile) {
        (Some(f), Some(p)) if f.has_profile(p) => match f.resolve_chain(p) {
            Ok(chain) => Some(chain),
            Err(_) if here_only => None,
            Err(e) => return Err(e),
        },
        // A profile defined nowhere: an error before anything runs (a missing [default] is
        // fine, as in the AWS CLI).
        (Some(_), Some(p)) if !here_only && p != "default" => {
            return Err(Error::NoSuchProfile {
                profile: p.to_owned(),
                files: format!(
                    "{} and {}",
                    awsfiles::config_path(&ctx.caller)?.display(),
                    awsfiles::credentials_path(&ctx.caller)?.display()
                ),
            });
        }
        _ => None,
    })
}

/// What applies here: the item and why, the chain, the region; no secret read.
fn what_applies(ctx: &Ctx, req: &Request<'_>, at: &Located) -> Result<Resolution> {
    let chain = match (&at.chain, &at.profile) {
        (Some(r), _) => r.profiles(),
        (None, Some(p)) => vec![p.clone()],
        (None, None) => Vec::new(),
    };
    let Which {
        candidates,
        ignored,
        bound_in,
    } = which_item(
        ctx,
        req.item,
        at.found.as_ref(),
        Bound {
            files: at.files.as_ref(),
            chain: at.chain.as_ref().filter(|_| !at.handover),
            profile: at.profile.as_deref(),
        },
    )?;
    let profile_region = || {
        let p = at.profile.as_deref()?;
        Some(Region {
            name: at.files.as_ref()?.region(p)?.to_owned(),
            from: RegionFrom::Profile,
        })
    };
    let shell_region = ctx.caller.shell_region().map(|r| Region {
        name: r.to_owned(),
        from: RegionFrom::Shell,
    });
    Ok(Resolution {
        region: shell_region.or_else(profile_region),
        profile: at.profile.clone(),
        handover: at.handover,
        applied: candidates.first().cloned(),
        candidates,
        chain,
        ignored,
        project: at.found.clone(),
        bound_in,
        sso: at.sso.clone(),
        login_session: at.login.clone(),
        told: None,
        creds: None,
        env: EnvChanges::default(),
        decision: None,
    })
}

/// An SSO session's role credentials, once the policy and the approval allow them.
fn release_sso(
    ctx: &Ctx,
    req: &Request<'_>,
    out: &mut Resolution,
    files: &AwsFiles,
    chain: &ProfileChain,
    session: &crate::model::sso::Session,
    trusted_agents: Option<crate::config::AgentPolicy>,
) -> Result<(Credentials, Option<Region>)> {
    let profile = out.profile.clone().unwrap_or_default();
    let mut decision = crate::policy::decide(
        ctx,
        &req.ask,
        None,
        Some(files),
        Some(&profile),
        trusted_agents,
        Some(&session.region),
    )?;
    // A session policy rides on a role above the SSO role; the SSO role's own credentials
    // cannot carry one.
    if chain.roles.is_empty() {
        crate::policy::unscoped_only(&decision, "IAM Identity Center role credentials")?;
    }
    let sso = format!("sso:{}", session.name);
    crate::approval::check(ctx, &mut decision, &req.ask, &sso, Some(&profile), None)?;
    let scope = decision.scope.clone();
    out.decision = Some(decision);
    let creds =
        crate::sso::credentials(ctx, files, chain, &profile, &scope).map_err(|e| Error::Step {
            what: format!(
                "cannot get credentials for profile {profile:?} from SSO session {:?}",
                session.name
            ),
            source: Box::new(e),
        })?;
    let region = Region {
        name: session.region.clone(),
        from: RegionFrom::Profile,
    };
    Ok((creds, Some(region)))
}

/// An `aws login` session's credentials (and the roles above it), once the policy and the
/// approval allow them.
fn release_login(
    ctx: &Ctx,
    req: &Request<'_>,
    out: &mut Resolution,
    files: &AwsFiles,
    chain: &ProfileChain,
    arn: &str,
    trusted_agents: Option<crate::config::AgentPolicy>,
) -> Result<(Credentials, Option<Region>)> {
    let profile = out.profile.clone().unwrap_or_default();
    // The chain's region, else the one the session was signed in to (an agent's read-only
    // policy is named in its partition).
    let region = chain
        .profiles()
        .iter()
        .find_map(|p| files.region(p))
        .map(str::to_owned)
        .or_else(|| crate::signin::region_of(ctx, arn));
    let mut decision = crate::policy::decide(
        ctx,
        &req.ask,
        None,
        Some(files),
        Some(&profile),
        trusted_agents,
        region.as_deref(),
    )?;
    // A session policy rides on a role above the session; its own credentials cannot carry one.
    if chain.roles.is_empty() {
        crate::policy::unscoped_only(&decision, "aws login session credentials")?;
    }
    let label = format!("login:{arn}");
    crate::approval::check(ctx, &mut decision, &req.ask, &label, Some(&profile), None)?;
    let scope = decision.scope.clone();
    out.decision = Some(decision);
    let creds = crate::signin::credentials(ctx, files, chain, &profile, &scope).map_err(|e| {
        Error::Step {
            what: format!(
                "cannot get credentials for profile {profile:?} from its aws login session"
            ),
            source: Box::new(e),
        }
    })?;
    let region = region.map(|name| Region {
        name,
        from: RegionFrom::Profile,
    });
    Ok((creds, region))
}

/// The applied item's credentials (or a session made of them), once the policy and the
/// approval allow them.
fn release_item(
    ctx: &Ctx,
    req: &Request<'_>,
    out: &mut Resolution,
    files: Option<&AwsFiles>,
    trusted_agents: Option<crate::config::AgentPolicy>,
) -> Result<(Credentials, Option<Region>)> {
    let applied = out.applied.clone().ok_or_else(|| {
        out.project
            .as_ref()
            .map_or(Error::NoDefault, Found::no_default_error)
    })?;
    let item = store::get_item(ctx, &applied.item).map_err(|e| Error::Step {
        what: format!("cannot read item {:?} ({})", applied.item, applied.scope),
        source: Box::new(e),
    })?;
    let mut decision = crate::policy::decide(
        ctx,
        &req.ask,
        Some(&item),
        files,
        out.profile.as_deref(),
        trusted_agents,
        out.region_name()
            .or(item_region(&item).as_ref().map(|r| r.name.as_str())),
    )?;
    decision.role = out
        .profile
        .as_deref()
        .and_then(|p| files?.get(p, "role_arn"))
        .map(str::to_owned);
    let role = decision.role.clone();
    crate::approval::check(
        ctx,
        &mut decision,
        &req.ask,
        &applied.item,
        out.profile.as_deref(),
        role.as_deref(),
    )?;
    let scope = &decision.scope;
    let creds = if req.want == Want::Temporary {
        sts::temporary_credentials(ctx, &item, files, out.profile.as_deref(), scope)
    } else {
        credentials(ctx, &item, files, out.profile.as_deref(), &decision)
    }
    .map_err(|e| match e {
        // The policy's own word, as it is.
        Error::AgentRefused { .. } => e,
        e => Error::Step {
            what: format!("cannot get credentials from item {:?}", applied.item),
            source: Box::new(e),
        },
    })?;
    out.decision = Some(decision);
    Ok((creds, item_region(&item)))
}

/// Which item: every default that applies here, in precedence order.
pub struct Which {
    /// `--item`, a profile's binding, session, directory defaults (nearest first), the trusted
    /// project file's default, global.
    pub candidates: Vec<Applied>,
    /// Directory defaults stored for here or above that do not apply, and why.
    pub ignored: Vec<(PathBuf, String, Ignored)>,
    /// The file whose binding names the profile's item.
    pub bound_in: Option<PathBuf>,
}

/// The profile whose binding (`op_aws_item`) may name the item: its files and resolved chain
/// (none for a profile the tool resolves itself).
pub struct Bound<'a> {
    pub files: Option<&'a AwsFiles>,
    pub chain: Option<&'a ProfileChain>,
    pub profile: Option<&'a str>,
}

/// Which item applies for the caller of `ctx`: `item` (`--item`) > a profile's item > session
/// > the nearest directory default > the trusted project file (`found`) > global.
pub fn which_item(
    ctx: &Ctx,
    item: Option<&str>,
    found: Option<&Found>,
    bound: Bound<'_>,
) -> Result<Which> {
    let c = &ctx.caller;
    let mut candidates = Vec::new();
    if let Some(i) = item {
        candidates.push(Applied {
            item: i.to_owned(),
            scope: Scope::Flag,
            export: false,
        });
    }
    let mut bound_in = None;
    if let (Some(f), Some(r), Some(p)) = (bound.files, bound.chain, bound.profile)
        && let Some((i, by)) = bound_item(f, r)
    {
        bound_in = if f.from_project(&by, "op_aws_item") {
            found.map(|x| x.path.clone())
        } else {
            awsfiles::config_path(c).ok()
        };
        candidates.push(Applied {
            item: i,
            scope: Scope::Profile(p.to_owned()),
            export: false,
        });
    }
    let defaults = Defaults::load(&ctx.dirs)?;
    let project_default =
        found.and_then(|x| Some((x.dir.as_path(), x.project()?.item.as_deref()?)));
    let stored = scope::applicable(&defaults, &c.cwd, c.session_item(), project_default);
    candidates.extend(stored.applicable);
    Ok(Which {
        candidates,
        ignored: stored.ignored,
        bound_in,
    })
}

/// The item whose keys sign the chain: the one bound (`op_aws_item`) to the profile whose
/// static keys end it, else the nearest binding above it (a role profile may name the item that
/// signs it).
fn bound_item(files: &AwsFiles, chain: &ProfileChain) -> Option<(String, String)> {
    if let Base::Item { item, profile } = &chain.base {
        return Some((item.clone(), profile.clone()));
    }
    chain
        .profiles()
        .into_iter()
        .find_map(|p| Some((files.get(&p, "op_aws_item")?.to_owned(), p)))
}

fn item_region(item: &Item) -> Option<Region> {
    item.get(item::DEFAULT_REGION)
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|r| Region {
            name: r.to_owned(),
            from: RegionFrom::Item,
        })
}

/// The credentials `item` yields for `profile`: temporary ones when the profile's chain needs
/// STS or the decision asks for a session (a policy, an agent), else the item's long-lived keys.
fn credentials(
    ctx: &Ctx,
    item: &Item,
    files: Option<&AwsFiles>,
    profile: Option<&str>,
    decision: &crate::model::policy::Decision,
) -> Result<Credentials> {
    let keys = item.access_keys()?;
    let scope = &decision.scope;
    let temporary = match (files, profile) {
        (Some(f), Some(p)) => sts::credentials_for_profile(ctx, item, f, p, scope)?,
        _ => None,
    };
    if let Some(t) = temporary {
        return Ok(t);
    }
    // An agent's scope is temporary only: credential-process too gets a short session made of
    // the keys (a sandbox's AWS config asks through it), never the keys.
    if scope.needs_session() {
        return sts::temporary_credentials(ctx, item, files, profile, scope);
    }
    Ok(Credentials::from(&keys))
}
