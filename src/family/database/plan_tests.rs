//! DatabaseService (with its IP list) and DatabaseUser.

use crate::plan::tests::*;
use crate::plan::PlanOptions;

fn orders() -> ManifestSet {
    manifests(vec![
        service("orders-db", |s| {
            s.storage = Some(40);
            s.maintenance_time = Some("03:00:00".into());
            s.deletion_protection = Some(true);
            s.ip_restrictions = Some(vec![
                ip("203.0.113.0/24", "office"),
                ip("198.51.100.7", "ci"),
            ]);
        }),
        user("orders-app", "orders-db", "app", &["readWrite@orders"]),
        user(
            "orders-report",
            "orders-db",
            "report@admin",
            &["read@orders"],
        ),
    ])
}

#[test]
fn empty_project_creates_services_then_users() {
    let manifests = orders();
    check!(manifests.clone(), empty_live(&manifests), @r#"
    + DatabaseService/orders-db (wave 0)
        spec.deletionProtection: (none) -> true
        spec.engine: (none) -> "mongodb"
        spec.ipRestrictions[198.51.100.7/32]: (none) -> "ci"
        spec.ipRestrictions[203.0.113.0/24]: (none) -> "office"
        spec.maintenanceTime: (none) -> "03:00:00"
        spec.nodes.count: (none) -> 3
        spec.nodes.flavor: (none) -> "db2-4"
        spec.nodes.region: (none) -> "GRA"
        spec.plan: (none) -> "production"
        spec.project: (none) -> "p1"
        spec.storage: (none) -> 40
        spec.version: (none) -> "7.0"
        POST /cloud/project/p1/database/mongodb {"description":"orders-db","plan":"production","version":"7.0","nodesPattern":{"flavor":"db2-4","number":3,"region":"GRA"},"disk":{"size":40},"ipRestrictions":[{"ip":"203.0.113.0/24","description":"office"},{"ip":"198.51.100.7/32","description":"ci"}],"maintenanceTime":"03:00:00"}
        PUT /cloud/project/p1/database/mongodb/{id} {"deletionProtection":true}
    + DatabaseUser/orders-app (wave 1; after DatabaseService/orders-db)
        spec.roles: (none) -> ["readWrite@orders"]
        spec.service: (none) -> "orders-db"
        spec.username: (none) -> "app"
        POST /cloud/project/p1/database/mongodb/{id}/user {"name":"app","roles":["readWrite@orders"]}
    + DatabaseUser/orders-report (wave 1; after DatabaseService/orders-db)
        spec.roles: (none) -> ["read@orders"]
        spec.service: (none) -> "orders-db"
        spec.username: (none) -> "report@admin"
        POST /cloud/project/p1/database/mongodb/{id}/user {"name":"report","roles":["read@orders"]}
    "#);
}

#[test]
fn live_equal_to_manifests_is_no_change() {
    let manifests = orders();
    check!(manifests.clone(), live_from_manifests(&manifests), @r"
        no changes
        unchanged: DatabaseService/orders-db, DatabaseUser/orders-app, DatabaseUser/orders-report
        ");
}

#[test]
fn normaliser_cidr_forms_list_order_admin_suffix_roles_order_and_server_defaults() {
    // Written the other way round on both sides: bare IPs vs /32, host bits, order, `@admin`,
    // roles order, lower-case region, `HH:MM`; storage, deletion protection omitted.
    let manifests = manifests(vec![
        service("orders-db", |s| {
            s.nodes.region = "gra".into();
            s.maintenance_time = Some("03:00".into());
            s.ip_restrictions = Some(vec![
                ip("10.1.2.3/24", "lan"),
                ip("198.51.100.7", "ci"),
                ip("2001:DB8::1", "v6"),
            ]);
        }),
        user(
            "orders-app",
            "orders-db",
            "app@admin",
            &["read@orders", "readWrite@orders"],
        ),
    ]);
    let mut live = empty_live(&manifests);
    let mut service = live_service("svc-1", "orders-db");
    service.storage = Some(120);
    service.deletion_protection = None;
    service.maintenance_time = Some("03:00:00".into());
    service.ip_restrictions = vec![
        LiveIpRestriction {
            ip: "2001:db8::1/128".into(),
            description: "v6".into(),
            status: "PENDING".into(),
        },
        LiveIpRestriction {
            ip: "198.51.100.7/32".into(),
            description: "ci".into(),
            status: "READY".into(),
        },
        LiveIpRestriction {
            ip: "10.1.2.0/24".into(),
            description: "lan".into(),
            status: "READY".into(),
        },
    ];
    users_of(&mut service).extend([
        live_user("u-admin", "admin@admin", &["root@admin"]),
        live_user("u-app", "app@admin", &["readWrite@orders", "read@orders"]),
    ]);
    services_in(&mut live, PROJECT, "mongodb").push(service);
    // The PENDING entry is not a change, but the service is not settled yet.
    check!(manifests, live, prune(), @r"
        no changes
        unchanged: DatabaseService/orders-db, DatabaseUser/orders-app
        in progress: DatabaseService/orders-db (id svc-1): ipRestrictions PENDING
        ");
}

#[test]
fn hand_edits_are_named_exactly() {
    // Someone removed an IP, changed an IP's description, changed the flavor and deleted a user.
    let manifests = orders();
    let mut live = live_from_manifests(&manifests);
    let service = live_service_named(&mut live, "orders-db");
    service
        .ip_restrictions
        .retain(|e| e.ip != "198.51.100.7/32");
    service.ip_restrictions[0].description = "old office".into();
    service.flavor = "db2-8".into();
    users_of(service).retain(|u| u.username != "report@admin");
    check!(manifests, live, @r#"
    ~ DatabaseService/orders-db (wave 0; id id-orders-db)
        spec.ipRestrictions[198.51.100.7/32]: (none) -> "ci"
        spec.ipRestrictions[203.0.113.0/24]: "old office" -> "office"
        spec.nodes.flavor: "db2-8" -> "db2-4"
        PUT /cloud/project/p1/database/mongodb/id-orders-db {"flavor":"db2-4","ipRestrictions":[{"ip":"203.0.113.0/24","description":"office"},{"ip":"198.51.100.7/32","description":"ci"}]}
    + DatabaseUser/orders-report (wave 1; after DatabaseService/orders-db)
        spec.roles: (none) -> ["read@orders"]
        spec.service: (none) -> "orders-db"
        spec.username: (none) -> "report@admin"
        POST /cloud/project/p1/database/mongodb/id-orders-db/user {"name":"report","roles":["read@orders"]}
    unchanged: DatabaseUser/orders-app
    "#);
}

#[test]
fn renamed_live_service_is_another_service() {
    // The description is the identity: renamed by hand, it no longer matches.
    let manifests = orders();
    let mut live = live_from_manifests(&manifests);
    live_service_named(&mut live, "orders-db").description = "orders-db-old".into();
    check!(manifests, live, @r#"
    + DatabaseService/orders-db (wave 0)
        spec.deletionProtection: (none) -> true
        spec.engine: (none) -> "mongodb"
        spec.ipRestrictions[198.51.100.7/32]: (none) -> "ci"
        spec.ipRestrictions[203.0.113.0/24]: (none) -> "office"
        spec.maintenanceTime: (none) -> "03:00:00"
        spec.nodes.count: (none) -> 3
        spec.nodes.flavor: (none) -> "db2-4"
        spec.nodes.region: (none) -> "GRA"
        spec.plan: (none) -> "production"
        spec.project: (none) -> "p1"
        spec.storage: (none) -> 40
        spec.version: (none) -> "7.0"
        POST /cloud/project/p1/database/mongodb {"description":"orders-db","plan":"production","version":"7.0","nodesPattern":{"flavor":"db2-4","number":3,"region":"GRA"},"disk":{"size":40},"ipRestrictions":[{"ip":"203.0.113.0/24","description":"office"},{"ip":"198.51.100.7/32","description":"ci"}],"maintenanceTime":"03:00:00"}
        PUT /cloud/project/p1/database/mongodb/{id} {"deletionProtection":true}
    + DatabaseUser/orders-app (wave 1; after DatabaseService/orders-db)
        spec.roles: (none) -> ["readWrite@orders"]
        spec.service: (none) -> "orders-db"
        spec.username: (none) -> "app"
        POST /cloud/project/p1/database/mongodb/{id}/user {"name":"app","roles":["readWrite@orders"]}
    + DatabaseUser/orders-report (wave 1; after DatabaseService/orders-db)
        spec.roles: (none) -> ["read@orders"]
        spec.service: (none) -> "orders-db"
        spec.username: (none) -> "report@admin"
        POST /cloud/project/p1/database/mongodb/{id}/user {"name":"report","roles":["read@orders"]}
    unmanaged: DatabaseService id-orders-db (orders-db-old) in database mongodb in project p1
    unmanaged: DatabaseUser id-orders-db-app (app@admin on orders-db-old) in database mongodb in project p1
    unmanaged: DatabaseUser id-orders-db-report (report@admin on orders-db-old) in database mongodb in project p1
    "#);
}

#[test]
fn update_sends_only_changed_fields_and_plan_with_node_count() {
    let manifests = orders();
    let mut live = live_from_manifests(&manifests);
    let service = live_service_named(&mut live, "orders-db");
    service.plan = "discovery".into();
    service.node_count = 1;
    service.storage = Some(20);
    service.maintenance_time = None;
    service.deletion_protection = Some(false);
    service.version = "6.0".into();
    check!(manifests, live, @r#"
        ~ DatabaseService/orders-db (wave 0; id id-orders-db)
            spec.deletionProtection: false -> true
            spec.maintenanceTime: (none) -> "03:00:00"
            spec.nodes.count: 1 -> 3
            spec.plan: "discovery" -> "production"
            spec.storage: 20 -> 40
            spec.version: "6.0" -> "7.0"
            PUT /cloud/project/p1/database/mongodb/id-orders-db {"plan":"production","nodeNumber":3,"version":"7.0","disk":{"size":40},"maintenanceTime":"03:00:00","deletionProtection":true}
        unchanged: DatabaseUser/orders-app, DatabaseUser/orders-report
        "#);
}

#[test]
fn plan_change_alone_carries_the_node_count() {
    let manifests = orders();
    let mut live = live_from_manifests(&manifests);
    live_service_named(&mut live, "orders-db").plan = "discovery".into();
    check!(manifests, live, @r#"
        ~ DatabaseService/orders-db (wave 0; id id-orders-db)
            spec.plan: "discovery" -> "production"
            PUT /cloud/project/p1/database/mongodb/id-orders-db {"plan":"production","nodeNumber":3}
        unchanged: DatabaseUser/orders-app, DatabaseUser/orders-report
        "#);
}

#[test]
fn ip_list_is_sent_whole_deduplicated_and_canonical() {
    let manifests = manifests(vec![service("orders-db", |s| {
        s.ip_restrictions = Some(vec![
            ip("10.0.0.1/8", "lan"),
            ip("10.0.0.0/8", "lan again"),
            ip("192.0.2.1", "vpn"),
        ]);
    })]);
    let mut live = empty_live(&manifests);
    let mut service = live_service("svc-1", "orders-db");
    service.ip_restrictions = vec![
        LiveIpRestriction {
            ip: "10.0.0.0/8".into(),
            description: "old lan".into(),
            status: "READY".into(),
        },
        LiveIpRestriction {
            ip: "0.0.0.0/0".into(),
            description: "anyone".into(),
            status: "READY".into(),
        },
    ];
    services_in(&mut live, PROJECT, "mongodb").push(service);
    check!(manifests, live, @r#"
        ~ DatabaseService/orders-db (wave 0; id svc-1)
            spec.ipRestrictions[0.0.0.0/0]: "anyone" -> (none)
            spec.ipRestrictions[10.0.0.0/8]: "old lan" -> "lan"
            spec.ipRestrictions[192.0.2.1/32]: (none) -> "vpn"
            PUT /cloud/project/p1/database/mongodb/svc-1 {"ipRestrictions":[{"ip":"10.0.0.0/8","description":"lan"},{"ip":"192.0.2.1/32","description":"vpn"}]}
        "#);
}

#[test]
fn empty_ip_list_removes_every_live_entry() {
    // The manifest owns the whole list: no entries means no access.
    let manifests = manifests(vec![service("orders-db", |s| {
        s.ip_restrictions = Some(vec![])
    })]);
    let mut live = live_from_manifests(&manifests);
    live_service_named(&mut live, "orders-db")
        .ip_restrictions
        .push(LiveIpRestriction {
            ip: "192.0.2.0/24".into(),
            description: "added by hand".into(),
            status: "READY".into(),
        });
    check!(manifests, live, @r#"
        ~ DatabaseService/orders-db (wave 0; id id-orders-db)
            spec.ipRestrictions[192.0.2.0/24]: "added by hand" -> (none)
            PUT /cloud/project/p1/database/mongodb/id-orders-db {"ipRestrictions":[]}
        "#);
}

/// Regression: an omitted `ipRestrictions` was read as `[]` and planned a PUT that removed
/// every live entry, closing the service. Omitted now means "leave the live list alone".
#[test]
fn omitted_ip_list_leaves_the_live_entries_alone() {
    let manifests = manifests(vec![service("orders-db", |s| s.ip_restrictions = None)]);
    let mut live = live_from_manifests(&manifests);
    live_service_named(&mut live, "orders-db")
        .ip_restrictions
        .push(LiveIpRestriction {
            ip: "192.0.2.0/24".into(),
            description: "managed elsewhere".into(),
            status: "READY".into(),
        });
    check!(manifests, live, @"
        no changes
        unchanged: DatabaseService/orders-db
        ");
}

#[test]
fn region_change_replaces_and_recreates_users() {
    let manifests = orders();
    let mut live = live_from_manifests(&manifests);
    let service = live_service_named(&mut live, "orders-db");
    service.region = "SBG".into();
    service.deletion_protection = Some(true);
    users_of(service).push(live_user("u-old", "old@admin", &[]));
    check!(manifests, live, prune(), @r#"
    - DatabaseUser/orders-db/old (wave 0; id u-old; no manifest names it)
        DELETE /cloud/project/p1/database/mongodb/id-orders-db/user/u-old
    -/+ DatabaseService/orders-db (wave 1; id id-orders-db; forced by spec.nodes.region; after DatabaseUser/orders-db/old)
        spec.nodes.region: "SBG" -> "GRA"  # forces replace
        DELETE /cloud/project/p1/database/mongodb/id-orders-db
        POST /cloud/project/p1/database/mongodb {"description":"orders-db","plan":"production","version":"7.0","nodesPattern":{"flavor":"db2-4","number":3,"region":"GRA"},"disk":{"size":40},"ipRestrictions":[{"ip":"203.0.113.0/24","description":"office"},{"ip":"198.51.100.7/32","description":"ci"}],"maintenanceTime":"03:00:00"}
        PUT /cloud/project/p1/database/mongodb/{id} {"deletionProtection":true}
    + DatabaseUser/orders-app (wave 2; after DatabaseService/orders-db)
        spec.roles: (none) -> ["readWrite@orders"]
        spec.service: (none) -> "orders-db"
        spec.username: (none) -> "app"
        POST /cloud/project/p1/database/mongodb/{id}/user {"name":"app","roles":["readWrite@orders"]}
    + DatabaseUser/orders-report (wave 2; after DatabaseService/orders-db)
        spec.roles: (none) -> ["read@orders"]
        spec.service: (none) -> "orders-db"
        spec.username: (none) -> "report@admin"
        POST /cloud/project/p1/database/mongodb/{id}/user {"name":"report","roles":["read@orders"]}
    warning: DatabaseService/orders-db spec.deletionProtection: service id-orders-db has deletionProtection on: apply will refuse to replace it until it is turned off
    "#);
}

#[test]
fn network_change_replaces() {
    let manifests = manifests(vec![service("orders-db", |s| {
        s.network = Some(NetworkSpec {
            network_id: "net-2".into(),
            subnet_id: "sub-2".into(),
        });
    })]);
    let mut live = live_from_manifests(&manifests);
    live_service_named(&mut live, "orders-db").network_id = Some("net-1".into());
    check!(manifests.clone(), live, @r#"
        -/+ DatabaseService/orders-db (wave 0; id id-orders-db; forced by spec.network)
            spec.network: {"networkId":"net-1","subnetId":"sub-2"} -> {"networkId":"net-2","subnetId":"sub-2"}  # forces replace
            DELETE /cloud/project/p1/database/mongodb/id-orders-db
            POST /cloud/project/p1/database/mongodb {"description":"orders-db","plan":"production","version":"7.0","nodesPattern":{"flavor":"db2-4","number":3,"region":"GRA"},"ipRestrictions":[{"ip":"203.0.113.0/24","description":"office"}],"networkId":"net-2","subnetId":"sub-2"}
        "#);

    // Public (no network) -> private is a replace too.
    let mut live = live_from_manifests(&manifests);
    let service = live_service_named(&mut live, "orders-db");
    service.network_id = None;
    service.subnet_id = None;
    check!(manifests, live, @r#"
        -/+ DatabaseService/orders-db (wave 0; id id-orders-db; forced by spec.network)
            spec.network: (none) -> {"networkId":"net-2","subnetId":"sub-2"}  # forces replace
            DELETE /cloud/project/p1/database/mongodb/id-orders-db
            POST /cloud/project/p1/database/mongodb {"description":"orders-db","plan":"production","version":"7.0","nodesPattern":{"flavor":"db2-4","number":3,"region":"GRA"},"ipRestrictions":[{"ip":"203.0.113.0/24","description":"office"}],"networkId":"net-2","subnetId":"sub-2"}
        "#);
}

#[test]
fn unmanaged_services_and_users_are_listed_without_prune() {
    let manifests = orders();
    let mut live = live_from_manifests(&manifests);
    users_of(live_service_named(&mut live, "orders-db")).push(live_user(
        "u-x",
        "intruder@admin",
        &[],
    ));
    let mut other = live_service("svc-other", "legacy-db");
    users_of(&mut other).extend([
        live_user("u-l", "legacy@admin", &[]),
        live_user("u-a", "admin@admin", &[]),
    ]);
    services_in(&mut live, PROJECT, "mongodb").push(other);
    check!(manifests, live, @r"
        no changes
        unchanged: DatabaseService/orders-db, DatabaseUser/orders-app, DatabaseUser/orders-report
        unmanaged: DatabaseService svc-other (legacy-db) in database mongodb in project p1
        unmanaged: DatabaseUser u-l (legacy@admin on legacy-db) in database mongodb in project p1
        unmanaged: DatabaseUser u-x (intruder@admin on orders-db) in database mongodb in project p1
        ");
}

#[test]
fn prune_deletes_children_first_with_a_reason_and_never_builtin_users() {
    let manifests = orders();
    let mut live = live_from_manifests(&manifests);
    users_of(live_service_named(&mut live, "orders-db")).push(live_user(
        "u-x",
        "intruder@admin",
        &[],
    ));
    let mut other = live_service("svc-other", "legacy-db");
    other.deletion_protection = Some(true);
    users_of(&mut other).extend([
        live_user("u-l", "legacy@admin", &[]),
        live_user("u-a", "admin@admin", &[]),
        live_user("u-b", "backup-1@admin", &[]),
        live_user("u-m", "mms-automation@admin", &[]),
    ]);
    services_in(&mut live, PROJECT, "mongodb").push(other);
    check!(manifests, live, prune(), @r"
        - DatabaseUser/legacy-db/legacy (wave 0; id u-l; no manifest names it)
            DELETE /cloud/project/p1/database/mongodb/svc-other/user/u-l
        - DatabaseUser/orders-db/intruder (wave 0; id u-x; no manifest names it)
            DELETE /cloud/project/p1/database/mongodb/id-orders-db/user/u-x
        - DatabaseService/legacy-db (wave 1; id svc-other; no manifest names it; after DatabaseUser/legacy-db/legacy)
            DELETE /cloud/project/p1/database/mongodb/svc-other
        unchanged: DatabaseService/orders-db, DatabaseUser/orders-app, DatabaseUser/orders-report
        warning: DatabaseService/legacy-db spec.deletionProtection: service svc-other has deletionProtection on: apply will refuse to delete it until it is turned off
        ");
}

#[test]
fn builtin_users_of_other_engines_are_never_deleted() {
    let manifests = manifests(vec![
        service("pg", |s| {
            s.engine = "postgresql".into();
            s.version = "16".into();
            s.plan = "business".into();
        }),
        user("pg-app", "pg", "app", &["replication"]),
    ]);
    let mut live = live_from_manifests(&manifests);
    let service = &mut services_in(&mut live, PROJECT, "postgresql")[0];
    users_of(service).extend([
        live_user("u-d", "default", &[]),
        live_user("u-o", "old", &[]),
    ]);
    check!(manifests, live, prune(), @r"
        - DatabaseUser/pg/old (wave 0; id u-o; no manifest names it)
            DELETE /cloud/project/p1/database/postgresql/id-pg/user/u-o
        unchanged: DatabaseService/pg, DatabaseUser/pg-app
        ");
}

#[test]
fn a_manifest_may_manage_a_builtin_user() {
    let manifests = manifests(vec![
        service("orders-db", |_| {}),
        user("admin", "orders-db", "admin", &["root@admin"]),
    ]);
    let mut live = live_from_manifests(&manifests);
    // The API has one admin@admin: the built-in one.
    users_of(live_service_named(&mut live, "orders-db")).retain(|u| u.id != "id-orders-db-admin");
    check!(manifests, live, @r#"
        ~ DatabaseUser/admin (wave 0; id id-orders-db-builtin)
            spec.roles: [] -> ["root@admin"]
            PUT /cloud/project/p1/database/mongodb/id-orders-db/user/id-orders-db-builtin {"roles":["root@admin"]}
        unchanged: DatabaseService/orders-db
        "#);
}

#[test]
fn user_roles_update_and_engines_without_roles() {
    let manifests = manifests(vec![
        service("orders-db", |_| {}),
        user(
            "orders-app",
            "orders-db",
            "app",
            &["readWrite@orders", "read@stats"],
        ),
        service("shop-sql", |s| {
            s.engine = "mysql".into();
            s.version = "8".into();
            s.plan = "essential".into();
        }),
        user("shop-app", "shop-sql", "app", &["readWrite"]),
    ]);
    let mut live = live_from_manifests(&manifests);
    let orders = live_service_named(&mut live, "orders-db");
    users_of(orders)
        .iter_mut()
        .find(|u| u.username == "app@admin")
        .unwrap()
        .roles = vec!["readWrite@orders".into()];
    let shop = &mut services_in(&mut live, PROJECT, "mysql")[0];
    users_of(shop).retain(|u| u.username != "app");
    check!(manifests, live, @r#"
    ~ DatabaseUser/orders-app (wave 0; id id-orders-db-app)
        spec.roles: ["readWrite@orders"] -> ["read@stats","readWrite@orders"]
        PUT /cloud/project/p1/database/mongodb/id-orders-db/user/id-orders-db-app {"roles":["read@stats","readWrite@orders"]}
    + DatabaseUser/shop-app (wave 0)
        spec.service: (none) -> "shop-sql"
        spec.username: (none) -> "app"
        POST /cloud/project/p1/database/mysql/id-shop-sql/user {"name":"app"}
    unchanged: DatabaseService/orders-db, DatabaseService/shop-sql
    error: DatabaseUser/shop-app spec.roles: mysql users have no roles on the API; remove spec.roles
    "#);
}

/// Two runs at once left two services named orders-db: the plan exited 1 ("ambiguous") on
/// every run after. The oldest is the managed one, the other a duplicate.
#[test]
fn twin_services_the_oldest_is_managed_the_younger_a_duplicate() {
    let manifests = orders();
    let mut live = live_from_manifests(&manifests);
    let mut twin = live_service("svc-twin", "orders-db");
    twin.created_at = "2025-01-01T00:00:05Z".into();
    users_of(&mut twin).push(live_user("twin-app", "app@admin", &[]));
    // Listed first, but younger: the listing order does not decide.
    services_in(&mut live, PROJECT, "mongodb").insert(0, twin);
    check!(manifests.clone(), live.clone(), @r"
        no changes
        unchanged: DatabaseService/orders-db, DatabaseUser/orders-app, DatabaseUser/orders-report
        duplicate: DatabaseService svc-twin (2025-01-01T00:00:05Z) in database mongodb in project p1: duplicate of DatabaseService/orders-db (id id-orders-db, created at 2025-01-01T00:00:00Z)
        ");
    // Under prune the twin is deleted (its users with it), never the managed service.
    check!(manifests, live, prune(), @r"
        - DatabaseService/orders-db#svc-twin (wave 0; id svc-twin; duplicate of DatabaseService/orders-db (id id-orders-db, created at 2025-01-01T00:00:00Z))
            DELETE /cloud/project/p1/database/mongodb/svc-twin
        unchanged: DatabaseService/orders-db, DatabaseUser/orders-app, DatabaseUser/orders-report
        ");
}

/// The same instant orders twins by id; an offset does not fool the comparison.
#[test]
fn twins_are_ordered_by_instant_then_id() {
    let manifests = manifests(vec![service("orders-db", |_| {})]);
    let mut live = empty_live(&manifests);
    let mut a = live_from_manifests(&manifests);
    let managed = live_service_named(&mut a, "orders-db").clone();
    let mut later_in_text = managed.clone();
    later_in_text.id = "a-first-by-id".into();
    // 01:00+02:00 is 23:00 the day before: the oldest, though it reads later.
    later_in_text.created_at = "2025-01-01T01:00:00+02:00".into();
    let mut same_instant = managed.clone();
    same_instant.id = "zz".into();
    services_in(&mut live, PROJECT, "mongodb").extend([same_instant, managed, later_in_text]);
    check!(manifests, live, @r"
        no changes
        unchanged: DatabaseService/orders-db
        duplicate: DatabaseService id-orders-db (2025-01-01T00:00:00Z) in database mongodb in project p1: duplicate of DatabaseService/orders-db (id a-first-by-id, created at 2025-01-01T01:00:00+02:00)
        duplicate: DatabaseService zz (2025-01-01T00:00:00Z) in database mongodb in project p1: duplicate of DatabaseService/orders-db (id a-first-by-id, created at 2025-01-01T01:00:00+02:00)
        ");
}

/// Twin users (one username twice on the managed service): the oldest is managed.
#[test]
fn twin_users_the_oldest_is_managed() {
    let manifests = orders();
    let mut live = live_from_manifests(&manifests);
    let service = live_service_named(&mut live, "orders-db");
    let mut twin = live_user("user-twin", "app@admin", &["readWrite@orders"]);
    twin.created_at = "2025-01-01T00:00:09Z".into();
    users_of(service).push(twin);
    check!(manifests.clone(), live.clone(), @r"
        no changes
        unchanged: DatabaseService/orders-db, DatabaseUser/orders-app, DatabaseUser/orders-report
        duplicate: DatabaseUser user-twin (2025-01-01T00:00:09Z) in database mongodb in project p1: duplicate of DatabaseUser/orders-app (id id-orders-db-app, created at 2025-01-01T00:00:00Z)
        ");
    check!(manifests, live, prune(), @r"
        - DatabaseUser/orders-app#user-twin (wave 0; id user-twin; duplicate of DatabaseUser/orders-app (id id-orders-db-app, created at 2025-01-01T00:00:00Z))
            DELETE /cloud/project/p1/database/mongodb/id-orders-db/user/user-twin
        unchanged: DatabaseService/orders-db, DatabaseUser/orders-app, DatabaseUser/orders-report
        ");
}

/// A protected twin is planned for deletion with the warning apply's gate refuses on.
#[test]
fn a_protected_twin_is_deleted_only_through_the_gate() {
    let manifests = manifests(vec![service("orders-db", |_| {})]);
    let mut live = live_from_manifests(&manifests);
    let mut twin = live_service("svc-twin", "orders-db");
    twin.created_at = "2025-06-01T00:00:00Z".into();
    twin.deletion_protection = Some(true);
    services_in(&mut live, PROJECT, "mongodb").push(twin);
    check!(manifests, live, prune(), @r"
        - DatabaseService/orders-db#svc-twin (wave 0; id svc-twin; duplicate of DatabaseService/orders-db (id id-orders-db, created at 2025-01-01T00:00:00Z))
            DELETE /cloud/project/p1/database/mongodb/svc-twin
        unchanged: DatabaseService/orders-db
        warning: DatabaseService/orders-db#svc-twin spec.deletionProtection: service svc-twin has deletionProtection on: apply will refuse to delete it until it is turned off
        ");
}

/// In the twin state, `plan --prune` planned `- DatabaseService/analytics-db will be destroyed`
/// in a scope it listed as unknown. Nothing is written where anything is unknown: here the
/// users of one service could not be read.
#[test]
fn nothing_is_planned_in_a_scope_with_anything_unknown() {
    let manifests = manifests(vec![
        service("orders-db", |s| s.storage = Some(10)),
        user("orders-app", "orders-db", "app", &[]),
        service("pg", |s| s.engine = "postgresql".into()),
    ]);
    let mut live = live_from_manifests(&manifests);
    live_service_named(&mut live, "orders-db").users = Some(UsersState::Unknown {
        reason: "503".into(),
    });
    services_in(&mut live, PROJECT, "mongodb").push(live_service("old", "analytics-db"));
    live_service_named(&mut live, "orders-db").storage = Some(40);
    services_in(&mut live, PROJECT, "postgresql").push(live_service("old-pg", "legacy-pg"));
    check!(manifests, live, prune(), @r"
        - DatabaseService/legacy-pg (wave 0; id old-pg; no manifest names it)
            DELETE /cloud/project/p1/database/postgresql/old-pg
        unchanged: DatabaseService/pg
        unknown: database mongodb in project p1: users of DatabaseService/orders-db (id-orders-db) could not be read: 503 [DatabaseService/analytics-db, DatabaseService/orders-db, DatabaseUser/orders-app]
        ");
}

/// A scope whose last manifest was removed is still planned: the only mongodb service of a
/// project, gone from the manifests, lived on unlisted ("No changes").
#[test]
fn a_scope_without_manifests_is_still_managed() {
    let manifests = manifests(vec![service("pg", |s| s.engine = "postgresql".into())]);
    let mut live = live_from_manifests(&manifests);
    services_in(&mut live, PROJECT, "mongodb").push(live_service("m1", "orders-db"));
    check!(manifests.clone(), live.clone(), @r"
        no changes
        unchanged: DatabaseService/pg
        unmanaged: DatabaseService m1 (orders-db) in database mongodb in project p1
        ");
    check!(manifests, live, prune(), @r"
        - DatabaseService/orders-db (wave 0; id m1; no manifest names it)
            DELETE /cloud/project/p1/database/mongodb/m1
        unchanged: DatabaseService/pg
        ");
}

/// A managed scope that cannot be read is listed even with no manifest in it.
#[test]
fn an_unreadable_scope_without_manifests_is_listed() {
    let manifests = manifests(vec![service("pg", |s| s.engine = "postgresql".into())]);
    let mut live = live_from_manifests(&manifests);
    live.scopes.insert(
        Scope::Database {
            project: PROJECT.into(),
            engine: "redis".into(),
        },
        ScopeState::Unknown {
            reason: "503".into(),
        },
    );
    check!(manifests, live, @r"
        no changes
        unchanged: DatabaseService/pg
        unknown: database redis in project p1: 503 []
        ");
}

/// A re-run after a killed apply exited 0 while the service it created was still CREATING.
#[test]
fn objects_still_being_worked_on_are_in_progress() {
    let manifests = orders();
    let mut live = live_from_manifests(&manifests);
    let service = live_service_named(&mut live, "orders-db");
    service.status = "CREATING".into();
    users_of(service)
        .iter_mut()
        .find(|u| u.username == "report@admin")
        .unwrap()
        .status = "PENDING".into();
    check!(manifests.clone(), live.clone(), @r"
        no changes
        unchanged: DatabaseService/orders-db, DatabaseUser/orders-app, DatabaseUser/orders-report
        in progress: DatabaseService/orders-db (id id-orders-db): CREATING
        in progress: DatabaseUser/orders-report (id id-orders-db-report): PENDING
        ");
    // READY, but an IP entry the manifest owns is still PENDING.
    let service = live_service_named(&mut live, "orders-db");
    service.status = "READY".into();
    service.ip_restrictions[0].status = "PENDING".into();
    let plan = crate::plan::plan(&manifests, &live, &PlanOptions::default());
    let service = plan
        .in_progress
        .iter()
        .find(|p| p.address.name == "orders-db")
        .unwrap_or_else(|| panic!("{}", render_for_test(&plan)));
    assert_eq!(service.status, "ipRestrictions PENDING");
    assert!(plan.is_unsettled() && !plan.has_changes());
}

#[test]
fn unknown_scope_plans_nothing_there() {
    let manifests = manifests(vec![
        service("orders-db", |_| {}),
        user("orders-app", "orders-db", "app", &[]),
        service("pg", |s| s.engine = "postgresql".into()),
    ]);
    let mut live = empty_live(&manifests);
    live.scopes.insert(
        Scope::Database {
            project: PROJECT.into(),
            engine: "mongodb".into(),
        },
        ScopeState::Unknown {
            reason: "GET /cloud/project/p1/database/mongodb: 503 Service Unavailable".into(),
        },
    );
    live.scopes.remove(&Scope::Database {
        project: PROJECT.into(),
        engine: "postgresql".into(),
    });
    check!(manifests, live, prune(), @r"
        no changes
        unknown: database mongodb in project p1: GET /cloud/project/p1/database/mongodb: 503 Service Unavailable [DatabaseService/orders-db, DatabaseUser/orders-app]
        unknown: database postgresql in project p1: not read (no live state for this scope) [DatabaseService/pg]
        ");
}

#[test]
fn users_that_could_not_be_read_are_unknown() {
    let manifests = manifests(vec![
        service("orders-db", |_| {}),
        user("orders-app", "orders-db", "app", &[]),
        service("stats-db", |_| {}),
        user("stats-app", "stats-db", "app", &[]),
    ]);
    let mut live = live_from_manifests(&manifests);
    live_service_named(&mut live, "orders-db").users = Some(UsersState::Unknown {
        reason: "403 Forbidden".into(),
    });
    live_service_named(&mut live, "stats-db").users = None;
    check!(manifests, live, prune(), @r"
        no changes
        unchanged: DatabaseService/orders-db, DatabaseService/stats-db
        unknown: database mongodb in project p1: users of DatabaseService/orders-db (id-orders-db) could not be read: 403 Forbidden [DatabaseUser/orders-app]
        unknown: database mongodb in project p1: users of DatabaseService/stats-db (id-stats-db) were not read [DatabaseUser/stats-app]
        ");
}

#[test]
fn deleting_service_is_absent_and_busy_service_is_still_planned() {
    let manifests = manifests(vec![
        service("orders-db", |_| {}),
        service("stats-db", |_| {}),
    ]);
    let mut live = live_from_manifests(&manifests);
    live_service_named(&mut live, "orders-db").status = "DELETING".into();
    let stats = live_service_named(&mut live, "stats-db");
    stats.status = "UPDATING".into();
    stats.flavor = "db2-8".into();
    check!(manifests, live, prune(), @r#"
    + DatabaseService/orders-db (wave 0)
        spec.engine: (none) -> "mongodb"
        spec.ipRestrictions[203.0.113.0/24]: (none) -> "office"
        spec.nodes.count: (none) -> 3
        spec.nodes.flavor: (none) -> "db2-4"
        spec.nodes.region: (none) -> "GRA"
        spec.plan: (none) -> "production"
        spec.project: (none) -> "p1"
        spec.version: (none) -> "7.0"
        POST /cloud/project/p1/database/mongodb {"description":"orders-db","plan":"production","version":"7.0","nodesPattern":{"flavor":"db2-4","number":3,"region":"GRA"},"ipRestrictions":[{"ip":"203.0.113.0/24","description":"office"}]}
    ~ DatabaseService/stats-db (wave 0; id id-stats-db)
        spec.nodes.flavor: "db2-8" -> "db2-4"
        PUT /cloud/project/p1/database/mongodb/id-stats-db {"flavor":"db2-4"}
    "#);
}

#[test]
fn dangling_user_reference_is_an_error() {
    let manifests = manifests(vec![user("lost", "nowhere", "app", &[])]);
    check!(manifests, LiveState::default(), @r"
        no changes
        error: DatabaseUser/lost spec.service: names DatabaseService/nowhere, which no manifest defines
        ");
}

#[test]
fn unknown_scope_is_listed_even_with_prune() {
    let manifests = manifests(vec![service("orders-db", |_| {})]);
    check!(manifests, LiveState::default(), PlanOptions { prune: true }, @r"
        no changes
        unknown: database mongodb in project p1: not read (no live state for this scope) [DatabaseService/orders-db]
        warning: DatabaseService/orders-db spec.project: preflight skipped: the catalogue of project p1 could not be read (DatabaseService/orders-db not checked)
        ");
}

/// A live id with characters a path cannot carry as they are was shown raw in the plan
/// (`.../user/u x/1`) while apply sent it escaped: the plan now shows the path apply sends.
#[test]
fn odd_live_ids_are_shown_escaped_as_apply_sends_them() {
    let manifests = orders();
    let mut live = live_from_manifests(&manifests);
    users_of(live_service_named(&mut live, "orders-db")).push(live_user(
        "u x/1",
        "intruder@admin",
        &[],
    ));
    check!(manifests, live, prune(), @r"
        - DatabaseUser/orders-db/intruder (wave 0; id u x/1; no manifest names it)
            DELETE /cloud/project/p1/database/mongodb/id-orders-db/user/u%20x%2F1
        unchanged: DatabaseService/orders-db, DatabaseUser/orders-app, DatabaseUser/orders-report
        ");
}
