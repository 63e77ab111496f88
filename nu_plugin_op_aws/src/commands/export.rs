use nu_plugin::{DynamicCompletionCall, EngineInterface, EvaluatedCall, SimplePluginCommand};
use nu_protocol::engine::ArgType;
use nu_protocol::{
    Category, DynamicSuggestion, Example, LabeledError, Record, Signature, Spanned, SyntaxShape,
    Type, Value,
};
use op_aws::Error;
use op_aws::model::resolution::{Request, Want};
use op_aws::resolve::resolve;

use crate::{OpAwsPlugin, fail};

/// `op-aws export`: the credentials in effect as a record of environment variables.
pub struct Export;

impl SimplePluginCommand for Export {
    type Plugin = OpAwsPlugin;

    fn name(&self) -> &str {
        "op-aws export"
    }

    fn description(&self) -> &str {
        "The credentials in effect here as a record of AWS_* variables, for with-env or load-env."
    }

    fn extra_description(&self) -> &str {
        "Variables that must not reach the command (a stale AWS_SESSION_TOKEN) are null: with-env \
         passes no null to external commands. Prefer the wrappers (`aws ...`) or `with-env` over \
         load-env, which leaves the keys in this shell."
    }

    fn signature(&self) -> Signature {
        Signature::build(self.name())
            .named(
                "item",
                SyntaxShape::String,
                "Use this item, whatever the defaults say.",
                Some('i'),
            )
            .named(
                "profile",
                SyntaxShape::String,
                "A profile from ~/.aws/config (roles, MFA, region); default: $env.AWS_PROFILE.",
                Some('p'),
            )
            .input_output_type(Type::Nothing, Type::record())
            .category(Category::Env)
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![
            Example {
                example: "(op-aws export --item prod).AWS_ACCESS_KEY_ID",
                description: "The access key id of the prod item.",
                result: Some(Value::test_string("AKIAPRODEXAMPLE")),
            },
            Example {
                example: "op-aws use dev; (op-aws export).AWS_REGION",
                description: "The region: the shell's, else the profile's, else the item's.",
                result: Some(Value::test_string("eu-west-1")),
            },
            Example {
                example: "with-env (op-aws export --profile admin) { ^terraform plan }",
                description: "Run one command with the admin profile's credentials.",
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
        let item_flag: Option<Spanned<String>> = call.get_flag("item")?;
        let profile_flag: Option<Spanned<String>> = call.get_flag("profile")?;
        let ctx = crate::ctx(engine, head)?;

        // The profile named with --profile must exist; one from $env.AWS_PROFILE is the
        // resolver's to judge, as for the CLI.
        if let Some(p) = &profile_flag {
            let files = crate::aws_files(&ctx, head)?;
            if !files.has_profile(&p.item) {
                let known = files.profile_names();
                return Err(
                    LabeledError::new(format!("cannot export for profile {:?}", p.item))
                        .with_label("no such profile", p.span)
                        .with_help(format!("known profiles: {}", known.join(", "))),
                );
            }
        }
        let r = resolve(
            &ctx,
            &Request {
                item: item_flag.as_ref().map(|i| i.item.as_str()),
                profile: profile_flag.as_ref().map(|p| p.item.as_str()),
                want: Want::Env { tool: "" },
                ask: op_aws::model::policy::Ask {
                    via: op_aws::model::policy::Via::Export,
                    ..Default::default()
                },
            },
        )
        .map_err(|e| {
            let span = match (&e, &item_flag) {
                (Error::Step { .. }, Some(i)) => i.span,
                _ => head,
            };
            match e {
                Error::NoDefault => fail("cannot export", &e, head),
                Error::Step { what, source } => fail(&what, &source, span),
                e => fail("cannot export", &e, span),
            }
        })?;
        // The plugin's stderr is nu's: the same one line the CLI prints.
        if let Some(line) = r.override_notice(&ctx) {
            eprintln!("op-aws: {line}");
        }
        let mut rec = Record::new();
        for (k, v) in &r.env.set {
            rec.push(k, Value::string(v, head));
        }
        for k in &r.env.unset {
            rec.push(k, Value::nothing(head));
        }
        Ok(Value::record(rec, head))
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
            ArgType::Flag(f) if f == "item" => crate::complete_items(engine),
            ArgType::Flag(f) if f == "profile" => crate::complete_profiles(engine),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples() {
        crate::fixture::check_examples(&Export);
    }

    #[test]
    fn unknown_profile_is_labelled() {
        let err = crate::fixture::plugin_test()
            .eval("op-aws export --profile nope")
            .unwrap_err();
        let text = format!("{err:?}");
        assert!(
            text.contains("no such profile") && text.contains("admin, dev"),
            "{text}"
        );
    }
}
