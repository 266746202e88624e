//! Reading the live state the manifests touch, through `ovh::Client`: every scope read
//! concurrently under the client's rate limit, N+1 list/get where the API forces it, and a
//! transiently failed read recorded as an unknown scope rather than an empty one (any other
//! failure ends the read: `ReadFailure`).
//!
//! - `model`: `LiveState` and the `Live*` types the planner compares against;
//! - `read`: `scopes` (what the manifests touch) and `read` (all of it, bounded and counted);
//! - `answers`: one apply run's answers by path, so the verification read asks only for what
//!   the run changed;
//! - each family's read lives in its folder (`family::<family>::live`: the read of one scope
//!   and its pure mapping from API answers to `Live*` values), reached through
//!   `family::Family::read_scope`; `mapping` re-exports the mappings.

pub mod answers;
pub(crate) mod fields;
pub mod model;
pub(crate) mod read;

pub use answers::Answers;
pub use model::*;
pub use read::{read, read_for, read_to_verify, read_with, scopes, ReadError, ReadFailure};

/// Pure mappings from API answers to `Live*` values, for code that reads one object again
/// (apply's verification) without a whole scope.
pub mod mapping {
    pub use crate::family::database::live::{catalogue, live_service, live_user, offer};
    pub use crate::family::hosting::live::{attached_domain, hosting_database, primary_login, ssl};
    pub use crate::family::stack::live::{product_ids, stack};
}
