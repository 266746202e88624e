//! Public Cloud Databases steps: services (with their whole IP list) and users.
//!
//! - Service create: found by identity first (the live service of the engine whose
//!   `description` is the manifest's name, not `DELETING`), else `POST`; then `GET` until
//!   `READY` (`CREATING`, `PENDING`, `UPDATING` are on the way, anything else fails at once).
//!   IP restriction entries belong to the service: once the service is `READY`, the step goes
//!   on polling the service until every entry is `READY` too, under the same deadline. An entry
//!   that stays `PENDING` (MongoDB, <https://github.com/ovh/terraform-provider-ovh/issues/533>)
//!   therefore ends the step `InProgress` with the entry named, apply exits 5, and the next run
//!   resumes waiting: bounded, never a hang.
//! - Service update: waits for `READY`, `PUT`, and again on `409 ServiceNotReady` (that is
//!   waiting for the service, not retrying); `400 NoUpdate` means it is already so. Then
//!   `READY` again.
//! - Users: created once their service is `READY` (found by username first, MongoDB's `@admin`
//!   ignored), then `READY`. The password of the creation answer goes straight to the secrets
//!   sink. A user adopted after a lost answer (5xx or no answer on `POST`,
//!   <https://github.com/ovh/terraform-provider-ovh/issues/1306>), or adopted with no secrets file
//!   recording it, gets its password reset (`credentials/reset`), since nobody else can know it.
//! - Deletes (users first, by the plan's waves): `DELETE`, then `GET` until 404.

use crate::engine::readiness::{observe, Observation};
use crate::engine::secrets::{self, UserSecret};
use crate::engine::step::{
    get_if_present, status_of, Creation, Lookup, Run, Step, StepEnd, StepResult,
};
use crate::engine::{rotate_command, PasswordUnknown};
use crate::family::database::{
    credentials_reset_path, service_path, services_path, user_path, username as username_key,
    users_path, Call,
};
use crate::family::Id;
use crate::live::UsersState;
use crate::live::{mapping, LiveService, LiveState, LiveUser};
use crate::manifest::model::{Address, Kind, Spec};
use crate::ovh::Method;
use futures::future::try_join_all;
use secrecy::SecretString;
use serde_json::Value;
use std::time::{Duration, Instant};

/// Its default waits, before the run's budget cuts them (Terraform's timeouts, raised where
/// the field showed them short: <https://github.com/ovh/terraform-provider-ovh/pull/303>,
/// <https://github.com/ovh/terraform-provider-ovh/pull/591>).
pub(crate) struct Deadlines;

impl Deadlines {
    /// A database service becoming `READY` after a create or an update.
    pub const SERVICE: Duration = Duration::from_secs(40 * 60);
    /// A database service going away.
    pub const SERVICE_DELETE: Duration = Duration::from_secs(20 * 60);
    /// A database user (create, update, delete).
    pub const USER: Duration = Duration::from_secs(20 * 60);
}

/// Statuses a service or user passes through on its way to `READY`.
const ON_THE_WAY: &[&str] = &["CREATING", "PENDING", "UPDATING"];

/// A live service found by identity.
pub(crate) struct FoundService {
    pub id: String,
    pub status: String,
}

/// A live user found by identity.
pub(crate) struct FoundUser {
    pub id: String,
    pub status: String,
}

/// The answers of the objects at `paths` that a fresh list named (`None`: gone since): an
/// object this run already has an answer for (`live::Answers`: the plan's read, the engine's
/// polls, forgotten by every write there; else what an earlier lookup or this run's create
/// got, `Listings::seen`) is not asked again; its identity (a description, a username) does
/// not change by itself. The others, new since (a twin another run just created), are asked
/// now.
async fn objects(run: &Run<'_>, paths: &[String], what: &str) -> StepResult<Vec<Option<Value>>> {
    let known = run.options.answers.as_deref();
    try_join_all(paths.iter().map(|path| async move {
        if let Some(answer) = known.and_then(|answers| answers.get(path)) {
            return Ok(answer);
        }
        if let Some(answer) = run.listings.seen(path) {
            return Ok(Some(answer));
        }
        let answer = get_if_present(run.client, path, what).await?;
        if let Some(answer) = &answer {
            run.listings.remember(path, answer);
        }
        Ok(answer)
    }))
    .await
}

/// The live service of `engine` in `project` whose description is `name` (services on their
/// way out do not count); more than one is an error naming them. The list of services is read
/// now (`Listings`: right before a create, after the `POST`s before it); each service is
/// looked at through `objects`.
pub(crate) async fn find_service(
    run: &Run<'_>,
    project: &str,
    engine: &str,
    name: &str,
) -> StepResult<Lookup<FoundService>> {
    let what = format!("service {name}");
    let ids = run
        .listings
        .list(
            run.client,
            run.options.answers.as_deref(),
            &services_path(project, engine),
            &what,
        )
        .await?;
    let mut found: Vec<FoundService> = services_named(run, project, engine, name, &ids)
        .await?
        .into_iter()
        .map(|(_, s)| FoundService {
            id: s.id,
            status: s.status,
        })
        .collect();
    match found.len() {
        0 => Ok(Lookup::Absent),
        1 => Ok(Lookup::Present(found.remove(0))),
        n => {
            let ids: Vec<&str> = found.iter().map(|s| s.id.as_str()).collect();
            Err(StepEnd::failed(format!(
                "{n} live services are named {name} in project {project} ({engine}): {}; rename or delete all but one",
                ids.join(", ")
            )))
        }
    }
}

/// How long after our `POST` a list must have been sent to stand for the twin check: the
/// creates of one scope reaching `READY` together then share one list, instead of one each.
const TWIN_MARGIN: Duration = Duration::from_secs(15);

/// The moment a twin check's list must be sent at or after (`TWIN_MARGIN`).
fn twin_list_since(posted: Instant) -> Instant {
    (posted + TWIN_MARGIN).min(Instant::now())
}

/// The object that stays when another run created the same one at the same moment (a twin):
/// the oldest of `same` by `createdAt`, then id, so that both runs agree. `None` when `ours` is
/// that one, or is not in `same` (a list that does not show ours cannot say which is older).
/// Asked once ours is `READY`, from a list sent at least `TWIN_MARGIN` after our `POST` was
/// answered (or now, if that is sooner): the younger twin landed after the older one, so a
/// list read after the younger's `POST` shows both, and its creator withdraws it; the margin
/// leaves the API's list time to show what landed before.
fn older_twin(same: Vec<(Value, String, String)>, ours: &str) -> Option<(String, String)> {
    if !same.iter().any(|(_, id, _)| id == ours) {
        return None;
    }
    let created = |raw: &Value| {
        raw.get("createdAt")
            .and_then(Value::as_str)
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
    };
    let oldest = same
        .into_iter()
        .min_by(|(a, a_id, _), (b, b_id, _)| (created(a), a_id).cmp(&(created(b), b_id)))?;
    (oldest.1 != ours).then_some((oldest.1, oldest.2))
}

/// After a create: the service another run created with the same name at the same time, when
/// it is older than ours (`older_twin`); ours must then go.
async fn older_service_twin(
    run: &Run<'_>,
    project: &str,
    engine: &str,
    name: &str,
    ours: &str,
    posted: Instant,
) -> StepResult<Option<FoundService>> {
    let what = format!("service {name}");
    let ids = run
        .listings
        .list_sent_since(
            run.client,
            run.options.answers.as_deref(),
            &services_path(project, engine),
            &what,
            twin_list_since(posted),
        )
        .await?;
    let same = services_named(run, project, engine, name, &ids)
        .await?
        .into_iter()
        .map(|(raw, s)| (raw, s.id, s.status))
        .collect();
    Ok(older_twin(same, ours).map(|(id, status)| FoundService { id, status }))
}

/// The services among `ids` (of `engine` in `project`) whose description is `name`, with their
/// answers; those on their way out do not count. Each is looked at through `objects`.
async fn services_named(
    run: &Run<'_>,
    project: &str,
    engine: &str,
    name: &str,
    ids: &[String],
) -> StepResult<Vec<(Value, LiveService)>> {
    let paths: Vec<String> = ids
        .iter()
        .map(|id| service_path(project, engine, id))
        .collect();
    let answers = objects(run, &paths, &format!("service {name}")).await?;
    Ok(answers
        .into_iter()
        .flatten()
        .filter_map(|raw| Some((raw.clone(), mapping::live_service(raw, engine).ok()?)))
        .filter(|(_, s)| s.description == name && !s.status.eq_ignore_ascii_case("DELETING"))
        .collect())
}

/// The users among `ids` (of `service`) named `name` as the engine spells it, with their
/// answers, those on their way out included. Each is looked at through `objects`.
async fn users_named(
    run: &Run<'_>,
    (project, engine, service): (&str, &str, &str),
    name: &str,
    ids: &[String],
) -> StepResult<Vec<(Value, LiveUser)>> {
    let paths: Vec<String> = ids
        .iter()
        .map(|id| user_path(project, engine, service, id))
        .collect();
    let answers = objects(run, &paths, &format!("user {name}")).await?;
    let key = username_key(engine, name);
    Ok(answers
        .into_iter()
        .flatten()
        .filter_map(|raw| Some((raw.clone(), mapping::live_user(raw).ok()?)))
        .filter(|(_, u)| username_key(engine, &u.username) == key)
        .collect())
}

/// After a create: the user another run created with the same name on the same service at the
/// same time, when it is older than ours.
async fn older_user_twin(
    run: &Run<'_>,
    project: &str,
    engine: &str,
    service: &str,
    name: &str,
    ours: &str,
    posted: Instant,
) -> StepResult<Option<FoundUser>> {
    let what = format!("user {name}");
    let ids = run
        .listings
        .list_sent_since(
            run.client,
            run.options.answers.as_deref(),
            &users_path(project, engine, service),
            &what,
            twin_list_since(posted),
        )
        .await?;
    let same = users_named(run, (project, engine, service), name, &ids)
        .await?
        .into_iter()
        .filter(|(_, u)| !u.status.eq_ignore_ascii_case("DELETING"))
        .map(|(raw, u)| (raw, u.id, u.status))
        .collect();
    Ok(older_twin(same, ours).map(|(id, status)| FoundUser { id, status }))
}

/// The live user of service `service` named `name`; one on its way out must be waited out.
/// The list of users is read now (`Listings`); each user is looked at through `objects`.
pub(crate) async fn find_user(
    run: &Run<'_>,
    project: &str,
    engine: &str,
    service: &str,
    name: &str,
) -> StepResult<Lookup<FoundUser>> {
    let what = format!("user {name}");
    let ids = run
        .listings
        .list(
            run.client,
            run.options.answers.as_deref(),
            &users_path(project, engine, service),
            &what,
        )
        .await?;
    let found = users_named(run, (project, engine, service), name, &ids)
        .await?
        .into_iter()
        .map(|(_, u)| u)
        .next();
    Ok(match found {
        None => Lookup::Absent,
        Some(user) if user.status.eq_ignore_ascii_case("DELETING") => Lookup::Leaving {
            path: user_path(project, engine, service, &user.id),
            status: user.status,
        },
        Some(user) => Lookup::Present(FoundUser {
            id: user.id,
            status: user.status,
        }),
    })
}

/// An object answer as an observation on the way to `READY`.
fn towards_ready(answer: Value) -> Observation {
    let status = status_of(&answer);
    if status == "READY" {
        Observation::Ready(answer)
    } else if ON_THE_WAY.contains(&status.as_str()) {
        Observation::Pending(status)
    } else {
        Observation::Unexpected(status)
    }
}

/// Polls the service until `READY`; returns its answer.
async fn service_ready(
    step: &Step<'_, '_>,
    project: &str,
    engine: &str,
    id: &str,
    limit: Duration,
    initial: &str,
) -> StepResult<Value> {
    let client = step.client();
    let path = service_path(project, engine, id);
    if let Some(answer) = known_ready(step, &path, initial) {
        return Ok(answer);
    }
    step.poll("service ready")
        .until(&format!("service {id}"), limit, initial, || {
            observe(
                client,
                step.answers(),
                &path,
                || Observation::Unexpected("gone (404)".into()),
                towards_ready,
            )
        })
        .await
}

/// With nothing known of the object yet (`initial` empty), its `READY` answer from this run
/// (`Answers`: the plan's read, or the last poll of an earlier step), so that it is not asked
/// again. A write since then made the answers forget it; and a write the API refuses because
/// the object turned busy meanwhile (`409`) waits for it anyway (`write_when_idle`).
fn known_ready(step: &Step<'_, '_>, path: &str, initial: &str) -> Option<Value> {
    if !initial.is_empty() {
        return None;
    }
    let known = step.answers()?.get(path)??;
    matches!(towards_ready(known.clone()), Observation::Ready(_)).then_some(known)
}

/// Polls the user until `READY`.
async fn user_ready(step: &Step<'_, '_>, path: &str, id: &str, initial: &str) -> StepResult<Value> {
    let client = step.client();
    if let Some(answer) = known_ready(step, path, initial) {
        return Ok(answer);
    }
    step.poll("user ready")
        .until(&format!("user {id}"), Deadlines::USER, initial, || {
            observe(
                client,
                step.answers(),
                path,
                || Observation::Unexpected("gone (404)".into()),
                towards_ready,
            )
        })
        .await
}

/// The service answer as an observation on the way to `READY` with every IP restriction entry
/// `READY` too; the pending status names the entries still waiting.
fn towards_ready_with_ips(engine: &str) -> impl Fn(Value) -> Observation + '_ {
    move |answer: Value| match towards_ready(answer) {
        Observation::Ready(answer) => {
            let unready: Vec<String> = mapping::live_service(answer.clone(), engine)
                .map(|s| {
                    s.ip_restrictions
                        .iter()
                        .filter(|e| e.status != "READY")
                        .map(|e| format!("{} {}", e.ip, e.status))
                        .collect()
                })
                .unwrap_or_default();
            if unready.is_empty() {
                Observation::Ready(answer)
            } else {
                Observation::Pending(format!("READY, ipRestrictions {}", unready.join(", ")))
            }
        }
        other => other,
    }
}

/// Once the service is `READY`, polls until its IP restriction entries are `READY` too (they can
/// stay `PENDING`, <https://github.com/ovh/terraform-provider-ovh/issues/533>; the deadline bounds
/// the wait and the step ends in progress).
async fn ips_ready(
    step: &Step<'_, '_>,
    project: &str,
    engine: &str,
    id: &str,
    answer: Value,
) -> StepResult<()> {
    if matches!(
        towards_ready_with_ips(engine)(answer),
        Observation::Ready(_)
    ) {
        return Ok(());
    }
    let client = step.client();
    let path = service_path(project, engine, id);
    let check = towards_ready_with_ips(engine);
    step.poll("ip restrictions ready")
        .until(
            &format!("service {id}"),
            Deadlines::SERVICE,
            "READY",
            || {
                observe(
                    client,
                    step.answers(),
                    &path,
                    || Observation::Unexpected("gone (404)".into()),
                    &check,
                )
            },
        )
        .await
        .map(|_| ())
}

/// Executes one planned database call (module doc).
pub(crate) async fn execute(
    step: &mut Step<'_, '_>,
    call: &Call,
    body: Option<Value>,
) -> StepResult<()> {
    match call {
        Call::CreateService {
            project,
            engine,
            description,
            ..
        } => create_service(step, project, engine, description, body).await,
        Call::UpdateService {
            project,
            engine,
            id,
            ..
        } => {
            let id = step.own(id)?;
            update_service(step, project, engine, &id, body).await
        }
        Call::DeleteService {
            project,
            engine,
            id,
        } => delete_service(step, project, engine, id).await,
        Call::CreateUser {
            project,
            engine,
            service,
            username,
            ..
        } => {
            let service = match service {
                Id::Known(id) => id.clone(),
                Id::Created => parent_service_id(step, project, engine).await?,
            };
            create_user(step, project, engine, &service, username, body).await
        }
        Call::UpdateUser {
            project,
            engine,
            service,
            id,
            ..
        } => update_user(step, project, engine, service, id, body).await,
        Call::DeleteUser {
            project,
            engine,
            service,
            id,
        } => delete_user(step, project, engine, service, id).await,
    }
}

/// The id of the service a user step works under, when the plan could not know it: from the
/// service's step in this run, else the live service its manifest names, found by identity.
async fn parent_service_id(step: &Step<'_, '_>, project: &str, engine: &str) -> StepResult<String> {
    if let Some(id) = step
        .run
        .done_id(&step.change.depends_on, Kind::DatabaseService)
    {
        return Ok(id);
    }
    let Some(Spec::DatabaseUser(user)) = step.resource.map(|r| &r.spec) else {
        return Err(StepEnd::failed(
            "the service id of this user is not known (no manifest names its service)",
        ));
    };
    match find_service(step.run, project, engine, &user.service).await? {
        Lookup::Present(found) => Ok(found.id),
        _ => Err(StepEnd::failed(format!(
            "DatabaseService/{} does not exist on the API: it must be created first",
            user.service
        ))),
    }
}

pub(crate) async fn create_service(
    step: &mut Step<'_, '_>,
    project: &str,
    engine: &str,
    name: &str,
    body: Option<Value>,
) -> StepResult<()> {
    let body = body.ok_or_else(|| StepEnd::failed("the planned service creation has no body"))?;
    let run = step.run;
    let what = format!("service {name}");
    let creation = step
        .create_once(
            &what,
            &services_path(project, engine),
            Some(&body),
            Deadlines::SERVICE,
            || Box::pin(find_service(run, project, engine, name)),
        )
        .await?;
    let posted = Instant::now();
    let (id, status, created) = match creation {
        Creation::Found(found) | Creation::FoundAfterPost(found) => {
            step.adopt(&found.id);
            (found.id, found.status, false)
        }
        Creation::Created(answer) => {
            let id = answer
                .get("id")
                .and_then(Value::as_str)
                .ok_or_else(|| StepEnd::failed("the service creation answered no id"))?
                .to_owned();
            step.set_created(&id);
            run.listings
                .remember(&service_path(project, engine, &id), &answer);
            (id, status_of(&answer), true)
        }
    };
    let mut answer = service_ready(step, project, engine, &id, Deadlines::SERVICE, &status).await?;
    let mut id = id;
    if created {
        if let Some(older) =
            older_service_twin(step.run, project, engine, name, &id, posted).await?
        {
            withdraw(step, &what, &service_path(project, engine, &id), &older.id).await?;
            id = older.id;
            answer = service_ready(
                step,
                project,
                engine,
                &id,
                Deadlines::SERVICE,
                &older.status,
            )
            .await?;
        }
    }
    ips_ready(step, project, engine, &id, answer).await
}

/// Another run created the same object at the same moment and its twin is older: ours (at
/// `path`, nothing depends on it yet) is deleted, and theirs adopted. Said on the step.
async fn withdraw(step: &mut Step<'_, '_>, what: &str, path: &str, older: &str) -> StepResult<()> {
    let ours = step.live_id.clone().unwrap_or_default();
    step.delete(&format!("{what} (a twin)"), path, Deadlines::SERVICE_DELETE)
        .await?;
    step.warn(format!(
        "another run created {what} at the same moment ({older}, the older): this run's twin {ours} was deleted and {older} adopted"
    ));
    step.adopt(older);
    Ok(())
}

/// A service an earlier run left transitional: wait for it (no write).
pub(crate) async fn resume_service(
    step: &mut Step<'_, '_>,
    project: &str,
    engine: &str,
    id: &str,
    status: &str,
) -> StepResult<()> {
    let answer = service_ready(step, project, engine, id, Deadlines::SERVICE, status).await?;
    ips_ready(step, project, engine, id, answer).await
}

/// A user an earlier run left transitional: wait for it (no write).
pub(crate) async fn resume_user(
    step: &mut Step<'_, '_>,
    project: &str,
    engine: &str,
    service: &str,
    id: &str,
    status: &str,
) -> StepResult<()> {
    let path = user_path(project, engine, service, id);
    user_ready(step, &path, id, status).await.map(|_| ())
}

pub(crate) async fn update_service(
    step: &mut Step<'_, '_>,
    project: &str,
    engine: &str,
    id: &str,
    body: Option<Value>,
) -> StepResult<()> {
    let path = service_path(project, engine, id);
    let this: &Step = step;
    let answer = this
        .write_when_idle(
            &format!("service {id}"),
            Deadlines::SERVICE,
            Method::PUT,
            &path,
            body.as_ref(),
            || {
                Box::pin(async move {
                    service_ready(this, project, engine, id, Deadlines::SERVICE, "")
                        .await
                        .map(|_| ())
                })
            },
        )
        .await?;
    let initial = answer.map(|a| status_of(&a.body)).unwrap_or_default();
    let ready = service_ready(step, project, engine, id, Deadlines::SERVICE, &initial).await?;
    ips_ready(step, project, engine, id, ready).await
}

pub(crate) async fn delete_service(
    step: &mut Step<'_, '_>,
    project: &str,
    engine: &str,
    id: &str,
) -> StepResult<()> {
    let path = service_path(project, engine, id);
    let what = format!("service {id}");
    if step
        .delete(&what, &path, Deadlines::SERVICE_DELETE)
        .await?
        .is_none()
    {
        return Ok(());
    }
    step.wait_gone(
        &what,
        &path,
        Deadlines::SERVICE_DELETE,
        "DELETING",
        &["DELETING"],
    )
    .await
}

pub(crate) async fn create_user(
    step: &mut Step<'_, '_>,
    project: &str,
    engine: &str,
    service_id: &str,
    name: &str,
    body: Option<Value>,
) -> StepResult<()> {
    let body = body.ok_or_else(|| StepEnd::failed("the planned user creation has no body"))?;
    // Users are created on a READY service (and the API refuses them otherwise).
    let service = service_ready(step, project, engine, service_id, Deadlines::SERVICE, "").await?;
    let run = step.run;
    let users = users_path(project, engine, service_id);
    let dir = &run.options.secrets_dir;
    let endpoint = run.client.endpoint();
    // A create an earlier run began and whose password may have reached nobody.
    let earlier = secrets::intent(dir, endpoint, step.address());
    // Before the POST: if its answer is lost, the next run knows a password was generated.
    secrets::write_intent(dir, endpoint, step.address(), service_id, name).map_err(|err| {
        StepEnd::failed(format!(
            "cannot record the user's creation in the secrets sink {}: {err}; nothing was created",
            dir.display()
        ))
    })?;
    let creation = step
        .create_once(
            &format!("user {name}"),
            &users,
            Some(&body),
            Deadlines::USER,
            || Box::pin(find_user(run, project, engine, service_id, name)),
        )
        .await?;
    let posted_at = Instant::now();
    let (id, status, created, posted) = match creation {
        Creation::Created(answer) => {
            let id = answer
                .get("id")
                .and_then(Value::as_str)
                .ok_or_else(|| StepEnd::failed("the user creation answered no id"))?
                .to_owned();
            step.set_created(&id);
            run.listings
                .remember(&user_path(project, engine, service_id, &id), &answer);
            (id, status_of(&answer), Some(answer), true)
        }
        Creation::Found(found) => {
            step.adopt(&found.id);
            (found.id, found.status, None, false)
        }
        Creation::FoundAfterPost(found) => {
            step.adopt(&found.id);
            (found.id, found.status, None, true)
        }
    };
    let mut path = user_path(project, engine, service_id, &id);
    let sink = UserSink {
        service_id,
        engine,
        service: &service,
    };
    let password = created.as_ref().and_then(|answer| {
        let password = answer.get("password").and_then(Value::as_str)?;
        Some(SecretString::from(password.to_owned()))
    });
    if let (Some(answer), Some(password)) = (&created, &password) {
        // Before any wait: a run killed now still leaves the password on disk.
        sink.write(step, &id, &username_of(answer, engine, name), password)?;
        secrets::clear_intent(dir, endpoint, step.address());
    }
    let mut ready = user_ready(step, &path, &id, &status).await?;
    let mut id = id;
    if created.is_some() {
        let older = older_user_twin(run, project, engine, service_id, name, &id, posted_at).await?;
        if let Some(older) = older {
            let what = format!("user {name}");
            withdraw(step, &what, &path, &older.id).await?;
            secrets::remove_user(dir, endpoint, step.address(), &id);
            id = older.id;
            path = user_path(project, engine, service_id, &id);
            ready = user_ready(step, &path, &id, &older.status).await?;
        }
    }
    if secrets::has_password(dir, endpoint, step.address(), &id) {
        secrets::clear_intent(dir, endpoint, step.address());
        return Ok(());
    }
    if posted || earlier.is_some() {
        // Our own POST (its answer lost), or an earlier run's: the password reached nobody.
        let why = if posted {
            "its creation answer was lost"
        } else {
            "an earlier run created it and stopped before storing its password"
        };
        step.warn(format!(
            "user {id}: {why}, so nobody has its password: it was reset and stored"
        ));
        let reset = credentials_reset_path(project, engine, service_id, &id);
        let password = reset_password(step, &reset).await?;
        sink.write(step, &id, &username_of(&ready, engine, name), &password)?;
    } else {
        // Someone else created it (another run, a person): they may hold its password.
        step.warn(format!(
            "user {id} already existed and no password for it is stored here; to get one: {}",
            rotate_command(step.address())
        ));
    }
    secrets::clear_intent(dir, endpoint, step.address());
    Ok(())
}

/// Where a user's password goes, with its service's endpoints.
struct UserSink<'s> {
    service_id: &'s str,
    engine: &'s str,
    /// The service's answer (for its `endpoints`).
    service: &'s Value,
}

impl UserSink<'_> {
    fn write(
        &self,
        step: &Step<'_, '_>,
        user_id: &str,
        username: &str,
        password: &SecretString,
    ) -> StepResult<()> {
        let address = step.address();
        let service = service_address(step);
        let secret = UserSecret {
            address,
            service: &service,
            service_id: self.service_id,
            engine: self.engine,
            user_id,
            username,
            password,
            endpoints: self.service.get("endpoints").unwrap_or(&Value::Null),
        };
        let dir = &step.run.options.secrets_dir;
        match secrets::write_user(dir, step.client().endpoint(), &secret) {
            Ok(path) => {
                tracing::info!(address = %address, path = %path.display(), "password written to the secrets sink");
                step.run.record_secret(path);
                Ok(())
            }
            Err(err) => Err(StepEnd::failed(format!(
                "the user exists but its password could not be written to {}: {err}; fix the directory and run `reconcile apply --rotate {address}`",
                dir.display()
            ))),
        }
    }
}

/// The username as the API shows it in `answer` (`name@admin` on MongoDB), else as sent.
fn username_of(answer: &Value, engine: &str, sent: &str) -> String {
    match answer.get("username").and_then(Value::as_str) {
        Some(username) => username.to_owned(),
        None if engine == "mongodb" && !sent.ends_with("@admin") => format!("{sent}@admin"),
        None => sent.to_owned(),
    }
}

/// The service a user step's manifest names (or the change it depends on).
fn service_address(step: &Step<'_, '_>) -> Address {
    match step.resource.map(|r| &r.spec) {
        Some(Spec::DatabaseUser(user)) => Address {
            kind: Kind::DatabaseService,
            name: user.service.clone(),
        },
        _ => step
            .change
            .depends_on
            .iter()
            .find(|a| a.kind == Kind::DatabaseService)
            .cloned()
            .unwrap_or_else(|| step.address().clone()),
    }
}

/// `POST .../credentials/reset` (`family::database::credentials_reset_path`; sent again when it got no answer: a reset that happened
/// unseen is simply superseded); the new password.
async fn reset_password(step: &Step<'_, '_>, path: &str) -> StepResult<SecretString> {
    let answer = step
        .write_when_idle(
            "the user's password (reset)",
            Deadlines::USER,
            Method::POST,
            path,
            None,
            || Box::pin(async { Ok(()) }),
        )
        .await?
        .ok_or_else(|| StepEnd::failed("the password reset answered nothing"))?;
    answer
        .body
        .get("password")
        .and_then(Value::as_str)
        .map(|p| SecretString::from(p.to_owned()))
        .ok_or_else(|| StepEnd::failed("the password reset answered no password"))
}

pub(crate) async fn update_user(
    step: &mut Step<'_, '_>,
    project: &str,
    engine: &str,
    service_id: &str,
    id: &str,
    body: Option<Value>,
) -> StepResult<()> {
    let path = user_path(project, engine, service_id, id);
    let this: &Step = step;
    let idle = || {
        let path = &path;
        Box::pin(async move {
            service_ready(this, project, engine, service_id, Deadlines::SERVICE, "").await?;
            user_ready(this, path, id, "").await.map(|_| ())
        }) as futures::future::BoxFuture<'_, StepResult<()>>
    };
    let answer = this
        .write_when_idle(
            &format!("user {id}"),
            Deadlines::USER,
            Method::PUT,
            &path,
            body.as_ref(),
            idle,
        )
        .await?;
    let initial = answer.map(|a| status_of(&a.body)).unwrap_or_default();
    user_ready(step, &path, id, &initial).await.map(|_| ())
}

pub(crate) async fn delete_user(
    step: &mut Step<'_, '_>,
    project: &str,
    engine: &str,
    service_id: &str,
    id: &str,
) -> StepResult<()> {
    let path = user_path(project, engine, service_id, id);
    let what = format!("user {id}");
    if step.delete(&what, &path, Deadlines::USER).await?.is_none() {
        return Ok(());
    }
    step.wait_gone(&what, &path, Deadlines::USER, "DELETING", &["DELETING"])
        .await
}

/// `reconcile apply --rotate DatabaseUser/NAME`: waits for the service and the user to be
/// `READY`, resets the password, writes it to the secrets sink.
pub(crate) async fn rotate(step: &mut Step<'_, '_>, live: &LiveState) -> StepResult<()> {
    let address = step.address().clone();
    let manifests = step.run.manifests;
    let Some(Spec::DatabaseUser(user)) = step.resource.map(|r| &r.spec) else {
        return Err(StepEnd::failed(format!(
            "only a DatabaseUser's password can be rotated, and no DatabaseUser manifest is named {}",
            address.name
        )));
    };
    let service_address = Address {
        kind: Kind::DatabaseService,
        name: user.service.clone(),
    };
    let Some(Spec::DatabaseService(service)) = manifests.get(&service_address).map(|r| &r.spec)
    else {
        return Err(StepEnd::failed(format!(
            "{service_address}, which {address} names, has no manifest"
        )));
    };
    let project = service
        .project
        .clone()
        .or_else(|| manifests.defaults.project.clone())
        .ok_or_else(|| {
            StepEnd::failed("no project: set spec.project or `project` in reconcile.yaml")
        })?;
    let engine = service.engine.as_str();

    // Ids from the live state when it has them, else by identity on the API.
    let known = live_ids(live, &project, engine, &user.service, &user.username);
    let service_id = match known.0 {
        Some(id) => id,
        None => match find_service(step.run, &project, engine, &user.service).await? {
            Lookup::Present(found) => found.id,
            _ => {
                return Err(StepEnd::failed(format!(
                    "{service_address} does not exist on the API: apply it first"
                )))
            }
        },
    };
    let user_id = match known.1 {
        Some(id) => id,
        None => match find_user(step.run, &project, engine, &service_id, &user.username).await? {
            Lookup::Present(found) => found.id,
            _ => {
                return Err(StepEnd::failed(format!(
                    "{address} does not exist on the API: apply it first"
                )))
            }
        },
    };
    step.live_id = Some(user_id.clone());
    let service_answer =
        service_ready(step, &project, engine, &service_id, Deadlines::SERVICE, "").await?;
    let path = user_path(&project, engine, &service_id, &user_id);
    let ready = user_ready(step, &path, &user_id, "").await?;
    let reset = credentials_reset_path(&project, engine, &service_id, &user_id);
    let password = reset_password(step, &reset).await?;
    let sink = UserSink {
        service_id: &service_id,
        engine,
        service: &service_answer,
    };
    let username = username_of(&ready, engine, &user.username);
    sink.write(step, &user_id, &username, &password)?;
    secrets::clear_intent(
        &step.run.options.secrets_dir,
        step.client().endpoint(),
        step.address(),
    );
    Ok(())
}

/// Every `DatabaseUser` of `manifests` that `live` shows existing and the sink (`dir`, for
/// `endpoint`) has no password for.
pub(crate) fn passwords_unknown(
    dir: &std::path::Path,
    endpoint: &crate::ovh::Endpoint,
    manifests: &crate::manifest::model::ManifestSet,
    live: &LiveState,
) -> Vec<PasswordUnknown> {
    let mut out = Vec::new();
    for resource in &manifests.resources {
        let Spec::DatabaseUser(user) = &resource.spec else {
            continue;
        };
        let service_address = Address {
            kind: Kind::DatabaseService,
            name: user.service.clone(),
        };
        let Some(Spec::DatabaseService(service)) = manifests.get(&service_address).map(|r| &r.spec)
        else {
            continue;
        };
        let Some(project) = service
            .project
            .clone()
            .or_else(|| manifests.defaults.project.clone())
        else {
            continue;
        };
        let (_, Some(user_id)) = live_ids(
            live,
            &project,
            service.engine.as_str(),
            &user.service,
            &user.username,
        ) else {
            continue;
        };
        if secrets::has_password(dir, endpoint, &resource.address, &user_id) {
            continue;
        }
        out.push(PasswordUnknown {
            address: resource.address.clone(),
            intent: secrets::intent(dir, endpoint, &resource.address).is_some(),
            user_id,
        });
    }
    out
}

/// The service and user ids `live` knows for this user (either may be missing).
fn live_ids(
    live: &LiveState,
    project: &str,
    engine: &str,
    service: &str,
    username: &str,
) -> (Option<String>, Option<String>) {
    let Some(services) = live.database_services(project, engine) else {
        return (None, None);
    };
    let Some(found) = services
        .iter()
        .find(|s| s.description == service && !s.status.eq_ignore_ascii_case("DELETING"))
    else {
        return (None, None);
    };
    let key = username_key(engine, username);
    let user = match &found.users {
        Some(UsersState::Known { users }) => users
            .iter()
            .find(|u| username_key(engine, &u.username) == key)
            .map(|u| u.id.clone()),
        _ => None,
    };
    (Some(found.id.clone()), user)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The older twin stays, by `createdAt` then id; a list without ours decides nothing (it
    /// would make ours, the older, look like the one to go).
    #[test]
    fn the_older_twin_stays_and_a_list_without_ours_decides_nothing() {
        let twin = |id: &str, at: &str| (json!({ "createdAt": at }), id.to_owned(), "READY".into());
        let older = twin("b", "2026-12-03T10:00:00Z");
        let ours = twin("a", "2026-12-03T10:00:01Z");
        assert_eq!(
            older_twin(vec![ours.clone(), older.clone()], "a"),
            Some(("b".into(), "READY".into()))
        );
        assert_eq!(older_twin(vec![ours.clone(), older.clone()], "b"), None);
        let same_time = twin("c", "2026-12-03T10:00:01Z");
        assert_eq!(
            older_twin(vec![same_time.clone(), ours.clone()], "c"),
            Some(("a".into(), "READY".into()))
        );
        let younger = twin("z", "2026-12-03T10:00:05Z");
        assert_eq!(older_twin(vec![younger], "a"), None);
    }

    #[test]
    fn mongodb_usernames_match_with_or_without_admin() {
        assert_eq!(username_key("mongodb", "app@admin"), "app");
        assert_eq!(username_key("mongodb", " app "), "app");
        assert_eq!(username_key("postgresql", "app@admin"), "app@admin");
    }

    #[test]
    fn ready_pending_and_unexpected_states() {
        assert!(matches!(
            towards_ready(json!({"status": "READY"})),
            Observation::Ready(_)
        ));
        for status in ["CREATING", "PENDING", "UPDATING"] {
            assert_eq!(
                towards_ready(json!({ "status": status })),
                Observation::Pending(status.into())
            );
        }
        for status in ["ERROR", "LOCKED", "LOCKED_UPDATING", "SHELVED", "DELETING"] {
            assert_eq!(
                towards_ready(json!({ "status": status })),
                Observation::Unexpected(status.into())
            );
        }
    }
}
