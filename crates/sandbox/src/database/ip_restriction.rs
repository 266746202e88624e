//! IP restrictions of a database service: block normalisation (canonical CIDR), the list sent
//! with a create or update, and the deprecated per-IP routes (`.../ipRestriction/{ipBlock}`),
//! which edit the same list.

use super::errors::{invalid_ip, ip_not_found, no_update, read_only};
use super::IpRestriction;
use super::{done, parse_body, read_service, write_service, Answer, Engine, Sb, Service, Timing};
use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::net::IpAddr;

/// The canonical CIDR form of an IP block: a prefix length is added when missing (`/32`,
/// `/128`) and host bits are cleared. `None` when `input` is not an IP block.
pub fn normalize_ip_block(input: &str) -> Option<String> {
    let (address, prefix) = match input.split_once('/') {
        Some((address, prefix)) => (address, Some(prefix)),
        None => (input, None),
    };
    let address: IpAddr = address.parse().ok()?;
    let max = if address.is_ipv4() { 32 } else { 128 };
    let prefix: u32 = match prefix {
        None => max,
        Some(p) if !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) => {
            p.parse().ok()?
        }
        Some(_) => return None,
    };
    if prefix > max {
        return None;
    }
    let network = match address {
        IpAddr::V4(v4) => {
            let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
            IpAddr::V4((u32::from(v4) & mask).into())
        }
        IpAddr::V6(v6) => {
            let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
            IpAddr::V6((u128::from(v6) & mask).into())
        }
    };
    Some(format!("{network}/{prefix}"))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct IpRestrictionInput {
    pub(super) ip: String,
    pub(super) description: Option<String>,
    /// Read-only; ignored (a list read from the service may be sent back).
    #[allow(dead_code)]
    pub(super) status: Option<Value>,
}

/// Normalises a list of IP restrictions; every block valid, none twice.
pub(super) fn normalize_ip_list(
    list: Vec<IpRestrictionInput>,
) -> Result<Vec<(String, String)>, ApiError> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(list.len());
    for item in list {
        let ip = normalize_ip_block(&item.ip).ok_or_else(|| invalid_ip(&item.ip))?;
        if !seen.insert(ip.clone()) {
            return Err(ApiError::bad_request(
                "IpRestrictionAlreadyExists",
                format!("Ip restriction {ip} is listed more than once"),
            ));
        }
        out.push((ip, item.description.unwrap_or_default()));
    }
    Ok(out)
}

pub(super) fn ip_json(ip: &IpRestriction, now: DateTime<Utc>) -> Value {
    json!({ "ip": ip.ip, "description": ip.description, "status": ip.lifecycle.status_string(now) })
}

// ------------------------------------------------------------------------------------------
// Per-IP restriction routes (deprecated, same list as `ipRestrictions`)

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IpRestrictionUpdate {
    description: Option<String>,
    // Read-only.
    ip: Option<String>,
    #[allow(dead_code)]
    status: Option<Value>,
}

fn add_ip(
    s: &mut Service,
    body: IpRestrictionInput,
    timing: &Timing,
    now: DateTime<Utc>,
) -> Result<Value, ApiError> {
    let ip = normalize_ip_block(&body.ip).ok_or_else(|| invalid_ip(&body.ip))?;
    s.ensure_ready(now)?;
    if s.ip_restrictions.iter().any(|e| e.ip == ip) {
        return Err(ApiError::not_found(
            "IpRestrictionAlreadyExists",
            format!("Ip restriction {ip} is set on your service"),
        ));
    }
    let entry = timing.ip_entry(ip, body.description.unwrap_or_default(), now);
    let answer = ip_json(&entry, now);
    s.ip_restrictions.push(entry);
    s.lifecycle.begin("UPDATING", now, timing.wait);
    Ok(answer)
}

fn ip_index(s: &Service, block: &str) -> Result<usize, ApiError> {
    let ip = normalize_ip_block(block).ok_or_else(|| invalid_ip(block))?;
    s.ip_restrictions
        .iter()
        .position(|e| e.ip == ip)
        .ok_or_else(|| ip_not_found(&ip))
}

fn update_ip(
    s: &mut Service,
    block: &str,
    body: IpRestrictionUpdate,
    now: DateTime<Utc>,
) -> Result<Value, ApiError> {
    let index = ip_index(s, block)?;
    s.ensure_ready(now)?;
    if let Some(ip) = &body.ip {
        if normalize_ip_block(ip).as_deref() != Some(s.ip_restrictions[index].ip.as_str()) {
            return Err(read_only("ip"));
        }
    }
    let entry = &mut s.ip_restrictions[index];
    match body.description {
        Some(description) if description != entry.description => entry.description = description,
        _ => return Err(no_update()),
    }
    Ok(ip_json(entry, now))
}

fn delete_ip(
    s: &mut Service,
    block: &str,
    timing: &Timing,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let index = ip_index(s, block)?;
    s.ensure_ready(now)?;
    s.ip_restrictions.remove(index);
    s.lifecycle.begin("UPDATING", now, timing.wait);
    Ok(())
}

pub(super) async fn list(
    State(sb): Sb,
    Path((project, _, id)): Path<(String, String, String)>,
    Engine(engine, ..): Engine,
) -> Answer {
    read_service(&sb, &project, &engine, &id, |s, _| {
        Ok(Json(json!(s
            .ip_restrictions
            .iter()
            .map(|e| e.ip.as_str())
            .collect::<Vec<_>>())))
    })
}

pub(super) async fn post(
    State(sb): Sb,
    Path((project, _, id)): Path<(String, String, String)>,
    Engine(engine, ..): Engine,
    body: Bytes,
) -> Answer {
    let input: IpRestrictionInput = parse_body(&body)?;
    write_service(&sb, &project, &engine, &id, |s, timing, now| {
        add_ip(s, input, timing, now)
    })
    .map(Json)
}

pub(super) async fn get(
    State(sb): Sb,
    Path((project, _, id, block)): Path<(String, String, String, String)>,
    Engine(engine, ..): Engine,
) -> Answer {
    read_service(&sb, &project, &engine, &id, |s, now| {
        Ok(Json(ip_json(&s.ip_restrictions[ip_index(s, &block)?], now)))
    })
}

pub(super) async fn put(
    State(sb): Sb,
    Path((project, _, id, block)): Path<(String, String, String, String)>,
    Engine(engine, ..): Engine,
    body: Bytes,
) -> Answer {
    let input: IpRestrictionUpdate = parse_body(&body)?;
    write_service(&sb, &project, &engine, &id, |s, _, now| {
        update_ip(s, &block, input, now)
    })
    .map(Json)
}

pub(super) async fn remove(
    State(sb): Sb,
    Path((project, _, id, block)): Path<(String, String, String, String)>,
    Engine(engine, ..): Engine,
) -> Answer {
    write_service(&sb, &project, &engine, &id, |s, timing, now| {
        delete_ip(s, &block, timing, now)
    })
    .map(done)
}
