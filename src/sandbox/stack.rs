//! RunAbove Managed Stacks, MySQL (`/stackMysql...`): a model DESIGNED by the sandbox.
//!
//! No schema, SDK or example of `/stackMysql` survives; only the five routes are known (RunAbove
//! guide). Everything below is a sandbox assumption, kept minimal, and written down in
//! `docs/sandbox-stackmysql.md` as well:
//!
//! - `POST /stackMysql` `{region, flavor, nodes?, version?, name?}` -> the stack, `creating`.
//!   `region`: `BHS-1` or `SBG-1` (RunAbove's regions); `flavor`: `ra.s`, `ra.m` or `ra.l`;
//!   `nodes`: 1 (default) or 3 (a primary and two replicas); `version`: `5.5` or `5.6` (default).
//!   `name` is optional and not RunAbove's (it had none): the sandbox adds it so a reconciler can
//!   find its stacks again; two live stacks cannot share a name (409).
//! - `GET /stackMysql` -> the ids, oldest first.
//! - `GET /stackMysql/{id}` -> `{id, name, region, flavor, nodes, version, status, createdAt,
//!   endpoint}`; `status`: `creating` -> `running` after the sandbox's `ready_after`, `deleting`
//!   -> gone (404); `endpoint` is `{host, port}` once running, `null` before.
//! - `GET /stackMysql/{id}/status` -> `{id, status, nodes: [{name, role, probes: [{name, status,
//!   lastCheck}]}]}`: node `node-1` is the `primary`, others `replica`s; every node probes
//!   `mysqld`, the primary also `connect`, replicas `replication`. A probe is `pending`
//!   (`lastCheck` null) until it passes: `mysqld` at half of `ready_after`, the others at
//!   `ready_after`, when the stack turns `running`; while deleting every probe is `ko`.
//! - `DELETE /stackMysql/{id}` -> the stack, `deleting` (also while creating); deleting twice is
//!   a 409.
//!
//! Errors use the OVH `{"class","message"}` body (RunAbove's own SDK only read `message`, so the
//! extra `class` is harmless). The "500 after create" fault applies to `POST /stackMysql`.

use super::error::ApiError;
use super::hosting::request::{check_enum, Body, Handler};
use super::hosting::task::{after, date};
use super::lifecycle::Lifecycle;
use super::Sandbox;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

pub const REGIONS: &[&str] = &["BHS-1", "SBG-1"];
pub const FLAVORS: &[&str] = &["ra.s", "ra.m", "ra.l"];
pub const VERSIONS: &[&str] = &["5.5", "5.6"];
pub const DEFAULT_VERSION: &str = "5.6";

/// Every managed stack, by id.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Stacks {
    #[serde(default)]
    pub mysql: BTreeMap<String, StackMysql>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StackMysql {
    pub id: String,
    /// A sandbox addition (see the module doc).
    pub name: Option<String>,
    pub region: String,
    pub flavor: String,
    pub nodes: u8,
    pub version: String,
    pub created_at: DateTime<Utc>,
    /// When the stack turns `running`.
    pub ready_at: DateTime<Utc>,
    pub lifecycle: Lifecycle,
}

impl StackMysql {
    pub fn status(&self, now: DateTime<Utc>) -> Option<&str> {
        self.lifecycle.status(now)
    }

    pub fn to_json(&self, now: DateTime<Utc>) -> Value {
        let status = self.lifecycle.status_string(now);
        let endpoint = (status == "running").then(|| {
            json!({
                "host": format!("{}.stackmysql.{}.runabove.io", &self.id[..8], self.region.to_lowercase()),
                "port": 3306,
            })
        });
        json!({
            "id": self.id,
            "name": self.name,
            "region": self.region,
            "flavor": self.flavor,
            "nodes": self.nodes,
            "version": self.version,
            "status": status,
            "createdAt": date(self.created_at),
            "endpoint": endpoint,
        })
    }

    /// The probe results per node (`GET /stackMysql/{id}/status`).
    pub fn probes_json(&self, now: DateTime<Utc>) -> Value {
        let status = self.lifecycle.status_string(now);
        let half = self.created_at + (self.ready_at - self.created_at) / 2;
        let probe = |name: &str, passes_at: DateTime<Utc>| {
            if status == "deleting" {
                json!({ "name": name, "status": "ko", "lastCheck": date(now) })
            } else if now >= passes_at {
                json!({ "name": name, "status": "ok", "lastCheck": date(now) })
            } else {
                json!({ "name": name, "status": "pending", "lastCheck": null })
            }
        };
        let nodes: Vec<Value> = (1..=self.nodes)
            .map(|n| {
                let (role, second) = if n == 1 {
                    ("primary", "connect")
                } else {
                    ("replica", "replication")
                };
                json!({
                    "name": format!("node-{n}"),
                    "role": role,
                    "probes": [probe("mysqld", half), probe(second, self.ready_at)],
                })
            })
            .collect();
        json!({ "id": self.id, "status": status, "nodes": nodes })
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

fn live<'a>(stacks: &'a Stacks, id: &str, now: DateTime<Utc>) -> Result<&'a StackMysql, ApiError> {
    stacks
        .mysql
        .get(id)
        .filter(|s| s.status(now).is_some())
        .ok_or_else(|| not_found(id))
}

/// `GET /stackMysql`: the ids of the live stacks, oldest first.
async fn list(State(sandbox): State<Arc<Sandbox>>) -> Json<Value> {
    Json(sandbox.read(|w, now| {
        let mut stacks: Vec<&StackMysql> = w
            .stacks
            .mysql
            .values()
            .filter(|s| s.status(now).is_some())
            .collect();
        stacks.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        json!(stacks.iter().map(|s| &s.id).collect::<Vec<_>>())
    }))
}

/// `POST /stackMysql`.
async fn create(State(sandbox): State<Arc<Sandbox>>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let wait = sandbox.ready_after();
    let answer = sandbox.write(|w, now| {
        let body = Body::parse(&body, &["flavor", "name", "nodes", "region", "version"], Handler::Creation)?;
        let region = Body::required("region", body.string("region")?)?;
        check_enum("region", &region, REGIONS, "stack.RegionEnum")?;
        let flavor = Body::required("flavor", body.string("flavor")?)?;
        check_enum("flavor", &flavor, FLAVORS, "stack.mysql.FlavorEnum")?;
        let nodes = body.integer("nodes")?.value().unwrap_or(1);
        if nodes != 1 && nodes != 3 {
            return Err(ApiError::bad_request("", format!("[nodes] A MySQL stack has 1 or 3 nodes, not {nodes}")));
        }
        let version = body
            .string("version")?
            .value()
            .unwrap_or_else(|| DEFAULT_VERSION.to_string());
        check_enum("version", &version, VERSIONS, "stack.mysql.VersionEnum")?;
        let name = body.string("name")?.value();
        if let Some(name) = &name {
            let valid = (1..=64).contains(&name.len())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
            if !valid {
                return Err(ApiError::bad_request(
                    "",
                    format!("[name] {name:?} is not a valid name: 1 to 64 letters, digits, '.', '_' or '-'"),
                ));
            }
        }
        w.stacks.mysql.retain(|_, s| s.status(now).is_some());
        if let Some(taken) = w.stacks.mysql.values().find(|s| name.is_some() && s.name == name) {
            return Err(ApiError::conflict(
                "",
                format!("A stack named {} already exists ({})", name.as_deref().unwrap_or_default(), taken.id),
            ));
        }
        let id = uuid::Uuid::new_v4().to_string();
        let stack = StackMysql {
            id: id.clone(),
            name,
            region,
            flavor,
            nodes: nodes as u8,
            version,
            created_at: now,
            ready_at: after(now, wait),
            lifecycle: Lifecycle::starting("creating", "running", now, wait),
        };
        let answer = stack.to_json(now);
        w.stacks.mysql.insert(id, stack);
        Ok(Json(answer))
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
    sandbox.read(|w, now| Ok(Json(live(&w.stacks, &id, now)?.to_json(now))))
}

/// `GET /stackMysql/{id}/status`.
async fn status(
    State(sandbox): State<Arc<Sandbox>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    sandbox.read(|w, now| Ok(Json(live(&w.stacks, &id, now)?.probes_json(now))))
}

/// `DELETE /stackMysql/{id}`.
async fn delete(
    State(sandbox): State<Arc<Sandbox>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let wait = sandbox.ready_after();
    sandbox.write(|w, now| {
        live(&w.stacks, &id, now)?;
        let stack = w.stacks.mysql.get_mut(&id).expect("checked above");
        if stack.status(now) == Some("deleting") {
            return Err(ApiError::conflict(
                "",
                format!("The stack {id} is already being deleted"),
            ));
        }
        // A stack deleted while creating is deleted all the same; it never turns running.
        stack.lifecycle = Lifecycle::settled("running");
        stack.lifecycle.begin_removal("deleting", now, wait);
        Ok(Json(stack.to_json(now)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn probes_pass_in_order_then_the_stack_runs() {
        let t0 = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let wait = Duration::from_secs(10);
        let stack = StackMysql {
            id: "0123456789abcdef".into(),
            name: None,
            region: "SBG-1".into(),
            flavor: "ra.s".into(),
            nodes: 3,
            version: "5.6".into(),
            created_at: t0,
            ready_at: after(t0, wait),
            lifecycle: Lifecycle::starting("creating", "running", t0, wait),
        };
        let at = |s: i64| t0 + chrono::Duration::seconds(s);
        let early = stack.probes_json(at(1));
        assert_eq!(early["nodes"][0]["probes"][0]["status"], "pending");
        let half = stack.probes_json(at(5));
        assert_eq!(half["status"], "creating");
        assert_eq!(half["nodes"][2]["probes"][0]["status"], "ok");
        assert_eq!(half["nodes"][2]["probes"][1]["status"], "pending");
        let done = stack.probes_json(at(10));
        assert_eq!(done["status"], "running");
        assert_eq!(done["nodes"][1]["role"], "replica");
        assert_eq!(done["nodes"][1]["probes"][1]["name"], "replication");
        assert_eq!(
            stack.to_json(at(10))["endpoint"]["host"],
            "01234567.stackmysql.sbg-1.runabove.io"
        );
    }
}
