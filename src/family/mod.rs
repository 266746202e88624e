//! The API families, one folder each (`database`: Public Cloud Databases; `hosting`: Web
//! Hosting; `stack`: RunAbove managed MySQL), and this file: the registry (`FAMILIES`), the
//! contract the generic layers call (`Family`), the manifest kinds (`Kind`, and `Spec` with
//! one variant per kind), and the enums with one variant per family (`Scope`, `LiveScope`,
//! `Operation`, `Resume`, `DigestKey`) with their dispatching matches, the only matches on
//! families outside their folders (see docs/ARCHITECTURE.md, "API families").
//!
//! A family's folder holds everything about it: `mod.rs` (its calls, paths, identity rules and
//! `impl Family`), `spec` (its manifest kinds' specs and their validation rules), `model` (its `Live*` types), `live` (the
//! read of one scope), `plan` (placing and planning a scope), `digest` (its digest keys, and
//! digesting a scope), `engine` (executing its calls, lookups, readiness), `resume` (waiting
//! for what an earlier run left on its way).
//!
//! Each family owns, among the rest, three things the code used to spell out in many places:
//! - its **typed operations**: an enum of the calls a plan lists and the engine executes, each
//!   variant carrying the ids it acts on (`Id::Created` where the id is made earlier in the
//!   run) and the identity of what it creates (a service's description, a username, a domain);
//! - its **API paths**, built only here, every id segment escaped with `ovh::path_segment`;
//!   the plan, the engine and the live read all call these;
//! - its **identity rules** (MongoDB's `@admin`, a domain's case and trailing dot, ...), one
//!   definition used by plan, engine, resume and validation alike.
//!
//! The plan holds `Operation`s. `Operation::method`, `path` and `body` render one as
//! `METHOD path body`, for `--show-calls`, logs, the renderers and the plan JSON (which
//! serializes `{"method", "path", "body"}` exactly as before). The engine never reads a
//! rendered form back: it matches on the family's enum. A saved plan's calls read back as
//! `Operation::Saved`, which compares with a fresh plan's by rendered form and is never
//! executed (apply executes the plan it makes now, after checking it equals the saved one).
//!
//! Adding an operation: a variant in the family's `Call` (with its `method`, `path`, `body`
//! arms and a line in the family's rendering test), the planner building it, and the arm in
//! the family's `engine::execute`.

pub mod database;
pub mod hosting;
pub mod stack;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;
use std::path::Path;

pub(crate) use crate::ovh::path_segment as segment;

use crate::engine::step::{Step, StepEnd, StepResult};
use crate::engine::PasswordUnknown;
use crate::live::read::{ReadError, Reader};
use crate::live::LiveState;
use crate::manifest::model::{Address, ManifestSet, Resource, SecretRef};
use crate::manifest::validate::{ManagedObject, SpecCheck};
use crate::ovh::{Client, DeclaredApi, Endpoint, OvhError};
use crate::plan::{Context, Digests, Draft, Finding, Plan};
use futures::future::BoxFuture;
use schemars::JsonSchema;
use std::any::Any;
use std::collections::BTreeSet;

/// One API family as the generic layers see it: the family contract. `plan::plan` routes
/// resources and plans scopes through it, `plan::live_digests` digests its scopes,
/// `live::scopes` and `live::read` read them, the engine picks the client of a step and the
/// waits to resume through it. The generic layers never match on a family's kinds or scopes:
/// they find the family (`of_kind`, `of_scope`) and ask it.
pub(crate) trait Family: Sync {
    /// The manifest kinds it owns.
    fn kinds(&self) -> &'static [Kind];

    /// The JSON Schema of the spec of `kind`, one of `kinds()` (`manifest::schema`, which asks
    /// in `Kind::ALL` order, so `$defs` keep their order).
    fn spec_schema(
        &self,
        kind: Kind,
        generator: &mut schemars::SchemaGenerator,
    ) -> schemars::Schema;

    /// The spec of a `kind` document (one of `kinds()`) from its `spec`, already checked
    /// against the schema (`Spec::from_json`).
    fn spec_from_json(&self, kind: Kind, value: Value) -> Result<Spec, serde_json::Error>;

    // The rules a schema cannot say (`manifest::validate`, which reports each finding at its
    // field and never stops early). The defaults are those of a kind with none.

    /// The rules within one document of its kinds: defaults from reconcile.yaml filled in
    /// (`SpecCheck::default`), secrets checked and resolved (`SpecCheck::secret`), and the
    /// family's own rules (IP blocks, the maintenance time, SSL certificate and key, ...).
    fn check_spec(&self, _spec: &mut Spec, _check: &mut SpecCheck<'_, '_>) {}

    /// The fields of `spec` whose values become API path segments, with their values (defaults
    /// filled in): validation refuses `.` and `..` there.
    fn path_fields<'s>(&self, _spec: &'s Spec) -> Vec<(&'static str, &'s str)> {
        Vec::new()
    }

    /// The resources `spec` depends on, each with the field that names it (`Spec::references`).
    fn references(&self, _spec: &Spec) -> Vec<(&'static str, Address)> {
        Vec::new()
    }

    /// The live object a document of `spec` manages, for "one live object, one manifest";
    /// `specs` finds the other documents' specs by address (a user's service, for its engine).
    /// `None`: nothing another manifest could also name (a service: its name is its identity).
    fn managed_object<'s>(
        &self,
        _spec: &'s Spec,
        _specs: &dyn Fn(&Address) -> Option<&'s Spec>,
    ) -> Option<ManagedObject> {
        None
    }

    /// A note for the second of two manifests of one live object, when their specs spell it
    /// differently (MongoDB's `x` and `x@admin`).
    fn same_object_note(&self, _first: &Spec, _second: &Spec) -> Option<String> {
        None
    }

    /// True for the scopes of this family.
    fn owns(&self, scope: &Scope) -> bool;

    /// The scopes `manifests` touch (resources of its kinds, and what `reconcile.yaml`
    /// declares managed).
    fn scopes(&self, manifests: &ManifestSet) -> Vec<Scope>;

    /// Reads one of its scopes whole. `prune`: the plan may delete what no manifest names
    /// (so read the children of those objects too).
    fn read_scope<'a>(
        &'a self,
        reader: &'a Reader<'_>,
        scope: &'a Scope,
        manifests: &'a ManifestSet,
        prune: bool,
    ) -> BoxFuture<'a, Result<LiveScope, ReadError>>;

    /// What a scope whose root answered 404 is, for the message (`project p1 (or its mongodb
    /// databases)`).
    fn missing(&self, scope: &Scope) -> String;

    /// The scope `resource` lives in; an error finding when it cannot be placed (a reference
    /// validation should have caught).
    fn scope_of(&self, resource: &Resource, ctx: &Context) -> Result<Scope, Finding>;

    /// Plans `resources` (all of this family, all in `scope`) against the scope's live objects:
    /// identity, diff, calls, and the live objects no manifest names (unmanaged, or deleted
    /// under prune).
    fn plan_scope(
        &self,
        scope: &Scope,
        live: &LiveScope,
        resources: &[&Resource],
        ctx: &Context,
        out: &mut Draft,
    );

    /// Checks run once every scope is planned, over the whole draft (the database catalogue:
    /// `family::database::preflight`).
    fn preflight(&self, _ctx: &Context, _draft: &mut Draft) {}

    /// The digests of one known scope's objects and listings (`plan::digest`'s keys).
    fn digest(&self, scope: &Scope, live: &LiveScope, out: &mut Digests);

    /// The manifest secret behind a body field the plan shows redacted (`"***"`), which the
    /// engine reads when it sends the call.
    fn secret_ref<'s>(&self, _spec: &'s Spec, _key: &str) -> Option<&'s SecretRef> {
        None
    }

    /// What, besides kind, action and phase, a wait's length depends on (` ENGINE PLAN FLAVOR
    /// xN` for a database service): waits of one shape learn their length together.
    fn wait_shape(&self, _spec: &Spec) -> String {
        String::new()
    }

    /// The API it lives on when not OVH's main one (`None`, the default): the CLI adds its
    /// flag, `cli::client::connect` resolves its endpoint, `Client::for_api` is its client.
    fn api(&self) -> Option<&'static DeclaredApi> {
        None
    }

    /// The client its calls go to: its `api`'s (OVH's for none).
    fn client<'c>(&self, client: &'c Client) -> &'c Client {
        match self.api() {
            Some(api) => client.for_api(api),
            None => client,
        }
    }

    /// What to wait for when the plan leaves `address` alone while its live object is still
    /// on its way (`id`: the live object the plan lists in progress, when it does).
    fn resume(
        &self,
        address: &Address,
        spec: &Spec,
        manifests: &ManifestSet,
        live: &LiveState,
        id: Option<&str>,
    ) -> Option<Resume>;

    // Reads beside the scopes (`live::read`), what apply asks around the engine
    // (`apply::gates`, `apply::rotation`, `apply::saved`, `engine::rotate`,
    // `engine::passwords_unknown`) and run-wide state (`engine::step::Run`). The defaults are
    // those of a family that reads nothing beside its scopes, protects nothing, loses no data
    // on a replace and has no password to reset.

    /// Reads it makes beside its scopes, concurrently with them (the database catalogue of each
    /// project, the service index of each managed project), for `fold_beside`; `None`: none.
    fn read_beside<'a>(
        &'a self,
        _reader: &'a Reader<'_>,
        _scopes: &'a BTreeSet<Scope>,
        _manifests: &'a ManifestSet,
    ) -> BoxFuture<'a, Option<Beside>> {
        Box::pin(async { None })
    }

    /// Folds what `read_beside` read into `state` once every scope is in; an error names the
    /// scope it leaves unread (`live::ReadFailure`).
    fn fold_beside<'a>(
        &'a self,
        _reader: &'a Reader<'_>,
        _state: &'a mut LiveState,
        _beside: Beside,
        _prune: bool,
    ) -> BoxFuture<'a, Result<(), (Scope, OvhError)>> {
        Box::pin(async { Ok(()) })
    }

    /// True when the live object `id`, of a change to an object of `kind`, refuses to be deleted
    /// or replaced (a database service's `deletionProtection`).
    fn deletion_protected(&self, _kind: Kind, _live: &LiveState, _id: &str) -> bool {
        false
    }

    /// True when replacing an object of `kind` (deleting it, then creating it again) loses its
    /// data: the `--allow-replace` gate.
    fn loses_data_on_replace(&self, _kind: Kind) -> bool {
        false
    }

    /// True when `apply --rotate` can reset the password of an object of `kind`.
    fn rotatable(&self, _kind: Kind) -> bool {
        false
    }

    /// The objects whose steps must end done, besides the resource's own, before its password
    /// is reset (a database user's service).
    fn rotation_needs(&self, _resource: &Resource) -> Vec<Address> {
        Vec::new()
    }

    /// Resets the password of the step's resource on purpose (`apply --rotate`) and writes the
    /// new one to the secrets sink.
    fn rotate<'a>(
        &'a self,
        step: &'a mut Step<'_, '_>,
        _live: &'a LiveState,
    ) -> BoxFuture<'a, StepResult<()>> {
        let message = format!("{} has no password to rotate", step.address());
        Box::pin(async move { Err(StepEnd::failed(message)) })
    }

    /// The resources of `manifests` that `live` shows existing and whose password the secrets
    /// sink (`dir`, for `endpoint`) does not hold.
    fn passwords_unknown(
        &self,
        _dir: &Path,
        _endpoint: &Endpoint,
        _manifests: &ManifestSet,
        _live: &LiveState,
    ) -> Vec<PasswordUnknown> {
        Vec::new()
    }

    /// How a message names the live object at `ids` (its parent's id first: `[service, user]`)
    /// in one of its scopes (`live`): the address of the resource the manifests name it by,
    /// else the object as the API shows it; `None` when the scope has no such object or the
    /// family does not name its objects this way.
    fn describe_live(
        &self,
        _live: &LiveScope,
        _ids: &[&str],
        _manifests: &ManifestSet,
    ) -> Option<String> {
        None
    }

    /// What its steps share across one engine run of `plan`, kept by `engine::step::Run` and
    /// read back by the family's engine (`Run::family_state`): the stacks' serialised creates.
    fn run_state(&self, _plan: &Plan) -> Option<Box<dyn Any + Send + Sync>> {
        None
    }
}

/// What a family read beside its scopes (`Family::read_beside`), handed back to its
/// `fold_beside`.
pub(crate) type Beside = Box<dyn Any + Send>;

/// The registry: every API family, in the order plans list their scopes.
pub(crate) const FAMILIES: &[&dyn Family] =
    &[&database::Databases, &hosting::Hostings, &stack::Stacks];

/// The APIs the families live on besides OVH's main one, each once, in `FAMILIES` order.
pub(crate) fn declared_apis() -> Vec<&'static DeclaredApi> {
    let mut apis: Vec<&'static DeclaredApi> = Vec::new();
    for api in FAMILIES.iter().filter_map(|family| family.api()) {
        if !apis.iter().any(|known| known.key == api.key) {
            apis.push(api);
        }
    }
    apis
}

/// The family owning `kind`.
pub(crate) fn of_kind(kind: Kind) -> &'static dyn Family {
    *FAMILIES
        .iter()
        .find(|family| family.kinds().contains(&kind))
        .expect("every kind belongs to a family in FAMILIES")
}

/// The family owning `scope`.
pub(crate) fn of_scope(scope: &Scope) -> &'static dyn Family {
    *FAMILIES
        .iter()
        .find(|family| family.owns(scope))
        .expect("every scope belongs to a family in FAMILIES")
}

// One variant per kind of every family (each family lists its own in `Family::kinds`); the
// order of the variants is the order plans list resources in. The doc line below is the JSON
// Schema's description (pinned by `reconcile schema`'s snapshot).
/// The kinds reconcile manages.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum Kind {
    DatabaseService,
    DatabaseUser,
    HostingAttachedDomain,
    HostingSsl,
    HostingDatabase,
    ManagedStackMysql,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::DatabaseService,
        Kind::DatabaseUser,
        Kind::HostingAttachedDomain,
        Kind::HostingSsl,
        Kind::HostingDatabase,
        Kind::ManagedStackMysql,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::DatabaseService => "DatabaseService",
            Kind::DatabaseUser => "DatabaseUser",
            Kind::HostingAttachedDomain => "HostingAttachedDomain",
            Kind::HostingSsl => "HostingSsl",
            Kind::HostingDatabase => "HostingDatabase",
            Kind::ManagedStackMysql => "ManagedStackMysql",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Kind {
    type Err = ();
    /// The kind spelled exactly as in `kind:`.
    fn from_str(s: &str) -> Result<Kind, ()> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s).ok_or(())
    }
}

/// The spec of one manifest document: one variant per kind, holding its family's spec struct
/// (`family::<family>::spec`).
#[derive(Debug, Clone, PartialEq)]
pub enum Spec {
    DatabaseService(database::spec::DatabaseServiceSpec),
    DatabaseUser(database::spec::DatabaseUserSpec),
    HostingAttachedDomain(hosting::spec::HostingAttachedDomainSpec),
    HostingSsl(hosting::spec::HostingSslSpec),
    HostingDatabase(hosting::spec::HostingDatabaseSpec),
    ManagedStackMysql(stack::spec::ManagedStackMysqlSpec),
}

impl Spec {
    /// The spec of a `kind` document from its `spec` (already checked against the schema): its
    /// family reads it.
    pub fn from_json(kind: Kind, value: Value) -> Result<Spec, serde_json::Error> {
        of_kind(kind).spec_from_json(kind, value)
    }

    pub fn kind(&self) -> Kind {
        match self {
            Spec::DatabaseService(_) => Kind::DatabaseService,
            Spec::DatabaseUser(_) => Kind::DatabaseUser,
            Spec::HostingAttachedDomain(_) => Kind::HostingAttachedDomain,
            Spec::HostingSsl(_) => Kind::HostingSsl,
            Spec::HostingDatabase(_) => Kind::HostingDatabase,
            Spec::ManagedStackMysql(_) => Kind::ManagedStackMysql,
        }
    }

    /// The resources this one depends on, each with the field that names it: they are created
    /// before it and deleted after it (`Family::references`).
    ///
    /// Architecture invariant: a reference goes to a kind that references nothing (a user to
    /// its service), so references cannot form a cycle and validation has no cycle check. A
    /// reference from a kind that is itself referenced must bring one back (and into
    /// `plan::waves` and `engine::schedule`, which assume none).
    pub fn references(&self) -> Vec<(&'static str, Address)> {
        of_kind(self.kind()).references(self)
    }
}

/// A wait for an object an earlier run left on its way (see `engine::resume`): the family's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resume {
    Database(database::resume::Resume),
    Hosting(hosting::resume::Resume),
    Stack(stack::resume::Resume),
}

impl Resume {
    /// The id of the live object waited for.
    pub(crate) fn live_id(&self) -> &str {
        match self {
            Resume::Database(resume) => resume.live_id(),
            Resume::Hosting(resume) => resume.live_id(),
            Resume::Stack(resume) => resume.live_id(),
        }
    }

    /// Waits for it.
    pub(crate) async fn wait(&self, step: &mut Step<'_, '_>) -> StepResult<()> {
        match self {
            Resume::Database(resume) => resume.wait(step).await,
            Resume::Hosting(resume) => resume.wait(step).await,
            Resume::Stack(resume) => resume.wait(step).await,
        }
    }
}

/// Executes one operation of a step: the family's `execute` matches its `Call`.
pub(crate) async fn execute(
    step: &mut Step<'_, '_>,
    operation: &Operation,
    body: Option<Value>,
) -> StepResult<()> {
    match operation {
        Operation::Database(call) => database::engine::execute(step, call, body).await,
        Operation::Hosting(call) => hosting::engine::execute(step, call, body).await,
        Operation::Stack(call) => stack::engine::execute(step, call, body).await,
        Operation::Saved(_) => Err(StepEnd::failed(format!(
            "{operation} was read back from a saved plan: apply executes the plan it makes now, never a saved one"
        ))),
    }
}

/// A part of the API read as a whole: a list the planner needs complete to decide creates and
/// deletes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Scope {
    /// `/cloud/project/{project}/database/{engine}`: the services of one engine in one project
    /// (and, for the services a manifest names, their users).
    Database { project: String, engine: String },
    /// `/hosting/web/{hosting}`: attached domains, SSL, databases.
    Hosting { hosting: String },
    /// `/stackMysql`: every managed MySQL stack.
    StackMysql,
}

/// How messages name a scope: each family words its own.
impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Database { project, engine } => database::fmt_scope(f, project, engine),
            Scope::Hosting { hosting } => hosting::fmt_scope(f, hosting),
            Scope::StackMysql => stack::fmt_scope(f),
        }
    }
}

/// What one scope holds, as read: the family's own value.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "family", rename_all = "camelCase")]
pub enum LiveScope {
    Database {
        services: Vec<database::model::LiveService>,
    },
    Hosting(hosting::model::LiveHosting),
    StackMysql {
        stacks: Vec<stack::model::LiveStack>,
    },
}

/// What one digest of a plan digests (`plan::digest`, the stale-plan guard): the family's own
/// key, a live object or a listing. It renders as the key of the saved plan's `digests`
/// (`Display`, the family's text); nothing reads a key back.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DigestKey {
    Database(database::DigestKey),
    Hosting(hosting::DigestKey),
    Stack(stack::DigestKey),
}

impl DigestKey {
    /// The listings `scope` always has, whatever it holds.
    pub(crate) fn listings_of(scope: &Scope) -> Vec<DigestKey> {
        match scope {
            Scope::Database { project, engine } => {
                wrap(database::DigestKey::listings(project, engine))
            }
            Scope::Hosting { hosting } => wrap(hosting::DigestKey::listings(hosting)),
            Scope::StackMysql => wrap(stack::DigestKey::listings()),
        }
    }

    /// For a listing: the kind of the objects it lists.
    pub(crate) fn lists(&self) -> Option<Kind> {
        match self {
            DigestKey::Database(key) => key.lists(),
            DigestKey::Hosting(key) => key.lists(),
            DigestKey::Stack(key) => key.lists(),
        }
    }

    /// For a listing: the key of its object `id`.
    pub(crate) fn child(&self, id: &str) -> Option<DigestKey> {
        match self {
            DigestKey::Database(key) => key.child(id).map(Into::into),
            DigestKey::Hosting(key) => key.child(id).map(Into::into),
            DigestKey::Stack(key) => key.child(id).map(Into::into),
        }
    }

    /// For an object: the listings under it (a database service's users), which a stale check
    /// names too.
    pub(crate) fn listings_under(&self) -> Vec<DigestKey> {
        match self {
            DigestKey::Database(key) => wrap(key.listings_under()),
            DigestKey::Hosting(key) => wrap(key.listings_under()),
            DigestKey::Stack(key) => wrap(key.listings_under()),
        }
    }
}

impl DigestKey {
    /// What the key digests, in words, for a stale plan's refusal (`apply::saved::describe`):
    /// the resource of the plan's change on it, else the object as the live state names it.
    pub fn label(&self, names: &dyn KeyNames) -> Option<String> {
        match self {
            DigestKey::Database(key) => key.label(names),
            DigestKey::Hosting(key) => key.label(names),
            DigestKey::Stack(key) => key.label(names),
        }
    }
}

/// What a digest key's `label` may draw on.
pub trait KeyNames {
    /// The resource of the plan's change on the live object `id`.
    fn planned(&self, id: &str) -> Option<String>;
    /// How the family of `scope` names the live object at `ids` there (`Family::describe_live`),
    /// when the scope is known.
    fn live(&self, scope: Scope, ids: &[&str]) -> Option<String>;
}

fn wrap<K: Into<DigestKey>>(keys: Vec<K>) -> Vec<DigestKey> {
    keys.into_iter().map(Into::into).collect()
}

impl fmt::Display for DigestKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DigestKey::Database(key) => key.fmt(f),
            DigestKey::Hosting(key) => key.fmt(f),
            DigestKey::Stack(key) => key.fmt(f),
        }
    }
}

/// One call of a plan: a family's typed operation, or one read back from a saved plan.
#[derive(Debug, Clone)]
pub enum Operation {
    Database(database::Call),
    Hosting(hosting::Call),
    Stack(stack::Call),
    /// A call read back from a saved plan (`{"method", "path", "body"}`): compared with the
    /// plan made now by its rendered form, never executed, never parsed.
    Saved(SavedCall),
}

/// A call as a saved plan shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedCall {
    pub method: String,
    pub path: String,
    pub body: Option<Value>,
}

/// An id segment: known when planning, or made by a create earlier in the run (this change's
/// own create, or the create of the object it lives under), shown as `{id}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Id {
    Known(String),
    Created,
}

impl Id {
    /// The escaped path segment (`{id}` for `Created`).
    pub fn segment(&self) -> Cow<'_, str> {
        match self {
            Id::Known(id) => segment(id),
            Id::Created => Cow::Borrowed(Id::PLACEHOLDER),
        }
    }

    /// How a plan shows an id made earlier in the run.
    pub const PLACEHOLDER: &'static str = "{id}";
}

impl From<&str> for Id {
    fn from(id: &str) -> Self {
        Id::Known(id.to_owned())
    }
}

impl Operation {
    /// `GET`, `POST`, `PUT` or `DELETE`.
    pub fn method(&self) -> &str {
        match self {
            Operation::Database(call) => call.method(),
            Operation::Hosting(call) => call.method(),
            Operation::Stack(call) => call.method(),
            Operation::Saved(call) => &call.method,
        }
    }

    /// The API path under the endpoint, ids escaped; `{id}` where the id is made earlier in
    /// the run.
    pub fn path(&self) -> String {
        match self {
            Operation::Database(call) => call.path(),
            Operation::Hosting(call) => call.path(),
            Operation::Stack(call) => call.path(),
            Operation::Saved(call) => call.path.clone(),
        }
    }

    /// The body, redacted (secrets as `***`).
    pub fn body(&self) -> Option<&Value> {
        match self {
            Operation::Database(call) => call.body(),
            Operation::Hosting(call) => call.body(),
            Operation::Stack(call) => call.body(),
            Operation::Saved(call) => call.body.as_ref(),
        }
    }
}

/// `METHOD path` (no body): what logs and messages name a call by.
impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method(), self.path())
    }
}

/// Two calls are the same when they render the same: a saved call equals the typed one it was
/// saved from.
impl PartialEq for Operation {
    fn eq(&self, other: &Self) -> bool {
        self.method() == other.method()
            && self.path() == other.path()
            && self.body() == other.body()
    }
}

#[derive(Serialize)]
struct Rendered<'a> {
    method: &'a str,
    path: String,
    body: Option<&'a Value>,
}

impl Serialize for Operation {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Rendered {
            method: self.method(),
            path: self.path(),
            body: self.body(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Operation {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        SavedCall::deserialize(deserializer).map(Operation::Saved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_operation_serializes_as_method_path_body_and_reads_back_equal() {
        let call = Operation::Stack(stack::Call::Create {
            body: Some(json!({"nodes": 3})),
        });
        let value = serde_json::to_value(&call).unwrap();
        assert_eq!(
            value,
            json!({"method": "POST", "path": "/stackMysql", "body": {"nodes": 3}})
        );
        let read: Operation = serde_json::from_value(value).unwrap();
        assert!(matches!(read, Operation::Saved(_)));
        assert_eq!(read, call);
        let other = Operation::Stack(stack::Call::Create { body: None });
        assert_ne!(read, other);
        assert_eq!(
            serde_json::to_value(&other).unwrap(),
            json!({"method": "POST", "path": "/stackMysql", "body": null})
        );
        assert_eq!(other.to_string(), "POST /stackMysql");
    }

    #[test]
    fn a_created_id_shows_as_a_placeholder_and_a_known_one_escaped() {
        assert_eq!(Id::Created.segment(), "{id}");
        assert_eq!(Id::from("a/b c").segment(), "a%2Fb%20c");
        assert_eq!(Id::from("5f0c-1").segment(), "5f0c-1");
    }

    /// What apply asks each family, for every kind: only a database service is protected and
    /// loses its data when replaced with a hosting database, only a database user rotates.
    #[test]
    fn each_family_answers_apply_for_its_own_kinds() {
        use crate::apply::fixtures::{live, live_service};
        let live = live(vec![live_service("s1", true)]);
        let mut answers = Vec::new();
        for kind in Kind::ALL {
            let family = of_kind(kind);
            answers.push(format!(
                "{}: protected={} losesData={} rotatable={}",
                kind.as_str(),
                family.deletion_protected(kind, &live, "s1"),
                family.loses_data_on_replace(kind),
                family.rotatable(kind),
            ));
        }
        assert_eq!(
            answers,
            [
                "DatabaseService: protected=true losesData=true rotatable=false",
                "DatabaseUser: protected=false losesData=false rotatable=true",
                "HostingAttachedDomain: protected=false losesData=false rotatable=false",
                "HostingSsl: protected=false losesData=false rotatable=false",
                "HostingDatabase: protected=false losesData=true rotatable=false",
                "ManagedStackMysql: protected=false losesData=false rotatable=false",
            ]
        );
    }

    #[test]
    fn hostings_and_stacks_name_no_live_object_nor_password_and_need_nothing_to_rotate() {
        use crate::plan::tests::{domain, hosting_db, live_from_manifests, manifests, stack};
        let dir = tempfile::tempdir().unwrap();
        let endpoint = crate::ovh::Endpoint::parse("http://127.0.0.1:9/1.0").unwrap();
        let set = manifests(vec![
            domain("d", "example.com", |_| {}),
            hosting_db("hdb", "u", |_| {}),
            stack("s", |_| {}),
        ]);
        let live = live_from_manifests(&set);
        for family in [&hosting::Hostings as &dyn Family, &stack::Stacks] {
            assert_eq!(
                family.passwords_unknown(dir.path(), &endpoint, &set, &live),
                []
            );
            for state in live.scopes.values() {
                let crate::live::ScopeState::Known(objects) = state else {
                    continue;
                };
                for id in ["example.com", "hdb", "id-s"] {
                    assert_eq!(family.describe_live(objects, &[id], &set), None);
                }
            }
            for resource in &set.resources {
                assert_eq!(family.rotation_needs(resource), []);
            }
        }
    }

    /// Only stacks keep run-wide state: the manifests the plan creates, out of the other
    /// stack steps' claims.
    #[test]
    fn only_stacks_keep_state_across_a_run() {
        use crate::plan::{Action, Change, Plan};
        let create = |name: &str, calls| Change {
            address: Address {
                kind: Kind::ManagedStackMysql,
                name: name.into(),
            },
            action: Action::Create,
            wave: 0,
            fields: Vec::new(),
            calls,
            live_id: None,
            depends_on: Vec::new(),
        };
        let plan = Plan {
            changes: vec![
                create(
                    "new",
                    vec![Operation::Stack(stack::Call::Create { body: None })],
                ),
                create("other", Vec::new()),
            ],
            ..Plan::default()
        };
        assert!(database::Databases.run_state(&plan).is_none());
        assert!(hosting::Hostings.run_state(&plan).is_none());
        let state = stack::Stacks
            .run_state(&plan)
            .expect("stacks keep run state");
        let state = state
            .downcast_ref::<stack::engine::RunState>()
            .expect("the stacks' own state");
        assert_eq!(
            state
                .creates()
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>(),
            ["ManagedStackMysql/new"]
        );
    }

    /// Only databases read beside their scopes (catalogues, indexes); with no scope and no
    /// managed project they read and fold nothing, and the others' fold is a no-op.
    #[tokio::test]
    async fn only_databases_read_beside_their_scopes() {
        let client = crate::ovh::Client::new(crate::ovh::ClientConfig::new(
            crate::ovh::Endpoint::parse("http://127.0.0.1:9/1.0").unwrap(),
            crate::ovh::Credentials::application("ak", "as", "ck"),
        ))
        .unwrap();
        let reader = Reader::new(&client, 1);
        let scopes = BTreeSet::new();
        let set = ManifestSet::default();
        let mut state = LiveState::default();
        for family in [&hosting::Hostings as &dyn Family, &stack::Stacks] {
            assert!(family.read_beside(&reader, &scopes, &set).await.is_none());
            let folded = family.fold_beside(&reader, &mut state, Box::new(()), false);
            assert!(folded.await.is_ok());
        }
        let beside = database::Databases
            .read_beside(&reader, &scopes, &set)
            .await
            .expect("databases read beside their scopes");
        let folded = database::Databases.fold_beside(&reader, &mut state, beside, false);
        assert!(folded.await.is_ok());
        assert_eq!(state, LiveState::default());
        assert_eq!(reader.calls(), 0);
    }
}
