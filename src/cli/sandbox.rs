//! `reconcile sandbox serve`: run the OVH API simulator, and the in-process sandbox behind the
//! global `--sandbox` flag.

use super::{ExitStatus, GlobalArgs};
use crate::sandbox::{self, Sandbox, SandboxConfig, Tls};
use anyhow::Context;
use clap::{Args, Subcommand};
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Subcommand)]
pub enum SandboxCommand {
    /// Serve the simulator until killed; prints `endpoint=URL` on stdout once listening
    /// (then `runabove_endpoint=URL`, where RunAbove's API is served)
    Serve(ServeArgs),
}

/// Flags of `reconcile sandbox serve`. Scripts rely on these names.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free one
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub listen: String,

    /// Persist everything to this JSON file; a restart keeps everything. A file that is not a
    /// sandbox state is refused, never overwritten
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,

    /// The one application key the sandbox accepts
    #[arg(long, default_value = sandbox::DEFAULT_APPLICATION_KEY, value_name = "KEY")]
    pub application_key: String,

    /// The secret of that application
    #[arg(long, default_value = sandbox::DEFAULT_APPLICATION_SECRET, value_name = "SECRET")]
    pub application_secret: String,

    /// A consumer key that exists from the start, validated, with every right (GET, POST, PUT,
    /// DELETE on /*); more can be requested with POST /auth/credential
    #[arg(long, default_value = sandbox::DEFAULT_CONSUMER_KEY, value_name = "KEY")]
    pub consumer_key: String,

    /// OAuth2 client id accepted by /auth/oauth2/token (client credentials)
    #[arg(long, default_value = sandbox::DEFAULT_CLIENT_ID, value_name = "ID")]
    pub client_id: String,

    /// OAuth2 client secret accepted by /auth/oauth2/token
    #[arg(long, default_value = sandbox::DEFAULT_CLIENT_SECRET, value_name = "SECRET")]
    pub client_secret: String,

    /// A Public Cloud project that exists (repeatable); others answer the real 404
    #[arg(long = "project", value_name = "ID")]
    pub projects: Vec<String>,

    /// A Web Hosting service that exists (repeatable); others answer the real 404
    #[arg(long = "hosting", value_name = "NAME")]
    pub hostings: Vec<String>,

    /// How long CREATING, UPDATING, DELETING, PENDING and hosting task states last
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub ready_after: Duration,

    /// Requests per second before answering 429 (with Retry-After); unlimited when absent
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit: Option<u32>,

    /// Share of requests answered 500 before doing anything, from 0 to 1
    #[arg(long, default_value = "0", value_parser = parse_share, value_name = "F")]
    pub fail_rate: f64,

    /// Delay added before every answer
    #[arg(long, default_value = "0s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub latency: Duration,

    /// Share of creates (database services, users, stacks) answered 500 although they
    /// happened, from 0 to 1
    #[arg(long, default_value = "0", value_parser = parse_share, value_name = "F")]
    pub created_but_500: f64,

    /// An IP block whose restriction entries stay PENDING forever (repeatable)
    #[arg(long = "stuck-pending", value_name = "CIDR")]
    pub stuck_pending: Vec<String>,

    /// Close a connection that takes longer than this to send a request's headers (an idle
    /// keep-alive connection included) or to finish its TLS handshake
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub header_timeout: Duration,

    /// Answer 408 and close the connection when a request's body takes longer than this
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub body_timeout: Duration,

    /// Serve HTTPS with a freshly generated certificate (node's official client speaks only
    /// HTTPS); the CA certificate is written to --tls-ca-out
    #[arg(long)]
    pub tls: bool,

    /// Where to write the generated CA certificate (PEM) for clients to trust, e.g.
    /// NODE_EXTRA_CA_CERTS; default: sandbox-ca.pem beside --state, or in the temp directory
    #[arg(long, value_name = "FILE", requires = "tls")]
    pub tls_ca_out: Option<PathBuf>,
}

fn parse_share(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number"))?;
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(format!("{value} is not between 0 and 1"))
    }
}

impl ServeArgs {
    fn config(&self) -> SandboxConfig {
        SandboxConfig {
            application_key: self.application_key.clone(),
            application_secret: self.application_secret.clone(),
            consumer_key: self.consumer_key.clone(),
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            projects: self.projects.clone(),
            hostings: self.hostings.clone(),
            create_on_demand: false,
            ready_after: self.ready_after,
            rate_limit: self.rate_limit,
            fail_rate: self.fail_rate,
            latency: self.latency,
            created_but_500: self.created_but_500,
            stuck_pending: self.stuck_pending.clone(),
            state_file: self.state.clone(),
            header_timeout: self.header_timeout,
            body_timeout: self.body_timeout,
            clock: sandbox::Clock::System,
        }
    }

    fn tls(&self) -> Option<Tls> {
        if !self.tls {
            return None;
        }
        let ca_cert_out = self.tls_ca_out.clone().unwrap_or_else(|| {
            let dir = self
                .state
                .as_ref()
                .and_then(|s| s.parent())
                .filter(|d| !d.as_os_str().is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(std::env::temp_dir);
            dir.join("sandbox-ca.pem")
        });
        Some(Tls { ca_cert_out })
    }
}

pub async fn run(_global: &GlobalArgs, command: SandboxCommand) -> anyhow::Result<ExitStatus> {
    match command {
        SandboxCommand::Serve(args) => serve(args).await,
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<ExitStatus> {
    let sandbox = Sandbox::new(args.config())?;
    let tls = args.tls();
    let running = sandbox::serve(sandbox, &args.listen, tls.clone()).await?;
    if let Some(tls) = &tls {
        eprintln!(
            "sandbox: CA certificate written to {} (trust it with NODE_EXTRA_CA_CERTS, REQUESTS_CA_BUNDLE)",
            tls.ca_cert_out.display()
        );
    }
    {
        let mut stdout = std::io::stdout().lock();
        // One write: a script that reads only the first line and closes the pipe must not
        // make the second line fail (broken pipe) and stop the sandbox.
        let lines = format!(
            "endpoint={}\nrunabove_endpoint={}\n",
            running.endpoint, running.runabove_endpoint
        );
        stdout.write_all(lines.as_bytes())?;
        stdout.flush()?;
    }
    tokio::select! {
        result = running.task => {
            result.context("sandbox server task failed")?.context("sandbox server stopped")?;
        }
        _ = shutdown_signal() => {}
    }
    Ok(ExitStatus::Success)
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler installs");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Where the in-process sandbox (`--sandbox`) keeps its state.
pub const IN_PROCESS_STATE: &str = ".reconcile/sandbox-state.json";

/// Starts the in-process sandbox behind `--sandbox`: fast timings, state under `.reconcile/`,
/// projects and hostings created on first use. Returns it listening on 127.0.0.1.
pub async fn start_in_process() -> anyhow::Result<sandbox::RunningSandbox> {
    let config = SandboxConfig {
        create_on_demand: true,
        ready_after: Duration::from_secs(1),
        state_file: Some(PathBuf::from(IN_PROCESS_STATE)),
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::new(config)?;
    Ok(sandbox::serve(sandbox, "127.0.0.1:0", None).await?)
}
