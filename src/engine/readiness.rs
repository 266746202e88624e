//! Readiness polling: waiting for an object to reach the state a step needs (`READY`,
//! `created`, `running`, gone), with a schedule that learns and a deadline. Polling is not
//! retrying: each poll is one ordinary `GET` through the shared client (and its one rate
//! budget); the client's retry policy only deals with a poll that got no answer.
//!
//! Schedule (`next_poll_at`): waits of one *class* (the same kind of object doing the same
//! thing: "mongodb production db2-4 x3 services being created") take about the same time, so
//! they share what they learn through the run's `Pacer`:
//! - the *leader* of a class (the wait that started first and is still waiting) polls at a
//!   fraction of its wait: 250 ms, doubling up to the larger of 1 s and 5% of the time waited
//!   (so READY is noticed within 1 s of a 20 s wait, within 30 s of a 10-minute one), capped by
//!   `max_poll_interval`;
//! - the others (*followers*) poll only every `max_poll_interval` while the leader waits, and
//!   when a wait of their class ends `Ready` after `E`, each follower polls once at its own
//!   start + `E` (creates sent one after the other under the rate limit become ready one after
//!   the other), then as a leader would. So 50 services created together cost about one
//!   leader's polls plus one poll each, and the budget is left to the writes.
//!
//! A wait whose status is already known (`initial`, from the write's answer or the plan's
//! read) does not poll at once; one that knows nothing does. Delays other than the learned
//! one carry ±20% jitter. While it sleeps, a step gives its `--parallelism` slot back (`Slot`).
//!
//! Deadline: the family's default for the wait (its `engine::Deadlines`: Terraform's timeouts,
//! raised where the field showed them short), cut to what is left of the run's `--timeout`.
//! When it passes the wait ends `InProgress` with the last status seen; a re-run finds the
//! object in that state and waits again instead of re-issuing the write.

use super::step::{StepEnd, StepResult};
use super::Progress;
use crate::live::Answers;
use crate::manifest::model::Address;
use crate::ovh::{Client, Method, OvhError};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

/// The first delay between polls.
pub(crate) const FIRST_POLL_INTERVAL: Duration = Duration::from_millis(250);

/// A leader's interval grows to at least this before it follows the time waited.
pub(crate) const STEADY_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// A leader's interval is at most this share of the time waited (beyond `STEADY`).
const WAITED_SHARE: f64 = 0.05;

/// What one look at an object says.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Observation {
    /// The wanted state; carries the answer (`Null` for "gone").
    Ready(Value),
    /// Still on its way; the status to show and to report on timeout.
    Pending(String),
    /// No answer this time (5xx after the client's retries, network, 429): keep waiting with the
    /// last status seen.
    Unanswered(String),
    /// A state the wait cannot end well from (`ERROR`, `LOCKED`, gone while creating, ...).
    Unexpected(String),
}

/// Delays between attempts of a write the API refused for now (busy, no answer):
/// `FIRST_POLL_INTERVAL`, doubling up to a cap, jittered.
#[derive(Debug, Clone)]
pub(crate) struct PollSchedule {
    next: Duration,
    max: Duration,
}

impl PollSchedule {
    pub fn new(max: Duration) -> Self {
        let max = max.max(Duration::from_millis(1));
        PollSchedule {
            next: FIRST_POLL_INTERVAL.min(max),
            max,
        }
    }

    /// The delay before the next attempt (jittered), and the schedule moves on.
    pub fn next_delay(&mut self) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(self.max);
        jitter(base)
    }

    /// The delay before the next attempt without jitter.
    #[cfg(test)]
    pub fn peek(&self) -> Duration {
        self.next
    }
}

/// `delay` ±20%.
fn jitter(delay: Duration) -> Duration {
    delay.mul_f64(rand::random_range(0.8..=1.2))
}

/// A wait's place in its class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// The oldest wait of its class still waiting: it finds out how long the class takes.
    Leader,
    Follower,
}

/// Where a wait stands, for `next_poll_at`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WaitState {
    /// Time since the wait started at its last poll (zero before the first).
    pub last_poll: Duration,
    /// Polls made so far.
    pub polls: u32,
    pub role: Role,
    /// How long a wait of this class took, once one ended `Ready` in this run.
    pub learned: Option<Duration>,
    /// The cap (`--max-poll-interval`, 30 s by default).
    pub max: Duration,
    /// The jitter factor of this interval (0.8..=1.2; 1.0 in tests).
    pub jitter: f64,
}

/// When (time since the wait started) to poll next; see the module doc.
pub(crate) fn next_poll_at(state: &WaitState) -> Duration {
    let max = state.max.max(Duration::from_millis(1));
    if let Some(learned) = state.learned {
        if state.last_poll < learned {
            return learned;
        }
    }
    let interval = match (state.role, state.learned) {
        (Role::Follower, None) => max,
        _ => {
            let doubling = FIRST_POLL_INTERVAL.saturating_mul(1 << state.polls.min(16));
            let share = state.last_poll.mul_f64(WAITED_SHARE);
            doubling.min(share.max(STEADY_POLL_INTERVAL)).min(max)
        }
    };
    state.last_poll + interval.mul_f64(state.jitter)
}

/// What the waits of one run learn from each other (see the module doc).
pub(crate) struct Pacer {
    state: Mutex<PacerState>,
    /// Bumped whenever a class's leader or learned time changes: followers re-plan.
    changed: watch::Sender<u64>,
}

#[derive(Default)]
struct PacerState {
    classes: HashMap<String, Class>,
    next_id: u64,
}

#[derive(Default)]
struct Class {
    /// The waits of the class still waiting, oldest first.
    waiting: BTreeSet<(Instant, u64)>,
    learned: Option<Duration>,
}

impl Default for Pacer {
    fn default() -> Self {
        Pacer {
            state: Mutex::new(PacerState::default()),
            changed: watch::Sender::new(0),
        }
    }
}

impl Pacer {
    fn state(&self) -> std::sync::MutexGuard<'_, PacerState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Enters a wait that started at `start` into `class`, until the returned guard is dropped.
    pub fn join(&self, class: &str, start: Instant) -> Membership<'_> {
        let id = {
            let mut state = self.state();
            state.next_id += 1;
            let id = state.next_id;
            let class = state.classes.entry(class.to_owned()).or_default();
            class.waiting.insert((start, id));
            id
        };
        self.changed.send_modify(|n| *n += 1);
        Membership {
            pacer: self,
            class: class.to_owned(),
            key: (start, id),
        }
    }

    /// A wait of `class` ended `Ready` after `took`: the class's time is the shortest seen.
    fn learn(&self, class: &str, took: Duration) {
        {
            let mut state = self.state();
            let class = state.classes.entry(class.to_owned()).or_default();
            class.learned = Some(class.learned.map_or(took, |t| t.min(took)));
        }
        self.changed.send_modify(|n| *n += 1);
    }

    fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }
}

/// One wait's place in its class; leaving it (drop) hands the lead on.
pub(crate) struct Membership<'p> {
    pacer: &'p Pacer,
    class: String,
    key: (Instant, u64),
}

impl Membership<'_> {
    fn role_and_learned(&self) -> (Role, Option<Duration>) {
        let state = self.pacer.state();
        let class = &state.classes[&self.class];
        let role = if class.waiting.first() == Some(&self.key) {
            Role::Leader
        } else {
            Role::Follower
        };
        (role, class.learned)
    }
}

impl Drop for Membership<'_> {
    fn drop(&mut self) {
        if let Some(class) = self.pacer.state().classes.get_mut(&self.class) {
            class.waiting.remove(&self.key);
        }
        self.pacer.changed.send_modify(|n| *n += 1);
    }
}

/// A step's `--parallelism` slot: held while it sends calls, given back while it sleeps, so
/// that waiting for `READY` never keeps another step from starting.
pub(crate) struct Slot {
    slots: Arc<Semaphore>,
    held: Mutex<Option<OwnedSemaphorePermit>>,
}

impl Slot {
    pub fn new(slots: Arc<Semaphore>) -> Self {
        Slot {
            slots,
            held: Mutex::new(None),
        }
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Option<OwnedSemaphorePermit>> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes a slot (waiting for one) unless this step holds one.
    pub async fn take(&self) {
        if self.held().is_some() {
            return;
        }
        // The semaphore is never closed.
        if let Ok(permit) = self.slots.clone().acquire_owned().await {
            *self.held() = Some(permit);
        }
    }

    /// Runs `pause` (a sleep) without the slot, and takes one again after.
    pub async fn pause<F: Future>(&self, pause: F) -> F::Output {
        let had = self.held().take().is_some();
        let out = pause.await;
        if had {
            self.take().await;
        }
        out
    }
}

/// One wait: for `address`, until `deadline`, telling `progress` on each poll.
pub(crate) struct ReadinessPoll<'a> {
    pub progress: &'a dyn Progress,
    pub address: &'a Address,
    pub max_interval: Duration,
    /// The run's deadline (`--timeout` from the start of the run).
    pub run_deadline: Instant,
    /// What this wait learns from and teaches to (see the module doc).
    pub pacer: &'a Pacer,
    /// The waits expected to take as long as this one (kind, action, phase, shape).
    pub class: String,
    pub slot: &'a Slot,
}

impl ReadinessPoll<'_> {
    /// Polls `probe` until it says `Ready` (its answer is returned), fails on `Unexpected`,
    /// and ends `InProgress` with the last status when `limit` (cut to the run's deadline)
    /// has passed. `what` names the object in messages ("service 0f6b..."). `initial` is the
    /// status known before the first poll (e.g. from the write's answer); when empty, the
    /// first poll is made at once.
    pub async fn until<F, Fut>(
        &self,
        what: &str,
        limit: Duration,
        initial: &str,
        mut probe: F,
    ) -> StepResult<Value>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = StepResult<Observation>>,
    {
        // Tokio's clock (the same as std's, but for tests that pause it).
        let start = tokio::time::Instant::now();
        let deadline = (start + limit).min(self.run_deadline.into());
        let membership = self.pacer.join(&self.class, start.into_std());
        let mut changes = self.pacer.subscribe();
        let mut last = initial.to_owned();
        let mut state = WaitState {
            last_poll: Duration::ZERO,
            polls: 0,
            role: Role::Leader,
            learned: None,
            max: self.max_interval,
            jitter: 1.0,
        };
        let mut poll_now = initial.is_empty();
        if !poll_now {
            self.progress.waiting(self.address, &last, Duration::ZERO);
        }
        loop {
            if poll_now {
                let observed = probe().await?;
                state.last_poll = start.elapsed();
                state.polls += 1;
                match observed {
                    Observation::Ready(answer) => {
                        self.pacer.learn(&self.class, state.last_poll);
                        return Ok(answer);
                    }
                    Observation::Pending(status) => last = status,
                    Observation::Unanswered(why) => {
                        tracing::debug!(address = %self.address, %what, "poll unanswered: {why}");
                    }
                    Observation::Unexpected(status) => {
                        return Err(StepEnd::failed(format!(
                            "{what} is in unexpected state {status} (waited {})",
                            human(start.elapsed())
                        )));
                    }
                }
                self.progress.waiting(self.address, &last, state.last_poll);
            }
            if tokio::time::Instant::now() >= deadline {
                tracing::info!(
                    address = %self.address,
                    %what,
                    last_status = %last,
                    elapsed_ms = start.elapsed().as_millis() as u64,
                    "wait budget spent, still in progress"
                );
                return Err(StepEnd::InProgress { last_status: last });
            }
            // Sleep until the next poll is due, re-planning whenever the class changes (a
            // leader left, a wait of the class ended READY), without the step's slot.
            state.jitter = rand::random_range(0.8..=1.2);
            self.slot
                .pause(async {
                    loop {
                        changes.borrow_and_update();
                        (state.role, state.learned) = membership.role_and_learned();
                        let due = (start + next_poll_at(&state)).min(deadline);
                        tokio::select! {
                            _ = tokio::time::sleep_until(due) => break,
                            changed = changes.changed() => if changed.is_err() {
                                // The run is ending: nothing more to learn.
                                tokio::time::sleep_until(due).await;
                                break;
                            }
                        }
                    }
                })
                .await;
            poll_now = true;
        }
    }
}

/// `GET path` as an observation: `classify` reads a 2xx answer; a 404 is `on_404`; no answer
/// is `Unanswered`; any other error fails the step. A `Ready` answer is kept in `answers`.
pub(crate) async fn observe(
    client: &Client,
    answers: Option<&Answers>,
    path: &str,
    on_404: impl FnOnce() -> Observation,
    classify: impl FnOnce(Value) -> Observation,
) -> StepResult<Observation> {
    match client.call(Method::GET, path, None).await {
        Ok(answer) => {
            let observation = classify(answer.body);
            // The object's last answer in this run: the verification read need not ask again.
            if let (Some(answers), Observation::Ready(body)) = (answers, &observation) {
                if !body.is_null() {
                    answers.record(path, Some(body.clone()));
                }
            }
            Ok(observation)
        }
        Err(err) if err.is_not_found() => Ok(on_404()),
        Err(err) if no_answer(&err) => Ok(Observation::Unanswered(err.to_string())),
        Err(err) => Err(StepEnd::api(&format!("reading {path}"), &err)),
    }
}

/// True when the API did not really answer: 5xx, 429, or nothing at all (the client already
/// retried what its policy allows).
pub(crate) fn no_answer(err: &OvhError) -> bool {
    match err.status() {
        Some(status) => status.is_server_error() || status.as_u16() == 429,
        None => matches!(err, OvhError::Transport { .. }),
    }
}

/// `1m05s`, `850ms`: for messages.
pub(crate) fn human(elapsed: Duration) -> String {
    let secs = elapsed.as_secs();
    if secs == 0 {
        format!("{}ms", elapsed.as_millis())
    } else if secs < 60 {
        format!("{:.1}s", elapsed.as_secs_f64())
    } else {
        format!("{}m{:02}s", secs / 60, secs % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A family's default wait (a database service's): far beyond every test's own end.
    const WAIT: Duration = Duration::from_secs(40 * 60);
    use crate::engine::Silent;
    use crate::manifest::model::Kind;
    use std::cell::Cell;

    #[test]
    fn the_retry_schedule_starts_quick_doubles_and_stops_at_the_cap() {
        let mut schedule = PollSchedule::new(Duration::from_secs(2));
        let mut bases = Vec::new();
        for _ in 0..6 {
            bases.push(schedule.peek());
            let delay = schedule.next_delay();
            let base = *bases.last().unwrap();
            assert!(
                delay >= base.mul_f64(0.8) && delay <= base.mul_f64(1.2),
                "{delay:?} is not within 20% of {base:?}"
            );
        }
        let ms: Vec<u128> = bases.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, [250, 500, 1000, 2000, 2000, 2000]);
        // A cap below the first interval is the interval.
        assert_eq!(
            PollSchedule::new(Duration::from_millis(100)).peek(),
            Duration::from_millis(100)
        );
    }

    #[test]
    fn jitter_spreads_parallel_polls() {
        let delays: std::collections::BTreeSet<u128> = (0..20)
            .map(|_| {
                PollSchedule::new(Duration::from_secs(1))
                    .next_delay()
                    .as_micros()
            })
            .collect();
        assert!(delays.len() > 1, "no jitter: {delays:?}");
    }

    fn poller(run_deadline: Instant) -> (ReadinessPoll<'static>, &'static Address) {
        let address: &'static Address = Box::leak(Box::new(Address {
            kind: Kind::DatabaseService,
            name: "orders-db".into(),
        }));
        let pacer: &'static Pacer = Box::leak(Box::default());
        let slot: &'static Slot = Box::leak(Box::new(Slot::new(Arc::new(Semaphore::new(1)))));
        (
            ReadinessPoll {
                progress: &Silent,
                address,
                max_interval: Duration::from_millis(20),
                run_deadline,
                pacer,
                class: "test".into(),
                slot,
            },
            address,
        )
    }

    fn state(last_poll_ms: u64, polls: u32, role: Role, learned_ms: Option<u64>) -> WaitState {
        WaitState {
            last_poll: Duration::from_millis(last_poll_ms),
            polls,
            role,
            learned: learned_ms.map(Duration::from_millis),
            max: Duration::from_secs(30),
            jitter: 1.0,
        }
    }

    fn at_ms(state: &WaitState) -> u128 {
        next_poll_at(state).as_millis()
    }

    #[test]
    fn a_leader_polls_quickly_then_at_a_share_of_the_time_waited() {
        // 250 ms, doubling, up to 1 s while 5% of the wait is under 1 s.
        assert_eq!(at_ms(&state(0, 0, Role::Leader, None)), 250);
        assert_eq!(at_ms(&state(250, 1, Role::Leader, None)), 750);
        assert_eq!(at_ms(&state(750, 2, Role::Leader, None)), 1750);
        assert_eq!(at_ms(&state(1750, 3, Role::Leader, None)), 2750);
        assert_eq!(at_ms(&state(19_000, 20, Role::Leader, None)), 20_000);
        // Then 5% of the time waited: 10 minutes in, every 30 s (the cap).
        assert_eq!(at_ms(&state(100_000, 30, Role::Leader, None)), 105_000);
        assert_eq!(at_ms(&state(600_000, 60, Role::Leader, None)), 630_000);
        assert_eq!(at_ms(&state(1_200_000, 80, Role::Leader, None)), 1_230_000);
        // The cap wins over everything (tests run with tiny caps).
        let mut tiny = state(0, 0, Role::Leader, None);
        tiny.max = Duration::from_millis(20);
        assert_eq!(at_ms(&tiny), 20);
    }

    #[test]
    fn a_follower_waits_for_what_its_class_learned() {
        // Nothing learned yet: only a safety poll at the cap.
        assert_eq!(at_ms(&state(0, 0, Role::Follower, None)), 30_000);
        // A wait of its class took 20.4 s: one poll then, whatever the role.
        assert_eq!(at_ms(&state(0, 0, Role::Follower, Some(20_400))), 20_400);
        assert_eq!(at_ms(&state(3_000, 1, Role::Leader, Some(20_400))), 20_400);
        // Not ready by then: it goes on as a leader would (1 s at 20 s).
        assert_eq!(
            at_ms(&state(20_400, 1, Role::Follower, Some(20_400))),
            20_900
        );
        assert_eq!(
            at_ms(&state(20_900, 2, Role::Follower, Some(20_400))),
            21_900
        );
    }

    #[test]
    fn jitter_moves_the_interval_not_the_learned_time() {
        let mut jittered = state(19_000, 20, Role::Leader, None);
        jittered.jitter = 1.2;
        assert_eq!(at_ms(&jittered), 20_200);
        let mut learned = state(0, 0, Role::Follower, Some(20_400));
        learned.jitter = 1.2;
        assert_eq!(at_ms(&learned), 20_400);
    }

    #[tokio::test]
    async fn the_oldest_wait_leads_and_the_lead_passes_on() {
        let pacer = Pacer::default();
        let t0 = Instant::now();
        let first = pacer.join("c", t0);
        let second = pacer.join("c", t0 + Duration::from_millis(50));
        let other = pacer.join("other", t0 + Duration::from_millis(100));
        assert_eq!(first.role_and_learned(), (Role::Leader, None));
        assert_eq!(second.role_and_learned(), (Role::Follower, None));
        assert_eq!(other.role_and_learned(), (Role::Leader, None));
        let mut changes = pacer.subscribe();
        changes.borrow_and_update();
        pacer.learn("c", Duration::from_secs(20));
        pacer.learn("c", Duration::from_secs(21));
        assert!(changes.has_changed().unwrap());
        drop(first);
        assert_eq!(
            second.role_and_learned(),
            (Role::Leader, Some(Duration::from_secs(20)))
        );
        assert_eq!(other.role_and_learned(), (Role::Leader, None));
    }

    #[tokio::test(start_paused = true)]
    async fn followers_poll_once_when_the_leader_has_shown_the_way() {
        // Three services created 50 ms apart, each READY 20 s after its creation: the leader
        // polls on its schedule, each follower once, at its own start + what the leader took.
        let pacer: &'static Pacer = Box::leak(Box::default());
        let slots = Arc::new(Semaphore::new(8));
        let address = Address {
            kind: Kind::DatabaseService,
            name: "orders-db".into(),
        };
        let t0 = tokio::time::Instant::now();
        let polls = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let waits = (0..3u64).map(|i| {
            let slots = slots.clone();
            let address = &address;
            let polls = polls.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(50 * i)).await;
                let slot = Slot::new(slots);
                slot.take().await;
                let poll = ReadinessPoll {
                    progress: &Silent,
                    address,
                    max_interval: Duration::from_secs(30),
                    run_deadline: Instant::now() + Duration::from_secs(600),
                    pacer,
                    class: "DatabaseService + service ready".into(),
                    slot: &slot,
                };
                let ready_at = t0 + Duration::from_millis(20_000 + 50 * i);
                poll.until("service", WAIT, "CREATING", || {
                    let now = tokio::time::Instant::now();
                    polls.lock().unwrap().push((i, now - t0));
                    async move {
                        Ok(if now >= ready_at {
                            Observation::Ready(serde_json::json!({"status": "READY"}))
                        } else {
                            Observation::Pending("CREATING".into())
                        })
                    }
                })
                .await
                .unwrap();
                tokio::time::Instant::now() - ready_at
            }
        });
        let late = futures::future::join_all(waits).await;
        let polls = polls.lock().unwrap().clone();
        let count = |i| polls.iter().filter(|(j, _)| *j == i).count();
        assert_eq!((count(1), count(2)), (1, 1), "{polls:?}");
        assert!(count(0) <= 25, "the leader polled {} times", count(0));
        for late in late {
            assert!(
                late <= Duration::from_millis(1_300),
                "noticed {late:?} late"
            );
        }
    }

    #[tokio::test]
    async fn a_wait_ends_ready_with_the_answer() {
        let (poll, _) = poller(Instant::now() + Duration::from_secs(5));
        let polls = Cell::new(0);
        let answer = poll
            .until("service s", Duration::from_secs(5), "CREATING", || {
                polls.set(polls.get() + 1);
                let n = polls.get();
                async move {
                    Ok(if n < 3 {
                        Observation::Pending("CREATING".into())
                    } else {
                        Observation::Ready(serde_json::json!({"status": "READY"}))
                    })
                }
            })
            .await
            .unwrap();
        assert_eq!(answer["status"], "READY");
        assert_eq!(polls.get(), 3);
    }

    #[tokio::test]
    async fn the_run_deadline_cuts_the_kind_deadline_and_reports_the_last_status() {
        let (poll, _) = poller(Instant::now() + Duration::from_millis(60));
        let start = Instant::now();
        let end = poll
            .until("service s", WAIT, "CREATING", || async {
                Ok(Observation::Pending("UPDATING".into()))
            })
            .await
            .unwrap_err();
        assert_eq!(
            end,
            StepEnd::InProgress {
                last_status: "UPDATING".into()
            }
        );
        assert!(start.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn an_unanswered_poll_keeps_the_last_status_and_an_unexpected_one_fails_at_once() {
        let (poll, _) = poller(Instant::now() + Duration::from_millis(40));
        let end = poll
            .until("user u", WAIT, "CREATING", || async {
                Ok(Observation::Unanswered("500".into()))
            })
            .await
            .unwrap_err();
        assert_eq!(
            end,
            StepEnd::InProgress {
                last_status: "CREATING".into()
            }
        );
        let (poll, _) = poller(Instant::now() + Duration::from_secs(5));
        let end = poll
            .until("service s", WAIT, "CREATING", || async {
                Ok(Observation::Unexpected("ERROR".into()))
            })
            .await
            .unwrap_err();
        let StepEnd::Failed { message, .. } = end else {
            panic!("{end:?}")
        };
        assert!(
            message.starts_with("service s is in unexpected state ERROR"),
            "{message}"
        );
    }

    #[test]
    fn human_durations() {
        assert_eq!(human(Duration::from_millis(850)), "850ms");
        assert_eq!(human(Duration::from_millis(1500)), "1.5s");
        assert_eq!(human(Duration::from_secs(65)), "1m05s");
    }
}
