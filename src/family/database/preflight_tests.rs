//! Preflight against the catalogue: the allowed values in every error, lifecycle warnings.

use crate::plan::tests::*;

fn offer(engine: &str, version: &str, plan: &str, flavor: &str, region: &str) -> Offer {
    Offer {
        engine: engine.into(),
        version: version.into(),
        plan: plan.into(),
        flavor: flavor.into(),
        region: region.into(),
        network: "public".into(),
        min_nodes: 3,
        max_nodes: 8,
        min_storage: Some(40),
        max_storage: Some(400),
        lifecycle: "STABLE".into(),
        end_of_sale: None,
        end_of_life: None,
    }
}

/// mongodb 6.0 (deprecated) and 7.0, production and discovery, db2-4 and db2-8, GRA and SBG;
/// postgresql 16 business.
fn catalogue() -> Catalogue {
    let mut offers = Vec::new();
    for version in ["6.0", "7.0"] {
        for plan in ["discovery", "production"] {
            for region in ["GRA", "SBG"] {
                for flavor in ["db2-4", "db2-8"] {
                    let mut row = offer("mongodb", version, plan, flavor, region);
                    if version == "6.0" {
                        row.lifecycle = "DEPRECATED".into();
                        row.end_of_sale = Some("2026-01-31".into());
                        row.end_of_life = Some("2026-07-31".into());
                    }
                    offers.push(row);
                }
            }
        }
    }
    offers.push(offer("postgresql", "16", "business", "b3-8", "GRA"));
    let mut eos = offer("postgresql", "13", "business", "b3-8", "GRA");
    eos.lifecycle = "END_OF_SALE".into();
    eos.end_of_sale = Some("2025-02-28".into());
    offers.push(eos);
    Catalogue { offers }
}

fn with_catalogue(manifests: &ManifestSet) -> LiveState {
    let mut live = empty_live(manifests);
    live.catalogues.insert(PROJECT.into(), catalogue());
    live
}

#[test]
fn offered_service_passes() {
    let manifests = manifests(vec![service("ok", |s| s.storage = Some(80))]);
    check!(findings: manifests.clone(), with_catalogue(&manifests), @r"no findings");
}

#[test]
fn each_mismatch_names_the_allowed_values() {
    let manifests = manifests(vec![
        service("bad-engine", |s| s.engine = "cassandra".into()),
        service("bad-version", |s| s.version = "8.0".into()),
        service("bad-plan", |s| s.plan = "advanced".into()),
        service("bad-region", |s| s.nodes.region = "BHS".into()),
        service("bad-flavor", |s| s.nodes.flavor = "db9-1".into()),
        service("bad-network", |s| {
            s.network = Some(NetworkSpec {
                network_id: "n".into(),
                subnet_id: "s".into(),
            })
        }),
        service("bad-count", |s| s.nodes.count = 9),
        service("bad-storage", |s| s.storage = Some(1000)),
    ]);
    check!(findings: manifests.clone(), with_catalogue(&manifests), @r"
        error: DatabaseService/bad-count spec.nodes.count: node count 9 is out of range for mongodb 7.0 production db2-4 in GRA: 3..8
        error: DatabaseService/bad-engine spec.engine: engine cassandra is not offered in project p1; offered: mongodb, postgresql
        error: DatabaseService/bad-flavor spec.nodes.flavor: flavor db9-1 is not offered for mongodb 7.0 production in GRA; offered: db2-4, db2-8
        error: DatabaseService/bad-network spec.network: a private network is not offered for mongodb 7.0 production db2-4 in GRA; offered: public
        error: DatabaseService/bad-plan spec.plan: plan advanced is not offered for mongodb 7.0; offered: discovery, production
        error: DatabaseService/bad-region spec.nodes.region: region BHS is not offered for mongodb 7.0 production; offered: GRA, SBG
        error: DatabaseService/bad-storage spec.storage: storage 1000 GB is out of range for mongodb 7.0 production db2-4 in GRA: 40..400 GB
        error: DatabaseService/bad-version spec.version: version 8.0 is not offered for mongodb; offered: 6.0, 7.0
        ");
}

#[test]
fn lifecycle_warnings_and_orders_that_can_no_longer_be_placed() {
    let manifests = manifests(vec![
        service("deprecated", |s| s.version = "6.0".into()),
        service("end-of-sale", |s| {
            s.engine = "postgresql".into();
            s.version = "13".into();
            s.plan = "business".into();
            s.nodes.flavor = "b3-8".into();
        }),
    ]);
    // Created by this plan: the end-of-sale offer cannot be ordered.
    check!(findings: manifests.clone(), with_catalogue(&manifests), @r"
        error: DatabaseService/end-of-sale spec.version: postgresql 13 business b3-8 in GRA can no longer be ordered: it is no longer sold (end of sale 2025-02-28)
        warning: DatabaseService/deprecated spec.version: mongodb 6.0 production db2-4 in GRA is deprecated (end of sale 2026-01-31, end of life 2026-07-31)
        ");

    // Already running and unchanged: warnings only, never an error.
    let mut live = live_from_manifests(&manifests);
    live.catalogues.insert(PROJECT.into(), catalogue());
    check!(manifests, live, @r"
        no changes
        unchanged: DatabaseService/deprecated, DatabaseService/end-of-sale
        warning: DatabaseService/deprecated spec.version: mongodb 6.0 production db2-4 in GRA is deprecated (end of sale 2026-01-31, end of life 2026-07-31)
        warning: DatabaseService/end-of-sale spec.version: postgresql 13 business b3-8 in GRA is no longer sold (end of sale 2025-02-28)
        ");
}

#[test]
fn an_unchanged_service_is_not_blocked_by_the_catalogue() {
    let manifests = manifests(vec![service("legacy", |s| s.nodes.flavor = "db1-4".into())]);
    let mut live = live_from_manifests(&manifests);
    live.catalogues.insert(PROJECT.into(), catalogue());
    check!(manifests, live, @r"
        no changes
        unchanged: DatabaseService/legacy
        ");
}

#[test]
fn missing_catalogue_skips_preflight_with_a_warning() {
    let manifests = manifests(vec![service("a", |_| {}), service("b", |_| {})]);
    let mut live = empty_live(&manifests);
    live.catalogues.clear();
    check!(manifests, live, @r#"
    + DatabaseService/a (wave 0)
        spec.engine: (none) -> "mongodb"
        spec.ipRestrictions[203.0.113.0/24]: (none) -> "office"
        spec.nodes.count: (none) -> 3
        spec.nodes.flavor: (none) -> "db2-4"
        spec.nodes.region: (none) -> "GRA"
        spec.plan: (none) -> "production"
        spec.project: (none) -> "p1"
        spec.version: (none) -> "7.0"
        POST /cloud/project/p1/database/mongodb {"description":"a","plan":"production","version":"7.0","nodesPattern":{"flavor":"db2-4","number":3,"region":"GRA"},"ipRestrictions":[{"ip":"203.0.113.0/24","description":"office"}]}
    + DatabaseService/b (wave 0)
        spec.engine: (none) -> "mongodb"
        spec.ipRestrictions[203.0.113.0/24]: (none) -> "office"
        spec.nodes.count: (none) -> 3
        spec.nodes.flavor: (none) -> "db2-4"
        spec.nodes.region: (none) -> "GRA"
        spec.plan: (none) -> "production"
        spec.project: (none) -> "p1"
        spec.version: (none) -> "7.0"
        POST /cloud/project/p1/database/mongodb {"description":"b","plan":"production","version":"7.0","nodesPattern":{"flavor":"db2-4","number":3,"region":"GRA"},"ipRestrictions":[{"ip":"203.0.113.0/24","description":"office"}]}
    warning: DatabaseService/a spec.project: preflight skipped: the catalogue of project p1 could not be read (DatabaseService/a, DatabaseService/b not checked)
    "#);
}
