//! OVH's application signature: `X-Ovh-Application`, `X-Ovh-Consumer`, `X-Ovh-Timestamp` and
//! `X-Ovh-Signature` (`$1$` SHA-1 over secret, consumer key, method, URL, body and the server's
//! time; `super::super::signing`). The server time is the client's (`Client::time_delta`),
//! fetched once before its first signed call.

use std::time::{SystemTime, UNIX_EPOCH};

use futures::future::BoxFuture;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};

use super::{Auth, Proof};
use crate::ovh::client::Client;
use crate::ovh::error::OvhError;
use crate::ovh::signing::SignedRequest;

/// An application key, its secret and a consumer key, ready to sign.
pub(crate) struct OvhSignature {
    application_key: HeaderValue,
    application_secret: SecretString,
    consumer_key: SecretString,
    consumer_key_header: HeaderValue,
}

impl OvhSignature {
    /// Refuses keys that cannot go in a header; trims stray whitespace (always a copy-paste
    /// accident), so that what is signed is what is sent.
    pub(crate) fn new(
        application_key: &str,
        application_secret: &SecretString,
        consumer_key: &SecretString,
    ) -> Result<Self, OvhError> {
        let bad = |what: &str| {
            OvhError::config(
                format!("the {what} contains characters that cannot go in an http header"),
                format!("check the {what} for stray spaces, quotes or newlines"),
            )
        };
        let application_secret = SecretString::from(application_secret.expose_secret().trim());
        let consumer_key = SecretString::from(consumer_key.expose_secret().trim());
        let application_key =
            HeaderValue::from_str(application_key.trim()).map_err(|_| bad("application key"))?;
        let mut consumer_key_header =
            HeaderValue::from_str(consumer_key.expose_secret()).map_err(|_| bad("consumer key"))?;
        consumer_key_header.set_sensitive(true);
        Ok(OvhSignature {
            application_key,
            application_secret,
            consumer_key,
            consumer_key_header,
        })
    }
}

impl Auth for OvhSignature {
    fn scheme(&self) -> &'static str {
        "application key"
    }

    fn principal(&self) -> (&'static str, String) {
        (
            "applicationKey",
            self.application_key.to_str().unwrap_or_default().to_owned(),
        )
    }

    fn prepare<'a>(
        &'a self,
        client: &'a Client,
    ) -> BoxFuture<'a, Result<Box<dyn Proof + 'a>, OvhError>> {
        Box::pin(async move {
            let time_delta = client.time_delta().await?;
            Ok(Box::new(Signing {
                keys: self,
                time_delta,
            }) as Box<dyn Proof>)
        })
    }

    fn refused(&self) -> BoxFuture<'_, ()> {
        // Nothing is cached but the server time, which a refusal does not put in doubt.
        Box::pin(async {})
    }

    fn unauthenticated_headers(&self, headers: &mut HeaderMap) {
        headers.insert("x-ovh-application", self.application_key.clone());
    }
}

/// One call's signing: the keys and the server's time offset.
struct Signing<'a> {
    keys: &'a OvhSignature,
    time_delta: i64,
}

impl Proof for Signing<'_> {
    fn headers(
        &self,
        method: &Method,
        url: &str,
        body: &[u8],
        headers: &mut HeaderMap,
    ) -> Result<(), OvhError> {
        let signed = SignedRequest::new(
            &self.keys.application_secret,
            &self.keys.consumer_key,
            method,
            url,
            body,
            unix_now() + self.time_delta,
        );
        let mut signature =
            HeaderValue::from_str(signed.signature()).expect("a signature is ascii hex");
        signature.set_sensitive(true);
        headers.insert("x-ovh-application", self.keys.application_key.clone());
        headers.insert("x-ovh-consumer", self.keys.consumer_key_header.clone());
        headers.insert("x-ovh-timestamp", HeaderValue::from(signed.timestamp()));
        headers.insert("x-ovh-signature", signature);
        Ok(())
    }
}

pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
