//! HostingAttachedDomain, HostingSsl and HostingDatabase.

use crate::plan::tests::*;
use serde_json::Value;

fn shop() -> ManifestSet {
    manifests(vec![
        domain("shop-www", "www.shop.example", |d| {
            d.ssl = Some(true);
            d.firewall = Some(ActiveOrNone::Active);
        }),
        domain("shop-blog", "blog.shop.example", |d| d.path = "blog".into()),
        ssl("shop-ssl", |_| {}),
        hosting_db("shop-db", "shopdb", |d| d.version = Some("8.0".into())),
    ])
}

#[test]
fn empty_hosting_creates_domains_before_the_certificate() {
    let manifests = shop();
    check!(manifests.clone(), empty_live(&manifests), @r#"
    + HostingAttachedDomain/shop-blog (wave 0)
        spec.domain: (none) -> "blog.shop.example"
        spec.hosting: (none) -> "shop.cluster021.hosting.ovh.net"
        spec.path: (none) -> "blog"
        POST /hosting/web/shop.cluster021.hosting.ovh.net/attachedDomain {"domain":"blog.shop.example","path":"blog"}
    + HostingAttachedDomain/shop-www (wave 0)
        spec.domain: (none) -> "www.shop.example"
        spec.firewall: (none) -> "active"
        spec.hosting: (none) -> "shop.cluster021.hosting.ovh.net"
        spec.path: (none) -> "www"
        spec.ssl: (none) -> true
        POST /hosting/web/shop.cluster021.hosting.ovh.net/attachedDomain {"domain":"www.shop.example","path":"www","ssl":true,"firewall":"active"}
    + HostingDatabase/shop-db (wave 0)
        spec.capability: (none) -> "sqlPerso"
        spec.hosting: (none) -> "shop.cluster021.hosting.ovh.net"
        spec.type: (none) -> "mysql"
        spec.user: (none) -> "shopdb"
        spec.version: (none) -> "8.0"
        spec.password: (sensitive)
        POST /hosting/web/shop.cluster021.hosting.ovh.net/database {"capabilitie":"sqlPerso","type":"mysql","user":"shopdb","version":"8.0","password":"***"}
    + HostingSsl/shop-ssl (wave 1; after HostingAttachedDomain/shop-www)
        spec.certificate: (none) -> "free"
        POST /hosting/web/shop.cluster021.hosting.ovh.net/ssl
    "#);
}

#[test]
fn live_equal_to_manifests_is_no_change_and_the_default_domain_is_left_alone() {
    let manifests = shop();
    check!(manifests.clone(), live_from_manifests(&manifests), prune(), @"
    no changes
    unchanged: HostingAttachedDomain/shop-blog, HostingAttachedDomain/shop-www, HostingSsl/shop-ssl, HostingDatabase/shop-db
    ");
}

#[test]
fn omitted_flags_are_server_defaults_and_domains_compare_normalised() {
    let manifests = manifests(vec![domain("shop-www", "WWW.Shop.Example.", |d| {
        d.path = "/www/".into()
    })]);
    let mut live = empty_live(&manifests);
    let mut www = live_domain("www.shop.example", "www");
    www.ssl = Some(true);
    www.cdn = Some("active".into());
    www.firewall = Some("active".into());
    www.runtime_id = Some(7);
    hosting_in(&mut live).attached_domains.push(www);
    check!(manifests, live, @r"
        no changes
        unchanged: HostingAttachedDomain/shop-www
        ");
}

#[test]
fn attached_domain_updates_in_place_with_the_changed_fields() {
    let manifests = manifests(vec![domain("shop-www", "www.shop.example", |d| {
        d.path = "public".into();
        d.cdn = Some(ActiveOrNone::Active);
        d.firewall = Some(ActiveOrNone::None);
        d.own_log = Some("www.shop.example".into());
        d.runtime_id = Some(2);
    })]);
    let mut live = live_from_manifests(&manifests);
    let www = &mut hosting_in(&mut live).attached_domains[1];
    www.path = "www".into();
    www.cdn = Some("none".into());
    www.own_log = None;
    www.runtime_id = Some(1);
    check!(manifests, live, @r#"
        ~ HostingAttachedDomain/shop-www (wave 0; id www.shop.example)
            spec.cdn: "none" -> "active"
            spec.ownLog: (none) -> "www.shop.example"
            spec.path: "www" -> "public"
            spec.runtimeId: 1 -> 2
            PUT /hosting/web/shop.cluster021.hosting.ovh.net/attachedDomain/www.shop.example {"path":"public","cdn":"active","ownLog":"www.shop.example","runtimeId":2}
        "#);
}

#[test]
fn uncovered_ssl_domain_regenerates_the_free_certificate_after_the_domain_changes() {
    let manifests = shop();
    let mut live = live_from_manifests(&manifests);
    let hosting = hosting_in(&mut live);
    hosting.ssl.as_mut().unwrap().domains.clear();
    hosting
        .attached_domains
        .iter_mut()
        .find(|d| d.domain == "www.shop.example")
        .unwrap()
        .ssl = Some(false);
    check!(manifests, live, @r#"
        ~ HostingAttachedDomain/shop-www (wave 0; id www.shop.example)
            spec.ssl: false -> true
            PUT /hosting/web/shop.cluster021.hosting.ovh.net/attachedDomain/www.shop.example {"ssl":true}
        ~ HostingSsl/shop-ssl (wave 1; id shop.cluster021.hosting.ovh.net; after HostingAttachedDomain/shop-www)
            domains: [] -> ["www.shop.example"]
            POST /hosting/web/shop.cluster021.hosting.ovh.net/ssl/regenerate
        unchanged: HostingAttachedDomain/shop-blog, HostingDatabase/shop-db
        "#);
}

#[test]
fn free_to_custom_certificate_is_a_replace_with_redacted_secrets() {
    let manifests = manifests(vec![ssl("shop-ssl", |s| {
        s.certificate = from_env("CERT");
        s.key = from_env("KEY");
        s.chain = from_env("CHAIN");
    })]);
    let mut live = empty_live(&manifests);
    hosting_in(&mut live).ssl = Some(LiveSsl {
        provider: "LETSENCRYPT".into(),
        status: "created".into(),
        domains: vec![HOSTING.into()],
        raw: Value::Null,
    });
    check!(manifests.clone(), live, @r#"
        -/+ HostingSsl/shop-ssl (wave 0; id shop.cluster021.hosting.ovh.net; forced by spec.certificate)
            spec.certificate: "free" -> "custom"  # forces replace
            spec.key: (sensitive)
            spec.chain: (sensitive)
            DELETE /hosting/web/shop.cluster021.hosting.ovh.net/ssl
            POST /hosting/web/shop.cluster021.hosting.ovh.net/ssl {"certificate":"***","key":"***","chain":"***"}
        "#);

    // Ordered from scratch: the custom certificate is imported.
    check!(manifests.clone(), empty_live(&manifests), @r#"
        + HostingSsl/shop-ssl (wave 0)
            spec.certificate: (none) -> "custom"
            spec.key: (sensitive)
            spec.chain: (sensitive)
            POST /hosting/web/shop.cluster021.hosting.ovh.net/ssl {"certificate":"***","key":"***","chain":"***"}
        "#);
}

#[test]
fn custom_certificate_content_is_not_compared() {
    let manifests = manifests(vec![ssl("shop-ssl", |s| {
        s.certificate = from_env("CERT");
        s.key = from_env("KEY");
    })]);
    check!(manifests.clone(), live_from_manifests(&manifests), @r"
        no changes
        unchanged: HostingSsl/shop-ssl
        ");
}

#[test]
fn hosting_database_version_type_and_quota_changes_replace() {
    let manifests = manifests(vec![
        hosting_db("shop-db", "shopdb", |d| d.version = Some("8.4".into())),
        hosting_db("shop-extra", "shopextra", |d| {
            d.capability = "extraSqlPerso".into();
            d.quota = Some(512);
        }),
        hosting_db("shop-private", "shoppg", |d| {
            d.capability = "privateDatabase".into();
            d.engine = "postgresql".into();
        }),
        hosting_db("shop-same", "shopsame", |_| {}),
    ]);
    let mut live = live_from_manifests(&manifests);
    let databases = &mut hosting_in(&mut live).databases;
    databases[0].version = Some("8.0".into());
    databases[1].quota = Some(25);
    databases[2].engine = "mariadb".into();
    databases[3].version = Some("5.7".into());
    check!(manifests, live, @r#"
        -/+ HostingDatabase/shop-db (wave 0; id shopdb.mysql.db; forced by spec.version)
            spec.version: "8.0" -> "8.4"  # forces replace
            spec.password: (sensitive)
            DELETE /hosting/web/shop.cluster021.hosting.ovh.net/database/shopdb.mysql.db
            POST /hosting/web/shop.cluster021.hosting.ovh.net/database {"capabilitie":"sqlPerso","type":"mysql","user":"shopdb","version":"8.4","password":"***"}
        -/+ HostingDatabase/shop-extra (wave 0; id shopextra.mysql.db; forced by spec.quota)
            spec.quota: 25 -> 512  # forces replace
            spec.password: (sensitive)
            DELETE /hosting/web/shop.cluster021.hosting.ovh.net/database/shopextra.mysql.db
            POST /hosting/web/shop.cluster021.hosting.ovh.net/database {"capabilitie":"extraSqlPerso","type":"mysql","user":"shopextra","quota":512,"password":"***"}
        -/+ HostingDatabase/shop-private (wave 0; id shoppg.mysql.db; forced by spec.type)
            spec.type: "mariadb" -> "postgresql"  # forces replace
            spec.password: (sensitive)
            DELETE /hosting/web/shop.cluster021.hosting.ovh.net/database/shoppg.mysql.db
            POST /hosting/web/shop.cluster021.hosting.ovh.net/database {"capabilitie":"privateDatabase","type":"postgresql","user":"shoppg","password":"***"}
        unchanged: HostingDatabase/shop-same
        "#);
}

#[test]
fn prune_deletes_unmanaged_domains_databases_and_certificate_but_not_the_default_domain() {
    let manifests = manifests(vec![domain("shop-www", "www.shop.example", |_| {})]);
    let mut live = live_from_manifests(&manifests);
    let hosting = hosting_in(&mut live);
    hosting
        .attached_domains
        .push(live_domain("old.shop.example", "old"));
    hosting
        .attached_domains
        .push(live_domain("shop.cluster021.hosting.ovh.net", "www"));
    hosting
        .databases
        .push(live_hosting_db("shopold.mysql.db", "shopold"));
    hosting.ssl = Some(LiveSsl {
        provider: "LETSENCRYPT".into(),
        status: "created".into(),
        domains: vec![],
        raw: Value::Null,
    });
    check!(manifests.clone(), live.clone(), @r"
        no changes
        unchanged: HostingAttachedDomain/shop-www
        unmanaged: HostingAttachedDomain old.shop.example (path old) in hosting shop.cluster021.hosting.ovh.net
        unmanaged: HostingSsl shop.cluster021.hosting.ovh.net (LETSENCRYPT) in hosting shop.cluster021.hosting.ovh.net
        unmanaged: HostingDatabase shopold.mysql.db (user shopold) in hosting shop.cluster021.hosting.ovh.net
        ");
    check!(manifests, live, prune(), @r"
        - HostingAttachedDomain/old.shop.example (wave 0; id old.shop.example; no manifest names it)
            DELETE /hosting/web/shop.cluster021.hosting.ovh.net/attachedDomain/old.shop.example
        - HostingSsl/shop.cluster021.hosting.ovh.net (wave 0; id shop.cluster021.hosting.ovh.net; no manifest names it)
            DELETE /hosting/web/shop.cluster021.hosting.ovh.net/ssl
        - HostingDatabase/shopold.mysql.db (wave 0; id shopold.mysql.db; no manifest names it)
            DELETE /hosting/web/shop.cluster021.hosting.ovh.net/database/shopold.mysql.db
        unchanged: HostingAttachedDomain/shop-www
        ");
}

#[test]
fn default_domain_of_a_hosting_named_after_its_domain_is_recognised() {
    // A hosting ordered with its own domain: the default one is `{login}.clusterNNN...`.
    let mut manifests = manifests(vec![]);
    manifests.defaults.hosting = Some("shop.example".into());
    manifests
        .resources
        .push(domain("shop-www", "www.shop.example", |d| {
            d.hosting = Some("shop.example".into())
        }));
    let mut live = LiveState::default();
    let mut hosting = empty_hosting();
    hosting.attached_domains = vec![
        live_domain("shop.cluster021.hosting.ovh.net", "www"),
        live_domain("www.shop.example", "www"),
    ];
    live.scopes.insert(
        Scope::Hosting {
            hosting: "shop.example".into(),
        },
        ScopeState::Known(LiveScope::Hosting(hosting)),
    );
    check!(manifests, live, prune(), @r"
        no changes
        unchanged: HostingAttachedDomain/shop-www
        ");
}

#[test]
fn deleting_objects_are_absent() {
    let manifests = shop();
    let mut live = live_from_manifests(&manifests);
    let hosting = hosting_in(&mut live);
    hosting
        .attached_domains
        .iter_mut()
        .for_each(|d| d.status = "deleting".into());
    hosting.databases[0].status = "deleting".into();
    hosting.ssl.as_mut().unwrap().status = "deleting".into();
    check!(manifests, live, prune(), @r#"
    + HostingAttachedDomain/shop-blog (wave 0)
        spec.domain: (none) -> "blog.shop.example"
        spec.hosting: (none) -> "shop.cluster021.hosting.ovh.net"
        spec.path: (none) -> "blog"
        POST /hosting/web/shop.cluster021.hosting.ovh.net/attachedDomain {"domain":"blog.shop.example","path":"blog"}
    + HostingAttachedDomain/shop-www (wave 0)
        spec.domain: (none) -> "www.shop.example"
        spec.firewall: (none) -> "active"
        spec.hosting: (none) -> "shop.cluster021.hosting.ovh.net"
        spec.path: (none) -> "www"
        spec.ssl: (none) -> true
        POST /hosting/web/shop.cluster021.hosting.ovh.net/attachedDomain {"domain":"www.shop.example","path":"www","ssl":true,"firewall":"active"}
    + HostingDatabase/shop-db (wave 0)
        spec.capability: (none) -> "sqlPerso"
        spec.hosting: (none) -> "shop.cluster021.hosting.ovh.net"
        spec.type: (none) -> "mysql"
        spec.user: (none) -> "shopdb"
        spec.version: (none) -> "8.0"
        spec.password: (sensitive)
        POST /hosting/web/shop.cluster021.hosting.ovh.net/database {"capabilitie":"sqlPerso","type":"mysql","user":"shopdb","version":"8.0","password":"***"}
    + HostingSsl/shop-ssl (wave 1; after HostingAttachedDomain/shop-www)
        spec.certificate: (none) -> "free"
        POST /hosting/web/shop.cluster021.hosting.ovh.net/ssl
    "#);
}

#[test]
fn unknown_hosting_plans_nothing_there() {
    let manifests = shop();
    let mut live = LiveState::default();
    live.scopes.insert(
        Scope::Hosting { hosting: HOSTING.into() },
        ScopeState::Unknown { reason: "GET /hosting/web/shop.cluster021.hosting.ovh.net/attachedDomain: timed out after 30s".into() },
    );
    check!(manifests, live, prune(), @r"
        no changes
        unknown: hosting shop.cluster021.hosting.ovh.net: GET /hosting/web/shop.cluster021.hosting.ovh.net/attachedDomain: timed out after 30s [HostingAttachedDomain/shop-blog, HostingAttachedDomain/shop-www, HostingSsl/shop-ssl, HostingDatabase/shop-db]
        ");
}

#[test]
fn two_manifests_for_one_domain_are_an_error() {
    let manifests = manifests(vec![
        domain("shop-www", "www.shop.example", |_| {}),
        domain("shop-www-again", "WWW.shop.example", |_| {}),
        ssl("shop-ssl", |_| {}),
        ssl("shop-ssl-again", |_| {}),
    ]);
    check!(manifests.clone(), live_from_manifests(&manifests), @"
    no changes
    unchanged: HostingAttachedDomain/shop-www, HostingSsl/shop-ssl
    unknown: hosting shop.cluster021.hosting.ovh.net: domain named by more than one manifest [HostingAttachedDomain/shop-www-again]
    unknown: hosting shop.cluster021.hosting.ovh.net: the certificate of hosting named by more than one manifest [HostingSsl/shop-ssl-again]
    error: HostingAttachedDomain/shop-www-again spec.domain: domain www.shop.example is already named by HostingAttachedDomain/shop-www
    error: HostingSsl/shop-ssl-again spec.hosting: the certificate of hosting shop.cluster021.hosting.ovh.net is already named by HostingSsl/shop-ssl
    ");
}
