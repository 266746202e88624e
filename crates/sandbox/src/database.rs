//! Public Cloud Databases under `/cloud/project/{serviceName}/database`: the catalogue routes
//! (`capabilities`, `availability`), database services of every engine with time-driven
//! statuses, their nodes, users and IP restrictions. The `ipRestrictions` list on the service
//! and the deprecated per-IP routes edit the same list.
//!
//! Every create and update is checked against `catalogue`, with the real error classes and
//! message templates (S-2025 error examples). A project that is not in the world answers
//! `404 Client::NotFound "This service does not exist"`; an engine segment outside the real
//! `EngineEnum` answers like any unknown path.
//!
//! Where the real API is unknown, the sandbox chooses, and says so here:
//! - Deleting a service with `deletionProtection: true` answers
//!   `409 Client::Conflict::ServiceDeletionProtected` ("Service {id} cannot be deleted while
//!   deletionProtection is enabled"). A DELETE is accepted in any other status, `CREATING` and
//!   `UPDATING` included (the console allows it, and it is how a failed create is cleaned up); a
//!   DELETE of a service already `DELETING` is a no-op.
//! - A PUT on a service that is not `READY` is `409 ServiceNotReady`, whatever it changes. A PUT
//!   that changes plan, version, flavor, storage or node count, or the IP restrictions, puts the
//!   service in `UPDATING` for `ready_after`; description, maintenance time, backups, deletion
//!   protection, Prometheus and the kafka/opensearch switches apply at once. Several changes in
//!   one PUT make one update (`ServiceOnlyOneModification` is never answered).
//! - Read-only fields of the Service may be sent back (a GET-modify-PUT works); a read-only
//!   field with another value is `400 Client::BadRequest` naming the field (engine, network,
//!   nodes, status, ...). Unknown fields and wrong types are `400 Client::BadRequest` with
//!   serde's description of the problem.
//! - Moving to a plan of a lower level is `404 Client::NotFound::PlanInvalidUpgrade`; a version
//!   downgrade is `400 Client::BadRequest::VersionDowngradeNotAllowed`. A plan change without a
//!   node count moves the node count into the new plan's range.
//! - A disk size above the offer's maximum is `400 FlavorDiskSizeTooLow` (the real template);
//!   below the minimum or off the step it is `400 Client::BadRequest::InvalidDiskSize`. A flavor
//!   change keeps the disk size, raised to the new flavor's minimum when below it.
//! - IP blocks are normalised to canonical CIDR (`10.0.0.1` -> `10.0.0.1/32`, host bits
//!   cleared: `10.0.0.1/24` -> `10.0.0.0/24`). A block that does not parse is
//!   `404 Client::NotFound::IpRestrictionInvalidFormat` and an IP the service already has is
//!   `404 Client::NotFound::IpRestrictionAlreadyExists` (both filed under 404 in the spec); the
//!   same IP twice in one list is `400 Client::BadRequest::IpRestrictionAlreadyExists`. A removed
//!   entry disappears at once; a new entry is `PENDING` for `ready_after` (forever for the
//!   blocks in `stuck_pending`). A PENDING entry does not block other changes.
//! - Users: a duplicate name is `409 Client::Conflict::{Postgres,Redis,Mongodb,Mysql,Kafka,
//!   Opensearch}UserAlreadyExist` (`user "x" already exist`; valkey answers the Redis class, as
//!   seen in the field). Deleting a built-in user (`admin@admin`, `avnadmin`, `default`) is
//!   `403 Client::Forbidden::UserDeletionForbidden`. Changing a user that is not `READY` is
//!   `409 Client::Conflict::UserNotReady`. Forbidden username characters: `@:/;'"` and
//!   whitespace.
//! - Engines of the `EngineEnum` without offers in the catalogue (cassandra, clickhouse, grafana,
//!   kafkaConnect, kafkaMirrorMaker, m3aggregator, m3db) list no services and refuse a create with
//!   `404 Client::NotFound::EngineNameNotFound`.

use super::advanced_configuration;
use super::catalogue::{self, Availability};
use super::error::ApiError;
use super::lifecycle::Lifecycle;
use super::state::World;
use super::Sandbox;
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, SecondsFormat, Utc};
use rand::distr::{Alphanumeric, SampleString};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

const DEFAULT_MAINTENANCE_TIME: &str = "22:00:00";
const DEFAULT_BACKUP_TIME: &str = "01:00:00";
const MONGODB_PORT: u16 = 27017;
/// Characters a username may not contain (whitespace is refused too).
const FORBIDDEN_IN_USERNAME: &str = "@:/;'\"";
/// MongoDB roles that only exist on the `admin` database.
const MONGODB_ADMIN_ROLES: &[&str] = &[
    "backup",
    "clusterAdmin",
    "clusterManager",
    "clusterMonitor",
    "dbAdminAnyDatabase",
    "hostManager",
    "readAnyDatabase",
    "readWriteAnyDatabase",
    "restore",
    "root",
    "userAdminAnyDatabase",
];
/// MongoDB roles given on a named database (`readWrite@orders`).
const MONGODB_DATABASE_ROLES: &[&str] = &[
    "dbAdmin",
    "dbOwner",
    "enableSharding",
    "hostManager",
    "read",
    "readWrite",
    "userAdmin",
];
const POSTGRESQL_ROLES: &[&str] = &["replication"];

// ------------------------------------------------------------------------------------------
// State

/// A Public Cloud project: its database services.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Project {
    /// Database services of every engine, by id.
    #[serde(default)]
    pub services: BTreeMap<String, Service>,
}

/// A database service (a "cluster") as the sandbox keeps it; rendered by `Service::to_json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    pub id: String,
    pub engine: String,
    pub created_at: DateTime<Utc>,
    pub description: String,
    pub plan: String,
    pub version: String,
    pub flavor: String,
    pub region: String,
    pub network_id: Option<String>,
    pub subnet_id: Option<String>,
    /// GB; 0 for engines without configurable storage.
    pub disk_size: u32,
    pub maintenance_time: String,
    pub backup_time: String,
    pub backup_regions: Vec<String>,
    pub deletion_protection: bool,
    pub enable_prometheus: bool,
    #[serde(default)]
    pub rest_api: bool,
    #[serde(default)]
    pub schema_registry: bool,
    #[serde(default)]
    pub acls_enabled: bool,
    pub lifecycle: Lifecycle,
    pub nodes: Vec<Node>,
    pub ip_restrictions: Vec<IpRestriction>,
    pub users: Vec<User>,
    /// The random part of the service's host names (`o2626ab53`).
    pub host_tag: String,
    pub port: u16,
    /// The number the next node's name gets.
    pub next_node: u32,
    /// The settings set with `PUT .../advancedConfiguration` (see `advanced_configuration`).
    #[serde(default)]
    pub advanced_configuration: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Node {
    pub id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub flavor: String,
    pub region: String,
    /// `STANDARD` or `ANALYTICS` (mongodb).
    pub role: String,
    pub lifecycle: Lifecycle,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IpRestriction {
    /// Canonical CIDR.
    pub ip: String,
    pub description: String,
    pub lifecycle: Lifecycle,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    pub username: String,
    pub created_at: DateTime<Utc>,
    pub lifecycle: Lifecycle,
    /// Created with the service (`admin@admin`, `avnadmin`, `default`); cannot be deleted.
    #[serde(default)]
    pub built_in: bool,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acl: Option<RedisAcl>,
    #[serde(default)]
    pub acls: Vec<OpensearchAcl>,
}

/// The access rules of a redis/valkey user.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RedisAcl {
    pub categories: Vec<String>,
    pub channels: Vec<String>,
    pub commands: Vec<String>,
    pub keys: Vec<String>,
}

/// One access rule of an opensearch user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpensearchAcl {
    pub pattern: String,
    pub permission: String,
}

/// True while `lifecycle` runs towards removal (`DELETING`).
fn is_leaving(lifecycle: &Lifecycle, now: DateTime<Utc>) -> bool {
    lifecycle.is_busy(now)
        && lifecycle
            .transition
            .as_ref()
            .is_some_and(|t| t.then.is_none())
}

fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, false)
}

fn random_tag() -> String {
    let hex = uuid::Uuid::new_v4().simple().to_string();
    format!("o{}", &hex[..8])
}

fn random_password() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), 24)
}

// ------------------------------------------------------------------------------------------
// Errors of this route family

fn service_not_found(id: &str) -> ApiError {
    ApiError::not_found("ServiceNotFound", format!("Service {id} does not exist"))
}

fn service_not_ready(id: &str) -> ApiError {
    ApiError::conflict(
        "ServiceNotReady",
        format!("Service {id} is not in state READY"),
    )
}

fn no_update() -> ApiError {
    ApiError::bad_request("NoUpdate", "No update required")
}

fn invalid_body(detail: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request("", format!("Invalid body: {detail}"))
}

fn read_only(field: &str) -> ApiError {
    ApiError::bad_request(
        "",
        format!("Invalid body: {field} is read-only and cannot be changed"),
    )
}

fn no_matching_availability() -> ApiError {
    ApiError::not_found(
        "NoMatchingAvailability",
        "No offer matches your expectations, please refer to the availability endpoint",
    )
}

fn invalid_ip(ip: &str) -> ApiError {
    ApiError::not_found(
        "IpRestrictionInvalidFormat",
        format!("{ip} is not a valid ip restriction"),
    )
}

fn ip_not_found(ip: &str) -> ApiError {
    ApiError::not_found(
        "IpRestrictionNotFound",
        format!("Ip restriction {ip} does not exist"),
    )
}

fn user_not_found(id: &str) -> ApiError {
    ApiError::not_found("UserNotFound", format!("User {id} does not exist"))
}

fn node_not_found(id: &str) -> ApiError {
    ApiError::not_found("NodeNotFound", format!("Node {id} does not exist"))
}

fn user_already_exists(engine: &str, username: &str) -> ApiError {
    let class = match engine {
        "mongodb" => "MongodbUserAlreadyExist",
        "postgresql" => "PostgresUserAlreadyExist",
        "mysql" => "MysqlUserAlreadyExist",
        "redis" | "valkey" => "RedisUserAlreadyExist",
        "kafka" => "KafkaUserAlreadyExist",
        "opensearch" => "OpensearchUserAlreadyExist",
        _ => "UserAlreadyExist",
    };
    ApiError::conflict(class, format!("user \"{username}\" already exist"))
}

fn nodes_out_of_range(count: u32, min: u32, max: u32) -> Result<(), ApiError> {
    if count < min {
        Err(ApiError::bad_request(
            "NotEnoughNodes",
            format!("Minimum number of nodes for your offer is {min}"),
        ))
    } else if count > max {
        Err(ApiError::bad_request(
            "TooManyNodes",
            format!("Maximum number of nodes for your offer is {max}"),
        ))
    } else {
        Ok(())
    }
}

// ------------------------------------------------------------------------------------------
// IP blocks

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

/// Timing and faults that shape new objects: how long transitions last, which IP blocks stick.
struct Timing {
    wait: Duration,
    stuck: HashSet<String>,
}

impl Timing {
    fn of(sandbox: &Sandbox) -> Self {
        Timing {
            wait: sandbox.ready_after(),
            stuck: sandbox
                .config
                .stuck_pending
                .iter()
                .filter_map(|ip| normalize_ip_block(ip))
                .collect(),
        }
    }

    fn ip_entry(&self, ip: String, description: String, now: DateTime<Utc>) -> IpRestriction {
        let mut lifecycle = Lifecycle::starting("PENDING", "READY", now, self.wait);
        if self.stuck.contains(&ip) {
            lifecycle.stick();
        }
        IpRestriction {
            ip,
            description,
            lifecycle,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IpRestrictionInput {
    ip: String,
    description: Option<String>,
    /// Read-only; ignored (a list read from the service may be sent back).
    #[allow(dead_code)]
    status: Option<Value>,
}

/// Normalises a list of IP restrictions; every block valid, none twice.
fn normalize_ip_list(list: Vec<IpRestrictionInput>) -> Result<Vec<(String, String)>, ApiError> {
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

// ------------------------------------------------------------------------------------------
// Lookups

fn project_of<'a>(world: &'a World, name: &str) -> Result<&'a Project, ApiError> {
    world
        .projects
        .get(name)
        .ok_or_else(ApiError::service_does_not_exist)
}

fn project_mut<'a>(
    world: &'a mut World,
    name: &str,
    now: DateTime<Utc>,
) -> Result<&'a mut Project, ApiError> {
    let project = world
        .projects
        .get_mut(name)
        .ok_or_else(ApiError::service_does_not_exist)?;
    project.collect_garbage(now);
    Ok(project)
}

impl Project {
    /// Drops what has finished disappearing.
    fn collect_garbage(&mut self, now: DateTime<Utc>) {
        self.services.retain(|_, s| !s.lifecycle.is_gone(now));
        for service in self.services.values_mut() {
            service.nodes.retain(|n| !n.lifecycle.is_gone(now));
            service.users.retain(|u| !u.lifecycle.is_gone(now));
        }
    }

    /// The live service `id`, of `engine` when given.
    fn service(
        &self,
        engine: Option<&str>,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<&Service, ApiError> {
        self.services
            .get(id)
            .filter(|s| engine.is_none_or(|e| s.engine == e) && !s.lifecycle.is_gone(now))
            .ok_or_else(|| service_not_found(id))
    }

    fn service_mut(
        &mut self,
        engine: &str,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<&mut Service, ApiError> {
        self.service(Some(engine), id, now)?;
        Ok(self.services.get_mut(id).expect("checked above"))
    }

    /// Live services, oldest first.
    fn live_services(&self, now: DateTime<Utc>) -> Vec<&Service> {
        let mut services: Vec<_> = self
            .services
            .values()
            .filter(|s| !s.lifecycle.is_gone(now))
            .collect();
        services.sort_by(|a, b| {
            a.created_at
                .cmp(&b.created_at)
                .then_with(|| a.id.cmp(&b.id))
        });
        services
    }
}

// ------------------------------------------------------------------------------------------
// Rendering

impl Service {
    fn spec(&self) -> Option<&'static catalogue::Engine> {
        catalogue::engine(&self.engine)
    }

    fn has_backups(&self) -> bool {
        self.spec().is_some_and(|e| e.backups)
    }

    fn has_storage(&self) -> bool {
        self.spec().is_none_or(|e| e.storage != "n/a")
    }

    fn host(&self) -> String {
        format!(
            "{}-{}-{}.database.cloud.ovh.net",
            self.engine.to_lowercase(),
            &self.id[..8],
            self.host_tag
        )
    }

    fn disk_type(&self) -> &'static str {
        catalogue::flavor_named(&self.flavor).map_or("high-speed", |f| f.disk_type())
    }

    fn network_type(&self) -> &'static str {
        if self.network_id.is_some() {
            "private"
        } else {
            "public"
        }
    }

    fn status(&self, now: DateTime<Utc>) -> String {
        self.lifecycle.status_string(now)
    }

    fn ensure_ready(&self, now: DateTime<Utc>) -> Result<(), ApiError> {
        if self.lifecycle.status(now) == Some("READY") {
            Ok(())
        } else {
            Err(service_not_ready(&self.id))
        }
    }

    fn visible_nodes(&self, now: DateTime<Utc>) -> impl Iterator<Item = &Node> {
        self.nodes.iter().filter(move |n| !n.lifecycle.is_gone(now))
    }

    /// Nodes that count: neither gone nor being removed.
    fn active_node_count(&self, now: DateTime<Utc>) -> u32 {
        self.nodes
            .iter()
            .filter(|n| !n.lifecycle.is_gone(now) && !is_leaving(&n.lifecycle, now))
            .count() as u32
    }

    fn user(&self, id: &str, now: DateTime<Utc>) -> Result<&User, ApiError> {
        self.users
            .iter()
            .find(|u| u.id == id && !u.lifecycle.is_gone(now))
            .ok_or_else(|| user_not_found(id))
    }

    fn user_mut(&mut self, id: &str, now: DateTime<Utc>) -> Result<&mut User, ApiError> {
        self.users
            .iter_mut()
            .find(|u| u.id == id && !u.lifecycle.is_gone(now))
            .ok_or_else(|| user_not_found(id))
    }

    fn node_json(&self, node: &Node, now: DateTime<Utc>) -> Value {
        json!({
            "id": node.id,
            "name": node.name,
            "createdAt": timestamp(node.created_at),
            "flavor": node.flavor,
            "region": node.region,
            "port": self.port,
            "role": node.role,
            "status": node.lifecycle.status_string(now),
        })
    }

    /// The `cloud.project.database.Service` answer (with the kafka and opensearch extras).
    pub fn to_json(&self, now: DateTime<Utc>) -> Value {
        let spec = self.spec();
        let storage = self.has_storage().then(|| {
            json!({ "size": { "unit": "GB", "value": self.disk_size }, "type": self.disk_type() })
        });
        let backups = self.has_backups().then(|| {
            let retention = catalogue::plan_named(&self.plan).map(|p| p.backup_retention_days);
            json!({
                "regions": self.backup_regions,
                "time": self.backup_time,
                "retentionDays": retention,
            })
        });
        let mut body = json!({
            "id": self.id,
            "engine": self.engine,
            "category": spec.map_or("operational", |e| e.category),
            "createdAt": timestamp(self.created_at),
            "status": self.status(now),
            "description": self.description,
            "plan": self.plan,
            "version": self.version,
            "flavor": self.flavor,
            "nodeNumber": self.active_node_count(now),
            "nodes": self.visible_nodes(now).map(|n| self.node_json(n, now)).collect::<Vec<_>>(),
            "disk": { "size": self.disk_size, "type": self.disk_type() },
            "storage": storage,
            "ipRestrictions": self
                .ip_restrictions
                .iter()
                .map(|ip| ip_json(ip, now))
                .collect::<Vec<_>>(),
            "maintenanceTime": self.maintenance_time,
            "backupTime": self.has_backups().then_some(&self.backup_time),
            "backups": backups,
            "networkType": self.network_type(),
            "networkId": self.network_id,
            "subnetId": self.subnet_id,
            "endpoints": self.endpoints(now),
            "capabilities": capabilities_of(&self.engine),
            "deletionProtection": self.deletion_protection,
            "enablePrometheus": self.enable_prometheus,
        });
        let fields = body.as_object_mut().expect("an object");
        match self.engine.as_str() {
            "kafka" => {
                fields.insert("restApi".into(), self.rest_api.into());
                fields.insert("schemaRegistry".into(), self.schema_registry.into());
            }
            "opensearch" => {
                fields.insert("aclsEnabled".into(), self.acls_enabled.into());
            }
            _ => {}
        }
        body
    }

    /// The connection endpoints, per engine, with the `<username>:<password>` placeholders the
    /// real API puts in its URIs.
    fn endpoints(&self, now: DateTime<Utc>) -> Vec<Value> {
        let host = self.host();
        let port = self.port;
        let credentials = "<username>:<password>";
        let replicas = self.active_node_count(now) >= 2;
        let mut endpoints = Vec::new();
        match self.engine.as_str() {
            "mongodb" => {
                let standard: Vec<&Node> = self
                    .visible_nodes(now)
                    .filter(|n| n.role != "ANALYTICS")
                    .collect();
                let seeds = standard
                    .iter()
                    .map(|n| format!("{}:{port}", n.name))
                    .collect::<Vec<_>>()
                    .join(",");
                let domains = standard
                    .iter()
                    .map(|n| n.name.as_str())
                    .collect::<Vec<_>>()
                    .join(",");
                let options = "replicaSet=replicaset&tls=true";
                endpoints.push(endpoint(
                    "mongodb",
                    &domains,
                    Some(port),
                    "mongodb",
                    "required",
                    Some("/admin"),
                    format!("mongodb://{credentials}@{seeds}/admin?{options}"),
                ));
                endpoints.push(endpoint(
                    "mongodbSrv",
                    &host,
                    None,
                    "mongodb+srv",
                    "required",
                    Some("/admin"),
                    format!("mongodb+srv://{credentials}@{host}/admin?{options}"),
                ));
                if self.visible_nodes(now).any(|n| n.role == "ANALYTICS") {
                    let analytics = format!("analytics-{host}");
                    let read = "readPreference=secondary&readPreferenceTags=nodeType:ANALYTICS";
                    endpoints.push(endpoint(
                        "mongodbSrvAnalytics",
                        &analytics,
                        None,
                        "mongodb+srv",
                        "required",
                        Some("/admin"),
                        format!("mongodb+srv://{credentials}@{analytics}/admin?{options}&{read}"),
                    ));
                }
            }
            "postgresql" => {
                let uri = |h: &str| {
                    format!("postgresql://{credentials}@{h}:{port}/defaultdb?sslmode=require")
                };
                endpoints.push(endpoint(
                    "postgresql",
                    &host,
                    Some(port),
                    "postgresql",
                    "require",
                    Some("/defaultdb"),
                    uri(&host),
                ));
                if replicas {
                    let read = format!("replica-{host}");
                    endpoints.push(endpoint(
                        "postgresqlRead",
                        &read,
                        Some(port),
                        "postgresql",
                        "require",
                        Some("/defaultdb"),
                        uri(&read),
                    ));
                }
            }
            "mysql" => {
                let uri = |h: &str| {
                    format!("mysql://{credentials}@{h}:{port}/defaultdb?ssl-mode=REQUIRED")
                };
                endpoints.push(endpoint(
                    "mysql",
                    &host,
                    Some(port),
                    "mysql",
                    "REQUIRED",
                    Some("/defaultdb"),
                    uri(&host),
                ));
                if replicas {
                    let read = format!("replica-{host}");
                    endpoints.push(endpoint(
                        "mysqlRead",
                        &read,
                        Some(port),
                        "mysql",
                        "REQUIRED",
                        Some("/defaultdb"),
                        uri(&read),
                    ));
                }
            }
            "redis" | "valkey" => {
                endpoints.push(endpoint(
                    &self.engine,
                    &host,
                    Some(port),
                    "rediss",
                    "required",
                    None,
                    format!("rediss://{credentials}@{host}:{port}"),
                ));
            }
            "kafka" => {
                endpoints.push(endpoint(
                    "kafka",
                    &host,
                    Some(port),
                    "kafka",
                    "required",
                    None,
                    format!("{host}:{port}"),
                ));
                if self.rest_api {
                    let p = port + 1;
                    endpoints.push(endpoint(
                        "kafkaRestApi",
                        &host,
                        Some(p),
                        "https",
                        "required",
                        None,
                        format!("https://{credentials}@{host}:{p}"),
                    ));
                }
                if self.schema_registry {
                    let p = port + 2;
                    endpoints.push(endpoint(
                        "kafkaSchemaRegistry",
                        &host,
                        Some(p),
                        "https",
                        "required",
                        None,
                        format!("https://{credentials}@{host}:{p}"),
                    ));
                }
            }
            "opensearch" => {
                endpoints.push(endpoint(
                    "opensearch",
                    &host,
                    Some(port),
                    "https",
                    "required",
                    None,
                    format!("https://{credentials}@{host}:{port}"),
                ));
            }
            _ => {}
        }
        endpoints
    }
}

fn endpoint(
    component: &str,
    domain: &str,
    port: Option<u16>,
    scheme: &str,
    ssl_mode: &str,
    path: Option<&str>,
    uri: String,
) -> Value {
    json!({
        "component": component,
        "domain": domain,
        "path": path,
        "port": port,
        "scheme": scheme,
        "ssl": true,
        "sslMode": ssl_mode,
        "uri": uri,
    })
}

/// The `capabilities` map of a service: what each API feature allows for this engine.
fn capabilities_of(engine: &str) -> Value {
    fn rights(create: bool, read: bool, update: bool, delete: bool) -> Value {
        let state = |on: bool| if on { "enabled" } else { "disabled" };
        json!({
            "create": state(create),
            "read": state(read),
            "update": state(update),
            "delete": state(delete),
        })
    }
    let backups = catalogue::engine(engine).is_some_and(|e| e.backups);
    let mongodb = engine == "mongodb";
    let user_update = matches!(
        engine,
        "mongodb" | "postgresql" | "redis" | "valkey" | "opensearch"
    );
    let mut map = Map::new();
    map.insert("service".into(), rights(false, true, true, true));
    map.insert("nodes".into(), rights(mongodb, true, mongodb, mongodb));
    map.insert("users".into(), rights(true, true, user_update, true));
    map.insert(
        "userCredentialsReset".into(),
        rights(true, false, false, false),
    );
    map.insert("ipRestrictions".into(), rights(true, true, true, true));
    map.insert("maintenanceTime".into(), rights(false, true, true, false));
    map.insert("maintenances".into(), rights(false, true, false, false));
    map.insert("maintenanceApply".into(), rights(true, false, false, false));
    if backups {
        map.insert("backupTime".into(), rights(false, true, true, false));
        map.insert("backups".into(), rights(true, true, false, false));
        map.insert("fork".into(), rights(true, false, false, false));
    }
    if matches!(engine, "mongodb" | "postgresql" | "mysql") {
        map.insert("databases".into(), rights(true, true, false, true));
    }
    if !advanced_configuration::properties(engine).is_empty() {
        map.insert(
            "advancedConfiguration".into(),
            rights(false, true, true, false),
        );
    }
    if engine == "postgresql" {
        map.insert("connectionPools".into(), rights(true, true, true, true));
    }
    if matches!(engine, "postgresql" | "mysql" | "kafka") {
        map.insert("certificates".into(), rights(false, true, false, false));
    }
    Value::Object(map)
}

fn ip_json(ip: &IpRestriction, now: DateTime<Utc>) -> Value {
    json!({ "ip": ip.ip, "description": ip.description, "status": ip.lifecycle.status_string(now) })
}

/// How users of an engine look (`UserWithRoles`, `User`, `redis.User`, `opensearch.User`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UserModel {
    Roles,
    Plain,
    Redis,
    Opensearch,
}

fn user_model(engine: &str) -> UserModel {
    match engine {
        "mongodb" | "postgresql" => UserModel::Roles,
        "redis" | "valkey" => UserModel::Redis,
        "opensearch" => UserModel::Opensearch,
        _ => UserModel::Plain,
    }
}

impl User {
    fn new(username: String, now: DateTime<Utc>, wait: Duration) -> Self {
        User {
            id: uuid::Uuid::new_v4().to_string(),
            username,
            created_at: now,
            lifecycle: Lifecycle::starting("CREATING", "READY", now, wait),
            built_in: false,
            roles: Vec::new(),
            acl: None,
            acls: Vec::new(),
        }
    }

    /// The user as `engine` renders it; `password` only in create and reset answers.
    fn to_json(&self, engine: &str, now: DateTime<Utc>, password: Option<&str>) -> Value {
        let mut body = json!({
            "id": self.id,
            "username": self.username,
            "createdAt": timestamp(self.created_at),
            "status": self.lifecycle.status_string(now),
        });
        let fields = body.as_object_mut().expect("an object");
        match user_model(engine) {
            UserModel::Roles => {
                fields.insert("roles".into(), json!(self.roles));
            }
            UserModel::Redis => {
                let acl = self.acl.clone().unwrap_or_default();
                fields.insert("categories".into(), json!(acl.categories));
                fields.insert("channels".into(), json!(acl.channels));
                fields.insert("commands".into(), json!(acl.commands));
                fields.insert("keys".into(), json!(acl.keys));
            }
            UserModel::Opensearch => {
                fields.insert("acls".into(), json!(self.acls));
            }
            UserModel::Plain => {}
        }
        if let Some(password) = password {
            fields.insert("password".into(), password.into());
        }
        body
    }
}

// ------------------------------------------------------------------------------------------
// Bodies

fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(invalid_body)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ServiceCreation {
    description: Option<String>,
    plan: Option<String>,
    version: Option<String>,
    nodes_pattern: Option<NodePattern>,
    nodes_list: Option<Vec<NodeCreation>>,
    disk: Option<DiskInput>,
    ip_restrictions: Option<Vec<IpRestrictionInput>>,
    network_id: Option<String>,
    subnet_id: Option<String>,
    maintenance_time: Option<String>,
    backup_time: Option<String>,
    backups: Option<BackupsInput>,
    fork_from: Option<ForkFrom>,
    /// Deprecated form of `forkFrom`.
    backup: Option<ForkFrom>,
    deletion_protection: Option<bool>,
    enable_prometheus: Option<bool>,
    rest_api: Option<bool>,
    schema_registry: Option<bool>,
    acls_enabled: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NodePattern {
    flavor: String,
    number: u32,
    region: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeCreation {
    flavor: String,
    region: String,
    role: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DiskInput {
    size: Option<u32>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StorageInput {
    size: Option<UnitAndValue>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UnitAndValue {
    unit: String,
    value: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct BackupsInput {
    regions: Option<Vec<String>>,
    time: Option<String>,
    /// Read-only; ignored.
    #[allow(dead_code)]
    pitr: Option<Value>,
    /// Read-only; ignored.
    #[allow(dead_code)]
    retention_days: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ForkFrom {
    backup_id: Option<String>,
    point_in_time: Option<String>,
    service_id: Option<String>,
}

/// Refuses the kafka and opensearch switches on other engines, as unknown fields.
fn check_engine_switches(engine: &str, kafka: bool, opensearch: bool) -> Result<(), ApiError> {
    if kafka && engine != "kafka" {
        return Err(invalid_body(format!(
            "unknown field `restApi`/`schemaRegistry` for engine {engine}"
        )));
    }
    if opensearch && engine != "opensearch" {
        return Err(invalid_body(format!(
            "unknown field `aclsEnabled` for engine {engine}"
        )));
    }
    Ok(())
}

/// `HH:MM:SS`.
fn check_time(field: &str, value: &str) -> Result<(), ApiError> {
    let parts: Vec<&str> = value.split(':').collect();
    let valid = parts.len() == 3
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()))
        && parts[0] < "24"
        && parts[1] < "60"
        && parts[2] < "60";
    if valid {
        Ok(())
    } else {
        Err(invalid_body(format!(
            "{field} must be a time HH:MM:SS, got {value:?}"
        )))
    }
}

fn check_regions(regions: &[String]) -> Result<(), ApiError> {
    match regions.iter().find(|r| !catalogue::is_region(r)) {
        Some(r) => Err(ApiError::not_found(
            "RegionNotFound",
            format!("Region {r} does not exist"),
        )),
        None => Ok(()),
    }
}

fn no_storage(size: u32, engine: &str) -> ApiError {
    ApiError::bad_request(
        "InvalidDiskSize",
        format!(
            "Disk size {size} GB is not valid for your offer: {engine} has no configurable storage"
        ),
    )
}

/// Checks a disk size against an offer's range.
fn check_disk_size(
    flavor: &str,
    range: catalogue::StorageRange,
    size: u32,
) -> Result<(), ApiError> {
    if size > range.maximum {
        return Err(ApiError::bad_request(
            "FlavorDiskSizeTooLow",
            format!(
                "Requested flavor {flavor} does not offer enough disk space. It has {} GB while at least {size} is required",
                range.maximum
            ),
        ));
    }
    if !range.contains(size) {
        return Err(ApiError::bad_request(
            "InvalidDiskSize",
            format!(
                "Disk size {size} GB is not valid for your offer: it must be between {} and {} GB, by steps of {} GB",
                range.minimum,
                range.maximum,
                range.step.max(1)
            ),
        ));
    }
    Ok(())
}

fn check_role(role: &str, engine: &str) -> Result<(), ApiError> {
    match role {
        "STANDARD" => Ok(()),
        "ANALYTICS" if engine == "mongodb" => Ok(()),
        _ => Err(invalid_body(format!(
            "role {role:?} is not valid for engine {engine}"
        ))),
    }
}

/// The catalogue checks shared by create and update, in the order the errors are reported.
struct OfferRequest<'a> {
    engine: &'static catalogue::Engine,
    version: &'a str,
    plan: &'a str,
    flavor: &'a str,
    region: &'a str,
    network: &'a str,
}

impl OfferRequest<'_> {
    fn find(&self) -> Result<Availability, ApiError> {
        if self.engine.version(self.version).is_none() {
            return Err(ApiError::not_found(
                "VersionNotFound",
                format!("Version {} does not exist", self.version),
            ));
        }
        if catalogue::plan_named(self.plan).is_none() || self.engine.offer(self.plan).is_none() {
            return Err(ApiError::not_found(
                "PlanNotFound",
                format!("Plan {} does not exist", self.plan),
            ));
        }
        if catalogue::flavor_named(self.flavor).is_none() {
            return Err(ApiError::not_found(
                "FlavorNameNotFound",
                format!("Flavor {} does not exist", self.flavor),
            ));
        }
        if !catalogue::is_region(self.region) {
            return Err(ApiError::not_found(
                "RegionNotFound",
                format!("Region {} does not exist", self.region),
            ));
        }
        catalogue::find(
            self.engine.name,
            self.version,
            self.plan,
            self.flavor,
            self.region,
            self.network,
        )
        .ok_or_else(no_matching_availability)
    }
}

fn availability_gone() -> ApiError {
    ApiError::not_found(
        "AvailabilityDoesNotExistAnymore",
        "Your offer is not available anymore",
    )
}

// ------------------------------------------------------------------------------------------
// Services: create, update, delete

impl Service {
    fn add_node(&mut self, role: &str, now: DateTime<Utc>, wait: Duration) -> &Node {
        self.next_node += 1;
        let node = Node {
            id: uuid::Uuid::new_v4().to_string(),
            name: format!(
                "node{}-{}-{}.database.cloud.ovh.net",
                self.next_node,
                &self.id[..8],
                self.host_tag
            ),
            created_at: now,
            flavor: self.flavor.clone(),
            region: self.region.clone(),
            role: role.to_string(),
            lifecycle: Lifecycle::starting("CREATING", "READY", now, wait),
        };
        self.nodes.push(node);
        self.nodes.last().expect("just pushed")
    }

    /// Grows or shrinks the active nodes to `target` (new nodes CREATING, removed ones DELETING).
    fn resize_nodes(&mut self, target: u32, now: DateTime<Utc>, wait: Duration) {
        let active: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| {
                let l = &self.nodes[i].lifecycle;
                !l.is_gone(now) && !is_leaving(l, now)
            })
            .collect();
        let current = active.len() as u32;
        for _ in current..target {
            self.add_node("STANDARD", now, wait);
        }
        for &i in active.iter().skip(target as usize) {
            self.nodes[i].lifecycle.begin_removal("DELETING", now, wait);
        }
    }

    fn add_built_in_users(&mut self, now: DateTime<Utc>, wait: Duration) {
        let (name, roles, acl) = match self.engine.as_str() {
            "mongodb" => ("admin@admin", vec!["root@admin".to_string()], None),
            "redis" | "valkey" => (
                "default",
                Vec::new(),
                Some(RedisAcl {
                    categories: vec!["+@all".into()],
                    channels: vec!["*".into()],
                    commands: Vec::new(),
                    keys: vec!["*".into()],
                }),
            ),
            _ => ("avnadmin", Vec::new(), None),
        };
        let mut user = User::new(name.to_string(), now, wait);
        user.built_in = true;
        user.roles = roles;
        user.acl = acl;
        self.users.push(user);
    }
}

/// Validates a `ServiceCreation` for `engine_name` and builds the new service (CREATING).
fn build_service(
    engine_name: &str,
    body: ServiceCreation,
    timing: &Timing,
    project: &Project,
    now: DateTime<Utc>,
) -> Result<Service, ApiError> {
    let Some(engine) = catalogue::engine(engine_name) else {
        return Err(ApiError::not_found(
            "EngineNameNotFound",
            format!("Engine {engine_name} does not exist"),
        ));
    };
    check_engine_switches(
        engine_name,
        body.rest_api.is_some() || body.schema_registry.is_some(),
        body.acls_enabled.is_some(),
    )?;

    let at_least_one =
        || ApiError::bad_request("AtLeastOneNode", "At least one node must be specified");
    let (flavor, region, roles): (String, String, Vec<String>) =
        match (body.nodes_pattern, body.nodes_list) {
            (Some(_), Some(_)) => {
                return Err(ApiError::bad_request(
                    "OnlyNodeListOrPattern",
                    "You can only specify either nodeList or nodePattern, not both",
                ))
            }
            (None, None) => return Err(at_least_one()),
            (Some(pattern), None) => {
                if pattern.number == 0 {
                    return Err(at_least_one());
                }
                (
                    pattern.flavor,
                    pattern.region,
                    vec!["STANDARD".to_string(); pattern.number as usize],
                )
            }
            (None, Some(list)) => {
                let Some(first) = list.first() else {
                    return Err(at_least_one());
                };
                if list.iter().any(|n| n.flavor != first.flavor) {
                    return Err(ApiError::bad_request(
                        "NodesFlavorMismatch",
                        "All the nodes must have the same flavor",
                    ));
                }
                if list.iter().any(|n| n.region != first.region) {
                    return Err(ApiError::bad_request(
                        "NodesRegionMismatch",
                        "All the nodes must be in the same region",
                    ));
                }
                let roles = list
                    .iter()
                    .map(|n| n.role.clone().unwrap_or_else(|| "STANDARD".to_string()))
                    .collect();
                (first.flavor.clone(), first.region.clone(), roles)
            }
        };
    for role in &roles {
        check_role(role, engine_name)?;
    }

    let plan = body
        .plan
        .ok_or_else(|| invalid_body("missing field `plan`"))?;
    let version = body
        .version
        .unwrap_or_else(|| engine.default_version.to_string());
    let network_id = body.network_id.filter(|id| !id.is_empty());
    let subnet_id = body.subnet_id.filter(|id| !id.is_empty());
    if subnet_id.is_some() && network_id.is_none() {
        return Err(invalid_body("subnetId cannot be set without networkId"));
    }
    let network = if network_id.is_some() {
        "private"
    } else {
        "public"
    };
    let row = OfferRequest {
        engine,
        version: &version,
        plan: &plan,
        flavor: &flavor,
        region: &region,
        network,
    }
    .find()?;
    if !row.lifecycle().status.can_order() {
        return Err(availability_gone());
    }
    nodes_out_of_range(roles.len() as u32, row.offer.min_nodes, row.offer.max_nodes)?;

    let requested_size = body.disk.as_ref().and_then(|d| d.size);
    let disk_size = match row.storage() {
        None => match requested_size {
            None | Some(0) => 0,
            Some(size) => return Err(no_storage(size, engine_name)),
        },
        Some(range) => {
            let size = requested_size.unwrap_or(range.minimum);
            check_disk_size(&flavor, range, size)?;
            size
        }
    };

    let ips = normalize_ip_list(body.ip_restrictions.unwrap_or_default())?;
    let maintenance_time = body
        .maintenance_time
        .unwrap_or_else(|| DEFAULT_MAINTENANCE_TIME.to_string());
    check_time("maintenanceTime", &maintenance_time)?;

    let backups_given = body.backups.is_some() || body.backup_time.is_some();
    if backups_given && !engine.backups {
        return Err(invalid_body(format!(
            "backups are not available for engine {engine_name}"
        )));
    }
    let backups = body.backups.unwrap_or(BackupsInput {
        regions: None,
        time: None,
        pitr: None,
        retention_days: None,
    });
    let backup_time = backups
        .time
        .or(body.backup_time)
        .unwrap_or_else(|| DEFAULT_BACKUP_TIME.to_string());
    check_time("backups.time", &backup_time)?;
    let backup_regions = backups.regions.unwrap_or_else(|| vec![region.clone()]);
    check_regions(&backup_regions)?;

    if let Some(fork) = body.fork_from.or(body.backup) {
        let source = fork.service_id.as_deref().unwrap_or_default();
        let source = project.service(Some(engine_name), source, now)?;
        if let Some(backup_id) = fork.backup_id {
            return Err(ApiError::not_found(
                "BackupNotFound",
                format!("Backup {backup_id} does not exist"),
            ));
        }
        if fork.point_in_time.is_none() {
            return Err(invalid_body(format!(
                "forkFrom needs backupId or pointInTime (service {})",
                source.id
            )));
        }
    }

    let id = uuid::Uuid::new_v4().to_string();
    let mut service = Service {
        id,
        engine: engine_name.to_string(),
        created_at: now,
        description: body.description.unwrap_or_default(),
        plan,
        version,
        flavor,
        region,
        network_id,
        subnet_id,
        disk_size,
        maintenance_time,
        backup_time,
        backup_regions,
        deletion_protection: body.deletion_protection.unwrap_or(false),
        enable_prometheus: body.enable_prometheus.unwrap_or(false),
        rest_api: body.rest_api.unwrap_or(false),
        schema_registry: body.schema_registry.unwrap_or(false),
        acls_enabled: body.acls_enabled.unwrap_or(false),
        lifecycle: Lifecycle::starting("CREATING", "READY", now, timing.wait),
        nodes: Vec::new(),
        ip_restrictions: ips
            .into_iter()
            .map(|(ip, description)| timing.ip_entry(ip, description, now))
            .collect(),
        users: Vec::new(),
        host_tag: random_tag(),
        port: if engine_name == "mongodb" {
            MONGODB_PORT
        } else {
            20000 + rand::random::<u16>() % 10000
        },
        next_node: 0,
        advanced_configuration: BTreeMap::new(),
    };
    for role in &roles {
        service.add_node(role, now, timing.wait);
    }
    service.add_built_in_users(now, timing.wait);
    Ok(service)
}

/// The body of `PUT .../{engine}/{clusterId}`: any subset of the Service.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ServiceUpdate {
    description: Option<String>,
    plan: Option<String>,
    version: Option<String>,
    flavor: Option<String>,
    node_number: Option<u32>,
    disk: Option<DiskInput>,
    storage: Option<StorageInput>,
    ip_restrictions: Option<Vec<IpRestrictionInput>>,
    maintenance_time: Option<String>,
    backup_time: Option<String>,
    backups: Option<BackupsInput>,
    deletion_protection: Option<bool>,
    enable_prometheus: Option<bool>,
    rest_api: Option<bool>,
    schema_registry: Option<bool>,
    acls_enabled: Option<bool>,
    // Read-only: accepted when equal to the current value.
    id: Option<Value>,
    engine: Option<Value>,
    category: Option<Value>,
    created_at: Option<Value>,
    status: Option<Value>,
    nodes: Option<Value>,
    network_type: Option<Value>,
    network_id: Option<Value>,
    subnet_id: Option<Value>,
    endpoints: Option<Value>,
    capabilities: Option<Value>,
}

/// Of two ways to send one value (`disk.size` and `storage.size`, `backupTime` and
/// `backups.time`), the one that changes something; both changing it differently is an error.
fn pick_changed<T: PartialEq + Clone>(
    a: Option<T>,
    b: Option<T>,
    current: &T,
    what: &str,
) -> Result<Option<T>, ApiError> {
    match (a, b) {
        (Some(a), Some(b)) if a != b => {
            if &a == current {
                Ok(Some(b))
            } else if &b == current {
                Ok(Some(a))
            } else {
                Err(invalid_body(format!("{what} disagree")))
            }
        }
        (Some(a), _) => Ok(Some(a)),
        (None, b) => Ok(b),
    }
}

fn update_service(
    s: &mut Service,
    body: ServiceUpdate,
    timing: &Timing,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    s.ensure_ready(now)?;
    check_engine_switches(
        &s.engine,
        body.rest_api.is_some() || body.schema_registry.is_some(),
        body.acls_enabled.is_some(),
    )?;
    let current = s.to_json(now);
    let read_only_fields = [
        ("id", &body.id),
        ("engine", &body.engine),
        ("category", &body.category),
        ("createdAt", &body.created_at),
        ("status", &body.status),
        ("nodes", &body.nodes),
        ("networkType", &body.network_type),
        ("networkId", &body.network_id),
        ("subnetId", &body.subnet_id),
        ("endpoints", &body.endpoints),
        ("capabilities", &body.capabilities),
    ];
    for (field, value) in read_only_fields {
        if value.as_ref().is_some_and(|v| v != &current[field]) {
            return Err(read_only(field));
        }
    }
    if let Some(kind) = body.disk.as_ref().and_then(|d| d.kind.as_deref()) {
        if kind != s.disk_type() {
            return Err(read_only("disk.type"));
        }
    }
    if let Some(kind) = body.storage.as_ref().and_then(|d| d.kind.as_deref()) {
        if kind != s.disk_type() {
            return Err(read_only("storage.type"));
        }
    }
    let storage_size = match body.storage.as_ref().and_then(|s| s.size.as_ref()) {
        Some(size) if size.unit != "GB" => {
            return Err(invalid_body(format!(
                "storage.size.unit must be GB, got {:?}",
                size.unit
            )))
        }
        Some(size) => Some(size.value),
        None => None,
    };
    let requested_size = pick_changed(
        body.disk.as_ref().and_then(|d| d.size),
        storage_size,
        &s.disk_size,
        "disk.size and storage.size",
    )?
    .filter(|size| *size != s.disk_size);

    // The cluster: plan, version, flavor, nodes, storage.
    let plan = body.plan.unwrap_or_else(|| s.plan.clone());
    let version = body.version.unwrap_or_else(|| s.version.clone());
    let flavor = body.flavor.unwrap_or_else(|| s.flavor.clone());
    let active = s.active_node_count(now);
    let (plan_changed, version_changed, flavor_changed) =
        (plan != s.plan, version != s.version, flavor != s.flavor);
    let mut nodes = body.node_number.unwrap_or(active);
    let mut disk_size = s.disk_size;
    let cluster_change = plan_changed
        || version_changed
        || flavor_changed
        || requested_size.is_some()
        || nodes != active;
    if cluster_change {
        let engine = s.spec().ok_or_else(no_matching_availability)?;
        let row = OfferRequest {
            engine,
            version: &version,
            plan: &plan,
            flavor: &flavor,
            region: &s.region,
            network: s.network_type(),
        }
        .find()?;
        if catalogue::compare_versions(&version, &s.version) == Ordering::Less {
            return Err(ApiError::bad_request(
                "VersionDowngradeNotAllowed",
                format!("You cannot downgrade version {} to {version}", s.version),
            ));
        }
        let order = |p: &str| catalogue::plan_named(p).map_or(0, |p| p.order);
        if order(&plan) < order(&s.plan) {
            return Err(ApiError::not_found(
                "PlanInvalidUpgrade",
                format!("You cannot upgrade plan {} to {plan}", s.plan),
            ));
        }
        if version_changed && !row.lifecycle().status.can_order() {
            return Err(availability_gone());
        }
        if plan_changed && body.node_number.is_none() {
            nodes = active.clamp(row.offer.min_nodes, row.offer.max_nodes);
        }
        nodes_out_of_range(nodes, row.offer.min_nodes, row.offer.max_nodes)?;
        disk_size = match (row.storage(), requested_size) {
            (None, None) => 0,
            (None, Some(size)) => return Err(no_storage(size, &s.engine)),
            (Some(range), Some(size)) => {
                check_disk_size(&flavor, range, size)?;
                size
            }
            (Some(range), None) => {
                // The disk follows the flavor: never below its minimum, never silently shrunk.
                let size = s.disk_size.max(range.minimum);
                let size = match range.step {
                    0 => size,
                    step => range.minimum + (size - range.minimum).div_ceil(step) * step,
                };
                check_disk_size(&flavor, range, size)?;
                size
            }
        };
    }

    // The IP restrictions.
    let ips = body.ip_restrictions.map(normalize_ip_list).transpose()?;
    let ips_changed = ips.as_ref().is_some_and(|ips| {
        let old: HashSet<(&str, &str)> = s
            .ip_restrictions
            .iter()
            .map(|e| (e.ip.as_str(), e.description.as_str()))
            .collect();
        let new: HashSet<(&str, &str)> = ips
            .iter()
            .map(|(ip, d)| (ip.as_str(), d.as_str()))
            .collect();
        old != new || ips.len() != s.ip_restrictions.len()
    });

    // Settings applied at once.
    if let Some(time) = &body.maintenance_time {
        check_time("maintenanceTime", time)?;
    }
    let backup_time = pick_changed(
        body.backup_time,
        body.backups.as_ref().and_then(|b| b.time.clone()),
        &s.backup_time,
        "backupTime and backups.time",
    )?;
    if let Some(time) = &backup_time {
        check_time("backups.time", time)?;
    }
    let backup_regions = body.backups.and_then(|b| b.regions);
    if let Some(regions) = &backup_regions {
        check_regions(regions)?;
    }
    let backups_changed = backup_time.as_ref().is_some_and(|t| t != &s.backup_time)
        || backup_regions
            .as_ref()
            .is_some_and(|r| r != &s.backup_regions);
    if backups_changed && !s.has_backups() {
        return Err(invalid_body(format!(
            "backups are not available for engine {}",
            s.engine
        )));
    }
    let settings_changed = body
        .description
        .as_ref()
        .is_some_and(|d| d != &s.description)
        || body
            .maintenance_time
            .as_ref()
            .is_some_and(|t| t != &s.maintenance_time)
        || backups_changed
        || body
            .deletion_protection
            .is_some_and(|v| v != s.deletion_protection)
        || body
            .enable_prometheus
            .is_some_and(|v| v != s.enable_prometheus)
        || body.rest_api.is_some_and(|v| v != s.rest_api)
        || body.schema_registry.is_some_and(|v| v != s.schema_registry)
        || body.acls_enabled.is_some_and(|v| v != s.acls_enabled);

    if !cluster_change && !ips_changed && !settings_changed {
        return Err(no_update());
    }

    // Apply.
    if let Some(description) = body.description {
        s.description = description;
    }
    if let Some(time) = body.maintenance_time {
        s.maintenance_time = time;
    }
    if let Some(time) = backup_time {
        s.backup_time = time;
    }
    if let Some(regions) = backup_regions {
        s.backup_regions = regions;
    }
    s.deletion_protection = body.deletion_protection.unwrap_or(s.deletion_protection);
    s.enable_prometheus = body.enable_prometheus.unwrap_or(s.enable_prometheus);
    s.rest_api = body.rest_api.unwrap_or(s.rest_api);
    s.schema_registry = body.schema_registry.unwrap_or(s.schema_registry);
    s.acls_enabled = body.acls_enabled.unwrap_or(s.acls_enabled);
    if cluster_change {
        s.plan = plan;
        s.version = version;
        s.flavor = flavor.clone();
        s.disk_size = disk_size;
        for node in s.nodes.iter_mut() {
            if !node.lifecycle.is_gone(now) && !is_leaving(&node.lifecycle, now) {
                node.flavor = flavor.clone();
                node.lifecycle.begin("UPDATING", now, timing.wait);
            }
        }
        s.resize_nodes(nodes, now, timing.wait);
    }
    if let (Some(ips), true) = (ips, ips_changed) {
        set_ip_restrictions(s, ips, timing, now);
    }
    if cluster_change || ips_changed {
        s.lifecycle.begin("UPDATING", now, timing.wait);
    }
    Ok(())
}

/// Replaces the IP restrictions: kept blocks keep their status, new ones start PENDING.
fn set_ip_restrictions(
    s: &mut Service,
    ips: Vec<(String, String)>,
    timing: &Timing,
    now: DateTime<Utc>,
) {
    let mut old: HashMap<String, IpRestriction> = s
        .ip_restrictions
        .drain(..)
        .map(|e| (e.ip.clone(), e))
        .collect();
    s.ip_restrictions = ips
        .into_iter()
        .map(|(ip, description)| match old.remove(&ip) {
            Some(mut entry) => {
                entry.description = description;
                entry
            }
            None => timing.ip_entry(ip, description, now),
        })
        .collect();
}

fn delete_service(s: &mut Service, timing: &Timing, now: DateTime<Utc>) -> Result<(), ApiError> {
    if is_leaving(&s.lifecycle, now) {
        return Ok(());
    }
    if s.deletion_protection {
        return Err(ApiError::conflict(
            "ServiceDeletionProtected",
            format!(
                "Service {} cannot be deleted while deletionProtection is enabled",
                s.id
            ),
        ));
    }
    s.lifecycle.begin_removal("DELETING", now, timing.wait);
    for node in s.nodes.iter_mut() {
        if !node.lifecycle.is_gone(now) {
            node.lifecycle.begin_removal("DELETING", now, timing.wait);
        }
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------
// Users

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserWithRolesCreation {
    name: String,
    #[serde(default)]
    roles: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserCreation {
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RedisUserCreation {
    name: String,
    #[serde(default)]
    categories: Vec<String>,
    #[serde(default)]
    channels: Vec<String>,
    #[serde(default)]
    commands: Vec<String>,
    #[serde(default)]
    keys: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OpensearchUserCreation {
    name: String,
    #[serde(default)]
    acls: Vec<OpensearchAcl>,
}

/// The body of `PUT .../user/{userId}`; which fields are allowed depends on the engine.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct UserUpdate {
    roles: Option<Vec<String>>,
    categories: Option<Vec<String>>,
    channels: Option<Vec<String>>,
    commands: Option<Vec<String>>,
    keys: Option<Vec<String>>,
    acls: Option<Vec<OpensearchAcl>>,
    /// In the spec's PUT model; ignored (passwords change through credentials/reset).
    #[allow(dead_code)]
    password: Option<Value>,
    // Read-only.
    id: Option<Value>,
    username: Option<Value>,
    created_at: Option<Value>,
    status: Option<Value>,
}

fn check_username(name: &str) -> Result<(), ApiError> {
    if name.is_empty() {
        return Err(invalid_body("name must not be empty"));
    }
    if name
        .chars()
        .any(|c| FORBIDDEN_IN_USERNAME.contains(c) || c.is_whitespace() || c.is_control())
    {
        return Err(ApiError::bad_request(
            "UserInvalidNameFormat",
            format!("Username cannot contain any of '{FORBIDDEN_IN_USERNAME}'"),
        ));
    }
    Ok(())
}

fn role_not_found(role: &str) -> ApiError {
    ApiError::not_found("RoleNotFound", format!("Role {role} does not exist"))
}

/// MongoDB roles name their database (`readWrite@orders`, `clusterMonitor@admin`).
fn check_roles(engine: &str, roles: &[String]) -> Result<(), ApiError> {
    for role in roles {
        let valid = match engine {
            "mongodb" => match role.split_once('@') {
                Some((name, "admin")) => {
                    MONGODB_ADMIN_ROLES.contains(&name) || MONGODB_DATABASE_ROLES.contains(&name)
                }
                Some((name, database)) => {
                    !database.is_empty() && MONGODB_DATABASE_ROLES.contains(&name)
                }
                None => false,
            },
            _ => POSTGRESQL_ROLES.contains(&role.as_str()),
        };
        if !valid {
            return Err(role_not_found(role));
        }
    }
    Ok(())
}

fn roles_of(engine: &str) -> Option<Vec<String>> {
    match engine {
        "mongodb" => {
            let mut roles: Vec<String> = MONGODB_ADMIN_ROLES
                .iter()
                .chain(MONGODB_DATABASE_ROLES)
                .map(|r| format!("{r}@admin"))
                .collect();
            roles.sort();
            roles.dedup();
            Some(roles)
        }
        "postgresql" => Some(POSTGRESQL_ROLES.iter().map(|r| r.to_string()).collect()),
        _ => None,
    }
}

/// Validates a user creation body for the service's engine and builds the user (CREATING).
fn build_user(
    s: &Service,
    body: &[u8],
    timing: &Timing,
    now: DateTime<Utc>,
) -> Result<User, ApiError> {
    let engine = s.engine.as_str();
    let (name, roles, acl, acls) = match user_model(engine) {
        UserModel::Roles => {
            let b: UserWithRolesCreation = parse_body(body)?;
            (b.name, b.roles, None, Vec::new())
        }
        UserModel::Plain => {
            let b: UserCreation = parse_body(body)?;
            (b.name, Vec::new(), None, Vec::new())
        }
        UserModel::Redis => {
            let b: RedisUserCreation = parse_body(body)?;
            let acl = RedisAcl {
                categories: b.categories,
                channels: b.channels,
                commands: b.commands,
                keys: b.keys,
            };
            (b.name, Vec::new(), Some(acl), Vec::new())
        }
        UserModel::Opensearch => {
            let b: OpensearchUserCreation = parse_body(body)?;
            (b.name, Vec::new(), None, b.acls)
        }
    };
    check_username(&name)?;
    check_roles(engine, &roles)?;
    s.ensure_ready(now)?;
    let username = if engine == "mongodb" {
        format!("{name}@admin")
    } else {
        name
    };
    if s.users
        .iter()
        .any(|u| u.username == username && !u.lifecycle.is_gone(now))
    {
        return Err(user_already_exists(engine, &username));
    }
    let mut user = User::new(username, now, timing.wait);
    user.roles = roles;
    user.acl = acl;
    user.acls = acls;
    Ok(user)
}

fn update_user(
    s: &mut Service,
    user_id: &str,
    body: UserUpdate,
    timing: &Timing,
    now: DateTime<Utc>,
) -> Result<Value, ApiError> {
    s.ensure_ready(now)?;
    let engine = s.engine.clone();
    let model = user_model(&engine);
    let user = s.user_mut(user_id, now)?;
    let current = user.to_json(&engine, now, None);
    for (field, value) in [
        ("id", &body.id),
        ("username", &body.username),
        ("createdAt", &body.created_at),
        ("status", &body.status),
    ] {
        if value.as_ref().is_some_and(|v| v != &current[field]) {
            return Err(read_only(field));
        }
    }
    let redis_fields = body.categories.is_some()
        || body.channels.is_some()
        || body.commands.is_some()
        || body.keys.is_some();
    let unknown = match model {
        UserModel::Roles => (redis_fields || body.acls.is_some())
            .then_some("categories/channels/commands/keys/acls"),
        UserModel::Redis => (body.roles.is_some() || body.acls.is_some()).then_some("roles/acls"),
        UserModel::Opensearch => (body.roles.is_some() || redis_fields)
            .then_some("roles/categories/channels/commands/keys"),
        UserModel::Plain => Some("any"),
    };
    if let Some(fields) = unknown {
        return Err(invalid_body(format!(
            "unknown field ({fields}) for a {engine} user"
        )));
    }
    if user.lifecycle.status(now) != Some("READY") {
        return Err(ApiError::conflict(
            "UserNotReady",
            format!("User {user_id} is not in state READY"),
        ));
    }
    if let Some(roles) = &body.roles {
        check_roles(&engine, roles)?;
    }
    let old_acl = user.acl.clone().unwrap_or_default();
    let acl = RedisAcl {
        categories: body
            .categories
            .unwrap_or_else(|| old_acl.categories.clone()),
        channels: body.channels.unwrap_or_else(|| old_acl.channels.clone()),
        commands: body.commands.unwrap_or_else(|| old_acl.commands.clone()),
        keys: body.keys.unwrap_or_else(|| old_acl.keys.clone()),
    };
    let roles = body.roles.unwrap_or_else(|| user.roles.clone());
    let acls = body.acls.unwrap_or_else(|| user.acls.clone());
    let changed =
        roles != user.roles || acls != user.acls || (model == UserModel::Redis && acl != old_acl);
    if !changed {
        return Err(no_update());
    }
    user.roles = roles;
    user.acls = acls;
    if model == UserModel::Redis {
        user.acl = Some(acl);
    }
    user.lifecycle.begin("UPDATING", now, timing.wait);
    Ok(user.to_json(&engine, now, None))
}

fn delete_user(
    s: &mut Service,
    user_id: &str,
    timing: &Timing,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    s.ensure_ready(now)?;
    let user = s.user_mut(user_id, now)?;
    if is_leaving(&user.lifecycle, now) {
        return Ok(());
    }
    if user.built_in {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "Client::Forbidden::UserDeletionForbidden",
            format!("User {} is built in and cannot be deleted", user.username),
        ));
    }
    user.lifecycle.begin_removal("DELETING", now, timing.wait);
    Ok(())
}

// ------------------------------------------------------------------------------------------
// Nodes (mongodb can add, change and remove them)

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

fn add_node(
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

// ------------------------------------------------------------------------------------------
// Availability filters

/// A query parameter with a fixed set of values (an enum in the spec).
fn check_parameter(name: &str, value: &str, allowed: &[&str]) -> Result<(), ApiError> {
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

// ------------------------------------------------------------------------------------------
// Routes

pub fn routes() -> Router<Arc<Sandbox>> {
    const BASE: &str = "/cloud/project/{serviceName}/database";
    const CLUSTER: &str = "/cloud/project/{serviceName}/database/{engine}/{clusterId}";
    Router::new()
        .route(&format!("{BASE}/capabilities"), get(capabilities))
        .route(&format!("{BASE}/availability"), get(availability))
        .route(&format!("{BASE}/service"), get(service_index))
        .route(&format!("{BASE}/service/{{clusterId}}"), get(service_by_id))
        .route(
            &format!("{BASE}/{{engine}}"),
            get(list_services).post(create_service),
        )
        .route(
            CLUSTER,
            get(get_service).put(put_service).delete(remove_service),
        )
        .route(&format!("{CLUSTER}/node"), get(list_nodes).post(post_node))
        .route(
            &format!("{CLUSTER}/node/{{nodeId}}"),
            get(get_node).put(put_node).delete(remove_node),
        )
        .route(&format!("{CLUSTER}/user"), get(list_users).post(post_user))
        .route(
            &format!("{CLUSTER}/user/{{userId}}"),
            get(get_user).put(put_user).delete(remove_user),
        )
        .route(
            &format!("{CLUSTER}/user/{{userId}}/credentials/reset"),
            post(reset_credentials),
        )
        .route(&format!("{CLUSTER}/roles"), get(list_roles))
        .route(
            &format!("{CLUSTER}/advancedConfiguration"),
            get(get_advanced_configuration).put(put_advanced_configuration),
        )
        .route(
            &format!("{CLUSTER}/capabilities/advancedConfiguration"),
            get(advanced_configuration_capabilities),
        )
        .route(
            &format!("{CLUSTER}/ipRestriction"),
            get(list_ips).post(post_ip),
        )
        .route(
            &format!("{CLUSTER}/ipRestriction/{{ipBlock}}"),
            get(get_ip).put(put_ip).delete(remove_ip),
        )
}

type Sb = State<Arc<Sandbox>>;

fn reply(result: Result<Value, ApiError>) -> Response {
    match result {
        Ok(body) => Json(body).into_response(),
        Err(e) => e.into_response(),
    }
}

/// A void route's answer: 200 with an empty body.
/// A void route's answer: 200 with the JSON `null`, as the real API sends (python-ovh decodes
/// every non-204 body as JSON, so an empty body would fail there).
fn reply_void(result: Result<(), ApiError>) -> Response {
    match result {
        Ok(()) => Json(Value::Null).into_response(),
        Err(e) => e.into_response(),
    }
}

/// The answer of a path that exists only for some engines, for the others.
fn no_route(method: &Method, uri: &Uri) -> ApiError {
    ApiError::no_route(method.as_str(), uri.path())
}

/// Engine segments outside the `EngineEnum` are unknown paths; `only` narrows the engines a
/// route exists for.
fn engine_route(
    engine: &str,
    only: Option<&[&str]>,
    method: &Method,
    uri: &Uri,
) -> Result<(), ApiError> {
    if catalogue::is_engine_segment(engine) && only.is_none_or(|engines| engines.contains(&engine))
    {
        Ok(())
    } else {
        Err(no_route(method, uri))
    }
}

/// Runs `f` on the service, read-only.
fn read_service<R>(
    sb: &Sandbox,
    project: &str,
    engine: &str,
    id: &str,
    f: impl FnOnce(&Service, DateTime<Utc>) -> Result<R, ApiError>,
) -> Result<R, ApiError> {
    sb.read(|w, now| f(project_of(w, project)?.service(Some(engine), id, now)?, now))
}

/// Runs `f` on the service, saving the world when it succeeds.
fn write_service<R>(
    sb: &Sandbox,
    project: &str,
    engine: &str,
    id: &str,
    f: impl FnOnce(&mut Service, &Timing, DateTime<Utc>) -> Result<R, ApiError>,
) -> Result<R, ApiError> {
    let timing = Timing::of(sb);
    sb.write(|w, now| {
        f(
            project_mut(w, project, now)?.service_mut(engine, id, now)?,
            &timing,
            now,
        )
    })
}

async fn capabilities(State(sb): Sb, Path(project): Path<String>) -> Response {
    reply(sb.read(|w, _| project_of(w, &project).map(|_| catalogue::capabilities_json())))
}

async fn availability(
    State(sb): Sb,
    Path(project): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    reply(
        sb.read(|w, now| {
            availability_rows(project_of(w, &project)?, &query, now).map(Value::Array)
        }),
    )
}

async fn service_index(
    State(sb): Sb,
    Path(project): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let category = query.get("category").cloned();
    if let Some(c) = &category {
        if let Err(e) = check_parameter("category", c, &["analysis", "operational", "streaming"]) {
            return e.into_response();
        }
    }
    reply(sb.read(|w, now| {
        let ids: Vec<&str> = project_of(w, &project)?
            .live_services(now)
            .into_iter()
            .filter(|s| {
                category
                    .as_deref()
                    .is_none_or(|c| s.spec().is_some_and(|e| e.category == c))
            })
            .map(|s| s.id.as_str())
            .collect();
        Ok(json!(ids))
    }))
}

async fn service_by_id(State(sb): Sb, Path((project, id)): Path<(String, String)>) -> Response {
    reply(sb.read(|w, now| {
        Ok(project_of(w, &project)?
            .service(None, &id, now)?
            .to_json(now))
    }))
}

async fn list_services(
    State(sb): Sb,
    method: Method,
    OriginalUri(uri): OriginalUri,
    Path((project, engine)): Path<(String, String)>,
) -> Response {
    reply(engine_route(&engine, None, &method, &uri).and_then(|()| {
        sb.read(|w, now| {
            let ids: Vec<&str> = project_of(w, &project)?
                .live_services(now)
                .into_iter()
                .filter(|s| s.engine == engine)
                .map(|s| s.id.as_str())
                .collect();
            Ok(json!(ids))
        })
    }))
}

async fn create_service(
    State(sb): Sb,
    method: Method,
    OriginalUri(uri): OriginalUri,
    Path((project, engine)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let result = engine_route(&engine, None, &method, &uri).and_then(|()| {
        let timing = Timing::of(&sb);
        let input: ServiceCreation = parse_body(&body)?;
        sb.write(|w, now| {
            let project = project_mut(w, &project, now)?;
            let service = build_service(&engine, input, &timing, project, now)?;
            let answer = service.to_json(now);
            project.services.insert(service.id.clone(), service);
            Ok(answer)
        })
    });
    // The "500 but created" fault: the service exists and is saved, the answer says otherwise.
    if result.is_ok() && sb.faults.created_but_500() {
        return ApiError::internal().into_response();
    }
    reply(result)
}

async fn get_service(
    State(sb): Sb,
    method: Method,
    OriginalUri(uri): OriginalUri,
    Path((project, engine, id)): Path<(String, String, String)>,
) -> Response {
    reply(
        engine_route(&engine, None, &method, &uri)
            .and_then(|()| read_service(&sb, &project, &engine, &id, |s, now| Ok(s.to_json(now)))),
    )
}

async fn put_service(
    State(sb): Sb,
    method: Method,
    OriginalUri(uri): OriginalUri,
    Path((project, engine, id)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    reply(engine_route(&engine, None, &method, &uri).and_then(|()| {
        let input: ServiceUpdate = parse_body(&body)?;
        write_service(&sb, &project, &engine, &id, |s, timing, now| {
            update_service(s, input, timing, now)?;
            Ok(s.to_json(now))
        })
    }))
}

async fn remove_service(
    State(sb): Sb,
    method: Method,
    OriginalUri(uri): OriginalUri,
    Path((project, engine, id)): Path<(String, String, String)>,
) -> Response {
    reply_void(
        engine_route(&engine, None, &method, &uri)
            .and_then(|()| write_service(&sb, &project, &engine, &id, delete_service)),
    )
}

async fn list_nodes(
    State(sb): Sb,
    method: Method,
    OriginalUri(uri): OriginalUri,
    Path((project, engine, id)): Path<(String, String, String)>,
) -> Response {
    reply(engine_route(&engine, None, &method, &uri).and_then(|()| {
        read_service(&sb, &project, &engine, &id, |s, now| {
            Ok(json!(s
                .visible_nodes(now)
                .map(|n| n.id.as_str())
                .collect::<Vec<_>>()))
        })
    }))
}

async fn post_node(
    State(sb): Sb,
    method: Method,
    OriginalUri(uri): OriginalUri,
    Path((project, engine, id)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    reply(
        engine_route(&engine, Some(MONGODB_ONLY), &method, &uri).and_then(|()| {
            let input: NodeCreation = parse_body(&body)?;
            write_service(&sb, &project, &engine, &id, |s, timing, now| {
                add_node(s, input, timing, now)
            })
        }),
    )
}

async fn get_node(
    State(sb): Sb,
    method: Method,
    OriginalUri(uri): OriginalUri,
    Path((project, engine, id, node_id)): Path<(String, String, String, String)>,
) -> Response {
    reply(engine_route(&engine, None, &method, &uri).and_then(|()| {
        read_service(&sb, &project, &engine, &id, |s, now| {
            let node = s
                .visible_nodes(now)
                .find(|n| n.id == node_id)
                .ok_or_else(|| node_not_found(&node_id))?;
            Ok(s.node_json(node, now))
        })
    }))
}

async fn put_node(
    State(sb): Sb,
    method: Method,
    OriginalUri(uri): OriginalUri,
    Path((project, engine, id, node_id)): Path<(String, String, String, String)>,
    body: Bytes,
) -> Response {
    reply(
        engine_route(&engine, Some(MONGODB_ONLY), &method, &uri).and_then(|()| {
            let input: NodeUpdate = parse_body(&body)?;
            write_service(&sb, &project, &engine, &id, |s, timing, now| {
                update_node(s, &node_id, input, timing, now)
            })
        }),
    )
}

async fn remove_node(
    State(sb): Sb,
    method: Method,
    OriginalUri(uri): OriginalUri,
    Path((project, engine, id, node_id)): Path<(String, String, String, String)>,
) -> Response {
    reply_void(
        engine_route(&engine, Some(MONGODB_ONLY), &method, &uri).and_then(|()| {
            write_service(&sb, &project, &engine, &id, |s, timing, now| {
                delete_node(s, &node_id, timing, now)
            })
        }),
    )
}

async fn list_users(
    State(sb): Sb,
    method: Method,
    OriginalUri(uri): OriginalUri,
    Path((project, engine, id)): Path<(String, String, String)>,
) -> Response {
    reply(engine_route(&engine, None, &method, &uri).and_then(|()| {
        read_service(&sb, &project, &engine, &id, |s, now| {
            Ok(json!(s
                .users
                .iter()
                .filter(|u| !u.lifecycle.is_gone(now))
                .map(|u| u.id.as_str())
                .collect::<Vec<_>>()))
        })
    }))
}

async fn post_user(
    State(sb): Sb,
    method: Method,
    OriginalUri(uri): OriginalUri,
    Path((project, engine, id)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    let result = engine_route(&engine, None, &method, &uri).and_then(|()| {
        write_service(&sb, &project, &engine, &id, |s, timing, now| {
            let user = build_user(s, &body, timing, now)?;
            let answer = user.to_json(&engine, now, Some(&random_password()));
            s.users.push(user);
            Ok(answer)
        })
    });
    // The "500 but created" fault (https://github.com/ovh/terraform-provider-ovh/issues/1306): the
    // user exists, the answer says otherwise.
    if result.is_ok() && sb.faults.created_but_500() {
        return ApiError::internal().into_response();
    }
    reply(result)
}

async fn get_user(
    State(sb): Sb,
    method: Method,
    OriginalUri(uri): OriginalUri,
    Path((project, engine, id, user_id)): Path<(String, String, String, String)>,
) -> Response {
    reply(engine_route(&engine, None, &method, &uri).and_then(|()| {
        read_service(&sb, &project, &engine, &id, |s, now| {
            Ok(s.user(&user_id, now)?.to_json(&engine, now, None))
        })
    }))
}

const ENGINES_WITH_USER_UPDATE: &[&str] =
    &["mongodb", "postgresql", "redis", "valkey", "opensearch"];
const ENGINES_WITH_ROLES: &[&str] = &["mongodb", "postgresql"];
const MONGODB_ONLY: &[&str] = &["mongodb"];

async fn put_user(
    State(sb): Sb,
    method: Method,
    OriginalUri(uri): OriginalUri,
    Path((project, engine, id, user_id)): Path<(String, String, String, String)>,
    body: Bytes,
) -> Response {
    reply(
        engine_route(&engine, Some(ENGINES_WITH_USER_UPDATE), &method, &uri).and_then(|()| {
            let input: UserUpdate = parse_body(&body)?;
            write_service(&sb, &project, &engine, &id, |s, timing, now| {
                update_user(s, &user_id, input, timing, now)
            })
        }),
    )
}

async fn remove_user(
    State(sb): Sb,
    method: Method,
    OriginalUri(uri): OriginalUri,
    Path((project, engine, id, user_id)): Path<(String, String, String, String)>,
) -> Response {
    reply_void(engine_route(&engine, None, &method, &uri).and_then(|()| {
        write_service(&sb, &project, &engine, &id, |s, timing, now| {
            delete_user(s, &user_id, timing, now)
        })
    }))
}

async fn reset_credentials(
    State(sb): Sb,
    method: Method,
    OriginalUri(uri): OriginalUri,
    Path((project, engine, id, user_id)): Path<(String, String, String, String)>,
) -> Response {
    reply(engine_route(&engine, None, &method, &uri).and_then(|()| {
        write_service(&sb, &project, &engine, &id, |s, _, now| {
            s.ensure_ready(now)?;
            Ok(s.user(&user_id, now)?
                .to_json(&engine, now, Some(&random_password())))
        })
    }))
}

async fn list_roles(
    State(sb): Sb,
    method: Method,
    OriginalUri(uri): OriginalUri,
    Path((project, engine, id)): Path<(String, String, String)>,
) -> Response {
    reply(
        engine_route(&engine, Some(ENGINES_WITH_ROLES), &method, &uri).and_then(|()| {
            read_service(&sb, &project, &engine, &id, |s, _| {
                Ok(json!(roles_of(&s.engine).unwrap_or_default()))
            })
        }),
    )
}

async fn list_ips(
    State(sb): Sb,
    method: Method,
    OriginalUri(uri): OriginalUri,
    Path((project, engine, id)): Path<(String, String, String)>,
) -> Response {
    reply(engine_route(&engine, None, &method, &uri).and_then(|()| {
        read_service(&sb, &project, &engine, &id, |s, _| {
            Ok(json!(s
                .ip_restrictions
                .iter()
                .map(|e| e.ip.as_str())
                .collect::<Vec<_>>()))
        })
    }))
}

async fn post_ip(
    State(sb): Sb,
    method: Method,
    OriginalUri(uri): OriginalUri,
    Path((project, engine, id)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    reply(engine_route(&engine, None, &method, &uri).and_then(|()| {
        let input: IpRestrictionInput = parse_body(&body)?;
        write_service(&sb, &project, &engine, &id, |s, timing, now| {
            add_ip(s, input, timing, now)
        })
    }))
}

async fn get_ip(
    State(sb): Sb,
    method: Method,
    OriginalUri(uri): OriginalUri,
    Path((project, engine, id, block)): Path<(String, String, String, String)>,
) -> Response {
    reply(engine_route(&engine, None, &method, &uri).and_then(|()| {
        read_service(&sb, &project, &engine, &id, |s, now| {
            Ok(ip_json(&s.ip_restrictions[ip_index(s, &block)?], now))
        })
    }))
}

async fn put_ip(
    State(sb): Sb,
    method: Method,
    OriginalUri(uri): OriginalUri,
    Path((project, engine, id, block)): Path<(String, String, String, String)>,
    body: Bytes,
) -> Response {
    reply(engine_route(&engine, None, &method, &uri).and_then(|()| {
        let input: IpRestrictionUpdate = parse_body(&body)?;
        write_service(&sb, &project, &engine, &id, |s, _, now| {
            update_ip(s, &block, input, now)
        })
    }))
}

async fn remove_ip(
    State(sb): Sb,
    method: Method,
    OriginalUri(uri): OriginalUri,
    Path((project, engine, id, block)): Path<(String, String, String, String)>,
) -> Response {
    reply_void(engine_route(&engine, None, &method, &uri).and_then(|()| {
        write_service(&sb, &project, &engine, &id, |s, timing, now| {
            delete_ip(s, &block, timing, now)
        })
    }))
}

async fn get_advanced_configuration(
    State(sb): Sb,
    method: Method,
    OriginalUri(uri): OriginalUri,
    Path((project, engine, id)): Path<(String, String, String)>,
) -> Response {
    reply(engine_route(&engine, None, &method, &uri).and_then(|()| {
        read_service(&sb, &project, &engine, &id, |s, _| {
            Ok(json!(s.advanced_configuration))
        })
    }))
}

/// Replaces the settings at once; the service stays `READY` (the choices are listed in
/// `advanced_configuration`).
async fn put_advanced_configuration(
    State(sb): Sb,
    method: Method,
    OriginalUri(uri): OriginalUri,
    Path((project, engine, id)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    reply(engine_route(&engine, None, &method, &uri).and_then(|()| {
        write_service(&sb, &project, &engine, &id, |s, _, now| {
            s.ensure_ready(now)?;
            s.advanced_configuration = advanced_configuration::parse(&s.engine, &body)?;
            Ok(json!(s.advanced_configuration))
        })
    }))
}

async fn advanced_configuration_capabilities(
    State(sb): Sb,
    method: Method,
    OriginalUri(uri): OriginalUri,
    Path((project, engine, id)): Path<(String, String, String)>,
) -> Response {
    reply(engine_route(&engine, None, &method, &uri).and_then(|()| {
        read_service(&sb, &project, &engine, &id, |s, _| {
            Ok(advanced_configuration::properties(&s.engine)
                .iter()
                .map(|p| p.to_json())
                .collect())
        })
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    fn timing() -> Timing {
        Timing {
            wait: Duration::from_secs(10),
            stuck: HashSet::new(),
        }
    }

    fn create(engine: &str, body: Value) -> Result<Service, ApiError> {
        let body: ServiceCreation = serde_json::from_value(body).map_err(invalid_body)?;
        build_service(engine, body, &timing(), &Project::default(), at(0))
    }

    fn mongodb() -> Service {
        create(
            "mongodb",
            json!({"plan": "production", "version": "7.0",
                   "nodesPattern": {"flavor": "db2-4", "number": 3, "region": "GRA"}}),
        )
        .unwrap()
    }

    fn update(s: &mut Service, body: Value, now: DateTime<Utc>) -> Result<(), ApiError> {
        let body: ServiceUpdate = serde_json::from_value(body).map_err(invalid_body)?;
        update_service(s, body, &timing(), now)
    }

    #[test]
    fn ip_blocks_are_normalised_to_canonical_cidr() {
        let cases = [
            ("10.0.0.1", Some("10.0.0.1/32")),
            ("10.0.0.1/32", Some("10.0.0.1/32")),
            ("10.0.0.1/24", Some("10.0.0.0/24")),
            ("0.0.0.0/0", Some("0.0.0.0/0")),
            ("2001:DB8::1", Some("2001:db8::1/128")),
            ("2001:db8::1/48", Some("2001:db8::/48")),
            ("10.0.0.1/33", None),
            ("10.0.0.1/", None),
            ("10.0.0.1/+8", None),
            ("10.0.0", None),
            ("300.0.0.1", None),
            ("example.com", None),
            (" 10.0.0.1", None),
        ];
        for (input, want) in cases {
            assert_eq!(normalize_ip_block(input).as_deref(), want, "{input}");
        }
    }

    #[test]
    fn duplicate_ips_in_one_list_are_refused() {
        let list = vec![
            IpRestrictionInput {
                ip: "10.0.0.1".into(),
                description: None,
                status: None,
            },
            IpRestrictionInput {
                ip: "10.0.0.1/32".into(),
                description: None,
                status: None,
            },
        ];
        let err = normalize_ip_list(list).unwrap_err();
        assert_eq!(err.class, "Client::BadRequest::IpRestrictionAlreadyExists");
    }

    #[test]
    fn a_new_service_has_its_nodes_users_and_defaults() {
        let s = mongodb();
        assert_eq!(s.lifecycle.status(at(0)), Some("CREATING"));
        assert_eq!(s.lifecycle.status(at(10)), Some("READY"));
        assert_eq!(s.active_node_count(at(0)), 3);
        assert_eq!(s.disk_size, 20);
        assert_eq!(s.users[0].username, "admin@admin");
        let json = s.to_json(at(10));
        assert_eq!(json["maintenanceTime"], "22:00:00");
        assert_eq!(json["nodes"].as_array().unwrap().len(), 3);
        assert_eq!(json["nodes"][0]["port"], 27017);
        assert_eq!(json["endpoints"][1]["component"], "mongodbSrv");
    }

    #[test]
    fn creation_errors_follow_the_catalogue() {
        // (engine, changes to a valid mongodb production body, expected class)
        let cases = [
            (
                "mongodb",
                json!({"version": "9.9"}),
                "Client::NotFound::VersionNotFound",
            ),
            (
                "mongodb",
                json!({"plan": "business"}),
                "Client::NotFound::PlanNotFound",
            ),
            (
                "mongodb",
                json!({"flavor": "db9-1"}),
                "Client::NotFound::FlavorNameNotFound",
            ),
            (
                "mongodb",
                json!({"region": "MARS"}),
                "Client::NotFound::RegionNotFound",
            ),
            (
                "mongodb",
                json!({"flavor": "db2-free"}),
                "Client::NotFound::NoMatchingAvailability",
            ),
            (
                "mongodb",
                json!({"version": "6.0"}),
                "Client::NotFound::AvailabilityDoesNotExistAnymore",
            ),
            (
                "mongodb",
                json!({"number": 9}),
                "Client::BadRequest::TooManyNodes",
            ),
            (
                "mongodb",
                json!({"number": 0}),
                "Client::BadRequest::AtLeastOneNode",
            ),
            (
                "mongodb",
                json!({"disk": {"size": 90}}),
                "Client::BadRequest::FlavorDiskSizeTooLow",
            ),
            (
                "mongodb",
                json!({"disk": {"size": 25}}),
                "Client::BadRequest::InvalidDiskSize",
            ),
            ("mongodb", json!({"restApi": true}), "Client::BadRequest"),
            (
                "mongodb",
                json!({"maintenanceTime": "25:00:00"}),
                "Client::BadRequest",
            ),
            ("mongodb", json!({"subnetId": "s1"}), "Client::BadRequest"),
            (
                "mongodb",
                json!({"plan": "discovery", "flavor": "db2-2", "networkId": "n1"}),
                "Client::NotFound::NoMatchingAvailability",
            ),
            (
                "cassandra",
                json!({}),
                "Client::NotFound::EngineNameNotFound",
            ),
        ];
        for (engine, changes, want) in cases {
            let mut body = json!({"plan": "production"});
            let mut nodes = json!({"flavor": "db2-4", "number": 3, "region": "GRA"});
            for (key, value) in changes.as_object().unwrap() {
                match key.as_str() {
                    "flavor" | "number" | "region" => nodes[key] = value.clone(),
                    _ => body[key] = value.clone(),
                }
            }
            body["nodesPattern"] = nodes;
            let err = create(engine, body.clone()).unwrap_err();
            assert_eq!(err.class, want, "{body}: {}", err.message);
        }
        let list = |flavor: &str, region: &str| {
            let second = json!({"flavor": flavor, "region": region});
            json!([{"flavor": "db1-7", "region": "GRA"}, second])
        };
        let class = |nodes: Value| {
            create(
                "postgresql",
                json!({"plan": "business", "nodesList": nodes}),
            )
            .unwrap_err()
            .class
        };
        assert_eq!(
            class(list("db1-15", "GRA")),
            "Client::BadRequest::NodesFlavorMismatch"
        );
        assert_eq!(
            class(list("db1-7", "SBG")),
            "Client::BadRequest::NodesRegionMismatch"
        );
    }

    #[test]
    fn redis_has_no_storage_and_a_default_user() {
        let nodes = json!({"flavor": "db2-4", "number": 1, "region": "DE"});
        let s = create(
            "valkey",
            json!({"plan": "essential", "nodesPattern": nodes}),
        )
        .unwrap();
        let json = s.to_json(at(10));
        assert_eq!(json["storage"], Value::Null);
        assert_eq!(json["version"], "8.0");
        assert_eq!(json["endpoints"][0]["scheme"], "rediss");
        assert_eq!(s.users[0].username, "default");
    }

    #[test]
    fn a_flavor_change_updates_the_nodes_and_raises_the_disk() {
        let mut s = mongodb();
        update(&mut s, json!({"flavor": "db2-8"}), at(10)).unwrap();
        assert_eq!(s.lifecycle.status(at(11)), Some("UPDATING"));
        assert_eq!(s.lifecycle.status(at(20)), Some("READY"));
        assert_eq!(s.disk_size, 40);
        assert!(s.nodes.iter().all(|n| n.flavor == "db2-8"));
        assert_eq!(s.nodes[0].lifecycle.status(at(11)), Some("UPDATING"));
    }

    #[test]
    fn a_plan_change_moves_the_node_count_into_range() {
        let nodes = json!({"flavor": "db1-7", "number": 1, "region": "GRA"});
        let mut s = create(
            "postgresql",
            json!({"plan": "essential", "nodesPattern": nodes}),
        )
        .unwrap();
        update(&mut s, json!({"plan": "business"}), at(10)).unwrap();
        assert_eq!(s.active_node_count(at(11)), 2);
        let err = update(&mut s, json!({"plan": "essential"}), at(20)).unwrap_err();
        assert_eq!(err.class, "Client::NotFound::PlanInvalidUpgrade");
    }

    #[test]
    fn updates_refuse_read_only_changes_and_empty_changes() {
        let mut s = mongodb();
        let full = s.to_json(at(10));
        assert_eq!(
            update(&mut s, full.clone(), at(10)).unwrap_err().class,
            "Client::BadRequest::NoUpdate"
        );
        assert_eq!(
            update(&mut s, json!({"engine": "postgresql"}), at(10))
                .unwrap_err()
                .class,
            "Client::BadRequest"
        );
        assert_eq!(
            update(&mut s, json!({"networkId": "abc"}), at(10))
                .unwrap_err()
                .class,
            "Client::BadRequest"
        );
        let mut changed = full;
        changed["description"] = json!("renamed");
        update(&mut s, changed, at(10)).unwrap();
        assert_eq!(s.description, "renamed");
        assert_eq!(
            s.lifecycle.status(at(10)),
            Some("READY"),
            "a description change is immediate"
        );
    }

    #[test]
    fn the_disk_can_be_sent_as_disk_or_storage() {
        let mut s = mongodb();
        let mut body = s.to_json(at(10));
        body["storage"]["size"]["value"] = json!(60);
        update(&mut s, body, at(10)).unwrap();
        assert_eq!(s.disk_size, 60);
        let err = update(
            &mut s,
            json!({"disk": {"size": 70}, "storage": {"size": {"unit": "GB", "value": 80}}}),
            at(30),
        )
        .unwrap_err();
        assert_eq!(err.class, "Client::BadRequest");
    }

    #[test]
    fn mongodb_roles_name_their_database() {
        assert!(check_roles(
            "mongodb",
            &["readWrite@orders".into(), "clusterMonitor@admin".into()]
        )
        .is_ok());
        assert_eq!(
            check_roles("mongodb", &["readWrite".into()])
                .unwrap_err()
                .class,
            "Client::NotFound::RoleNotFound"
        );
        assert_eq!(
            check_roles("mongodb", &["root@orders".into()])
                .unwrap_err()
                .class,
            "Client::NotFound::RoleNotFound"
        );
        assert!(check_roles("postgresql", &["replication".into()]).is_ok());
    }

    #[test]
    fn usernames_refuse_forbidden_characters() {
        assert!(check_username("app_1-x.y").is_ok());
        for name in ["a@b", "a b", "a/b", "a:b"] {
            let err = check_username(name).unwrap_err();
            assert_eq!(
                err.class, "Client::BadRequest::UserInvalidNameFormat",
                "{name}"
            );
            assert_eq!(err.message, "Username cannot contain any of '@:/;'\"'");
        }
    }
}
