//! `--rotate`: which users may have their password reset, and when a reset must wait.

use crate::engine::{ApplyReport, PasswordUnknown, StepOutcome};
use crate::family;
use crate::manifest::model::{Address, ManifestSet};
use std::collections::BTreeSet;

/// True when `--rotate` can reset the password of the object at `address` (its family says:
/// `Family::rotatable`; today a `DatabaseUser`'s).
pub fn rotatable(address: &Address) -> bool {
    family::of_kind(address.kind).rotatable(address.kind)
}

/// The first address to rotate that no manifest names (checked before any API call).
pub fn unnamed<'a>(rotations: &'a [Address], manifests: &ManifestSet) -> Option<&'a Address> {
    rotations.iter().find(|a| manifests.get(a).is_none())
}

/// Adds to `rotations` the users an earlier run created and stopped before storing their
/// password (an intent says it reached nobody): this run resets and stores it. Returns them.
/// A user without an intent may have a password someone holds: only `--rotate` resets it.
pub fn add_lost(rotations: &mut Vec<Address>, unknown: &[PasswordUnknown]) -> BTreeSet<Address> {
    let mut lost = BTreeSet::new();
    for unknown in unknown.iter().filter(|u| u.intent) {
        if !rotations.contains(&unknown.address) {
            rotations.push(unknown.address.clone());
        }
        lost.insert(unknown.address.clone());
    }
    lost
}

/// Why a rotation cannot run: the user's own step, or one its family names
/// (`Family::rotation_needs`: its service's), did not finish.
pub fn blocked(report: &ApplyReport, manifests: &ManifestSet, user: &Address) -> Option<Address> {
    let mut addresses = vec![user.clone()];
    if let Some(resource) = manifests.get(user) {
        addresses.extend(family::of_kind(user.kind).rotation_needs(resource));
    }
    addresses.into_iter().find(|address| {
        report
            .steps
            .iter()
            .any(|s| &s.address == address && s.outcome != StepOutcome::Done)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::fixtures::*;
    use crate::manifest::model::Kind;
    use crate::manifest::model::{DatabaseUserSpec, Resource, Span, Spec};
    use crate::plan::model::Action;

    #[test]
    fn only_users_whose_password_reached_nobody_are_reset_unasked() {
        let unknown = |name: &str, intent| PasswordUnknown {
            address: address(Kind::DatabaseUser, name),
            user_id: format!("id-{name}"),
            intent,
        };
        let mut rotations = vec![address(Kind::DatabaseUser, "asked")];
        let lost = add_lost(
            &mut rotations,
            &[
                unknown("held", false),
                unknown("lost", true),
                unknown("asked", true),
            ],
        );
        assert_eq!(
            rotations,
            [
                address(Kind::DatabaseUser, "asked"),
                address(Kind::DatabaseUser, "lost")
            ]
        );
        assert_eq!(
            lost.into_iter().collect::<Vec<_>>(),
            [
                address(Kind::DatabaseUser, "asked"),
                address(Kind::DatabaseUser, "lost")
            ]
        );
    }

    #[test]
    fn a_rotation_waits_for_its_user_and_its_service() {
        let manifests = ManifestSet {
            resources: vec![Resource {
                address: address(Kind::DatabaseUser, "app"),
                span: Span {
                    file: "users.yaml".into(),
                    line: 1,
                    column: 1,
                    offset: 0,
                    len: 0,
                },
                spec: Spec::DatabaseUser(DatabaseUserSpec {
                    service: "orders-db".into(),
                    username: "app".into(),
                    roles: Vec::new(),
                }),
            }],
            ..ManifestSet::default()
        };
        let user = address(Kind::DatabaseUser, "app");
        let report = |steps| ApplyReport {
            steps,
            secrets_written: Vec::new(),
        };
        assert_eq!(blocked(&report(Vec::new()), &manifests, &user), None);
        let service_failed = report(vec![step(
            Kind::DatabaseService,
            "orders-db",
            Action::Update,
            failed(),
        )]);
        assert_eq!(
            blocked(&service_failed, &manifests, &user),
            Some(address(Kind::DatabaseService, "orders-db"))
        );
        let user_waiting = report(vec![step(
            Kind::DatabaseUser,
            "app",
            Action::Create,
            in_progress(),
        )]);
        assert_eq!(
            blocked(&user_waiting, &manifests, &user),
            Some(user.clone())
        );
        assert_eq!(unnamed(std::slice::from_ref(&user), &manifests), None);
        let other = address(Kind::DatabaseUser, "other");
        assert_eq!(unnamed(&[user, other.clone()], &manifests), Some(&other));
    }
}
