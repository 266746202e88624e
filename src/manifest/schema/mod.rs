//! The manifests' JSON Schema, in three jobs, one file each: `generate` (the schema, by
//! schemars from the model types), `compile` (the schema turned once into the rules a check
//! follows) and `check` (a located YAML tree against those rules, with diagnostics).
//!
//! One source of truth: `reconcile schema` prints this schema for editors, and `load` checks
//! every document against the very same schema (known fields, required fields, types, enums,
//! minimums), reporting each problem at its key or value, then hands serde the checked value to
//! deserialize into the same types. Rules a schema cannot say well (references, uniqueness,
//! secrets on disk) are in `validate.rs`, and each kind's own (CIDRs, ...) in its family's
//! `spec.rs`, called through it.

mod check;
mod compile;
mod generate;

pub use check::{quoted_list, Checker};
pub use generate::json_schema;
