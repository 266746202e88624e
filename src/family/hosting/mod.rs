//! Web Hosting: the calls on a hosting's attached domains, SSL certificate and databases,
//! their API paths (`/hosting/web/{hosting}/...`, with the tasks every write starts), and the
//! domain rule, and `Hostings`, the family behind the contract (`HostingAttachedDomain`,
//! `HostingSsl`, `HostingDatabase`; one scope per hosting).

pub(crate) mod digest;
pub(crate) mod engine;
pub(crate) mod live;
pub mod model;
pub(crate) mod normalise;
pub(crate) mod plan;
#[cfg(test)]
mod plan_tests;
pub(crate) mod resume;
pub mod spec;

/// What one digest of its scopes digests (the stale-plan guard).
pub use digest::DigestKey;

use super::segment;
use super::Family;
use crate::live::read::{ReadError, Reader};
use crate::live::{LiveScope, LiveState, Scope};
use crate::manifest::model::{Address, Kind, ManifestSet, Resource, SecretRef, Spec};
use crate::manifest::validate::{ManagedObject, SpecCheck};
use crate::plan::{Context, Digests, Draft, Finding};
use futures::future::BoxFuture;
use serde_json::Value;

/// A call on one web hosting.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    /// `POST .../attachedDomain`; `domain` is the identity (as the body sends it).
    CreateDomain {
        hosting: String,
        domain: String,
        body: Value,
    },
    /// `PUT .../attachedDomain/{domain}`.
    UpdateDomain {
        hosting: String,
        domain: String,
        body: Value,
    },
    /// `DELETE .../attachedDomain/{domain}`.
    DeleteDomain { hosting: String, domain: String },
    /// `POST .../ssl` (no body: a Let's Encrypt certificate; else the imported one, redacted).
    CreateSsl {
        hosting: String,
        body: Option<Value>,
    },
    /// `POST .../ssl/regenerate`: the certificate again, for every attached domain with SSL.
    RegenerateSsl { hosting: String },
    /// `DELETE .../ssl`.
    DeleteSsl { hosting: String },
    /// `POST .../database`; `user` is the identity.
    CreateDatabase {
        hosting: String,
        user: String,
        body: Value,
    },
    /// `DELETE .../database/{name}`.
    DeleteDatabase { hosting: String, name: String },
}

impl Call {
    pub fn method(&self) -> &'static str {
        match self {
            Call::CreateDomain { .. }
            | Call::CreateSsl { .. }
            | Call::RegenerateSsl { .. }
            | Call::CreateDatabase { .. } => "POST",
            Call::UpdateDomain { .. } => "PUT",
            Call::DeleteDomain { .. } | Call::DeleteSsl { .. } | Call::DeleteDatabase { .. } => {
                "DELETE"
            }
        }
    }

    pub fn path(&self) -> String {
        match self {
            Call::CreateDomain { hosting, .. } => attached_domains_path(hosting),
            Call::UpdateDomain {
                hosting, domain, ..
            }
            | Call::DeleteDomain { hosting, domain } => attached_domain_path(hosting, domain),
            Call::CreateSsl { hosting, .. } | Call::DeleteSsl { hosting } => ssl_path(hosting),
            Call::RegenerateSsl { hosting } => format!("{}/regenerate", ssl_path(hosting)),
            Call::CreateDatabase { hosting, .. } => databases_path(hosting),
            Call::DeleteDatabase { hosting, name } => database_path(hosting, name),
        }
    }

    pub fn body(&self) -> Option<&Value> {
        match self {
            Call::CreateDomain { body, .. }
            | Call::UpdateDomain { body, .. }
            | Call::CreateDatabase { body, .. } => Some(body),
            Call::CreateSsl { body, .. } => body.as_ref(),
            Call::DeleteDomain { .. }
            | Call::RegenerateSsl { .. }
            | Call::DeleteSsl { .. }
            | Call::DeleteDatabase { .. } => None,
        }
    }
}

/// `/hosting/web/{hosting}`: the hosting service.
pub fn hosting_path(hosting: &str) -> String {
    format!("/hosting/web/{}", segment(hosting))
}

/// `.../attachedDomain`.
pub fn attached_domains_path(hosting: &str) -> String {
    format!("{}/attachedDomain", hosting_path(hosting))
}

/// `.../attachedDomain/{domain}`.
pub fn attached_domain_path(hosting: &str, domain: &str) -> String {
    format!("{}/{}", attached_domains_path(hosting), segment(domain))
}

/// `.../ssl`.
pub fn ssl_path(hosting: &str) -> String {
    format!("{}/ssl", hosting_path(hosting))
}

/// `.../ssl/domains`: the domains the certificate covers.
pub fn ssl_domains_path(hosting: &str) -> String {
    format!("{}/domains", ssl_path(hosting))
}

/// `.../database`.
pub fn databases_path(hosting: &str) -> String {
    format!("{}/database", hosting_path(hosting))
}

/// `.../database?user={user}`: the databases of one user.
pub fn databases_of_user_path(hosting: &str, user: &str) -> String {
    format!("{}?user={}", databases_path(hosting), segment(user))
}

/// `.../database/{name}`.
pub fn database_path(hosting: &str, name: &str) -> String {
    format!("{}/{}", databases_path(hosting), segment(name))
}

/// `.../tasks/{task}`.
pub fn task_path(hosting: &str, task: i64) -> String {
    format!("{}/tasks/{task}", hosting_path(hosting))
}

/// An attached domain's identity: the same domain whatever its case or trailing dot.
pub fn domain(domain: &str) -> String {
    domain.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// How messages name a hosting scope.
pub(crate) fn fmt_scope(f: &mut std::fmt::Formatter<'_>, hosting: &str) -> std::fmt::Result {
    write!(f, "hosting {hosting}")
}

/// Web Hosting behind the family contract.
pub(crate) struct Hostings;

impl Family for Hostings {
    fn kinds(&self) -> &'static [Kind] {
        &[
            Kind::HostingAttachedDomain,
            Kind::HostingSsl,
            Kind::HostingDatabase,
        ]
    }

    fn spec_schema(
        &self,
        kind: Kind,
        generator: &mut schemars::SchemaGenerator,
    ) -> schemars::Schema {
        match kind {
            Kind::HostingAttachedDomain => {
                generator.subschema_for::<spec::HostingAttachedDomainSpec>()
            }
            Kind::HostingSsl => generator.subschema_for::<spec::HostingSslSpec>(),
            Kind::HostingDatabase => generator.subschema_for::<spec::HostingDatabaseSpec>(),
            other => unreachable!("{other:?} is not a hosting kind"),
        }
    }

    fn spec_from_json(&self, kind: Kind, value: Value) -> Result<Spec, serde_json::Error> {
        Ok(match kind {
            Kind::HostingAttachedDomain => {
                Spec::HostingAttachedDomain(serde_json::from_value(value)?)
            }
            Kind::HostingSsl => Spec::HostingSsl(serde_json::from_value(value)?),
            Kind::HostingDatabase => Spec::HostingDatabase(serde_json::from_value(value)?),
            other => unreachable!("{other:?} is not a hosting kind"),
        })
    }

    fn check_spec(&self, spec: &mut Spec, check: &mut SpecCheck<'_, '_>) {
        spec::check(spec, check)
    }

    fn path_fields<'s>(&self, spec: &'s Spec) -> Vec<(&'static str, &'s str)> {
        spec::path_fields(spec)
    }

    fn managed_object<'s>(
        &self,
        spec: &'s Spec,
        _specs: &dyn Fn(&Address) -> Option<&'s Spec>,
    ) -> Option<ManagedObject> {
        spec::managed_object(spec)
    }

    fn owns(&self, scope: &Scope) -> bool {
        matches!(scope, Scope::Hosting { .. })
    }

    /// One scope per hosting of a hosting kind (its `hosting`, or the defaults'), and one per
    /// hosting `reconcile.yaml` declares under `manages.hostings`.
    fn scopes(&self, manifests: &ManifestSet) -> Vec<Scope> {
        let defaults = &manifests.defaults;
        let hosting = |named: &Option<String>| {
            named
                .clone()
                .or_else(|| defaults.hosting.clone())
                .map(|hosting| Scope::Hosting { hosting })
        };
        let named = manifests
            .resources
            .iter()
            .filter_map(|resource| match &resource.spec {
                Spec::HostingAttachedDomain(spec) => hosting(&spec.hosting),
                Spec::HostingSsl(spec) => hosting(&spec.hosting),
                Spec::HostingDatabase(spec) => hosting(&spec.hosting),
                _ => None,
            });
        let managed = defaults
            .manages
            .hostings
            .iter()
            .map(|hosting| Scope::Hosting {
                hosting: hosting.clone(),
            });
        named.chain(managed).collect()
    }

    fn read_scope<'a>(
        &'a self,
        reader: &'a Reader<'_>,
        scope: &'a Scope,
        _: &'a ManifestSet,
        _: bool,
    ) -> BoxFuture<'a, Result<LiveScope, ReadError>> {
        let Scope::Hosting { hosting } = scope else {
            unreachable!("only hosting scopes are routed here")
        };
        Box::pin(live::read_scope(reader, hosting))
    }

    fn missing(&self, scope: &Scope) -> String {
        scope.to_string()
    }

    fn scope_of(&self, resource: &Resource, ctx: &Context) -> Result<Scope, Finding> {
        plan::scope_of(resource, ctx)
    }

    fn plan_scope(
        &self,
        scope: &Scope,
        live: &LiveScope,
        resources: &[&Resource],
        ctx: &Context,
        out: &mut Draft,
    ) {
        plan::plan_scope(scope, live, resources, ctx, out)
    }

    fn digest(&self, scope: &Scope, live: &LiveScope, out: &mut Digests) {
        digest::digest(scope, live, out)
    }

    fn secret_ref<'s>(&self, spec: &'s Spec, key: &str) -> Option<&'s SecretRef> {
        match (spec, key) {
            (Spec::HostingDatabase(db), "password") => Some(&db.password),
            (Spec::HostingSsl(ssl), "certificate") => ssl.certificate.as_ref(),
            (Spec::HostingSsl(ssl), "key") => ssl.key.as_ref(),
            (Spec::HostingSsl(ssl), "chain") => ssl.chain.as_ref(),
            _ => None,
        }
    }

    fn resume(
        &self,
        address: &Address,
        spec: &Spec,
        manifests: &ManifestSet,
        live: &LiveState,
        id: Option<&str>,
    ) -> Option<super::Resume> {
        resume::resume_for(address, spec, manifests, live, id).map(super::Resume::Hosting)
    }

    /// A hosting database replaced is an empty database: its data is gone.
    fn loses_data_on_replace(&self, kind: Kind) -> bool {
        kind == Kind::HostingDatabase
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::Operation;
    use serde_json::json;

    const H: &str = "h1.cluster021.hosting.ovh.net";

    fn rendered(call: Call) -> String {
        Operation::Hosting(call).to_string()
    }

    #[test]
    fn every_call_renders_the_method_and_path_the_api_expects() {
        let h = || H.to_owned();
        let cases = [
            (
                Call::CreateDomain {
                    hosting: h(),
                    domain: "www.shop.example".into(),
                    body: json!({}),
                },
                "POST /hosting/web/h1.cluster021.hosting.ovh.net/attachedDomain",
            ),
            (
                Call::UpdateDomain {
                    hosting: h(),
                    domain: "www.shop.example".into(),
                    body: json!({}),
                },
                "PUT /hosting/web/h1.cluster021.hosting.ovh.net/attachedDomain/www.shop.example",
            ),
            (
                Call::DeleteDomain {
                    hosting: h(),
                    domain: "www.shop.example".into(),
                },
                "DELETE /hosting/web/h1.cluster021.hosting.ovh.net/attachedDomain/www.shop.example",
            ),
            (
                Call::CreateSsl {
                    hosting: h(),
                    body: None,
                },
                "POST /hosting/web/h1.cluster021.hosting.ovh.net/ssl",
            ),
            (
                Call::RegenerateSsl { hosting: h() },
                "POST /hosting/web/h1.cluster021.hosting.ovh.net/ssl/regenerate",
            ),
            (
                Call::DeleteSsl { hosting: h() },
                "DELETE /hosting/web/h1.cluster021.hosting.ovh.net/ssl",
            ),
            (
                Call::CreateDatabase {
                    hosting: h(),
                    user: "shopdb".into(),
                    body: json!({}),
                },
                "POST /hosting/web/h1.cluster021.hosting.ovh.net/database",
            ),
            (
                Call::DeleteDatabase {
                    hosting: h(),
                    name: "h1shop.mysql.db".into(),
                },
                "DELETE /hosting/web/h1.cluster021.hosting.ovh.net/database/h1shop.mysql.db",
            ),
        ];
        for (call, expected) in cases {
            assert_eq!(rendered(call), expected);
        }
    }

    #[test]
    fn odd_ids_are_escaped_and_cannot_add_path_parts() {
        let call = Call::DeleteDomain {
            hosting: "h/1".into(),
            domain: "a b?.example#x".into(),
        };
        assert_eq!(
            rendered(call),
            "DELETE /hosting/web/h%2F1/attachedDomain/a%20b%3F.example%23x"
        );
        let call = Call::DeleteDatabase {
            hosting: H.into(),
            name: "..".into(),
        };
        assert_eq!(
            rendered(call),
            "DELETE /hosting/web/h1.cluster021.hosting.ovh.net/database/%252E%252E"
        );
        assert_eq!(
            databases_of_user_path("h1", "a&b=c"),
            "/hosting/web/h1/database?user=a%26b%3Dc"
        );
        assert_eq!(task_path("h1", 42), "/hosting/web/h1/tasks/42");
        assert_eq!(ssl_domains_path("h1"), "/hosting/web/h1/ssl/domains");
    }

    #[test]
    fn domains_match_whatever_their_case_and_trailing_dot() {
        assert_eq!(domain(" WWW.Shop.example. "), "www.shop.example");
    }
}
