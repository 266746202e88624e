//! The sandbox's authentication layer: signatures as the official clients compute them, the
//! exact auth error bodies they parse, consumer keys with access rules, OAuth2, and the
//! headers and faults every answer goes through.

use crate::support::{http, unix_now, TestSandbox};
use reconcile::ovh::signing::signature;
use reconcile::ovh::Method;
use reconcile::sandbox::SandboxConfig;
use serde_json::{json, Value};
use std::time::Duration;

struct Raw {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

/// A request sent to `url`, signed with `secret`/`consumer_key` over `signed_url` at
/// `timestamp`; `None` fields leave the header out.
async fn send(
    (url, signed_url): (&str, &str),
    method: &str,
    body: &str,
    application_key: Option<&str>,
    consumer_key: Option<&str>,
    secret: &str,
    timestamp: i64,
) -> Raw {
    let ts = timestamp.to_string();
    let verb: Method = method.parse().unwrap();
    let mut request = http().request(method.parse().unwrap(), url);
    if let Some(ak) = application_key {
        request = request.header("X-Ovh-Application", ak);
    }
    if let Some(ck) = consumer_key {
        let sig = signature(secret, ck, &verb, signed_url, body.as_bytes(), timestamp);
        request = request
            .header("X-Ovh-Consumer", ck)
            .header("X-Ovh-Timestamp", &ts)
            .header("X-Ovh-Signature", sig);
    }
    if !body.is_empty() {
        request = request
            .header("Content-Type", "application/json")
            .body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    Raw {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
    }
}

fn now() -> i64 {
    unix_now()
}

const AK: &str = reconcile::sandbox::DEFAULT_APPLICATION_KEY;
const AS: &str = reconcile::sandbox::DEFAULT_APPLICATION_SECRET;
const CK: &str = reconcile::sandbox::DEFAULT_CONSUMER_KEY;

#[tokio::test]
async fn auth_errors_have_the_exact_bodies_the_official_clients_parse() {
    let sb = TestSandbox::start(Duration::from_millis(300)).await;
    let url = format!("{}/auth/currentCredential", sb.endpoint);

    let ok = send((&url, &url), "GET", "", Some(AK), Some(CK), AS, now()).await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert_eq!(ok.body["status"], "validated");
    assert!(ok.headers.get("x-ovh-queryid").is_some());

    let bad_sig = send(
        (&url, &url),
        "GET",
        "",
        Some(AK),
        Some(CK),
        "wrong-secret",
        now(),
    )
    .await;
    assert_eq!(bad_sig.status, 400);
    assert_eq!(
        bad_sig.body,
        json!({"class": "Client::BadRequest", "errorCode": "INVALID_SIGNATURE", "httpCode": "400 Bad Request", "message": "Invalid signature"})
    );
    assert!(
        bad_sig.headers.get("x-ovh-queryid").is_some(),
        "errors carry a query id too"
    );

    let stale = send(
        (&url, &url),
        "GET",
        "",
        Some(AK),
        Some(CK),
        AS,
        now() - 3600,
    )
    .await;
    assert_eq!(stale.status, 400);
    assert_eq!(stale.body["errorCode"], "QUERY_TIME_OUT");

    let unknown_app = send((&url, &url), "GET", "", Some("nope"), Some(CK), AS, now()).await;
    assert_eq!(unknown_app.status, 403);
    assert_eq!(
        unknown_app.body,
        json!({"class": "Client::Forbidden", "errorCode": "INVALID_KEY", "httpCode": "403 Forbidden", "message": "This application key is invalid"})
    );

    let unknown_ck = send((&url, &url), "GET", "", Some(AK), Some("nope"), AS, now()).await;
    assert_eq!(unknown_ck.status, 403);
    assert_eq!(unknown_ck.body["errorCode"], "NOT_CREDENTIAL");

    // the body is part of the signature: a body changed in flight is refused
    let post_url = format!("{}/auth/logout", sb.endpoint);
    let ts = now();
    let sig = signature(AS, CK, &Method::POST, &post_url, b"{\"a\":1}", ts);
    let tampered = http()
        .post(&post_url)
        .header("X-Ovh-Application", AK)
        .header("X-Ovh-Consumer", CK)
        .header("X-Ovh-Timestamp", ts.to_string())
        .header("X-Ovh-Signature", sig)
        .body("{\"a\":2}")
        .send()
        .await
        .unwrap();
    assert_eq!(tampered.status(), 400);
}

#[tokio::test]
async fn node_style_signature_without_port_and_the_v1_alias_are_accepted() {
    let sb = TestSandbox::start(Duration::from_millis(300)).await;
    let url = format!("{}/auth/currentCredential?x=1", sb.endpoint);
    let port = url
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let node_signed = url
        .replace("http://", "https://")
        .replace(&format!(":{port}"), "");
    let answer = send(
        (&url, &node_signed),
        "GET",
        "",
        Some(AK),
        Some(CK),
        AS,
        now(),
    )
    .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);

    let v1 = url.replace("/1.0/", "/v1/");
    let answer = send((&v1, &v1), "GET", "", Some(AK), Some(CK), AS, now()).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
}

#[tokio::test]
async fn consumer_key_flow_pending_validated_and_access_rules() {
    let sb = TestSandbox::start(Duration::from_millis(300)).await;
    let body = json!({"accessRules": [{"method": "GET", "path": "/auth/*"}], "redirection": "https://example.com/ok"})
        .to_string();
    let url = format!("{}/auth/credential", sb.endpoint);
    let unknown_app = send((&url, &url), "POST", &body, Some("nope"), None, AS, now()).await;
    assert_eq!(unknown_app.body["errorCode"], "INVALID_KEY");

    let requested = send((&url, &url), "POST", &body, Some(AK), None, AS, now()).await;
    assert_eq!(requested.status, 200, "{:?}", requested.body);
    assert_eq!(requested.body["state"], "pendingValidation");
    let ck = requested.body["consumerKey"].as_str().unwrap().to_string();
    let validation_url = requested.body["validationUrl"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        validation_url.contains("/auth/?credentialToken="),
        "{validation_url}"
    );

    let pending = sb
        .call_as(&ck, "GET", "/auth/currentCredential", None)
        .await;
    assert_eq!(pending.status, 403);
    assert_eq!(pending.body["errorCode"], "INVALID_CREDENTIAL");
    assert_eq!(pending.body["message"], "This credential is not valid");

    let page = http().get(&validation_url).send().await.unwrap();
    assert_eq!(page.status(), 200);

    let current = sb
        .call_as(&ck, "GET", "/auth/currentCredential", None)
        .await;
    assert_eq!(current.status, 200, "{:?}", current.body);
    assert_eq!(
        current.body["rules"],
        json!([{"method": "GET", "path": "/auth/*"}])
    );
    // What Terraform's provider asks first: the same rules, as `allowedRoutes`.
    let details = sb.call_as(&ck, "GET", "/auth/details", None).await;
    assert_eq!(details.status, 200, "{:?}", details.body);
    assert_eq!(details.body["allowedRoutes"], current.body["rules"]);

    let ungranted = sb.call_as(&ck, "GET", "/hosting/web", None).await;
    assert_eq!(ungranted.status, 403);
    assert_eq!(
        ungranted.body,
        json!({"class": "Client::Forbidden", "errorCode": "NOT_GRANTED_CALL", "httpCode": "403 Forbidden", "message": "This call has not been granted"})
    );

    let logout = sb.call_as(&ck, "POST", "/auth/logout", None).await;
    assert_eq!(
        logout.status, 403,
        "logout is a POST, outside this key's GET rules"
    );
}

#[tokio::test]
async fn oauth2_client_credentials_give_a_bearer_token() {
    let sb = TestSandbox::start(Duration::from_millis(300)).await;
    let token_url = sb.endpoint.replace("/1.0", "/auth/oauth2/token");
    let client = http();
    let refused = client
        .post(&token_url)
        .basic_auth("sandbox-client-id", Some("wrong"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&scope=all")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);

    let granted: Value = client
        .post(&token_url)
        .basic_auth("sandbox-client-id", Some("sandbox-client-secret"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&scope=all")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(granted["token_type"], "Bearer");
    let token = granted["access_token"].as_str().unwrap();

    let ok = client
        .get(format!("{}/hosting/web", sb.endpoint))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    // Terraform's provider asks /auth/details with OAuth2 too: the token's scope is `all`.
    let details: Value = client
        .get(format!("{}/auth/details", sb.endpoint))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        details["allowedRoutes"].as_array().unwrap().len(),
        4,
        "{details}"
    );
    assert_eq!(
        details["allowedRoutes"][0],
        json!({"method": "GET", "path": "/*"})
    );
    let bad = client
        .get(format!("{}/hosting/web", sb.endpoint))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["class"], "Client::Unauthorized::InvalidAuthToken");
}

#[tokio::test]
async fn faults_answer_429_with_retry_after_and_500_with_the_real_body() {
    let limited = TestSandbox::start_with(SandboxConfig {
        rate_limit: Some(2),
        ..SandboxConfig::default()
    })
    .await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let answer = limited.call("GET", "/auth/time", None).await;
        statuses.push(answer.status);
        assert!(answer.query_id.is_some());
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    let url = format!("{}/auth/time", limited.endpoint);
    let mut retry_after = None;
    for _ in 0..4 {
        let response = http().get(&url).send().await.unwrap();
        if response.status() == 429 {
            retry_after = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_string());
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["class"], "Client::TooManyRequests");
        }
    }
    assert_eq!(retry_after.as_deref(), Some("1"));

    let failing = TestSandbox::start_with(SandboxConfig {
        fail_rate: 1.0,
        ..SandboxConfig::default()
    })
    .await;
    let answer = failing.call("GET", "/auth/currentCredential", None).await;
    assert_eq!(answer.status, 500);
    assert_eq!(
        answer.body,
        json!({"class": "Server::InternalServerError", "message": "Internal server error"})
    );
}

#[tokio::test]
async fn unknown_paths_answer_404_with_a_class() {
    let sb = TestSandbox::start(Duration::from_millis(300)).await;
    let answer = sb.call("GET", "/no/such/route", None).await;
    assert_eq!(answer.status, 404);
    assert_eq!(answer.body["class"], "Client::NotFound");
}

/// `GET /auth/details` (Terraform's provider calls it before anything else and refuses to plan
/// on a 404) answers the real `auth.Details`, its `allowedRoutes` being the rules that
/// `/auth/currentCredential` shows and that the sandbox enforces.
#[tokio::test]
async fn auth_details_agree_with_the_current_credential() {
    let sb = TestSandbox::start(Duration::from_millis(300)).await;
    let details = sb.call("GET", "/auth/details", None).await;
    assert_eq!(details.status, 200, "{:?}", details.body);
    let current = sb.call("GET", "/auth/currentCredential", None).await;
    assert_eq!(details.body["allowedRoutes"], current.body["rules"]);
    let mut fields: Vec<&str> = details
        .body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "account",
            "allowedRoutes",
            "description",
            "identities",
            "method",
            "roles",
            "user"
        ]
    );
    assert_eq!(details.body["method"], "account");
    assert_eq!(
        details.body["allowedRoutes"],
        json!([
            {"method": "GET", "path": "/*"},
            {"method": "POST", "path": "/*"},
            {"method": "PUT", "path": "/*"},
            {"method": "DELETE", "path": "/*"}
        ])
    );
    let unsigned = http()
        .get(format!("{}/auth/details", sb.endpoint))
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 403);
}

/// Over TLS, reqwest negotiates HTTP/2, whose requests have no `Host` header: the sandbox
/// rebuilt the signed URL from `Host` and refused every such call with INVALID_SIGNATURE.
#[tokio::test]
async fn signed_calls_over_http2_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let sb = TestSandbox::start_tls(
        SandboxConfig {
            projects: vec!["p1".into()],
            ..SandboxConfig::default()
        },
        &dir.path().join("ca.pem"),
    )
    .await;
    assert!(
        sb.endpoint.starts_with("https://127.0.0.1:"),
        "{}",
        sb.endpoint
    );
    let answer = sb.call("GET", "/auth/currentCredential", None).await;
    assert_eq!(answer.version, reqwest::Version::HTTP_2);
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let created = sb
        .call(
            "POST",
            "/auth/credential",
            Some(json!({"accessRules": [{"method": "GET", "path": "/*"}]})),
        )
        .await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    let validation_url = created.body["validationUrl"].as_str().unwrap();
    assert!(
        validation_url.starts_with(&sb.endpoint.replace("/1.0", "/auth/?credentialToken=")),
        "the validation URL names the authority the client used: {validation_url}"
    );
    let services = sb
        .call("GET", "/cloud/project/p1/database/mongodb", None)
        .await;
    assert_eq!((services.status, services.body), (200, json!([])));
}

/// Sends `head` (and `body`) on a fresh connection and reads until the server closes it or
/// `deadline` passes; returns what came back, and whether the server closed the connection.
async fn raw_exchange(addr: &str, head: &str, body: &[u8], deadline: Duration) -> (String, bool) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    // The server may answer and close before the body is all sent: that is the point.
    let _ = stream.write_all(body).await;
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let closed = loop {
        match tokio::time::timeout(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break true,
            Ok(Ok(n)) => answer.extend_from_slice(&buf[..n]),
            Err(_) => break false,
        }
    };
    (String::from_utf8_lossy(&answer).into_owned(), closed)
}

fn authority(sb: &TestSandbox) -> String {
    sb.endpoint
        .trim_start_matches("http://")
        .trim_end_matches("/1.0")
        .to_string()
}

/// A 100 MB body was read (about 20 MB of it) before a 400: it is refused with 413 from its
/// `Content-Length`, before any of it is read, and the connection is closed.
#[tokio::test]
async fn an_oversized_body_is_refused_from_its_content_length() {
    let sb = TestSandbox::start(Duration::from_millis(300)).await;
    let addr = authority(&sb);
    let head = format!(
        "POST /1.0/cloud/project/p1/database/mongodb HTTP/1.1\r\nHost: {addr}\r\n\
         Content-Type: application/json\r\nContent-Length: 104857600\r\n\r\n"
    );
    // Only a few bytes of the announced 100 MB are sent: waiting for the rest would hang.
    let (answer, closed) =
        raw_exchange(&addr, &head, b"{\"description\":", Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 413 "), "{answer}");
    assert!(
        answer.contains(r#"{"class":"Client::RequestEntityTooLarge","message":"Request body of 104857600 bytes is larger than the 2097152 bytes accepted"}"#),
        "{answer}"
    );
    assert!(
        answer.to_ascii_lowercase().contains("x-ovh-queryid"),
        "{answer}"
    );
    assert!(closed, "the connection stays open after a 413: {answer}");

    // Without Content-Length (chunked), the body is cut off at the limit.
    let head = format!(
        "POST /1.0/cloud/project/p1/database/mongodb HTTP/1.1\r\nHost: {addr}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    let chunk = format!("100000\r\n{}\r\n", "x".repeat(0x100000));
    let body = chunk.repeat(3);
    let (answer, closed) =
        raw_exchange(&addr, &head, body.as_bytes(), Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 413 "), "{answer}");
    assert!(closed, "{answer}");

    // A body under the limit still reaches its route.
    let ok = sb.call("GET", "/auth/details", None).await;
    assert_eq!(ok.status, 200);
}

/// 500 idle connections stayed open forever: a connection that sends no request, or only part
/// of its headers, or nothing after a first answer, is closed after `header_timeout`; a body
/// that stops arriving gets 408 after `body_timeout`.
#[tokio::test]
async fn idle_connections_and_stalled_bodies_are_closed() {
    let sb = TestSandbox::start_with(SandboxConfig {
        projects: vec!["p1".into()],
        header_timeout: Duration::from_millis(300),
        body_timeout: Duration::from_millis(300),
        ..SandboxConfig::default()
    })
    .await;
    let addr = authority(&sb);
    let wait = Duration::from_secs(5);

    let mut idle = Vec::new();
    for i in 0..40 {
        let head = match i % 3 {
            0 => String::new(),
            1 => "GET /1.0/auth/time HTTP/1.1\r\nHost: ".to_string(),
            _ => format!("GET /1.0/auth/time HTTP/1.1\r\nHost: {addr}\r\n\r\n"),
        };
        let addr = addr.clone();
        idle.push(tokio::spawn(async move {
            let started = std::time::Instant::now();
            let (answer, closed) = raw_exchange(&addr, &head, b"", wait).await;
            (i, answer, closed, started.elapsed())
        }));
    }
    for task in idle {
        let (i, answer, closed, elapsed) = task.await.unwrap();
        assert!(
            closed,
            "connection {i} still open after {elapsed:?}: {answer:?}"
        );
        if i % 3 == 2 {
            // A complete request is answered first; the keep-alive connection then idles out.
            assert!(answer.starts_with("HTTP/1.1 200 "), "{answer}");
        }
    }

    let head = format!(
        "PUT /1.0/cloud/project/p1/database/mongodb/x HTTP/1.1\r\nHost: {addr}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    );
    let (answer, closed) = raw_exchange(&addr, &head, b"{\"descr", wait).await;
    assert!(answer.starts_with("HTTP/1.1 408 "), "{answer}");
    assert!(
        answer.contains(r#"{"class":"Client::RequestTimeout","message":"The request body did not arrive within 300ms"}"#),
        "{answer}"
    );
    assert!(closed, "{answer}");

    // The sandbox still serves.
    assert_eq!(sb.call("GET", "/auth/details", None).await.status, 200);
}

/// Over TLS the handshake has the same deadline: a connection that never starts one is closed.
#[tokio::test]
async fn a_tls_connection_without_a_handshake_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let sb = TestSandbox::start_tls(
        SandboxConfig {
            header_timeout: Duration::from_millis(300),
            ..SandboxConfig::default()
        },
        &dir.path().join("ca.pem"),
    )
    .await;
    let addr = sb
        .endpoint
        .trim_start_matches("https://")
        .trim_end_matches("/1.0")
        .to_string();
    let (answer, closed) = raw_exchange(&addr, "", b"", Duration::from_secs(5)).await;
    assert!(closed, "still open: {answer:?}");
    let answer = sb.call("GET", "/auth/time", None).await;
    assert_eq!(
        (answer.status, answer.version),
        (200, reqwest::Version::HTTP_2)
    );
}
