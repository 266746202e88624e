//! Desired (manifests) vs live -> `Plan`: normalise, diff, order into waves, list the calls.
//! Pure: no IO. The same code path serves plan, drift and apply.

pub mod model;
pub mod render;

pub use model::*;
