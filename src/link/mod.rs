//! The way to the agent, beside [`crate::ctx::Ctx`]: it imports only the base and the nouns
//! ([`crate::model`]), so every engine can hold it without naming the agent's process.
//!
//! - [`protocol`]: what travels on the agent's socket — requests, answers, the caller's
//!   context, the peer check.
//! - [`client`]: [`client::Link`], the one way everything else reaches the agent (over the
//!   socket, or in process inside the agent).

pub mod client;
pub mod protocol;
