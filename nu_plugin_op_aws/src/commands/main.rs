use nu_plugin::{EngineInterface, EvaluatedCall, SimplePluginCommand};
use nu_protocol::{Category, LabeledError, Signature, Type, Value};

use crate::OpAwsPlugin;

/// `op-aws` alone: the list of subcommands.
pub struct Main;

impl SimplePluginCommand for Main {
    type Plugin = OpAwsPlugin;

    fn name(&self) -> &str {
        "op-aws"
    }

    fn description(&self) -> &str {
        "AWS credentials from an encrypted vault (or 1Password), for one command at a time."
    }

    fn extra_description(&self) -> &str {
        "The plugin's subcommands return structured values. Commands that run other programs \
         (`op-aws run`, and the `aws`, `cdk`, ... wrappers) come from the module printed by \
         `^op-aws activate nu`. Built for nushell 0.115.x."
    }

    fn signature(&self) -> Signature {
        Signature::build(self.name())
            .input_output_type(Type::Nothing, Type::String)
            .category(Category::Env)
    }

    fn search_terms(&self) -> Vec<&str> {
        vec!["aws", "credentials", "1password", "vault"]
    }

    fn run(
        &self,
        _plugin: &OpAwsPlugin,
        engine: &EngineInterface,
        call: &EvaluatedCall,
        _input: &Value,
    ) -> Result<Value, LabeledError> {
        Ok(Value::string(engine.get_help()?, call.head))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn help_lists_the_subcommands() {
        let v = crate::fixture::plugin_test().eval("op-aws").unwrap();
        let text = v
            .into_value(nu_protocol::Span::test_data())
            .unwrap()
            .coerce_into_string()
            .unwrap();
        assert!(
            text.contains("op-aws use") && text.contains("op-aws inspect"),
            "{text}"
        );
    }
}
