//! ManagedStackMysql: identity by pinned id, then by claiming in name order.

use super::*;

fn live_with(stacks: Vec<LiveStack>) -> LiveState {
    let mut live = LiveState::default();
    *stacks_in(&mut live) = stacks;
    live
}

#[test]
fn unpinned_manifests_claim_the_oldest_matching_stacks_in_name_order() {
    let manifests = manifests(vec![
        stack("analytics", |s| s.nodes = Some(3)),
        stack("blog", |_| {}),
        stack("cache", |s| s.flavor = "ra.l".into()),
    ]);
    let live = live_with(vec![
        live_stack(
            "s-new",
            "SBG-1",
            "ra.s",
            3,
            "5.6",
            "2025-03-01T00:00:00+00:00",
        ),
        live_stack(
            "s-old",
            "SBG-1",
            "ra.s",
            3,
            "5.6",
            "2025-01-01T00:00:00+00:00",
        ),
        live_stack(
            "s-one",
            "SBG-1",
            "ra.s",
            1,
            "5.6",
            "2025-02-01T00:00:00+00:00",
        ),
        live_stack(
            "s-bhs",
            "BHS-1",
            "ra.l",
            1,
            "5.5",
            "2024-01-01T00:00:00+00:00",
        ),
    ]);
    // analytics (3 nodes) takes the oldest 3-node stack, blog (any) the oldest left; cache
    // (ra.l in SBG-1) matches nothing and is created; the rest is unmanaged.
    check!(manifests, live, @r#"
        + ManagedStackMysql/cache (wave 0)
            spec.flavor: (none) -> "ra.l"
            spec.region: (none) -> "SBG-1"
            POST /stackMysql {"region":"SBG-1","flavor":"ra.l"}
        unchanged: ManagedStackMysql/analytics, ManagedStackMysql/blog
        unmanaged: ManagedStackMysql s-bhs (BHS-1 ra.l x1 mysql 5.5) in managed MySQL stacks
        unmanaged: ManagedStackMysql s-new (SBG-1 ra.s x3 mysql 5.6) in managed MySQL stacks
        "#);
}

#[test]
fn pinned_stack_is_matched_by_id_and_replaced_when_a_field_changes() {
    let manifests = manifests(vec![
        stack("main", |s| {
            s.id = Some("s-main".into());
            s.flavor = "ra.m".into();
            s.version = Some("5.6".into());
        }),
        stack("replica", |s| s.id = Some("s-replica".into())),
    ]);
    let live = live_with(vec![
        live_stack(
            "s-main",
            "SBG-1",
            "ra.s",
            1,
            "5.5",
            "2025-01-01T00:00:00+00:00",
        ),
        live_stack(
            "s-replica",
            "sbg-1",
            "ra.s",
            1,
            "5.6",
            "2025-01-02T00:00:00+00:00",
        ),
    ]);
    check!(manifests, live, @r#"
        -/+ ManagedStackMysql/main (wave 0; id s-main; forced by spec.flavor, spec.version)
            spec.flavor: "ra.s" -> "ra.m"  # forces replace
            spec.version: "5.5" -> "5.6"  # forces replace
            DELETE /stackMysql/s-main
            POST /stackMysql {"region":"SBG-1","flavor":"ra.m","version":"5.6"}
        unchanged: ManagedStackMysql/replica
        "#);
}

#[test]
fn pinned_id_that_is_gone_falls_back_to_claiming_with_a_warning() {
    let manifests = manifests(vec![
        stack("main", |s| s.id = Some("s-replaced".into())),
        stack("other", |s| {
            s.id = Some("s-gone".into());
            s.region = "BHS-1".into();
        }),
    ]);
    let live = live_with(vec![live_stack(
        "s-new",
        "SBG-1",
        "ra.s",
        1,
        "5.6",
        "2025-01-01T00:00:00+00:00",
    )]);
    check!(manifests, live, @r#"
        + ManagedStackMysql/other (wave 0)
            spec.flavor: (none) -> "ra.s"
            spec.region: (none) -> "BHS-1"
            POST /stackMysql {"region":"BHS-1","flavor":"ra.s"}
        unchanged: ManagedStackMysql/main
        warning: ManagedStackMysql/main spec.id: stack s-replaced does not exist; matched stack s-new (same region, flavor, nodes and version): set spec.id to it
        warning: ManagedStackMysql/other spec.id: stack s-gone does not exist; a new stack will be created: set spec.id to its id afterwards
        "#);
}

#[test]
fn prune_deletes_unclaimed_stacks_and_deleting_ones_are_absent() {
    let manifests = manifests(vec![stack("main", |_| {})]);
    let mut leaving = live_stack(
        "s-leaving",
        "SBG-1",
        "ra.s",
        1,
        "5.6",
        "2024-01-01T00:00:00+00:00",
    );
    leaving.status = "deleting".into();
    let live = live_with(vec![
        leaving,
        live_stack(
            "s-main",
            "SBG-1",
            "ra.s",
            1,
            "5.6",
            "2025-01-01T00:00:00+00:00",
        ),
        live_stack(
            "s-extra",
            "BHS-1",
            "ra.m",
            3,
            "5.5",
            "2025-01-02T00:00:00+00:00",
        ),
    ]);
    check!(manifests, live, prune(), @r"
        - ManagedStackMysql/s-extra (wave 0; id s-extra; no manifest names it)
            DELETE /stackMysql/s-extra
        unchanged: ManagedStackMysql/main
        ");
}

#[test]
fn two_manifests_pinning_one_stack_are_an_error() {
    let manifests = manifests(vec![
        stack("a", |s| s.id = Some("s-1".into())),
        stack("b", |s| s.id = Some("s-1".into())),
    ]);
    let live = live_with(vec![live_stack(
        "s-1",
        "SBG-1",
        "ra.s",
        1,
        "5.6",
        "2025-01-01T00:00:00+00:00",
    )]);
    check!(manifests, live, @r"
        no changes
        unchanged: ManagedStackMysql/a
        unknown: managed MySQL stacks: stack named by more than one manifest [ManagedStackMysql/b]
        error: ManagedStackMysql/b spec.id: stack s-1 is already named by ManagedStackMysql/a
        ");
}

#[test]
fn unknown_stack_listing_plans_nothing() {
    let manifests = manifests(vec![stack("main", |_| {})]);
    let mut live = LiveState::default();
    live.scopes.insert(
        Scope::StackMysql,
        ScopeState::Unknown {
            reason: "GET /stackMysql: 401 Unauthorized".into(),
        },
    );
    check!(manifests, live, prune(), @r"
        no changes
        unknown: managed MySQL stacks: GET /stackMysql: 401 Unauthorized [ManagedStackMysql/main]
        ");
}
