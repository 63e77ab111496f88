//! Security keys, Touch ID, TPMs: the vault identity wrapped to an age plugin's recipient
//! (`age1yubikey1…`, `age1se1…`, `age1tpm1…`), one file per key beside the vault
//! (`key-LABEL.age`: age refuses to mix a passphrase recipient with others in one file), listed
//! in `keys.json` (label, plugin, recipient, the plugin's identity line, when added). Each file
//! decrypts with the stock `age` tool and that plugin: `age -d -i IDENTITY-FILE key-LABEL.age`.
//!
//! A plugin is a program op-aws runs to open the vault, so it is run only from an absolute
//! PATH directory that is not the current directory and that no one else can write to.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::caller::Caller;
use crate::ctx::Ctx;
use crate::dirs::Dirs;
use crate::prompt::Asker;
use crate::vault::Identity;
use crate::{Error, Result, fsutil};

/// One security key, as `keys.json` lists it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Key {
    pub label: String,
    /// The plugin's name: `age-plugin-NAME` runs it.
    pub plugin: String,
    pub recipient: String,
    /// The plugin's identity line (`AGE-PLUGIN-NAME-1…`): for hardware plugins it names the
    /// key, it is no secret.
    pub identity: String,
    /// Seconds since the epoch.
    pub added: u64,
}

#[derive(Default, Serialize, Deserialize)]
struct Index {
    keys: Vec<Key>,
}

fn index_path(dirs: &Dirs) -> PathBuf {
    dirs.data.join("keys.json")
}

pub fn key_file(dirs: &Dirs, label: &str) -> PathBuf {
    dirs.data.join(format!("key-{label}.age"))
}

/// The keys, in the order they were added (the order `unlock` tries them in).
pub fn list(dirs: &Dirs) -> Result<Vec<Key>> {
    let path = index_path(dirs);
    let Some(bytes) = fsutil::read_optional(&path)? else {
        return Ok(Vec::new());
    };
    let index: Index = serde_json::from_slice(&bytes).map_err(|e| Error::CorruptVault {
        path: path.clone(),
        why: crate::vault::json_error(&e),
    })?;
    Ok(index.keys)
}

fn save(dirs: &Dirs, keys: Vec<Key>) -> Result<()> {
    let json =
        serde_json::to_vec_pretty(&Index { keys }).map_err(|e| Error::Invalid(e.to_string()))?;
    fsutil::write_atomic(&index_path(dirs), &json, 0o600)
}

/// Labels become file names: letters, digits, `.`, `_`, `-`, at most 64.
pub fn valid_label(l: &str) -> bool {
    (1..=64).contains(&l.len())
        && !l.starts_with(['.', '-'])
        && l.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// Wraps `id` to `recipient` and lists it: `identity_file` is the file the plugin generated
/// (its `AGE-PLUGIN-NAME-1…` line for this plugin is kept). The label defaults to the plugin's
/// name (`yubikey`, then `yubikey-2`, …).
pub fn add(
    ctx: &Ctx,
    id: &Identity,
    recipient: &str,
    identity_file: &str,
    label: Option<&str>,
) -> Result<Key> {
    let parsed = age::plugin::Recipient::from_str(recipient.trim()).map_err(|_| {
        Error::Invalid(format!(
            "{:?} is not an age plugin recipient (age1NAME1…)",
            crate::error::printable(recipient)
        ))
    })?;
    let plugin = parsed.plugin().to_owned();
    let identity = identity_file
        .lines()
        .map(str::trim)
        .find(|l| age::plugin::Identity::from_str(l).is_ok_and(|i| i.plugin() == plugin))
        .ok_or_else(|| {
            Error::Invalid(format!(
                "the identity file has no AGE-PLUGIN-{}-1… line",
                plugin.to_ascii_uppercase()
            ))
        })?
        .to_owned();
    let _lock = fsutil::lock_exclusive(&ctx.dirs.vault_file())?;
    let mut keys = list(&ctx.dirs)?;
    let label = match label {
        Some(l) if !valid_label(l) => {
            return Err(Error::Invalid(format!(
                "{:?} cannot be a key's label: use letters, digits, '.', '_' and '-' (at most 64)",
                crate::error::printable(l)
            )));
        }
        Some(l) if keys.iter().any(|k| k.label == l) => return Err(Error::KeyExists(l.to_owned())),
        Some(l) => l.to_owned(),
        None => (1..)
            .map(|n| {
                if n == 1 {
                    plugin.clone()
                } else {
                    format!("{plugin}-{n}")
                }
            })
            .find(|l| !keys.iter().any(|k| &k.label == l))
            .unwrap_or_default(),
    };
    let key = Key {
        label,
        plugin,
        recipient: recipient.trim().to_owned(),
        identity,
        added: crate::item::now_secs(),
    };
    let asker = Asker::for_caller(&ctx.caller, &ctx.config);
    let wrapped = wrap(ctx, &asker, id, &key)?;
    // The file first: an entry without its file would be tried at every unlock.
    fsutil::write_atomic(&key_file(&ctx.dirs, &key.label), &wrapped, 0o600)?;
    keys.push(key.clone());
    save(&ctx.dirs, keys)?;
    Ok(key)
}

/// Forgets a key: its entry, then its file.
pub fn remove(dirs: &Dirs, label: &str) -> Result<Key> {
    let _lock = fsutil::lock_exclusive(&dirs.vault_file())?;
    let mut keys = list(dirs)?;
    let i = keys
        .iter()
        .position(|k| k.label == label)
        .ok_or_else(|| Error::NoSuchKey(label.to_owned()))?;
    let key = keys.remove(i);
    save(dirs, keys)?;
    let path = key_file(dirs, &key.label);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(key),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(key),
        Err(e) => Err(Error::io(&path, e)),
    }
}

/// Every key's file wrapping `id` (for `vault rekey`); a key whose plugin cannot run stops it.
pub fn rewrapped(ctx: &Ctx, id: &Identity) -> Result<Vec<(PathBuf, Vec<u8>)>> {
    let asker = Asker::for_caller(&ctx.caller, &ctx.config);
    list(&ctx.dirs)?
        .iter()
        .map(|k| Ok((key_file(&ctx.dirs, &k.label), wrap(ctx, &asker, id, k)?)))
        .collect()
}

fn wrap(ctx: &Ctx, asker: &Asker, id: &Identity, key: &Key) -> Result<Vec<u8>> {
    let failed = |why: String| Error::Key {
        label: key.label.clone(),
        why,
    };
    plugin_binary(&ctx.caller, &key.plugin).map_err(failed)?;
    let recipient = age::plugin::Recipient::from_str(&key.recipient)
        .map_err(|_| failed("its recipient is malformed".into()))?;
    let plugin = age::plugin::RecipientPluginV1::new(
        &key.plugin,
        &[recipient],
        &[],
        Callbacks::new(ctx, asker, key),
    )
    .map_err(|e| failed(one_line(&e.to_string())))?;
    let text = id.key_text();
    crate::vault::encrypt(&plugin, text.as_bytes()).map_err(|e| failed(one_line(&e.to_string())))
}

/// Opens the vault identity with `key` (the plugin asks for what it needs through `asker`).
pub fn open(ctx: &Ctx, asker: &Asker, key: &Key) -> Result<Identity> {
    let failed = |why: String| Error::Key {
        label: key.label.clone(),
        why,
    };
    if !ctx.caller.is_process {
        return Err(failed("age plugins run only from op-aws itself".into()));
    }
    // age would print the plugin's answer, the unwrapped file key, to stderr.
    if ctx.caller.var("AGEDEBUG") == Some("plugin") {
        return Err(failed(
            "AGEDEBUG=plugin is set, which would print the unwrapped key: unset it".into(),
        ));
    }
    plugin_binary(&ctx.caller, &key.plugin).map_err(failed)?;
    let path = key_file(&ctx.dirs, &key.label);
    let ct = fsutil::read_optional(&path)?
        .ok_or_else(|| failed(format!("{} is missing", path.display())))?;
    let identity = age::plugin::Identity::from_str(&key.identity)
        .map_err(|_| failed("its identity is malformed".into()))?;
    let plugin = age::plugin::IdentityPluginV1::new(
        &key.plugin,
        &[identity],
        Callbacks::new(ctx, asker, key),
    )
    .map_err(|e| failed(one_line(&e.to_string())))?;
    let text = age::decrypt(&plugin, &ct)
        .map(Zeroizing::new)
        .map_err(|e| failed(one_line(&e.to_string())))?;
    Identity::from_key_text(&ctx.dirs, &path, &text)
}

/// age's messages span lines (plugin errors list each one) and isolate names with U+2068/9.
fn one_line(s: &str) -> String {
    let s = s.replace(['\u{2068}', '\u{2069}'], "");
    crate::error::printable(
        &s.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("[ Did age not do"))
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// macOS's `admin` group: its members may become root with their own password, so a
/// directory they can write (Homebrew's `/opt/homebrew/bin`: the installing user's, group
/// admin, 0775) is no easier to plant in than one of root's.
const MACOS_ADMIN_GID: u32 = 80;

/// A path's owner and mode, as the plugin check reads them.
#[derive(Debug, Clone, Copy)]
struct Owner {
    uid: u32,
    gid: u32,
    mode: u32,
}

/// Why `p` is no safe place to run a plugin from: another user's, or writable by another user
/// than us and root (a group `admin_group` excepted: macOS's admin group, see
/// [`MACOS_ADMIN_GID`]). None: safe.
fn unsafe_owner(p: &Path, o: Owner, me: u32, admin_group: Option<u32>) -> Option<String> {
    if o.uid != me && o.uid != 0 {
        Some(format!("{} belongs to another user", p.display()))
    } else if o.mode & 0o002 != 0 || (o.mode & 0o020 != 0 && Some(o.gid) != admin_group) {
        Some(format!("{} is writable by others", p.display()))
    } else {
        None
    }
}

pub fn plugin_binary_name(plugin: &str) -> String {
    format!("age-plugin-{plugin}")
}

/// The `age-plugin-NAME` that PATH finds first (the one age runs), if it is safe to run: in an
/// absolute directory that is not the current one, that directory and the file (and, through
/// a symlink, the real file's directory) owned by us or root and writable by no one else.
/// Errors are what to tell the person.
pub fn plugin_binary(caller: &Caller, name: &str) -> std::result::Result<PathBuf, String> {
    use std::os::unix::fs::MetadataExt;
    let binary = plugin_binary_name(name);
    let me = nix::unistd::getuid().as_raw();
    let cwd = caller
        .cwd
        .canonicalize()
        .unwrap_or_else(|_| caller.cwd.clone());
    let Some(path_var) = caller.var_os("PATH") else {
        return Err(format!("{binary} is not installed (PATH is not set)"));
    };
    let admin =
        (crate::os::Platform::CURRENT == crate::os::Platform::MacOs).then_some(MACOS_ADMIN_GID);
    let unsafe_owner = |p: &Path| -> Option<String> {
        let m = std::fs::metadata(p).ok()?;
        unsafe_owner(
            p,
            Owner {
                uid: m.uid(),
                gid: m.gid(),
                mode: m.mode(),
            },
            me,
            admin,
        )
    };
    for dir in std::env::split_paths(path_var) {
        // An empty or relative entry is the current directory, or below it.
        let abs = caller.absolute(&dir);
        let candidate = abs.join(&binary);
        // Runnable by us, as age's lookup judges it: a file with an x bit for someone else
        // only is skipped there, so it is skipped here too and the one age runs is vetted.
        let runnable = candidate.metadata().is_ok_and(|m| m.is_file())
            && nix::unistd::access(&candidate, nix::unistd::AccessFlags::X_OK).is_ok();
        if !runnable {
            continue;
        }
        let refuse = |why: String| Err(format!("not running {}: {why}", candidate.display()));
        if !dir.is_absolute() {
            return refuse("its PATH entry is relative".into());
        }
        let real_dir = abs.canonicalize().unwrap_or(abs.clone());
        if real_dir == cwd {
            return refuse("it is in the current directory".into());
        }
        let real = candidate.canonicalize().unwrap_or(candidate.clone());
        let real_parent = real.parent().map(Path::to_owned).unwrap_or_default();
        for p in [&abs, &candidate, &real, &real_parent] {
            if let Some(why) = unsafe_owner(p) {
                return refuse(why);
            }
        }
        return Ok(candidate);
    }
    Err(format!("{binary} is not installed (not found on PATH)"))
}

/// How a plugin reaches the person: its messages, PIN and confirmation requests go to the
/// terminal, else pinentry.
#[derive(Clone)]
struct Callbacks {
    asker: Asker,
    caller: Caller,
    label: String,
}

impl Callbacks {
    fn new(ctx: &Ctx, asker: &Asker, key: &Key) -> Self {
        Self {
            asker: asker.clone(),
            caller: ctx.caller.clone(),
            label: key.label.clone(),
        }
    }

    fn why(&self, text: &str) -> String {
        crate::error::printable(&format!(
            "Unlocking the op-aws vault with key {:?}: {text}",
            self.label
        ))
    }
}

impl age::Callbacks for Callbacks {
    fn display_message(&self, message: &str) {
        let _ = self.asker.message(&self.caller, &self.why(message));
    }

    fn confirm(&self, message: &str, _yes: &str, _no: Option<&str>) -> Option<bool> {
        self.asker
            .confirm(&self.caller, &self.why(message), true)
            .ok()
            .flatten()
    }

    fn request_public_string(&self, description: &str) -> Option<String> {
        use secrecy::ExposeSecret;
        self.request_passphrase(description)
            .map(|s| s.expose_secret().to_owned())
    }

    fn request_passphrase(&self, description: &str) -> Option<SecretString> {
        if let Asker::Terminal = self.asker {
            eprintln!("op-aws: {}", self.why(description));
        }
        self.asker
            .secret(&self.caller, &self.why(description), "PIN:", None)
            .ok()
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: u32 = 501;

    fn check(uid: u32, gid: u32, mode: u32, admin: Option<u32>) -> Option<String> {
        unsafe_owner(
            Path::new("/opt/homebrew/bin"),
            Owner { uid, gid, mode },
            ME,
            admin,
        )
    }

    #[test]
    fn homebrew_layout_is_accepted_on_macos_only() {
        let mac = Some(MACOS_ADMIN_GID);
        // /opt/homebrew/bin: the installing user's, group admin, 0775.
        assert_eq!(check(ME, MACOS_ADMIN_GID, 0o40775, mac), None);
        // The Cellar's binary it links to: 0755 (or 0555).
        assert_eq!(check(ME, MACOS_ADMIN_GID, 0o100755, mac), None);
        // Linux knows no such group: group-writable is writable by others.
        assert!(check(ME, MACOS_ADMIN_GID, 0o40775, None).is_some());
    }

    #[test]
    fn another_users_or_a_shared_directory_is_refused() {
        let mac = Some(MACOS_ADMIN_GID);
        // Group-writable by a group other than admin (staff: every user of the Mac).
        let why = check(ME, 20, 0o40775, mac).unwrap();
        assert!(why.contains("writable by others"), "{why}");
        // World-writable, sticky or not.
        assert!(check(ME, MACOS_ADMIN_GID, 0o41777, mac).is_some());
        assert!(check(0, 0, 0o40757, mac).is_some());
        // Another user's.
        let why = check(502, MACOS_ADMIN_GID, 0o40755, mac).unwrap();
        assert!(why.contains("belongs to another user"), "{why}");
        // Root's and our own, closed: fine everywhere.
        assert_eq!(check(0, 0, 0o40755, None), None);
        assert_eq!(check(ME, 20, 0o40700, None), None);
    }
}
