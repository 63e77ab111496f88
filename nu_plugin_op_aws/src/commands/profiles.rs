use nu_plugin::{EngineInterface, EvaluatedCall, SimplePluginCommand};
use nu_protocol::{Category, Example, LabeledError, Signature, Type, Value, record};

use crate::{OpAwsPlugin, opt_str};

/// `op-aws profiles`: the profiles of ~/.aws/config and ~/.aws/credentials.
pub struct Profiles;

impl SimplePluginCommand for Profiles {
    type Plugin = OpAwsPlugin;

    fn name(&self) -> &str {
        "op-aws profiles"
    }

    fn description(&self) -> &str {
        "The AWS profiles (config and credentials files): name, region, role_arn, source_profile, mfa_serial, item."
    }

    fn signature(&self) -> Signature {
        Signature::build(self.name())
            .input_output_type(Type::Nothing, Type::table())
            .category(Category::Env)
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![
            Example {
                example: "(op-aws profiles).name",
                description: "The profile names.",
                result: Some(Value::test_list(vec![
                    Value::test_string("admin"),
                    Value::test_string("dev"),
                ])),
            },
            Example {
                example: "(op-aws profiles).1.region",
                description: "A profile's region.",
                result: Some(Value::test_string("eu-west-1")),
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
        let files = crate::aws_files(&crate::ctx(engine, head)?, head)?;
        let rows = op_aws::report::profiles(&files)
            .into_iter()
            .map(|p| {
                Value::record(
                    record! {
                        "name" => Value::string(p.name, head),
                        "region" => opt_str(p.region.as_deref(), head),
                        "role_arn" => opt_str(p.role_arn.as_deref(), head),
                        "source_profile" => opt_str(p.source_profile.as_deref(), head),
                        "mfa_serial" => opt_str(p.mfa_serial.as_deref(), head),
                        "item" => opt_str(p.item.as_deref(), head),
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
        crate::fixture::check_examples(&Profiles);
    }
}
