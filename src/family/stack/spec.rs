//! The manifest kind of RunAbove managed MySQL: `ManagedStackMysql`.

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
