use crate::{OpAwsPlugin, fail, opt, opt_str};
use nu_plugin::{EngineInterface, EvaluatedCall, SimplePluginCommand};
use nu_protocol::{Category, Example, LabeledError, Signature, Type, Value, record};

/// `op-aws status`: locked or not, the store, and the item and scope in effect here.
pub struct Status;

impl SimplePluginCommand for Status {
    type Plugin = OpAwsPlugin;

    fn name(&self) -> &str {
        "op-aws status"
    }

    fn description(&self) -> &str {
        "Locked or unlocked (and for how long), the store, the item and scope in effect here, the shell integration and the wrapped commands."
    }

    fn signature(&self) -> Signature {
        Signature::build(self.name())
            .input_output_type(Type::Nothing, Type::record())
            .category(Category::Env)
    }

    fn examples(&self) -> Vec<Example<'_>> {
        vec![
            Example {
                example: "(op-aws status).unlocked",
                description: "Whether the vault is unlocked.",
                result: Some(Value::test_bool(true)),
            },
            Example {
                example: "op-aws use dev; (op-aws status).item",
                description: "The item in effect here.",
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
        let s =
            op_aws::report::status(&ctx).map_err(|e| fail("cannot tell the status", &e, head))?;
        let secs = |s: u64| {
            Value::duration(
                i64::try_from(s).unwrap_or(i64::MAX / 1_000_000_000) * 1_000_000_000,
                head,
            )
        };
        let unlocked = s.agent.as_ref().filter(|a| a.unlocked && !a.held);
        Ok(Value::record(
            record! {
                "store" => Value::string(s.store, head),
                "vault" => Value::bool(s.vault, head),
                "unlocked" => Value::bool(s.unlocked, head),
                "unlocked_for" => opt(unlocked.map(|a| secs(a.unlocked_secs)), head),
                "locks_in" => opt(unlocked.map(|a| secs(a.expires_in_secs)), head),
                "held" => Value::bool(s.held, head),
                "quick_unlock" => Value::string(s.quick_unlock_off.as_deref().unwrap_or("on"), head),
                "item" => opt_str(s.item.as_deref(), head),
                "scope" => opt_str(s.scope, head),
                "path" => opt_str(s.scope_path.as_ref().map(|p| p.display().to_string()).as_deref(), head),
                "profile" => opt_str(s.profile.as_deref(), head),
                "region" => opt_str(s.region.as_deref(), head),
                "integration" => opt_str(s.integration.as_deref(), head),
                "wrapped" => Value::list(s.wrapped.into_iter().map(|w| Value::string(w, head)).collect(), head),
            },
            head,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples() {
        crate::fixture::check_examples(&Status);
    }
}
