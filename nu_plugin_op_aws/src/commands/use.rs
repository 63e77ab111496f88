use nu_plugin::{DynamicCompletionCall, EngineInterface, EvaluatedCall, SimplePluginCommand};
use nu_protocol::engine::ArgType;
use nu_protocol::{
    Category, DynamicSuggestion, Example, LabeledError, Signature, Span, Spanned, SyntaxShape,
    Type, Value, record,
};
use op_aws::change::{self, Target};
use op_aws::model::scope::Scope;
use op_aws::scope::SESSION_VAR;
use op_aws::{Error, store};

use crate::{OpAwsPlugin, fail};

/// `op-aws use ITEM`: this terminal's default, or a directory's, or the global one.
pub struct Use;

impl SimplePluginCommand for Use {
    type Plugin = OpAwsPlugin;

    fn name(&self) -> &str {
        "op-aws use"
    }

    fn description(&self) -> &str {
        "Make ITEM the default: for this terminal (the default), a directory and below, or everywhere."
    }

    fn extra_description(&self) -> &str {
        "The session default is $env.OP_AWS_SESSION_ITEM in the caller's scope: it is gone when \
         the shell exits and never reaches another terminal. Directory and global defaults are \
         kept in op-aws's config directory, never in the project."
    }

    fn signature(&self) -> Signature {
        Signature::build(self.name())
            .required("item", SyntaxShape::String, "The item: a name in the vault, or op://Vault/Item.")
            .optional(
                "dir",
                SyntaxShape::Directory,
                "With --directory: the directory (default: the current one).",
            )
            .switch("session", "This terminal only (the default).", Some('s'))
            .switch("directory", "The directory and everything below it.", Some('d'))
            .switch("global", "Everywhere.", Some('g'))
            .switch(
                "export",
                "With --directory: export the keys into the shell while inside it (for unwrapped tools).",
                None,
            )
            .input_output_type(Type::Nothing, Type::record())
            .category(Category::Env)
    }

    fn search_terms(&self) -> Vec<&str> {
        vec!["switch", "select", "aws", "default", "item"]
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![
            Example {
                example: "op-aws use prod; $env.OP_AWS_SESSION_ITEM",
                description: "Use the prod item in this terminal.",
                result: Some(Value::test_string("prod")),
            },
            Example {
                example: "(op-aws use PROD).scope",
                description: "Names match case-insensitively; the record says what was set.",
                result: Some(Value::test_string("session")),
            },
            Example {
                example: "op-aws use acme --directory ~/work/acme",
                description: "Use the acme item in ~/work/acme and below.",
                result: None,
            },
        ]
    }

    fn run(
        &self,
        _plugin: &OpAwsPlugin,
        engine: &EngineInterface,
        call: &EvaluatedCall,
        _input: &Value,
    ) -> Result<Value, LabeledError> {
        let head = call.head;
        let item: Spanned<String> = call.req(0)?;
        let dir: Option<Spanned<String>> = call.opt(1)?;
        let chosen: Vec<&str> = ["session", "directory", "global"]
            .into_iter()
            .filter(|f| call.has_flag(f).unwrap_or(false))
            .collect();
        if chosen.len() > 1 {
            let mut e = LabeledError::new("choose one of --session, --directory, --global");
            for f in &chosen {
                e = e.with_label("this one", call.get_flag_span(f).unwrap_or(head));
            }
            return Err(e);
        }
        let scope_flag = chosen.first().copied().unwrap_or("session");
        if let Some(d) = &dir
            && scope_flag != "directory"
        {
            return Err(LabeledError::new("a directory needs --directory")
                .with_label("given without --directory", d.span)
                .with_help(format!("op-aws use {} --directory {}", item.item, d.item)));
        }
        if call.has_flag("export")? && scope_flag != "directory" {
            return Err(LabeledError::new("--export needs --directory").with_label(
                "only for directory defaults",
                call.get_flag_span("export").unwrap_or(head),
            ));
        }

        let ctx = crate::ctx(engine, head)?;
        let (raw_dir, dir_span) = dir
            .as_ref()
            .map_or((".", head), |d| (d.item.as_str(), d.span));
        let target = match scope_flag {
            "directory" => Target::Directory {
                dir: std::path::Path::new(raw_dir),
                export: call.has_flag("export")?,
            },
            "global" => Target::Global,
            _ => Target::Session,
        };
        let used = change::use_item(&ctx, &item.item, target).map_err(|e| match &e {
            Error::NoSuchItem(_) => {
                let known = store::list_titles(&ctx).unwrap_or_default();
                LabeledError::new(format!("cannot use {:?}", item.item))
                    .with_label("no such item", item.span)
                    .with_help(if known.is_empty() {
                        "the vault has no items: add one with `op-aws import` or `op-aws item add NAME`".into()
                    } else {
                        format!("known items: {}", known.join(", "))
                    })
            }
            _ if scope_flag == "directory" => fail("cannot use that directory", &e, dir_span),
            _ => fail(&format!("cannot use {:?}", item.item), &e, item.span),
        })?;
        let name = used.item;
        let path = match &used.scope {
            Scope::Directory(path) => Value::string(path.display().to_string(), head),
            Scope::Session => {
                engine.add_env_var(SESSION_VAR, Value::string(&name, head))?;
                Value::nothing(head)
            }
            _ => Value::nothing(head),
        };
        refresh_hook(engine, head)?;
        Ok(Value::record(
            record! {
                "item" => Value::string(name, head),
                "scope" => Value::string(scope_flag, head),
                "path" => path,
            },
            head,
        ))
    }

    #[allow(deprecated)] // the completion API is marked experimental in nu 0.115
    fn get_dynamic_completion(
        &self,
        _plugin: &OpAwsPlugin,
        engine: &EngineInterface,
        _call: DynamicCompletionCall,
        arg_type: ArgType,
        _experimental: nu_protocol::engine::ExperimentalMarker,
    ) -> Option<Vec<DynamicSuggestion>> {
        match arg_type {
            ArgType::Positional(0) => crate::complete_items(engine),
            _ => None,
        }
    }
}

/// Makes the module's prompt hook (if loaded) recompute OP_AWS_ITEM at the next prompt.
pub(crate) fn refresh_hook(engine: &EngineInterface, span: Span) -> Result<(), LabeledError> {
    engine.add_env_var("__OP_AWS_STATE", Value::string("", span))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples() {
        crate::fixture::check_examples(&Use);
    }

    #[test]
    fn unknown_item_is_labelled_with_the_known_ones() {
        let err = crate::fixture::plugin_test()
            .eval("op-aws use nope")
            .unwrap_err();
        let text = format!("{err:?}");
        assert!(
            text.contains("no such item") && text.contains("dev, prod"),
            "{text}"
        );
    }
}
