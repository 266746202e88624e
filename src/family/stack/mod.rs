//! RunAbove managed MySQL stacks (on RunAbove's API, `Client::runabove`): the calls, their
//! paths (`/stackMysql[/{id}]`). Which cluster a manifest stands for is `plan::stack::claims`.

pub(crate) mod engine;
pub(crate) mod live;
pub(crate) mod plan;

use super::segment;
use serde_json::Value;

/// A call on RunAbove's managed MySQL clusters.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    /// `POST /stackMysql` (no body unless `nodes` is given). The answer carries no id: the
    /// cluster is found again by the claim rule.
    Create { body: Option<Value> },
    /// `DELETE /stackMysql/{id}`.
    Delete { id: String },
}

impl Call {
    pub fn method(&self) -> &'static str {
        match self {
            Call::Create { .. } => "POST",
            Call::Delete { .. } => "DELETE",
        }
    }

    pub fn path(&self) -> String {
        match self {
            Call::Create { .. } => STACKS_PATH.to_owned(),
            Call::Delete { id } => stack_path(id),
        }
    }

    pub fn body(&self) -> Option<&Value> {
        match self {
            Call::Create { body } => body.as_ref(),
            Call::Delete { .. } => None,
        }
    }
}

/// `/stackMysql`: every cluster (`{"products": [{"id"}]}`).
pub const STACKS_PATH: &str = "/stackMysql";

/// `/stackMysql/{id}`.
pub fn stack_path(id: &str) -> String {
    format!("{STACKS_PATH}/{}", segment(id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::Operation;
    use serde_json::json;

    fn rendered(call: Call) -> String {
        Operation::Stack(call).to_string()
    }

    #[test]
    fn every_call_renders_the_method_and_path_the_api_expects() {
        let create = Call::Create {
            body: Some(json!({"nodes": 3})),
        };
        assert_eq!(create.body(), Some(&json!({"nodes": 3})));
        assert_eq!(rendered(create), "POST /stackMysql");
        assert_eq!(rendered(Call::Create { body: None }), "POST /stackMysql");
        assert_eq!(
            rendered(Call::Delete { id: "5d1c".into() }),
            "DELETE /stackMysql/5d1c"
        );
    }

    #[test]
    fn odd_ids_are_escaped_and_cannot_add_path_parts() {
        assert_eq!(
            rendered(Call::Delete {
                id: "1/../2?x".into()
            }),
            "DELETE /stackMysql/1%2F..%2F2%3Fx"
        );
        assert_eq!(stack_path("."), "/stackMysql/%252E");
    }
}
