//! The agent: the credential broker, one process per user and runtime directory. It sits beside
//! the front ends (its caller arrives over a socket); everything reaches it through
//! [`crate::link`].
//!
//! - [`process`]: the agent's main loop (`op-aws agent`) and the nonce its starter hands it.
//! - `pool`: the workers, which accept connections and answer what their clients ask.
//! - `readers`: reading the requests that come slowly (one thread for all).
//! - `respond`: one request to one response (the peer and nonce rules).
//! - `answer`: the answers, and the resolver's way into the agent's state.
//! - `state`: what the agent holds, its clocks and caches.
//! - `approve`: holding and approval (quick unlock).
//! - `sandbox`: the sandboxes' capabilities (`op-aws sandbox`): one socket each, every
//!   request on it that sandbox's agent's; `capability` is what the agent keeps of one.
//! - `watchdog`: hardening, timeouts, suspend and signals.
//! - [`hold`]: the timers as a state machine (unlocked, held for quick unlock, forgotten).

mod answer;
mod approve;
mod capability;
pub mod hold;
mod pool;
pub mod process;
mod readers;
pub(crate) mod respond;
mod sandbox;
mod state;
mod watchdog;
