//! Desired (manifests) vs live -> `Plan`: normalise, diff, order into waves, list the calls.
//! Pure: no IO, deterministic (sorted maps, stable order). The same code path serves plan,
//! drift and apply.
//!
//! `plan()` knows no kind. Each API family sits behind `family::Family` (`database`: services, their
//! IP list and users; `hosting`: attached domains, SSL, hosting databases; `stack`: managed
//! MySQL stacks): the family says which scope a resource lives in and plans one known scope
//! (identity, `normalise` to a `diff::Fields` map, `diff::diff`, the calls). `plan()` routes
//! resources to scopes, turns unreadable scopes into `unknown`, then runs preflight, orders
//! the changes into waves (`waves`) and digests the live state (`digest`). A next family
//! (MongoDB Cloud Manager: one goal-state document replaced with `PUT`) is one more `Family`.
//!
//! Invariants (checked by the tests in `tests/`):
//! - every manifest resource ends up exactly once in `changes`, `unchanged` or an `unknown`
//!   entry's `affected` (unless an `errors` finding names it: dangling or ambiguous);
//! - nothing is created, updated or deleted in a scope that could not be read;
//! - nothing is deleted without `options.prune`; built-in users and a hosting's default
//!   attached domain are never deleted nor listed as unmanaged;
//! - planning against live state equal to the manifests yields no changes;
//! - a change's `depends_on` are all in earlier waves (creates parent-first, deletes
//!   child-first).

pub mod model;
pub mod render;

mod canonical;
pub(crate) mod diff;
mod digest;
pub(crate) mod normalise;
pub(crate) use normalise::HOSTING_ON_THE_WAY;
mod waves;

#[cfg(test)]
pub(crate) mod tests;

pub(crate) use digest::Digests;
pub use digest::{digests, live_digests, stale, stale_keys, DigestKey, StaleKey};
pub use model::*;

use crate::family::FAMILIES;
use crate::live::{LiveState, Scope, ScopeState};
use crate::manifest::model::{Address, Kind, ManifestSet, Resource};
use std::collections::BTreeMap;

/// Plans `manifests` against `live`. Pure and deterministic.
pub fn plan(manifests: &ManifestSet, live: &LiveState, options: &PlanOptions) -> Plan {
    let ctx = Context {
        manifests,
        live,
        options,
    };
    let mut draft = Draft::default();
    for family in FAMILIES {
        let mut by_scope: BTreeMap<Scope, Vec<&Resource>> = BTreeMap::new();
        // A managed scope no manifest names any more (its last manifest removed, or declared
        // in `reconcile.yaml`) is still planned: its objects are unmanaged, deleted under prune.
        for scope in live.scopes.keys().filter(|s| family.owns(s)) {
            by_scope.entry(scope.clone()).or_default();
        }
        let resources = manifests
            .resources
            .iter()
            .filter(|r| family.kinds().contains(&r.address.kind));
        for resource in resources {
            match family.scope_of(resource, &ctx) {
                Ok(scope) => by_scope.entry(scope).or_default().push(resource),
                Err(finding) => draft.errors.push(finding),
            }
        }
        for (scope, resources) in by_scope {
            let addresses = || resources.iter().map(|r| r.address.clone()).collect();
            match live.scopes.get(&scope) {
                Some(ScopeState::Known(live_scope)) => {
                    let before = draft.mark();
                    family.plan_scope(&scope, live_scope, &resources, &ctx, &mut draft);
                    draft.block_if_unknown(&scope, before);
                }
                Some(ScopeState::Unknown { reason }) => {
                    draft.unknown_scope(scope.clone(), reason.clone(), addresses())
                }
                None => draft.unknown(
                    scope.clone(),
                    "not read (no live state for this scope)".to_string(),
                    addresses(),
                ),
            }
        }
    }
    for family in FAMILIES {
        family.preflight(&ctx, &mut draft);
    }
    let digests = digest::live_digests(live);
    waves::finish(draft, digests)
}

/// What every family reads.
pub(crate) struct Context<'a> {
    pub(crate) manifests: &'a ManifestSet,
    pub(crate) live: &'a LiveState,
    pub(crate) options: &'a PlanOptions,
}

impl Context<'_> {
    /// The resource named `name` of `kind`.
    pub(crate) fn resource(&self, kind: Kind, name: &str) -> Option<&Resource> {
        self.manifests.get(&Address {
            kind,
            name: name.to_string(),
        })
    }

    pub(crate) fn project(&self, project: &Option<String>) -> Option<String> {
        project
            .clone()
            .or_else(|| self.manifests.defaults.project.clone())
    }

    pub(crate) fn hosting(&self, hosting: &Option<String>) -> Option<String> {
        hosting
            .clone()
            .or_else(|| self.manifests.defaults.hosting.clone())
    }
}

/// The plan being built, before waves and sorting.
#[derive(Debug, Default)]
pub(crate) struct Draft {
    pub(crate) changes: Vec<Change>,
    pub(crate) unchanged: Vec<Address>,
    pub(crate) unmanaged: Vec<Unmanaged>,
    pub(crate) unknown: Vec<UnknownScope>,
    pub(crate) duplicates: Vec<Duplicate>,
    pub(crate) in_progress: Vec<InProgress>,
    pub(crate) warnings: Vec<Finding>,
    pub(crate) errors: Vec<Finding>,
}

/// How far a draft had got: `Draft::mark`, for `Draft::block_if_unknown`.
pub(crate) struct Mark {
    changes: usize,
    unknown: usize,
    in_progress: usize,
}

impl Draft {
    pub(crate) fn mark(&self) -> Mark {
        Mark {
            changes: self.changes.len(),
            unknown: self.unknown.len(),
            in_progress: self.in_progress.len(),
        }
    }

    /// Nothing is created, updated or deleted in a scope with anything unknown or ambiguous
    /// in it (unreadable users, twins of undecidable identity, one identity named twice): the
    /// changes planned there since `before` are withdrawn and listed as affected by the first
    /// unknown entry of the scope.
    pub(crate) fn block_if_unknown(&mut self, scope: &Scope, before: Mark) {
        let Some(first) = self.unknown[before.unknown..]
            .iter()
            .position(|u| &u.scope == scope)
        else {
            return;
        };
        let withdrawn: Vec<Change> = self.changes.drain(before.changes..).collect();
        self.in_progress.truncate(before.in_progress);
        let entry = &mut self.unknown[before.unknown + first];
        entry
            .affected
            .extend(withdrawn.into_iter().map(|c| c.address));
        entry.affected.sort();
        entry.affected.dedup();
    }

    /// A scope that could not be read: listed even when no manifest names anything in it (a
    /// managed scope whose objects cannot be checked is never "in sync").
    pub(crate) fn unknown_scope(
        &mut self,
        scope: Scope,
        reason: String,
        mut affected: Vec<Address>,
    ) {
        affected.sort();
        self.unknown.push(UnknownScope {
            scope,
            reason,
            affected,
        });
    }

    /// A resource whose live object already matches; listed in progress too while the API
    /// is still working on it (`status` as the API shows it).
    pub(crate) fn settled(&mut self, address: &Address, id: &str, status: &str) {
        self.settled_unless(address, id, status, normalise::is_busy(status));
    }

    /// `settled`, in progress when `busy` says so.
    pub(crate) fn settled_unless(&mut self, address: &Address, id: &str, status: &str, busy: bool) {
        self.unchanged.push(address.clone());
        if busy {
            self.in_progress.push(InProgress {
                address: address.clone(),
                id: id.to_string(),
                status: status.to_string(),
            });
        }
    }

    /// A scope whose live state read is not what its family reads (`what`: "a database
    /// listing"): its resources are unknown. Unreachable while each family reads only its
    /// own scopes; a family's `plan_scope` says so instead of panicking.
    pub(crate) fn not_read_as(&mut self, scope: &Scope, resources: &[&Resource], what: &str) {
        let affected = resources.iter().map(|r| r.address.clone()).collect();
        let reason = format!("the live state read is not {what}");
        self.unknown(scope.clone(), reason, affected);
    }

    pub(crate) fn unknown(&mut self, scope: Scope, reason: String, mut affected: Vec<Address>) {
        if affected.is_empty() {
            return;
        }
        affected.sort();
        self.unknown.push(UnknownScope {
            scope,
            reason,
            affected,
        });
    }

    /// A live object no manifest names: under prune, its delete (the one call `delete`, as
    /// `KIND/name`, after the deletes `depends_on`), whose address is returned for the deletes
    /// that depend on it; otherwise an `unmanaged` entry.
    pub(crate) fn unmanaged(
        &mut self,
        ctx: &Context,
        object: Unmanaged,
        name: String,
        delete: Operation,
        depends_on: Vec<Address>,
    ) -> Option<Address> {
        if !ctx.options.prune {
            self.unmanaged.push(object);
            return None;
        }
        let address = Address {
            kind: object.kind,
            name,
        };
        let action = Action::Delete {
            reason: NO_MANIFEST.to_string(),
        };
        let delete = change(
            &address,
            action,
            vec![],
            vec![delete],
            Some(object.id),
            depends_on,
        );
        self.changes.push(delete);
        Some(address)
    }

    /// A younger twin of a managed object: a delete under prune (whose address,
    /// `KIND/NAME#ID`, is returned), otherwise a `duplicates` entry.
    pub(crate) fn duplicate(
        &mut self,
        ctx: &Context,
        duplicate: Duplicate,
        calls: Vec<Operation>,
    ) -> Option<Address> {
        if !ctx.options.prune {
            self.duplicates.push(duplicate);
            return None;
        }
        let address = Address {
            kind: duplicate.kind,
            name: format!("{}#{}", duplicate.of.name, duplicate.id),
        };
        let reason = duplicate_reason(&duplicate);
        let id = Some(duplicate.id);
        let delete = change(
            &address,
            Action::Delete { reason },
            vec![],
            calls,
            id,
            vec![],
        );
        self.changes.push(delete);
        Some(address)
    }

    pub(crate) fn error(&mut self, address: &Address, field: &str, message: String) {
        self.errors.push(Finding {
            address: address.clone(),
            field: field.to_string(),
            message,
        });
    }

    pub(crate) fn warning(&mut self, address: &Address, field: &str, message: String) {
        self.warnings.push(Finding {
            address: address.clone(),
            field: field.to_string(),
            message,
        });
    }
}

/// The reason on every prune delete.
pub(crate) const NO_MANIFEST: &str = "no manifest names it";

/// `duplicate of KIND/NAME (id ID, created at TIME)`: why a twin is listed or deleted.
pub fn duplicate_reason(duplicate: &Duplicate) -> String {
    let created = if duplicate.of_created_at.is_empty() {
        String::new()
    } else {
        format!(", created at {}", duplicate.of_created_at)
    };
    format!(
        "duplicate of {} (id {}{created})",
        duplicate.of, duplicate.of_id
    )
}

/// The order of twins: the oldest `createdAt` first (RFC 3339 compared as instants; a missing
/// or unreadable one last), then the id.
pub(crate) fn oldest_first(a: (&str, &str), b: (&str, &str)) -> std::cmp::Ordering {
    let instant = |created: &str| chrono::DateTime::parse_from_rfc3339(created).ok();
    let key = |(created, id): (&str, &str)| {
        let at = instant(created);
        (at.is_none(), at, created.to_string(), id.to_string())
    };
    key(a).cmp(&key(b))
}

pub(crate) fn change(
    address: &Address,
    action: Action,
    fields: Vec<FieldChange>,
    calls: Vec<Operation>,
    live_id: Option<String>,
    depends_on: Vec<Address>,
) -> Change {
    Change {
        address: address.clone(),
        action,
        wave: 0,
        fields,
        calls,
        live_id,
        depends_on,
    }
}

/// The action for a diff against an existing object: `None` when nothing changed.
pub(crate) fn action_for(fields: &[FieldChange]) -> Option<Action> {
    if fields.is_empty() {
        return None;
    }
    let forced_by = diff::forced_by(fields);
    Some(if forced_by.is_empty() {
        Action::Update
    } else {
        Action::Replace { forced_by }
    })
}

/// Resources of one kind, with their spec, in address order.
pub(crate) fn of_kind<'r, T>(
    resources: &[&'r Resource],
    pick: impl Fn(&'r crate::manifest::model::Spec) -> Option<&'r T>,
) -> Vec<(&'r Resource, &'r T)> {
    let mut out: Vec<_> = resources
        .iter()
        .filter_map(|r| pick(&r.spec).map(|spec| (*r, spec)))
        .collect();
    out.sort_by(|a, b| a.0.address.cmp(&b.0.address));
    out
}

/// Claims live objects by an identity key: each manifest claims the object(s) whose key
/// equals its own. Two manifests with the same key are an error (the later ones stay
/// unplanned and go to `unknown`); more than one live match is reported by the caller.
pub(crate) fn duplicate_identities<'r, T>(
    items: &[(&'r Resource, &'r T)],
    key: impl Fn(&T) -> String,
    what: &str,
    field: &str,
    scope: &Scope,
    out: &mut Draft,
) -> Vec<(&'r Resource, &'r T)> {
    let mut first: BTreeMap<String, &Address> = BTreeMap::new();
    let mut kept = Vec::new();
    let mut dropped = Vec::new();
    for (resource, spec) in items {
        let k = key(spec);
        match first.get(&k) {
            Some(owner) => {
                out.error(
                    &resource.address,
                    field,
                    format!("{what} {k} is already named by {owner}"),
                );
                dropped.push(resource.address.clone());
            }
            None => {
                first.insert(k, &resource.address);
                kept.push((*resource, *spec));
            }
        }
    }
    out.unknown(
        scope.clone(),
        format!("{what} named by more than one manifest"),
        dropped,
    );
    kept
}
