//! Time-driven status of a sandbox object: a settled status, or a transition
//! (`CREATING` until a deadline, then `READY`; `DELETING` until a deadline, then gone).
//!
//! Statuses are computed from the clock when read, so nothing runs in the background and a
//! persisted state file resumes exactly where it was after a restart.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lifecycle {
    /// The status once no transition is running.
    pub settled: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transition: Option<Transition>,
}

/// `during` until `until` (never, when `None`: a stuck object), then `then`
/// (the object is gone, when `None`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    pub during: String,
    pub since: DateTime<Utc>,
    pub until: Option<DateTime<Utc>>,
    pub then: Option<String>,
}

impl Lifecycle {
    /// An object already in `status`, with nothing running.
    pub fn settled(status: &str) -> Self {
        Lifecycle {
            settled: status.to_string(),
            transition: None,
        }
    }

    /// A new object: `during` for `wait`, then `then`.
    pub fn starting(during: &str, then: &str, now: DateTime<Utc>, wait: Duration) -> Self {
        let mut lifecycle = Lifecycle::settled(then);
        lifecycle.begin(during, now, wait);
        lifecycle
    }

    /// Starts a transition that ends back in the settled status (e.g. `UPDATING` -> `READY`).
    pub fn begin(&mut self, during: &str, now: DateTime<Utc>, wait: Duration) {
        self.fold(now);
        self.transition = Some(Transition {
            during: during.to_string(),
            since: now,
            until: Some(now + chrono::Duration::from_std(wait).unwrap_or_default()),
            then: Some(self.settled.clone()),
        });
    }

    /// Starts a removal: `during` for `wait`, then the object is gone.
    pub fn begin_removal(&mut self, during: &str, now: DateTime<Utc>, wait: Duration) {
        self.begin(during, now, wait);
        if let Some(transition) = &mut self.transition {
            transition.then = None;
        }
    }

    /// Makes the running transition last forever (the "stuck in PENDING" fault).
    pub fn stick(&mut self) {
        if let Some(transition) = &mut self.transition {
            transition.until = None;
        }
    }

    /// The status at `now`, or `None` when the object is gone.
    pub fn status(&self, now: DateTime<Utc>) -> Option<&str> {
        match &self.transition {
            None => Some(&self.settled),
            Some(t) if t.until.is_none_or(|until| now < until) => Some(&t.during),
            Some(t) => t.then.as_deref(),
        }
    }

    /// The status at `now` as an owned string (`"DELETED"` once gone, for convenience).
    pub fn status_string(&self, now: DateTime<Utc>) -> String {
        self.status(now).unwrap_or("DELETED").to_string()
    }

    /// True while a transition is running at `now`.
    pub fn is_busy(&self, now: DateTime<Utc>) -> bool {
        matches!(&self.transition, Some(t) if t.until.is_none_or(|until| now < until))
    }

    pub fn is_gone(&self, now: DateTime<Utc>) -> bool {
        self.status(now).is_none()
    }

    /// When the running transition ends (`None` if settled or stuck).
    pub fn busy_until(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.transition
            .as_ref()
            .filter(|_| self.is_busy(now))
            .and_then(|t| t.until)
    }

    /// Folds a finished transition into the settled status.
    fn fold(&mut self, now: DateTime<Utc>) {
        if let Some(t) = &self.transition {
            if !self.is_busy(now) {
                if let Some(then) = &t.then {
                    self.settled = then.clone();
                }
                self.transition = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn creating_turns_ready_at_the_deadline() {
        let l = Lifecycle::starting("CREATING", "READY", at(0), Duration::from_secs(10));
        assert_eq!(l.status(at(9)), Some("CREATING"));
        assert!(l.is_busy(at(9)));
        assert_eq!(l.status(at(10)), Some("READY"));
        assert!(!l.is_busy(at(10)));
    }

    #[test]
    fn removal_ends_gone() {
        let mut l = Lifecycle::settled("READY");
        l.begin_removal("DELETING", at(0), Duration::from_secs(5));
        assert_eq!(l.status(at(1)), Some("DELETING"));
        assert!(l.is_gone(at(5)));
    }

    #[test]
    fn stuck_transition_never_ends() {
        let mut l = Lifecycle::starting("PENDING", "READY", at(0), Duration::from_secs(1));
        l.stick();
        assert_eq!(l.status(at(1_000_000)), Some("PENDING"));
    }

    #[test]
    fn a_new_transition_folds_the_finished_one() {
        let mut l = Lifecycle::starting("CREATING", "READY", at(0), Duration::from_secs(1));
        l.begin("UPDATING", at(5), Duration::from_secs(1));
        assert_eq!(l.status(at(5)), Some("UPDATING"));
        assert_eq!(l.status(at(6)), Some("READY"));
    }
}
