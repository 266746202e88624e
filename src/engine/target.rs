//! What a planned call touches: its path parsed into a `Target` (which collection or object of
//! which API family), so a step knows how to issue the call, how to find the object again by
//! identity and how to tell it is done. Also the placeholders (`{id}`) a plan leaves where an
//! id is learned only while applying.
//!
//! The plan's paths are the source of truth; this module only reads them and derives the
//! neighbouring paths a step needs (the object after a create, the task of a hosting write).

use std::fmt;

/// A collection or object of the API, as named by a planned call's path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// `/cloud/project/{project}/database/{engine}`
    Services { project: String, engine: String },
    /// `/cloud/project/{project}/database/{engine}/{id}`
    Service {
        project: String,
        engine: String,
        id: String,
    },
    /// `.../database/{engine}/{service}/user`
    Users {
        project: String,
        engine: String,
        service: String,
    },
    /// `.../database/{engine}/{service}/user/{id}`
    User {
        project: String,
        engine: String,
        service: String,
        id: String,
    },
    /// `/hosting/web/{hosting}/attachedDomain`
    AttachedDomains { hosting: String },
    /// `/hosting/web/{hosting}/attachedDomain/{domain}`
    AttachedDomain { hosting: String, domain: String },
    /// `/hosting/web/{hosting}/ssl`
    Ssl { hosting: String },
    /// `/hosting/web/{hosting}/ssl/regenerate`
    SslRegenerate { hosting: String },
    /// `/hosting/web/{hosting}/database`
    HostingDatabases { hosting: String },
    /// `/hosting/web/{hosting}/database/{name}`
    HostingDatabase { hosting: String, name: String },
    /// `/stackMysql`
    Stacks,
    /// `/stackMysql/{id}`
    Stack { id: String },
}

impl Target {
    /// Parses a planned call's path (no query string); `None` for a path no step knows.
    pub fn parse(path: &str) -> Option<Target> {
        let path = path.split('?').next().unwrap_or_default();
        let parts: Vec<String> = path
            .strip_prefix('/')?
            .split('/')
            .map(str::to_owned)
            .collect();
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        let owned = |s: &str| s.to_owned();
        Some(match parts.as_slice() {
            ["cloud", "project", project, "database", engine] => Target::Services {
                project: owned(project),
                engine: owned(engine),
            },
            ["cloud", "project", project, "database", engine, id] => Target::Service {
                project: owned(project),
                engine: owned(engine),
                id: owned(id),
            },
            ["cloud", "project", project, "database", engine, service, "user"] => Target::Users {
                project: owned(project),
                engine: owned(engine),
                service: owned(service),
            },
            ["cloud", "project", project, "database", engine, service, "user", id] => {
                Target::User {
                    project: owned(project),
                    engine: owned(engine),
                    service: owned(service),
                    id: owned(id),
                }
            }
            ["hosting", "web", hosting, "attachedDomain"] => Target::AttachedDomains {
                hosting: owned(hosting),
            },
            ["hosting", "web", hosting, "attachedDomain", domain] => Target::AttachedDomain {
                hosting: owned(hosting),
                domain: owned(domain),
            },
            ["hosting", "web", hosting, "ssl"] => Target::Ssl {
                hosting: owned(hosting),
            },
            ["hosting", "web", hosting, "ssl", "regenerate"] => Target::SslRegenerate {
                hosting: owned(hosting),
            },
            ["hosting", "web", hosting, "database"] => Target::HostingDatabases {
                hosting: owned(hosting),
            },
            ["hosting", "web", hosting, "database", name] => Target::HostingDatabase {
                hosting: owned(hosting),
                name: owned(name),
            },
            ["stackMysql"] => Target::Stacks,
            ["stackMysql", id] => Target::Stack { id: owned(id) },
            _ => return None,
        })
    }

    /// The path of this target.
    pub fn path(&self) -> String {
        match self {
            Target::Services { project, engine } => services_path(project, engine),
            Target::Service {
                project,
                engine,
                id,
            } => format!("{}/{}", services_path(project, engine), segment(id)),
            Target::Users {
                project,
                engine,
                service,
            } => users_path(project, engine, service),
            Target::User {
                project,
                engine,
                service,
                id,
            } => format!("{}/{}", users_path(project, engine, service), segment(id)),
            Target::AttachedDomains { hosting } => {
                format!("{}/attachedDomain", hosting_path(hosting))
            }
            Target::AttachedDomain { hosting, domain } => format!(
                "{}/attachedDomain/{}",
                hosting_path(hosting),
                segment(domain)
            ),
            Target::Ssl { hosting } => format!("{}/ssl", hosting_path(hosting)),
            Target::SslRegenerate { hosting } => {
                format!("{}/ssl/regenerate", hosting_path(hosting))
            }
            Target::HostingDatabases { hosting } => format!("{}/database", hosting_path(hosting)),
            Target::HostingDatabase { hosting, name } => {
                format!("{}/database/{}", hosting_path(hosting), segment(name))
            }
            Target::Stacks => "/stackMysql".to_owned(),
            Target::Stack { id } => format!("/stackMysql/{}", segment(id)),
        }
    }

    /// The id segments still holding a placeholder (`{id}`).
    pub fn placeholders(&self) -> Vec<&str> {
        let ids: Vec<&String> = match self {
            Target::Service { id, .. }
            | Target::Stack { id }
            | Target::AttachedDomain { domain: id, .. }
            | Target::HostingDatabase { name: id, .. } => vec![id],
            Target::Users { service, .. } => vec![service],
            Target::User { service, id, .. } => vec![service, id],
            _ => vec![],
        };
        ids.into_iter()
            .filter(|s| is_placeholder(s))
            .map(String::as_str)
            .collect()
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path())
    }
}

/// `{id}`-style: a value the plan could not know.
pub(crate) fn is_placeholder(segment: &str) -> bool {
    segment.len() > 2 && segment.starts_with('{') && segment.ends_with('}')
}

pub(crate) fn services_path(project: &str, engine: &str) -> String {
    format!(
        "/cloud/project/{}/database/{}",
        segment(project),
        segment(engine)
    )
}

pub(crate) fn service_path(project: &str, engine: &str, id: &str) -> String {
    format!("{}/{}", services_path(project, engine), segment(id))
}

pub(crate) fn users_path(project: &str, engine: &str, service: &str) -> String {
    format!("{}/user", service_path(project, engine, service))
}

pub(crate) fn user_path(project: &str, engine: &str, service: &str, id: &str) -> String {
    format!("{}/{}", users_path(project, engine, service), segment(id))
}

pub(crate) fn hosting_path(hosting: &str) -> String {
    format!("/hosting/web/{}", segment(hosting))
}

pub(crate) fn task_path(hosting: &str, task: i64) -> String {
    format!("{}/tasks/{task}", hosting_path(hosting))
}

pub(crate) use crate::ovh::path_segment as segment;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_planned_path_parses_and_prints_back() {
        for path in [
            "/cloud/project/p1/database/mongodb",
            "/cloud/project/p1/database/mongodb/0f6b",
            "/cloud/project/p1/database/mongodb/0f6b/user",
            "/cloud/project/p1/database/mongodb/0f6b/user/u1",
            "/hosting/web/h1.cluster021.hosting.ovh.net/attachedDomain",
            "/hosting/web/h1.cluster021.hosting.ovh.net/attachedDomain/www.shop.example",
            "/hosting/web/h1.cluster021.hosting.ovh.net/ssl",
            "/hosting/web/h1.cluster021.hosting.ovh.net/ssl/regenerate",
            "/hosting/web/h1.cluster021.hosting.ovh.net/database",
            "/hosting/web/h1.cluster021.hosting.ovh.net/database/h1shop.mysql.db",
            "/stackMysql",
            "/stackMysql/5d1c",
        ] {
            let target = Target::parse(path).unwrap_or_else(|| panic!("{path}"));
            assert_eq!(target.path(), path);
        }
        assert_eq!(Target::parse("/me"), None);
        assert_eq!(Target::parse("cloud/project/p1/database/mongodb"), None);
        assert_eq!(
            Target::parse("/hosting/web/h/attachedDomain/a/restart"),
            None
        );
    }

    #[test]
    fn placeholders_are_the_ids_the_plan_could_not_know() {
        let user = Target::parse("/cloud/project/p1/database/mongodb/{id}/user").unwrap();
        assert_eq!(user.placeholders(), ["{id}"]);
        let service = Target::parse("/cloud/project/p1/database/mongodb/{id}").unwrap();
        assert_eq!(service.placeholders(), ["{id}"]);
        let known = Target::parse("/cloud/project/p1/database/mongodb/abc/user/u1").unwrap();
        assert!(known.placeholders().is_empty());
        assert!(!is_placeholder("{}"));
    }
}
