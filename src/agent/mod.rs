//! The agent: the credential broker, one process per user and runtime directory. It sits beside
//! the front ends (its caller arrives over a socket); everything reaches it through
//! [`crate::link`].
//!
//! - [`process`]: the agent itself — state, connection pool, timers, signals, answers.
//! - [`hold`]: its timers as a state machine (unlocked, held for quick unlock, forgotten).

pub mod hold;
pub mod process;
