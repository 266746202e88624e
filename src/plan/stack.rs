//! The RunAbove managed MySQL family: `ManagedStackMysql`, in the scope `/stackMysql`.
//!
//! Identity. The API gives a stack no name or description, so a manifest finds its stack by
//! this rule, deterministic and without a state file:
//! 1. a manifest with `spec.id` (pinned) is that live stack;
//! 2. then every other manifest, in `metadata.name` order, claims the oldest live stack
//!    (`createdAt`, then id) not claimed yet whose region, flavor, node count and version
//!    match (a field the manifest leaves out matches any value);
//! 3. a manifest that claims nothing is created.
//!
//! A pinned id that no longer exists (the stack was replaced or deleted) falls back to rule 2
//! with a warning asking to update `spec.id`, so a replaced or half-created stack is found
//! again rather than created twice. Two manifests pinning the same id are an error.
//!
//! Changes. Nothing on a stack changes in place: region, flavor, nodes and version force a
//! replace (`DELETE /stackMysql/{id}` then `POST /stackMysql`) of a pinned stack. An unpinned
//! manifest whose fields change simply claims another stack (or creates one); the stack it
//! used to match becomes unmanaged (deleted under prune). Live stacks in `deleting` are
//! absent.

use super::diff::{self, Fields, Rules};
use super::normalise::{self, is_leaving};
use super::{action_for, call, change, of_kind, Context, Draft, Family, Finding};
use super::{Action, Unmanaged};
use crate::live::{LiveScope, LiveStack, Scope};
use crate::manifest::model::{Address, Kind, ManagedStackMysqlSpec, Resource, Spec};
use serde_json::{Map, Value};
use std::collections::BTreeSet;

pub struct Stacks;

const RULES: Rules = Rules {
    forcing: &["spec.region", "spec.flavor", "spec.nodes", "spec.version"],
    owned: &[],
};

const PATH: &str = "/stackMysql";

impl Family for Stacks {
    fn kinds(&self) -> &'static [Kind] {
        &[Kind::ManagedStackMysql]
    }

    fn owns(&self, scope: &Scope) -> bool {
        matches!(scope, Scope::StackMysql)
    }

    fn scope_of(&self, _: &Resource, _: &Context) -> Result<Scope, Finding> {
        Ok(Scope::StackMysql)
    }

    fn plan_scope(
        &self,
        scope: &Scope,
        live: &LiveScope,
        resources: &[&Resource],
        ctx: &Context,
        out: &mut Draft,
    ) {
        let LiveScope::StackMysql { stacks } = live else {
            let affected = resources.iter().map(|r| r.address.clone()).collect();
            let reason = "the live state read is not a stack listing".into();
            out.unknown(scope.clone(), reason, affected);
            return;
        };
        let mut present: Vec<&LiveStack> =
            stacks.iter().filter(|s| !is_leaving(&s.status)).collect();
        present.sort_by(|a, b| (&a.created_at, &a.id).cmp(&(&b.created_at, &b.id)));
        let manifests = of_kind(resources, |s| match s {
            Spec::ManagedStackMysql(spec) => Some(spec),
            _ => None,
        });
        let (pinned, mut unpinned): (Vec<_>, Vec<_>) = manifests
            .into_iter()
            .partition(|(_, spec)| spec.id.is_some());
        let pinned = super::duplicate_identities(
            &pinned,
            |s| s.id.clone().unwrap_or_default(),
            "stack",
            "spec.id",
            scope,
            out,
        );
        let mut claimed = BTreeSet::new();

        // 1. Pinned ids.
        for (resource, spec) in pinned {
            let id = spec.id.as_deref().unwrap_or_default();
            let Some(live) = present.iter().find(|s| s.id == id) else {
                unpinned.push((resource, spec));
                continue;
            };
            claimed.insert(live.id.clone());
            let address = &resource.address;
            let fields = diff::diff(&live_fields(live), &desired(spec), &RULES);
            match action_for(&fields) {
                None => out.settled(address, &live.id, &live.status),
                Some(action) => {
                    let calls = vec![
                        call("DELETE", format!("{PATH}/{}", live.id), None),
                        call("POST", PATH.into(), Some(body(spec))),
                    ];
                    let id = Some(live.id.clone());
                    out.changes
                        .push(change(address, action, fields, calls, id, vec![]));
                }
            }
        }

        // 2. Claims by attributes, in name order; 3. creates.
        unpinned.sort_by(|a, b| a.0.address.cmp(&b.0.address));
        for (resource, spec) in unpinned {
            let address = &resource.address;
            let found = present
                .iter()
                .find(|s| !claimed.contains(&s.id) && matches(spec, s));
            if let Some(live) = found {
                claimed.insert(live.id.clone());
                if let Some(pinned) = &spec.id {
                    out.warning(
                        address,
                        "spec.id",
                        format!(
                            "stack {pinned} does not exist; matched stack {} (same region, flavor, nodes and version): set spec.id to it",
                            live.id
                        ),
                    );
                }
                out.settled(address, &live.id, &live.status);
                continue;
            }
            if let Some(pinned) = &spec.id {
                out.warning(
                    address,
                    "spec.id",
                    format!("stack {pinned} does not exist; a new stack will be created: set spec.id to its id afterwards"),
                );
            }
            let calls = vec![call("POST", PATH.into(), Some(body(spec)))];
            let fields = diff::created(&desired(spec));
            out.changes
                .push(change(address, Action::Create, fields, calls, None, vec![]));
        }

        // Unclaimed stacks.
        for live in present.into_iter().filter(|s| !claimed.contains(&s.id)) {
            let address = Address {
                kind: Kind::ManagedStackMysql,
                name: live.id.clone(),
            };
            let object = Unmanaged {
                kind: Kind::ManagedStackMysql,
                scope: scope.clone(),
                id: live.id.clone(),
                label: format!(
                    "{} {} x{} mysql {}",
                    live.region, live.flavor, live.nodes, live.version
                ),
            };
            out.unmanaged(ctx, object, |reason| {
                let calls = vec![call("DELETE", format!("{PATH}/{}", live.id), None)];
                let id = Some(live.id.clone());
                change(
                    &address,
                    Action::Delete { reason },
                    vec![],
                    calls,
                    id,
                    vec![],
                )
            });
        }
    }
}

/// Whether an unclaimed live stack can be this manifest's (rule 2).
fn matches(spec: &ManagedStackMysqlSpec, live: &LiveStack) -> bool {
    diff::diff(&live_fields(live), &desired(spec), &RULES).is_empty()
}

/// normalise: the manifest side (omitted `nodes`/`version` are server defaults).
fn desired(spec: &ManagedStackMysqlSpec) -> Fields {
    let mut fields = Fields::default();
    fields.set("spec.region", normalise::region(&spec.region));
    fields.set("spec.flavor", spec.flavor.as_str());
    fields.set_some("spec.nodes", spec.nodes);
    fields.set_some("spec.version", spec.version.as_deref());
    fields
}

fn live_fields(live: &LiveStack) -> Fields {
    let mut fields = Fields::default();
    fields.set("spec.region", normalise::region(&live.region));
    fields.set("spec.flavor", live.flavor.as_str());
    fields.set("spec.nodes", live.nodes);
    fields.set("spec.version", live.version.as_str());
    fields
}

fn body(spec: &ManagedStackMysqlSpec) -> Value {
    let mut body = Map::new();
    body.insert("region".into(), normalise::region(&spec.region).into());
    body.insert("flavor".into(), spec.flavor.clone().into());
    if let Some(nodes) = spec.nodes {
        body.insert("nodes".into(), nodes.into());
    }
    if let Some(version) = &spec.version {
        body.insert("version".into(), version.clone().into());
    }
    body.into()
}
