//! `reconcile api METHOD PATH`: one raw, signed call, its JSON answer on stdout. For looking at
//! live objects, checking credentials, and driving the sandbox by hand. Secrets in the answer
//! (passwords, consumer keys, tokens) are masked unless `--show-secrets` is given. `--on` picks
//! the API: OVH's, or one a family declares.

use super::client::{connect, ClientArgs};
use super::{ExitStatus, GlobalArgs};
use crate::ovh::redact::redact_json;
use crate::ovh::Method;
use anyhow::Context;
use clap::Args;
use serde_json::Value;
use std::io::Write;

#[derive(Debug, Args)]
pub struct ApiArgs {
    /// HTTP method: GET, POST, PUT or DELETE
    #[arg(value_parser = parse_method)]
    pub method: Method,

    /// API path under the endpoint, with its query string, e.g. /cloud/project/ID/database/service
    pub path: String,

    /// JSON body, or @FILE to read it from a file
    #[arg(long, short = 'd', value_name = "JSON|@FILE")]
    pub data: Option<String>,

    /// Print secrets in the answer (passwords, keys, tokens) instead of `***`
    #[arg(long)]
    pub show_secrets: bool,

    /// The API to call: `ovh` (--endpoint) or one a family lives on, by its name (each has
    /// its own endpoint flag)
    #[arg(long, value_name = "API", default_value = MAIN_API)]
    pub on: String,

    #[command(flatten)]
    pub client: ClientArgs,
}

/// `--on`'s name for OVH's main API; the others are the families' (`Cli::command_with_apis`
/// lists them all as `--on`'s possible values).
pub(crate) const MAIN_API: &str = "ovh";

fn parse_method(text: &str) -> Result<Method, String> {
    match text.to_ascii_uppercase().as_str() {
        "GET" => Ok(Method::GET),
        "POST" => Ok(Method::POST),
        "PUT" => Ok(Method::PUT),
        "DELETE" => Ok(Method::DELETE),
        _ => Err(format!("{text:?} is not one of GET, POST, PUT, DELETE")),
    }
}

pub async fn run(global: &GlobalArgs, args: ApiArgs) -> anyhow::Result<ExitStatus> {
    if !args.path.starts_with('/') {
        anyhow::bail!(
            "path {:?} must start with '/', e.g. /auth/currentCredential",
            args.path
        );
    }
    let body = match &args.data {
        None => None,
        Some(data) => {
            let text = match data.strip_prefix('@') {
                Some(path) => std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read --data file {path}"))?,
                None => data.clone(),
            };
            let value: Value = serde_json::from_str(&text).context("--data is not valid JSON")?;
            Some(value)
        }
    };
    let on = args.on.to_ascii_lowercase();
    let api = match on.as_str() {
        MAIN_API => None,
        name => Some(
            crate::family::declared_apis()
                .into_iter()
                .find(|api| api.key == name)
                .with_context(|| format!("--on `{name}` is not an API reconcile knows"))?,
        ),
    };
    let connection = connect(global, &args.client).await?;
    let client = match api {
        None => &connection.client,
        Some(api) => connection.client.declared(api).with_context(|| {
            format!(
                "no endpoint for the {} API with these credentials: give --{} (or {})",
                api.key, api.flag, api.env
            )
        })?,
    };
    let response = client.call(args.method, &args.path, body.as_ref()).await?;
    let mut stdout = std::io::stdout().lock();
    if !response.body.is_null() {
        let shown = if args.show_secrets {
            response.body
        } else {
            redact_json(&response.body)
        };
        serde_json::to_writer_pretty(&mut stdout, &shown)?;
        writeln!(stdout)?;
    }
    Ok(ExitStatus::Success)
}
