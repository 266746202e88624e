//! Users of a database service: the engine-specific shapes (`UserWithRoles`, `User`,
//! `redis.User`, `opensearch.User`), name and role checks, create, update (some engines),
//! credential resets and deletion (built-in users cannot be deleted).

use super::errors::{invalid_body, no_update, read_only, user_already_exists};
use super::{
    done, is_leaving, parse_body, random_password, read_service, timestamp, write_service, Answer,
    Engine, OpensearchAcl, RedisAcl, Sb, Service, Timing, User, WithRoles, WithUserUpdate,
};
use crate::error::ApiError;
use crate::lifecycle::Lifecycle;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::Duration;

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
    pub(super) fn new(username: String, now: DateTime<Utc>, wait: Duration) -> Self {
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
    pub(super) fn to_json(
        &self,
        engine: &str,
        now: DateTime<Utc>,
        password: Option<&str>,
    ) -> Value {
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

pub(super) fn check_username(name: &str) -> Result<(), ApiError> {
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
pub(super) fn check_roles(engine: &str, roles: &[String]) -> Result<(), ApiError> {
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

pub(super) async fn list(
    State(sb): Sb,
    Path((project, _, id)): Path<(String, String, String)>,
    Engine(engine, ..): Engine,
) -> Answer {
    read_service(&sb, &project, &engine, &id, |s, now| {
        Ok(Json(json!(s
            .users
            .iter()
            .filter(|u| !u.lifecycle.is_gone(now))
            .map(|u| u.id.as_str())
            .collect::<Vec<_>>())))
    })
}

pub(super) async fn post(
    State(sb): Sb,
    Path((project, _, id)): Path<(String, String, String)>,
    Engine(engine, ..): Engine,
    body: Bytes,
) -> Answer {
    let answer = write_service(&sb, &project, &engine, &id, |s, timing, now| {
        let user = build_user(s, &body, timing, now)?;
        let answer = user.to_json(&engine, now, Some(&random_password()));
        s.users.push(user);
        Ok(answer)
    })?;
    // The "500 but created" fault (https://github.com/ovh/terraform-provider-ovh/issues/1306): the
    // user exists, the answer says otherwise.
    if sb.faults.created_but_500() {
        return Err(ApiError::internal());
    }
    Ok(Json(answer))
}

pub(super) async fn get(
    State(sb): Sb,
    Path((project, _, id, user_id)): Path<(String, String, String, String)>,
    Engine(engine, ..): Engine,
) -> Answer {
    read_service(&sb, &project, &engine, &id, |s, now| {
        Ok(Json(s.user(&user_id, now)?.to_json(&engine, now, None)))
    })
}

pub(super) async fn put(
    State(sb): Sb,
    Path((project, _, id, user_id)): Path<(String, String, String, String)>,
    Engine(engine, ..): Engine<WithUserUpdate>,
    body: Bytes,
) -> Answer {
    let input: UserUpdate = parse_body(&body)?;
    write_service(&sb, &project, &engine, &id, |s, timing, now| {
        update_user(s, &user_id, input, timing, now)
    })
    .map(Json)
}

pub(super) async fn remove(
    State(sb): Sb,
    Path((project, _, id, user_id)): Path<(String, String, String, String)>,
    Engine(engine, ..): Engine,
) -> Answer {
    write_service(&sb, &project, &engine, &id, |s, timing, now| {
        delete_user(s, &user_id, timing, now)
    })
    .map(done)
}

pub(super) async fn reset_credentials(
    State(sb): Sb,
    Path((project, _, id, user_id)): Path<(String, String, String, String)>,
    Engine(engine, ..): Engine,
) -> Answer {
    write_service(&sb, &project, &engine, &id, |s, _, now| {
        s.ensure_ready(now)?;
        Ok(Json(s.user(&user_id, now)?.to_json(
            &engine,
            now,
            Some(&random_password()),
        )))
    })
}

pub(super) async fn list_roles(
    State(sb): Sb,
    Path((project, _, id)): Path<(String, String, String)>,
    Engine(engine, ..): Engine<WithRoles>,
) -> Answer {
    read_service(&sb, &project, &engine, &id, |s, _| {
        Ok(Json(json!(roles_of(&s.engine).unwrap_or_default())))
    })
}
