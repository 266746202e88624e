//! `--rotate`: which users may have their password reset, and when a reset must wait.

use crate::engine::{ApplyReport, StepOutcome};
use crate::manifest::model::{Address, Kind, ManifestSet};
use crate::manifest::Spec;

/// The first address to rotate that no manifest names (checked before any API call).
pub fn unnamed<'a>(rotations: &'a [Address], manifests: &ManifestSet) -> Option<&'a Address> {
    rotations.iter().find(|a| manifests.get(a).is_none())
}

/// Why a rotation cannot run: the user's own step, or its service's, did not finish.
pub fn blocked(report: &ApplyReport, manifests: &ManifestSet, user: &Address) -> Option<Address> {
    let mut addresses = vec![user.clone()];
    if let Some(Spec::DatabaseUser(spec)) = manifests.get(user).map(|r| &r.spec) {
        addresses.push(Address {
            kind: Kind::DatabaseService,
            name: spec.service.clone(),
        });
    }
    addresses.into_iter().find(|address| {
        report
            .steps
            .iter()
            .any(|s| &s.address == address && s.outcome != StepOutcome::Done)
    })
}
