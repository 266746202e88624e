//! One change of the plan, executed: its planned calls in order, each a family's typed
//! operation (`family::Operation`) handed to the family that knows how to issue it and how to
//! tell it is done (`database::execute`, `hosting::execute`, `stack::execute`). The step's result is a value (`StepReport`), never a panic
//! or an early return of the whole run.
//!
//! The building blocks every family uses live here:
//! - `Step::create_once`: look the object up by identity on the API right then (for lists,
//!   through `Listings`: read after the `POST`s before it), adopt it or `POST`, and after a
//!   `POST` whose outcome is unknown (5xx, no answer, 409 "already exists") look again before
//!   anything else. A `POST` is sent again only after a lookup has shown the object absent, so
//!   a create can never make a duplicate
//!   (<https://github.com/ovh/terraform-provider-ovh/issues/1306>);
//! - `Step::write_when_idle`: a `PUT`/`DELETE`/action that the API refuses while the object is
//!   busy (`409 ServiceNotReady`, `UserNotReady`, `TaskInProgress`, ...) waits for the object to
//!   be idle, then is sent again, within the kind's deadline. That is waiting, not retrying: the
//!   client's one retry policy stays in `ovh`;
//! - `Step::body`: the planned body with each redacted `"***"` replaced by the secret the
//!   manifest names (read now, never logged, never reported).

use super::readiness::{no_answer, Observation, Pacer, PollSchedule, ReadinessPoll, Slot};
use super::secrets;
use super::{ExecuteOptions, Progress, StepOutcome, StepReport};
use crate::family::Id;
use crate::manifest::model::{Address, Kind, ManifestSet, Resource};
use crate::ovh::{redact::MASK, ApiResponse, Client, Method, OvhError};
use crate::plan::{Change, Plan};
use futures::future::BoxFuture;
use secrecy::ExposeSecret;
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How many times a create is attempted (each attempt after a lookup that found nothing).
pub(crate) const CREATE_ATTEMPTS: usize = 4;

pub(crate) type StepResult<T> = Result<T, StepEnd>;

/// How a step ends when it does not end `Done`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StepEnd {
    Failed {
        message: String,
        status: Option<u16>,
        class: Option<String>,
        query_id: Option<String>,
    },
    InProgress {
        last_status: String,
    },
}

impl StepEnd {
    pub fn failed(message: impl Into<String>) -> Self {
        StepEnd::Failed {
            message: message.into(),
            status: None,
            class: None,
            query_id: None,
        }
    }

    /// A failure from the API, with its class, status and query id. `context` says what the
    /// step was doing ("creating service orders-db").
    pub fn api(context: &str, err: &OvhError) -> Self {
        StepEnd::Failed {
            message: format!("{context}: {err}"),
            status: err.status().map(|s| s.as_u16()),
            class: err.class().map(str::to_owned),
            query_id: err.query_id().map(str::to_owned),
        }
    }

    fn into_outcome(self) -> StepOutcome {
        match self {
            StepEnd::Failed {
                message,
                status,
                class,
                query_id,
            } => StepOutcome::Failed {
                message,
                status,
                class,
                query_id,
            },
            StepEnd::InProgress { last_status } => StepOutcome::InProgress { last_status },
        }
    }
}

/// A 409 that means "busy, try again once it is idle".
pub(crate) fn is_busy(err: &OvhError) -> bool {
    err.status().is_some_and(|s| s.as_u16() == 409)
        && err.class().is_some_and(|class| {
            ["NotReady", "OnlyOneModification", "TaskInProgress"]
                .iter()
                .any(|busy| class.ends_with(busy))
        })
}

/// A 409 saying the object is already there (`PostgresUserAlreadyExist`, "The domain x is
/// already attached", "already exists").
pub(crate) fn already_exists(err: &OvhError) -> bool {
    err.status().is_some_and(|s| s.as_u16() == 409)
        && (err.class().is_some_and(|c| c.contains("AlreadyExist"))
            || err
                .api_message()
                .is_some_and(|m| m.to_ascii_lowercase().contains("already")))
}

/// `400 NoUpdate`: what the write asks for is already so.
pub(crate) fn is_no_update(err: &OvhError) -> bool {
    err.status().is_some_and(|s| s.as_u16() == 400)
        && err.class().is_some_and(|c| c.ends_with("NoUpdate"))
}

/// What one identity lookup found.
pub(crate) enum Lookup<T> {
    Absent,
    Present(T),
    /// An object with this identity is on its way out (`deleting`): a create must wait until
    /// `path` answers 404.
    Leaving {
        path: String,
        status: String,
    },
}

/// How a create ended.
pub(crate) enum Creation<T> {
    /// Found by identity before any `POST`: adopted.
    Found(T),
    /// Created now; the `POST`'s answer.
    Created(Value),
    /// Found by identity after a `POST` whose outcome was unknown: adopted (what the answer
    /// carried, e.g. a generated password, is lost).
    FoundAfterPost(T),
}

/// Everything the steps of one run share.
pub(crate) struct Run<'a> {
    pub client: &'a Client,
    pub manifests: &'a ManifestSet,
    pub options: &'a ExecuteOptions,
    pub env: &'a (dyn Fn(&str) -> Option<String> + Sync),
    pub progress: &'a dyn Progress,
    /// When the run's wait budget (`--timeout`) is spent.
    pub deadline: Instant,
    /// Reports of the steps finished so far (a user created on a service created earlier in
    /// the run finds the service's id here).
    pub finished: Mutex<Vec<StepReport>>,
    /// Secrets files written.
    pub secrets: Mutex<Vec<PathBuf>>,
    /// What each family's steps share across the run (`Family::run_state`; the stacks'
    /// serialised creates), read back with `family_state`.
    families: Vec<Box<dyn std::any::Any + Send + Sync>>,
    /// The `--parallelism` slots: a step holds one while it sends calls (`Slot`).
    pub slots: std::sync::Arc<tokio::sync::Semaphore>,
    /// What waits learn from each other (`readiness`).
    pub pacer: Pacer,
    /// The lists read right before creates (`Listings`).
    pub listings: Listings,
}

/// The lists of ids a create reads right before its `POST` (the identity lookup), shared by the
/// creates that asked for the same list while one was on its way: a list answered after a
/// create asked is as fresh as one it would read itself. A create that asks once that answer
/// is in reads the list again, so every lookup is read after the `POST`s that went before it
/// and a twin (another run creating the same object) can appear only in the milliseconds
/// between a list and the `POST` it precedes.
///
/// It also keeps the answers its lookups got for the objects in those lists, and this run's
/// creation answers (`remember`): an object's identity (a description, a username) does not
/// change by itself, so a later lookup asks only for objects it has never seen. Without it,
/// fifty creates in one scope would each get every service the others had just created.
#[derive(Default)]
pub(crate) struct Listings {
    by_path: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<Listed>>>>>,
    seen: Mutex<HashMap<String, Value>>,
}

/// A list's ids, when its request was sent, and when it was answered.
struct Listed {
    sent: Instant,
    answered: Instant,
    ids: Vec<String>,
}

impl Listings {
    /// `answer` is what `path` (an object) is known to be.
    pub fn remember(&self, path: &str, answer: &Value) {
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(path.to_owned(), answer.clone());
    }

    /// What a lookup of this run got for `path`.
    pub fn seen(&self, path: &str) -> Option<Value> {
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(path)
            .cloned()
    }

    /// `GET path` (a list of ids), or the answer of one that was on its way when asked. The
    /// run's `answers` forget the list: it may have moved since the plan's read (another run
    /// created an object this run then adopts), so the verification reads it again.
    pub async fn list(
        &self,
        client: &Client,
        answers: Option<&crate::live::Answers>,
        path: &str,
        what: &str,
    ) -> StepResult<Vec<String>> {
        let asked = Instant::now();
        self.list_where(client, answers, path, what, |listed| {
            listed.answered >= asked
        })
        .await
    }

    /// `GET path` (a list of ids), or the last one read in this run if its request was sent at
    /// `since` or later: the twin check after a create, which needs a list sent some time
    /// after its own `POST` was answered, not one of its own. A list on its way when asked
    /// counts only by when it was sent (one sent before the `POST` may not show it).
    pub async fn list_sent_since(
        &self,
        client: &Client,
        answers: Option<&crate::live::Answers>,
        path: &str,
        what: &str,
        since: Instant,
    ) -> StepResult<Vec<String>> {
        let fresh = |listed: &Listed| listed.sent >= since;
        self.list_where(client, answers, path, what, fresh).await
    }

    async fn list_where(
        &self,
        client: &Client,
        answers: Option<&crate::live::Answers>,
        path: &str,
        what: &str,
        fresh: impl Fn(&Listed) -> bool,
    ) -> StepResult<Vec<String>> {
        if let Some(answers) = answers {
            answers.forget(path);
        }
        let slot = self
            .by_path
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(path.to_owned())
            .or_default()
            .clone();
        let mut last = slot.lock().await;
        if let Some(listed) = &*last {
            if fresh(listed) {
                return Ok(listed.ids.clone());
            }
        }
        let sent = Instant::now();
        let ids = list_ids(client, path, what).await?;
        *last = Some(Listed {
            sent,
            answered: Instant::now(),
            ids: ids.clone(),
        });
        Ok(ids)
    }
}

/// `GET path`, `None` on 404 (`ovh::if_present`); `what` names the object in an error.
pub(crate) async fn get_if_present(
    client: &Client,
    path: &str,
    what: &str,
) -> StepResult<Option<Value>> {
    crate::ovh::if_present(client.call(Method::GET, path, None).await)
        .map(|answer| answer.map(|a| a.body))
        .map_err(|err| StepEnd::api(&format!("looking up {what}"), &err))
}

/// `GET list` as ids (the API answers strings or numbers).
async fn list_ids(client: &Client, path: &str, what: &str) -> StepResult<Vec<String>> {
    let answer = client
        .call(Method::GET, path, None)
        .await
        .map_err(|err| StepEnd::api(&format!("looking up {what}"), &err))?;
    let ids = answer.body.as_array().cloned().unwrap_or_default();
    Ok(ids
        .iter()
        .filter_map(|id| match id {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .collect())
}

impl<'a> Run<'a> {
    pub fn new(
        client: &'a Client,
        plan: &Plan,
        manifests: &'a ManifestSet,
        options: &'a ExecuteOptions,
        env: &'a (dyn Fn(&str) -> Option<String> + Sync),
        progress: &'a dyn Progress,
    ) -> Self {
        let families = crate::family::FAMILIES
            .iter()
            .filter_map(|family| family.run_state(plan))
            .collect();
        Run {
            client,
            manifests,
            options,
            env,
            progress,
            deadline: Instant::now() + options.timeout,
            finished: Mutex::new(Vec::new()),
            secrets: Mutex::new(Vec::new()),
            families,
            slots: std::sync::Arc::new(tokio::sync::Semaphore::new(options.parallelism.max(1))),
            pacer: Pacer::default(),
            listings: Listings::default(),
        }
    }

    /// The run-wide state of type `T` a family keeps (`Family::run_state`), if it keeps one.
    pub fn family_state<T: std::any::Any>(&self) -> Option<&T> {
        self.families
            .iter()
            .find_map(|state| state.downcast_ref::<T>())
    }

    /// The live id of a finished, done step at one of `addresses` of `kind`.
    pub fn done_id(&self, addresses: &[Address], kind: Kind) -> Option<String> {
        let finished = self.finished.lock().unwrap_or_else(|e| e.into_inner());
        finished
            .iter()
            .filter(|r| r.address.kind == kind && addresses.contains(&r.address))
            .filter(|r| r.outcome == StepOutcome::Done)
            .find_map(|r| r.live_id.clone())
    }

    pub fn record_secret(&self, path: PathBuf) {
        self.secrets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(path);
    }
}

/// One unit of work: a change of the plan, or a wait the plan did not list (`resume`).
pub(crate) struct Work {
    pub change: Change,
    pub resume: Option<crate::family::Resume>,
}

/// One change being executed.
pub(crate) struct Step<'r, 'a> {
    pub run: &'r Run<'a>,
    pub change: &'r Change,
    /// The manifest behind the change (none for a prune delete).
    pub resource: Option<&'r Resource>,
    /// The id created or adopted by this step; fills the `{id}` of its later calls.
    pub created: Option<String>,
    pub live_id: Option<String>,
    pub adopted: bool,
    pub warnings: Vec<String>,
    /// A wait the plan did not list.
    pub resumed: bool,
    /// This step's `--parallelism` slot.
    pub slot: Slot,
}

/// Executes `work` and reports what happened.
pub(crate) async fn run_work(run: &Run<'_>, work: &Work) -> StepReport {
    let mut step = Step::new(run, &work.change);
    step.slot.take().await;
    run.progress
        .step_started(&work.change.address, &work.change.action);
    let started = Instant::now();
    let result = match &work.resume {
        None => step.execute().await,
        Some(resume) => {
            step.resumed = true;
            resume.wait(&mut step).await
        }
    };
    step.finish(started, result)
}

impl<'r, 'a> Step<'r, 'a> {
    pub fn new(run: &'r Run<'a>, change: &'r Change) -> Self {
        Step {
            run,
            change,
            resource: run.manifests.get(&change.address),
            created: None,
            live_id: change.live_id.clone(),
            adopted: false,
            warnings: Vec::new(),
            resumed: false,
            slot: Slot::new(run.slots.clone()),
        }
    }

    pub fn address(&self) -> &'r Address {
        &self.change.address
    }

    /// The client of this step's API: its family's (RunAbove's for a managed stack).
    pub fn client(&self) -> &'a Client {
        crate::family::of_kind(self.change.address.kind).client(self.run.client)
    }

    /// The run's answers by path (`ExecuteOptions::answers`).
    pub fn answers(&self) -> Option<&'a crate::live::Answers> {
        self.run.options.answers.as_deref()
    }

    /// `method path` (`body`) through the client; whatever comes back, the answers it may have
    /// changed are forgotten.
    async fn write(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<ApiResponse, OvhError> {
        let result = self.client().call(method.clone(), path, body).await;
        if let Some(answers) = self.answers() {
            answers.forget_after(&method, path);
        }
        result
    }

    /// The report of this step once `result` is known.
    pub fn finish(self, started: Instant, result: StepResult<()>) -> StepReport {
        let outcome = match result {
            Ok(()) => StepOutcome::Done,
            Err(end) => end.into_outcome(),
        };
        let elapsed = started.elapsed();
        match &outcome {
            StepOutcome::Done => tracing::info!(
                address = %self.change.address,
                action = self.change.action.symbol(),
                adopted = self.adopted,
                elapsed_ms = elapsed.as_millis() as u64,
                "step done"
            ),
            StepOutcome::Failed {
                message,
                status,
                class,
                query_id,
            } => tracing::warn!(
                address = %self.change.address,
                action = self.change.action.symbol(),
                status = status.unwrap_or(0),
                class = class.as_deref().unwrap_or("-"),
                query_id = query_id.as_deref().unwrap_or("-"),
                "step failed: {message}"
            ),
            StepOutcome::InProgress { last_status } => tracing::info!(
                address = %self.change.address,
                %last_status,
                "step still in progress"
            ),
            StepOutcome::Skipped { .. } => {}
        }
        StepReport {
            address: self.change.address.clone(),
            action: self.change.action.clone(),
            outcome,
            live_id: self.live_id,
            elapsed_ms: elapsed.as_millis() as u64,
            adopted: self.adopted,
            warnings: self.warnings,
            resumed: self.resumed,
        }
    }

    /// The id this step now stands for.
    pub fn set_created(&mut self, id: &str) {
        self.created = Some(id.to_owned());
        self.live_id = Some(id.to_owned());
    }

    pub fn adopt(&mut self, id: &str) {
        tracing::info!(address = %self.change.address, id, "adopting the existing object");
        self.adopted = true;
        self.set_created(id);
    }

    pub fn warn(&mut self, message: String) {
        tracing::warn!(address = %self.change.address, "{message}");
        self.warnings.push(message);
    }

    /// A readiness poll for this step, for its `phase` ("ready", "gone", "task", ...).
    pub fn poll(&self, phase: &str) -> ReadinessPoll<'_> {
        ReadinessPoll {
            progress: self.run.progress,
            address: &self.change.address,
            max_interval: self.run.options.max_poll_interval,
            run_deadline: self.run.deadline,
            pacer: &self.run.pacer,
            class: self.wait_class(phase),
            slot: &self.slot,
        }
    }

    /// The waits expected to last as long as this step's in `phase`: the same kind, action and
    /// phase, and what the family says the wait depends on (`Family::wait_shape`: for a
    /// database service the engine, plan, flavor and node count).
    fn wait_class(&self, phase: &str) -> String {
        let shape = self
            .resource
            .map(|r| crate::family::of_kind(r.address.kind).wait_shape(&r.spec))
            .unwrap_or_default();
        let action = if self.resumed {
            "resume"
        } else {
            self.change.action.symbol()
        };
        format!("{:?} {action} {phase}{shape}", self.change.address.kind)
    }

    /// Sleeps `delay` without holding the step's slot.
    pub async fn pause(&self, delay: Duration) {
        self.slot.pause(tokio::time::sleep(delay)).await;
    }

    async fn execute(&mut self) -> StepResult<()> {
        let change = self.change;
        for call in &change.calls {
            let body = self.body(call.body())?;
            crate::family::execute(self, call, body).await?;
        }
        Ok(())
    }

    /// The id `id` stands for: a known one, or the one this step created (`Id::Created` in a
    /// call after the change's create).
    pub fn own(&self, id: &Id) -> StepResult<String> {
        match id {
            Id::Known(id) => Ok(id.clone()),
            Id::Created => self.created.clone().ok_or_else(|| {
                StepEnd::failed(format!(
                    "{} in a planned path is not known: no earlier call of this change created it",
                    Id::PLACEHOLDER
                ))
            }),
        }
    }

    /// The planned body with every redacted `"***"` replaced by the secret the manifest names,
    /// read now through `SecretRef::read`.
    fn body(&self, planned: Option<&Value>) -> StepResult<Option<Value>> {
        let Some(planned) = planned else {
            return Ok(None);
        };
        let mut body = planned.clone();
        if let Value::Object(fields) = &mut body {
            for (key, value) in fields.iter_mut() {
                if value.as_str() != Some(MASK) {
                    continue;
                }
                let secret = self
                    .resource
                    .and_then(|r| secrets::secret_ref(&r.spec, key))
                    .ok_or_else(|| {
                        StepEnd::failed(format!(
                            "the planned body has a redacted `{key}` and no manifest gives it"
                        ))
                    })?;
                let read = secret
                    .read(self.run.env)
                    .map_err(|err| StepEnd::failed(format!("cannot read `spec.{key}`: {err}")))?;
                *value = Value::String(read.expose_secret().to_owned());
            }
        }
        Ok(Some(body))
    }

    /// Makes the object exist: a lookup by identity, then adopt it or `POST path body`; after a
    /// `POST` whose outcome is unknown (no answer, 5xx, 429, a busy 409 or "already exists"),
    /// a lookup again before anything else, and a new `POST` only if the lookup shows the
    /// object absent (at most `CREATE_ATTEMPTS` `POST`s). An object of the same identity on
    /// its way out is waited out first (within `limit`).
    pub async fn create_once<'l, T>(
        &self,
        what: &str,
        path: &str,
        body: Option<&Value>,
        limit: Duration,
        lookup: impl Fn() -> BoxFuture<'l, StepResult<Lookup<T>>>,
    ) -> StepResult<Creation<T>> {
        let mut posted = false;
        let mut attempts = 0;
        let mut conflict: Option<OvhError> = None;
        let mut schedule = PollSchedule::new(self.run.options.max_poll_interval);
        loop {
            match lookup().await? {
                Lookup::Present(found) if posted => return Ok(Creation::FoundAfterPost(found)),
                Lookup::Present(found) => {
                    // Another run made it since the plan's read: the list the plan read (the
                    // path a POST would go to) no longer stands for the verification.
                    if let Some(answers) = self.answers() {
                        answers.forget(path);
                    }
                    return Ok(Creation::Found(found));
                }
                // "Already exists", yet not here by identity: it exists elsewhere (a domain
                // attached to another hosting, ...). Sending again would not change that.
                Lookup::Absent if conflict.is_some() => {
                    let err = conflict.take().expect("checked");
                    return Err(StepEnd::api(&format!("creating {what}"), &err));
                }
                Lookup::Leaving { path, status } => {
                    conflict = None;
                    self.wait_gone(
                        &format!("the old {what}"),
                        &path,
                        limit,
                        &status,
                        &["deleting"],
                    )
                    .await?;
                    continue;
                }
                Lookup::Absent => {}
            }
            attempts += 1;
            let err = match self.write(Method::POST, path, body).await {
                Ok(answer) => return Ok(Creation::Created(answer.body)),
                Err(err) => err,
            };
            // A 2xx whose body did not decode was applied all the same.
            let unknown = no_answer(&err) || matches!(err, OvhError::Decode { .. });
            let exists = already_exists(&err);
            if attempts >= CREATE_ATTEMPTS || !(unknown || exists || is_busy(&err)) {
                return Err(StepEnd::api(&format!("creating {what}"), &err));
            }
            // A 429, a busy 409 or "already exists" was refused, not applied (what exists was
            // made by someone else); the rest may have been applied.
            let refused = err.status().is_some_and(|s| s.as_u16() == 429) || is_busy(&err);
            posted |= !refused && !exists;
            tracing::info!(
                address = %self.change.address,
                %what,
                status = err.status().map_or(0, |s| s.as_u16()),
                query_id = err.query_id().unwrap_or("-"),
                "create outcome unknown or refused for now; looking it up again before any new POST"
            );
            if exists {
                conflict = Some(err);
                continue;
            }
            self.pause(schedule.next_delay()).await;
        }
    }

    /// Sends a write that the API refuses while the object is busy: `wait_idle`, then the
    /// write; on a busy 409 (or, for an action `POST` such as a regeneration or a password
    /// reset, no answer) wait again and resend, until `limit`. `Ok(None)` when the API says
    /// there is nothing to change (`400 NoUpdate`).
    pub async fn write_when_idle<'l>(
        &self,
        what: &str,
        limit: Duration,
        method: Method,
        path: &str,
        body: Option<&Value>,
        wait_idle: impl Fn() -> BoxFuture<'l, StepResult<()>>,
    ) -> StepResult<Option<ApiResponse>> {
        let start = Instant::now();
        let deadline = (start + limit).min(self.run.deadline);
        let mut schedule = PollSchedule::new(self.run.options.max_poll_interval);
        let mut unanswered = 0;
        loop {
            wait_idle().await?;
            let err = match self.write(method.clone(), path, body).await {
                Ok(answer) => return Ok(Some(answer)),
                Err(err) if is_no_update(&err) => return Ok(None),
                Err(err) => err,
            };
            let resend = if is_busy(&err) {
                true
            } else if method == Method::POST && no_answer(&err) && unanswered + 1 < CREATE_ATTEMPTS
            {
                unanswered += 1;
                true
            } else {
                false
            };
            if !resend {
                return Err(StepEnd::api(&format!("{} {what}", verb(&method)), &err));
            }
            if Instant::now() >= deadline {
                return Err(StepEnd::InProgress {
                    last_status: format!(
                        "busy ({})",
                        err.class().unwrap_or("no answer from the api")
                    ),
                });
            }
            tracing::debug!(address = %self.change.address, %what, "busy; waiting before sending again");
            let delay = schedule.next_delay().min(deadline - Instant::now());
            self.pause(delay).await;
        }
    }

    /// `DELETE path`, sent again while the API says busy (within `limit`). `Ok(None)` when it
    /// answers 404 (already gone), else the answer (a task, or the object `deleting`).
    pub async fn delete(
        &self,
        what: &str,
        path: &str,
        limit: Duration,
    ) -> StepResult<Option<Value>> {
        let deadline = (Instant::now() + limit).min(self.run.deadline);
        let mut schedule = PollSchedule::new(self.run.options.max_poll_interval);
        loop {
            let err = match self.write(Method::DELETE, path, None).await {
                Ok(answer) => return Ok(Some(answer.body)),
                Err(err) if err.is_not_found() => return Ok(None),
                Err(err) => err,
            };
            if !is_busy(&err) {
                return Err(StepEnd::api(&format!("deleting {what}"), &err));
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(StepEnd::InProgress {
                    last_status: format!("busy ({})", err.class().unwrap_or("409")),
                });
            }
            self.pause(schedule.next_delay().min(deadline - now)).await;
        }
    }

    /// Waits until `path` answers 404; statuses in `leaving` (case-insensitive) are expected
    /// meanwhile, any other fails the step.
    pub async fn wait_gone(
        &self,
        what: &str,
        path: &str,
        limit: Duration,
        initial: &str,
        leaving: &[&str],
    ) -> StepResult<()> {
        let client = self.client();
        self.poll("gone")
            .until(what, limit, initial, || {
                super::readiness::observe(
                    client,
                    self.answers(),
                    path,
                    || Observation::Ready(Value::Null),
                    |answer| {
                        let status = status_of(&answer);
                        if leaving.iter().any(|l| l.eq_ignore_ascii_case(&status)) {
                            Observation::Pending(status)
                        } else {
                            Observation::Unexpected(format!("{status} (expected it to go away)"))
                        }
                    },
                )
            })
            .await
            .map(|_| ())
    }
}

/// The `status` field of an answer (`""` without one).
pub(crate) fn status_of(answer: &Value) -> String {
    answer
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn verb(method: &Method) -> &'static str {
    match *method {
        Method::PUT => "updating",
        Method::DELETE => "deleting",
        _ => "changing",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ovh::error::ApiReply;
    use crate::ovh::StatusCode;

    fn api_error(status: u16, class: &str, message: &str) -> OvhError {
        OvhError::Api {
            method: Method::POST,
            path: "/x".into(),
            status: StatusCode::from_u16(status).unwrap(),
            query_id: Some("EU.ext-1.abc".into()),
            reply: Box::new(ApiReply {
                class: (!class.is_empty()).then(|| class.to_owned()),
                error_code: None,
                message: message.into(),
                retry_after: None,
            }),
        }
    }

    /// A twin check shares a list sent after its `POST` was answered, never one sent before
    /// (not even one still on its way); a lookup before a create never takes a list answered
    /// before it asked.
    #[tokio::test]
    async fn a_twin_check_shares_a_list_sent_since_its_post_and_no_older_one() {
        use crate::ovh::{ClientConfig, Credentials, Endpoint};
        use wiremock::matchers::{method, path};
        use wiremock::{Mock, MockServer, ResponseTemplate};

        let server = MockServer::start().await;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        Mock::given(method("GET"))
            .and(path("/1.0/auth/time"))
            .respond_with(ResponseTemplate::new(200).set_body_json(now))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/1.0/list"))
            .respond_with(ResponseTemplate::new(200).set_body_json(["a", "b"]))
            .mount(&server)
            .await;
        let endpoint = Endpoint::parse(&format!("{}/1.0", server.uri())).unwrap();
        let mut config = ClientConfig::new(endpoint, Credentials::application("ak", "as", "ck"));
        config.rate_limit_per_sec = 1000;
        let client = Client::new(config).unwrap();
        let lists = || async {
            let requests = server.received_requests().await.unwrap_or_default();
            requests
                .iter()
                .filter(|r| r.url.path() == "/1.0/list")
                .count()
        };
        let listings = Listings::default();

        let before = Instant::now();
        let ids = listings.list(&client, None, "/list", "x").await.unwrap();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(lists().await, 1);
        let posted = Instant::now();
        listings
            .list_sent_since(&client, None, "/list", "x", posted)
            .await
            .unwrap();
        assert_eq!(lists().await, 2, "the list before the POST does not do");
        listings
            .list_sent_since(&client, None, "/list", "x", posted)
            .await
            .unwrap();
        listings
            .list_sent_since(&client, None, "/list", "x", before)
            .await
            .unwrap();
        assert_eq!(
            lists().await,
            2,
            "checks posted before it share the second list"
        );
        let later = Instant::now();
        listings
            .list_sent_since(&client, None, "/list", "x", later)
            .await
            .unwrap();
        assert_eq!(lists().await, 3);
        listings.list(&client, None, "/list", "x").await.unwrap();
        assert_eq!(lists().await, 4, "a lookup reads after it asked");

        // A list on its way when the POST was answered, sent before it: not shared.
        server.reset().await;
        Mock::given(method("GET"))
            .and(path("/1.0/list"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(["a", "b"])
                    .set_delay(std::time::Duration::from_millis(300)),
            )
            .mount(&server)
            .await;
        let lookup = listings.list(&client, None, "/list", "x");
        let check = async {
            while lists().await == 0 {
                tokio::task::yield_now().await;
            }
            let posted = Instant::now();
            listings
                .list_sent_since(&client, None, "/list", "x", posted)
                .await
        };
        let (lookup, check) = tokio::join!(lookup, check);
        lookup.unwrap();
        check.unwrap();
        assert_eq!(lists().await, 2, "the check read a list of its own");
    }

    #[test]
    fn busy_already_there_and_no_update_are_told_apart() {
        let not_ready = api_error(409, "Client::Conflict::ServiceNotReady", "not READY");
        assert!(is_busy(&not_ready) && !already_exists(&not_ready));
        let exists = api_error(
            409,
            "Client::Conflict::PostgresUserAlreadyExist",
            "user \"a\" already exist",
        );
        assert!(already_exists(&exists) && !is_busy(&exists));
        let attached = api_error(
            409,
            "",
            "The domain a.example is already attached to this hosting",
        );
        assert!(already_exists(&attached));
        let locked = api_error(409, "Client::Conflict::ServiceLocked", "locked");
        assert!(!is_busy(&locked) && !already_exists(&locked));
        assert!(is_no_update(&api_error(
            400,
            "Client::BadRequest::NoUpdate",
            "No update required"
        )));
        assert!(!is_no_update(&api_error(
            400,
            "Client::BadRequest::UserInvalidNameFormat",
            "x"
        )));
    }

    #[test]
    fn an_api_failure_carries_class_status_and_query_id() {
        let err = api_error(
            400,
            "Client::BadRequest::UserInvalidNameFormat",
            "Username cannot contain any of ':'",
        );
        let StepEnd::Failed {
            message,
            status,
            class,
            query_id,
        } = StepEnd::api("creating user bad:name", &err)
        else {
            panic!()
        };
        assert!(message.starts_with("creating user bad:name: "), "{message}");
        assert_eq!(status, Some(400));
        assert_eq!(
            class.as_deref(),
            Some("Client::BadRequest::UserInvalidNameFormat")
        );
        assert_eq!(query_id.as_deref(), Some("EU.ext-1.abc"));
    }
}
