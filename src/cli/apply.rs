//! `reconcile apply DIR | plan.json`: plan (or load a saved plan), show it, pass the safety
//! gates, confirm (TTY) or `--yes`, execute in dependency order, wait for READY, re-read and
//! verify convergence.
//!
//! This file holds the flags, the prompt and the printing; what is decided lives in the
//! library (`apply`, `report::apply`). The steps:
//! 1. `prepare`: a directory is planned exactly as `plan` does (`load_manifests`,
//!    `connect_and_read`, `plan::plan`); a `.json` file is a plan saved by `plan --out`
//!    (`apply::saved`): its manifests (`manifests` in the JSON) are loaded again and the live
//!    state read again, and the plan is refused (exit 7) when it belongs to another API or
//!    account, when a live object's digest changed (`plan::stale`) or when the manifests no
//!    longer give the same changes.
//! 2. The plan goes to stdout, like `plan`'s.
//! 3. `apply::gates`: refusals before any write (exit 6): a delete without `--prune`, more
//!    deletes than `--max-deletes`, a delete or replace of a protected service, a replace of a
//!    database service or hosting database without `--allow-replace`. A plan with errors
//!    (preflight) is exit 1.
//! 4. `confirm`: `yes` on a terminal, else `--yes` (`gates::confirmation`).
//! 5. `engine::execute` with progress on stderr (`progress`), then `--rotate`.
//! 6. `apply::verify`: the live state is read again and planned again: a change still planned
//!    for a resource whose step is done is non-converging (the values sent and read back).
//! 7. The summary on stderr, `--out-report`, and the exit status (`report::apply::decide`).
//!
//! Unknown scopes (a read that failed) do not stop the run: nothing is planned there, so the
//! rest is applied, and the run exits 1 at the end, listing them. Secrets never pass through
//! here: the plan holds none, the engine writes generated ones to the secrets directory and
//! reports paths only.

use super::client::ClientArgs;
use super::plan::{
    connect_and_read, explain_failure, load_manifests, pretty_json, write_file, PlanFailure,
};
use super::progress::{self, human};
use super::{ExitStatus, GlobalArgs};
use crate::apply::gates::{self, Confirmation, GateSettings};
use crate::apply::identity::ApiIdentity;
use crate::apply::saved::{self, SavedPlanError, StalePlan};
use crate::apply::{lock, rotation, verify};
use crate::engine::{self, ApplyReport, ExecuteOptions, StepOutcome, StepReport};
use crate::live::{Answers, LiveState};
use crate::manifest::model::{Address, Kind, ManifestSet};
use crate::plan::model::{Action, Plan, PlanOptions};
use crate::plan::{self, render};
use crate::report::apply::{decide, exit_reason, summary_text, RunReport};
use crate::report::{self, Printer};
use clap::Args;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Directory of manifests, or a plan saved with `reconcile plan --out plan.json`
    pub target: PathBuf,

    /// Do not ask for confirmation (required when stdin is not a terminal)
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Delete live objects no manifest names, in the scopes the manifests manage
    #[arg(long)]
    pub prune: bool,

    /// Refuse to run when more than this many deletes are planned
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub max_deletes: usize,

    /// Allow replacing (delete + create) database services and hosting databases
    #[arg(long)]
    pub allow_replace: bool,

    /// Wait budget for the whole run, e.g. 40m; when spent, exit 5 and a re-run resumes waiting
    #[arg(long, default_value = "40m", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub timeout: Duration,

    /// Where generated passwords go: one file per resource, mode 0600
    #[arg(long, default_value = ".reconcile/secrets", value_name = "DIR")]
    pub secrets_dir: PathBuf,

    /// Reset this user's password on purpose (e.g. DatabaseUser/orders-app); repeatable
    #[arg(long, value_name = "KIND/NAME")]
    pub rotate: Vec<String>,

    /// How long to wait for another apply in this directory to finish (the run lock
    /// .reconcile/lock); 0: fail at once, naming it
    #[arg(long, default_value = "0s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub lock_timeout: Duration,

    /// Write the run's report (done, failed, skipped, in progress) as JSON
    #[arg(long, value_name = "FILE")]
    pub out_report: Option<PathBuf>,

    #[command(flatten)]
    pub client: ClientArgs,
}

pub async fn run(global: &GlobalArgs, args: ApplyArgs) -> anyhow::Result<ExitStatus> {
    let printer = Printer::new(global.no_color);
    let mut outcome = RunReport::default();
    let status = match apply(global, &args, &printer, &mut outcome).await {
        Ok(status) => status,
        Err(Stop::Invalid(diagnostics)) => {
            printer.diagnostics(&diagnostics);
            return Ok(ExitStatus::Failure);
        }
        Err(Stop::Error(e)) => return Err(e),
        Err(Stop::Refused {
            status,
            message,
            hint,
        }) => {
            printer.error(&message, hint.as_deref());
            outcome.status = Some(status);
            status
        }
    };
    if let Some(path) = &args.out_report {
        outcome.status.get_or_insert(status);
        write_file(path, &pretty_json(&outcome.json()))?;
    }
    Ok(status)
}

/// Why apply stopped early.
enum Stop {
    /// Invalid manifests: diagnostics, nothing read from the API.
    Invalid(crate::manifest::Diagnostics),
    /// No connection, an unreadable saved plan, ...: `error:` and exit 1.
    Error(anyhow::Error),
    /// A decision with its exit status (1, 6, 7), said as `error:` and `hint:`; nothing was
    /// written to the API.
    Refused {
        status: ExitStatus,
        message: String,
        hint: Option<String>,
    },
}

impl From<PlanFailure> for Stop {
    fn from(failure: PlanFailure) -> Stop {
        match failure {
            PlanFailure::Invalid(diagnostics) => Stop::Invalid(diagnostics),
            PlanFailure::Error(e) => Stop::Error(e),
        }
    }
}

fn refused(status: ExitStatus, message: impl Into<String>, hint: impl Into<String>) -> Stop {
    Stop::Refused {
        status,
        message: message.into(),
        hint: Some(hint.into()),
    }
}

impl From<StalePlan> for Stop {
    fn from(stale: StalePlan) -> Stop {
        refused(ExitStatus::StalePlan, stale.to_string(), stale.hint())
    }
}

impl From<SavedPlanError> for Stop {
    fn from(error: SavedPlanError) -> Stop {
        match error.hint() {
            Some(hint) => refused(ExitStatus::Failure, error.to_string(), hint),
            None => Stop::Error(error.into()),
        }
    }
}

async fn apply(
    global: &GlobalArgs,
    args: &ApplyArgs,
    printer: &Printer,
    outcome: &mut RunReport,
) -> Result<ExitStatus, Stop> {
    let mut rotations = parse_rotations(&args.rotate)?;
    let _lock = take_lock(args, printer).await?;
    let prepared = prepare(global, args, &rotations, printer, outcome).await?;
    let Prepared {
        manifests,
        connection,
        live,
        plan,
        prune,
        answers,
    } = prepared;
    outcome.plan_summary = Some(render::summary(&plan));
    let shown = render::text(
        &plan,
        &render::TextOptions {
            color: printer.stdout_color,
            show_calls: false,
        },
    );
    printer.data(&shown).map_err(|e| Stop::Error(e.into()))?;

    let settings = GateSettings {
        prune: args.prune,
        max_deletes: args.max_deletes,
        allow_replace: args.allow_replace,
    };
    let refusals = gates::gates(&plan, &live, &settings);
    for refusal in &refusals {
        printer.error(&refusal.message, Some(&refusal.hint));
    }
    outcome.refusals = refusals.clone();
    if !plan.errors.is_empty() {
        explain_failure(&plan, printer);
        return Ok(ExitStatus::Failure);
    }
    if !refusals.is_empty() {
        printer.error(&gates::refused_by(refusals.len()), None);
        return Ok(ExitStatus::Refused);
    }
    outcome.unknown = plan.unknown.clone();
    if !plan.unknown.is_empty() {
        printer.note(&format!(
            "warning: {} could not be read: nothing is applied there, and apply will exit 1",
            render::plural(plan.unknown.len(), "scope", "scopes")
        ));
    }
    // Users whose password the sink does not hold: reset when a run's intent says it reached
    // nobody, else named with the command that resets them on purpose.
    let unknown = engine::passwords_unknown(
        &args.secrets_dir,
        connection.client.endpoint(),
        &manifests,
        &live,
    );
    for unknown in &unknown {
        printer.note(&if unknown.intent {
            report::apply::lost_password_warning(&unknown.address, &args.secrets_dir)
        } else {
            report::plan::password_warning(unknown, &args.secrets_dir, &args.target)
        });
    }
    let lost = rotation::add_lost(&mut rotations, &unknown);
    // Nothing to write may still be something to wait for: a managed object an earlier
    // (killed) run left CREATING is waited for within --timeout, never reported done early.
    if !plan.is_unsettled() && rotations.is_empty() {
        return Ok(if plan.unknown.is_empty() {
            ExitStatus::Success
        } else {
            explain_failure(&plan, printer);
            ExitStatus::Failure
        });
    }
    confirm(args, plan.has_changes(), printer).await?;

    let options = ExecuteOptions {
        parallelism: global.parallelism as usize,
        timeout: args.timeout,
        secrets_dir: args.secrets_dir.clone(),
        answers: Some(answers.clone()),
        ..ExecuteOptions::default()
    };
    let client = &connection.client;
    let parallelism = global.parallelism as usize;
    let mut report = ApplyReport::default();
    let mut after = live.clone();
    if plan.is_unsettled() {
        let env = |name: &str| std::env::var(name).ok();
        let progress = progress::for_stderr(printer.stderr_is_terminal());
        report = engine::execute(
            client,
            &plan,
            &manifests,
            &live,
            &options,
            &env,
            progress.as_ref(),
        )
        .await;
        drop(progress);
        after = verify::read_again(client, &manifests, parallelism, prune, &answers).await;
    }
    for address in &rotations {
        if let Some(because) = rotation::blocked(&report, &manifests, address) {
            report.steps.push(StepReport {
                address: address.clone(),
                action: Action::Update,
                outcome: StepOutcome::Skipped { because },
                live_id: None,
                elapsed_ms: 0,
                adopted: false,
                warnings: Vec::new(),
                resumed: false,
            });
            continue;
        }
        let why = if lost.contains(address) {
            "its password reached nobody"
        } else {
            "--rotate"
        };
        printer.note(&format!("~ {address}: resetting the password ({why})"));
        let mut step = engine::rotate(client, &manifests, &after, address, &options).await;
        if lost.contains(address) && step.outcome == StepOutcome::Done {
            step.warnings.push(
                "an earlier run created it and stopped before storing its password: it was \
                 reset and stored"
                    .to_string(),
            );
        }
        if step.outcome == StepOutcome::Done {
            let path = engine::secrets_path(
                &options.secrets_dir,
                client.endpoint(),
                address,
                step.live_id.as_deref().unwrap_or_default(),
            );
            printer.note(&format!(
                "~ {address}: password reset in {}, the new one is in {}",
                human(Duration::from_millis(step.elapsed_ms)),
                path.display()
            ));
            if !report.secrets_written.contains(&path) {
                report.secrets_written.push(path);
            }
        } else {
            printer.note(&progress::finished_line(&step));
        }
        report.steps.push(step);
    }
    outcome.executed = true;

    let verification = verify::after_run(&plan, &report, &manifests, &after, prune);
    let (status, exit) = decide(&report, &verification, !plan.unknown.is_empty());
    outcome.status = Some(exit);
    outcome.run_status = Some(status);
    printer.note("");
    printer.note(&summary_text(&report, &verification));
    if let Some((message, hint)) = exit_reason(status, &report, &verification, args.timeout) {
        printer.error(&message, Some(hint));
    }
    outcome.report = report;
    outcome.verification = verification;
    Ok(exit)
}

/// The run lock (`apply::lock`), held until apply returns: a second apply in this directory
/// waits up to `--lock-timeout`, then fails (exit 1) naming the holder.
async fn take_lock(args: &ApplyArgs, printer: &Printer) -> Result<lock::RunLock, Stop> {
    let path = Path::new(lock::LOCK_PATH);
    let waiting = |holder: &lock::Holder| {
        printer.note(&format!(
            "waiting up to {} for the run lock {} ({holder})",
            humantime::format_duration(args.lock_timeout),
            path.display()
        ))
    };
    lock::acquire(path, args.lock_timeout, waiting)
        .await
        .map_err(|err| match err {
            lock::LockError::Held { .. } => refused(
                ExitStatus::Failure,
                format!("{err}; it may still be running"),
                "wait for it to end, or pass --lock-timeout 30m to wait for it; a lock held by                  a process on another host that is gone: remove .reconcile/lock",
            ),
            other => Stop::Error(other.into()),
        })
}

/// What apply runs: the manifests, the connection, the live state read now, and the plan.
struct Prepared {
    manifests: ManifestSet,
    connection: super::client::Connection,
    live: LiveState,
    plan: Plan,
    /// The plan's `--prune` (verification plans again with it).
    prune: bool,
    /// The answers of this run (the read's, then the engine's), so the read after the run
    /// asks only for what changed.
    answers: Arc<Answers>,
}

/// Loads the manifests (and checks `--rotate` against them before any API call), connects,
/// reads, and plans or checks the saved plan.
async fn prepare(
    global: &GlobalArgs,
    args: &ApplyArgs,
    rotations: &[Address],
    printer: &Printer,
    outcome: &mut RunReport,
) -> Result<Prepared, Stop> {
    let target = &args.target;
    if !saved::is_saved_plan(target) {
        let manifests = load_manifests(target)?;
        check_rotations(rotations, &manifests)?;
        let answers = Arc::new(Answers::default());
        let (connection, live) = connect_and_read(
            global,
            &args.client,
            &manifests,
            args.prune,
            Some(&answers),
            printer,
        )
        .await?;
        let plan = plan::plan(&manifests, &live, &PlanOptions { prune: args.prune });
        return Ok(Prepared {
            manifests,
            connection,
            live,
            plan,
            prune: args.prune,
            answers,
        });
    }
    let saved = saved::read(target)?;
    let manifests = load_manifests(&saved.manifests)?;
    check_rotations(rotations, &manifests)?;
    let answers = Arc::new(Answers::default());
    let (connection, live) = connect_and_read(
        global,
        &args.client,
        &manifests,
        saved.prune,
        Some(&answers),
        printer,
    )
    .await?;
    // The identity is asked of the API only when the plan recorded one to compare with.
    let checked = match saved::recorded_identity(target, saved.identity.as_ref()) {
        Ok(recorded) => {
            let now = ApiIdentity::of(&connection.client).await;
            saved::check_identity(target, recorded, &now)
        }
        Err(unsaid) => Err(unsaid),
    };
    let now = plan::plan(&manifests, &live, &PlanOptions { prune: saved.prune });
    let checked = checked
        .and_then(|()| saved::check_live(target, &saved.plan, &live, &manifests))
        .and_then(|()| saved::check_changes(target, &saved.manifests, &saved.plan, &now));
    if let Err(stale) = checked {
        outcome.stale = stale.items();
        return Err(stale.into());
    }
    Ok(Prepared {
        manifests,
        connection,
        live,
        // The plan made now, shown equal to the saved one above: its calls are typed (a saved
        // plan's are read back only to be compared).
        plan: now,
        prune: saved.prune,
        answers,
    })
}

/// `--rotate KIND/NAME` values, parsed (only `DatabaseUser` has a password to reset).
fn parse_rotations(values: &[String]) -> Result<Vec<Address>, Stop> {
    values
        .iter()
        .map(|value| {
            let parsed = value.split_once('/').and_then(|(kind, name)| {
                let kind: Kind = kind.parse().ok()?;
                (!name.is_empty()).then(|| Address {
                    kind,
                    name: name.to_string(),
                })
            });
            match parsed {
                Some(address) if rotation::rotatable(&address) => Ok(address),
                Some(address) => Err(refused(
                    ExitStatus::Failure,
                    format!("--rotate {address}: only a DatabaseUser's password can be rotated"),
                    "a HostingDatabase password comes from fromEnv or fromFile: change it there",
                )),
                None => Err(refused(
                    ExitStatus::Failure,
                    format!("--rotate {value:?} is not KIND/NAME"),
                    "e.g. --rotate DatabaseUser/orders-app",
                )),
            }
        })
        .collect()
}

fn check_rotations(rotations: &[Address], manifests: &ManifestSet) -> Result<(), Stop> {
    match rotation::unnamed(rotations, manifests) {
        Some(address) => Err(refused(
            ExitStatus::Failure,
            format!("--rotate {address}: no manifest names it"),
            "name a DatabaseUser of the manifests (KIND/metadata.name)",
        )),
        None => Ok(()),
    }
}

/// Asks on a terminal; elsewhere `--yes` is required.
async fn confirm(args: &ApplyArgs, changes: bool, printer: &Printer) -> Result<(), Stop> {
    let question = match gates::confirmation(args.yes, std::io::stdin().is_terminal(), changes) {
        Confirmation::Given => return Ok(()),
        Confirmation::Refused => {
            let (message, hint) = gates::NOT_A_TERMINAL;
            return Err(refused(ExitStatus::Failure, message, hint));
        }
        Confirmation::Ask(question) => question,
    };
    eprint!("{question}");
    let answer = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map(|_| line)
    })
    .await
    .map_err(|e| Stop::Error(e.into()))?
    .map_err(|e| Stop::Error(anyhow::Error::new(e).context("cannot read the answer")))?;
    if gates::accepted(&answer) {
        Ok(())
    } else {
        printer.note("");
        Err(Stop::Refused {
            status: ExitStatus::Failure,
            message: gates::CANCELLED.to_string(),
            hint: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(kind: Kind, name: &str) -> Address {
        Address {
            kind,
            name: name.to_string(),
        }
    }

    #[test]
    fn rotations_name_database_users_only() {
        let parsed = parse_rotations(&["DatabaseUser/orders-app".into()])
            .ok()
            .unwrap();
        assert_eq!(parsed, [address(Kind::DatabaseUser, "orders-app")]);
        for bad in [
            "orders-app",
            "DatabaseUser/",
            "Nope/x",
            "DatabaseService/orders-db",
        ] {
            assert!(
                matches!(
                    parse_rotations(&[bad.into()]),
                    Err(Stop::Refused {
                        status: ExitStatus::Failure,
                        ..
                    })
                ),
                "{bad}"
            );
        }
    }
}
