//! An API client: `Client` (cheap to clone, shared state behind an `Arc`) authenticates every
//! call with its `Auth` (a signature, a bearer token), fetches the server time once, and sends
//! through its `Transport` (its API's own rate budget, the one retry policy, one log line per
//! HTTP call, redacted). One client per API: `Client::for_api` is the client of an API a family
//! declared (`super::api::DeclaredApi`). Readiness polling is not its business; callers loop on
//! `get`.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::OnceCell;

use super::api::{ApiRate, DeclaredApi, Rate};
use super::auth::signature::unix_now;
use super::auth::{self, Auth};
use super::credentials::Credentials;
use super::endpoint::Endpoint;
use super::error::OvhError;
use super::signing::json_body;
use super::transport::{Credential, Prepared, Transport};

/// Settings for `Client::new`. Start from `ClientConfig::new` and change what you need.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    pub endpoint: Endpoint,
    pub credentials: Credentials,
    /// Requests per second to this API across all clones and all calls, retries and token
    /// fetches included; each client of `apis` has a budget of its own, at this rate or at its
    /// declared one (`DeclaredApi::rate`). Default 20.
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
    /// The declared APIs to reach (`Client::for_api`), each at its endpoint with the same
    /// credentials and settings. Default none: `Client::for_api` is then this client itself.
    pub apis: Vec<(&'static DeclaredApi, Endpoint)>,
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
            apis: Vec::new(),
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

/// An API client: one endpoint, one `Auth`, one `Transport` (its own rate budget). Clones share
/// the connection pool, the rate budget, the server-time delta and the auth's state (an
/// OAuth2 token).
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Transport,
    auth: Box<dyn Auth>,
    /// `server time - local time`, in seconds, fetched once before the first signed call.
    time_delta: OnceCell<i64>,
    /// The clients of `ClientConfig::apis`, by `DeclaredApi::key`.
    apis: Vec<(&'static str, Client)>,
}

impl Client {
    /// Builds a client. Installs rustls' ring crypto provider if none is installed yet.
    pub fn new(mut config: ClientConfig) -> Result<Self, OvhError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let main_rate = Rate::per_second_at_least_one(config.rate_limit_per_sec)?;
        let mut apis = Vec::new();
        for (api, endpoint) in std::mem::take(&mut config.apis) {
            let rate = match api.rate {
                ApiRate::SameAsMain => main_rate,
                ApiRate::Quota(rate) => rate,
            };
            let config = ClientConfig {
                endpoint,
                ..config.clone()
            };
            apis.push((api.key, Client::with_rate(config, rate, Vec::new())?));
        }
        Client::with_rate(config, main_rate, apis)
    }

    fn with_rate(
        config: ClientConfig,
        rate: Rate,
        apis: Vec<(&'static str, Client)>,
    ) -> Result<Self, OvhError> {
        let transport = Transport::new(&config, rate)?;
        let auth = auth::for_credentials(config.credentials, &config.endpoint)?;
        Ok(Client {
            inner: Arc::new(Inner {
                transport,
                auth,
                time_delta: OnceCell::new(),
                apis,
            }),
        })
    }

    /// The endpoint this client talks to.
    pub fn endpoint(&self) -> &Endpoint {
        self.inner.transport.endpoint()
    }

    /// The client of `api` (`ClientConfig::apis`): same credentials and settings, its own
    /// endpoint, rate budget and server time. This client itself when the config gave `api` no
    /// endpoint.
    pub fn for_api(&self, api: &DeclaredApi) -> &Client {
        self.declared(api).unwrap_or(self)
    }

    /// The client of `api`, `None` when the config gave it no endpoint (`reconcile api --on`,
    /// which must not send a call meant for one API to another).
    pub fn declared(&self, api: &DeclaredApi) -> Option<&Client> {
        self.inner
            .apis
            .iter()
            .find(|(key, _)| *key == api.key)
            .map(|(_, client)| client)
    }

    /// Who calls, never a secret: `("applicationKey", KEY)` for signed requests, `("clientId",
    /// ID)` for OAuth2, `("username", NAME)` for HTTP Digest (a saved plan records it, `apply
    /// plan.json` compares it).
    pub fn principal(&self) -> (&'static str, String) {
        self.inner.auth.principal()
    }

    pub(crate) fn transport(&self) -> &Transport {
        &self.inner.transport
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
        let mut challenged_again = false;
        loop {
            let proof = self.inner.auth.prepare(self).await?;
            let request = self.prepare(method.clone(), path, body, Credential::Proof(&*proof));
            let result = self.inner.transport.execute(request).await;
            if let Err(err) = &result {
                if err.status() == Some(StatusCode::UNAUTHORIZED) {
                    // HTTP Digest: the answer brought a challenge; answer it, once.
                    if !challenged_again && proof.send_again() {
                        challenged_again = true;
                        continue;
                    }
                    self.inner.auth.refused().await;
                }
            }
            return result;
        }
    }

    /// Like `call`, but unauthenticated: only `X-Ovh-Application` is sent (for
    /// `POST /auth/credential` and `GET /auth/time`).
    pub async fn call_unsigned(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<ApiResponse, OvhError> {
        let mut request = self.prepare(method, path, body, Credential::None);
        self.inner
            .auth
            .unauthenticated_headers(&mut request.headers);
        self.inner.transport.execute(request).await
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
                    endpoint: self.endpoint().base_url().to_owned(),
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
        credential: Credential<'a>,
    ) -> Prepared<'a> {
        Prepared {
            url: self.endpoint().url_for(path),
            method,
            label: path,
            body: body.map(json_body),
            content_type: "application/json",
            json: body,
            headers: HeaderMap::new(),
            credential,
            log_answer: true,
        }
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.endpoint().to_string())
            .field("auth", &self.inner.auth.scheme())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::RunningSandbox;
    use std::num::NonZeroU32;

    /// An API at the main one's rate, and one with a quota per minute.
    static SIDE: DeclaredApi = declared("side", ApiRate::SameAsMain);
    static SLOW: DeclaredApi = declared(
        "slow",
        ApiRate::Quota(Rate::per_minute(NonZeroU32::new(100).unwrap())),
    );
    /// Declared, but given no endpoint.
    static ABSENT: DeclaredApi = declared("absent", ApiRate::SameAsMain);

    const fn declared(key: &'static str, rate: ApiRate) -> DeclaredApi {
        fn parse(input: &str) -> Result<Endpoint, OvhError> {
            Endpoint::parse(input)
        }
        fn default_endpoint(_: &Credentials) -> Option<Endpoint> {
            None
        }
        fn sandbox_endpoint(running: &RunningSandbox) -> &str {
            &running.endpoint
        }
        DeclaredApi {
            key,
            flag: key,
            env: key,
            help: key,
            parse,
            default_endpoint,
            sandbox_endpoint,
            rate,
        }
    }

    fn client() -> Client {
        let endpoint = Endpoint::parse("http://127.0.0.1:9/1.0").unwrap();
        let mut config = ClientConfig::new(endpoint, Credentials::application("ak", "as", "ck"));
        config.apis = vec![
            (
                &SIDE,
                Endpoint::parse("http://127.0.0.1:9/side/1.0").unwrap(),
            ),
            (
                &SLOW,
                Endpoint::parse("http://127.0.0.1:9/slow/1.0").unwrap(),
            ),
        ];
        Client::new(config).unwrap()
    }

    /// Regression (issue 9, item 7): an API that refused every connection was retried per
    /// call, 86 s for one plan. The budget is shared by all calls and counted from the first
    /// failure; an answer resets it.
    #[tokio::test(start_paused = true)]
    async fn an_unreachable_api_is_retried_within_one_budget_across_calls() {
        let client = client();
        let transport = client.transport();
        let second = Duration::from_secs(1);
        assert_eq!(transport.within_unreachable_budget(second), Some(second));
        tokio::time::advance(Duration::from_secs(8)).await;
        assert_eq!(transport.within_unreachable_budget(second), Some(second));
        assert_eq!(
            transport.within_unreachable_budget(Duration::from_secs(3)),
            None,
            "8 s spent: a 3 s wait would end past 10 s"
        );
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(
            client
                .clone()
                .transport()
                .within_unreachable_budget(Duration::ZERO),
            None,
            "clones share the budget"
        );
        transport.forget_unreachable();
        assert_eq!(transport.within_unreachable_budget(second), Some(second));
    }

    /// Each API has its own transport, so its own rate budget: a declared API's calls never
    /// wait for OVH's, nor the other way round.
    #[test]
    fn each_api_has_its_own_transport_and_rate_budget() {
        let client = client();
        let ovh = client.transport();
        let side = client.for_api(&SIDE).transport();
        let slow = client.for_api(&SLOW).transport();
        assert!(!std::ptr::eq(ovh, side) && !std::ptr::eq(side, slow));
        assert!(
            std::ptr::eq(ovh, client.clone().transport()),
            "clones share one"
        );
        assert!(
            std::ptr::eq(side, client.clone().for_api(&SIDE).transport()),
            "clones share each api's"
        );
        assert_eq!(side.endpoint().base_url(), "http://127.0.0.1:9/side/1.0");
        assert_eq!(slow.endpoint().base_url(), "http://127.0.0.1:9/slow/1.0");
        assert_eq!(client.endpoint().base_url(), "http://127.0.0.1:9/1.0");
        assert!(
            std::ptr::eq(client.for_api(&ABSENT).transport(), ovh),
            "an api given no endpoint is the main client"
        );
    }

    /// The declared rate is the one its transport keeps: the main API's `rate_limit_per_sec`
    /// for `SameAsMain`, its own quota otherwise.
    #[test]
    fn each_api_is_paced_at_its_declared_rate() {
        let client = client();
        let rate = |transport: &Transport| transport.budget().rate();
        let main = Rate::per_second(NonZeroU32::new(20).unwrap());
        assert_eq!(rate(client.transport()), main);
        assert_eq!(rate(client.for_api(&SIDE).transport()), main);
        assert_eq!(
            rate(client.for_api(&SLOW).transport()),
            Rate::per_minute(NonZeroU32::new(100).unwrap())
        );
    }
}
