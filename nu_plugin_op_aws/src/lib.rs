//! The op-aws nushell plugin: `op-aws use|clear|inspect|status|profiles|items|export|cache`
//! as structured nu commands. Glue only: every decision is the op-aws library's.
//!
//! The plugin process outlives any one call and runs in its own directory, so nothing here
//! reads the process environment or working directory: [`Caller`] carries the caller's `$env`
//! and `$env.PWD` into the library.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::PathBuf;

use nu_plugin::{EngineInterface, Plugin, PluginCommand};
use nu_protocol::{DynamicSuggestion, LabeledError, Span, Value};
use op_aws::awsfiles::AwsFiles;
use op_aws::ctx::Ctx;

mod commands;

pub use commands::*;

pub struct OpAwsPlugin;

impl Plugin for OpAwsPlugin {
    fn version(&self) -> String {
        env!("CARGO_PKG_VERSION").into()
    }

    fn commands(&self) -> Vec<Box<dyn PluginCommand<Plugin = Self>>> {
        vec![
            Box::new(Main),
            Box::new(Use),
            Box::new(Clear),
            Box::new(Inspect),
            Box::new(Status),
            Box::new(Profiles),
            Box::new(Items),
            Box::new(Export),
            Box::new(Cache),
        ]
    }
}

/// The caller's environment and directory, as the library needs them.
pub struct Caller {
    vars: HashMap<String, String>,
    pub cwd: PathBuf,
}

impl Caller {
    pub fn of(engine: &EngineInterface) -> Result<Self, LabeledError> {
        let vars = engine
            .get_env_vars()?
            .into_iter()
            .filter_map(|(k, v)| Some((k, env_string(&v)?)))
            .collect();
        let cwd = PathBuf::from(engine.get_current_dir()?);
        Ok(Self { vars, cwd })
    }

    pub fn var(&self, k: &str) -> Option<&str> {
        self.vars
            .get(k)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    fn lookup(&self) -> impl Fn(&str) -> Option<OsString> + '_ {
        |k| self.vars.get(k).map(OsString::from)
    }

    pub fn ctx(&self, span: Span) -> Result<Ctx, LabeledError> {
        Ctx::from_lookup(&self.lookup())
            .map_err(|e| fail("cannot read the op-aws settings", &e, span))
    }

    pub fn aws_files(&self, span: Span) -> Result<AwsFiles, LabeledError> {
        AwsFiles::load_with(&self.lookup()).map_err(|e| fail("cannot read the AWS files", &e, span))
    }

    /// `OP_AWS_SESSION_ITEM`: this terminal's default.
    pub fn session(&self) -> Option<&str> {
        self.var(op_aws::scope::SESSION_VAR)
    }

    /// A path argument, relative to the caller's directory (the plugin's own is elsewhere).
    pub fn absolute(&self, p: &str) -> PathBuf {
        self.cwd.join(p)
    }
}

/// What an external process would see for this `$env` value: strings as they are, lists
/// (PATH after nu's conversion) joined with `:`; anything else is not an environment string.
fn env_string(v: &Value) -> Option<String> {
    if let Ok(s) = v.as_str() {
        return Some(s.to_owned());
    }
    let parts: Option<Vec<&str>> = v.as_list().ok()?.iter().map(|x| x.as_str().ok()).collect();
    Some(parts?.join(":"))
}

/// A library error as a nu error: `what` failed, the reason labelled at `span`, the hint as help.
pub fn fail(what: &str, e: &op_aws::Error, span: Span) -> LabeledError {
    let err = LabeledError::new(what.to_owned()).with_label(e.to_string(), span);
    match e.hint() {
        Some(h) => err.with_help(h),
        None => err,
    }
}

/// Completion candidates, all of them (nu filters by what is typed).
fn suggestions(names: Vec<String>) -> Vec<DynamicSuggestion> {
    names
        .into_iter()
        .map(|value| DynamicSuggestion {
            value,
            ..Default::default()
        })
        .collect()
}

/// Item titles for completion; none (rather than file names) when the store cannot be read.
pub fn complete_items(engine: &EngineInterface) -> Option<Vec<DynamicSuggestion>> {
    let titles = Caller::of(engine)
        .ok()
        .and_then(|c| c.ctx(Span::unknown()).ok())
        .and_then(|ctx| op_aws::store::list_titles(&ctx).ok())
        .unwrap_or_default();
    Some(suggestions(titles))
}

/// Profile names from the caller's AWS files for completion.
pub fn complete_profiles(engine: &EngineInterface) -> Option<Vec<DynamicSuggestion>> {
    let names = Caller::of(engine)
        .ok()
        .and_then(|c| c.aws_files(Span::unknown()).ok())
        .map(|f| f.profile_names())
        .unwrap_or_default();
    Some(suggestions(names))
}

#[cfg(test)]
pub(crate) mod fixture;
