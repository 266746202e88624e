//! Convergence after the engine: the live state read again (`read_again`, asking only for what
//! the run changed) and planned again; every change still planned for a resource whose step is
//! done is non-converging, with the values sent and read back (`verify`).

use crate::engine::{ApplyReport, StepOutcome};
use crate::live::{Answers, LiveState, ScopeState};
use crate::manifest::model::{Address, ManifestSet};
use crate::plan::model::{Action, Plan, PlanOptions, UnknownScope};
use crate::plan::render;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Duration;

/// What the re-read after the run found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    /// Resources whose step is done but whose live object still differs.
    pub non_converging: Vec<NonConverging>,
    /// Scopes that could not be read again: their resources are not verified.
    pub unverified: Vec<UnknownScope>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NonConverging {
    pub resource: String,
    /// What the plan made after the run would still do.
    pub action: &'static str,
    pub fields: Vec<SentAndRead>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SentAndRead {
    pub path: String,
    /// The manifest's value, as sent (`None`: the field should be absent).
    pub sent: Option<Value>,
    /// The value read back after the run (`None`: absent).
    pub read_back: Option<Value>,
}

/// The verification of a run of `planned` that left the live state `after`: the manifests
/// planned again against it (`prune` as the run's) and checked with `verify`; nothing to
/// verify when the plan had no changes (a run that only waited or reset passwords).
pub fn after_run(
    planned: &Plan,
    report: &ApplyReport,
    manifests: &ManifestSet,
    after: &LiveState,
    prune: bool,
) -> Verification {
    if !planned.has_changes() {
        return Verification::default();
    }
    let replan = crate::plan::plan(manifests, after, &PlanOptions { prune });
    verify(planned, report, &replan)
}

/// The plan made after the run (`replan`) against what ran: every change it still plans for
/// a resource whose step is done, or that was unchanged, is non-converging. Resources whose
/// step failed, was skipped or is still in progress are expected to differ, and so are those
/// of scopes that could not be read.
pub fn verify(planned: &Plan, report: &ApplyReport, replan: &Plan) -> Verification {
    let unfinished: BTreeSet<&Address> = report
        .steps
        .iter()
        .filter(|s| s.outcome != StepOutcome::Done)
        .map(|s| &s.address)
        .collect();
    let unknown: BTreeSet<&Address> = planned.unknown.iter().flat_map(|u| &u.affected).collect();
    let non_converging = replan
        .changes
        .iter()
        .filter(|c| !unfinished.contains(&c.address) && !unknown.contains(&c.address))
        .map(|c| NonConverging {
            resource: c.address.to_string(),
            action: match c.action {
                Action::Create => "create",
                Action::Update => "update",
                Action::Replace { .. } => "replace",
                Action::Delete { .. } => "delete",
            },
            fields: c
                .fields
                .iter()
                .map(|f| {
                    let mask = |v: &Option<Value>| {
                        if f.sensitive {
                            v.as_ref().map(|_| json!(render::SENSITIVE))
                        } else {
                            v.clone()
                        }
                    };
                    SentAndRead {
                        path: f.path.clone(),
                        sent: mask(&f.new),
                        read_back: mask(&f.old),
                    }
                })
                .collect(),
        })
        .collect();
    Verification {
        non_converging,
        unverified: replan.unknown.clone(),
    }
}

/// The live state read again after the run; once more when a scope that could be read before
/// cannot now (a 5xx burst must not pass for a non-converging run). `answers` hold what the
/// run already knows to be current (`live::Answers`): only the rest is asked for.
pub async fn read_again(
    client: &crate::ovh::Client,
    manifests: &ManifestSet,
    parallelism: usize,
    prune: bool,
    answers: &Answers,
) -> LiveState {
    let live = crate::live::read_to_verify(client, manifests, parallelism, prune, answers).await;
    let unknown = live.as_ref().map_or(true, |live| {
        live.scopes
            .values()
            .any(|s| matches!(s, ScopeState::Unknown { .. }))
    });
    if !unknown {
        return live.unwrap_or_else(|failure| unknown_everywhere(manifests, &failure));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    crate::live::read_for(client, manifests, parallelism, prune)
        .await
        .unwrap_or_else(|failure| unknown_everywhere(manifests, &failure))
}

/// A live state in which every scope is unknown for `failure`'s reason: the verification
/// then says what could not be checked and why.
fn unknown_everywhere(manifests: &ManifestSet, failure: &crate::live::ReadFailure) -> LiveState {
    let mut reason = failure.to_string();
    if let Some(cause) = std::error::Error::source(failure) {
        reason.push_str(&format!("; caused by: {cause}"));
    }
    LiveState {
        scopes: crate::live::scopes(manifests)
            .into_iter()
            .map(|scope| {
                (
                    scope,
                    ScopeState::Unknown {
                        reason: reason.clone(),
                    },
                )
            })
            .collect(),
        ..LiveState::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::fixtures::*;
    use crate::live::Scope;
    use crate::manifest::model::Kind;
    use crate::plan::model::FieldChange;

    #[test]
    fn verification_ignores_unfinished_steps_and_unknown_scopes_and_masks_secrets() {
        let mut planned = plan(vec![
            change(Kind::DatabaseService, "a", Action::Create, None),
            change(Kind::DatabaseService, "b", Action::Create, None),
        ]);
        planned.unknown.push(UnknownScope {
            scope: Scope::Hosting {
                hosting: "h1".into(),
            },
            reason: "500".into(),
            affected: vec![address(Kind::HostingDatabase, "h")],
        });
        let report = ApplyReport {
            steps: vec![
                step(
                    Kind::DatabaseService,
                    "a",
                    Action::Create,
                    StepOutcome::Done,
                ),
                step(Kind::DatabaseService, "b", Action::Create, failed()),
            ],
            secrets_written: Vec::new(),
        };
        let mut still = change(Kind::DatabaseService, "a", Action::Update, Some("s1"));
        still.fields = vec![
            FieldChange {
                path: "spec.nodes.flavor".into(),
                old: Some(json!("db2-4")),
                new: Some(json!("db2-8")),
                sensitive: false,
                forces_replace: false,
            },
            FieldChange {
                path: "spec.password".into(),
                old: Some(json!("hunter2")),
                new: Some(json!("hunter3")),
                sensitive: true,
                forces_replace: false,
            },
        ];
        let replan = self::plan(vec![
            still,
            change(Kind::DatabaseService, "b", Action::Create, None),
            change(Kind::HostingDatabase, "h", Action::Create, None),
            change(Kind::DatabaseUser, "untouched", Action::Update, Some("u1")),
        ]);
        let verification = verify(&planned, &report, &replan);
        let shown = serde_json::to_value(&verification.non_converging).unwrap();
        assert_eq!(
            shown,
            json!([
                {
                    "resource": "DatabaseService/a",
                    "action": "update",
                    "fields": [
                        { "path": "spec.nodes.flavor", "sent": "db2-8", "readBack": "db2-4" },
                        { "path": "spec.password", "sent": "(sensitive)", "readBack": "(sensitive)" },
                    ],
                },
                { "resource": "DatabaseUser/untouched", "action": "update", "fields": [] },
            ])
        );
    }

    #[test]
    fn a_scope_unreadable_after_the_run_is_unverified_not_converged() {
        let planned = plan(vec![change(
            Kind::DatabaseService,
            "a",
            Action::Create,
            None,
        )]);
        let report = ApplyReport {
            steps: vec![step(
                Kind::DatabaseService,
                "a",
                Action::Create,
                StepOutcome::Done,
            )],
            secrets_written: Vec::new(),
        };
        let mut replan = plan(Vec::new());
        let scope = Scope::Database {
            project: "p1".into(),
            engine: "mongodb".into(),
        };
        replan.unknown.push(UnknownScope {
            scope: scope.clone(),
            reason: "HTTP 503".into(),
            affected: vec![address(Kind::DatabaseService, "a")],
        });
        let verification = verify(&planned, &report, &replan);
        assert_eq!(verification.non_converging, []);
        assert_eq!(verification.unverified[0].scope, scope);
    }

    #[test]
    fn the_replan_after_a_run_uses_the_runs_prune_and_only_runs_with_changes() {
        let manifests = ManifestSet::default();
        // A service no manifest names: deleted only under prune.
        let after = live(vec![live_service("s9", false)]);
        let planned = plan(vec![change(
            Kind::DatabaseService,
            "gone",
            Action::Create,
            None,
        )]);
        let report = ApplyReport::default();
        let kept = after_run(&planned, &report, &manifests, &after, false);
        assert_eq!(kept, Verification::default());
        let pruned = after_run(&planned, &report, &manifests, &after, true);
        assert_eq!(
            pruned
                .non_converging
                .iter()
                .map(|n| n.action)
                .collect::<Vec<_>>(),
            ["delete"]
        );
        let nothing_planned = plan(Vec::new());
        assert_eq!(
            after_run(&nothing_planned, &report, &manifests, &after, true),
            Verification::default()
        );
    }
}
