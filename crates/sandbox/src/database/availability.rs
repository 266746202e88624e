//! The catalogue routes of a project: `capabilities` (every engine, plan, flavor) and
//! `availability` (the offers, filtered by action, cluster and target).

use super::catalogue::{self, Availability};
use super::{project_of, Answer, Project, Sb};
use crate::error::ApiError;
use axum::extract::{Path, Query, State};
use axum::Json;
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::cmp::Ordering;
use std::collections::HashMap;

/// A query parameter with a fixed set of values (an enum in the spec).
pub(super) fn check_parameter(name: &str, value: &str, allowed: &[&str]) -> Result<(), ApiError> {
    if allowed.contains(&value) {
        return Ok(());
    }
    let allowed = allowed.join(", ");
    Err(ApiError::bad_request(
        "",
        format!("Invalid value for parameter {name}: {value:?} (expected one of {allowed})"),
    ))
}

/// The rows `GET .../availability` answers for `action`, `clusterId` and `target`.
fn availability_rows(
    project: &Project,
    query: &HashMap<String, String>,
    now: DateTime<Utc>,
) -> Result<Vec<Value>, ApiError> {
    let action = query.get("action").map_or("create", String::as_str);
    check_parameter("action", action, &["create", "fork", "read", "update"])?;
    let target = query.get("target").map(String::as_str);
    if let Some(target) = target {
        check_parameter("target", target, &["flavor", "plan", "self", "version"])?;
    }
    if action == "create" {
        return Ok(catalogue::availabilities().map(|a| a.to_json()).collect());
    }
    let Some(cluster_id) = query.get("clusterId") else {
        return Err(ApiError::bad_request(
            "",
            format!("Parameter clusterId is required when action is {action}"),
        ));
    };
    let s = project.service(None, cluster_id, now)?;
    let same_place = |a: &Availability| {
        a.engine.name == s.engine && a.region == s.region && a.network == s.network_type()
    };
    let is_self = |a: &Availability| {
        same_place(a)
            && a.version.name == s.version
            && a.offer.plan == s.plan
            && a.flavor.name == s.flavor
    };
    let flavor_move =
        |a: &Availability| same_place(a) && a.version.name == s.version && a.offer.plan == s.plan;
    let plan_move = |a: &Availability| same_place(a) && a.version.name == s.version;
    let version_move = |a: &Availability| {
        same_place(a)
            && a.offer.plan == s.plan
            && a.flavor.name == s.flavor
            && catalogue::compare_versions(a.version.name, &s.version) != Ordering::Less
    };
    let keep = |a: &Availability| match (action, target) {
        ("read", _) | ("update", Some("self")) => is_self(a),
        ("update", Some("flavor")) => flavor_move(a),
        ("update", Some("plan")) => plan_move(a),
        ("update", Some("version")) => version_move(a),
        ("update", _) => flavor_move(a) || plan_move(a) || version_move(a),
        _ => a.engine.name == s.engine && a.version.name == s.version,
    };
    Ok(catalogue::availabilities()
        .filter(keep)
        .map(|a| a.to_json())
        .collect())
}

pub(super) async fn capabilities(State(sb): Sb, Path(project): Path<String>) -> Answer {
    sb.read(|w, _| project_of(w, &project).map(|_| Json(catalogue::capabilities_json())))
}

pub(super) async fn availability(
    State(sb): Sb,
    Path(project): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Answer {
    sb.read(|w, now| {
        availability_rows(project_of(w, &project)?, &query, now)
            .map(|rows| Json(Value::Array(rows)))
    })
}
