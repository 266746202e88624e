//! Plan tests: data-driven through one helper (each family's cases live in its folder,
//! `family::<family>::plan_tests`, and use these builders), `check!(manifests, live, [options,] @"...")`,
//! which plans, asserts the plan invariants (`assert_invariants`) and compares a compact text
//! rendering (`render_for_test`, not the product renderer) with an inline snapshot. Inputs are
//! built with the small builders below; `live_from_manifests` builds the live state that
//! equals a manifest set, which cases then edit by hand.

pub(crate) use super::model::*;
pub(crate) use crate::live::*;
pub(crate) use crate::manifest::model::*;
use ipnet::IpNet;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write;

macro_rules! check {
    ($manifests:expr, $live:expr, $options:expr, @$snapshot:literal) => {{
        let manifests = $manifests;
        let options = $options;
        let plan = $crate::plan::plan(&manifests, &$live, &options);
        $crate::plan::tests::assert_invariants(&manifests, &options, &plan);
        insta::assert_snapshot!($crate::plan::tests::render_for_test(&plan), @$snapshot);
    }};
    // Only the findings (errors, warnings), where the changes would drown them.
    (findings: $manifests:expr, $live:expr, @$snapshot:literal) => {{
        let manifests = $manifests;
        let options = $crate::plan::PlanOptions::default();
        let plan = $crate::plan::plan(&manifests, &$live, &options);
        $crate::plan::tests::assert_invariants(&manifests, &options, &plan);
        let findings = $crate::plan::Plan { errors: plan.errors, warnings: plan.warnings, ..Default::default() };
        let rendered = $crate::plan::tests::render_for_test(&findings).replacen("no changes\n", "", 1);
        let rendered = if rendered.is_empty() { "no findings".to_string() } else { rendered };
        insta::assert_snapshot!(rendered, @$snapshot);
    }};
    ($manifests:expr, $live:expr, @$snapshot:literal) => {
        check!($manifests, $live, $crate::plan::PlanOptions::default(), @$snapshot)
    };
}

pub(crate) use check;

// The cases of each family live in its folder (`family::<family>::plan_tests`).
mod digest;
mod laws;

pub const PROJECT: &str = "p1";
pub const HOSTING: &str = "shop.cluster021.hosting.ovh.net";

pub fn prune() -> PlanOptions {
    PlanOptions { prune: true }
}

// ---------------------------------------------------------------------------------------------
// Manifest builders.

pub(crate) fn resource(kind: Kind, name: &str, spec: Spec) -> Resource {
    Resource {
        address: Address {
            kind,
            name: name.to_string(),
        },
        span: Span {
            file: "manifests/test.yaml".into(),
            line: 1,
            column: 1,
            offset: 0,
            len: 0,
        },
        spec,
    }
}

/// A set with the defaults applied, sorted by address (as the loader hands it over).
pub fn manifests(resources: Vec<Resource>) -> ManifestSet {
    let mut resources = resources;
    resources.sort_by(|a, b| a.address.cmp(&b.address));
    ManifestSet {
        defaults: ProjectDefaults {
            project: Some(PROJECT.into()),
            hosting: Some(HOSTING.into()),
            endpoint: None,
            manages: Manages::default(),
        },
        resources,
    }
}

/// A mongodb 7.0 production service, 3 x db2-4 in GRA, allowing 203.0.113.0/24.
pub fn service(name: &str, edit: impl FnOnce(&mut DatabaseServiceSpec)) -> Resource {
    let mut spec = DatabaseServiceSpec {
        project: Some(PROJECT.into()),
        engine: "mongodb".into(),
        version: "7.0".into(),
        plan: "production".into(),
        nodes: NodesSpec {
            flavor: "db2-4".into(),
            region: "GRA".into(),
            count: 3,
        },
        storage: None,
        network: None,
        ip_restrictions: Some(vec![ip("203.0.113.0/24", "office")]),
        maintenance_time: None,
        deletion_protection: None,
    };
    edit(&mut spec);
    resource(Kind::DatabaseService, name, Spec::DatabaseService(spec))
}

pub fn ip(ip: &str, description: &str) -> IpRestrictionSpec {
    IpRestrictionSpec {
        ip: ip.into(),
        description: description.into(),
    }
}

pub fn user(name: &str, service: &str, username: &str, roles: &[&str]) -> Resource {
    let spec = DatabaseUserSpec {
        service: service.into(),
        username: username.into(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
    };
    resource(Kind::DatabaseUser, name, Spec::DatabaseUser(spec))
}

/// An attached domain under `www`, every optional flag left to the server.
pub fn domain(
    name: &str,
    fqdn: &str,
    edit: impl FnOnce(&mut HostingAttachedDomainSpec),
) -> Resource {
    let mut spec = HostingAttachedDomainSpec {
        hosting: Some(HOSTING.into()),
        domain: fqdn.into(),
        path: "www".into(),
        ssl: None,
        cdn: None,
        firewall: None,
        own_log: None,
        runtime_id: None,
    };
    edit(&mut spec);
    resource(
        Kind::HostingAttachedDomain,
        name,
        Spec::HostingAttachedDomain(spec),
    )
}

/// The free certificate.
pub fn ssl(name: &str, edit: impl FnOnce(&mut HostingSslSpec)) -> Resource {
    let mut spec = HostingSslSpec {
        hosting: Some(HOSTING.into()),
        certificate: None,
        key: None,
        chain: None,
    };
    edit(&mut spec);
    resource(Kind::HostingSsl, name, Spec::HostingSsl(spec))
}

pub fn from_env(name: &str) -> Option<SecretRef> {
    Some(SecretRef {
        from_env: Some(name.into()),
        from_file: None,
    })
}

/// A sqlPerso mysql database, version and quota left to the server.
pub fn hosting_db(name: &str, user: &str, edit: impl FnOnce(&mut HostingDatabaseSpec)) -> Resource {
    let mut spec = HostingDatabaseSpec {
        hosting: Some(HOSTING.into()),
        capability: "sqlPerso".into(),
        engine: "mysql".into(),
        user: user.into(),
        version: None,
        quota: None,
        password: SecretRef {
            from_env: Some("DB_PASSWORD".into()),
            from_file: None,
        },
    };
    edit(&mut spec);
    resource(Kind::HostingDatabase, name, Spec::HostingDatabase(spec))
}

/// An unpinned stack, its node count left to the server.
pub fn stack(name: &str, edit: impl FnOnce(&mut ManagedStackMysqlSpec)) -> Resource {
    let mut spec = ManagedStackMysqlSpec {
        id: None,
        nodes: None,
    };
    edit(&mut spec);
    resource(Kind::ManagedStackMysql, name, Spec::ManagedStackMysql(spec))
}

// ---------------------------------------------------------------------------------------------
// Live builders.

pub fn live_service(id: &str, description: &str) -> LiveService {
    LiveService {
        id: id.into(),
        engine: "mongodb".into(),
        description: description.into(),
        status: "READY".into(),
        created_at: "2025-01-01T00:00:00Z".into(),
        plan: "production".into(),
        version: "7.0".into(),
        flavor: "db2-4".into(),
        node_count: 3,
        region: "GRA".into(),
        storage: Some(40),
        network_id: None,
        subnet_id: None,
        ip_restrictions: vec![],
        maintenance_time: Some("01:00:00".into()),
        deletion_protection: Some(false),
        users: Some(UsersState::Known { users: vec![] }),
        raw: Value::Null,
    }
}

pub fn live_user(id: &str, username: &str, roles: &[&str]) -> LiveUser {
    LiveUser {
        id: id.into(),
        username: username.into(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        status: "READY".into(),
        created_at: "2025-01-01T00:00:00Z".into(),
        raw: Value::Null,
    }
}

pub fn live_domain(domain: &str, path: &str) -> LiveAttachedDomain {
    LiveAttachedDomain {
        domain: domain.into(),
        path: path.into(),
        ssl: Some(false),
        cdn: Some("none".into()),
        firewall: Some("none".into()),
        own_log: None,
        runtime_id: Some(0),
        status: "created".into(),
        task_id: None,
        raw: Value::Null,
    }
}

pub fn live_hosting_db(name: &str, user: &str) -> LiveHostingDatabase {
    LiveHostingDatabase {
        name: name.into(),
        user: user.into(),
        engine: "mysql".into(),
        version: Some("8.0".into()),
        quota: Some(1024),
        status: "created".into(),
        raw: Value::Null,
    }
}

/// An active cluster.
pub fn live_stack(id: &str, nodes: u32) -> LiveStack {
    LiveStack {
        id: id.into(),
        nodes,
        active: true,
        raw: Value::Null,
    }
}

/// A known database scope's services.
pub fn services_in<'a>(
    live: &'a mut LiveState,
    project: &str,
    engine: &str,
) -> &'a mut Vec<LiveService> {
    let scope = Scope::Database {
        project: project.into(),
        engine: engine.into(),
    };
    let state = live
        .scopes
        .entry(scope)
        .or_insert(ScopeState::Known(LiveScope::Database { services: vec![] }));
    match state {
        ScopeState::Known(LiveScope::Database { services }) => services,
        other => panic!("not a known database scope: {other:?}"),
    }
}

/// The service described `name` in the mongodb scope of `PROJECT`.
pub fn live_service_named<'a>(live: &'a mut LiveState, name: &str) -> &'a mut LiveService {
    services_in(live, PROJECT, "mongodb")
        .iter_mut()
        .find(|s| s.description == name)
        .expect("a live service with that description")
}

pub fn users_of(service: &mut LiveService) -> &mut Vec<LiveUser> {
    match &mut service.users {
        Some(UsersState::Known { users }) => users,
        other => panic!("users not known: {other:?}"),
    }
}

/// The known hosting scope of `HOSTING` (created with its default domain when missing).
pub fn hosting_in(live: &mut LiveState) -> &mut LiveHosting {
    let scope = Scope::Hosting {
        hosting: HOSTING.into(),
    };
    let state = live
        .scopes
        .entry(scope)
        .or_insert_with(|| ScopeState::Known(LiveScope::Hosting(empty_hosting())));
    match state {
        ScopeState::Known(LiveScope::Hosting(hosting)) => hosting,
        other => panic!("not a known hosting scope: {other:?}"),
    }
}

pub(crate) fn empty_hosting() -> LiveHosting {
    LiveHosting {
        primary_login: "shop".into(),
        default_attached_domain: Some(HOSTING.into()),
        attached_domains: vec![live_domain(HOSTING, "www")],
        ssl: None,
        databases: vec![],
    }
}

pub fn stacks_in(live: &mut LiveState) -> &mut Vec<LiveStack> {
    let state = live
        .scopes
        .entry(Scope::StackMysql)
        .or_insert(ScopeState::Known(LiveScope::StackMysql { stacks: vec![] }));
    match state {
        ScopeState::Known(LiveScope::StackMysql { stacks }) => stacks,
        other => panic!("not a known stack scope: {other:?}"),
    }
}

/// Every scope the manifests touch, known and empty (a hosting has its default domain only).
pub fn empty_live(manifests: &ManifestSet) -> LiveState {
    let mut live = live_from_manifests(manifests);
    for state in live.scopes.values_mut() {
        match state {
            ScopeState::Known(LiveScope::Database { services }) => services.clear(),
            ScopeState::Known(LiveScope::Hosting(hosting)) => *hosting = empty_hosting(),
            ScopeState::Known(LiveScope::StackMysql { stacks }) => stacks.clear(),
            ScopeState::Unknown { .. } => {}
        }
    }
    live
}

/// The live state the API would show once `manifests` are applied, written the way the API
/// writes it (canonical CIDRs in another order, `name@admin`, roles in another order, upper
/// case regions) and with server values for everything the manifests leave out (storage,
/// maintenance time, flags, versions, quotas), plus what the API creates itself (built-in
/// users, the default attached domain) and a catalogue offering every service.
pub fn live_from_manifests(manifests: &ManifestSet) -> LiveState {
    let mut live = LiveState::default();
    for resource in &manifests.resources {
        match &resource.spec {
            Spec::DatabaseService(spec) => {
                let project = spec.project.clone().unwrap_or(PROJECT.into());
                let mut service = live_service(
                    &format!("id-{}", resource.address.name),
                    &resource.address.name,
                );
                service.engine = spec.engine.clone();
                service.plan = spec.plan.clone();
                service.version = spec.version.clone();
                service.flavor = spec.nodes.flavor.clone();
                service.node_count = spec.nodes.count;
                service.region = spec.nodes.region.to_uppercase();
                service.storage = spec.storage.or(Some(80));
                if let Some(network) = &spec.network {
                    service.network_id = Some(network.network_id.clone());
                    service.subnet_id = Some(network.subnet_id.clone());
                }
                let mut seen = std::collections::BTreeSet::new();
                for entry in spec.ip_restrictions.iter().flatten() {
                    let ip = canonical_cidr(&entry.ip);
                    if seen.insert(ip.clone()) {
                        service.ip_restrictions.push(LiveIpRestriction {
                            ip,
                            description: entry.description.clone(),
                            status: "READY".into(),
                        });
                    }
                }
                service.ip_restrictions.reverse();
                service.maintenance_time = Some(match &spec.maintenance_time {
                    Some(t) if t.len() == 5 => format!("{t}:00"),
                    Some(t) => t.clone(),
                    None => "02:00:00".into(),
                });
                service.deletion_protection = spec.deletion_protection.or(Some(false));
                let builtin = if spec.engine == "mongodb" {
                    "admin@admin"
                } else {
                    "avnadmin"
                };
                let builtin = live_user(&format!("{}-builtin", service.id), builtin, &[]);
                users_of(&mut service).push(builtin);
                let offer = Offer {
                    engine: spec.engine.clone(),
                    version: spec.version.clone(),
                    plan: spec.plan.clone(),
                    flavor: spec.nodes.flavor.clone(),
                    region: spec.nodes.region.to_uppercase(),
                    network: if spec.network.is_some() {
                        "private"
                    } else {
                        "public"
                    }
                    .into(),
                    min_nodes: 1,
                    max_nodes: 10,
                    min_storage: Some(10),
                    max_storage: Some(1000),
                    lifecycle: "STABLE".into(),
                    end_of_sale: None,
                    end_of_life: None,
                };
                live.catalogues
                    .entry(project.clone())
                    .or_default()
                    .offers
                    .push(offer);
                services_in(&mut live, &project, &spec.engine).push(service);
            }
            Spec::DatabaseUser(_) => {}
            Spec::HostingAttachedDomain(spec) => {
                let mut live_domain = live_domain(
                    spec.domain.to_lowercase().trim_end_matches('.'),
                    spec.path.trim_matches('/'),
                );
                live_domain.ssl = spec.ssl.or(Some(false));
                live_domain.cdn = Some(spec.cdn.map_or("none", flag).into());
                live_domain.firewall = Some(spec.firewall.map_or("none", flag).into());
                live_domain.own_log = spec.own_log.clone();
                live_domain.runtime_id = spec.runtime_id.or(Some(0));
                hosting_in(&mut live).attached_domains.push(live_domain);
            }
            Spec::HostingSsl(spec) => {
                let provider = if spec.certificate.is_some() {
                    "CUSTOM"
                } else {
                    "LETSENCRYPT"
                };
                hosting_in(&mut live).ssl = Some(LiveSsl {
                    provider: provider.into(),
                    status: "created".into(),
                    domains: vec![],
                    raw: Value::Null,
                });
            }
            Spec::HostingDatabase(spec) => {
                let mut db = live_hosting_db(&format!("{}.mysql.db", spec.user), &spec.user);
                db.engine = spec.engine.clone();
                db.version = spec.version.clone().or(Some("8.0".into()));
                db.quota = spec.quota.or(Some(1024));
                hosting_in(&mut live).databases.push(db);
            }
            Spec::ManagedStackMysql(spec) => {
                let stacks = stacks_in(&mut live);
                let id = spec
                    .id
                    .map(|id| id.to_string())
                    .unwrap_or(format!("stack-{}", resource.address.name));
                stacks.push(live_stack(&id, spec.nodes.unwrap_or(2)));
            }
        }
    }
    // Users, once their services exist; the certificate covers the `ssl: true` domains.
    for resource in &manifests.resources {
        match &resource.spec {
            Spec::DatabaseUser(spec) => {
                let Some(Resource {
                    spec: Spec::DatabaseService(service),
                    ..
                }) = manifests.get(&Address {
                    kind: Kind::DatabaseService,
                    name: spec.service.clone(),
                })
                else {
                    continue;
                };
                let project = service.project.clone().unwrap_or(PROJECT.into());
                let live_service = services_in(&mut live, &project, &service.engine)
                    .iter_mut()
                    .find(|s| s.description == spec.service)
                    .expect("the service was built above");
                let mongodb = service.engine == "mongodb";
                let name = if mongodb {
                    spec.username.trim_end_matches("@admin")
                } else {
                    &spec.username
                };
                let username = if mongodb {
                    format!("{name}@admin")
                } else {
                    name.to_string()
                };
                let mut roles = spec.roles.clone();
                roles.reverse();
                let roles: Vec<&str> = roles.iter().map(String::as_str).collect();
                let id = format!("{}-{name}", live_service.id);
                users_of(live_service).push(live_user(&id, &username, &roles));
            }
            Spec::HostingAttachedDomain(spec) if spec.ssl == Some(true) => {
                let hosting = hosting_in(&mut live);
                let domain = spec.domain.to_lowercase().trim_end_matches('.').to_string();
                if let Some(ssl) = &mut hosting.ssl {
                    ssl.domains.push(domain);
                }
            }
            _ => {}
        }
    }
    live
}

pub(crate) fn flag(value: ActiveOrNone) -> &'static str {
    match value {
        ActiveOrNone::Active => "active",
        ActiveOrNone::None => "none",
    }
}

/// The API's form of an IP block, computed independently of the planner's normaliser.
pub(crate) fn canonical_cidr(ip: &str) -> String {
    match ip.parse::<IpNet>() {
        Ok(net) => net.trunc().to_string(),
        Err(_) => IpNet::from(ip.parse::<std::net::IpAddr>().expect("an ip")).to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Invariants and rendering.

/// What holds for every plan: each manifest resource is accounted for at most once (exactly
/// once unless an error names it), deletes only under prune and always with a reason, and
/// every dependency in an earlier wave.
pub fn assert_invariants(manifests: &ManifestSet, options: &PlanOptions, plan: &Plan) {
    let mut seen: BTreeMap<&Address, usize> = BTreeMap::new();
    for change in &plan.changes {
        if let Action::Delete { reason } = &change.action {
            assert!(options.prune, "a delete without prune: {}", change.address);
            assert!(!reason.is_empty());
            continue;
        }
        *seen.entry(&change.address).or_default() += 1;
    }
    for address in plan
        .unchanged
        .iter()
        .chain(plan.unknown.iter().flat_map(|u| &u.affected))
    {
        *seen.entry(address).or_default() += 1;
    }
    for resource in &manifests.resources {
        let count = seen.get(&resource.address).copied().unwrap_or(0);
        let named_by_error = plan.errors.iter().any(|e| e.address == resource.address);
        assert!(count <= 1, "{} is planned {count} times", resource.address);
        assert!(
            count == 1 || named_by_error,
            "{} is not planned",
            resource.address
        );
    }
    for change in &plan.changes {
        for dependency in &change.depends_on {
            let earlier = plan
                .changes
                .iter()
                .filter(|c| &c.address == dependency)
                .all(|c| c.wave < change.wave);
            assert!(earlier, "{} does not wait for {dependency}", change.address);
        }
        for field in change.fields.iter().filter(|f| f.sensitive) {
            assert!(
                field.old.is_none() && field.new.is_none(),
                "a sensitive value in {}",
                field.path
            );
        }
    }
    let waves: Vec<usize> = plan.changes.iter().map(|c| c.wave).collect();
    assert!(
        waves.windows(2).all(|w| w[0] <= w[1]),
        "changes out of wave order"
    );
}

/// A compact, deterministic text of the plan for snapshots.
pub fn render_for_test(plan: &Plan) -> String {
    let mut out = String::new();
    for change in &plan.changes {
        let mut notes = vec![format!("wave {}", change.wave)];
        if let Some(id) = &change.live_id {
            notes.push(format!("id {id}"));
        }
        match &change.action {
            Action::Replace { forced_by } => {
                notes.push(format!("forced by {}", forced_by.join(", ")))
            }
            Action::Delete { reason } => notes.push(reason.clone()),
            _ => {}
        }
        if !change.depends_on.is_empty() {
            let after: Vec<String> = change.depends_on.iter().map(ToString::to_string).collect();
            notes.push(format!("after {}", after.join(", ")));
        }
        writeln!(
            out,
            "{} {} ({})",
            change.action.symbol(),
            change.address,
            notes.join("; ")
        )
        .unwrap();
        for field in &change.fields {
            if field.sensitive {
                writeln!(out, "    {}: (sensitive)", field.path).unwrap();
                continue;
            }
            let value =
                |v: &Option<Value>| v.as_ref().map_or("(none)".to_string(), Value::to_string);
            let forces = if field.forces_replace {
                "  # forces replace"
            } else {
                ""
            };
            writeln!(
                out,
                "    {}: {} -> {}{forces}",
                field.path,
                value(&field.old),
                value(&field.new)
            )
            .unwrap();
        }
        for call in &change.calls {
            let body = call.body().map_or(String::new(), |b| format!(" {b}"));
            writeln!(out, "    {call}{body}").unwrap();
        }
    }
    if plan.changes.is_empty() {
        writeln!(out, "no changes").unwrap();
    }
    if !plan.unchanged.is_empty() {
        let unchanged: Vec<String> = plan.unchanged.iter().map(ToString::to_string).collect();
        writeln!(out, "unchanged: {}", unchanged.join(", ")).unwrap();
    }
    for u in &plan.unmanaged {
        writeln!(
            out,
            "unmanaged: {} {} ({}) in {}",
            u.kind, u.id, u.label, u.scope
        )
        .unwrap();
    }
    for u in &plan.unknown {
        let affected: Vec<String> = u.affected.iter().map(ToString::to_string).collect();
        writeln!(
            out,
            "unknown: {}: {} [{}]",
            u.scope,
            u.reason,
            affected.join(", ")
        )
        .unwrap();
    }
    for d in &plan.duplicates {
        writeln!(
            out,
            "duplicate: {} {} ({}) in {}: {}",
            d.kind,
            d.id,
            d.created_at,
            d.scope,
            crate::plan::duplicate_reason(d)
        )
        .unwrap();
    }
    for p in &plan.in_progress {
        writeln!(
            out,
            "in progress: {} (id {}): {}",
            p.address, p.id, p.status
        )
        .unwrap();
    }
    for e in &plan.errors {
        writeln!(out, "error: {} {}: {}", e.address, e.field, e.message).unwrap();
    }
    for w in &plan.warnings {
        writeln!(out, "warning: {} {}: {}", w.address, w.field, w.message).unwrap();
    }
    out
}

/// A scope whose live state is another family's (a bug in a read, never a user's doing) leaves
/// its resources unknown, with the reason, rather than panicking or planning creates.
#[test]
fn a_scope_read_as_another_familys_is_unknown() {
    let manifests = manifests(vec![
        service("orders-db", |_| {}),
        domain("shop", "shop.example.com", |_| {}),
        stack("cluster", |_| {}),
    ]);
    let mut live = live_from_manifests(&manifests);
    let others = [
        LiveScope::StackMysql { stacks: vec![] },
        LiveScope::Database { services: vec![] },
        LiveScope::Database { services: vec![] },
    ];
    let scopes: Vec<Scope> = live.scopes.keys().cloned().collect();
    assert_eq!(scopes.len(), 3, "{scopes:?}");
    for (scope, other) in scopes.iter().zip(others) {
        live.scopes.insert(scope.clone(), ScopeState::Known(other));
    }
    let plan = crate::plan::plan(&manifests, &live, &PlanOptions::default());
    let reasons: Vec<String> = plan
        .unknown
        .iter()
        .map(|u| format!("{}: {} ({})", u.scope, u.reason, u.affected.len()))
        .collect();
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    for (reason, what) in reasons
        .iter()
        .zip(["a database listing", "a hosting", "a stack listing"])
    {
        assert!(
            reason.ends_with(&format!("the live state read is not {what} (1)")),
            "{reason}"
        );
    }
    assert!(plan.changes.is_empty(), "{:?}", plan.changes);
}
