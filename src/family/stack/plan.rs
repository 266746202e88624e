//! The RunAbove managed MySQL family: `ManagedStackMysql`, in the scope `/stackMysql` of
//! RunAbove's API.
//!
//! Identity. RunAbove gives a cluster no name, and `POST /stackMysql` answers no id, so a
//! manifest finds its cluster by this rule (`claims`, the one place it lives: the planner, the
//! engine's lookups before and after a create and its resume use it), without a state file:
//! 1. a manifest whose `spec.id` (pinned) is listed by `GET /stackMysql` is that cluster;
//! 2. then every other manifest, in `metadata.name` order, claims the first cluster in the
//!    listing's order not claimed yet whose node count matches (`spec.nodes` left out matches
//!    any);
//! 3. a manifest that claims nothing is created, and apply prints the new id to pin.
//!
//! A pinned id that is not listed (the cluster was replaced or deleted) falls back to rule 2
//! with a warning asking to update `spec.id`, so a replaced or half-created cluster is found
//! again rather than created twice. Two manifests pinning the same id are an error.
//!
//! Changes. Nothing on a cluster changes in place: `nodes` forces a replace (`DELETE
//! /stackMysql/{id}` then `POST /stackMysql`) of a pinned cluster. An unpinned manifest whose
//! `nodes` changes simply claims another cluster (or creates one); the cluster it used to match
//! becomes unmanaged (deleted under prune).

use crate::family::stack::Call;
use crate::live::{LiveScope, LiveStack, Scope};
use crate::manifest::model::{Address, Kind, ManagedStackMysqlSpec, Resource, Spec};
use crate::plan::diff::{self, Fields, Rules};
use crate::plan::{action_for, change, of_kind, Context, Draft, Finding};
use crate::plan::{Action, Operation, Unmanaged};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

const RULES: Rules = Rules {
    forcing: &["spec.nodes"],
    owned: &[],
};

/// The identity rule (module doc) over `stacks` (in the listing's order) for `claimants`:
/// which cluster each stands for. `claimed` holds clusters out of reach (taken by another step
/// of an apply) and receives the ones claimed here.
pub(crate) fn claims<'s, 'm>(
    stacks: &'s [LiveStack],
    claimants: &[(&'m Address, &'m ManagedStackMysqlSpec)],
    claimed: &mut BTreeSet<String>,
) -> BTreeMap<&'m Address, &'s LiveStack> {
    let mut found = BTreeMap::new();
    let mut rest = Vec::new();
    for &(address, spec) in claimants {
        let pinned = spec.id.and_then(|id| {
            let id = id.to_string();
            stacks
                .iter()
                .find(|s| s.id == id && !claimed.contains(&s.id))
        });
        match pinned {
            Some(stack) => {
                claimed.insert(stack.id.clone());
                found.insert(address, stack);
            }
            None => rest.push((address, spec)),
        }
    }
    rest.sort_by(|a, b| a.0.cmp(b.0));
    for (address, spec) in rest {
        let free = stacks
            .iter()
            .find(|s| !claimed.contains(&s.id) && spec.nodes.is_none_or(|n| n == s.nodes));
        if let Some(stack) = free {
            claimed.insert(stack.id.clone());
            found.insert(address, stack);
        }
    }
    found
}

/// The `ManagedStackMysql` manifests among `resources`.
pub(crate) fn claimants<'m>(
    resources: impl IntoIterator<Item = &'m Resource>,
) -> Vec<(&'m Address, &'m ManagedStackMysqlSpec)> {
    resources
        .into_iter()
        .filter_map(|r| match &r.spec {
            Spec::ManagedStackMysql(spec) => Some((&r.address, spec)),
            _ => None,
        })
        .collect()
}

/// The `POST /stackMysql` body: none, as the guide shows, unless `nodes` is given.
pub(crate) fn body(spec: &ManagedStackMysqlSpec) -> Option<Value> {
    spec.nodes.map(|nodes| json!({ "nodes": nodes }))
}

pub(super) fn scope_of(_: &Resource, _: &Context) -> Result<Scope, Finding> {
    Ok(Scope::StackMysql)
}

pub(super) fn plan_scope(
    scope: &Scope,
    live: &LiveScope,
    resources: &[&Resource],
    ctx: &Context,
    out: &mut Draft,
) {
    let LiveScope::StackMysql { stacks } = live else {
        return out.not_read_as(scope, resources, "a stack listing");
    };
    let manifests = of_kind(resources, |s| match s {
        Spec::ManagedStackMysql(spec) => Some(spec),
        _ => None,
    });
    let (pinned, unpinned): (Vec<_>, Vec<_>) = manifests
        .into_iter()
        .partition(|(_, spec)| spec.id.is_some());
    let pinned = crate::plan::duplicate_identities(
        &pinned,
        |s| s.id.map(|id| id.to_string()).unwrap_or_default(),
        "stack",
        "spec.id",
        scope,
        out,
    );
    let mut all: Vec<_> = pinned.into_iter().chain(unpinned).collect();
    all.sort_by(|a, b| a.0.address.cmp(&b.0.address));
    let claimants: Vec<_> = all.iter().map(|(r, spec)| (&r.address, *spec)).collect();
    let mut claimed = BTreeSet::new();
    let found = claims(stacks, &claimants, &mut claimed);

    for (resource, spec) in &all {
        let address = &resource.address;
        let pin = spec.id.map(|id| id.to_string());
        match found.get(address) {
            Some(live) if pin.as_deref() == Some(live.id.as_str()) => {
                let fields = diff::diff(&live_fields(live), &desired(spec), &RULES);
                match action_for(&fields) {
                    None => settled(out, address, live),
                    Some(action) => {
                        let calls = vec![
                            Operation::Stack(Call::Delete {
                                id: live.id.clone(),
                            }),
                            Operation::Stack(Call::Create { body: body(spec) }),
                        ];
                        let id = Some(live.id.clone());
                        out.changes
                            .push(change(address, action, fields, calls, id, vec![]));
                    }
                }
            }
            Some(live) => {
                if let Some(pin) = &pin {
                    out.warning(
                        address,
                        "spec.id",
                        format!(
                            "stack {pin} does not exist; matched stack {} (same node count): set spec.id to it",
                            live.id
                        ),
                    );
                }
                settled(out, address, live);
            }
            None => {
                if let Some(pin) = &pin {
                    out.warning(
                        address,
                        "spec.id",
                        format!("stack {pin} does not exist; a new stack will be created: set spec.id to its id afterwards"),
                    );
                }
                let calls = vec![Operation::Stack(Call::Create { body: body(spec) })];
                let fields = diff::created(&desired(spec));
                out.changes
                    .push(change(address, Action::Create, fields, calls, None, vec![]));
            }
        }
    }

    // Unclaimed clusters.
    for live in stacks.iter().filter(|s| !claimed.contains(&s.id)) {
        let object = Unmanaged {
            kind: Kind::ManagedStackMysql,
            scope: scope.clone(),
            id: live.id.clone(),
            label: format!("mysql cluster of {} nodes", live.nodes),
        };
        let delete = Operation::Stack(Call::Delete {
            id: live.id.clone(),
        });
        out.unmanaged(ctx, object, live.id.clone(), delete, vec![]);
    }
}

/// normalise: the manifest side (an omitted `nodes` is the server's default).
fn desired(spec: &ManagedStackMysqlSpec) -> Fields {
    let mut fields = Fields::default();
    fields.set_some("spec.nodes", spec.nodes);
    fields
}

fn live_fields(live: &LiveStack) -> Fields {
    let mut fields = Fields::default();
    fields.set("spec.nodes", live.nodes);
    fields
}

/// An unchanged stack, in progress while it is not `active` yet.
fn settled(out: &mut Draft, address: &Address, live: &LiveStack) {
    let status = if live.active { "active" } else { "building" };
    out.settled_unless(address, &live.id, status, !live.active);
}
