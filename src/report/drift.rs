//! The drift report (`reconcile drift`): the plan as a report for scheduled jobs, its status,
//! its JSON and its Markdown.
//!
//! The report is the JSON plan (`render::json`, same code path as `plan`) with `format`
//! `reconcile-drift/1`, a `status` and a `drift` flag, and `errors` entries that always carry
//! a `message` (and a `kind`): `validation` (one per manifest problem, with its location),
//! `connection` (the API cannot be reached, or no client), `credentials`, `notFound` (a
//! project or hosting that does not exist), `refused`, `unknownScope` and `preflight` (the
//! plan's own errors, with their address and field). A report goes out on every run, a failed
//! one included, so a job can always parse it. The status table is in `cli::drift`.

use super::ExitStatus;
use crate::manifest::Diagnostics;
use crate::plan::{render, Plan};
use serde_json::{json, Map, Value};

/// The format version of a drift report.
pub const DRIFT_REPORT_FORMAT: &str = "reconcile-drift/1";

/// An `errors` entry of a report that could not plan: its `kind` and `message`.
pub fn error(kind: &str, message: String) -> Value {
    json!({ "kind": kind, "message": message })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    InSync,
    Drift,
    InProgress,
    Incomplete,
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::InSync => "inSync",
            Status::Drift => "drift",
            Status::InProgress => "inProgress",
            Status::Incomplete => "incomplete",
            Status::Error => "error",
        }
    }
}

/// A drift report: its status, its JSON form and its one-line summary.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub status: Status,
    pub summary: String,
    pub json: Value,
}

impl Report {
    /// The exit status: 0 in sync, 2 drift or in progress, 1 incomplete or an error.
    pub fn exit_status(&self) -> ExitStatus {
        match self.status {
            Status::InSync => ExitStatus::Success,
            Status::Drift | Status::InProgress => ExitStatus::Changes,
            Status::Incomplete | Status::Error => ExitStatus::Failure,
        }
    }

    /// The report of a plan, checked at `checked_at` (RFC 3339, `now()`).
    pub fn of_plan(plan: &Plan, checked_at: &str) -> Report {
        let status = if !plan.errors.is_empty() {
            Status::Error
        } else if !plan.unknown.is_empty() {
            Status::Incomplete
        } else if plan.has_changes() {
            Status::Drift
        } else if !plan.in_progress.is_empty() {
            Status::InProgress
        } else {
            Status::InSync
        };
        let summary = render::summary(plan);
        let Value::Object(fields) = render::json(plan) else {
            unreachable!("a plan renders as a JSON object")
        };
        let mut errors: Vec<Value> = plan
            .unknown
            .iter()
            .map(|unknown| {
                json!({
                    "kind": "unknownScope",
                    "message": format!("{} could not be read: {}", unknown.scope, unknown.reason),
                    "scope": unknown.scope,
                })
            })
            .collect();
        for finding in &plan.errors {
            errors.push(json!({
                "kind": "preflight",
                "message": format!("{} {}: {}", finding.address, finding.field, finding.message),
                "address": finding.address,
                "field": finding.field,
            }));
        }
        let mut json = Map::new();
        json.insert("format".into(), json!(DRIFT_REPORT_FORMAT));
        json.insert("status".into(), json!(status.as_str()));
        json.insert("drift".into(), json!(plan.has_changes()));
        json.insert("checkedAt".into(), json!(checked_at));
        for (key, value) in fields {
            match key.as_str() {
                "format" => {}
                "errors" => {
                    json.insert(key, Value::Array(std::mem::take(&mut errors)));
                }
                _ => {
                    json.insert(key, value);
                }
            }
        }
        Report {
            status,
            summary,
            json: Value::Object(json),
        }
    }

    /// The report of a run that could not plan: no changes known, `drift: null`.
    pub fn failed(errors: Vec<Value>, checked_at: &str) -> Report {
        let summary = match errors.first().and_then(|e| e["message"].as_str()) {
            Some(first) if errors.len() == 1 => format!("Drift check failed: {first}"),
            _ => format!(
                "Drift check failed: {} (see errors).",
                render::plural(errors.len(), "error", "errors")
            ),
        };
        let json = json!({
            "format": DRIFT_REPORT_FORMAT,
            "status": Status::Error.as_str(),
            "drift": null,
            "checkedAt": checked_at,
            "summary": summary,
            "counts": null,
            "changes": [],
            "unchanged": [],
            "unmanaged": [],
            "unknown": [],
            "warnings": [],
            "errors": errors,
            "digests": {},
        });
        Report {
            status: Status::Error,
            summary,
            json,
        }
    }

    /// The Markdown report: a title saying the status, then the plan (or the errors).
    pub fn markdown(&self, plan: Option<&Plan>) -> String {
        let title = match self.status {
            Status::InSync => "in sync",
            Status::Drift => "drift detected",
            Status::InProgress => "in progress, the API is still working on managed objects",
            Status::Incomplete => "incomplete, some scopes could not be read",
            Status::Error => "failed",
        };
        let mut out = format!("### reconcile drift: {title}\n\n");
        match plan {
            Some(plan) => out.push_str(&render::markdown(plan, false)),
            None => {
                out.push_str(&format!("**{}**\n", self.summary));
                for error in self.json["errors"].as_array().into_iter().flatten() {
                    let message = error["message"].as_str().unwrap_or_default();
                    out.push_str(&format!("\n```\n{}\n```\n", message.replace("```", "'''")));
                }
            }
        }
        out
    }
}

/// One `validation` error per manifest problem, with its location.
pub fn validation_errors(diagnostics: &Diagnostics) -> Vec<Value> {
    let mut errors: Vec<Value> = diagnostics
        .shown()
        .iter()
        .map(|d| {
            json!({
                "kind": "validation",
                "message": d.to_string().lines().next().unwrap_or_default(),
                "file": d.span.file,
                "line": d.span.line,
                "column": d.span.column,
                "field": d.field,
                "hint": d.hint,
            })
        })
        .collect();
    if let Some(more) = diagnostics.more() {
        errors.push(json!({ "kind": "validation", "message": more }));
    }
    errors
}

/// The time now, as `checkedAt` shows it.
pub fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::fixtures::{address, change, plan};
    use crate::live::Scope;
    use crate::manifest::model::Kind;
    use crate::plan::model::{Action, Finding, InProgress, UnknownScope};

    const AT: &str = "2026-12-03T13:00:00Z";

    #[test]
    fn the_status_is_error_then_incomplete_then_drift_then_in_progress_then_in_sync() {
        let status = |plan: &Plan| {
            let report = Report::of_plan(plan, AT);
            (report.status, report.exit_status().code())
        };
        let mut plan = plan(Vec::new());
        assert_eq!(status(&plan), (Status::InSync, 0));
        plan.in_progress.push(InProgress {
            address: address(Kind::DatabaseService, "a"),
            id: "s1".into(),
            status: "CREATING".into(),
        });
        assert_eq!(status(&plan), (Status::InProgress, 2));
        plan.changes
            .push(change(Kind::DatabaseService, "b", Action::Create, None));
        assert_eq!(status(&plan), (Status::Drift, 2));
        plan.unknown.push(UnknownScope {
            scope: Scope::StackMysql,
            reason: "HTTP 503".into(),
            affected: Vec::new(),
        });
        assert_eq!(status(&plan), (Status::Incomplete, 1));
        plan.errors.push(Finding {
            address: address(Kind::DatabaseService, "b"),
            field: "spec.version".into(),
            message: "not in the catalogue".into(),
        });
        assert_eq!(status(&plan), (Status::Error, 1));

        let report = Report::of_plan(&plan, AT);
        assert_eq!(report.json["drift"], true);
        assert_eq!(report.json["checkedAt"], AT);
        assert_eq!(
            report.json["errors"],
            json!([
                {
                    "kind": "unknownScope",
                    "message": "managed MySQL stacks could not be read: HTTP 503",
                    "scope": { "type": "stackMysql" },
                },
                {
                    "kind": "preflight",
                    "message": "DatabaseService/b spec.version: not in the catalogue",
                    "address": { "kind": "DatabaseService", "name": "b" },
                    "field": "spec.version",
                },
            ])
        );
        let keys: Vec<&String> = report.json.as_object().unwrap().keys().collect();
        assert_eq!(keys[..4], ["format", "status", "drift", "checkedAt"]);
    }

    #[test]
    fn a_failed_check_reports_its_errors_and_no_drift() {
        let one = Report::failed(vec![error("connection", "no route".into())], AT);
        assert_eq!(one.summary, "Drift check failed: no route");
        assert_eq!(one.json["drift"], Value::Null);
        assert_eq!(one.exit_status(), ExitStatus::Failure);
        let two = Report::failed(
            vec![
                error("validation", "bad ```fence```".into()),
                error("validation", "another".into()),
            ],
            AT,
        );
        insta::assert_snapshot!(two.markdown(None), @r"
        ### reconcile drift: failed

        **Drift check failed: 2 errors (see errors).**

        ```
        bad '''fence'''
        ```

        ```
        another
        ```
        ");
    }
}
