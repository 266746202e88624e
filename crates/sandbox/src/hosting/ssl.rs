//! The hosted SSL certificate (`/hosting/web/{serviceName}/ssl...`, `hosting.web.SSL`).
//!
//! Lifecycle: POST without a body (or `{}`) orders the free certificate (`LETSENCRYPT`, `DV`):
//! `creating` -> `created` (task `hostedssl/create`); POST with `certificate` and `key` (and
//! optionally `chain`) imports one (`CUSTOM`): `importing` -> `created` (`hostedssl/import`);
//! `regenerate` (free certificate only): `regenerating` -> `created` (`hostedssl/regenerate`);
//! DELETE: `deleting` -> gone (`hostedssl/delete`), after which every `/ssl` route answers 404.
//!
//! Which domains a certificate covers (`GET .../ssl/domains`) is a sandbox rule: the attached
//! domains with `ssl=true` at the moment the certificate was ordered, imported or regenerated
//! become covered when that task's work is done, and stay covered until the next regeneration
//! (a domain detached since drops out). So turning `ssl` on for a domain later needs a
//! `regenerate` before the certificate covers it, which is what the OVH manager offers.

use super::request::{Body, Handler};
use super::{find, find_mut, task_in_progress, Hosting};
use crate::error::ApiError;
use crate::lifecycle::Lifecycle;
use crate::Sandbox;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HostedSsl {
    /// `LETSENCRYPT` or `CUSTOM`.
    pub provider: String,
    /// `DV` or `CUSTOM`.
    #[serde(rename = "type")]
    pub kind: String,
    pub lifecycle: Lifecycle,
    pub task_id: Option<u64>,
    /// The domains covered before the running (or last) issuance.
    pub covered: BTreeSet<String>,
    /// The domains the running (or last) issuance covers, from `covers_from` on.
    pub next: BTreeSet<String>,
    pub covers_from: DateTime<Utc>,
    pub provider_order_id: String,
}

impl HostedSsl {
    /// `created`, `creating`, `importing`, `regenerating`, `deleting`, or `None` once deleted.
    pub fn status(&self, now: DateTime<Utc>) -> Option<&str> {
        self.lifecycle.status(now)
    }

    /// The domains the certificate covers at `now`.
    fn domains(&self, now: DateTime<Utc>) -> &BTreeSet<String> {
        if now >= self.covers_from {
            &self.next
        } else {
            &self.covered
        }
    }

    /// Starts an issuance (order, import, regeneration) covering `domains` once `until` is reached.
    fn issue(&mut self, domains: BTreeSet<String>, now: DateTime<Utc>, until: DateTime<Utc>) {
        self.covered = self.domains(now).clone();
        self.next = domains;
        self.covers_from = until;
    }

    /// The certificate as `hosting.web.SSL`.
    pub fn to_json(&self, now: DateTime<Utc>) -> Value {
        let busy = self.lifecycle.is_busy(now);
        json!({
            "isReportable": self.provider == "LETSENCRYPT",
            "provider": self.provider,
            "regenerable": self.provider == "LETSENCRYPT" && !busy,
            "status": self.lifecycle.status_string(now),
            "taskId": self.task_id.filter(|_| busy),
            "type": self.kind,
        })
    }
}

/// The attached domains of `hosting` with `ssl=true` (the ones a new issuance covers).
fn ssl_domains(hosting: &Hosting, now: DateTime<Utc>) -> BTreeSet<String> {
    hosting
        .attached_domains
        .values()
        .filter(|d| d.ssl && matches!(d.status(now), Some(s) if s != "deleting"))
        .map(|d| d.domain.clone())
        .collect()
}

fn no_certificate() -> ApiError {
    ApiError::not_found("", "This hosting has no SSL certificate")
}

/// The certificate of `hosting`, unless there is none.
fn certificate(hosting: &Hosting, now: DateTime<Utc>) -> Result<&HostedSsl, ApiError> {
    hosting
        .ssl
        .as_ref()
        .filter(|s| s.status(now).is_some())
        .ok_or_else(no_certificate)
}

/// The certificate for a write that needs it idle.
fn idle_mut(hosting: &mut Hosting, now: DateTime<Utc>) -> Result<&mut HostedSsl, ApiError> {
    let ssl = certificate(hosting, now)?;
    if ssl.lifecycle.is_busy(now) {
        let task = ssl.task_id.and_then(|id| hosting.tasks.get(&id));
        return Err(task_in_progress(
            "The SSL certificate of this hosting",
            task,
            now,
        ));
    }
    Ok(hosting.ssl.as_mut().expect("checked above"))
}

fn looks_like_pem(text: &str, kinds: &[&str]) -> bool {
    let text = text.trim();
    kinds.iter().any(|kind| {
        text.starts_with(&format!("-----BEGIN {kind}-----"))
            && text.ends_with(&format!("-----END {kind}-----"))
    })
}

/// `GET .../ssl`.
pub async fn get(
    State(sandbox): State<Arc<Sandbox>>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    sandbox.read(|w, now| Ok(Json(certificate(find(w, &name)?, now)?.to_json(now))))
}

/// `POST .../ssl`: orders the free certificate, or imports `certificate` + `key` (+ `chain`).
pub async fn create(
    State(sandbox): State<Arc<Sandbox>>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let wait = sandbox.ready_after();
    sandbox.write(|w, now| {
        find(w, &name)?;
        let body = Body::parse(&body, &["certificate", "chain", "key"], Handler::Creation)?;
        let certificate = body.string("certificate")?.value();
        let key = body.string("key")?.value();
        let chain = body.string("chain")?.value();
        let imported = match (&certificate, &key) {
            (None, None) if chain.is_none() => false,
            (Some(certificate), Some(key)) => {
                if !looks_like_pem(certificate, &["CERTIFICATE"]) {
                    return Err(ApiError::bad_request("", "[certificate] This is not a PEM encoded certificate"));
                }
                if !looks_like_pem(key, &["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"]) {
                    return Err(ApiError::bad_request("", "[key] This is not a PEM encoded private key"));
                }
                if chain.as_deref().is_some_and(|c| !looks_like_pem(c, &["CERTIFICATE"])) {
                    return Err(ApiError::bad_request("", "[chain] This is not a PEM encoded certificate chain"));
                }
                true
            }
            _ => {
                return Err(ApiError::bad_request(
                    "",
                    "Importing a certificate needs both certificate and key; send neither to order the free certificate",
                ))
            }
        };
        let task_id = w.next_id();
        let hosting = find_mut(w, &name, now)?;
        if hosting.ssl.is_some() {
            return Err(ApiError::conflict("", "This hosting already has a SSL certificate; delete it first"));
        }
        let (provider, kind, during, function) = if imported {
            ("CUSTOM", "CUSTOM", "importing", "hostedssl/import")
        } else {
            ("LETSENCRYPT", "DV", "creating", "hostedssl/create")
        };
        let lifecycle = Lifecycle::starting(during, "created", now, wait);
        let until = lifecycle.busy_until(now).unwrap_or(now);
        let mut ssl = HostedSsl {
            provider: provider.to_string(),
            kind: kind.to_string(),
            lifecycle,
            task_id: Some(task_id),
            covered: BTreeSet::new(),
            next: BTreeSet::new(),
            covers_from: now,
            provider_order_id: format!("{}{task_id}", &hosting.identity().digest[..6]),
        };
        ssl.issue(ssl_domains(hosting, now), now, until);
        let service_name = hosting.service_name.clone();
        hosting.start_task(task_id, function, "Hostedssl", &service_name, now, wait);
        let answer = ssl.to_json(now);
        hosting.ssl = Some(ssl);
        Ok(Json(answer))
    })
}

/// `DELETE .../ssl`: answers the certificate, `deleting`.
pub async fn delete(
    State(sandbox): State<Arc<Sandbox>>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let wait = sandbox.ready_after();
    sandbox.write(|w, now| {
        find(w, &name)?;
        let task_id = w.next_id();
        let hosting = find_mut(w, &name, now)?;
        let ssl = idle_mut(hosting, now)?;
        ssl.lifecycle.begin_removal("deleting", now, wait);
        ssl.task_id = Some(task_id);
        let answer = ssl.to_json(now);
        let service_name = hosting.service_name.clone();
        hosting.start_task(
            task_id,
            "hostedssl/delete",
            "Hostedssl",
            &service_name,
            now,
            wait,
        );
        Ok(Json(answer))
    })
}

/// `POST .../ssl/regenerate`: re-issues the free certificate for the `ssl=true` domains.
pub async fn regenerate(
    State(sandbox): State<Arc<Sandbox>>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let wait = sandbox.ready_after();
    sandbox.write(|w, now| {
        find(w, &name)?;
        let task_id = w.next_id();
        let hosting = find_mut(w, &name, now)?;
        let domains = ssl_domains(hosting, now);
        let ssl = idle_mut(hosting, now)?;
        if ssl.provider != "LETSENCRYPT" {
            return Err(ApiError::bad_request(
                "",
                "Only the free certificate (LETSENCRYPT) can be regenerated; import a new certificate instead",
            ));
        }
        ssl.lifecycle.begin("regenerating", now, wait);
        let until = ssl.lifecycle.busy_until(now).unwrap_or(now);
        ssl.issue(domains, now, until);
        ssl.task_id = Some(task_id);
        let answer = ssl.to_json(now);
        let service_name = hosting.service_name.clone();
        hosting.start_task(task_id, "hostedssl/regenerate", "Hostedssl", &service_name, now, wait);
        Ok(Json(answer))
    })
}

/// `GET .../ssl/domains`: the domains the certificate covers now.
pub async fn domains(
    State(sandbox): State<Arc<Sandbox>>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    sandbox.read(|w, now| {
        let hosting = find(w, &name)?;
        let ssl = certificate(hosting, now)?;
        let still_attached: Vec<&String> = ssl
            .domains(now)
            .iter()
            .filter(|d| {
                hosting
                    .attached_domains
                    .get(*d)
                    .is_some_and(|a| a.status(now).is_some())
            })
            .collect();
        Ok(Json(json!(still_attached)))
    })
}

/// `GET .../ssl/report`: the issuance steps of the free certificate (`hosting.web.ssl.Report`);
/// an imported certificate has none (404).
pub async fn report(
    State(sandbox): State<Arc<Sandbox>>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    sandbox.read(|w, now| {
        let ssl = certificate(find(w, &name)?, now)?;
        if ssl.provider != "LETSENCRYPT" {
            return Err(ApiError::not_found(
                "",
                "There is no report for an imported certificate",
            ));
        }
        let step = match ssl.status(now) {
            Some("creating") | Some("regenerating") => "in-progress",
            _ => "completed",
        };
        Ok(Json(json!({
            "certificateSigningRequestStatus": step,
            "domainControlValidationStatus": step,
            "organizationValidationStatus": "not-applicable",
            "phoneCallApprovalStatus": "not-applicable",
            "providerOrderId": ssl.provider_order_id,
            "termsAndConditionsAcceptanceStatus": "non-required",
            "tradeNameVerificationStatus": "not-applicable",
        })))
    })
}
