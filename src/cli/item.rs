use anyhow::Context;
use op_aws::caller::Caller;
use op_aws::config::StoreKind;
use op_aws::ctx::Ctx;
use op_aws::item::{Item, is_concealed_label, now_secs};
use op_aws::{Error, prompt, store, vault};

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
                anyhow::ensure!(!name.trim().is_empty(), "the item name is empty");
                let fields = read_fields(&set, &set_secret)?;
                let id = store::identity(&ctx)?;
                vault::update(&ctx.dirs, &id, |data| {
                    if data.find(&name).is_some() {
                        return Err(Error::ItemExists(name.clone()));
                    }
                    let mut item = Item::new(name.trim());
                    for (k, v, c) in fields {
                        item.set(&k, v, c);
                    }
                    data.items.push(item);
                    Ok(())
                })
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
                    titles.iter().for_each(|t| println!("{t}"));
                }
            }
            Cmd::List { json } => {
                let id = store::identity(&ctx)?;
                let data = vault::load(&ctx.dirs, &id).context("cannot list the items")?;
                if json {
                    let v: Vec<_> = data
                        .items
                        .iter()
                        .map(|i| serde_json::json!({"title": i.title, "fields": i.fields.iter().map(|f| &f.label).collect::<Vec<_>>(), "created": i.created, "updated": i.updated}))
                        .collect();
                    super::print_json(&v)?;
                } else {
                    for i in &data.items {
                        println!("{}", i.title);
                    }
                }
            }
            Cmd::Show { name, json, reveal } => {
                let item = store::get_item(&ctx, &name)
                    .with_context(|| format!("cannot show item {name:?}"))?;
                if json {
                    super::print_json(&item.to_json(reveal))?;
                } else {
                    println!("{}", item.title);
                    for f in &item.fields {
                        let v = if f.concealed && !reveal {
                            "********"
                        } else {
                            f.value.as_str()
                        };
                        println!("  {}: {v}", f.label);
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
                for r in &rename {
                    split_pair(r, "--rename")?;
                }
                let fields = read_fields(&set, &set_secret)?;
                let id = store::identity(&ctx)?;
                vault::update(&ctx.dirs, &id, |data| {
                    if let Some(t) = &title
                        && !t.eq_ignore_ascii_case(&name)
                        && data.find(t).is_some()
                    {
                        return Err(Error::ItemExists(t.clone()));
                    }
                    let item = data
                        .find_mut(&name)
                        .ok_or_else(|| Error::NoSuchItem(name.clone()))?;
                    for r in &rename {
                        let (old, new) = r.split_once('=').unwrap_or_default();
                        item.rename_field(old.trim(), new.trim())?;
                    }
                    for u in &unset {
                        if !item.unset(u) {
                            return Err(Error::Invalid(format!(
                                "item {:?} has no field {u:?}",
                                item.title
                            )));
                        }
                    }
                    for (k, v, c) in fields {
                        item.set(&k, v, c);
                    }
                    if let Some(t) = title {
                        item.title = t.trim().to_owned();
                    }
                    item.updated = now_secs();
                    Ok(())
                })
                .with_context(|| format!("cannot edit item {name:?}"))?;
            }
            Cmd::Rm { name } => {
                let id = store::identity(&ctx)?;
                vault::update(&ctx.dirs, &id, |data| {
                    let before = data.items.len();
                    data.items.retain(|i| !i.title.eq_ignore_ascii_case(&name));
                    if data.items.len() == before {
                        return Err(Error::NoSuchItem(name.clone()));
                    }
                    Ok(())
                })
                .with_context(|| format!("cannot remove item {name:?}"))?;
            }
        }
        Ok(())
    }
}
