//! Resuming: a resource the plan leaves alone (its live object already has the manifest's
//! fields) while the API is still working on it: a service still `CREATING` after an earlier
//! run spent its wait budget, a domain whose task is running, a stack still `creating`. The
//! planner compares fields, not statuses, so such a resource is `unchanged`; the engine then
//! waits for it (no write), as one more step marked `resumed`, so that a run which timed out
//! is followed by one that finishes the wait instead of re-issuing calls or reporting success
//! too early.
//!
//! Objects on their way out (`DELETING`) are absent for the planner and are not waited for
//! here; IP restriction entries are not waited for (see `database`).
//!
//! Each family says what to wait for (`Family::resume`, in `family::*::resume`) and how.

use super::step::Work;
use crate::live::{LiveScope, LiveState, Scope, ScopeState};
use crate::manifest::model::ManifestSet;
use crate::plan::{Action, Change, Plan};

/// The waits for the `unchanged` resources of `plan` whose live object is still transitional,
/// as work after the plan's changes. Where the plan lists the resource in progress, its id
/// says which live object that is (the managed one, when twins share its identity).
pub(crate) fn works(plan: &Plan, manifests: &ManifestSet, live: &LiveState) -> Vec<Work> {
    plan.unchanged
        .iter()
        .filter_map(|address| {
            let resource = manifests.get(address)?;
            let id = plan
                .in_progress
                .iter()
                .find(|p| &p.address == address)
                .map(|p| p.id.as_str());
            let resume = crate::family::of_kind(address.kind).resume(
                address,
                &resource.spec,
                manifests,
                live,
                id,
            )?;
            Some(Work {
                change: Change {
                    address: address.clone(),
                    action: Action::Update,
                    wave: 0,
                    fields: Vec::new(),
                    calls: Vec::new(),
                    live_id: Some(resume.live_id().to_owned()),
                    depends_on: Vec::new(),
                },
                resume: Some(resume),
            })
        })
        .collect()
}

/// The objects of `scope`, when it was read whole.
pub(crate) fn known<'l>(live: &'l LiveState, scope: &Scope) -> Option<&'l LiveScope> {
    match live.scopes.get(scope)? {
        ScopeState::Known(known) => Some(known),
        ScopeState::Unknown { .. } => None,
    }
}
