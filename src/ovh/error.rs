//! Errors of the OVH client and the one retry policy (`is_retryable`).
//!
//! Every error that comes from an HTTP call carries the method, the path (printed redacted),
//! the status, OVH's `class` (`{"class","message"}` API bodies) or `errorCode`
//! (`{"errorCode","httpCode","message"}` auth bodies), the message and the `X-Ovh-Queryid`.
//! Display is lowercase, single-line, and ends with what to do when the user can act.

use std::error::Error as StdError;
use std::time::Duration;

use reqwest::{Method, StatusCode};

use super::redact::Redacted;

/// Everything that can go wrong in `crate::ovh`.
#[derive(Debug, thiserror::Error)]
pub enum OvhError {
    /// The API answered with a non-2xx status.
    #[error("{}", display_api(self))]
    Api {
        method: Method,
        /// The path as called (query included); printed redacted.
        path: String,
        status: StatusCode,
        query_id: Option<String>,
        /// What the answer said (class or error code, message); boxed to keep `OvhError`
        /// small, since every `Result` in the program carries it.
        reply: Box<ApiReply>,
    },

    /// No answer: connection refused, TLS failure, timeout, connection reset.
    #[error("{method} {} failed before an answer came back (network or tls){}", Redacted::path(.path), transport_hint(.method))]
    Transport {
        method: Method,
        path: String,
        /// The underlying error, with its URL stripped (it could carry query secrets).
        #[source]
        source: reqwest::Error,
    },

    /// The API answered 2xx but the body was not the JSON expected.
    #[error("{method} {} returned {} with a body that could not be decoded{}", Redacted::path(.path), .status.as_u16(), query_suffix(.query_id.as_deref()))]
    Decode {
        method: Method,
        path: String,
        status: StatusCode,
        query_id: Option<String>,
        #[source]
        source: serde_json::Error,
    },

    /// A request body could not be turned into JSON (a bug in the caller's types).
    #[error("{method} {}: the request body could not be encoded as json", Redacted::path(.path))]
    Encode {
        method: Method,
        path: String,
        #[source]
        source: serde_json::Error,
    },

    /// Signed calls need the server time, and `GET /auth/time` failed.
    #[error("could not read the api server time from {endpoint}/auth/time, which signing needs; check the endpoint and the network")]
    ServerTime {
        endpoint: String,
        #[source]
        source: Box<OvhError>,
    },

    /// The OAuth2 client-credentials grant failed.
    #[error("could not get an oauth2 access token from {token_url}: {reason}; check the client id and client secret (OVH_CLIENT_ID, OVH_CLIENT_SECRET)")]
    Auth {
        token_url: String,
        reason: String,
        #[source]
        source: Option<Box<OvhError>>,
    },

    /// Bad or missing configuration: endpoint, credentials, certificate, settings.
    #[error("{message}{}", hint_suffix(.hint.as_deref()))]
    Config {
        message: String,
        hint: Option<String>,
    },
}

/// What kind of failure an error is, for what the caller does next (docs/apply.md, "Error
/// classes"). Retrying is `is_retryable`'s business; this says whether waiting can help at
/// all, or whether the user has to act.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorClass {
    /// 5xx, 429, a timeout, a connection cut mid-answer, a 2xx body that is not the JSON
    /// expected: it may pass. A read that ends so makes its scope unknown.
    Transient,
    /// No connection could be opened: connection refused, DNS failure, TLS failure, a connect
    /// timeout. Retried briefly (`ClientConfig::unreachable_budget`), then the run stops.
    Unreachable,
    /// The credentials were refused or may not call this route: `INVALID_SIGNATURE`,
    /// `INVALID_KEY`, `INVALID_CREDENTIAL`, `NOT_CREDENTIAL`, `NOT_GRANTED_CALL`, any 401 or
    /// 403, an OAuth2 token refused. The user has to fix them.
    Credentials,
    /// 404: the object (or a scope's root: a project, a hosting) does not exist.
    NotFound,
    /// Any other refusal (another 4xx, a bad configuration, a body that could not be encoded):
    /// asking again gives the same answer.
    Refused,
}

impl ErrorClass {
    /// True when the user must act before anything can be read: credentials or reachability.
    pub fn stops_the_run(self) -> bool {
        matches!(self, ErrorClass::Credentials | ErrorClass::Unreachable)
    }
}

/// The auth layer's error codes that say the credentials themselves are wrong or not allowed.
const CREDENTIAL_CODES: [&str; 6] = [
    "INVALID_SIGNATURE",
    "INVALID_KEY",
    "INVALID_CREDENTIAL",
    "NOT_CREDENTIAL",
    "NOT_GRANTED_CALL",
    "FORBIDDEN",
];

/// The parts of an error answer beyond its status and query id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApiReply {
    /// OVH's error class, e.g. `Client::NotFound::ServiceNotFound`.
    pub class: Option<String>,
    /// The auth layer's error code, e.g. `NOT_GRANTED_CALL`, `INVALID_SIGNATURE`.
    pub error_code: Option<String>,
    /// The answer's `message` (or the best text the body had).
    pub message: String,
    /// The `Retry-After` header (seconds form), when the answer had one.
    pub retry_after: Option<Duration>,
}

impl OvhError {
    pub(crate) fn config(message: impl Into<String>, hint: impl Into<Option<String>>) -> Self {
        OvhError::Config {
            message: message.into(),
            hint: hint.into(),
        }
    }

    /// The HTTP status, when the API answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            OvhError::Api { status, .. } | OvhError::Decode { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The `X-Ovh-Queryid` of the answer, for OVH support.
    pub fn query_id(&self) -> Option<&str> {
        match self {
            OvhError::Api { query_id, .. } | OvhError::Decode { query_id, .. } => {
                query_id.as_deref()
            }
            OvhError::ServerTime { source, .. } => source.query_id(),
            OvhError::Auth {
                source: Some(source),
                ..
            } => source.query_id(),
            _ => None,
        }
    }

    /// OVH's error class (`Client::NotFound::ServiceNotFound`), when the body had one.
    pub fn class(&self) -> Option<&str> {
        match self {
            OvhError::Api { reply, .. } => reply.class.as_deref(),
            _ => None,
        }
    }

    /// The answer's message, when the API answered with an error.
    pub fn api_message(&self) -> Option<&str> {
        match self {
            OvhError::Api { reply, .. } => Some(&reply.message),
            _ => None,
        }
    }

    /// The auth layer's `errorCode` (`NOT_GRANTED_CALL`), when the body had one.
    pub fn error_code(&self) -> Option<&str> {
        match self {
            OvhError::Api { reply, .. } => reply.error_code.as_deref(),
            _ => None,
        }
    }

    /// True for a 404 answer: the resource is absent (as opposed to unreadable).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(StatusCode::NOT_FOUND)
    }

    /// What the user can do about this error, when there is something. Display already ends
    /// with it; this is for renderers that want it on its own line.
    pub fn hint(&self) -> Option<String> {
        match self {
            OvhError::Api {
                method,
                path,
                status,
                reply,
                ..
            } => api_hint(method, path, *status, reply.error_code.as_deref()),
            OvhError::Config { hint, .. } => hint.clone(),
            _ => None,
        }
    }

    /// What kind of failure this is (see `ErrorClass`). Looks through the server-time and
    /// OAuth2 wrappers to the call that failed.
    pub fn error_class(&self) -> ErrorClass {
        match self {
            OvhError::Api { status, reply, .. } => {
                let code = reply.error_code.as_deref();
                if code.is_some_and(|c| CREDENTIAL_CODES.contains(&c))
                    || *status == StatusCode::UNAUTHORIZED
                    || *status == StatusCode::FORBIDDEN
                {
                    ErrorClass::Credentials
                } else if *status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
                    ErrorClass::Transient
                } else if *status == StatusCode::NOT_FOUND {
                    ErrorClass::NotFound
                } else {
                    ErrorClass::Refused
                }
            }
            OvhError::Transport { source, .. } => {
                if source.is_connect() {
                    ErrorClass::Unreachable
                } else if source.is_builder() || source.is_redirect() {
                    ErrorClass::Refused
                } else {
                    ErrorClass::Transient
                }
            }
            OvhError::Decode { .. } => ErrorClass::Transient,
            OvhError::Encode { .. } | OvhError::Config { .. } => ErrorClass::Refused,
            // `/auth/time` answering 404 means the endpoint is not an OVH API.
            OvhError::ServerTime { source, .. } => match source.error_class() {
                ErrorClass::NotFound => ErrorClass::Refused,
                class => class,
            },
            OvhError::Auth { source, .. } => match source.as_deref().map(OvhError::error_class) {
                Some(class @ (ErrorClass::Transient | ErrorClass::Unreachable)) => class,
                _ => ErrorClass::Credentials,
            },
        }
    }

    /// For an `Unreachable` error: why no connection could be opened, the innermost cause
    /// (`Connection refused (os error 111)`, `dns error: ...`, `invalid peer certificate:
    /// UnknownIssuer`).
    pub fn unreachable_cause(&self) -> Option<String> {
        match self {
            OvhError::Transport { source, .. } if source.is_connect() => {
                let mut deepest: &(dyn StdError + 'static) = source;
                while let Some(next) = deepest.source() {
                    deepest = next;
                }
                Some(deepest.to_string())
            }
            OvhError::ServerTime { source, .. } => source.unreachable_cause(),
            OvhError::Auth {
                source: Some(source),
                ..
            } => source.unreachable_cause(),
            _ => None,
        }
    }

    /// For a `Credentials` error: what to fix, in one sentence.
    pub fn credentials_hint(&self) -> String {
        match self {
            OvhError::ServerTime { source, .. } => source.credentials_hint(),
            OvhError::Auth { .. } => {
                "the oauth2 client was refused; check the client id and client secret (OVH_CLIENT_ID, OVH_CLIENT_SECRET)".to_owned()
            }
            _ => self.hint().unwrap_or_else(|| {
                "the credentials were refused; check the application key, secret and consumer key".to_owned()
            }),
        }
    }

    /// The wait an answer asked for with `Retry-After`.
    pub(crate) fn retry_after(&self) -> Option<Duration> {
        match self {
            OvhError::Api { reply, .. } => reply.retry_after,
            _ => None,
        }
    }
}

/// The one retry policy. Walks `err` and its `source()` chain to the first `OvhError`
/// (so it sees through wrappers added by other layers) and answers:
///
/// - 429 Too Many Requests: retry, whatever the method (the call was refused, not applied);
/// - 5xx or no answer at all: retry only GET, PUT, DELETE (and HEAD, OPTIONS). Never POST:
///   a POST that timed out or got a 500 may have been applied;
/// - anything else (4xx, decode, config, server time, oauth2): do not retry.
///
/// Polling for readiness is not retrying and does not go through here.
pub fn is_retryable(err: &(dyn StdError + 'static)) -> bool {
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = current {
        if let Some(ovh) = e.downcast_ref::<OvhError>() {
            return match ovh {
                OvhError::Api { method, status, .. } => {
                    *status == StatusCode::TOO_MANY_REQUESTS
                        || (status.is_server_error() && is_idempotent(method))
                }
                OvhError::Transport { method, source, .. } => {
                    is_idempotent(method) && !source.is_builder() && !source.is_redirect()
                }
                _ => false,
            };
        }
        current = e.source();
    }
    false
}

/// Methods that may be repeated without changing the result beyond the first call.
pub fn is_idempotent(method: &Method) -> bool {
    [
        Method::GET,
        Method::HEAD,
        Method::OPTIONS,
        Method::PUT,
        Method::DELETE,
    ]
    .contains(method)
}

fn display_api(err: &OvhError) -> String {
    let OvhError::Api {
        method,
        path,
        status,
        query_id,
        reply,
    } = err
    else {
        unreachable!("display_api is only used for OvhError::Api")
    };
    let mut out = format!(
        "{method} {} returned {}",
        Redacted::path(path),
        status.as_u16()
    );
    let ApiReply {
        class,
        error_code,
        message,
        ..
    } = &**reply;
    if let Some(code) = error_code {
        out.push(' ');
        out.push_str(code);
    }
    if let Some(class) = class {
        out.push(' ');
        out.push_str(class);
    }
    if !message.is_empty() {
        out.push_str(&format!(": {message:?}"));
    }
    out.push_str(&query_suffix(query_id.as_deref()));
    out.push_str(&hint_suffix(err.hint().as_deref()));
    out
}

fn api_hint(
    method: &Method,
    path: &str,
    status: StatusCode,
    error_code: Option<&str>,
) -> Option<String> {
    let path = Redacted::path(path.split('?').next().unwrap_or(path));
    let hint = match (status.as_u16(), error_code) {
        (_, Some("NOT_GRANTED_CALL")) => format!(
            "the consumer key's access rules do not allow {method} {path}; request a consumer key whose rules include it (POST /auth/credential) and validate it"
        ),
        (_, Some("INVALID_CREDENTIAL" | "NOT_CREDENTIAL")) => "the consumer key is unknown, not validated yet, expired or revoked; open its validation url, or generate and validate a new one".to_owned(),
        (_, Some("INVALID_KEY")) => "the application key is unknown on this endpoint; check OVH_APPLICATION_KEY and that the endpoint is the region (eu, ca, us) where the application was created".to_owned(),
        (_, Some("INVALID_SIGNATURE")) => "the signature was refused; check that the application secret and consumer key belong to this application key".to_owned(),
        (_, Some("FORBIDDEN")) => "this account may not do this (iam policy or service ownership); ask the account's administrator".to_owned(),
        (401, _) => "the credentials were refused; check the application key, secret and consumer key, or the oauth2 client id and secret".to_owned(),
        (403, _) => format!("the credentials are not allowed to call {method} {path}; check the consumer key's access rules or the iam policy"),
        (429, _) => "the api is rate limiting this client; retry later or lower the request rate".to_owned(),
        (460, _) => "the service has expired; renew it in the ovhcloud control panel".to_owned(),
        (500..=599, _) if *method == Method::POST => "the api failed; the POST may still have been applied, so look the object up before creating it again".to_owned(),
        (500..=599, _) => "the api failed; retry later".to_owned(),
        _ => return None,
    };
    Some(hint)
}

fn transport_hint(method: &Method) -> &'static str {
    if *method == Method::POST {
        "; the POST may still have been applied, so look the object up before creating it again"
    } else {
        ""
    }
}

fn query_suffix(query_id: Option<&str>) -> String {
    query_id
        .map(|id| format!(" (query id {id})"))
        .unwrap_or_default()
}

fn hint_suffix(hint: Option<&str>) -> String {
    hint.map(|h| format!("; hint: {h}")).unwrap_or_default()
}

/// `result` with a 404 as `None` (the object is not there, or went away since it was
/// listed): the one "GET it if it is there" rule, for the live read and the engine's lookups.
pub fn if_present<T>(result: Result<T, OvhError>) -> Result<Option<T>, OvhError> {
    match result {
        Ok(found) => Ok(Some(found)),
        Err(err) if err.is_not_found() => Ok(None),
        Err(err) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(method: Method, status: u16, code: Option<&str>) -> OvhError {
        OvhError::Api {
            method,
            path: "/cloud/project/p/database/mongodb?password=hunter2".into(),
            status: StatusCode::from_u16(status).unwrap(),
            query_id: Some("EU.ext-3.1.2.abc".into()),
            reply: Box::new(ApiReply {
                error_code: code.map(str::to_owned),
                message: "This call has not been granted".into(),
                ..ApiReply::default()
            }),
        }
    }

    #[test]
    fn api_error_display_names_everything_and_hides_query_secrets() {
        let shown = api(Method::GET, 403, Some("NOT_GRANTED_CALL")).to_string();
        assert_eq!(
            shown,
            "GET /cloud/project/p/database/mongodb?password=*** returned 403 NOT_GRANTED_CALL: \
             \"This call has not been granted\" (query id EU.ext-3.1.2.abc); hint: the consumer \
             key's access rules do not allow GET /cloud/project/p/database/mongodb; request a \
             consumer key whose rules include it (POST /auth/credential) and validate it"
        );
        assert!(!shown.ends_with('.'));
    }

    #[test]
    fn retry_policy_by_method_and_status() {
        let cases = [
            (Method::GET, 503, true),
            (Method::PUT, 500, true),
            (Method::DELETE, 502, true),
            (Method::POST, 500, false),
            (Method::POST, 429, true),
            (Method::GET, 429, true),
            (Method::GET, 404, false),
            (Method::PUT, 409, false),
        ];
        for (method, status, expected) in cases {
            let err = api(method.clone(), status, None);
            assert_eq!(is_retryable(&err), expected, "{method} {status}");
        }
    }

    /// Only 5xx, 429 (and timeouts, decode failures) may pass by waiting; credentials and
    /// other refusals are the user's to fix.
    #[test]
    fn error_classes_by_status_and_code() {
        let cases = [
            (400, Some("INVALID_SIGNATURE"), ErrorClass::Credentials),
            (403, Some("INVALID_KEY"), ErrorClass::Credentials),
            (403, Some("INVALID_CREDENTIAL"), ErrorClass::Credentials),
            (403, Some("NOT_CREDENTIAL"), ErrorClass::Credentials),
            (403, Some("NOT_GRANTED_CALL"), ErrorClass::Credentials),
            (401, None, ErrorClass::Credentials),
            (403, None, ErrorClass::Credentials),
            (404, None, ErrorClass::NotFound),
            (400, Some("QUERY_TIME_OUT"), ErrorClass::Refused),
            (409, None, ErrorClass::Refused),
            (429, None, ErrorClass::Transient),
            (500, None, ErrorClass::Transient),
            (503, None, ErrorClass::Transient),
        ];
        for (status, code, expected) in cases {
            assert_eq!(
                api(Method::GET, status, code).error_class(),
                expected,
                "{status} {code:?}"
            );
        }
        let server_time = OvhError::ServerTime {
            endpoint: "https://x/1.0".into(),
            source: Box::new(api(Method::GET, 404, None)),
        };
        assert_eq!(server_time.error_class(), ErrorClass::Refused);
        let oauth2 = OvhError::Auth {
            token_url: "https://x/auth/oauth2/token".into(),
            reason: "the token endpoint answered 401".into(),
            source: Some(Box::new(api(Method::POST, 401, None))),
        };
        assert_eq!(oauth2.error_class(), ErrorClass::Credentials);
    }

    #[derive(Debug, thiserror::Error)]
    #[error("while planning")]
    struct Wrapper(#[source] OvhError);

    #[test]
    fn retry_policy_sees_through_wrappers() {
        assert!(is_retryable(&Wrapper(api(Method::GET, 503, None))));
        assert!(!is_retryable(&Wrapper(api(Method::POST, 503, None))));
        let server_time = OvhError::ServerTime {
            endpoint: "https://x/1.0".into(),
            source: Box::new(api(Method::GET, 503, None)),
        };
        assert!(!is_retryable(&server_time), "already retried inside");
    }
}
