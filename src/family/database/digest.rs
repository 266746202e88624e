//! The digests of a database scope, for apply's stale-plan guard (`plan::digest`): its keys
//! (`DigestKey`, rendered as a saved plan's `digests` keys) and `digest`, which fills them.
//!
//! Keys: `database/{project}/{engine}` (the service ids), `database/{project}/{engine}/{id}`,
//! `database/{project}/{engine}/{id}/user` (the user ids, when read),
//! `database/{project}/{engine}/{id}/user/{userId}`.

use super::normalise::is_leaving;
use crate::family;
use crate::live::{LiveScope, Scope, UsersState};
use crate::manifest::model::Kind;
use crate::plan::Digests;
use std::fmt;

/// What one digest of a database scope digests: a service or user, or a listing of them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DigestKey {
    /// `database/{project}/{engine}`: the ids of the services of one engine in one project.
    Services { project: String, engine: String },
    /// `database/{project}/{engine}/{id}`.
    Service {
        project: String,
        engine: String,
        id: String,
    },
    /// `database/{project}/{engine}/{service}/user`: the user ids of a service (when read).
    Users {
        project: String,
        engine: String,
        service: String,
    },
    /// `database/{project}/{engine}/{service}/user/{id}`.
    User {
        project: String,
        engine: String,
        service: String,
        id: String,
    },
}

impl fmt::Display for DigestKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DigestKey::Services { project, engine } => write!(f, "database/{project}/{engine}"),
            DigestKey::Service {
                project,
                engine,
                id,
            } => write!(f, "database/{project}/{engine}/{id}"),
            DigestKey::Users {
                project,
                engine,
                service,
            } => write!(f, "database/{project}/{engine}/{service}/user"),
            DigestKey::User {
                project,
                engine,
                service,
                id,
            } => write!(f, "database/{project}/{engine}/{service}/user/{id}"),
        }
    }
}

impl DigestKey {
    /// What the key digests, in words (`family::DigestKey::label`).
    pub(crate) fn label(&self, names: &dyn family::KeyNames) -> Option<String> {
        let scope = |project: &str, engine: &str| Scope::Database {
            project: project.to_owned(),
            engine: engine.to_owned(),
        };
        match self {
            DigestKey::Services { project, engine } => {
                Some(format!("the {engine} services of project {project}"))
            }
            DigestKey::Service {
                project,
                engine,
                id,
            } => names
                .planned(id)
                .or_else(|| names.live(scope(project, engine), &[id])),
            DigestKey::Users { service, .. } => Some(format!("the users of service {service}")),
            DigestKey::User {
                project,
                engine,
                service,
                id,
            } => names
                .planned(id)
                .or_else(|| names.live(scope(project, engine), &[service, id])),
        }
    }

    /// The listings a scope always has, whatever it holds: its services.
    pub(crate) fn listings(project: &str, engine: &str) -> Vec<DigestKey> {
        vec![DigestKey::Services {
            project: project.to_owned(),
            engine: engine.to_owned(),
        }]
    }

    /// For a listing: the kind of the objects it lists.
    pub(crate) fn lists(&self) -> Option<Kind> {
        match self {
            DigestKey::Services { .. } => Some(Kind::DatabaseService),
            DigestKey::Users { .. } => Some(Kind::DatabaseUser),
            DigestKey::Service { .. } | DigestKey::User { .. } => None,
        }
    }

    /// For a listing: the key of its object `id`.
    pub(crate) fn child(&self, id: &str) -> Option<DigestKey> {
        let id = id.to_owned();
        match self {
            DigestKey::Services { project, engine } => Some(DigestKey::Service {
                project: project.clone(),
                engine: engine.clone(),
                id,
            }),
            DigestKey::Users {
                project,
                engine,
                service,
            } => Some(DigestKey::User {
                project: project.clone(),
                engine: engine.clone(),
                service: service.clone(),
                id,
            }),
            DigestKey::Service { .. } | DigestKey::User { .. } => None,
        }
    }

    /// For an object: the listings under it (a service's users).
    pub(crate) fn listings_under(&self) -> Vec<DigestKey> {
        match self {
            DigestKey::Service {
                project,
                engine,
                id,
            } => vec![DigestKey::Users {
                project: project.clone(),
                engine: engine.clone(),
                service: id.clone(),
            }],
            DigestKey::Services { .. } | DigestKey::Users { .. } | DigestKey::User { .. } => {
                Vec::new()
            }
        }
    }
}

impl From<DigestKey> for family::DigestKey {
    fn from(key: DigestKey) -> Self {
        family::DigestKey::Database(key)
    }
}

/// The digests of a database scope: its services, each one's users when read.
pub(super) fn digest(scope: &Scope, live: &LiveScope, out: &mut Digests) {
    let (Scope::Database { project, engine }, LiveScope::Database { services }) = (scope, live)
    else {
        return;
    };
    let services: Vec<_> = services.iter().filter(|s| !is_leaving(&s.status)).collect();
    let listing = DigestKey::Services {
        project: project.clone(),
        engine: engine.clone(),
    };
    out.listing(listing, services.iter().map(|s| s.id.as_str()));
    for service in services {
        let key = DigestKey::Service {
            project: project.clone(),
            engine: engine.clone(),
            id: service.id.clone(),
        };
        out.object(key, service);
        if let Some(UsersState::Known { users }) = &service.users {
            let users: Vec<_> = users.iter().filter(|u| !is_leaving(&u.status)).collect();
            let listing = DigestKey::Users {
                project: project.clone(),
                engine: engine.clone(),
                service: service.id.clone(),
            };
            out.listing(listing, users.iter().map(|u| u.id.as_str()));
            for user in users {
                let key = DigestKey::User {
                    project: project.clone(),
                    engine: engine.clone(),
                    service: service.id.clone(),
                    id: user.id.clone(),
                };
                out.object(key, user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text is a contract (saved plans' `digests` keys): every key renders exactly as
    /// before, and a listing's objects and sub-listings render under it.
    #[test]
    fn keys_render_as_saved_plans_hold_them() {
        let services = &DigestKey::listings("p1", "mongodb")[..];
        let [services] = services else {
            panic!("one listing per scope: {services:?}")
        };
        assert_eq!(services.to_string(), "database/p1/mongodb");
        assert_eq!(services.lists(), Some(Kind::DatabaseService));
        let service = services.child("svc-1").unwrap();
        assert_eq!(service.to_string(), "database/p1/mongodb/svc-1");
        assert_eq!(service.lists(), None);
        assert_eq!(service.child("x"), None);
        let [users] = &service.listings_under()[..] else {
            panic!("a service lists its users")
        };
        assert_eq!(users.to_string(), "database/p1/mongodb/svc-1/user");
        assert_eq!(users.lists(), Some(Kind::DatabaseUser));
        let user = users.child("u-1").unwrap();
        assert_eq!(user.to_string(), "database/p1/mongodb/svc-1/user/u-1");
        assert_eq!(user.listings_under(), Vec::new());
        assert_eq!(
            family::DigestKey::from(user).to_string(),
            "database/p1/mongodb/svc-1/user/u-1"
        );
    }
}
