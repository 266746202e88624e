//! Digests of the live state a plan was based on, for apply's stale-plan guard (exit 7).
//!
//! Keys, one per live object of every known scope, plus one per listing so that an object
//! added since the plan also makes it stale:
//! - `database/{project}/{engine}` (the service ids), `database/{project}/{engine}/{id}`,
//!   `database/{project}/{engine}/{id}/user` (the user ids, when read),
//!   `database/{project}/{engine}/{id}/user/{userId}`;
//! - `hosting/{h}/attachedDomain` (the domains), `hosting/{h}/attachedDomain/{domain}`,
//!   `hosting/{h}/ssl` (the certificate with the domains it covers, or `null`),
//!   `hosting/{h}/database` (the names), `hosting/{h}/database/{name}`;
//! - `stackMysql` (the ids), `stackMysql/{id}`.
//!
//! A value is the hex SHA-1 of the object's canonical JSON (keys sorted at every depth): the
//! typed fields and the API's `raw` answer, minus volatile fields that move on their own
//! (`status`, `taskId`, `endpoint(s)`, `lastUpdate`, `lastCheck`, `regenerable`,
//! `isFlushable`, `vcsStatus`, `quotaUsed`, `dumps`). So a status moving `CREATING -> READY`
//! does not make a plan stale, while any edit of a field does. Objects on their way out
//! (`DELETING`) are absent, as they are for the planner: one disappearing changes nothing,
//! one starting to leave makes the plan stale.

use super::normalise::is_leaving;
use super::Plan;
use crate::live::{LiveScope, LiveState, Scope, ScopeState};
use serde::Serialize;
use serde_json::{Map, Value};
use sha1::{Digest, Sha1};
use std::collections::BTreeMap;

/// Keys removed at every depth before hashing.
const VOLATILE: &[&str] = &[
    "status",
    "taskId",
    "endpoint",
    "endpoints",
    "lastUpdate",
    "lastCheck",
    "regenerable",
    "isFlushable",
    "vcsStatus",
    "quotaUsed",
    "dumps",
    // Digested under their own keys.
    "users",
];

/// The digests of every object of every known scope of `live`. `plan()` stores them in
/// `Plan::digests`; apply recomputes them from a fresh read and compares (`stale_keys`).
pub fn live_digests(live: &LiveState) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (scope, state) in &live.scopes {
        let ScopeState::Known(known) = state else {
            continue;
        };
        match (scope, known) {
            (Scope::Database { project, engine }, LiveScope::Database { services }) => {
                let prefix = format!("database/{project}/{engine}");
                let services: Vec<_> = services.iter().filter(|s| !is_leaving(&s.status)).collect();
                listing(&mut out, &prefix, services.iter().map(|s| s.id.as_str()));
                for service in services {
                    let key = format!("{prefix}/{}", service.id);
                    out.insert(key.clone(), of(service));
                    if let Some(crate::live::UsersState::Known { users }) = &service.users {
                        let users: Vec<_> =
                            users.iter().filter(|u| !is_leaving(&u.status)).collect();
                        let key = format!("{key}/user");
                        listing(&mut out, &key, users.iter().map(|u| u.id.as_str()));
                        for user in users {
                            out.insert(format!("{key}/{}", user.id), of(user));
                        }
                    }
                }
            }
            (Scope::Hosting { hosting }, LiveScope::Hosting(live)) => {
                let prefix = format!("hosting/{hosting}");
                let domains: Vec<_> = live
                    .attached_domains
                    .iter()
                    .filter(|d| !is_leaving(&d.status))
                    .collect();
                let key = format!("{prefix}/attachedDomain");
                listing(&mut out, &key, domains.iter().map(|d| d.domain.as_str()));
                for domain in domains {
                    out.insert(format!("{key}/{}", domain.domain), of(domain));
                }
                let ssl = live.ssl.as_ref().filter(|s| !is_leaving(&s.status));
                let ssl = ssl.map(|ssl| {
                    let mut ssl = ssl.clone();
                    ssl.domains.sort();
                    ssl
                });
                out.insert(format!("{prefix}/ssl"), of(&ssl));
                let databases: Vec<_> = live
                    .databases
                    .iter()
                    .filter(|d| !is_leaving(&d.status))
                    .collect();
                let key = format!("{prefix}/database");
                listing(&mut out, &key, databases.iter().map(|d| d.name.as_str()));
                for database in databases {
                    out.insert(format!("{key}/{}", database.name), of(database));
                }
            }
            (Scope::StackMysql, LiveScope::StackMysql { stacks }) => {
                let stacks: Vec<_> = stacks.iter().filter(|s| !is_leaving(&s.status)).collect();
                listing(&mut out, "stackMysql", stacks.iter().map(|s| s.id.as_str()));
                for stack in stacks {
                    out.insert(format!("stackMysql/{}", stack.id), of(stack));
                }
            }
            _ => {}
        }
    }
    out
}

/// The keys whose digest differs between a saved plan and a fresh read (added, removed or
/// changed), sorted; empty when the plan is still current.
pub fn stale_keys(plan: &Plan, live: &LiveState) -> Vec<String> {
    let now = live_digests(live);
    let mut keys: Vec<String> = plan
        .digests
        .keys()
        .chain(now.keys())
        .filter(|key| plan.digests.get(*key) != now.get(*key))
        .cloned()
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

fn listing<'a>(out: &mut BTreeMap<String, String>, key: &str, ids: impl Iterator<Item = &'a str>) {
    let mut ids: Vec<&str> = ids.collect();
    ids.sort();
    out.insert(key.to_string(), of(&ids));
}

/// Hex SHA-1 of the canonical JSON of `value` without its volatile fields.
fn of(value: &impl Serialize) -> String {
    let value = serde_json::to_value(value).unwrap_or(Value::Null);
    let canonical = canonical(value).to_string();
    Sha1::digest(canonical.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Keys sorted at every depth (the map keeps insertion order), volatile keys removed.
fn canonical(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let sorted: BTreeMap<String, Value> = map
                .into_iter()
                .filter(|(key, _)| !VOLATILE.contains(&key.as_str()))
                .map(|(key, value)| (key, canonical(value)))
                .collect();
            Value::Object(sorted.into_iter().collect::<Map<_, _>>())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(canonical).collect()),
        other => other,
    }
}
