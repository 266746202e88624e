//! The OVH API client: the only code that knows URLs, signing, credentials, retries and rate
//! limits.
//!
//! - `endpoint`: region names and sandbox URLs, request URL building, OAuth2 token URLs;
//! - `credentials`: `Credentials` and their resolution (flags > `OVH_*` env > `ovh.conf` files);
//! - `signing`: `$1$` signatures and the exact body bytes that are signed and sent;
//! - `client`: `Client` (calls, time delta, rate limit, retries, OAuth2 tokens, logging), and
//!   `Client::runabove`, its sibling on RunAbove's API (same credentials, its own endpoint);
//! - `error`: `OvhError`, its `ErrorClass` (what the caller does next) and the one retry
//!   policy, `is_retryable`;
//! - `redact`: `Redacted`, the only way a path or body is printed.
//!
//! Architecture invariant: nothing outside this module builds an API URL or reads a secret;
//! anything that prints a request prints it through `Redacted`.

pub mod client;
pub mod credentials;
pub mod endpoint;
pub mod error;
pub mod redact;
pub mod signing;

pub use client::{ApiResponse, Client, ClientConfig};
pub use credentials::{
    default_config_paths, resolve, resolve_from_process, Credentials, ExplicitCredentials,
    ResolvedCredentials, Source,
};
pub use endpoint::{path_segment, Endpoint};
pub use error::{if_present, is_idempotent, is_retryable, ApiReply, ErrorClass, OvhError};
pub use redact::Redacted;
pub use reqwest::{Method, StatusCode};
