//! Manifests: YAML documents under a directory -> a validated `ManifestSet`. Pure apart from
//! reading the files (and checking that secret files exist); `yaml` is the only module that
//! touches the YAML crate.
//!
//! The pipeline, each stage collecting diagnostics rather than stopping:
//! `load` (files, documents, envelope) -> `yaml` (located trees) -> `schema` (fields, types,
//! `${VAR}`, against the JSON Schema of `model`) -> serde into `model` -> `validate` (rules
//! across fields and documents). `docs/manifests.md` is the user's reference.
//!
//! Architecture invariant: validation never touches the network; `reconcile validate` and the
//! first stage of `plan` make no API call when the manifests are invalid.

pub mod diagnostic;
mod env;
mod load;
pub mod model;
mod schema;
pub(crate) mod validate;
mod yaml;

pub use diagnostic::{Diagnostic, Diagnostics};
pub use load::DEFAULTS_FILE;
pub use model::*;

use std::path::Path;

/// Reads and validates the manifests at `path`: a directory (walked recursively for `*.yaml`
/// and `*.yml`, hidden entries skipped, `reconcile.yaml` at its root read as the defaults) or
/// one file (with a `reconcile.yaml` beside it, if any). `${VAR}` is read from `env`.
///
/// `Ok` has every resource sorted by address, defaults applied, secret file paths resolved;
/// `Err` has every problem found, each at a file:line:column with its field and a hint.
pub fn load(path: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<ManifestSet, Diagnostics> {
    load::load(path, env)
}

/// The JSON Schema of a manifest document (and of reconcile.yaml), for `reconcile schema`.
pub fn json_schema() -> serde_json::Value {
    schema::json_schema()
}
