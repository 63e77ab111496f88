use crate::{OpAwsPlugin, fail, opt_str};
use nu_plugin::{EngineInterface, EvaluatedCall, SimplePluginCommand};
use nu_protocol::{Category, Example, LabeledError, Signature, Type, Value, record};

/// `op-aws inspect`: every default that applies here, as a table (never a secret).
pub struct Inspect;

impl SimplePluginCommand for Inspect {
    type Plugin = OpAwsPlugin;

    fn name(&self) -> &str {
        "op-aws inspect"
    }

    fn description(&self) -> &str {
        "Every default that applies here, in precedence order: active, scope, item, store, path, export."
    }

    fn extra_description(&self) -> &str {
        "The first row is the one in effect (unless a command passes --item, or its --profile is \
         bound to an item with op_aws_item). See also `op-aws status` and `op-aws cache`."
    }

    fn signature(&self) -> Signature {
        Signature::build(self.name())
            .input_output_type(Type::Nothing, Type::table())
            .category(Category::Env)
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![
            Example {
                example: "op-aws use prod; (op-aws inspect).0.item",
                description: "The item in effect here.",
                result: Some(Value::test_string("prod")),
            },
            Example {
                example: "op-aws use prod; (op-aws inspect).0.scope",
                description: "Where it comes from.",
                result: Some(Value::test_string("session")),
            },
            Example {
                example: "op-aws inspect | where scope == directory",
                description: "The directory defaults that apply here.",
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
        let ctx = crate::ctx(engine, head)?;
        let here = op_aws::report::here(&ctx)
            .map_err(|e| fail("cannot tell what applies here", &e, head))?;
        let rows = op_aws::report::default_rows(&ctx, &here.candidates)
            .into_iter()
            .map(|d| {
                Value::record(
                    record! {
                        "active" => Value::bool(d.active, head),
                        "scope" => Value::string(d.scope, head),
                        "item" => Value::string(d.item, head),
                        "store" => Value::string(d.store, head),
                        "path" => opt_str(d.path.map(|p| p.display().to_string()).as_deref(), head),
                        "export" => Value::bool(d.export, head),
                    },
                    head,
                )
            })
            .collect();
        Ok(Value::list(rows, head))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples() {
        crate::fixture::check_examples(&Inspect);
    }
}
