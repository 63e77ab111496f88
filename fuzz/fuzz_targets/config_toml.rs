//! `config.toml` (the user's settings; a dotfiles manager may write it).
//!
//! Holds: an error is one line naming the file; what parses, written out again, parses to the
//! same settings; the wrapped commands are all names safe to define as shell functions; the
//! agent's idle time is within its limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use op_aws::config::{Config, StoreKind, is_executable_name};

fn render(c: &Config) -> String {
    let mut t = toml::Table::new();
    t.insert(
        "store".into(),
        match c.store {
            StoreKind::Local => "local",
            StoreKind::OnePassword => "1password",
        }
        .into(),
    );
    if let Some(w) = &c.wrap {
        t.insert("wrap".into(), w.clone().into());
    }
    t.insert("wrap_extra".into(), c.wrap_extra.clone().into());
    if let Some(a) = &c.agent_timeout {
        t.insert("agent_timeout".into(), a.clone().into());
    }
    if let Some(v) = &c.onepassword_vault {
        t.insert("onepassword_vault".into(), v.clone().into());
    }
    t.insert("server".into(), c.server.into());
    t.insert(
        "trusted_endpoints".into(),
        c.trusted_endpoints.clone().into(),
    );
    toml::to_string(&t).expect("a table renders")
}

/// The settings as comparable values (Config has no PartialEq: nothing else compares it).
fn view(c: &Config) -> String {
    format!("{c:?}")
}

fuzz_target!(|data: &[u8]| {
    let config = match op_aws::fuzzing::config(data) {
        Ok(c) => c,
        Err(e) => {
            let msg = e.to_string();
            assert!(!msg.contains('\n'), "a multi-line error: {msg}");
            assert!(
                msg.contains("/fuzz/config.toml"),
                "the error names no file: {msg}"
            );
            return;
        }
    };
    assert!(
        config.wrapped().iter().all(|w| is_executable_name(w)),
        "{config:?}"
    );
    let idle = config.agent_idle().as_secs();
    assert!((1..=12 * 3600).contains(&idle), "idle {idle}");
    let text = render(&config);
    let again = op_aws::fuzzing::config(text.as_bytes())
        .unwrap_or_else(|e| panic!("rendered settings do not parse: {e}\n{text}"));
    assert_eq!(view(&again), view(&config), "{text}");
});
