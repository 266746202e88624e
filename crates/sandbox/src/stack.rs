//! RunAbove Managed Stacks, MySQL (`/stackMysql...`), as RunAbove's guide "How to create a
//! MySQL Managed Stack using the API" shows them, served under the sandbox's RunAbove base path
//! (`/runabove/1.0`, see `server`).
//!
//! The guide shows five calls and every answer; the sandbox answers exactly that:
//!
//! - `POST /stackMysql` (no body) -> `{"msg": "cluster created"}` (no id);
//! - `GET /stackMysql` -> `{"products": [{"id": <clusterId>}]}`;
//! - `GET /stackMysql/{id}` -> `{"active": bool, "nodes": [{"addr", "product_id"}], "product_id"}`;
//! - `GET /stackMysql/{id}/status` -> an object keyed by probe name;
//! - `DELETE /stackMysql/{id}` -> `{"msg": "cluster deleted"}`.
//!
//! Where the guide is silent the sandbox chooses, compatibly (docs/sandbox-stackmysql.md says
//! each choice): ids are integers from 1001 up, listed in creation order; a cluster's
//! `product_id` and its nodes' are its id; `POST` takes an optional `{"nodes": 2|3}` (2, the
//! guide's example, by default); a cluster turns `active` after `ready_after`; each probe's
//! value is `{<node addr>: "ok" | "pending"}`; `DELETE` removes the cluster at once (404 after).

use super::error::ApiError;
use super::hosting::request::{Body, Handler};
use super::hosting::task::after;
use super::Sandbox;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Node counts a create may ask for, and the default (the guide's example has two nodes).
pub const NODE_COUNTS: &[i64] = &[2, 3];
pub const DEFAULT_NODES: u8 = 2;
/// The first cluster id is `FIRST_ID + 1`.
const FIRST_ID: u64 = 1000;

/// Every managed MySQL cluster, by id.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Stacks {
    #[serde(default)]
    pub clusters: BTreeMap<u64, StackMysql>,
    /// The last id given (ids are never reused).
    #[serde(default)]
    pub last_id: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StackMysql {
    pub id: u64,
    pub nodes: u8,
    pub created_at: DateTime<Utc>,
    /// When the cluster turns `active`.
    pub ready_at: DateTime<Utc>,
}

/// The probes every node runs, and when each passes: `mysqld` at half of `ready_after`,
/// `replication` when the cluster turns active.
const PROBES: &[&str] = &["mysqld", "replication"];

impl StackMysql {
    fn addr(&self, node: u8) -> String {
        format!(
            "10.{}.{}.{}",
            (self.id >> 8) & 0xff,
            self.id & 0xff,
            10 + node
        )
    }

    pub fn active(&self, now: DateTime<Utc>) -> bool {
        now >= self.ready_at
    }

    /// `GET /stackMysql/{id}`.
    pub fn to_json(&self, now: DateTime<Utc>) -> Value {
        let nodes: Vec<Value> = (1..=self.nodes)
            .map(|n| json!({ "addr": self.addr(n), "product_id": self.id }))
            .collect();
        json!({ "active": self.active(now), "nodes": nodes, "product_id": self.id })
    }

    /// `GET /stackMysql/{id}/status`: `{probe: {node addr: result}}`.
    pub fn probes_json(&self, now: DateTime<Utc>) -> Value {
        let half = self.created_at + (self.ready_at - self.created_at) / 2;
        let mut probes = Map::new();
        for (i, probe) in PROBES.iter().enumerate() {
            let passes_at = if i == 0 { half } else { self.ready_at };
            let result = if now >= passes_at { "ok" } else { "pending" };
            let per_node: Map<String, Value> = (1..=self.nodes)
                .map(|n| (self.addr(n), Value::from(result)))
                .collect();
            probes.insert((*probe).to_owned(), per_node.into());
        }
        probes.into()
    }
}

pub fn routes() -> Router<Arc<Sandbox>> {
    Router::new()
        .route("/stackMysql", get(list).post(create))
        .route("/stackMysql/{id}", get(get_one).delete(delete))
        .route("/stackMysql/{id}/status", get(status))
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(
        "",
        format!("The requested object (id = {id}) does not exist"),
    )
}

fn find<'a>(stacks: &'a Stacks, id: &str) -> Result<&'a StackMysql, ApiError> {
    id.parse::<u64>()
        .ok()
        .and_then(|n| stacks.clusters.get(&n))
        .ok_or_else(|| not_found(id))
}

/// `GET /stackMysql`: the clusters, oldest first.
async fn list(State(sandbox): State<Arc<Sandbox>>) -> Json<Value> {
    Json(sandbox.read(|w, _| {
        let products: Vec<Value> = w
            .stacks
            .clusters
            .keys()
            .map(|id| json!({ "id": id }))
            .collect();
        json!({ "products": products })
    }))
}

/// `POST /stackMysql`, with no body (the guide) or `{"nodes": 2|3}` (a sandbox extension).
async fn create(State(sandbox): State<Arc<Sandbox>>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let wait = sandbox.ready_after();
    let answer = sandbox.write(|w, now| {
        let body = Body::parse(&body, &["nodes"], Handler::Creation)?;
        let nodes = body
            .integer("nodes")?
            .value()
            .unwrap_or(i64::from(DEFAULT_NODES));
        if !NODE_COUNTS.contains(&nodes) {
            return Err(ApiError::bad_request(
                "",
                format!("[nodes] A MySQL cluster has 2 or 3 nodes, not {nodes}"),
            ));
        }
        let id = w.stacks.last_id.max(FIRST_ID) + 1;
        w.stacks.last_id = id;
        let cluster = StackMysql {
            id,
            nodes: nodes as u8,
            created_at: now,
            ready_at: after(now, wait),
        };
        w.stacks.clusters.insert(id, cluster);
        Ok(Json(json!({ "msg": "cluster created" })))
    })?;
    if sandbox.faults.created_but_500() {
        return Err(ApiError::internal());
    }
    Ok(answer)
}

/// `GET /stackMysql/{id}`.
async fn get_one(
    State(sandbox): State<Arc<Sandbox>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    sandbox.read(|w, now| Ok(Json(find(&w.stacks, &id)?.to_json(now))))
}

/// `GET /stackMysql/{id}/status`.
async fn status(
    State(sandbox): State<Arc<Sandbox>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    sandbox.read(|w, now| Ok(Json(find(&w.stacks, &id)?.probes_json(now))))
}

/// `DELETE /stackMysql/{id}`: the cluster is gone at once.
async fn delete(
    State(sandbox): State<Arc<Sandbox>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    sandbox.write(|w, _| {
        let key = find(&w.stacks, &id)?.id;
        w.stacks.clusters.remove(&key);
        Ok(Json(json!({ "msg": "cluster deleted" })))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn probes_pass_in_order_then_the_cluster_is_active() {
        let t0 = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let stack = StackMysql {
            id: 1001,
            nodes: 3,
            created_at: t0,
            ready_at: after(t0, Duration::from_secs(10)),
        };
        let at = |s: i64| t0 + chrono::Duration::seconds(s);
        let early = stack.probes_json(at(1));
        assert_eq!(early["mysqld"]["10.3.233.11"], "pending");
        let half = stack.probes_json(at(5));
        assert_eq!(half["mysqld"]["10.3.233.13"], "ok");
        assert_eq!(half["replication"]["10.3.233.13"], "pending");
        assert_eq!(stack.to_json(at(9))["active"], false);
        let done = stack.to_json(at(10));
        assert_eq!(
            done,
            json!({
                "active": true,
                "nodes": [
                    {"addr": "10.3.233.11", "product_id": 1001},
                    {"addr": "10.3.233.12", "product_id": 1001},
                    {"addr": "10.3.233.13", "product_id": 1001},
                ],
                "product_id": 1001,
            })
        );
        assert_eq!(
            stack.probes_json(at(10))["replication"]["10.3.233.12"],
            "ok"
        );
    }
}
