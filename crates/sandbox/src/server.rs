//! The HTTP(S) server: the router (`/1.0` and its `/v1` alias; RunAbove's API under
//! `/runabove/1.0`), the middleware stack every request passes, listening on an address, and
//! the TLS mode with a generated certificate (node's official client speaks only HTTPS).
//!
//! Middleware order, outermost first: query id -> body limits (413 from `Content-Length`
//! before reading, the body read whole within `body_timeout` or 408) -> faults (latency, 429,
//! 500) -> on-demand scopes -> authentication -> route.
//!
//! Connections: a TLS handshake, a first request's headers and the headers of each next
//! request on a keep-alive connection must arrive within `header_timeout`, else the
//! connection is closed; so idle HTTP/1.1 connections do not stay open. HTTP/2 connections
//! are pinged every `header_timeout` and closed when the peer stops answering.

use super::auth::{self, ServedScheme};
use super::error::ApiError;
use super::{database, hosting, stack, Sandbox, MAX_BODY_BYTES};
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::task::JoinHandle;

/// The complete application: every route family with every middleware.
pub fn router(sandbox: Arc<Sandbox>, scheme: &'static str) -> Router {
    let api = Router::new()
        .merge(auth::routes())
        .merge(database::routes())
        .merge(hosting::routes());
    // RunAbove is its own API (`api.runabove.com/1.0`): its own base path, same signing.
    let runabove = Router::new().merge(auth::routes()).merge(stack::routes());
    Router::new()
        .nest("/1.0", api.clone())
        .nest("/v1", api)
        .nest(RUNABOVE_BASE, runabove)
        .merge(auth::root_routes())
        .fallback(no_route)
        .method_not_allowed_fallback(no_route)
        .layer(middleware::from_fn_with_state(
            sandbox.clone(),
            auth::authenticate,
        ))
        .layer(middleware::from_fn_with_state(
            sandbox.clone(),
            on_demand_scopes,
        ))
        .layer(middleware::from_fn_with_state(sandbox.clone(), faults))
        .layer(middleware::from_fn_with_state(sandbox.clone(), body_limits))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(sandbox.clone(), query_id))
        .layer(Extension(ServedScheme(scheme)))
        .with_state(sandbox)
}

async fn no_route(request: Request) -> Response {
    ApiError::no_route(request.method().as_str(), request.uri().path()).into_response()
}

static QUERY_COUNTER: AtomicU64 = AtomicU64::new(0);

/// `X-Ovh-Queryid` on every answer, in the real format `<REGION>.ext-<n>.<hex time>.<n>.<id>`
/// with the region `SB` (sandbox), and the real `Content-Type` and `Cache-Control` on JSON
/// answers. Each answer is logged at debug level (method, path, status, ms; no headers).
async fn query_id(State(sandbox): State<Arc<Sandbox>>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let started = std::time::Instant::now();
    let mut response = next.run(request).await;
    tracing::debug!(
        target: "reconcile::sandbox",
        "sandbox {method} {path} -> {} in {} ms",
        response.status().as_u16(),
        started.elapsed().as_millis()
    );
    let n = QUERY_COUNTER.fetch_add(1, Ordering::Relaxed);
    let id = format!(
        "SB.ext-1.{:x}.{n}.{}",
        sandbox.now().timestamp(),
        uuid::Uuid::new_v4().simple()
    );
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&id) {
        headers.insert("X-Ovh-Queryid", value);
    }
    headers.insert(
        "Cache-Control",
        HeaderValue::from_static("no-cache, no-store"),
    );
    auth::fix_content_type(&mut response);
    response
}

/// Refuses a body larger than [`MAX_BODY_BYTES`] with 413 from its `Content-Length`, before
/// reading any of it; reads any other body whole (a chunked one is cut off with 413 at the
/// limit) within `body_timeout`, else 408. Both close the connection.
async fn body_limits(
    State(sandbox): State<Arc<Sandbox>>,
    request: Request,
    next: Next,
) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(length) = declared.filter(|&n| n > MAX_BODY_BYTES as u64) {
        return closing(body_too_large(length));
    }
    let (parts, body) = request.into_parts();
    let deadline = sandbox.config.body_timeout;
    match tokio::time::timeout(deadline, read_body(body)).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(BodyError::TooLarge)) => closing(body_too_large(MAX_BODY_BYTES as u64 + 1)),
        Ok(Err(BodyError::Unreadable)) => {
            closing(ApiError::bad_request("", "Request body unreadable").into_response())
        }
        Err(_) => closing(
            ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "Client::RequestTimeout",
                format!(
                    "The request body did not arrive within {}",
                    humantime::format_duration(deadline)
                ),
            )
            .into_response(),
        ),
    }
}

enum BodyError {
    TooLarge,
    Unreadable,
}

/// The whole body, at most [`MAX_BODY_BYTES`].
async fn read_body(body: Body) -> Result<axum::body::Bytes, BodyError> {
    use futures::StreamExt;
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| BodyError::Unreadable)?;
        if bytes.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(BodyError::TooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes.into())
}

fn body_too_large(length: u64) -> Response {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "Client::RequestEntityTooLarge",
        if length > MAX_BODY_BYTES as u64 + 1 {
            format!(
                "Request body of {length} bytes is larger than the {MAX_BODY_BYTES} bytes accepted"
            )
        } else {
            format!("Request body is larger than the {MAX_BODY_BYTES} bytes accepted")
        },
    )
    .into_response()
}

/// An answer after which the connection is closed (its request body was not read whole).
fn closing(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

async fn faults(State(sandbox): State<Arc<Sandbox>>, request: Request, next: Next) -> Response {
    match sandbox.faults.before_request().await {
        Ok(()) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

/// In `--sandbox` mode, the projects and hostings a request names come into being on first use.
async fn on_demand_scopes(
    State(sandbox): State<Arc<Sandbox>>,
    request: Request,
    next: Next,
) -> Response {
    if sandbox.config.create_on_demand {
        let segments: Vec<&str> = auth::api_path(request.uri().path()).split('/').collect();
        match segments.as_slice() {
            ["", "cloud", "project", project, ..] if !project.is_empty() => {
                sandbox.ensure_project(project)
            }
            ["", "hosting", "web", name, ..] if !name.is_empty() && *name != "attachedDomain" => {
                sandbox.ensure_hosting(name)
            }
            _ => {}
        }
    }
    next.run(request).await
}

/// Serve over TLS with a freshly generated certificate authority and server certificate.
#[derive(Debug, Clone)]
pub struct Tls {
    /// Where the CA certificate (PEM) is written, for clients to trust
    /// (`NODE_EXTRA_CA_CERTS`, `REQUESTS_CA_BUNDLE`, reconcile's `--ca-cert`).
    pub ca_cert_out: PathBuf,
}

/// Where the sandbox serves RunAbove's API (`https://api.runabove.com/1.0`).
pub const RUNABOVE_BASE: &str = "/runabove/1.0";

/// A sandbox listening in the background.
pub struct RunningSandbox {
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT/1.0` (or `https://...`).
    pub endpoint: String,
    /// `http://127.0.0.1:PORT/runabove/1.0` (or `https://...`).
    pub runabove_endpoint: String,
    pub task: JoinHandle<std::io::Result<()>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("cannot set up TLS: {0}")]
    Tls(String),
    #[error("cannot write the sandbox CA certificate to {path}: {source}")]
    WriteCa {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Binds `listen` (port 0 picks one) and serves in a background task.
pub async fn serve(
    sandbox: Arc<Sandbox>,
    listen: &str,
    tls: Option<Tls>,
) -> Result<RunningSandbox, ServeError> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: listen.to_string(),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Bind {
        addr: listen.to_string(),
        source,
    })?;
    let host = match addr {
        SocketAddr::V6(a) => format!("[{}]:{}", a.ip(), a.port()),
        SocketAddr::V4(a) => a.to_string(),
    };
    let bind_error = |source| ServeError::Bind {
        addr: listen.to_string(),
        source,
    };
    let header_timeout = sandbox.config.header_timeout;
    let mut server = axum_server::from_tcp(listener.into_std().map_err(bind_error)?)
        .map_err(bind_error)?
        .first_request_timeout(header_timeout);
    server
        .http_builder()
        .http1()
        .header_read_timeout(header_timeout);
    server
        .http_builder()
        .http2()
        .keep_alive_interval(header_timeout)
        .keep_alive_timeout(header_timeout);
    match tls {
        None => {
            let app = router(sandbox, "http");
            let task = tokio::spawn(async move { server.serve(app.into_make_service()).await });
            Ok(RunningSandbox {
                addr,
                endpoint: format!("http://{host}/1.0"),
                runabove_endpoint: format!("http://{host}{RUNABOVE_BASE}"),
                task,
            })
        }
        Some(tls) => {
            let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(tls_config(&tls)?)
                .handshake_timeout(header_timeout);
            let server = server.acceptor(acceptor);
            let app = router(sandbox, "https");
            let task = tokio::spawn(async move { server.serve(app.into_make_service()).await });
            Ok(RunningSandbox {
                addr,
                endpoint: format!("https://{host}/1.0"),
                runabove_endpoint: format!("https://{host}{RUNABOVE_BASE}"),
                task,
            })
        }
    }
}

fn tls_config(tls: &Tls) -> Result<axum_server::tls_rustls::RustlsConfig, ServeError> {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let err = |e: rcgen::Error| ServeError::Tls(e.to_string());

    let ca_key = KeyPair::generate().map_err(err)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "reconcile sandbox CA");
    let ca_cert = ca_params.self_signed(&ca_key).map_err(err)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    let server_key = KeyPair::generate().map_err(err)?;
    let mut server_params = CertificateParams::new(names).map_err(err)?;
    server_params
        .distinguished_name
        .push(DnType::CommonName, "reconcile sandbox");
    let server_cert = server_params.signed_by(&server_key, &issuer).map_err(err)?;

    if let Some(dir) = tls
        .ca_cert_out
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).map_err(|source| ServeError::WriteCa {
            path: tls.ca_cert_out.clone(),
            source,
        })?;
    }
    std::fs::write(&tls.ca_cert_out, ca_cert.pem()).map_err(|source| ServeError::WriteCa {
        path: tls.ca_cert_out.clone(),
        source,
    })?;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = vec![server_cert.der().clone(), ca_cert.der().clone()];
    let key = rustls::pki_types::PrivateKeyDer::try_from(server_key.serialize_der())
        .map_err(|e| ServeError::Tls(e.to_string()))?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ServeError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| ServeError::Tls(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(axum_server::tls_rustls::RustlsConfig::from_config(
        Arc::new(config),
    ))
}
