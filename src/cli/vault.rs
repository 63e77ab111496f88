use anyhow::Context;
use op_aws::caller::Caller;
use op_aws::{Error, ctx::Ctx, prompt, unlock, vault};
use secrecy::ExposeSecret;

/// Manage the local vault.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(clap::Subcommand)]
enum Cmd {
    /// Create the local vault (the passphrase is asked twice, or read from stdin).
    Create(Create),
    /// Change the passphrase (the old one, then the new one twice; or two stdin lines).
    Passphrase(Change),
    /// A new vault identity: the vault re-encrypted to it, cached sessions dropped, so a stolen
    /// copy of the old identity opens nothing new (the passphrase stays).
    Rekey(Rekey),
    /// Security keys, Touch ID, TPMs (age plugins) that unlock the vault without the passphrase.
    #[command(subcommand)]
    Key(KeyCmd),
}

#[derive(clap::Subcommand)]
enum KeyCmd {
    /// Wrap the vault identity to an age plugin's recipient (asks for the passphrase).
    Add(KeyAdd),
    /// The keys, in the order `unlock` tries them.
    List(KeyList),
    /// Forget a key (its wrapped file is deleted).
    Rm(KeyRm),
}

#[derive(clap::Args)]
struct KeyAdd {
    /// The plugin's recipient, e.g. age1yubikey1…
    #[arg(long)]
    recipient: String,
    /// The identity file the plugin generated (it names the key; it is no secret).
    #[arg(long)]
    identity_file: std::path::PathBuf,
    /// A label for the key (default: the plugin's name).
    #[arg(long)]
    name: Option<String>,
    /// Read the passphrase from the first line of stdin.
    #[arg(long)]
    passphrase_stdin: bool,
}

#[derive(clap::Args)]
struct KeyList {
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct KeyRm {
    label: String,
}

#[derive(clap::Args)]
struct Rekey {
    /// Read the passphrase from the first line of stdin.
    #[arg(long)]
    passphrase_stdin: bool,
    #[arg(long, value_parser = clap::value_parser!(u8).range(10..=22), hide = true)]
    work_factor: Option<u8>,
}

#[derive(clap::Args)]
struct Change {
    /// Read the current passphrase, then the new one, from two lines of stdin.
    #[arg(long)]
    passphrase_stdin: bool,
    /// Also make a new vault identity (as `vault rekey`), protected by the new passphrase.
    #[arg(long)]
    rekey: bool,
    #[arg(long, value_parser = clap::value_parser!(u8).range(10..=22), hide = true)]
    work_factor: Option<u8>,
}

#[derive(clap::Args)]
struct Create {
    /// Read the passphrase from the first line of stdin.
    #[arg(long)]
    passphrase_stdin: bool,
    /// scrypt work factor (log2 N); the default takes about a second here. Lower only for
    /// throwaway vaults such as tests.
    #[arg(long, value_parser = clap::value_parser!(u8).range(10..=22), hide = true)]
    work_factor: Option<u8>,
}

impl Args {
    pub fn run(self, caller: Caller) -> anyhow::Result<()> {
        let ctx = Ctx::new(caller)?;
        let c = match self.cmd {
            Cmd::Create(c) => c,
            Cmd::Passphrase(c) => {
                op_aws::policy::may_change(&ctx, "vault passphrase", None)?;
                return change(&ctx, &c);
            }
            Cmd::Key(k) => {
                if !matches!(k, KeyCmd::List(_)) {
                    op_aws::policy::may_change(&ctx, "vault key", None)?;
                }
                return key(&ctx, k);
            }
            Cmd::Rekey(r) => {
                op_aws::policy::may_change(&ctx, "vault rekey", None)?;
                vault::ensure_exists(&ctx.dirs).context("cannot rekey the vault")?;
                let pass = current_passphrase(r.passphrase_stdin)?;
                return rekey(&ctx, pass, None, r.work_factor);
            }
        };
        if vault::exists(&ctx.dirs) {
            return Err(Error::VaultExists(ctx.dirs.data)).context("cannot create the vault");
        }
        let pass = new_passphrase(c.passphrase_stdin)?;
        vault::create(&ctx.dirs, pass, c.work_factor).context("cannot create the vault")?;
        eprintln!("op-aws: created the vault in {}", ctx.dirs.data.display());
        eprintln!("next: add keys with `op-aws import` or `op-aws item add NAME`");
        Ok(())
    }
}

fn change(ctx: &Ctx, c: &Change) -> anyhow::Result<()> {
    vault::ensure_exists(&ctx.dirs).context("cannot change the passphrase")?;
    let old = current_passphrase(c.passphrase_stdin)?;
    let new = new_passphrase(c.passphrase_stdin)?;
    if c.rekey {
        return rekey(ctx, old, Some(new), c.work_factor);
    }
    vault::change_passphrase(&ctx.dirs, old, new, c.work_factor)
        .context("cannot change the passphrase")?;
    eprintln!("op-aws: changed the vault passphrase");
    eprintln!(
        "hint: the vault's identity is the same; if a copy of it may have leaked, run `op-aws vault rekey`"
    );
    Ok(())
}

fn current_passphrase(from_stdin: bool) -> anyhow::Result<secrecy::SecretString> {
    if from_stdin || !prompt::stdin_is_terminal() {
        return Ok(secrecy::SecretString::from(
            prompt::read_stdin_line()
                .context("cannot read the current passphrase")?
                .as_str(),
        ));
    }
    Ok(prompt::read_hidden("current passphrase: ")?)
}

/// [`unlock::rekey`], said.
fn rekey(
    ctx: &Ctx,
    pass: secrecy::SecretString,
    new: Option<secrecy::SecretString>,
    work_factor: Option<u8>,
) -> anyhow::Result<()> {
    let dropped = unlock::rekey(ctx, pass, new, work_factor)?;
    eprintln!(
        "op-aws: the vault has a new identity; {dropped} cached session{} dropped",
        if dropped == 1 { "" } else { "s" }
    );
    Ok(())
}

/// Shorter passphrases are refused on a terminal (scripts, which pass one on stdin, get a warning).
const MIN_PASSPHRASE: usize = 8;

/// A new passphrase: twice on the terminal, or one stdin line.
pub fn new_passphrase(from_stdin: bool) -> anyhow::Result<secrecy::SecretString> {
    if from_stdin || !prompt::stdin_is_terminal() {
        let line = prompt::read_stdin_line().context("cannot read the passphrase")?;
        anyhow::ensure!(!line.trim().is_empty(), "the passphrase is empty");
        if line.chars().count() < MIN_PASSPHRASE {
            eprintln!(
                "op-aws: warning: a passphrase of fewer than {MIN_PASSPHRASE} characters is easy to guess"
            );
        }
        return Ok(secrecy::SecretString::from(line.as_str()));
    }
    let a = prompt::read_hidden("new vault passphrase: ")?;
    anyhow::ensure!(
        a.expose_secret().chars().count() >= MIN_PASSPHRASE,
        "the passphrase is shorter than {MIN_PASSPHRASE} characters\nhint: choose a longer one (a few words)"
    );
    let b = prompt::read_hidden("again: ")?;
    // Both are secrets: compare without an early exit.
    let (x, y) = (a.expose_secret().as_bytes(), b.expose_secret().as_bytes());
    let same = x.len() == y.len() && x.iter().zip(y).fold(0u8, |acc, (p, q)| acc | (p ^ q)) == 0;
    anyhow::ensure!(same, "the passphrases differ");
    Ok(a)
}

fn key(ctx: &Ctx, cmd: KeyCmd) -> anyhow::Result<()> {
    match cmd {
        KeyCmd::Add(a) => {
            vault::ensure_exists(&ctx.dirs).context("cannot add the key")?;
            let path = ctx.caller.absolute(&a.identity_file);
            let text = std::fs::read(&path)
                .map_err(|e| Error::io(&path, e))
                .context("cannot add the key")?;
            let text = zeroize::Zeroizing::new(String::from_utf8_lossy(&text).into_owned());
            let method = if a.passphrase_stdin {
                unlock::Method::Given(secrecy::SecretString::from(
                    prompt::read_stdin_line()
                        .context("cannot read the passphrase")?
                        .as_str(),
                ))
            } else {
                unlock::Method::Passphrase
            };
            let why = "Enter the op-aws vault passphrase to add a security key.";
            let id = unlock::open(ctx, method, why).context("cannot add the key")?;
            let k = unlock::keys::add(ctx, &id, &a.recipient, &text, a.name.as_deref())
                .context("cannot add the key")?;
            eprintln!(
                "op-aws: added key {:?} ({}); `op-aws unlock` tries it before the passphrase",
                k.label,
                unlock::keys::plugin_binary_name(&k.plugin)
            );
        }
        KeyCmd::List(l) => {
            let keys = unlock::keys::list(&ctx.dirs).context("cannot list the keys")?;
            if l.json {
                let v: Vec<_> = keys
                    .iter()
                    .map(|k| {
                        serde_json::json!({
                            "label": k.label,
                            "plugin": k.plugin,
                            "recipient": k.recipient,
                            "added": k.added,
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else if keys.is_empty() {
                eprintln!("op-aws: no security keys; the passphrase alone unlocks the vault");
                eprintln!(
                    "hint: add one with `op-aws vault key add --recipient R --identity-file F`"
                );
            } else {
                for k in &keys {
                    println!(
                        "{}\t{}\t{}\t{}",
                        op_aws::error::printable(&k.label),
                        op_aws::error::printable(&k.plugin),
                        op_aws::error::printable(&k.recipient),
                        humantime::format_rfc3339_seconds(
                            std::time::UNIX_EPOCH + std::time::Duration::from_secs(k.added)
                        )
                    );
                }
            }
        }
        KeyCmd::Rm(r) => {
            let k = unlock::keys::remove(&ctx.dirs, &r.label).context("cannot remove the key")?;
            eprintln!("op-aws: removed key {:?}", k.label);
        }
    }
    Ok(())
}
