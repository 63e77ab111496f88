//! The agent: the credential broker, one process per user and runtime directory.
//!
//! - [`protocol`]: what travels on its socket — requests, answers, the caller's context, the
//!   peer check.
//! - [`client`]: [`client::Link`], the one way everything else reaches the agent (over the
//!   socket, or in process inside the agent).
//! - [`process`]: the agent itself — state, connection pool, timers, signals, answers.
//! - [`hold`]: its timers as a state machine (unlocked, held for quick unlock, forgotten).

pub mod client;
pub mod hold;
pub mod process;
pub mod protocol;
