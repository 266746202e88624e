//! The hosting service itself (`hosting.web.Service`): its identity derived from the service
//! name, and the routes `GET /hosting/web`, `GET|PUT /hosting/web/{serviceName}` and
//! `GET /hosting/web/attachedDomain?domain=`.
//!
//! Derivation rules (sandbox choices; the real values come from OVH's provisioning):
//! - `cluster`: the `clusterNNN` label of a name like `h1.cluster021.hosting.ovh.net`, otherwise
//!   `cluster0NN` picked from a hash of the name; every address below derives from NNN.
//! - `primaryLogin`: the first label of the name, lower case, letters and digits only, at most
//!   12 characters, prefixed with `ovh` when that leaves nothing or starts with a digit.
//! - `home`: `/homez.{filer}/{primaryLogin}`; `token`: 32 hex characters hashed from the name.
//! - `defaultAttachedDomain`: the name itself when it ends with `.hosting.ovh.net`, otherwise
//!   `{primaryLogin}.{cluster}.hosting.ovh.net`; it is attached from the start (path `www`).
//! - offer `pro2014`, `resourceType` `shared`, `state` `active`, 250 GB of quota.

use super::request::{Body, Handler, QueryString};
use super::{find, find_mut, Hosting};
use crate::error::ApiError;
use crate::Sandbox;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::Json;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sha1::{Digest, Sha1};
use std::sync::Arc;

/// `hosting.web.CountryEnum`: where an attached domain's `ipLocation` may point.
pub const COUNTRIES: &[&str] = &[
    "BE", "CA", "CZ", "DE", "ES", "FI", "FR", "IE", "IT", "LT", "NL", "PL", "PT", "UK",
];

/// Everything about a hosting that follows from its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub primary_login: String,
    pub cluster: String,
    pub cluster_number: u32,
    pub filer: u32,
    pub default_attached_domain: String,
    /// 40 hex characters hashed from the name (token, IAM id, order ids).
    pub digest: String,
}

impl Identity {
    pub fn of(service_name: &str) -> Identity {
        let digest = sha1_hex(&format!("reconcile-sandbox/hosting/{service_name}"));
        let seed = u32::from_str_radix(&digest[..8], 16).unwrap_or(0);
        let labels: Vec<&str> = service_name.split('.').collect();
        let cluster_number = labels
            .iter()
            .find_map(|l| {
                l.strip_prefix("cluster")
                    .and_then(|n| n.parse::<u32>().ok())
            })
            .unwrap_or(10 + seed % 40);
        let cluster = format!("cluster{cluster_number:03}");
        let mut login: String = labels
            .first()
            .unwrap_or(&"")
            .to_ascii_lowercase()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .take(12)
            .collect();
        if login.is_empty() || login.starts_with(|c: char| c.is_ascii_digit()) {
            login = format!("ovh{login}").chars().take(12).collect();
        }
        let default_attached_domain = if service_name.ends_with(".hosting.ovh.net") {
            service_name.to_string()
        } else {
            format!("{login}.{cluster}.hosting.ovh.net")
        };
        Identity {
            primary_login: login,
            cluster,
            cluster_number,
            filer: 100 + seed % 900,
            default_attached_domain,
            digest,
        }
    }

    pub fn cluster_ip(&self) -> String {
        format!("213.186.33.{}", self.cluster_number % 250 + 2)
    }

    pub fn cluster_ipv6(&self) -> String {
        format!(
            "2001:41d0:1:1b00:213:186:33:{}",
            self.cluster_number % 250 + 2
        )
    }

    /// The cluster's address in `country` (what `ipLocation` points a domain at).
    pub fn country_ip(&self, country: &str) -> (String, String) {
        let index = COUNTRIES.iter().position(|c| *c == country).unwrap_or(6);
        if country == "FR" {
            return (self.cluster_ip(), self.cluster_ipv6());
        }
        let host = self.cluster_number % 250 + 2;
        (
            format!("5.135.{}.{host}", 100 + index),
            format!("2001:41d0:301:{}::{host}", 100 + index),
        )
    }

    pub fn token(&self) -> &str {
        &self.digest[..32]
    }

    pub fn iam_id(&self) -> String {
        let d = &self.digest;
        format!(
            "{}-{}-{}-{}-{}",
            &d[0..8],
            &d[8..12],
            &d[12..16],
            &d[16..20],
            &d[20..32]
        )
    }
}

pub fn sha1_hex(text: &str) -> String {
    let digest = Sha1::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The hosting as `hosting.web.ServiceWithIAM` (what `GET /hosting/web/{serviceName}` answers).
pub fn service_json(hosting: &Hosting, now: DateTime<Utc>) -> Value {
    let id = Identity::of(&hosting.service_name);
    let countries: Vec<Value> = COUNTRIES
        .iter()
        .map(|country| {
            let (ip, ipv6) = id.country_ip(country);
            json!({ "country": country, "ip": ip, "ipv6": ipv6 })
        })
        .collect();
    let has_cdn = hosting
        .attached_domains
        .values()
        .any(|d| d.status(now).is_some() && d.cdn == "active");
    let databases_mb: f64 = hosting
        .databases
        .values()
        .filter(|d| d.status(now).is_some())
        .count() as f64
        * 12.5;
    json!({
        "availableBoostOffer": [],
        "boostOffer": null,
        "cluster": id.cluster,
        "clusterIp": id.cluster_ip(),
        "clusterIpv6": id.cluster_ipv6(),
        "countriesIp": countries,
        "datacenter": "gra3",
        "defaultAttachedDomain": id.default_attached_domain,
        "displayName": hosting.display_name,
        "filer": id.filer.to_string(),
        "hasCdn": has_cdn,
        "hasHostedSsl": hosting.ssl.as_ref().is_some_and(|s| s.status(now).is_some()),
        "home": format!("/homez.{}/{}", id.filer, id.primary_login),
        "hostingIp": id.cluster_ip(),
        "hostingIpv6": id.cluster_ipv6(),
        "iam": {
            "displayName": hosting.display_name,
            "id": id.iam_id(),
            "tags": null,
            "urn": format!("urn:v1:eu:resource:webHosting:{}", hosting.service_name),
        },
        "lastOvhConfigScan": super::task::date(hosting.created_at),
        "multipleSSL": false,
        "offer": "pro2014",
        "operatingSystem": "linux",
        "phpVersions": [
            { "support": "SUPPORTED", "version": "8.3" },
            { "support": "SUPPORTED", "version": "8.2" },
            { "support": "SECURITY_FIXES", "version": "8.1" },
            { "support": "END_OF_LIFE", "version": "7.4" },
        ],
        "primaryLogin": id.primary_login,
        "quotaSize": { "unit": "GB", "value": 250.0 },
        "quotaUsed": { "unit": "MB", "value": 3.2 + databases_mb },
        "recommendedOffer": null,
        "resourceType": "shared",
        "serviceManagementAccess": {
            "ftp": { "port": 21, "url": format!("ftp.{}.hosting.ovh.net", id.cluster) },
            "http": { "port": 80, "url": id.default_attached_domain },
            "ssh": { "port": 22, "url": format!("ssh.{}.hosting.ovh.net", id.cluster) },
        },
        "serviceName": hosting.service_name,
        "state": "active",
        "token": id.token(),
        "trafficQuotaSize": null,
        "trafficQuotaUsed": null,
        "updates": [],
    })
}

/// `GET /hosting/web`: the service names (`?iamTags=` is accepted and ignored).
pub async fn list(State(sandbox): State<Arc<Sandbox>>) -> Json<Value> {
    Json(sandbox.read(|w, _| json!(w.hostings.keys().collect::<Vec<_>>())))
}

/// `GET /hosting/web/{serviceName}`.
pub async fn get(
    State(sandbox): State<Arc<Sandbox>>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    sandbox.read(|w, now| Ok(Json(service_json(find(w, &name)?, now))))
}

/// `PUT /hosting/web/{serviceName}`: only `displayName` can change; answers void (`null`).
pub async fn put(
    State(sandbox): State<Arc<Sandbox>>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    sandbox.write(|w, now| {
        let hosting = find_mut(w, &name, now)?;
        let body = Body::parse(&body, &SERVICE_FIELDS, Handler::Update)?;
        for field in SERVICE_FIELDS.iter().filter(|f| **f != "displayName") {
            if body.has(field) {
                return Err(ApiError::bad_request(
                    "",
                    format!("[{field}] Property is read-only"),
                ));
            }
        }
        if let Some(display_name) = body.string("displayName")?.into_option() {
            hosting.display_name = display_name;
        }
        Ok(Json(Value::Null))
    })
}

/// The properties of `hosting.web.Service` (the PUT body); all but `displayName` are read-only.
const SERVICE_FIELDS: [&str; 32] = [
    "availableBoostOffer",
    "boostOffer",
    "cluster",
    "clusterIp",
    "clusterIpv6",
    "countriesIp",
    "datacenter",
    "defaultAttachedDomain",
    "displayName",
    "filer",
    "hasCdn",
    "hasHostedSsl",
    "home",
    "hostingIp",
    "hostingIpv6",
    "lastOvhConfigScan",
    "multipleSSL",
    "offer",
    "operatingSystem",
    "phpVersions",
    "primaryLogin",
    "quotaSize",
    "quotaUsed",
    "recommendedOffer",
    "resourceType",
    "serviceManagementAccess",
    "serviceName",
    "state",
    "token",
    "trafficQuotaSize",
    "trafficQuotaUsed",
    "updates",
];

/// `GET /hosting/web/attachedDomain?domain=`: the hostings `domain` is attached to.
pub async fn find_by_attached_domain(
    State(sandbox): State<Arc<Sandbox>>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let query = QueryString::parse(query.as_deref())?;
    let domain = query
        .get("domain")
        .ok_or_else(|| super::request::mandatory("domain"))?
        .to_string();
    Ok(Json(sandbox.read(|w, now| {
        let names: Vec<&String> = w
            .hostings
            .iter()
            .filter(|(_, h)| {
                h.attached_domains
                    .get(&domain)
                    .is_some_and(|d| d.status(now).is_some())
            })
            .map(|(name, _)| name)
            .collect();
        json!(names)
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_follows_the_cluster_in_the_name() {
        let id = Identity::of("h1.cluster021.hosting.ovh.net");
        assert_eq!(id.cluster, "cluster021");
        assert_eq!(id.primary_login, "h1");
        assert_eq!(id.default_attached_domain, "h1.cluster021.hosting.ovh.net");
        assert_eq!(id.cluster_ip(), "213.186.33.23");
        let other = Identity::of("My-Shop.example.com");
        assert_eq!(other.primary_login, "myshop");
        assert!(other.cluster.starts_with("cluster0"), "{}", other.cluster);
        assert_eq!(
            other.default_attached_domain,
            format!("myshop.{}.hosting.ovh.net", other.cluster)
        );
        assert_eq!(Identity::of("123.fr").primary_login, "ovh123");
    }
}
