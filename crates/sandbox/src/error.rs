//! The two error bodies the real API answers with: API errors (`{"class","message"}`) and
//! auth-layer errors (`{"errorCode","httpCode","message"}`), as axum responses.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// An API error: `{"class": "Client::NotFound::ServiceNotFound", "message": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub class: String,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, class: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            status,
            class: class.into(),
            message: message.into(),
        }
    }

    /// `400 Client::BadRequest::{name}`.
    pub fn bad_request(name: &str, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            classed("Client::BadRequest", name),
            message,
        )
    }

    /// `404 Client::NotFound::{name}` (or plain `Client::NotFound` when `name` is empty).
    pub fn not_found(name: &str, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            classed("Client::NotFound", name),
            message,
        )
    }

    /// `409 Client::Conflict::{name}`.
    pub fn conflict(name: &str, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            classed("Client::Conflict", name),
            message,
        )
    }

    /// The real answer for a project or hosting that does not exist (or is not the caller's).
    pub fn service_does_not_exist() -> Self {
        Self::not_found("", "This service does not exist")
    }

    /// The answer for a path no route serves (the real API says the same for unknown paths).
    pub fn no_route(method: &str, path: &str) -> Self {
        Self::not_found(
            "",
            format!("Got an invalid (or empty) URL: {method} {path}"),
        )
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Server::InternalServerError",
            "Internal server error",
        )
    }

    pub fn too_many_requests() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "Client::TooManyRequests",
            "Too many requests",
        )
    }
}

fn classed(prefix: &str, name: &str) -> String {
    if name.is_empty() {
        prefix.to_string()
    } else {
        format!("{prefix}::{name}")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "class": self.class, "message": self.message });
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            response
                .headers_mut()
                .insert("Retry-After", axum::http::HeaderValue::from_static("1"));
        }
        response
    }
}

/// An auth-layer error: `{"errorCode": "INVALID_SIGNATURE", "httpCode": "400 Bad Request", "message": "..."}`.
///
/// Newer real answers also carry a `class` (go-ovh renders a bad signature as
/// `Client::BadRequest: "Invalid signature"`), so the sandbox sends it too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthError {
    pub status: StatusCode,
    pub error_code: &'static str,
    pub message: String,
}

impl AuthError {
    pub fn new(status: StatusCode, error_code: &'static str, message: impl Into<String>) -> Self {
        AuthError {
            status,
            error_code,
            message: message.into(),
        }
    }

    pub fn invalid_signature() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "INVALID_SIGNATURE",
            "Invalid signature",
        )
    }

    pub fn query_time_out() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "QUERY_TIME_OUT",
            "Query out of time",
        )
    }

    pub fn invalid_key() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "INVALID_KEY",
            "This application key is invalid",
        )
    }

    pub fn not_credential() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "NOT_CREDENTIAL",
            "This credential does not exist",
        )
    }

    pub fn invalid_credential() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "INVALID_CREDENTIAL",
            "This credential is not valid",
        )
    }

    pub fn not_granted_call() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "NOT_GRANTED_CALL",
            "This call has not been granted",
        )
    }

    pub fn invalid_token() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "INVALID_CREDENTIAL",
            "Invalid authorization token",
        )
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let http_code = format!(
            "{} {}",
            self.status.as_u16(),
            self.status.canonical_reason().unwrap_or("")
        );
        let class = match self.status {
            StatusCode::BAD_REQUEST => "Client::BadRequest",
            StatusCode::UNAUTHORIZED => "Client::Unauthorized",
            _ => "Client::Forbidden",
        };
        let body = json!({
            "class": class,
            "errorCode": self.error_code,
            "httpCode": http_code,
            "message": self.message,
        });
        (self.status, Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_are_built_from_family_and_name() {
        assert_eq!(
            ApiError::not_found("ServiceNotFound", "x").class,
            "Client::NotFound::ServiceNotFound"
        );
        assert_eq!(ApiError::service_does_not_exist().class, "Client::NotFound");
        assert_eq!(
            ApiError::conflict("ServiceNotReady", "x").status,
            StatusCode::CONFLICT
        );
    }
}
