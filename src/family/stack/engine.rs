//! RunAbove managed MySQL stack steps, on RunAbove's API (`Step::client` is
//! `Client::for_api(&RUNABOVE)` for this kind, through `Family::api`).
//!
//! Identity is the planner's rule, `family::stack::claims`, run again on the live listing: first
//! for the manifests this plan does not create (with the clusters already taken by this run's
//! other stack steps out of reach), then for this step's manifest. A cluster claimed is
//! adopted; none means `POST /stackMysql`. The create answers no id
//! (`{"msg": "cluster created"}`), so the same lookup runs after it and finds the new cluster:
//! before the `POST` no free cluster matched, and stack creates run one at a time (lookup,
//! `POST`, lookup), so the only free match afterwards is the one just created. A cluster
//! created by a killed run is adopted by exactly one manifest when the plan runs again.
//!
//! Ready: `GET /stackMysql/{id}` until `active` is true. Deleted: `GET /stackMysql/{id}` until
//! 404.

use crate::engine::readiness::{observe, Observation};
use crate::engine::step::{get_if_present, Creation, Lookup, Step, StepEnd, StepResult};
use crate::family::stack::{claimants, claims, stack_path, Call, STACKS_PATH};
use crate::family::Operation;
use crate::live::{mapping, LiveStack};
use crate::manifest::model::{Address, ManagedStackMysqlSpec, ManifestSet, Spec};
use crate::ovh::{Client, Method};
use crate::plan::Plan;
use futures::future::try_join_all;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// Its default waits, before the run's budget cuts them (Terraform's timeouts, as the database
/// family's `Deadlines` says).
pub(crate) struct Deadlines;

impl Deadlines {
    /// A managed MySQL stack (create, delete).
    pub const STACK: Duration = Duration::from_secs(20 * 60);
}

/// Every listed cluster, in the listing's order (the claim order).
async fn live_stacks(client: &Client) -> StepResult<Vec<LiveStack>> {
    let list = STACKS_PATH;
    let what = "looking up the managed mysql stacks";
    let answer = client
        .call(Method::GET, list, None)
        .await
        .map_err(|err| StepEnd::api(what, &err))?;
    let ids = mapping::product_ids(&answer.body).ok_or_else(|| {
        StepEnd::failed(format!(
            "GET {list} answered something other than {{\"products\": [{{\"id\"}}]}}"
        ))
    })?;
    let answers = try_join_all(ids.into_iter().map(|id| async move {
        let answer = get_if_present(client, &stack_path(&id), "the managed mysql stacks").await?;
        Ok(answer.and_then(|answer| mapping::stack(id, answer).ok()))
    }))
    .await?;
    Ok(answers.into_iter().flatten().collect())
}

/// Which live cluster each stack manifest stands for, by the planner's rule.
pub(crate) fn planner_claims<'s, 'm>(
    stacks: &'s [LiveStack],
    manifests: &'m ManifestSet,
) -> BTreeMap<&'m Address, &'s LiveStack> {
    claims(
        stacks,
        &claimants(&manifests.resources),
        &mut BTreeSet::new(),
    )
}

/// What the stack steps of one run share (`Family::run_state`).
#[derive(Debug, Default)]
pub(crate) struct RunState {
    /// Stack creates run one at a time (lookup then `POST`), and the ids taken by this run's
    /// stack steps are not claimable by another.
    taken: tokio::sync::Mutex<BTreeSet<String>>,
    /// The stack manifests this plan creates (their claims are being decided in this run).
    creates: BTreeSet<Address>,
}

impl RunState {
    pub(crate) fn new(plan: &Plan) -> Self {
        RunState {
            taken: tokio::sync::Mutex::new(BTreeSet::new()),
            creates: planned_creates(plan),
        }
    }

    /// The stack manifests the run's plan creates.
    #[cfg(test)]
    pub(crate) fn creates(&self) -> &BTreeSet<Address> {
        &self.creates
    }
}

/// The stack manifests `plan` creates (`POST /stackMysql`): a run keeps them out of the
/// claims of its other stack steps.
pub(crate) fn planned_creates(plan: &Plan) -> BTreeSet<Address> {
    plan.changes
        .iter()
        .filter(|c| {
            c.calls
                .iter()
                .any(|call| matches!(call, Operation::Stack(Call::Create { .. })))
        })
        .map(|c| c.address.clone())
        .collect()
}

/// The cluster `me` stands for, if any: the rule run first for the manifests this plan does
/// not create (`creating`), with the clusters this run took (`taken`) out of reach; then for
/// `me`.
fn claim<'s>(
    stacks: &'s [LiveStack],
    manifests: &ManifestSet,
    me: (&Address, &ManagedStackMysqlSpec),
    creating: &BTreeSet<Address>,
    taken: &BTreeSet<String>,
) -> Option<&'s LiveStack> {
    let mut claimed = taken.clone();
    let others: Vec<_> = claimants(&manifests.resources)
        .into_iter()
        .filter(|(address, _)| *address != me.0 && !creating.contains(*address))
        .collect();
    claims(stacks, &others, &mut claimed);
    claims(stacks, &[me], &mut claimed).into_values().next()
}

/// Executes one planned stack call (module doc).
pub(crate) async fn execute(
    step: &mut Step<'_, '_>,
    call: &Call,
    body: Option<Value>,
) -> StepResult<()> {
    match call {
        Call::Create { .. } => create(step, body).await,
        Call::Delete { id } => delete(step, id).await,
    }
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
    // One stack create at a time, from lookup to the lookup after the POST: claims stay
    // one-to-one and the new cluster is the only free match.
    let state = run
        .family_state::<RunState>()
        .ok_or_else(|| StepEnd::failed("the run keeps no state for its stack steps"))?;
    let mut taken = state.taken.lock().await;
    let snapshot = taken.clone();
    let lookup = || {
        let taken = &snapshot;
        Box::pin(async move {
            let stacks = live_stacks(client).await?;
            let found = claim(
                &stacks,
                run.manifests,
                (address, spec),
                &state.creates,
                taken,
            );
            Ok(match found {
                Some(stack) => Lookup::Present((stack.id.clone(), stack.active)),
                None => Lookup::Absent,
            })
        }) as futures::future::BoxFuture<'_, StepResult<Lookup<(String, bool)>>>
    };
    let creation = step
        .create_once(
            "the mysql stack",
            STACKS_PATH,
            body.as_ref(),
            Deadlines::STACK,
            &lookup,
        )
        .await?;
    let (id, active) = match creation {
        Creation::Found((id, active)) | Creation::FoundAfterPost((id, active)) => {
            step.adopt(&id);
            (id, active)
        }
        Creation::Created(_) => match lookup().await? {
            Lookup::Present((id, active)) => {
                step.set_created(&id);
                (id, active)
            }
            _ => {
                return Err(StepEnd::failed(
                    "the stack was created (\"cluster created\") but GET /stackMysql lists no new cluster",
                ))
            }
        },
    };
    taken.insert(id.clone());
    drop(taken);
    match spec.id.filter(|pinned| pinned.to_string() != id) {
        Some(pinned) => step.warn(format!(
            "the manifest pins stack {pinned}, which no longer exists; its stack is now {id}: set `spec.id: {id}`"
        )),
        None if spec.id.is_none() => step.warn(format!(
            "stack {id} has no name on RunAbove: pin it with `spec.id: {id}`"
        )),
        None => {}
    }
    wait_active(step, &id, active).await
}

/// `GET /stackMysql/{id}` until `active` is true.
pub(crate) async fn wait_active(step: &Step<'_, '_>, id: &str, active: bool) -> StepResult<()> {
    let client = step.client();
    let path = stack_path(id);
    let initial = if active { "active" } else { "inactive" };
    step.poll("active")
        .until(&format!("stack {id}"), Deadlines::STACK, initial, || {
            observe(
                client,
                step.answers(),
                &path,
                || Observation::Unexpected("gone (404)".into()),
                |answer| match answer.get("active").and_then(Value::as_bool) {
                    Some(true) => Observation::Ready(answer),
                    Some(false) => Observation::Pending("inactive".into()),
                    None => Observation::Unexpected(format!("no `active` in {answer}")),
                },
            )
        })
        .await
        .map(|_| ())
}

pub(crate) async fn delete(step: &mut Step<'_, '_>, id: &str) -> StepResult<()> {
    let path = stack_path(id);
    let what = format!("stack {id}");
    if step.delete(&what, &path, Deadlines::STACK).await?.is_none() {
        return Ok(());
    }
    // A cluster answer has no `status` (`""`): any answer means "still there".
    step.wait_gone(&what, &path, Deadlines::STACK, "deleting", &[""])
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::model::{Kind, Resource, Span};

    fn stack(id: &str, nodes: u32) -> LiveStack {
        LiveStack {
            id: id.into(),
            nodes,
            active: true,
            raw: Value::Null,
        }
    }

    fn manifest(name: &str, nodes: Option<u32>, id: Option<u64>) -> Resource {
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
            spec: Spec::ManagedStackMysql(ManagedStackMysqlSpec { id, nodes }),
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
        let stacks = vec![stack("1001", 2), stack("1002", 2), stack("1003", 2)];
        let a = manifest("a", None, None);
        let b = manifest("b", None, None);
        let pinned = manifest("p", None, Some(1001));
        let set = ManifestSet {
            resources: vec![a.clone(), b.clone(), pinned],
            ..ManifestSet::default()
        };
        // a is settled (claims 1002, after p's pinned 1001); b is being created: 1003 is its.
        let creating = BTreeSet::from([b.address.clone()]);
        let none = BTreeSet::new();
        let found = claim(&stacks, &set, (&b.address, spec(&b)), &creating, &none);
        assert_eq!(found.map(|s| s.id.as_str()), Some("1003"));
        // Taken by another step of this run: nothing left, b creates.
        let taken = BTreeSet::from(["1003".to_owned()]);
        assert!(claim(&stacks, &set, (&b.address, spec(&b)), &creating, &taken).is_none());
        // Another node count matches nothing.
        let c = manifest("c", Some(3), None);
        assert!(claim(&stacks, &set, (&c.address, spec(&c)), &creating, &none).is_none());
    }
}
