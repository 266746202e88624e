//! The manifest kinds as typed values: what a user writes under `spec:`, shared by the parser,
//! the JSON Schema (`reconcile schema`), validation and the planner.
//!
//! Field names follow the OVH API where one exists. Every struct denies unknown fields, so a
//! typo is an error with a "did you mean" rather than a silently ignored line.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;

/// `apiVersion` every document must carry.
pub const API_VERSION: &str = "reconcile/v1";

/// Where something was written: file, 1-based line and column, and the byte range in the file
/// (for underlining).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Span {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub offset: usize,
    pub len: usize,
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// The kinds reconcile manages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub enum Kind {
    DatabaseService,
    DatabaseUser,
    HostingAttachedDomain,
    HostingSsl,
    HostingDatabase,
    ManagedStackMysql,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::DatabaseService,
        Kind::DatabaseUser,
        Kind::HostingAttachedDomain,
        Kind::HostingSsl,
        Kind::HostingDatabase,
        Kind::ManagedStackMysql,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::DatabaseService => "DatabaseService",
            Kind::DatabaseUser => "DatabaseUser",
            Kind::HostingAttachedDomain => "HostingAttachedDomain",
            Kind::HostingSsl => "HostingSsl",
            Kind::HostingDatabase => "HostingDatabase",
            Kind::ManagedStackMysql => "ManagedStackMysql",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `Kind/name`, how a resource is named everywhere: plan output, errors, `--rotate`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Address {
    pub kind: Kind,
    pub name: String,
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind, self.name)
    }
}

/// One validated document.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub address: Address,
    /// Where the document starts.
    pub span: Span,
    pub spec: Spec,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Spec {
    DatabaseService(DatabaseServiceSpec),
    DatabaseUser(DatabaseUserSpec),
    HostingAttachedDomain(HostingAttachedDomainSpec),
    HostingSsl(HostingSslSpec),
    HostingDatabase(HostingDatabaseSpec),
    ManagedStackMysql(ManagedStackMysqlSpec),
}

/// `reconcile.yaml` at the root of the manifest directory: defaults for every document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProjectDefaults {
    /// Public Cloud project id used by `DatabaseService` documents that do not name one.
    pub project: Option<String>,
    /// Web Hosting service name used by hosting documents that do not name one.
    pub hosting: Option<String>,
    /// API endpoint (region name or URL) when neither `--endpoint` nor `OVH_ENDPOINT` is set.
    pub endpoint: Option<String>,
}

/// Everything under a manifest directory, validated: defaults applied (every `project` and
/// `hosting` is `Some`), `${VAR}` interpolated, references checked, sorted by address.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ManifestSet {
    pub defaults: ProjectDefaults,
    pub resources: Vec<Resource>,
}

impl ManifestSet {
    pub fn get(&self, address: &Address) -> Option<&Resource> {
        self.resources.iter().find(|r| &r.address == address)
    }
}

/// A secret is never written in a manifest: it is read from the environment or a file when
/// it is needed, and shown as `(sensitive)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretRef {
    /// Name of an environment variable holding the value.
    pub from_env: Option<String>,
    /// Path (relative to the manifest file) of a file holding the value.
    pub from_file: Option<PathBuf>,
}

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
    pub storage: Option<u32>,
    /// Private network; public when absent. Changing it replaces.
    pub network: Option<NetworkSpec>,
    /// The whole list of allowed IP blocks: entries not listed here are removed.
    #[serde(default)]
    pub ip_restrictions: Vec<IpRestrictionSpec>,
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

/// A RunAbove managed MySQL stack. The API has no name or description: see docs/manifests.md
/// for how a manifest is matched to a live stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ManagedStackMysqlSpec {
    /// The live stack's id, once known; pins this manifest to that stack.
    pub id: Option<String>,
    /// BHS-1 or SBG-1. Changing it replaces.
    pub region: String,
    /// ra.s, ra.m or ra.l. Changing it replaces.
    pub flavor: String,
    /// 1 or 3. Changing it replaces.
    pub nodes: Option<u32>,
    /// MySQL version, 5.5 or 5.6. Changing it replaces.
    pub version: Option<String>,
}
