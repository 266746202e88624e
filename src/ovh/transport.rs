//! The HTTP layer under every API client: one `Transport` per API, with its endpoint, its own
//! rate budget, the one retry policy (`is_retryable`, backoff, `Retry-After`, the unreachable
//! budget) and one log line per HTTP call, redacted. It knows auth schemes only as headers to
//! add to each attempt (`Authorization`); which ones, and what they cost before the first
//! attempt (a server time, a token), is the business of `super::auth`.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::{
    HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE,
};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::api::Rate;
use super::auth::Proof;
use super::client::{ApiResponse, ClientConfig};
use super::endpoint::Endpoint;
use super::error::{is_retryable, ApiReply, ErrorClass, OvhError};
use super::redact::Redacted;

/// The longest `Retry-After` honoured; a longer one is cut to this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);

/// One API's connection: endpoint, HTTP client, rate budget, retry settings.
pub(crate) struct Transport {
    http: reqwest::Client,
    endpoint: Endpoint,
    budget: RateBudget,
    max_retries: usize,
    retry_min_delay: Duration,
    retry_max_delay: Duration,
    unreachable_budget: Duration,
    /// When calls started failing to connect (none answered since); `None` while the API
    /// answers. Tokio's clock, so that tests can pause it.
    unreachable_since: std::sync::Mutex<Option<tokio::time::Instant>>,
}

/// The requests one API accepts from this program (its declared `Rate`): every call, retry and
/// token fetch to that API waits its turn here. Each API has its own (OVH's and RunAbove's are
/// separate budgets), never a shared one. A per-project quota would be a keyed limiter here
/// (see `ApiRate::Quota`).
pub(crate) struct RateBudget {
    limiter: DefaultDirectRateLimiter,
    /// What it was made from, for tests.
    #[cfg(test)]
    rate: Rate,
}

impl RateBudget {
    pub(crate) fn new(rate: Rate) -> Self {
        RateBudget {
            limiter: RateLimiter::direct(quota(rate)),
            #[cfg(test)]
            rate,
        }
    }

    /// Waits until the next request may go (governor's wait: its own clock and timer, real
    /// time even under a paused tokio clock; `quota` is what tests check).
    async fn until_ready(&self) {
        self.limiter.until_ready().await;
    }

    #[cfg(test)]
    pub(crate) fn rate(&self) -> Rate {
        self.rate
    }
}

/// `rate` as governor's quota: evenly spaced, no burst. A server bucket that allows `rate` but
/// started refilling at another moment (the first request opened the connection) answered 429
/// to a client burst (docs/performance.md, row 1c).
fn quota(rate: Rate) -> Quota {
    // More than a billion per second is one per nanosecond.
    let interval = rate.interval().max(Duration::from_nanos(1));
    Quota::with_period(interval)
        .expect("the interval is at least 1 ns")
        .allow_burst(NonZeroU32::MIN)
}

/// How one attempt authenticates.
pub(crate) enum Credential<'a> {
    /// Nothing but `Prepared::headers` (`GET /auth/time`, `POST /auth/credential`).
    None,
    /// A call's proof from `Auth::prepare`, asked for its headers at every attempt (a
    /// signature covers the moment of that attempt).
    Proof(&'a dyn Proof),
    /// HTTP Basic (the OAuth2 token request).
    Basic { user: &'a str, password: &'a str },
}

/// One request, ready to be sent (and re-sent on retry: the body bytes never change).
pub(crate) struct Prepared<'a> {
    pub method: Method,
    /// What logs and errors show: the API path (query included, printed redacted) or the
    /// token URL.
    pub label: &'a str,
    pub url: String,
    pub body: Option<Vec<u8>>,
    pub content_type: &'static str,
    /// The JSON the body was made from, for TRACE logs (printed redacted).
    pub json: Option<&'a Value>,
    /// Headers every attempt carries (`X-Ovh-Application` on unauthenticated calls).
    pub headers: HeaderMap,
    pub credential: Credential<'a>,
    /// Whether the answer may be logged at TRACE (printed redacted); never for token answers.
    pub log_answer: bool,
}

impl Transport {
    /// The HTTP client for `config.endpoint`, with `config`'s timeouts, certificates and retry
    /// settings, and a budget of `rate`.
    pub(crate) fn new(config: &ClientConfig, rate: Rate) -> Result<Self, OvhError> {
        let budget = RateBudget::new(rate);
        let mut builder = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
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
        Ok(Transport {
            http,
            endpoint: config.endpoint.clone(),
            budget,
            max_retries: config.max_retries,
            retry_min_delay: config.retry_min_delay,
            retry_max_delay: config.retry_max_delay,
            unreachable_budget: config.unreachable_budget,
            unreachable_since: std::sync::Mutex::new(None),
        })
    }

    pub(crate) fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    #[cfg(test)]
    pub(crate) fn budget(&self) -> &RateBudget {
        &self.budget
    }

    /// Sends `request`, retrying by `is_retryable` with exponential backoff and jitter, and
    /// honouring `Retry-After` on 429.
    pub(crate) async fn execute(&self, request: Prepared<'_>) -> Result<ApiResponse, OvhError> {
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
            .with_min_delay(self.retry_min_delay)
            .with_max_delay(self.retry_max_delay)
            .with_max_times(self.max_retries)
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
                max_attempts = self.max_retries + 1,
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
    pub(crate) fn within_unreachable_budget(&self, wait: Duration) -> Option<Duration> {
        let now = tokio::time::Instant::now();
        let since = *self
            .unreachable_since
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert(now);
        (now.duration_since(since) + wait <= self.unreachable_budget).then_some(wait)
    }

    /// As if the API had just answered (tests).
    #[cfg(test)]
    pub(crate) fn forget_unreachable(&self) {
        *self
            .unreachable_since
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// One attempt: rate budget, authenticate, send, read, log once.
    async fn send_once(
        &self,
        request: &Prepared<'_>,
        attempt: u32,
    ) -> Result<ApiResponse, OvhError> {
        self.budget.until_ready().await;

        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let body = request.body.as_deref().unwrap_or_default();
        if request.body.is_some() {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(request.content_type));
        }
        for (name, value) in &request.headers {
            headers.insert(name, value.clone());
        }
        let mut builder = self.http.request(request.method.clone(), &request.url);
        match &request.credential {
            Credential::None => {}
            Credential::Proof(proof) => {
                proof.headers(&request.method, &request.url, body, &mut headers)?
            }
            Credential::Basic { user, password } => {
                builder = builder.basic_auth(user, Some(password));
            }
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
        if status == StatusCode::UNAUTHORIZED {
            if let Credential::Proof(proof) = &request.credential {
                for challenge in response.headers().get_all(WWW_AUTHENTICATE) {
                    if let Ok(challenge) = challenge.to_str() {
                        proof.challenged(challenge);
                    }
                }
            }
        }
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
        if request.log_answer {
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

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::{Clock, FakeRelativeClock};

    /// A per-minute quota (Cloud Manager's shape: 100 a minute) lets one request go every
    /// 600 ms. Governor waits on its own clock and timer, not tokio's, so a paused tokio clock
    /// cannot drive `until_ready`; the quota is checked on governor's fake clock instead, a
    /// whole minute walked without waiting for it.
    #[test]
    fn a_per_minute_budget_spaces_its_requests_over_the_minute() {
        let clock = FakeRelativeClock::default();
        let budget = RateLimiter::direct_with_clock(
            quota(Rate::per_minute(NonZeroU32::new(100).unwrap())),
            clock.clone(),
        );
        let wait = || match budget.check() {
            Ok(()) => Duration::ZERO,
            Err(not_until) => not_until.wait_time_from(clock.now()),
        };
        assert_eq!(wait(), Duration::ZERO, "the first goes at once");
        assert_eq!(wait(), Duration::from_millis(600), "the second waits");
        clock.advance(Duration::from_millis(599));
        assert_eq!(wait(), Duration::from_millis(1), "599 ms: still");
        clock.advance(Duration::from_millis(1));
        assert_eq!(wait(), Duration::ZERO, "600 ms: goes");
        for _ in 0..99 {
            assert_eq!(wait(), Duration::from_millis(600), "no burst, ever");
            clock.advance(Duration::from_millis(600));
            assert_eq!(wait(), Duration::ZERO);
        }
        assert_eq!(
            Duration::from(clock.now()),
            Duration::from_secs(60),
            "101 requests: 100 intervals of 600 ms"
        );
    }

    /// The main API's budget is as before declared rates: governor's `per_second`, no burst;
    /// 20 a second is one every 50 ms.
    #[test]
    fn a_per_second_budget_is_one_request_every_interval() {
        for rate in [1, 3, 20, 1000, 1_000_000_000] {
            let rate = NonZeroU32::new(rate).unwrap();
            assert_eq!(
                quota(Rate::per_second(rate)),
                Quota::per_second(rate).allow_burst(NonZeroU32::MIN)
            );
        }
        let clock = FakeRelativeClock::default();
        let budget = RateLimiter::direct_with_clock(
            quota(Rate::per_second(NonZeroU32::new(20).unwrap())),
            clock.clone(),
        );
        assert!(budget.check().is_ok());
        let not_until = budget.check().unwrap_err();
        assert_eq!(
            not_until.wait_time_from(clock.now()),
            Duration::from_millis(50)
        );
    }

    /// A rate past one request per nanosecond is one per nanosecond, not a panic
    /// (`--rate-limit` takes any u32, and `Quota::with_period` refuses a zero period).
    #[test]
    fn a_huge_rate_is_one_request_per_nanosecond() {
        assert_eq!(
            quota(Rate::per_second(NonZeroU32::MAX)).replenish_interval(),
            Duration::from_nanos(1)
        );
    }
}
