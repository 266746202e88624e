//! The simulator's time. Every instant the sandbox reasons with (lifecycle deadlines,
//! `createdAt`, hosting task phases, `/auth/time`, the `X-Ovh-Timestamp` check, query ids) is read
//! from the [`Clock`] its `SandboxConfig` holds: the system clock by default (what
//! `reconcile sandbox serve` and `--sandbox` run on), a [`ManualClock`] in tests, which moves only
//! when told to, so a lifecycle (`CREATING -> READY`, `DELETING -> gone`, a task's
//! `todo -> doing -> done`) is walked through without waiting on the wall clock.
//!
//! Not on this clock: connection and body timeouts, `--latency`, and the `--rate-limit` bucket,
//! which are about real sockets and real request rates.

use chrono::{DateTime, Utc};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Where the sandbox reads the time.
#[derive(Clone, Default)]
pub enum Clock {
    /// The system clock.
    #[default]
    System,
    /// A clock that stands still until advanced; clones share it.
    Manual(ManualClock),
}

impl Clock {
    /// The current instant.
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Manual(clock) => clock.now(),
        }
    }

    /// The manual clock behind this one, if it is one.
    pub fn manual(&self) -> Option<&ManualClock> {
        match self {
            Clock::System => None,
            Clock::Manual(clock) => Some(clock),
        }
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Clock::System => f.write_str("Clock::System"),
            Clock::Manual(clock) => write!(f, "Clock::Manual({})", clock.now()),
        }
    }
}

impl From<ManualClock> for Clock {
    fn from(clock: ManualClock) -> Self {
        Clock::Manual(clock)
    }
}

/// A clock tests move by hand. Clones share one instant, so the test keeps a handle and the
/// sandbox reads the same time.
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        ManualClock(Arc::new(Mutex::new(start)))
    }

    /// A clock standing at the system time of its creation (so that clients signing with the
    /// system time stay within the timestamp tolerance until it is moved far).
    pub fn starting_now() -> Self {
        Self::new(Utc::now())
    }

    pub fn now(&self) -> DateTime<Utc> {
        *self.lock()
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let by = chrono::Duration::from_std(by).expect("an advance of less than 292 years");
        *self.lock() += by;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, DateTime<Utc>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_stands_still_until_advanced_and_clones_share_it() {
        let start = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let manual = ManualClock::new(start);
        let clock = Clock::from(manual.clone());
        assert_eq!(clock.now(), start);
        assert_eq!(clock.now(), start);
        manual.advance(Duration::from_millis(1500));
        assert_eq!(clock.now(), start + chrono::Duration::milliseconds(1500));
        assert_eq!(clock.clone().now(), manual.now());
        assert!(clock.manual().is_some());
        assert!(Clock::System.manual().is_none());
    }
}
