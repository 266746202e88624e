//! Apply's run report: how a run ended (`decide`), the summary printed on stderr
//! (`summary_text`), the `error:` and `hint:` that say why the exit status is not 0
//! (`exit_reason`), and the JSON of `--out-report` (`RunReport::json`).

use super::ExitStatus;
use crate::apply::gates::Refusal;
use crate::apply::verify::Verification;
use crate::cli::progress::human;
use crate::engine::{ApplyReport, StepOutcome, StepReport};
use crate::manifest::model::Address;
use crate::plan::model::UnknownScope;
use crate::plan::render;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

/// The format version of `--out-report`.
pub const APPLY_REPORT_FORMAT: &str = "reconcile-apply-report/1";

/// How a run that executed ended, in the report's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    Converged,
    PartiallyApplied,
    InProgress,
    NotConverged,
    Incomplete,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Converged => "converged",
            RunStatus::PartiallyApplied => "partiallyApplied",
            RunStatus::InProgress => "inProgress",
            RunStatus::NotConverged => "notConverged",
            RunStatus::Incomplete => "incomplete",
        }
    }
}

/// The exit status of a run, the first that applies: 4 when a step failed (or was skipped),
/// 5 when the wait budget ran out with steps in progress, 1 when a done step did not converge
/// or a scope could not be read (before or after), else 0.
pub fn decide(
    report: &ApplyReport,
    verification: &Verification,
    unknown_before: bool,
) -> (RunStatus, ExitStatus) {
    if report.failed() > 0 || (report.skipped() > 0 && report.in_progress() == 0) {
        (RunStatus::PartiallyApplied, ExitStatus::PartiallyApplied)
    } else if report.in_progress() > 0 {
        (RunStatus::InProgress, ExitStatus::StillInProgress)
    } else if !verification.non_converging.is_empty() {
        (RunStatus::NotConverged, ExitStatus::Failure)
    } else if unknown_before || !verification.unverified.is_empty() {
        (RunStatus::Incomplete, ExitStatus::Failure)
    } else {
        (RunStatus::Converged, ExitStatus::Success)
    }
}

/// `Apply: 5 done, 1 failed, 0 skipped, 0 in progress.`
pub fn counts_line(report: &ApplyReport) -> String {
    format!(
        "Apply: {} done, {} failed, {} skipped, {} in progress.",
        report.done(),
        report.failed(),
        report.skipped(),
        report.in_progress()
    )
}

/// The summary printed on stderr after the run: the counts, then each section that is not
/// empty. Paths of secrets files only, never their contents.
pub fn summary_text(report: &ApplyReport, verification: &Verification) -> String {
    use std::fmt::Write;
    let mut out = counts_line(report);
    out.push('\n');
    let section = |out: &mut String, title: &str, lines: Vec<String>| {
        if !lines.is_empty() {
            let _ = writeln!(out, "{title}:");
            for line in lines {
                let _ = writeln!(out, "  {line}");
            }
        }
    };
    let steps = |f: &dyn Fn(&StepReport) -> Option<String>| -> Vec<String> {
        report.steps.iter().filter_map(f).collect()
    };
    section(
        &mut out,
        "Done",
        steps(&|s| {
            (s.outcome == StepOutcome::Done).then(|| {
                let how = match (s.resumed, s.adopted) {
                    (true, _) => " (resumed)",
                    (false, true) => " (adopted)",
                    (false, false) => "",
                };
                format!("{} {}{how}", s.action.symbol(), s.address)
            })
        }),
    );
    section(
        &mut out,
        "Failed",
        steps(&|s| match &s.outcome {
            StepOutcome::Failed {
                message,
                status,
                class,
                query_id,
            } => {
                let mut details = Vec::new();
                if let Some(class) = class {
                    details.push(class.clone());
                }
                if let Some(status) = status {
                    details.push(format!("HTTP {status}"));
                }
                if let Some(query_id) = query_id {
                    details.push(format!("query id {query_id}"));
                }
                let details = if details.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", details.join(", "))
                };
                Some(format!(
                    "{} {}: {message}{details}",
                    s.action.symbol(),
                    s.address
                ))
            }
            _ => None,
        }),
    );
    section(
        &mut out,
        "Skipped",
        steps(&|s| match &s.outcome {
            StepOutcome::Skipped { because } => Some(format!(
                "{} {}: because {because} did not finish",
                s.action.symbol(),
                s.address
            )),
            _ => None,
        }),
    );
    section(
        &mut out,
        "In progress (a re-run resumes waiting)",
        steps(&|s| match &s.outcome {
            StepOutcome::InProgress { last_status } => Some(format!(
                "{} {}: {last_status} after {}",
                s.action.symbol(),
                s.address,
                human(Duration::from_millis(s.elapsed_ms))
            )),
            _ => None,
        }),
    );
    section(
        &mut out,
        "Warnings",
        report
            .steps
            .iter()
            .flat_map(|s| {
                s.warnings
                    .iter()
                    .map(move |w| format!("{}: {w}", s.address))
            })
            .collect(),
    );
    section(
        &mut out,
        "Secrets written (mode 0600, contents never printed)",
        report
            .secrets_written
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
    );
    let mut lines = Vec::new();
    for resource in &verification.non_converging {
        lines.push(format!(
            "{} (still to {})",
            resource.resource, resource.action
        ));
        for field in &resource.fields {
            let shown = |v: &Option<Value>| match v {
                Some(v) => v.to_string(),
                None => "(absent)".to_string(),
            };
            lines.push(format!(
                "    {}: sent {}, read back {}",
                field.path,
                shown(&field.sent),
                shown(&field.read_back)
            ));
        }
    }
    section(&mut out, "Not converging (sent, read back)", lines);
    section(
        &mut out,
        "Not verified (could not be read after the run)",
        verification
            .unverified
            .iter()
            .map(|u| format!("{}: {}", u.scope, u.reason))
            .collect(),
    );
    out.pop();
    out
}

/// The warning for a user an earlier run created and stopped before storing its password (an
/// intent in `secrets_dir`): this run resets it.
pub fn lost_password_warning(address: &Address, secrets_dir: &Path) -> String {
    format!(
        "warning: {address}: an earlier run created it and stopped before storing its password \
         (an intent in {}): it is reset and stored by this run",
        secrets_dir.display()
    )
}

/// The `error:` message and `hint:` that say why a run that executed does not exit 0; `None`
/// when it converged. `timeout` is the run's `--timeout`.
pub fn exit_reason(
    status: RunStatus,
    report: &ApplyReport,
    verification: &Verification,
    timeout: Duration,
) -> Option<(String, &'static str)> {
    Some(match status {
        RunStatus::Converged => return None,
        RunStatus::PartiallyApplied => (
            format!(
                "{} failed, {} skipped; the rest is done",
                render::plural(report.failed(), "step", "steps"),
                report.skipped()
            ),
            "fix what the failures say, then run apply again: it continues from here",
        ),
        RunStatus::InProgress => {
            let waiting: Vec<String> = report
                .steps
                .iter()
                .filter_map(|s| match &s.outcome {
                    StepOutcome::InProgress { last_status } => {
                        Some(format!("{} ({last_status})", s.address))
                    }
                    _ => None,
                })
                .collect();
            (
                format!(
                    "the wait budget (--timeout {}) is spent while the API is still working on: {}",
                    humantime::format_duration(timeout),
                    waiting.join(", ")
                ),
                "run apply again: it finds them in progress and resumes waiting",
            )
        }
        RunStatus::NotConverged => (
            format!(
                "{} did not converge: the API took the changes but reads back other values",
                render::plural(verification.non_converging.len(), "resource", "resources")
            ),
            "run `reconcile plan` to see them; -v logs every call",
        ),
        RunStatus::Incomplete => (
            "some scopes could not be read: nothing was applied or verified there".to_string(),
            "run apply again once the API answers (-v logs every call)",
        ),
    })
}

/// What `--out-report` writes, filled in as the run goes.
#[derive(Debug, Default)]
pub struct RunReport {
    /// The exit status (`None` until known: an error).
    pub status: Option<ExitStatus>,
    /// How the run ended, when it executed.
    pub run_status: Option<RunStatus>,
    /// The plan's summary line, once planned.
    pub plan_summary: Option<String>,
    /// True once the engine (or a rotation) ran.
    pub executed: bool,
    pub report: ApplyReport,
    pub verification: Verification,
    pub refusals: Vec<Refusal>,
    /// What made a saved plan stale (`StalePlan::items`).
    pub stale: Vec<String>,
    /// The scopes that could not be read before the run.
    pub unknown: Vec<UnknownScope>,
}

impl RunReport {
    /// The report: `format`, `status`, `exitCode`, `summary`, `plan` (the plan's summary
    /// line), `counts`, then the engine's `steps` and `secretsWritten` (paths), and
    /// `nonConverging`, `unverified`, `unknown`, `refusals`, `stale`.
    pub fn json(&self) -> Value {
        let exit = self.status.unwrap_or(ExitStatus::Failure);
        let status = match (self.run_status, exit) {
            (Some(status), _) => status.as_str(),
            (None, ExitStatus::Success) => "noChanges",
            (None, ExitStatus::Refused) => "refused",
            (None, ExitStatus::StalePlan) => "stale",
            (None, _) if !self.unknown.is_empty() => "incomplete",
            (None, _) => "error",
        };
        let report = &self.report;
        json!({
            "format": APPLY_REPORT_FORMAT,
            "status": status,
            "exitCode": exit.code(),
            "summary": if self.executed { counts_line(report) } else { String::new() },
            "plan": self.plan_summary,
            "counts": {
                "done": report.done(),
                "failed": report.failed(),
                "skipped": report.skipped(),
                "inProgress": report.in_progress(),
            },
            "steps": report.steps,
            "secretsWritten": report.secrets_written,
            "nonConverging": self.verification.non_converging,
            "unverified": self.verification.unverified,
            "unknown": self.unknown,
            "refusals": self.refusals,
            "stale": self.stale,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::fixtures::*;
    use crate::apply::verify::{NonConverging, SentAndRead};
    use crate::manifest::model::Kind;
    use crate::plan::model::Action;
    use std::path::PathBuf;

    #[test]
    fn the_exit_status_is_the_first_that_applies() {
        let done = step(
            Kind::DatabaseService,
            "a",
            Action::Create,
            StepOutcome::Done,
        );
        let report = |steps: Vec<StepReport>| ApplyReport {
            steps,
            secrets_written: Vec::new(),
        };
        let clean = Verification::default();
        let drifting = Verification {
            non_converging: vec![NonConverging {
                resource: "DatabaseService/a".into(),
                action: "update",
                fields: Vec::new(),
            }],
            unverified: Vec::new(),
        };
        let code = |r: &ApplyReport, v: &Verification, unknown| decide(r, v, unknown).1.code();

        assert_eq!(code(&report(vec![done.clone()]), &clean, false), 0);
        assert_eq!(code(&report(vec![done.clone()]), &clean, true), 1);
        assert_eq!(code(&report(vec![done.clone()]), &drifting, false), 1);
        let waiting = step(Kind::DatabaseService, "b", Action::Create, in_progress());
        let skipped = step(
            Kind::DatabaseUser,
            "c",
            Action::Create,
            StepOutcome::Skipped {
                because: address(Kind::DatabaseService, "b"),
            },
        );
        let in_progress = report(vec![done.clone(), waiting.clone(), skipped.clone()]);
        assert_eq!(code(&in_progress, &drifting, false), 5);
        let broken = step(Kind::DatabaseService, "d", Action::Update, failed());
        let partial = report(vec![done, waiting, skipped, broken]);
        assert_eq!(code(&partial, &drifting, true), 4);
    }

    #[test]
    fn the_summary_lists_every_step_and_secret_paths_only() {
        let report = ApplyReport {
            steps: vec![
                step(
                    Kind::DatabaseService,
                    "a",
                    Action::Create,
                    StepOutcome::Done,
                ),
                StepReport {
                    adopted: true,
                    warnings: vec!["ipRestrictions 198.51.100.7/32 still PENDING".into()],
                    ..step(
                        Kind::DatabaseUser,
                        "a-app",
                        Action::Create,
                        StepOutcome::Done,
                    )
                },
                step(Kind::DatabaseService, "b", Action::Update, failed()),
                step(
                    Kind::DatabaseUser,
                    "b-app",
                    Action::Update,
                    StepOutcome::Skipped {
                        because: address(Kind::DatabaseService, "b"),
                    },
                ),
                step(Kind::DatabaseService, "c", Action::Create, in_progress()),
            ],
            secrets_written: vec![PathBuf::from(".reconcile/secrets/DatabaseUser-a-app.json")],
        };
        let verification = Verification {
            non_converging: vec![NonConverging {
                resource: "DatabaseService/a".into(),
                action: "update",
                fields: vec![SentAndRead {
                    path: "spec.nodes.flavor".into(),
                    sent: Some(json!("db2-8")),
                    read_back: Some(json!("db2-4")),
                }],
            }],
            unverified: Vec::new(),
        };
        insta::assert_snapshot!(summary_text(&report, &verification), @r#"
        Apply: 2 done, 1 failed, 1 skipped, 1 in progress.
        Done:
          + DatabaseService/a
          + DatabaseUser/a-app (adopted)
        Failed:
          ~ DatabaseService/b: the service is not ready (Client::Conflict::ServiceNotReady, HTTP 409, query id SB.ext-1.1.2.3)
        Skipped:
          ~ DatabaseUser/b-app: because DatabaseService/b did not finish
        In progress (a re-run resumes waiting):
          + DatabaseService/c: CREATING after 1.5s
        Warnings:
          DatabaseUser/a-app: ipRestrictions 198.51.100.7/32 still PENDING
        Secrets written (mode 0600, contents never printed):
          .reconcile/secrets/DatabaseUser-a-app.json
        Not converging (sent, read back):
          DatabaseService/a (still to update)
              spec.nodes.flavor: sent "db2-8", read back "db2-4"
        "#);
    }

    #[test]
    fn every_unclean_end_says_why_and_what_to_do() {
        let report = ApplyReport {
            steps: vec![
                step(Kind::DatabaseService, "b", Action::Create, in_progress()),
                step(Kind::DatabaseService, "c", Action::Update, failed()),
            ],
            secrets_written: Vec::new(),
        };
        let verification = Verification {
            non_converging: vec![NonConverging {
                resource: "DatabaseService/a".into(),
                action: "update",
                fields: Vec::new(),
            }],
            unverified: Vec::new(),
        };
        let timeout = Duration::from_secs(40 * 60);
        let said = [
            RunStatus::Converged,
            RunStatus::PartiallyApplied,
            RunStatus::InProgress,
            RunStatus::NotConverged,
            RunStatus::Incomplete,
        ]
        .into_iter()
        .map(
            |status| match exit_reason(status, &report, &verification, timeout) {
                Some((message, hint)) => {
                    format!("{}: error: {message}\n  hint: {hint}", status.as_str())
                }
                None => format!("{}: -", status.as_str()),
            },
        )
        .collect::<Vec<_>>()
        .join("\n");
        insta::assert_snapshot!(said, @r#"
            converged: -
            partiallyApplied: error: 1 step failed, 0 skipped; the rest is done
              hint: fix what the failures say, then run apply again: it continues from here
            inProgress: error: the wait budget (--timeout 40m) is spent while the API is still working on: DatabaseService/b (CREATING)
              hint: run apply again: it finds them in progress and resumes waiting
            notConverged: error: 1 resource did not converge: the API took the changes but reads back other values
              hint: run `reconcile plan` to see them; -v logs every call
            incomplete: error: some scopes could not be read: nothing was applied or verified there
              hint: run apply again once the API answers (-v logs every call)
            "#);
    }

    #[test]
    fn the_report_of_a_run_that_never_executed_says_why_it_stopped() {
        let status_of = |report: RunReport| report.json()["status"].clone();
        let ended = |status| RunReport {
            status: Some(status),
            ..RunReport::default()
        };
        assert_eq!(status_of(ended(ExitStatus::Success)), "noChanges");
        assert_eq!(status_of(ended(ExitStatus::Refused)), "refused");
        assert_eq!(status_of(ended(ExitStatus::StalePlan)), "stale");
        assert_eq!(status_of(ended(ExitStatus::Failure)), "error");
        assert_eq!(status_of(RunReport::default()), "error");
        let mut unknown = ended(ExitStatus::Failure);
        unknown.unknown.push(UnknownScope {
            scope: crate::live::Scope::StackMysql,
            reason: "HTTP 500".into(),
            affected: Vec::new(),
        });
        assert_eq!(status_of(unknown), "incomplete");
        let mut stale = ended(ExitStatus::StalePlan);
        stale.stale = vec!["stackMysql (the managed MySQL stacks)".into()];
        stale.plan_summary = Some("Plan: 0 to create, 1 to update, 0 to delete.".into());
        insta::assert_json_snapshot!(stale.json(), @r#"
            {
              "format": "reconcile-apply-report/1",
              "status": "stale",
              "exitCode": 7,
              "summary": "",
              "plan": "Plan: 0 to create, 1 to update, 0 to delete.",
              "counts": {
                "done": 0,
                "failed": 0,
                "skipped": 0,
                "inProgress": 0
              },
              "steps": [],
              "secretsWritten": [],
              "nonConverging": [],
              "unverified": [],
              "unknown": [],
              "refusals": [],
              "stale": [
                "stackMysql (the managed MySQL stacks)"
              ]
            }
            "#);
    }

    #[test]
    fn the_report_of_a_run_that_executed_counts_its_steps() {
        let report = RunReport {
            status: Some(ExitStatus::PartiallyApplied),
            run_status: Some(RunStatus::PartiallyApplied),
            executed: true,
            report: ApplyReport {
                steps: vec![
                    step(
                        Kind::DatabaseService,
                        "a",
                        Action::Create,
                        StepOutcome::Done,
                    ),
                    step(Kind::DatabaseService, "b", Action::Update, failed()),
                ],
                secrets_written: vec![PathBuf::from(".reconcile/secrets/x.json")],
            },
            ..RunReport::default()
        };
        let json = report.json();
        assert_eq!(json["status"], "partiallyApplied");
        assert_eq!(json["exitCode"], 4);
        assert_eq!(
            json["summary"],
            "Apply: 1 done, 1 failed, 0 skipped, 0 in progress."
        );
        assert_eq!(json["counts"]["failed"], 1);
        assert_eq!(json["secretsWritten"][0], ".reconcile/secrets/x.json");
    }
}
