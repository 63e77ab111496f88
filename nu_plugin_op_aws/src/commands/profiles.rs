use nu_plugin::{EngineInterface, EvaluatedCall, SimplePluginCommand};
use nu_protocol::{Category, Example, LabeledError, Signature, Type, Value, record};

use crate::{Caller, OpAwsPlugin};

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
        let files = Caller::of(engine)?.aws_files(head)?;
        let get = |p: &str, k: &str| {
            files
                .get(p, k)
                .map_or_else(|| Value::nothing(head), |v| Value::string(v, head))
        };
        let rows = files
            .profile_names()
            .iter()
            .map(|p| {
                Value::record(
                    record! {
                        "name" => Value::string(p, head),
                        "region" => get(p, "region"),
                        "role_arn" => get(p, "role_arn"),
                        "source_profile" => get(p, "source_profile"),
                        "mfa_serial" => get(p, "mfa_serial"),
                        "item" => get(p, "op_aws_item"),
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
