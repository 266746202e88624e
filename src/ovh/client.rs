//! The HTTP client for the OVH API: one `Client` (cheap to clone, shared state behind an
//! `Arc`) that signs or bearer-authenticates every call, fetches the server time once, holds
//! the one request-rate limiter, retries by the one policy (`is_retryable`) and logs each HTTP
//! call once, redacted. Readiness polling is not its business; callers loop on `get`.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use backon::{ExponentialBuilder, Retryable};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::{Mutex, OnceCell};

use super::credentials::Credentials;
use super::endpoint::Endpoint;
use super::error::{is_retryable, ApiReply, ErrorClass, OvhError};
use super::redact::Redacted;
use super::signing::{json_body, SignedRequest};

/// The longest `Retry-After` honoured; a longer one is cut to this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);
/// An OAuth2 token is renewed this long before it expires (or at half its life if shorter).
const TOKEN_RENEW_MARGIN: Duration = Duration::from_secs(60);
/// Lifetime assumed when a token answer has no `expires_in`.
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// Settings for `Client::new`. Start from `ClientConfig::new` and change what you need.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    pub endpoint: Endpoint,
    pub credentials: Credentials,
    /// Requests per second across all clones and all calls, retries and token fetches
    /// included. Default 20.
    pub rate_limit_per_sec: u32,
    /// Retries after the first attempt (so `max_retries + 1` attempts at most). Default 5.
    pub max_retries: usize,
    /// First backoff delay; it doubles each retry, with jitter. Default 500 ms.
    pub retry_min_delay: Duration,
    /// Longest backoff delay (a `Retry-After` may ask for more, up to 120 s). Default 30 s.
    pub retry_max_delay: Duration,
    /// Timeout of one HTTP attempt, answer included. Default 60 s.
    pub request_timeout: Duration,
    /// Timeout to open a connection. Default 10 s.
    pub connect_timeout: Duration,
    /// How long the client keeps retrying while the API cannot be reached at all (connection
    /// refused, DNS or TLS failure), counted from the first such failure across all calls and
    /// clones; past it, a call that cannot connect fails at its first attempt. A call that gets
    /// any answer resets it. Default 10 s.
    pub unreachable_budget: Duration,
    /// Extra trusted root certificates (PEM, one or more), e.g. a sandbox's generated CA.
    pub root_certificate_pem: Option<Vec<u8>>,
    /// `User-Agent` header. Default `reconcile/<version>`.
    pub user_agent: String,
    /// RunAbove's API (`Client::runabove`), reached with the same credentials and settings.
    /// Default none: `Client::runabove` is then this client itself.
    pub runabove: Option<Endpoint>,
}

impl ClientConfig {
    pub const DEFAULT_RATE_LIMIT_PER_SEC: u32 = 20;
    pub const DEFAULT_MAX_RETRIES: usize = 5;

    /// Defaults for everything but where to go and how to authenticate.
    pub fn new(endpoint: Endpoint, credentials: Credentials) -> Self {
        ClientConfig {
            endpoint,
            credentials,
            rate_limit_per_sec: Self::DEFAULT_RATE_LIMIT_PER_SEC,
            max_retries: Self::DEFAULT_MAX_RETRIES,
            retry_min_delay: Duration::from_millis(500),
            retry_max_delay: Duration::from_secs(30),
            request_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            unreachable_budget: Duration::from_secs(10),
            root_certificate_pem: None,
            user_agent: concat!("reconcile/", env!("CARGO_PKG_VERSION")).to_owned(),
            runabove: None,
        }
    }
}

/// A successful (2xx) answer.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiResponse {
    pub status: StatusCode,
    /// The `X-Ovh-Queryid` header.
    pub query_id: Option<String>,
    /// The JSON body; `Value::Null` when the body is empty (void routes, 204).
    pub body: Value,
}

/// The OVH API client. Clones share the connection pool, the rate limiter, the server-time
/// delta and the OAuth2 token.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    endpoint: Endpoint,
    auth: Auth,
    limiter: DefaultDirectRateLimiter,
    /// `server time - local time`, in seconds, fetched once before the first signed call.
    time_delta: OnceCell<i64>,
    max_retries: usize,
    retry_min_delay: Duration,
    retry_max_delay: Duration,
    /// The client of `ClientConfig::runabove`.
    runabove: Option<Client>,
    unreachable_budget: Duration,
    /// When calls started failing to connect (none answered since); `None` while the API
    /// answers. Tokio's clock, so that tests can pause it.
    unreachable_since: std::sync::Mutex<Option<tokio::time::Instant>>,
}

enum Auth {
    Application {
        application_key: HeaderValue,
        application_secret: SecretString,
        consumer_key: SecretString,
        consumer_key_header: HeaderValue,
    },
    OAuth2 {
        client_id: String,
        client_secret: SecretString,
        token_url: String,
        token: Mutex<Option<AccessToken>>,
    },
}

struct AccessToken {
    value: SecretString,
    renew_at: Instant,
}

/// How one request authenticates.
enum AuthMode<'a> {
    /// `X-Ovh-Application`, `X-Ovh-Consumer`, `X-Ovh-Timestamp`, `X-Ovh-Signature`.
    Signed { time_delta: i64 },
    /// `Authorization: Bearer`.
    Bearer(SecretString),
    /// `X-Ovh-Application` only (`/auth/time`, `POST /auth/credential`), when there is one.
    ApplicationKeyOnly,
    /// HTTP Basic with the OAuth2 client id and secret (the token request).
    Basic { user: &'a str, password: &'a str },
}

/// One request, ready to be sent (and re-sent on retry: the body bytes never change).
struct Prepared<'a> {
    method: Method,
    /// What logs and errors show: the API path (query included, printed redacted) or the
    /// token URL.
    label: &'a str,
    url: String,
    body: Option<Vec<u8>>,
    content_type: &'static str,
    /// The JSON the body was made from, for TRACE logs (printed redacted).
    json: Option<&'a Value>,
    auth: AuthMode<'a>,
}

impl Client {
    /// Builds a client. Installs rustls' ring crypto provider if none is installed yet.
    pub fn new(mut config: ClientConfig) -> Result<Self, OvhError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let runabove = match config.runabove.take() {
            None => None,
            Some(endpoint) => Some(Client::new(ClientConfig {
                endpoint,
                ..config.clone()
            })?),
        };

        let rate = NonZeroU32::new(config.rate_limit_per_sec).ok_or_else(|| {
            OvhError::config("the request rate limit must be at least 1 per second", None)
        })?;
        let auth = match config.credentials {
            Credentials::Application {
                application_key,
                application_secret,
                consumer_key,
            } => {
                let bad = |what: &str| {
                    OvhError::config(
                        format!("the {what} contains characters that cannot go in an http header"),
                        format!("check the {what} for stray spaces, quotes or newlines"),
                    )
                };
                // Stray whitespace is always a copy-paste accident; sign what is sent.
                let application_secret =
                    SecretString::from(application_secret.expose_secret().trim());
                let consumer_key = SecretString::from(consumer_key.expose_secret().trim());
                let application_key = HeaderValue::from_str(application_key.trim())
                    .map_err(|_| bad("application key"))?;
                let mut consumer_key_header = HeaderValue::from_str(consumer_key.expose_secret())
                    .map_err(|_| bad("consumer key"))?;
                consumer_key_header.set_sensitive(true);
                Auth::Application {
                    application_key,
                    application_secret,
                    consumer_key,
                    consumer_key_header,
                }
            }
            Credentials::OAuth2 {
                client_id,
                client_secret,
            } => {
                let token_url = config
                    .endpoint
                    .oauth2_token_url()
                    .ok_or_else(|| {
                        OvhError::config(
                            format!("oauth2 is not available on endpoint {}", config.endpoint),
                            "use ovh-eu, ovh-ca or ovh-us, or an application key, secret and consumer key".to_owned(),
                        )
                    })?
                    .to_owned();
                Auth::OAuth2 {
                    client_id,
                    client_secret,
                    token_url,
                    token: Mutex::new(None),
                }
            }
        };

        let mut builder = reqwest::Client::builder()
            .user_agent(config.user_agent)
            .timeout(config.request_timeout)
            .connect_timeout(config.connect_timeout)
            // A redirect would invalidate the signature and could carry headers elsewhere.
            .redirect(reqwest::redirect::Policy::none());
        if config.endpoint.is_loopback() {
            // A local sandbox is never reached through HTTP_PROXY, HTTPS_PROXY or ALL_PROXY:
            // a proxy would see every signed request, and could not reach 127.0.0.1 anyway.
            builder = builder.no_proxy();
        }
        if let Some(pem) = &config.root_certificate_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
                OvhError::config(
                    format!("the extra root certificate is not valid pem: {e}"),
                    "give a pem file with one or more `-----BEGIN CERTIFICATE-----` blocks"
                        .to_owned(),
                )
            })?;
            if certs.is_empty() {
                return Err(OvhError::config(
                    "the extra root certificate file holds no certificate",
                    "give a pem file with one or more `-----BEGIN CERTIFICATE-----` blocks"
                        .to_owned(),
                ));
            }
            builder = builder.tls_certs_merge(certs);
        }
        let http = builder.build().map_err(|e| {
            OvhError::config(format!("could not set up the http client: {e}"), None)
        })?;

        Ok(Client {
            inner: Arc::new(Inner {
                http,
                endpoint: config.endpoint,
                auth,
                // Evenly spaced, no burst: a server bucket that allows `rate` per second but
                // started refilling at another moment (the first request opened the
                // connection) answered 429 to a client burst (docs/performance.md, row 1c).
                limiter: RateLimiter::direct(
                    Quota::per_second(rate).allow_burst(std::num::NonZeroU32::MIN),
                ),
                time_delta: OnceCell::new(),
                max_retries: config.max_retries,
                retry_min_delay: config.retry_min_delay,
                retry_max_delay: config.retry_max_delay,
                runabove,
                unreachable_budget: config.unreachable_budget,
                unreachable_since: std::sync::Mutex::new(None),
            }),
        })
    }

    /// The endpoint this client talks to.
    pub fn endpoint(&self) -> &Endpoint {
        &self.inner.endpoint
    }

    /// The client of RunAbove's API (`ClientConfig::runabove`): same credentials and
    /// settings, its own endpoint, rate limit and server time. This client itself when the
    /// config named no RunAbove endpoint.
    pub fn runabove(&self) -> &Client {
        self.inner.runabove.as_ref().unwrap_or(self)
    }

    /// Who calls, never a secret: `("applicationKey", KEY)` for signed requests, `("clientId",
    /// ID)` for OAuth2 (a saved plan records it, `apply plan.json` compares it).
    pub fn principal(&self) -> (&'static str, String) {
        match &self.inner.auth {
            Auth::Application {
                application_key, ..
            } => (
                "applicationKey",
                application_key.to_str().unwrap_or_default().to_owned(),
            ),
            Auth::OAuth2 { client_id, .. } => ("clientId", client_id.clone()),
        }
    }

    /// Calls `method path` (the path starts with `/` and may carry a query string) with an
    /// optional JSON body, authenticated, rate limited and retried. A non-2xx answer is an
    /// `OvhError::Api`.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<ApiResponse, OvhError> {
        let auth = match &self.inner.auth {
            Auth::Application { .. } => AuthMode::Signed {
                time_delta: self.time_delta().await?,
            },
            Auth::OAuth2 { .. } => AuthMode::Bearer(self.bearer_token().await?),
        };
        let result = self.execute(self.prepare(method, path, body, auth)).await;
        if let (Err(err), Auth::OAuth2 { token, .. }) = (&result, &self.inner.auth) {
            if err.status() == Some(StatusCode::UNAUTHORIZED) {
                // The token may have been revoked early: the next call fetches a new one.
                *token.lock().await = None;
            }
        }
        result
    }

    /// Like `call`, but unauthenticated: only `X-Ovh-Application` is sent (for
    /// `POST /auth/credential` and `GET /auth/time`).
    pub async fn call_unsigned(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<ApiResponse, OvhError> {
        self.execute(self.prepare(method, path, body, AuthMode::ApplicationKeyOnly))
            .await
    }

    /// `GET path`, decoded into `T`.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, OvhError> {
        self.call_typed(Method::GET, path, None).await
    }

    /// `POST path` with `body` as JSON, decoded into `T`. Never retried on 5xx or timeouts.
    pub async fn post<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, OvhError> {
        let body = encode(&Method::POST, path, body)?;
        self.call_typed(Method::POST, path, Some(&body)).await
    }

    /// `PUT path` with `body` as JSON, decoded into `T` (use `()` or `Value` for void routes).
    pub async fn put<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, OvhError> {
        let body = encode(&Method::PUT, path, body)?;
        self.call_typed(Method::PUT, path, Some(&body)).await
    }

    /// `DELETE path`, decoded into `T` (use `()` for void routes).
    pub async fn delete<T: DeserializeOwned>(&self, path: &str) -> Result<T, OvhError> {
        self.call_typed(Method::DELETE, path, None).await
    }

    /// `server time - local time` in seconds, fetched from `GET /auth/time` on first use and
    /// cached for the life of the client (and its clones).
    pub async fn time_delta(&self) -> Result<i64, OvhError> {
        self.inner
            .time_delta
            .get_or_try_init(|| async {
                let wrap = |source: OvhError| OvhError::ServerTime {
                    endpoint: self.inner.endpoint.base_url().to_owned(),
                    source: Box::new(source),
                };
                let answer = self
                    .call_unsigned(Method::GET, "/auth/time", None)
                    .await
                    .map_err(wrap)?;
                let server: i64 = serde_json::from_value(answer.body).map_err(|source| {
                    wrap(OvhError::Decode {
                        method: Method::GET,
                        path: "/auth/time".to_owned(),
                        status: answer.status,
                        query_id: answer.query_id.clone(),
                        source,
                    })
                })?;
                let delta = server - unix_now();
                tracing::debug!(server_time = server, delta, "ovh server time");
                Ok(delta)
            })
            .await
            .copied()
    }

    async fn call_typed<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<T, OvhError> {
        let answer = self.call(method.clone(), path, body).await?;
        serde_json::from_value(answer.body).map_err(|source| OvhError::Decode {
            method,
            path: path.to_owned(),
            status: answer.status,
            query_id: answer.query_id,
            source,
        })
    }

    fn prepare<'a>(
        &self,
        method: Method,
        path: &'a str,
        body: Option<&'a Value>,
        auth: AuthMode<'a>,
    ) -> Prepared<'a> {
        Prepared {
            url: self.inner.endpoint.url_for(path),
            method,
            label: path,
            body: body.map(json_body),
            content_type: "application/json",
            json: body,
            auth,
        }
    }

    /// A valid OAuth2 access token, fetched (once, under a lock) when missing or near expiry.
    async fn bearer_token(&self) -> Result<SecretString, OvhError> {
        let Auth::OAuth2 {
            client_id,
            client_secret,
            token_url,
            token,
        } = &self.inner.auth
        else {
            unreachable!("bearer_token is only called with oauth2 credentials")
        };
        let mut cached = token.lock().await;
        if let Some(t) = cached.as_ref() {
            if Instant::now() < t.renew_at {
                return Ok(t.value.clone());
            }
        }
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "client_credentials")
            .append_pair("client_id", client_id)
            .append_pair("client_secret", client_secret.expose_secret())
            .append_pair("scope", "all")
            .finish();
        let request = Prepared {
            method: Method::POST,
            label: token_url,
            url: token_url.clone(),
            body: Some(form.into_bytes()),
            content_type: "application/x-www-form-urlencoded",
            json: None,
            auth: AuthMode::Basic {
                user: client_id,
                password: client_secret.expose_secret(),
            },
        };
        let auth_error = |reason: String, source: Option<OvhError>| OvhError::Auth {
            token_url: token_url.clone(),
            reason,
            source: source.map(Box::new),
        };
        let answer = self.execute(request).await.map_err(|e| {
            let reason = match e.status() {
                Some(status) => format!("the token endpoint answered {}", status.as_u16()),
                None => "the token endpoint could not be reached".to_owned(),
            };
            auth_error(reason, Some(e))
        })?;
        let access_token = answer
            .body
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| auth_error("the answer has no access_token".to_owned(), None))?;
        let lifetime = answer
            .body
            .get("expires_in")
            .and_then(Value::as_u64)
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_TOKEN_LIFETIME);
        let value = SecretString::from(access_token.to_owned());
        *cached = Some(AccessToken {
            value: value.clone(),
            renew_at: Instant::now()
                + lifetime.saturating_sub(TOKEN_RENEW_MARGIN.min(lifetime / 2)),
        });
        tracing::debug!(lifetime_s = lifetime.as_secs(), "ovh oauth2 token fetched");
        Ok(value)
    }

    /// Sends `request`, retrying by `is_retryable` with exponential backoff and jitter, and
    /// honouring `Retry-After` on 429.
    async fn execute(&self, request: Prepared<'_>) -> Result<ApiResponse, OvhError> {
        if let Some(json) = request.json {
            tracing::trace!(
                method = %request.method,
                path = %Redacted::path(request.label),
                body = %Redacted::json(json),
                "ovh request body"
            );
        }
        let attempt = AtomicU32::new(0);
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.inner.retry_min_delay)
            .with_max_delay(self.inner.retry_max_delay)
            .with_max_times(self.inner.max_retries)
            .with_jitter();
        (|| async {
            let n = attempt.fetch_add(1, Ordering::Relaxed) + 1;
            self.send_once(&request, n).await
        })
        .retry(backoff)
        .sleep(tokio::time::sleep)
        .when(|e: &OvhError| is_retryable(e))
        .adjust(|e: &OvhError, next: Option<Duration>| {
            if e.error_class() == ErrorClass::Unreachable {
                return self.within_unreachable_budget(next?);
            }
            next.map(|backoff| {
                e.retry_after()
                    .map_or(backoff, |ra| ra.min(MAX_RETRY_AFTER))
            })
        })
        .notify(|e: &OvhError, wait: Duration| {
            tracing::warn!(
                method = %request.method,
                path = %Redacted::path(request.label),
                attempt = attempt.load(Ordering::Relaxed),
                max_attempts = self.inner.max_retries + 1,
                wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                reason = %retry_reason(e),
                query_id = %e.query_id().unwrap_or("-"),
                "retrying ovh api call"
            );
        })
        .await
    }

    /// `wait`, when retrying after it still ends within the unreachable budget, counted from
    /// the first call that could not connect; `None` (stop retrying) past it.
    fn within_unreachable_budget(&self, wait: Duration) -> Option<Duration> {
        let now = tokio::time::Instant::now();
        let since = *self
            .inner
            .unreachable_since
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert(now);
        (now.duration_since(since) + wait <= self.inner.unreachable_budget).then_some(wait)
    }

    /// One attempt: rate limit, authenticate, send, read, log once.
    async fn send_once(
        &self,
        request: &Prepared<'_>,
        attempt: u32,
    ) -> Result<ApiResponse, OvhError> {
        self.inner.limiter.until_ready().await;

        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let body = request.body.as_deref().unwrap_or_default();
        if request.body.is_some() {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(request.content_type));
        }
        let mut builder = self
            .inner
            .http
            .request(request.method.clone(), &request.url);
        match (&request.auth, &self.inner.auth) {
            (
                AuthMode::Signed { time_delta },
                Auth::Application {
                    application_key,
                    application_secret,
                    consumer_key,
                    consumer_key_header,
                },
            ) => {
                let signed = SignedRequest::new(
                    application_secret,
                    consumer_key,
                    &request.method,
                    &request.url,
                    body,
                    unix_now() + time_delta,
                );
                let mut signature =
                    HeaderValue::from_str(signed.signature()).expect("a signature is ascii hex");
                signature.set_sensitive(true);
                headers.insert("x-ovh-application", application_key.clone());
                headers.insert("x-ovh-consumer", consumer_key_header.clone());
                headers.insert("x-ovh-timestamp", HeaderValue::from(signed.timestamp()));
                headers.insert("x-ovh-signature", signature);
            }
            (
                AuthMode::ApplicationKeyOnly,
                Auth::Application {
                    application_key, ..
                },
            ) => {
                headers.insert("x-ovh-application", application_key.clone());
            }
            (AuthMode::Bearer(token), Auth::OAuth2 { token_url, .. }) => {
                let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose_secret()))
                    .map_err(|_| OvhError::Auth {
                        token_url: token_url.clone(),
                        reason: "the access token cannot go in an http header".to_owned(),
                        source: None,
                    })?;
                value.set_sensitive(true);
                headers.insert(AUTHORIZATION, value);
            }
            (AuthMode::Basic { user, password }, _) => {
                builder = builder.basic_auth(user, Some(password));
            }
            // No application key to send, or a mode that does not go with these credentials
            // (`call` never builds one).
            (AuthMode::ApplicationKeyOnly, Auth::OAuth2 { .. })
            | (AuthMode::Signed { .. }, Auth::OAuth2 { .. })
            | (AuthMode::Bearer(_), Auth::Application { .. }) => {}
        }
        builder = builder.headers(headers);
        if let Some(bytes) = &request.body {
            builder = builder.body(bytes.clone());
        }

        let started = Instant::now();
        let elapsed_ms = || u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let transport = |source: reqwest::Error| OvhError::Transport {
            method: request.method.clone(),
            path: request.label.to_owned(),
            source: source.without_url(),
        };
        let response = match builder.send().await {
            Ok(response) => response,
            Err(e) => {
                let err = transport(e);
                tracing::debug!(
                    method = %request.method,
                    path = %Redacted::path(request.label),
                    elapsed_ms = elapsed_ms(),
                    attempt,
                    error = %error_chain(&err),
                    "ovh api call failed"
                );
                return Err(err);
            }
        };
        *self
            .inner
            .unreachable_since
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = None;
        let status = response.status();
        let query_id = response
            .headers()
            .get("x-ovh-queryid")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let bytes = response.bytes().await;
        tracing::debug!(
            method = %request.method,
            path = %Redacted::path(request.label),
            status = status.as_u16(),
            elapsed_ms = elapsed_ms(),
            query_id = %query_id.as_deref().unwrap_or("-"),
            attempt,
            "ovh api call"
        );
        let bytes = bytes.map_err(transport)?;

        if !status.is_success() {
            return Err(api_error(request, status, query_id, retry_after, &bytes));
        }
        let body = if bytes.iter().all(u8::is_ascii_whitespace) {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).map_err(|source| OvhError::Decode {
                method: request.method.clone(),
                path: request.label.to_owned(),
                status,
                query_id: query_id.clone(),
                source,
            })?
        };
        // Token answers are never logged, not even redacted.
        if !matches!(request.auth, AuthMode::Basic { .. }) {
            tracing::trace!(
                method = %request.method,
                path = %Redacted::path(request.label),
                body = %Redacted::json(&body),
                "ovh response body"
            );
        }
        Ok(ApiResponse {
            status,
            query_id,
            body,
        })
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let auth = match &self.inner.auth {
            Auth::Application { .. } => "application key",
            Auth::OAuth2 { .. } => "oauth2",
        };
        f.debug_struct("Client")
            .field("endpoint", &self.inner.endpoint.to_string())
            .field("auth", &auth)
            .finish_non_exhaustive()
    }
}

fn encode<B: Serialize + ?Sized>(method: &Method, path: &str, body: &B) -> Result<Value, OvhError> {
    serde_json::to_value(body).map_err(|source| OvhError::Encode {
        method: method.clone(),
        path: path.to_owned(),
        source,
    })
}

/// Builds `OvhError::Api` from an error answer: `{"class","message"}` (API errors),
/// `{"errorCode","httpCode","message"}` (auth layer), OAuth2 `{"error","error_description"}`,
/// OpenStack-style `{"error":{"message"}}`, or plain text.
fn api_error(
    request: &Prepared<'_>,
    status: StatusCode,
    query_id: Option<String>,
    retry_after: Option<Duration>,
    bytes: &[u8],
) -> OvhError {
    let parsed: Option<Value> = serde_json::from_slice(bytes).ok();
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let field = |key: &str| text(parsed.as_ref().and_then(|v| v.get(key)));
    let message = field("message")
        .or_else(|| field("error_description"))
        .or_else(|| text(parsed.as_ref().and_then(|v| v.pointer("/error/message"))))
        .or_else(|| field("error"))
        .or_else(|| {
            // Not JSON (a proxy's page): its first non-empty line, shortened.
            let body = String::from_utf8_lossy(bytes);
            let line = body.lines().map(str::trim).find(|l| !l.is_empty())?;
            Some(line.chars().take(200).collect())
        })
        .unwrap_or_else(|| {
            status
                .canonical_reason()
                .unwrap_or("no message")
                .to_lowercase()
        });
    OvhError::Api {
        method: request.method.clone(),
        path: request.label.to_owned(),
        status,
        query_id,
        reply: Box::new(ApiReply {
            class: field("class"),
            error_code: field("errorCode"),
            message,
            retry_after,
        }),
    }
}

/// A short reason for retry logs: status and class, or the transport error chain.
fn retry_reason(err: &OvhError) -> String {
    match err {
        OvhError::Api { status, reply, .. } => {
            let detail = reply
                .error_code
                .as_deref()
                .or(reply.class.as_deref())
                .unwrap_or("");
            format!("{} {detail}", status.as_u16())
                .trim_end()
                .to_owned()
        }
        other => error_chain(other),
    }
}

/// `err: cause: cause`, for one-line logs. Transport errors carry no URL (`without_url`).
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Client {
        let endpoint = Endpoint::parse("http://127.0.0.1:9/1.0").unwrap();
        Client::new(ClientConfig::new(
            endpoint,
            Credentials::application("ak", "as", "ck"),
        ))
        .unwrap()
    }

    /// Regression (issue 9, item 7): an API that refused every connection was retried per
    /// call, 86 s for one plan. The budget is shared by all calls and counted from the first
    /// failure; an answer resets it.
    #[tokio::test(start_paused = true)]
    async fn an_unreachable_api_is_retried_within_one_budget_across_calls() {
        let client = client();
        let second = Duration::from_secs(1);
        assert_eq!(client.within_unreachable_budget(second), Some(second));
        tokio::time::advance(Duration::from_secs(8)).await;
        assert_eq!(client.within_unreachable_budget(second), Some(second));
        assert_eq!(
            client.within_unreachable_budget(Duration::from_secs(3)),
            None,
            "8 s spent: a 3 s wait would end past 10 s"
        );
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(
            client.clone().within_unreachable_budget(Duration::ZERO),
            None,
            "clones share the budget"
        );
        *client.inner.unreachable_since.lock().unwrap() = None;
        assert_eq!(client.within_unreachable_budget(second), Some(second));
    }
}
