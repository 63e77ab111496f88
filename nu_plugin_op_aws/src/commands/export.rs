use nu_plugin::{DynamicCompletionCall, EngineInterface, EvaluatedCall, SimplePluginCommand};
use nu_protocol::engine::ArgType;
use nu_protocol::{
    Category, DynamicSuggestion, Example, LabeledError, Record, Signature, Spanned, SyntaxShape,
    Type, Value,
};
use op_aws::inject::{self, EnvInput};
use op_aws::resolve::{self, Here};
use op_aws::{Error, store};

use crate::{Caller, OpAwsPlugin, fail};

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
        let caller = Caller::of(engine)?;
        let ctx = caller.ctx(head)?;

        let profile = profile_flag
            .as_ref()
            .map(|p| (p.item.clone(), p.span))
            .or_else(|| caller.var("AWS_PROFILE").map(|p| (p.to_owned(), head)));
        let files = match &profile {
            Some((p, span)) => {
                let files = caller.aws_files(head)?;
                if !files.has_profile(p) {
                    let known = files.profile_names();
                    return Err(
                        LabeledError::new(format!("cannot export for profile {p:?}"))
                            .with_label("no such profile", *span)
                            .with_help(format!("known profiles: {}", known.join(", "))),
                    );
                }
                Some(files)
            }
            None => None,
        };
        let profile_name = profile.as_ref().map(|(p, _)| p.as_str());

        let here = Here {
            session: caller.session(),
            cwd: &caller.cwd,
        };
        let applied = resolve::item_in_effect(
            &ctx,
            item_flag.as_ref().map(|i| i.item.as_str()),
            files.as_ref(),
            profile_name,
            &here,
        )
        .map_err(|e| fail("cannot choose the item", &e, head))?
        .ok_or_else(|| fail("cannot export", &Error::NoDefault, head))?;
        let item_span = item_flag.as_ref().map_or(head, |i| i.span);
        let item = store::get_item(&ctx, &applied.item).map_err(|e| {
            fail(
                &format!("cannot read item {:?} ({})", applied.item, applied.scope),
                &e,
                item_span,
            )
        })?;
        let (creds, region) = resolve::credentials(&ctx, &item, files.as_ref(), profile_name)
            .map_err(|e| {
                fail(
                    &format!("cannot get credentials from {:?}", applied.item),
                    &e,
                    head,
                )
            })?;
        let shell_region = ["AWS_REGION", "AWS_DEFAULT_REGION"]
            .into_iter()
            .find_map(|k| caller.var(k));
        let changes = inject::env_changes(&EnvInput {
            tool: "",
            creds: &creds,
            profile: None,
            region: region.as_deref(),
            shell_region,
        });
        let mut rec = Record::new();
        for (k, v) in &changes.set {
            rec.push(*k, Value::string(v, head));
        }
        for k in &changes.unset {
            rec.push(*k, Value::nothing(head));
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
