//! The API families, one file each (`database`: Public Cloud Databases; `hosting`: Web
//! Hosting; `stack`: RunAbove managed MySQL), each owning three things the rest of the code
//! used to spell out on its own:
//! - its **typed operations**: an enum of the calls a plan lists and the engine executes, each
//!   variant carrying the ids it acts on (`Id::Created` where the id is made earlier in the
//!   run) and the identity of what it creates (a service's description, a username, a domain);
//! - its **API paths**, built only here, every id segment escaped with `ovh::path_segment`;
//!   the plan, the engine and the live read all call these;
//! - its **identity rules** (MongoDB's `@admin`, a domain's case and trailing dot, ...), one
//!   definition used by plan, engine, resume and validation alike.
//!
//! The plan holds `Operation`s. `Operation::method`, `path` and `body` render one as
//! `METHOD path body`, for `--show-calls`, logs, the renderers and the plan JSON (which
//! serializes `{"method", "path", "body"}` exactly as before). The engine never reads a
//! rendered form back: it matches on the family's enum. A saved plan's calls read back as
//! `Operation::Saved`, which compares with a fresh plan's by rendered form and is never
//! executed (apply executes the plan it makes now, after checking it equals the saved one).
//!
//! Adding an operation: a variant in the family's `Call` (with its `method`, `path`, `body`
//! arms and a line in the family's rendering test), the planner building it, and the arm in
//! the family's `engine::*::execute`.

pub mod database;
pub mod hosting;
pub mod stack;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;

pub(crate) use crate::ovh::path_segment as segment;

/// One call of a plan: a family's typed operation, or one read back from a saved plan.
#[derive(Debug, Clone)]
pub enum Operation {
    Database(database::Call),
    Hosting(hosting::Call),
    Stack(stack::Call),
    /// A call read back from a saved plan (`{"method", "path", "body"}`): compared with the
    /// plan made now by its rendered form, never executed, never parsed.
    Saved(SavedCall),
}

/// A call as a saved plan shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedCall {
    pub method: String,
    pub path: String,
    pub body: Option<Value>,
}

/// An id segment: known when planning, or made by a create earlier in the run (this change's
/// own create, or the create of the object it lives under), shown as `{id}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Id {
    Known(String),
    Created,
}

impl Id {
    /// The escaped path segment (`{id}` for `Created`).
    pub fn segment(&self) -> Cow<'_, str> {
        match self {
            Id::Known(id) => segment(id),
            Id::Created => Cow::Borrowed(Id::PLACEHOLDER),
        }
    }

    /// How a plan shows an id made earlier in the run.
    pub const PLACEHOLDER: &'static str = "{id}";
}

impl From<&str> for Id {
    fn from(id: &str) -> Self {
        Id::Known(id.to_owned())
    }
}

impl Operation {
    /// `GET`, `POST`, `PUT` or `DELETE`.
    pub fn method(&self) -> &str {
        match self {
            Operation::Database(call) => call.method(),
            Operation::Hosting(call) => call.method(),
            Operation::Stack(call) => call.method(),
            Operation::Saved(call) => &call.method,
        }
    }

    /// The API path under the endpoint, ids escaped; `{id}` where the id is made earlier in
    /// the run.
    pub fn path(&self) -> String {
        match self {
            Operation::Database(call) => call.path(),
            Operation::Hosting(call) => call.path(),
            Operation::Stack(call) => call.path(),
            Operation::Saved(call) => call.path.clone(),
        }
    }

    /// The body, redacted (secrets as `***`).
    pub fn body(&self) -> Option<&Value> {
        match self {
            Operation::Database(call) => call.body(),
            Operation::Hosting(call) => call.body(),
            Operation::Stack(call) => call.body(),
            Operation::Saved(call) => call.body.as_ref(),
        }
    }
}

/// `METHOD path` (no body): what logs and messages name a call by.
impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method(), self.path())
    }
}

/// Two calls are the same when they render the same: a saved call equals the typed one it was
/// saved from.
impl PartialEq for Operation {
    fn eq(&self, other: &Self) -> bool {
        self.method() == other.method()
            && self.path() == other.path()
            && self.body() == other.body()
    }
}

#[derive(Serialize)]
struct Rendered<'a> {
    method: &'a str,
    path: String,
    body: Option<&'a Value>,
}

impl Serialize for Operation {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Rendered {
            method: self.method(),
            path: self.path(),
            body: self.body(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Operation {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        SavedCall::deserialize(deserializer).map(Operation::Saved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_operation_serializes_as_method_path_body_and_reads_back_equal() {
        let call = Operation::Stack(stack::Call::Create {
            body: Some(json!({"nodes": 3})),
        });
        let value = serde_json::to_value(&call).unwrap();
        assert_eq!(
            value,
            json!({"method": "POST", "path": "/stackMysql", "body": {"nodes": 3}})
        );
        let read: Operation = serde_json::from_value(value).unwrap();
        assert!(matches!(read, Operation::Saved(_)));
        assert_eq!(read, call);
        let other = Operation::Stack(stack::Call::Create { body: None });
        assert_ne!(read, other);
        assert_eq!(
            serde_json::to_value(&other).unwrap(),
            json!({"method": "POST", "path": "/stackMysql", "body": null})
        );
        assert_eq!(other.to_string(), "POST /stackMysql");
    }

    #[test]
    fn a_created_id_shows_as_a_placeholder_and_a_known_one_escaped() {
        assert_eq!(Id::Created.segment(), "{id}");
        assert_eq!(Id::from("a/b c").segment(), "a%2Fb%20c");
        assert_eq!(Id::from("5f0c-1").segment(), "5f0c-1");
    }
}
