//! The digests of a hosting scope, for apply's stale-plan guard (`plan::digest`): its keys
//! (`DigestKey`, rendered as a saved plan's `digests` keys) and `digest`, which fills them.
//!
//! Keys: `hosting/{h}/attachedDomain` (the domains), `hosting/{h}/attachedDomain/{domain}`,
//! `hosting/{h}/ssl` (the certificate with the domains it covers, or `null`),
//! `hosting/{h}/database` (the names), `hosting/{h}/database/{name}`.

use super::normalise::is_leaving;
use crate::family;
use crate::live::{LiveScope, Scope};
use crate::manifest::model::Kind;
use crate::plan::Digests;
use std::fmt;

/// What one digest of a hosting scope digests: an attached domain, the SSL certificate, a
/// database, or a listing of them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DigestKey {
    /// `hosting/{hosting}/attachedDomain`: the domains attached to a hosting.
    AttachedDomains { hosting: String },
    /// `hosting/{hosting}/attachedDomain/{domain}`.
    AttachedDomain { hosting: String, domain: String },
    /// `hosting/{hosting}/ssl`: the certificate with the domains it covers, or `null`.
    Ssl { hosting: String },
    /// `hosting/{hosting}/database`: the names of a hosting's databases.
    Databases { hosting: String },
    /// `hosting/{hosting}/database/{name}`.
    Database { hosting: String, name: String },
}

impl fmt::Display for DigestKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DigestKey::AttachedDomains { hosting } => write!(f, "hosting/{hosting}/attachedDomain"),
            DigestKey::AttachedDomain { hosting, domain } => {
                write!(f, "hosting/{hosting}/attachedDomain/{domain}")
            }
            DigestKey::Ssl { hosting } => write!(f, "hosting/{hosting}/ssl"),
            DigestKey::Databases { hosting } => write!(f, "hosting/{hosting}/database"),
            DigestKey::Database { hosting, name } => {
                write!(f, "hosting/{hosting}/database/{name}")
            }
        }
    }
}

impl DigestKey {
    /// What the key digests, in words (`family::DigestKey::label`).
    pub(crate) fn label(&self, names: &dyn family::KeyNames) -> Option<String> {
        match self {
            DigestKey::AttachedDomains { hosting } => {
                Some(format!("the attached domains of {hosting}"))
            }
            DigestKey::AttachedDomain { domain, .. } => names
                .planned(domain)
                .or_else(|| Some(format!("attached domain {domain}"))),
            DigestKey::Ssl { hosting } => Some(format!("the SSL certificate of {hosting}")),
            DigestKey::Databases { hosting } => Some(format!("the databases of {hosting}")),
            DigestKey::Database { name, .. } => names
                .planned(name)
                .or_else(|| Some(format!("hosting database {name}"))),
        }
    }

    /// The listings a scope always has, whatever it holds (the certificate too: it digests as
    /// `null` when there is none).
    pub(crate) fn listings(hosting: &str) -> Vec<DigestKey> {
        let hosting = || hosting.to_owned();
        vec![
            DigestKey::AttachedDomains { hosting: hosting() },
            DigestKey::Ssl { hosting: hosting() },
            DigestKey::Databases { hosting: hosting() },
        ]
    }

    /// For a listing: the kind of the objects it lists.
    pub(crate) fn lists(&self) -> Option<Kind> {
        match self {
            DigestKey::AttachedDomains { .. } => Some(Kind::HostingAttachedDomain),
            DigestKey::Databases { .. } => Some(Kind::HostingDatabase),
            DigestKey::AttachedDomain { .. }
            | DigestKey::Ssl { .. }
            | DigestKey::Database { .. } => None,
        }
    }

    /// For a listing: the key of its object `id`.
    pub(crate) fn child(&self, id: &str) -> Option<DigestKey> {
        match self {
            DigestKey::AttachedDomains { hosting } => Some(DigestKey::AttachedDomain {
                hosting: hosting.clone(),
                domain: id.to_owned(),
            }),
            DigestKey::Databases { hosting } => Some(DigestKey::Database {
                hosting: hosting.clone(),
                name: id.to_owned(),
            }),
            DigestKey::AttachedDomain { .. }
            | DigestKey::Ssl { .. }
            | DigestKey::Database { .. } => None,
        }
    }

    /// For an object: the listings under it (none: no object of this family lists others).
    pub(crate) fn listings_under(&self) -> Vec<DigestKey> {
        Vec::new()
    }
}

impl From<DigestKey> for family::DigestKey {
    fn from(key: DigestKey) -> Self {
        family::DigestKey::Hosting(key)
    }
}

/// The digests of a hosting scope: attached domains, SSL, databases.
pub(super) fn digest(scope: &Scope, live: &LiveScope, out: &mut Digests) {
    let (Scope::Hosting { hosting }, LiveScope::Hosting(live)) = (scope, live) else {
        return;
    };
    let domains: Vec<_> = live
        .attached_domains
        .iter()
        .filter(|d| !is_leaving(&d.status))
        .collect();
    let listing = DigestKey::AttachedDomains {
        hosting: hosting.clone(),
    };
    out.listing(listing, domains.iter().map(|d| d.domain.as_str()));
    for domain in domains {
        let key = DigestKey::AttachedDomain {
            hosting: hosting.clone(),
            domain: domain.domain.clone(),
        };
        out.object(key, domain);
    }
    let ssl = live.ssl.as_ref().filter(|s| !is_leaving(&s.status));
    let ssl = ssl.map(|ssl| {
        let mut ssl = ssl.clone();
        ssl.domains.sort();
        ssl
    });
    let key = DigestKey::Ssl {
        hosting: hosting.clone(),
    };
    out.object(key, &ssl);
    let databases: Vec<_> = live
        .databases
        .iter()
        .filter(|d| !is_leaving(&d.status))
        .collect();
    let listing = DigestKey::Databases {
        hosting: hosting.clone(),
    };
    out.listing(listing, databases.iter().map(|d| d.name.as_str()));
    for database in databases {
        let key = DigestKey::Database {
            hosting: hosting.clone(),
            name: database.name.clone(),
        };
        out.object(key, database);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text is a contract (saved plans' `digests` keys): every key renders exactly as
    /// before, and a listing's objects render under it.
    #[test]
    fn keys_render_as_saved_plans_hold_them() {
        let listings = DigestKey::listings("shop.example");
        let shown: Vec<_> = listings
            .iter()
            .map(|key| format!("{key} {:?}", key.lists()))
            .collect();
        assert_eq!(
            shown,
            [
                "hosting/shop.example/attachedDomain Some(HostingAttachedDomain)",
                "hosting/shop.example/ssl None",
                "hosting/shop.example/database Some(HostingDatabase)",
            ]
        );
        let children: Vec<_> = listings
            .iter()
            .map(|key| key.child("x").map(|child| child.to_string()))
            .collect();
        assert_eq!(
            children,
            [
                Some("hosting/shop.example/attachedDomain/x".to_string()),
                None,
                Some("hosting/shop.example/database/x".to_string()),
            ]
        );
        let domain = listings[0].child("www.example").unwrap();
        assert_eq!(domain.child("x"), None);
        assert_eq!(domain.listings_under(), Vec::new());
        assert_eq!(
            family::DigestKey::from(domain).to_string(),
            "hosting/shop.example/attachedDomain/www.example"
        );
    }
}
