//! OVH's OAuth2 client-credentials grant: an access token fetched from the region's token URL
//! (`POST`, HTTP Basic with the client id and secret, `scope=all`), cached and shared by the
//! client's clones, renewed a minute before it expires (or at half its life if shorter), sent
//! as `Authorization: Bearer`, and forgotten when the API answers 401.

use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tokio::sync::Mutex;

use super::{Auth, Proof};
use crate::ovh::client::Client;
use crate::ovh::endpoint::Endpoint;
use crate::ovh::error::OvhError;
use crate::ovh::transport::{Credential, Prepared};

/// An OAuth2 token is renewed this long before it expires (or at half its life if shorter).
const TOKEN_RENEW_MARGIN: Duration = Duration::from_secs(60);
/// Lifetime assumed when a token answer has no `expires_in`.
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// A client id and secret, and the token they last got.
pub(crate) struct OAuth2ClientCredentials {
    client_id: String,
    client_secret: SecretString,
    token_url: String,
    token: Mutex<Option<AccessToken>>,
}

struct AccessToken {
    value: SecretString,
    renew_at: Instant,
}

impl OAuth2ClientCredentials {
    /// Refuses an endpoint without an OAuth2 token URL (Kimsufi, So you Start, RunAbove, a
    /// sandbox URL has one).
    pub(crate) fn new(
        client_id: String,
        client_secret: SecretString,
        endpoint: &Endpoint,
    ) -> Result<Self, OvhError> {
        let token_url = endpoint
            .oauth2_token_url()
            .ok_or_else(|| {
                OvhError::config(
                    format!("oauth2 is not available on endpoint {endpoint}"),
                    "use ovh-eu, ovh-ca or ovh-us, or an application key, secret and consumer key"
                        .to_owned(),
                )
            })?
            .to_owned();
        Ok(OAuth2ClientCredentials {
            client_id,
            client_secret,
            token_url,
            token: Mutex::new(None),
        })
    }

    /// A valid access token, fetched (once, under a lock) when missing or near expiry.
    async fn bearer_token(&self, client: &Client) -> Result<SecretString, OvhError> {
        let mut cached = self.token.lock().await;
        if let Some(t) = cached.as_ref() {
            if Instant::now() < t.renew_at {
                return Ok(t.value.clone());
            }
        }
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "client_credentials")
            .append_pair("client_id", &self.client_id)
            .append_pair("client_secret", self.client_secret.expose_secret())
            .append_pair("scope", "all")
            .finish();
        let request = Prepared {
            method: Method::POST,
            label: &self.token_url,
            url: self.token_url.clone(),
            body: Some(form.into_bytes()),
            content_type: "application/x-www-form-urlencoded",
            json: None,
            headers: HeaderMap::new(),
            credential: Credential::Basic {
                user: &self.client_id,
                password: self.client_secret.expose_secret(),
            },
            // Token answers are never logged, not even redacted.
            log_answer: false,
        };
        let auth_error = |reason: String, source: Option<OvhError>| OvhError::Auth {
            token_url: self.token_url.clone(),
            reason,
            source: source.map(Box::new),
        };
        let answer = client.transport().execute(request).await.map_err(|e| {
            let reason = match e.status() {
                Some(status) => format!("the token endpoint answered {}", status.as_u16()),
                None => "the token endpoint could not be reached".to_owned(),
            };
            auth_error(reason, Some(e))
        })?;
        let access_token = answer
            .body
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| auth_error("the answer has no access_token".to_owned(), None))?;
        let lifetime = answer
            .body
            .get("expires_in")
            .and_then(Value::as_u64)
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_TOKEN_LIFETIME);
        let value = SecretString::from(access_token.to_owned());
        *cached = Some(AccessToken {
            value: value.clone(),
            renew_at: Instant::now()
                + lifetime.saturating_sub(TOKEN_RENEW_MARGIN.min(lifetime / 2)),
        });
        tracing::debug!(lifetime_s = lifetime.as_secs(), "ovh oauth2 token fetched");
        Ok(value)
    }
}

impl Auth for OAuth2ClientCredentials {
    fn scheme(&self) -> &'static str {
        "oauth2"
    }

    fn principal(&self) -> (&'static str, String) {
        ("clientId", self.client_id.clone())
    }

    fn prepare<'a>(
        &'a self,
        client: &'a Client,
    ) -> BoxFuture<'a, Result<Box<dyn Proof + 'a>, OvhError>> {
        Box::pin(async move {
            let token = self.bearer_token(client).await?;
            let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose_secret()))
                .map_err(|_| OvhError::Auth {
                    token_url: self.token_url.clone(),
                    reason: "the access token cannot go in an http header".to_owned(),
                    source: None,
                })?;
            value.set_sensitive(true);
            Ok(Box::new(Bearer(value)) as Box<dyn Proof>)
        })
    }

    fn refused(&self) -> BoxFuture<'_, ()> {
        // The token may have been revoked early: the next call fetches a new one.
        Box::pin(async { *self.token.lock().await = None })
    }

    fn unauthenticated_headers(&self, _headers: &mut HeaderMap) {}
}

/// `Authorization: Bearer TOKEN`, the same on every attempt.
struct Bearer(HeaderValue);

impl Proof for Bearer {
    fn headers(
        &self,
        _method: &Method,
        _url: &str,
        _body: &[u8],
        headers: &mut HeaderMap,
    ) -> Result<(), OvhError> {
        headers.insert(AUTHORIZATION, self.0.clone());
        Ok(())
    }
}
