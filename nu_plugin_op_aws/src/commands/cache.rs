use nu_plugin::{EngineInterface, EvaluatedCall, SimplePluginCommand};
use nu_protocol::{Category, Example, LabeledError, Signature, Type, Value, record};

use crate::{OpAwsPlugin, fail, opt_str};

/// `op-aws cache`: the cached temporary sessions (never a secret).
pub struct Cache;

impl SimplePluginCommand for Cache {
    type Plugin = OpAwsPlugin;

    fn name(&self) -> &str {
        "op-aws cache"
    }

    fn description(&self) -> &str {
        "The cached temporary sessions (roles, MFA sessions): profile, kind, item, role, time left. Never a secret."
    }

    fn extra_description(&self) -> &str {
        "To forget them, run `^op-aws cache clear`."
    }

    fn signature(&self) -> Signature {
        Signature::build(self.name())
            .input_output_type(Type::Nothing, Type::table())
            .category(Category::Env)
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![
            Example {
                example: "op-aws cache",
                description: "No session is cached yet.",
                result: Some(Value::test_list(vec![])),
            },
            Example {
                example: "op-aws cache | where fresh",
                description: "The sessions that the next command will reuse.",
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
        let rows = op_aws::report::cache_rows(&ctx)
            .map_err(|e| fail("cannot read the session cache", &e, head))?
            .into_iter()
            .map(|m| {
                // A duration (0 once expired): nu shows it as "52min", and sorts it.
                let left = i64::try_from(m.expires_in_secs).unwrap_or(0);
                Value::record(
                    record! {
                        "profile" => Value::string(&m.profile, head),
                        "kind" => Value::string(&m.kind, head),
                        "item" => Value::string(&m.item, head),
                        "role_arn" => opt_str(m.role_arn.as_deref(), head),
                        "mfa_serial" => opt_str(m.mfa_serial.as_deref(), head),
                        "expires_in" => Value::duration(left.saturating_mul(1_000_000_000), head),
                        "fresh" => Value::bool(m.fresh, head),
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
        crate::fixture::check_examples(&Cache);
    }
}
