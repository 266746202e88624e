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

use crate::family;
use clap::{Arg, ArgAction, CommandFactory, FromArgMatches, Parser, Subcommand};
use std::collections::BTreeMap;
use std::ffi::OsString;

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

impl Cli {
    /// The command line: `Cli`'s flags, and one global flag per API the families declare
    /// (`Family::api`), right after `--endpoint`.
    pub fn command_with_apis() -> clap::Command {
        let apis = family::declared_apis();
        let command = Cli::command();
        let endpoint = command
            .get_arguments()
            .find(|arg| arg.get_id() == "endpoint")
            .map(Arg::get_display_order)
            .expect("GlobalArgs has --endpoint");
        let shift = apis.len();
        let names: Vec<&'static str> = std::iter::once(api::MAIN_API)
            .chain(apis.iter().map(|api| api.key))
            .collect();
        let mut command = command.mut_args(|arg| {
            let order = arg.get_display_order();
            if order > endpoint {
                arg.display_order(order + shift)
            } else {
                arg
            }
        });
        for (i, api) in apis.into_iter().enumerate() {
            command = command.arg(
                Arg::new(api.flag)
                    .long(api.flag)
                    .global(true)
                    .env(api.env)
                    .value_name("NAME|URL")
                    .help(api.help)
                    .display_order(endpoint + 1 + i),
            );
        }
        // `api --on NAME`: OVH's API or one of these, by name.
        command.mut_subcommand("api", |api| {
            api.mut_arg("on", |on| {
                on.value_parser(clap::builder::PossibleValuesParser::new(names))
                    .ignore_case(true)
            })
        })
    }

    /// Parses `args` (the program name first) with `command_with_apis`.
    pub fn try_parse_with_apis<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let mut command = Cli::command_with_apis();
        let matches = command.try_get_matches_from_mut(args)?;
        let mut cli = Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut command))?;
        for api in family::declared_apis() {
            if let Some(value) = matches.get_one::<String>(api.flag) {
                cli.global.api_endpoints.insert(api.key, value.clone());
            }
        }
        Ok(cli)
    }
}

/// Flags every command takes.
#[derive(Clone, Debug, clap::Args)]
pub struct GlobalArgs {
    /// API endpoint: a region name (ovh-eu, ovh-ca, ovh-us, kimsufi-eu, kimsufi-ca,
    /// soyoustart-eu, soyoustart-ca) or a URL such as http://127.0.0.1:8080/1.0
    #[arg(long, global = true, env = "OVH_ENDPOINT", value_name = "NAME|URL")]
    pub endpoint: Option<String>,

    /// The endpoints given for the APIs the families declare (`DeclaredApi::flag`, else its
    /// `env`), by `DeclaredApi::key`: flags added at run time by `Cli::command_with_apis`.
    #[arg(skip)]
    pub api_endpoints: BTreeMap<&'static str, String>,

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

#[cfg(test)]
mod tests {
    use super::*;

    /// The flags of the APIs the families live on come from their declarations: each
    /// declared API has its global flag (with its env and help) in every command's help, and
    /// its value lands in `GlobalArgs::api_endpoints`, before or after the subcommand.
    #[test]
    fn each_declared_api_has_its_flag_from_its_declaration() {
        let apis = family::declared_apis();
        assert!(!apis.is_empty(), "stacks live on RunAbove's API");
        let mut command = Cli::command_with_apis();
        let top = command.render_long_help().to_string();
        let plan = command
            .find_subcommand_mut("plan")
            .expect("a plan command")
            .render_long_help()
            .to_string();
        for api in &apis {
            for help in [&top, &plan] {
                assert!(
                    help.contains(&format!("--{} <NAME|URL>", api.flag))
                        && help.contains(&format!("[env: {}=", api.env)),
                    "--{} missing from\n{help}",
                    api.flag
                );
            }
            for args in [
                vec!["reconcile", "schema", &format!("--{}", api.flag), "x"],
                vec!["reconcile", &format!("--{}", api.flag), "x", "schema"],
            ] {
                let cli = Cli::try_parse_with_apis(&args).unwrap();
                assert_eq!(
                    cli.global.api_endpoints.get(api.key).map(String::as_str),
                    Some("x"),
                    "{args:?}"
                );
            }
        }
    }

    /// Today's one declared API, whose flag sits where it always did: right after
    /// `--endpoint`.
    #[test]
    fn runabove_endpoint_follows_endpoint_in_the_help() {
        let help = Cli::command_with_apis().render_help().to_string();
        let endpoint = help.find("--endpoint <").unwrap();
        let runabove = help.find("--runabove-endpoint <").unwrap();
        let sandbox = help.find("--sandbox").unwrap();
        assert!(endpoint < runabove && runabove < sandbox, "{help}");
    }
}
