//! Reading items from whichever store holds them: the local vault (through the agent) or
//! 1Password (`op://Vault/Item`, or every item when `store = "1password"`).

use crate::config::StoreKind;
use crate::ctx::Ctx;
use crate::item::Item;
use crate::vault::{self, Identity};
use crate::{Error, Result, agent, onepassword, prompt};

/// The store an item name refers to.
pub fn store_of(ctx: &Ctx, name: &str) -> StoreKind {
    if name.starts_with("op://") {
        StoreKind::OnePassword
    } else {
        ctx.config.store
    }
}

pub fn get_item(ctx: &Ctx, name: &str) -> Result<Item> {
    match store_of(ctx, name) {
        StoreKind::OnePassword => onepassword::get_item(ctx, name),
        StoreKind::Local => {
            let id = identity(ctx)?;
            let data = vault::load(&ctx.dirs, &id)?;
            data.find(name)
                .cloned()
                .ok_or_else(|| Error::NoSuchItem(name.to_owned()))
        }
    }
}

/// The item if it can be had without asking anyone: the local vault through a running,
/// unlocked agent, or a 1Password item the agent already holds. Never prompts, never calls
/// `op` (for the prompt hook). `Ok(None)` when it would have to.
pub fn held_item(ctx: &Ctx, name: &str) -> Result<Option<Item>> {
    match store_of(ctx, name) {
        StoreKind::OnePassword => onepassword::cached_item(ctx, name),
        StoreKind::Local => {
            let Some(id) = agent::identity(&ctx.dirs)? else {
                return Ok(None);
            };
            vault::load(&ctx.dirs, &id)?
                .find(name)
                .cloned()
                .map(Some)
                .ok_or_else(|| Error::NoSuchItem(name.to_owned()))
        }
    }
}

/// Item titles in the configured store.
pub fn list_titles(ctx: &Ctx) -> Result<Vec<String>> {
    match ctx.config.store {
        StoreKind::OnePassword => onepassword::list_titles(ctx),
        StoreKind::Local => {
            let id = identity(ctx)?;
            Ok(vault::load(&ctx.dirs, &id)?
                .items
                .iter()
                .map(|i| i.title.clone())
                .collect())
        }
    }
}

/// The name to store for a default: the item's own title (matched case-insensitively), or an
/// `op://` reference once it reads. Errors when no such item exists.
pub fn existing_name(ctx: &Ctx, name: &str) -> Result<String> {
    if name.starts_with("op://") {
        get_item(ctx, name)?;
        return Ok(name.to_owned());
    }
    list_titles(ctx)?
        .into_iter()
        .find(|t| t.eq_ignore_ascii_case(name))
        .ok_or_else(|| Error::NoSuchItem(name.to_owned()))
}

/// The vault identity: from the agent, else asked on the terminal (which starts the agent so
/// the next command does not ask again), else an error naming `op-aws unlock`.
pub fn identity(ctx: &Ctx) -> Result<Identity> {
    vault::ensure_exists(&ctx.dirs)?;
    if let Some(id) = agent::identity(&ctx.dirs)? {
        return Ok(id);
    }
    if !ctx.caller.terminal {
        return Err(Error::LockedNoTerminal);
    }
    let pass = prompt::read_hidden("op-aws: vault passphrase: ")?;
    let id = vault::unlock(&ctx.dirs, pass)?;
    let exe = std::env::current_exe().map_err(|e| Error::Agent(e.to_string()))?;
    agent::unlock(
        &ctx.dirs,
        &op_aws_exe(&exe),
        Some(&id),
        ctx.config.agent_idle(),
    )?;
    Ok(id)
}

/// The `op-aws` binary to start the agent with: ourselves, unless we are the nushell plugin.
pub fn op_aws_exe(current: &std::path::Path) -> std::path::PathBuf {
    let is_plugin = current
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("nu_plugin"));
    if is_plugin {
        current.with_file_name("op-aws")
    } else {
        current.to_owned()
    }
}
