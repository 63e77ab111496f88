use op_aws::caller::{Caller, SESSION_VAR};
use op_aws::ctx::Ctx;
use op_aws::model::env::EnvChanges;
use op_aws::{change, prompt};

/// Remove the default in effect here (session, then directory, then global); --all removes all.
#[derive(clap::Args)]
pub struct Args {
    /// Remove every default that applies here.
    #[arg(long)]
    all: bool,
    /// Do not ask.
    #[arg(long, short)]
    force: bool,
}

impl Args {
    pub fn run(self, caller: Caller) -> anyhow::Result<()> {
        let ctx = Ctx::new(caller)?;
        let plan = change::plan_clear(&ctx, self.all)?;
        if plan.remove.is_empty() {
            eprintln!("op-aws: no default applies here");
            return Ok(());
        }
        if !self.force && ctx.caller.terminal {
            let list: Vec<String> = plan
                .remove
                .iter()
                .map(|a| format!("{} ({})", a.item, a.scope))
                .collect();
            let question = format!("remove the default {}?", list.join(", "));
            // Nobody to ask (a script): removed as asked, as always.
            let asker = prompt::Asker::for_caller(&ctx.caller, &ctx.config);
            if asker.confirm(&ctx.caller, &question, true)? == Some(false) {
                return Ok(());
            }
        }
        let sh = ctx.caller.calling_shell();
        if let (Some(a), None) = (plan.session(), sh) {
            eprintln!(
                "op-aws: the session default {} lives in this shell: run `unset {SESSION_VAR}`",
                a.item
            );
            return Err(super::SilentExit(1).into());
        }
        change::clear(&ctx, &plan)?;
        for a in &plan.remove {
            eprintln!("op-aws: removed {} ({})", a.item, a.scope);
        }
        if let (Some(sh), Some(_)) = (sh, plan.session()) {
            let mut unset = EnvChanges::default();
            unset.unset(SESSION_VAR);
            print!("{}", unset.render(sh.into()));
        }
        for b in &plan.kept {
            eprintln!("op-aws: {} still applies through {}", b.item, b.scope);
        }
        Ok(())
    }
}
