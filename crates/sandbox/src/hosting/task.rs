//! Web Hosting tasks: every write starts one, and its status is read off the clock.
//!
//! Timeline for a task started at `t` with the sandbox's `ready_after` = `w`:
//! `todo` during the first third of `w`, `doing` until `t + w` (when the object it works on
//! settles), `done` until `t + 2w`, then gone (`GET /tasks/{id}` answers 404), which is how the
//! real API ends a task (php-ovh's example and Terraform both wait for that 404).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::time::Duration;

/// `hosting.web.task.StatusEnum`.
pub const STATUSES: &[&str] = &["cancelled", "doing", "done", "init", "todo"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    pub id: u64,
    /// A `hosting.web.task.FunctionEnum` value, e.g. `attachedDomain/create`.
    pub function: String,
    /// A `hosting.web.task.ObjectTypeEnum` value, e.g. `AttachedDomain`.
    pub object_type: String,
    /// What the task works on: a domain, a database name, the hosting name for SSL.
    pub object_id: String,
    pub start_date: DateTime<Utc>,
    pub doing_at: DateTime<Utc>,
    pub done_at: DateTime<Utc>,
    pub gone_at: DateTime<Utc>,
}

/// A date as the real API writes it: `2024-05-02T10:11:12+00:00` (seconds, explicit offset).
pub fn date(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// `now + wait`, saturating on absurd durations.
pub fn after(now: DateTime<Utc>, wait: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX / 2)
}

impl Task {
    pub fn start(
        id: u64,
        function: &str,
        object_type: &str,
        object_id: &str,
        now: DateTime<Utc>,
        wait: Duration,
    ) -> Task {
        Task {
            id,
            function: function.to_string(),
            object_type: object_type.to_string(),
            object_id: object_id.to_string(),
            start_date: now,
            doing_at: after(now, wait / 3),
            done_at: after(now, wait),
            gone_at: after(now, wait * 2),
        }
    }

    /// The status at `now`, or `None` once the task is gone.
    pub fn status(&self, now: DateTime<Utc>) -> Option<&'static str> {
        if now < self.doing_at {
            Some("todo")
        } else if now < self.done_at {
            Some("doing")
        } else if now < self.gone_at {
            Some("done")
        } else {
            None
        }
    }

    /// The task as `hosting.web.PublicTask` (also the shape of `hosting.web.task`).
    pub fn to_json(&self, now: DateTime<Utc>) -> Value {
        let status = self.status(now).unwrap_or("done");
        let last_update = match status {
            "todo" => self.start_date,
            "doing" => self.doing_at,
            _ => self.done_at,
        };
        json!({
            "doneDate": (status == "done").then(|| date(self.done_at)),
            "function": self.function,
            "id": self.id,
            "lastUpdate": date(last_update),
            "objectId": self.object_id,
            "objectType": self.object_type,
            "startDate": date(self.start_date),
            "status": status,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn todo_doing_done_then_gone() {
        let t0 = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let task = Task::start(
            7,
            "attachedDomain/create",
            "AttachedDomain",
            "a.fr",
            t0,
            Duration::from_secs(3),
        );
        let at = |s: i64| t0 + chrono::Duration::seconds(s);
        assert_eq!(task.status(at(0)), Some("todo"));
        assert_eq!(task.status(at(1)), Some("doing"));
        assert_eq!(task.status(at(3)), Some("done"));
        assert_eq!(task.to_json(at(3))["doneDate"], "2023-11-14T22:13:23+00:00");
        assert_eq!(task.status(at(6)), None);
    }
}
