//! `reconcile plan DIR`: validate, read the live state the manifests touch, print what differs.
//!
//! The steps are shared with `drift` (`make_plan`): load the manifests (diagnostics on stderr
//! and no API call when they are invalid), connect, read the live state, plan. Only the
//! rendering and the exit code differ. stdout carries the plan and nothing else; progress,
//! errors and hints go to stderr (`Printer`).
//!
//! `--format json` and `--out` add `manifests` (the manifest path as given, which
//! `reconcile apply plan.json` loads again), `prune` and `identity` (the endpoint, the
//! application key or OAuth2 client, the account: `apply::identity`) to the JSON plan
//! (`apply::saved::to_json`; see docs/apply.md).
//!
//! Exit codes: 0 no changes (or changes without `--detailed-exitcode`), 2 changes (or managed
//! objects still in progress) with `--detailed-exitcode`, 1 on an error, when the plan has errors (preflight) or when a scope
//! could not be read (the plan is incomplete; it is still printed).

use super::client::{connect, ClientArgs, Connection};
use super::{ExitStatus, GlobalArgs};
use crate::apply::identity::ApiIdentity;
use crate::apply::saved;
use crate::live::LiveState;
use crate::manifest::{self, Diagnostics, ManifestSet};
use crate::plan::{self, render, Plan, PlanOptions};
use crate::report::{self, Printer};
use anyhow::Context;
use clap::{Args, ValueEnum};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Directory of manifests (*.yaml, *.yml, walked recursively), or one file
    pub dir: PathBuf,

    /// Output format; all three carry the same content
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Also save the plan as JSON, with a digest of every live object it was based on (for
    /// `reconcile apply plan.json`)
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// List the exact HTTP calls apply would make (method, path, redacted body)
    #[arg(long)]
    pub show_calls: bool,

    /// Exit 2 when there are changes or managed objects still in progress (0 when none, 1 on
    /// error)
    #[arg(long)]
    pub detailed_exitcode: bool,

    /// Also plan deletes of live objects no manifest names, in the scopes the manifests manage
    #[arg(long)]
    pub prune: bool,

    /// Where apply stores generated passwords: users that exist with none stored there are
    /// named, with the command that resets them
    #[arg(long, default_value = ".reconcile/secrets", value_name = "DIR")]
    pub secrets_dir: PathBuf,

    #[command(flatten)]
    pub client: ClientArgs,
}

pub async fn run(global: &GlobalArgs, args: PlanArgs) -> anyhow::Result<ExitStatus> {
    let printer = Printer::new(global.no_color);
    let made = make_plan_on(global, &args.client, &args.dir, args.prune, &printer).await;
    let Made {
        connection,
        manifests,
        live,
        plan,
    } = match made {
        Ok(made) => made,
        Err(PlanFailure::Invalid(diagnostics)) => {
            printer.diagnostics(&diagnostics);
            return Ok(ExitStatus::Failure);
        }
        Err(PlanFailure::Error(e)) => return Err(e),
    };
    // A plan that may be applied later records which API and account it belongs to.
    let identity = if args.out.is_some() || args.format == Format::Json {
        Some(ApiIdentity::of(&connection.client).await)
    } else {
        None
    };
    let saved = saved::to_json(&plan, &args.dir, args.prune, identity.as_ref());
    for unknown in crate::engine::passwords_unknown(
        &args.secrets_dir,
        connection.client.endpoint(),
        &manifests,
        &live,
    ) {
        printer.note(&report::plan::password_warning(
            &unknown,
            &args.secrets_dir,
            &args.dir,
        ));
    }
    let shown = match args.format {
        Format::Text => render::text(
            &plan,
            &render::TextOptions {
                color: printer.stdout_color,
                show_calls: args.show_calls,
            },
        ),
        Format::Json => pretty_json(&saved),
        Format::Markdown => render::markdown(&plan, args.show_calls),
    };
    printer.data(&shown)?;
    if let Some(path) = &args.out {
        write_file(path, &pretty_json(&saved))?;
        printer.progress(&format!("plan saved to {}", path.display()));
    }
    Ok(plan_status(&plan, args.detailed_exitcode, &printer))
}

/// The exit status of a printed plan; says on stderr why it is 1.
fn plan_status(plan: &Plan, detailed_exitcode: bool, printer: &Printer) -> ExitStatus {
    explain_failure(plan, printer);
    report::plan::exit_status(plan, detailed_exitcode)
}

/// Says on stderr why a plan cannot be trusted or applied (preflight errors, unknown scopes);
/// true when there is such a reason, which makes the exit code 1.
pub(super) fn explain_failure(plan: &Plan, printer: &Printer) -> bool {
    let reasons = report::plan::failure_reasons(plan);
    for (message, hint) in &reasons {
        printer.error(message, Some(hint));
    }
    !reasons.is_empty()
}

/// Why no plan could be made.
pub(super) enum PlanFailure {
    /// The manifests are invalid: nothing was read from the API.
    Invalid(Diagnostics),
    /// Connecting failed (credentials, endpoint, the in-process sandbox).
    Error(anyhow::Error),
}

/// Load, connect, read, plan: the steps `plan` and `drift` share (`apply` runs them one by
/// one: `load_manifests`, then `connect_and_read`, then `plan::plan`).
pub(super) async fn make_plan(
    global: &GlobalArgs,
    client: &ClientArgs,
    dir: &Path,
    prune: bool,
    printer: &Printer,
) -> Result<Plan, PlanFailure> {
    make_plan_on(global, client, dir, prune, printer)
        .await
        .map(|made| made.plan)
}

/// A plan and what it was made from.
struct Made {
    connection: Connection,
    manifests: ManifestSet,
    live: LiveState,
    plan: Plan,
}

/// `make_plan`, with the connection, manifests and live state it was made from.
async fn make_plan_on(
    global: &GlobalArgs,
    client: &ClientArgs,
    dir: &Path,
    prune: bool,
    printer: &Printer,
) -> Result<Made, PlanFailure> {
    let manifests = load_manifests(dir)?;
    let (connection, live) =
        connect_and_read(global, client, &manifests, prune, None, printer).await?;
    let plan = plan::plan(&manifests, &live, &PlanOptions { prune });
    Ok(Made {
        connection,
        manifests,
        live,
        plan,
    })
}

/// The manifests under `dir`, `${VAR}` read from the process environment.
pub(super) fn load_manifests(dir: &Path) -> Result<ManifestSet, PlanFailure> {
    let env = |name: &str| std::env::var(name).ok();
    manifest::load(dir, &env).map_err(PlanFailure::Invalid)
}

/// Connects (the endpoint from the flags, the environment, then `endpoint:` in
/// `reconcile.yaml`, then `ovh.conf`) and reads the live state the manifests touch. The
/// connection is returned to keep using it (and, with `--sandbox`, to keep the in-process
/// sandbox alive). With `prune`, the users of services no manifest names are read too, so a
/// pruning plan deletes them first.
pub(super) async fn connect_and_read(
    global: &GlobalArgs,
    client: &ClientArgs,
    manifests: &ManifestSet,
    prune: bool,
    answers: Option<&crate::live::Answers>,
    printer: &Printer,
) -> Result<(Connection, LiveState), PlanFailure> {
    // `endpoint:` in reconcile.yaml comes after --endpoint and OVH_ENDPOINT, before ovh.conf.
    let global = GlobalArgs {
        endpoint: global
            .endpoint
            .clone()
            .or_else(|| manifests.defaults.endpoint.clone()),
        ..global.clone()
    };
    let connection = connect(&global, client).await.map_err(PlanFailure::Error)?;
    let scopes = crate::live::scopes(manifests);
    printer.progress(&format!(
        "reading the live state: {}",
        render::plural(scopes.len(), "scope", "scopes")
    ));
    let live = crate::live::read_with(
        &connection.client,
        manifests,
        global.parallelism as usize,
        prune,
        answers,
    )
    .await
    .map_err(|failure| PlanFailure::Error(failure.into()))?;
    tracing::debug!(calls = live.calls, "live state read");
    Ok((connection, live))
}

/// JSON as printed and saved: pretty, with a final newline.
pub(super) fn pretty_json(value: &serde_json::Value) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("a JSON value serializes");
    text.push('\n');
    text
}

/// Writes `text` to `path` whole or not at all (a temporary file beside it, then a rename).
pub(super) fn write_file(path: &Path, text: &str) -> anyhow::Result<()> {
    let name = path
        .file_name()
        .with_context(|| format!("cannot write {}: not a file name", path.display()))?;
    let mut temporary = name.to_os_string();
    temporary.push(".tmp");
    let temporary = path.with_file_name(temporary);
    std::fs::write(&temporary, text)
        .with_context(|| format!("cannot write {}", temporary.display()))?;
    std::fs::rename(&temporary, path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
