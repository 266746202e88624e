//! The API's answers of one apply run, so that no request is made twice: the plan's read fills
//! it, the engine records what its polls saw an object end in and forgets what its writes may
//! have changed, and the verification read after the run asks the API only for the rest.
//!
//! What a write forgets (`forget_after`): the path it was sent to (a `POST` to a list: the
//! list); for a `PUT` everything below it too; for a `DELETE` everything below it and the list
//! the object leaves. An action (`ACTIONS`:
//! `.../ssl/regenerate`, `.../credentials/reset`) changes the object it acts on: that object
//! and everything below it are forgotten (a regeneration changes `ssl` and `ssl/domains`; the
//! step's polls record `ssl` again, never `ssl/domains`, so the verification reads that one
//! afresh). A write to a child never changes its parent's answer in the routes reconcile
//! manages (a user's `POST` does not change its service's `GET`), so parents and siblings are
//! kept. One exception: a create or delete of a database service also changes its project's
//! index of every engine's services (`.../database/service` and the gets below it), which is
//! forgotten with it.

use crate::ovh::Method;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;

/// The last segments of a `POST` that acts on the object above it rather than creating one.
const ACTIONS: &[&str] = &["/regenerate", "/credentials/reset"];

/// Answers by path (`None`: the path answered 404).
#[derive(Debug, Default)]
pub struct Answers {
    by_path: Mutex<HashMap<String, Option<Value>>>,
}

impl Answers {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Option<Value>>> {
        self.by_path.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What `GET path` last answered in this run: `Some(Some(body))`, `Some(None)` for a 404,
    /// `None` when it must be asked.
    pub fn get(&self, path: &str) -> Option<Option<Value>> {
        self.map().get(path).cloned()
    }

    /// `GET path` answered `body` (`None`: 404).
    pub fn record(&self, path: &str, body: Option<Value>) {
        self.map().insert(path.to_owned(), body);
    }

    /// Forgets the answer of `path` (it may have changed without a write of this run).
    pub fn forget(&self, path: &str) {
        self.map().remove(path);
    }

    /// `method path` was sent (whatever came back): forgets what it may have changed.
    pub fn forget_after(&self, method: &Method, path: &str) {
        let acted_on = (*method == Method::POST)
            .then(|| ACTIONS.iter().find_map(|action| path.strip_suffix(action)))
            .flatten();
        let path = acted_on.unwrap_or(path);
        let below = (*method != Method::POST || acted_on.is_some()).then(|| format!("{path}/"));
        let list = (*method == Method::DELETE)
            .then(|| path.rsplit_once('/').map(|(list, _)| list))
            .flatten();
        let index = (*method != Method::PUT)
            .then(|| project_index(path))
            .flatten();
        self.map().retain(|known, _| {
            known != path
                && !below.as_ref().is_some_and(|below| known.starts_with(below))
                && Some(known.as_str()) != list
                && !index.as_ref().is_some_and(|index| known.starts_with(index))
        });
    }
}

/// `/cloud/project/{p}/database/service`, the index of every engine's services, for a path
/// that creates or deletes a service of that project (`.../database/{engine}[/{id}]`).
fn project_index(path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        ["", "cloud", "project", project, "database", engine] if *engine != "service" => {
            Some(format!("/cloud/project/{project}/database/service"))
        }
        ["", "cloud", "project", project, "database", engine, _] if *engine != "service" => {
            Some(format!("/cloud/project/{project}/database/service"))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const LIST: &str = "/cloud/project/p1/database/mongodb";

    fn filled() -> Answers {
        let answers = Answers::default();
        answers.record(LIST, Some(json!(["s1", "s2"])));
        answers.record(&format!("{LIST}/s1"), Some(json!({"id": "s1"})));
        answers.record(&format!("{LIST}/s1/user"), Some(json!(["u1"])));
        answers.record(&format!("{LIST}/s1/user/u1"), Some(json!({"id": "u1"})));
        answers.record(&format!("{LIST}/s2"), Some(json!({"id": "s2"})));
        answers.record("/hosting/web/h/ssl", None);
        answers
    }

    fn kept(answers: &Answers) -> Vec<String> {
        let mut kept: Vec<String> = answers.map().keys().cloned().collect();
        kept.sort();
        kept
    }

    #[test]
    fn a_create_forgets_its_list_and_keeps_the_rest() {
        let answers = filled();
        answers.forget_after(&Method::POST, LIST);
        assert_eq!(answers.get(LIST), None);
        assert_eq!(kept(&answers).len(), 5);
        answers.forget_after(&Method::POST, &format!("{LIST}/s1/user"));
        assert_eq!(
            answers.get(&format!("{LIST}/s1")),
            Some(Some(json!({"id": "s1"})))
        );
        assert_eq!(answers.get(&format!("{LIST}/s1/user")), None);
        assert!(answers.get(&format!("{LIST}/s1/user/u1")).is_some());
    }

    /// Issue 9 item 6: after `POST .../ssl/regenerate`, the verification compared the SSL
    /// domains with the answer read before the write.
    #[test]
    fn an_action_forgets_the_object_it_acts_on_and_below() {
        let answers = filled();
        answers.record("/hosting/web/h/ssl", Some(json!({"status": "created"})));
        answers.record("/hosting/web/h/ssl/domains", Some(json!(["a.example"])));
        answers.record("/hosting/web/h/attachedDomain", Some(json!(["a.example"])));
        answers.forget_after(&Method::POST, "/hosting/web/h/ssl/regenerate");
        assert_eq!(answers.get("/hosting/web/h/ssl"), None);
        assert_eq!(answers.get("/hosting/web/h/ssl/domains"), None);
        assert!(answers.get("/hosting/web/h/attachedDomain").is_some());
        answers.forget_after(
            &Method::POST,
            &format!("{LIST}/s1/user/u1/credentials/reset"),
        );
        assert_eq!(answers.get(&format!("{LIST}/s1/user/u1")), None);
        assert!(answers.get(&format!("{LIST}/s1/user")).is_some());
    }

    #[test]
    fn an_update_forgets_the_object_and_below_and_a_delete_its_list_too() {
        let answers = filled();
        answers.forget_after(&Method::PUT, &format!("{LIST}/s1/user/u1"));
        assert_eq!(answers.get(&format!("{LIST}/s1/user/u1")), None);
        assert!(answers.get(&format!("{LIST}/s1/user")).is_some());
        answers.forget_after(&Method::DELETE, &format!("{LIST}/s1"));
        assert_eq!(
            kept(&answers),
            [format!("{LIST}/s2"), "/hosting/web/h/ssl".to_owned()]
        );
        // A 404 is an answer too, until something is written there.
        assert_eq!(answers.get("/hosting/web/h/ssl"), Some(None));
        answers.forget_after(&Method::POST, "/hosting/web/h/ssl");
        assert_eq!(answers.get("/hosting/web/h/ssl"), None);
    }

    #[test]
    fn a_service_created_or_deleted_forgets_the_project_index() {
        let answers = filled();
        let index = "/cloud/project/p1/database/service";
        let index_get = format!("{index}/s9");
        for method in [Method::POST, Method::DELETE] {
            answers.record(index, Some(json!(["s9"])));
            answers.record(&index_get, Some(json!({"id": "s9"})));
            let path = if method == Method::POST {
                LIST.to_owned()
            } else {
                format!("{LIST}/s2")
            };
            answers.forget_after(&method, &path);
            assert_eq!((answers.get(index), answers.get(&index_get)), (None, None));
        }
        // A user's create or an update keep it.
        answers.record(index, Some(json!(["s9"])));
        answers.forget_after(&Method::POST, &format!("{LIST}/s1/user"));
        answers.forget_after(&Method::PUT, &format!("{LIST}/s1"));
        assert!(answers.get(index).is_some());
    }
}
