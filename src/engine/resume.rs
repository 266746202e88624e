//! Resuming: a resource the plan leaves alone (its live object already has the manifest's
//! fields) while the API is still working on it: a service still `CREATING` after an earlier
//! run spent its wait budget, a domain whose task is running, a stack still `creating`. The
//! planner compares fields, not statuses, so such a resource is `unchanged`; the engine then
//! waits for it (no write), as one more step marked `resumed`, so that a run which timed out
//! is followed by one that finishes the wait instead of re-issuing calls or reporting success
//! too early.
//!
//! Objects on their way out (`DELETING`) are absent for the planner and are not waited for
//! here; IP restriction entries are not waited for (see `database`).

use super::step::{Step, StepResult, Work};
use crate::family::{
    database::engine as database, hosting::engine as hosting, stack::engine as stack,
};
use crate::live::{LiveScope, LiveState, Scope, ScopeState, UsersState};
use crate::manifest::model::{Address, ManifestSet, Spec};
use crate::plan::{Action, Change, Plan};

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
    Domain {
        hosting: String,
        domain: String,
        status: String,
        task: Option<i64>,
    },
    Ssl {
        hosting: String,
        status: String,
    },
    HostingDatabase {
        hosting: String,
        name: String,
        status: String,
    },
    Stack {
        id: String,
        status: String,
    },
}

impl Resume {
    fn live_id(&self) -> &str {
        match self {
            Resume::Service { id, .. } | Resume::User { id, .. } | Resume::Stack { id, .. } => id,
            Resume::Domain { domain, .. } => domain,
            Resume::Ssl { hosting, .. } => hosting,
            Resume::HostingDatabase { name, .. } => name,
        }
    }
}

/// Database statuses on the way to `READY`.
fn database_busy(status: &str) -> bool {
    ["CREATING", "PENDING", "UPDATING"].contains(&status)
}

/// Hosting statuses on the way to `created`: the ones the hosting step waits through.
fn hosting_busy(status: &str) -> bool {
    crate::family::hosting::engine::ON_THE_WAY.contains(&status)
}

use crate::family::database::username as username_key;
use crate::family::hosting::domain as domain_key;

/// The waits for the `unchanged` resources of `plan` whose live object is still transitional,
/// as work after the plan's changes. Where the plan lists the resource in progress, its id
/// says which live object that is (the managed one, when twins share its identity).
pub(crate) fn works(plan: &Plan, manifests: &ManifestSet, live: &LiveState) -> Vec<Work> {
    plan.unchanged
        .iter()
        .filter_map(|address| {
            let resource = manifests.get(address)?;
            let id = plan
                .in_progress
                .iter()
                .find(|p| &p.address == address)
                .map(|p| p.id.as_str());
            let resume = resume_for(address, &resource.spec, manifests, live, id)?;
            Some(Work {
                change: Change {
                    address: address.clone(),
                    action: Action::Update,
                    wave: 0,
                    fields: Vec::new(),
                    calls: Vec::new(),
                    live_id: Some(resume.live_id().to_owned()),
                    depends_on: Vec::new(),
                },
                resume: Some(resume),
            })
        })
        .collect()
}

fn known<'l>(live: &'l LiveState, scope: &Scope) -> Option<&'l LiveScope> {
    match live.scopes.get(scope)? {
        ScopeState::Known(known) => Some(known),
        ScopeState::Unknown { .. } => None,
    }
}

fn resume_for(
    address: &Address,
    spec: &Spec,
    manifests: &ManifestSet,
    live: &LiveState,
    id: Option<&str>,
) -> Option<Resume> {
    let is = |live_id: &str| id.is_none_or(|id| id == live_id);
    let defaults = &manifests.defaults;
    let hosting_of = |h: &Option<String>| h.clone().or_else(|| defaults.hosting.clone());
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
            (database_busy(&found.status) || ips_pending).then(|| Resume::Service {
                project,
                engine: service.engine.clone(),
                id: found.id.clone(),
                status: found.status.clone(),
            })
        }
        Spec::DatabaseUser(user) => {
            let parent = manifests.get(&Address {
                kind: crate::manifest::model::Kind::DatabaseService,
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
            database_busy(&found.status).then(|| Resume::User {
                project,
                engine,
                service: parent.id.clone(),
                id: found.id.clone(),
                status: found.status.clone(),
            })
        }
        Spec::HostingAttachedDomain(domain) => {
            let hosting = hosting_of(&domain.hosting)?;
            let LiveScope::Hosting(live_hosting) = known(
                live,
                &Scope::Hosting {
                    hosting: hosting.clone(),
                },
            )?
            else {
                return None;
            };
            let key = domain_key(&domain.domain);
            let found = live_hosting
                .attached_domains
                .iter()
                .find(|d| domain_key(&d.domain) == key)?;
            hosting_busy(&found.status).then(|| Resume::Domain {
                hosting,
                domain: found.domain.clone(),
                status: found.status.clone(),
                task: found.task_id,
            })
        }
        Spec::HostingSsl(ssl) => {
            let hosting = hosting_of(&ssl.hosting)?;
            let LiveScope::Hosting(live_hosting) = known(
                live,
                &Scope::Hosting {
                    hosting: hosting.clone(),
                },
            )?
            else {
                return None;
            };
            let found = live_hosting.ssl.as_ref()?;
            hosting_busy(&found.status).then(|| Resume::Ssl {
                hosting,
                status: found.status.clone(),
            })
        }
        Spec::HostingDatabase(database) => {
            let hosting = hosting_of(&database.hosting)?;
            let LiveScope::Hosting(live_hosting) = known(
                live,
                &Scope::Hosting {
                    hosting: hosting.clone(),
                },
            )?
            else {
                return None;
            };
            let found = live_hosting
                .databases
                .iter()
                .find(|d| d.user.eq_ignore_ascii_case(&database.user))?;
            hosting_busy(&found.status).then(|| Resume::HostingDatabase {
                hosting,
                name: found.name.clone(),
                status: found.status.clone(),
            })
        }
        Spec::ManagedStackMysql(_) => {
            let LiveScope::StackMysql { stacks } = known(live, &Scope::StackMysql)? else {
                return None;
            };
            let claims = stack::planner_claims(stacks, manifests);
            let found = claims.get(address)?;
            (!found.active).then(|| Resume::Stack {
                id: found.id.clone(),
                status: "inactive".into(),
            })
        }
    }
}

/// Waits for what `resume` names.
pub(crate) async fn wait(step: &mut Step<'_, '_>, resume: &Resume) -> StepResult<()> {
    tracing::info!(
        address = %step.address(),
        "no change planned but the api is still working on it: waiting"
    );
    match resume {
        Resume::Service {
            project,
            engine,
            id,
            status,
        } => database::resume_service(step, project, engine, id, status).await,
        Resume::User {
            project,
            engine,
            service,
            id,
            status,
        } => database::resume_user(step, project, engine, service, id, status).await,
        Resume::Domain {
            hosting,
            domain,
            status,
            task,
        } => hosting::resume_domain(step, hosting, domain, *task, status).await,
        Resume::Ssl { hosting, status } => hosting::resume_ssl(step, hosting, status).await,
        Resume::HostingDatabase {
            hosting,
            name,
            status,
        } => hosting::resume_database(step, hosting, name, status).await,
        Resume::Stack { id, .. } => stack::wait_active(step, id, false).await,
    }
}
