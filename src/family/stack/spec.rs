//! The manifest kind of RunAbove managed MySQL: `ManagedStackMysql`.

use crate::family::Spec;
use crate::manifest::validate::{ManagedObject, SpecCheck};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A RunAbove managed MySQL stack (a cluster). The API gives a cluster no name, and its create
/// answers no id: see docs/manifests.md for how a manifest finds its cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ManagedStackMysqlSpec {
    /// The cluster's id (`GET /stackMysql`), once known; pins this manifest to that cluster.
    pub id: Option<u64>,
    /// Nodes: 2 (the default) or 3. Changing it replaces.
    #[schemars(range(min = 2, max = 3))]
    pub nodes: Option<u32>,
}

// The rules a schema cannot say about this kind (`Family::check_spec` and the rest of the
// validation contract, called by `manifest::validate`). No field becomes a path segment but
// the id, an integer.

/// 2 or 3 nodes (the schema's range reports other numbers too; this says what to write).
pub(super) fn check(spec: &mut Spec, check: &mut SpecCheck<'_, '_>) {
    let Spec::ManagedStackMysql(stack) = spec else {
        return;
    };
    if let Some(nodes) = stack.nodes {
        if nodes != 2 && nodes != 3 {
            check.error(
                "spec.nodes",
                format!("a stack has 2 or 3 nodes, not {nodes}"),
                "2 (the default) or 3",
            );
        }
    }
}

/// A pinned stack is its id; an unpinned one names no object yet.
pub(super) fn managed_object(spec: &Spec) -> Option<ManagedObject> {
    let Spec::ManagedStackMysql(stack) = spec else {
        return None;
    };
    let id = stack.id?;
    Some(ManagedObject {
        field: "spec.id",
        fields: &["spec.id"],
        key: (String::new(), id.to_string()),
        what: format!("stack `{id}`"),
    })
}
