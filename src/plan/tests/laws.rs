//! Plan laws over generated manifests (proptest):
//! - `plan(x, live(x))` is empty, even with prune: no phantom diffs whatever the spelling
//!   (CIDR forms, `@admin`, order, case) and whatever the server filled in;
//! - against empty scopes everything is created, parents first;
//! - under prune, unmanaged objects are deleted children first;
//! - nothing is created, updated or deleted in a scope with anything unknown in it (the scope
//!   unreadable, or the users of one of its services), whatever else the live state holds
//!   (twins, unmanaged objects, hand edits).

use super::*;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;
use std::collections::BTreeSet;

fn arb_ip() -> impl Strategy<Value = IpRestrictionSpec> {
    (
        any::<[u8; 4]>(),
        option::of(8u8..=32),
        any::<bool>(),
        select(vec!["office", "ci", ""]),
    )
        .prop_map(|(octets, prefix, v6, description)| {
            let [a, b, c, d] = octets;
            let address = if v6 {
                format!("2001:DB8::{a:x}:{b:x}")
            } else {
                format!("{a}.{b}.{c}.{d}")
            };
            let prefix = prefix.map(|p| if v6 { p + 96 } else { p });
            let block = prefix.map_or(address.clone(), |p| format!("{address}/{p}"));
            ip(&block, description)
        })
}

fn arb_service() -> impl Strategy<Value = DatabaseServiceSpec> {
    (
        (
            select(vec!["p1", "p2"]),
            select(vec!["mongodb", "postgresql", "mysql"]),
        ),
        (
            select(vec!["7.0", "16", "8"]),
            select(vec!["production", "business"]),
        ),
        (
            select(vec!["db2-4", "b3-8"]),
            select(vec!["GRA", "gra", "SBG"]),
            1u32..6,
        ),
        option::of(20u32..500),
        any::<bool>(),
        vec(arb_ip(), 0..4),
        option::of(select(vec!["03:00", "04:30:00"])),
        option::of(any::<bool>()),
    )
        .prop_map(
            |(
                (project, engine),
                (version, plan),
                (flavor, region, count),
                storage,
                private,
                ips,
                time,
                protection,
            )| {
                DatabaseServiceSpec {
                    project: Some(project.into()),
                    engine: engine.into(),
                    version: version.into(),
                    plan: plan.into(),
                    nodes: NodesSpec {
                        flavor: flavor.into(),
                        region: region.into(),
                        count,
                    },
                    storage,
                    network: private.then(|| NetworkSpec {
                        network_id: "net-1".into(),
                        subnet_id: "subnet-1".into(),
                    }),
                    ip_restrictions: Some(ips),
                    maintenance_time: time.map(Into::into),
                    deletion_protection: protection,
                }
            },
        )
}

/// (service index, username index, written with `@admin`, roles)
type UserGen = (usize, u8, bool, Vec<&'static str>);

fn arb_user() -> impl Strategy<Value = UserGen> {
    (
        any::<usize>(),
        0u8..4,
        any::<bool>(),
        vec(select(vec!["read@a", "readWrite@b", "dbAdmin@c"]), 0..3),
    )
}

fn arb_flag() -> impl Strategy<Value = Option<ActiveOrNone>> {
    option::of(prop_oneof![
        Just(ActiveOrNone::Active),
        Just(ActiveOrNone::None)
    ])
}

fn arb_domain() -> impl Strategy<Value = (u8, HostingAttachedDomainSpec)> {
    (
        0u8..5,
        any::<bool>(),
        select(vec!["www", "/www/", "app"]),
        option::of(any::<bool>()),
        arb_flag(),
        arb_flag(),
        option::of(0i64..3),
    )
        .prop_map(|(n, loud, path, ssl, cdn, firewall, runtime_id)| {
            let domain = format!("d{n}.shop.example");
            let domain = if loud {
                format!("{}.", domain.to_uppercase())
            } else {
                domain
            };
            let spec = HostingAttachedDomainSpec {
                hosting: Some(HOSTING.into()),
                domain,
                path: path.into(),
                ssl,
                cdn,
                firewall,
                own_log: None,
                runtime_id,
            };
            (n, spec)
        })
}

fn arb_hosting_db() -> impl Strategy<Value = (u8, HostingDatabaseSpec)> {
    (
        0u8..4,
        select(vec!["mysql", "mariadb"]),
        option::of(select(vec!["8.0", "10.11"])),
        option::of(select(vec![25u32, 512])),
    )
        .prop_map(|(n, engine, version, quota)| {
            let spec = HostingDatabaseSpec {
                hosting: Some(HOSTING.into()),
                capability: "extraSqlPerso".into(),
                engine: engine.into(),
                user: format!("shop{n}"),
                version: version.map(Into::into),
                quota,
                password: SecretRef {
                    from_env: Some("DB_PASSWORD".into()),
                    from_file: None,
                },
            };
            (n, spec)
        })
}

fn arb_stack() -> impl Strategy<Value = ManagedStackMysqlSpec> {
    (any::<bool>(), option::of(select(vec![2u32, 3]))).prop_map(|(pinned, nodes)| {
        ManagedStackMysqlSpec {
            id: pinned.then_some(0),
            nodes,
        }
    })
}

prop_compose! {
    fn arb_manifests()(
        services in vec(arb_service(), 1..4),
        users in vec(arb_user(), 0..5),
        domains in vec(arb_domain(), 0..4),
        certificate in option::of(any::<bool>()),
        databases in vec(arb_hosting_db(), 0..3),
        stacks in vec(arb_stack(), 0..3),
    ) -> ManifestSet {
        build(services, users, domains, certificate, databases, stacks)
    }
}

/// Names everything and drops what validation would refuse (two users with one name on a
/// service, two manifests for one domain or database user, roles on engines without them).
fn build(
    services: Vec<DatabaseServiceSpec>,
    users: Vec<UserGen>,
    domains: Vec<(u8, HostingAttachedDomainSpec)>,
    certificate: Option<bool>,
    databases: Vec<(u8, HostingDatabaseSpec)>,
    stacks: Vec<ManagedStackMysqlSpec>,
) -> ManifestSet {
    let mut resources = Vec::new();
    for (i, spec) in services.iter().enumerate() {
        let spec = spec.clone();
        resources.push(resource(
            Kind::DatabaseService,
            &format!("svc{i}"),
            Spec::DatabaseService(spec),
        ));
    }
    let mut seen = BTreeSet::new();
    for (i, (service, n, admin, roles)) in users.into_iter().enumerate() {
        let index = service % services.len();
        let engine = services[index].engine.as_str();
        if !seen.insert((index, n)) {
            continue;
        }
        let username = match (engine, admin) {
            ("mongodb", true) => format!("u{n}@admin"),
            _ => format!("u{n}"),
        };
        let roles = if engine == "mysql" { vec![] } else { roles };
        resources.push(user(
            &format!("user{i}"),
            &format!("svc{index}"),
            &username,
            &roles,
        ));
    }
    let mut seen = BTreeSet::new();
    for (i, (n, spec)) in domains.into_iter().enumerate() {
        if seen.insert(n) {
            let name = format!("dom{i}");
            resources.push(resource(
                Kind::HostingAttachedDomain,
                &name,
                Spec::HostingAttachedDomain(spec),
            ));
        }
    }
    if let Some(custom) = certificate {
        resources.push(ssl("cert", |s| {
            if custom {
                s.certificate = from_env("CERT");
                s.key = from_env("KEY");
            }
        }));
    }
    let mut seen = BTreeSet::new();
    for (i, (n, spec)) in databases.into_iter().enumerate() {
        if seen.insert(n) {
            resources.push(resource(
                Kind::HostingDatabase,
                &format!("db{i}"),
                Spec::HostingDatabase(spec),
            ));
        }
    }
    for (i, mut spec) in stacks.into_iter().enumerate() {
        if spec.id.is_some() {
            spec.id = Some(9000 + i as u64);
        }
        resources.push(resource(
            Kind::ManagedStackMysql,
            &format!("stack{i}"),
            Spec::ManagedStackMysql(spec),
        ));
    }
    manifests(resources)
}

/// Unmanaged objects to add to a live state: (database scope index, users on it).
fn arb_extras() -> impl Strategy<Value = Vec<(usize, u8)>> {
    vec((any::<usize>(), 0u8..3), 1..4)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn live_equal_to_manifests_plans_nothing(manifests in arb_manifests()) {
        let live = live_from_manifests(&manifests);
        let options = prune();
        let plan = crate::plan::plan(&manifests, &live, &options);
        assert_invariants(&manifests, &options, &plan);
        prop_assert!(plan.changes.is_empty(), "phantom diff:\n{}", render_for_test(&plan));
        prop_assert!(plan.unknown.is_empty() && plan.unmanaged.is_empty(), "{}", render_for_test(&plan));
        prop_assert!(plan.errors.is_empty() && plan.warnings.is_empty(), "{}", render_for_test(&plan));
        let all: Vec<Address> = manifests.resources.iter().map(|r| r.address.clone()).collect();
        prop_assert_eq!(&plan.unchanged, &all);
    }

    #[test]
    fn empty_scopes_create_everything_parents_first(manifests in arb_manifests()) {
        let live = empty_live(&manifests);
        let options = PlanOptions::default();
        let plan = crate::plan::plan(&manifests, &live, &options);
        assert_invariants(&manifests, &options, &plan);
        prop_assert!(plan.errors.is_empty(), "{}", render_for_test(&plan));
        prop_assert_eq!(plan.changes.len(), manifests.resources.len());
        let wave = |address: &Address| plan.changes.iter().find(|c| &c.address == address).map(|c| c.wave);
        for change in &plan.changes {
            prop_assert_eq!(&change.action, &Action::Create);
            let resource = manifests.get(&change.address).expect("a manifest");
            match &resource.spec {
                Spec::DatabaseUser(user) => {
                    let service = Address { kind: Kind::DatabaseService, name: user.service.clone() };
                    prop_assert!(change.depends_on.contains(&service));
                    prop_assert!(wave(&service) < Some(change.wave));
                    prop_assert!(change.calls[0].path().ends_with("/{id}/user"), "{}", change.calls[0].path());
                }
                Spec::HostingSsl(_) => {
                    for other in &manifests.resources {
                        if let Spec::HostingAttachedDomain(d) = &other.spec {
                            if d.ssl == Some(true) {
                                prop_assert!(wave(&other.address) < Some(change.wave));
                            }
                        }
                    }
                }
                _ => prop_assert_eq!(change.wave, 0),
            }
        }
    }

    #[test]
    fn prune_deletes_children_first(manifests in arb_manifests(), extras in arb_extras()) {
        let mut live = live_from_manifests(&manifests);
        let scopes: Vec<(String, String)> = live.scopes.keys().filter_map(|s| match s {
            Scope::Database { project, engine } => Some((project.clone(), engine.clone())),
            _ => None,
        }).collect();
        let mut expected = 0;
        for (i, (scope, users)) in extras.into_iter().enumerate() {
            let (project, engine) = &scopes[scope % scopes.len()];
            let mut service = live_service(&format!("extra-{i}"), &format!("legacy-{i}"));
            service.engine = engine.clone();
            let builtin = if engine == "mongodb" { "admin@admin" } else { "avnadmin" };
            users_of(&mut service).push(live_user(&format!("extra-{i}-builtin"), builtin, &[]));
            for u in 0..users {
                users_of(&mut service).push(live_user(&format!("extra-{i}-u{u}"), &format!("old{u}"), &[]));
            }
            expected += 1 + usize::from(users);
            services_in(&mut live, project, engine).push(service);
        }
        let options = prune();
        let plan = crate::plan::plan(&manifests, &live, &options);
        assert_invariants(&manifests, &options, &plan);
        let deletes: Vec<&Change> = plan.changes.iter().filter(|c| matches!(c.action, Action::Delete { .. })).collect();
        prop_assert_eq!(deletes.len(), expected, "{}", render_for_test(&plan));
        prop_assert_eq!(deletes.len(), plan.changes.len());
        for service in deletes.iter().filter(|c| c.address.kind == Kind::DatabaseService) {
            let id = service.live_id.as_deref().expect("a live id");
            for user in deletes.iter().filter(|c| c.address.kind == Kind::DatabaseUser) {
                if user.calls[0].path().contains(&format!("/{id}/user/")) {
                    prop_assert!(user.wave < service.wave, "{}", render_for_test(&plan));
                }
            }
        }
    }

    #[test]
    fn nothing_is_written_where_anything_is_unknown(
        manifests in arb_manifests(),
        settled in any::<bool>(),
        extras in arb_extras(),
        twins in vec(any::<usize>(), 0..3),
        unreadable in vec(any::<usize>(), 1..3),
        users_unreadable in vec(any::<usize>(), 0..2),
    ) {
        let mut live = if settled { live_from_manifests(&manifests) } else { empty_live(&manifests) };
        let scopes: Vec<Scope> = live.scopes.keys().cloned().collect();
        let databases: Vec<(String, String)> = scopes.iter().filter_map(|s| match s {
            Scope::Database { project, engine } => Some((project.clone(), engine.clone())),
            _ => None,
        }).collect();
        for (i, (scope, users)) in extras.into_iter().enumerate() {
            let (project, engine) = &databases[scope % databases.len()];
            let mut service = live_service(&format!("extra-{i}"), &format!("legacy-{i}"));
            service.engine = engine.clone();
            for u in 0..users {
                users_of(&mut service).push(live_user(&format!("extra-{i}-u{u}"), &format!("old{u}"), &[]));
            }
            services_in(&mut live, project, engine).push(service);
        }
        // Twins of whatever services the scopes hold, younger than them.
        for (i, pick) in twins.into_iter().enumerate() {
            let (project, engine) = &databases[pick % databases.len()];
            let services = services_in(&mut live, project, engine);
            if let Some(original) = services.get(pick % services.len().max(1)).cloned() {
                let mut twin = original;
                twin.id = format!("twin-{i}");
                twin.created_at = "2025-06-01T00:00:00Z".into();
                twin.storage = Some(999);
                services.push(twin);
            }
        }
        for pick in users_unreadable {
            let (project, engine) = &databases[pick % databases.len()];
            let services = services_in(&mut live, project, engine);
            let n = services.len().max(1);
            if let Some(service) = services.get_mut(pick % n) {
                service.users = Some(UsersState::Unknown { reason: "503".into() });
            }
        }
        for pick in unreadable {
            let scope = scopes[pick % scopes.len()].clone();
            live.scopes.insert(scope, ScopeState::Unknown { reason: "503".into() });
        }
        let options = prune();
        let plan = crate::plan::plan(&manifests, &live, &options);
        assert_invariants(&manifests, &options, &plan);
        let unknown: BTreeSet<&Scope> = plan.unknown.iter().map(|u| &u.scope).collect();
        for (scope, state) in &live.scopes {
            if matches!(state, ScopeState::Unknown { .. }) {
                prop_assert!(unknown.contains(scope), "{scope} unknown but not listed:\n{}", render_for_test(&plan));
            }
        }
        for change in &plan.changes {
            let scope = scope_of_call(&change.calls[0].path());
            prop_assert!(
                !unknown.contains(&scope),
                "{} planned in {scope}, which is unknown:\n{}",
                change.address,
                render_for_test(&plan)
            );
        }
    }
}

/// The scope a call writes in, from its path.
fn scope_of_call(path: &str) -> Scope {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match parts.as_slice() {
        ["cloud", "project", project, "database", engine, ..] => Scope::Database {
            project: project.to_string(),
            engine: engine.to_string(),
        },
        ["hosting", "web", hosting, ..] => Scope::Hosting {
            hosting: hosting.to_string(),
        },
        ["stackMysql", ..] => Scope::StackMysql,
        _ => panic!("a call outside every scope: {path}"),
    }
}
