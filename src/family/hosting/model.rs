//! Web Hosting as the live read shows it: one hosting's attached domains, SSL and databases.

use serde::{Deserialize, Serialize};
use serde_json::Value;

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
