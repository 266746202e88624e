//! Authentication as the real API does it: `X-Ovh-*` signatures checked against the full URL
//! the client used, consumer keys with access rules, the consumer-key request flow, and OAuth2
//! client credentials with Bearer tokens.
//!
//! Architecture invariant: every request except the public `/auth` routes passes
//! `authenticate` before any handler runs, so handlers never see an unauthenticated call.

use super::error::{ApiError, AuthError};
use super::{Sandbox, SandboxConfig, TIMESTAMP_TOLERANCE};
use axum::body::{Body, Bytes};
use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use base64::Engine;
use chrono::{DateTime, Utc};
use ovh_signature::signature;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// A consumer key and what it may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Credential {
    pub credential_id: u64,
    pub application_key: String,
    /// `pendingValidation`, `validated`, `refused` or `expired`.
    pub state: String,
    pub rules: Vec<AccessRule>,
    pub allowed_ips: Option<Vec<String>>,
    pub creation: DateTime<Utc>,
    pub expiration: Option<DateTime<Utc>>,
    /// The token in the validation URL that validates this key.
    pub validation_token: String,
    pub redirection: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRule {
    pub method: String,
    pub path: String,
}

impl AccessRule {
    /// `*` matches any run of characters, slashes included, as in the real API.
    pub fn allows(&self, method: &str, path: &str) -> bool {
        self.method.eq_ignore_ascii_case(method) && glob_match(&self.path, path)
    }
}

fn glob_match(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, rest)) => {
            let Some(tail) = text.strip_prefix(head) else {
                return false;
            };
            (0..=tail.len())
                .filter(|&i| tail.is_char_boundary(i))
                .any(|i| glob_match(rest, &tail[i..]))
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuth2Token {
    pub client_id: String,
    pub expires: DateTime<Utc>,
}

/// Who made a request, for the handlers that care (`/auth/currentCredential`, logout).
#[derive(Debug, Clone)]
pub enum Caller {
    Anonymous,
    ConsumerKey(String),
    OAuth2(String),
}

/// The scheme the sandbox is served with, inserted by the server for URL building.
#[derive(Debug, Clone, Copy)]
pub struct ServedScheme(pub &'static str);

/// Puts the configured consumer key in the world, validated with every right.
pub fn seed(world: &mut super::World, config: &SandboxConfig, now: DateTime<Utc>) {
    if world.credentials.contains_key(&config.consumer_key) {
        return;
    }
    let credential_id = world.next_id();
    let rules = every_route();
    world.credentials.insert(
        config.consumer_key.clone(),
        Credential {
            credential_id,
            application_key: config.application_key.clone(),
            state: "validated".into(),
            rules,
            allowed_ips: None,
            creation: now,
            expiration: None,
            validation_token: random_token(),
            redirection: None,
        },
    );
}

/// The routes under `/1.0/auth` (the OAuth2 token and validation routes live at the root).
pub fn routes() -> Router<Arc<Sandbox>> {
    Router::new()
        .route("/auth/time", get(time))
        .route("/auth/credential", post(request_credential))
        .route("/auth/currentCredential", get(current_credential))
        .route("/auth/details", get(details))
        .route("/auth/logout", post(logout))
}

/// Routes served outside `/1.0`, like the real hosts: the consumer-key validation page and the
/// OAuth2 token endpoint.
pub fn root_routes() -> Router<Arc<Sandbox>> {
    Router::new()
        .route("/auth/", get(validate_credential))
        .route("/auth/oauth2/token", post(oauth2_token))
}

async fn time(State(sandbox): State<Arc<Sandbox>>) -> Json<i64> {
    Json(sandbox.now().timestamp())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CredentialRequest {
    access_rules: Vec<AccessRule>,
    #[serde(default)]
    redirection: Option<String>,
    #[serde(default, rename = "allowedIPs")]
    allowed_ips: Option<Vec<String>>,
}

async fn request_credential(
    State(sandbox): State<Arc<Sandbox>>,
    Extension(scheme): Extension<ServedScheme>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request: CredentialRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => {
            return ApiError::bad_request("", format!("Invalid body for credential request: {e}"))
                .into_response()
        }
    };
    for rule in &request.access_rules {
        if !["GET", "POST", "PUT", "DELETE"].contains(&rule.method.as_str()) {
            return ApiError::bad_request(
                "",
                format!(
                    "Invalid value for method: {:?} is not one of GET, POST, PUT, DELETE",
                    rule.method
                ),
            )
            .into_response();
        }
    }
    let application_key = header_str(&headers, "x-ovh-application").unwrap_or_default();
    let host = request_authority(&uri, &headers);
    let consumer_key = random_token();
    let token = random_token();
    let result = sandbox.write(|world, now| {
        let credential_id = world.next_id();
        world.credentials.insert(
            consumer_key.clone(),
            Credential {
                credential_id,
                application_key: application_key.to_string(),
                state: "pendingValidation".into(),
                rules: request.access_rules,
                allowed_ips: request.allowed_ips,
                creation: now,
                expiration: None,
                validation_token: token.clone(),
                redirection: request.redirection,
            },
        );
        Ok(())
    });
    if let Err(e) = result {
        return e.into_response();
    }
    Json(json!({
        "validationUrl": format!("{}://{host}/auth/?credentialToken={token}", scheme.0),
        "consumerKey": consumer_key,
        "state": "pendingValidation",
    }))
    .into_response()
}

/// The page a person opens to validate a consumer key; in the sandbox opening it validates.
async fn validate_credential(
    State(sandbox): State<Arc<Sandbox>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(token) = query.get("credentialToken") else {
        return (StatusCode::BAD_REQUEST, "missing credentialToken\n").into_response();
    };
    let result = sandbox.write(|world, _| {
        let credential = world
            .credentials
            .values_mut()
            .find(|c| &c.validation_token == token)
            .ok_or_else(|| ApiError::not_found("", "This credential token does not exist"))?;
        credential.state = "validated".into();
        Ok(credential.redirection.clone())
    });
    match result {
        Ok(redirection) => {
            let mut text = String::from("sandbox: credential validated\n");
            if let Some(url) = redirection {
                text.push_str(&format!("redirection: {url}\n"));
            }
            (StatusCode::OK, text).into_response()
        }
        Err(e) => e.into_response(),
    }
}

async fn current_credential(
    State(sandbox): State<Arc<Sandbox>>,
    Extension(caller): Extension<Caller>,
) -> Response {
    let Caller::ConsumerKey(key) = caller else {
        return AuthError::not_credential().into_response();
    };
    sandbox.read(|world, _| match world.credentials.get(&key) {
        Some(c) => Json(json!({
            "credentialId": c.credential_id,
            "applicationId": application_id(&c.application_key),
            "creation": c.creation,
            "expiration": c.expiration,
            "lastUse": null,
            "ovhSupport": false,
            "rules": c.rules,
            "status": c.state,
            "allowedIPs": c.allowed_ips,
        }))
        .into_response(),
        None => AuthError::not_credential().into_response(),
    })
}

/// The account every sandbox credential belongs to (a NIC handle, as the real API answers).
pub const SANDBOX_ACCOUNT: &str = "sb00001-ovh";

/// The access rules an OAuth2 token carries: its scope is `all`.
fn every_route() -> Vec<AccessRule> {
    ["GET", "POST", "PUT", "DELETE"]
        .into_iter()
        .map(|method| AccessRule {
            method: method.into(),
            path: "/*".into(),
        })
        .collect()
}

/// `GET /auth/details`: the real `auth.Details` (`account`, `allowedRoutes`, `description`,
/// `identities`, `method`, `roles`, `user`). Terraform's provider calls it before anything
/// else. `allowedRoutes` are the consumer key's rules, exactly what `/auth/currentCredential`
/// answers as `rules` and what `authenticate` enforces; an OAuth2 token (scope `all`) may call
/// every route.
async fn details(
    State(sandbox): State<Arc<Sandbox>>,
    Extension(caller): Extension<Caller>,
) -> Response {
    let (allowed_routes, description) = match caller {
        Caller::ConsumerKey(key) => {
            match sandbox.read(|world, _| world.credentials.get(&key).map(|c| c.rules.clone())) {
                Some(rules) => (rules, "sandbox consumer key"),
                None => return AuthError::not_credential().into_response(),
            }
        }
        Caller::OAuth2(_) => (every_route(), "sandbox OAuth2 client"),
        Caller::Anonymous => return AuthError::not_credential().into_response(),
    };
    Json(json!({
        "account": SANDBOX_ACCOUNT,
        "allowedRoutes": allowed_routes,
        "description": description,
        "identities": [format!("urn:v1:eu:identity:account:{SANDBOX_ACCOUNT}")],
        "method": "account",
        "roles": [],
        "user": null,
    }))
    .into_response()
}

async fn logout(
    State(sandbox): State<Arc<Sandbox>>,
    Extension(caller): Extension<Caller>,
) -> Response {
    let Caller::ConsumerKey(key) = caller else {
        return AuthError::not_credential().into_response();
    };
    match sandbox.write(|world, now| {
        if let Some(c) = world.credentials.get_mut(&key) {
            c.state = "expired".into();
            c.expiration = Some(now);
        }
        Ok(())
    }) {
        Ok(()) => Json(Value::Null).into_response(),
        Err(e) => e.into_response(),
    }
}

/// A stable small number for an application key (the real API has numeric application ids).
fn application_id(application_key: &str) -> u64 {
    application_key
        .bytes()
        .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64))
        % 1_000_000
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// OAuth2 client-credentials grant, accepting the client's id and secret as HTTP Basic or as
/// form fields.
async fn oauth2_token(
    State(sandbox): State<Arc<Sandbox>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form: TokenForm = match serde_urlencoded::from_bytes(&body) {
        Ok(form) => form,
        Err(_) => return oauth2_error(StatusCode::BAD_REQUEST, "invalid_request"),
    };
    if form.grant_type.as_deref() != Some("client_credentials") {
        return oauth2_error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    let (client_id, client_secret) = match basic_auth(&headers) {
        Some(pair) => pair,
        None => (
            form.client_id.unwrap_or_default(),
            form.client_secret.unwrap_or_default(),
        ),
    };
    if client_id != sandbox.config.client_id || client_secret != sandbox.config.client_secret {
        return oauth2_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    let token = random_token();
    let expires_in = 3600;
    let result = sandbox.write(|world, now| {
        world.oauth2_tokens.retain(|_, t| t.expires > now);
        world.oauth2_tokens.insert(
            token.clone(),
            OAuth2Token {
                client_id: client_id.clone(),
                expires: now + chrono::Duration::seconds(expires_in),
            },
        );
        Ok(())
    });
    if let Err(e) = result {
        return e.into_response();
    }
    Json(json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": expires_in,
        "scope": "all",
    }))
    .into_response()
}

fn oauth2_error(status: StatusCode, error: &str) -> Response {
    (status, Json(json!({ "error": error }))).into_response()
}

fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    let value = header_str(headers, "authorization")?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some((unescape(id), unescape(secret)))
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn random_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// The API path behind a request path: `/1.0/cloud/...` or `/v1/cloud/...` -> `/cloud/...`.
pub fn api_path(path: &str) -> &str {
    for prefix in ["/1.0", "/v1", super::server::RUNABOVE_BASE] {
        if let Some(rest) = path.strip_prefix(prefix) {
            if rest.starts_with('/') {
                return rest;
            }
        }
    }
    path
}

/// What a route needs before it may run.
enum Guard {
    /// Anyone (time, OAuth2 token, the validation page, unknown paths).
    Public,
    /// A known application key, unsigned (the consumer-key request).
    Application,
    /// A valid signature or Bearer token, and a granted call.
    Signed,
}

fn guard(method: &Method, request_path: &str) -> Guard {
    let under_api = api_path(request_path) != request_path;
    let path = api_path(request_path);
    if !under_api {
        return Guard::Public;
    }
    match (method.as_str(), path) {
        ("GET", "/auth/time") => Guard::Public,
        ("POST", "/auth/credential") => Guard::Application,
        _ => Guard::Signed,
    }
}

/// The authority a client addressed: the request URI's (HTTP/2 `:authority`, or an absolute
/// request target), else the `Host` header (HTTP/1.1), else `localhost`. HTTP/2 requests carry
/// no `Host` header, so the signed URL must not be rebuilt from it alone.
pub fn request_authority(uri: &Uri, headers: &HeaderMap) -> String {
    uri.authority()
        .map(|a| a.as_str().to_string())
        .or_else(|| header_str(headers, "host").map(str::to_string))
        .unwrap_or_else(|| "localhost".to_string())
}

/// The URLs a client may have signed for this request: the one it used (python: scheme,
/// host and port) and `https://host` without the port (node signs that whatever it connects to).
fn signed_url_candidates(scheme: &str, authority: &str, path_and_query: &str) -> Vec<String> {
    let host = authority;
    let bare_host = match host.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) && !h.ends_with(':') => h,
        _ => host,
    };
    let mut candidates = vec![
        format!("{scheme}://{host}{path_and_query}"),
        format!("https://{bare_host}{path_and_query}"),
        format!("{scheme}://{bare_host}{path_and_query}"),
    ];
    candidates.dedup();
    candidates
}

/// The middleware in front of every route: checks the application key, the consumer key, the
/// timestamp, the signature and the access rules (or a Bearer token), then hands the request
/// on with its `Caller`.
pub async fn authenticate(
    State(sandbox): State<Arc<Sandbox>>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    // `server::body_limits` has read the body already, within the limit and the deadline.
    let body = match axum::body::to_bytes(body, super::MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(_) => {
            return ApiError::bad_request("", "Request body too large or unreadable")
                .into_response()
        }
    };
    let scheme = parts
        .extensions
        .get::<ServedScheme>()
        .map(|s| s.0)
        .unwrap_or("http");
    let caller = match guard(&parts.method, parts.uri.path()) {
        Guard::Public => Ok(Caller::Anonymous),
        Guard::Application => match header_str(&parts.headers, "x-ovh-application") {
            Some(key) if key == sandbox.config.application_key => Ok(Caller::Anonymous),
            _ => Err(AuthError::invalid_key().into()),
        },
        Guard::Signed => check_signed(&sandbox, scheme, &parts, &body),
    };
    match caller {
        Ok(caller) => {
            parts.extensions.insert(caller);
            next.run(Request::from_parts(parts, Body::from(body))).await
        }
        Err(rejection) => rejection.into_response(),
    }
}

/// Why a request was refused before reaching its route.
enum Rejection {
    Auth(AuthError),
    Api(ApiError),
}

impl From<AuthError> for Rejection {
    fn from(e: AuthError) -> Self {
        Rejection::Auth(e)
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        match self {
            Rejection::Auth(e) => e.into_response(),
            Rejection::Api(e) => e.into_response(),
        }
    }
}

fn check_signed(
    sandbox: &Sandbox,
    scheme: &str,
    parts: &axum::http::request::Parts,
    body: &[u8],
) -> Result<Caller, Rejection> {
    let headers = &parts.headers;
    let method = parts.method.as_str();
    let path = api_path(parts.uri.path());
    let now = sandbox.now();

    if let Some(token) =
        header_str(headers, "authorization").and_then(|v| v.strip_prefix("Bearer "))
    {
        let valid = sandbox.read(|world, now| {
            world
                .oauth2_tokens
                .get(token.trim())
                .is_some_and(|t| t.expires > now)
        });
        return if valid {
            Ok(Caller::OAuth2(token.trim().to_string()))
        } else {
            Err(Rejection::Api(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "Client::Unauthorized::InvalidAuthToken",
                "Invalid authorization token",
            )))
        };
    }

    let application_key = header_str(headers, "x-ovh-application").unwrap_or_default();
    if application_key != sandbox.config.application_key {
        return Err(AuthError::invalid_key().into());
    }
    let Some(consumer_key) = header_str(headers, "x-ovh-consumer") else {
        return Err(AuthError::not_credential().into());
    };
    let credential = sandbox.read(|world, _| world.credentials.get(consumer_key).cloned());
    let Some(credential) = credential else {
        return Err(AuthError::not_credential().into());
    };
    if credential.state != "validated" || credential.application_key != application_key {
        return Err(AuthError::invalid_credential().into());
    }

    let timestamp = header_str(headers, "x-ovh-timestamp")
        .and_then(|t| t.parse::<i64>().ok())
        .filter(|t| (t - now.timestamp()).unsigned_abs() <= TIMESTAMP_TOLERANCE.as_secs());
    let Some(timestamp) = timestamp else {
        return Err(AuthError::query_time_out().into());
    };

    let given = header_str(headers, "x-ovh-signature").unwrap_or_default();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let secret = &sandbox.config.application_secret;
    let authority = request_authority(&parts.uri, headers);
    let signed = signed_url_candidates(scheme, &authority, path_and_query)
        .iter()
        .any(|url| {
            signature(
                secret,
                consumer_key,
                parts.method.as_str(),
                url,
                body,
                timestamp,
            ) == given
        });
    if !signed {
        return Err(AuthError::invalid_signature().into());
    }

    if !credential
        .rules
        .iter()
        .any(|rule| rule.allows(method, path))
    {
        return Err(AuthError::not_granted_call().into());
    }
    Ok(Caller::ConsumerKey(consumer_key.to_string()))
}

/// The content type header value every JSON answer carries.
pub const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// Rewrites `Content-Type: application/json` to the real API's exact value.
pub fn fix_content_type(response: &mut Response) {
    if let Some(value) = response.headers().get(header::CONTENT_TYPE) {
        if value.as_bytes() == b"application/json" {
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static(JSON_CONTENT_TYPE),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_rules_glob_like_the_real_api() {
        let rule = |m: &str, p: &str| AccessRule {
            method: m.into(),
            path: p.into(),
        };
        assert!(rule("GET", "/*").allows("GET", "/cloud/project/x"));
        assert!(rule("GET", "/cloud/project/*/database/*")
            .allows("GET", "/cloud/project/p/database/mongodb/1"));
        assert!(!rule("GET", "/cloud/*").allows("POST", "/cloud/project"));
        assert!(!rule("GET", "/hosting/web").allows("GET", "/hosting/web/x"));
        assert!(rule("GET", "/hosting/web").allows("GET", "/hosting/web"));
    }

    #[test]
    fn node_style_url_drops_the_port() {
        let urls = signed_url_candidates("https", "127.0.0.1:8443", "/1.0/x?y=1");
        assert!(urls.contains(&"https://127.0.0.1:8443/1.0/x?y=1".to_string()));
        assert!(urls.contains(&"https://127.0.0.1/1.0/x?y=1".to_string()));
    }

    /// HTTP/2 requests have no `Host` header: the signed URL was rebuilt from `localhost` and
    /// every call reconcile made over HTTP/2 (`--tls`) answered INVALID_SIGNATURE.
    #[test]
    fn the_authority_comes_from_the_uri_before_the_host_header() {
        let mut headers = HeaderMap::new();
        let h2: Uri = "https://127.0.0.1:8443/1.0/auth/time".parse().unwrap();
        assert_eq!(request_authority(&h2, &headers), "127.0.0.1:8443");
        let h1: Uri = "/1.0/auth/time".parse().unwrap();
        assert_eq!(request_authority(&h1, &headers), "localhost");
        headers.insert("host", "127.0.0.1:9000".parse().unwrap());
        assert_eq!(request_authority(&h1, &headers), "127.0.0.1:9000");
        assert_eq!(request_authority(&h2, &headers), "127.0.0.1:8443");
    }

    #[test]
    fn api_path_strips_the_version_prefix() {
        assert_eq!(api_path("/1.0/auth/time"), "/auth/time");
        assert_eq!(api_path("/v1/cloud/project"), "/cloud/project");
        assert_eq!(api_path("/auth/oauth2/token"), "/auth/oauth2/token");
        assert_eq!(api_path("/runabove/1.0/stackMysql"), "/stackMysql");
    }
}
