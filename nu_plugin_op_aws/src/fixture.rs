//! One vault per test process, served by an in-process agent, for the examples to run against:
//! items `dev` (region eu-west-1) and `prod`, profiles `admin` (a role over dev) and `dev`.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use nu_plugin_test_support::PluginTest;
use nu_protocol::Value;
use op_aws::agent::process;
use op_aws::dirs::Dirs;
use op_aws::item::{self, Item};
use op_aws::link::client::Link;
use op_aws::vault;
use secrecy::SecretString;

use crate::OpAwsPlugin;

struct Fixture {
    root: tempfile::TempDir,
    vars: Vec<(String, String)>,
}

fn keys(title: &str, id: &str, region: Option<&str>) -> Item {
    let mut it = Item::new(title);
    it.set(item::ACCESS_KEY_ID, id.into(), false);
    it.set(item::SECRET_ACCESS_KEY, format!("{title}-secret"), true);
    if let Some(r) = region {
        it.set(item::DEFAULT_REGION, r.into(), false);
    }
    it
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let root = tempfile::Builder::new().prefix("nu-plugin-op-aws-").tempdir().unwrap();
        let p = |rel: &str| -> String { root.path().join(rel).display().to_string() };
        let vars: Vec<(String, String)> = [
            ("HOME", p("home")),
            ("OP_AWS_CONFIG_DIR", p("cfg")),
            ("OP_AWS_DATA_DIR", p("data")),
            ("OP_AWS_CACHE_DIR", p("cache")),
            ("OP_AWS_RUNTIME_DIR", p("run")),
            ("AWS_CONFIG_FILE", p("home/.aws/config")),
            ("AWS_SHARED_CREDENTIALS_FILE", p("home/.aws/credentials")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let caller = op_aws::caller::Caller::new(
            vars.iter().map(|(k, v)| (k.clone(), v.into())),
            root.path().to_owned(),
            false,
        );
        let dirs = Dirs::new(&caller).unwrap();

        std::fs::create_dir_all(root.path().join("home/.aws")).unwrap();
        std::fs::write(
            root.path().join("home/.aws/config"),
            "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = dev\n\
             [profile dev]\nregion = eu-west-1\n",
        )
        .unwrap();

        vault::create(&dirs, SecretString::from("pw"), Some(10)).unwrap();
        let id = vault::unlock(&dirs, SecretString::from("pw")).unwrap();
        vault::update(&dirs, &id, |d| {
            d.items.push(keys("dev", "AKIADEVEXAMPLE", Some("eu-west-1")));
            d.items.push(keys("prod", "AKIAPRODEXAMPLE", None));
            Ok(())
        })
        .unwrap();

        // The agent's loop, in a thread of this test process (no op-aws binary needed).
        let served = dirs.clone();
        std::thread::spawn(move || process::serve(&served, None));
        for _ in 0..500 {
            if dirs.agent_socket().exists() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Link::to(&dirs)
            .unlock(
                Some(&id),
                &op_aws::config::AgentTimes::forget_when_idle(Duration::from_secs(600)),
            )
            .unwrap();
        Fixture { root, vars }
    })
}

/// A plugin test whose `$env` points at the fixture (and `$env.PWD` at its root).
pub fn plugin_test() -> PluginTest {
    let f = fixture();
    let mut t = PluginTest::new("op_aws", OpAwsPlugin.into()).expect("the plugin registers");
    let state = t.engine_state_mut();
    for (k, v) in &f.vars {
        state.add_env_var(k.clone(), Value::test_string(v));
    }
    let pwd: PathBuf = f.root.path().to_owned();
    state.add_env_var("PWD".into(), Value::test_string(pwd.display().to_string()));
    t
}

/// Runs every example of `cmd` that states a result.
pub fn check_examples(cmd: &impl nu_plugin::PluginCommand<Plugin = OpAwsPlugin>) {
    if let Err(e) = plugin_test().test_command_examples(cmd) {
        panic!("{e:?}");
    }
}
