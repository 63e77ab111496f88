//! What every command needs: the directories and the user's settings.

use crate::config::Config;
use crate::dirs::Dirs;
use crate::Result;

pub struct Ctx {
    pub dirs: Dirs,
    pub config: Config,
}

impl Ctx {
    pub fn from_env() -> Result<Self> {
        let dirs = Dirs::from_env()?;
        let config = Config::load(&dirs)?;
        Ok(Self { dirs, config })
    }
}
