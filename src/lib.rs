//! reconcile: reconcile OVHcloud managed data services with YAML manifests.
//!
//! The binary (`src/main.rs`) is a thin shell over these modules; see `docs/ARCHITECTURE.md`.

pub mod apply;
pub mod cli;
pub mod engine;
pub mod family;
pub mod live;
pub mod manifest;
pub mod ovh;
pub mod plan;
pub mod report;
pub use reconcile_sandbox as sandbox;
