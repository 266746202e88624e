//! The live read: which scopes the manifests touch (`scopes`), and reading them all at once
//! (`read`) through one `Reader` that bounds in-flight requests, counts calls and never asks
//! for the same path twice.
//!
//! Every scope, and what each family reads beside its scopes (`Family::read_beside`: the
//! database catalogues and project indexes), is read concurrently; inside a scope, the gets of an
//! N+1 list run concurrently too. `parallelism` caps the requests in flight across all of
//! them (a semaphore around each request, so nesting cannot multiply it); the client's rate
//! limiter stays the real throttle.
//!
//! Architecture invariant: a scope is `Known` only when every read in it succeeded (a 404 on
//! the get of a listed object means it went away and is skipped; `GET .../ssl` answering 404
//! means no certificate). A transient failure (5xx, 429, a timeout: `ErrorClass::Transient`)
//! makes the whole scope `Unknown` with the error's text, never an empty or partial `Known`
//! scope. Any other failure is the user's to fix and ends the read (`ReadFailure`): credentials
//! refused or not allowed, the API unreachable (no further request is sent once one call
//! has found either), a scope's root that does not exist (404), another refusal.

use super::answers::Answers;
use super::model::{LiveScope, LiveState, Scope, ScopeState};
use crate::family::FAMILIES;
use crate::manifest::ManifestSet;
use crate::ovh::{Client, DeclaredApi, ErrorClass, OvhError, Redacted};
use futures::future::join_all;
use serde_json::Value;
use std::collections::{BTreeSet, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use tokio::sync::Semaphore;

/// The scopes `manifests` touch: one per project and engine of a `DatabaseService` (its
/// `project`, or the defaults' when it names none; the engine as written), one per hosting of
/// a hosting kind, and `StackMysql` when any `ManagedStackMysql` exists; plus what
/// `reconcile.yaml` declares under `manages:` (hostings, `stackMysql`). A resource with no
/// project or hosting even after defaults touches nothing (validation reports it).
///
/// The projects of `managed_projects` are read whole on top of these: every engine's services
/// (`read` finds the engines no manifest names through the project's service index).
pub fn scopes(manifests: &ManifestSet) -> BTreeSet<Scope> {
    FAMILIES
        .iter()
        .flat_map(|family| family.scopes(manifests))
        .collect()
}

/// Reads every scope `manifests` touch, and the database catalogue of every project among
/// them, with at most `parallelism` requests in flight (at least one).
///
/// A scope that could not be read for a transient reason is `ScopeState::Unknown` with the
/// reason, and a catalogue that could not be read is absent from `catalogues` (the planner
/// warns about it; this only logs at debug level). Fails when waiting cannot help: see
/// `ReadFailure`.
pub async fn read(
    client: &Client,
    manifests: &ManifestSet,
    parallelism: usize,
) -> Result<LiveState, ReadFailure> {
    read_for(client, manifests, parallelism, false).await
}

/// `read`, and with `prune` also the users of the services no manifest names (the ones a
/// pruning plan deletes), so that their users are deleted first, child-first.
pub async fn read_for(
    client: &Client,
    manifests: &ManifestSet,
    parallelism: usize,
    prune: bool,
) -> Result<LiveState, ReadFailure> {
    read_with(client, manifests, parallelism, prune, None).await
}

/// `read_for`, answering from `answers` what they hold (no request; not counted in `calls`)
/// and recording there every answer the API gives (see `Answers`: apply's verification read
/// asks only for what the run changed).
pub async fn read_with(
    client: &Client,
    manifests: &ManifestSet,
    parallelism: usize,
    prune: bool,
    answers: Option<&Answers>,
) -> Result<LiveState, ReadFailure> {
    let mut reader = Reader::new(client, parallelism);
    reader.answers = answers;
    read_by(reader, manifests, prune).await
}

/// `read_with` for apply's verification (`apply::verify`): only what can still be a change of
/// the same manifests after the run (`Reader::verifying`). A plan also lists what no manifest
/// names (unmanaged objects, duplicates), which the verification does not need: without
/// `prune` those are never changes (the database family then reads a service's users only
/// when a manifest names one of them).
pub async fn read_to_verify(
    client: &Client,
    manifests: &ManifestSet,
    parallelism: usize,
    prune: bool,
    answers: &Answers,
) -> Result<LiveState, ReadFailure> {
    let mut reader = Reader::new(client, parallelism);
    reader.answers = Some(answers);
    reader.verifying = true;
    read_by(reader, manifests, prune).await
}

async fn read_by(
    reader: Reader<'_>,
    manifests: &ManifestSet,
    prune: bool,
) -> Result<LiveState, ReadFailure> {
    let client = reader.client;
    let scopes = scopes(manifests);

    let scope_reads = join_all(scopes.iter().map(|scope| {
        let reader = &reader;
        async move {
            let family = crate::family::of_scope(scope);
            let read = family.read_scope(reader, scope, manifests, prune).await;
            (scope.clone(), read)
        }
    }));
    let beside_reads = join_all(FAMILIES.iter().map(|family| {
        let reader = &reader;
        let scopes = &scopes;
        async move { (*family, family.read_beside(reader, scopes, manifests).await) }
    }));
    let (scope_results, beside_results) = futures::join!(scope_reads, beside_reads);

    if let Some(stop) = reader.stopped_by() {
        return Err(ReadFailure::of(client, None, stop));
    }
    let mut state = LiveState::default();
    for (scope, result) in scope_results {
        let result = match result {
            Err(ReadError::Api(err)) if err.error_class() != ErrorClass::Transient => {
                return Err(ReadFailure::of(client, Some(&scope), err));
            }
            other => other,
        };
        let scope_state = scope_state(&scope, result);
        state.scopes.insert(scope, scope_state);
    }
    // What the families read beside their scopes (the database catalogues, and the engines no
    // manifest names from each managed project's index).
    for (family, beside) in beside_results {
        let Some(beside) = beside else {
            continue;
        };
        if let Err((scope, err)) = family.fold_beside(&reader, &mut state, beside, prune).await {
            return Err(ReadFailure::of(client, Some(&scope), err));
        }
    }
    state.calls = reader.calls();
    tracing::debug!(
        scopes = state.scopes.len(),
        calls = state.calls,
        "live state read"
    );
    Ok(state)
}

/// Why the live state could not be read at all. Unlike an unknown scope, planning again will
/// not help until the user acts; the command stops with exit 1.
#[derive(Debug, thiserror::Error)]
pub enum ReadFailure {
    /// The credentials were refused or may not call a route the read needs.
    #[error("credentials: {hint}")]
    Credentials {
        hint: String,
        #[source]
        source: OvhError,
    },
    /// No connection could be opened, after retrying for a few seconds.
    #[error("cannot reach {endpoint}: {cause}")]
    Unreachable {
        endpoint: String,
        cause: String,
        #[source]
        source: OvhError,
    },
    /// A scope's root answered 404: the project, engine or hosting does not exist there.
    #[error("{what} does not exist on {endpoint}; check the name in the manifests (or reconcile.yaml) and that these credentials' account owns it")]
    NotFound {
        what: String,
        endpoint: String,
        #[source]
        source: OvhError,
    },
    /// Any other refusal (another 4xx, a bad configuration).
    #[error("{} could not be read", .scope.as_ref().map_or("the live state".to_owned(), ToString::to_string))]
    Refused {
        scope: Option<Scope>,
        #[source]
        source: OvhError,
    },
}

impl ReadFailure {
    fn of(client: &Client, scope: Option<&Scope>, source: OvhError) -> ReadFailure {
        let endpoint = client.endpoint().base_url().to_owned();
        match source.error_class() {
            ErrorClass::Credentials => ReadFailure::Credentials {
                hint: source.credentials_hint(),
                source,
            },
            ErrorClass::Unreachable => ReadFailure::Unreachable {
                endpoint,
                cause: source
                    .unreachable_cause()
                    .unwrap_or_else(|| source.to_string()),
                source,
            },
            ErrorClass::NotFound if scope.is_some() => ReadFailure::NotFound {
                what: scope.map_or_else(String::new, |scope| {
                    crate::family::of_scope(scope).missing(scope)
                }),
                endpoint,
                source,
            },
            _ => ReadFailure::Refused {
                scope: scope.cloned(),
                source,
            },
        }
    }

    /// The one-word kind drift reports carry (`errors[].kind`).
    pub fn kind(&self) -> &'static str {
        match self {
            ReadFailure::Credentials { .. } => "credentials",
            ReadFailure::Unreachable { .. } => "connection",
            ReadFailure::NotFound { .. } => "notFound",
            ReadFailure::Refused { .. } => "refused",
        }
    }
}

pub(crate) fn scope_state(scope: &Scope, result: Result<LiveScope, ReadError>) -> ScopeState {
    match result {
        Ok(live) => ScopeState::Known(live),
        Err(err) => {
            tracing::debug!(%scope, "live state unknown: {err}");
            ScopeState::Unknown {
                reason: err.reason(),
            }
        }
    }
}

/// Why a scope (or a service's users, or a catalogue) could not be read. The text is what the
/// plan shows as the reason a scope is unknown.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The call failed: its text carries the method, path, status, class and query id.
    #[error(transparent)]
    Api(#[from] OvhError),
    /// The API answered 2xx with something that is not the object the route documents.
    #[error("GET {} answered {what}", Redacted::path(.path))]
    Malformed { path: String, what: &'static str },
}

impl ReadError {
    /// The text an unknown scope (or unknown users) carries: this error, then each cause
    /// (`; caused by: ...`), so that an error wrapping another (the server time, a transport
    /// failure) still names the status and query id that explain it.
    pub fn reason(&self) -> String {
        let mut reason = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(err) = cause {
            let text = err.to_string();
            if !reason.contains(&text) {
                reason.push_str("; caused by: ");
                reason.push_str(&text);
            }
            cause = err.source();
        }
        reason
    }

    pub(crate) fn malformed(path: &str, what: &'static str) -> Self {
        ReadError::Malformed {
            path: path.to_owned(),
            what,
        }
    }
}

/// The one way the live read calls the API: bounded, counted, each path at most once.
pub(crate) struct Reader<'a> {
    client: &'a Client,
    permits: Semaphore,
    calls: AtomicUsize,
    requested: Mutex<HashSet<String>>,
    /// Answers already known in this run, and where new ones go.
    answers: Option<&'a Answers>,
    /// The first error that stops the whole read (`ErrorClass::stops_the_run`): once there is
    /// one, no further request is sent.
    stop: Mutex<Option<OvhError>>,
    /// A read for apply's verification (`read_to_verify`): what no manifest names and no
    /// pruning plan would delete need not be read.
    verifying: bool,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(client: &'a Client, parallelism: usize) -> Self {
        Reader {
            client,
            permits: Semaphore::new(parallelism.max(1)),
            calls: AtomicUsize::new(0),
            requested: Mutex::new(HashSet::new()),
            answers: None,
            stop: Mutex::new(None),
            verifying: false,
        }
    }

    /// True for apply's verification read (`read_to_verify`).
    pub(crate) fn verifying(&self) -> bool {
        self.verifying
    }

    /// The error that stopped the read, taken out.
    fn stopped_by(&self) -> Option<OvhError> {
        self.stop.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    fn is_stopped(&self) -> bool {
        self.stop
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }

    /// How many requests were made (a request the client retried counts once).
    pub(crate) fn calls(&self) -> usize {
        self.calls.load(Ordering::Relaxed)
    }

    /// `GET path` as JSON.
    pub(crate) async fn get(&self, path: &str) -> Result<Value, OvhError> {
        self.get_from(self.client, path).await
    }

    /// `GET path`, `None` when it answers 404 (the object is not there, or went away since it
    /// was listed).
    pub(crate) async fn get_if_present(&self, path: &str) -> Result<Option<Value>, OvhError> {
        self.get_if_present_from(self.client, path).await
    }

    /// This reader on a declared API (`Client::for_api`): same bound, count and answers.
    pub(crate) fn on_api(&self, api: &DeclaredApi) -> ApiReader<'_, 'a> {
        ApiReader {
            reader: self,
            client: self.client.for_api(api),
        }
    }

    async fn get_from(&self, client: &Client, path: &str) -> Result<Value, OvhError> {
        if let Some(Some(known)) = self.answers.and_then(|a| a.get(path)) {
            return Ok(known);
        }
        let body = self.request(client, path).await?;
        self.remember(path, Some(&body));
        Ok(body)
    }

    async fn get_if_present_from(
        &self,
        client: &Client,
        path: &str,
    ) -> Result<Option<Value>, OvhError> {
        if let Some(known) = self.answers.and_then(|a| a.get(path)) {
            return Ok(known);
        }
        let body = crate::ovh::if_present(self.request(client, path).await)?;
        self.remember(path, body.as_ref());
        Ok(body)
    }

    /// Keeps an answer in the run's `answers`, when there are any.
    fn remember(&self, path: &str, body: Option<&Value>) {
        if let Some(answers) = self.answers {
            answers.record(path, body.cloned());
        }
    }

    /// One counted request, within the in-flight bound; each path at most once.
    async fn request(&self, client: &Client, path: &str) -> Result<Value, OvhError> {
        let fresh = self
            .requested
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(path.to_owned());
        debug_assert!(fresh, "the live read asked for {path} twice");
        let _permit = self
            .permits
            .acquire()
            .await
            .expect("the reader's semaphore is never closed");
        if self.is_stopped() {
            return Err(OvhError::Config {
                message: format!(
                    "GET {} not sent: the read already stopped",
                    Redacted::path(path)
                ),
                hint: None,
            });
        }
        self.calls.fetch_add(1, Ordering::Relaxed);
        match client.get::<Value>(path).await {
            Err(err) if err.error_class().stops_the_run() => {
                let stopped = OvhError::Config {
                    message: format!("GET {} stopped the read: {err}", Redacted::path(path)),
                    hint: None,
                };
                // The first such error is the one `read` fails with.
                self.stop
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get_or_insert(err);
                Err(stopped)
            }
            result => result,
        }
    }

    /// `GET path` of a list route: the ids (strings; numeric ids are kept as their text).
    pub(crate) async fn list(&self, path: &str) -> Result<Vec<String>, ReadError> {
        let body = self.get(path).await?;
        ids(&body).ok_or_else(|| ReadError::malformed(path, "something other than a list of ids"))
    }
}

/// A `Reader` whose requests go to a declared API's client (`Reader::on_api`).
pub(crate) struct ApiReader<'r, 'a> {
    reader: &'r Reader<'a>,
    client: &'r Client,
}

impl ApiReader<'_, '_> {
    pub(crate) async fn get(&self, path: &str) -> Result<Value, OvhError> {
        self.reader.get_from(self.client, path).await
    }

    pub(crate) async fn get_if_present(&self, path: &str) -> Result<Option<Value>, OvhError> {
        self.reader.get_if_present_from(self.client, path).await
    }
}

/// The ids of a list answer, or `None` when it is not an array of strings or numbers.
pub(crate) fn ids(body: &Value) -> Option<Vec<String>> {
    body.as_array()?
        .iter()
        .map(|id| match id {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::database::live::managed_projects;
    use crate::manifest::Spec;
    use crate::manifest::{
        Address, DatabaseServiceSpec, DatabaseUserSpec, HostingAttachedDomainSpec,
        HostingDatabaseSpec, HostingSslSpec, Kind, ManagedStackMysqlSpec, Manages, NodesSpec,
        ProjectDefaults, Resource, SecretRef, Span,
    };
    use serde_json::json;

    fn resource(kind: Kind, name: &str, spec: Spec) -> Resource {
        Resource {
            address: Address {
                kind,
                name: name.into(),
            },
            span: Span {
                file: "m.yaml".into(),
                line: 1,
                column: 1,
                offset: 0,
                len: 0,
            },
            spec,
        }
    }

    fn service(name: &str, project: Option<&str>, engine: &str) -> Resource {
        resource(
            Kind::DatabaseService,
            name,
            Spec::DatabaseService(DatabaseServiceSpec {
                project: project.map(Into::into),
                engine: engine.into(),
                version: "7.0".into(),
                plan: "production".into(),
                nodes: NodesSpec {
                    flavor: "db2-4".into(),
                    region: "GRA".into(),
                    count: 3,
                },
                storage: None,
                network: None,
                ip_restrictions: None,
                maintenance_time: None,
                deletion_protection: None,
            }),
        )
    }

    fn user(name: &str, service: &str) -> Resource {
        resource(
            Kind::DatabaseUser,
            name,
            Spec::DatabaseUser(DatabaseUserSpec {
                service: service.into(),
                username: name.into(),
                roles: vec![],
            }),
        )
    }

    fn set(resources: Vec<Resource>) -> ManifestSet {
        ManifestSet {
            defaults: ProjectDefaults {
                project: Some("dflt".into()),
                hosting: Some("h0.example.net".into()),
                endpoint: None,
                manages: Manages::default(),
            },
            resources,
        }
    }

    fn db(project: &str, engine: &str) -> Scope {
        Scope::Database {
            project: project.into(),
            engine: engine.into(),
        }
    }

    fn hosting(name: &str) -> Scope {
        Scope::Hosting {
            hosting: name.into(),
        }
    }

    #[test]
    fn scopes_are_one_per_project_engine_hosting_and_stack_family() {
        let secret = SecretRef {
            from_env: Some("PW".into()),
            from_file: None,
        };
        let manifests = set(vec![
            service("a", Some("p1"), "mongodb"),
            service("b", Some("p1"), "mongodb"),
            service("c", Some("p1"), "postgresql"),
            service("d", Some("p2"), "mongodb"),
            service("e", None, "mysql"),
            user("u", "a"),
            resource(
                Kind::HostingAttachedDomain,
                "www",
                Spec::HostingAttachedDomain(HostingAttachedDomainSpec {
                    hosting: Some("h1.example.net".into()),
                    domain: "www.example.com".into(),
                    path: "www".into(),
                    ssl: None,
                    cdn: None,
                    firewall: None,
                    own_log: None,
                    runtime_id: None,
                }),
            ),
            resource(
                Kind::HostingSsl,
                "ssl",
                Spec::HostingSsl(HostingSslSpec {
                    hosting: Some("h1.example.net".into()),
                    certificate: None,
                    key: None,
                    chain: None,
                }),
            ),
            resource(
                Kind::HostingDatabase,
                "blog",
                Spec::HostingDatabase(HostingDatabaseSpec {
                    hosting: None,
                    capability: "sqlPerso".into(),
                    engine: "mysql".into(),
                    user: "h0blog".into(),
                    version: None,
                    quota: None,
                    password: secret,
                }),
            ),
            resource(
                Kind::ManagedStackMysql,
                "s1",
                Spec::ManagedStackMysql(ManagedStackMysqlSpec {
                    id: None,
                    nodes: None,
                }),
            ),
            resource(
                Kind::ManagedStackMysql,
                "s2",
                Spec::ManagedStackMysql(ManagedStackMysqlSpec {
                    id: Some(1001),
                    nodes: Some(3),
                }),
            ),
        ]);
        let expected: BTreeSet<Scope> = [
            db("p1", "mongodb"),
            db("p1", "postgresql"),
            db("p2", "mongodb"),
            db("dflt", "mysql"),
            hosting("h1.example.net"),
            hosting("h0.example.net"),
            Scope::StackMysql,
        ]
        .into_iter()
        .collect();
        assert_eq!(scopes(&manifests), expected);
    }

    #[test]
    fn users_alone_touch_no_scope() {
        let manifests = ManifestSet {
            defaults: ProjectDefaults::default(),
            resources: vec![user("u", "a")],
        };
        assert!(scopes(&manifests).is_empty());
    }

    /// The last `DatabaseUser` of a service removed: its user lived on, unlisted, because only
    /// the services a user manifest names had their users read.
    #[test]
    fn users_are_read_for_every_named_service_in_its_own_scope() {
        let manifests = set(vec![
            service("a", Some("p1"), "mongodb"),
            service("b", Some("p1"), "mongodb"),
            service("c", None, "postgresql"),
            user("u1", "a"),
        ]);
        let with_users = crate::family::database::live::service_names(&manifests);
        let names = |p: &str, e: &str| {
            with_users
                .get(&(p.to_owned(), e.to_owned()))
                .map(|s| s.iter().cloned().collect::<Vec<_>>())
        };
        assert_eq!(
            names("p1", "mongodb"),
            Some(vec!["a".to_owned(), "b".to_owned()])
        );
        assert_eq!(names("dflt", "postgresql"), Some(vec!["c".to_owned()]));
        assert_eq!(with_users.len(), 2);
    }

    #[test]
    fn manages_adds_scopes_and_projects_read_whole() {
        let mut manifests = set(vec![service("a", Some("p1"), "mongodb")]);
        manifests.defaults.manages = Manages {
            projects: vec!["p2".into()],
            hostings: vec!["h9.example.net".into()],
            stack_mysql: true,
        };
        let expected: BTreeSet<Scope> = [
            db("p1", "mongodb"),
            hosting("h9.example.net"),
            Scope::StackMysql,
        ]
        .into_iter()
        .collect();
        assert_eq!(scopes(&manifests), expected);
        let projects: Vec<String> = managed_projects(&manifests).into_iter().collect();
        assert_eq!(projects, ["p1", "p2"]);
    }

    #[test]
    fn ids_accept_strings_and_numbers_only() {
        assert_eq!(
            ids(&json!(["a", 7])),
            Some(vec!["a".to_owned(), "7".to_owned()])
        );
        assert_eq!(ids(&json!([])), Some(vec![]));
        assert_eq!(ids(&json!([{"id": "a"}])), None);
        assert_eq!(ids(&json!({"ids": []})), None);
    }

    #[test]
    fn a_reason_names_the_causes_once() {
        let malformed = ReadError::malformed("/stackMysql/x", "a mysql stack without an id");
        assert_eq!(
            malformed.reason(),
            "GET /stackMysql/x answered a mysql stack without an id"
        );
        let config = OvhError::Config {
            message: "no endpoint".into(),
            hint: None,
        };
        assert_eq!(ReadError::from(config).reason(), "no endpoint");
    }
}
