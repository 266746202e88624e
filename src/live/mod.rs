//! Reading the live state the manifests touch, through `ovh::Client`: every scope read
//! concurrently under the client's rate limit, N+1 list/get where the API forces it, and a
//! failed read recorded as an unknown scope rather than an empty one.

pub mod model;

pub use model::*;
