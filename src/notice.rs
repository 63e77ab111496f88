//! Things to tell the person once, not on every command: a marker per notice in the runtime
//! directory (cleared at logout or reboot where it is `XDG_RUNTIME_DIR`).

use crate::ctx::Ctx;
use crate::fsutil;

/// True the first time `key` is asked about (and when the marker cannot be kept: better said
/// twice than never).
pub fn first_time(ctx: &Ctx, key: &serde_json::Value) -> bool {
    let dir = ctx.dirs.runtime.join("notices");
    if fsutil::ensure_private_dir(&ctx.dirs.runtime).is_err()
        || fsutil::ensure_private_dir(&dir).is_err()
    {
        return true;
    }
    let path = dir.join(crate::digest::hash(key));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
    {
        Ok(_) => true,
        Err(e) => e.kind() != std::io::ErrorKind::AlreadyExists,
    }
}
