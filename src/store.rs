//! Reading items from whichever store holds them: the local vault (through the agent) or
//! 1Password (`op://Vault/Item`, or every item when `store = "1password"`).

use crate::config::StoreKind;
use crate::ctx::Ctx;
use crate::item::Item;
use crate::vault;
use crate::{Error, Result, onepassword, unlock};

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
        StoreKind::Local => with_agent(ctx, Some(name), || ctx.agent.item(name)),
    }
}

/// The item if it can be had without asking anyone: the local vault through a running,
/// unlocked agent, or a 1Password item the agent already holds. Never prompts, never calls
/// `op` (for the prompt hook). `Ok(None)` when it would have to.
pub fn held_item(ctx: &Ctx, name: &str) -> Result<Option<Item>> {
    match store_of(ctx, name) {
        StoreKind::OnePassword => onepassword::cached_item(ctx, name),
        StoreKind::Local => match ctx.agent.item(name) {
            Err(Error::Locked) => Ok(None),
            other => other,
        },
    }
}

/// Item titles in the configured store.
pub fn list_titles(ctx: &Ctx) -> Result<Vec<String>> {
    match ctx.config.store {
        StoreKind::OnePassword => onepassword::list_titles(ctx),
        StoreKind::Local => Ok(list(ctx)?.into_iter().map(|l| l.title).collect()),
    }
}

/// The local vault's items, titles and labels only.
pub fn list(ctx: &Ctx) -> Result<Vec<vault::Listing>> {
    with_agent(ctx, None, || ctx.agent.list())
}

/// Changes the local vault (the agent applies it; unlocking first, on a terminal).
pub fn update(ctx: &Ctx, change: vault::Change) -> Result<()> {
    unlocked_for(ctx, None)?;
    ctx.agent.update(change)
}

/// Asks the agent (`Ok(None)`: none runs); when it is not there or locked, unlocks (asking the
/// person about `item`) and asks once more. One round trip when the agent is unlocked: the hot
/// path.
fn with_agent<T>(ctx: &Ctx, item: Option<&str>, ask: impl Fn() -> Result<Option<T>>) -> Result<T> {
    vault::ensure_exists(&ctx.dirs)?;
    match ask() {
        Ok(Some(v)) => return Ok(v),
        Ok(None) | Err(Error::Locked) => {}
        Err(e) => return Err(e),
    }
    unlocked_for(ctx, item)?;
    ask()?.ok_or(Error::Locked)
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

/// An agent that holds the vault identity: already running, else started after asking for the
/// passphrase (the terminal, else pinentry), else an error naming `op-aws unlock`.
pub fn unlocked(ctx: &Ctx) -> Result<()> {
    unlocked_for(ctx, None)
}

/// As [`unlocked`]; a prompt names `item` (and the caller's profile) as the reason.
pub fn unlocked_for(ctx: &Ctx, item: Option<&str>) -> Result<()> {
    vault::ensure_exists(&ctx.dirs)?;
    if ctx.agent.status()?.is_some_and(|a| a.unlocked) {
        return Ok(());
    }
    let why = unlock::why_locked(item, ctx.caller.profile());
    let id = unlock::open(ctx, unlock::Method::Keys, &why)?;
    ctx.agent
        .unlock(Some(&id), &crate::sysauth::agent_times(&ctx.config, None))
}
