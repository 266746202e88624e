//! Public Cloud Databases as the live read shows them: services, their IP list and users, and
//! a project's catalogue (what can be ordered, for preflight).

use crate::live::{LiveScope, LiveState, Scope, ScopeState};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeSet;

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
