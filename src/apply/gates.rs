//! The safety gates: every refusal a plan earns before any write (exit 6), and whether apply
//! may go on without asking (`confirmation`).
//!
//! Gates: a delete without `--prune`, more deletes (replaces included) than `--max-deletes`, a
//! delete or replace of a service with `deletionProtection` on, a replace of a database
//! service or hosting database without `--allow-replace`. All of them are reported, not the
//! first. Which objects are protected, and which lose their data when replaced, each family
//! says (`Family::deletion_protected`, `Family::loses_data_on_replace`).

use crate::family;
use crate::live::LiveState;
use crate::manifest::model::Address;
use crate::plan::model::{Action, Change, Plan};
use crate::plan::render;
use serde::Serialize;

/// What the flags allow.
#[derive(Debug, Clone)]
pub struct GateSettings {
    pub prune: bool,
    pub max_deletes: usize,
    pub allow_replace: bool,
}

/// One safety gate that refuses the plan, with how to lift it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Refusal {
    pub gate: &'static str,
    pub message: String,
    pub hint: String,
}

/// Every gate the plan does not pass (all of them, not the first), before any write.
pub fn gates(plan: &Plan, live: &LiveState, settings: &GateSettings) -> Vec<Refusal> {
    let mut refusals = Vec::new();
    let deletes: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|c| matches!(c.action, Action::Delete { .. }))
        .collect();
    if !settings.prune && !deletes.is_empty() {
        refusals.push(Refusal {
            gate: "prune",
            message: format!(
                "the plan deletes {} but --prune was not given: {}",
                render::plural(deletes.len(), "object", "objects"),
                list(deletes.iter().map(|c| &c.address))
            ),
            hint: "pass --prune to allow deletes (the plan was saved with --prune)".to_string(),
        });
    }
    let removals: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|c| matches!(c.action, Action::Delete { .. } | Action::Replace { .. }))
        .collect();
    if removals.len() > settings.max_deletes {
        refusals.push(Refusal {
            gate: "maxDeletes",
            message: format!(
                "the plan deletes {} (replaces included), more than --max-deletes {}: {}",
                render::plural(removals.len(), "object", "objects"),
                settings.max_deletes,
                list(removals.iter().map(|c| &c.address))
            ),
            hint: format!(
                "check the list, then pass --max-deletes {} to allow it",
                removals.len()
            ),
        });
    }
    for change in &removals {
        let kind = change.address.kind;
        let protected = change
            .live_id
            .as_deref()
            .is_some_and(|id| family::of_kind(kind).deletion_protected(kind, live, id));
        if !protected {
            continue;
        }
        let (what, hint) = match change.action {
            Action::Replace { .. } => (
                "replace",
                "set `deletionProtection: false` in its manifest and apply that change alone \
                 first (without the change that forces the replace), then apply again",
            ),
            _ => (
                "delete",
                "set `deletionProtection: false` in its manifest and apply first (for an object \
                 no manifest names, write one with that name and `deletionProtection: false`, \
                 apply, then remove it and apply with --prune)",
            ),
        };
        refusals.push(Refusal {
            gate: "deletionProtection",
            message: format!(
                "{} has deletionProtection on: apply will not {what} it",
                change.address
            ),
            hint: hint.to_string(),
        });
    }
    if !settings.allow_replace {
        for change in &plan.changes {
            let Action::Replace { forced_by } = &change.action else {
                continue;
            };
            let kind = change.address.kind;
            if !family::of_kind(kind).loses_data_on_replace(kind) {
                continue;
            }
            refusals.push(Refusal {
                gate: "allowReplace",
                message: format!(
                    "{} must be replaced (deleted, then created again: its data is lost), forced \
                     by {}",
                    change.address,
                    forced_by.join(", ")
                ),
                hint: "pass --allow-replace to replace it, or revert the field that forces it"
                    .to_string(),
            });
        }
    }
    refusals
}

fn list<'a>(addresses: impl Iterator<Item = &'a Address>) -> String {
    addresses
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The message of a run refused by `count` gates.
pub fn refused_by(count: usize) -> String {
    format!(
        "apply refused by {}: nothing was changed",
        render::plural(count, "safety gate", "safety gates")
    )
}

/// Whether apply may write without asking, asks, or must stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmation {
    /// `--yes`.
    Given,
    /// On a terminal: ask this question; only `yes` is accepted (`accepted`).
    Ask(&'static str),
    /// Not on a terminal and no `--yes`: refused (exit 1) with `NOT_A_TERMINAL`.
    Refused,
}

/// The refusal when stdin is not a terminal and `--yes` was not given: message and hint.
pub const NOT_A_TERMINAL: (&str, &str) = (
    "stdin is not a terminal: pass --yes",
    "review the plan above (or `reconcile plan`), then run apply with --yes",
);

/// The message when the question was answered anything but `yes`.
pub const CANCELLED: &str = "apply cancelled: nothing was changed";

/// What the confirmation step does, from `--yes`, whether stdin is a terminal, and whether the
/// plan has changes (else only passwords are reset).
pub fn confirmation(yes: bool, stdin_is_terminal: bool, changes: bool) -> Confirmation {
    if yes {
        Confirmation::Given
    } else if !stdin_is_terminal {
        Confirmation::Refused
    } else if changes {
        Confirmation::Ask("Apply these changes? Only 'yes' is accepted: ")
    } else {
        Confirmation::Ask("Reset these passwords? Only 'yes' is accepted: ")
    }
}

/// True for the one answer that confirms: `yes`, surrounding blanks ignored.
pub fn accepted(answer: &str) -> bool {
    answer.trim() == "yes"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::fixtures::*;
    use crate::manifest::model::Kind;

    const OPEN: GateSettings = GateSettings {
        prune: true,
        max_deletes: 10,
        allow_replace: true,
    };

    fn gate_names(refusals: &[Refusal]) -> Vec<&'static str> {
        refusals.iter().map(|r| r.gate).collect()
    }

    #[test]
    fn a_plan_of_creates_and_updates_passes_every_gate() {
        let plan = plan(vec![
            change(Kind::DatabaseService, "a", Action::Create, None),
            change(Kind::DatabaseUser, "b", Action::Update, Some("u1")),
        ]);
        let closed = GateSettings {
            prune: false,
            max_deletes: 0,
            allow_replace: false,
        };
        assert_eq!(gates(&plan, &LiveState::default(), &closed), []);
    }

    #[test]
    fn deletes_need_prune_and_stay_within_max_deletes_replaces_included() {
        let plan = plan(vec![
            change(Kind::DatabaseUser, "u1", delete(), Some("u1")),
            change(Kind::DatabaseUser, "u2", delete(), Some("u2")),
            change(
                Kind::HostingAttachedDomain,
                "d",
                replace("spec.domain"),
                Some("d"),
            ),
        ]);
        let live = LiveState::default();
        assert_eq!(gate_names(&gates(&plan, &live, &OPEN)), Vec::<&str>::new());
        let settings = GateSettings {
            prune: false,
            max_deletes: 2,
            ..OPEN
        };
        let refusals = gates(&plan, &live, &settings);
        assert_eq!(gate_names(&refusals), ["prune", "maxDeletes"]);
        insta::assert_snapshot!(
            refusals.iter().map(|r| format!("error: {}\nhint: {}", r.message, r.hint)).collect::<Vec<_>>().join("\n"),
            @r"
        error: the plan deletes 2 objects but --prune was not given: DatabaseUser/u1, DatabaseUser/u2
        hint: pass --prune to allow deletes (the plan was saved with --prune)
        error: the plan deletes 3 objects (replaces included), more than --max-deletes 2: DatabaseUser/u1, DatabaseUser/u2, HostingAttachedDomain/d
        hint: check the list, then pass --max-deletes 3 to allow it
        "
        );
        let exactly = GateSettings {
            max_deletes: 3,
            ..OPEN
        };
        assert_eq!(gates(&plan, &live, &exactly), []);
    }

    #[test]
    fn a_protected_service_is_never_deleted_nor_replaced() {
        let live = live(vec![live_service("s1", true), live_service("s2", false)]);
        let plan = plan(vec![
            change(Kind::DatabaseService, "svc-s1", delete(), Some("s1")),
            change(Kind::DatabaseService, "svc-s2", delete(), Some("s2")),
        ]);
        let refusals = gates(&plan, &live, &OPEN);
        assert_eq!(gate_names(&refusals), ["deletionProtection"]);
        assert_eq!(
            refusals[0].message,
            "DatabaseService/svc-s1 has deletionProtection on: apply will not delete it"
        );
        assert!(refusals[0]
            .hint
            .starts_with("set `deletionProtection: false` in its manifest and apply first"));

        let plan = self::plan(vec![change(
            Kind::DatabaseService,
            "svc-s1",
            replace("spec.nodes.region"),
            Some("s1"),
        )]);
        let refusals = gates(&plan, &live, &OPEN);
        assert_eq!(gate_names(&refusals), ["deletionProtection"]);
        assert!(refusals[0].message.ends_with("will not replace it"));
    }

    #[test]
    fn replacing_a_database_needs_allow_replace() {
        let plan = plan(vec![
            change(
                Kind::DatabaseService,
                "a",
                replace("spec.nodes.region"),
                Some("s9"),
            ),
            change(Kind::HostingDatabase, "b", replace("spec.type"), Some("b")),
            change(
                Kind::HostingAttachedDomain,
                "c",
                replace("spec.domain"),
                Some("c"),
            ),
        ]);
        let settings = GateSettings {
            allow_replace: false,
            ..OPEN
        };
        let refusals = gates(&plan, &LiveState::default(), &settings);
        assert_eq!(gate_names(&refusals), ["allowReplace", "allowReplace"]);
        assert_eq!(
            refusals[0].message,
            "DatabaseService/a must be replaced (deleted, then created again: its data is lost), \
             forced by spec.nodes.region"
        );
    }

    #[test]
    fn max_deletes_zero_refuses_a_single_replace_and_prune_is_not_needed_for_it() {
        let plan = plan(vec![change(
            Kind::HostingAttachedDomain,
            "d",
            replace("spec.domain"),
            Some("d"),
        )]);
        let settings = GateSettings {
            prune: false,
            max_deletes: 0,
            ..OPEN
        };
        let refusals = gates(&plan, &LiveState::default(), &settings);
        assert_eq!(gate_names(&refusals), ["maxDeletes"]);
        assert_eq!(
            refusals[0].hint,
            "check the list, then pass --max-deletes 1 to allow it"
        );
    }

    #[test]
    fn protection_is_read_from_the_live_service_the_change_names() {
        // No live id (a create turned replace cannot happen, but a change without one must
        // not borrow another service's protection), and a protected service in no known scope.
        let live = live(vec![live_service("s1", true)]);
        let plan = plan(vec![
            change(Kind::DatabaseService, "svc-x", delete(), None),
            change(Kind::DatabaseService, "svc-y", delete(), Some("elsewhere")),
            change(Kind::DatabaseUser, "s1", delete(), Some("s1")),
        ]);
        assert_eq!(gates(&plan, &live, &OPEN), []);
    }

    #[test]
    fn every_gate_is_reported_not_the_first() {
        let live = live(vec![live_service("s1", true)]);
        let plan = plan(vec![
            change(
                Kind::DatabaseService,
                "svc-s1",
                replace("spec.plan"),
                Some("s1"),
            ),
            change(Kind::DatabaseUser, "u", delete(), Some("u")),
        ]);
        let closed = GateSettings {
            prune: false,
            max_deletes: 1,
            allow_replace: false,
        };
        assert_eq!(
            gate_names(&gates(&plan, &live, &closed)),
            ["prune", "maxDeletes", "deletionProtection", "allowReplace"]
        );
        assert_eq!(
            refused_by(4),
            "apply refused by 4 safety gates: nothing was changed"
        );
        assert_eq!(
            refused_by(1),
            "apply refused by 1 safety gate: nothing was changed"
        );
    }

    #[test]
    fn yes_confirms_a_terminal_asks_and_anything_else_is_refused() {
        assert_eq!(confirmation(true, false, true), Confirmation::Given);
        assert_eq!(confirmation(false, false, true), Confirmation::Refused);
        assert_eq!(
            confirmation(false, true, true),
            Confirmation::Ask("Apply these changes? Only 'yes' is accepted: ")
        );
        assert_eq!(
            confirmation(false, true, false),
            Confirmation::Ask("Reset these passwords? Only 'yes' is accepted: ")
        );
        assert!(accepted("yes\n"));
        assert!(accepted("  yes "));
        for no in ["y", "YES", "yes please", "", "\n"] {
            assert!(!accepted(no), "{no:?}");
        }
    }
}
