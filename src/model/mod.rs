//! The nouns: the values that cross the agent's wire or that several engines share. This floor
//! imports only the base; what the values do beyond describing themselves stays with the engine
//! that owns them (an engine adds its own `impl` blocks).

pub mod env;
pub mod policy;
pub mod project;
pub mod resolution;
pub mod sandbox;
pub mod scope;
pub mod sso;
