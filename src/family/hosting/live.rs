//! Web Hosting, read live: the service (`primaryLogin`), its attached domains (list, then each),
//! its SSL certificate (`ssl`, then `ssl/domains`; a 404 on `ssl` means there is none) and its
//! databases (list, then each), all four branches at once, mapped to `LiveHosting`.
//!
//! Mapping choices: a database's `quotaSize` (`{unit, value}`) becomes MB; `type` is its engine;
//! an attached domain's `taskId` is kept only while the API shows one.

use crate::family::hosting::{
    attached_domain_path, attached_domains_path, database_path, databases_path, hosting_path,
    ssl_domains_path, ssl_path,
};
use crate::live::fields::{opt_bool, opt_i64, opt_string, size_in_mb, string};
use crate::live::model::{
    LiveAttachedDomain, LiveHosting, LiveHostingDatabase, LiveScope, LiveSsl,
};
use crate::live::read::{ids, ReadError, Reader};
use futures::future::try_join_all;
use serde_json::Value;

/// Reads everything reconcile manages under `/hosting/web/{hosting}`.
pub(crate) async fn read_scope(reader: &Reader<'_>, hosting: &str) -> Result<LiveScope, ReadError> {
    let ((primary_login, default_attached_domain), attached_domains, ssl, databases) = futures::try_join!(
        read_service(reader, hosting),
        read_attached_domains(reader, hosting),
        read_ssl(reader, hosting),
        read_databases(reader, hosting),
    )?;
    Ok(LiveScope::Hosting(LiveHosting {
        primary_login,
        default_attached_domain,
        attached_domains,
        ssl,
        databases,
    }))
}

/// The service's `primaryLogin` and `defaultAttachedDomain`.
async fn read_service(
    reader: &Reader<'_>,
    hosting: &str,
) -> Result<(String, Option<String>), ReadError> {
    let base = hosting_path(hosting);
    let service = reader.get(&base).await?;
    let login = primary_login(&service).ok_or_else(|| {
        ReadError::malformed(&base, "a web hosting service without a primaryLogin")
    })?;
    Ok((login, opt_string(&service, "defaultAttachedDomain")))
}

async fn read_attached_domains(
    reader: &Reader<'_>,
    hosting: &str,
) -> Result<Vec<LiveAttachedDomain>, ReadError> {
    let domains = reader.list(&attached_domains_path(hosting)).await?;
    let read = try_join_all(domains.iter().map(|domain| {
        let path = attached_domain_path(hosting, domain);
        async move {
            match reader.get_if_present(&path).await? {
                None => Ok(None),
                Some(raw) => attached_domain(raw)
                    .map(Some)
                    .map_err(|what| ReadError::malformed(&path, what)),
            }
        }
    }))
    .await?;
    let mut domains: Vec<LiveAttachedDomain> = read.into_iter().flatten().collect();
    domains.sort_by(|a, b| a.domain.cmp(&b.domain));
    Ok(domains)
}

async fn read_ssl(reader: &Reader<'_>, hosting: &str) -> Result<Option<LiveSsl>, ReadError> {
    let path = ssl_path(hosting);
    let Some(raw) = reader.get_if_present(&path).await? else {
        return Ok(None);
    };
    let domains_path = ssl_domains_path(hosting);
    // A 404 here means the certificate went away since it was read.
    let Some(domains) = reader.get_if_present(&domains_path).await? else {
        return Ok(None);
    };
    let domains = ids(&domains).ok_or_else(|| {
        ReadError::malformed(&domains_path, "something other than a list of domains")
    })?;
    ssl(raw, domains)
        .map(Some)
        .map_err(|what| ReadError::malformed(&path, what))
}

async fn read_databases(
    reader: &Reader<'_>,
    hosting: &str,
) -> Result<Vec<LiveHostingDatabase>, ReadError> {
    let names = reader.list(&databases_path(hosting)).await?;
    let read = try_join_all(names.iter().map(|name| {
        let path = database_path(hosting, name);
        async move {
            match reader.get_if_present(&path).await? {
                None => Ok(None),
                Some(raw) => hosting_database(raw)
                    .map(Some)
                    .map_err(|what| ReadError::malformed(&path, what)),
            }
        }
    }))
    .await?;
    let mut databases: Vec<LiveHostingDatabase> = read.into_iter().flatten().collect();
    databases.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(databases)
}

/// `primaryLogin` of a `hosting.web.Service` answer.
pub fn primary_login(service: &Value) -> Option<String> {
    opt_string(service, "primaryLogin")
}

/// An `attachedDomain.PublicAttachedDomain` answer as a `LiveAttachedDomain`.
pub fn attached_domain(raw: Value) -> Result<LiveAttachedDomain, &'static str> {
    if !raw.is_object() {
        return Err("something other than an attached domain");
    }
    let domain = opt_string(&raw, "domain").ok_or("an attached domain without a domain")?;
    Ok(LiveAttachedDomain {
        domain,
        path: string(&raw, "path"),
        ssl: opt_bool(&raw, "ssl"),
        cdn: opt_string(&raw, "cdn"),
        firewall: opt_string(&raw, "firewall"),
        own_log: opt_string(&raw, "ownLog"),
        runtime_id: opt_i64(&raw, "runtimeId"),
        status: string(&raw, "status"),
        task_id: opt_i64(&raw, "taskId"),
        raw,
    })
}

/// A `hosting.web.SSL` answer and the domains of `ssl/domains` as a `LiveSsl` (domains sorted).
pub fn ssl(raw: Value, mut domains: Vec<String>) -> Result<LiveSsl, &'static str> {
    if !raw.is_object() {
        return Err("something other than an ssl certificate");
    }
    domains.sort();
    domains.dedup();
    Ok(LiveSsl {
        provider: string(&raw, "provider"),
        status: string(&raw, "status"),
        domains,
        raw,
    })
}

/// A `hosting.web.database` answer as a `LiveHostingDatabase`.
pub fn hosting_database(raw: Value) -> Result<LiveHostingDatabase, &'static str> {
    if !raw.is_object() {
        return Err("something other than a hosting database");
    }
    let name = opt_string(&raw, "name").ok_or("a hosting database without a name")?;
    Ok(LiveHostingDatabase {
        name,
        user: string(&raw, "user"),
        engine: string(&raw, "type"),
        version: opt_string(&raw, "version"),
        quota: raw.get("quotaSize").and_then(size_in_mb),
        status: string(&raw, "status"),
        raw,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_primary_login_comes_from_the_service() {
        let service = json!({
            "serviceName": "example.cluster021.hosting.ovh.net", "primaryLogin": "exampleh",
            "cluster": "cluster021", "home": "/homez.123/exampleh", "offer": "perso2014",
            "state": "active", "hasHostedSsl": true, "quotaSize": {"unit": "GB", "value": 100}
        });
        assert_eq!(primary_login(&service).as_deref(), Some("exampleh"));
        assert_eq!(primary_login(&json!({"serviceName": "x"})), None);
    }

    #[test]
    fn an_attached_domain_maps_every_managed_field() {
        let raw = json!({
            "capabilities": [], "cdn": "active", "domain": "www.shop.example", "firewall": "none",
            "ipLocation": null, "isFlushable": true, "ownLog": "shop.example", "path": "www",
            "runtimeId": 42, "ssl": true, "status": "updating", "taskId": 7001, "vcsStatus": "disabled"
        });
        assert_eq!(
            attached_domain(raw.clone()).unwrap(),
            LiveAttachedDomain {
                domain: "www.shop.example".into(),
                path: "www".into(),
                ssl: Some(true),
                cdn: Some("active".into()),
                firewall: Some("none".into()),
                own_log: Some("shop.example".into()),
                runtime_id: Some(42),
                status: "updating".into(),
                task_id: Some(7001),
                raw,
            }
        );
    }

    #[test]
    fn an_attached_domain_with_nulls_and_no_task() {
        let raw = json!({"domain": "a.example", "path": "a", "ssl": null, "cdn": "none",
            "firewall": "none", "ownLog": null, "runtimeId": null, "status": "created", "taskId": null});
        let domain = attached_domain(raw).unwrap();
        assert_eq!(
            (
                domain.ssl,
                domain.own_log,
                domain.runtime_id,
                domain.task_id
            ),
            (None, None, None, None)
        );
        assert!(attached_domain(json!({"path": "a"})).is_err());
    }

    #[test]
    fn ssl_keeps_provider_status_and_sorted_domains() {
        let raw = json!({"isReportable": true, "provider": "LETSENCRYPT", "regenerable": true,
            "status": "created", "taskId": null, "type": "DV"});
        let ssl = ssl(
            raw.clone(),
            vec!["www.shop.example".into(), "shop.example".into()],
        )
        .unwrap();
        assert_eq!(
            ssl,
            LiveSsl {
                provider: "LETSENCRYPT".into(),
                status: "created".into(),
                domains: vec!["shop.example".into(), "www.shop.example".into()],
                raw,
            }
        );
    }

    #[test]
    fn a_hosting_database_quota_is_in_megabytes() {
        let raw = json!({
            "databaseServiceDeprecated": false, "databaseType": "included", "dumps": 0,
            "guiURL": "https://phpmyadmin.cluster021.hosting.ovh.net/", "lastCheck": null,
            "mode": "classic", "name": "exampleblog.mysql.db", "port": 3306,
            "quotaSize": {"unit": "MB", "value": 512.0}, "quotaUsed": {"unit": "MB", "value": 0.0},
            "server": "exampleblog.mysql.db", "state": "ok", "status": "created", "taskId": null,
            "type": "mysql", "user": "exampleblog", "version": "8.0", "versionSupport": "stable"
        });
        assert_eq!(
            hosting_database(raw.clone()).unwrap(),
            LiveHostingDatabase {
                name: "exampleblog.mysql.db".into(),
                user: "exampleblog".into(),
                engine: "mysql".into(),
                version: Some("8.0".into()),
                quota: Some(512),
                status: "created".into(),
                raw,
            }
        );
        let gb = json!({"name": "x.mysql.db", "quotaSize": {"unit": "GB", "value": 1}});
        assert_eq!(hosting_database(gb).unwrap().quota, Some(1024));
        assert!(hosting_database(json!({"user": "x"})).is_err());
    }
}
