//! Web Hosting steps: attached domains, the SSL certificate, hosting databases.
//!
//! Every hosting write starts a task: the step follows it (`GET .../tasks/{id}`: `init`,
//! `todo`, `doing` on the way; `done`, or 404 once it has been seen, is the end; `cancelled`
//! or `error` fail), then the object's own `status` until `created` (or until it answers 404
//! for a delete). The task id comes from the write's answer (a task, or the object with its
//! `taskId`), else from the object read after the write (a `PUT` answers nothing).
//!
//! Identity before a create: an attached domain by `GET .../attachedDomain/{domain}`; the
//! certificate by `GET .../ssl`; a database by the list filtered on its `user`, then each
//! one's `user`. One found on its way out (`deleting`) is waited out, then created again.

use crate::engine::readiness::{observe, Observation};
use crate::engine::step::get_if_present;
use crate::engine::step::{status_of, Creation, Lookup, Step, StepEnd, StepResult};
use crate::family::hosting::{
    attached_domain_path, attached_domains_path, database_path, databases_of_user_path,
    databases_path, ssl_path, task_path, Call,
};
use crate::live::mapping;
use crate::ovh::{Client, Method};
use serde_json::Value;
use std::time::Duration;

/// Object statuses on the way to `created`: the planner's list, so that what a plan shows
/// in progress is what a step waits through.
pub(crate) use crate::plan::HOSTING_ON_THE_WAY as ON_THE_WAY;

/// Its default waits, before the run's budget cuts them (Terraform's timeouts, as the database
/// family's `Deadlines` says).
pub(crate) struct Deadlines;

impl Deadlines {
    /// A Web Hosting task and the object it works on (domains, SSL, databases).
    pub const HOSTING: Duration = Duration::from_secs(10 * 60);
}

/// A hosting object found by identity: its key (domain, database name, hosting), status and
/// running task.
pub(crate) struct FoundObject {
    pub key: String,
    pub status: String,
    pub task: Option<i64>,
}

fn found(key: String, answer: &Value, path: String) -> Lookup<FoundObject> {
    let status = status_of(answer);
    if status.eq_ignore_ascii_case("deleting") {
        return Lookup::Leaving { path, status };
    }
    Lookup::Present(FoundObject {
        key,
        status,
        task: answer.get("taskId").and_then(Value::as_i64),
    })
}

/// The task a write answered: a task (`id` + `function`), or an object with its `taskId`.
fn task_of(answer: &Value) -> Option<i64> {
    if answer.get("function").is_some() {
        answer.get("id").and_then(Value::as_i64)
    } else {
        answer.get("taskId").and_then(Value::as_i64)
    }
}

/// Follows task `id` of `hosting` to its end.
async fn follow_task(step: &Step<'_, '_>, hosting: &str, id: i64) -> StepResult<()> {
    let client = step.client();
    let path = task_path(hosting, id);
    step.poll("task")
        .until(
            &format!("task {id}"),
            Deadlines::HOSTING,
            "task todo",
            || {
                observe(
                    client,
                    step.answers(),
                    &path,
                    // The task was seen (its id came from an answer): gone means finished.
                    || Observation::Ready(Value::Null),
                    move |task| {
                        let status = status_of(&task);
                        match status.as_str() {
                            "done" => Observation::Ready(task),
                            "init" | "todo" | "doing" => {
                                Observation::Pending(format!("task {status}"))
                            }
                            _ => Observation::Unexpected(format!("task {id} {status}")),
                        }
                    },
                )
            },
        )
        .await
        .map(|_| ())
}

/// Polls `path` until the object is `created`. `absent_is_pending`: a 404 means "not visible
/// yet" (a database while its create task runs) rather than a failure.
async fn object_created(
    step: &Step<'_, '_>,
    what: &str,
    path: &str,
    initial: &str,
    absent_is_pending: bool,
) -> StepResult<Value> {
    let client = step.client();
    step.poll("settle")
        .until(what, Deadlines::HOSTING, initial, || {
            observe(
                client,
                step.answers(),
                path,
                || {
                    if absent_is_pending {
                        Observation::Pending("not visible yet".into())
                    } else {
                        Observation::Unexpected("gone (404)".into())
                    }
                },
                |answer| {
                    let status = status_of(&answer);
                    if status == "created" {
                        Observation::Ready(answer)
                    } else if ON_THE_WAY.contains(&status.as_str()) {
                        Observation::Pending(status)
                    } else {
                        Observation::Unexpected(status)
                    }
                },
            )
        })
        .await
}

/// After a create or adoption: the task (if any), then the object `created`.
async fn settle(
    step: &Step<'_, '_>,
    hosting: &str,
    what: &str,
    path: &str,
    task: Option<i64>,
    initial: &str,
    absent_is_pending: bool,
) -> StepResult<Value> {
    if let Some(task) = task {
        follow_task(step, hosting, task).await?;
    }
    object_created(step, what, path, initial, absent_is_pending).await
}

/// The object `key` a create found or made, adopting what was found; its task and status.
fn created_or_adopted(
    step: &mut Step<'_, '_>,
    creation: Creation<FoundObject>,
    key: &str,
) -> (Option<i64>, String) {
    match creation {
        Creation::Found(found) | Creation::FoundAfterPost(found) => {
            step.adopt(&found.key);
            (found.task, found.status)
        }
        Creation::Created(answer) => {
            step.set_created(key);
            (task_of(&answer), "creating".into())
        }
    }
}

/// A write answered nothing useful (`PUT`): the object's running task, read back.
async fn task_after_write(
    step: &Step<'_, '_>,
    answer: Option<&Value>,
    path: &str,
    what: &str,
) -> StepResult<Option<i64>> {
    if let Some(task) = answer.and_then(task_of) {
        return Ok(Some(task));
    }
    Ok(get_if_present(step.client(), path, what)
        .await?
        .and_then(|object| object.get("taskId").and_then(Value::as_i64)))
}

/// Executes one planned hosting call (module doc).
pub(crate) async fn execute(
    step: &mut Step<'_, '_>,
    call: &Call,
    body: Option<Value>,
) -> StepResult<()> {
    match call {
        Call::CreateDomain {
            hosting, domain, ..
        } => create_domain(step, hosting, domain, body).await,
        Call::UpdateDomain {
            hosting, domain, ..
        } => update_domain(step, hosting, domain, body).await,
        Call::DeleteDomain { hosting, domain } => delete_domain(step, hosting, domain).await,
        Call::CreateSsl { hosting, .. } => create_ssl(step, hosting, body).await,
        Call::RegenerateSsl { hosting } => regenerate_ssl(step, hosting).await,
        Call::DeleteSsl { hosting } => delete_ssl(step, hosting).await,
        Call::CreateDatabase { hosting, user, .. } => {
            create_database(step, hosting, user, body).await
        }
        Call::DeleteDatabase { hosting, name } => delete_database(step, hosting, name).await,
    }
}

// ---------------------------------------------------------------------------------------------
// Waits resumed from an earlier run (no write)

pub(crate) async fn resume_domain(
    step: &mut Step<'_, '_>,
    hosting: &str,
    domain: &str,
    task: Option<i64>,
    status: &str,
) -> StepResult<()> {
    let path = attached_domain_path(hosting, domain);
    settle(
        step,
        hosting,
        &format!("domain {domain}"),
        &path,
        task,
        status,
        false,
    )
    .await
    .map(|_| ())
}

pub(crate) async fn resume_ssl(
    step: &mut Step<'_, '_>,
    hosting: &str,
    status: &str,
) -> StepResult<()> {
    let path = ssl_path(hosting);
    settle(
        step,
        hosting,
        "the ssl certificate",
        &path,
        None,
        status,
        false,
    )
    .await
    .map(|_| ())
}

pub(crate) async fn resume_database(
    step: &mut Step<'_, '_>,
    hosting: &str,
    name: &str,
    status: &str,
) -> StepResult<()> {
    let path = database_path(hosting, name);
    settle(
        step,
        hosting,
        &format!("database {name}"),
        &path,
        None,
        status,
        true,
    )
    .await
    .map(|_| ())
}

// ---------------------------------------------------------------------------------------------
// Attached domains

async fn find_domain(
    client: &Client,
    hosting: &str,
    domain: &str,
) -> StepResult<Lookup<FoundObject>> {
    let path = attached_domain_path(hosting, domain);
    Ok(
        match get_if_present(client, &path, &format!("domain {domain}")).await? {
            None => Lookup::Absent,
            Some(answer) => found(domain.to_owned(), &answer, path),
        },
    )
}

pub(crate) async fn create_domain(
    step: &mut Step<'_, '_>,
    hosting: &str,
    domain: &str,
    body: Option<Value>,
) -> StepResult<()> {
    let body = body.ok_or_else(|| StepEnd::failed("the planned domain creation has no body"))?;
    let client = step.client();
    let what = format!("domain {domain}");
    let collection = attached_domains_path(hosting);
    let creation = step
        .create_once(&what, &collection, Some(&body), Deadlines::HOSTING, || {
            Box::pin(find_domain(client, hosting, domain))
        })
        .await?;
    let (task, status) = created_or_adopted(step, creation, domain);
    let path = attached_domain_path(hosting, domain);
    settle(step, hosting, &what, &path, task, &status, false)
        .await
        .map(|_| ())
}

pub(crate) async fn update_domain(
    step: &mut Step<'_, '_>,
    hosting: &str,
    domain: &str,
    body: Option<Value>,
) -> StepResult<()> {
    let path = attached_domain_path(hosting, domain);
    let what = format!("domain {domain}");
    let this: &Step = step;
    let answer = this
        .write_when_idle(
            &what,
            Deadlines::HOSTING,
            Method::PUT,
            &path,
            body.as_ref(),
            || {
                Box::pin(async {
                    object_created(this, &what, &path, "", false)
                        .await
                        .map(|_| ())
                })
            },
        )
        .await?;
    let task = task_after_write(step, answer.as_ref().map(|a| &a.body), &path, &what).await?;
    settle(step, hosting, &what, &path, task, "updating", false)
        .await
        .map(|_| ())
}

pub(crate) async fn delete_domain(
    step: &mut Step<'_, '_>,
    hosting: &str,
    domain: &str,
) -> StepResult<()> {
    let path = attached_domain_path(hosting, domain);
    delete_and_follow(step, hosting, &format!("domain {domain}"), &path, &path).await
}

/// `DELETE path`, its task, then `gone_path` until 404.
async fn delete_and_follow(
    step: &Step<'_, '_>,
    hosting: &str,
    what: &str,
    path: &str,
    gone_path: &str,
) -> StepResult<()> {
    let Some(answer) = step.delete(what, path, Deadlines::HOSTING).await? else {
        return Ok(());
    };
    if let Some(task) = task_of(&answer) {
        follow_task(step, hosting, task).await?;
    }
    step.wait_gone(
        what,
        gone_path,
        Deadlines::HOSTING,
        "deleting",
        &["deleting"],
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// SSL

async fn find_ssl(client: &Client, hosting: &str) -> StepResult<Lookup<FoundObject>> {
    let path = ssl_path(hosting);
    Ok(
        match get_if_present(client, &path, "the ssl certificate").await? {
            None => Lookup::Absent,
            Some(answer) => found(hosting.to_owned(), &answer, path),
        },
    )
}

pub(crate) async fn create_ssl(
    step: &mut Step<'_, '_>,
    hosting: &str,
    body: Option<Value>,
) -> StepResult<()> {
    let client = step.client();
    let path = ssl_path(hosting);
    let what = "the ssl certificate";
    let creation = step
        .create_once(what, &path, body.as_ref(), Deadlines::HOSTING, || {
            Box::pin(find_ssl(client, hosting))
        })
        .await?;
    let (task, status) = created_or_adopted(step, creation, hosting);
    settle(step, hosting, what, &path, task, &status, false)
        .await
        .map(|_| ())
}

pub(crate) async fn regenerate_ssl(step: &mut Step<'_, '_>, hosting: &str) -> StepResult<()> {
    let path = ssl_path(hosting);
    let regenerate = Call::RegenerateSsl {
        hosting: hosting.to_owned(),
    }
    .path();
    let what = "the ssl certificate";
    let this: &Step = step;
    let answer = this
        .write_when_idle(
            what,
            Deadlines::HOSTING,
            Method::POST,
            &regenerate,
            None,
            || {
                Box::pin(async {
                    object_created(this, what, &path, "", false)
                        .await
                        .map(|_| ())
                })
            },
        )
        .await?;
    let task = task_after_write(step, answer.as_ref().map(|a| &a.body), &path, what).await?;
    settle(step, hosting, what, &path, task, "regenerating", false)
        .await
        .map(|_| ())
}

pub(crate) async fn delete_ssl(step: &mut Step<'_, '_>, hosting: &str) -> StepResult<()> {
    let path = ssl_path(hosting);
    delete_and_follow(step, hosting, "the ssl certificate", &path, &path).await
}

// ---------------------------------------------------------------------------------------------
// Hosting databases

async fn find_database(
    client: &Client,
    hosting: &str,
    user: &str,
) -> StepResult<Lookup<FoundObject>> {
    let what = format!("the database of user {user}");
    let list = databases_of_user_path(hosting, user);
    let answer = client
        .call(Method::GET, &list, None)
        .await
        .map_err(|err| StepEnd::api(&format!("looking up {what}"), &err))?;
    let names: Vec<String> = answer
        .body
        .as_array()
        .map(|names| {
            names
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    for name in names {
        let path = database_path(hosting, &name);
        let Some(answer) = get_if_present(client, &path, &what).await? else {
            continue;
        };
        let Ok(database) = mapping::hosting_database(answer.clone()) else {
            continue;
        };
        if database.user.eq_ignore_ascii_case(user) {
            return Ok(found(database.name, &answer, path));
        }
    }
    Ok(Lookup::Absent)
}

pub(crate) async fn create_database(
    step: &mut Step<'_, '_>,
    hosting: &str,
    user: &str,
    body: Option<Value>,
) -> StepResult<()> {
    let body = body.ok_or_else(|| StepEnd::failed("the planned database creation has no body"))?;
    let client = step.client();
    let what = format!("the database of user {user}");
    let collection = databases_path(hosting);
    let creation = step
        .create_once(&what, &collection, Some(&body), Deadlines::HOSTING, || {
            Box::pin(find_database(client, hosting, user))
        })
        .await?;
    let (name, task, status) = match creation {
        Creation::Found(found) | Creation::FoundAfterPost(found) => {
            step.adopt(&found.key);
            (found.key, found.task, found.status)
        }
        Creation::Created(task) => {
            // The task names the database it creates; else find it by its user.
            let name = match task.get("objectId").and_then(Value::as_str) {
                Some(name) => name.to_owned(),
                None => match find_database(client, hosting, user).await? {
                    Lookup::Present(found) => found.key,
                    _ => {
                        return Err(StepEnd::failed(format!(
                            "{what} was created but cannot be found by its user"
                        )))
                    }
                },
            };
            step.set_created(&name);
            (name, task_of(&task), "creating".to_owned())
        }
    };
    let path = database_path(hosting, &name);
    settle(
        step,
        hosting,
        &format!("database {name}"),
        &path,
        task,
        &status,
        true,
    )
    .await
    .map(|_| ())
}

pub(crate) async fn delete_database(
    step: &mut Step<'_, '_>,
    hosting: &str,
    name: &str,
) -> StepResult<()> {
    let path = database_path(hosting, name);
    delete_and_follow(step, hosting, &format!("database {name}"), &path, &path).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_task_of_a_write_is_in_a_task_answer_or_an_object_answer() {
        let task = json!({"id": 7, "function": "attachedDomain/create", "status": "todo"});
        assert_eq!(task_of(&task), Some(7));
        let ssl = json!({"provider": "LETSENCRYPT", "status": "creating", "taskId": 9});
        assert_eq!(task_of(&ssl), Some(9));
        assert_eq!(task_of(&Value::Null), None);
        assert_eq!(task_of(&json!({"status": "created", "taskId": null})), None);
    }

    #[test]
    fn an_object_on_its_way_out_is_waited_out() {
        let leaving = found(
            "a.example".into(),
            &json!({"status": "deleting"}),
            "/p".into(),
        );
        assert!(matches!(leaving, Lookup::Leaving { .. }));
        let present = found(
            "a.example".into(),
            &json!({"status": "updating", "taskId": 3}),
            "/p".into(),
        );
        let Lookup::Present(object) = present else {
            panic!()
        };
        assert_eq!((object.status.as_str(), object.task), ("updating", Some(3)));
    }
}
