//! The manifest kinds of Public Cloud Databases: `DatabaseService` and `DatabaseUser`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A Public Cloud database service; identity on the API: `description == metadata.name`
/// within project and engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DatabaseServiceSpec {
    /// Public Cloud project id; default: `project` in reconcile.yaml. Changing it replaces.
    pub project: Option<String>,
    /// Engine: mongodb, postgresql, mysql, redis, valkey, kafka, opensearch, ... Changing it replaces.
    pub engine: String,
    /// Engine version, e.g. "7.0", "16". A string: quote it in YAML.
    pub version: String,
    /// Service plan, e.g. production, business.
    pub plan: String,
    pub nodes: NodesSpec,
    /// Disk size in GB; default: the offer's minimum.
    #[schemars(range(min = 1))]
    pub storage: Option<u32>,
    /// Private network; public when absent. Changing it replaces.
    pub network: Option<NetworkSpec>,
    /// The whole list of allowed IP blocks: when given, entries not listed here are removed
    /// (`[]` removes them all, closing the service); when absent, the live list is left alone.
    pub ip_restrictions: Option<Vec<IpRestrictionSpec>>,
    /// Daily maintenance window start, "HH:MM:SS".
    pub maintenance_time: Option<String>,
    /// Refuse deletion on the API and in reconcile.
    pub deletion_protection: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodesSpec {
    /// Node flavor, e.g. db2-4.
    pub flavor: String,
    /// Region, e.g. GRA. Changing it replaces.
    pub region: String,
    /// Number of nodes.
    #[schemars(range(min = 1))]
    pub count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NetworkSpec {
    pub network_id: String,
    pub subnet_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IpRestrictionSpec {
    /// An IPv4 or IPv6 block in CIDR form (a bare address means /32 or /128).
    pub ip: String,
    #[serde(default)]
    pub description: String,
}

impl IpRestrictionSpec {
    /// `ip` as a block: a bare address is a /32 (IPv4) or /128 (IPv6). None when `ip` is
    /// neither an address nor a CIDR block (`load` refuses those, and blocks with host bits
    /// set, so after `load` this is `Some` and equal to its own `trunc()`).
    pub fn block(&self) -> Option<ipnet::IpNet> {
        let ip = self.ip.trim();
        ip.parse::<ipnet::IpNet>()
            .ok()
            .or_else(|| ip.parse::<std::net::IpAddr>().ok().map(ipnet::IpNet::from))
    }
}

/// A user of a database service; identity: `username` within the referenced service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DatabaseUserSpec {
    /// `metadata.name` of a `DatabaseService` in these manifests.
    pub service: String,
    /// User name; MongoDB adds `@admin` on the API (written with or without it here).
    pub username: String,
    /// Roles, for engines that have them (mongodb: `readWrite@orders`; postgresql).
    #[serde(default)]
    pub roles: Vec<String>,
}
