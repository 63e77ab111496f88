use anyhow::Context;
use op_aws::caller::Caller;
use op_aws::config::StoreKind;
use op_aws::ctx::Ctx;
use op_aws::item::{Item, is_concealed_label};
use op_aws::vault::Change;
use op_aws::{prompt, store};
use zeroize::Zeroizing;

/// Add, list, show, change and remove items in the local vault.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(clap::Subcommand)]
enum Cmd {
    /// Add an item: plain fields with --set, concealed ones with --set-secret.
    Add {
        name: String,
        /// A plain field, LABEL=VALUE (repeatable).
        #[arg(long, value_name = "LABEL=VALUE")]
        set: Vec<String>,
        /// A concealed field, read hidden from the terminal or, one line per flag, from stdin.
        #[arg(long, value_name = "LABEL")]
        set_secret: Vec<String>,
    },
    /// List the items.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show an item; concealed values are masked unless --reveal.
    Show {
        name: String,
        #[arg(long)]
        json: bool,
        /// Print concealed values too.
        #[arg(long)]
        reveal: bool,
    },
    /// Change an item.
    Edit {
        name: String,
        #[arg(long, value_name = "LABEL=VALUE")]
        set: Vec<String>,
        #[arg(long, value_name = "LABEL")]
        set_secret: Vec<String>,
        /// Rename a field, OLD=NEW (repeatable).
        #[arg(long, value_name = "OLD=NEW")]
        rename: Vec<String>,
        /// Remove a field (repeatable).
        #[arg(long, value_name = "LABEL")]
        unset: Vec<String>,
        /// Rename the item itself.
        #[arg(long, value_name = "NAME")]
        title: Option<String>,
    },
    /// Remove an item.
    Rm { name: String },
}

fn split_pair<'a>(s: &'a str, what: &str) -> anyhow::Result<(&'a str, &'a str)> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim(), v)),
        _ => anyhow::bail!(
            "{what} takes {}, got {s:?}",
            if what == "--rename" {
                "OLD=NEW"
            } else {
                "LABEL=VALUE"
            }
        ),
    }
}

/// Plain and concealed values, checked and read before the vault is touched.
fn read_fields(
    set: &[String],
    set_secret: &[String],
) -> anyhow::Result<Vec<(String, String, bool)>> {
    let mut out = Vec::new();
    for s in set {
        let (k, v) = split_pair(s, "--set")?;
        if is_concealed_label(k) {
            anyhow::bail!(
                "{k:?} is concealed: pass it with --set-secret {k:?} (values of secrets are never taken from the command line)"
            );
        }
        out.push((k.to_owned(), v.to_owned(), false));
    }
    for label in set_secret {
        anyhow::ensure!(
            !label.trim().is_empty() && !label.contains('='),
            "--set-secret takes a LABEL only; the value is read hidden"
        );
        let v = prompt::secret(&format!("{label}: "))
            .with_context(|| format!("cannot read {label}"))?;
        use secrecy::ExposeSecret;
        out.push((label.trim().to_owned(), v.expose_secret().to_owned(), true));
    }
    Ok(out)
}

impl Args {
    pub fn run(self, caller: Caller) -> anyhow::Result<()> {
        let ctx = Ctx::new(caller)?;
        match self.cmd {
            Cmd::Add {
                name,
                set,
                set_secret,
            } => {
                op_aws::policy::may_change(&ctx, "item add", Some(&name))?;
                anyhow::ensure!(!name.trim().is_empty(), "the item name is empty");
                let fields = read_fields(&set, &set_secret)?;
                let mut item = Item::new(name.trim());
                for (k, v, c) in fields {
                    item.set(&k, v, c);
                }
                store::update(&ctx, Change::Add { items: vec![item] })
                    .with_context(|| format!("cannot add item {name:?}"))?;
            }
            Cmd::List { json } if ctx.config.store == StoreKind::OnePassword => {
                let titles = store::list_titles(&ctx).context("cannot list the items")?;
                if json {
                    super::print_json(
                        &titles
                            .iter()
                            .map(|t| serde_json::json!({ "title": t }))
                            .collect::<Vec<_>>(),
                    )?;
                } else {
                    titles.iter().for_each(|t| show!("{t}"));
                }
            }
            Cmd::List { json } => {
                let items = store::list(&ctx).context("cannot list the items")?;
                if json {
                    super::print_json(&items)?;
                } else {
                    for i in &items {
                        show!("{}", i.title);
                    }
                }
            }
            Cmd::Show { name, json, reveal } => {
                if reveal {
                    op_aws::policy::may_reveal(&ctx, &name)?;
                }
                let item = store::get_item(&ctx, &name)
                    .with_context(|| format!("cannot show item {name:?}"))?;
                if json {
                    super::print_json(&item.to_json(reveal))?;
                } else {
                    show!("{}", item.title);
                    for f in &item.fields {
                        let v = if f.concealed && !reveal {
                            "********"
                        } else {
                            f.value.as_str()
                        };
                        show!("  {}: {v}", f.label);
                    }
                }
            }
            Cmd::Edit {
                name,
                set,
                set_secret,
                rename,
                unset,
                title,
            } => {
                op_aws::policy::may_change(&ctx, "item edit", Some(&name))?;
                for r in &rename {
                    split_pair(r, "--rename")?;
                }
                let fields = read_fields(&set, &set_secret)?;
                let change = Change::Edit {
                    name: name.clone(),
                    set: fields
                        .into_iter()
                        .map(|(k, v, c)| (k, Zeroizing::new(v), c))
                        .collect(),
                    rename: rename
                        .iter()
                        .map(|r| {
                            let (old, new) = r.split_once('=').unwrap_or_default();
                            (old.to_owned(), new.to_owned())
                        })
                        .collect(),
                    unset,
                    title,
                };
                store::update(&ctx, change)
                    .with_context(|| format!("cannot edit item {name:?}"))?;
            }
            Cmd::Rm { name } => {
                op_aws::policy::may_change(&ctx, "item rm", Some(&name))?;
                store::update(&ctx, Change::Remove { name: name.clone() })
                    .with_context(|| format!("cannot remove item {name:?}"))?;
            }
        }
        Ok(())
    }
}
