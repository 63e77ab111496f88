use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::process::Command;

use anyhow::Context;
use op_aws::caller::Caller;
use op_aws::config::AgentPolicy;
use op_aws::ctx::Ctx;
use op_aws::model::sandbox::Spec;

use super::SilentExit;

/// Run an AI agent (or any program) with one capability to op-aws: a socket of its own, out
/// of reach of op-aws's socket, vault, cache, approvals and audit log. Every credential request
/// on it is this sandbox's agent's, under its policy.
#[derive(clap::Args)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    trailing_var_arg = true
)]
pub struct Args {
    #[command(subcommand)]
    action: Option<Action>,
    /// The agent's name in the audit trail, session names and tags (default: CMD's name).
    #[arg(long)]
    name: Option<String>,
    /// The agents' policy for it: allow, approve, read-only or deny (it only tightens what the
    /// profile, item and config.toml say).
    #[arg(long, value_name = "POLICY", value_parser = parse_policy)]
    agents: Option<AgentPolicy>,
    /// An item it may use (repeatable; default: any the defaults pick).
    #[arg(long, value_name = "NAME")]
    item: Vec<String>,
    /// A profile it may use (repeatable; the first is its default).
    #[arg(long)]
    profile: Vec<String>,
    /// A managed policy every session it gets is limited to (repeatable).
    #[arg(long, value_name = "ARN")]
    policy_arn: Vec<String>,
    /// No namespaces: the capability only (the program can still read op-aws's files).
    #[arg(long)]
    no_isolation: bool,
    /// No credential that works inside: the program gets a placeholder key and a loopback
    /// proxy as its AWS endpoint, which re-signs each request it allows with the sandbox's
    /// session; the capability stays with op-aws, outside.
    #[arg(long)]
    keyless: bool,
    /// The command and its arguments (after `--`).
    #[arg(required = true, num_args = 1.., allow_hyphen_values = true, value_name = "CMD")]
    command: Vec<OsString>,
}

#[derive(clap::Subcommand)]
enum Action {
    /// The open sandboxes: name, policy, items, profiles, requests served and refused.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Close a sandbox's capability at once and forget the sessions issued to it.
    Stop {
        name: String,
        /// Also end its sessions at AWS: an inline deny on each role they assumed, for sessions
        /// tagged with this agent and issued before now (needs iam:PutRolePolicy).
        #[arg(long)]
        revoke: bool,
    },
}

fn parse_policy(s: &str) -> Result<AgentPolicy, String> {
    AgentPolicy::parse(s).ok_or_else(|| format!("{s:?} is not allow, approve, read-only or deny"))
}

impl Args {
    pub fn run(self, caller: Caller) -> anyhow::Result<()> {
        match self.action {
            Some(Action::List { json }) => list(&Ctx::new(caller)?, json),
            Some(Action::Stop { ref name, revoke }) => stop(&Ctx::new(caller)?, name, revoke),
            None => self.start(caller),
        }
    }

    fn start(self, caller: Caller) -> anyhow::Result<()> {
        if let Some(opt) = self.command[0].to_str().filter(|c| c.starts_with('-')) {
            anyhow::bail!(
                "unknown option {opt:?} for `op-aws sandbox`\nhint: see `op-aws sandbox --help`; the command comes after `--`"
            );
        }
        let program = self.command[0].clone();
        let Some(path) = caller.which(&program) else {
            eprintln!("op-aws: {}: command not found", program.to_string_lossy());
            return Err(SilentExit(127).into());
        };
        let name = self
            .name
            .clone()
            .unwrap_or_else(|| op_aws::inject::tool_name(&program));
        let spec = Spec {
            name: name.clone(),
            agents: self.agents,
            items: self.item,
            profiles: self.profile,
            policy_arns: self.policy_arn,
            isolated: !self.no_isolation,
            keyless: self.keyless,
        };
        let ctx = Ctx::new(caller)?;
        let opened = op_aws::sandbox::open(&ctx, &spec).context("cannot open the sandbox")?;
        let shown = op_aws::error::printable(&program.to_string_lossy());
        if spec.isolated {
            eprintln!(
                "op-aws: sandbox {name}: {shown} runs with one capability to op-aws and without its socket, vault, cache or audit log (`op-aws sandbox stop {name}` closes it)"
            );
        } else {
            eprintln!(
                "op-aws: sandbox {name}: --no-isolation: {shown} can still reach op-aws's files and socket; only the requests on its capability are held to the sandbox"
            );
        }
        let mut cmd = match opened.wrapper.split_first() {
            Some((bwrap, args)) => {
                let mut c = Command::new(bwrap);
                c.args(args).arg(&path);
                c
            }
            None => {
                let mut c = Command::new(&path);
                c.arg0(&program);
                c
            }
        };
        cmd.args(&self.command[1..]);
        let mut env = opened.env;
        let proxy = if spec.keyless {
            let proxy = keyless_proxy(&ctx, &spec, &opened.dir)
                .inspect_err(|_| {
                    let _ = ctx.agent.sandbox_stop(&name);
                })
                .context("cannot open the sandbox")?;
            let theirs = proxy.env(None);
            for (k, v) in &theirs.set {
                env.set(k, v);
            }
            for k in &theirs.unset {
                env.unset(k);
            }
            Some(proxy)
        } else {
            None
        };
        op_aws::inject::for_command(&ctx.caller, env).apply_to(&mut cmd);
        let mut child = super::serve::spawn_tied(&mut cmd, &program)?;
        let done = std::sync::atomic::AtomicBool::new(false);
        let socket = opened.dir.join("agent.sock");
        let status = std::thread::scope(|s| {
            if let Some(proxy) = &proxy {
                s.spawn(|| {
                    // Served while the program runs and its capability is open (`sandbox stop`
                    // and `op-aws lock` close it).
                    let stop =
                        || done.load(std::sync::atomic::Ordering::SeqCst) || !socket.exists();
                    if let Err(e) = proxy.serve(&stop) {
                        eprintln!("op-aws: sandbox {name}: {e}");
                    }
                });
            }
            let status = child.wait();
            done.store(true, std::sync::atomic::Ordering::SeqCst);
            status
        });
        // The program is done: so is its capability (an agent already gone closed it).
        let _ = ctx.agent.sandbox_stop(&name);
        super::serve::exit_with(status.with_context(|| format!("cannot wait for {shown}"))?)
    }
}

fn list(ctx: &Ctx, json: bool) -> anyhow::Result<()> {
    let all = ctx.agent.sandbox_list()?;
    if json {
        return super::print_json(&all);
    }
    if all.is_empty() {
        println!("no open sandboxes");
        return Ok(());
    }
    println!(
        "{:<16} {:<10} {:<20} {:<20} {:>7} {:>7}  OPEN",
        "NAME", "AGENTS", "ITEMS", "PROFILES", "SERVED", "REFUSED"
    );
    let or_any = |v: &[String]| {
        if v.is_empty() {
            "any".to_owned()
        } else {
            v.join(",")
        }
    };
    for s in &all {
        show!(
            "{:<16} {:<10} {:<20} {:<20} {:>7} {:>7}  {}",
            s.spec.name,
            s.spec.agents.map_or("(config)", |p| p.name()),
            or_any(&s.spec.items),
            or_any(&s.spec.profiles),
            s.served,
            s.refused,
            humantime::format_duration(std::time::Duration::from_secs(s.open_secs))
        );
    }
    Ok(())
}

fn stop(ctx: &Ctx, name: &str, revoke: bool) -> anyhow::Result<()> {
    let Some(closed) = ctx.agent.sandbox_stop(name)? else {
        anyhow::bail!(
            "no agent runs, so no sandbox is open\nhint: `op-aws sandbox list` shows the open ones"
        );
    };
    eshow!(
        "op-aws: sandbox {name} closed: {} request(s) served, {} refused; its cached sessions forgotten",
        closed.served,
        closed.refused
    );
    if !revoke {
        return Ok(());
    }
    if closed.roles.is_empty() {
        eprintln!("op-aws: no role sessions to revoke (its sessions assumed no role)");
        return Ok(());
    }
    let mut failed = 0;
    for r in op_aws::sandbox::revoke(ctx, name, &closed.roles) {
        match r.outcome {
            Ok(policy) => show!(
                "revoked: {} (inline policy {policy}, signed with item {})",
                r.role.role_arn,
                r.role.item
            ),
            Err(e) => {
                failed += 1;
                show!("not revoked: {}: {e}", r.role.role_arn);
            }
        }
    }
    if failed > 0 {
        eprintln!(
            "op-aws: {failed} role(s) not revoked: their sessions stay valid until they expire\nhint: put this inline policy on each by hand (or give the item's user iam:PutRolePolicy and do it with `aws iam put-role-policy`):\n{}",
            op_aws::sandbox::revoke_policy(name, std::time::SystemTime::now())
        );
        return Err(SilentExit(1).into());
    }
    Ok(())
}

/// `sandbox --keyless`: the proxy, asking the sandbox's capability for its sessions (so the
/// sandbox's policy, items and profiles hold), its audit lines the sandbox's agent's.
fn keyless_proxy(
    ctx: &Ctx,
    spec: &op_aws::model::sandbox::Spec,
    dir: &std::path::Path,
) -> anyhow::Result<op_aws::keyless::Proxy> {
    let mut caller = ctx.caller.clone();
    caller.terminal = false;
    caller.set_var("OP_AWS_RUNTIME_DIR", Some(&dir.to_string_lossy()));
    caller.set_var(op_aws::caller::SANDBOX_VAR, Some(&spec.name));
    let mut source = op_aws::keyless::Source::new(
        Ctx::new(caller)?,
        spec.items.first().cloned(),
        spec.profiles.first().cloned(),
        op_aws::model::policy::Ask {
            via: op_aws::model::policy::Via::Endpoint,
            ..Default::default()
        },
    );
    source.agent = Some(spec.name.clone());
    let rules = op_aws::keyless::classify::Rules {
        read_only: spec.agents == Some(AgentPolicy::ReadOnly),
        approve: spec.agents == Some(AgentPolicy::Approve),
        ..Default::default()
    };
    Ok(op_aws::keyless::Proxy::start(source, rules)?)
}
