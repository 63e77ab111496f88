//! What every command needs: the caller's context, the directories, the user's settings and
//! the way to the agent.

use crate::Result;
use crate::caller::Caller;
use crate::config::Config;
use crate::dirs::Dirs;
use crate::link::client::Link;

pub struct Ctx {
    pub caller: Caller,
    pub dirs: Dirs,
    pub config: Config,
    /// How the resolver and the engines reach the agent: its socket, or, inside the agent,
    /// its own state ([`Link::is_in_process`]).
    pub agent: Link,
}

impl Ctx {
    pub fn new(caller: Caller) -> Result<Self> {
        let dirs = Dirs::new(&caller)?;
        let agent = Link::for_caller(&dirs, &caller);
        Self::with_link(caller, dirs, agent)
    }

    /// A context in `dirs` that reaches the agent through `agent` (the agent resolving for a
    /// caller uses its own directories and itself).
    pub fn with_link(caller: Caller, dirs: Dirs, agent: Link) -> Result<Self> {
        let config = Config::load(&dirs)?;
        Ok(Self {
            caller,
            dirs,
            config,
            agent,
        })
    }
}
