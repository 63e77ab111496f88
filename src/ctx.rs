//! What every command needs: the caller's context, the directories and the user's settings.

use crate::Result;
use crate::caller::Caller;
use crate::config::Config;
use crate::dirs::Dirs;

pub struct Ctx {
    pub caller: Caller,
    pub dirs: Dirs,
    pub config: Config,
    /// The agent resolving for a caller ([`crate::broker`]): what needs the caller itself (a
    /// terminal, `op`, a browser) is refused with `Error::NeedsCaller`, never attempted.
    pub in_agent: bool,
}

impl Ctx {
    pub fn new(caller: Caller) -> Result<Self> {
        let dirs = Dirs::new(&caller)?;
        let config = Config::load(&dirs)?;
        Ok(Self {
            caller,
            dirs,
            config,
            in_agent: false,
        })
    }

    /// The context the agent resolves in for `caller`: the agent's own directories.
    pub fn in_agent(caller: Caller, dirs: Dirs) -> Result<Self> {
        let config = Config::load(&dirs)?;
        Ok(Self {
            caller,
            dirs,
            config,
            in_agent: true,
        })
    }
}
