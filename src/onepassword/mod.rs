//! The 1Password store: items read with the `op` CLI.
//!
//! One `op item get ITEM [--vault V] --format json --reveal` call per read; while an agent runs
//! (`op-aws unlock`), what it returned stays in the agent's memory, so later reads within the
//! agent's lifetime cost no `op` call (op takes 0.2–2 s). Secrets only ever travel through
//! pipes: op's stdout on reads, op's stdin (a JSON template) on `create_item`; op's stdin is
//! /dev/null otherwise, so it can never wait on ours.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use zeroize::Zeroizing;

use crate::caller::Caller;
use crate::ctx::Ctx;
use crate::dirs::Dirs;
use crate::item::{self, Item};
use crate::{Error, Result, fsutil};

mod json;
mod op;

pub(crate) use json::parse_item;
use json::{OpItem, Read, SCHEME, bad_json};
pub use op::{Auth, OP_PATH_VAR, auth, op_message, op_path};
use op::{principal, run_op};

/// TOTP time step: codes change every 30 s.
const STEP_SECS: u64 = 30;

/// An item in 1Password: `op://Vault/Item`, or a bare title searched in the configured vault
/// (every vault the account can read when none is configured).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub vault: Option<String>,
    pub item: String,
}

impl Reference {
    pub fn parse(name: &str, default_vault: Option<&str>) -> Result<Self> {
        let r = Self::parse_unchecked(name, default_vault)?;
        // op would take a name starting with `-` for one of its flags (`--account=…`).
        for part in r.vault.iter().chain(std::iter::once(&r.item)) {
            if part.starts_with('-') {
                return Err(Error::Invalid(format!(
                    "{name:?}: a 1Password vault or item name cannot start with '-'"
                )));
            }
        }
        Ok(r)
    }

    fn parse_unchecked(name: &str, default_vault: Option<&str>) -> Result<Self> {
        let Some(rest) = name.strip_prefix(SCHEME) else {
            let item = name.trim();
            if item.is_empty() {
                return Err(Error::Invalid("an empty item name".into()));
            }
            return Ok(Self {
                vault: default_vault.filter(|v| !v.is_empty()).map(str::to_owned),
                item: item.to_owned(),
            });
        };
        // Anything but `op://Vault/Item` (a field reference, a missing part) names no item; the
        // error's hint spells out the form.
        match rest.split('/').collect::<Vec<_>>().as_slice() {
            [vault, item] if !vault.is_empty() && !item.is_empty() => Ok(Self {
                vault: Some((*vault).to_owned()),
                item: (*item).to_owned(),
            }),
            _ => Err(Error::NoSuchItem(name.to_owned())),
        }
    }

    /// The agent-cache key: who reads (see [`op::principal`]), then vault and item exactly as given
    /// to op.
    fn cache_key(&self, c: &Caller) -> String {
        format!(
            "1password\0{}\0{}\0{}",
            principal(c),
            self.vault.as_deref().unwrap_or(""),
            self.item
        )
    }
}

/// Reads an item, from the agent's memory when it holds it, else with one `op item get`.
pub fn get_item(ctx: &Ctx, name: &str) -> Result<Item> {
    let r = Reference::parse(name, ctx.config.onepassword_vault.as_deref())?;
    let auth = auth(&ctx.caller)?;
    let key = r.cache_key(&ctx.caller);
    // A broken or absent agent only means a slower read, never a failed one.
    if let Ok(Some(cached)) = ctx.agent.cache_get(&key)
        && let Ok(item) = serde_json::from_str::<Item>(&cached)
    {
        return Ok(item);
    }
    // op authorizes the caller's terminal session (and may prompt it): never from the agent.
    if ctx.agent.is_in_process() {
        return Err(Error::NeedsCaller("a 1Password read"));
    }
    // No person to ask and metered reads: a machine's reads are kept by an agent, started
    // here without a passphrase (it holds only what op returns), so a CI job that runs `aws`
    // 200 times reads each item once.
    if auth.is_machine() && !matches!(ctx.agent.status(), Ok(Some(_))) {
        let _ = ctx.agent.unlock(
            None,
            &crate::config::AgentTimes::forget_when_idle(ctx.config.agent_idle()),
        );
    }
    // With an agent running, parallel readers of one item (a burst of credential_process
    // calls) queue here so that only the first calls op; the rest find its result cached.
    let _queue = match ctx.agent.status() {
        Ok(Some(_)) => {
            let q = read_lock(&ctx.dirs, &key)?;
            if let Ok(Some(cached)) = ctx.agent.cache_get(&key)
                && let Ok(item) = serde_json::from_str::<Item>(&cached)
            {
                return Ok(item);
            }
            Some(q)
        }
        _ => None,
    };
    let mut read = parse_item(&fetch(&ctx.caller, &r)?, name)?;
    if read.code_only {
        read = fresh_code(ctx, &r, name, read)?;
    } else if let Some(json) = to_secret_json(&read.item) {
        let _ = ctx.agent.cache_put(&key, json);
    }
    Ok(read.item)
}

/// The item if a running agent holds it; never calls op (for the prompt hook, which must not
/// block on op or make it prompt).
pub fn cached_item(ctx: &Ctx, name: &str) -> Result<Option<Item>> {
    let r = Reference::parse(name, ctx.config.onepassword_vault.as_deref())?;
    Ok(ctx
        .agent
        .cache_get(&r.cache_key(&ctx.caller))?
        .and_then(|c| serde_json::from_str(&c).ok()))
}

/// A lock per item in the runtime directory, named from the cache key (sanitised: a collision
/// only makes two items queue behind each other).
fn read_lock(dirs: &Dirs, key: &str) -> Result<fsutil::LockGuard> {
    fsutil::ensure_private_dir(&dirs.runtime)?;
    let name: String = key
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .take(100)
        .collect();
    fsutil::lock_exclusive(&dirs.runtime.join(format!("1password-{name}")))
}

/// The item as JSON, written into one buffer big enough that it never reallocates (a
/// reallocation would leave a copy of the secret behind, unzeroed).
pub(crate) fn to_secret_json(item: &Item) -> Option<Zeroizing<String>> {
    let size: usize = item
        .fields
        .iter()
        .map(|f| (f.label.len() + f.value.len()) * 6 + 64)
        .sum();
    let mut buf = Zeroizing::new(Vec::with_capacity(size + item.title.len() * 6 + 256));
    serde_json::to_writer(&mut *buf, item).ok()?;
    String::from_utf8(std::mem::take(&mut *buf))
        .ok()
        .map(Zeroizing::new)
}

fn fetch(c: &Caller, r: &Reference) -> Result<Zeroizing<Vec<u8>>> {
    let what = display_name(r);
    // A machine's read goes over the network with nothing on the screen. A person's op may ask
    // on the terminal itself (a spinner would draw over its prompt): the app's dialog says it.
    let _step = auth(c)
        .is_ok_and(Auth::is_machine)
        .then(|| c.progress.step(&format!("reading {what} from 1Password")));
    let mut args = vec!["item", "get", r.item.as_str()];
    if let Some(v) = &r.vault {
        args.extend(["--vault", v.as_str()]);
    }
    args.extend(["--format", "json", "--reveal"]);
    match run_op(c, &args, None, &what) {
        // op before 2.25 has no --reveal and never concealed values in JSON: ask again without.
        Err(Error::OnePassword(m)) if m.contains("unknown flag") && m.contains("--reveal") => {
            args.pop();
            run_op(c, &args, None, &what)
        }
        other => other,
    }
}

fn display_name(r: &Reference) -> String {
    match &r.vault {
        Some(v) => format!("{SCHEME}{v}/{}", r.item),
        None => r.item.clone(),
    }
}

/// Titles of the items in the configured vault (every readable vault when none is set).
pub fn list_titles(ctx: &Ctx) -> Result<Vec<String>> {
    let mut args = vec!["item", "list", "--format", "json"];
    if let Some(v) = ctx
        .config
        .onepassword_vault
        .as_deref()
        .filter(|v| !v.is_empty())
    {
        args.extend(["--vault", v]);
    }
    let out = run_op(&ctx.caller, &args, None, "the item list")?;
    #[derive(Deserialize)]
    struct Summary {
        #[serde(default)]
        title: String,
    }
    let list: Vec<Summary> =
        serde_json::from_slice(&out).map_err(|e| bad_json("op item list", &e))?;
    let mut titles: Vec<String> = list
        .into_iter()
        .map(|s| crate::error::printable(&s.title))
        .filter(|t| !t.is_empty())
        .collect();
    titles.sort_by_key(|t| t.to_lowercase());
    titles.dedup();
    Ok(titles)
}

/// Creates `item` in 1Password (the configured vault, else op's default) from a JSON template
/// on op's stdin, so no value is ever in argv. Returns the new item's `op://` name.
pub fn create_item(ctx: &Ctx, item: &Item) -> Result<String> {
    let vault = ctx
        .config
        .onepassword_vault
        .as_deref()
        .filter(|v| !v.is_empty());
    let template = Zeroizing::new(template_json(item));
    let mut args = vec!["item", "create"];
    if let Some(v) = vault {
        args.extend(["--vault", v]);
    }
    args.extend(["--format", "json", "-"]);
    let out = run_op(&ctx.caller, &args, Some(template.as_bytes()), &item.title)?;
    let created: OpItem =
        serde_json::from_slice(&out).map_err(|e| bad_json("op item create", &e))?;
    let vault_name = created.vault.map(|v| v.name).filter(|n| !n.is_empty());
    Ok(match vault_name.or_else(|| vault.map(str::to_owned)) {
        Some(v) => format!("{SCHEME}{v}/{}", item.title),
        None => item.title.clone(),
    })
}

/// Puts a new key pair into a 1Password item: the item's JSON as `op item get` gives it, the
/// `Access Key ID` and `Secret Access Key` values replaced, back through `op item edit ITEM
/// --template /dev/stdin` (the secret on op's stdin, never in argv; every other field, section
/// and note kept). The agent's copy of the item is replaced by the new one.
pub fn replace_keys(ctx: &Ctx, name: &str, id: &str, secret: &str) -> Result<()> {
    let r = Reference::parse(name, ctx.config.onepassword_vault.as_deref())?;
    let what = display_name(&r);
    let raw = fetch(&ctx.caller, &r)?;
    let mut json: serde_json::Value =
        serde_json::from_slice(&raw).map_err(|e| bad_json("op item get", &e))?;
    let result = edit_with(ctx, &r, &what, &mut json, id, secret);
    wipe(&mut json);
    result
}

fn edit_with(
    ctx: &Ctx,
    r: &Reference,
    what: &str,
    json: &mut serde_json::Value,
    id: &str,
    secret: &str,
) -> Result<()> {
    let fields = json
        .get_mut("fields")
        .and_then(serde_json::Value::as_array_mut)
        .ok_or_else(|| Error::OnePassword(format!("{what} has no fields")))?;
    for (label, value) in [(item::ACCESS_KEY_ID, id), (item::SECRET_ACCESS_KEY, secret)] {
        let field = fields
            .iter_mut()
            .find(|f| {
                f.get("label")
                    .and_then(serde_json::Value::as_str)
                    .is_some_and(|l| l.trim().eq_ignore_ascii_case(label))
            })
            .ok_or_else(|| Error::MissingField {
                item: what.to_owned(),
                label: label.to_owned(),
                found: "(see the item in 1Password)".into(),
            })?;
        field["value"] = serde_json::Value::String(value.to_owned());
    }
    let template =
        Zeroizing::new(serde_json::to_string(json).map_err(|e| Error::OnePassword(e.to_string()))?);
    let mut args = vec!["item", "edit", r.item.as_str()];
    if let Some(v) = &r.vault {
        args.extend(["--vault", v.as_str()]);
    }
    args.extend(["--template", "/dev/stdin", "--format", "json"]);
    run_op(&ctx.caller, &args, Some(template.as_bytes()), what)?;
    // The agent may hold the item under the name asked for and under its canonical
    // `op://Vault/Title`: both get the new keys (an old copy would hand out a deleted key).
    if let Ok(read) = parse_item(template.as_bytes(), what) {
        let canonical = Reference::parse(&read.item.title, None).map(|t| t.cache_key(&ctx.caller));
        for key in std::iter::once(r.cache_key(&ctx.caller)).chain(canonical) {
            if let Some(cached) = to_secret_json(&read.item) {
                let _ = ctx.agent.cache_put(&key, cached);
            }
        }
    }
    Ok(())
}

/// Zeroes every string in `v` (an item's JSON holds its secrets as plain strings).
fn wipe(v: &mut serde_json::Value) {
    use zeroize::Zeroize;
    match v {
        serde_json::Value::String(s) => s.zeroize(),
        serde_json::Value::Array(a) => a.iter_mut().for_each(wipe),
        serde_json::Value::Object(o) => o.values_mut().for_each(wipe),
        _ => {}
    }
}

/// An API Credential item holding our fields: concealed ones as CONCEALED, the TOTP secret as
/// OTP (so 1Password shows codes for it), the rest as STRING.
fn template_json(item: &Item) -> String {
    let fields: Vec<serde_json::Value> = item
        .fields
        .iter()
        .map(|f| {
            let kind = if f.label.eq_ignore_ascii_case(item::ONE_TIME_PASSWORD) {
                "OTP"
            } else if f.concealed {
                "CONCEALED"
            } else {
                "STRING"
            };
            serde_json::json!({ "label": f.label, "type": kind, "value": f.value })
        })
        .collect();
    serde_json::json!({ "title": item.title, "category": "API_CREDENTIAL", "fields": fields })
        .to_string()
}

/// op gave only the current code (no secret): AWS accepts a code once, so never hand out a
/// code from a time step that an earlier read already handed out; wait for the next step and
/// read again. Only the step number is written down, never the code. Such items are not kept
/// in the agent: a cached code would be a used one.
fn fresh_code(ctx: &Ctx, r: &Reference, name: &str, mut read: Read) -> Result<Read> {
    let dirs = &ctx.dirs;
    fsutil::ensure_private_dir(&dirs.runtime)?;
    let path = dirs.runtime.join("1password-otp-steps.json");
    let _lock = fsutil::lock_exclusive(&path)?;
    let mut steps: BTreeMap<String, u64> = fsutil::read_optional(&path)?
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let key = display_name(r);
    let mut now = unix_now();
    if let Some(wait) = wait_for_new_step(steps.get(&key).copied(), now) {
        eprintln!(
            "op-aws: waiting {}s for a new one-time code from 1Password (AWS accepts each code once)",
            wait.as_secs()
        );
        std::thread::sleep(wait);
        read = parse_item(&fetch(&ctx.caller, r)?, name)?;
        now = unix_now();
    }
    steps.insert(key, now.as_secs() / STEP_SECS);
    // Forget steps of long ago, so the file stays a handful of lines.
    steps.retain(|_, s| *s + 2 >= now.as_secs() / STEP_SECS);
    let json = serde_json::to_vec(&steps).map_err(|e| Error::OnePassword(e.to_string()))?;
    fsutil::write_atomic(&path, &json, 0o600)?;
    Ok(read)
}

/// How long until a time step after `last` begins (with a margin for op's clock); None: now.
fn wait_for_new_step(last: Option<u64>, now: Duration) -> Option<Duration> {
    let last = last?;
    let next = Duration::from_secs((last + 1) * STEP_SECS);
    (now < next).then(|| next - now + Duration::from_millis(200))
}

fn unix_now() -> Duration {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        let r = Reference::parse("op://Work/AWS prod", Some("Other")).unwrap();
        assert_eq!(
            (r.vault.as_deref(), r.item.as_str()),
            (Some("Work"), "AWS prod")
        );
        let r = Reference::parse("prod", Some("Work")).unwrap();
        assert_eq!(
            (r.vault.as_deref(), r.item.as_str()),
            (Some("Work"), "prod")
        );
        assert_eq!(Reference::parse("prod", None).unwrap().vault, None);
        for bad in [
            "op://",
            "op://Work",
            "op://Work/",
            "op:///x",
            "op://W/I/field",
            "",
        ] {
            assert!(Reference::parse(bad, None).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_handed_out_step_waits_for_the_next() {
        let at = |s: u64, ms: u64| Duration::from_secs(s) + Duration::from_millis(ms);
        assert_eq!(wait_for_new_step(None, at(1000, 0)), None);
        // 1000 s is in step 33 (990..1020).
        assert_eq!(
            wait_for_new_step(Some(33), at(1000, 500)),
            Some(Duration::from_millis(19_700))
        );
        assert_eq!(wait_for_new_step(Some(32), at(1000, 0)), None);
    }

    #[test]
    fn cached_json_round_trips() {
        let mut it = Item::new("op://Work/x \u{1}\"");
        it.set(item::SECRET_ACCESS_KEY, "\u{0}\u{1f}\"\\".repeat(50), true);
        let json = to_secret_json(&it).unwrap();
        let back: Item = serde_json::from_str(&json).unwrap();
        assert_eq!(
            back.get(item::SECRET_ACCESS_KEY),
            it.get(item::SECRET_ACCESS_KEY)
        );
        assert_eq!(back.title, it.title);
    }

    #[test]
    fn template_carries_types_and_no_surprises() {
        let mut it = Item::new("imported");
        it.set(item::ACCESS_KEY_ID, "AKIA1".into(), false);
        it.set(item::SECRET_ACCESS_KEY, "s".into(), true);
        it.set(item::ONE_TIME_PASSWORD, "JBSWY3DPEHPK3PXP".into(), true);
        let v: serde_json::Value = serde_json::from_str(&template_json(&it)).unwrap();
        assert_eq!(v["title"], "imported");
        let kinds: Vec<&str> = v["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["type"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["STRING", "CONCEALED", "OTP"]);
    }
}
