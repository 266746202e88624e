//! Public Cloud Databases: the calls on services (with their whole `ipRestrictions` list) and
//! users, their API paths, the username rule, and `Databases`, the family behind the contract
//! (`DatabaseService` and `DatabaseUser`; one scope per project and engine).
//!
//! Paths: `/cloud/project/{project}/database/{engine}[/{service}[/user[/{user}]]]`, the
//! project's index of every engine's services (`.../database/service`) and the catalogue
//! (`.../database/availability`).

pub(crate) mod digest;
pub(crate) mod engine;
pub(crate) mod live;
pub mod model;
pub(crate) mod normalise;
pub(crate) mod plan;
#[cfg(test)]
mod plan_tests;
mod preflight;
#[cfg(test)]
mod preflight_tests;
pub(crate) mod resume;
pub mod spec;

/// What one digest of its scopes digests (the stale-plan guard).
pub use digest::DigestKey;

use super::Family;
use super::{segment, Id};
use crate::engine::step::{Step, StepResult};
use crate::engine::PasswordUnknown;
use crate::live::read::{ReadError, Reader};
use crate::live::{LiveScope, LiveState, Scope, ScopeState};
use crate::manifest::model::{Address, Kind, ManifestSet, Resource, Spec};
use crate::manifest::validate::{ManagedObject, SpecCheck};
use crate::ovh::{Endpoint, OvhError};
use crate::plan::{Context, Digests, Draft, Finding};
use futures::future::BoxFuture;
use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

/// A call on the services of one engine in one project.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    /// `POST .../database/{engine}`; `description` is the service's identity (the manifest's
    /// name).
    CreateService {
        project: String,
        engine: String,
        description: String,
        body: Value,
    },
    /// `PUT .../database/{engine}/{id}` (`Id::Created`: right after this change's create).
    UpdateService {
        project: String,
        engine: String,
        id: Id,
        body: Value,
    },
    /// `DELETE .../database/{engine}/{id}`.
    DeleteService {
        project: String,
        engine: String,
        id: String,
    },
    /// `POST .../{service}/user` (`Id::Created`: the service is created earlier in the run);
    /// `username` is the user's identity as sent (MongoDB without `@admin`).
    CreateUser {
        project: String,
        engine: String,
        service: Id,
        username: String,
        body: Value,
    },
    /// `PUT .../{service}/user/{id}`.
    UpdateUser {
        project: String,
        engine: String,
        service: String,
        id: String,
        body: Value,
    },
    /// `DELETE .../{service}/user/{id}`.
    DeleteUser {
        project: String,
        engine: String,
        service: String,
        id: String,
    },
}

impl Call {
    pub fn method(&self) -> &'static str {
        match self {
            Call::CreateService { .. } | Call::CreateUser { .. } => "POST",
            Call::UpdateService { .. } | Call::UpdateUser { .. } => "PUT",
            Call::DeleteService { .. } | Call::DeleteUser { .. } => "DELETE",
        }
    }

    pub fn path(&self) -> String {
        match self {
            Call::CreateService {
                project, engine, ..
            } => services_path(project, engine),
            Call::UpdateService {
                project,
                engine,
                id,
                ..
            } => format!("{}/{}", services_path(project, engine), id.segment()),
            Call::DeleteService {
                project,
                engine,
                id,
            } => service_path(project, engine, id),
            Call::CreateUser {
                project,
                engine,
                service,
                ..
            } => format!(
                "{}/{}/user",
                services_path(project, engine),
                service.segment()
            ),
            Call::UpdateUser {
                project,
                engine,
                service,
                id,
                ..
            }
            | Call::DeleteUser {
                project,
                engine,
                service,
                id,
            } => user_path(project, engine, service, id),
        }
    }

    pub fn body(&self) -> Option<&Value> {
        match self {
            Call::CreateService { body, .. }
            | Call::UpdateService { body, .. }
            | Call::CreateUser { body, .. }
            | Call::UpdateUser { body, .. } => Some(body),
            Call::DeleteService { .. } | Call::DeleteUser { .. } => None,
        }
    }
}

/// `/cloud/project/{project}/database/{engine}`: the services of one engine.
pub fn services_path(project: &str, engine: &str) -> String {
    format!(
        "/cloud/project/{}/database/{}",
        segment(project),
        segment(engine)
    )
}

/// `.../database/{engine}/{id}`.
pub fn service_path(project: &str, engine: &str, id: &str) -> String {
    format!("{}/{}", services_path(project, engine), segment(id))
}

/// `.../database/{engine}/{service}/user`.
pub fn users_path(project: &str, engine: &str, service: &str) -> String {
    format!("{}/user", service_path(project, engine, service))
}

/// `.../database/{engine}/{service}/user/{id}`.
pub fn user_path(project: &str, engine: &str, service: &str, id: &str) -> String {
    format!("{}/{}", users_path(project, engine, service), segment(id))
}

/// `.../database/{engine}/{service}/user/{id}/credentials/reset`: `POST` gives the user a new
/// password (never planned: the engine sends it for `--rotate` and for a user adopted with its
/// password unknown).
pub fn credentials_reset_path(project: &str, engine: &str, service: &str, id: &str) -> String {
    format!(
        "{}/credentials/reset",
        user_path(project, engine, service, id)
    )
}

/// `/cloud/project/{project}/database/service`: every engine's services of a project.
pub fn index_path(project: &str) -> String {
    format!("/cloud/project/{}/database/service", segment(project))
}

/// `.../database/service/{id}`: a service of any engine (its answer says which).
pub fn index_entry_path(project: &str, id: &str) -> String {
    format!("{}/{}", index_path(project), segment(id))
}

/// `/cloud/project/{project}/database/availability`: the catalogue.
pub fn availability_path(project: &str) -> String {
    format!("/cloud/project/{}/database/availability", segment(project))
}

/// A user's identity within its service. MongoDB adds the authentication database to every
/// username (`app` -> `app@admin`); a manifest may write it either way. Other engines keep
/// names as they are. Used by the planner, the engine's lookups, resume and validation.
pub fn username(engine: &str, name: &str) -> String {
    let name = name.trim();
    if engine == "mongodb" {
        name.strip_suffix("@admin").unwrap_or(name).to_string()
    } else {
        name.to_string()
    }
}

/// The engine of `Scope::Database` standing for every engine of a project whose service
/// index could not be read (the engines no manifest names are then unknown).
pub const ANY_ENGINE: &str = "*";

/// How messages name a database scope.
pub(crate) fn fmt_scope(f: &mut fmt::Formatter<'_>, project: &str, engine: &str) -> fmt::Result {
    if engine == ANY_ENGINE {
        write!(f, "databases of every engine in project {project}")
    } else {
        write!(f, "database {engine} in project {project}")
    }
}

/// Public Cloud Databases behind the family contract.
pub(crate) struct Databases;

impl Family for Databases {
    fn kinds(&self) -> &'static [Kind] {
        &[Kind::DatabaseService, Kind::DatabaseUser]
    }

    fn spec_schema(
        &self,
        kind: Kind,
        generator: &mut schemars::SchemaGenerator,
    ) -> schemars::Schema {
        match kind {
            Kind::DatabaseService => generator.subschema_for::<spec::DatabaseServiceSpec>(),
            Kind::DatabaseUser => generator.subschema_for::<spec::DatabaseUserSpec>(),
            other => unreachable!("{other:?} is not a database kind"),
        }
    }

    fn spec_from_json(&self, kind: Kind, value: Value) -> Result<Spec, serde_json::Error> {
        Ok(match kind {
            Kind::DatabaseService => Spec::DatabaseService(serde_json::from_value(value)?),
            Kind::DatabaseUser => Spec::DatabaseUser(serde_json::from_value(value)?),
            other => unreachable!("{other:?} is not a database kind"),
        })
    }

    fn check_spec(&self, spec: &mut Spec, check: &mut SpecCheck<'_, '_>) {
        spec::check(spec, check)
    }

    fn path_fields<'s>(&self, spec: &'s Spec) -> Vec<(&'static str, &'s str)> {
        spec::path_fields(spec)
    }

    fn references(&self, spec: &Spec) -> Vec<(&'static str, Address)> {
        spec::references(spec)
    }

    fn managed_object<'s>(
        &self,
        spec: &'s Spec,
        specs: &dyn Fn(&Address) -> Option<&'s Spec>,
    ) -> Option<ManagedObject> {
        spec::managed_object(spec, specs)
    }

    fn same_object_note(&self, first: &Spec, second: &Spec) -> Option<String> {
        spec::same_object_note(first, second)
    }

    fn owns(&self, scope: &Scope) -> bool {
        matches!(scope, Scope::Database { .. })
    }

    /// One scope per project and engine of a `DatabaseService` (its `project`, or the
    /// defaults'; the engine as written). Users live in their service's scope.
    fn scopes(&self, manifests: &ManifestSet) -> Vec<Scope> {
        let defaults = &manifests.defaults;
        manifests
            .resources
            .iter()
            .filter_map(|resource| match &resource.spec {
                Spec::DatabaseService(spec) => spec
                    .project
                    .clone()
                    .or_else(|| defaults.project.clone())
                    .map(|project| Scope::Database {
                        project,
                        engine: spec.engine.clone(),
                    }),
                _ => None,
            })
            .collect()
    }

    fn read_scope<'a>(
        &'a self,
        reader: &'a Reader<'_>,
        scope: &'a Scope,
        manifests: &'a ManifestSet,
        prune: bool,
    ) -> BoxFuture<'a, Result<LiveScope, ReadError>> {
        Box::pin(live::read_scope_of(reader, scope, manifests, prune))
    }

    fn missing(&self, scope: &Scope) -> String {
        match scope {
            Scope::Database { project, engine } => {
                format!("project {project} (or its {engine} databases)")
            }
            _ => scope.to_string(),
        }
    }

    fn scope_of(&self, resource: &Resource, ctx: &Context) -> Result<Scope, Finding> {
        plan::scope_of(resource, ctx)
    }

    fn plan_scope(
        &self,
        scope: &Scope,
        live: &LiveScope,
        resources: &[&Resource],
        ctx: &Context,
        out: &mut Draft,
    ) {
        plan::plan_scope(scope, live, resources, ctx, out)
    }

    fn preflight(&self, ctx: &Context, draft: &mut Draft) {
        preflight::check(ctx, draft)
    }

    fn digest(&self, scope: &Scope, live: &LiveScope, out: &mut Digests) {
        digest::digest(scope, live, out)
    }

    fn wait_shape(&self, spec: &Spec) -> String {
        match spec {
            Spec::DatabaseService(s) => format!(
                " {} {} {} x{}",
                s.engine, s.plan, s.nodes.flavor, s.nodes.count
            ),
            _ => String::new(),
        }
    }

    fn resume(
        &self,
        address: &Address,
        spec: &Spec,
        manifests: &ManifestSet,
        live: &LiveState,
        id: Option<&str>,
    ) -> Option<super::Resume> {
        resume::resume_for(address, spec, manifests, live, id).map(super::Resume::Database)
    }

    fn read_beside<'a>(
        &'a self,
        reader: &'a Reader<'_>,
        scopes: &'a BTreeSet<Scope>,
        manifests: &'a ManifestSet,
    ) -> BoxFuture<'a, Option<super::Beside>> {
        Box::pin(async move {
            let beside = live::read_beside(reader, scopes, manifests).await;
            Some(Box::new(beside) as super::Beside)
        })
    }

    fn fold_beside<'a>(
        &'a self,
        reader: &'a Reader<'_>,
        state: &'a mut LiveState,
        beside: super::Beside,
        prune: bool,
    ) -> BoxFuture<'a, Result<(), (Scope, OvhError)>> {
        Box::pin(async move {
            match beside.downcast::<live::Beside>() {
                Ok(beside) => live::fold_beside(reader, state, *beside, prune).await,
                Err(_) => Ok(()),
            }
        })
    }

    /// A service with `deletionProtection` on, found by id in any known database scope.
    fn deletion_protected(&self, kind: Kind, live: &LiveState, id: &str) -> bool {
        kind == Kind::DatabaseService
            && live
                .scopes
                .values()
                .find_map(|state| match state {
                    ScopeState::Known(LiveScope::Database { services }) => {
                        services.iter().find(|s| s.id == id)
                    }
                    _ => None,
                })
                .is_some_and(|s| s.deletion_protection == Some(true))
    }

    /// A service replaced is a new cluster: its data is gone.
    fn loses_data_on_replace(&self, kind: Kind) -> bool {
        kind == Kind::DatabaseService
    }

    /// A user's password can be reset.
    fn rotatable(&self, kind: Kind) -> bool {
        kind == Kind::DatabaseUser
    }

    /// A user's password is reset once its service is done too.
    fn rotation_needs(&self, resource: &Resource) -> Vec<Address> {
        match &resource.spec {
            Spec::DatabaseUser(spec) => vec![Address {
                kind: Kind::DatabaseService,
                name: spec.service.clone(),
            }],
            _ => Vec::new(),
        }
    }

    fn rotate<'a>(
        &'a self,
        step: &'a mut Step<'_, '_>,
        live: &'a LiveState,
    ) -> BoxFuture<'a, StepResult<()>> {
        Box::pin(engine::rotate(step, live))
    }

    fn passwords_unknown(
        &self,
        dir: &Path,
        endpoint: &Endpoint,
        manifests: &ManifestSet,
        live: &LiveState,
    ) -> Vec<PasswordUnknown> {
        engine::passwords_unknown(dir, endpoint, manifests, live)
    }

    /// A service (`[id]`): the `DatabaseService` its description names when a manifest has
    /// it, else `service "DESCRIPTION"`; a user (`[service, id]`) of a service whose users were
    /// read: `user "USERNAME" of service "DESCRIPTION"`.
    fn describe_live(
        &self,
        live: &LiveScope,
        ids: &[&str],
        manifests: &ManifestSet,
    ) -> Option<String> {
        let LiveScope::Database { services } = live else {
            return None;
        };
        match ids {
            [id] => {
                let service = services.iter().find(|s| s.id == *id)?;
                let address = Address {
                    kind: Kind::DatabaseService,
                    name: service.description.clone(),
                };
                Some(match manifests.get(&address) {
                    Some(_) => address.to_string(),
                    None => format!("service {:?}", service.description),
                })
            }
            [service_id, id] => {
                let service = services.iter().find(|s| s.id == *service_id)?;
                let Some(model::UsersState::Known { users }) = &service.users else {
                    return None;
                };
                let user = users.iter().find(|u| u.id == *id)?;
                Some(format!(
                    "user {:?} of service {:?}",
                    user.username, service.description
                ))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::Operation;
    use serde_json::json;

    fn rendered(call: Call) -> String {
        Operation::Database(call).to_string()
    }

    #[test]
    fn every_call_renders_the_method_and_path_the_api_expects() {
        let p = || "p1".to_owned();
        let e = || "mongodb".to_owned();
        let body = json!({});
        let cases = [
            (
                Call::CreateService {
                    project: p(),
                    engine: e(),
                    description: "orders-db".into(),
                    body: body.clone(),
                },
                "POST /cloud/project/p1/database/mongodb",
            ),
            (
                Call::UpdateService {
                    project: p(),
                    engine: e(),
                    id: Id::from("0f6b"),
                    body: body.clone(),
                },
                "PUT /cloud/project/p1/database/mongodb/0f6b",
            ),
            (
                Call::UpdateService {
                    project: p(),
                    engine: e(),
                    id: Id::Created,
                    body: body.clone(),
                },
                "PUT /cloud/project/p1/database/mongodb/{id}",
            ),
            (
                Call::DeleteService {
                    project: p(),
                    engine: e(),
                    id: "0f6b".into(),
                },
                "DELETE /cloud/project/p1/database/mongodb/0f6b",
            ),
            (
                Call::CreateUser {
                    project: p(),
                    engine: e(),
                    service: Id::Created,
                    username: "app".into(),
                    body: body.clone(),
                },
                "POST /cloud/project/p1/database/mongodb/{id}/user",
            ),
            (
                Call::UpdateUser {
                    project: p(),
                    engine: e(),
                    service: "0f6b".into(),
                    id: "u1".into(),
                    body: body.clone(),
                },
                "PUT /cloud/project/p1/database/mongodb/0f6b/user/u1",
            ),
            (
                Call::DeleteUser {
                    project: p(),
                    engine: e(),
                    service: "0f6b".into(),
                    id: "u1".into(),
                },
                "DELETE /cloud/project/p1/database/mongodb/0f6b/user/u1",
            ),
        ];
        for (call, expected) in cases {
            assert_eq!(rendered(call), expected);
        }
    }

    #[test]
    fn odd_ids_are_escaped_and_cannot_add_path_parts() {
        let call = Call::DeleteUser {
            project: "p 1".into(),
            engine: "mongodb".into(),
            service: "../s?x".into(),
            id: "u/1#f".into(),
        };
        assert_eq!(
            rendered(call),
            "DELETE /cloud/project/p%201/database/mongodb/..%2Fs%3Fx/user/u%2F1%23f"
        );
        let call = Call::CreateUser {
            project: "p1".into(),
            engine: "mongodb".into(),
            service: Id::from("{id}"),
            username: "app".into(),
            body: json!({}),
        };
        // A known id that looks like the placeholder is escaped, never taken for it.
        assert_eq!(
            rendered(call),
            "POST /cloud/project/p1/database/mongodb/%7Bid%7D/user"
        );
        assert_eq!(
            service_path("p1", "mongodb", ".."),
            "/cloud/project/p1/database/mongodb/%252E%252E"
        );
        assert_eq!(
            index_entry_path("p1", "a b"),
            "/cloud/project/p1/database/service/a%20b"
        );
        assert_eq!(
            credentials_reset_path("p1", "mongodb", "s 1", "u1"),
            "/cloud/project/p1/database/mongodb/s%201/user/u1/credentials/reset"
        );
        assert_eq!(
            availability_path("p/1"),
            "/cloud/project/p%2F1/database/availability"
        );
    }

    #[test]
    fn mongodb_usernames_match_with_or_without_admin() {
        assert_eq!(username("mongodb", "app@admin"), "app");
        assert_eq!(username("mongodb", " app "), "app");
        assert_eq!(username("postgresql", "app@admin"), "app@admin");
    }

    // What apply asks the family (`Family::deletion_protected` .. `describe_live`).

    #[test]
    fn only_a_service_with_deletion_protection_on_is_protected() {
        use crate::apply::fixtures::{live, live_service};
        let live = live(vec![live_service("s1", true), live_service("s2", false)]);
        assert!(Databases.deletion_protected(Kind::DatabaseService, &live, "s1"));
        assert!(!Databases.deletion_protected(Kind::DatabaseService, &live, "s2"));
        assert!(!Databases.deletion_protected(Kind::DatabaseService, &live, "gone"));
        assert!(!Databases.deletion_protected(Kind::DatabaseUser, &live, "s1"));
    }

    #[test]
    fn a_replaced_service_loses_its_data_and_only_a_user_has_a_password_to_rotate() {
        assert!(Databases.loses_data_on_replace(Kind::DatabaseService));
        assert!(!Databases.loses_data_on_replace(Kind::DatabaseUser));
        assert!(Databases.rotatable(Kind::DatabaseUser));
        assert!(!Databases.rotatable(Kind::DatabaseService));
    }

    #[test]
    fn a_user_is_rotated_once_its_service_is_done() {
        use crate::plan::tests::{service, user};
        assert_eq!(
            Databases.rotation_needs(&user("app", "orders-db", "app", &[])),
            [Address {
                kind: Kind::DatabaseService,
                name: "orders-db".into(),
            }]
        );
        assert_eq!(Databases.rotation_needs(&service("orders-db", |_| {})), []);
    }

    #[test]
    fn a_live_service_is_named_by_its_manifest_else_by_its_description_and_a_user_by_both() {
        use crate::apply::fixtures::live_service;
        use crate::plan::tests::{live_user, manifests, service};
        let mut with_users = live_service("s2", false);
        with_users.users = Some(model::UsersState::Known {
            users: vec![live_user("u1", "app", &[])],
        });
        let scope = LiveScope::Database {
            services: vec![live_service("s1", false), with_users],
        };
        let unnamed = ManifestSet::default();
        let named = manifests(vec![service("svc-s1", |_| {})]);
        let describe = |ids: &[&str], set| Databases.describe_live(&scope, ids, set);
        assert_eq!(
            describe(&["s1"], &unnamed).as_deref(),
            Some("service \"svc-s1\"")
        );
        assert_eq!(
            describe(&["s1"], &named).as_deref(),
            Some("DatabaseService/svc-s1")
        );
        assert_eq!(describe(&["s9"], &named), None);
        assert_eq!(
            describe(&["s2", "u1"], &named).as_deref(),
            Some("user \"app\" of service \"svc-s2\"")
        );
        assert_eq!(describe(&["s2", "u9"], &named), None);
        assert_eq!(
            describe(&["s1", "u1"], &named),
            None,
            "s1's users were not read"
        );
        assert_eq!(describe(&[], &named), None);
        let stacks = LiveScope::StackMysql { stacks: Vec::new() };
        assert_eq!(Databases.describe_live(&stacks, &["s1"], &named), None);
    }

    #[test]
    fn a_live_user_whose_password_the_sink_lacks_is_listed() {
        use crate::plan::tests::{live_from_manifests, manifests, service, user};
        let dir = tempfile::tempdir().unwrap();
        let endpoint = crate::ovh::Endpoint::parse("http://127.0.0.1:9/1.0").unwrap();
        let set = manifests(vec![
            service("orders-db", |_| {}),
            user("app", "orders-db", "app", &["readWrite@admin"]),
        ]);
        let unknown =
            Databases.passwords_unknown(dir.path(), &endpoint, &set, &live_from_manifests(&set));
        assert_eq!(
            unknown
                .iter()
                .map(|u| u.address.to_string())
                .collect::<Vec<_>>(),
            ["DatabaseUser/app"]
        );
        assert!(!unknown[0].intent);
        let none = Databases.passwords_unknown(dir.path(), &endpoint, &set, &LiveState::default());
        assert_eq!(none, []);
    }
}
