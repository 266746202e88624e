//! RunAbove managed MySQL stacks as the live read shows them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveStack {
    /// The cluster id, as `GET /stackMysql` lists it (a number, kept as its text).
    pub id: String,
    /// How many nodes `GET /stackMysql/{id}` shows.
    pub nodes: u32,
    /// `active` in `GET /stackMysql/{id}`: false while the cluster is being built.
    pub active: bool,
    pub raw: Value,
}
