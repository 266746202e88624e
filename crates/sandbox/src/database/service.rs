//! A database service: how it renders (`Service::to_json`, endpoints, capabilities), the
//! bodies of a create and an update, and the create, update and delete themselves, with their
//! routes (`.../{engine}` and `.../{engine}/{clusterId}`, and the engine-less
//! `.../service` index).

use super::availability::check_parameter;
use super::catalogue;
use super::errors::*;
use super::ip_restriction::{ip_json, normalize_ip_list, IpRestrictionInput};
use super::offer::*;
use super::{
    advanced_configuration, done, is_leaving, parse_body, project_mut, project_of, random_tag,
    read_service, timestamp, write_service, Answer, Engine, IpRestriction, Node, Project, RedisAcl,
    Sb, Service, Timing, User,
};
use crate::error::ApiError;
use crate::lifecycle::Lifecycle;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

const DEFAULT_MAINTENANCE_TIME: &str = "22:00:00";
const DEFAULT_BACKUP_TIME: &str = "01:00:00";
const MONGODB_PORT: u16 = 27017;

impl Service {
    pub(super) fn spec(&self) -> Option<&'static catalogue::Engine> {
        catalogue::engine(&self.engine)
    }

    fn has_backups(&self) -> bool {
        self.spec().is_some_and(|e| e.backups)
    }

    fn has_storage(&self) -> bool {
        self.spec().is_none_or(|e| e.storage != "n/a")
    }

    pub(super) fn host(&self) -> String {
        format!(
            "{}-{}-{}.database.cloud.ovh.net",
            self.engine.to_lowercase(),
            &self.id[..8],
            self.host_tag
        )
    }

    pub(super) fn disk_type(&self) -> &'static str {
        catalogue::flavor_named(&self.flavor).map_or("high-speed", |f| f.disk_type())
    }

    pub(super) fn network_type(&self) -> &'static str {
        if self.network_id.is_some() {
            "private"
        } else {
            "public"
        }
    }

    pub(super) fn status(&self, now: DateTime<Utc>) -> String {
        self.lifecycle.status_string(now)
    }

    pub(super) fn ensure_ready(&self, now: DateTime<Utc>) -> Result<(), ApiError> {
        if self.lifecycle.status(now) == Some("READY") {
            Ok(())
        } else {
            Err(service_not_ready(&self.id))
        }
    }

    pub(super) fn visible_nodes(&self, now: DateTime<Utc>) -> impl Iterator<Item = &Node> {
        self.nodes.iter().filter(move |n| !n.lifecycle.is_gone(now))
    }

    /// Nodes that count: neither gone nor being removed.
    pub(super) fn active_node_count(&self, now: DateTime<Utc>) -> u32 {
        self.nodes
            .iter()
            .filter(|n| !n.lifecycle.is_gone(now) && !is_leaving(&n.lifecycle, now))
            .count() as u32
    }

    pub(super) fn user(&self, id: &str, now: DateTime<Utc>) -> Result<&User, ApiError> {
        self.users
            .iter()
            .find(|u| u.id == id && !u.lifecycle.is_gone(now))
            .ok_or_else(|| user_not_found(id))
    }

    pub(super) fn user_mut(&mut self, id: &str, now: DateTime<Utc>) -> Result<&mut User, ApiError> {
        self.users
            .iter_mut()
            .find(|u| u.id == id && !u.lifecycle.is_gone(now))
            .ok_or_else(|| user_not_found(id))
    }

    pub(super) fn node_json(&self, node: &Node, now: DateTime<Utc>) -> Value {
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
    pub(super) fn endpoints(&self, now: DateTime<Utc>) -> Vec<Value> {
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

pub(super) fn endpoint(
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct ServiceCreation {
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
pub(super) struct NodeCreation {
    pub(super) flavor: String,
    pub(super) region: String,
    pub(super) role: Option<String>,
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

impl Service {
    pub(super) fn add_node(&mut self, role: &str, now: DateTime<Utc>, wait: Duration) -> &Node {
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
pub(super) fn build_service(
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
pub(super) struct ServiceUpdate {
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

pub(super) fn update_service(
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

/// `GET .../database/service`: the ids of every engine's services, oldest first.
pub(super) async fn index(
    State(sb): Sb,
    Path(project): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Answer {
    let category = query.get("category").cloned();
    if let Some(c) = &category {
        check_parameter("category", c, &["analysis", "operational", "streaming"])?;
    }
    sb.read(|w, now| {
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
        Ok(Json(json!(ids)))
    })
}

pub(super) async fn by_id(State(sb): Sb, Path((project, id)): Path<(String, String)>) -> Answer {
    sb.read(|w, now| {
        Ok(Json(
            project_of(w, &project)?
                .service(None, &id, now)?
                .to_json(now),
        ))
    })
}

pub(super) async fn list(
    State(sb): Sb,
    Path((project, _)): Path<(String, String)>,
    Engine(engine, ..): Engine,
) -> Answer {
    sb.read(|w, now| {
        let ids: Vec<&str> = project_of(w, &project)?
            .live_services(now)
            .into_iter()
            .filter(|s| s.engine == engine)
            .map(|s| s.id.as_str())
            .collect();
        Ok(Json(json!(ids)))
    })
}

pub(super) async fn create(
    State(sb): Sb,
    Path((project, _)): Path<(String, String)>,
    Engine(engine, ..): Engine,
    body: Bytes,
) -> Answer {
    let timing = Timing::of(&sb);
    let input: ServiceCreation = parse_body(&body)?;
    let answer = sb.write(|w, now| {
        let project = project_mut(w, &project, now)?;
        let service = build_service(&engine, input, &timing, project, now)?;
        let answer = service.to_json(now);
        project.services.insert(service.id.clone(), service);
        Ok(answer)
    })?;
    // The "500 but created" fault: the service exists and is saved, the answer says otherwise.
    if sb.faults.created_but_500() {
        return Err(ApiError::internal());
    }
    Ok(Json(answer))
}

pub(super) async fn get(
    State(sb): Sb,
    Path((project, _, id)): Path<(String, String, String)>,
    Engine(engine, ..): Engine,
) -> Answer {
    read_service(&sb, &project, &engine, &id, |s, now| {
        Ok(Json(s.to_json(now)))
    })
}

pub(super) async fn put(
    State(sb): Sb,
    Path((project, _, id)): Path<(String, String, String)>,
    Engine(engine, ..): Engine,
    body: Bytes,
) -> Answer {
    let input: ServiceUpdate = parse_body(&body)?;
    write_service(&sb, &project, &engine, &id, |s, timing, now| {
        update_service(s, input, timing, now)?;
        Ok(Json(s.to_json(now)))
    })
}

pub(super) async fn remove(
    State(sb): Sb,
    Path((project, _, id)): Path<(String, String, String)>,
    Engine(engine, ..): Engine,
) -> Answer {
    write_service(&sb, &project, &engine, &id, delete_service).map(done)
}
