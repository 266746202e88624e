//! The Public Cloud Databases family: `DatabaseService` (with its whole `ipRestrictions` list)
//! and `DatabaseUser`, in the scope `/cloud/project/{project}/database/{engine}`.
//!
//! Identity:
//! - a service is the live service of its project and engine whose `description` equals
//!   `metadata.name` (and is not `DELETING`);
//! - a user is the live user of its service with the same username after normalisation
//!   (MongoDB's `name@admin` = `name`);
//! - twins (two runs at once, a person): when several live objects have one identity, the
//!   oldest (`createdAt`, then id) is the managed one; every other is a `Duplicate` (listed,
//!   deleted under prune as `KIND/NAME#ID`, through the usual gates). Users follow the managed
//!   service: the users of a duplicate service go with it.
//!
//! Changes:
//! - in place (one `PUT` with only the changed writable fields): plan, version, flavor, node
//!   count (sent with the plan as one change: `nodeNumber` goes with every plan change),
//!   storage, the IP list (the whole desired list, deduplicated), maintenance time, deletion
//!   protection; user roles;
//! - replace (`DELETE` then `POST`, as one change placed where the create goes): the region
//!   (`spec.nodes.region`) and the private network (`spec.network`, absent = public). Project
//!   and engine are the scope itself: changing them names another service, so the old one
//!   becomes unmanaged and a new one is created. The users of a replaced service are created
//!   again on the new one;
//! - users whose name changes are another user (create + unmanaged).
//!
//! Built-in users (`admin@admin`, `mms-automation@admin`, `backup-*@admin` on MongoDB,
//! `avnadmin` and `default` elsewhere) are never deleted nor listed as unmanaged. Deleting a
//! service whose live `deletionProtection` is on is planned (under prune) with a warning: apply
//! refuses it.

use super::normalise::{self, is_leaving};
use crate::family::database::Call;
use crate::family::Id;
use crate::live::{LiveScope, LiveService, LiveUser, Scope, UsersState};
use crate::manifest::model::{
    Address, DatabaseServiceSpec, DatabaseUserSpec, Kind, Resource, Spec,
};
use crate::plan::diff::{self, Fields, Rules};
use crate::plan::{action_for, change, of_kind, Context, Draft, Finding};
use crate::plan::{oldest_first, Action, Duplicate, FieldChange, Operation, Unmanaged};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

const SERVICE_RULES: Rules = Rules {
    forcing: &["spec.nodes.region", "spec.network"],
    owned: &["spec.ipRestrictions["],
};

const USER_RULES: Rules = Rules {
    forcing: &[],
    owned: &[],
};

pub(super) fn scope_of(resource: &Resource, ctx: &Context) -> Result<Scope, Finding> {
    let address = resource.address.clone();
    let (spec, field) = match &resource.spec {
        Spec::DatabaseService(spec) => (spec, "spec.project"),
        Spec::DatabaseUser(user) => match ctx.resource(Kind::DatabaseService, &user.service) {
            Some(Resource {
                spec: Spec::DatabaseService(spec),
                ..
            }) => (spec, "spec.service"),
            _ => {
                return Err(Finding {
                    address,
                    field: "spec.service".into(),
                    message: format!(
                        "names DatabaseService/{}, which no manifest defines",
                        user.service
                    ),
                })
            }
        },
        _ => unreachable!("only database kinds are routed here"),
    };
    match ctx.project(&spec.project) {
        Some(project) => Ok(Scope::Database {
            project,
            engine: spec.engine.clone(),
        }),
        None => Err(Finding {
            address,
            field: field.into(),
            message: "no project: set spec.project or `project` in reconcile.yaml".into(),
        }),
    }
}

pub(super) fn plan_scope(
    scope: &Scope,
    live: &LiveScope,
    resources: &[&Resource],
    ctx: &Context,
    out: &mut Draft,
) {
    let (Scope::Database { project, engine }, LiveScope::Database { services }) = (scope, live)
    else {
        return out.not_read_as(scope, resources, "a database listing");
    };
    let mut plan = ScopePlan {
        scope,
        project,
        engine,
        ctx,
        out,
        duplicates: BTreeSet::new(),
    };
    let present: Vec<&LiveService> = services.iter().filter(|s| !is_leaving(&s.status)).collect();
    let parents = plan.services(resources, &present);
    let named = plan.users(resources, &parents);
    plan.unmanaged(&present, &parents, &named);
}

/// What the users of a manifest service hang on.
enum Parent<'a> {
    /// Created by this plan: users are created after it, under `{id}`.
    New,
    /// Replaced by this plan: the old one's users go with it, users are created again.
    Replaced(&'a LiveService),
    /// Exists; `changed` when this plan updates it (its users then wait for it).
    Existing {
        live: &'a LiveService,
        changed: bool,
    },
}

struct ScopePlan<'a, 'o> {
    scope: &'a Scope,
    project: &'a str,
    engine: &'a str,
    ctx: &'a Context<'a>,
    out: &'o mut Draft,
    /// The ids of the live services listed as duplicates (not unmanaged too).
    duplicates: BTreeSet<String>,
}

impl<'a> ScopePlan<'a, '_> {
    /// Plans every `DatabaseService` of the scope; returns what each (by name) became.
    fn services(
        &mut self,
        resources: &[&'a Resource],
        present: &[&'a LiveService],
    ) -> BTreeMap<String, Parent<'a>> {
        let mut parents = BTreeMap::new();
        let services = of_kind(resources, |s| match s {
            Spec::DatabaseService(spec) => Some(spec),
            _ => None,
        });
        // The live services by description, in listing order: looked up once per manifest
        // rather than scanned (a scope of n services was n^2 comparisons).
        let mut by_description: BTreeMap<&str, Vec<&'a LiveService>> = BTreeMap::new();
        for &live in present {
            by_description
                .entry(live.description.as_str())
                .or_default()
                .push(live);
        }
        for (resource, spec) in services {
            let address = &resource.address;
            let matches = by_description
                .get(address.name.as_str())
                .map_or(&[][..], Vec::as_slice);
            let mut matches = matches.to_vec();
            matches.sort_by(|a, b| oldest_first((&a.created_at, &a.id), (&b.created_at, &b.id)));
            if let [managed, twins @ ..] = matches.as_slice() {
                for twin in twins {
                    self.duplicate_service(address, managed, twin);
                }
            }
            let parent = match &matches[..matches.len().min(1)] {
                [] => {
                    let identity = [
                        ("spec.project", json!(spec.project)),
                        ("spec.engine", json!(spec.engine)),
                    ];
                    let fields = diff::created_with(&identity, &desired_service(spec));
                    let calls = self.create_service_calls(&address.name, spec);
                    let created = change(address, Action::Create, fields, calls, None, vec![]);
                    self.out.changes.push(created);
                    Parent::New
                }
                [live] => {
                    let fields = diff::diff(
                        &live_service(live, spec),
                        &desired_service(spec),
                        &SERVICE_RULES,
                    );
                    match action_for(&fields) {
                        None => {
                            self.settle_service(address, spec, live);
                            Parent::Existing {
                                live,
                                changed: false,
                            }
                        }
                        Some(Action::Update) => {
                            let body = update_body(spec, &fields);
                            let calls = vec![self.update_service(Id::from(live.id.as_str()), body)];
                            let id = Some(live.id.clone());
                            self.out.changes.push(change(
                                address,
                                Action::Update,
                                fields,
                                calls,
                                id,
                                vec![],
                            ));
                            Parent::Existing {
                                live,
                                changed: true,
                            }
                        }
                        Some(action) => {
                            self.protected(address, live, "replace");
                            let mut calls = vec![self.delete_service(&live.id)];
                            calls.extend(self.create_service_calls(&address.name, spec));
                            let id = Some(live.id.clone());
                            self.out.changes.push(change(
                                address,
                                action,
                                fields,
                                calls,
                                id,
                                vec![],
                            ));
                            Parent::Replaced(live)
                        }
                    }
                }
                _ => unreachable!("at most one managed service"),
            };
            parents.insert(address.name.clone(), parent);
        }
        parents
    }

    /// Plans every `DatabaseUser` of the scope; returns the usernames named, by service name.
    fn users(
        &mut self,
        resources: &[&'a Resource],
        parents: &BTreeMap<String, Parent<'a>>,
    ) -> BTreeMap<String, BTreeSet<String>> {
        let engine = self.engine;
        let users = of_kind(resources, |s| match s {
            Spec::DatabaseUser(spec) => Some(spec),
            _ => None,
        });
        let users = crate::plan::duplicate_identities(
            &users,
            |u| format!("{}/{}", u.service, normalise::username(engine, &u.username)),
            "user",
            "spec.username",
            self.scope,
            self.out,
        );
        let mut named: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut unknown: BTreeMap<String, Vec<Address>> = BTreeMap::new();
        for (resource, spec) in users {
            let address = &resource.address;
            let username = normalise::username(engine, &spec.username);
            named
                .entry(spec.service.clone())
                .or_default()
                .insert(username.clone());
            if !normalise::engine_has_roles(engine) && !spec.roles.is_empty() {
                self.out.error(
                    address,
                    "spec.roles",
                    format!("{engine} users have no roles on the API; remove spec.roles"),
                );
            }
            let service = Address {
                kind: Kind::DatabaseService,
                name: spec.service.clone(),
            };
            let Some(parent) = parents.get(&spec.service) else {
                continue;
            };
            let (live, changed) = match parent {
                Parent::New => {
                    self.create_user(address, spec, Id::Created, vec![service]);
                    continue;
                }
                Parent::Replaced(_) => {
                    self.create_user(address, spec, Id::Created, vec![service]);
                    continue;
                }
                Parent::Existing { live, changed } => (live, *changed),
            };
            let live_users = match &live.users {
                Some(UsersState::Known { users }) => users,
                Some(UsersState::Unknown { reason }) => {
                    let reason = format!(
                        "users of {service} ({}) could not be read: {reason}",
                        live.id
                    );
                    unknown.entry(reason).or_default().push(address.clone());
                    continue;
                }
                None => {
                    let reason = format!("users of {service} ({}) were not read", live.id);
                    unknown.entry(reason).or_default().push(address.clone());
                    continue;
                }
            };
            let depends_on = if changed { vec![service] } else { vec![] };
            let mut found: Vec<&LiveUser> = live_users
                .iter()
                .filter(|u| {
                    !is_leaving(&u.status) && normalise::username(engine, &u.username) == username
                })
                .collect();
            found.sort_by(|a, b| oldest_first((&a.created_at, &a.id), (&b.created_at, &b.id)));
            let Some((&user, twins)) = found.split_first() else {
                self.create_user(address, spec, Id::from(live.id.as_str()), depends_on);
                continue;
            };
            for twin in twins {
                self.duplicate_user(address, live, user, twin);
            }
            let fields = diff::diff(
                &live_user(engine, user),
                &desired_user(engine, spec),
                &USER_RULES,
            );
            if fields.is_empty() {
                self.out.settled(address, &user.id, &user.status);
                continue;
            }
            let body = json!({ "roles": normalise::roles(&spec.roles) });
            let calls = vec![Operation::Database(Call::UpdateUser {
                project: self.project.to_owned(),
                engine: engine.to_owned(),
                service: live.id.clone(),
                id: user.id.clone(),
                body,
            })];
            let id = Some(user.id.clone());
            self.out.changes.push(change(
                address,
                Action::Update,
                fields,
                calls,
                id,
                depends_on,
            ));
        }
        for (reason, affected) in unknown {
            self.out.unknown(self.scope.clone(), reason, affected);
        }
        named
    }

    /// Live services and users no manifest names: unmanaged, or deleted (child-first) under
    /// prune.
    fn unmanaged(
        &mut self,
        present: &[&'a LiveService],
        parents: &BTreeMap<String, Parent<'a>>,
        named: &BTreeMap<String, BTreeSet<String>>,
    ) {
        let claimed: BTreeSet<String> = parents
            .values()
            .filter_map(|p| match p {
                Parent::New => None,
                Parent::Replaced(live) | Parent::Existing { live, .. } => Some(live.id.clone()),
            })
            .chain(self.duplicates.iter().cloned())
            .collect();
        let mut present = present.to_vec();
        present.sort_by(|a, b| (&a.description, &a.id).cmp(&(&b.description, &b.id)));
        for live in present {
            let user_deletes = match parents.get(&live.description) {
                Some(Parent::Replaced(l) | Parent::Existing { live: l, .. }) if l.id == live.id => {
                    let names = named.get(&live.description).cloned().unwrap_or_default();
                    let deletes = self.unmanaged_users(live, &names);
                    if let Some(Parent::Replaced(_)) = parents.get(&live.description) {
                        let address = Address {
                            kind: Kind::DatabaseService,
                            name: live.description.clone(),
                        };
                        if let Some(replace) =
                            self.out.changes.iter_mut().find(|c| c.address == address)
                        {
                            replace.depends_on.extend(deletes);
                        }
                    }
                    continue;
                }
                _ if claimed.contains(&live.id) => continue,
                _ => self.unmanaged_users(live, &BTreeSet::new()),
            };
            let address = Address {
                kind: Kind::DatabaseService,
                name: label(live),
            };
            let object = Unmanaged {
                kind: Kind::DatabaseService,
                scope: self.scope.clone(),
                id: live.id.clone(),
                label: live.description.clone(),
            };
            let delete = self.delete_service(&live.id);
            let name = address.name.clone();
            let deleted = self
                .out
                .unmanaged(self.ctx, object, name, delete, user_deletes);
            if deleted.is_some() {
                self.protected(&address, live, "delete");
            }
        }
    }

    /// The live users of `service` outside `named` (and not built in); returns the addresses
    /// of their deletes under prune.
    fn unmanaged_users(&mut self, service: &LiveService, named: &BTreeSet<String>) -> Vec<Address> {
        let Some(UsersState::Known { users }) = &service.users else {
            return vec![];
        };
        let engine = self.engine;
        let mut users: Vec<&LiveUser> = users
            .iter()
            .filter(|u| !is_leaving(&u.status))
            .filter(|u| !normalise::is_builtin_user(engine, &u.username))
            .filter(|u| !named.contains(&normalise::username(engine, &u.username)))
            .collect();
        users.sort_by(|a, b| (&a.username, &a.id).cmp(&(&b.username, &b.id)));
        let mut deletes = Vec::new();
        for user in users {
            let name = format!(
                "{}/{}",
                label(service),
                normalise::username(engine, &user.username)
            );
            let object = Unmanaged {
                kind: Kind::DatabaseUser,
                scope: self.scope.clone(),
                id: user.id.clone(),
                label: format!("{} on {}", user.username, label(service)),
            };
            let delete = self.delete_user(&service.id, &user.id);
            deletes.extend(self.out.unmanaged(self.ctx, object, name, delete, vec![]));
        }
        deletes
    }

    fn create_user(
        &mut self,
        address: &Address,
        spec: &DatabaseUserSpec,
        service: Id,
        depends_on: Vec<Address>,
    ) {
        let engine = self.engine;
        let desired = desired_user(engine, spec);
        let username = normalise::username(engine, &spec.username);
        let mut body = Map::new();
        body.insert("name".into(), username.clone().into());
        if normalise::engine_has_roles(engine) {
            body.insert("roles".into(), json!(normalise::roles(&spec.roles)));
        }
        let calls = vec![Operation::Database(Call::CreateUser {
            project: self.project.to_owned(),
            engine: engine.to_owned(),
            service,
            username,
            body: body.into(),
        })];
        let identity = [
            ("spec.service", json!(spec.service)),
            ("spec.username", json!(spec.username)),
        ];
        let fields = diff::created_with(&identity, &desired);
        self.out.changes.push(change(
            address,
            Action::Create,
            fields,
            calls,
            None,
            depends_on,
        ));
    }

    fn create_service_calls(&self, name: &str, spec: &DatabaseServiceSpec) -> Vec<Operation> {
        let mut calls = vec![Operation::Database(Call::CreateService {
            project: self.project.to_owned(),
            engine: self.engine.to_owned(),
            description: name.to_owned(),
            body: creation_body(name, spec),
        })];
        if spec.deletion_protection == Some(true) {
            let body = json!({ "deletionProtection": true });
            calls.push(self.update_service(Id::Created, body));
        }
        calls
    }

    /// A service left as it is: unchanged, and in progress while the API still works on it
    /// (its status, or an IP entry not `READY` yet when the manifest owns the list).
    fn settle_service(
        &mut self,
        address: &Address,
        spec: &DatabaseServiceSpec,
        live: &LiveService,
    ) {
        let ip_pending = spec.ip_restrictions.is_some()
            && live
                .ip_restrictions
                .iter()
                .any(|e| !e.status.eq_ignore_ascii_case("READY"));
        let busy = normalise::is_busy(&live.status);
        let status = if ip_pending && !busy {
            "ipRestrictions PENDING"
        } else {
            live.status.as_str()
        };
        self.out
            .settled_unless(address, &live.id, status, busy || ip_pending);
    }

    /// `twin` has the identity of `managed`, the service of `address`, and is younger: listed
    /// as a duplicate, deleted under prune (its users with it).
    fn duplicate_service(&mut self, address: &Address, managed: &LiveService, twin: &LiveService) {
        self.duplicates.insert(twin.id.clone());
        let duplicate = Duplicate {
            kind: Kind::DatabaseService,
            scope: self.scope.clone(),
            id: twin.id.clone(),
            created_at: twin.created_at.clone(),
            of: address.clone(),
            of_id: managed.id.clone(),
            of_created_at: managed.created_at.clone(),
        };
        let delete = self.delete_service(&twin.id);
        let deleted = self.out.duplicate(self.ctx, duplicate, vec![delete]);
        if let Some(deleted) = deleted {
            self.protected(&deleted, twin, "delete");
        }
    }

    /// `twin` has the identity of `managed`, the user of `address` on `service`, and is
    /// younger: listed as a duplicate, deleted under prune.
    fn duplicate_user(
        &mut self,
        address: &Address,
        service: &LiveService,
        managed: &LiveUser,
        twin: &LiveUser,
    ) {
        let duplicate = Duplicate {
            kind: Kind::DatabaseUser,
            scope: self.scope.clone(),
            id: twin.id.clone(),
            created_at: twin.created_at.clone(),
            of: address.clone(),
            of_id: managed.id.clone(),
            of_created_at: managed.created_at.clone(),
        };
        let delete = self.delete_user(&service.id, &twin.id);
        self.out.duplicate(self.ctx, duplicate, vec![delete]);
    }

    /// A warning when the live service is protected against deletion.
    fn protected(&mut self, address: &Address, live: &LiveService, what: &str) {
        if live.deletion_protection == Some(true) {
            self.out.warning(
                address,
                "spec.deletionProtection",
                format!(
                    "service {} has deletionProtection on: apply will refuse to {what} it until it is turned off",
                    live.id
                ),
            );
        }
    }

    fn update_service(&self, id: Id, body: Value) -> Operation {
        Operation::Database(Call::UpdateService {
            project: self.project.to_owned(),
            engine: self.engine.to_owned(),
            id,
            body,
        })
    }

    fn delete_service(&self, id: &str) -> Operation {
        Operation::Database(Call::DeleteService {
            project: self.project.to_owned(),
            engine: self.engine.to_owned(),
            id: id.to_owned(),
        })
    }

    fn delete_user(&self, service: &str, id: &str) -> Operation {
        Operation::Database(Call::DeleteUser {
            project: self.project.to_owned(),
            engine: self.engine.to_owned(),
            service: service.to_owned(),
            id: id.to_owned(),
        })
    }
}

/// How an unmanaged service is named in the plan: its description, or its id without one.
fn label(service: &LiveService) -> String {
    if service.description.is_empty() {
        service.id.clone()
    } else {
        service.description.clone()
    }
}

/// normalise: the manifest side of a service.
fn desired_service(spec: &DatabaseServiceSpec) -> Fields {
    let mut fields = Fields::default();
    fields.set("spec.plan", spec.plan.as_str());
    fields.set("spec.version", spec.version.as_str());
    fields.set("spec.nodes.flavor", spec.nodes.flavor.as_str());
    fields.set("spec.nodes.region", normalise::region(&spec.nodes.region));
    fields.set("spec.nodes.count", spec.nodes.count);
    fields.set_some("spec.storage", spec.storage);
    let network = spec
        .network
        .as_ref()
        .map(|n| json!({ "networkId": n.network_id, "subnetId": n.subnet_id }));
    fields.set("spec.network", network.unwrap_or(Value::Null));
    for (ip, description) in
        normalise::desired_ips(spec.ip_restrictions.as_deref().unwrap_or_default())
    {
        fields.set(format!("spec.ipRestrictions[{ip}]"), description);
    }
    fields.set_some(
        "spec.maintenanceTime",
        spec.maintenance_time.as_deref().map(normalise::time),
    );
    fields.set_some("spec.deletionProtection", spec.deletion_protection);
    fields
}

/// normalise: the live side of a service, with the same paths.
/// `ipRestrictions` is compared only when the manifest gives the list (it then owns all of it).
fn live_service(live: &LiveService, spec: &DatabaseServiceSpec) -> Fields {
    let mut fields = Fields::default();
    fields.set("spec.plan", live.plan.as_str());
    fields.set("spec.version", live.version.as_str());
    fields.set("spec.nodes.flavor", live.flavor.as_str());
    fields.set("spec.nodes.region", normalise::region(&live.region));
    fields.set("spec.nodes.count", live.node_count);
    fields.set_some("spec.storage", live.storage);
    let network = live
        .network_id
        .as_ref()
        .map(|id| json!({ "networkId": id, "subnetId": live.subnet_id }));
    fields.set("spec.network", network.unwrap_or(Value::Null));
    if spec.ip_restrictions.is_some() {
        for (ip, description) in normalise::live_ip_set(&live.ip_restrictions) {
            fields.set(format!("spec.ipRestrictions[{ip}]"), description);
        }
    }
    fields.set_some(
        "spec.maintenanceTime",
        live.maintenance_time.as_deref().map(normalise::time),
    );
    fields.set(
        "spec.deletionProtection",
        live.deletion_protection.unwrap_or(false),
    );
    fields
}

fn desired_user(engine: &str, spec: &DatabaseUserSpec) -> Fields {
    let mut fields = Fields::default();
    if normalise::engine_has_roles(engine) {
        fields.set("spec.roles", normalise::roles(&spec.roles));
    }
    fields
}

fn live_user(engine: &str, user: &LiveUser) -> Fields {
    let mut fields = Fields::default();
    if normalise::engine_has_roles(engine) {
        fields.set("spec.roles", normalise::roles(&user.roles));
    }
    fields
}

/// `ServiceCreation`: description, plan, version, `nodesPattern`, and the optional parts the
/// manifest sets. `deletionProtection` is not part of it (a `PUT` after READY sets it).
fn creation_body(name: &str, spec: &DatabaseServiceSpec) -> Value {
    let mut body = Map::new();
    body.insert("description".into(), name.into());
    body.insert("plan".into(), spec.plan.clone().into());
    body.insert("version".into(), spec.version.clone().into());
    body.insert(
        "nodesPattern".into(),
        json!({
            "flavor": spec.nodes.flavor,
            "number": spec.nodes.count,
            "region": normalise::region(&spec.nodes.region),
        }),
    );
    if let Some(size) = spec.storage {
        body.insert("disk".into(), json!({ "size": size }));
    }
    if spec.ip_restrictions.is_some() {
        body.insert("ipRestrictions".into(), ip_list(spec));
    }
    if let Some(network) = &spec.network {
        body.insert("networkId".into(), network.network_id.clone().into());
        body.insert("subnetId".into(), network.subnet_id.clone().into());
    }
    if let Some(time) = &spec.maintenance_time {
        body.insert("maintenanceTime".into(), normalise::time(time).into());
    }
    body.into()
}

/// The `PUT` body: only the changed writable fields. The node count travels with every plan change
/// (one in-place change, <https://github.com/ovh/terraform-provider-ovh/issues/1327>); the IP list
/// is always sent whole.
fn update_body(spec: &DatabaseServiceSpec, fields: &[FieldChange]) -> Value {
    let mut body = Map::new();
    let plan_changed = diff::changed(fields, "spec.plan");
    if plan_changed {
        body.insert("plan".into(), spec.plan.clone().into());
    }
    if plan_changed || diff::changed(fields, "spec.nodes.count") {
        body.insert("nodeNumber".into(), spec.nodes.count.into());
    }
    if diff::changed(fields, "spec.version") {
        body.insert("version".into(), spec.version.clone().into());
    }
    if diff::changed(fields, "spec.nodes.flavor") {
        body.insert("flavor".into(), spec.nodes.flavor.clone().into());
    }
    if let (true, Some(size)) = (diff::changed(fields, "spec.storage"), spec.storage) {
        body.insert("disk".into(), json!({ "size": size }));
    }
    if diff::changed_under(fields, "spec.ipRestrictions[") {
        body.insert("ipRestrictions".into(), ip_list(spec));
    }
    if let (true, Some(time)) = (
        diff::changed(fields, "spec.maintenanceTime"),
        &spec.maintenance_time,
    ) {
        body.insert("maintenanceTime".into(), normalise::time(time).into());
    }
    if let (true, Some(on)) = (
        diff::changed(fields, "spec.deletionProtection"),
        spec.deletion_protection,
    ) {
        body.insert("deletionProtection".into(), on.into());
    }
    body.into()
}

/// The desired IP list as the API takes it: canonical blocks, manifest order, no duplicates.
fn ip_list(spec: &DatabaseServiceSpec) -> Value {
    let entries: Vec<Value> =
        normalise::desired_ips(spec.ip_restrictions.as_deref().unwrap_or_default())
            .into_iter()
            .map(|(ip, description)| json!({ "ip": ip, "description": description }))
            .collect();
    entries.into()
}
