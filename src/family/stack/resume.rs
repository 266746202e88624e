//! Resuming a managed MySQL stack (`engine::resume`): the cluster a manifest claims (the
//! planner's rule) while it is not yet `active`.

use super::engine::{planner_claims, wait_active};
use crate::engine::resume::known;
use crate::engine::step::{Step, StepResult};
use crate::live::{LiveScope, LiveState, Scope};
use crate::manifest::model::{Address, ManifestSet, Spec};

/// What to wait for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resume {
    Stack { id: String, status: String },
}

impl Resume {
    pub(crate) fn live_id(&self) -> &str {
        match self {
            Resume::Stack { id, .. } => id,
        }
    }

    pub(crate) async fn wait(&self, step: &mut Step<'_, '_>) -> StepResult<()> {
        match self {
            Resume::Stack { id, .. } => wait_active(step, id, false).await,
        }
    }
}

/// The wait for the cluster `address` claims, when it is not active yet.
pub(super) fn resume_for(
    address: &Address,
    spec: &Spec,
    manifests: &ManifestSet,
    live: &LiveState,
    _id: Option<&str>,
) -> Option<Resume> {
    match spec {
        Spec::ManagedStackMysql(_) => {
            let LiveScope::StackMysql { stacks } = known(live, &Scope::StackMysql)? else {
                return None;
            };
            let claims = planner_claims(stacks, manifests);
            let found = claims.get(address)?;
            (!found.active).then(|| Resume::Stack {
                id: found.id.clone(),
                status: "inactive".into(),
            })
        }
        _ => None,
    }
}
