//! What every command needs: the caller's context, the directories and the user's settings.

use crate::Result;
use crate::caller::Caller;
use crate::config::Config;
use crate::dirs::Dirs;

pub struct Ctx {
    pub caller: Caller,
    pub dirs: Dirs,
    pub config: Config,
}

impl Ctx {
    pub fn new(caller: Caller) -> Result<Self> {
        let dirs = Dirs::new(&caller)?;
        let config = Config::load(&dirs)?;
        Ok(Self {
            caller,
            dirs,
            config,
        })
    }
}
