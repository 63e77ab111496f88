//! What every command needs: the directories and the user's settings.

use crate::Result;
use crate::config::Config;
use crate::dirs::Dirs;

pub struct Ctx {
    pub dirs: Dirs,
    pub config: Config,
}

impl Ctx {
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(&crate::dirs::process_env)
    }

    /// From another environment than the process's (the nushell plugin's caller).
    pub fn from_lookup(get: crate::dirs::Lookup<'_>) -> Result<Self> {
        let dirs = Dirs::from_lookup(get)?;
        let config = Config::load(&dirs)?;
        Ok(Self { dirs, config })
    }
}
