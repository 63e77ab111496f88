//! Coming from 1Password's shell plugin: where `op` keeps its plugin files (its config
//! directory, `plugins.sh`, the AWS defaults), turning those defaults into op-aws scopes that
//! name the same items, and finding the `alias aws="op plugin run -- aws"` lines that would
//! shadow op-aws's functions. Nothing here writes to 1Password's files.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::caller::Caller;
use crate::dirs::Dirs;
use crate::error::printable;
use crate::scope::{self, Defaults};
use crate::{Error, Result, fsutil, onepassword};

/// What `plugins.sh` exports once sourced.
pub const ALIASES_SOURCED_VAR: &str = "OP_PLUGIN_ALIASES_SOURCED";
/// How many levels below each DIR `.op/plugins/aws.json` is looked for.
pub const MAX_DEPTH: usize = 8;
/// Directories never searched (besides hidden ones): build output and dependencies.
const SKIPPED: &[&str] = &["node_modules", "target"];

/// `op`'s config directory: `OP_CONFIG_DIR`, else the first of `~/.op`, `$XDG_CONFIG_HOME/.op`,
/// `~/.config/op`, `$XDG_CONFIG_HOME/op` that exists, else the last of them (as op decides).
pub fn config_dir(c: &Caller) -> Result<PathBuf> {
    if let Some(d) = c.var("OP_CONFIG_DIR") {
        return Ok(c.absolute(Path::new(d)));
    }
    let home = c.home()?;
    let xdg = c
        .var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let mut candidates = vec![home.join(".op")];
    candidates.extend(xdg.as_ref().map(|x| x.join(".op")));
    candidates.push(home.join(".config").join("op"));
    candidates.extend(xdg.as_ref().map(|x| x.join("op")));
    let last = candidates.last().cloned().unwrap_or_default();
    Ok(candidates.into_iter().find(|p| p.is_dir()).unwrap_or(last))
}

/// The file `op plugin init` writes its aliases to.
pub fn plugins_sh(c: &Caller) -> Result<PathBuf> {
    Ok(config_dir(c)?.join("plugins.sh"))
}

/// Where 1Password keeps its global AWS default.
pub fn global_file(c: &Caller) -> Result<PathBuf> {
    Ok(config_dir(c)?
        .join("plugins")
        .join("used_items")
        .join("aws.json"))
}

/// The directory default file of `dir`, if there is one (no link followed on the way).
fn directory_file(dir: &Path) -> Option<PathBuf> {
    let real_dir = |p: &Path| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_dir());
    let op = dir.join(".op");
    let plugins = op.join("plugins");
    let file = plugins.join("aws.json");
    (real_dir(&op)
        && real_dir(&plugins)
        && std::fs::symlink_metadata(&file).is_ok_and(|m| m.is_file()))
    .then_some(file)
}

/// Every `<dir>/.op/plugins/aws.json` at `root` and below (at most [`MAX_DEPTH`] levels),
/// sorted; symlinks are not followed, hidden directories, `node_modules` and `target` not
/// searched, unreadable directories skipped.
pub fn find_directory_files(root: &Path) -> Vec<(PathBuf, PathBuf)> {
    fn walk(dir: &Path, depth: usize, out: &mut Vec<(PathBuf, PathBuf)>) {
        if let Some(f) = directory_file(dir) {
            out.push((dir.to_owned(), f));
        }
        if depth == MAX_DEPTH {
            return;
        }
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut subdirs: Vec<PathBuf> = entries
            .filter_map(std::result::Result::ok)
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter(|e| {
                let name = e.file_name();
                let name = name.to_string_lossy();
                !name.starts_with('.') && !SKIPPED.contains(&name.as_ref())
            })
            .map(|e| e.path())
            .collect();
        subdirs.sort();
        for d in subdirs {
            walk(&d, depth + 1, out);
        }
    }
    let mut out = Vec::new();
    walk(root, 0, &mut out);
    out
}

/// A 1Password id (vault or item): what op prints is 26 lowercase letters and digits; anything
/// that could be taken for a path, a flag or terminal control is refused.
fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && !s.starts_with('-')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
}

/// The item a plugin file names, as op-aws stores it: `op://<vault_id>/<item_id>`.
///
/// Both shapes 1Password writes are read: `used_items/aws.json`, a list of entries with
/// `account_id`, `vault_id` and `item_id`, and a directory's `.op/plugins/aws.json`, an object
/// whose `credentials` list holds entries with `plugin`, `credential_type` and the same ids.
/// The first AWS access-key entry counts; the error says what is wrong, in a few words.
pub fn parse(bytes: &[u8]) -> std::result::Result<String, String> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    let entries = match &v {
        Value::Array(a) => a,
        Value::Object(o) => match o.get("credentials") {
            Some(Value::Array(a)) => a,
            Some(_) => return Err("\"credentials\" is not a list".into()),
            None => return Err("no \"credentials\" list".into()),
        },
        _ => return Err("neither a list nor an object with \"credentials\"".into()),
    };
    let text = |e: &Value, k: &str| e.get(k).and_then(Value::as_str).map(str::to_owned);
    for (i, e) in entries.iter().enumerate() {
        if !e.is_object() {
            return Err(format!("entry {} is not an object", i + 1));
        }
        let other = |k: &str, want: &str| text(e, k).is_some_and(|v| v != want);
        if other("plugin", "aws") || other("credential_type", "access_key") {
            continue;
        }
        let (Some(vault), Some(item)) = (text(e, "vault_id"), text(e, "item_id")) else {
            return Err(format!("entry {} has no vault_id and item_id", i + 1));
        };
        for (what, id) in [("vault_id", &vault), ("item_id", &item)] {
            if !valid_id(id) {
                return Err(format!(
                    "entry {}: {what} {:?} is not a 1Password id",
                    i + 1,
                    printable(id)
                ));
            }
        }
        let name = format!("op://{vault}/{item}");
        onepassword::Reference::parse(&name, None).map_err(|e| e.to_string())?;
        return Ok(name);
    }
    Err("no AWS access key entry".into())
}

/// Where an imported default goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Global,
    /// The directory (canonical) whose `.op/plugins/aws.json` it came from.
    Directory(PathBuf),
}

/// A default 1Password's files hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub target: Target,
    pub item: String,
    pub source: PathBuf,
}

/// What was found: the defaults, the files that could not be read, and where it looked.
#[derive(Debug, Default)]
pub struct Scan {
    pub found: Vec<Found>,
    /// One error per file (or DIR) that could not be used.
    pub failed: Vec<Error>,
    /// The global default's file, looked for whether it exists or not.
    pub global_file: PathBuf,
    /// The DIRs searched (canonical).
    pub roots: Vec<PathBuf>,
}

/// Reads 1Password's global default and every directory default at or below `roots` (relative
/// to the caller's directory). A file that does not parse is a failure, and the others still
/// count.
pub fn scan(c: &Caller, roots: &[PathBuf]) -> Result<Scan> {
    let mut s = Scan {
        global_file: global_file(c)?,
        ..Scan::default()
    };
    let read = |target: Target, source: PathBuf, s: &mut Scan| {
        let bad = |why: String| Error::OpPluginFile {
            path: source.clone(),
            why,
        };
        let result = match fsutil::read_optional(&source) {
            Ok(Some(bytes)) => parse(&bytes).map_err(bad),
            Ok(None) => return,
            Err(e) => Err(e),
        };
        match result {
            Ok(item) => s.found.push(Found {
                target,
                item,
                source,
            }),
            Err(e) => s.failed.push(e),
        }
    };
    read(Target::Global, s.global_file.clone(), &mut s);
    let mut seen = BTreeSet::new();
    for root in roots {
        let root = match scope::normalize_dir(root, &c.cwd) {
            Ok(r) => r,
            Err(e) => {
                s.failed.push(Error::Step {
                    what: format!("cannot search {}", root.display()),
                    source: Box::new(e),
                });
                continue;
            }
        };
        s.roots.push(root.clone());
        for (dir, file) in find_directory_files(&root) {
            if seen.insert(file.clone()) {
                read(Target::Directory(dir), file, &mut s);
            }
        }
    }
    Ok(s)
}

/// What importing `f` does to op-aws's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    New,
    /// op-aws already has this item there.
    Same,
    /// op-aws has another item there (named).
    Replace(String),
}

pub fn change(defaults: &Defaults, f: &Found) -> Change {
    let existing = match &f.target {
        Target::Global => defaults.global.as_deref(),
        Target::Directory(d) => defaults.directories.get(d).map(|d| d.item.as_str()),
    };
    match existing {
        None => Change::New,
        Some(e) if e == f.item => Change::Same,
        Some(e) => Change::Replace(e.to_owned()),
    }
}

/// Makes `f` an op-aws default: global, or a directory default tied to the directory's owner
/// and identity (refused for a directory that is not the user's).
pub fn apply(dirs: &Dirs, f: &Found) -> Result<()> {
    match &f.target {
        Target::Global => scope::set_global(dirs, &f.item),
        Target::Directory(d) => scope::set_directory(dirs, d, &f.item, false),
    }
}

/// One default of 1Password's, as `import --from-1password-plugin` dealt with it.
#[derive(Debug)]
pub enum Imported {
    /// op-aws already had it there.
    Already,
    /// Made; `instead` names the op-aws default it replaced.
    Made { instead: Option<String> },
    /// op-aws's own default `old` was kept (not confirmed).
    Kept { old: String },
    /// It could not be made.
    Failed(Error),
}

/// What `import --from-1password-plugin` did: per default found, where it goes (as people
/// read it), the file it came from and what happened; and the files that could not be read.
#[derive(Debug)]
pub struct Import {
    pub done: Vec<(Found, String, Imported)>,
    pub scan: Scan,
}

impl Import {
    /// Nothing of 1Password's was found, and nothing failed: the error to show, naming where
    /// it looked.
    pub fn nothing_found(&self) -> Option<String> {
        if !(self.scan.found.is_empty() && self.scan.failed.is_empty()) {
            return None;
        }
        let below: Vec<String> = self
            .scan
            .roots
            .iter()
            .map(|r| printable(&r.display().to_string()))
            .collect();
        Some(format!(
            "nothing to import: no 1Password shell plugin defaults in {} or .op/plugins/aws.json at or below {}\nhint: name the directories that have them (`op-aws import --from-1password-plugin ~/work`); set OP_CONFIG_DIR if op's config is elsewhere",
            printable(&self.scan.global_file.display().to_string()),
            below.join(", ")
        ))
    }
}

/// Where a default goes, as people read it.
pub fn place(t: &Target) -> String {
    match t {
        Target::Global => "the global default".to_owned(),
        Target::Directory(d) => format!(
            "the default in {} and below",
            printable(&d.display().to_string())
        ),
    }
}

/// Turns 1Password's defaults at or below `roots` (none: the caller's home) into op-aws's; an
/// op-aws default that names another item is replaced only when `replace(old, found, place)`
/// says so.
pub fn import(
    dirs: &Dirs,
    c: &Caller,
    roots: &[PathBuf],
    replace: &mut dyn FnMut(&str, &Found, &str) -> Result<bool>,
) -> Result<Import> {
    let roots = if roots.is_empty() {
        vec![c.home()?]
    } else {
        roots.to_vec()
    };
    let scan = scan(c, &roots)?;
    let mut done = Vec::new();
    if scan.found.is_empty() {
        return Ok(Import { done, scan });
    }
    let defaults = Defaults::load(dirs).map_err(|e| Error::Step {
        what: "cannot import".into(),
        source: Box::new(e),
    })?;
    for f in &scan.found {
        let place = place(&f.target);
        let instead = match change(&defaults, f) {
            Change::Same => {
                done.push((f.clone(), place, Imported::Already));
                continue;
            }
            Change::New => None,
            Change::Replace(old) => {
                if !replace(&old, f, &place)? {
                    done.push((f.clone(), place, Imported::Kept { old }));
                    continue;
                }
                Some(old)
            }
        };
        let outcome = match apply(dirs, f) {
            Ok(()) => Imported::Made { instead },
            Err(e) => Imported::Failed(e),
        };
        done.push((f.clone(), place, outcome));
    }
    Ok(Import { done, scan })
}

/// The names a `plugins.sh` aliases (`alias aws="op plugin run -- aws"`), in file order.
pub fn aliases_in(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.trim().strip_prefix("alias") else {
            continue;
        };
        if !rest.starts_with([' ', '\t']) {
            continue;
        }
        let rest = rest.trim_start();
        let rest = rest.strip_prefix("-- ").unwrap_or(rest).trim_start();
        if let Some((name, _)) = rest.split_once('=')
            && crate::config::is_executable_name(name)
            && !out.iter().any(|n| n == name)
        {
            out.push(name.to_owned());
        }
    }
    out
}

/// The startup files of a shell (None: every shell's) that could source `plugins.sh`.
pub fn rc_files(c: &Caller, shell: Option<crate::shell::Shell>) -> Result<Vec<PathBuf>> {
    use crate::shell::Shell;
    let home = c.home()?;
    let zdotdir = c
        .var_os("ZDOTDIR")
        .filter(|v| !v.is_empty())
        .map_or_else(|| home.clone(), PathBuf::from);
    let fish_config = c
        .var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map_or_else(|| home.join(".config"), PathBuf::from)
        .join("fish")
        .join("config.fish");
    let mut out = Vec::new();
    if matches!(shell, None | Some(Shell::Bash)) {
        out.extend([home.join(".bashrc"), home.join(".bash_profile")]);
    }
    if matches!(shell, None | Some(Shell::Zsh)) {
        out.push(zdotdir.join(".zshrc"));
    }
    if matches!(shell, None | Some(Shell::Fish)) {
        out.push(fish_config);
    }
    Ok(out)
}

/// The `plugins.sh` files an rc file sources (`source ~/.config/op/plugins.sh`,
/// `. "$HOME/.config/op/plugins.sh"`), comments aside, each with its line's index. A path with a
/// variable other than `HOME`, `XDG_CONFIG_HOME` or `OP_CONFIG_DIR` is taken to be op's own
/// `plugins.sh`.
pub fn sourced_plugins(c: &Caller, rc_text: &str) -> Result<Vec<(PathBuf, usize)>> {
    let home = c.home()?;
    let mut out: Vec<(PathBuf, usize)> = Vec::new();
    for (n, line) in rc_text.lines().enumerate() {
        let line = line.trim_start();
        if line.starts_with('#') {
            continue;
        }
        let words: Vec<&str> = line
            .split(|ch: char| ch.is_whitespace() || matches!(ch, ';' | '&' | '|' | '(' | ')'))
            .filter(|w| !w.is_empty())
            .collect();
        for pair in words.windows(2) {
            let path = pair[1].trim_matches(|ch| ch == '"' || ch == '\'');
            if !matches!(pair[0], "source" | ".") || !path.ends_with("plugins.sh") {
                continue;
            }
            let p = match expand(c, &home, path) {
                Some(p) => p,
                None => plugins_sh(c)?,
            };
            if !out.iter().any(|(q, _)| *q == p) {
                out.push((p, n));
            }
        }
    }
    Ok(out)
}

/// `~`, `$HOME`, `$XDG_CONFIG_HOME` and `$OP_CONFIG_DIR` (also `${...}`) at the start of a
/// path; None for any other variable. A relative path is taken from HOME, where shells start.
fn expand(c: &Caller, home: &Path, path: &str) -> Option<PathBuf> {
    let (head, rest) = if let Some(rest) = path.strip_prefix("~/") {
        (home.to_owned(), rest)
    } else if let Some(after) = path.strip_prefix('$') {
        let (name, rest) = match after.strip_prefix('{') {
            Some(braced) => braced.split_once('}')?,
            None => after.split_at(after.find('/').unwrap_or(after.len())),
        };
        let value = match name {
            "HOME" => home.to_owned(),
            "XDG_CONFIG_HOME" | "OP_CONFIG_DIR" => PathBuf::from(c.var(name)?),
            _ => return None,
        };
        (value, rest.trim_start_matches('/'))
    } else {
        (home.to_owned(), path)
    };
    if rest.contains('$') {
        return None;
    }
    Some(head.join(rest))
}

/// 1Password's aliases that shadow wrapped commands, from one `plugins.sh`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shadowing {
    /// The rc file that sources it, when one is known.
    pub rc: Option<PathBuf>,
    pub plugins_sh: PathBuf,
    /// The wrapped commands it aliases (empty: it aliases none of them).
    pub aliased: Vec<String>,
    /// fish's `config.fish` sources it before `op-aws activate fish`: fish's aliases are
    /// functions, and op-aws's, defined later, win.
    pub overridden: bool,
}

/// For each of `rc_files` that sources a `plugins.sh`, what that file aliases of `wrapped`;
/// a `plugins.sh` that cannot be read aliases nothing.
pub fn shadowing(c: &Caller, rc_files: &[PathBuf], wrapped: &[String]) -> Result<Vec<Shadowing>> {
    let mut out = Vec::new();
    for rc in rc_files {
        let Ok(Some(text)) = fsutil::read_optional(rc) else {
            continue;
        };
        let text = String::from_utf8_lossy(&text);
        let activation = text
            .lines()
            .position(|l| l.contains("op-aws activate fish"));
        for (p, line) in sourced_plugins(c, &text)? {
            out.push(Shadowing {
                rc: Some(rc.clone()),
                aliased: aliased(&p, wrapped),
                plugins_sh: p,
                overridden: activation.is_some_and(|a| line < a),
            });
        }
    }
    Ok(out)
}

/// What `op-aws activate SHELL` warns about: the `plugins.sh` one of the shell's rc files
/// sources (the first that aliases a wrapped command), else op's own `plugins.sh`.
pub fn for_shell(c: &Caller, shell: crate::shell::Shell, wrapped: &[String]) -> Result<Shadowing> {
    let found = shadowing(c, &rc_files(c, Some(shell))?, wrapped)?;
    if let Some(s) = found.iter().find(|s| !s.aliased.is_empty()) {
        return Ok(s.clone());
    }
    let plugins_sh = plugins_sh(c)?;
    Ok(Shadowing {
        rc: found
            .into_iter()
            .find(|s| s.plugins_sh == plugins_sh)
            .and_then(|s| s.rc),
        aliased: aliased(&plugins_sh, wrapped),
        plugins_sh,
        overridden: false,
    })
}

/// The wrapped commands `plugins_sh` aliases (none when it cannot be read).
pub fn aliased(plugins_sh: &Path, wrapped: &[String]) -> Vec<String> {
    let Ok(Some(text)) = fsutil::read_optional(plugins_sh) else {
        return Vec::new();
    };
    aliases_in(&String::from_utf8_lossy(&text))
        .into_iter()
        .filter(|a| wrapped.contains(a))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_dir_is_ops_choice() {
        let t = tempfile::tempdir().unwrap();
        let home = t.path().join("h");
        let xdg = t.path().join("x");
        let caller = |extra: &[(&str, &str)]| {
            let mut vars = vec![
                ("HOME".to_owned(), home.clone().into_os_string()),
                ("XDG_CONFIG_HOME".to_owned(), xdg.clone().into_os_string()),
            ];
            vars.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).into())));
            Caller::new(vars, "/w".into(), false)
        };
        // None exists: the last candidate.
        assert_eq!(config_dir(&caller(&[])).unwrap(), xdg.join("op"));
        std::fs::create_dir_all(home.join(".config/op")).unwrap();
        assert_eq!(config_dir(&caller(&[])).unwrap(), home.join(".config/op"));
        std::fs::create_dir_all(xdg.join(".op")).unwrap();
        assert_eq!(config_dir(&caller(&[])).unwrap(), xdg.join(".op"));
        std::fs::create_dir_all(home.join(".op")).unwrap();
        assert_eq!(config_dir(&caller(&[])).unwrap(), home.join(".op"));
        assert_eq!(
            config_dir(&caller(&[("OP_CONFIG_DIR", "rel/op")])).unwrap(),
            PathBuf::from("/w/rel/op")
        );
        assert_eq!(
            global_file(&caller(&[])).unwrap(),
            home.join(".op/plugins/used_items/aws.json")
        );
    }

    #[test]
    fn both_file_shapes_name_the_item_by_ids() {
        let global = br#"[{"account_id":"ACC","vault_id":"vlt1","item_id":"itm1"}]"#;
        assert_eq!(parse(global).unwrap(), "op://vlt1/itm1");
        let wrapped = br#"{"credentials":[{"vault_id":"v","item_id":"i"}]}"#;
        assert_eq!(parse(wrapped).unwrap(), "op://v/i");
        let dir = br#"{"account_id":"A","credentials":[
            {"plugin":"gh","credential_type":"personal_access_token","vault_id":"x","item_id":"y"},
            {"plugin":"aws","credential_type":"access_key","usage_id":"u","vault_id":"v2","item_id":"i2"}]}"#;
        assert_eq!(parse(dir).unwrap(), "op://v2/i2");
    }

    #[test]
    fn a_malformed_file_says_what_is_wrong() {
        let why = |b: &[u8]| parse(b).unwrap_err();
        assert!(why(b"{").starts_with("not JSON"));
        assert_eq!(why(b"[]"), "no AWS access key entry");
        assert_eq!(why(b"{\"account_id\":\"A\"}"), "no \"credentials\" list");
        assert_eq!(
            why(b"[{\"vault_id\":\"v\"}]"),
            "entry 1 has no vault_id and item_id"
        );
        assert!(why(br#"[{"vault_id":"../x","item_id":"i"}]"#).contains("not a 1Password id"));
        assert!(why(br#"[{"vault_id":"v","item_id":"--help"}]"#).contains("not a 1Password id"));
        assert_eq!(
            why(b"3"),
            "neither a list nor an object with \"credentials\""
        );
    }

    #[test]
    fn aliases_and_sourced_plugin_files_are_found() {
        let sh = "export OP_PLUGIN_ALIASES_SOURCED=1\nalias aws=\"op plugin run -- aws\"\n  alias cdk='op plugin run -- cdk'\naliases=1\n# alias gh=x\n";
        assert_eq!(aliases_in(sh), ["aws", "cdk"]);
        let c = Caller::new(
            [
                ("HOME".to_owned(), "/h".into()),
                ("XDG_CONFIG_HOME".to_owned(), "/x".into()),
            ],
            "/".into(),
            false,
        );
        let rc = "# source /no/plugins.sh\nsource ~/.config/op/plugins.sh\n[ -f \"$HOME/.op/plugins.sh\" ] && . \"$HOME/.op/plugins.sh\"\nsource ${XDG_CONFIG_HOME}/op/plugins.sh\nsource $FOO/plugins.sh\n";
        assert_eq!(
            sourced_plugins(&c, rc).unwrap(),
            [
                (PathBuf::from("/h/.config/op/plugins.sh"), 1),
                (PathBuf::from("/h/.op/plugins.sh"), 2),
                (PathBuf::from("/x/op/plugins.sh"), 3),
            ]
        );
    }
}
