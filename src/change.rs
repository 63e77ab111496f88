//! The write side: what `use` and `clear` change, decided here once; the CLI and the nushell
//! plugin only render it (and change their own shell's variables, which only they can).

use std::path::Path;

use crate::ctx::Ctx;
use crate::model::scope::{Applied, Scope};
use crate::scope::{self};
use crate::{Error, Result, store};

/// Where `use` makes an item the default.
pub enum Target<'a> {
    /// This terminal: the front end sets [`scope::SESSION_VAR`] in its shell.
    Session,
    /// `dir` (relative to the caller's directory) and below.
    Directory {
        dir: &'a Path,
        export: bool,
    },
    Global,
}

/// What `use` did: the item's stored name and the default it now is.
pub struct Used {
    pub item: String,
    pub scope: Scope,
}

/// Makes `item` the default at `target`: the item must exist (its own title is stored, or the
/// `op://` reference once it reads); a session default is only decided here, the front end
/// sets it.
pub fn use_item(ctx: &Ctx, item: &str, target: Target<'_>) -> Result<Used> {
    let item = store::existing_name(ctx, item)?;
    let scope = match target {
        Target::Session => Scope::Session,
        Target::Directory { dir, export } => {
            let dir = scope::normalize_dir(dir, &ctx.caller.cwd)?;
            scope::set_directory(&ctx.dirs, &dir, &item, export)?;
            Scope::Directory(dir)
        }
        Target::Global => {
            scope::set_global(&ctx.dirs, &item)?;
            Scope::Global
        }
    };
    Ok(Used { item, scope })
}

/// What `clear` removes here and what stays.
pub struct Clearing {
    /// The defaults to remove, in precedence order (a session default first, if any).
    pub remove: Vec<Applied>,
    /// The defaults that apply here from files op-aws never edits (a profile's item in the
    /// AWS config or the project file, a trusted project file's default): they stay.
    pub kept: Vec<Applied>,
}

impl Clearing {
    /// The session default among those to remove: the front end unsets it in its shell.
    pub fn session(&self) -> Option<&Applied> {
        self.remove.iter().find(|a| a.scope == Scope::Session)
    }
}

/// What `clear` (`all`: `clear --all`) would remove here. Without `all`, one default: the one
/// in effect; when that one lives in a file op-aws does not edit, an error that says so (and
/// nothing is removed).
pub fn plan_clear(ctx: &Ctx, all: bool) -> Result<Clearing> {
    let here = crate::report::here(ctx)?;
    let (kept, removable): (Vec<_>, Vec<_>) = here
        .candidates
        .into_iter()
        .partition(|a| matches!(a.scope, Scope::Profile(_) | Scope::Project(_)));
    // A kept one in effect before anything clear could remove.
    let blocking = kept.first().filter(|k| {
        !all && (matches!(k.scope, Scope::Profile(_))
            || removable
                .first()
                .is_none_or(|r| matches!(r.scope, Scope::Global)))
    });
    if let Some(b) = blocking {
        return Err(Error::ClearKept {
            item: b.item.clone(),
            scope: b.scope.to_string(),
            project: match &b.scope {
                Scope::Project(d) => Some(d.clone()),
                _ => None,
            },
        });
    }
    let remove = if all {
        removable
    } else {
        removable.into_iter().take(1).collect()
    };
    Ok(Clearing { remove, kept })
}

/// Removes the stored defaults of `plan` (directory and global; the session default is the
/// front end's to unset).
pub fn clear(ctx: &Ctx, plan: &Clearing) -> Result<()> {
    let scopes: Vec<Scope> = plan.remove.iter().map(|a| a.scope.clone()).collect();
    scope::remove_stored(&ctx.dirs, &scopes)
}
