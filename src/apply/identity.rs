//! Which API and which account a saved plan belongs to: `plan --out` records it (`identity` in
//! the JSON plan), `apply plan.json` compares it with the connection it has and refuses the
//! plan (exit 7) when they differ, so a plan reviewed against one API or account is never
//! applied to another.
//!
//! The identity is the endpoint's base URL, the credential's public half (the application key,
//! or the OAuth2 client id; never a secret), and the account when the API says it:
//! `GET /auth/details` (`account`), else nothing (`GET /auth/currentCredential` names the
//! credential, not the account: its `credentialId` is recorded for the reader, not compared,
//! since a plan job and an apply job may well use two consumer keys of one account).

use crate::ovh::{Client, Method};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The key of the identity in a saved plan.
pub const IDENTITY_KEY: &str = "identity";

/// The API and the account a plan was made against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiIdentity {
    pub endpoint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// From `/auth/details` when the API serves it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// From `/auth/currentCredential` (application keys only); shown, never compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_id: Option<String>,
}

impl ApiIdentity {
    /// Who `client` is: no call for the endpoint and the key, one or two for the account
    /// (a failure there leaves it unknown: it is then not compared).
    pub async fn of(client: &Client) -> ApiIdentity {
        let (kind, principal) = client.principal();
        let mut identity = ApiIdentity {
            endpoint: client
                .endpoint()
                .base_url()
                .trim_end_matches('/')
                .to_owned(),
            application_key: (kind == "applicationKey").then(|| principal.clone()),
            client_id: (kind == "clientId").then_some(principal),
            account: None,
            credential_id: None,
        };
        let text = |answer: &Value, key: &str| match answer.get(key) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        match client.call(Method::GET, "/auth/details", None).await {
            Ok(answer) => identity.account = text(&answer.body, "account"),
            Err(err) => tracing::debug!("no account from /auth/details: {err}"),
        }
        if identity.application_key.is_some() {
            match client
                .call(Method::GET, "/auth/currentCredential", None)
                .await
            {
                Ok(answer) => identity.credential_id = text(&answer.body, "credentialId"),
                Err(err) => tracing::debug!("no credential id from /auth/currentCredential: {err}"),
            }
        }
        identity
    }

    /// What differs between the identity a plan was saved with (`self`) and the one of this
    /// connection (`now`), one phrase each; empty when the plan belongs here.
    pub fn mismatches(&self, now: &ApiIdentity) -> Vec<String> {
        let mut out = Vec::new();
        if self.endpoint != now.endpoint {
            out.push(format!(
                "the endpoint: the plan was made against {}, this run talks to {}",
                self.endpoint, now.endpoint
            ));
        }
        let principal = |i: &ApiIdentity| match (&i.application_key, &i.client_id) {
            (Some(key), _) => format!("application key {key}"),
            (None, Some(id)) => format!("OAuth2 client {id}"),
            (None, None) => "no credential".to_owned(),
        };
        if (&self.application_key, &self.client_id) != (&now.application_key, &now.client_id) {
            out.push(format!(
                "the credential: the plan was made with {}, this run uses {}",
                principal(self),
                principal(now)
            ));
        }
        if let (Some(saved), Some(current)) = (&self.account, &now.account) {
            if saved != current {
                out.push(format!(
                    "the account: the plan was made for {saved}, this run is {current}"
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(endpoint: &str, key: &str, account: Option<&str>) -> ApiIdentity {
        ApiIdentity {
            endpoint: endpoint.into(),
            application_key: Some(key.into()),
            client_id: None,
            account: account.map(str::to_owned),
            credential_id: Some("17".into()),
        }
    }

    #[test]
    fn an_identity_differs_by_endpoint_credential_or_known_account() {
        let saved = identity("https://eu.api.ovh.com/1.0", "ak", Some("xx1-ovh"));
        let mut same = saved.clone();
        same.credential_id = Some("18".into());
        assert_eq!(saved.mismatches(&same), Vec::<String>::new());
        assert_eq!(
            saved.mismatches(&identity("https://eu.api.ovh.com/1.0", "ak", None)),
            Vec::<String>::new()
        );
        let elsewhere = identity("http://127.0.0.1:9/1.0", "other", Some("yy2-ovh"));
        assert_eq!(
            saved.mismatches(&elsewhere),
            [
                "the endpoint: the plan was made against https://eu.api.ovh.com/1.0, this run talks to http://127.0.0.1:9/1.0",
                "the credential: the plan was made with application key ak, this run uses application key other",
                "the account: the plan was made for xx1-ovh, this run is yy2-ovh",
            ]
        );
        let oauth = ApiIdentity {
            application_key: None,
            client_id: Some("EU.abc".into()),
            ..saved.clone()
        };
        assert_eq!(
            saved.mismatches(&oauth),
            ["the credential: the plan was made with application key ak, this run uses OAuth2 client EU.abc"]
        );
    }
}
