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
//!
//! One file per part of the family, in `database/`: `service` (the service: rendering, bodies,
//! create, update, delete), `offer` (the catalogue checks a create or update goes through),
//! `node`, `user`, `ip_restriction`, `availability` (the catalogue routes),
//! `advanced_configuration`, and the `catalogue` itself; `errors` holds the family's error
//! answers. This file holds the state the parts share, the lookups, and the routes. Handlers
//! return `Answer` (`Result<Json<Value>, ApiError>`); the `Engine` extractor answers an engine
//! segment a route does not exist for as an unknown path, before the body is read.

pub mod advanced_configuration;
mod availability;
pub mod catalogue;
mod errors;
mod ip_restriction;
mod node;
mod offer;
mod service;
#[cfg(test)]
mod tests;
mod user;

pub use ip_restriction::normalize_ip_block;

use super::error::ApiError;
use super::lifecycle::Lifecycle;
use super::state::World;
use super::Sandbox;
use axum::extract::{FromRequestParts, OriginalUri, RawPathParams, State};
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, SecondsFormat, Utc};
use errors::service_not_found;
use rand::distr::{Alphanumeric, SampleString};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

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
// Bodies

fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(errors::invalid_body)
}

// ------------------------------------------------------------------------------------------
// Routes

pub fn routes() -> Router<Arc<Sandbox>> {
    use advanced_configuration as advanced;
    use ip_restriction as ip;
    const BASE: &str = "/cloud/project/{serviceName}/database";
    const CLUSTER: &str = "/cloud/project/{serviceName}/database/{engine}/{clusterId}";
    Router::new()
        .route(
            &format!("{BASE}/capabilities"),
            get(availability::capabilities),
        )
        .route(
            &format!("{BASE}/availability"),
            get(availability::availability),
        )
        .route(&format!("{BASE}/service"), get(service::index))
        .route(
            &format!("{BASE}/service/{{clusterId}}"),
            get(service::by_id),
        )
        .route(
            &format!("{BASE}/{{engine}}"),
            get(service::list).post(service::create),
        )
        .route(
            CLUSTER,
            get(service::get).put(service::put).delete(service::remove),
        )
        .route(&format!("{CLUSTER}/node"), get(node::list).post(node::post))
        .route(
            &format!("{CLUSTER}/node/{{nodeId}}"),
            get(node::get).put(node::put).delete(node::remove),
        )
        .route(&format!("{CLUSTER}/user"), get(user::list).post(user::post))
        .route(
            &format!("{CLUSTER}/user/{{userId}}"),
            get(user::get).put(user::put).delete(user::remove),
        )
        .route(
            &format!("{CLUSTER}/user/{{userId}}/credentials/reset"),
            post(user::reset_credentials),
        )
        .route(&format!("{CLUSTER}/roles"), get(user::list_roles))
        .route(
            &format!("{CLUSTER}/advancedConfiguration"),
            get(advanced::get).put(advanced::put),
        )
        .route(
            &format!("{CLUSTER}/capabilities/advancedConfiguration"),
            get(advanced::capabilities),
        )
        .route(
            &format!("{CLUSTER}/ipRestriction"),
            get(ip::list).post(ip::post),
        )
        .route(
            &format!("{CLUSTER}/ipRestriction/{{ipBlock}}"),
            get(ip::get).put(ip::put).delete(ip::remove),
        )
}

type Sb = State<Arc<Sandbox>>;

/// What a route answers: a JSON body, or the error the real API would send (`ApiError`
/// renders itself, status and body).
type Answer = Result<Json<Value>, ApiError>;

/// A void route's answer: 200 with the JSON `null`, as the real API sends (python-ovh decodes
/// every non-204 body as JSON, so an empty body would fail there).
fn done(_: ()) -> Json<Value> {
    Json(Value::Null)
}

/// The `{engine}` segment of a route, checked before the body is read: a segment outside the
/// `EngineEnum`, or outside `E::ONLY` for a route that exists for some engines only, is
/// answered like any unknown path. Handlers take it after their `Path`, so a path that does
/// not decode is refused by `Path` first, as before.
struct Engine<E: Engines = Every>(String, PhantomData<E>);

/// The engines a route exists for.
trait Engines {
    /// `None`: every engine of the `EngineEnum`.
    const ONLY: Option<&'static [&'static str]>;
}

/// Routes every engine has.
enum Every {}
impl Engines for Every {
    const ONLY: Option<&'static [&'static str]> = None;
}

/// Routes only mongodb has (its nodes can be added, changed and removed one by one).
enum MongodbOnly {}
impl Engines for MongodbOnly {
    const ONLY: Option<&'static [&'static str]> = Some(&["mongodb"]);
}

/// `PUT .../user/{userId}`.
enum WithUserUpdate {}
impl Engines for WithUserUpdate {
    const ONLY: Option<&'static [&'static str]> =
        Some(&["mongodb", "postgresql", "redis", "valkey", "opensearch"]);
}

/// `GET .../roles`.
enum WithRoles {}
impl Engines for WithRoles {
    const ONLY: Option<&'static [&'static str]> = Some(&["mongodb", "postgresql"]);
}

impl<S: Send + Sync, E: Engines> FromRequestParts<S> for Engine<E> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let engine = RawPathParams::from_request_parts(parts, state)
            .await
            .ok()
            .and_then(|params| {
                params
                    .iter()
                    .find(|(name, _)| *name == "engine")
                    .map(|(_, value)| value.to_string())
            })
            .unwrap_or_default();
        if catalogue::is_engine_segment(&engine)
            && E::ONLY.is_none_or(|engines| engines.contains(&engine.as_str()))
        {
            Ok(Engine(engine, PhantomData))
        } else {
            let uri = parts
                .extensions
                .get::<OriginalUri>()
                .map_or(&parts.uri, |original| &original.0);
            Err(ApiError::no_route(parts.method.as_str(), uri.path()))
        }
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
