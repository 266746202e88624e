//! Public Cloud Databases' canonical forms (see `plan::normalise`): CIDR blocks and IP lists,
//! usernames and built-in users, role sets, maintenance times, regions.
//!
//! Every function here is total: input that does not parse is kept as written (validation
//! reports it; the planner must not panic on it).

pub(crate) use crate::plan::normalise::{is_busy, is_leaving};

use crate::live::LiveIpRestriction;
use crate::manifest::IpRestrictionSpec;
use ipnet::IpNet;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// `10.0.0.1` -> `10.0.0.1/32`, `10.0.0.1/24` -> `10.0.0.0/24`, `2001:DB8::1` ->
/// `2001:db8::1/128`; anything else is kept as written (trimmed).
pub fn cidr(ip: &str) -> String {
    let ip = ip.trim();
    if let Ok(net) = ip.parse::<IpNet>() {
        return net.trunc().to_string();
    }
    match ip.parse::<IpAddr>() {
        Ok(addr) => IpNet::from(addr).to_string(),
        Err(_) => ip.to_string(),
    }
}

/// The desired IP list in canonical form: manifest order, deduplicated by block (the first
/// entry wins; validation reports duplicates), so the list sent with `PUT` never repeats a
/// block (<https://github.com/ovh/terraform-provider-ovh/issues/1148>).
pub fn desired_ips(ips: &[IpRestrictionSpec]) -> Vec<(String, String)> {
    let mut seen = std::collections::BTreeSet::new();
    ips.iter()
        .map(|entry| (cidr(&entry.ip), entry.description.clone()))
        .filter(|(ip, _)| seen.insert(ip.clone()))
        .collect()
}

/// An IP list as a set keyed by canonical block (order is irrelevant on the API).
pub fn ip_set<'a>(
    entries: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> BTreeMap<String, String> {
    let mut set = BTreeMap::new();
    for (ip, description) in entries {
        set.entry(cidr(ip))
            .or_insert_with(|| description.to_string());
    }
    set
}

pub fn live_ip_set(entries: &[LiveIpRestriction]) -> BTreeMap<String, String> {
    ip_set(
        entries
            .iter()
            .map(|e| (e.ip.as_str(), e.description.as_str())),
    )
}

/// A user's identity (MongoDB's `name@admin` = `name`): the family's one rule.
pub use super::username;

/// Users the service creates itself: never planned for deletion, never listed as unmanaged
/// (a manifest may still name one to manage its roles). Compared after `username`.
pub fn is_builtin_user(engine: &str, name: &str) -> bool {
    let name = username(engine, name);
    match engine {
        "mongodb" => name == "admin" || name == "mms-automation" || name.starts_with("backup-"),
        _ => name == "avnadmin" || name == "default",
    }
}

/// Engines whose users carry roles (create `{name, roles}`, update `PUT {roles}`).
pub fn engine_has_roles(engine: &str) -> bool {
    matches!(engine, "mongodb" | "postgresql")
}

/// Roles as a sorted set: their order on the API means nothing.
pub fn roles(roles: &[String]) -> Vec<String> {
    let mut roles: Vec<String> = roles.iter().map(|r| r.trim().to_string()).collect();
    roles.sort();
    roles.dedup();
    roles
}

/// `03:00` -> `03:00:00`; other forms as written.
pub fn time(time: &str) -> String {
    let time = time.trim();
    if time.len() == 5 && time.as_bytes()[2] == b':' {
        format!("{time}:00")
    } else {
        time.to_string()
    }
}

/// Regions are written in any case (`gra` = `GRA`); a region change replaces the service, so a
/// phantom one would be costly.
pub fn region(region: &str) -> String {
    region.trim().to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_canonical_forms() {
        assert_eq!(cidr("10.0.0.1"), "10.0.0.1/32");
        assert_eq!(cidr(" 10.0.0.1/24 "), "10.0.0.0/24");
        assert_eq!(cidr("10.0.0.0/8"), "10.0.0.0/8");
        assert_eq!(cidr("2001:DB8::1"), "2001:db8::1/128");
        assert_eq!(cidr("2001:db8::1/64"), "2001:db8::/64");
        assert_eq!(cidr("not an ip"), "not an ip");
    }

    #[test]
    fn usernames_and_builtins() {
        assert_eq!(username("mongodb", "app@admin"), "app");
        assert_eq!(username("mongodb", "app"), "app");
        assert_eq!(username("postgresql", "app@admin"), "app@admin");
        assert!(is_builtin_user("mongodb", "admin@admin"));
        assert!(is_builtin_user("mongodb", "backup-1@admin"));
        assert!(is_builtin_user("postgresql", "avnadmin"));
        assert!(is_builtin_user("valkey", "default"));
        assert!(!is_builtin_user("postgresql", "admin"));
    }

    #[test]
    fn small_forms() {
        assert_eq!(time("03:00"), "03:00:00");
        assert_eq!(time("03:00:00"), "03:00:00");
        assert_eq!(roles(&["b".into(), "a".into(), "b".into()]), ["a", "b"]);
    }
}
