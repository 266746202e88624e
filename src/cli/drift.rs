//! `reconcile drift DIR`: the plan as a report for scheduled jobs: JSON (default) or Markdown
//! on stdout, `--out FILE` for the JSON report, exit 2 on drift, 0 in sync, 1 on error. The
//! report itself (`report::drift`) is data: this file plans, prints and writes it.
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
use super::plan::{explain_failure, make_plan, pretty_json, write_file, PlanFailure};
use super::{ExitStatus, GlobalArgs};
use crate::live::ReadFailure;
use crate::report::drift::{self, Report};
use crate::report::Printer;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

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
    let printer = Printer::new(global.no_color);
    let outcome = make_plan(global, &args.client, &args.dir, false, &printer).await;
    let report = match &outcome {
        Ok(plan) => Report::of_plan(plan, &drift::now()),
        Err(PlanFailure::Invalid(diagnostics)) => {
            printer.diagnostics(diagnostics);
            Report::failed(drift::validation_errors(diagnostics), &drift::now())
        }
        Err(PlanFailure::Error(e)) => {
            printer.error(&chain(e), None);
            // `connection` unless the live read said more precisely what is wrong.
            let kind = e
                .downcast_ref::<ReadFailure>()
                .map_or("connection", ReadFailure::kind);
            Report::failed(vec![drift::error(kind, chain(e))], &drift::now())
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
    let status = report.exit_status();
    if status == ExitStatus::Failure {
        if let Ok(plan) = &outcome {
            explain_failure(plan, &printer);
        }
    }
    Ok(status)
}

/// An error and its causes on one line: `cannot start ...: caused by ...`.
fn chain(e: &anyhow::Error) -> String {
    e.chain()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}
