use op_aws::caller::Caller;
use op_aws::ctx::Ctx;

/// The wrapped executables (set `wrap`/`wrap_extra` in config.toml to change them).
#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    json: bool,
}

impl Args {
    pub fn run(self, caller: Caller) -> anyhow::Result<()> {
        let ctx = Ctx::new(caller)?;
        let w = ctx.config.wrapped();
        if self.json {
            return super::print_json(&w);
        }
        for c in w {
            println!("{c}");
        }
        Ok(())
    }
}
