//! Flags that say how to reach the API, and `connect`: a `Client` for the real API (flags >
//! `OVH_*` env > `ovh.conf` files) or for the in-process sandbox behind `--sandbox`, with a
//! client for each API a family declares that has an endpoint (`--runabove-endpoint`, ...).

use super::sandbox::start_in_process;
use super::GlobalArgs;
use crate::family;
use crate::ovh::{
    self, Client, ClientConfig, Credentials, DeclaredApi, Endpoint, ExplicitCredentials,
};
use crate::sandbox::{self, RunningSandbox};
use anyhow::Context;
use clap::Args;
use secrecy::SecretString;
use std::path::PathBuf;

/// Credentials, in the order the official clients use: these flags, then `OVH_*` environment
/// variables, then `./ovh.conf`, `~/.ovh.conf`, `/etc/ovh.conf`.
#[derive(Debug, Args)]
pub struct ClientArgs {
    /// Application key (else OVH_APPLICATION_KEY, else ovh.conf)
    #[arg(long, value_name = "KEY")]
    pub application_key: Option<String>,

    /// Application secret (else OVH_APPLICATION_SECRET, else ovh.conf); prefer the environment
    /// variable, a flag shows in the process list
    #[arg(long, value_name = "SECRET")]
    pub application_secret: Option<String>,

    /// Consumer key (else OVH_CONSUMER_KEY, else ovh.conf)
    #[arg(long, value_name = "KEY")]
    pub consumer_key: Option<String>,

    /// OAuth2 client id, instead of application keys (else OVH_CLIENT_ID, else ovh.conf)
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,

    /// OAuth2 client secret (else OVH_CLIENT_SECRET, else ovh.conf)
    #[arg(long, value_name = "SECRET")]
    pub client_secret: Option<String>,

    /// Also trust this CA certificate (PEM), e.g. a sandbox served with --tls
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,

    /// Requests per second sent to the API, retries and polls included
    #[arg(long, default_value_t = ClientConfig::DEFAULT_RATE_LIMIT_PER_SEC, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit: u32,
}

/// A client and, with `--sandbox`, the in-process sandbox it talks to (kept alive with it).
pub struct Connection {
    pub client: Client,
    pub sandbox: Option<RunningSandbox>,
}

/// Builds the client the command will use.
pub async fn connect(global: &GlobalArgs, args: &ClientArgs) -> anyhow::Result<Connection> {
    if global.sandbox {
        let running = start_in_process()
            .await
            .context("cannot start the in-process sandbox")?;
        let endpoint = Endpoint::parse(&running.endpoint)?;
        let credentials = Credentials::application(
            sandbox::DEFAULT_APPLICATION_KEY,
            sandbox::DEFAULT_APPLICATION_SECRET,
            sandbox::DEFAULT_CONSUMER_KEY,
        );
        let mut config = ClientConfig::new(endpoint, credentials);
        config.rate_limit_per_sec = args.rate_limit;
        for api in family::declared_apis() {
            let endpoint = (api.parse)((api.sandbox_endpoint)(&running))?;
            config.apis.push((api, endpoint));
        }
        let client = Client::new(config)?;
        return Ok(Connection {
            client,
            sandbox: Some(running),
        });
    }
    let explicit = ExplicitCredentials {
        endpoint: global.endpoint.clone(),
        application_key: args.application_key.clone(),
        application_secret: args.application_secret.clone().map(SecretString::from),
        consumer_key: args.consumer_key.clone().map(SecretString::from),
        client_id: args.client_id.clone(),
        client_secret: args.client_secret.clone().map(SecretString::from),
    };
    let resolved = ovh::resolve_from_process(&explicit)?;
    for (field, source) in &resolved.sources {
        tracing::debug!("{field} from {source}");
    }
    let apis = api_endpoints(global, &resolved.credentials)?;
    let mut config = ClientConfig::new(resolved.endpoint, resolved.credentials);
    config.rate_limit_per_sec = args.rate_limit;
    config.apis = apis;
    if let Some(path) = &args.ca_cert {
        let pem = std::fs::read(path)
            .with_context(|| format!("cannot read --ca-cert {}", path.display()))?;
        config.root_certificate_pem = Some(pem);
    }
    Ok(Connection {
        client: Client::new(config)?,
        sandbox: None,
    })
}

/// Where each declared API's calls go: its flag (else its environment variable), parsed its
/// way, else its default for `credentials`. An API left with none has no client: its family's
/// calls stay on the main one.
fn api_endpoints(
    global: &GlobalArgs,
    credentials: &Credentials,
) -> anyhow::Result<Vec<(&'static DeclaredApi, Endpoint)>> {
    let mut apis = Vec::new();
    for api in family::declared_apis() {
        let endpoint = match global.api_endpoints.get(api.key) {
            Some(given) => Some((api.parse)(given)?),
            None => (api.default_endpoint)(credentials),
        };
        apis.extend(endpoint.map(|endpoint| (api, endpoint)));
    }
    Ok(apis)
}
