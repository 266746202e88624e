//! `reconcile validate DIR`: parse and validate the manifests offline; every problem at once,
//! each with file:line:column, the field and a hint. No network.

use super::{ExitStatus, GlobalArgs};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Directory of manifests (*.yaml, *.yml, walked recursively), or one file
    pub dir: PathBuf,
}

pub async fn run(_global: &GlobalArgs, _args: ValidateArgs) -> anyhow::Result<ExitStatus> {
    anyhow::bail!("validate: work in progress")
}
