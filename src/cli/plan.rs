//! `reconcile plan DIR`: validate, read the live state the manifests touch, print what differs.

use super::client::ClientArgs;
use super::{ExitStatus, GlobalArgs};
use clap::{Args, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Directory of manifests (*.yaml, *.yml, walked recursively), or one file
    pub dir: PathBuf,

    /// Output format; all three carry the same content
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Also save the plan as JSON, with a digest of every live object it was based on (for
    /// `reconcile apply plan.json`)
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// List the exact HTTP calls apply would make (method, path, redacted body)
    #[arg(long)]
    pub show_calls: bool,

    /// Exit 2 when there are changes (0 when none, 1 on error)
    #[arg(long)]
    pub detailed_exitcode: bool,

    /// Also plan deletes of live objects no manifest names, in the scopes the manifests manage
    #[arg(long)]
    pub prune: bool,

    #[command(flatten)]
    pub client: ClientArgs,
}

pub async fn run(_global: &GlobalArgs, _args: PlanArgs) -> anyhow::Result<ExitStatus> {
    anyhow::bail!("plan: work in progress")
}
