//! The plan: what differs between the manifests and the live API, and the exact calls that
//! would make them equal. One value serves `plan`, `drift` and `apply`; it is rendered as text,
//! JSON or Markdown and saved with `--out`.

pub use crate::family::Operation;
use crate::live::Scope;
use crate::manifest::model::Address;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The format version of a saved plan (`--out plan.json`).
pub const PLAN_FORMAT: &str = "reconcile-plan/1";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// Changes in execution order: by wave, then by address.
    pub changes: Vec<Change>,
    /// Resources whose live object already matches.
    pub unchanged: Vec<Address>,
    /// Live objects in a managed scope that no manifest names (never deleted without `--prune`).
    pub unmanaged: Vec<Unmanaged>,
    /// Scopes that could not be read: nothing is created or deleted there.
    pub unknown: Vec<UnknownScope>,
    /// Live objects sharing a managed object's identity (two services described the same, two
    /// users with one username): the oldest is managed, these are listed (deleted under
    /// `--prune`). Absent from the JSON when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub duplicates: Vec<Duplicate>,
    /// Managed objects the API is still working on (`CREATING`, `UPDATING`, `PENDING`,
    /// `DELETING`, a hosting task): apply waits for them; not converged yet. Absent from the
    /// JSON when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub in_progress: Vec<InProgress>,
    /// Lifecycle and other warnings (deprecated versions, end of sale, ...).
    pub warnings: Vec<Finding>,
    /// Preflight failures (offer not in the catalogue, ...): the plan cannot be applied.
    pub errors: Vec<Finding>,
    /// A digest of every live object the plan was based on, by object key (e.g.
    /// `database/{project}/{engine}/{id}`; see `plan::live_digests` for every key), for
    /// apply's stale-plan guard (`plan::stale_keys`).
    pub digests: BTreeMap<String, String>,
}

impl Plan {
    /// Counts for the last line: (create, update, delete); a replace counts as one create and
    /// one delete, like Terraform.
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut counts = (0, 0, 0);
        for change in &self.changes {
            match change.action {
                Action::Create => counts.0 += 1,
                Action::Update => counts.1 += 1,
                Action::Replace { .. } => {
                    counts.0 += 1;
                    counts.2 += 1
                }
                Action::Delete { .. } => counts.2 += 1,
            }
        }
        counts
    }

    /// True when applying would change something (drift).
    pub fn has_changes(&self) -> bool {
        !self.changes.is_empty()
    }

    /// True when the live state is not settled yet: changes to make, or managed objects the
    /// API is still working on (what `--detailed-exitcode` exits 2 for).
    pub fn is_unsettled(&self) -> bool {
        self.has_changes() || !self.in_progress.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    pub address: Address,
    pub action: Action,
    /// 0-based wave: every change in a wave can run in parallel once earlier waves are done
    /// (creates parent-first, deletes child-first).
    pub wave: usize,
    /// Changed fields only, `old -> new`.
    pub fields: Vec<FieldChange>,
    /// The exact calls apply would send, bodies redacted: typed operations of the change's
    /// family, serialized as `{"method", "path", "body"}` (`family::Operation`).
    pub calls: Vec<Operation>,
    /// The live object's id, when there is one (update, replace, delete).
    pub live_id: Option<String>,
    /// Addresses this change waits for.
    pub depends_on: Vec<Address>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Action {
    Create,
    Update,
    /// Delete then create: `forced_by` names the fields that cannot change in place.
    Replace {
        forced_by: Vec<String>,
    },
    /// Only under `--prune`; `reason` says why (no manifest names it, ...).
    Delete {
        reason: String,
    },
}

impl Action {
    /// `+`, `~`, `-/+`, `-`.
    pub fn symbol(&self) -> &'static str {
        match self {
            Action::Create => "+",
            Action::Update => "~",
            Action::Replace { .. } => "-/+",
            Action::Delete { .. } => "-",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldChange {
    /// Dotted path in manifest terms, e.g. `spec.nodes.flavor`, `spec.ipRestrictions`.
    pub path: String,
    /// `None` when the field is being added.
    pub old: Option<Value>,
    /// `None` when the field is being removed.
    pub new: Option<Value>,
    /// Shown as `(sensitive)`, never its value.
    pub sensitive: bool,
    /// This field forces a replace.
    pub forces_replace: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Unmanaged {
    pub kind: crate::manifest::model::Kind,
    pub scope: Scope,
    /// The live id (service id, domain, database name, stack id).
    pub id: String,
    /// A human label (a service's description, a username, ...).
    pub label: String,
}

/// A live object with the identity of a managed one, younger than it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Duplicate {
    pub kind: crate::manifest::model::Kind,
    pub scope: Scope,
    /// The duplicate's live id.
    pub id: String,
    /// Its creation time as the API shows it (empty when the API shows none).
    pub created_at: String,
    /// The manifest resource whose managed object it duplicates.
    pub of: Address,
    /// The managed object's id and creation time.
    pub of_id: String,
    pub of_created_at: String,
}

/// A managed object the API is still working on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InProgress {
    pub address: Address,
    /// The live id (service or user id, domain, database name, stack id).
    pub id: String,
    /// The status as the API shows it (`CREATING`, `creating`, `ipRestrictions PENDING`, ...).
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnknownScope {
    pub scope: Scope,
    pub reason: String,
    /// The resources whose plan could not be decided.
    pub affected: Vec<Address>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub address: Address,
    /// Manifest field, e.g. `spec.version`.
    pub field: String,
    pub message: String,
}

/// Options that change what is planned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanOptions {
    /// Plan deletes of unmanaged objects in managed scopes.
    pub prune: bool,
}
