//! Nodes of a database service; mongodb can add, change and remove them one by one (the
//! routes that change nodes exist for mongodb only).

use super::catalogue;
use super::errors::{
    no_matching_availability, no_update, node_not_found, nodes_out_of_range, read_only,
};
use super::offer::check_role;
use super::service::NodeCreation;
use super::{
    done, is_leaving, parse_body, read_service, write_service, Answer, Engine, MongodbOnly, Sb,
    Service, Timing,
};
use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct NodeUpdate {
    role: Option<String>,
    // Read-only.
    id: Option<Value>,
    name: Option<Value>,
    created_at: Option<Value>,
    flavor: Option<Value>,
    region: Option<Value>,
    port: Option<Value>,
    status: Option<Value>,
}

pub(super) fn add_node(
    s: &mut Service,
    body: NodeCreation,
    timing: &Timing,
    now: DateTime<Utc>,
) -> Result<Value, ApiError> {
    s.ensure_ready(now)?;
    if body.flavor != s.flavor {
        return Err(ApiError::bad_request(
            "NodesFlavorMismatch",
            "All the nodes must have the same flavor",
        ));
    }
    if body.region != s.region {
        return Err(ApiError::bad_request(
            "NodesRegionMismatch",
            "All the nodes must be in the same region",
        ));
    }
    let role = body.role.unwrap_or_else(|| "STANDARD".to_string());
    check_role(&role, &s.engine)?;
    let row = catalogue::find(
        &s.engine,
        &s.version,
        &s.plan,
        &s.flavor,
        &s.region,
        s.network_type(),
    )
    .ok_or_else(no_matching_availability)?;
    nodes_out_of_range(
        s.active_node_count(now) + 1,
        row.offer.min_nodes,
        row.offer.max_nodes,
    )?;
    s.lifecycle.begin("UPDATING", now, timing.wait);
    let node = s.add_node(&role, now, timing.wait).clone();
    Ok(s.node_json(&node, now))
}

fn update_node(
    s: &mut Service,
    node_id: &str,
    body: NodeUpdate,
    timing: &Timing,
    now: DateTime<Utc>,
) -> Result<Value, ApiError> {
    s.ensure_ready(now)?;
    let index = s
        .nodes
        .iter()
        .position(|n| n.id == node_id && !n.lifecycle.is_gone(now))
        .ok_or_else(|| node_not_found(node_id))?;
    let current = s.node_json(&s.nodes[index], now);
    for (field, value) in [
        ("id", &body.id),
        ("name", &body.name),
        ("createdAt", &body.created_at),
        ("flavor", &body.flavor),
        ("region", &body.region),
        ("port", &body.port),
        ("status", &body.status),
    ] {
        if value.as_ref().is_some_and(|v| v != &current[field]) {
            return Err(read_only(field));
        }
    }
    let role = match body.role {
        Some(role) if role != s.nodes[index].role => role,
        _ => return Err(no_update()),
    };
    check_role(&role, &s.engine)?;
    s.nodes[index].role = role;
    s.nodes[index].lifecycle.begin("UPDATING", now, timing.wait);
    s.lifecycle.begin("UPDATING", now, timing.wait);
    Ok(s.node_json(&s.nodes[index], now))
}

fn delete_node(
    s: &mut Service,
    node_id: &str,
    timing: &Timing,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    s.ensure_ready(now)?;
    let index = s
        .nodes
        .iter()
        .position(|n| n.id == node_id && !n.lifecycle.is_gone(now))
        .ok_or_else(|| node_not_found(node_id))?;
    if is_leaving(&s.nodes[index].lifecycle, now) {
        return Ok(());
    }
    let row = catalogue::find(
        &s.engine,
        &s.version,
        &s.plan,
        &s.flavor,
        &s.region,
        s.network_type(),
    )
    .ok_or_else(no_matching_availability)?;
    nodes_out_of_range(
        s.active_node_count(now) - 1,
        row.offer.min_nodes,
        row.offer.max_nodes,
    )?;
    s.nodes[index]
        .lifecycle
        .begin_removal("DELETING", now, timing.wait);
    s.lifecycle.begin("UPDATING", now, timing.wait);
    Ok(())
}

pub(super) async fn list(
    State(sb): Sb,
    Path((project, _, id)): Path<(String, String, String)>,
    Engine(engine, ..): Engine,
) -> Answer {
    read_service(&sb, &project, &engine, &id, |s, now| {
        Ok(Json(json!(s
            .visible_nodes(now)
            .map(|n| n.id.as_str())
            .collect::<Vec<_>>())))
    })
}

pub(super) async fn post(
    State(sb): Sb,
    Path((project, _, id)): Path<(String, String, String)>,
    Engine(engine, ..): Engine<MongodbOnly>,
    body: Bytes,
) -> Answer {
    let input: NodeCreation = parse_body(&body)?;
    write_service(&sb, &project, &engine, &id, |s, timing, now| {
        add_node(s, input, timing, now)
    })
    .map(Json)
}

pub(super) async fn get(
    State(sb): Sb,
    Path((project, _, id, node_id)): Path<(String, String, String, String)>,
    Engine(engine, ..): Engine,
) -> Answer {
    read_service(&sb, &project, &engine, &id, |s, now| {
        let node = s
            .visible_nodes(now)
            .find(|n| n.id == node_id)
            .ok_or_else(|| node_not_found(&node_id))?;
        Ok(Json(s.node_json(node, now)))
    })
}

pub(super) async fn put(
    State(sb): Sb,
    Path((project, _, id, node_id)): Path<(String, String, String, String)>,
    Engine(engine, ..): Engine<MongodbOnly>,
    body: Bytes,
) -> Answer {
    let input: NodeUpdate = parse_body(&body)?;
    write_service(&sb, &project, &engine, &id, |s, timing, now| {
        update_node(s, &node_id, input, timing, now)
    })
    .map(Json)
}

pub(super) async fn remove(
    State(sb): Sb,
    Path((project, _, id, node_id)): Path<(String, String, String, String)>,
    Engine(engine, ..): Engine<MongodbOnly>,
) -> Answer {
    write_service(&sb, &project, &engine, &id, |s, timing, now| {
        delete_node(s, &node_id, timing, now)
    })
    .map(done)
}
