//! Readiness polling: waiting for an object to reach the state a step needs (`READY`,
//! `created`, `running`, gone), with an adaptive schedule and a deadline. Polling is not
//! retrying: each poll is one ordinary `GET` through the shared client (and its one rate
//! budget); the client's retry policy only deals with a poll that got no answer.
//!
//! Schedule: a first look at once, then 250 ms, doubling up to `max_poll_interval`, each delay
//! with ±20% jitter so that parallel steps do not poll in lockstep. With the sandbox's fast
//! timings the change is seen within a few hundred milliseconds; against the real API (minutes)
//! a wait settles at one poll per `max_poll_interval`.
//!
//! Deadline: the kind's default (`Deadlines`), cut to what is left of the run's `--timeout`.
//! When it passes the wait ends `InProgress` with the last status seen; a re-run finds the
//! object in that state and waits again instead of re-issuing the write.

use super::step::{StepEnd, StepResult};
use super::Progress;
use crate::manifest::model::Address;
use crate::ovh::{Client, Method, OvhError};
use serde_json::Value;
use std::future::Future;
use std::time::{Duration, Instant};

/// The per-kind default wait, before the run's budget cuts it (Terraform's timeouts, raised
/// where the field showed them short: TF #303, #591).
pub(crate) struct Deadlines;

impl Deadlines {
    /// A database service becoming `READY` after a create or an update.
    pub const SERVICE: Duration = Duration::from_secs(40 * 60);
    /// A database service going away.
    pub const SERVICE_DELETE: Duration = Duration::from_secs(20 * 60);
    /// A database user (create, update, delete).
    pub const USER: Duration = Duration::from_secs(20 * 60);
    /// A Web Hosting task and the object it works on (domains, SSL, databases).
    pub const HOSTING: Duration = Duration::from_secs(10 * 60);
    /// A managed MySQL stack (create, delete).
    pub const STACK: Duration = Duration::from_secs(20 * 60);
}

/// The first delay between polls.
pub(crate) const FIRST_POLL_INTERVAL: Duration = Duration::from_millis(250);

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

/// Delays between polls: `FIRST_POLL_INTERVAL`, doubling up to a cap, jittered.
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

    /// The delay before the next poll (jittered), and the schedule moves on.
    pub fn next_delay(&mut self) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(self.max);
        base.mul_f64(rand::random_range(0.8..=1.2))
    }

    /// The delay before the next poll without jitter.
    #[cfg(test)]
    pub fn peek(&self) -> Duration {
        self.next
    }
}

/// One wait: for `address`, until `deadline`, telling `progress` on each poll.
pub(crate) struct ReadinessPoll<'a> {
    pub progress: &'a dyn Progress,
    pub address: &'a Address,
    pub max_interval: Duration,
    /// The run's deadline (`--timeout` from the start of the run).
    pub run_deadline: Instant,
}

impl ReadinessPoll<'_> {
    /// Polls `probe` until it says `Ready` (its answer is returned), fails on `Unexpected`,
    /// and ends `InProgress` with the last status when `limit` (cut to the run's deadline)
    /// has passed. `what` names the object in messages ("service 0f6b..."). `initial` is the
    /// status known before the first poll (e.g. from the write's answer).
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
        let start = Instant::now();
        let deadline = (start + limit).min(self.run_deadline);
        let mut schedule = PollSchedule::new(self.max_interval);
        let mut last = initial.to_owned();
        loop {
            match probe().await? {
                Observation::Ready(answer) => return Ok(answer),
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
            let elapsed = start.elapsed();
            self.progress.waiting(self.address, &last, elapsed);
            let now = Instant::now();
            if now >= deadline {
                tracing::info!(
                    address = %self.address,
                    %what,
                    last_status = %last,
                    elapsed_ms = elapsed.as_millis() as u64,
                    "wait budget spent, still in progress"
                );
                return Err(StepEnd::InProgress { last_status: last });
            }
            let delay = schedule.next_delay().min(deadline - now);
            tokio::time::sleep(delay).await;
        }
    }
}

/// `GET path` as an observation: `classify` reads a 2xx answer; a 404 is `on_404`; no answer
/// is `Unanswered`; any other error fails the step.
pub(crate) async fn observe(
    client: &Client,
    path: &str,
    on_404: impl FnOnce() -> Observation,
    classify: impl FnOnce(Value) -> Observation,
) -> StepResult<Observation> {
    match client.call(Method::GET, path, None).await {
        Ok(answer) => Ok(classify(answer.body)),
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
    use crate::engine::Silent;
    use crate::manifest::model::Kind;
    use std::cell::Cell;

    #[test]
    fn the_schedule_starts_quick_doubles_and_stops_at_the_cap() {
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
        (
            ReadinessPoll {
                progress: &Silent,
                address,
                max_interval: Duration::from_millis(20),
                run_deadline,
            },
            address,
        )
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
            .until("service s", Deadlines::SERVICE, "CREATING", || async {
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
            .until("user u", Deadlines::USER, "CREATING", || async {
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
            .until("service s", Deadlines::SERVICE, "CREATING", || async {
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
