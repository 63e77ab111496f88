//! `op-aws manpages DIR` (internal): the manual pages, generated from the clap definition —
//! `op-aws(1)` and one page per subcommand (`op-aws-run(1)`, `op-aws-vault-create(1)`, …). The
//! same pages are committed under `man/` beside the hand-written `op-aws-config(5)`; a test
//! fails when they are out of date, and `scripts/package` ships them.

use std::path::PathBuf;

use anyhow::Context;
use op_aws::caller::Caller;

/// [internal] Write the manual pages into DIR.
#[derive(clap::Args)]
#[command(hide = true)]
pub struct Args {
    dir: PathBuf,
}

impl Args {
    pub fn run(self, _caller: Caller) -> anyhow::Result<()> {
        let dir = &self.dir;
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let mut root = super::command().disable_help_subcommand(true);
        // Builds the display names (`op-aws-vault-create`) the pages are named after.
        root.build();
        write_pages(&root, dir)
    }
}

/// One page for this command and one for each visible subcommand, depth first.
fn write_pages(cmd: &clap::Command, dir: &std::path::Path) -> anyhow::Result<()> {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub, dir)?;
    }
    let page = clap_mangen::Man::new(cmd.clone())
        .manual("op-aws manual")
        .source(concat!("op-aws ", env!("CARGO_PKG_VERSION")));
    let path = dir.join(page.get_filename());
    let mut text = Vec::new();
    page.render(&mut text)?;
    // Every page points at the configuration page, which clap knows nothing of.
    let mut see_also = String::from("\\fBop\\-aws\\-config\\fR(5)");
    if cmd.get_name() != "op-aws" {
        see_also += ", \\fBop\\-aws\\fR(1)";
    }
    text.extend_from_slice(format!(".SH \"SEE ALSO\"\n{see_also}\n").as_bytes());
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
