//! What the live API holds, as read for a plan: the scopes the manifests touch, each either
//! known (its objects) or unknown (the read failed: nothing may be created or deleted there).
//!
//! Values are kept as the API answered them (`raw`) plus the typed fields the planner compares;
//! normalisation (CIDR form, `@admin`, list order) is the planner's job, not the reader's.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A part of the API read as a whole: a list the planner needs complete to decide creates and
/// deletes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Scope {
    /// `/cloud/project/{project}/database/{engine}`: the services of one engine in one project
    /// (and, for the services a manifest names, their users).
    Database { project: String, engine: String },
    /// `/hosting/web/{hosting}`: attached domains, SSL, databases.
    Hosting { hosting: String },
    /// `/stackMysql`: every managed MySQL stack.
    StackMysql,
}

/// The engine of `Scope::Database` standing for every engine of a project whose service
/// index could not be read (the engines no manifest names are then unknown).
pub const ANY_ENGINE: &str = "*";

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Database { project, engine } if engine == ANY_ENGINE => {
                write!(f, "databases of every engine in project {project}")
            }
            Scope::Database { project, engine } => {
                write!(f, "database {engine} in project {project}")
            }
            Scope::Hosting { hosting } => write!(f, "hosting {hosting}"),
            Scope::StackMysql => f.write_str("managed MySQL stacks"),
        }
    }
}

/// Everything read for one plan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveState {
    pub scopes: BTreeMap<Scope, ScopeState>,
    /// The database catalogue of each project read (`availability`), for preflight checks;
    /// absent when it could not be read.
    pub catalogues: BTreeMap<String, Catalogue>,
    /// How many API calls the read made (for the benchmark and `-v`).
    pub calls: usize,
}

impl LiveState {
    /// The ids of every database service read in `project`, whatever the engine.
    pub fn database_ids(&self, project: &str) -> BTreeSet<String> {
        self.scopes
            .iter()
            .filter_map(|(scope, state)| match (scope, state) {
                (
                    Scope::Database { project: p, .. },
                    ScopeState::Known(LiveScope::Database { services }),
                ) if p == project => Some(services.iter().map(|s| s.id.clone())),
                _ => None,
            })
            .flatten()
            .collect()
    }

    /// The services of `engine` in `project`, when that scope was read whole.
    pub fn database_services(&self, project: &str, engine: &str) -> Option<&[LiveService]> {
        let scope = Scope::Database {
            project: project.to_owned(),
            engine: engine.to_owned(),
        };
        match self.scopes.get(&scope)? {
            ScopeState::Known(LiveScope::Database { services }) => Some(services),
            _ => None,
        }
    }
}

// A handful of these exist per plan; boxing would only add indirection to every match.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum ScopeState {
    Known(LiveScope),
    /// The read failed transiently (5xx, 429, timeout): the scope is unknown, never "empty".
    Unknown {
        reason: String,
    },
}

#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "family", rename_all = "camelCase")]
pub enum LiveScope {
    Database { services: Vec<LiveService> },
    Hosting(LiveHosting),
    StackMysql { stacks: Vec<LiveStack> },
}

/// A database service as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveService {
    pub id: String,
    pub engine: String,
    pub description: String,
    /// CREATING, READY, UPDATING, DELETING, ...
    pub status: String,
    /// `createdAt` as answered (empty when absent): the oldest of twins is the managed one.
    #[serde(default)]
    pub created_at: String,
    pub plan: String,
    pub version: String,
    pub flavor: String,
    pub node_count: u32,
    /// Region of the first node.
    pub region: String,
    /// Disk size in GB.
    pub storage: Option<u32>,
    pub network_id: Option<String>,
    pub subnet_id: Option<String>,
    pub ip_restrictions: Vec<LiveIpRestriction>,
    pub maintenance_time: Option<String>,
    pub deletion_protection: Option<bool>,
    /// Read only for services a manifest names (N+1 reads); `None` when not read.
    pub users: Option<UsersState>,
    /// The Service object exactly as answered (for digests and `--show-calls` context).
    pub raw: Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveIpRestriction {
    pub ip: String,
    pub description: String,
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum UsersState {
    Known { users: Vec<LiveUser> },
    Unknown { reason: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveUser {
    pub id: String,
    /// As the API shows it (mongodb: `name@admin`).
    pub username: String,
    pub roles: Vec<String>,
    pub status: String,
    /// `createdAt` as answered (empty when absent): the oldest of twins is the managed one.
    #[serde(default)]
    pub created_at: String,
    pub raw: Value,
}

/// One Web Hosting's managed objects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveHosting {
    /// `primaryLogin`, which hosting database users must start with.
    pub primary_login: String,
    /// `defaultAttachedDomain`: attached from the hosting's start, never detached.
    pub default_attached_domain: Option<String>,
    pub attached_domains: Vec<LiveAttachedDomain>,
    pub ssl: Option<LiveSsl>,
    pub databases: Vec<LiveHostingDatabase>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveAttachedDomain {
    pub domain: String,
    pub path: String,
    pub ssl: Option<bool>,
    pub cdn: Option<String>,
    pub firewall: Option<String>,
    pub own_log: Option<String>,
    pub runtime_id: Option<i64>,
    /// created, creating, updating, deleting.
    pub status: String,
    pub task_id: Option<i64>,
    pub raw: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveSsl {
    /// COMODO, CUSTOM, LETSENCRYPT.
    pub provider: String,
    pub status: String,
    /// Domains the certificate covers (`ssl/domains`).
    pub domains: Vec<String>,
    pub raw: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveHostingDatabase {
    pub name: String,
    pub user: String,
    /// mysql, mariadb, postgresql, redis.
    pub engine: String,
    pub version: Option<String>,
    /// Quota in MB.
    pub quota: Option<u32>,
    pub status: String,
    pub raw: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveStack {
    /// The cluster id, as `GET /stackMysql` lists it (a number, kept as its text).
    pub id: String,
    /// How many nodes `GET /stackMysql/{id}` shows.
    pub nodes: u32,
    /// `active` in `GET /stackMysql/{id}`: false while the cluster is being built.
    pub active: bool,
    pub raw: Value,
}

/// The database offers of one project, for preflight checks.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Catalogue {
    pub offers: Vec<Offer>,
}

/// One row of `availability`: an engine, version, plan, flavor and region that can be ordered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Offer {
    pub engine: String,
    pub version: String,
    pub plan: String,
    pub flavor: String,
    pub region: String,
    /// public or private.
    pub network: String,
    pub min_nodes: u32,
    pub max_nodes: u32,
    pub min_storage: Option<u32>,
    pub max_storage: Option<u32>,
    /// STABLE, BETA, DEPRECATED, END_OF_SALE, END_OF_LIFE, UNAVAILABLE.
    pub lifecycle: String,
    pub end_of_sale: Option<String>,
    pub end_of_life: Option<String>,
}
