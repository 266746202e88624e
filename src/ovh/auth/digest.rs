//! HTTP Digest (RFC 7616), as MongoDB Cloud Manager and Ops Manager take their API keys (the
//! public key as the user name, the private key as the password). A client's first request goes
//! without credentials and is answered 401 with a challenge (`WWW-Authenticate: Digest realm,
//! nonce, qop, algorithm, opaque`); the request is then sent again once, answering it. Later
//! requests answer the same challenge with a growing request counter (`nc`) and a fresh client
//! nonce each, until a 401 brings a new nonce (a `stale` one, or a server restart).
//!
//! Supported: `algorithm=MD5` (or none, which means MD5) with `qop=auth` or without `qop`;
//! what Cloud Manager sends. A challenge asking for anything else (SHA-256, `-sess`,
//! `auth-int` only) is not answered: the call fails with the 401 and a warning says why.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use md5::{Digest as _, Md5};
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};

use super::{Auth, Proof};
use crate::ovh::client::Client;
use crate::ovh::error::OvhError;

/// A user name and password, and the last challenge the server sent.
pub(crate) struct HttpDigest {
    username: String,
    password: SecretString,
    challenge: Mutex<Option<Arc<Challenge>>>,
}

/// One `WWW-Authenticate: Digest` challenge and the requests counted against its nonce.
#[derive(Debug)]
pub(crate) struct Challenge {
    realm: String,
    nonce: String,
    opaque: Option<String>,
    /// `qop=auth` offered (else the RFC 2069 form, without `qop`, `nc` and `cnonce`).
    qop_auth: bool,
    /// Requests sent with this nonce (`nc`).
    count: AtomicU32,
}

impl HttpDigest {
    pub(crate) fn new(username: String, password: SecretString) -> Self {
        HttpDigest {
            username,
            password,
            challenge: Mutex::new(None),
        }
    }

    fn current(&self) -> Option<Arc<Challenge>> {
        self.challenge
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Auth for HttpDigest {
    fn scheme(&self) -> &'static str {
        "http digest"
    }

    fn principal(&self) -> (&'static str, String) {
        ("username", self.username.clone())
    }

    fn prepare<'a>(
        &'a self,
        _client: &'a Client,
    ) -> BoxFuture<'a, Result<Box<dyn Proof + 'a>, OvhError>> {
        let answering = Answering {
            digest: self,
            challenge: self.current(),
            renewed: AtomicBool::new(false),
        };
        Box::pin(async move { Ok(Box::new(answering) as Box<dyn Proof>) })
    }

    fn refused(&self) -> BoxFuture<'_, ()> {
        // A refusal without a new challenge: the credentials are wrong, and the challenge
        // kept is still the server's last one.
        Box::pin(async {})
    }

    fn unauthenticated_headers(&self, _headers: &mut HeaderMap) {}
}

/// One call's answer to the challenge it started with (none before the first 401).
struct Answering<'a> {
    digest: &'a HttpDigest,
    challenge: Option<Arc<Challenge>>,
    /// A 401 brought a challenge other than the one this call answered.
    renewed: AtomicBool,
}

impl Proof for Answering<'_> {
    fn headers(
        &self,
        method: &Method,
        url: &str,
        _body: &[u8],
        headers: &mut HeaderMap,
    ) -> Result<(), OvhError> {
        let Some(challenge) = &self.challenge else {
            return Ok(());
        };
        let count = challenge.count.fetch_add(1, Ordering::Relaxed) + 1;
        let client_nonce = format!("{:016x}", rand::random::<u64>());
        let value = authorization(
            &self.digest.username,
            self.digest.password.expose_secret(),
            challenge,
            method,
            request_target(url),
            count,
            &client_nonce,
        );
        let mut value = HeaderValue::from_str(&value).map_err(|_| {
            OvhError::config(
                "the http digest user name or challenge cannot go in an http header",
                None,
            )
        })?;
        value.set_sensitive(true);
        headers.insert(AUTHORIZATION, value);
        Ok(())
    }

    fn challenged(&self, www_authenticate: &str) {
        let Some(fresh) = parse_challenge(www_authenticate) else {
            tracing::warn!(
                challenge = www_authenticate,
                "http digest challenge not understood or not supported (MD5 with qop=auth only)"
            );
            return;
        };
        if self
            .challenge
            .as_ref()
            .is_some_and(|answered| answered.nonce == fresh.nonce)
        {
            // The very challenge this call answered: the credentials were refused.
            return;
        }
        *self
            .digest
            .challenge
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(fresh));
        self.renewed.store(true, Ordering::Relaxed);
    }

    fn send_again(&self) -> bool {
        self.renewed.load(Ordering::Relaxed)
    }
}

/// The request target a digest covers: the URL's path and query.
fn request_target(url: &str) -> &str {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    after_scheme
        .find('/')
        .map_or("/", |slash| &after_scheme[slash..])
}

/// The `Authorization: Digest ...` value answering `challenge` for request number `count`.
fn authorization(
    username: &str,
    password: &str,
    challenge: &Challenge,
    method: &Method,
    uri: &str,
    count: u32,
    client_nonce: &str,
) -> String {
    let ha1 = md5_hex(&format!("{username}:{}:{password}", challenge.realm));
    let ha2 = md5_hex(&format!("{}:{uri}", method.as_str()));
    let nc = format!("{count:08x}");
    let mut value = format!(
        "Digest username=\"{username}\", realm=\"{}\", nonce=\"{}\", uri=\"{uri}\", algorithm=MD5",
        challenge.realm, challenge.nonce
    );
    if challenge.qop_auth {
        let response = md5_hex(&format!(
            "{ha1}:{}:{nc}:{client_nonce}:auth:{ha2}",
            challenge.nonce
        ));
        value.push_str(&format!(
            ", response=\"{response}\", qop=auth, nc={nc}, cnonce=\"{client_nonce}\""
        ));
    } else {
        let response = md5_hex(&format!("{ha1}:{}:{ha2}", challenge.nonce));
        value.push_str(&format!(", response=\"{response}\""));
    }
    if let Some(opaque) = &challenge.opaque {
        value.push_str(&format!(", opaque=\"{opaque}\""));
    }
    value
}

fn md5_hex(text: &str) -> String {
    Md5::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A `Digest` challenge this client can answer; `None` for another scheme, a malformed one,
/// or one asking for what is not supported.
fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(char::is_whitespace)?;
    if !scheme.eq_ignore_ascii_case("digest") {
        return None;
    }
    let params = parameters(rest)?;
    let get = |key: &str| {
        params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.clone())
    };
    if get("algorithm").is_some_and(|a| !a.eq_ignore_ascii_case("md5")) {
        return None;
    }
    let qop_auth = match get("qop") {
        None => false,
        Some(qop)
            if qop
                .split(',')
                .any(|q| q.trim().eq_ignore_ascii_case("auth")) =>
        {
            true
        }
        Some(_) => return None,
    };
    Some(Challenge {
        realm: get("realm")?,
        nonce: get("nonce")?,
        opaque: get("opaque"),
        qop_auth,
        count: AtomicU32::new(0),
    })
}

/// `key=value, key="quoted, \"value\""` pairs; `None` when malformed.
fn parameters(text: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        if chars.peek().is_none() {
            return Some(out);
        }
        let key: String = std::iter::from_fn(|| chars.next_if(|c| *c != '=')).collect();
        chars.next()?; // '='
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '"' => break,
                    '\\' => value.push(chars.next()?),
                    c => value.push(c),
                }
            }
        } else {
            value.extend(std::iter::from_fn(|| chars.next_if(|c| *c != ',')));
        }
        out.push((key.trim().to_owned(), value.trim().to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn challenge(text: &str) -> Challenge {
        parse_challenge(text).unwrap()
    }

    #[test]
    fn answers_match_the_rfc_examples() {
        // RFC 2617, section 3.5.
        let c = challenge(
            r#"Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41""#,
        );
        let value = authorization(
            "Mufasa",
            "Circle Of Life",
            &c,
            &Method::GET,
            "/dir/index.html",
            1,
            "0a4f113b",
        );
        assert!(
            value.contains(r#"response="6629fae49393a05397450978507c4ef1""#),
            "{value}"
        );
        assert!(value.contains("nc=00000001"), "{value}");
        assert!(
            value.ends_with(r#"opaque="5ccc069c403ebaf9f0171e9517f40e41""#),
            "{value}"
        );
        // RFC 7616, section 3.9.1 (MD5).
        let c = challenge(
            r#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#,
        );
        let value = authorization(
            "Mufasa",
            "Circle of Life",
            &c,
            &Method::GET,
            "/dir/index.html",
            1,
            "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
        );
        assert!(
            value.contains(r#"response="8ca523f5e9506fed4657c9700eebdbec""#),
            "{value}"
        );
    }

    #[test]
    fn unsupported_or_foreign_challenges_are_not_answered() {
        for text in [
            r#"Basic realm="x""#,
            r#"Digest realm="x", nonce="n", algorithm=SHA-256, qop="auth""#,
            r#"Digest realm="x", nonce="n", algorithm=MD5-sess, qop="auth""#,
            r#"Digest realm="x", nonce="n", qop="auth-int""#,
            r#"Digest realm="x""#,
            r#"Digest realm="unterminated"#,
        ] {
            assert!(parse_challenge(text).is_none(), "{text}");
        }
        let c = challenge(r#"digest nonce="a\"b", realm=plain"#);
        assert_eq!((c.nonce.as_str(), c.realm.as_str()), ("a\"b", "plain"));
        assert!(!c.qop_auth);
    }

    #[test]
    fn the_request_target_is_the_path_and_query() {
        assert_eq!(
            request_target("https://cloud.mongodb.com/api/public/v1.0/groups?x=1"),
            "/api/public/v1.0/groups?x=1"
        );
        assert_eq!(request_target("http://127.0.0.1:8080"), "/");
    }
}
