//! The OVH client (`reconcile::ovh`) against wiremock: signed headers that verify, one server
//! time fetch, the retry policy (counts per method and status, `Retry-After`), errors carrying
//! their context, the shared rate limiter, OAuth2 tokens, HTTP Digest's challenge, an extra TLS
//! root, logs that never leak a secret, and signatures identical to python-ovh's
//! (`tests/interop/signature_vectors.py`).

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reconcile::ovh::signing::{json_body, signature};
use reconcile::ovh::{
    is_retryable, Client, ClientConfig, Credentials, Endpoint, Method, OvhError, StatusCode,
};
use serde_json::{json, Value};
use wiremock::matchers::{header, header_exists, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const AK: &str = "test-app-key-AK1";
const AS: &str = "test-app-secret-AS-9f8e7d";
const CK: &str = "test-consumer-key-CK-1a2b3c";
const QUERY_ID: &str = "EU.ext-3.63ac85b6.10528.27b4f1fc-7be3-4da2-bdd0-ce044c421e61";

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A server answering `GET /1.0/auth/time` with `now + skew`.
async fn server_with_time(skew: i64) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/1.0/auth/time"))
        .respond_with(move |_: &Request| {
            ResponseTemplate::new(200).set_body_json(json!(unix_now() + skew))
        })
        .named("auth time")
        .mount(&server)
        .await;
    server
}

fn config(server: &MockServer) -> ClientConfig {
    let endpoint = Endpoint::parse(&format!("{}/1.0", server.uri())).unwrap();
    let mut config = ClientConfig::new(endpoint, Credentials::application(AK, AS, CK));
    config.retry_min_delay = Duration::from_millis(5);
    config.retry_max_delay = Duration::from_millis(20);
    config.rate_limit_per_sec = 1000;
    config
}

fn client(server: &MockServer) -> Client {
    Client::new(config(server)).unwrap()
}

async fn requests_to(server: &MockServer, p: &str) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == p)
        .collect()
}

fn header_str<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers.get(name).map(|v| v.to_str().unwrap())
}

/// The URL the client signed: wiremock's `Request::url` says `localhost` without the port.
fn signed_url(server: &MockServer, req: &Request) -> String {
    match req.url.query() {
        Some(q) => format!("{}{}?{q}", server.uri(), req.url.path()),
        None => format!("{}{}", server.uri(), req.url.path()),
    }
}

fn ok_json(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("x-ovh-queryid", QUERY_ID)
        .set_body_json(body)
}

#[tokio::test]
async fn signed_headers_are_present_and_verify() {
    let server = server_with_time(1000).await;
    Mock::given(method("GET"))
        .and(path("/1.0/cloud/project/p1/database/service"))
        .respond_with(ok_json(json!(["a", "b"])))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/1.0/cloud/project/p1/database/mongodb"))
        .respond_with(ok_json(json!({"id": "c1", "status": "CREATING"})))
        .mount(&server)
        .await;
    let client = client(&server);

    let ids: Vec<String> = client
        .get("/cloud/project/p1/database/service?category=operational")
        .await
        .unwrap();
    assert_eq!(ids, ["a", "b"]);
    let body = json!({"description": "orders-db ü", "plan": "production", "nodesNumber": 3});
    let created = client
        .call(
            Method::POST,
            "/cloud/project/p1/database/mongodb",
            Some(&body),
        )
        .await
        .unwrap();
    assert_eq!(created.status, StatusCode::OK);
    assert_eq!(created.query_id.as_deref(), Some(QUERY_ID));
    assert_eq!(created.body["id"], "c1");

    let time = requests_to(&server, "/1.0/auth/time").await;
    assert_eq!(time.len(), 1);
    assert_eq!(header_str(&time[0], "x-ovh-application"), Some(AK));
    assert!(
        time[0].headers.get("x-ovh-signature").is_none(),
        "/auth/time is unsigned"
    );

    let calls: Vec<Request> = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() != "/1.0/auth/time")
        .collect();
    assert_eq!(calls.len(), 2);
    for req in &calls {
        assert_eq!(header_str(req, "x-ovh-application"), Some(AK));
        assert_eq!(header_str(req, "x-ovh-consumer"), Some(CK));
        let ts: i64 = header_str(req, "x-ovh-timestamp").unwrap().parse().unwrap();
        assert!(
            (ts - (unix_now() + 1000)).abs() <= 5,
            "timestamp {ts} uses the server time delta"
        );
        let expected = signature(
            AS,
            CK,
            &Method::from_bytes(req.method.as_str().as_bytes()).unwrap(),
            &signed_url(&server, req),
            &req.body,
            ts,
        );
        assert_eq!(header_str(req, "x-ovh-signature"), Some(expected.as_str()));
    }
    assert_eq!(
        signed_url(&server, &calls[0]),
        format!(
            "{}/1.0/cloud/project/p1/database/service?category=operational",
            server.uri()
        )
    );
    assert!(calls[0].body.is_empty());
    assert!(calls[0].headers.get("content-type").is_none());
    assert_eq!(
        calls[1].body,
        json_body(&body),
        "the exact signed bytes are sent"
    );
    assert_eq!(
        String::from_utf8(calls[1].body.clone()).unwrap(),
        r#"{"description":"orders-db \u00fc","plan":"production","nodesNumber":3}"#
    );
    assert_eq!(
        header_str(&calls[1], "content-type"),
        Some("application/json")
    );
}

#[tokio::test]
async fn server_time_is_fetched_once_for_many_calls_across_clones() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/1.0/auth/time"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!(unix_now()))
                .set_delay(Duration::from_millis(100)),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/1.0/me"))
        .respond_with(ok_json(json!({"nichandle": "xx1-ovh"})))
        .expect(12)
        .mount(&server)
        .await;
    let client = client(&server);
    // Concurrent first calls must still share one fetch.
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.get::<Value>("/me").await.unwrap() })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    for _ in 0..6 {
        client.get::<Value>("/me").await.unwrap();
    }
    assert_eq!(requests_to(&server, "/1.0/auth/time").await.len(), 1);
    server.verify().await;
}

#[tokio::test]
async fn server_time_failure_is_a_clear_error_and_nothing_else_is_called() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/1.0/auth/time"))
        .respond_with(ResponseTemplate::new(200).set_body_string("\"not a number\""))
        .mount(&server)
        .await;
    let err = client(&server).get::<Value>("/me").await.unwrap_err();
    assert!(matches!(err, OvhError::ServerTime { .. }), "{err:?}");
    let shown = err.to_string();
    assert!(
        shown.starts_with("could not read the api server time from http://127.0.0.1:"),
        "{shown}"
    );
    assert!(requests_to(&server, "/1.0/me").await.is_empty());
}

#[tokio::test]
async fn get_is_retried_on_503_until_it_succeeds() {
    let server = server_with_time(0).await;
    Mock::given(method("GET"))
        .and(path("/1.0/me"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/1.0/me"))
        .respond_with(ok_json(json!({"ok": true})))
        .mount(&server)
        .await;
    let me: Value = client(&server).get("/me").await.unwrap();
    assert_eq!(me, json!({"ok": true}));
    assert_eq!(requests_to(&server, "/1.0/me").await.len(), 3);
}

#[tokio::test]
async fn put_and_delete_are_retried_on_5xx() {
    let server = server_with_time(0).await;
    for verb in ["PUT", "DELETE"] {
        Mock::given(method(verb))
            .and(path("/1.0/x"))
            .respond_with(ResponseTemplate::new(502))
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(method(verb))
            .and(path("/1.0/x"))
            .respond_with(ResponseTemplate::new(200))
            .mount(&server)
            .await;
    }
    let client = client(&server);
    client.put::<(), _>("/x", &json!({"a": 1})).await.unwrap();
    client.delete::<()>("/x").await.unwrap();
    let calls = requests_to(&server, "/1.0/x").await;
    let count = |m: &str| calls.iter().filter(|r| r.method.as_str() == m).count();
    assert_eq!((count("PUT"), count("DELETE")), (2, 2));
}

#[tokio::test]
async fn post_is_never_retried_on_500() {
    let server = server_with_time(0).await;
    Mock::given(method("POST"))
        .and(path("/1.0/cloud/project/p1/database/postgresql/c1/user"))
        .respond_with(
            ResponseTemplate::new(500)
                .insert_header("x-ovh-queryid", QUERY_ID)
                .set_body_json(json!({"class": "Server::InternalServerError", "message": "Internal server error"})),
        )
        .mount(&server)
        .await;
    let err = client(&server)
        .post::<Value, _>(
            "/cloud/project/p1/database/postgresql/c1/user",
            &json!({"name": "app"}),
        )
        .await
        .unwrap_err();
    assert_eq!(
        requests_to(&server, "/1.0/cloud/project/p1/database/postgresql/c1/user")
            .await
            .len(),
        1
    );
    assert!(!is_retryable(&err));
    let shown = err.to_string();
    assert!(
        shown.contains("the POST may still have been applied"),
        "{shown}"
    );
}

#[tokio::test]
async fn post_is_retried_on_429() {
    let server = server_with_time(0).await;
    Mock::given(method("POST"))
        .and(path("/1.0/auth/logout"))
        .respond_with(ResponseTemplate::new(429))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/1.0/auth/logout"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    client(&server)
        .post::<(), _>("/auth/logout", &json!({}))
        .await
        .unwrap();
    assert_eq!(requests_to(&server, "/1.0/auth/logout").await.len(), 2);
}

#[tokio::test]
async fn retry_after_on_429_is_honoured() {
    let server = server_with_time(0).await;
    Mock::given(method("GET"))
        .and(path("/1.0/me"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/1.0/me"))
        .respond_with(ok_json(json!({})))
        .mount(&server)
        .await;
    let client = client(&server);
    client.time_delta().await.unwrap();
    let started = Instant::now();
    client.get::<Value>("/me").await.unwrap();
    // The backoff alone would wait at most 20 ms here.
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "waited only {:?}",
        started.elapsed()
    );
    assert_eq!(requests_to(&server, "/1.0/me").await.len(), 2);
}

#[tokio::test]
async fn exhausted_retries_return_the_last_error_with_its_context() {
    let server = server_with_time(0).await;
    Mock::given(method("GET"))
        .and(path("/1.0/cloud/project/p1/database/mongodb/c1"))
        .respond_with(
            ResponseTemplate::new(503)
                .insert_header("x-ovh-queryid", QUERY_ID)
                .set_body_json(json!({"class": "Server::ServiceUnavailable::Maintenance", "message": "Service under maintenance"})),
        )
        .mount(&server)
        .await;
    let mut config = config(&server);
    config.max_retries = 2;
    let err = Client::new(config)
        .unwrap()
        .get::<Value>("/cloud/project/p1/database/mongodb/c1")
        .await
        .unwrap_err();
    assert_eq!(
        requests_to(&server, "/1.0/cloud/project/p1/database/mongodb/c1")
            .await
            .len(),
        3
    );
    match &err {
        OvhError::Api {
            method,
            path,
            status,
            query_id,
            reply,
        } => {
            assert_eq!(*method, Method::GET);
            assert_eq!(path, "/cloud/project/p1/database/mongodb/c1");
            assert_eq!(*status, StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(query_id.as_deref(), Some(QUERY_ID));
            assert_eq!(
                reply.class.as_deref(),
                Some("Server::ServiceUnavailable::Maintenance")
            );
            assert_eq!(reply.message, "Service under maintenance");
            assert_eq!(reply.error_code, None);
        }
        other => panic!("expected an api error, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        format!(
            "GET /cloud/project/p1/database/mongodb/c1 returned 503 \
             Server::ServiceUnavailable::Maintenance: \"Service under maintenance\" \
             (query id {QUERY_ID}); hint: the api failed; retry later"
        )
    );
}

#[tokio::test]
async fn auth_error_bodies_give_the_error_code_and_a_hint() {
    let server = server_with_time(0).await;
    Mock::given(method("DELETE"))
        .and(path("/1.0/cloud/project/p1/database/mongodb/c1"))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("x-ovh-queryid", QUERY_ID)
                .set_body_json(json!({"errorCode": "NOT_GRANTED_CALL", "httpCode": "403 Forbidden", "message": "This call has not been granted"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/1.0/me"))
        .respond_with(ResponseTemplate::new(403).set_body_json(
            json!({"errorCode": "INVALID_CREDENTIAL", "httpCode": "403 Forbidden", "message": "This credential is not valid"}),
        ))
        .mount(&server)
        .await;
    let client = client(&server);
    let err = client
        .delete::<()>("/cloud/project/p1/database/mongodb/c1")
        .await
        .unwrap_err();
    assert_eq!(err.error_code(), Some("NOT_GRANTED_CALL"));
    assert_eq!(err.query_id(), Some(QUERY_ID));
    assert!(
        err.to_string().contains("hint: the consumer key's access rules do not allow DELETE /cloud/project/p1/database/mongodb/c1"),
        "{err}"
    );
    let err = client.get::<Value>("/me").await.unwrap_err();
    assert_eq!(err.error_code(), Some("INVALID_CREDENTIAL"));
    assert!(
        err.hint()
            .unwrap()
            .contains("generate and validate a new one"),
        "{err}"
    );
    // Neither is retried.
    assert_eq!(requests_to(&server, "/1.0/me").await.len(), 1);
}

#[tokio::test]
async fn rate_limiter_is_shared_by_clones() {
    let server = server_with_time(0).await;
    Mock::given(method("GET"))
        .and(path("/1.0/me"))
        .respond_with(ok_json(json!({})))
        .mount(&server)
        .await;
    let mut config = config(&server);
    config.rate_limit_per_sec = 10; // a burst of 10, then one every 100 ms
    let client = Client::new(config).unwrap();
    let started = Instant::now();
    let tasks: Vec<_> = (0..3)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move {
                for _ in 0..6 {
                    c.get::<Value>("/me").await.unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    // 19 requests (18 + /auth/time) through one 10/s limiter: at least 9 waits of 100 ms.
    // Three separate limiters would let each clone's 6-7 requests through at once.
    assert!(
        started.elapsed() >= Duration::from_millis(800),
        "took only {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn oauth2_token_is_fetched_once_and_sent_as_bearer() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/auth/oauth2/token"))
        .and(header_exists("authorization"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "oauth-access-token-SECRET-42",
            "token_type": "Bearer",
            "expires_in": 3600,
            "scope": "all",
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/1.0/me"))
        .and(header(
            "authorization",
            "Bearer oauth-access-token-SECRET-42",
        ))
        .respond_with(ok_json(json!({})))
        .expect(4)
        .mount(&server)
        .await;
    let endpoint = Endpoint::parse(&format!("{}/1.0", server.uri())).unwrap();
    let client = Client::new(ClientConfig::new(
        endpoint,
        Credentials::oauth2("client-id-1", "client-secret-SECRET-77"),
    ))
    .unwrap();
    for _ in 0..2 {
        client.get::<Value>("/me").await.unwrap();
        client.clone().get::<Value>("/me").await.unwrap();
    }
    server.verify().await;

    let token = &requests_to(&server, "/auth/oauth2/token").await[0];
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&token.body)
        .into_owned()
        .collect();
    for pair in [
        ("grant_type", "client_credentials"),
        ("client_id", "client-id-1"),
        ("client_secret", "client-secret-SECRET-77"),
        ("scope", "all"),
    ] {
        assert!(
            form.contains(&(pair.0.into(), pair.1.into())),
            "{pair:?} in {form:?}"
        );
    }
    let basic = header_str(token, "authorization").unwrap();
    assert!(basic.starts_with("Basic "), "{basic}");
    for call in requests_to(&server, "/1.0/me").await {
        assert!(call.headers.get("x-ovh-signature").is_none());
        assert!(call.headers.get("x-ovh-consumer").is_none());
    }
    assert!(requests_to(&server, "/1.0/auth/time").await.is_empty());
}

#[tokio::test]
async fn oauth2_token_failure_says_what_to_check() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/auth/oauth2/token"))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"error": "invalid_client", "error_description": "client authentication failed"}),
        ))
        .mount(&server)
        .await;
    let endpoint = Endpoint::parse(&format!("{}/1.0", server.uri())).unwrap();
    let client = Client::new(ClientConfig::new(
        endpoint,
        Credentials::oauth2("id", "client-secret-SECRET-77"),
    ))
    .unwrap();
    let err = client.get::<Value>("/me").await.unwrap_err();
    assert!(matches!(err, OvhError::Auth { .. }), "{err:?}");
    let shown = err.to_string();
    assert!(shown.contains("the token endpoint answered 401"), "{shown}");
    assert!(
        shown.contains("OVH_CLIENT_ID, OVH_CLIENT_SECRET"),
        "{shown}"
    );
    assert!(!shown.contains("SECRET-77"));
}

#[tokio::test]
async fn unreachable_endpoint_is_a_transport_error_without_the_url() {
    // Bind then drop a listener: nothing answers on that port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = Endpoint::parse(&format!("http://127.0.0.1:{port}/1.0")).unwrap();
    let mut config = ClientConfig::new(endpoint, Credentials::application(AK, AS, CK));
    config.max_retries = 1;
    config.retry_min_delay = Duration::from_millis(1);
    let err = Client::new(config)
        .unwrap()
        .call_unsigned(Method::GET, "/auth/time?token=qs-SECRET", None)
        .await
        .unwrap_err();
    assert!(matches!(err, OvhError::Transport { .. }), "{err:?}");
    assert!(is_retryable(&err), "a GET that got no answer is retryable");
    let chain = error_chain(&err);
    assert!(
        chain.starts_with("GET /auth/time?token=*** failed before an answer came back"),
        "{chain}"
    );
    assert!(!chain.contains("qs-SECRET"), "{chain}");
}

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

/// A `MakeWriter` target: everything the subscriber writes, in memory.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogBuffer {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

const BODY_PASSWORD: &str = "body-password-SECRET-1";
const RESPONSE_PASSWORD: &str = "response-password-SECRET-2";
const QUERY_PASSWORD: &str = "query-password-SECRET-3";
const TOKEN: &str = "oauth-access-token-SECRET-4";
const CLIENT_SECRET: &str = "client-secret-SECRET-5";

/// Routes for the redaction test: a POST answering a password, a GET that fails once with
/// 503, a refused PUT, an OAuth2 token and `/me`.
async fn mount_redaction_routes(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/1.0/auth/time"))
        .respond_with(move |_: &Request| {
            ResponseTemplate::new(200).set_body_json(json!(unix_now()))
        })
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/1.0/cloud/project/p1/database/postgresql/c1/user"))
        .respond_with(ok_json(
            json!({"id": "u1", "name": "app", "password": RESPONSE_PASSWORD}),
        ))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/1.0/cloud/project/p1/database/service"))
        .respond_with(ResponseTemplate::new(503).insert_header("x-ovh-queryid", QUERY_ID))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/1.0/cloud/project/p1/database/service"))
        .respond_with(ok_json(json!([])))
        .mount(server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/1.0/cloud/project/p1/database/postgresql/c1"))
        .respond_with(ResponseTemplate::new(403).set_body_json(
            json!({"errorCode": "NOT_GRANTED_CALL", "httpCode": "403 Forbidden", "message": "This call has not been granted"}),
        ))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/auth/oauth2/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": TOKEN, "expires_in": 3600})),
        )
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/1.0/me"))
        .respond_with(ok_json(json!({"consumerKey": "x"})))
        .mount(server)
        .await;
}

/// Calls whose bodies, queries and credentials carry the secrets; returns the errors met.
async fn exercise_redaction_routes(server: &MockServer) -> Vec<OvhError> {
    let client = client(server);
    let mut errors = Vec::new();
    client
        .post::<Value, _>(
            "/cloud/project/p1/database/postgresql/c1/user",
            &json!({"name": "app", "password": BODY_PASSWORD}),
        )
        .await
        .unwrap();
    client
        .get::<Value>(&format!(
            "/cloud/project/p1/database/service?category=operational&password={QUERY_PASSWORD}"
        ))
        .await
        .unwrap();
    errors.push(
        client
            .put::<Value, _>(
                &format!("/cloud/project/p1/database/postgresql/c1?token={QUERY_PASSWORD}"),
                &json!({"password": BODY_PASSWORD}),
            )
            .await
            .unwrap_err(),
    );
    let endpoint = Endpoint::parse(&format!("{}/1.0", server.uri())).unwrap();
    let oauth = Client::new(ClientConfig::new(
        endpoint,
        Credentials::oauth2("client-id", CLIENT_SECRET),
    ))
    .unwrap();
    oauth.get::<Value>("/me").await.unwrap();
    errors.push(
        oauth
            .post::<Value, _>("/nowhere", &json!({"secret": BODY_PASSWORD}))
            .await
            .unwrap_err(),
    );
    errors
}

/// Set in the child process that runs `redaction_capture_child`.
const REDACTION_CHILD_ENV: &str = "RECONCILE_OVH_REDACTION_CHILD";

/// Runs `redaction_capture_child` alone in a fresh process of this test binary.
///
/// tracing caches each log site's interest globally, computed from the subscriber of
/// whichever thread hits it first; with other tests hitting the same sites in parallel, a
/// scoped subscriber (`set_default`) can miss events at random. One test in its own
/// process has no such race.
#[test]
fn logs_and_errors_never_contain_secrets() {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "ovh_client::redaction_capture_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(REDACTION_CHILD_ENV, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "the redaction check failed in its own process:\n{stdout}\n{stderr}"
    );
}

/// The body of `logs_and_errors_never_contain_secrets`; a no-op unless run by it.
#[tokio::test]
async fn redaction_capture_child() {
    if std::env::var_os(REDACTION_CHILD_ENV).is_none() {
        return;
    }
    let server = MockServer::start().await;
    mount_redaction_routes(&server).await;

    let logs = LogBuffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    let errors = exercise_redaction_routes(&server).await;
    drop(guard);

    let text = logs.text();
    let mut secrets = vec![
        AS.to_owned(),
        CK.to_owned(),
        BODY_PASSWORD.to_owned(),
        RESPONSE_PASSWORD.to_owned(),
        QUERY_PASSWORD.to_owned(),
        TOKEN.to_owned(),
        CLIENT_SECRET.to_owned(),
    ];
    for req in server.received_requests().await.unwrap() {
        for name in ["x-ovh-signature", "authorization"] {
            if let Some(v) = header_str(&req, name) {
                let v = v.trim_start_matches("Bearer ").trim_start_matches("Basic ");
                secrets.push(v.trim_start_matches("$1$").to_owned());
            }
        }
    }
    assert!(
        secrets.len() > 10,
        "signatures and bearer tokens were collected"
    );
    let shown_errors: Vec<String> = errors.iter().map(|e| error_chain(e)).collect();
    for secret in &secrets {
        assert!(
            !text.contains(secret.as_str()),
            "log leaks {secret}:\n{text}"
        );
        for e in &shown_errors {
            assert!(!e.contains(secret.as_str()), "error leaks {secret}: {e}");
        }
    }

    // What should be there is there: one DEBUG line per call, a WARN per retry.
    for needle in [
        "method=POST path=/cloud/project/p1/database/postgresql/c1/user status=200",
        "method=GET path=/cloud/project/p1/database/service?category=operational&password=*** status=503",
        "method=GET path=/cloud/project/p1/database/service?category=operational&password=*** status=200",
        "method=PUT path=/cloud/project/p1/database/postgresql/c1?token=*** status=403",
        "method=GET path=/auth/time status=200",
        "method=GET path=/me status=200",
        "elapsed_ms=",
        &format!("query_id={QUERY_ID}"),
        "WARN",
        "retrying ovh api call",
        r#"password":"***"#,
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    assert!(
        shown_errors[0]
            .contains("PUT /cloud/project/p1/database/postgresql/c1?token=*** returned 403"),
        "{}",
        shown_errors[0]
    );
}

#[tokio::test]
async fn an_extra_root_certificate_lets_the_client_reach_a_tls_sandbox() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cert =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    let cert_pem = cert.cert.pem();
    let tls = axum_server::tls_rustls::RustlsConfig::from_pem(
        cert_pem.clone().into_bytes(),
        cert.signing_key.serialize_pem().into_bytes(),
    )
    .await
    .unwrap();
    let app = axum::Router::new()
        .route(
            "/1.0/auth/time",
            axum::routing::get(|| async { axum::Json(unix_now()) }),
        )
        .route(
            "/1.0/me",
            axum::routing::get(|| async { axum::Json(json!({"tls": true})) }),
        );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = axum_server::Handle::new();
    let server = axum_server::from_tcp_rustls(listener, tls)
        .unwrap()
        .handle(handle.clone());
    tokio::spawn(server.serve(app.into_make_service()));

    let endpoint = Endpoint::parse(&format!("https://127.0.0.1:{port}/1.0")).unwrap();
    let mut config = ClientConfig::new(endpoint.clone(), Credentials::application(AK, AS, CK));
    config.max_retries = 0;
    let untrusting = Client::new(config.clone()).unwrap();
    let err = untrusting.get::<Value>("/me").await.unwrap_err();
    assert!(
        matches!(&err, OvhError::ServerTime { source, .. } if matches!(**source, OvhError::Transport { .. })),
        "{err:?}"
    );

    config.root_certificate_pem = Some(cert_pem.into_bytes());
    let trusting = Client::new(config).unwrap();
    let me: Value = trusting.get("/me").await.unwrap();
    assert_eq!(me, json!({"tls": true}));
    handle.shutdown();
}

/// One vector printed by `tests/interop/signature_vectors.py`.
#[derive(serde::Deserialize)]
struct PythonVector {
    name: String,
    endpoint: String,
    method: String,
    path: String,
    url: String,
    data: Value,
    body: String,
    application_key: String,
    application_secret: String,
    consumer_key: String,
    timestamp: String,
    signature: String,
    headers: std::collections::BTreeMap<String, String>,
}

#[test]
fn python_ovh_signatures_urls_and_bodies_match_ours() {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/interop/signature_vectors.py"
    );
    let python = crate::interop::python();
    let output = std::process::Command::new(&python)
        .arg(script)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "could not run {} ({e})\n{}",
                python.display(),
                crate::interop::PYTHON_HINT
            )
        });
    assert!(
        output.status.success(),
        "{script} failed under {}:\n{}\n{}",
        python.display(),
        String::from_utf8_lossy(&output.stderr),
        crate::interop::PYTHON_HINT
    );
    let vectors: Vec<PythonVector> = serde_json::from_slice(&output.stdout).unwrap();
    assert!(vectors.len() >= 10, "got {} vectors", vectors.len());
    for v in &vectors {
        let endpoint = Endpoint::parse(&v.endpoint).unwrap();
        assert_eq!(endpoint.url_for(&v.path), v.url, "{}: url", v.name);
        if !v.data.is_null() {
            assert_eq!(
                String::from_utf8(json_body(&v.data)).unwrap(),
                v.body,
                "{}: body bytes",
                v.name
            );
        }
        let method = Method::from_bytes(v.method.as_bytes()).unwrap();
        let ts: i64 = v.timestamp.parse().unwrap();
        assert_eq!(
            signature(
                &v.application_secret,
                &v.consumer_key,
                &method,
                &v.url,
                v.body.as_bytes(),
                ts
            ),
            v.signature,
            "{}: signature",
            v.name
        );
        assert_eq!(v.headers["X-Ovh-Application"], v.application_key);
        assert_eq!(v.headers["X-Ovh-Consumer"], v.consumer_key);
        assert_eq!(
            v.headers.contains_key("Content-type"),
            !v.body.is_empty(),
            "{}",
            v.name
        );
    }
}

/// Checks an `Authorization: Digest` header the way a server does, from the RFC 7616 formula
/// (MD5, `qop=auth`), independently of the client's code.
struct DigestAnswers {
    username: &'static str,
    password: &'static str,
    realm: &'static str,
    nonce: &'static str,
}

impl wiremock::Match for DigestAnswers {
    fn matches(&self, request: &Request) -> bool {
        use md5::{Digest, Md5};
        let hex = |text: String| -> String {
            Md5::digest(text.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        };
        let Some(value) = header_str(request, "authorization") else {
            return false;
        };
        let Some(params) = value.strip_prefix("Digest ") else {
            return false;
        };
        let field = |key: &str| {
            params.split(", ").find_map(|pair| {
                let (k, v) = pair.split_once('=')?;
                (k == key).then(|| v.trim_matches('"').to_owned())
            })
        };
        let target = match request.url.query() {
            Some(q) => format!("{}?{q}", request.url.path()),
            None => request.url.path().to_owned(),
        };
        let (Some(nc), Some(cnonce), Some(response)) =
            (field("nc"), field("cnonce"), field("response"))
        else {
            return false;
        };
        let ha1 = hex(format!(
            "{}:{}:{}",
            self.username, self.realm, self.password
        ));
        let ha2 = hex(format!("{}:{target}", request.method));
        field("username").as_deref() == Some(self.username)
            && field("nonce").as_deref() == Some(self.nonce)
            && field("uri") == Some(target)
            && response == hex(format!("{ha1}:{}:{nc}:{cnonce}:auth:{ha2}", self.nonce))
    }
}

/// HTTP Digest, Cloud Manager's scheme: a client's first call is challenged (401 with
/// `WWW-Authenticate: Digest`) and sent again once, answering; its next call answers the kept
/// challenge at once, with the next request count. Wrong keys end with the 401 after one
/// answer, not in a loop.
#[tokio::test]
async fn http_digest_answers_the_challenge_once_then_reuses_it() {
    const REALM: &str = "MMS Public API";
    const NONCE: &str = "nonce-Vh3v2qAJ";
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/public/v1.0/groups/g1"))
        .and(DigestAnswers {
            username: "public-key",
            password: "private-key-SECRET",
            realm: REALM,
            nonce: NONCE,
        })
        .respond_with(ok_json(json!({"id": "g1"})))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(wiremock::matchers::any())
        .respond_with(
            ResponseTemplate::new(401)
                .insert_header(
                    "www-authenticate",
                    format!(
                        r#"Digest realm="{REALM}", domain="", nonce="{NONCE}", algorithm=MD5, qop="auth", stale=false"#
                    )
                    .as_str(),
                )
                .set_body_json(json!({"error": 401, "reason": "Unauthorized"})),
        )
        .with_priority(2)
        .mount(&server)
        .await;
    let endpoint = Endpoint::parse(&format!("{}/api/public/v1.0", server.uri())).unwrap();
    let config = |password: &str| {
        let mut config = ClientConfig::new(
            endpoint.clone(),
            Credentials::digest("public-key", password),
        );
        config.rate_limit_per_sec = 1000;
        config
    };
    let client = Client::new(config("private-key-SECRET")).unwrap();
    assert_eq!(
        client.get::<Value>("/groups/g1").await.unwrap(),
        json!({"id": "g1"})
    );
    client.clone().get::<Value>("/groups/g1").await.unwrap();
    let calls = requests_to(&server, "/api/public/v1.0/groups/g1").await;
    assert_eq!(calls.len(), 3, "challenged once, then answered twice");
    assert!(header_str(&calls[0], "authorization").is_none());
    let nc = |r: &Request| {
        let value = header_str(r, "authorization").unwrap();
        value
            .split(", ")
            .find(|p| p.starts_with("nc="))
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        (nc(&calls[1]), nc(&calls[2])),
        ("nc=00000001".into(), "nc=00000002".into())
    );
    assert!(requests_to(&server, "/api/public/v1.0/auth/time")
        .await
        .is_empty());

    let wrong = Client::new(config("not-the-key")).unwrap();
    let err = wrong.get::<Value>("/groups/g1").await.unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::UNAUTHORIZED), "{err}");
    assert!(!err.to_string().contains("not-the-key"), "{err}");
    assert_eq!(
        requests_to(&server, "/api/public/v1.0/groups/g1")
            .await
            .len(),
        5,
        "challenged, answered once, refused"
    );
}
