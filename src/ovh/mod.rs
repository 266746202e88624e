//! The API clients: the only code that knows URLs, signing, credentials, retries and rate
//! limits. One `Client` type serves every API (OVH's regions, RunAbove), each client with its
//! own endpoint, its own `Auth` and its own `Transport` (so its own rate budget).
//!
//! - `endpoint`: region names, a declared API's `NamedEndpoint`, sandbox URLs, request URL
//!   building, OAuth2 token URLs;
//! - `credentials`: `Credentials` and their resolution (flags > `OVH_*` env > `ovh.conf` files);
//! - `auth`: the `Auth` schemes a client authenticates with (OVH's application signature,
//!   OAuth2 client credentials, HTTP Digest);
//! - `signing`: `$1$` signatures and the exact body bytes that are signed and sent;
//! - `transport`: one API's HTTP client, rate budget, retries (`is_retryable`, backoff,
//!   `Retry-After`, the unreachable budget) and the one log line per HTTP call;
//! - `api`: `DeclaredApi`, an API other than OVH's main one as the family living on it
//!   declares it (flag, env, parsing, default endpoint, sandbox address, `ApiRate`), and
//!   `Rate`, a budget over any period;
//! - `client`: `Client` (calls, server time delta, typed helpers), and `Client::for_api`, its
//!   sibling on a declared API (same credentials, its own endpoint and budget);
//! - `error`: `OvhError`, its `ErrorClass` (what the caller does next) and the one retry
//!   policy, `is_retryable`;
//! - `redact`: `Redacted`, the only way a path or body is printed.
//!
//! Architecture invariant: nothing outside this module builds an API URL or reads a secret;
//! anything that prints a request prints it through `Redacted`.

pub mod api;
pub(crate) mod auth;
pub mod client;
pub mod credentials;
pub mod endpoint;
pub mod error;
pub mod redact;
pub mod signing;
pub(crate) mod transport;

pub use api::{ApiRate, DeclaredApi, Rate};
pub use client::{ApiResponse, Client, ClientConfig};
pub use credentials::{
    default_config_paths, resolve, resolve_from_process, Credentials, ExplicitCredentials,
    ResolvedCredentials, Source,
};
pub use endpoint::{path_segment, Endpoint, NamedEndpoint};
pub use error::{if_present, is_idempotent, is_retryable, ApiReply, ErrorClass, OvhError};
pub use redact::Redacted;
pub use reqwest::{Method, StatusCode};
