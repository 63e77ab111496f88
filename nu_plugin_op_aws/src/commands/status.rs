use nu_plugin::{EngineInterface, EvaluatedCall, SimplePluginCommand};
use nu_protocol::{Category, Example, LabeledError, Signature, Span, Type, Value, record};
use op_aws::config::StoreKind;
use op_aws::scope::{self, Defaults, Scope};
use op_aws::{agent, vault};

use crate::{Caller, OpAwsPlugin, fail};

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
        let caller = Caller::of(engine)?;
        let ctx = caller.ctx(head)?;
        let agent = agent::status(&ctx.dirs).map_err(|e| fail("cannot ask the agent", &e, head))?;
        let defaults =
            Defaults::load(&ctx.dirs).map_err(|e| fail("cannot read the defaults", &e, head))?;
        let applied = scope::applicable(&defaults, &caller.cwd, caller.session());
        let current = applied.first();
        let unlocked = agent.as_ref().is_some_and(|a| a.unlocked);
        let secs = |s: u64| {
            Value::duration(
                i64::try_from(s).unwrap_or(i64::MAX / 1_000_000_000) * 1_000_000_000,
                head,
            )
        };
        let opt = |v: Option<Value>| v.unwrap_or_else(|| Value::nothing(head));
        let has_vault = vault::exists(&ctx.dirs) || ctx.config.store != StoreKind::Local;
        Ok(Value::record(
            record! {
                "store" => Value::string(ctx.config.store.name(), head),
                "vault" => Value::bool(has_vault, head),
                "unlocked" => Value::bool(unlocked, head),
                "unlocked_for" => opt(agent.as_ref().filter(|a| a.unlocked).map(|a| secs(a.unlocked_secs))),
                "locks_in" => opt(agent.as_ref().filter(|a| a.unlocked).map(|a| secs(a.expires_in_secs))),
                "item" => opt(current.map(|a| Value::string(&a.item, head))),
                "scope" => opt(current.map(|a| Value::string(a.scope.name(), head))),
                "path" => opt(current.and_then(|a| dir_of(&a.scope, head))),
                "integration" => opt(caller.var("OP_AWS_SHELL").map(|s| Value::string(s, head))),
                "wrapped" => Value::list(ctx.config.wrapped().into_iter().map(|w| Value::string(w, head)).collect(), head),
            },
            head,
        ))
    }
}

fn dir_of(s: &Scope, span: Span) -> Option<Value> {
    match s {
        Scope::Directory(p) => Some(Value::string(p.display().to_string(), span)),
        _ => None,
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
