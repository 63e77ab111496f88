//! One file per command, as in nushell's own plugins. Each file ends with its examples run
//! through nu-plugin-test-support.

mod cache;
mod clear;
mod export;
mod inspect;
mod items;
mod main;
mod profiles;
mod status;
mod r#use;

pub use cache::Cache;
pub use clear::Clear;
pub use export::Export;
pub use inspect::Inspect;
pub use items::Items;
pub use main::Main;
pub use profiles::Profiles;
pub use status::Status;
pub use r#use::Use;
