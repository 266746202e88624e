//! RunAbove managed MySQL stack steps.
//!
//! Identity follows the planner's rule (`plan::stack`): a stack has no name, so before a create
//! the stacks are listed and claimed again, deterministically: manifests this plan does not
//! create first (a pinned `spec.id` claims that stack; the others, in name order, claim the
//! oldest unclaimed stack with the same region, flavor, nodes and version), and the stacks
//! already taken by this run's other stack steps are out. The oldest matching stack left is
//! adopted; none means `POST`. Stack creates run one at a time (lookup, then `POST`), so two
//! manifests with the same attributes never adopt the same stack, and a stack created by a
//! killed run is adopted by exactly one manifest when the plan runs again.
//!
//! Ready: `GET /stackMysql/{id}/status` until `running` (`creating` on the way; anything else
//! fails). Deleted: `GET /stackMysql/{id}` until 404.

use super::readiness::{observe, Deadlines, Observation};
use super::step::{status_of, Creation, Lookup, Step, StepEnd, StepResult};
use super::target::Target;
use crate::live::{mapping, LiveStack};
use crate::manifest::model::{Address, ManagedStackMysqlSpec, ManifestSet, Spec};
use crate::ovh::{Client, Method};
use futures::future::try_join_all;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Every live stack not on its way out, oldest first (the claim order).
async fn live_stacks(client: &Client) -> StepResult<Vec<LiveStack>> {
    let list = Target::Stacks.path();
    let what = "the managed mysql stacks";
    let answer = client
        .call(Method::GET, &list, None)
        .await
        .map_err(|err| StepEnd::api(&format!("looking up {what}"), &err))?;
    let ids: Vec<String> = answer
        .body
        .as_array()
        .map(|ids| {
            ids.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let answers = try_join_all(ids.iter().map(|id| async move {
        let path = Target::Stack { id: id.clone() }.path();
        match client.call(Method::GET, &path, None).await {
            Ok(answer) => Ok(Some(answer.body)),
            Err(err) if err.is_not_found() => Ok(None),
            Err(err) => Err(StepEnd::api(&format!("looking up {what}"), &err)),
        }
    }))
    .await?;
    let mut stacks: Vec<LiveStack> = answers
        .into_iter()
        .flatten()
        .filter_map(|raw| mapping::stack(raw).ok())
        .filter(|s| !s.status.eq_ignore_ascii_case("deleting"))
        .collect();
    stacks.sort_by(|a, b| (&a.created_at, &a.id).cmp(&(&b.created_at, &b.id)));
    Ok(stacks)
}

/// Whether a live stack has the manifest's attributes (an omitted one matches any value).
fn matches(spec: &ManagedStackMysqlSpec, live: &LiveStack) -> bool {
    let region = |r: &str| r.trim().to_ascii_uppercase();
    region(&spec.region) == region(&live.region)
        && spec.flavor == live.flavor
        && spec.nodes.is_none_or(|n| n == live.nodes)
        && spec.version.as_deref().is_none_or(|v| v == live.version)
}

/// The planner's claim rule over `stacks` for `claimants`: a pinned `spec.id` claims that
/// stack; the others (and pinned ones whose stack is gone), in name order, claim the oldest
/// unclaimed stack with their attributes. `claimed` starts with stacks out of reach.
fn claim_all<'s, 'm>(
    stacks: &'s [LiveStack],
    claimants: Vec<(&'m Address, &'m ManagedStackMysqlSpec)>,
    claimed: &mut BTreeSet<String>,
) -> BTreeMap<&'m Address, &'s LiveStack> {
    let mut claims = BTreeMap::new();
    let mut unpinned = Vec::new();
    for (address, spec) in claimants {
        let pinned = spec.id.as_deref().and_then(|id| {
            stacks
                .iter()
                .find(|s| s.id == id && !claimed.contains(&s.id))
        });
        match pinned {
            Some(stack) => {
                claimed.insert(stack.id.clone());
                claims.insert(address, stack);
            }
            None => unpinned.push((address, spec)),
        }
    }
    unpinned.sort_by(|a, b| a.0.cmp(b.0));
    for (address, spec) in unpinned {
        if let Some(stack) = stacks
            .iter()
            .find(|s| !claimed.contains(&s.id) && matches(spec, s))
        {
            claimed.insert(stack.id.clone());
            claims.insert(address, stack);
        }
    }
    claims
}

fn stack_manifests(manifests: &ManifestSet) -> Vec<(&Address, &ManagedStackMysqlSpec)> {
    manifests
        .resources
        .iter()
        .filter_map(|r| match &r.spec {
            Spec::ManagedStackMysql(spec) => Some((&r.address, spec)),
            _ => None,
        })
        .collect()
}

/// Which live stack each stack manifest stands for, by the planner's rule (`stacks` oldest
/// first, none on its way out).
pub(crate) fn planner_claims<'s, 'm>(
    stacks: &'s [LiveStack],
    manifests: &'m ManifestSet,
) -> BTreeMap<&'m Address, &'s LiveStack> {
    claim_all(stacks, stack_manifests(manifests), &mut BTreeSet::new())
}

/// The stack `me` adopts, if any: the claim rule run first for the manifests this plan does
/// not create (`creating`), with the stacks this run took (`taken`) out of reach; then the
/// oldest matching stack left.
fn claim<'s>(
    stacks: &'s [LiveStack],
    manifests: &ManifestSet,
    me: (&Address, &ManagedStackMysqlSpec),
    creating: &BTreeSet<Address>,
    taken: &BTreeSet<String>,
) -> Option<&'s LiveStack> {
    let mut claimed = taken.clone();
    let others = stack_manifests(manifests)
        .into_iter()
        .filter(|(address, _)| *address != me.0 && !creating.contains(*address))
        .collect();
    claim_all(stacks, others, &mut claimed);
    stacks
        .iter()
        .find(|s| !claimed.contains(&s.id) && matches(me.1, s))
}

pub(crate) async fn create(step: &mut Step<'_, '_>, body: Option<Value>) -> StepResult<()> {
    let Some(Spec::ManagedStackMysql(spec)) = step.resource.map(|r| &r.spec) else {
        return Err(StepEnd::failed(
            "a stack is created only for a ManagedStackMysql manifest",
        ));
    };
    let run = step.run;
    let client = step.client();
    let address = step.address();
    // One stack create at a time, from lookup to POST: claims stay one-to-one.
    let mut taken = run.stacks.lock().await;
    let creation = {
        let snapshot = taken.clone();
        let lookup = || {
            let taken = &snapshot;
            Box::pin(async move {
                let stacks = live_stacks(client).await?;
                let found = claim(
                    &stacks,
                    run.manifests,
                    (address, spec),
                    &run.stack_creates,
                    taken,
                );
                Ok(match found {
                    Some(stack) => Lookup::Present((stack.id.clone(), stack.status.clone())),
                    None => Lookup::Absent,
                })
            }) as futures::future::BoxFuture<'_, StepResult<Lookup<(String, String)>>>
        };
        step.create_once(
            "the mysql stack",
            &Target::Stacks.path(),
            body.as_ref(),
            Deadlines::STACK,
            lookup,
        )
        .await?
    };
    let (id, status) = match creation {
        Creation::Found((id, status)) | Creation::FoundAfterPost((id, status)) => {
            step.adopt(&id);
            (id, status)
        }
        Creation::Created(answer) => {
            let id = answer
                .get("id")
                .and_then(Value::as_str)
                .ok_or_else(|| StepEnd::failed("the stack creation answered no id"))?
                .to_owned();
            step.set_created(&id);
            (id, status_of(&answer))
        }
    };
    taken.insert(id.clone());
    drop(taken);
    if let Some(pinned) = spec.id.as_deref().filter(|pinned| *pinned != id) {
        step.warn(format!(
            "the manifest pins stack {pinned}, which no longer exists; its stack is now {id}: set `spec.id: {id}`"
        ));
    }
    wait_running(step, &id, &status).await
}

/// `GET /stackMysql/{id}/status` until `running`.
pub(crate) async fn wait_running(step: &Step<'_, '_>, id: &str, initial: &str) -> StepResult<()> {
    let client = step.client();
    let path = format!("{}/status", Target::Stack { id: id.to_owned() }.path());
    step.poll("status")
        .until(&format!("stack {id}"), Deadlines::STACK, initial, || {
            observe(
                client,
                step.answers(),
                &path,
                || Observation::Unexpected("gone (404)".into()),
                |answer| match status_of(&answer).as_str() {
                    "running" => Observation::Ready(answer),
                    "creating" => Observation::Pending("creating".into()),
                    other => Observation::Unexpected(other.to_owned()),
                },
            )
        })
        .await
        .map(|_| ())
}

pub(crate) async fn delete(step: &mut Step<'_, '_>, id: &str) -> StepResult<()> {
    let path = Target::Stack { id: id.to_owned() }.path();
    let what = format!("stack {id}");
    match step.delete(&what, &path, Deadlines::STACK).await {
        Ok(None) => return Ok(()),
        Ok(Some(_)) => {}
        // Deleting twice is a 409 on RunAbove: the delete is under way, wait for it.
        Err(StepEnd::Failed {
            status: Some(409), ..
        }) => {}
        Err(end) => return Err(end),
    }
    step.wait_gone(&what, &path, Deadlines::STACK, "deleting", &["deleting"])
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::model::{Kind, Resource, Span};

    fn stack(id: &str, created_at: &str, flavor: &str) -> LiveStack {
        LiveStack {
            id: id.into(),
            region: "SBG-1".into(),
            flavor: flavor.into(),
            nodes: 1,
            version: "5.6".into(),
            status: "running".into(),
            created_at: created_at.into(),
            raw: Value::Null,
        }
    }

    fn manifest(name: &str, flavor: &str, id: Option<&str>) -> Resource {
        Resource {
            address: Address {
                kind: Kind::ManagedStackMysql,
                name: name.into(),
            },
            span: Span {
                file: "m.yaml".into(),
                line: 1,
                column: 1,
                offset: 0,
                len: 0,
            },
            spec: Spec::ManagedStackMysql(ManagedStackMysqlSpec {
                id: id.map(str::to_owned),
                region: "sbg-1".into(),
                flavor: flavor.into(),
                nodes: None,
                version: None,
            }),
        }
    }

    fn spec(r: &Resource) -> &ManagedStackMysqlSpec {
        match &r.spec {
            Spec::ManagedStackMysql(s) => s,
            _ => unreachable!(),
        }
    }

    #[test]
    fn claims_leave_out_stacks_of_settled_manifests_and_of_this_run() {
        let stacks = vec![
            stack("s1", "2025-01-01T00:00:00+00:00", "ra.s"),
            stack("s2", "2025-01-02T00:00:00+00:00", "ra.s"),
            stack("s3", "2025-01-03T00:00:00+00:00", "ra.s"),
        ];
        let a = manifest("a", "ra.s", None);
        let b = manifest("b", "ra.s", None);
        let pinned = manifest("p", "ra.s", Some("s1"));
        let set = ManifestSet {
            resources: vec![a.clone(), b.clone(), pinned],
            ..ManifestSet::default()
        };
        // a is settled (claims s2, after p's pinned s1); b is being created: s3 is its.
        let creating = BTreeSet::from([b.address.clone()]);
        let none = BTreeSet::new();
        let found = claim(&stacks, &set, (&b.address, spec(&b)), &creating, &none);
        assert_eq!(found.map(|s| s.id.as_str()), Some("s3"));
        // Taken by another step of this run: nothing left, b creates.
        let taken = BTreeSet::from(["s3".to_owned()]);
        assert!(claim(&stacks, &set, (&b.address, spec(&b)), &creating, &taken).is_none());
        // Another flavor matches nothing.
        let c = manifest("c", "ra.l", None);
        assert!(claim(&stacks, &set, (&c.address, spec(&c)), &creating, &none).is_none());
    }
}
