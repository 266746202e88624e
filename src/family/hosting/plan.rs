//! The Web Hosting family: `HostingAttachedDomain`, `HostingSsl` and `HostingDatabase`, in the
//! scope `/hosting/web/{hosting}`.
//!
//! Identity: an attached domain is the live domain of the same name (case-insensitive, no
//! trailing dot); the SSL certificate is the hosting's one; a hosting database is the live
//! database with the same `user`.
//!
//! Changes:
//! - attached domain: `path`, `ssl`, `cdn`, `firewall`, `ownLog`, `runtimeId` change in place
//!   (`PUT` with the changed fields); the domain is the identity (another domain is another
//!   resource). The hosting's default attached domain (the service name, or
//!   `{primaryLogin}.clusterNNN.hosting.ovh.net`) is never deleted nor listed as unmanaged;
//! - SSL: free (no `certificate`) vs custom is a replace (`DELETE` then `POST`, forced by
//!   `spec.certificate`). A free certificate that does not cover every domain attached with
//!   `ssl: true` is regenerated (`POST .../ssl/regenerate`), an update in place. The content of
//!   a custom certificate is not compared (the plan reads no secrets and the API does not
//!   expose a fingerprint). The certificate is ordered, replaced or regenerated after the
//!   `ssl: true` domains this plan creates or updates;
//! - hosting database: the API has no update route, so a change of `type`, `version` or
//!   `quota` is a replace (`DELETE` then `POST`, the data is lost: the plan says `-/+`). The
//!   capability (`sqlPerso`, ...) is not compared: the live database does not show it.
//!   Passwords are never compared; a create sends `"***"` in the plan.

use super::normalise::{self, is_leaving};
use crate::family::hosting::Call;
use crate::live::{LiveAttachedDomain, LiveHosting, LiveHostingDatabase, LiveScope, Scope};
use crate::manifest::model::{
    ActiveOrNone, Address, HostingAttachedDomainSpec, HostingDatabaseSpec, HostingSslSpec, Kind,
    Resource, Spec,
};
use crate::plan::diff::{self, Fields, Rules};
use crate::plan::{action_for, change, of_kind, Context, Draft, Finding};
use crate::plan::{Action, FieldChange, Operation, Unmanaged};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

const DOMAIN_RULES: Rules = Rules {
    forcing: &[],
    owned: &[],
};

const SSL_RULES: Rules = Rules {
    forcing: &["spec.certificate"],
    owned: &[],
};

const DATABASE_RULES: Rules = Rules {
    forcing: &["spec.type", "spec.version", "spec.quota"],
    owned: &[],
};

pub(super) fn scope_of(resource: &Resource, ctx: &Context) -> Result<Scope, Finding> {
    let hosting = match &resource.spec {
        Spec::HostingAttachedDomain(spec) => &spec.hosting,
        Spec::HostingSsl(spec) => &spec.hosting,
        Spec::HostingDatabase(spec) => &spec.hosting,
        _ => unreachable!("only hosting kinds are routed here"),
    };
    match ctx.hosting(hosting) {
        Some(hosting) => Ok(Scope::Hosting { hosting }),
        None => Err(Finding {
            address: resource.address.clone(),
            field: "spec.hosting".into(),
            message: "no hosting: set spec.hosting or `hosting` in reconcile.yaml".into(),
        }),
    }
}

pub(super) fn plan_scope(
    scope: &Scope,
    live: &LiveScope,
    resources: &[&Resource],
    ctx: &Context,
    out: &mut Draft,
) {
    let (Scope::Hosting { hosting }, LiveScope::Hosting(live)) = (scope, live) else {
        return out.not_read_as(scope, resources, "a hosting");
    };
    let mut plan = ScopePlan {
        scope,
        hosting,
        live,
        ctx,
        out,
    };
    let covered_by_ssl = plan.domains(resources);
    plan.ssl(resources, covered_by_ssl);
    plan.databases(resources);
}

/// The domains the certificate must cover, and the changes it waits for.
struct SslNeeds {
    domains: BTreeSet<String>,
    after: Vec<Address>,
}

struct ScopePlan<'a, 'o> {
    scope: &'a Scope,
    hosting: &'a str,
    live: &'a LiveHosting,
    ctx: &'a Context<'a>,
    out: &'o mut Draft,
}

impl ScopePlan<'_, '_> {
    fn op(&self, call: Call) -> Operation {
        Operation::Hosting(call)
    }

    fn delete_database(&self, name: &str) -> Operation {
        self.op(Call::DeleteDatabase {
            hosting: self.hosting.to_owned(),
            name: name.to_owned(),
        })
    }

    fn domains(&mut self, resources: &[&Resource]) -> SslNeeds {
        let domains = of_kind(resources, |s| match s {
            Spec::HostingAttachedDomain(spec) => Some(spec),
            _ => None,
        });
        let domains = crate::plan::duplicate_identities(
            &domains,
            |d| normalise::domain(&d.domain),
            "domain",
            "spec.domain",
            self.scope,
            self.out,
        );
        let present: Vec<&LiveAttachedDomain> = self
            .live
            .attached_domains
            .iter()
            .filter(|d| !is_leaving(&d.status))
            .collect();
        // The live domains by normalised name (the first wins, as a scan would find it).
        let mut by_domain: BTreeMap<String, &LiveAttachedDomain> = BTreeMap::new();
        for &live in &present {
            by_domain
                .entry(normalise::domain(&live.domain))
                .or_insert(live);
        }
        let mut named = BTreeSet::new();
        let mut needs = SslNeeds {
            domains: BTreeSet::new(),
            after: vec![],
        };
        for (resource, spec) in domains {
            let address = &resource.address;
            let domain = normalise::domain(&spec.domain);
            named.insert(domain.clone());
            let wants_ssl = spec.ssl == Some(true);
            if wants_ssl {
                needs.domains.insert(domain.clone());
            }
            let desired = desired_domain(spec);
            let planned = match by_domain.get(&domain) {
                None => {
                    let body = domain_body(spec, None);
                    let calls = vec![self.op(Call::CreateDomain {
                        hosting: self.hosting.to_owned(),
                        domain: domain.clone(),
                        body,
                    })];
                    let identity = [
                        ("spec.hosting", json!(self.hosting)),
                        ("spec.domain", json!(spec.domain)),
                    ];
                    let fields = diff::created_with(&identity, &desired);
                    change(address, Action::Create, fields, calls, None, vec![])
                }
                Some(live) => {
                    let fields = diff::diff(&live_domain(live), &desired, &DOMAIN_RULES);
                    if fields.is_empty() {
                        self.out.settled(address, &live.domain, &live.status);
                        continue;
                    }
                    let body = domain_body(spec, Some(&fields));
                    let calls = vec![self.op(Call::UpdateDomain {
                        hosting: self.hosting.to_owned(),
                        domain: live.domain.clone(),
                        body,
                    })];
                    let id = Some(live.domain.clone());
                    change(address, Action::Update, fields, calls, id, vec![])
                }
            };
            if wants_ssl {
                needs.after.push(address.clone());
            }
            self.out.changes.push(planned);
        }
        let mut unmanaged: Vec<&LiveAttachedDomain> = present
            .into_iter()
            .filter(|d| !named.contains(&normalise::domain(&d.domain)))
            .filter(|d| !self.is_default_domain(&d.domain))
            .collect();
        unmanaged.sort_by(|a, b| a.domain.cmp(&b.domain));
        for live in unmanaged {
            let object = Unmanaged {
                kind: Kind::HostingAttachedDomain,
                scope: self.scope.clone(),
                id: live.domain.clone(),
                label: format!("path {}", live.path),
            };
            let delete = self.op(Call::DeleteDomain {
                hosting: self.hosting.to_owned(),
                domain: live.domain.clone(),
            });
            let name = live.domain.clone();
            self.out.unmanaged(self.ctx, object, name, delete, vec![]);
        }
        needs
    }

    /// The default attached domain exists from the hosting's start and cannot be detached: the
    /// service's `defaultAttachedDomain`, or, when the API did not say, the service name itself
    /// or `{primaryLogin}.clusterNNN.hosting.ovh.net`.
    fn is_default_domain(&self, domain: &str) -> bool {
        let domain = normalise::domain(domain);
        if let Some(default) = &self.live.default_attached_domain {
            return domain == normalise::domain(default);
        }
        if domain == normalise::domain(self.hosting) {
            return true;
        }
        let login = self.live.primary_login.to_ascii_lowercase();
        domain
            .strip_prefix(&format!("{login}."))
            .and_then(|rest| rest.strip_suffix(".hosting.ovh.net"))
            .is_some_and(|cluster| cluster.starts_with("cluster") && !cluster.contains('.'))
    }

    fn ssl(&mut self, resources: &[&Resource], needs: SslNeeds) {
        let ssls = of_kind(resources, |s| match s {
            Spec::HostingSsl(spec) => Some(spec),
            _ => None,
        });
        let hosting = self.hosting.to_string();
        let ssls = crate::plan::duplicate_identities(
            &ssls,
            |_| hosting.clone(),
            "the certificate of hosting",
            "spec.hosting",
            self.scope,
            self.out,
        );
        let live = self.live.ssl.as_ref().filter(|s| !is_leaving(&s.status));
        let hosting = || self.hosting.to_owned();
        let delete = self.op(Call::DeleteSsl { hosting: hosting() });
        let Some((resource, spec)) = ssls.first() else {
            if let Some(live) = live {
                let object = Unmanaged {
                    kind: Kind::HostingSsl,
                    scope: self.scope.clone(),
                    id: self.hosting.to_string(),
                    label: live.provider.clone(),
                };
                let name = self.hosting.to_string();
                self.out.unmanaged(self.ctx, object, name, delete, vec![]);
            }
            return;
        };
        let address = &resource.address;
        let desired = desired_ssl(spec);
        let order = self.op(Call::CreateSsl {
            hosting: hosting(),
            body: ssl_body(spec),
        });
        let planned = match live {
            None => {
                let mut fields = diff::created(&desired);
                fields.extend(ssl_secrets(spec));
                change(
                    address,
                    Action::Create,
                    fields,
                    vec![order],
                    None,
                    needs.after,
                )
            }
            Some(live) => {
                let mut live_fields = Fields::default();
                live_fields.set("spec.certificate", certificate_kind(&live.provider));
                let mut fields = diff::diff(&live_fields, &desired, &SSL_RULES);
                let id = Some(self.hosting.to_string());
                match action_for(&fields) {
                    Some(action @ Action::Replace { .. }) => {
                        fields.extend(ssl_secrets(spec));
                        let calls = vec![delete, order];
                        change(address, action, fields, calls, id, needs.after)
                    }
                    _ if spec.certificate.is_none() => {
                        let covered: BTreeSet<String> =
                            live.domains.iter().map(|d| normalise::domain(d)).collect();
                        if needs.domains.is_subset(&covered) {
                            self.out.settled(address, self.hosting, &live.status);
                            return;
                        }
                        let wanted: BTreeSet<&String> =
                            covered.iter().chain(&needs.domains).collect();
                        let fields = vec![FieldChange {
                            path: "domains".into(),
                            old: Some(json!(covered)),
                            new: Some(json!(wanted)),
                            sensitive: false,
                            forces_replace: false,
                        }];
                        let calls = vec![self.op(Call::RegenerateSsl { hosting: hosting() })];
                        change(address, Action::Update, fields, calls, id, needs.after)
                    }
                    _ => {
                        self.out.settled(address, self.hosting, &live.status);
                        return;
                    }
                }
            }
        };
        self.out.changes.push(planned);
    }

    fn databases(&mut self, resources: &[&Resource]) {
        let databases = of_kind(resources, |s| match s {
            Spec::HostingDatabase(spec) => Some(spec),
            _ => None,
        });
        let databases = crate::plan::duplicate_identities(
            &databases,
            |d| d.user.to_ascii_lowercase(),
            "database user",
            "spec.user",
            self.scope,
            self.out,
        );
        let present: Vec<&LiveHostingDatabase> = self
            .live
            .databases
            .iter()
            .filter(|d| !is_leaving(&d.status))
            .collect();
        // The live databases by user, case-insensitive (the first wins, as a scan would).
        let mut by_user: BTreeMap<String, &LiveHostingDatabase> = BTreeMap::new();
        for &live in &present {
            by_user
                .entry(live.user.to_ascii_lowercase())
                .or_insert(live);
        }
        let mut named = BTreeSet::new();
        for (resource, spec) in databases {
            let address = &resource.address;
            let user = spec.user.to_ascii_lowercase();
            named.insert(user.clone());
            let create = self.op(Call::CreateDatabase {
                hosting: self.hosting.to_owned(),
                user: spec.user.clone(),
                body: database_body(spec),
            });
            let Some(&live) = by_user.get(&user) else {
                let identity = [
                    ("spec.hosting", json!(self.hosting)),
                    ("spec.capability", json!(spec.capability)),
                    ("spec.user", json!(spec.user)),
                ];
                let mut fields = diff::created_with(&identity, &desired_database(spec, None));
                fields.push(diff::sensitive("spec.password"));
                let planned = change(address, Action::Create, fields, vec![create], None, vec![]);
                self.out.changes.push(planned);
                continue;
            };
            let desired = desired_database(spec, Some(live));
            let mut fields = diff::diff(&live_database(live), &desired, &DATABASE_RULES);
            let Some(action) = action_for(&fields) else {
                self.out.settled(address, &live.name, &live.status);
                continue;
            };
            fields.push(diff::sensitive("spec.password"));
            let delete = self.delete_database(&live.name);
            let id = Some(live.name.clone());
            let planned = change(address, action, fields, vec![delete, create], id, vec![]);
            self.out.changes.push(planned);
        }
        let mut unmanaged: Vec<&LiveHostingDatabase> = present
            .into_iter()
            .filter(|d| !named.contains(&d.user.to_ascii_lowercase()))
            .collect();
        unmanaged.sort_by(|a, b| a.name.cmp(&b.name));
        for live in unmanaged {
            let object = Unmanaged {
                kind: Kind::HostingDatabase,
                scope: self.scope.clone(),
                id: live.name.clone(),
                label: format!("user {}", live.user),
            };
            let delete = self.delete_database(&live.name);
            let name = live.name.clone();
            self.out.unmanaged(self.ctx, object, name, delete, vec![]);
        }
    }
}

fn flag(value: ActiveOrNone) -> &'static str {
    match value {
        ActiveOrNone::Active => "active",
        ActiveOrNone::None => "none",
    }
}

/// normalise: the manifest side of an attached domain (omitted flags are server defaults).
fn desired_domain(spec: &HostingAttachedDomainSpec) -> Fields {
    let mut fields = Fields::default();
    fields.set("spec.path", normalise::path(&spec.path));
    fields.set_some("spec.ssl", spec.ssl);
    fields.set_some("spec.cdn", spec.cdn.map(flag));
    fields.set_some("spec.firewall", spec.firewall.map(flag));
    fields.set_some(
        "spec.ownLog",
        spec.own_log.as_deref().map(normalise::domain),
    );
    fields.set_some("spec.runtimeId", spec.runtime_id);
    fields
}

fn live_domain(live: &LiveAttachedDomain) -> Fields {
    let mut fields = Fields::default();
    fields.set("spec.path", normalise::path(&live.path));
    fields.set("spec.ssl", live.ssl.unwrap_or(false));
    fields.set("spec.cdn", normalise::flag(live.cdn.as_deref()));
    fields.set("spec.firewall", normalise::flag(live.firewall.as_deref()));
    fields.set_some(
        "spec.ownLog",
        live.own_log.as_deref().map(normalise::domain),
    );
    fields.set_some("spec.runtimeId", live.runtime_id);
    fields
}

/// `hosting.web.AttachedDomain`: every set field on create, the changed ones on update.
fn domain_body(spec: &HostingAttachedDomainSpec, changed: Option<&[FieldChange]>) -> Value {
    let wanted = |path: &str| changed.is_none_or(|fields| diff::changed(fields, path));
    let mut body = Map::new();
    if changed.is_none() {
        body.insert("domain".into(), normalise::domain(&spec.domain).into());
    }
    if wanted("spec.path") {
        body.insert("path".into(), normalise::path(&spec.path).into());
    }
    let optional = [
        ("spec.ssl", "ssl", spec.ssl.map(Value::from)),
        ("spec.cdn", "cdn", spec.cdn.map(|f| flag(f).into())),
        (
            "spec.firewall",
            "firewall",
            spec.firewall.map(|f| flag(f).into()),
        ),
        (
            "spec.ownLog",
            "ownLog",
            spec.own_log.clone().map(Value::from),
        ),
        (
            "spec.runtimeId",
            "runtimeId",
            spec.runtime_id.map(Value::from),
        ),
    ];
    for (path, key, value) in optional {
        if let (true, Some(value)) = (wanted(path), value) {
            body.insert(key.into(), value);
        }
    }
    body.into()
}

/// `free` or `custom`: what kind of certificate the hosting has or should have.
fn certificate_kind(provider: &str) -> &'static str {
    if provider.eq_ignore_ascii_case("CUSTOM") {
        "custom"
    } else {
        "free"
    }
}

fn desired_ssl(spec: &HostingSslSpec) -> Fields {
    let mut fields = Fields::default();
    let kind = if spec.certificate.is_some() {
        "custom"
    } else {
        "free"
    };
    fields.set("spec.certificate", kind);
    fields
}

/// The secret parts of a custom certificate, shown as `(sensitive)`.
fn ssl_secrets(spec: &HostingSslSpec) -> Vec<FieldChange> {
    let mut secrets = Vec::new();
    if spec.key.is_some() {
        secrets.push(diff::sensitive("spec.key"));
    }
    if spec.chain.is_some() {
        secrets.push(diff::sensitive("spec.chain"));
    }
    secrets
}

/// The free certificate is ordered with an empty body; a custom one is imported (redacted).
fn ssl_body(spec: &HostingSslSpec) -> Option<Value> {
    spec.certificate.as_ref()?;
    let mut body = Map::new();
    body.insert("certificate".into(), "***".into());
    body.insert("key".into(), "***".into());
    if spec.chain.is_some() {
        body.insert("chain".into(), "***".into());
    }
    Some(body.into())
}

/// normalise: the manifest side of a hosting database. `version` and `quota` are compared only
/// when both sides have them (a live database that does not show one cannot force a replace).
fn desired_database(spec: &HostingDatabaseSpec, live: Option<&LiveHostingDatabase>) -> Fields {
    let mut fields = Fields::default();
    fields.set("spec.type", spec.engine.to_ascii_lowercase());
    let live_has = |has: fn(&LiveHostingDatabase) -> bool| live.is_none_or(has);
    if live_has(|l| l.version.is_some()) {
        fields.set_some("spec.version", spec.version.as_deref());
    }
    if live_has(|l| l.quota.is_some()) {
        fields.set_some("spec.quota", spec.quota);
    }
    fields
}

fn live_database(live: &LiveHostingDatabase) -> Fields {
    let mut fields = Fields::default();
    fields.set("spec.type", live.engine.to_ascii_lowercase());
    fields.set_some("spec.version", live.version.as_deref());
    fields.set_some("spec.quota", live.quota);
    fields
}

/// The create body (`capabilitie` is the API's spelling); the password is redacted.
fn database_body(spec: &HostingDatabaseSpec) -> Value {
    let mut body = Map::new();
    body.insert("capabilitie".into(), spec.capability.clone().into());
    body.insert("type".into(), spec.engine.clone().into());
    body.insert("user".into(), spec.user.clone().into());
    if let Some(version) = &spec.version {
        body.insert("version".into(), version.clone().into());
    }
    if let Some(quota) = spec.quota {
        body.insert("quota".into(), quota.into());
    }
    body.insert("password".into(), "***".into());
    body.into()
}
