//! Resuming Web Hosting objects (`engine::resume`): an attached domain, SSL certificate or
//! hosting database the plan leaves alone while it is still on its way to `created`.

use super::domain as domain_key;
use super::engine::{resume_database, resume_domain, resume_ssl, ON_THE_WAY};
use crate::engine::resume::known;
use crate::engine::step::{Step, StepResult};
use crate::live::{LiveScope, LiveState, Scope};
use crate::manifest::model::{Address, ManifestSet, Spec};

/// What to wait for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resume {
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
}

impl Resume {
    pub(crate) fn live_id(&self) -> &str {
        match self {
            Resume::Domain { domain, .. } => domain,
            Resume::Ssl { hosting, .. } => hosting,
            Resume::HostingDatabase { name, .. } => name,
        }
    }

    pub(crate) async fn wait(&self, step: &mut Step<'_, '_>) -> StepResult<()> {
        match self {
            Resume::Domain {
                hosting,
                domain,
                status,
                task,
            } => resume_domain(step, hosting, domain, *task, status).await,
            Resume::Ssl { hosting, status } => resume_ssl(step, hosting, status).await,
            Resume::HostingDatabase {
                hosting,
                name,
                status,
            } => resume_database(step, hosting, name, status).await,
        }
    }
}

/// Hosting statuses on the way to `created`: the ones the hosting step waits through.
fn busy(status: &str) -> bool {
    ON_THE_WAY.contains(&status)
}

/// The wait for the hosting object behind `spec`, when it is on its way.
pub(super) fn resume_for(
    _address: &Address,
    spec: &Spec,
    manifests: &ManifestSet,
    live: &LiveState,
    _id: Option<&str>,
) -> Option<Resume> {
    let defaults = &manifests.defaults;
    let hosting_of = |h: &Option<String>| h.clone().or_else(|| defaults.hosting.clone());
    match spec {
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
            busy(&found.status).then(|| Resume::Domain {
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
            busy(&found.status).then(|| Resume::Ssl {
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
            busy(&found.status).then(|| Resume::HostingDatabase {
                hosting,
                name: found.name.clone(),
                status: found.status.clone(),
            })
        }
        _ => None,
    }
}
