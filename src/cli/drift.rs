//! `reconcile drift DIR`: the plan as a report for scheduled jobs: JSON (default) or Markdown
//! on stdout, `--out FILE` for the JSON report, exit 2 on drift, 0 in sync, 1 on error.
//!
//! The report is the JSON plan (`render::json`, same code path as `plan`) with `format`
//! `reconcile-drift/1`, a `status` and a `drift` flag, and `errors` entries that always carry
//! a `message` (and a `kind`): `validation` (one per manifest problem, with its location),
//! `connection` (the API cannot be reached, or no client), `credentials`, `notFound` (a
//! project or hosting that does not exist), `refused`, `unknownScope` and `preflight` (the
//! plan's own errors, with their address and field). A report goes out on every run, a failed one included, so a job can always parse it.
//!
//! | status       | drift   | exit | meaning                                                |
//! |--------------|---------|------|--------------------------------------------------------|
//! | `inSync`     | false   | 0    | the live state matches the manifests                   |
//! | `drift`      | true    | 2    | changes: the report lists them                         |
//! | `inProgress` | false   | 2    | no changes, but managed objects the API is still       |
//! |              |         |      | working on (`inProgress` lists them): not settled yet  |
//! | `incomplete` | bool    | 1    | a scope could not be read: never reported as in sync   |
//! | `error`      | bool/null | 1  | invalid manifests, no connection, credentials refused, |
//! |              |         |      | a scope's root missing, preflight errors               |
//!
//! An unknown scope is an error rather than drift: drift means "someone changed something",
//! and a scope that could not be read says nothing either way; exit 1 fails the job loudly
//! instead of opening a drift issue. `drift` still says whether the scopes that could be read
//! drifted.

use super::client::ClientArgs;
use super::plan::{explain_failure, make_plan, pretty_json, write_file, PlanFailure, Printer};
use super::{ExitStatus, GlobalArgs};
use crate::live::ReadFailure;
use crate::manifest::Diagnostics;
use crate::plan::{render, Plan};
use clap::{Args, ValueEnum};
use serde_json::{json, Map, Value};
use std::path::PathBuf;

/// The format version of a drift report.
pub const DRIFT_REPORT_FORMAT: &str = "reconcile-drift/1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub struct DriftArgs {
    /// Directory of manifests (*.yaml, *.yml, walked recursively), or one file
    pub dir: PathBuf,

    /// Report format on stdout
    #[arg(long, value_enum, default_value_t = ReportFormat::Json)]
    pub format: ReportFormat,

    /// Also write the JSON report to this file
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    #[command(flatten)]
    pub client: ClientArgs,
}

pub async fn run(global: &GlobalArgs, args: DriftArgs) -> anyhow::Result<ExitStatus> {
    let printer = Printer::new(global);
    let outcome = make_plan(global, &args.client, &args.dir, false, &printer).await;
    let report = match &outcome {
        Ok(plan) => Report::of_plan(plan),
        Err(PlanFailure::Invalid(diagnostics)) => {
            printer.diagnostics(diagnostics);
            Report::failed(validation_errors(diagnostics))
        }
        Err(PlanFailure::Error(e)) => {
            printer.error(&chain(e), None);
            // `connection` unless the live read said more precisely what is wrong.
            let kind = e
                .downcast_ref::<ReadFailure>()
                .map_or("connection", ReadFailure::kind);
            Report::failed(vec![json!({ "kind": kind, "message": chain(e) })])
        }
    };
    let shown = match args.format {
        ReportFormat::Json => pretty_json(&report.json),
        ReportFormat::Markdown => report.markdown(outcome.as_ref().ok()),
    };
    printer.data(&shown)?;
    if let Some(path) = &args.out {
        write_file(path, &pretty_json(&report.json))?;
        printer.progress(&format!("drift report saved to {}", path.display()));
    }
    match report.status {
        Status::InSync => Ok(ExitStatus::Success),
        Status::Drift | Status::InProgress => Ok(ExitStatus::Changes),
        Status::Incomplete | Status::Error => {
            if let Ok(plan) = &outcome {
                explain_failure(plan, &printer);
            }
            Ok(ExitStatus::Failure)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    InSync,
    Drift,
    InProgress,
    Incomplete,
    Error,
}

impl Status {
    fn as_str(self) -> &'static str {
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
struct Report {
    status: Status,
    summary: String,
    json: Value,
}

impl Report {
    fn of_plan(plan: &Plan) -> Report {
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
        json.insert("checkedAt".into(), json!(now()));
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
    fn failed(errors: Vec<Value>) -> Report {
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
            "checkedAt": now(),
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
    fn markdown(&self, plan: Option<&Plan>) -> String {
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
fn validation_errors(diagnostics: &Diagnostics) -> Vec<Value> {
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

/// An error and its causes on one line: `cannot start ...: caused by ...`.
fn chain(e: &anyhow::Error) -> String {
    e.chain()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}

fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}
