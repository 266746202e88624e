//! What a Web Hosting route reads from a request: the JSON body (checked field by field, with
//! the real API's error wording where it is known), the query string, and the SQL-like `like`
//! filters the list routes take.
//!
//! Error wording: `Received not described parameters: (a, b) while calling creation handler`
//! and `Body parameter X isn't formated correctly` (sic) are real answers
//! (<https://github.com/ovh/php-ovh/issues/63>, <https://github.com/ovh/python-ovh/issues/121>).
//! The enum and mandatory-field messages follow the same `[field] ...` style but are sandbox
//! assumptions.

use crate::error::ApiError;
use serde_json::{Map, Value};

/// A body field: not sent, sent as `null`, or sent with a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Given<T> {
    Absent,
    Null,
    Value(T),
}

impl<T> Given<T> {
    /// The value, when one was sent (absent and `null` both give `None`).
    pub fn value(self) -> Option<T> {
        match self {
            Given::Value(v) => Some(v),
            Given::Absent | Given::Null => None,
        }
    }

    /// `None` when absent, `Some(None)` for `null`, `Some(Some(v))` for a value.
    pub fn into_option(self) -> Option<Option<T>> {
        match self {
            Given::Absent => None,
            Given::Null => Some(None),
            Given::Value(v) => Some(Some(v)),
        }
    }
}

/// Which handler a body is for; the real API names it in its "not described" error.
#[derive(Debug, Clone, Copy)]
pub enum Handler {
    Creation,
    Update,
    Action,
}

impl Handler {
    fn name(self) -> &'static str {
        match self {
            Handler::Creation => "creation handler",
            Handler::Update => "update handler",
            Handler::Action => "action handler",
        }
    }
}

/// A JSON object body whose fields were checked against the route's declared parameters.
#[derive(Debug)]
pub struct Body {
    fields: Map<String, Value>,
}

impl Body {
    /// Parses `bytes` (empty means `{}`, as the python client sends no body for a bare POST) and
    /// refuses any field the route does not declare.
    pub fn parse(bytes: &[u8], declared: &[&str], handler: Handler) -> Result<Body, ApiError> {
        let text = std::str::from_utf8(bytes).map_err(|_| invalid_json())?;
        let fields = if text.trim().is_empty() {
            Map::new()
        } else {
            match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(map)) => map,
                Ok(Value::Null) => Map::new(),
                Ok(_) | Err(_) => return Err(invalid_json()),
            }
        };
        let undeclared: Vec<&str> = fields
            .keys()
            .map(String::as_str)
            .filter(|k| !declared.contains(k))
            .collect();
        if !undeclared.is_empty() {
            return Err(ApiError::bad_request(
                "",
                format!(
                    "Received not described parameters: ({}) while calling {}",
                    undeclared.join(", "),
                    handler.name()
                ),
            ));
        }
        Ok(Body { fields })
    }

    /// True when the body carries `name` (even as `null`).
    pub fn has(&self, name: &str) -> bool {
        self.fields.contains_key(name)
    }

    fn raw(&self, name: &str) -> Given<&Value> {
        match self.fields.get(name) {
            None => Given::Absent,
            Some(Value::Null) => Given::Null,
            Some(v) => Given::Value(v),
        }
    }

    pub fn string(&self, name: &str) -> Result<Given<String>, ApiError> {
        match self.raw(name) {
            Given::Absent => Ok(Given::Absent),
            Given::Null => Ok(Given::Null),
            Given::Value(Value::String(s)) => Ok(Given::Value(s.clone())),
            Given::Value(_) => Err(badly_formatted(name)),
        }
    }

    pub fn boolean(&self, name: &str) -> Result<Given<bool>, ApiError> {
        match self.raw(name) {
            Given::Absent => Ok(Given::Absent),
            Given::Null => Ok(Given::Null),
            Given::Value(Value::Bool(b)) => Ok(Given::Value(*b)),
            Given::Value(_) => Err(badly_formatted(name)),
        }
    }

    pub fn integer(&self, name: &str) -> Result<Given<i64>, ApiError> {
        match self.raw(name) {
            Given::Absent => Ok(Given::Absent),
            Given::Null => Ok(Given::Null),
            Given::Value(v) => v
                .as_i64()
                .map(Given::Value)
                .ok_or_else(|| badly_formatted(name)),
        }
    }

    /// A string that must be one of `values` (the schema enum `enum_name`).
    pub fn enumeration(
        &self,
        name: &str,
        values: &[&str],
        enum_name: &str,
    ) -> Result<Given<String>, ApiError> {
        let given = self.string(name)?;
        if let Given::Value(v) = &given {
            check_enum(name, v, values, enum_name)?;
        }
        Ok(given)
    }

    /// A field the route requires: absent or `null` is refused.
    pub fn required<T>(name: &str, given: Given<T>) -> Result<T, ApiError> {
        given.value().ok_or_else(|| mandatory(name))
    }
}

/// Refuses `value` when it is not one of `values`.
pub fn check_enum(
    name: &str,
    value: &str,
    values: &[&str],
    enum_name: &str,
) -> Result<(), ApiError> {
    if values.contains(&value) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "",
            format!("[{name}] Given data ({value}) does not belong to the {enum_name} enumeration"),
        ))
    }
}

pub fn mandatory(name: &str) -> ApiError {
    ApiError::bad_request("", format!("[{name}] Property is mandatory"))
}

fn badly_formatted(name: &str) -> ApiError {
    ApiError::bad_request(
        "",
        format!("Body parameter {name} isn't formated correctly"),
    )
}

fn invalid_json() -> ApiError {
    ApiError::bad_request("", "Invalid JSON received")
}

/// The decoded query string as ordered pairs.
#[derive(Debug, Default)]
pub struct QueryString(Vec<(String, String)>);

impl QueryString {
    pub fn parse(raw: Option<&str>) -> Result<QueryString, ApiError> {
        match raw {
            None | Some("") => Ok(QueryString::default()),
            Some(raw) => serde_urlencoded::from_str(raw)
                .map(QueryString)
                .map_err(|_| ApiError::bad_request("", "Invalid query string")),
        }
    }

    /// The last value given for `name` (an empty value counts as not given).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    pub fn boolean(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(_) => Err(ApiError::bad_request(
                "",
                format!("Query parameter {name} isn't formated correctly"),
            )),
        }
    }

    pub fn enumeration(
        &self,
        name: &str,
        values: &[&str],
        enum_name: &str,
    ) -> Result<Option<&str>, ApiError> {
        let value = self.get(name);
        if let Some(v) = value {
            check_enum(name, v, values, enum_name)?;
        }
        Ok(value)
    }
}

/// SQL `LIKE`, as the real "(like)" filters: `%` matches any run of characters, `_` any one
/// character, everything else itself (case-sensitively).
pub fn like(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // matches[j]: does the pattern prefix seen so far match t[..j]?
    let mut matches = vec![false; t.len() + 1];
    matches[0] = true;
    for &pc in &p {
        let mut next = vec![false; t.len() + 1];
        if pc == '%' {
            let mut any = false;
            for j in 0..=t.len() {
                any |= matches[j];
                next[j] = any;
            }
        } else {
            for j in 1..=t.len() {
                next[j] = matches[j - 1] && (pc == '_' || pc == t[j - 1]);
            }
        }
        matches = next;
    }
    matches[t.len()]
}

/// True when `value` passes the optional `like` filter.
pub fn passes(filter: Option<&str>, value: &str) -> bool {
    filter.is_none_or(|pattern| like(pattern, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_follows_sql_wildcards() {
        assert!(like("www.example.com", "www.example.com"));
        assert!(!like("example.com", "www.example.com"));
        assert!(like("%example.com", "www.example.com"));
        assert!(like("www._xample%", "www.example.com"));
        assert!(like("%", ""));
        assert!(!like("_", ""));
    }

    #[test]
    fn undeclared_fields_are_named_like_the_real_api() {
        let err = Body::parse(
            br#"{"domain":"a.fr","foo":1,"bar":2}"#,
            &["domain"],
            Handler::Creation,
        )
        .unwrap_err();
        assert_eq!(
            err.message,
            "Received not described parameters: (foo, bar) while calling creation handler"
        );
    }

    #[test]
    fn empty_body_is_an_empty_object_and_types_are_checked() {
        let body = Body::parse(b"", &["ssl"], Handler::Update).unwrap();
        assert_eq!(body.boolean("ssl").unwrap(), Given::Absent);
        let body = Body::parse(br#"{"ssl":"yes"}"#, &["ssl"], Handler::Update).unwrap();
        assert_eq!(
            body.boolean("ssl").unwrap_err().message,
            "Body parameter ssl isn't formated correctly"
        );
    }
}
