//! Scheduling: which change runs when. A change starts once every change it depends on is
//! `Done` (so waves run in order: creates parent-first, deletes child-first), in plan order
//! (wave, then address). At most `parallelism` steps send calls at once: each step holds a slot
//! (`readiness::Slot`, a fair semaphore, so slots go in start order) while it sends, and gives
//! it back while it sleeps, so a step waiting minutes for `READY` does not hold back the next
//! creates.
//! A change whose dependency failed, is still in progress or was skipped is `Skipped` with that
//! dependency as the reason; everything independent goes on.
//!
//! Steps run concurrently on the caller's task (no spawning): every call and every poll goes
//! through the one `Client`, so the one rate budget covers them all.

use super::step::{run_work, Run, Work};
use super::{StepOutcome, StepReport};
use crate::manifest::model::Address;
use crate::plan::Change;
use futures::stream::{FuturesUnordered, StreamExt};
use std::collections::BTreeMap;

/// Whether a change can start.
#[derive(Debug, PartialEq, Eq)]
enum Readiness {
    /// A dependency has not finished.
    Waiting,
    /// A dependency finished other than `Done`.
    Blocked(Address),
    Ready,
}

fn readiness(
    change: &Change,
    by_address: &BTreeMap<&Address, Vec<usize>>,
    reports: &[Option<StepReport>],
) -> Readiness {
    let mut waiting = false;
    for dependency in &change.depends_on {
        for &i in by_address.get(dependency).into_iter().flatten() {
            match &reports[i] {
                None => waiting = true,
                Some(report) if report.outcome != StepOutcome::Done => {
                    return Readiness::Blocked(dependency.clone())
                }
                Some(_) => {}
            }
        }
    }
    if waiting {
        Readiness::Waiting
    } else {
        Readiness::Ready
    }
}

/// Runs every piece of `work`; one report each, in the same order.
pub(crate) async fn run_all(run: &Run<'_>, work: &[Work]) -> Vec<StepReport> {
    let changes: Vec<&Change> = work.iter().map(|w| &w.change).collect();
    let mut by_address: BTreeMap<&Address, Vec<usize>> = BTreeMap::new();
    for (i, change) in changes.iter().enumerate() {
        by_address.entry(&change.address).or_default().push(i);
    }
    let mut reports: Vec<Option<StepReport>> = vec![None; changes.len()];
    let mut started = vec![false; changes.len()];
    let mut running = FuturesUnordered::new();
    loop {
        // Start (or skip) everything that can go, in plan order (each step then waits for a slot).
        let mut moved = true;
        while moved {
            moved = false;
            for (i, change) in changes.iter().enumerate() {
                if started[i] {
                    continue;
                }
                match readiness(change, &by_address, &reports) {
                    Readiness::Waiting => {}
                    Readiness::Blocked(because) => {
                        started[i] = true;
                        let report = skipped(change, because);
                        tracing::info!(address = %change.address, "step skipped: a dependency is not done");
                        run.progress.step_finished(&report);
                        reports[i] = Some(report);
                        moved = true;
                    }
                    Readiness::Ready => {
                        started[i] = true;
                        let work = &work[i];
                        running.push(async move { (i, run_work(run, work).await) });
                    }
                }
            }
        }
        let Some((i, report)) = running.next().await else {
            break;
        };
        run.finished
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(report.clone());
        run.progress.step_finished(&report);
        reports[i] = Some(report);
    }
    reports
        .into_iter()
        .zip(&changes)
        .map(|(report, change)| {
            // A cycle (which `Spec::references` cannot form) would leave a change unstarted.
            report.unwrap_or_else(|| skipped(change, change.address.clone()))
        })
        .collect()
}

fn skipped(change: &Change, because: Address) -> StepReport {
    StepReport {
        address: change.address.clone(),
        action: change.action.clone(),
        outcome: StepOutcome::Skipped { because },
        live_id: change.live_id.clone(),
        elapsed_ms: 0,
        adopted: false,
        warnings: Vec::new(),
        resumed: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::model::Kind;
    use crate::plan::Action;

    fn address(kind: Kind, name: &str) -> Address {
        Address {
            kind,
            name: name.into(),
        }
    }

    fn change(address: Address, depends_on: Vec<Address>) -> Change {
        Change {
            address,
            action: Action::Create,
            wave: 0,
            fields: vec![],
            calls: vec![],
            live_id: None,
            depends_on,
        }
    }

    fn report(change: &Change, outcome: StepOutcome) -> StepReport {
        StepReport {
            address: change.address.clone(),
            action: change.action.clone(),
            outcome,
            live_id: None,
            elapsed_ms: 0,
            adopted: false,
            warnings: vec![],
            resumed: false,
        }
    }

    #[test]
    fn a_change_waits_for_its_dependencies_and_is_blocked_by_a_failed_one() {
        let service = address(Kind::DatabaseService, "db");
        let changes = [
            change(service.clone(), vec![]),
            change(address(Kind::DatabaseUser, "app"), vec![service.clone()]),
            // An edge to a change not in the plan is no edge.
            change(
                address(Kind::DatabaseUser, "other"),
                vec![address(Kind::DatabaseService, "elsewhere")],
            ),
        ];
        let mut by_address = BTreeMap::new();
        for (i, c) in changes.iter().enumerate() {
            by_address
                .entry(&c.address)
                .or_insert_with(Vec::new)
                .push(i);
        }
        let mut reports = vec![None, None, None];
        assert_eq!(
            readiness(&changes[1], &by_address, &reports),
            Readiness::Waiting
        );
        assert_eq!(
            readiness(&changes[2], &by_address, &reports),
            Readiness::Ready
        );
        reports[0] = Some(report(&changes[0], StepOutcome::Done));
        assert_eq!(
            readiness(&changes[1], &by_address, &reports),
            Readiness::Ready
        );
        reports[0] = Some(report(
            &changes[0],
            StepOutcome::InProgress {
                last_status: "CREATING".into(),
            },
        ));
        assert_eq!(
            readiness(&changes[1], &by_address, &reports),
            Readiness::Blocked(service)
        );
    }
}
