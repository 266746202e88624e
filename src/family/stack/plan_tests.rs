//! ManagedStackMysql: identity by pinned id, then by claiming in name order, in the listing's
//! order.

use crate::plan::tests::*;

fn live_with(stacks: Vec<LiveStack>) -> LiveState {
    let mut live = LiveState::default();
    *stacks_in(&mut live) = stacks;
    live
}

#[test]
fn unpinned_manifests_claim_the_first_listed_matching_stacks_in_name_order() {
    let manifests = manifests(vec![
        stack("analytics", |s| s.nodes = Some(3)),
        stack("blog", |_| {}),
        stack("cache", |s| s.nodes = Some(3)),
    ]);
    let live = live_with(vec![
        live_stack("1001", 2),
        live_stack("1002", 3),
        live_stack("1003", 2),
    ]);
    // analytics (3 nodes) takes 1002, blog (any) the first left, 1001; cache (3 nodes) matches
    // nothing and is created with a body; 1003 is unmanaged.
    check!(manifests, live, @r#"
        + ManagedStackMysql/cache (wave 0)
            spec.nodes: (none) -> 3
            POST /stackMysql {"nodes":3}
        unchanged: ManagedStackMysql/analytics, ManagedStackMysql/blog
        unmanaged: ManagedStackMysql 1003 (mysql cluster of 2 nodes) in managed MySQL stacks
        "#);
}

#[test]
fn a_stack_without_nodes_is_created_with_no_body_as_the_guide_shows() {
    let manifests = manifests(vec![stack("main", |_| {})]);
    check!(manifests, live_with(vec![]), @r"
        + ManagedStackMysql/main (wave 0)
            POST /stackMysql
        ");
}

#[test]
fn pinned_stack_is_matched_by_id_and_replaced_when_nodes_change() {
    let manifests = manifests(vec![
        stack("main", |s| {
            s.id = Some(1002);
            s.nodes = Some(3);
        }),
        stack("replica", |s| s.id = Some(1001)),
    ]);
    let live = live_with(vec![live_stack("1001", 2), live_stack("1002", 2)]);
    check!(manifests, live, @r#"
        -/+ ManagedStackMysql/main (wave 0; id 1002; forced by spec.nodes)
            spec.nodes: 2 -> 3  # forces replace
            DELETE /stackMysql/1002
            POST /stackMysql {"nodes":3}
        unchanged: ManagedStackMysql/replica
        "#);
}

#[test]
fn pinned_id_that_is_gone_falls_back_to_claiming_with_a_warning() {
    let manifests = manifests(vec![
        stack("main", |s| s.id = Some(1001)),
        stack("other", |s| {
            s.id = Some(1000);
            s.nodes = Some(3);
        }),
    ]);
    let live = live_with(vec![live_stack("1005", 2)]);
    check!(manifests, live, @r#"
        + ManagedStackMysql/other (wave 0)
            spec.nodes: (none) -> 3
            POST /stackMysql {"nodes":3}
        unchanged: ManagedStackMysql/main
        warning: ManagedStackMysql/main spec.id: stack 1001 does not exist; matched stack 1005 (same node count): set spec.id to it
        warning: ManagedStackMysql/other spec.id: stack 1000 does not exist; a new stack will be created: set spec.id to its id afterwards
        "#);
}

#[test]
fn a_pin_wins_over_an_earlier_name_and_prune_deletes_unclaimed_stacks() {
    // "a" (unpinned) comes first by name, yet "b"'s pin takes 1001 before any claim.
    let manifests = manifests(vec![stack("a", |_| {}), stack("b", |s| s.id = Some(1001))]);
    let live = live_with(vec![
        live_stack("1001", 2),
        live_stack("1002", 2),
        live_stack("1003", 3),
    ]);
    check!(manifests, live, prune(), @r"
        - ManagedStackMysql/1003 (wave 0; id 1003; no manifest names it)
            DELETE /stackMysql/1003
        unchanged: ManagedStackMysql/a, ManagedStackMysql/b
        ");
}

#[test]
fn two_manifests_pinning_one_stack_are_an_error() {
    let manifests = manifests(vec![
        stack("a", |s| s.id = Some(1001)),
        stack("b", |s| s.id = Some(1001)),
    ]);
    let live = live_with(vec![live_stack("1001", 2)]);
    check!(manifests, live, @r"
        no changes
        unchanged: ManagedStackMysql/a
        unknown: managed MySQL stacks: stack named by more than one manifest [ManagedStackMysql/b]
        error: ManagedStackMysql/b spec.id: stack 1001 is already named by ManagedStackMysql/a
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
