//! What the engine is given and what it reports back.

use crate::live::Answers;
use crate::manifest::model::Address;
use crate::plan::model::Action;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How to execute.
#[derive(Debug, Clone)]
pub struct ExecuteOptions {
    /// Steps sending calls at once (`--parallelism`); a step waiting for `READY` gives its
    /// slot back while it sleeps.
    pub parallelism: usize,
    /// Wait budget for the whole run (`--timeout`); when spent, steps still waiting end
    /// `InProgress` and the run exits 5.
    pub timeout: Duration,
    /// Where generated secrets go (`--secrets-dir`, default `.reconcile/secrets/`): one file per
    /// resource, mode 0600.
    pub secrets_dir: PathBuf,
    /// Poll quickly at first, backing off to this cap (with jitter).
    pub max_poll_interval: Duration,
    /// The run's answers by path (`live::Answers`): the engine keeps each object's last
    /// `READY` answer there and forgets what its writes change, so the read after the run asks
    /// the API only for the rest.
    pub answers: Option<Arc<Answers>>,
}

impl Default for ExecuteOptions {
    fn default() -> Self {
        ExecuteOptions {
            parallelism: 16,
            timeout: Duration::from_secs(40 * 60),
            secrets_dir: PathBuf::from(".reconcile/secrets"),
            max_poll_interval: Duration::from_secs(30),
            answers: None,
        }
    }
}

/// What happened to one change of the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepReport {
    pub address: Address,
    pub action: Action,
    pub outcome: StepOutcome,
    /// The live object's id once known (created or adopted).
    pub live_id: Option<String>,
    pub elapsed_ms: u64,
    /// True when the object was found by identity (a previous run created it) rather than
    /// created by this run.
    pub adopted: bool,
    /// Things the user should know although the step is done, e.g. a password reset because an
    /// adopted user's password was lost (never a secret).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// True for a step the plan did not list: the resource matched its manifest, but the API
    /// was still working on it (`CREATING`, a running task, ...) after an earlier run ran out
    /// of time, so this run waited for it (no write is made). `action` is then `Update`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub resumed: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "camelCase")]
pub enum StepOutcome {
    Done,
    /// The API refused or failed; dependants are skipped, independent work goes on.
    Failed {
        message: String,
        status: Option<u16>,
        class: Option<String>,
        query_id: Option<String>,
    },
    /// Not attempted because a change it depends on failed or is still in progress.
    Skipped {
        because: Address,
    },
    /// The wait budget ran out while the API was still working on it.
    InProgress {
        last_status: String,
    },
}

/// The whole run, as printed in the summary and written by `--out-report`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplyReport {
    pub steps: Vec<StepReport>,
    /// Files written to the secrets sink (paths only, never contents).
    pub secrets_written: Vec<PathBuf>,
}

impl ApplyReport {
    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, StepOutcome::Failed { .. }))
    }
    pub fn in_progress(&self) -> usize {
        self.count(|o| matches!(o, StepOutcome::InProgress { .. }))
    }
    pub fn skipped(&self) -> usize {
        self.count(|o| matches!(o, StepOutcome::Skipped { .. }))
    }
    pub fn done(&self) -> usize {
        self.count(|o| matches!(o, StepOutcome::Done))
    }
    fn count(&self, f: impl Fn(&StepOutcome) -> bool) -> usize {
        self.steps.iter().filter(|s| f(&s.outcome)).count()
    }
}

/// Where progress goes: a TTY renderer (elapsed, current status) or plain periodic lines in CI.
pub trait Progress: Send + Sync {
    fn step_started(&self, address: &Address, action: &Action);
    /// Called on each poll while waiting for an object to be ready.
    fn waiting(&self, address: &Address, status: &str, elapsed: Duration);
    fn step_finished(&self, report: &StepReport);
}

/// Progress that says nothing (tests, `--quiet`).
pub struct Silent;

impl Progress for Silent {
    fn step_started(&self, _: &Address, _: &Action) {}
    fn waiting(&self, _: &Address, _: &str, _: Duration) {}
    fn step_finished(&self, _: &StepReport) {}
}

/// A resource of the manifests (a `DatabaseUser`) that exists on the API and whose password the secrets
/// sink does not hold (`engine::passwords_unknown`, from `Family::passwords_unknown`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordUnknown {
    pub address: Address,
    pub user_id: String,
    /// An intent is recorded: a run created it and its password reached nobody, so it is reset
    /// (otherwise someone else created it and may hold it: `--rotate` resets it on purpose).
    pub intent: bool,
}
