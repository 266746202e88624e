//! Manifests: YAML documents under a directory -> a validated `ManifestSet`. Pure apart from
//! reading the files; `yaml` is the only module that touches the YAML crate.

pub mod model;

pub use model::*;
