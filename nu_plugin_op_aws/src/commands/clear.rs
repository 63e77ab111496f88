use nu_plugin::{EngineInterface, EvaluatedCall, SimplePluginCommand};
use nu_protocol::{
    Category, Example, LabeledError, PipelineData, Signature, Span, Type, Value, record,
};
use op_aws::change;
use op_aws::model::scope::{Applied, Scope};
use op_aws::scope::SESSION_VAR;

use crate::{OpAwsPlugin, fail};

/// `op-aws clear`: removes the default in effect here, like `^op-aws clear`.
pub struct Clear;

impl SimplePluginCommand for Clear {
    type Plugin = OpAwsPlugin;

    fn name(&self) -> &str {
        "op-aws clear"
    }

    fn description(&self) -> &str {
        "Remove the default in effect here (session, then directory, then global); --all removes every one."
    }

    fn signature(&self) -> Signature {
        Signature::build(self.name())
            .switch("all", "Remove every default that applies here.", Some('a'))
            .switch(
                "force",
                "Accepted for the CLI's sake: the plugin never asks.",
                Some('f'),
            )
            .input_output_type(Type::Nothing, Type::table())
            .category(Category::Env)
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![
            Example {
                example: "op-aws use prod; op-aws clear; 'OP_AWS_SESSION_ITEM' in $env",
                description: "Forget this terminal's default.",
                result: Some(Value::test_bool(false)),
            },
            Example {
                example: "op-aws use dev; (op-aws clear).0.item",
                description: "The table lists what was removed.",
                result: Some(Value::test_string("dev")),
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
        let ctx = crate::ctx(engine, head)?;
        let plan = change::plan_clear(&ctx, call.has_flag("all")?).map_err(|e| match &e {
            op_aws::Error::ClearKept { .. } => LabeledError::new(e.to_string())
                .with_label("nothing was removed", head)
                .with_help(e.hint().unwrap_or_default()),
            _ => fail("cannot tell what applies here", &e, head),
        })?;
        if plan.session().is_some() {
            hide_env(engine, SESSION_VAR, head)?;
        }
        change::clear(&ctx, &plan).map_err(|e| fail("cannot save the defaults", &e, head))?;
        super::r#use::refresh_hook(engine, head)?;
        Ok(Value::list(
            plan.remove.iter().map(|a| applied_row(a, head)).collect(),
            head,
        ))
    }
}

/// One default as a row: item, scope, path (directory defaults only).
pub(crate) fn applied_row(a: &Applied, span: Span) -> Value {
    let path = match &a.scope {
        Scope::Directory(p) => Value::string(p.display().to_string(), span),
        _ => Value::nothing(span),
    };
    Value::record(
        record! {
            "item" => Value::string(&a.item, span),
            "scope" => Value::string(a.scope.name(), span),
            "path" => path,
        },
        span,
    )
}

/// There is no `remove_env_var`; the built-in `hide-env`, called on the caller's stack, is.
fn hide_env(engine: &EngineInterface, name: &str, span: Span) -> Result<(), LabeledError> {
    let id = engine.find_decl("hide-env")?.ok_or_else(|| {
        LabeledError::new("cannot clear the session default: hide-env is not available")
    })?;
    let call = EvaluatedCall::new(span)
        .with_positional(Value::string(name, span))
        .with_flag(nu_protocol::Spanned {
            item: String::from("ignore-errors"),
            span,
        });
    engine.call_decl(id, call, PipelineData::empty(), true, false)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples() {
        crate::fixture::check_examples(&Clear);
    }
}
