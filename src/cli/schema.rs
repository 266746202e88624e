//! `reconcile schema`: print the manifests' JSON Schema, generated from the types the parser
//! uses, for editors.

use super::{ExitStatus, GlobalArgs};

pub async fn run(_global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let schema = serde_json::to_string_pretty(&crate::manifest::json_schema())?;
    println!("{schema}");
    Ok(ExitStatus::Success)
}
