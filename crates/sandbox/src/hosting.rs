//! Web Hosting (`/hosting/web/...`): the service, attached domains, the hosted SSL certificate,
//! hosting databases and the tasks every write starts, shaped after the real OpenAPI schema
//! (`webhosting.json`: `hosting.web.ServiceWithIAM`, `attachedDomain.PublicAttachedDomain`,
//! `hosting.web.SSL`, `hosting.web.database`, `hosting.web.PublicTask`, ...).
//!
//! How writes behave (see `task` for the timeline): POST/PUT/DELETE on an attached domain or a
//! database, and every SSL write, start a task (`todo -> doing -> done`, then 404) and put the
//! object in a transitional status (`creating`, `updating`, `deleting`, `regenerating`,
//! `importing`) with its `taskId` until the task's work is done; then it is `created` (or gone).
//! A write on an object whose task is still running answers `409 Client::Conflict::TaskInProgress`.
//! Every answer carries every property of its model, `null` where the model allows it, as the
//! real API does. Void routes answer `200` with a `null` body.
//!
//! One file per part: `service` (identity derived from the name, the Service model),
//! `attached_domain`, `ssl`, `database` (hosting databases), `task`, `request` (body and query
//! parsing, `like` filters, error wording).

mod attached_domain;
mod database;
pub(crate) mod request;
mod service;
mod ssl;
pub(crate) mod task;

pub use attached_domain::AttachedDomain;
pub use database::HostingDatabase;
pub use service::Identity;
pub use ssl::HostedSsl;
pub use task::Task;

use super::error::ApiError;
use super::lifecycle::Lifecycle;
use super::state::World;
use super::Sandbox;
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// One Web Hosting service and everything under it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hosting {
    pub service_name: String,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub display_name: Option<String>,
    /// By domain (FQDN).
    #[serde(default)]
    pub attached_domains: BTreeMap<String, AttachedDomain>,
    /// By database name (`{user}.mysql.db`, ...).
    #[serde(default)]
    pub databases: BTreeMap<String, HostingDatabase>,
    #[serde(default)]
    pub ssl: Option<HostedSsl>,
    /// By task id.
    #[serde(default)]
    pub tasks: BTreeMap<u64, Task>,
}

impl Hosting {
    /// A hosting as OVH delivers it: no SSL, no database, its default domain attached to `www`.
    pub fn new(name: &str, now: DateTime<Utc>) -> Hosting {
        let identity = Identity::of(name);
        let default_domain = AttachedDomain::new(
            &identity.default_attached_domain,
            "www",
            Lifecycle::settled("created"),
        );
        Hosting {
            service_name: name.to_string(),
            created_at: now,
            display_name: None,
            attached_domains: BTreeMap::from([(default_domain.domain.clone(), default_domain)]),
            databases: BTreeMap::new(),
            ssl: None,
            tasks: BTreeMap::new(),
        }
    }

    pub fn identity(&self) -> Identity {
        Identity::of(&self.service_name)
    }

    /// Starts a task and returns it.
    fn start_task(
        &mut self,
        id: u64,
        function: &str,
        object_type: &str,
        object_id: &str,
        now: DateTime<Utc>,
        wait: Duration,
    ) -> Task {
        let task = Task::start(id, function, object_type, object_id, now, wait);
        self.tasks.insert(id, task.clone());
        task
    }

    /// Forgets what is gone at `now`: finished tasks, removed domains, databases, certificate.
    fn prune(&mut self, now: DateTime<Utc>) {
        self.tasks.retain(|_, t| t.status(now).is_some());
        self.attached_domains.retain(|_, d| d.status(now).is_some());
        self.databases.retain(|_, d| d.status(now).is_some());
        if self.ssl.as_ref().is_some_and(|s| s.status(now).is_none()) {
            self.ssl = None;
        }
    }
}

/// Every (method, path template) this family serves, as written in `webhosting.json`.
/// The schema test walks each of them.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/hosting/web"),
    ("GET", "/hosting/web/attachedDomain"),
    ("GET", "/hosting/web/{serviceName}"),
    ("PUT", "/hosting/web/{serviceName}"),
    ("GET", "/hosting/web/{serviceName}/attachedDomain"),
    ("POST", "/hosting/web/{serviceName}/attachedDomain"),
    ("GET", "/hosting/web/{serviceName}/attachedDomain/{domain}"),
    ("PUT", "/hosting/web/{serviceName}/attachedDomain/{domain}"),
    (
        "DELETE",
        "/hosting/web/{serviceName}/attachedDomain/{domain}",
    ),
    (
        "GET",
        "/hosting/web/{serviceName}/attachedDomain/{domain}/digStatus",
    ),
    (
        "POST",
        "/hosting/web/{serviceName}/attachedDomain/{domain}/purgeCache",
    ),
    (
        "POST",
        "/hosting/web/{serviceName}/attachedDomain/{domain}/restart",
    ),
    ("GET", "/hosting/web/{serviceName}/ssl"),
    ("POST", "/hosting/web/{serviceName}/ssl"),
    ("DELETE", "/hosting/web/{serviceName}/ssl"),
    ("GET", "/hosting/web/{serviceName}/ssl/domains"),
    ("POST", "/hosting/web/{serviceName}/ssl/regenerate"),
    ("GET", "/hosting/web/{serviceName}/ssl/report"),
    ("GET", "/hosting/web/{serviceName}/database"),
    ("POST", "/hosting/web/{serviceName}/database"),
    ("GET", "/hosting/web/{serviceName}/database/{name}"),
    ("DELETE", "/hosting/web/{serviceName}/database/{name}"),
    (
        "POST",
        "/hosting/web/{serviceName}/database/{name}/changePassword",
    ),
    ("GET", "/hosting/web/{serviceName}/databaseAvailableType"),
    ("GET", "/hosting/web/{serviceName}/databaseAvailableVersion"),
    (
        "GET",
        "/hosting/web/{serviceName}/databaseCreationCapabilities",
    ),
    ("GET", "/hosting/web/{serviceName}/tasks"),
    ("GET", "/hosting/web/{serviceName}/tasks/{id}"),
];

pub fn routes() -> Router<Arc<Sandbox>> {
    const SN: &str = "/hosting/web/{serviceName}";
    let at = |suffix: &str| format!("{SN}{suffix}");
    Router::new()
        .route("/hosting/web", get(service::list))
        .route(
            "/hosting/web/attachedDomain",
            get(service::find_by_attached_domain),
        )
        .route(SN, get(service::get).put(service::put))
        .route(
            &at("/attachedDomain"),
            get(attached_domain::list).post(attached_domain::create),
        )
        .route(
            &at("/attachedDomain/{domain}"),
            get(attached_domain::get)
                .put(attached_domain::update)
                .delete(attached_domain::delete),
        )
        .route(
            &at("/attachedDomain/{domain}/digStatus"),
            get(attached_domain::dig_status),
        )
        .route(
            &at("/attachedDomain/{domain}/purgeCache"),
            post(attached_domain::purge_cache),
        )
        .route(
            &at("/attachedDomain/{domain}/restart"),
            post(attached_domain::restart),
        )
        .route(
            &at("/ssl"),
            get(ssl::get).post(ssl::create).delete(ssl::delete),
        )
        .route(&at("/ssl/domains"), get(ssl::domains))
        .route(&at("/ssl/regenerate"), post(ssl::regenerate))
        .route(&at("/ssl/report"), get(ssl::report))
        .route(&at("/database"), get(database::list).post(database::create))
        .route(
            &at("/database/{name}"),
            get(database::get).delete(database::delete),
        )
        .route(
            &at("/database/{name}/changePassword"),
            post(database::change_password),
        )
        .route(
            &at("/databaseAvailableType"),
            get(database::available_types),
        )
        .route(
            &at("/databaseAvailableVersion"),
            get(database::available_versions),
        )
        .route(
            &at("/databaseCreationCapabilities"),
            get(database::creation_capabilities),
        )
        .route(&at("/tasks"), get(tasks::list))
        .route(&at("/tasks/{id}"), get(tasks::get))
}

/// The hosting named `name`, or the real "This service does not exist".
fn find<'a>(world: &'a World, name: &str) -> Result<&'a Hosting, ApiError> {
    world
        .hostings
        .get(name)
        .ok_or_else(ApiError::service_does_not_exist)
}

/// The hosting named `name` for a write, with what is gone already forgotten.
fn find_mut<'a>(
    world: &'a mut World,
    name: &str,
    now: DateTime<Utc>,
) -> Result<&'a mut Hosting, ApiError> {
    let hosting = world
        .hostings
        .get_mut(name)
        .ok_or_else(ApiError::service_does_not_exist)?;
    hosting.prune(now);
    Ok(hosting)
}

/// `404 Client::NotFound` "The requested object (key = value) does not exist".
fn object_not_found(key: &str, value: &str) -> ApiError {
    ApiError::not_found(
        "",
        format!("The requested object ({key} = {value}) does not exist"),
    )
}

/// `409` for a write on an object whose task is still running.
fn task_in_progress(what: &str, task: Option<&Task>, now: DateTime<Utc>) -> ApiError {
    let running = match task {
        Some(t) => format!(
            "task {} ({}, {})",
            t.id,
            t.function,
            t.status(now).unwrap_or("done")
        ),
        None => "a task".to_string(),
    };
    ApiError::conflict(
        "TaskInProgress",
        format!("{what} is busy with {running}; wait for that task to finish, then retry"),
    )
}

/// The task routes.
mod tasks {
    use super::request::{passes, QueryString};
    use super::{find, object_not_found};
    use crate::error::ApiError;
    use crate::Sandbox;
    use axum::extract::{Path, RawQuery, State};
    use axum::Json;
    use serde_json::{json, Value};
    use std::sync::Arc;

    /// `GET /hosting/web/{serviceName}/tasks?function=&status=`: ids of the tasks still known.
    pub async fn list(
        State(sandbox): State<Arc<Sandbox>>,
        Path(name): Path<String>,
        RawQuery(query): RawQuery,
    ) -> Result<Json<Value>, ApiError> {
        let query = QueryString::parse(query.as_deref())?;
        sandbox.read(|w, now| {
            let hosting = find(w, &name)?;
            let status = query.enumeration(
                "status",
                super::task::STATUSES,
                "hosting.web.task.StatusEnum",
            )?;
            let ids: Vec<u64> = hosting
                .tasks
                .values()
                .filter(|t| passes(query.get("function"), &t.function))
                .filter(|t| {
                    t.status(now)
                        .is_some_and(|s| status.is_none_or(|want| want == s))
                })
                .map(|t| t.id)
                .collect();
            Ok(Json(json!(ids)))
        })
    }

    /// `GET /hosting/web/{serviceName}/tasks/{id}`: the task, 404 once it is over.
    pub async fn get(
        State(sandbox): State<Arc<Sandbox>>,
        Path((name, id)): Path<(String, String)>,
    ) -> Result<Json<Value>, ApiError> {
        sandbox.read(|w, now| {
            let hosting = find(w, &name)?;
            let task = id
                .parse::<u64>()
                .ok()
                .and_then(|id| hosting.tasks.get(&id))
                .filter(|t| t.status(now).is_some())
                .ok_or_else(|| object_not_found("id", &id))?;
            Ok(Json(task.to_json(now)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_hosting_has_its_default_domain_and_round_trips_through_the_state_file() {
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let mut hosting = Hosting::new("h1.cluster021.hosting.ovh.net", now);
        assert_eq!(
            hosting.attached_domains.keys().collect::<Vec<_>>(),
            ["h1.cluster021.hosting.ovh.net"]
        );
        hosting.start_task(
            3,
            "attachedDomain/create",
            "AttachedDomain",
            "a.fr",
            now,
            Duration::from_secs(1),
        );
        let text = serde_json::to_string(&hosting).unwrap();
        let back: Hosting = serde_json::from_str(&text).unwrap();
        assert_eq!(back.tasks, hosting.tasks);
        assert_eq!(back.attached_domains, hosting.attached_domains);
        hosting.prune(now + chrono::Duration::seconds(2));
        assert!(hosting.tasks.is_empty());
    }
}
