//! What the live API holds, as read for a plan: the scopes the manifests touch, each either
//! known (its objects) or unknown (the read failed: nothing may be created or deleted there).
//!
//! Values are kept as the API answered them (`raw`) plus the typed fields the planner compares;
//! normalisation (CIDR form, `@admin`, list order) is the planner's job, not the reader's.

//!
//! The scope types and each family's `Live*` values are defined with their family
//! (`crate::family`) and re-exported here, where the generic layers read them.

pub use crate::family::database::model::{
    Catalogue, LiveIpRestriction, LiveService, LiveUser, Offer, UsersState,
};
pub use crate::family::database::ANY_ENGINE;
pub use crate::family::hosting::model::{
    LiveAttachedDomain, LiveHosting, LiveHostingDatabase, LiveSsl,
};
pub use crate::family::stack::model::LiveStack;
pub use crate::family::{LiveScope, Scope};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Everything read for one plan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveState {
    pub scopes: BTreeMap<Scope, ScopeState>,
    /// The database catalogue of each project read (`availability`), for preflight checks;
    /// absent when it could not be read.
    pub catalogues: BTreeMap<String, Catalogue>,
    /// How many API calls the read made (for the benchmark and `-v`).
    pub calls: usize,
}

// A handful of these exist per plan; boxing would only add indirection to every match.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum ScopeState {
    Known(LiveScope),
    /// The read failed transiently (5xx, 429, timeout): the scope is unknown, never "empty".
    Unknown {
        reason: String,
    },
}
