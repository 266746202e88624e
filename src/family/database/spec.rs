//! The manifest kinds of Public Cloud Databases, `DatabaseService` and `DatabaseUser`: their
//! specs, and the rules a schema cannot say about them.

use crate::family::{Kind, Spec};
use crate::manifest::model::Address;
use crate::manifest::validate::{ManagedObject, SpecCheck};
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

// The rules a schema cannot say about these kinds (`Family::check_spec` and the rest of the
// validation contract, called by `manifest::validate`).

/// A service: its project (or reconcile.yaml's), its IP blocks (each a block without host bits,
/// none twice), its maintenance time; a user: a username that is not blank.
pub(super) fn check(spec: &mut Spec, check: &mut SpecCheck<'_, '_>) {
    match spec {
        Spec::DatabaseService(service) => {
            let default = check.defaults().project.clone();
            check.default(
                &mut service.project,
                default.as_ref(),
                "project",
                "Public Cloud project",
            );
            if let Some(list) = &service.ip_restrictions {
                ip_restrictions(check, list);
            }
            if let Some(time) = &service.maintenance_time {
                if !is_time_of_day(time) {
                    check.error(
                        "spec.maintenanceTime",
                        format!("`{time}` is not a time of day"),
                        "write HH:MM:SS, e.g. \"03:00:00\"",
                    );
                }
            }
        }
        Spec::DatabaseUser(user) if user.username.trim().is_empty() => {
            check.error("spec.username", "the username is empty", "name the user");
        }
        _ => {}
    }
}

fn ip_restrictions(check: &mut SpecCheck<'_, '_>, list: &[IpRestrictionSpec]) {
    // By block, for a lookup per entry: a scan per entry was quadratic in the list.
    let mut seen: std::collections::HashMap<ipnet::IpNet, usize> =
        std::collections::HashMap::with_capacity(list.len());
    for (i, entry) in list.iter().enumerate() {
        let field = format!("spec.ipRestrictions[{i}].ip");
        let Some(block) = entry.block() else {
            let (message, hint) = bad_block(&entry.ip);
            check.error(&field, message, hint);
            continue;
        };
        if block != block.trunc() {
            check.error(
                &field,
                format!("`{}` has host bits set", entry.ip.trim()),
                format!(
                    "write the block `{}`, or `{}/{}` for the one address",
                    block.trunc(),
                    block.addr(),
                    block.max_prefix_len()
                ),
            );
            continue;
        }
        match seen.get(&block).copied() {
            Some(j) => {
                let first = check.span(&format!("spec.ipRestrictions[{j}].ip"));
                check.error(
                    &field,
                    format!("`{block}` is listed twice"),
                    format!(
                        "also at spec.ipRestrictions[{j}] (line {}); remove one of them",
                        first.line
                    ),
                );
            }
            None => {
                seen.insert(block, i);
            }
        }
    }
}

/// The fields that become API path segments: a service's project and engine, a user's name.
pub(super) fn path_fields(spec: &Spec) -> Vec<(&'static str, &str)> {
    match spec {
        Spec::DatabaseService(s) => {
            let mut fields = Vec::with_capacity(2);
            if let Some(project) = &s.project {
                fields.push(("spec.project", project.as_str()));
            }
            fields.push(("spec.engine", s.engine.as_str()));
            fields
        }
        Spec::DatabaseUser(u) => vec![("spec.username", u.username.as_str())],
        _ => Vec::new(),
    }
}

/// A user depends on its service.
pub(super) fn references(spec: &Spec) -> Vec<(&'static str, Address)> {
    match spec {
        Spec::DatabaseUser(user) => vec![(
            "spec.service",
            Address {
                kind: Kind::DatabaseService,
                name: user.service.clone(),
            },
        )],
        _ => Vec::new(),
    }
}

/// A user is its username (as the API spells it, for its service's engine) within its service;
/// a service's name is its identity, so two manifests cannot name one service.
pub(super) fn managed_object<'s>(
    spec: &'s Spec,
    specs: &dyn Fn(&Address) -> Option<&'s Spec>,
) -> Option<ManagedObject> {
    let Spec::DatabaseUser(user) = spec else {
        return None;
    };
    let service = Address {
        kind: Kind::DatabaseService,
        name: user.service.clone(),
    };
    let engine = match specs(&service) {
        Some(Spec::DatabaseService(service)) => service.engine.as_str(),
        _ => "",
    };
    Some(ManagedObject {
        field: "spec.username",
        fields: &["spec.service", "spec.username"],
        key: (
            user.service.clone(),
            super::username(engine, &user.username),
        ),
        what: format!(
            "user `{}` of DatabaseService/{}",
            user.username, user.service
        ),
    })
}

/// Two users spelled differently that are one user: MongoDB's `x` and `x@admin`.
pub(super) fn same_object_note(first: &Spec, second: &Spec) -> Option<String> {
    match (first, second) {
        (Spec::DatabaseUser(first), Spec::DatabaseUser(second))
            if first.username != second.username =>
        {
            Some(format!(
                "mongodb users live in `admin`: `{}` and `{}` are the same user",
                first.username, second.username
            ))
        }
        _ => None,
    }
}

/// Why `text` is not an IP block, and what to write instead.
fn bad_block(text: &str) -> (String, String) {
    let example =
        "write an IPv4 or IPv6 address or block, e.g. `203.0.113.0/24` or `2001:db8::/32`";
    if let Some((addr, prefix)) = text.trim().split_once('/') {
        if let Ok(addr) = addr.parse::<std::net::IpAddr>() {
            let max = if addr.is_ipv4() { 32 } else { 128 };
            return (
                format!("`{text}` has a bad prefix length `/{prefix}`"),
                format!(
                    "the prefix length of an IPv{} block is 0 to {max}",
                    if addr.is_ipv4() { 4 } else { 6 }
                ),
            );
        }
    }
    (
        format!("`{text}` is not an IP address or CIDR block"),
        example.into(),
    )
}

/// `HH:MM:SS`, 24-hour.
fn is_time_of_day(text: &str) -> bool {
    let parts: Vec<&str> = text.split(':').collect();
    let field = |s: &str, max: u32| {
        s.len() == 2
            && s.chars().all(|c| c.is_ascii_digit())
            && s.parse::<u32>().is_ok_and(|n| n <= max)
    };
    parts.len() == 3 && field(parts[0], 23) && field(parts[1], 59) && field(parts[2], 59)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_of_day() {
        assert!(is_time_of_day("03:00:00"));
        assert!(is_time_of_day("23:59:59"));
        for bad in [
            "3:00:00",
            "24:00:00",
            "03:60:00",
            "03:00",
            "03:00:00Z",
            "aa:bb:cc",
        ] {
            assert!(!is_time_of_day(bad), "{bad}");
        }
    }

    #[test]
    fn bad_blocks_say_why() {
        assert_eq!(
            bad_block("10.0.0.0/33").0,
            "`10.0.0.0/33` has a bad prefix length `/33`"
        );
        assert_eq!(
            bad_block("10.0.0.300").0,
            "`10.0.0.300` is not an IP address or CIDR block"
        );
    }
}
