//! Test support: a sandbox served on `127.0.0.1:0` in this process and a minimal caller that
//! signs requests exactly like the official clients, so route tests do not depend on the
//! reconcile client under test elsewhere.

#![allow(dead_code)]

use reconcile::ovh::signing::signature;
use reconcile::sandbox::{self, ManualClock, Sandbox, SandboxConfig};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// A reqwest client; reqwest is built without a default crypto provider, so install ring first.
pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// Now, in unix seconds (what `X-Ovh-Timestamp` and `/auth/time` carry).
pub fn unix_now() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is past 1970");
    i64::try_from(since.as_secs()).expect("seconds fit in an i64")
}

/// The RunAbove endpoint of the sandbox whose OVH endpoint is `endpoint` (`.../1.0`).
pub fn runabove_of(endpoint: &str) -> String {
    let root = endpoint.strip_suffix("/1.0").unwrap_or(endpoint);
    format!("{root}{}", sandbox::RUNABOVE_BASE)
}

pub struct TestSandbox {
    pub sandbox: Arc<Sandbox>,
    pub endpoint: String,
    /// Where RunAbove's API is served (`.../runabove/1.0`).
    pub runabove_endpoint: String,
    http: reqwest::Client,
    pub consumer_key: String,
}

/// What a call answered: status, JSON body (Null when empty) and the query id header.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub query_id: Option<String>,
    /// The HTTP version the answer came with (HTTP/2 over `start_tls`).
    pub version: reqwest::Version,
}

impl TestSandbox {
    /// A sandbox with project `p1` and hosting `h1.cluster021.hosting.ovh.net`, states lasting
    /// `ready_after`.
    pub async fn start(ready_after: Duration) -> TestSandbox {
        Self::start_with(SandboxConfig {
            projects: vec!["p1".into()],
            hostings: vec!["h1.cluster021.hosting.ovh.net".into()],
            ready_after,
            ..SandboxConfig::default()
        })
        .await
    }

    /// Like `start`, on a paused clock: time moves only through `advance` (and the waits of
    /// `wait_for` and `let_pass`), so lifecycles are walked through without sleeping.
    pub async fn paused(ready_after: Duration) -> TestSandbox {
        Self::start_with(SandboxConfig {
            projects: vec!["p1".into()],
            hostings: vec!["h1.cluster021.hosting.ovh.net".into()],
            ready_after,
            ..paused_config()
        })
        .await
    }

    pub async fn start_with(config: SandboxConfig) -> TestSandbox {
        let consumer_key = config.consumer_key.clone();
        let sandbox = Sandbox::new(config).expect("sandbox starts");
        let running = sandbox::serve(sandbox.clone(), "127.0.0.1:0", None)
            .await
            .expect("sandbox listens");
        TestSandbox {
            sandbox,
            endpoint: running.endpoint,
            runabove_endpoint: running.runabove_endpoint,
            http: http(),
            consumer_key,
        }
    }

    /// The sandbox over TLS (`--tls`), its CA written to `ca_cert_out`; the caller trusts that
    /// CA and negotiates HTTP/2 (ALPN), as reqwest and reconcile do.
    pub async fn start_tls(config: SandboxConfig, ca_cert_out: &std::path::Path) -> TestSandbox {
        let consumer_key = config.consumer_key.clone();
        let sandbox = Sandbox::new(config).expect("sandbox starts");
        let tls = sandbox::Tls {
            ca_cert_out: ca_cert_out.to_path_buf(),
        };
        let running = sandbox::serve(sandbox.clone(), "127.0.0.1:0", Some(tls))
            .await
            .expect("sandbox listens");
        let _ = rustls::crypto::ring::default_provider().install_default();
        let pem = std::fs::read(ca_cert_out).expect("the sandbox wrote its CA");
        let http = reqwest::Client::builder()
            .tls_certs_merge(reqwest::Certificate::from_pem_bundle(&pem).expect("a PEM CA"))
            .build()
            .expect("a TLS client");
        TestSandbox {
            sandbox,
            endpoint: running.endpoint,
            runabove_endpoint: running.runabove_endpoint,
            http,
            consumer_key,
        }
    }

    /// Moves the sandbox's paused clock forward. Panics on a sandbox that runs on the system
    /// clock.
    pub fn advance(&self, by: Duration) {
        self.sandbox
            .config
            .clock
            .manual()
            .expect("advance needs a sandbox on a paused clock (TestSandbox::paused)")
            .advance(by);
    }

    /// The sandbox's time.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.sandbox.now()
    }

    /// How much sandbox time has passed since `start` (a `now()`).
    pub fn elapsed(&self, start: chrono::DateTime<chrono::Utc>) -> Duration {
        (self.sandbox.now() - start).to_std().unwrap_or_default()
    }

    /// Lets `step` pass for the sandbox: advances its paused clock, or sleeps when it runs on
    /// the system clock.
    pub async fn let_pass(&self, step: Duration) {
        match self.sandbox.config.clock.manual() {
            Some(clock) => clock.advance(step),
            None => tokio::time::sleep(step).await,
        }
    }

    /// A signed call with the sandbox's default credentials; `path` is under `/1.0`.
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        self.call_as(&self.consumer_key.clone(), method, path, body)
            .await
    }

    pub async fn call_as(
        &self,
        consumer_key: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Answer {
        self.call_at(&self.endpoint, consumer_key, method, path, body)
            .await
    }

    /// A signed call on RunAbove's API (`path` is under `/runabove/1.0`).
    pub async fn runabove(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        let consumer_key = self.consumer_key.clone();
        self.call_at(&self.runabove_endpoint, &consumer_key, method, path, body)
            .await
    }

    async fn call_at(
        &self,
        base: &str,
        consumer_key: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Answer {
        let url = format!("{base}{path}");
        let body = body
            .map(|b| serde_json::to_string(&b).unwrap())
            .unwrap_or_default();
        // The sandbox's time (a paused clock's too), as a client that synchronised on
        // `/auth/time` would sign.
        let timestamp = self.sandbox.now().timestamp();
        let config = &self.sandbox.config;
        let verb: reconcile::ovh::Method = method.parse().unwrap();
        let sig = signature(
            &config.application_secret,
            consumer_key,
            &verb,
            &url,
            body.as_bytes(),
            timestamp,
        );
        let mut request = self
            .http
            .request(method.parse().unwrap(), &url)
            .header("X-Ovh-Application", &config.application_key)
            .header("X-Ovh-Consumer", consumer_key)
            .header("X-Ovh-Timestamp", timestamp.to_string())
            .header("X-Ovh-Signature", sig);
        if !body.is_empty() {
            request = request
                .header("Content-Type", "application/json")
                .body(body);
        }
        let response = request.send().await.expect("sandbox answers");
        let status = response.status().as_u16();
        let version = response.version();
        let query_id = response
            .headers()
            .get("x-ovh-queryid")
            .map(|v| v.to_str().unwrap().to_string());
        let text = response.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Answer {
            status,
            body,
            query_id,
            version,
        }
    }

    /// Polls `path` until `field` equals `want` or `deadline` passes; returns the last body.
    /// `deadline` is sandbox time: on a paused clock each poll advances it by 50 ms.
    pub async fn wait_for(&self, path: &str, field: &str, want: &str, deadline: Duration) -> Value {
        let start = self.now();
        loop {
            let answer = self.call("GET", path, None).await;
            if answer.body[field] == want || self.elapsed(start) > deadline {
                return answer.body;
            }
            self.let_pass(Duration::from_millis(50)).await;
        }
    }
}

/// The default configuration on a paused clock that starts at the system time (so signed
/// timestamps stay within the sandbox's tolerance).
pub fn paused_config() -> SandboxConfig {
    SandboxConfig {
        clock: ManualClock::starting_now().into(),
        ..SandboxConfig::default()
    }
}
