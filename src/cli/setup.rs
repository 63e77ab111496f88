use anyhow::Context;
use op_aws::caller::Caller;
use op_aws::polkit;

/// Set up what op-aws works with: `setup polkit` (quick unlock, as root), `setup claude-code`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(clap::Subcommand)]
enum What {
    /// Install polkit's action for quick unlock (as root).
    ///
    /// Writes dev.op-aws.unlock.policy to /usr/share/polkit-1/actions, so that after the idle
    /// time the agent holds the vault and asks system authentication (your login password,
    /// fingerprint or security key) instead of forgetting it.
    Polkit,
    /// Wire Claude Code to op-aws: its sandbox reaches `op-aws sandbox`'s capability and the AWS
    /// APIs, its Bedrock calls get a Bedrock-only session (awsCredentialExport).
    ///
    /// Merges into .claude/settings.local.json in this directory (or ~/.claude/settings.json
    /// with --user), keeping everything else, and prints the file.
    ClaudeCode {
        /// The user's settings (~/.claude/settings.json) instead of this project's.
        #[arg(long)]
        user: bool,
    },
}

impl Args {
    pub fn run(self, caller: Caller) -> anyhow::Result<()> {
        let ctx = op_aws::ctx::Ctx::new(caller)?;
        op_aws::policy::may_change(&ctx, "setup", None)?;
        match self.what {
            What::ClaudeCode { user } => claude_code(&ctx, user),
            What::Polkit => {
                let done = polkit::install(std::path::Path::new(polkit::ACTIONS_DIR))
                    .context("cannot set up polkit")?;
                match done {
                    polkit::Installed::Wrote(p) => eshow!(
                        "op-aws: wrote {} (polkit action {}, every approval asks); quick unlock is on from the next `op-aws unlock`",
                        p.display(),
                        polkit::ACTION_ID
                    ),
                    polkit::Installed::Unchanged(p) => eshow!(
                        "op-aws: {} is installed already (polkit action {}); nothing changed",
                        p.display(),
                        polkit::ACTION_ID
                    ),
                }
                Ok(())
            }
        }
    }
}

fn claude_code(ctx: &op_aws::ctx::Ctx, user: bool) -> anyhow::Result<()> {
    let path = if user {
        ctx.caller.home()?.join(".claude/settings.json")
    } else {
        ctx.caller.cwd.join(".claude/settings.local.json")
    };
    let existing = match std::fs::read_to_string(&path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let exe = op_aws::process::op_aws_exe().context("cannot tell where op-aws is")?;
    let v = op_aws::sandbox::claude_code_settings(
        existing.as_deref(),
        &exe,
        &ctx.dirs.runtime.join("sandboxes"),
        op_aws::os::Platform::CURRENT,
    )
    .map_err(|why| {
        anyhow::anyhow!(
            "cannot set up Claude Code: {}: {why}\nhint: fix the file (it was left as it is), then run `op-aws setup claude-code` again",
            path.display()
        )
    })?;
    let mut text = serde_json::to_string_pretty(&v)?;
    text.push('\n');
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mode = std::fs::metadata(&path).map_or(0o644, |m| {
        use std::os::unix::fs::PermissionsExt;
        m.permissions().mode() & 0o777
    });
    op_aws::fsutil::write_atomic(&path, text.as_bytes(), mode)?;
    eshow!(
        "op-aws: wrote {}; run Claude Code with `op-aws sandbox -- claude`",
        path.display()
    );
    print!("{text}");
    Ok(())
}
