//! Resuming database objects (`engine::resume`): a service or user the plan leaves alone while
//! the API still has it `CREATING`, `PENDING` or `UPDATING` (or, for a service whose manifest
//! owns the IP list, an entry not yet `READY`).

use super::engine::{resume_service, resume_user};
use super::username as username_key;
use crate::engine::resume::known;
use crate::engine::step::{Step, StepResult};
use crate::live::{LiveScope, LiveState, Scope, UsersState};
use crate::manifest::model::{Address, Kind, ManifestSet, Spec};

/// What to wait for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resume {
    Service {
        project: String,
        engine: String,
        id: String,
        status: String,
    },
    User {
        project: String,
        engine: String,
        service: String,
        id: String,
        status: String,
    },
}

impl Resume {
    pub(crate) fn live_id(&self) -> &str {
        match self {
            Resume::Service { id, .. } | Resume::User { id, .. } => id,
        }
    }

    pub(crate) async fn wait(&self, step: &mut Step<'_, '_>) -> StepResult<()> {
        match self {
            Resume::Service {
                project,
                engine,
                id,
                status,
            } => resume_service(step, project, engine, id, status).await,
            Resume::User {
                project,
                engine,
                service,
                id,
                status,
            } => resume_user(step, project, engine, service, id, status).await,
        }
    }
}

/// Database statuses on the way to `READY`.
fn busy(status: &str) -> bool {
    ["CREATING", "PENDING", "UPDATING"].contains(&status)
}

/// The wait for the service or user behind `spec`, when its live object is on its way
/// (`id`: the live object the plan lists in progress, when it does).
pub(super) fn resume_for(
    address: &Address,
    spec: &Spec,
    manifests: &ManifestSet,
    live: &LiveState,
    id: Option<&str>,
) -> Option<Resume> {
    let is = |live_id: &str| id.is_none_or(|id| id == live_id);
    let defaults = &manifests.defaults;
    match spec {
        Spec::DatabaseService(service) => {
            let project = service
                .project
                .clone()
                .or_else(|| defaults.project.clone())?;
            let scope = Scope::Database {
                project: project.clone(),
                engine: service.engine.clone(),
            };
            let LiveScope::Database { services } = known(live, &scope)? else {
                return None;
            };
            let found = services
                .iter()
                .find(|s| s.description == address.name && s.status != "DELETING" && is(&s.id))?;
            // IP entries still PENDING keep the service busy when the manifest owns the list.
            let ips_pending = service.ip_restrictions.is_some()
                && found.ip_restrictions.iter().any(|e| e.status != "READY");
            (busy(&found.status) || ips_pending).then(|| Resume::Service {
                project,
                engine: service.engine.clone(),
                id: found.id.clone(),
                status: found.status.clone(),
            })
        }
        Spec::DatabaseUser(user) => {
            let parent = manifests.get(&Address {
                kind: Kind::DatabaseService,
                name: user.service.clone(),
            })?;
            let Spec::DatabaseService(service) = &parent.spec else {
                return None;
            };
            let project = service
                .project
                .clone()
                .or_else(|| defaults.project.clone())?;
            let engine = service.engine.clone();
            let scope = Scope::Database {
                project: project.clone(),
                engine: engine.clone(),
            };
            let LiveScope::Database { services } = known(live, &scope)? else {
                return None;
            };
            let key = username_key(&engine, &user.username);
            let (parent, found) = services
                .iter()
                .filter(|s| s.description == user.service && s.status != "DELETING")
                .find_map(|parent| {
                    let Some(UsersState::Known { users }) = &parent.users else {
                        return None;
                    };
                    let found = users.iter().find(|u| {
                        username_key(&engine, &u.username) == key
                            && u.status != "DELETING"
                            && is(&u.id)
                    })?;
                    Some((parent, found))
                })?;
            busy(&found.status).then(|| Resume::User {
                project,
                engine,
                service: parent.id.clone(),
                id: found.id.clone(),
                status: found.status.clone(),
            })
        }
        _ => None,
    }
}
