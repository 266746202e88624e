//! Hosting databases (`/hosting/web/{serviceName}/database...`, `hosting.web.database`) and the
//! discovery routes `databaseCreationCapabilities`, `databaseAvailableType`,
//! `databaseAvailableVersion`.
//!
//! Lifecycle: POST -> `creating` -> `created` (task `database/create`); `changePassword` ->
//! `updating` -> `created` (`database/changePassword`); DELETE -> `deleting` -> gone
//! (`database/delete`). `state` is `ok` throughout. Passwords are checked, never stored, never
//! answered.
//!
//! Sandbox rules where the real API is silent:
//! - the name is `{user}.mysql.db` for mysql and mariadb, `{user}.postgres.db` for postgresql,
//!   `{user}.redis.db` for redis (the schema's own examples are `mydb.mysql.db` and
//!   `mydb.postgres.db`); a shared database's `server` is its name, as on the real clusters;
//! - `user` is lower-case letters and digits, starts with the hosting's `primaryLogin`, and is at
//!   most 16 characters long;
//! - the hosting offers `sqlPerso` (3 mysql databases of 1024 MB), `extraSqlPerso` (5 mysql
//!   databases, `quota` from the ExtraSqlQuotaEnum, 25 MB when not given) and
//!   `privateDatabase` (1 database, mariadb/mysql/postgresql/redis, 512 MB); `quota` is refused
//!   for anything but `extraSqlPerso`;
//! - versions: mysql 5.7/8.0/8.4 (default 8.0), mariadb 10.6/10.11 (10.11), postgresql
//!   12/13/15 (15), redis 6.0/7.0 (7.0); 5.7 and 12 are `deprecated`, the others `stable`;
//! - a password is 8 to 30 printable ASCII characters with a lower-case letter, an upper-case
//!   letter and a digit, and no space, quote or backslash.

use super::request::{passes, Body, Handler, QueryString};
use super::{find, find_mut, object_not_found, task_in_progress, Hosting, Identity};
use crate::error::ApiError;
use crate::lifecycle::Lifecycle;
use crate::Sandbox;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::sync::Arc;

/// A kind of database the hosting can create (`databaseCreationCapabilities`).
struct Capability {
    name: &'static str,
    engines: &'static [&'static str],
    isolation: &'static str,
    quota_mb: i64,
    count: usize,
    /// `hosting.web.database.DatabaseServiceTypeEnum`.
    service_type: &'static str,
}

const CAPABILITIES: &[Capability] = &[
    Capability {
        name: "sqlPerso",
        engines: &["mysql"],
        isolation: "shared",
        quota_mb: 1024,
        count: 3,
        service_type: "included",
    },
    Capability {
        name: "extraSqlPerso",
        engines: &["mysql"],
        isolation: "shared",
        quota_mb: 1024,
        count: 5,
        service_type: "extra",
    },
    Capability {
        name: "privateDatabase",
        engines: &["mariadb", "mysql", "postgresql", "redis"],
        isolation: "dedicated",
        quota_mb: 512,
        count: 1,
        service_type: "optional",
    },
];

const CAPABILITY_ENUM: &[&str] = &[
    "extraSqlPerso",
    "local",
    "privateDatabase",
    "sqlLocal",
    "sqlPerso",
    "sqlPro",
];
const CREATION_TYPES: &[&str] = &["mariadb", "mysql", "postgresql", "redis"];
const TYPES: &[&str] = &["mariadb", "mongodb", "mysql", "postgresql", "redis"];
const MODES: &[&str] = &["besteffort", "classic", "module"];
const EXTRA_QUOTAS: &[i64] = &[25, 100, 200, 256, 400, 512, 800, 1024];
const VERSION_ENUM: &[&str] = &[
    "10", "10.1", "10.11", "10.2", "10.3", "10.4", "10.5", "10.6", "11", "12", "13", "15", "3.2",
    "3.4", "4.0", "5.1", "5.5", "5.6", "5.7", "6.0", "7.0", "8.0", "8.4", "9.4", "9.5", "9.6",
];

/// (default, all) versions a type can be created with.
fn versions(engine: &str) -> Option<(&'static str, &'static [&'static str])> {
    match engine {
        "mysql" => Some(("8.0", &["5.7", "8.0", "8.4"])),
        "mariadb" => Some(("10.11", &["10.6", "10.11"])),
        "postgresql" => Some(("15", &["12", "13", "15"])),
        "redis" => Some(("7.0", &["6.0", "7.0"])),
        _ => None,
    }
}

fn capability(name: &str) -> Option<&'static Capability> {
    CAPABILITIES.iter().find(|c| c.name == name)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HostingDatabase {
    pub name: String,
    pub user: String,
    /// `mysql`, `mariadb`, `postgresql` or `redis`.
    #[serde(rename = "type")]
    pub engine: String,
    pub version: String,
    /// The `capabilitie` it was created with.
    pub capability: String,
    pub quota_mb: i64,
    pub server: String,
    pub port: u16,
    pub lifecycle: Lifecycle,
    pub task_id: Option<u64>,
    /// When creation finished (the first `lastCheck`).
    pub ready_at: DateTime<Utc>,
}

impl HostingDatabase {
    pub fn status(&self, now: DateTime<Utc>) -> Option<&str> {
        self.lifecycle.status(now)
    }

    /// The database as `hosting.web.database`.
    pub fn to_json(&self, now: DateTime<Utc>, identity: &Identity) -> Value {
        let shared_sql = matches!(self.engine.as_str(), "mysql" | "mariadb")
            && self.capability != "privateDatabase";
        json!({
            "databaseServiceDeprecated": false,
            "databaseType": capability(&self.capability).map(|c| c.service_type),
            "dumps": 0,
            "guiURL": shared_sql.then(|| format!("https://phpmyadmin.{}.hosting.ovh.net/", identity.cluster)),
            "lastCheck": (now >= self.ready_at).then(|| super::task::date(self.ready_at)),
            "mode": "classic",
            "name": self.name,
            "port": self.port,
            "quotaSize": { "unit": "MB", "value": self.quota_mb as f64 },
            "quotaUsed": { "unit": "MB", "value": 0.0 },
            "server": self.server,
            "state": "ok",
            "status": self.lifecycle.status_string(now),
            "taskId": self.task_id.filter(|_| self.lifecycle.is_busy(now)),
            "type": self.engine,
            "user": self.user,
            "version": self.version,
            "versionSupport": if matches!(self.version.as_str(), "5.7" | "12") { "deprecated" } else { "stable" },
        })
    }
}

/// The database name the sandbox derives from a user (see the module doc).
pub fn database_name(user: &str, engine: &str) -> String {
    let suffix = match engine {
        "postgresql" => "postgres",
        "redis" => "redis",
        _ => "mysql",
    };
    format!("{user}.{suffix}.db")
}

fn check_user(user: &str, primary_login: &str) -> Result<(), ApiError> {
    let refuse = |why: String| ApiError::bad_request("", format!("[user] {why}"));
    if user != user.to_lowercase() {
        return Err(refuse(format!("The user {user} must be in lower case")));
    }
    if !user.starts_with(primary_login) {
        return Err(refuse(format!(
            "The user {user} must begin with your hosting login ({primary_login})"
        )));
    }
    if !user
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    {
        return Err(refuse(format!(
            "The user {user} may only contain letters and digits"
        )));
    }
    if user.len() > 16 {
        return Err(refuse(format!(
            "The user {user} is longer than 16 characters"
        )));
    }
    Ok(())
}

fn check_password(password: &str) -> Result<(), ApiError> {
    let printable = password
        .chars()
        .all(|c| c.is_ascii_graphic() && !"'\"\\`".contains(c));
    let strong = (8..=30).contains(&password.len())
        && printable
        && password.chars().any(|c| c.is_ascii_lowercase())
        && password.chars().any(|c| c.is_ascii_uppercase())
        && password.chars().any(|c| c.is_ascii_digit());
    if strong {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "",
            "[password] The password must be 8 to 30 characters long, with at least one lower-case letter, one upper-case letter and one digit, and no space, quote or backslash",
        ))
    }
}

fn used(hosting: &Hosting, capability: &str, now: DateTime<Utc>) -> usize {
    hosting
        .databases
        .values()
        .filter(|d| d.capability == capability && d.status(now).is_some())
        .count()
}

/// The database `name` of `hosting`, unless it is gone.
fn existing<'a>(
    hosting: &'a Hosting,
    name: &str,
    now: DateTime<Utc>,
) -> Result<&'a HostingDatabase, ApiError> {
    hosting
        .databases
        .get(name)
        .filter(|d| d.status(now).is_some())
        .ok_or_else(|| object_not_found("name", name))
}

fn idle_mut<'a>(
    hosting: &'a mut Hosting,
    name: &str,
    now: DateTime<Utc>,
) -> Result<&'a mut HostingDatabase, ApiError> {
    let found = existing(hosting, name, now)?;
    if found.lifecycle.is_busy(now) {
        let task = found.task_id.and_then(|id| hosting.tasks.get(&id));
        return Err(task_in_progress(&format!("Database {name}"), task, now));
    }
    Ok(hosting.databases.get_mut(name).expect("checked above"))
}

/// `GET .../database?mode=&name=&server=&type=&user=`.
pub async fn list(
    State(sandbox): State<Arc<Sandbox>>,
    Path(service): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let query = QueryString::parse(query.as_deref())?;
    sandbox.read(|w, now| {
        let hosting = find(w, &service)?;
        let mode = query.enumeration("mode", MODES, "hosting.web.database.ModeEnum")?;
        let engine = query.enumeration("type", TYPES, "hosting.web.database.DatabaseTypeEnum")?;
        let names: Vec<&str> = hosting
            .databases
            .values()
            .filter(|d| d.status(now).is_some())
            .filter(|d| mode.is_none_or(|m| m == "classic") && engine.is_none_or(|e| e == d.engine))
            .filter(|d| passes(query.get("name"), &d.name))
            .filter(|d| passes(query.get("server"), &d.server))
            .filter(|d| passes(query.get("user"), &d.user))
            .map(|d| d.name.as_str())
            .collect();
        Ok(Json(json!(names)))
    })
}

/// `POST .../database`: answers the `database/create` task.
pub async fn create(
    State(sandbox): State<Arc<Sandbox>>,
    Path(service): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let wait = sandbox.ready_after();
    sandbox.write(|w, now| {
        find(w, &service)?;
        let body = Body::parse(&body, &["capabilitie", "password", "quota", "type", "user", "version"], Handler::Creation)?;
        let cap_name = Body::required(
            "capabilitie",
            body.enumeration("capabilitie", CAPABILITY_ENUM, "hosting.web.database.DatabaseCapabilitiesTypeEnum")?,
        )?;
        let engine = Body::required(
            "type",
            body.enumeration("type", CREATION_TYPES, "hosting.web.database.DatabaseCreationTypeEnum")?,
        )?;
        let user = Body::required("user", body.string("user")?)?;
        let quota = body.integer("quota")?.value();
        let version = body.enumeration("version", VERSION_ENUM, "hosting.web.database.VersionEnum")?.value();
        let password = body.string("password")?.value();

        let cap = capability(&cap_name).ok_or_else(|| {
            let offered: Vec<&str> = CAPABILITIES.iter().map(|c| c.name).collect();
            ApiError::bad_request(
                "",
                format!("[capabilitie] This hosting cannot create {cap_name} databases (it offers {})", offered.join(", ")),
            )
        })?;
        if !cap.engines.contains(&engine.as_str()) {
            return Err(ApiError::bad_request(
                "",
                format!("[type] A {cap_name} database cannot be {engine} (possible: {})", cap.engines.join(", ")),
            ));
        }
        let identity = find(w, &service)?.identity();
        check_user(&user, &identity.primary_login)?;
        let quota_mb = match (quota, cap.name) {
            (Some(q), "extraSqlPerso") if EXTRA_QUOTAS.contains(&q) => q,
            (Some(q), "extraSqlPerso") => {
                return Err(ApiError::bad_request(
                    "",
                    format!("[quota] Given data ({q}) does not belong to the hosting.web.database.ExtraSqlQuotaEnum enumeration"),
                ))
            }
            (None, "extraSqlPerso") => 25,
            (Some(_), _) => {
                return Err(ApiError::bad_request("", "[quota] Only extraSqlPerso databases take a quota"));
            }
            (None, _) => cap.quota_mb,
        };
        let (default_version, available) = versions(&engine).expect("every creation type has versions");
        let version = version.unwrap_or_else(|| default_version.to_string());
        if !available.contains(&version.as_str()) {
            return Err(ApiError::bad_request(
                "",
                format!("[version] Version {version} is not available for {engine} (available: {})", available.join(", ")),
            ));
        }
        if let Some(password) = &password {
            check_password(password)?;
        }

        let name = database_name(&user, &engine);
        let task_id = w.next_id();
        let hosting = find_mut(w, &service, now)?;
        if hosting.databases.contains_key(&name) {
            return Err(ApiError::conflict("", format!("The database {name} already exists")));
        }
        if used(hosting, cap.name, now) >= cap.count {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "Client::Forbidden",
                format!("This hosting has no {} database left ({} in use)", cap.name, cap.count),
            ));
        }
        let (server, port) = if cap.name == "privateDatabase" {
            let port = 35000 + u16::from_str_radix(&identity.digest[..3], 16).unwrap_or(0) % 1000;
            (format!("{}-{engine}.eu.clouddb.ovh.net", identity.primary_login), port)
        } else {
            let port = match engine.as_str() {
                "postgresql" => 5432,
                "redis" => 6379,
                _ => 3306,
            };
            (name.clone(), port)
        };
        let lifecycle = Lifecycle::starting("creating", "created", now, wait);
        let ready_at = lifecycle.busy_until(now).unwrap_or(now);
        hosting.databases.insert(
            name.clone(),
            HostingDatabase {
                name: name.clone(),
                user,
                engine,
                version,
                capability: cap.name.to_string(),
                quota_mb,
                server,
                port,
                lifecycle,
                task_id: Some(task_id),
                ready_at,
            },
        );
        let task = hosting.start_task(task_id, "database/create", "Database", &name, now, wait);
        Ok(Json(task.to_json(now)))
    })
}

/// `GET .../database/{name}` (never the password).
pub async fn get(
    State(sandbox): State<Arc<Sandbox>>,
    Path((service, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    sandbox.read(|w, now| {
        let hosting = find(w, &service)?;
        Ok(Json(
            existing(hosting, &name, now)?.to_json(now, &hosting.identity()),
        ))
    })
}

/// `DELETE .../database/{name}`: answers the `database/delete` task.
pub async fn delete(
    State(sandbox): State<Arc<Sandbox>>,
    Path((service, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let wait = sandbox.ready_after();
    sandbox.write(|w, now| {
        find(w, &service)?;
        let task_id = w.next_id();
        let hosting = find_mut(w, &service, now)?;
        let database = idle_mut(hosting, &name, now)?;
        database.lifecycle.begin_removal("deleting", now, wait);
        database.task_id = Some(task_id);
        let task = hosting.start_task(task_id, "database/delete", "Database", &name, now, wait);
        Ok(Json(task.to_json(now)))
    })
}

/// `POST .../database/{name}/changePassword {password}`: answers the `database/changePassword` task.
pub async fn change_password(
    State(sandbox): State<Arc<Sandbox>>,
    Path((service, name)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let wait = sandbox.ready_after();
    sandbox.write(|w, now| {
        find(w, &service)?;
        let body = Body::parse(&body, &["password"], Handler::Action)?;
        let password = Body::required("password", body.string("password")?)?;
        let task_id = w.next_id();
        let hosting = find_mut(w, &service, now)?;
        let database = idle_mut(hosting, &name, now)?;
        check_password(&password)?;
        database.lifecycle.begin("updating", now, wait);
        database.task_id = Some(task_id);
        let task = hosting.start_task(
            task_id,
            "database/changePassword",
            "Database",
            &name,
            now,
            wait,
        );
        Ok(Json(task.to_json(now)))
    })
}

/// `GET .../databaseCreationCapabilities`: what can still be created.
pub async fn creation_capabilities(
    State(sandbox): State<Arc<Sandbox>>,
    Path(service): Path<String>,
) -> Result<Json<Value>, ApiError> {
    sandbox.read(|w, now| {
        let hosting = find(w, &service)?;
        let list: Vec<Value> = CAPABILITIES
            .iter()
            .map(|c| {
                json!({
                    "available": c.count.saturating_sub(used(hosting, c.name, now)),
                    "engines": c.engines,
                    "isolation": c.isolation,
                    "quota": { "unit": "MB", "value": c.quota_mb },
                    "type": c.name,
                })
            })
            .collect();
        Ok(Json(json!(list)))
    })
}

/// `GET .../databaseAvailableType`: the types some capability can create.
pub async fn available_types(
    State(sandbox): State<Arc<Sandbox>>,
    Path(service): Path<String>,
) -> Result<Json<Value>, ApiError> {
    sandbox.read(|w, _| {
        find(w, &service)?;
        let types: Vec<&str> = TYPES
            .iter()
            .copied()
            .filter(|t| CAPABILITIES.iter().any(|c| c.engines.contains(t)))
            .collect();
        Ok(Json(json!(types)))
    })
}

/// `GET .../databaseAvailableVersion?type=`: `{default, list}` for a type.
pub async fn available_versions(
    State(sandbox): State<Arc<Sandbox>>,
    Path(service): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let query = QueryString::parse(query.as_deref())?;
    sandbox.read(|w, _| {
        find(w, &service)?;
        let engine = query
            .enumeration("type", TYPES, "hosting.web.database.DatabaseTypeEnum")?
            .ok_or_else(|| super::request::mandatory("type"))?;
        let (default, list) = versions(engine).ok_or_else(|| {
            ApiError::bad_request(
                "",
                format!("[type] No {engine} database can be created on this hosting"),
            )
        })?;
        Ok(Json(json!({ "default": default, "list": list })))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_start_with_the_login_and_are_lower_case() {
        assert!(check_user("h1blog", "h1").is_ok());
        assert!(check_user("h1", "h1").is_ok());
        assert_eq!(
            check_user("H1blog", "h1").unwrap_err().message,
            "[user] The user H1blog must be in lower case"
        );
        assert!(check_user("blog", "h1").is_err());
        assert!(check_user("h1_blog", "h1").is_err());
        assert!(check_user("h1abcdefghijklmnop", "h1").is_err());
    }

    #[test]
    fn passwords_need_three_kinds_of_characters() {
        assert!(check_password("Sandbox2024").is_ok());
        assert!(check_password("S4ndbox!#").is_ok());
        for weak in [
            "short1A",
            "alllowercase1",
            "ALLUPPER1",
            "NoDigitsHere",
            "Has space1A",
            "Quote'1Aaaa",
        ] {
            assert!(check_password(weak).is_err(), "{weak}");
        }
    }

    #[test]
    fn names_follow_the_engine() {
        assert_eq!(database_name("h1blog", "mysql"), "h1blog.mysql.db");
        assert_eq!(database_name("h1blog", "mariadb"), "h1blog.mysql.db");
        assert_eq!(database_name("h1blog", "postgresql"), "h1blog.postgres.db");
    }
}
