//! The manifest kinds of Web Hosting: `HostingAttachedDomain`, `HostingSsl`,
//! `HostingDatabase`.

use crate::family::Spec;
use crate::manifest::model::SecretRef;
use crate::manifest::validate::{ManagedObject, SpecCheck};
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

// The rules a schema cannot say about these kinds (`Family::check_spec` and the rest of the
// validation contract, called by `manifest::validate`).

/// Each: its hosting (or reconcile.yaml's). SSL: a custom `certificate` comes with its `key`
/// (and `chain` only with a `certificate`), each secret checked; a database: its password.
pub(super) fn check(spec: &mut Spec, check: &mut SpecCheck<'_, '_>) {
    let default = check.defaults().hosting.clone();
    let hosting = |check: &mut SpecCheck<'_, '_>, value: &mut Option<String>| {
        check.default(value, default.as_ref(), "hosting", "Web Hosting service");
    };
    match spec {
        Spec::HostingAttachedDomain(domain) => hosting(check, &mut domain.hosting),
        Spec::HostingSsl(ssl) => {
            hosting(check, &mut ssl.hosting);
            ssl_parts(check, ssl);
        }
        Spec::HostingDatabase(database) => {
            hosting(check, &mut database.hosting);
            check.secret("spec.password", &mut database.password);
        }
        _ => {}
    }
}

fn ssl_parts(check: &mut SpecCheck<'_, '_>, ssl: &mut HostingSslSpec) {
    let failed = ["spec.certificate", "spec.key", "spec.chain"]
        .iter()
        .any(|f| check.failed(f));
    match (&ssl.certificate, &ssl.key) {
        _ if failed => {}
        (Some(_), None) => check.error(
            "spec.certificate",
            "a custom `certificate` needs its `key`",
            "add `key: { fromFile: ... }` with the certificate's private key",
        ),
        (None, Some(_)) => check.error(
            "spec.key",
            "`key` without `certificate`",
            "add the `certificate`, or remove `key` and `chain` for the free Let's Encrypt certificate",
        ),
        _ => {}
    }
    if ssl.certificate.is_none() && ssl.chain.is_some() && !failed {
        check.error(
            "spec.chain",
            "`chain` without `certificate`",
            "add the `certificate` and its `key`, or remove `chain`",
        );
    }
    for (field, secret) in [
        ("spec.certificate", &mut ssl.certificate),
        ("spec.key", &mut ssl.key),
        ("spec.chain", &mut ssl.chain),
    ] {
        if let Some(secret) = secret {
            check.secret(field, secret);
        }
    }
}

/// The fields that become API path segments: the hosting, a domain, a database user.
pub(super) fn path_fields(spec: &Spec) -> Vec<(&'static str, &str)> {
    let (hosting, own): (&Option<String>, Option<(&'static str, &String)>) = match spec {
        Spec::HostingAttachedDomain(d) => (&d.hosting, Some(("spec.domain", &d.domain))),
        Spec::HostingSsl(ssl) => (&ssl.hosting, None),
        Spec::HostingDatabase(db) => (&db.hosting, Some(("spec.user", &db.user))),
        _ => return Vec::new(),
    };
    let hosting = hosting.as_ref().map(|h| ("spec.hosting", h));
    hosting
        .into_iter()
        .chain(own)
        .map(|(field, value)| (field, value.as_str()))
        .collect()
}

/// A domain is its name (`domain()`'s form) within its hosting, the certificate is the
/// hosting's one, a database is its user within its hosting.
pub(super) fn managed_object(spec: &Spec) -> Option<ManagedObject> {
    let hosting = |named: &Option<String>| named.clone().unwrap_or_default();
    Some(match spec {
        Spec::HostingAttachedDomain(domain) => ManagedObject {
            field: "spec.domain",
            fields: &["spec.domain", "spec.hosting"],
            key: (hosting(&domain.hosting), super::domain(&domain.domain)),
            what: format!(
                "domain `{}` of hosting `{}`",
                domain.domain,
                domain.hosting.as_deref().unwrap_or("")
            ),
        },
        Spec::HostingSsl(ssl) => ManagedObject {
            field: "spec.hosting",
            fields: &["spec.hosting"],
            key: (hosting(&ssl.hosting), String::new()),
            what: format!(
                "the SSL certificate of hosting `{}`",
                ssl.hosting.as_deref().unwrap_or("")
            ),
        },
        Spec::HostingDatabase(database) => ManagedObject {
            field: "spec.user",
            fields: &["spec.hosting", "spec.user"],
            key: (hosting(&database.hosting), database.user.clone()),
            what: format!(
                "database user `{}` of hosting `{}`",
                database.user,
                database.hosting.as_deref().unwrap_or("")
            ),
        },
        _ => return None,
    })
}
