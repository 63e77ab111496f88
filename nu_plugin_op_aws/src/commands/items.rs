use nu_plugin::{EngineInterface, EvaluatedCall, SimplePluginCommand};
use nu_protocol::{Category, Example, LabeledError, Signature, Type, Value};
use op_aws::store;

use crate::{OpAwsPlugin, fail};

/// `op-aws items`: the item names in the store.
pub struct Items;

impl SimplePluginCommand for Items {
    type Plugin = OpAwsPlugin;

    fn name(&self) -> &str {
        "op-aws items"
    }

    fn description(&self) -> &str {
        "The names of the items in the store (never a field's value)."
    }

    fn signature(&self) -> Signature {
        Signature::build(self.name())
            .input_output_type(Type::Nothing, Type::List(Box::new(Type::String)))
            .category(Category::Env)
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![Example {
            example: "op-aws items",
            description: "List the items.",
            result: Some(Value::test_list(vec![
                Value::test_string("dev"),
                Value::test_string("prod"),
            ])),
        }]
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
        let titles =
            store::list_titles(&ctx).map_err(|e| fail("cannot list the items", &e, head))?;
        Ok(Value::list(
            titles.into_iter().map(|t| Value::string(t, head)).collect(),
            head,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples() {
        crate::fixture::check_examples(&Items);
    }
}
