//! The manifest kinds of Web Hosting: `HostingAttachedDomain`, `HostingSsl`,
//! `HostingDatabase`.

use crate::manifest::model::SecretRef;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ActiveOrNone {
    Active,
    None,
}

/// A domain attached to a Web Hosting; identity: `domain` within the hosting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HostingAttachedDomainSpec {
    /// Web Hosting service name; default: `hosting` in reconcile.yaml.
    pub hosting: Option<String>,
    /// Fully qualified domain name. Changing it replaces.
    pub domain: String,
    /// Folder, relative to the hosting's home, e.g. `www`.
    pub path: String,
    /// Include the domain in the hosting's SSL certificate.
    pub ssl: Option<bool>,
    pub cdn: Option<ActiveOrNone>,
    pub firewall: Option<ActiveOrNone>,
    /// A domain of the hosting to keep separate logs under.
    pub own_log: Option<String>,
    pub runtime_id: Option<i64>,
}

/// The SSL certificate of a Web Hosting (one per hosting). Without `certificate`, the free
/// Let's Encrypt certificate covering the domains attached with `ssl: true`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HostingSslSpec {
    /// Web Hosting service name; default: `hosting` in reconcile.yaml.
    pub hosting: Option<String>,
    /// A custom certificate (PEM) to import instead of the free one.
    pub certificate: Option<SecretRef>,
    /// The custom certificate's private key (PEM); required with `certificate`.
    pub key: Option<SecretRef>,
    /// The custom certificate's chain (PEM).
    pub chain: Option<SecretRef>,
}

/// A database of a Web Hosting; identity: the database `user` within the hosting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HostingDatabaseSpec {
    /// Web Hosting service name; default: `hosting` in reconcile.yaml.
    pub hosting: Option<String>,
    /// The offer it is created under (the API's `capabilitie`): sqlPerso, extraSqlPerso,
    /// privateDatabase, ...
    pub capability: String,
    /// mysql, mariadb, postgresql, redis. Changing it replaces.
    #[serde(rename = "type")]
    pub engine: String,
    /// Database user; must begin with the hosting's primary login, lower case. Changing it replaces.
    pub user: String,
    pub version: Option<String>,
    /// Quota in MB (extraSqlPerso only).
    pub quota: Option<u32>,
    /// The password, from the environment or a file; never written inline.
    pub password: SecretRef,
}
