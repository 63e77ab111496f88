//! `op-aws doctor`'s checks, in order: plaintext keys (and `aws login` sessions), the
//! environment, the shell integration, 1Password's aliases, the vault, the agent, quick unlock,
//! the platform's protections, the session cache, key ages, `recipient.txt`, the clock against
//! STS. Each is one line, ok or a warning with the next step; the front end shows them as they
//! come (some wait on the network).

use crate::Result;
use crate::awsfiles::AwsFiles;
use crate::config::StoreKind;
use crate::ctx::Ctx;
use crate::error::printable;
use crate::{opplugin, vault};

/// Past this, a key is due for `op-aws rotate` (AWS's own advice is 90 days).
const KEY_AGE_WARN_DAYS: u64 = 90;

/// The AWS CLI's `aws login` sessions in plaintext (its cache entries), when there are any.
fn plaintext_login_sessions(ctx: &Ctx) -> Option<String> {
    let dir = crate::signin::cache::dir(&ctx.caller).ok()?;
    let n = std::fs::read_dir(&dir)
        .ok()?
        .flatten()
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            // `<sha256 hex>.json`: the AWS CLI's naming.
            name.len() == 64 + 5
                && name.ends_with(".json")
                && name[..64].bytes().all(|b| b.is_ascii_hexdigit())
        })
        .count();
    (n > 0).then(|| {
        format!(
            "{n} aws login session(s) in plaintext in {}: run `op-aws import --login`",
            real_path(&dir).display()
        )
    })
}

/// Runs the checks, handing each to `report` (ok or not, and the line) as it is made.
pub fn checks(ctx: &Ctx, report: &mut dyn FnMut(bool, String)) -> Result<()> {
    let c = &ctx.caller;
    // As bytes, both files: the SDK's parser skips a file with one non-UTF-8 byte, and keys
    // in the config file count as much as those in the credentials file.
    match crate::plaintext::scan(c) {
        Ok(found) => {
            let plain: Vec<_> = found.iter().filter(|f| f.is_long_lived()).collect();
            if plain.is_empty() {
                let [(creds, _), (config, _)] = crate::plaintext::files(c)?;
                report(
                    true,
                    format!(
                        "no plaintext keys in {} or {}",
                        real_path(&creds).display(),
                        real_path(&config).display()
                    ),
                );
            } else {
                let names: Vec<&str> = plain.iter().map(|f| f.profile.as_str()).collect();
                // A dotfiles symlink: name the file that really holds the keys.
                let real: Vec<_> = plain.iter().map(|f| real_path(&f.path)).collect();
                report(
                    false,
                    format!(
                        "plaintext keys in {} for {}: run `op-aws import --profile P --remove-plaintext`",
                        crate::plaintext::paths(real.iter().map(std::path::PathBuf::as_path)),
                        names.join(", ")
                    ),
                );
            }
        }
        Err(e) => report(false, format!("cannot read the AWS files: {e}")),
    }
    if let Some(line) = plaintext_login_sessions(ctx) {
        report(false, line);
    }
    if let Err(e) = AwsFiles::load(c) {
        report(false, format!("the AWS config does not parse: {e}"));
    }
    if c.var_os("AWS_SECRET_ACCESS_KEY").is_some() {
        report(false, "AWS_SECRET_ACCESS_KEY is set in this shell: keys in the environment reach every command; `op-aws import --from-env`, then unset it".into());
    } else {
        report(true, "no keys in this shell's environment".into());
    }
    match c.integration() {
        Some(sh) => report(true, format!("shell integration loaded ({sh})")),
        None => report(false, "shell integration not loaded: add `eval \"$(op-aws activate bash)\"` (or zsh, fish, nu) to your rc file".into()),
    }
    if let Some(p) = crate::process::op_aws_exe()
        .ok()
        .and_then(|exe| crate::install::packaged(&exe))
    {
        report(true, packaged_line(&p));
    }
    for (ok, what) in plugin_aliases(ctx) {
        report(ok, what);
    }
    if ctx.config.store == StoreKind::Local {
        if vault::exists(&ctx.dirs) {
            report(true, format!("vault in {}", ctx.dirs.data.display()));
        } else {
            report(
                false,
                "no vault: run `op-aws vault create` or `op-aws init`".into(),
            );
        }
    }
    match ctx.agent.status() {
        Ok(Some(a)) => report(
            true,
            format!(
                "agent running (pid {}), {}",
                a.pid,
                if a.held {
                    "held (quick unlock: system authentication asks before it is used)"
                } else if a.unlocked {
                    "unlocked"
                } else {
                    "locked"
                }
            ),
        ),
        Ok(None) => report(true, "agent not running (locked)".into()),
        Err(e) => report(false, format!("agent: {e}")),
    }
    if ctx.config.store == StoreKind::Local {
        // Off is a choice or an optional extra, never a problem: the passphrase still works.
        match crate::sysauth::availability(&ctx.config) {
            Ok(()) => report(
                true,
                format!("quick unlock on ({})", crate::sysauth::mechanism()),
            ),
            Err(off) => report(true, format!("quick unlock {off}")),
        }
    }
    // What this platform enforces, and what it has nothing for (docs/vault.md's table).
    for p in crate::os::protections(crate::os::Platform::CURRENT) {
        match p.how {
            Some(how) => report(true, format!("protection: {} ({how})", p.what)),
            None => report(true, format!("protection not on this platform: {}", p.what)),
        }
    }
    // Cached sessions that no longer decrypt (or were encrypted to another key).
    if ctx
        .agent
        .status()
        .ok()
        .flatten()
        .is_some_and(|a| a.unlocked)
    {
        match crate::sts::cache::drop_unreadable(ctx) {
            Ok(bad) if bad.is_empty() => report(true, "every cached session decrypts".into()),
            Ok(bad) => report(
                false,
                format!(
                    "{} cached session(s) did not decrypt with the vault's identity and were removed ({}); the next command asks STS again",
                    bad.len(),
                    bad.iter()
                        .map(|m| m.profile.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
            Err(e) => report(false, format!("cannot check the session cache: {e}")),
        }
    }
    // Each held local item's key age, when IAM can tell (no answer is not a problem here:
    // the key may lack the permission, or there may be no network).
    if ctx.config.store == StoreKind::Local
        && let Ok(Some(listing)) = ctx.agent.list()
    {
        for l in listing {
            let Ok(Some(item)) = crate::store::held_item(ctx, &l.title) else {
                continue;
            };
            let age = match crate::rotate::key_age(ctx, item) {
                Ok(Some(age)) => age,
                // Offline (or a blackholed endpoint): asking for every item would only wait
                // out one timeout after another.
                Err(crate::Error::StsUnreachable { .. }) => break,
                _ => continue,
            };
            let days = age.as_secs() / 86_400;
            let what = format!("{}'s access key is {days} days old", l.title);
            if days > KEY_AGE_WARN_DAYS {
                let rotate = crate::shell::quote_posix(&l.title);
                report(false, format!("{what}: run `op-aws rotate {rotate}`"));
            } else {
                report(true, what);
            }
        }
    }
    // recipient.txt must be the identity's own (checked when the agent holds it).
    if vault::exists(&ctx.dirs)
        && let Ok(Some(held)) = ctx.agent.recipient()
    {
        match vault::recipient(&ctx.dirs) {
            Ok(r) if r.to_string() == held => {
                report(true, "recipient.txt is the vault identity's".into());
            }
            _ => report(
                false,
                format!(
                    "{} is not the vault identity's recipient (replaced?): new sessions would be encrypted to another key; run `op-aws vault rekey`",
                    ctx.dirs.recipient_file().display()
                ),
            ),
        }
    }
    match crate::report::clock_skew(ctx) {
        Ok(s) if s.abs() < 60 => report(true, format!("clock within {}s of STS", s.abs().max(1))),
        Ok(s) => report(
            false,
            format!(
                "clock {}s {} STS: MFA codes and signatures will fail; fix the system clock",
                s.abs(),
                if s > 0 { "behind" } else { "ahead of" }
            ),
        ),
        Err(e) => report(false, format!("cannot check the clock against STS: {e}")),
    }
    Ok(())
}

/// 1Password's `plugins.sh` (`alias aws="op plugin run -- aws"`): an alias wins over op-aws's
/// function in bash and zsh, and in fish when sourced after op-aws. Found in the rc files, or
/// from the `OP_PLUGIN_ALIASES_SOURCED` it exports.
fn plugin_aliases(ctx: &Ctx) -> Vec<(bool, String)> {
    let c = &ctx.caller;
    let wrapped = ctx.config.wrapped();
    let shown = |p: &std::path::Path| printable(&p.display().to_string());
    let fix = "`op-aws import --from-1password-plugin` brings its defaults over";
    let mut out = Vec::new();
    let found = opplugin::rc_files(c, None)
        .and_then(|rc| opplugin::shadowing(c, &rc, &wrapped))
        .unwrap_or_default();
    for s in found
        .iter()
        .filter(|s| !s.aliased.is_empty() && !s.overridden)
    {
        let rc = s.rc.as_deref().map(shown).unwrap_or_default();
        out.push((
            false,
            format!(
                "{rc} sources {}, whose aliases for {} win over op-aws's functions (`op plugin run` runs them, not op-aws): remove that line ({fix})",
                shown(&s.plugins_sh),
                s.aliased.join(", ")
            ),
        ));
    }
    if out.is_empty() && c.var_os(opplugin::ALIASES_SOURCED_VAR).is_some() {
        let plugins = opplugin::plugins_sh(c).ok();
        let aliased = plugins
            .as_deref()
            .map(|p| opplugin::aliased(p, &wrapped))
            .unwrap_or_default();
        let file = plugins.as_deref().map_or_else(
            || "1Password's plugins.sh".to_owned(),
            |p| format!("1Password's {}", shown(p)),
        );
        if !plugins.as_deref().is_some_and(std::path::Path::is_file) {
            out.push((false, format!(
                "{} is set: this shell sourced 1Password's plugins.sh, and op-aws cannot tell what it aliases ({file} does not exist): its aliases win over op-aws's functions; see `alias`",
                opplugin::ALIASES_SOURCED_VAR
            )));
        } else if !aliased.is_empty() {
            out.push((false, format!(
                "{} is set: this shell sourced {file}, whose aliases for {} win over op-aws's functions: remove the `source` line from your rc file ({fix}), or `unalias {}`",
                opplugin::ALIASES_SOURCED_VAR,
                aliased.join(", "),
                aliased.join(" ")
            )));
        } else {
            out.push((
                true,
                format!(
                    "{} is set, but {file} aliases none of the wrapped commands",
                    opplugin::ALIASES_SOURCED_VAR
                ),
            ));
        }
    }
    if out.is_empty() {
        out.push((
            true,
            "no 1Password shell plugin aliases for the wrapped commands".into(),
        ));
    }
    out
}

/// What the Debian package already put in place, and the one step it cannot take for nu.
pub fn packaged_line(p: &crate::install::Packaged) -> String {
    format!(
        "installed from the Debian package: completions and man pages are in place; in nu, `plugin add {}` adds the plugin",
        p.plugin.display()
    )
}

fn real_path(p: &std::path::Path) -> std::path::PathBuf {
    match std::fs::symlink_metadata(p) {
        Ok(m) if m.file_type().is_symlink() => {
            std::fs::canonicalize(p).unwrap_or_else(|_| p.to_owned())
        }
        _ => p.to_owned(),
    }
}
