//! `reconcile schema`: print the manifests' JSON Schema, generated from the types the parser
//! uses, for editors.

use super::{ExitStatus, GlobalArgs};

pub async fn run(_global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    anyhow::bail!("schema: work in progress")
}
