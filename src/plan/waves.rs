//! Ordering: every change gets the wave after the latest of the changes it depends on, and the
//! plan lists changes by wave, then address. Families state the edges (`depends_on`):
//! - creates parent-first: a user after the create, replace or update of its service; an SSL
//!   order or regeneration after the `ssl: true` domains created or updated with it;
//! - deletes child-first: a service's delete after its users' deletes (and a replace after the
//!   deletes of the old service's unmanaged users);
//! - a replace is one change (delete then create, in that order, in its `calls`) placed where
//!   the create goes, so the children created on the new object wait for it.
//!
//! Edges to addresses without a change in this plan are dropped: `depends_on` names only what
//! apply must actually wait for.

use super::{Draft, Plan};
use crate::manifest::model::Address;
use std::collections::{BTreeMap, BTreeSet};

pub(super) fn finish(draft: Draft, digests: BTreeMap<String, String>) -> Plan {
    let Draft {
        mut changes,
        mut unchanged,
        mut unmanaged,
        mut unknown,
        mut duplicates,
        mut in_progress,
        mut warnings,
        mut errors,
    } = draft;

    let present: BTreeSet<Address> = changes.iter().map(|c| c.address.clone()).collect();
    for change in &mut changes {
        change.depends_on.retain(|d| present.contains(d));
        change.depends_on.sort();
        change.depends_on.dedup();
    }
    let mut by_address: BTreeMap<&Address, Vec<usize>> = BTreeMap::new();
    for (i, change) in changes.iter().enumerate() {
        by_address.entry(&change.address).or_default().push(i);
    }
    let mut waves: Vec<Option<usize>> = vec![None; changes.len()];
    for i in 0..changes.len() {
        wave(i, &changes, &by_address, &mut waves, &mut BTreeSet::new());
    }
    for (change, wave) in changes.iter_mut().zip(&waves) {
        change.wave = wave.unwrap_or(0);
    }
    changes.sort_by(|a, b| (a.wave, &a.address).cmp(&(b.wave, &b.address)));

    unchanged.sort();
    unchanged.dedup();
    unmanaged.sort_by(|a, b| (a.kind, &a.scope, &a.id).cmp(&(b.kind, &b.scope, &b.id)));
    unknown.sort_by(|a, b| (&a.scope, &a.reason).cmp(&(&b.scope, &b.reason)));
    duplicates
        .sort_by(|a, b| (a.kind, &a.scope, &a.of, &a.id).cmp(&(b.kind, &b.scope, &b.of, &b.id)));
    in_progress.sort_by(|a, b| (&a.address, &a.id).cmp(&(&b.address, &b.id)));
    in_progress.dedup();
    for findings in [&mut warnings, &mut errors] {
        findings.sort_by(|a, b| {
            (&a.address, &a.field, &a.message).cmp(&(&b.address, &b.field, &b.message))
        });
        findings.dedup();
    }
    Plan {
        changes,
        unchanged,
        unmanaged,
        unknown,
        duplicates,
        in_progress,
        warnings,
        errors,
        digests,
    }
}

/// The wave of change `i`: 0 without dependencies, else one after its latest dependency. A
/// cycle (which `Spec::references` cannot form) is cut where it is found.
fn wave(
    i: usize,
    changes: &[super::Change],
    by_address: &BTreeMap<&Address, Vec<usize>>,
    waves: &mut Vec<Option<usize>>,
    visiting: &mut BTreeSet<usize>,
) -> usize {
    if let Some(wave) = waves[i] {
        return wave;
    }
    if !visiting.insert(i) {
        return 0;
    }
    let mut wave_of_i = 0;
    for dependency in &changes[i].depends_on {
        for &j in by_address.get(dependency).into_iter().flatten() {
            if j != i {
                wave_of_i = wave_of_i.max(wave(j, changes, by_address, waves, visiting) + 1);
            }
        }
    }
    visiting.remove(&i);
    waves[i] = Some(wave_of_i);
    wave_of_i
}
