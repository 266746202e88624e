//! Attached domains (`/hosting/web/{serviceName}/attachedDomain...`): the FQDNs a hosting
//! serves, each with its folder (`path`), SSL, CDN and firewall flags.
//!
//! Lifecycle: POST -> `creating` -> `created` (task `attachedDomain/create`); PUT -> `updating`
//! -> `created` (`attachedDomain/update`, void answer); `restart` -> `updating` -> `created`
//! (`attachedDomain/restart`); DELETE -> `deleting` -> gone (`attachedDomain/delete`).
//! `purgeCache` starts a `cdn/domain/flush` task and leaves the domain alone.
//!
//! Sandbox rules where the real API is silent:
//! - a domain is lower-case letters, digits and hyphens in at least two labels; a domain may be
//!   attached to one hosting only (409 otherwise, naming the hosting);
//! - `path` defaults to `www` and must be relative, without `..`;
//! - `ownLog` must name a domain attached to the same hosting (or the domain itself);
//! - in a PUT, an absent field (or `null`) keeps its value, except `ownLog`, `runtimeId` and
//!   `ipLocation`, which `null` clears; `domain`, if sent, must be the one in the URL;
//! - the default attached domain cannot be detached (403);
//! - `bypassDNSConfiguration=true` leaves the (simulated) DNS zone alone, so `digStatus` then
//!   reports the records as not configured.

use super::request::{passes, Body, Given, Handler, QueryString};
use super::service::COUNTRIES;
use super::{find, find_mut, object_not_found, task_in_progress, Hosting};
use crate::error::ApiError;
use crate::lifecycle::Lifecycle;
use crate::state::World;
use crate::Sandbox;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::sync::Arc;

/// `hosting.web.attachedDomain.CdnEnum` and `FirewallEnum`.
const ACTIVE_NONE: &[&str] = &["active", "none"];

/// The properties of `hosting.web.AttachedDomain` (the POST and PUT body).
const FIELDS: &[&str] = &[
    "bypassDNSConfiguration",
    "cdn",
    "domain",
    "firewall",
    "ipLocation",
    "ownLog",
    "path",
    "runtimeId",
    "ssl",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachedDomain {
    pub domain: String,
    pub path: String,
    pub ssl: bool,
    /// `active` or `none`.
    pub cdn: String,
    /// `active` or `none`.
    pub firewall: String,
    pub own_log: Option<String>,
    pub runtime_id: Option<i64>,
    pub ip_location: Option<String>,
    #[serde(rename = "bypassDNSConfiguration")]
    pub bypass_dns_configuration: bool,
    pub lifecycle: Lifecycle,
    /// The task working on the domain (shown while the lifecycle is busy).
    pub task_id: Option<u64>,
}

impl AttachedDomain {
    pub fn new(domain: &str, path: &str, lifecycle: Lifecycle) -> AttachedDomain {
        AttachedDomain {
            domain: domain.to_string(),
            path: path.to_string(),
            ssl: false,
            cdn: "none".to_string(),
            firewall: "none".to_string(),
            own_log: None,
            runtime_id: None,
            ip_location: None,
            bypass_dns_configuration: false,
            lifecycle,
            task_id: None,
        }
    }

    /// `created`, `creating`, `updating`, `deleting`, or `None` once detached.
    pub fn status(&self, now: DateTime<Utc>) -> Option<&str> {
        self.lifecycle.status(now)
    }

    /// The domain as `hosting.web.attachedDomain.PublicAttachedDomain`.
    pub fn to_json(&self, now: DateTime<Utc>) -> Value {
        json!({
            "capabilities": [],
            "cdn": self.cdn,
            "domain": self.domain,
            "firewall": self.firewall,
            "ipLocation": self.ip_location,
            "isFlushable": self.cdn == "active",
            "ownLog": self.own_log,
            "path": self.path,
            "runtimeId": self.runtime_id,
            "ssl": self.ssl,
            "status": self.lifecycle.status_string(now),
            "taskId": self.task_id.filter(|_| self.lifecycle.is_busy(now)),
            "vcsStatus": "disabled",
        })
    }
}

/// What a POST or PUT body asks to set; `None` leaves a field as it is.
#[derive(Debug, Default)]
struct Settings {
    path: Option<String>,
    ssl: Option<bool>,
    cdn: Option<String>,
    firewall: Option<String>,
    own_log: Option<Option<String>>,
    runtime_id: Option<Option<i64>>,
    ip_location: Option<Option<String>>,
    bypass_dns_configuration: Option<bool>,
}

impl Settings {
    fn read(body: &Body) -> Result<Settings, ApiError> {
        let path = body.string("path")?.value();
        if let Some(path) = &path {
            check_path(path)?;
        }
        let own_log = body.string("ownLog")?.into_option();
        if let Some(Some(own_log)) = &own_log {
            check_domain("ownLog", own_log)?;
        }
        let runtime_id = body.integer("runtimeId")?.into_option();
        if let Some(Some(id)) = runtime_id {
            if id < 1 {
                return Err(ApiError::bad_request(
                    "",
                    format!("[runtimeId] {id} is not a valid runtime id"),
                ));
            }
        }
        Ok(Settings {
            path,
            ssl: body.boolean("ssl")?.value(),
            cdn: body
                .enumeration("cdn", ACTIVE_NONE, "hosting.web.attachedDomain.CdnEnum")?
                .value(),
            firewall: body
                .enumeration(
                    "firewall",
                    ACTIVE_NONE,
                    "hosting.web.attachedDomain.FirewallEnum",
                )?
                .value(),
            own_log,
            runtime_id,
            ip_location: body
                .enumeration("ipLocation", COUNTRIES, "hosting.web.CountryEnum")?
                .into_option(),
            bypass_dns_configuration: body.boolean("bypassDNSConfiguration")?.value(),
        })
    }

    /// Refuses an `ownLog` that is neither `domain` nor attached to `hosting`.
    fn check_own_log(
        &self,
        hosting: &Hosting,
        domain: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        if let Some(Some(own_log)) = &self.own_log {
            let attached = hosting
                .attached_domains
                .get(own_log)
                .is_some_and(|d| d.status(now).is_some());
            if own_log != domain && !attached {
                return Err(ApiError::bad_request(
                    "",
                    format!("[ownLog] {own_log} is not a domain attached to this hosting"),
                ));
            }
        }
        Ok(())
    }

    fn apply(self, to: &mut AttachedDomain) {
        if let Some(path) = self.path {
            to.path = path;
        }
        if let Some(ssl) = self.ssl {
            to.ssl = ssl;
        }
        if let Some(cdn) = self.cdn {
            to.cdn = cdn;
        }
        if let Some(firewall) = self.firewall {
            to.firewall = firewall;
        }
        if let Some(own_log) = self.own_log {
            to.own_log = own_log;
        }
        if let Some(runtime_id) = self.runtime_id {
            to.runtime_id = runtime_id;
        }
        if let Some(ip_location) = self.ip_location {
            to.ip_location = ip_location;
        }
        if let Some(bypass) = self.bypass_dns_configuration {
            to.bypass_dns_configuration = bypass;
        }
    }
}

/// A fully qualified domain name in lower case: at least two labels of letters, digits and
/// inner hyphens, at most 63 characters each and 253 in all, not ending in a number.
pub fn check_domain(field: &str, domain: &str) -> Result<(), ApiError> {
    let invalid = |why: &str| {
        ApiError::bad_request(
            "",
            format!("[{field}] {domain} is not a valid domain name: {why}"),
        )
    };
    if domain.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(invalid("it must be in lower case"));
    }
    if domain.is_empty() || domain.len() > 253 {
        return Err(invalid("it must be 1 to 253 characters long"));
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return Err(invalid("it needs at least two labels"));
    }
    for label in &labels {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err(invalid(
                "each label is 1 to 63 letters, digits or inner hyphens",
            ));
        }
    }
    if labels
        .last()
        .is_some_and(|tld| tld.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(invalid("the last label cannot be a number"));
    }
    Ok(())
}

/// A folder relative to the hosting's home: no leading `/`, no `..`, plain characters.
fn check_path(path: &str) -> Result<(), ApiError> {
    let ok = !path.is_empty()
        && path.len() <= 255
        && !path.starts_with('/')
        && path.split('/').all(|segment| segment != "..")
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/~".contains(c));
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "",
            format!("[path] {path} is not a valid folder: use a path relative to the hosting's home, without '..'"),
        ))
    }
}

/// The attached domain `domain` of `hosting`, unless it is gone.
fn attached<'a>(
    hosting: &'a Hosting,
    domain: &str,
    now: DateTime<Utc>,
) -> Result<&'a AttachedDomain, ApiError> {
    hosting
        .attached_domains
        .get(domain)
        .filter(|d| d.status(now).is_some())
        .ok_or_else(|| object_not_found("domain", domain))
}

/// The attached domain for a write that needs it idle.
fn idle_mut<'a>(
    hosting: &'a mut Hosting,
    domain: &str,
    now: DateTime<Utc>,
) -> Result<&'a mut AttachedDomain, ApiError> {
    let found = attached(hosting, domain, now)?;
    if found.lifecycle.is_busy(now) {
        let task = found.task_id.and_then(|id| hosting.tasks.get(&id));
        return Err(task_in_progress(
            &format!("Attached domain {domain}"),
            task,
            now,
        ));
    }
    Ok(hosting
        .attached_domains
        .get_mut(domain)
        .expect("checked above"))
}

/// The hosting `domain` is attached to, if any.
fn attached_to<'a>(world: &'a World, domain: &str, now: DateTime<Utc>) -> Option<&'a str> {
    world
        .hostings
        .iter()
        .find(|(_, h)| {
            h.attached_domains
                .get(domain)
                .is_some_and(|d| d.status(now).is_some())
        })
        .map(|(name, _)| name.as_str())
}

/// `GET .../attachedDomain?domain=&path=` (both SQL-like filters).
pub async fn list(
    State(sandbox): State<Arc<Sandbox>>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let query = QueryString::parse(query.as_deref())?;
    sandbox.read(|w, now| {
        let hosting = find(w, &name)?;
        let domains: Vec<&str> = hosting
            .attached_domains
            .values()
            .filter(|d| d.status(now).is_some())
            .filter(|d| {
                passes(query.get("domain"), &d.domain) && passes(query.get("path"), &d.path)
            })
            .map(|d| d.domain.as_str())
            .collect();
        Ok(Json(json!(domains)))
    })
}

/// `POST .../attachedDomain`: attaches a domain; answers the `attachedDomain/create` task.
pub async fn create(
    State(sandbox): State<Arc<Sandbox>>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let wait = sandbox.ready_after();
    sandbox.write(|w, now| {
        find(w, &name)?;
        let body = Body::parse(&body, FIELDS, Handler::Creation)?;
        let domain = Body::required("domain", body.string("domain")?)?;
        check_domain("domain", &domain)?;
        let settings = Settings::read(&body)?;
        if let Some(owner) = attached_to(w, &domain, now) {
            let whose = if owner == name {
                "this hosting".to_string()
            } else {
                format!("hosting {owner}")
            };
            return Err(ApiError::conflict(
                "",
                format!("The domain {domain} is already attached to {whose}"),
            ));
        }
        let task_id = w.next_id();
        let hosting = find_mut(w, &name, now)?;
        settings.check_own_log(hosting, &domain, now)?;
        let mut attached = AttachedDomain::new(
            &domain,
            "www",
            Lifecycle::starting("creating", "created", now, wait),
        );
        settings.apply(&mut attached);
        attached.task_id = Some(task_id);
        hosting.attached_domains.insert(domain.clone(), attached);
        let task = hosting.start_task(
            task_id,
            "attachedDomain/create",
            "AttachedDomain",
            &domain,
            now,
            wait,
        );
        Ok(Json(task.to_json(now)))
    })
}

/// `GET .../attachedDomain/{domain}`.
pub async fn get(
    State(sandbox): State<Arc<Sandbox>>,
    Path((name, domain)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    sandbox.read(|w, now| Ok(Json(attached(find(w, &name)?, &domain, now)?.to_json(now))))
}

/// `PUT .../attachedDomain/{domain}`: answers void (`null`); the change runs as an
/// `attachedDomain/update` task.
pub async fn update(
    State(sandbox): State<Arc<Sandbox>>,
    Path((name, domain)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let wait = sandbox.ready_after();
    sandbox.write(|w, now| {
        find(w, &name)?;
        let body = Body::parse(&body, FIELDS, Handler::Update)?;
        if let Given::Value(other) = body.string("domain")? {
            if other != domain {
                return Err(ApiError::bad_request(
                    "",
                    format!("[domain] An attached domain cannot be renamed ({domain} -> {other}): detach it and attach {other}"),
                ));
            }
        }
        let settings = Settings::read(&body)?;
        let task_id = w.next_id();
        let hosting = find_mut(w, &name, now)?;
        settings.check_own_log(hosting, &domain, now)?;
        let attached = idle_mut(hosting, &domain, now)?;
        settings.apply(attached);
        attached.lifecycle.begin("updating", now, wait);
        attached.task_id = Some(task_id);
        hosting.start_task(task_id, "attachedDomain/update", "AttachedDomain", &domain, now, wait);
        Ok(Json(Value::Null))
    })
}

/// `DELETE .../attachedDomain/{domain}?bypassDNSConfiguration=`: answers the
/// `attachedDomain/delete` task.
pub async fn delete(
    State(sandbox): State<Arc<Sandbox>>,
    Path((name, domain)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let wait = sandbox.ready_after();
    let query = QueryString::parse(query.as_deref())?;
    sandbox.write(|w, now| {
        find(w, &name)?;
        let bypass = query.boolean("bypassDNSConfiguration")?;
        let task_id = w.next_id();
        let hosting = find_mut(w, &name, now)?;
        if domain == hosting.identity().default_attached_domain {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "Client::Forbidden",
                format!("{domain} is the default attached domain of this hosting and cannot be detached"),
            ));
        }
        let attached = idle_mut(hosting, &domain, now)?;
        if let Some(bypass) = bypass {
            attached.bypass_dns_configuration = bypass;
        }
        attached.lifecycle.begin_removal("deleting", now, wait);
        attached.task_id = Some(task_id);
        let task = hosting.start_task(task_id, "attachedDomain/delete", "AttachedDomain", &domain, now, wait);
        Ok(Json(task.to_json(now)))
    })
}

/// `POST .../attachedDomain/{domain}/restart`: restarts the virtual host (`updating` meanwhile).
pub async fn restart(
    State(sandbox): State<Arc<Sandbox>>,
    Path((name, domain)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let wait = sandbox.ready_after();
    sandbox.write(|w, now| {
        find(w, &name)?;
        let task_id = w.next_id();
        let hosting = find_mut(w, &name, now)?;
        let attached = idle_mut(hosting, &domain, now)?;
        attached.lifecycle.begin("updating", now, wait);
        attached.task_id = Some(task_id);
        let task = hosting.start_task(
            task_id,
            "attachedDomain/restart",
            "AttachedDomain",
            &domain,
            now,
            wait,
        );
        Ok(Json(task.to_json(now)))
    })
}

/// `POST .../attachedDomain/{domain}/purgeCache`: flushes the CDN cache of a CDN-enabled domain.
pub async fn purge_cache(
    State(sandbox): State<Arc<Sandbox>>,
    Path((name, domain)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let wait = sandbox.ready_after();
    sandbox.write(|w, now| {
        find(w, &name)?;
        let task_id = w.next_id();
        let hosting = find_mut(w, &name, now)?;
        if attached(hosting, &domain, now)?.cdn != "active" {
            return Err(ApiError::bad_request(
                "",
                format!("The CDN is not active on {domain}, so there is no cache to purge"),
            ));
        }
        let task = hosting.start_task(task_id, "cdn/domain/flush", "Cdn", &domain, now, wait);
        Ok(Json(task.to_json(now)))
    })
}

/// `GET .../attachedDomain/{domain}/digStatus`: the A and AAAA records the (simulated) DNS zone
/// holds for the domain, and the addresses it should point at.
pub async fn dig_status(
    State(sandbox): State<Arc<Sandbox>>,
    Path((name, domain)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    sandbox.read(|w, now| {
        let hosting = find(w, &name)?;
        let attached = attached(hosting, &domain, now)?;
        let identity = hosting.identity();
        let (ipv4, ipv6) = identity.country_ip(attached.ip_location.as_deref().unwrap_or("FR"));
        let configured =
            !attached.bypass_dns_configuration && attached.status(now) != Some("creating");
        let record =
            |kind: &str| json!({ "dnsConfigured": configured, "isOvhIp": true, "type": kind });
        Ok(Json(json!({
            "domain": attached.domain,
            "recommendedIps": { "recommendedIpV4": [ipv4], "recommendedIpV6": [ipv6] },
            "records": { "A": record("A"), "AAAA": record("AAAA") },
        })))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_checked_like_fqdns() {
        for ok in [
            "example.com",
            "www.example.com",
            "a-b.c0.example.fr",
            "xn--bcher-kva.example",
        ] {
            assert!(check_domain("domain", ok).is_ok(), "{ok}");
        }
        for bad in [
            "example",
            "Example.com",
            "-a.example.com",
            "a..com",
            "a.com.",
            "1.2.3.4",
            "ex_ample.com",
            "",
        ] {
            assert!(check_domain("domain", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn paths_stay_inside_the_home() {
        for ok in ["www", "sites/blog", "./www", "my-site_2"] {
            assert!(check_path(ok).is_ok(), "{ok}");
        }
        for bad in ["", "/www", "../etc", "www/../..", "a b", "a;b"] {
            assert!(check_path(bad).is_err(), "{bad}");
        }
    }
}
