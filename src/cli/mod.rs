//! Command-line flags -> validated settings, and one file per command.
//!
//! Two stages, as in ripgrep: clap parses flags into `Cli`, then each command turns its flags
//! into settings and runs. Every command returns an `ExitStatus`; `main` only maps it to the
//! process exit code (the table in `docs/commands.md`).

pub mod api;
pub mod apply;
pub mod client;
pub mod drift;
pub mod plan;
pub mod progress;
pub mod sandbox;
pub mod schema;
pub mod validate;

use clap::{ArgAction, Parser, Subcommand};

/// Reconcile OVHcloud managed data services (Public Cloud databases, Web Hosting) with YAML
/// manifests kept in Git.
#[derive(Debug, Parser)]
#[command(name = "reconcile", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes.
#[derive(Debug, clap::Args)]
pub struct GlobalArgs {
    /// API endpoint: a region name (ovh-eu, ovh-ca, ovh-us, kimsufi-eu, kimsufi-ca,
    /// soyoustart-eu, soyoustart-ca) or a URL such as http://127.0.0.1:8080/1.0
    #[arg(long, global = true, env = "OVH_ENDPOINT", value_name = "NAME|URL")]
    pub endpoint: Option<String>,

    /// RunAbove's API, where ManagedStackMysql lives: `runabove` (https://api.runabove.com/1.0,
    /// the default with application keys) or a URL such as a sandbox's `runabove_endpoint=`
    #[arg(
        long,
        global = true,
        env = "RUNABOVE_ENDPOINT",
        value_name = "NAME|URL"
    )]
    pub runabove_endpoint: Option<String>,

    /// Run against the built-in sandbox, in this process (state under .reconcile/): no account
    /// and no network needed
    #[arg(long, global = true)]
    pub sandbox: bool,

    /// Log each HTTP call (method, path, status, ms, query id; secrets redacted); -vv for more.
    /// RUST_LOG overrides
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,

    /// Never colour the output (NO_COLOR is honoured too)
    #[arg(long, global = true)]
    pub no_color: bool,

    /// Requests in flight at once while reading the live state, and steps sending calls at
    /// once during apply (a step waiting for READY takes no slot). The client's rate limit
    /// (20 requests/s) still paces them all
    #[arg(long, global = true, default_value_t = 16, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub parallelism: u32,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse and validate manifests offline: every problem at once, with file:line:column
    Validate(validate::ValidateArgs),
    /// Read the live API and show what differs from the manifests
    Plan(plan::PlanArgs),
    /// Plan, confirm, then make the live API match the manifests
    Apply(apply::ApplyArgs),
    /// The plan as a drift report for scheduled jobs (exit 2 on drift)
    Drift(drift::DriftArgs),
    /// Print the manifests' JSON Schema (for editors)
    Schema,
    /// One raw, signed API call; the JSON answer goes to stdout
    Api(api::ApiArgs),
    /// The local OVH API simulator
    #[command(subcommand)]
    Sandbox(sandbox::SandboxCommand),
}

pub use crate::report::ExitStatus;

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    match cli.command {
        Command::Validate(args) => validate::run(&cli.global, args).await,
        Command::Plan(args) => plan::run(&cli.global, args).await,
        Command::Apply(args) => apply::run(&cli.global, args).await,
        Command::Drift(args) => drift::run(&cli.global, args).await,
        Command::Schema => schema::run(&cli.global).await,
        Command::Api(args) => api::run(&cli.global, args).await,
        Command::Sandbox(command) => sandbox::run(&cli.global, command).await,
    }
}
