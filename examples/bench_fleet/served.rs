//! The sandbox, in this process, with every answered request logged.

use crate::*;

/// One request the sandbox answered: when the answer left, method, API path, status.
#[derive(Clone, Debug)]
pub(crate) struct Seen {
    pub(crate) at: DateTime<Utc>,
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) status: u16,
}

#[derive(Clone, Default)]
pub(crate) struct RequestLog(Arc<Mutex<Vec<Seen>>>);

impl RequestLog {
    pub(crate) fn take(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

pub(crate) async fn record(
    State(log): State<RequestLog>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().to_string();
    let path = request.uri().path();
    let path = path
        .strip_prefix("/1.0")
        .or_else(|| path.strip_prefix("/v1"))
        .unwrap_or(path)
        .to_owned();
    let response = next.run(request).await;
    let seen = Seen {
        at: Utc::now(),
        method,
        path,
        status: response.status().as_u16(),
    };
    log.0.lock().unwrap_or_else(|e| e.into_inner()).push(seen);
    response
}

/// A sandbox listening on 127.0.0.1:0 (stopped when dropped).
pub(crate) struct Served {
    pub(crate) endpoint: String,
    pub(crate) sandbox: Arc<Sandbox>,
    pub(crate) log: RequestLog,
    pub(crate) task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The sandbox's own router (every middleware: query id, faults, auth) behind one more layer,
/// outermost, that logs each answer (429s included).
pub(crate) async fn serve(config: SandboxConfig) -> Result<Served> {
    let sandbox = Sandbox::new(config)?;
    let log = RequestLog::default();
    let app = sandbox::server::router(sandbox.clone(), "http")
        .layer(middleware::from_fn_with_state(log.clone(), record));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(Served {
        endpoint: format!("http://{addr}/1.0"),
        sandbox,
        log,
        task,
    })
}

/// A sandbox on the seeded fleet's state (a fresh copy of the file), with these faults.
pub(crate) async fn serve_fleet(
    seeded: &Seeded,
    name: &str,
    rate_limit: Option<u32>,
    latency: Duration,
) -> Result<Served> {
    let state = seeded.state.with_file_name(format!("state-{name}.json"));
    std::fs::copy(&seeded.state, &state)?;
    serve(SandboxConfig {
        state_file: Some(state),
        rate_limit,
        latency,
        ready_after: SEED_READY_AFTER,
        ..SandboxConfig::default()
    })
    .await
}

pub(crate) fn api_client(endpoint: &str, rate: u32) -> Result<Client> {
    let credentials = Credentials::application(
        sandbox::DEFAULT_APPLICATION_KEY,
        sandbox::DEFAULT_APPLICATION_SECRET,
        sandbox::DEFAULT_CONSUMER_KEY,
    );
    let mut config = ClientConfig::new(Endpoint::parse(endpoint)?, credentials);
    config.rate_limit_per_sec = rate;
    Ok(Client::new(config)?)
}
