//! Tokens op-aws keeps for every process (IAM Identity Center's, AWS Sign-In's): a JSON value
//! encrypted to the vault's recipient in a blob beside the STS cache, decrypted only by the
//! agent (which answers nothing but that kind of token); with no vault to encrypt to, in the
//! agent's memory only (gone on lock), never a file.

use std::path::Path;

use zeroize::Zeroizing;

use crate::ctx::Ctx;
use crate::{Error, Result, fsutil, vault};

/// `PREFIX-KEY.json`: what is known of a token without decrypting it (also its lock's name).
pub fn meta_path(ctx: &Ctx, prefix: &str, key: &str) -> std::path::PathBuf {
    ctx.dirs.cache.join(format!("{prefix}-{key}.json"))
}

/// `PREFIX-KEY.age`: the token, encrypted.
pub fn blob_path(ctx: &Ctx, prefix: &str, key: &str) -> std::path::PathBuf {
    ctx.dirs.cache.join(format!("{prefix}-{key}.age"))
}

/// What is known of the token `PREFIX-KEY` without decrypting it.
pub fn read_meta<T: serde::de::DeserializeOwned>(ctx: &Ctx, prefix: &str, key: &str) -> Option<T> {
    let bytes = fsutil::read_optional(&meta_path(ctx, prefix, key)).ok()??;
    serde_json::from_slice(&bytes).ok()
}

/// What is known of every `PREFIX-*` token kept.
pub fn metas<T: serde::de::DeserializeOwned>(ctx: &Ctx, prefix: &str) -> Result<Vec<T>> {
    let rd = match std::fs::read_dir(&ctx.dirs.cache) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(&ctx.dirs.cache, e)),
    };
    Ok(rd
        .filter_map(std::result::Result::ok)
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            let key = n
                .strip_prefix(prefix)?
                .strip_prefix('-')?
                .strip_suffix(".json")?
                .to_owned();
            read_meta(ctx, prefix, &key)
        })
        .collect())
}

/// Where a token was kept: `"file"` (encrypted to the vault) or `"agent"` (memory only).
pub type Store = &'static str;

/// Keeps `json` in `blob` (encrypted) or, without a vault, in the agent under `agent_key`.
pub fn put(ctx: &Ctx, blob: &Path, agent_key: &str, json: Zeroizing<String>) -> Result<Store> {
    fsutil::ensure_private_dir(&ctx.dirs.cache)?;
    // Encrypted to recipient.txt only once it is checked against the identity the agent holds
    // (a swapped one is refused: the tokens would open with someone else's key).
    let recipient = if vault::exists(&ctx.dirs) {
        let held = ctx.agent.recipient().ok().flatten();
        vault::checked_recipient(&ctx.dirs, held.as_deref())?
    } else {
        None
    };
    if let Some(recipient) = recipient {
        let ct = vault::encrypt(&recipient, json.as_bytes())?;
        fsutil::write_atomic(blob, &ct, 0o600)?;
        return Ok("file");
    }
    let _ = std::fs::remove_file(blob);
    if ctx.agent.status()?.is_none() {
        ctx.agent.unlock(
            None,
            &crate::config::AgentTimes::forget_when_idle(ctx.config.agent_idle()),
        )?;
    }
    ctx.agent.cache_put(agent_key, json)?;
    Ok("agent")
}

/// The token kept in `store` (`"file"`: `from_file`, which asks the agent to decrypt, unlocking
/// first on a terminal; `"agent"`: its memory under `agent_key`). None when it is gone.
pub fn get(
    ctx: &Ctx,
    store: &str,
    agent_key: &str,
    from_file: impl Fn() -> Result<Option<Zeroizing<String>>>,
) -> Result<Option<Zeroizing<String>>> {
    let json = if store == "file" {
        match from_file() {
            Err(Error::Locked) => {
                crate::store::unlocked(ctx)?;
                from_file()?
            }
            other => other?,
        }
    } else {
        ctx.agent.cache_get(agent_key)?
    };
    Ok(json.filter(|j| !j.is_empty()))
}

/// Forgets the token: the blob, and the agent's copy.
pub fn forget(ctx: &Ctx, blob: &Path, agent_key: &str) {
    let _ = std::fs::remove_file(blob);
    let _ = ctx
        .agent
        .cache_put(agent_key, Zeroizing::new(String::new()));
}

/// Decrypts the blob `dir/NAME` for the agent, where NAME is `prefix` and a 32-digit hex key
/// and `.age`; answered only when `is_token` accepts its plaintext, so this decrypts nothing
/// else (not the vault, not a session).
pub fn decrypt(
    id: &vault::Identity,
    dir: &Path,
    prefix: &str,
    key: &str,
    is_token: impl Fn(&[u8]) -> Option<Zeroizing<String>>,
) -> Result<Option<Zeroizing<String>>> {
    let not_one = || Error::Invalid(format!("not a {prefix} token"));
    if key.len() != 32 || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(not_one());
    }
    let Some(ct) = fsutil::read_optional(&dir.join(format!("{prefix}-{key}.age")))? else {
        return Ok(None);
    };
    let plain = id.decrypt(&ct).map_err(|_| not_one())?;
    is_token(&plain).map(Some).ok_or_else(not_one)
}
