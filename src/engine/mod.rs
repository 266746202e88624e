//! Executes a `Plan`: waves in dependency order, independent steps in parallel under one rate
//! budget, readiness polling with deadlines, adoption of objects a previous run created,
//! secrets to the secrets sink, and a report of what happened to every step.
//!
//! Architecture invariant: apply executes exactly the changes of the plan it was given; a step
//! is idempotent (it looks its object up by identity before creating, and adopts it), and its
//! result is a value (`StepOutcome`), never a panic or an early return of the whole run.
//!
//! Architecture invariant: nothing in the engine depends on memory of an earlier run. Every
//! create looks its object up on the API first, so a run killed at any moment and started again
//! (with a fresh plan) converges with no duplicate: what the killed run created is adopted, what
//! it left transitional is waited for.
//!
//! Architecture invariant: a secret (a password from the API, a `fromEnv`/`fromFile` value) is
//! only ever in a request body or the secrets sink; never in a `StepReport`, a log line, an
//! error or progress.
//!
//! Map:
//! - `resume`: waits for unchanged resources still transitional after an earlier run;
//! - `schedule`: which change runs when (dependencies `Done`, `parallelism` slots, skips);
//! - `step`: one change, its planned calls (typed `family::Operation`s) in order, each handed to
//!   its family's `execute`; the create-once, busy-write and delete building blocks; ids made
//!   earlier in the run (`family::Id::Created`); secrets into bodies;
//! - `readiness`: `ReadinessPoll` (adaptive schedule, per-kind deadline cut by `--timeout`);
//! - `resume`: the waits for objects an earlier run left on their way (`Family::resume`);
//! - each API family says how to find, issue and wait in its folder
//!   (`family::<family>::engine`), with its calls, paths and identity rules (`crate::family`);
//! - `secrets`: the sink (`{Kind}-{name}.json`, `0600`, atomic) and the manifest secrets;
//! - `model`: what the engine is given and reports.
//!
//! Decisions (see `docs/engine.md`): IP restriction entries are part of their service, whose step
//! waits for them under its deadline (a stuck `PENDING` entry,
//! <https://github.com/ovh/terraform-provider-ovh/issues/533>, ends it in progress and the next run
//! resumes); a user adopted without a known password has it reset into the sink; a `POST` whose
//! outcome is unknown is followed by a lookup, and sent again only when the lookup shows nothing.

pub mod model;

pub(crate) mod readiness;
pub(crate) mod resume;
pub(crate) mod schedule;
pub(crate) mod secrets;
pub(crate) mod step;

pub use model::*;
pub use secrets::{endpoint_key, intent, resource_dir, secrets_path, Intent};

use crate::family::FAMILIES;
use crate::live::LiveState;
use crate::manifest::model::{Address, ManifestSet};
use crate::ovh::Client;
use crate::plan::{Action, Change, Plan};
use std::path::Path;
use std::time::Instant;

/// Executes `plan` against the API (see the module doc). `manifests` are the ones the plan was
/// made from (their secrets are read through `env` when a body needs them); `live` is the state
/// it was made against, from which the resources the plan leaves alone but the API is still
/// working on are waited for (reported `resumed`, after the plan's steps). Never fails as a
/// whole: every change ends with a `StepReport`, in plan order.
pub async fn execute(
    client: &Client,
    plan: &Plan,
    manifests: &ManifestSet,
    live: &LiveState,
    options: &ExecuteOptions,
    env: &(dyn Fn(&str) -> Option<String> + Sync),
    progress: &dyn Progress,
) -> ApplyReport {
    let run = step::Run::new(client, plan, manifests, options, env, progress);
    // The plan's changes, then waits for what the plan leaves alone but the API is still
    // working on (an earlier run's create that ran out of time): that is how a re-run resumes.
    let mut work: Vec<step::Work> = plan
        .changes
        .iter()
        .map(|change| step::Work {
            change: change.clone(),
            resume: None,
        })
        .collect();
    work.extend(resume::works(plan, manifests, live));
    tracing::info!(
        changes = plan.changes.len(),
        resumed = work.len() - plan.changes.len(),
        parallelism = options.parallelism,
        timeout_s = options.timeout.as_secs(),
        "executing the plan"
    );
    let steps = schedule::run_all(&run, &work).await;
    let secrets_written = run.secrets.into_inner().unwrap_or_else(|e| e.into_inner());
    ApplyReport {
        steps,
        secrets_written,
    }
}

/// Resets the password of the resource at `address` on purpose (`apply --rotate`), through its
/// family's `rotate` (a `DatabaseUser`: waits for its service and itself to be `READY` within
/// `options.timeout`, `POST .../credentials/reset`), and writes the new password to the secrets
/// sink, at `secrets_path(&options.secrets_dir, address)`. `live` supplies the ids when it has
/// them; otherwise they are found by identity on the API.
pub async fn rotate(
    client: &Client,
    manifests: &ManifestSet,
    live: &LiveState,
    address: &Address,
    options: &ExecuteOptions,
) -> StepReport {
    let no_env = |_: &str| None;
    let plan = Plan::default();
    let run = step::Run::new(client, &plan, manifests, options, &no_env, &Silent);
    let change = Change {
        address: address.clone(),
        action: Action::Update,
        wave: 0,
        fields: Vec::new(),
        calls: Vec::new(),
        live_id: None,
        depends_on: Vec::new(),
    };
    let started = Instant::now();
    let mut step = step::Step::new(&run, &change);
    let result = crate::family::of_kind(address.kind)
        .rotate(&mut step, live)
        .await;
    step.finish(started, result)
}

/// Every resource of `manifests` that `live` shows existing and whose password the secrets sink
/// (`dir`, for `endpoint`) does not hold, family by family (`Family::passwords_unknown`).
pub fn passwords_unknown(
    dir: &Path,
    endpoint: &crate::ovh::Endpoint,
    manifests: &ManifestSet,
    live: &LiveState,
) -> Vec<PasswordUnknown> {
    FAMILIES
        .iter()
        .flat_map(|family| family.passwords_unknown(dir, endpoint, manifests, live))
        .collect()
}

/// The command that resets `address`'s password on purpose.
pub fn rotate_command(address: &Address) -> String {
    format!("reconcile apply <manifests> --rotate {address}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    /// The CLI may run `execute` on any runtime flavour: its future must be `Send`.
    #[test]
    fn execute_and_rotate_are_send() {
        let client = crate::ovh::Client::new(crate::ovh::ClientConfig::new(
            crate::ovh::Endpoint::parse("http://127.0.0.1:9/1.0").unwrap(),
            crate::ovh::Credentials::application("ak", "as", "ck"),
        ))
        .unwrap();
        let plan = Plan::default();
        let manifests = ManifestSet::default();
        let live = LiveState::default();
        let options = ExecuteOptions::default();
        let env = |_: &str| None;
        let execute = execute(&client, &plan, &manifests, &live, &options, &env, &Silent);
        assert_send(&execute);
        let address = Address {
            kind: crate::manifest::model::Kind::DatabaseUser,
            name: "app".into(),
        };
        let rotate = rotate(&client, &manifests, &live, &address, &options);
        assert_send(&rotate);
    }

    /// A family without passwords (the contract's default `rotate`) fails the step, sending
    /// nothing (the client points at a closed port).
    #[tokio::test]
    async fn rotating_an_object_without_a_password_fails_its_step() {
        let client = crate::ovh::Client::new(crate::ovh::ClientConfig::new(
            crate::ovh::Endpoint::parse("http://127.0.0.1:9/1.0").unwrap(),
            crate::ovh::Credentials::application("ak", "as", "ck"),
        ))
        .unwrap();
        let address = Address {
            kind: crate::manifest::model::Kind::HostingDatabase,
            name: "shop".into(),
        };
        let report = rotate(
            &client,
            &ManifestSet::default(),
            &LiveState::default(),
            &address,
            &ExecuteOptions::default(),
        )
        .await;
        let StepOutcome::Failed { message, .. } = report.outcome else {
            panic!("rotating a hosting database ended {:?}", report.outcome);
        };
        assert_eq!(message, "HostingDatabase/shop has no password to rotate");
    }
}
