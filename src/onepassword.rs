//! The 1Password store: items read with the `op` CLI.

use crate::ctx::Ctx;
use crate::item::Item;
use crate::{Error, Result};

pub fn get_item(_ctx: &Ctx, name: &str) -> Result<Item> {
    Err(Error::OnePassword(format!("cannot read {name}: the 1Password store is not built yet")))
}

pub fn list_titles(_ctx: &Ctx) -> Result<Vec<String>> {
    Err(Error::OnePassword("the 1Password store is not built yet".into()))
}
