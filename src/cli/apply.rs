//! `reconcile apply DIR | plan.json`: plan (or load a saved plan), show it, pass the safety
//! gates, confirm (TTY) or `--yes`, execute in dependency order, wait for READY, re-read and
//! verify convergence.
//!
//! The steps, each a function below:
//! 1. `prepare`: a directory is planned exactly as `plan` does (`load_manifests`,
//!    `connect_and_read`, `plan::plan`); a `.json` file is a plan saved by `plan --out`: its
//!    manifests (`manifests` in the JSON) are loaded again and the live state read again, and
//!    the plan is refused as stale (exit 7) when a live object's digest changed
//!    (`plan::stale_keys`) or when the manifests no longer give the same changes.
//! 2. The plan goes to stdout, like `plan`'s.
//! 3. `gates`: refusals before any write (exit 6): a delete without `--prune`, more deletes
//!    than `--max-deletes`, a delete or replace of a protected service, a replace of a
//!    database service or hosting database without `--allow-replace`. A plan with errors
//!    (preflight) is exit 1.
//! 4. `confirm`: `yes` on a terminal, else `--yes`.
//! 5. `engine::execute` with progress on stderr (`progress`), then `--rotate`.
//! 6. `verify`: the live state is read again and planned again: a change still planned for a
//!    resource whose step is done is non-converging (the values sent and read back).
//! 7. The summary on stderr, `--out-report`, and the exit status (`decide`).
//!
//! Unknown scopes (a read that failed) do not stop the run: nothing is planned there, so the
//! rest is applied, and the run exits 1 at the end, listing them. Secrets never pass through
//! here: the plan holds none, the engine writes generated ones to the secrets directory and
//! reports paths only.

use super::client::ClientArgs;
use super::identity::{ApiIdentity, IDENTITY_KEY};
use super::plan::{
    connect_and_read, explain_failure, load_manifests, pretty_json, write_file, PlanFailure,
    Printer, MANIFESTS_KEY, PRUNE_KEY,
};
use super::progress::{self, human};
use super::{ExitStatus, GlobalArgs};
use crate::engine::{self, ApplyReport, ExecuteOptions, StepOutcome, StepReport};
use crate::live::{Answers, LiveScope, LiveState, ScopeState, UsersState};
use crate::manifest::model::{Address, Kind, ManifestSet};
use crate::plan::model::{Action, Change, Plan, PlanOptions, UnknownScope, PLAN_FORMAT};
use crate::plan::{self, render};
use clap::Args;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
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

/// The format version of `--out-report`.
pub const APPLY_REPORT_FORMAT: &str = "reconcile-apply-report/1";

pub async fn run(global: &GlobalArgs, args: ApplyArgs) -> anyhow::Result<ExitStatus> {
    let printer = Printer::new(global);
    let mut outcome = Outcome::default();
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

async fn apply(
    global: &GlobalArgs,
    args: &ApplyArgs,
    printer: &Printer,
    outcome: &mut Outcome,
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
    printer.data(&shown).map_err(Stop::Error)?;

    let settings = GateSettings {
        prune: args.prune,
        max_deletes: args.max_deletes,
        allow_replace: args.allow_replace,
    };
    let refusals = gates(&plan, &live, &settings);
    for refusal in &refusals {
        printer.error(&refusal.message, Some(&refusal.hint));
    }
    outcome.refusals = refusals.clone();
    if !plan.errors.is_empty() {
        explain_failure(&plan, printer);
        return Ok(ExitStatus::Failure);
    }
    if !refusals.is_empty() {
        printer.error(
            &format!(
                "apply refused by {}: nothing was changed",
                render::plural(refusals.len(), "safety gate", "safety gates")
            ),
            None,
        );
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
    let mut lost = BTreeSet::new();
    for unknown in engine::passwords_unknown(
        &args.secrets_dir,
        connection.client.endpoint(),
        &manifests,
        &live,
    ) {
        if unknown.intent {
            printer.note(&format!(
                "warning: {}: an earlier run created it and stopped before storing its password \
                 (an intent in {}): it is reset and stored by this run",
                unknown.address,
                args.secrets_dir.display()
            ));
            if !rotations.contains(&unknown.address) {
                rotations.push(unknown.address.clone());
            }
            lost.insert(unknown.address);
        } else {
            printer.note(&format!(
                "warning: {} exists and no password for it is stored in {}: to get one, run \
                 reconcile apply {} --rotate {}",
                unknown.address,
                args.secrets_dir.display(),
                args.target.display(),
                unknown.address
            ));
        }
    }
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
        after = read_again(client, &manifests, parallelism, prune, &answers).await;
    }
    for address in &rotations {
        if let Some(because) = blocked(&report, &manifests, address) {
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

    let verification = if plan.has_changes() {
        let replan = plan::plan(&manifests, &after, &PlanOptions { prune });
        verify(&plan, &report, &replan)
    } else {
        Verification::default()
    };
    let (status, exit) = decide(&report, &verification, !plan.unknown.is_empty());
    outcome.status = Some(exit);
    outcome.run_status = Some(status);
    printer.note("");
    printer.note(&summary_text(&report, &verification));
    explain_exit(status, &report, &verification, args, printer);
    outcome.report = report;
    outcome.verification = verification;
    Ok(exit)
}

/// The run lock (`cli::lock`), held until apply returns: a second apply in this directory
/// waits up to `--lock-timeout`, then fails (exit 1) naming the holder.
async fn take_lock(args: &ApplyArgs, printer: &Printer) -> Result<super::lock::RunLock, Stop> {
    let path = Path::new(super::lock::LOCK_PATH);
    let waiting = |holder: &super::lock::Holder| {
        printer.note(&format!(
            "waiting up to {} for the run lock {} ({holder})",
            humantime::format_duration(args.lock_timeout),
            path.display()
        ))
    };
    super::lock::acquire(path, args.lock_timeout, waiting)
        .await
        .map_err(|err| match err {
            super::lock::LockError::Held { .. } => refused(
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
    outcome: &mut Outcome,
) -> Result<Prepared, Stop> {
    let target = &args.target;
    let is_saved_plan = target.is_file()
        && target
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if !is_saved_plan {
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
    let saved = read_saved_plan(target)?;
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
    check_identity(target, saved.identity.as_ref(), &connection.client, outcome).await?;
    let stale = plan::stale_keys(&saved.plan, &live);
    if !stale.is_empty() {
        let objects: Vec<String> = stale
            .iter()
            .map(|key| describe_key(key, &saved.plan, &live, &manifests))
            .collect();
        outcome.stale = objects.clone();
        return Err(refused(
            ExitStatus::StalePlan,
            format!(
                "the saved plan {} is stale: {} changed since it was made:\n  {}",
                target.display(),
                render::plural(stale.len(), "live object", "live objects"),
                objects.join("\n  ")
            ),
            "plan again (reconcile plan DIR --out plan.json), review it, then apply the new plan",
        ));
    }
    let now = plan::plan(&manifests, &live, &PlanOptions { prune: saved.prune });
    let differ = differing_changes(&saved.plan, &now);
    if !differ.is_empty() {
        outcome.stale = differ.clone();
        return Err(refused(
            ExitStatus::StalePlan,
            format!(
                "the saved plan {} is stale: the manifests in {} no longer give the same changes \
                 for {}",
                target.display(),
                saved.manifests.display(),
                differ.join(", ")
            ),
            "plan again (reconcile plan DIR --out plan.json), review it, then apply the new plan",
        ));
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

/// A plan saved by `plan --out`, and what it was made from.
struct SavedPlan {
    plan: Plan,
    manifests: PathBuf,
    prune: bool,
    /// The API and account it was made against (`None`: saved by a version that did not say).
    identity: Option<ApiIdentity>,
}

/// Refuses a saved plan (exit 7) made against another endpoint, with another credential or
/// for another account than this run's connection, or that does not say.
async fn check_identity(
    target: &Path,
    saved: Option<&ApiIdentity>,
    client: &crate::ovh::Client,
    outcome: &mut Outcome,
) -> Result<(), Stop> {
    let hint = "plan again against this API (reconcile plan DIR --out plan.json), review it, then apply the new plan";
    let Some(saved) = saved else {
        let message = format!(
            "the saved plan {} does not say which API and account it was made against (`{IDENTITY_KEY}`)",
            target.display()
        );
        outcome.stale = vec![message.clone()];
        return Err(refused(ExitStatus::StalePlan, message, hint));
    };
    let now = ApiIdentity::of(client).await;
    let mismatches = saved.mismatches(&now);
    if mismatches.is_empty() {
        return Ok(());
    }
    outcome.stale = mismatches.clone();
    Err(refused(
        ExitStatus::StalePlan,
        format!(
            "the saved plan {} belongs to another API or account; it differs in {}",
            target.display(),
            mismatches.join("; and in ")
        ),
        hint,
    ))
}

fn read_saved_plan(path: &Path) -> Result<SavedPlan, Stop> {
    let hint = "save a plan with `reconcile plan DIR --out plan.json`";
    let text = std::fs::read_to_string(path).map_err(|e| {
        Stop::Error(anyhow::Error::new(e).context(format!("cannot read {}", path.display())))
    })?;
    let value: Value = serde_json::from_str(&text).map_err(|e| {
        refused(
            ExitStatus::Failure,
            format!("{} is not a saved plan: {e}", path.display()),
            hint,
        )
    })?;
    if value["format"] != PLAN_FORMAT {
        return Err(refused(
            ExitStatus::Failure,
            format!(
                "{} is not a saved plan: its format is {}, not {PLAN_FORMAT:?}",
                path.display(),
                value["format"]
            ),
            hint,
        ));
    }
    let Some(manifests) = value[MANIFESTS_KEY].as_str().map(PathBuf::from) else {
        return Err(refused(
            ExitStatus::Failure,
            format!(
                "the saved plan {} does not say which manifests it was made from (`{MANIFESTS_KEY}`)",
                path.display()
            ),
            "save it again with `reconcile plan DIR --out plan.json`",
        ));
    };
    let prune = value[PRUNE_KEY].as_bool();
    let identity = serde_json::from_value::<ApiIdentity>(value[IDENTITY_KEY].clone()).ok();
    let plan: Plan = serde_json::from_value(value).map_err(|e| {
        refused(
            ExitStatus::Failure,
            format!("{} is not a saved plan: {e}", path.display()),
            hint,
        )
    })?;
    // A plan saved before `prune` was recorded: it was made with --prune if it deletes.
    let prune = prune.unwrap_or_else(|| {
        plan.changes
            .iter()
            .any(|c| matches!(c.action, Action::Delete { .. }))
    });
    Ok(SavedPlan {
        plan,
        manifests,
        prune,
        identity,
    })
}

/// The resources whose change (action, fields and calls, as the JSON plan shows them) differs
/// between a saved plan and the plan made now from the same live state.
fn differing_changes(saved: &Plan, now: &Plan) -> Vec<String> {
    let shown = |plan: &Plan| -> BTreeMap<String, Value> {
        render::json(plan)["changes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                let key = c["resource"].as_str().unwrap_or_default().to_string();
                (key, json!([c["action"], c["fields"], c["calls"]]))
            })
            .collect()
    };
    let (saved, now) = (shown(saved), shown(now));
    saved
        .keys()
        .chain(now.keys())
        .filter(|key| saved.get(*key) != now.get(*key))
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// A digest key of `plan::live_digests` with, where it can be told, what it is.
fn describe_key(key: &str, plan: &Plan, live: &LiveState, manifests: &ManifestSet) -> String {
    let parts: Vec<&str> = key.split('/').collect();
    let named = |kind: Kind, name: &str| {
        let address = Address {
            kind,
            name: name.to_string(),
        };
        manifests.get(&address).map(|_| address.to_string())
    };
    let planned = |id: &str| {
        plan.changes
            .iter()
            .find(|c| c.live_id.as_deref() == Some(id))
            .map(|c| c.address.to_string())
    };
    let label = match parts.as_slice() {
        ["database", project, engine] => {
            Some(format!("the {engine} services of project {project}"))
        }
        ["database", project, engine, id] => planned(id).or_else(|| {
            service(live, project, engine, id).map(|s| {
                named(Kind::DatabaseService, &s.description)
                    .unwrap_or_else(|| format!("service {:?}", s.description))
            })
        }),
        ["database", _, _, id, "user"] => Some(format!("the users of service {id}")),
        ["database", project, engine, id, "user", user] => planned(user).or_else(|| {
            let service = service(live, project, engine, id)?;
            let Some(UsersState::Known { users }) = &service.users else {
                return None;
            };
            let user = users.iter().find(|u| u.id == *user)?;
            Some(format!(
                "user {:?} of service {:?}",
                user.username, service.description
            ))
        }),
        ["hosting", hosting, "attachedDomain"] => {
            Some(format!("the attached domains of {hosting}"))
        }
        ["hosting", _, "attachedDomain", domain] => {
            planned(domain).or_else(|| Some(format!("attached domain {domain}")))
        }
        ["hosting", hosting, "ssl"] => Some(format!("the SSL certificate of {hosting}")),
        ["hosting", hosting, "database"] => Some(format!("the databases of {hosting}")),
        ["hosting", _, "database", name] => {
            planned(name).or_else(|| Some(format!("hosting database {name}")))
        }
        ["stackMysql"] => Some("the managed MySQL stacks".to_string()),
        ["stackMysql", id] => planned(id),
        _ => None,
    };
    match label {
        Some(label) => format!("{key} ({label})"),
        None => key.to_string(),
    }
}

/// The live service `id` of a known database scope.
fn service<'a>(
    live: &'a LiveState,
    project: &str,
    engine: &str,
    id: &str,
) -> Option<&'a crate::live::LiveService> {
    live.database_services(project, engine)?
        .iter()
        .find(|s| s.id == id)
}

/// The live service with this id, in any known database scope.
fn service_by_id<'a>(live: &'a LiveState, id: &str) -> Option<&'a crate::live::LiveService> {
    live.scopes.values().find_map(|state| match state {
        ScopeState::Known(LiveScope::Database { services }) => services.iter().find(|s| s.id == id),
        _ => None,
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
                Some(address) if address.kind == Kind::DatabaseUser => Ok(address),
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
    match rotations.iter().find(|a| manifests.get(a).is_none()) {
        Some(address) => Err(refused(
            ExitStatus::Failure,
            format!("--rotate {address}: no manifest names it"),
            "name a DatabaseUser of the manifests (KIND/metadata.name)",
        )),
        None => Ok(()),
    }
}

/// Why a rotation cannot run: the user's own step, or its service's, did not finish.
fn blocked(report: &ApplyReport, manifests: &ManifestSet, user: &Address) -> Option<Address> {
    let mut addresses = vec![user.clone()];
    if let Some(crate::manifest::Spec::DatabaseUser(spec)) = manifests.get(user).map(|r| &r.spec) {
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

/// The live state read again after the run; once more when a scope that could be read before
/// cannot now (a 5xx burst must not pass for a non-converging run). `answers` hold what the
/// run already knows to be current (`live::Answers`): only the rest is asked for.
async fn read_again(
    client: &crate::ovh::Client,
    manifests: &ManifestSet,
    parallelism: usize,
    prune: bool,
    answers: &Answers,
) -> LiveState {
    let live = crate::live::read_with(client, manifests, parallelism, prune, Some(answers)).await;
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

/// Asks on a terminal; elsewhere `--yes` is required.
async fn confirm(args: &ApplyArgs, changes: bool, printer: &Printer) -> Result<(), Stop> {
    if args.yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(refused(
            ExitStatus::Failure,
            "stdin is not a terminal: pass --yes",
            "review the plan above (or `reconcile plan`), then run apply with --yes",
        ));
    }
    let question = if changes {
        "Apply these changes? Only 'yes' is accepted: "
    } else {
        "Reset these passwords? Only 'yes' is accepted: "
    };
    eprint!("{question}");
    let answer = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map(|_| line)
    })
    .await
    .map_err(|e| Stop::Error(e.into()))?
    .map_err(|e| Stop::Error(anyhow::Error::new(e).context("cannot read the answer")))?;
    if answer.trim() == "yes" {
        Ok(())
    } else {
        printer.note("");
        Err(Stop::Refused {
            status: ExitStatus::Failure,
            message: "apply cancelled: nothing was changed".to_string(),
            hint: None,
        })
    }
}

/// What the flags allow.
#[derive(Debug, Clone)]
pub(crate) struct GateSettings {
    pub prune: bool,
    pub max_deletes: usize,
    pub allow_replace: bool,
}

/// One safety gate that refuses the plan, with how to lift it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Refusal {
    pub gate: &'static str,
    pub message: String,
    pub hint: String,
}

/// Every gate the plan does not pass (all of them, not the first), before any write.
pub(crate) fn gates(plan: &Plan, live: &LiveState, settings: &GateSettings) -> Vec<Refusal> {
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
        if change.address.kind != Kind::DatabaseService {
            continue;
        }
        let protected = change
            .live_id
            .as_deref()
            .and_then(|id| service_by_id(live, id))
            .is_some_and(|s| s.deletion_protection == Some(true));
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
            if !matches!(
                change.address.kind,
                Kind::DatabaseService | Kind::HostingDatabase
            ) {
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

/// What the re-read after the run found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Verification {
    /// Resources whose step is done but whose live object still differs.
    pub non_converging: Vec<NonConverging>,
    /// Scopes that could not be read again: their resources are not verified.
    pub unverified: Vec<UnknownScope>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NonConverging {
    pub resource: String,
    /// What the plan made after the run would still do.
    pub action: &'static str,
    pub fields: Vec<SentAndRead>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SentAndRead {
    pub path: String,
    /// The manifest's value, as sent (`None`: the field should be absent).
    pub sent: Option<Value>,
    /// The value read back after the run (`None`: absent).
    pub read_back: Option<Value>,
}

/// The plan made after the run (`replan`) against what ran: every change it still plans for
/// a resource whose step is done, or that was unchanged, is non-converging. Resources whose
/// step failed, was skipped or is still in progress are expected to differ, and so are those
/// of scopes that could not be read.
pub(crate) fn verify(planned: &Plan, report: &ApplyReport, replan: &Plan) -> Verification {
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

/// How a run that executed ended, in the report's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RunStatus {
    Converged,
    PartiallyApplied,
    InProgress,
    NotConverged,
    Incomplete,
}

impl RunStatus {
    fn as_str(self) -> &'static str {
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
pub(crate) fn decide(
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
fn counts_line(report: &ApplyReport) -> String {
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
pub(crate) fn summary_text(report: &ApplyReport, verification: &Verification) -> String {
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

/// The `error:` and `hint:` lines that say why the exit status is not 0.
fn explain_exit(
    status: RunStatus,
    report: &ApplyReport,
    verification: &Verification,
    args: &ApplyArgs,
    printer: &Printer,
) {
    match status {
        RunStatus::Converged => {}
        RunStatus::PartiallyApplied => printer.error(
            &format!(
                "{} failed, {} skipped; the rest is done",
                render::plural(report.failed(), "step", "steps"),
                report.skipped()
            ),
            Some("fix what the failures say, then run apply again: it continues from here"),
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
            printer.error(
                &format!(
                    "the wait budget (--timeout {}) is spent while the API is still working on: {}",
                    humantime::format_duration(args.timeout),
                    waiting.join(", ")
                ),
                Some("run apply again: it finds them in progress and resumes waiting"),
            )
        }
        RunStatus::NotConverged => printer.error(
            &format!(
                "{} did not converge: the API took the changes but reads back other values",
                render::plural(verification.non_converging.len(), "resource", "resources")
            ),
            Some("run `reconcile plan` to see them; -v logs every call"),
        ),
        RunStatus::Incomplete => printer.error(
            "some scopes could not be read: nothing was applied or verified there",
            Some("run apply again once the API answers (-v logs every call)"),
        ),
    }
}

/// What `--out-report` writes, filled in as the run goes.
#[derive(Default)]
struct Outcome {
    status: Option<ExitStatus>,
    run_status: Option<RunStatus>,
    plan_summary: Option<String>,
    executed: bool,
    report: ApplyReport,
    verification: Verification,
    refusals: Vec<Refusal>,
    stale: Vec<String>,
    unknown: Vec<UnknownScope>,
}

impl Outcome {
    /// The report: `format`, `status`, `exitCode`, `summary`, `plan` (the plan's summary
    /// line), `counts`, then the engine's `steps` and `secretsWritten` (paths), and
    /// `nonConverging`, `unverified`, `unknown`, `refusals`, `stale`.
    fn json(&self) -> Value {
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
    use crate::live::{LiveService, LiveState, Scope, ScopeState};
    use crate::plan::model::FieldChange;

    fn address(kind: Kind, name: &str) -> Address {
        Address {
            kind,
            name: name.to_string(),
        }
    }

    fn change(kind: Kind, name: &str, action: Action, live_id: Option<&str>) -> Change {
        Change {
            address: address(kind, name),
            action,
            wave: 0,
            fields: Vec::new(),
            calls: Vec::new(),
            live_id: live_id.map(str::to_string),
            depends_on: Vec::new(),
        }
    }

    fn delete() -> Action {
        Action::Delete {
            reason: "no manifest names it".into(),
        }
    }

    fn replace(field: &str) -> Action {
        Action::Replace {
            forced_by: vec![field.into()],
        }
    }

    fn live_service(id: &str, protected: bool) -> LiveService {
        LiveService {
            id: id.into(),
            engine: "mongodb".into(),
            description: format!("svc-{id}"),
            status: "READY".into(),
            created_at: String::new(),
            plan: "production".into(),
            version: "7.0".into(),
            flavor: "db2-4".into(),
            node_count: 3,
            region: "GRA".into(),
            storage: None,
            network_id: None,
            subnet_id: None,
            ip_restrictions: Vec::new(),
            maintenance_time: None,
            deletion_protection: Some(protected),
            users: None,
            raw: Value::Null,
        }
    }

    fn live(services: Vec<LiveService>) -> LiveState {
        let mut live = LiveState::default();
        live.scopes.insert(
            Scope::Database {
                project: "p1".into(),
                engine: "mongodb".into(),
            },
            ScopeState::Known(LiveScope::Database { services }),
        );
        live
    }

    fn plan(changes: Vec<Change>) -> Plan {
        Plan {
            changes,
            ..Plan::default()
        }
    }

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

    fn step(kind: Kind, name: &str, action: Action, outcome: StepOutcome) -> StepReport {
        StepReport {
            address: address(kind, name),
            action,
            outcome,
            live_id: None,
            elapsed_ms: 1500,
            adopted: false,
            warnings: Vec::new(),
            resumed: false,
        }
    }

    fn failed() -> StepOutcome {
        StepOutcome::Failed {
            message: "the service is not ready".into(),
            status: Some(409),
            class: Some("Client::Conflict::ServiceNotReady".into()),
            query_id: Some("SB.ext-1.1.2.3".into()),
        }
    }

    fn in_progress() -> StepOutcome {
        StepOutcome::InProgress {
            last_status: "CREATING".into(),
        }
    }

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

    #[test]
    fn a_saved_plan_whose_manifests_give_other_changes_names_them() {
        let saved = plan(vec![
            change(Kind::DatabaseService, "a", Action::Create, None),
            change(Kind::DatabaseService, "b", Action::Update, Some("s1")),
        ]);
        let mut now = saved.clone();
        now.changes[1].fields.push(FieldChange {
            path: "spec.nodes.flavor".into(),
            old: Some(json!("db2-4")),
            new: Some(json!("db2-8")),
            sensitive: false,
            forces_replace: false,
        });
        now.changes
            .push(change(Kind::DatabaseUser, "c", Action::Create, None));
        assert_eq!(differing_changes(&saved, &saved), Vec::<String>::new());
        assert_eq!(
            differing_changes(&saved, &now),
            ["DatabaseService/b", "DatabaseUser/c"]
        );
    }

    #[test]
    fn stale_keys_are_named_after_what_they_digest() {
        let mut manifests = ManifestSet::default();
        manifests.resources.clear();
        let live = live(vec![live_service("s1", false)]);
        let plan = plan(vec![change(
            Kind::DatabaseService,
            "orders-db",
            Action::Update,
            Some("s2"),
        )]);
        let named = |key| describe_key(key, &plan, &live, &manifests);
        assert_eq!(
            named("database/p1/mongodb/s1"),
            "database/p1/mongodb/s1 (service \"svc-s1\")"
        );
        assert_eq!(
            named("database/p1/mongodb/s2"),
            "database/p1/mongodb/s2 (DatabaseService/orders-db)"
        );
        assert_eq!(
            named("database/p1/mongodb"),
            "database/p1/mongodb (the mongodb services of project p1)"
        );
        assert_eq!(named("something/else"), "something/else");
    }
}
