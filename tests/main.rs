//! One integration binary (one link step). Files are named for what they prove.
// The tests are an edge like `main`: they read their own process's environment to set up the
// hermetic ones they hand to op-aws.
#![allow(clippy::disallowed_methods)]

mod support;

mod agents;
mod architecture;
mod children;
mod conformance;
mod console;
mod crash;
mod endpoint;
mod foundation;
mod front;
mod hardening_agent;
mod hardening_files;
mod hardening_process;
mod hardening_sessions;
mod hardening_signing;
mod hardening_terminal;
mod hardening_vault;
mod injection;
mod install;
mod keyless;
mod keys;
mod nu;
mod onepassword;
mod opplugin;
mod package;
mod quick_unlock;
mod quoting;
mod resolver;
mod sandbox;
mod sdks;
mod shells;
mod signin;
mod sso;
mod sts;
mod teams;
mod unlock;
