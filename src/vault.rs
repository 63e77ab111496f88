//! The local vault: three files in the data directory.
//!
//! - `identity.age`: an X25519 identity (`AGE-SECRET-KEY-1…`), age-encrypted with the passphrase
//!   (scrypt), so the passphrase is stretched once per unlock, not once per read;
//! - `vault.age`: the items as JSON, age-encrypted to that identity's recipient;
//! - `recipient.txt`: the public recipient (`age1…`), so writers that only encrypt (the STS
//!   cache) need no unlock;
//! - `key-LABEL.age` and `keys.json`: the identity wrapped to security keys ([`crate::unlock::keys`]).
//!
//! Both `.age` files are standard age files: `age -d identity.age > key.txt` then
//! `age -d -i key.txt vault.age` gets everything out without op-aws (see docs/vault.md).

use std::io::{Read, Write};
use std::path::Path;
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::dirs::Dirs;
use crate::fsutil;
use crate::item::Item;
use crate::{Error, Result};

const FORMAT_VERSION: u32 = 1;
/// Refuse identity files that would make us spend minutes (or gigabytes) in scrypt.
const MAX_WORK_FACTOR: u8 = 22;

#[derive(Default, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct VaultData {
    pub version: u32,
    pub items: Vec<Item>,
    /// HMAC-SHA256 tags of `version` and `items`, one per identity the file is sealed for, each
    /// keyed by a key derived from that identity's secret: a file made with only the public
    /// recipient cannot have one (docs/vault.md).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub auth: Vec<String>,
}

/// What the tags cover.
#[derive(Serialize)]
struct Authenticated<'a> {
    version: u32,
    items: &'a [Item],
}

/// Written into the identity file once the vault is authenticated: from then on an
/// unauthenticated vault is refused (the file needs the passphrase to be made).
const AUTH_MARKER: &str = "# op-aws: vault authenticated (v1)";

fn auth_tag(id: &age::x25519::Identity, data: &VaultData) -> Result<String> {
    use hmac::Mac;
    use sha2::Digest;
    let mut key = sha2::Sha256::new();
    key.update(b"op-aws vault authentication v1\0");
    key.update(id.to_string().expose_secret().as_bytes());
    let key: Zeroizing<[u8; 32]> = Zeroizing::new(key.finalize().into());
    let body = serde_json::to_vec(&Authenticated {
        version: data.version,
        items: &data.items,
    })
    .map_err(|e| Error::Invalid(e.to_string()))?;
    let body = Zeroizing::new(body);
    let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(&key[..])
        .map_err(|e| Error::Invalid(e.to_string()))?;
    mac.update(&body);
    Ok(mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

fn authentic(id: &age::x25519::Identity, data: &VaultData) -> Result<bool> {
    use subtle::ConstantTimeEq;
    let want = auth_tag(id, data)?;
    Ok(data
        .auth
        .iter()
        .any(|t| bool::from(t.as_bytes().ct_eq(want.as_bytes()))))
}

impl VaultData {
    pub fn find(&self, name: &str) -> Option<&Item> {
        self.items
            .iter()
            .find(|i| i.title.eq_ignore_ascii_case(name))
    }
    pub fn find_mut(&mut self, name: &str) -> Option<&mut Item> {
        self.items
            .iter_mut()
            .find(|i| i.title.eq_ignore_ascii_case(name))
    }
}

/// A write to the vault, as data: the CLI says what to change, the agent (which alone holds the
/// identity) applies it under the vault lock and re-encrypts.
#[derive(Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// New items, all or none (an existing title refuses the whole change).
    Add {
        items: Vec<Item>,
    },
    Edit {
        name: String,
        /// `(label, value, concealed)`.
        set: Vec<(String, Zeroizing<String>, bool)>,
        /// `(old label, new label)`.
        rename: Vec<(String, String)>,
        unset: Vec<String>,
        title: Option<String>,
    },
    Remove {
        name: String,
    },
}

/// An item name is shown in terminals (`item list`, `status`, the hook's notices): no empty
/// one, and none that holds control characters (escape sequences) or bidirectional overrides.
pub fn check_title(title: &str) -> Result<()> {
    if title.trim().is_empty() {
        return Err(Error::Invalid("the item name is empty".into()));
    }
    if title.chars().any(crate::error::unprintable) {
        return Err(Error::Invalid(format!(
            "the item name {title:?} holds control characters (escape sequences, line breaks)\nhint: choose a name without them"
        )));
    }
    Ok(())
}

impl Change {
    pub fn apply(&self, data: &mut VaultData) -> Result<()> {
        match self {
            Self::Add { items } => {
                for i in items {
                    check_title(&i.title)?;
                    if data.find(&i.title).is_some() {
                        return Err(Error::ItemExists(i.title.clone()));
                    }
                }
                data.items.extend(items.iter().cloned());
            }
            Self::Edit {
                name,
                set,
                rename,
                unset,
                title,
            } => {
                if let Some(t) = title {
                    check_title(t)?;
                }
                if let Some(t) = title
                    && !t.eq_ignore_ascii_case(name)
                    && data.find(t).is_some()
                {
                    return Err(Error::ItemExists(t.clone()));
                }
                let item = data
                    .find_mut(name)
                    .ok_or_else(|| Error::NoSuchItem(name.clone()))?;
                for (old, new) in rename {
                    item.rename_field(old.trim(), new.trim())?;
                }
                for u in unset {
                    if !item.unset(u) {
                        return Err(Error::Invalid(format!(
                            "item {:?} has no field {u:?}",
                            item.title
                        )));
                    }
                }
                for (k, v, c) in set {
                    item.set(k, v.as_str().to_owned(), *c);
                }
                if let Some(t) = title {
                    item.title = t.trim().to_owned();
                }
                item.updated = crate::item::now_secs();
            }
            Self::Remove { name } => {
                let before = data.items.len();
                data.items.retain(|i| !i.title.eq_ignore_ascii_case(name));
                if data.items.len() == before {
                    return Err(Error::NoSuchItem(name.clone()));
                }
            }
        }
        Ok(())
    }
}

/// What `item list --json` shows of an item: never a value.
#[derive(Debug, Serialize, Deserialize)]
pub struct Listing {
    pub title: String,
    pub fields: Vec<String>,
    pub created: u64,
    pub updated: u64,
}

impl VaultData {
    pub fn listing(&self) -> Vec<Listing> {
        self.items
            .iter()
            .map(|i| Listing {
                title: i.title.clone(),
                fields: i.fields.iter().map(|f| f.label.clone()).collect(),
                created: i.created,
                updated: i.updated,
            })
            .collect()
    }
}

/// The unlocked identity.
pub struct Identity(age::x25519::Identity);

impl Identity {
    pub fn parse(s: &str) -> Result<Self> {
        age::x25519::Identity::from_str(s.trim())
            .map(Self)
            .map_err(|_| Error::Agent("the agent returned a malformed identity".into()))
    }
    pub fn to_secret_string(&self) -> SecretString {
        SecretString::from(self.0.to_string().expose_secret().to_owned())
    }
    pub fn recipient(&self) -> age::x25519::Recipient {
        self.0.to_public()
    }
    /// The identity as its file holds it (what a security key wraps).
    pub fn key_text(&self) -> Zeroizing<String> {
        key_text(&self.0)
    }
    /// An identity file's decrypted text (from `path`), checked against `recipient.txt`.
    pub fn from_key_text(dirs: &Dirs, path: &Path, text: &[u8]) -> Result<Self> {
        let id = parse_key_text(path, text)?;
        check_recipient(dirs, &id)?;
        Ok(id)
    }
    pub fn decrypt(
        &self,
        ciphertext: &[u8],
    ) -> std::result::Result<Zeroizing<Vec<u8>>, age::DecryptError> {
        age::decrypt(&self.0, ciphertext).map(Zeroizing::new)
    }
}

pub fn exists(dirs: &Dirs) -> bool {
    dirs.identity_file().exists()
}

pub fn ensure_exists(dirs: &Dirs) -> Result<()> {
    if exists(dirs) {
        Ok(())
    } else {
        Err(Error::NoVault(dirs.data.clone()))
    }
}

/// Creates a new, empty vault. `work_factor` is scrypt's log2(N); `None` lets age calibrate
/// it to about a second on this machine.
pub fn create(dirs: &Dirs, passphrase: SecretString, work_factor: Option<u8>) -> Result<()> {
    fsutil::ensure_private_dir(&dirs.data)?;
    let _lock = fsutil::lock_exclusive(&dirs.vault_file())?;
    if exists(dirs) {
        return Err(Error::VaultExists(dirs.data.clone()));
    }
    // A vault.age without identity.age is what an interrupted create (a full disk) leaves, or a
    // vault whose identity is gone: nothing can open it here. It is kept aside, never deleted,
    // so that a create can always follow the "no vault" that unlock reports.
    if dirs.vault_file().exists() {
        let aside = dirs.data.join(format!(
            "vault.age.without-identity-{}",
            crate::item::now_secs()
        ));
        std::fs::rename(dirs.vault_file(), &aside).map_err(|e| Error::io(&aside, e))?;
    }
    let identity = age::x25519::Identity::generate();
    let identity_ct = protect(&identity, passphrase, work_factor)?;
    let data = VaultData {
        version: FORMAT_VERSION,
        items: Vec::new(),
        auth: Vec::new(),
    };
    let vault_ct = seal(&[&identity], &data)?;
    // The vault first: a vault without identity is "no vault" and can be recreated, never the reverse.
    fsutil::write_atomic(&dirs.vault_file(), &vault_ct, 0o600)?;
    fsutil::write_atomic(
        &dirs.recipient_file(),
        format!("{}\n", identity.to_public()).as_bytes(),
        0o600,
    )?;
    fsutil::write_atomic(&dirs.identity_file(), &identity_ct, 0o600)
}

/// The identity file's contents: the key, encrypted with the passphrase (scrypt).
fn protect(
    identity: &age::x25519::Identity,
    passphrase: SecretString,
    work_factor: Option<u8>,
) -> Result<Vec<u8>> {
    let mut recipient = age::scrypt::Recipient::new(passphrase);
    if let Some(wf) = work_factor {
        recipient.set_work_factor(wf);
    }
    encrypt(&recipient, key_text(identity).as_bytes())
}

/// What an identity file holds once decrypted: a standard age identity file.
fn key_text(identity: &age::x25519::Identity) -> Zeroizing<String> {
    Zeroizing::new(format!(
        "# op-aws vault identity; public key: {}\n{AUTH_MARKER}\n{}\n",
        identity.to_public(),
        identity.to_string().expose_secret()
    ))
}

/// Re-encrypts the identity with a new passphrase; the vault itself is untouched (it is
/// encrypted to the identity, which does not change). Nothing is written when `old` is wrong.
pub fn change_passphrase(
    dirs: &Dirs,
    old: SecretString,
    new: SecretString,
    work_factor: Option<u8>,
) -> Result<()> {
    let id = unlock(dirs, old)?;
    let _lock = fsutil::lock_exclusive(&dirs.vault_file())?;
    let ct = protect(&id.0, new, work_factor)?;
    fsutil::write_atomic(&dirs.identity_file(), &ct, 0o600)
}

/// A new identity, so that a copy of the old one opens nothing written from now on: the vault is
/// re-encrypted to it, the new identity protected with `new` (or the same passphrase), and
/// `recipient.txt` replaced. Returns the new identity. Nothing is written when the passphrase is
/// wrong; an interruption at any point leaves a vault that the identity file on disk opens
/// (the vault is first encrypted to both identities). `rewrap` gives the files (path,
/// contents) that wrap the new identity for each security key; it runs before anything is
/// written, so a key that cannot be re-wrapped stops the rekey with nothing changed. The caller
/// drops the session cache.
pub fn rekey(
    dirs: &Dirs,
    passphrase: SecretString,
    new: Option<SecretString>,
    work_factor: Option<u8>,
    rewrap: impl FnOnce(&Identity) -> Result<Vec<(std::path::PathBuf, Vec<u8>)>>,
) -> Result<Identity> {
    // A replaced recipient.txt is what rekey repairs: it is written anew below. (Opened before
    // the lock: upgrading an old vault takes it.)
    let old = open_identity(dirs, passphrase.clone(), false)?;
    let _lock = fsutil::lock_exclusive(&dirs.vault_file())?;
    let data = load(dirs, &old)?;
    let next = Identity(age::x25519::Identity::generate());
    let wrapped = rewrap(&next)?;
    let next = next.0;
    fsutil::write_atomic(
        &rekey_marker(dirs),
        b"op-aws vault rekey under way\n",
        0o600,
    )?;
    let ct = seal(&[&old.0, &next], &data)?;
    fsutil::write_atomic(&dirs.vault_file(), &ct, 0o600)?;
    let identity_ct = protect(&next, new.unwrap_or(passphrase), work_factor)?;
    fsutil::write_atomic(&dirs.identity_file(), &identity_ct, 0o600)?;
    for (path, bytes) in &wrapped {
        fsutil::write_atomic(path, bytes, 0o600)?;
    }
    fsutil::write_atomic(
        &dirs.recipient_file(),
        format!("{}\n", next.to_public()).as_bytes(),
        0o600,
    )?;
    fsutil::write_atomic(&dirs.vault_file(), &seal(&[&next], &data)?, 0o600)?;
    let _ = std::fs::remove_file(rekey_marker(dirs));
    Ok(Identity(next))
}

/// Decrypts the identity with the passphrase: the expensive step, once per unlock.
pub fn unlock(dirs: &Dirs, passphrase: SecretString) -> Result<Identity> {
    open_identity(dirs, passphrase, true)
}

/// `check`: refuse a `recipient.txt` that is not the identity's (rekey, which replaces it, does
/// not check).
fn open_identity(dirs: &Dirs, passphrase: SecretString, check: bool) -> Result<Identity> {
    let path = dirs.identity_file();
    let Some(ct) = fsutil::read_optional(&path)? else {
        return Err(Error::NoVault(dirs.data.clone()));
    };
    let mut id = age::scrypt::Identity::new(passphrase.clone());
    id.set_max_work_factor(MAX_WORK_FACTOR);
    let text = match age::decrypt(&id, &ct) {
        Ok(t) => Zeroizing::new(t),
        Err(age::DecryptError::DecryptionFailed | age::DecryptError::NoMatchingKeys) => {
            return Err(Error::WrongPassphrase);
        }
        Err(e) => return Err(corrupt(&path, &e.to_string())),
    };
    let id = parse_key_text(&path, &text)?;
    let text = std::str::from_utf8(&text).map_err(|_| corrupt(&path, "not text"))?;
    if check {
        check_recipient(dirs, &id)?;
    }
    if !text.lines().any(|l| l.trim() == AUTH_MARKER) {
        authenticate_legacy(dirs, &id, passphrase, work_factor_of(&ct))?;
    }
    Ok(id)
}

fn parse_key_text(path: &Path, text: &[u8]) -> Result<Identity> {
    let text = std::str::from_utf8(text).map_err(|_| corrupt(path, "not text"))?;
    let key = text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("AGE-SECRET-KEY-"))
        .ok_or_else(|| corrupt(path, "no AGE-SECRET-KEY line"))?;
    age::x25519::Identity::from_str(key)
        .map(Identity)
        .map_err(|_| corrupt(path, "malformed AGE-SECRET-KEY line"))
}

/// A vault from before authentication, opened with the passphrase (which proves it is the
/// owner's): sealed with its tag, and the identity file marked, so that from now on a vault
/// without a valid tag is refused.
fn authenticate_legacy(
    dirs: &Dirs,
    id: &Identity,
    passphrase: SecretString,
    work_factor: Option<u8>,
) -> Result<()> {
    let _lock = fsutil::lock_exclusive(&dirs.vault_file())?;
    let path = dirs.vault_file();
    let Some(ct) = fsutil::read_optional(&path)? else {
        return Err(Error::NoVault(dirs.data.clone()));
    };
    let data = open_unchecked(&path, id, &ct)?;
    fsutil::write_atomic(&path, &seal(&[&id.0], &data)?, 0o600)?;
    let identity_ct = protect(&id.0, passphrase, work_factor)?;
    fsutil::write_atomic(&dirs.identity_file(), &identity_ct, 0o600)
}

/// The scrypt work factor an identity file was made with (its age header says), so that
/// rewriting it keeps the unlock as fast or as slow as the owner chose.
fn work_factor_of(ct: &[u8]) -> Option<u8> {
    let head = String::from_utf8_lossy(&ct[..ct.len().min(512)]);
    head.lines()
        .find_map(|l| l.strip_prefix("-> scrypt "))
        .and_then(|rest| rest.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
}

/// `recipient.txt` must be the identity's own: a swapped one would have every new session
/// encrypted to someone else's key.
pub fn check_recipient(dirs: &Dirs, id: &Identity) -> Result<()> {
    let on_disk = recipient(dirs)?;
    if on_disk.to_string() != id.recipient().to_string() {
        return Err(recipient_mismatch(dirs));
    }
    Ok(())
}

/// What a new encrypted file (a cached session, an SSO token) may be encrypted to:
/// `recipient.txt`, once it is the public half of the identity an unlocked agent holds
/// (`held`); a swapped one is refused. None when no identity is held: nothing to check against,
/// so the caller writes no encrypted file (it keeps the secret in the agent's memory).
pub fn checked_recipient(
    dirs: &Dirs,
    held: Option<&str>,
) -> Result<Option<age::x25519::Recipient>> {
    let Some(held) = held else {
        return Ok(None);
    };
    let on_disk = recipient(dirs)?;
    if on_disk.to_string() != held {
        return Err(recipient_mismatch(dirs));
    }
    Ok(Some(on_disk))
}

pub fn recipient_mismatch(dirs: &Dirs) -> Error {
    if rekey_marker(dirs).is_file() {
        return Error::RekeyInterrupted(dirs.recipient_file());
    }
    Error::RecipientMismatch(dirs.recipient_file())
}

/// Present while `vault rekey` rewrites the identity, the key files and recipient.txt: a
/// mismatch it leaves when killed midway is told apart from a replaced recipient.txt (both
/// refuse to write; only the message differs, so a forged marker gains nothing).
fn rekey_marker(dirs: &Dirs) -> std::path::PathBuf {
    dirs.data.join("rekey.pending")
}

pub fn load(dirs: &Dirs, identity: &Identity) -> Result<VaultData> {
    let path = dirs.vault_file();
    let Some(ct) = fsutil::read_optional(&path)? else {
        return Err(Error::NoVault(dirs.data.clone()));
    };
    open(&path, identity, &ct)
}

fn open(path: &Path, identity: &Identity, ct: &[u8]) -> Result<VaultData> {
    let data = open_unchecked(path, identity, ct)?;
    if !authentic(&identity.0, &data)? {
        return Err(corrupt(
            path,
            "it is not authenticated by this vault's identity (forged with the public recipient, or damaged); it was not used",
        ));
    }
    Ok(data)
}

/// Decrypted and parsed, the tag not checked (for a vault from before authentication).
fn open_unchecked(path: &Path, identity: &Identity, ct: &[u8]) -> Result<VaultData> {
    let plain = identity.decrypt(ct).map_err(|e| match e {
        age::DecryptError::NoMatchingKeys => {
            corrupt(path, "it was not encrypted to this vault's identity")
        }
        other => corrupt(path, &other.to_string()),
    })?;
    let data: VaultData =
        serde_json::from_slice(&plain).map_err(|e| corrupt(path, &json_error(&e)))?;
    if data.version != FORMAT_VERSION {
        return Err(corrupt(
            path,
            &format!("unknown format version {}", data.version),
        ));
    }
    Ok(data)
}

/// Reads, changes and writes the vault under the lock, so concurrent writers never lose an
/// item. Nothing is written when `change` fails.
pub fn update<T>(
    dirs: &Dirs,
    identity: &Identity,
    change: impl FnOnce(&mut VaultData) -> Result<T>,
) -> Result<T> {
    let path = dirs.vault_file();
    let _lock = fsutil::lock_exclusive(&path)?;
    let mut data = load(dirs, identity)?;
    let out = change(&mut data)?;
    let ct = seal(&[&identity.0], &data)?;
    fsutil::write_atomic(&path, &ct, 0o600)?;
    Ok(out)
}

/// The vault encrypted to each of `ids`, with a tag for each.
fn seal(ids: &[&age::x25519::Identity], data: &VaultData) -> Result<Vec<u8>> {
    let auth = ids
        .iter()
        .map(|id| auth_tag(id, data))
        .collect::<Result<Vec<_>>>()?;
    let sealed = VaultData {
        version: data.version,
        items: data.items.clone(),
        auth,
    };
    let json =
        Zeroizing::new(serde_json::to_vec(&sealed).map_err(|e| Error::Invalid(e.to_string()))?);
    let recipients: Vec<age::x25519::Recipient> = ids.iter().map(|i| i.to_public()).collect();
    let enc = age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
        .map_err(|e| Error::Invalid(format!("encryption failed: {e}")))?;
    let mut out = Vec::with_capacity(json.len() + 512);
    let mut w = enc
        .wrap_output(&mut out)
        .map_err(|e| Error::Invalid(e.to_string()))?;
    w.write_all(&json)
        .map_err(|e| Error::Invalid(e.to_string()))?;
    w.finish().map_err(|e| Error::Invalid(e.to_string()))?;
    Ok(out)
}

pub fn encrypt(recipient: &impl age::Recipient, plain: &[u8]) -> Result<Vec<u8>> {
    let enc = age::Encryptor::with_recipients(std::iter::once(recipient as &dyn age::Recipient))
        .map_err(|e| Error::Invalid(format!("encryption failed: {e}")))?;
    let mut out = Vec::with_capacity(plain.len() + 256);
    let mut w = enc
        .wrap_output(&mut out)
        .map_err(|e| Error::Invalid(e.to_string()))?;
    w.write_all(plain)
        .and_then(|()| w.finish().map(|_| ()))
        .map_err(|e| Error::Invalid(e.to_string()))?;
    Ok(out)
}

/// The public recipient, for encrypting without an unlock.
pub fn recipient(dirs: &Dirs) -> Result<age::x25519::Recipient> {
    let path = dirs.recipient_file();
    let Some(text) = fsutil::read_optional(&path)? else {
        return Err(Error::NoVault(dirs.data.clone()));
    };
    let text = String::from_utf8_lossy(&text);
    age::x25519::Recipient::from_str(text.trim())
        .map_err(|_| corrupt(&path, "not an age recipient"))
}

fn corrupt(path: &Path, why: &str) -> Error {
    Error::CorruptVault {
        path: path.to_owned(),
        why: why.to_owned(),
    }
}

/// Reads a passphrase-free stream fully (helper for callers decrypting other age files).
pub fn read_all(mut r: impl Read) -> std::io::Result<Zeroizing<Vec<u8>>> {
    let mut v = Zeroizing::new(Vec::new());
    r.read_to_end(&mut v)?;
    Ok(v)
}

/// Where JSON went wrong, without serde's text (which can quote a value, i.e. a secret).
pub fn json_error(e: &serde_json::Error) -> String {
    format!("bad contents at line {} column {}", e.line(), e.column())
}
