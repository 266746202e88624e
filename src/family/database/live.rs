//! Public Cloud Databases, read live: the services of one engine in one project (list, then
//! each service), the users of the services a `DatabaseUser` manifest needs (list, then each
//! user), and a project's catalogue (`availability`, one call), mapped to `LiveService`,
//! `LiveUser` and `Offer`.
//!
//! Mapping choices: the region is the first node's (the Terraform provider does the same; the
//! S-2024 schema, see `docs/sandbox.md`, also had a top-level `region`, used when there are no
//! nodes); the node count is the nodes not being deleted (`nodeNumber` when the answer has no
//! `nodes`); storage is `storage.size` in GB, else the deprecated `disk.size`, and a size of 0
//! (engines without configurable disk) is `None`.

use crate::family::database::{
    availability_path, index_entry_path, index_path, service_path, services_path, user_path,
    users_path,
};
use crate::live::fields::{opt_bool, opt_string, opt_u32, size_in_gb, string, strings};
use crate::live::model::{
    Catalogue, LiveIpRestriction, LiveScope, LiveService, LiveUser, Offer, UsersState,
};
use crate::live::read::scope_state;
use crate::live::read::{ReadError, Reader};
use crate::live::{LiveState, Scope, ScopeState, ANY_ENGINE};
use crate::manifest::model::{Address, Kind, ManifestSet, Spec};
use crate::ovh::{ErrorClass, OvhError};
use futures::future::join_all;
use futures::future::try_join_all;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Reads the services of `engine` in `project`; users only of the services for whose
/// description `needs_users` is true.
pub(crate) async fn read_scope(
    reader: &Reader<'_>,
    project: &str,
    engine: &str,
    needs_users: &(dyn Fn(&str) -> bool + Sync),
) -> Result<LiveScope, ReadError> {
    let ids = reader.list(&services_path(project, engine)).await?;
    let services = try_join_all(
        ids.iter()
            .map(|id| read_service(reader, project, engine, id, needs_users)),
    )
    .await?;
    let mut services: Vec<LiveService> = services.into_iter().flatten().collect();
    services.sort_by(|a, b| (&a.description, &a.id).cmp(&(&b.description, &b.id)));
    Ok(LiveScope::Database { services })
}

/// `GET /cloud/project/{project}/database/service`: the ids of every service of every engine,
/// so that a managed project is read whole with one call more than its named engines.
pub(crate) async fn read_index(
    reader: &Reader<'_>,
    project: &str,
) -> Result<Vec<String>, ReadError> {
    reader.list(&index_path(project)).await
}

/// The services `ids` of `project` (ids of the index no engine scope read), each through
/// `.../database/service/{id}` (which says its engine), by engine; their users too when
/// `with_users`. A service that went away since the index is skipped.
pub(crate) async fn read_by_id(
    reader: &Reader<'_>,
    project: &str,
    ids: &[String],
    with_users: bool,
) -> Result<BTreeMap<String, Vec<LiveService>>, ReadError> {
    let services = try_join_all(ids.iter().map(|id| {
        let path = index_entry_path(project, id);
        async move {
            let Some(raw) = reader.get_if_present(&path).await? else {
                return Ok::<_, ReadError>(None);
            };
            let mut service =
                live_service(raw, "").map_err(|what| ReadError::malformed(&path, what))?;
            if service.engine.is_empty() {
                return Err(ReadError::malformed(
                    &path,
                    "a database service without an engine",
                ));
            }
            if with_users {
                let users = read_users(reader, project, &service.engine, &service.id).await;
                service.users = Some(match users {
                    Ok(users) => UsersState::Known { users },
                    Err(err) => UsersState::Unknown {
                        reason: err.reason(),
                    },
                });
            }
            Ok(Some(service))
        }
    }))
    .await?;
    let mut by_engine: BTreeMap<String, Vec<LiveService>> = BTreeMap::new();
    for service in services.into_iter().flatten() {
        by_engine
            .entry(service.engine.clone())
            .or_default()
            .push(service);
    }
    for services in by_engine.values_mut() {
        services.sort_by(|a, b| (&a.description, &a.id).cmp(&(&b.description, &b.id)));
    }
    Ok(by_engine)
}

/// One service, then its users if a manifest needs them; `None` when it went away since the
/// list.
async fn read_service(
    reader: &Reader<'_>,
    project: &str,
    engine: &str,
    id: &str,
    needs_users: &(dyn Fn(&str) -> bool + Sync),
) -> Result<Option<LiveService>, ReadError> {
    let path = service_path(project, engine, id);
    let Some(raw) = reader.get_if_present(&path).await? else {
        return Ok(None);
    };
    let mut service =
        live_service(raw, engine).map_err(|what| ReadError::malformed(&path, what))?;
    if needs_users(&service.description) {
        service.users = Some(match read_users(reader, project, engine, id).await {
            Ok(users) => UsersState::Known { users },
            Err(err) => {
                tracing::debug!(service = %service.description, "users unknown: {err}");
                UsersState::Unknown {
                    reason: err.reason(),
                }
            }
        });
    }
    Ok(Some(service))
}

/// The users of `service`, each read.
async fn read_users(
    reader: &Reader<'_>,
    project: &str,
    engine: &str,
    service: &str,
) -> Result<Vec<LiveUser>, ReadError> {
    let ids = reader.list(&users_path(project, engine, service)).await?;
    let users = try_join_all(ids.iter().map(|id| {
        let path = user_path(project, engine, service, id);
        async move {
            match reader.get_if_present(&path).await? {
                None => Ok(None),
                Some(raw) => live_user(raw)
                    .map(Some)
                    .map_err(|what| ReadError::malformed(&path, what)),
            }
        }
    }))
    .await?;
    let mut users: Vec<LiveUser> = users.into_iter().flatten().collect();
    users.sort_by(|a, b| (&a.username, &a.id).cmp(&(&b.username, &b.id)));
    Ok(users)
}

/// The catalogue of `project`: every row of `GET .../database/availability`.
pub(crate) async fn read_catalogue(
    reader: &Reader<'_>,
    project: &str,
) -> Result<Catalogue, ReadError> {
    let path = availability_path(project);
    let body = reader.get(&path).await?;
    catalogue(&body).map_err(|what| ReadError::malformed(&path, what))
}

/// A `cloud.project.database.Service` answer as a `LiveService` (users not read yet).
/// `scope_engine` stands in when the answer has no `engine`.
pub fn live_service(raw: Value, scope_engine: &str) -> Result<LiveService, &'static str> {
    if !raw.is_object() {
        return Err("something other than a database service");
    }
    let id = opt_string(&raw, "id").ok_or("a database service without an id")?;
    let nodes: &[Value] = raw
        .get("nodes")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    let node_count = if nodes.is_empty() {
        opt_u32(&raw, "nodeNumber").unwrap_or(0)
    } else {
        let staying = nodes
            .iter()
            .filter(|n| n.get("status").and_then(Value::as_str) != Some("DELETING"))
            .count();
        u32::try_from(staying).unwrap_or(u32::MAX)
    };
    let region = nodes
        .first()
        .and_then(|n| opt_string(n, "region"))
        .or_else(|| opt_string(&raw, "region"))
        .unwrap_or_default();
    let storage = raw
        .get("storage")
        .and_then(|s| s.get("size"))
        .and_then(size_in_gb)
        .or_else(|| raw.get("disk").and_then(|d| opt_u32(d, "size")))
        .filter(|size| *size > 0);
    let ip_restrictions = raw
        .get("ipRestrictions")
        .and_then(Value::as_array)
        .map(|entries| {
            entries
                .iter()
                .map(|e| LiveIpRestriction {
                    ip: string(e, "ip"),
                    description: string(e, "description"),
                    status: string(e, "status"),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(LiveService {
        id,
        engine: opt_string(&raw, "engine").unwrap_or_else(|| scope_engine.to_owned()),
        description: string(&raw, "description"),
        status: string(&raw, "status"),
        created_at: string(&raw, "createdAt"),
        plan: string(&raw, "plan"),
        version: string(&raw, "version"),
        flavor: string(&raw, "flavor"),
        node_count,
        region,
        storage,
        network_id: opt_string(&raw, "networkId"),
        subnet_id: opt_string(&raw, "subnetId"),
        ip_restrictions,
        maintenance_time: opt_string(&raw, "maintenanceTime"),
        deletion_protection: opt_bool(&raw, "deletionProtection"),
        users: None,
        raw,
    })
}

/// A user answer (`UserWithRoles`, `User`, `redis.User`, ...) as a `LiveUser`; engines without
/// roles have `roles: []`.
pub fn live_user(raw: Value) -> Result<LiveUser, &'static str> {
    if !raw.is_object() {
        return Err("something other than a database user");
    }
    let id = opt_string(&raw, "id").ok_or("a database user without an id")?;
    Ok(LiveUser {
        id,
        username: string(&raw, "username"),
        roles: strings(&raw, "roles"),
        status: string(&raw, "status"),
        created_at: string(&raw, "createdAt"),
        raw,
    })
}

const INCOMPLETE_ROW: &str =
    "an availability row without engine, version, plan, flavor, region or node range";

/// An `availability` answer as a `Catalogue`, in the answer's order.
pub fn catalogue(body: &Value) -> Result<Catalogue, &'static str> {
    let rows = body
        .as_array()
        .ok_or("something other than a list of availabilities")?;
    let offers = rows
        .iter()
        .map(|row| offer(row).ok_or(INCOMPLETE_ROW))
        .collect::<Result<_, _>>()?;
    Ok(Catalogue { offers })
}

/// One `cloud.project.database.Availability` row, from its nested `specifications` and
/// `lifecycle` (the deprecated flat fields only when those are missing). `None` when the row
/// lacks what identifies an offer or its node range.
pub fn offer(row: &Value) -> Option<Offer> {
    let specifications = row.get("specifications").filter(|s| s.is_object());
    let lifecycle = row.get("lifecycle").filter(|l| l.is_object());
    let nested = |key: &str| specifications.and_then(|s| opt_string(s, key));
    let (min_nodes, max_nodes) = match specifications.and_then(|s| s.get("nodes")) {
        Some(nodes) => (opt_u32(nodes, "minimum")?, opt_u32(nodes, "maximum")?),
        None => (
            opt_u32(row, "minNodeNumber")?,
            opt_u32(row, "maxNodeNumber")?,
        ),
    };
    let (min_storage, max_storage) = match specifications {
        Some(s) => {
            let storage = s.get("storage");
            let bound = |key: &str| storage.and_then(|st| st.get(key)).and_then(size_in_gb);
            (bound("minimum"), bound("maximum"))
        }
        None => {
            let flat = |key: &str| opt_u32(row, key).filter(|size| *size > 0);
            (flat("minDiskSize"), flat("maxDiskSize"))
        }
    };
    let required = |value: Option<String>| value.filter(|v| !v.is_empty());
    Some(Offer {
        engine: required(opt_string(row, "engine"))?,
        version: required(opt_string(row, "version"))?,
        plan: required(opt_string(row, "plan"))?,
        flavor: required(nested("flavor").or_else(|| opt_string(row, "flavor")))?,
        region: required(opt_string(row, "region"))?,
        network: nested("network")
            .or_else(|| opt_string(row, "network"))
            .unwrap_or_else(|| "public".to_owned()),
        min_nodes,
        max_nodes,
        min_storage,
        max_storage,
        lifecycle: lifecycle
            .and_then(|l| opt_string(l, "status"))
            .or_else(|| opt_string(row, "status"))
            .unwrap_or_else(|| "STABLE".to_owned()),
        end_of_sale: lifecycle.and_then(|l| opt_string(l, "endOfSale")),
        end_of_life: opt_string(lifecycle.unwrap_or(row), "endOfLife"),
    })
}

/// The engines no manifest names, from each managed project's index (`index_results`): the
/// service ids no engine scope of `state` listed, each read once (none at all in the usual
/// case), added as their engine's scope. An index that could not be read leaves the project's
/// other engines unknown (`ANY_ENGINE`); credentials refused or the API unreachable stop the
/// read (`Err`, with the scope, for `ReadFailure`).
/// What the family reads beside its scopes, concurrently with them (`Family::read_beside`):
/// the catalogue of each project a scope is in, and the service index of each managed project.
pub(crate) struct Beside {
    catalogues: Vec<(String, Result<Catalogue, ReadError>)>,
    indexes: Vec<(String, Result<Vec<String>, ReadError>)>,
}

/// Reads the catalogues and indexes (`Beside`).
pub(crate) async fn read_beside(
    reader: &Reader<'_>,
    scopes: &BTreeSet<Scope>,
    manifests: &ManifestSet,
) -> Beside {
    let projects = catalogue_projects(scopes);
    let whole = managed_projects(manifests);
    let catalogue_reads = join_all(projects.iter().map(|&project| async move {
        (project.to_owned(), read_catalogue(reader, project).await)
    }));
    let index_reads = join_all(
        whole
            .iter()
            .map(|project| async move { (project.clone(), read_index(reader, project).await) }),
    );
    let (catalogues, indexes) = futures::join!(catalogue_reads, index_reads);
    Beside {
        catalogues,
        indexes,
    }
}

/// Folds what was read beside the scopes into `state`, once every scope is in: the engines
/// no manifest names (from the indexes), then the catalogues (one that could not be read is
/// left out: the planner warns, this logs at debug level).
pub(crate) async fn fold_beside(
    reader: &Reader<'_>,
    state: &mut LiveState,
    beside: Beside,
    prune: bool,
) -> Result<(), (Scope, OvhError)> {
    let (projects, indexes): (Vec<String>, Vec<_>) = beside.indexes.into_iter().unzip();
    let index_results = projects.iter().zip(indexes).collect();
    read_other_engines(reader, state, index_results, prune).await?;
    for (project, result) in beside.catalogues {
        match result {
            Ok(catalogue) => {
                state.catalogues.insert(project, catalogue);
            }
            Err(err) => tracing::debug!(
                project,
                "database catalogue unavailable, preflight checks skipped: {err}"
            ),
        }
    }
    Ok(())
}

pub(crate) async fn read_other_engines(
    reader: &Reader<'_>,
    state: &mut LiveState,
    index_results: Vec<(&String, Result<Vec<String>, ReadError>)>,
    prune: bool,
) -> Result<(), (Scope, OvhError)> {
    // The engines no manifest names, from each managed project's index: the ids no engine
    // scope listed, each read once (none at all in the usual case).
    let other_reads = join_all(index_results.into_iter().map(|(project, index)| {
        let state = &*state;
        async move {
            let ids = match index {
                Ok(ids) => ids,
                Err(err) => return Err((project, err)),
            };
            let seen = state.database_ids(project);
            let unseen: Vec<String> = ids.into_iter().filter(|id| !seen.contains(id)).collect();
            read_by_id(reader, project, &unseen, prune)
                .await
                .map(|by_engine| (project, by_engine))
                .map_err(|err| (project, err))
        }
    }));
    for result in other_reads.await {
        match result {
            Ok((project, by_engine)) => {
                for (engine, services) in by_engine {
                    let scope = Scope::Database {
                        project: project.clone(),
                        engine,
                    };
                    // An engine a manifest names was read (or failed) as its own scope; a
                    // service of it the index shows is one created since: left to the next run.
                    state
                        .scopes
                        .entry(scope)
                        .or_insert(ScopeState::Known(LiveScope::Database { services }));
                }
            }
            Err((project, err)) => {
                let scope = Scope::Database {
                    project: project.clone(),
                    engine: ANY_ENGINE.to_owned(),
                };
                // Credentials and an unreachable API stop the read; the index alone failing
                // otherwise (its engines were readable) leaves those engines unknown.
                let err = match err {
                    ReadError::Api(api)
                        if matches!(
                            api.error_class(),
                            ErrorClass::Credentials | ErrorClass::Unreachable
                        ) =>
                    {
                        return Err((scope, api));
                    }
                    other => other,
                };
                let unknown = scope_state(&scope, Err(err));
                state.scopes.insert(scope, unknown);
            }
        }
    }
    Ok(())
}

/// Reads one database scope (`Family::read_scope`): its services, and the users of those a
/// manifest names (of every service under `prune`, the ones a pruning plan deletes), so that
/// a user removed from the manifests is still listed and users are deleted child-first. For
/// apply's verification (`Reader::verifying`), without `prune`, only the users of the services
/// a `DatabaseUser` manifest names: the other users of a service are unmanaged, never a change,
/// and the services a run created would cost two reads each for nothing.
pub(super) async fn read_scope_of(
    reader: &Reader<'_>,
    scope: &Scope,
    manifests: &ManifestSet,
    prune: bool,
) -> Result<LiveScope, ReadError> {
    let Scope::Database { project, engine } = scope else {
        unreachable!("only database scopes are routed here")
    };
    let named = if reader.verifying() {
        services_with_user_manifests(manifests, project, engine)
    } else {
        service_names(manifests)
            .remove(&(project.clone(), engine.clone()))
            .unwrap_or_default()
    };
    let needs_users = |description: &str| prune || named.contains(description);
    read_scope(reader, project, engine, &needs_users).await
}

/// The services of `engine` in `project` (by manifest name, their description on the API) a
/// `DatabaseUser` names.
fn services_with_user_manifests(
    manifests: &ManifestSet,
    project: &str,
    engine: &str,
) -> BTreeSet<String> {
    let in_scope = |service: &str| {
        let address = Address {
            kind: Kind::DatabaseService,
            name: service.to_owned(),
        };
        match manifests.get(&address).map(|r| &r.spec) {
            Some(Spec::DatabaseService(spec)) => {
                let named = spec
                    .project
                    .as_ref()
                    .or(manifests.defaults.project.as_ref());
                spec.engine == engine && named.is_some_and(|p| p == project)
            }
            _ => false,
        }
    };
    manifests
        .resources
        .iter()
        .filter_map(|resource| match &resource.spec {
            Spec::DatabaseUser(user) if in_scope(&user.service) => Some(user.service.clone()),
            _ => None,
        })
        .collect()
}

/// The projects whose database catalogue is read (for preflight): those of the database
/// scopes among `scopes`.
pub(crate) fn catalogue_projects(scopes: &BTreeSet<Scope>) -> BTreeSet<&str> {
    scopes
        .iter()
        .filter_map(|scope| match scope {
            Scope::Database { project, .. } => Some(project.as_str()),
            _ => None,
        })
        .collect()
}

/// The projects read whole (every engine's services): the project of every `DatabaseService`
/// manifest, and those `reconcile.yaml` lists under `manages.projects`.
pub fn managed_projects(manifests: &ManifestSet) -> BTreeSet<String> {
    let mut projects: BTreeSet<String> = crate::live::scopes(manifests)
        .into_iter()
        .filter_map(|scope| match scope {
            Scope::Database { project, .. } => Some(project),
            _ => None,
        })
        .collect();
    projects.extend(manifests.defaults.manages.projects.iter().cloned());
    projects
}

/// Every `DatabaseService` manifest's name, by (project, engine).
pub(crate) fn service_names(
    manifests: &ManifestSet,
) -> BTreeMap<(String, String), BTreeSet<String>> {
    let mut out: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for resource in &manifests.resources {
        let Spec::DatabaseService(spec) = &resource.spec else {
            continue;
        };
        if let Some(project) = spec
            .project
            .clone()
            .or_else(|| manifests.defaults.project.clone())
        {
            out.entry((project, spec.engine.clone()))
                .or_default()
                .insert(resource.address.name.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A mongodb service as the real API answers it (S-2025 `cloud.project.database.Service`).
    fn mongodb_service() -> Value {
        json!({
            "id": "0f6b2e4c-7b1e-4b53-9a52-2c3d1d5e8a11",
            "engine": "mongodb",
            "category": "operational",
            "createdAt": "2025-03-01T10:00:00+01:00",
            "status": "READY",
            "description": "orders-db",
            "plan": "production",
            "version": "7.0",
            "flavor": "db2-4",
            "nodeNumber": 3,
            "nodes": [
                {"id": "n1", "name": "node1", "createdAt": "2025-03-01T10:00:00+01:00", "flavor": "db2-4", "region": "GRA", "port": 27017, "role": "STANDARD", "status": "READY"},
                {"id": "n2", "name": "node2", "createdAt": "2025-03-01T10:00:00+01:00", "flavor": "db2-4", "region": "GRA", "port": 27017, "role": "STANDARD", "status": "READY"},
                {"id": "n3", "name": "node3", "createdAt": "2025-03-01T10:00:00+01:00", "flavor": "db2-4", "region": "GRA", "port": 27017, "role": "STANDARD", "status": "READY"}
            ],
            "disk": {"size": 40, "type": "high-speed-gen2"},
            "storage": {"size": {"unit": "GB", "value": 40}, "type": "high-speed-gen2"},
            "ipRestrictions": [
                {"ip": "203.0.113.0/24", "description": "office", "status": "READY"},
                {"ip": "198.51.100.7/32", "description": "", "status": "PENDING"}
            ],
            "maintenanceTime": "03:00:00",
            "backupTime": "02:00:00",
            "backups": {"regions": ["GRA"], "time": "02:00:00", "retentionDays": 7},
            "networkType": "public",
            "networkId": null,
            "subnetId": null,
            "endpoints": [],
            "capabilities": {},
            "deletionProtection": true,
            "enablePrometheus": false
        })
    }

    #[test]
    fn a_service_maps_its_typed_fields_and_keeps_the_raw_answer() {
        let raw = mongodb_service();
        let service = live_service(raw.clone(), "mongodb").unwrap();
        assert_eq!(
            service,
            LiveService {
                id: "0f6b2e4c-7b1e-4b53-9a52-2c3d1d5e8a11".into(),
                engine: "mongodb".into(),
                description: "orders-db".into(),
                status: "READY".into(),
                created_at: "2025-03-01T10:00:00+01:00".into(),
                plan: "production".into(),
                version: "7.0".into(),
                flavor: "db2-4".into(),
                node_count: 3,
                region: "GRA".into(),
                storage: Some(40),
                network_id: None,
                subnet_id: None,
                ip_restrictions: vec![
                    LiveIpRestriction {
                        ip: "203.0.113.0/24".into(),
                        description: "office".into(),
                        status: "READY".into(),
                    },
                    LiveIpRestriction {
                        ip: "198.51.100.7/32".into(),
                        description: "".into(),
                        status: "PENDING".into(),
                    },
                ],
                maintenance_time: Some("03:00:00".into()),
                deletion_protection: Some(true),
                users: None,
                raw,
            }
        );
    }

    #[test]
    fn storage_falls_back_to_disk_and_zero_means_none() {
        let mut raw = mongodb_service();
        raw["storage"] = Value::Null;
        raw["disk"] = json!({"size": 80, "type": "high-speed"});
        assert_eq!(
            live_service(raw.clone(), "mongodb").unwrap().storage,
            Some(80)
        );
        // redis and valkey: no configurable disk.
        raw["disk"] = json!({"size": 0, "type": "high-speed"});
        assert_eq!(live_service(raw.clone(), "redis").unwrap().storage, None);
        raw.as_object_mut().unwrap().remove("disk");
        assert_eq!(live_service(raw, "redis").unwrap().storage, None);
    }

    #[test]
    fn private_network_and_missing_optionals() {
        let raw = json!({
            "id": "x", "status": "CREATING", "description": "pg", "plan": "business", "version": "16",
            "flavor": "db1-7", "nodeNumber": 2, "nodes": [],
            "networkId": "6b8f3b2d-net", "subnetId": "1d2e-subnet",
            "maintenanceTime": null, "region": "SBG"
        });
        let service = live_service(raw, "postgresql").unwrap();
        assert_eq!(service.engine, "postgresql", "the scope's engine stands in");
        assert_eq!(
            service.node_count, 2,
            "nodeNumber when nodes are not listed yet"
        );
        assert_eq!(
            service.region, "SBG",
            "S-2024 top-level region without nodes"
        );
        assert_eq!(service.network_id.as_deref(), Some("6b8f3b2d-net"));
        assert_eq!(service.subnet_id.as_deref(), Some("1d2e-subnet"));
        assert_eq!(service.maintenance_time, None);
        assert_eq!(service.deletion_protection, None);
        assert!(service.ip_restrictions.is_empty());
    }

    #[test]
    fn nodes_being_deleted_do_not_count() {
        let mut raw = mongodb_service();
        raw["nodes"][2]["status"] = json!("DELETING");
        raw["nodeNumber"] = json!(2);
        assert_eq!(live_service(raw, "mongodb").unwrap().node_count, 2);
    }

    #[test]
    fn a_service_without_an_id_is_malformed() {
        assert_eq!(
            live_service(json!({"description": "x"}), "mongodb").unwrap_err(),
            "a database service without an id"
        );
        assert!(live_service(json!(["x"]), "mongodb").is_err());
    }

    #[test]
    fn users_of_each_model() {
        let mongodb = json!({"id": "u1", "username": "app@admin", "createdAt": "2025-03-01T10:00:00+01:00", "status": "READY", "roles": ["readWrite@orders"]});
        let user = live_user(mongodb.clone()).unwrap();
        assert_eq!(
            user,
            LiveUser {
                id: "u1".into(),
                username: "app@admin".into(),
                roles: vec!["readWrite@orders".into()],
                status: "READY".into(),
                created_at: "2025-03-01T10:00:00+01:00".into(),
                raw: mongodb,
            }
        );
        let mysql = json!({"id": "u2", "username": "avnadmin", "createdAt": "2025-03-01T10:00:00+01:00", "status": "CREATING"});
        let user = live_user(mysql).unwrap();
        assert_eq!((user.username.as_str(), user.roles.len()), ("avnadmin", 0));
        assert!(live_user(json!({"username": "x"})).is_err());
    }

    /// A row of `availability` as the real API answers it (nested and deprecated flat fields).
    fn availability_row() -> Value {
        json!({
            "engine": "mongodb", "version": "7.0", "plan": "production", "region": "GRA",
            "default": false, "category": "operational",
            "specifications": {
                "flavor": "db2-4", "network": "private",
                "nodes": {"minimum": 3, "maximum": 8},
                "storage": {
                    "minimum": {"unit": "GB", "value": 40},
                    "maximum": {"unit": "GB", "value": 160},
                    "step": {"unit": "GB", "value": 10}
                }
            },
            "lifecycle": {"startDate": "2021-03-01T00:00:00Z", "endOfSale": "2026-01-01", "endOfLife": "2026-07-01", "status": "DEPRECATED"},
            "backups": {"available": true, "retentionDays": 7},
            "planCode": "databases.mongodb-production-db2-4.hour.consumption",
            "flavor": "db2-4", "network": "private", "minNodeNumber": 3, "maxNodeNumber": 8,
            "minDiskSize": 40, "maxDiskSize": 160, "stepDiskSize": 10,
            "status": "DEPRECATED", "startDate": "2021-03-01T00:00:00Z", "endOfLife": "2026-07-01"
        })
    }

    #[test]
    fn an_offer_reads_the_nested_specifications_and_lifecycle() {
        assert_eq!(
            offer(&availability_row()),
            Some(Offer {
                engine: "mongodb".into(),
                version: "7.0".into(),
                plan: "production".into(),
                flavor: "db2-4".into(),
                region: "GRA".into(),
                network: "private".into(),
                min_nodes: 3,
                max_nodes: 8,
                min_storage: Some(40),
                max_storage: Some(160),
                lifecycle: "DEPRECATED".into(),
                end_of_sale: Some("2026-01-01".into()),
                end_of_life: Some("2026-07-01".into()),
            })
        );
    }

    #[test]
    fn an_offer_without_configurable_storage_has_no_bounds() {
        let mut row = availability_row();
        row["specifications"]["storage"] = Value::Null;
        let offer = offer(&row).unwrap();
        assert_eq!((offer.min_storage, offer.max_storage), (None, None));
    }

    #[test]
    fn an_old_flat_row_still_maps() {
        let row = json!({
            "engine": "redis", "version": "7.2", "plan": "essential", "region": "GRA",
            "flavor": "db1-4", "network": "public", "minNodeNumber": 1, "maxNodeNumber": 1,
            "minDiskSize": 0, "maxDiskSize": 0, "status": "STABLE", "endOfLife": null
        });
        let offer = offer(&row).unwrap();
        assert_eq!(
            (
                offer.flavor.as_str(),
                offer.network.as_str(),
                offer.min_nodes,
                offer.max_nodes
            ),
            ("db1-4", "public", 1, 1)
        );
        assert_eq!(
            (offer.min_storage, offer.lifecycle.as_str()),
            (None, "STABLE")
        );
    }

    #[test]
    fn a_catalogue_with_a_broken_row_is_malformed() {
        assert_eq!(catalogue(&json!([])).unwrap(), Catalogue::default());
        assert_eq!(
            catalogue(&json!([availability_row()]))
                .unwrap()
                .offers
                .len(),
            1
        );
        assert!(catalogue(&json!([{"engine": "mongodb"}])).is_err());
        assert!(catalogue(&json!({"rows": []})).is_err());
    }
}
