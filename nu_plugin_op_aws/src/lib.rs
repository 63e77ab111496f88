//! The op-aws nushell plugin: `op-aws use|clear|inspect|status|profiles|items|export|cache`
//! as structured nu commands. Glue only: every decision is the op-aws library's.
//!
//! The plugin process outlives any one call and runs in its own directory, so nothing here
//! reads the process environment or working directory: [`caller`] carries the caller's `$env`
//! and `$env.PWD` into the library, whose resolver answers every command.
#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::path::PathBuf;

use nu_plugin::{EngineInterface, Plugin, PluginCommand};
use nu_protocol::{DynamicSuggestion, LabeledError, Span, Value};
use op_aws::awsfiles::AwsFiles;
use op_aws::caller::Caller;
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

/// The caller's context, for each call: its `$env` and `$env.PWD`, and no terminal (the plugin
/// never owns one: a locked vault is an error naming `op-aws unlock`, never a prompt).
pub fn caller(engine: &EngineInterface) -> Result<Caller, LabeledError> {
    let vars = engine
        .get_env_vars()?
        .into_iter()
        .filter_map(|(k, v)| Some((k, OsString::from(env_string(&v)?))));
    let cwd = PathBuf::from(engine.get_current_dir()?);
    Ok(Caller::new(vars, cwd, false))
}

/// The library's context for this call.
pub fn ctx(engine: &EngineInterface, span: Span) -> Result<Ctx, LabeledError> {
    Ctx::new(caller(engine)?).map_err(|e| fail("cannot read the op-aws settings", &e, span))
}

/// The caller's AWS files, with a trusted project file's profiles.
pub fn aws_files(ctx: &Ctx, span: Span) -> Result<AwsFiles, LabeledError> {
    AwsFiles::load_here(ctx).map_err(|e| fail("cannot read the AWS files", &e, span))
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
/// The same text the CLI's printer makes safe (no control or bidi characters: an item title or
/// an AWS message must not drive the terminal), as nu's label and help.
pub fn fail(what: &str, e: &op_aws::Error, span: Span) -> LabeledError {
    use op_aws::error::one_line;
    let err = LabeledError::new(one_line(what)).with_label(one_line(&e.to_string()), span);
    match e.hint() {
        Some(h) => err.with_help(one_line(&h)),
        None => err,
    }
}

/// A value, or nothing.
pub fn opt(v: Option<Value>, span: Span) -> Value {
    v.unwrap_or_else(|| Value::nothing(span))
}

/// A string, or nothing.
pub fn opt_str(v: Option<&str>, span: Span) -> Value {
    v.map_or_else(|| Value::nothing(span), |s| Value::string(s, span))
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
    let titles = ctx(engine, Span::unknown())
        .ok()
        .and_then(|ctx| op_aws::store::list_titles(&ctx).ok())
        .unwrap_or_default();
    Some(suggestions(titles))
}

/// Profile names from the caller's AWS files for completion.
pub fn complete_profiles(engine: &EngineInterface) -> Option<Vec<DynamicSuggestion>> {
    let names = ctx(engine, Span::unknown())
        .ok()
        .and_then(|c| aws_files(&c, Span::unknown()).ok())
        .map(|f| f.profile_names())
        .unwrap_or_default();
    Some(suggestions(names))
}

#[cfg(test)]
pub(crate) mod fixture;
