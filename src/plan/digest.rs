//! Digests of the live state a plan was based on, for apply's stale-plan guard (exit 7).
//!
//! Keys, one per live object of every known scope, plus one per listing so that an object
//! added since the plan also makes it stale. Each family digests its scopes
//! (`Family::digest`) under its own keys (`family::<family>::DigestKey`, in
//! `family/<family>/digest.rs`, which lists their text: `database/{project}/{engine}/{id}`,
//! `hosting/{h}/ssl`, `stackMysql/{id}`, ...), wrapped in `DigestKey` (`family::DigestKey`).
//! The keys' text is a contract: saved plans hold it.
//!
//! A value is the hex SHA-1 of the object's canonical JSON (keys sorted at every depth): the
//! typed fields and the API's `raw` answer, minus volatile fields that move on their own
//! (`status`, a stack's `active`, `taskId`, `endpoint(s)`, `lastUpdate`, `lastCheck`, `regenerable`,
//! `isFlushable`, `vcsStatus`, `quotaUsed`, `dumps`). So a status moving `CREATING -> READY`
//! does not make a plan stale, while any edit of a field does. Objects on their way out
//! (`DELETING`) are absent, as they are for the planner: one disappearing changes nothing,
//! one starting to leave makes the plan stale.
//!
//! A `DigestKey` renders as that text; nothing reads a key back: a saved plan's keys are
//! compared with the rendered keys of a fresh read (`stale`), and a key only the saved plan has
//! is recognised among those its families can name (`DigestKey::listings_of`, `lists`,
//! `child`, `listings_under`).
//!
//! The canonical JSON is written by `canonical::Canonical` straight from the typed values,
//! volatile fields never serialised (a service's `users` included): the same bytes as through
//! a `serde_json::Value`, at a quarter of the cost (10,000 resources: 238 -> 64 ms).

use super::canonical::Canonical;
use super::Plan;
pub use crate::family::DigestKey;
use crate::live::{LiveState, ScopeState};
use crate::manifest::model::Kind;
use serde::Serialize;
use sha1::{Digest, Sha1};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Keys removed at every depth before hashing.
const VOLATILE: &[&str] = &[
    "status",
    "active",
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

/// The digests of every object of every known scope of `live`, by what they digest: each
/// scope's family digests its objects (`Family::digest`).
pub fn digests(live: &LiveState) -> BTreeMap<DigestKey, String> {
    let mut digests = Digests {
        hasher: Hasher::default(),
        out: BTreeMap::new(),
    };
    for (scope, state) in &live.scopes {
        let ScopeState::Known(known) = state else {
            continue;
        };
        crate::family::of_scope(scope).digest(scope, known, &mut digests);
    }
    digests.out
}

/// The digests being collected, for the families' `digest` (`Family::digest`).
pub(crate) struct Digests {
    hasher: Hasher,
    out: BTreeMap<DigestKey, String>,
}

impl Digests {
    /// The digest of a listing under `key`: its ids, sorted.
    pub(crate) fn listing<'a>(
        &mut self,
        key: impl Into<DigestKey>,
        ids: impl Iterator<Item = &'a str>,
    ) {
        self.hasher.listing(&mut self.out, key.into(), ids);
    }

    /// The digest of one object under `key`.
    pub(crate) fn object(&mut self, key: impl Into<DigestKey>, value: &impl Serialize) {
        let digest = self.hasher.of(value);
        self.out.insert(key.into(), digest);
    }
}

/// The digests as a plan records them (`Plan::digests`, the saved plan's `digests`): by the
/// key's text.
pub fn live_digests(live: &LiveState) -> BTreeMap<String, String> {
    digests(live)
        .into_iter()
        .map(|(key, digest)| (key.to_string(), digest))
        .collect()
}

/// A digest that differs between a saved plan and a fresh read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaleKey {
    /// Recognised: an object or listing read now (added or changed since the plan), or one the
    /// saved plan names that is gone (see `stale`).
    Known(DigestKey),
    /// A key only the saved plan has that this run cannot name: shown as recorded.
    Recorded(String),
}

impl fmt::Display for StaleKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StaleKey::Known(key) => key.fmt(f),
            StaleKey::Recorded(key) => f.write_str(key),
        }
    }
}

/// The digests that differ between a saved plan and a fresh read (added, removed or changed),
/// sorted by key text; empty when the plan is still current.
///
/// A key only the saved plan has stands for an object gone since, or a scope not read now. It
/// is recognised (never parsed) among the keys this run can name: the listings of every scope
/// read now, and in each listing the objects the saved plan names by id (its changes,
/// unmanaged objects, duplicates and objects in progress).
pub fn stale(plan: &Plan, live: &LiveState) -> Vec<StaleKey> {
    let now = digests(live);
    let mut stale: BTreeMap<String, StaleKey> = BTreeMap::new();
    for (key, digest) in &now {
        let text = key.to_string();
        if plan.digests.get(&text) != Some(digest) {
            stale.insert(text, StaleKey::Known(key.clone()));
        }
    }
    let rendered: BTreeSet<String> = now.keys().map(ToString::to_string).collect();
    let mut gone: BTreeSet<&str> = plan
        .digests
        .keys()
        .map(String::as_str)
        .filter(|key| !rendered.contains(*key))
        .collect();
    if !gone.is_empty() {
        for key in nameable(plan, live, now.into_keys()) {
            if gone.is_empty() {
                break;
            }
            let text = key.to_string();
            if gone.remove(text.as_str()) {
                stale.insert(text, StaleKey::Known(key));
            }
        }
        for key in gone {
            stale.insert(key.to_string(), StaleKey::Recorded(key.to_string()));
        }
    }
    stale.into_values().collect()
}

/// The keys of `stale`, as text.
pub fn stale_keys(plan: &Plan, live: &LiveState) -> Vec<String> {
    stale(plan, live).iter().map(ToString::to_string).collect()
}

/// The keys a stale check can name: the listings of `now` and of every scope of `live`, and
/// under each, the objects of its kind the plan names by id, and the listings under those
/// (`DigestKey::listings_under`: a database service's users, so the users of a service gone
/// since are named too).
fn nameable(
    plan: &Plan,
    live: &LiveState,
    now: impl Iterator<Item = DigestKey>,
) -> impl Iterator<Item = DigestKey> {
    let mut ids: BTreeMap<Kind, BTreeSet<&str>> = BTreeMap::new();
    let named = plan
        .changes
        .iter()
        .filter_map(|c| Some((c.address.kind, c.live_id.as_deref()?)))
        .chain(plan.unmanaged.iter().map(|u| (u.kind, u.id.as_str())))
        .chain(plan.duplicates.iter().map(|d| (d.kind, d.id.as_str())))
        .chain(
            plan.in_progress
                .iter()
                .map(|p| (p.address.kind, p.id.as_str())),
        );
    for (kind, id) in named {
        ids.entry(kind).or_default().insert(id);
    }
    let mut listings: Vec<DigestKey> = live
        .scopes
        .keys()
        .flat_map(DigestKey::listings_of)
        .collect();
    listings.extend(now);
    let mut out = Vec::new();
    while let Some(listing) = listings.pop() {
        let kinds = listing.lists().and_then(|kind| ids.get(&kind));
        for id in kinds.into_iter().flatten() {
            let Some(child) = listing.child(id) else {
                continue;
            };
            listings.extend(child.listings_under());
            out.push(child);
        }
        out.push(listing);
    }
    out.into_iter()
}

/// Digests values one after the other, reusing its buffers.
struct Hasher {
    canonical: Canonical,
}

impl Default for Hasher {
    fn default() -> Self {
        Hasher {
            canonical: Canonical::dropping(VOLATILE),
        }
    }
}

impl Hasher {
    /// The digest of a listing: its ids, sorted.
    fn listing<'a>(
        &mut self,
        out: &mut BTreeMap<DigestKey, String>,
        key: DigestKey,
        ids: impl Iterator<Item = &'a str>,
    ) {
        let mut ids: Vec<&str> = ids.collect();
        ids.sort_unstable();
        out.insert(key, self.of(&ids));
    }

    /// Hex SHA-1 of the canonical JSON of `value` (keys sorted at every depth) without its
    /// volatile fields, which are never serialised.
    fn of(&mut self, value: &impl Serialize) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let sha = Sha1::digest(self.canonical.write(value));
        let mut hex = String::with_capacity(2 * sha.len());
        for byte in sha {
            hex.push(HEX[usize::from(byte >> 4)].into());
            hex.push(HEX[usize::from(byte & 0xf)].into());
        }
        hex
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::mapping;
    use crate::live::{LiveHosting, LiveScope, Scope, UsersState};
    use serde_json::{json, Map, Value};

    /// The digest as first written (before `Canonical`): `to_value`, every map rebuilt with
    /// sorted keys minus the volatile ones, printed, hashed.
    fn through_value(value: &impl Serialize) -> String {
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
        let value = serde_json::to_value(value).unwrap_or(Value::Null);
        Sha1::digest(canonical(value).to_string().as_bytes())
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    /// A sandbox `Service` answer (as the fleet benchmark reads it), `capabilities` cut short.
    fn service_answer(id: &str, status: &str) -> Value {
        let node = |n: u32| {
            json!({
                "id": format!("node-{n}-{id}"), "name": format!("node{n}-{id}.database.cloud.ovh.net"),
                "createdAt": "2026-11-22T21:09:00+00:00", "flavor": "db2-4", "region": "GRA",
                "port": 27017, "role": "STANDARD", "status": status
            })
        };
        json!({
            "id": id, "engine": "mongodb", "category": "operational",
            "createdAt": "2026-11-22T21:09:00+00:00", "status": status,
            "description": "p1-mongo-0000", "plan": "production", "version": "7.0",
            "flavor": "db2-4", "nodeNumber": 3, "nodes": [node(1), node(2), node(3)],
            "disk": { "size": 20, "type": "high-speed-gen2" },
            "storage": { "size": { "unit": "GB", "value": 20 }, "type": "high-speed-gen2" },
            "ipRestrictions": [
                { "ip": "10.0.1.0/24", "description": "office", "status": "READY" },
                { "ip": "2001:db8:1::/48", "description": "vpn \"ü\"", "status": "PENDING" }
            ],
            "maintenanceTime": "22:00:00", "backupTime": "01:00:00",
            "backups": { "regions": ["GRA"], "time": "01:00:00", "retentionDays": 2 },
            "networkType": "public", "networkId": null, "subnetId": null,
            "endpoints": [{ "component": "mongodb", "port": 27017, "ssl": true }],
            "capabilities": {
                "service": { "create": "disabled", "read": "enabled" },
                "nodes": { "update": "enabled", "create": "enabled" }
            },
            "deletionProtection": false, "enablePrometheus": false
        })
    }

    fn user_answer(id: &str, username: &str, status: &str) -> Value {
        json!({
            "id": id, "username": username, "createdAt": "2026-11-22T21:09:00+00:00",
            "status": status, "roles": ["readWrite@app", "read@admin"]
        })
    }

    fn domain_answer(domain: &str, status: &str) -> Value {
        json!({
            "capabilities": [], "cdn": "none", "domain": domain, "firewall": "none",
            "ipLocation": null, "isFlushable": false, "ownLog": null, "path": "www",
            "runtimeId": null, "ssl": false, "status": status, "taskId": null,
            "vcsStatus": "disabled"
        })
    }

    /// Every scope kind, with real-shaped answers: users known and unknown, objects leaving,
    /// an SSL certificate whose domains come unsorted.
    fn live_state() -> LiveState {
        let mut service =
            mapping::live_service(service_answer("svc-1", "READY"), "mongodb").unwrap();
        service.users = Some(UsersState::Known {
            users: vec![
                mapping::live_user(user_answer("u-2", "app@admin", "READY")).unwrap(),
                mapping::live_user(user_answer("u-1", "admin@admin", "READY")).unwrap(),
                mapping::live_user(user_answer("u-3", "old@admin", "DELETING")).unwrap(),
            ],
        });
        let mut unread =
            mapping::live_service(service_answer("svc-2", "CREATING"), "mongodb").unwrap();
        unread.users = Some(UsersState::Unknown {
            reason: "403".into(),
        });
        let leaving =
            mapping::live_service(service_answer("svc-0", "DELETING"), "mongodb").unwrap();
        let hosting = LiveHosting {
            primary_login: "shop".into(),
            default_attached_domain: Some("shop.cluster021.hosting.ovh.net".into()),
            attached_domains: vec![
                mapping::attached_domain(domain_answer("www.shop.example", "created")).unwrap(),
                mapping::attached_domain(domain_answer("old.shop.example", "deleting")).unwrap(),
            ],
            ssl: Some(
                mapping::ssl(
                    json!({ "provider": "LETSENCRYPT", "status": "created", "regenerable": true,
                            "type": "DV", "isReportable": false }),
                    vec!["www.shop.example".into(), "shop.example".into()],
                )
                .unwrap(),
            ),
            databases: vec![mapping::hosting_database(json!({
                "name": "shopdb.mysql.db", "user": "shopdb", "type": "mysql", "version": "8.0",
                "quotaSize": { "unit": "MB", "value": 400 }, "quotaUsed": { "unit": "MB", "value": 3 },
                "state": "activated", "status": "ok", "lastCheck": "2026-11-22T21:09:00+00:00",
                "dumps": 2, "mode": "classic", "server": "shopdb.mysql.db", "port": 3306
            }))
            .unwrap()],
        };
        let stack = mapping::stack(
            "stack-1".into(),
            json!({
                "active": true, "product_id": 1001,
                "nodes": [{"addr": "10.0.0.1", "product_id": 1001}, {"addr": "10.0.0.2", "product_id": 1001}]
            }),
        )
        .unwrap();
        let mut live = LiveState::default();
        live.scopes.insert(
            Scope::Database {
                project: "p1".into(),
                engine: "mongodb".into(),
            },
            ScopeState::Known(LiveScope::Database {
                services: vec![unread, service, leaving],
            }),
        );
        live.scopes.insert(
            Scope::Hosting {
                hosting: "shop.cluster021.hosting.ovh.net".into(),
            },
            ScopeState::Known(LiveScope::Hosting(hosting)),
        );
        live.scopes.insert(
            Scope::StackMysql,
            ScopeState::Known(LiveScope::StackMysql {
                stacks: vec![stack],
            }),
        );
        live
    }

    #[test]
    fn digests_equal_those_of_the_canonical_json_built_through_a_value() {
        let live = live_state();
        let digests = live_digests(&live);
        let mut expected = BTreeMap::new();
        let mut hosting = None;
        for (scope, state) in &live.scopes {
            let ScopeState::Known(known) = state else {
                continue;
            };
            match (scope, known) {
                (Scope::Database { .. }, LiveScope::Database { services }) => {
                    let mut ids = Vec::new();
                    for service in services.iter().filter(|s| s.status != "DELETING") {
                        ids.push(service.id.as_str());
                        let key = format!("database/p1/mongodb/{}", service.id);
                        expected.insert(key.clone(), through_value(service));
                        if let Some(UsersState::Known { users }) = &service.users {
                            let mut user_ids = Vec::new();
                            for user in users.iter().filter(|u| u.status != "DELETING") {
                                user_ids.push(user.id.as_str());
                                expected
                                    .insert(format!("{key}/user/{}", user.id), through_value(user));
                            }
                            user_ids.sort();
                            expected.insert(format!("{key}/user"), through_value(&user_ids));
                        }
                    }
                    ids.sort();
                    expected.insert("database/p1/mongodb".into(), through_value(&ids));
                }
                (Scope::Hosting { .. }, LiveScope::Hosting(live)) => hosting = Some(live),
                (Scope::StackMysql, LiveScope::StackMysql { stacks }) => {
                    expected.insert("stackMysql".into(), through_value(&vec!["stack-1"]));
                    expected.insert("stackMysql/stack-1".into(), through_value(&stacks[0]));
                }
                _ => unreachable!(),
            }
        }
        let hosting = hosting.unwrap();
        let prefix = "hosting/shop.cluster021.hosting.ovh.net";
        let www = &hosting.attached_domains[0];
        expected.insert(
            format!("{prefix}/attachedDomain"),
            through_value(&vec![www.domain.as_str()]),
        );
        expected.insert(
            format!("{prefix}/attachedDomain/{}", www.domain),
            through_value(www),
        );
        let mut ssl = hosting.ssl.clone();
        ssl.as_mut().unwrap().domains.sort();
        expected.insert(format!("{prefix}/ssl"), through_value(&ssl));
        let db = &hosting.databases[0];
        expected.insert(
            format!("{prefix}/database"),
            through_value(&vec![db.name.as_str()]),
        );
        expected.insert(format!("{prefix}/database/{}", db.name), through_value(db));

        assert_eq!(digests, expected);
        assert_eq!(digests.len(), 13, "{:#?}", digests.keys());
    }

    #[test]
    fn a_service_digest_does_not_depend_on_its_users() {
        let mut live = live_state();
        let before = live_digests(&live);
        let Some(ScopeState::Known(LiveScope::Database { services })) =
            live.scopes.values_mut().next()
        else {
            unreachable!()
        };
        let service = services.iter_mut().find(|s| s.id == "svc-1").unwrap();
        let Some(UsersState::Known { users }) = &mut service.users else {
            unreachable!()
        };
        users[0].roles.push("dbAdmin@app".into());
        let after = live_digests(&live);
        let changed: Vec<_> = before
            .keys()
            .filter(|key| before[*key] != after[*key])
            .collect();
        assert_eq!(changed, ["database/p1/mongodb/svc-1/user/u-2"]);
    }
}
