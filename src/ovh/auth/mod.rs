//! How an API client proves who it calls as: one `Auth` per client, made from its
//! `Credentials` by `for_credentials`. The client asks it twice per call and once per refusal:
//!
//! 1. `Auth::prepare`, before the call's first attempt: whatever the scheme must have first (the
//!    server time for a signature, an access token), fetched through the client itself;
//! 2. `Proof::headers`, at every attempt (after the rate budget let it go): the headers that
//!    authenticate that attempt (a signature covers its method, URL, body and moment);
//! 3. `Auth::refused`, when the API answered 401: forget what was refused (a token the server
//!    revoked early), so that the next call starts afresh.
//!
//! The schemes:
//! - `signature::OvhSignature`: OVH's application key, secret and consumer key (`$1$` SHA-1
//!   signatures over `super::signing`), on OVH's regions and RunAbove;
//! - `oauth2::OAuth2ClientCredentials`: OVH's OAuth2 client-credentials grant, a bearer token
//!   fetched from the region's token URL with HTTP Basic, renewed before it expires;
//! - `digest::HttpDigest`: HTTP Digest (RFC 7616), as MongoDB Cloud Manager and Ops Manager
//!   take API keys. It starts with a challenge: the first request goes without credentials
//!   and is answered 401 with `WWW-Authenticate: Digest`; the transport hands that header to
//!   the call's proof (`Proof::challenged`), and `Client::call` sends the request once more
//!   when the proof asks (`Proof::send_again`). Later calls answer the kept challenge, with
//!   a request counter and a client nonce each.
//!
//! A new scheme is a file here implementing `Auth` (and its `Proof`), a `Credentials` case,
//! and its line in `for_credentials`; the transport sends whatever headers a proof adds.

pub(crate) mod digest;
pub(crate) mod oauth2;
pub(crate) mod signature;

use futures::future::BoxFuture;
use reqwest::header::HeaderMap;
use reqwest::Method;

use super::client::Client;
use super::credentials::Credentials;
use super::endpoint::Endpoint;
use super::error::OvhError;

/// One authentication scheme, with the state it keeps across calls (a token, a challenge).
pub(crate) trait Auth: Send + Sync {
    /// The scheme's name for messages and `Debug`: `"application key"`, `"oauth2"`.
    fn scheme(&self) -> &'static str;

    /// Who calls, never a secret: `("applicationKey", KEY)`, `("clientId", ID)` (a saved plan
    /// records it, `apply plan.json` compares it).
    fn principal(&self) -> (&'static str, String);

    /// What the next call's attempts authenticate with, fetched first if needed (through
    /// `client`, whose calls to the API are counted against its budget like any other).
    fn prepare<'a>(
        &'a self,
        client: &'a Client,
    ) -> BoxFuture<'a, Result<Box<dyn Proof + 'a>, OvhError>>;

    /// The API answered a call 401: forget what it refused.
    fn refused(&self) -> BoxFuture<'_, ()>;

    /// Headers for the few calls that authenticate nothing (`GET /auth/time`,
    /// `POST /auth/credential`): OVH wants the application key there when there is one.
    fn unauthenticated_headers(&self, headers: &mut HeaderMap);
}

/// What authenticates each attempt of one call.
pub(crate) trait Proof: Send + Sync {
    /// Adds this attempt's headers for `method url body` (the exact bytes sent).
    fn headers(
        &self,
        method: &Method,
        url: &str,
        body: &[u8],
        headers: &mut HeaderMap,
    ) -> Result<(), OvhError>;

    /// An attempt was answered 401 with this `WWW-Authenticate` value (HTTP Digest keeps a
    /// new challenge).
    fn challenged(&self, _www_authenticate: &str) {}

    /// After a 401: whether the call should be sent once more, with a new `prepare` (a new
    /// challenge came that the refused attempt could not answer).
    fn send_again(&self) -> bool {
        false
    }
}

/// The scheme `credentials` call for, on `endpoint` (OAuth2 needs the endpoint's token URL).
pub(crate) fn for_credentials(
    credentials: Credentials,
    endpoint: &Endpoint,
) -> Result<Box<dyn Auth>, OvhError> {
    Ok(match credentials {
        Credentials::Application {
            application_key,
            application_secret,
            consumer_key,
        } => Box::new(signature::OvhSignature::new(
            &application_key,
            &application_secret,
            &consumer_key,
        )?),
        Credentials::OAuth2 {
            client_id,
            client_secret,
        } => Box::new(oauth2::OAuth2ClientCredentials::new(
            client_id,
            client_secret,
            endpoint,
        )?),
        Credentials::Digest { username, password } => {
            Box::new(digest::HttpDigest::new(username, password))
        }
    })
}
