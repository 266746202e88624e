//! Digests for the stale-plan guard: what makes a saved plan stale and what does not.

use super::*;
use crate::plan::{live_digests, plan, stale_keys};

fn everything() -> ManifestSet {
    manifests(vec![
        service("orders-db", |_| {}),
        user("orders-app", "orders-db", "app", &["readWrite@orders"]),
        domain("shop-www", "www.shop.example", |d| d.ssl = Some(true)),
        ssl("shop-ssl", |_| {}),
        hosting_db("shop-db", "shopdb", |_| {}),
        stack("main", |_| {}),
    ])
}

fn keys(live: &LiveState) -> String {
    live_digests(live)
        .keys()
        .cloned()
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn one_key_per_live_object_and_per_listing() {
    let live = live_from_manifests(&everything());
    insta::assert_snapshot!(keys(&live), @r"
        database/p1/mongodb
        database/p1/mongodb/id-orders-db
        database/p1/mongodb/id-orders-db/user
        database/p1/mongodb/id-orders-db/user/id-orders-db-app
        database/p1/mongodb/id-orders-db/user/id-orders-db-builtin
        hosting/shop.cluster021.hosting.ovh.net/attachedDomain
        hosting/shop.cluster021.hosting.ovh.net/attachedDomain/shop.cluster021.hosting.ovh.net
        hosting/shop.cluster021.hosting.ovh.net/attachedDomain/www.shop.example
        hosting/shop.cluster021.hosting.ovh.net/database
        hosting/shop.cluster021.hosting.ovh.net/database/shopdb.mysql.db
        hosting/shop.cluster021.hosting.ovh.net/ssl
        stackMysql
        stackMysql/stack-main
        ");
    let digest = &live_digests(&live)["database/p1/mongodb/id-orders-db"];
    assert_eq!(digest.len(), 40, "hex sha1: {digest}");
}

#[test]
fn the_plan_carries_the_digests_of_its_live_state() {
    let manifests = everything();
    let live = live_from_manifests(&manifests);
    let plan = plan(&manifests, &live, &PlanOptions::default());
    assert_eq!(plan.digests, live_digests(&live));
    assert!(stale_keys(&plan, &live).is_empty());
}

#[test]
fn status_changes_do_not_make_a_plan_stale() {
    let manifests = everything();
    let mut live = live_from_manifests(&manifests);
    live_service_named(&mut live, "orders-db").raw =
        serde_json::json!({ "status": "READY", "nodes": [{ "id": "n1", "status": "READY" }] });
    let saved = plan(&manifests, &live, &PlanOptions::default());
    let mut later = live.clone();
    let service = live_service_named(&mut later, "orders-db");
    service.status = "UPDATING".into();
    service.raw = serde_json::json!({ "nodes": [{ "status": "UPDATING", "id": "n1" }], "status": "UPDATING" });
    service
        .ip_restrictions
        .iter_mut()
        .for_each(|e| e.status = "PENDING".into());
    users_of(service)[0].status = "CREATING".into();
    let hosting = hosting_in(&mut later);
    hosting.attached_domains[1].status = "updating".into();
    hosting.attached_domains[1].task_id = Some(42);
    hosting.ssl.as_mut().unwrap().status = "regenerating".into();
    stacks_in(&mut later)[0].active = false;
    assert_eq!(stale_keys(&saved, &later), Vec::<String>::new());
}

#[test]
fn edits_additions_and_departures_make_a_plan_stale() {
    let manifests = everything();
    let live = live_from_manifests(&manifests);
    let saved = plan(&manifests, &live, &PlanOptions::default());
    let mut later = live.clone();
    live_service_named(&mut later, "orders-db").flavor = "db2-8".into();
    services_in(&mut later, PROJECT, "mongodb").push(live_service("svc-new", "intruder"));
    hosting_in(&mut later).databases[0].status = "deleting".into();
    hosting_in(&mut later).ssl.as_mut().unwrap().domains.clear();
    insta::assert_snapshot!(stale_keys(&saved, &later).join("\n"), @r"
        database/p1/mongodb
        database/p1/mongodb/id-orders-db
        database/p1/mongodb/svc-new
        database/p1/mongodb/svc-new/user
        hosting/shop.cluster021.hosting.ovh.net/database
        hosting/shop.cluster021.hosting.ovh.net/database/shopdb.mysql.db
        hosting/shop.cluster021.hosting.ovh.net/ssl
        ");
}

/// What `stale` names: every key read now is typed; a key only the saved plan has is typed when
/// this run can name it (a scope's listings, an object the saved plan names by id), else kept as
/// recorded. Nothing reads a key's text.
#[test]
fn keys_gone_since_the_plan_are_named_when_the_plan_or_a_scope_names_them() {
    use crate::live::{Scope, ScopeState};
    use crate::plan::{stale, StaleKey};
    let manifests = everything();
    let live = live_from_manifests(&manifests);
    let mut edited = live.clone();
    live_service_named(&mut edited, "orders-db").flavor = "db2-8".into();
    // The saved plan updates orders-db, so it names the service by id (not its users).
    let saved = plan(&manifests, &edited, &PlanOptions::default());
    assert_eq!(saved.changes.len(), 1);
    let mut later = edited.clone();
    services_in(&mut later, PROJECT, "mongodb").clear();
    later.scopes.insert(
        Scope::Hosting {
            hosting: "shop.cluster021.hosting.ovh.net".into(),
        },
        ScopeState::Unknown {
            reason: "HTTP 503".into(),
        },
    );
    let shown = stale(&saved, &later)
        .iter()
        .map(|key| match key {
            StaleKey::Known(key) => format!("typed    {key}"),
            StaleKey::Recorded(key) => format!("recorded {key}"),
        })
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!(shown, @r"
        typed    database/p1/mongodb
        typed    database/p1/mongodb/id-orders-db
        typed    database/p1/mongodb/id-orders-db/user
        recorded database/p1/mongodb/id-orders-db/user/id-orders-db-app
        recorded database/p1/mongodb/id-orders-db/user/id-orders-db-builtin
        typed    hosting/shop.cluster021.hosting.ovh.net/attachedDomain
        recorded hosting/shop.cluster021.hosting.ovh.net/attachedDomain/shop.cluster021.hosting.ovh.net
        recorded hosting/shop.cluster021.hosting.ovh.net/attachedDomain/www.shop.example
        typed    hosting/shop.cluster021.hosting.ovh.net/database
        recorded hosting/shop.cluster021.hosting.ovh.net/database/shopdb.mysql.db
        typed    hosting/shop.cluster021.hosting.ovh.net/ssl
        ");
}
